//! Interop with the embedded-io 0.7 ecosystem: a stream type from another crate is the HTTP
//! client's connection as it is, with no adapter type of this crate.
//!
//! - `embedded_io_adapters::std::FromStd<TcpStream>` (embedded-io-adapters 0.7): real GETs
//!   against the in-process mock server.
//! - `embedded_tls::blocking::TlsConnection<FromStd<TcpStream>, Aes128GcmSha256>`
//!   (embedded-tls 0.19): the connection type of an `https` connector, type-checked with the
//!   client and the download source, and its handshake run against a peer that is no TLS
//!   server (there is no TLS server in-process), so the connection is never established.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use embedded_io_adapters::std::FromStd;
use embedded_tls::blocking::{Aes128GcmSha256, TlsConfig, TlsConnection, TlsContext, UnsecureProvider};
use embedded_tls::{CryptoRng, CryptoRngCore};
use ota_client::mock::http_server::{Fault, MockHttpServer};
use ota_client::transport::http::{
    ConnectError, Connector, HttpClient, HttpError, HttpSource, HttpTransport, Scheme,
};
use ota_client::transport::{ChunkSource, SourceError};

/// A file whose every byte depends on its offset, so bytes from the wrong offset show.
fn firmware(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + i / 251) % 256) as u8).collect()
}

/// Opens `std::net` streams and hands them over in embedded-io-adapters' `FromStd`.
struct StdConnector {
    read_timeout: Duration,
}

impl Connector for StdConnector {
    type Connection = FromStd<TcpStream>;

    fn connect(&mut self, scheme: Scheme, host: &str, port: u16) -> Result<FromStd<TcpStream>, ConnectError> {
        if scheme != Scheme::Http {
            return Err(ConnectError::UnsupportedScheme);
        }
        let stream = TcpStream::connect((host, port)).map_err(|_| ConnectError::Unreachable)?;
        stream.set_read_timeout(Some(self.read_timeout)).map_err(|_| ConnectError::Unreachable)?;
        Ok(FromStd::new(stream))
    }
}

fn std_client() -> HttpClient<StdConnector, 1024> {
    HttpClient::new(StdConnector { read_timeout: Duration::from_secs(10) })
}

