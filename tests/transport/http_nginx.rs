//! Range resume against nginx, a server this project did not write.
//!
//! The test starts nginx (Debian package `nginx`) in the foreground on a free loopback port
//! with a configuration it writes into a temporary directory, downloads a generated firmware
//! file through `HttpSource`, cuts the connection mid-body, resumes with `Range`, and stops
//! nginx. Without the nginx binary it fails and says how to install it.

use crate::support;

use ota_client::transport::http::{HttpClient, HttpSource, TcpConnector};
use ota_client::transport::{ChunkSource, SourceError};
use support::nginx::{Nginx, firmware};

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
