//! The serial transport end to end: devices pulling an image over simulated 115200-baud
//! links (clean, noisy, cut) and over TCP, served by one host server.

use ota_client::mock::serial_link::{DeviceEnd, LinkConfig, SerialLink, VirtualClock};
use ota_client::mock::serial_server::{Image, SerialServer};
use ota_client::transport::serial::frame::FrameEncoder;
use ota_client::transport::serial::{
    ChunkClient, ClientConfig, Message, OfferInfo, Reply, SerialClient, max_frame_len,
};
use ota_client::transport::{ChunkSource, SourceError};
use ota_client::{FailureCause, Version};
use sha2::Digest as _;

const RUNNING: &str = "1.0.0";
const TARGET: &str = "1.1.0";

fn image(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8).collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Updated,
    Failed(SourceError),
}

enum Phase {
    Report,
    Download,
    ReportResult,
    Done(Outcome),
}

/// A device with a minimal download loop standing in for the download engine.
struct Device<C: ChunkSource> {
    client: C,
    phase: Phase,
    offer: Option<OfferInfo>,
    received: Vec<u8>,
    errors: u32,
    reported: bool,
    download_start_ms: u64,
    download_end_ms: u64,
}

type SimClient = SerialClient<DeviceEnd, VirtualClock, 1100, 4096>;

fn sim_device(link: &SerialLink, clock: &VirtualClock, cfg: ClientConfig) -> Device<SimClient> {
    let core = ChunkClient::<1100, 4096>::new(cfg).unwrap();
    Device::new(SerialClient::new(link.device_end(), clock.clone(), core))
}

impl<P, K> Device<SerialClient<P, K, 1100, 4096>>
where
    P: embedded_io::Read + embedded_io::ReadReady + embedded_io::Write,
    K: ota_client::time::Clock,
{
    fn new(client: SerialClient<P, K, 1100, 4096>) -> Self {
        Self {
            client,
            phase: Phase::Report,
            offer: None,
            received: Vec::new(),
            errors: 0,
            reported: false,
            download_start_ms: 0,
            download_end_ms: 0,
        }
    }

    fn done(&self) -> Option<&Outcome> {
        match &self.phase {
            Phase::Done(o) => Some(o),
            _ => None,
        }
    }

    fn step(&mut self, now_ms: u64) {
        match self.phase {
            Phase::Report => {
                if !self.reported {
                    self.client.report_version(&Version::parse(RUNNING).unwrap());
                    self.reported = true;
                }
                match self.client.poll_report() {
                    Ok(Reply::Offer(o)) => {
                        assert_eq!(o.version.as_str(), TARGET);
                        self.offer = Some(o);
                        self.phase = Phase::Download;
                        self.download_start_ms = now_ms;
                    }
                    Ok(other) => panic!("unexpected reply {other:?}"),
                    Err(nb::Error::WouldBlock) => {}
                    Err(nb::Error::Other(e)) => self.phase = Phase::Done(Outcome::Failed(e)),
                }
            }
            Phase::Download => {
                let size = self.offer.as_ref().unwrap().size as usize;
                let mut buf = [0u8; 300];
                loop {
                    if self.received.len() == size {
                        self.download_end_ms = now_ms;
                        let sha: [u8; 32] = sha2::Sha256::digest(&self.received).into();
                        let ok = Some(sha) == self.offer.as_ref().unwrap().digest.sha256;
                        let outcome = if ok { Ok(()) } else { Err(FailureCause::IntegrityCheckFailure) };
                        self.client.report_result(outcome, &Version::parse(TARGET).unwrap());
                        self.phase = Phase::ReportResult;
                        break;
                    }
                    match self.client.fetch(self.received.len() as u32, &mut buf) {
                        Ok(n) => self.received.extend_from_slice(&buf[..n]),
                        Err(nb::Error::WouldBlock) => break,
                        Err(nb::Error::Other(e)) => {
                            self.errors += 1;
                            if self.errors > 3 {
                                self.phase = Phase::Done(Outcome::Failed(e));
                            }
                            break;
                        }
                    }
                }
            }
            Phase::ReportResult => match self.client.poll_report() {
                Ok(Reply::Ack) => self.phase = Phase::Done(Outcome::Updated),
                Ok(other) => panic!("unexpected reply {other:?}"),
                Err(nb::Error::WouldBlock) => {}
                Err(nb::Error::Other(e)) => self.phase = Phase::Done(Outcome::Failed(e)),
            },
            Phase::Done(_) => {}
        }
    }
}

/// Runs devices against one server in 1 ms ticks of virtual time until all are done.
fn run(
    clock: &VirtualClock,
    links: &[SerialLink],
    server: &mut SerialServer<ota_client::mock::serial_link::HostEnd>,
    devices: &mut [Device<SimClient>],
    limit_ms: u64,
    mut each_tick: impl FnMut(u64, &mut [Device<SimClient>]),
) {
    for tick in 0..limit_ms {
        clock.advance_ms(1);
        for l in links {
            l.step();
        }
        server.poll();
        for d in devices.iter_mut() {
            d.step(tick + 1);
        }
        each_tick(tick + 1, devices);
        if devices.iter().all(|d| d.done().is_some()) {
            return;
        }
    }
    panic!("devices not done after {limit_ms} ms of virtual time");
}

