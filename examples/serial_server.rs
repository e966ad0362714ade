//! Serves a file to devices over TCP with the serial chunk protocol, for trying a device
//! (or a pty bridge such as `socat`) by hand.
//!
//! ```text
//! cargo run --features mock --example serial_server -- firmware.bin 1.1.0 127.0.0.1:7878
//! ```
//!
//! Up to five devices at once; each connection is one device. The server prints what the
//! devices report.

use std::net::TcpListener;
use std::time::Duration;

use ota_client::mock::serial_server::{Image, SerialServer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(version)) = (args.next(), args.next()) else {
        eprintln!("usage: serial_server <image file> <version> [listen address, default 127.0.0.1:7878]");
        std::process::exit(2);
    };
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:7878".to_owned());
    let data = std::fs::read(&path)?;
    println!("serving {path} ({} bytes) as version {version} on {addr}", data.len());
    let listener = TcpListener::bind(&addr)?;
    listener.set_nonblocking(true)?;
    let mut server = SerialServer::new(Some(Image::new(&version, data)));
    let mut last = Vec::new();
    loop {
        if let Ok((stream, peer)) = listener.accept() {
            stream.set_nonblocking(true)?;
            match server.attach(stream) {
                Ok(i) => println!("device {i} connected from {peer}"),
                Err(_) => println!("refused {peer}: already serving the most devices"),
            }
        }
        let moved = server.poll();
        let now: Vec<_> = (0..server.len()).filter_map(|i| server.record(i).cloned()).collect();
        if now != last {
            for (i, r) in now.iter().enumerate() {
                if last.get(i) != Some(r) && (r.result.is_some() || r.closed || r.progress.is_some()) {
                    println!(
                        "device {i}: version {:?}, progress {:?}, result {:?}, {} bytes served, closed {}",
                        r.version, r.progress, r.result, r.bytes_served, r.closed
                    );
                }
            }
            last = now;
        }
        server.prune();
        if !moved {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
