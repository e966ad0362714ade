//! A real mosquitto broker for integration tests: started on a free loopback port with a
//! config file written here, restartable (for broker-restart tests), killed on drop.
//!
//! Needs the Debian package `mosquitto` (`apt-get install -y mosquitto`). When the binary is
//! missing the test fails with that instruction; it never skips.

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the broker may take to accept connections after start.
const START_LIMIT: Duration = Duration::from_secs(15);

/// A running mosquitto.
pub struct Mosquitto {
    binary: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
    starts: u32,
}

fn find_binary() -> PathBuf {
    let candidates: Vec<PathBuf> = match std::env::var_os("MOSQUITTO") {
        Some(path) => vec![PathBuf::from(path)],
        None => {
            let mut c: Vec<PathBuf> = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|d| d.join("mosquitto"))
                .collect();
            c.push(PathBuf::from("/usr/sbin/mosquitto"));
            c.push(PathBuf::from("/usr/local/sbin/mosquitto"));
            c
        }
    };
    candidates.into_iter().find(|p| p.is_file()).unwrap_or_else(|| {
        panic!(
            "mosquitto not found (looked in PATH, /usr/sbin, /usr/local/sbin and $MOSQUITTO). \
             Install it with `apt-get update && apt-get install -y mosquitto` (Debian/Ubuntu) \
             or point $MOSQUITTO at the binary."
        )
    })
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    listener.local_addr().expect("local address").port()
}

impl Mosquitto {
    /// Starts a broker on a free loopback port and waits until it accepts connections.
    pub fn start() -> Self {
        let binary = find_binary();
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("ota-mosquitto-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create broker directory");
        let conf = format!(
            "# written by the ota-client test harness\n\
             listener {port} 127.0.0.1\n\
             allow_anonymous true\n\
             persistence false\n\
             log_dest stderr\n\
             log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
        );
        std::fs::write(dir.join("mosquitto.conf"), conf).expect("write mosquitto.conf");
        let mut broker = Self { binary, dir, port, child: None, starts: 0 };
        broker.spawn();
        broker
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the broker (clients see their sessions drop).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a stopped broker again on the same port; waits until it accepts. Does nothing
    /// while it runs.
    pub fn start_again(&mut self) {
        if self.child.is_none() {
            self.spawn();
        }
    }

    /// Stops the broker and starts it again on the same port; waits until it accepts.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// The broker's log so far (for failure messages).
    pub fn log(&self) -> String {
        let mut all = String::new();
        for n in 1..=self.starts {
            all.push_str(
                &std::fs::read_to_string(self.dir.join(format!("mosquitto.{n}.log"))).unwrap_or_default(),
            );
        }
        all
    }

    fn spawn(&mut self) {
        self.starts += 1;
        let log =
            File::create(self.dir.join(format!("mosquitto.{}.log", self.starts))).expect("create broker log");
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(self.dir.join("mosquitto.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.binary.display()));
        self.child = Some(child);
        let deadline = Instant::now() + START_LIMIT;
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("mosquitto exited at start ({status}); log:\n{}", self.log());
            }
            if Instant::now() > deadline {
                panic!(
                    "mosquitto did not accept on port {} within {START_LIMIT:?}; log:\n{}",
                    self.port,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