/// Reads the open answer's whole body.
fn body(client: &mut impl HttpTransport) -> Result<Vec<u8>, HttpError> {
    let mut out = Vec::new();
    let mut buf = [0u8; 700];
    loop {
        let n = client.read_body(&mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn get_through_from_std_tcp_stream() {
    let server = MockHttpServer::start().unwrap();
    let fw = firmware(30_000);
    server.put_file("/fw.bin", fw.clone());
    let url = server.url("/fw.bin");
    let mut client = std_client();

    let head = client.get_range(&url, 0, None).unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(head.content_length, Some(30_000));
    assert_eq!(body(&mut client).unwrap(), fw);

    // A ranged GET on the same kept-alive connection.
    let head = client.get_range(&url, 12_345, None).unwrap();
    assert_eq!(head.status, 206);
    assert_eq!(head.content_range.map(|r| r.first), Some(12_345));
    assert_eq!(body(&mut client).unwrap(), fw[12_345..]);
    assert_eq!(client.connections_opened(), 1);

    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].header("range"), Some("bytes=12345-"));
}

#[test]
fn download_source_resumes_over_from_std() {
    let server = MockHttpServer::start().unwrap();
    let fw = firmware(20_000);
    server.put_file("/fw.bin", fw.clone());
    server.inject(Fault::CloseAfter(7_000));
    let url = server.url("/fw.bin");
    let mut client = std_client();
    let mut source = HttpSource::new(&mut client, &url, None);
    let mut got = Vec::new();
    let mut buf = [0u8; 1000];
    let mut lost = 0;
    while got.len() < fw.len() {
        match source.fetch(u32::try_from(got.len()).unwrap(), &mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(nb::Error::WouldBlock) => {}
            Err(nb::Error::Other(_)) => lost += 1,
        }
        assert!(lost <= 1, "one dropped connection, one retry");
    }
    assert_eq!(got, fw);
    assert_eq!(lost, 1);
    assert_eq!(server.requests()[1].header("range"), Some("bytes=7000-"));
}

#[test]
fn from_std_errors_reach_the_client_as_embedded_io_kinds() {
    // Nothing listens on a port just released.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut client = std_client();
    let url = format!("http://127.0.0.1:{port}/fw.bin");
    assert_eq!(client.get_range(&url, 0, None).unwrap_err(), HttpError::Connect(ConnectError::Unreachable));

    // std reports a read time limit as `WouldBlock` (or `TimedOut`), which embedded-io's
    // mapping from std turns into `Other` (or `TimedOut`): either way the read fails, and the
    // answer is cut. `TcpConnector` maps both to `TimedOut`.
    let server = MockHttpServer::start().unwrap();
    server.put_file("/slow.bin", firmware(4096));
    server.inject(Fault::Slow { chunk: 512, delay_ms: 600 });
    let mut client = HttpClient::<_, 1024>::new(StdConnector { read_timeout: Duration::from_millis(100) });
    let head = client.get_range(&server.url("/slow.bin"), 0, None).unwrap();
    assert_eq!(head.status, 200);
    let err = body(&mut client).unwrap_err();
    assert!(matches!(err, HttpError::Io(embedded_io::ErrorKind::Other) | HttpError::Timeout), "{err:?}");
}

/// TLS record buffers: embedded-tls's largest record (16 KiB of data plus overhead) in, a
/// smaller one out.
const TLS_READ_BUF: usize = 16_640;
const TLS_WRITE_BUF: usize = 4096;

/// The TLS connection over a std stream, exactly as embedded-tls defines it.
type TlsStream = TlsConnection<'static, FromStd<TcpStream>, Aes128GcmSha256>;

/// Opens `https` connections with embedded-tls over `FromStd<TcpStream>`. It verifies no
/// certificate (`UnsecureProvider`): this is a type check, not a secure setup. A device
/// lends its record buffers from its own `'static` memory; this host test leaks one pair
/// per connection.
struct TlsConnector<R> {
    rng: R,
}

impl<R: CryptoRngCore> Connector for TlsConnector<R> {
    type Connection = TlsStream;

    fn connect(&mut self, scheme: Scheme, host: &str, port: u16) -> Result<TlsStream, ConnectError> {
        if scheme != Scheme::Https {
            return Err(ConnectError::UnsupportedScheme);
        }
        let stream = TcpStream::connect((host, port)).map_err(|_| ConnectError::Unreachable)?;
        stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|_| ConnectError::Unreachable)?;
        let read_buf: &'static mut [u8] = Box::leak(vec![0; TLS_READ_BUF].into_boxed_slice());
        let write_buf: &'static mut [u8] = Box::leak(vec![0; TLS_WRITE_BUF].into_boxed_slice());
        let mut tls: TlsStream = TlsConnection::new(FromStd::new(stream), read_buf, write_buf);
        let config = TlsConfig::new().with_server_name(host);
        tls.open(TlsContext::new(&config, UnsecureProvider::new::<Aes128GcmSha256>(&mut self.rng)))
            .map_err(|_| ConnectError::Unreachable)?;
        Ok(tls)
    }
}

/// A GET over TLS through the client (`HttpTransport`).
fn tls_get<R: CryptoRngCore>(
    client: &mut HttpClient<TlsConnector<R>, 1024>,
    url: &str,
) -> Result<Vec<u8>, HttpError> {
    client.get_range(url, 0, None)?;
    body(client)
}

/// The download engine's `ChunkSource` over the same TLS client.
fn tls_source<'c, R: CryptoRngCore>(
    client: &'c mut HttpClient<TlsConnector<R>, 1024>,
    url: &'c str,
) -> impl ChunkSource + 'c {
    HttpSource::new(client, url, None)
}

/// A deterministic generator, for a handshake that is meant to fail. Never a key source.
struct TestRng(u64);

impl rand_core::RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        // xorshift64
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            *b = self.next_u64() as u8;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for TestRng {}

#[test]
fn tls_connection_is_the_clients_connection() {
    // A peer that reads the ClientHello and answers in plain HTTP: embedded-tls sends its
    // handshake through `FromStd<TcpStream>`, finds no TLS record in the answer, and the
    // connector reports the failure to the client.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut hello = [0u8; 5];
        s.read_exact(&mut hello).unwrap();
        s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
        hello
    });
    let mut client: HttpClient<TlsConnector<TestRng>, 1024> =
        HttpClient::new(TlsConnector { rng: TestRng(0x9E37_79B9_7F4A_7C15) });
    let got = tls_get(&mut client, &format!("https://127.0.0.1:{port}/fw.bin"));
    assert_eq!(got, Err(HttpError::Connect(ConnectError::Unreachable)));
    let hello = peer.join().unwrap();
    assert_eq!(hello[0], 0x16, "a TLS handshake record went out");
    assert_eq!(hello[1], 0x03, "TLS record version 3.x");

    // The connector refuses `http`, as a TLS-only connector should; the source reports it
    // as a location it cannot reach.
    let mut buf = [0u8; 512];
    let got = tls_source(&mut client, "http://127.0.0.1:1/fw.bin").fetch(0, &mut buf);
    assert_eq!(got, Err(nb::Error::Other(SourceError::InvalidLocation)));
}
