//! Payload throughput of the serial chunk protocol over a simulated 115200-baud 8N1 link.
//!
//! Criterion measures the wall time of simulating one transfer; the figure that matters is
//! the efficiency in virtual time, printed before the measurements: payload bytes per second
//! over the line's raw 11,520 bytes per second.

use criterion::{Criterion, criterion_group, criterion_main};
use ota_client::mock::serial_link::{LinkConfig, SerialLink, VirtualClock};
use ota_client::mock::serial_server::{Image, SerialServer};
use ota_client::transport::ChunkSource;
use ota_client::transport::serial::{ChunkClient, ClientConfig, SerialClient};

const LEN: usize = 256 * 1024;

/// Transfers `LEN` bytes; returns payload rate / raw byte rate, in virtual time.
fn transfer(link_cfg: LinkConfig, cfg: ClientConfig) -> f64 {
    let data: Vec<u8> = (0..LEN as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let clock = VirtualClock::new();
    let link = SerialLink::new(link_cfg, clock.clone());
    let mut server = SerialServer::new(Some(Image::new("2.0", data)));
    server.attach(link.host_end()).ok();
    let core = ChunkClient::<1100, 8192>::new(cfg).expect("config fits");
    let mut client = SerialClient::new(link.device_end(), clock.clone(), core);
    client.client().set_image_size(LEN as u32);
    let mut got = 0usize;
    let mut buf = [0u8; 512];
    while got < LEN {
        clock.advance_ns(100_000);
        link.step();
        server.poll();
        loop {
            match client.fetch(got as u32, &mut buf) {
                Ok(n) => got += n,
                Err(nb::Error::WouldBlock) => break,
                Err(nb::Error::Other(e)) => panic!("transfer failed: {e:?}"),
            }
            if got == LEN {
                break;
            }
        }
    }
    let secs = clock.now_ns() as f64 / 1e9;
    LEN as f64 / secs / 11_520.0
}

fn bench(c: &mut Criterion) {
    let cases = [
        ("clean, 1024 B chunks, window 4", LinkConfig::clean(1), ClientConfig::default()),
        (
            "clean, 512 B chunks, window 4",
            LinkConfig::clean(1),
            ClientConfig { chunk_len: 512, ..Default::default() },
        ),
        (
            "clean, 1024 B chunks, window 1",
            LinkConfig::clean(1),
            ClientConfig { window: 1, ..Default::default() },
        ),
        ("noisy, 1024 B chunks, window 4", LinkConfig::noisy(7), ClientConfig::default()),
    ];
    for (name, link, cfg) in cases {
        println!("serial link efficiency ({name}): {:.3} of 11,520 B/s", transfer(link, cfg));
    }
    let seeds = 1..=10u64;
    let mean = seeds.clone().map(|s| transfer(LinkConfig::noisy(s), ClientConfig::default())).sum::<f64>()
        / seeds.count() as f64;
    println!("serial link efficiency (noisy, mean of seeds 1..=10): {mean:.3} of 11,520 B/s");
    let mut group = c.benchmark_group("serial_link");
    group.sample_size(10);
    group.bench_function("simulate 256 KiB at 115200 baud", |b| {
        b.iter(|| transfer(LinkConfig::clean(1), ClientConfig::default()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
