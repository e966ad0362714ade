//! HTTP transport throughput: head parsing, chunked decoding, and a whole download over
//! loopback TCP from the mock server through `HttpSource`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ota_client::mock::http_server::MockHttpServer;
use ota_client::transport::ChunkSource;
use ota_client::transport::http::{BodyDecoder, BodyKind, HttpClient, HttpSource, TcpConnector, parse_head};

const HEAD: &[u8] = b"HTTP/1.1 206 Partial Content\r\nServer: nginx/1.22.1\r\nDate: Mon, 23 Nov 2026 10:00:00 GMT\r\n\
Content-Type: application/octet-stream\r\nContent-Length: 1048576\r\nLast-Modified: Mon, 23 Nov 2026 09:00:00 GMT\r\n\
Connection: keep-alive\r\nETag: \"5f1d-100000\"\r\nContent-Range: bytes 1048576-2097151/4194304\r\n\r\n";

fn heads(c: &mut Criterion) {
    let mut g = c.benchmark_group("http_head");
    g.throughput(Throughput::Bytes(HEAD.len() as u64));
    g.bench_function("parse_nginx_206_head", |b| b.iter(|| parse_head(std::hint::black_box(HEAD))));
    g.finish();
}

fn chunked(c: &mut Criterion) {
    let body: Vec<u8> = (0..64 * 1024).map(|i| i as u8).collect();
    let mut wire = Vec::new();
    for part in body.chunks(1000) {
        wire.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        wire.extend_from_slice(part);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    let mut g = c.benchmark_group("http_body");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("decode_chunked_64k_into_512b", |b| {
        b.iter(|| {
            let mut d = BodyDecoder::new(BodyKind::Chunked);
            let mut out = [0u8; 512];
            let mut at = 0;
            while !d.is_done() {
                let (used, _) = d.decode(&wire[at..], &mut out).unwrap();
                at += used;
            }
        })
    });
    g.finish();
}

fn loopback(c: &mut Criterion) {
    const SIZE: usize = 4 * 1024 * 1024;
    let server = MockHttpServer::start().unwrap();
    server.put_file("/fw.bin", (0..SIZE).map(|i| (i * 31) as u8).collect());
    let url = server.url("/fw.bin");
    let mut client: HttpClient<TcpConnector, 1024> = HttpClient::new(TcpConnector::default());
    let mut g = c.benchmark_group("http_loopback");
    g.throughput(Throughput::Bytes(SIZE as u64));
    g.sample_size(10);
    g.bench_function("download_4MiB_in_1KiB_fetches", |b| {
        b.iter(|| {
            let mut source = HttpSource::new(&mut client, &url, None);
            let mut buf = [0u8; 1024];
            let mut at = 0usize;
            while at < SIZE {
                match source.fetch(at as u32, &mut buf) {
                    Ok(n) => at += n,
                    Err(nb::Error::WouldBlock) => {}
                    Err(nb::Error::Other(e)) => panic!("{e:?}"),
                }
            }
        })
    });
    g.finish();
}

criterion_group!(benches, heads, chunked, loopback);
criterion_main!(benches);