fn sha(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

#[test]
fn clean_link_transfer_is_bit_exact_and_uses_the_line() {
    let img = image(200_000, 1);
    let clock = VirtualClock::new();
    let link = SerialLink::new(LinkConfig::clean(1), clock.clone());
    let mut server = SerialServer::new(Some(Image::new(TARGET, img.clone())));
    server.attach(link.host_end()).unwrap();
    let mut devices = vec![sim_device(&link, &clock, ClientConfig::default())];
    run(&clock, std::slice::from_ref(&link), &mut server, &mut devices, 60_000, |_, _| {});
    let d = &devices[0];
    assert_eq!(d.done(), Some(&Outcome::Updated));
    assert_eq!(sha(&d.received), sha(&img));
    let record = server.record(0).unwrap();
    assert_eq!(record.result, Some((Ok(()), TARGET.to_owned())));
    assert_eq!(record.version.as_deref(), Some(RUNNING));
    assert_eq!(record.bytes_served, img.len() as u64, "every byte asked for once on a clean link");
    // Virtual time, so deterministic: payload rate over the raw byte rate of the line.
    let secs = (d.download_end_ms - d.download_start_ms) as f64 / 1000.0;
    let efficiency = img.len() as f64 / secs / 11_520.0;
    println!("clean link efficiency {efficiency:.3}");
    assert!(efficiency >= 0.9, "efficiency {efficiency:.3}");
    let s = d.client.stats();
    assert_eq!((s.timeouts, s.unrequested, s.frames.crc_errors), (0, 0, 0), "{s:?}");
}

#[test]
fn noisy_link_transfer_is_bit_exact() {
    let img = image(300_000, 2);
    let clock = VirtualClock::new();
    let link = SerialLink::new(LinkConfig::noisy(42), clock.clone());
    let mut server = SerialServer::new(Some(Image::new(TARGET, img.clone())));
    server.attach(link.host_end()).unwrap();
    let mut devices = vec![sim_device(&link, &clock, ClientConfig::default())];
    run(&clock, std::slice::from_ref(&link), &mut server, &mut devices, 600_000, |_, _| {});
    let d = &devices[0];
    assert_eq!(d.done(), Some(&Outcome::Updated));
    assert_eq!(sha(&d.received), sha(&img));
    let down = link.down_stats();
    assert!(down.dropped > 0 && down.flipped > 0 && down.garbage > 0 && down.stalls > 0, "{down:?}");
    let s = d.client.stats();
    assert!(s.frames.dropped() > 0, "{s:?}");
    assert!(s.fast_retransmits + s.timeouts > 0, "{s:?}");
    println!("noisy link: {down:?}\nclient: {s:?}");
}

#[test]
fn cut_link_fails_cleanly_with_only_correct_bytes() {
    let img = image(100_000, 3);
    let clock = VirtualClock::new();
    let link = SerialLink::new(LinkConfig::clean(5), clock.clone());
    let mut server = SerialServer::new(Some(Image::new(TARGET, img.clone())));
    server.attach(link.host_end()).unwrap();
    let mut devices = vec![sim_device(
        &link,
        &clock,
        ClientConfig { timeout_ms: 500, max_retries: 3, ..Default::default() },
    )];
    let cut = link.clone();
    run(&clock, std::slice::from_ref(&link), &mut server, &mut devices, 600_000, |_, devs| {
        if devs[0].received.len() > 30_000 {
            cut.set_config(LinkConfig { drop_rate: 1.0, ..LinkConfig::clean(5) });
        }
    });
    let d = &devices[0];
    assert_eq!(d.done(), Some(&Outcome::Failed(SourceError::Timeout)));
    assert!(d.received.len() < img.len());
    assert_eq!(d.received[..], img[..d.received.len()], "every byte handed out is the image's");
}

#[test]
fn five_devices_served_at_once_by_one_server() {
    let img = image(60_000, 4);
    let clock = VirtualClock::new();
    let mut server = SerialServer::new(Some(Image::new(TARGET, img.clone())));
    let mut links = Vec::new();
    let mut devices = Vec::new();
    for i in 0..5u64 {
        let cfg = if i % 2 == 0 { LinkConfig::clean(i) } else { LinkConfig::noisy(100 + i) };
        let link = SerialLink::new(cfg, clock.clone());
        assert_eq!(server.attach(link.host_end()).ok(), Some(i as usize));
        devices.push(sim_device(&link, &clock, ClientConfig::default()));
        links.push(link);
    }
    let extra = SerialLink::new(LinkConfig::clean(9), clock.clone());
    assert!(server.attach(extra.host_end()).is_err(), "a sixth device is refused");
    run(&clock, &links, &mut server, &mut devices, 300_000, |_, _| {});
    for (i, d) in devices.iter().enumerate() {
        assert_eq!(d.done(), Some(&Outcome::Updated), "device {i}");
        assert_eq!(sha(&d.received), sha(&img), "device {i}");
        assert_eq!(server.record(i).unwrap().result, Some((Ok(()), TARGET.to_owned())));
    }
}

fn frame(enc: &mut FrameEncoder, msg: &Message<'_>) -> Vec<u8> {
    let mut payload = vec![0u8; 3000];
    let n = msg.encode(&mut payload).unwrap();
    let mut out = vec![0u8; max_frame_len(n)];
    let m = enc.encode(&payload[..n], &mut out).unwrap();
    out.truncate(m);
    out
}

#[test]
fn bad_input_is_dropped_and_counted() {
    use std::io::Write;
    let img = image(80_000, 5);
    let clock = VirtualClock::new();
    let link = SerialLink::new(LinkConfig::clean(11), clock.clone());
    let mut server = SerialServer::new(Some(Image::new(TARGET, img.clone())));
    server.attach(link.host_end()).unwrap();
    let mut devices = vec![sim_device(&link, &clock, ClientConfig::default())];
    let mut rogue = link.host_end();
    let mut injected = false;
    run(&clock, std::slice::from_ref(&link), &mut server, &mut devices, 120_000, |_, devs| {
        if !injected && devs[0].received.len() > 20_000 {
            injected = true;
            let mut enc = FrameEncoder::new();
            let mut bad = vec![0x00, 0x42, 0x13, 0x37, 0xFF, 0xFE, 0x01];
            bad.extend(frame(&mut enc, &Message::Chunk { offset: 0, data: &[0xAB; 2000] }));
            let mut corrupt = frame(&mut enc, &Message::Chunk { offset: 3, data: &[1; 10] });
            corrupt[5] ^= 0x04;
            bad.extend(corrupt);
            bad.extend(frame(&mut enc, &Message::Chunk { offset: 77_777, data: &[0xEE; 1024] }));
            bad.extend(frame(&mut enc, &Message::Chunk { offset: 1, data: &[0xEE; 5] }));
            bad.extend([0x01, 0x02, 0x00, 0x99, 0x00]);
            rogue.write_all(&bad).unwrap();
        }
    });
    let d = &devices[0];
    assert!(injected);
    assert_eq!(d.done(), Some(&Outcome::Updated));
    assert_eq!(sha(&d.received), sha(&img));
    let s = d.client.stats();
    assert!(s.frames.oversized >= 1, "{s:?}");
    assert!(s.frames.crc_errors >= 1, "{s:?}");
    assert!(s.unrequested >= 2, "{s:?}");
    assert!(s.frames.dropped() >= 3, "{s:?}");
}

mod tcp {
    use super::*;
    use std::io::{ErrorKind, Read, Write};
    use std::net::{TcpListener, TcpStream};

    /// A non-blocking TCP stream as an `embedded-io` UART.
    pub struct TcpUart(pub TcpStream);

    impl embedded_io::ErrorType for TcpUart {
        type Error = embedded_io::ErrorKind;
    }
    impl embedded_io::Read for TcpUart {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            match self.0.read(buf) {
                Ok(n) => Ok(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(0),
                Err(_) => Err(embedded_io::ErrorKind::Other),
            }
        }
    }
    impl embedded_io::ReadReady for TcpUart {
        fn read_ready(&mut self) -> Result<bool, Self::Error> {
            let mut b = [0u8; 1];
            match self.0.peek(&mut b) {
                // A closed socket is a silent line, as a UART would be.
                Ok(0) => Ok(false),
                Ok(_) => Ok(true),
                Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(false),
                Err(_) => Err(embedded_io::ErrorKind::Other),
            }
        }
    }
    impl embedded_io::Write for TcpUart {
        fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            loop {
                match self.0.write(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::yield_now(),
                    Err(_) => return Err(embedded_io::ErrorKind::Other),
                }
            }
        }
        fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    #[test]
    fn transfer_over_tcp() {
        let img = image(50_000, 6);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let served = img.clone();
        let host = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            stream.set_nonblocking(true).unwrap();
            let mut server = SerialServer::new(Some(Image::new(TARGET, served)));
            server.attach(stream).unwrap();
            while server.record(0).is_some_and(|r| r.result.is_none() && !r.closed) {
                if !server.poll() {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
            }
            server.record(0).unwrap().clone()
        });
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nonblocking(true).unwrap();
        let clock = ota_client::time::StdClock::new();
        let core = ChunkClient::<1100, 4096>::new(ClientConfig::default()).unwrap();
        let mut device = Device::new(SerialClient::new(TcpUart(stream), clock, core));
        // A deadlock guard, not a timing assert: a healthy run needs far fewer steps.
        for step in 0..2_000_000u64 {
            device.step(step);
            if device.done().is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
        assert_eq!(device.done(), Some(&Outcome::Updated));
        assert_eq!(sha(&device.received), sha(&img));
        println!("tcp client: {:?}", device.client.stats());
        let record = host.join().unwrap();
        assert_eq!(record.result, Some((Ok(()), TARGET.to_owned())));
        assert_eq!(record.bytes_served, img.len() as u64);
    }
}
