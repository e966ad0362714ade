//! Range resume against nginx, a server this project did not write.
//!
//! The test starts nginx (Debian package `nginx`) in the foreground on a free loopback port
//! with a configuration it writes into a temporary directory, downloads a generated firmware
//! file through `HttpSource`, cuts the connection mid-body, resumes with `Range`, and stops
//! nginx. Without the nginx binary it fails and says how to install it.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ota_client::transport::http::{HttpClient, HttpSource, TcpConnector};
use ota_client::transport::{ChunkSource, SourceError};

fn nginx_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NGINX").map(PathBuf::from).filter(|p| p.exists()) {
        return path;
    }
    for candidate in
        ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx", "/usr/local/nginx/sbin/nginx"]
    {
        if Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!(
        "nginx not found. Install it (Debian/Ubuntu: `sudo apt-get update && sudo apt-get install -y nginx`) \
         or point the NGINX environment variable at the binary. This test does not skip."
    );
}

/// nginx running in the foreground; killed and its directory removed on drop.
struct Nginx {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Nginx {
    fn start(files: &[(&str, &[u8])]) -> Self {
        let binary = nginx_binary();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("ota-nginx-{}-{nanos}", std::process::id()));
        let www = dir.join("www");
        std::fs::create_dir_all(&www).unwrap();
        for (name, bytes) in files {
            std::fs::write(www.join(name), bytes).unwrap();
        }
        let port = {
            let probe = TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let d = dir.display();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log info;\nevents {{ worker_connections 64; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n\
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n\
             scgi_temp_path {d}/scgi;\n  default_type application/octet-stream;\n  keepalive_timeout 30s;\n\
             server {{\n    listen 127.0.0.1:{port};\n    root {d}/www;\n  }}\n}}\n"
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(&binary)
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not run {}: {e}", binary.display()));
        let mut nginx = Self { child, dir, port };
        nginx.wait_ready();
        nginx
    }

    /// Waits until nginx accepts connections (or fails with its error log if it exits).
    fn wait_ready(&mut self) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stderr = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
                }
                panic!("nginx exited ({status}): {stderr}\n{}", self.log("error.log"));
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "nginx did not listen: {}",
                self.log("error.log")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn firmware(len: usize) -> Vec<u8> {
    let mut x = 0x2545_F491_u32;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

fn fetch(source: &mut impl ChunkSource, offset: usize, buf: &mut [u8]) -> Result<usize, SourceError> {
    loop {
        match source.fetch(u32::try_from(offset).unwrap(), buf) {
            Ok(n) => return Ok(n),
            Err(nb::Error::WouldBlock) => {}
            Err(nb::Error::Other(e)) => return Err(e),
        }
    }
}

#[test]
fn download_cut_and_resume_against_nginx() {
    let fw = firmware(1_000_003);
    let nginx = Nginx::start(&[("fw.bin", &fw)]);
    let url = nginx.url("/fw.bin");
    let mut client: HttpClient<TcpConnector, 1024> = HttpClient::new(TcpConnector::default());
    let mut source = HttpSource::new(&mut client, &url, None);
    let mut got = Vec::with_capacity(fw.len());
    let mut buf = [0u8; 4096];

    // First part over one answer, then the link is cut mid-body.
    while got.len() < 300_001 {
        let n = fetch(&mut source, got.len(), &mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(source.last_status(), Some(200));
    source.reset();

    // Resume with Range.
    let n = fetch(&mut source, got.len(), &mut buf).unwrap();
    assert_eq!(source.last_status(), Some(206), "nginx answers the Range request with 206");
    got.extend_from_slice(&buf[..n]);
    while got.len() < fw.len() {
        let n = fetch(&mut source, got.len(), &mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got.len(), fw.len());
    assert!(got == fw, "bit-exact download");
    assert_eq!(source.total_size(), Some(fw.len() as u64));

    // Past the end: nothing at that offset.
    assert_eq!(fetch(&mut source, fw.len(), &mut buf), Err(SourceError::Protocol));
    let missing = nginx.url("/nope.bin");
    let mut gone = HttpSource::new(&mut client, &missing, None);
    assert_eq!(fetch(&mut gone, 0, &mut buf), Err(SourceError::NotFound));

    let access = nginx.log("access.log");
    assert!(access.contains("\"GET /fw.bin HTTP/1.1\" 200"), "{access}");
    assert!(access.contains("\"GET /fw.bin HTTP/1.1\" 206"), "{access}");
}

#[test]
fn keep_alive_and_ranges_at_many_offsets_against_nginx() {
    let fw = firmware(64 * 1024);
    let nginx = Nginx::start(&[("fw.bin", &fw)]);
    let url = nginx.url("/fw.bin");
    let mut client: HttpClient<TcpConnector, 1024> = HttpClient::new(TcpConnector::default());
    let mut buf = [0u8; 1000];
    for offset in [1usize, 4095, 4096, 30_000, fw.len() - 1] {
        let mut source = HttpSource::new(&mut client, &url, None);
        let n = fetch(&mut source, offset, &mut buf).unwrap();
        assert_eq!(buf[..n], fw[offset..offset + n], "offset {offset}");
        assert_eq!(source.last_status(), Some(206));
        // Read the answer to its end so the connection stays reusable.
        let mut at = offset + n;
        while at < fw.len() {
            let n = fetch(&mut source, at, &mut buf).unwrap();
            assert_eq!(buf[..n], fw[at..at + n]);
            at += n;
        }
    }
    assert_eq!(client.connections_opened(), 1, "nginx kept the connection alive");
}
