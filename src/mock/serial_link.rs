//! A simulated full-duplex serial line in virtual time: line rate, byte drops, bit flips,
//! garbage bursts and stalls, all drawn from a seeded generator so that a run repeats
//! exactly.
//!
//! ```
//! use ota_client::mock::serial_link::{LinkConfig, SerialLink, VirtualClock};
//! let clock = VirtualClock::new();
//! let link = SerialLink::new(LinkConfig::clean(1), clock.clone());
//! let mut host = link.host_end();
//! std::io::Write::write_all(&mut host, b"hello").unwrap();
//! clock.advance_ms(1); // 11.52 bytes fit in a millisecond at 115200 baud 8N1
//! link.step();
//! let mut dev = link.device_end();
//! let mut buf = [0u8; 8];
//! assert_eq!(embedded_io::Read::read(&mut dev, &mut buf).unwrap(), 5);
//! ```

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use crate::time::Clock;

/// Bytes per second of a 115200-baud 8N1 line (10 bits per byte).
pub const BYTES_PER_SECOND_115200: u32 = 11_520;

/// A clock that only moves when told to; shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct VirtualClock {
    now_ns: Rc<Cell<u64>>,
}

impl VirtualClock {
    /// A clock at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Nanoseconds since the start.
    pub fn now_ns(&self) -> u64 {
        self.now_ns.get()
    }

    /// Moves the clock forward.
    pub fn advance_ns(&self, ns: u64) {
        self.now_ns.set(self.now_ns.get().saturating_add(ns));
    }

    /// Moves the clock forward by milliseconds.
    pub fn advance_ms(&self, ms: u64) {
        self.advance_ns(ms.saturating_mul(1_000_000));
    }
}

impl Clock for VirtualClock {
    fn now_ms(&self) -> u64 {
        self.now_ns.get() / 1_000_000
    }
}

/// Line rate and faults. Rates are probabilities per byte carried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkConfig {
    /// Bytes per second each way.
    pub bytes_per_second: u32,
    /// A byte vanishes.
    pub drop_rate: f64,
    /// One bit of a byte is flipped.
    pub flip_rate: f64,
    /// A burst of random bytes (1..=`garbage_max` long) is inserted before a byte.
    pub garbage_rate: f64,
    /// Longest garbage burst.
    pub garbage_max: usize,
    /// The line stops for `stall_ms` before a byte.
    pub stall_rate: f64,
    /// Length of a stall.
    pub stall_ms: u32,
    /// Seed of the fault generator.
    pub seed: u64,
}

impl LinkConfig {
    /// A clean 115200-baud line.
    pub fn clean(seed: u64) -> Self {
        Self {
            bytes_per_second: BYTES_PER_SECOND_115200,
            drop_rate: 0.0,
            flip_rate: 0.0,
            garbage_rate: 0.0,
            garbage_max: 0,
            stall_rate: 0.0,
            stall_ms: 0,
            seed,
        }
    }

    /// A bad 115200-baud line: about one byte in 20,000 dropped, one in 20,000 with a
    /// flipped bit, a garbage burst every 30,000 bytes and a 2-second stall every
    /// 100,000 bytes (each direction).
    pub fn noisy(seed: u64) -> Self {
        Self {
            drop_rate: 5e-5,
            flip_rate: 5e-5,
            garbage_rate: 3.3e-5,
            garbage_max: 40,
            stall_rate: 1e-5,
            stall_ms: 2000,
            ..Self::clean(seed)
        }
    }
}

/// What one direction of the line did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaneStats {
    /// Bytes written by the sender.
    pub written: u64,
    /// Bytes delivered to the receiver (including garbage).
    pub delivered: u64,
    /// Bytes dropped.
    pub dropped: u64,
    /// Bytes delivered with a flipped bit.
    pub flipped: u64,
    /// Garbage bytes inserted.
    pub garbage: u64,
    /// Stalls.
    pub stalls: u64,
}

/// A small deterministic generator (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced by a fixed constant).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

#[derive(Debug, Default)]
struct Lane {
    pending: VecDeque<u8>,
    arrived: VecDeque<u8>,
    /// When the wire finishes the byte in progress (ns).
    free_at: u64,
    stats: LaneStats,
}

#[derive(Debug)]
struct Line {
    config: LinkConfig,
    rng: Rng,
    /// 0: device to host, 1: host to device.
    lanes: [Lane; 2],
}

const UP: usize = 0;
const DOWN: usize = 1;

/// A simulated serial line between one device and the host. Clones share the line.
#[derive(Debug, Clone)]
pub struct SerialLink {
    line: Rc<RefCell<Line>>,
    clock: VirtualClock,
}

impl SerialLink {
    /// A line timed by `clock`.
    pub fn new(config: LinkConfig, clock: VirtualClock) -> Self {
        let line = Line { config, rng: Rng::new(config.seed), lanes: [Lane::default(), Lane::default()] };
        Self { line: Rc::new(RefCell::new(line)), clock }
    }

    /// The device's end, an `embedded-io` UART.
    pub fn device_end(&self) -> DeviceEnd {
        DeviceEnd { link: self.clone() }
    }

    /// The host's end, a non-blocking `std::io` stream.
    pub fn host_end(&self) -> HostEnd {
        HostEnd { link: self.clone() }
    }

    /// Changes line rate or faults from now on (e.g. to cut the line mid-transfer).
    pub fn set_config(&self, config: LinkConfig) {
        self.line.borrow_mut().config = config;
    }

    /// Counters of the device-to-host direction.
    pub fn up_stats(&self) -> LaneStats {
        self.line.borrow().lanes[UP].stats
    }

    /// Counters of the host-to-device direction.
    pub fn down_stats(&self) -> LaneStats {
        self.line.borrow().lanes[DOWN].stats
    }

    /// Bytes written but not yet delivered, both directions.
    pub fn in_flight(&self) -> usize {
        let line = self.line.borrow();
        line.lanes.iter().map(|l| l.pending.len()).sum()
    }

    /// Carries bytes up to the clock's present time.
    pub fn step(&self) {
        let now = self.clock.now_ns();
        let mut guard = self.line.borrow_mut();
        let line = &mut *guard;
        let byte_ns = 1_000_000_000 / u64::from(line.config.bytes_per_second.max(1));
        for lane in line.lanes.iter_mut() {
            while !lane.pending.is_empty() && lane.free_at.saturating_add(byte_ns) <= now {
                let cfg = line.config;
                if line.rng.chance(cfg.stall_rate) {
                    lane.stats.stalls += 1;
                    lane.free_at += u64::from(cfg.stall_ms) * 1_000_000;
                    continue;
                }
                if line.rng.chance(cfg.garbage_rate) {
                    let n = 1 + line.rng.below(cfg.garbage_max.max(1) as u64);
                    for _ in 0..n {
                        lane.arrived.push_back(line.rng.next_u64() as u8);
                    }
                    lane.stats.garbage += n;
                    lane.stats.delivered += n;
                    lane.free_at += n * byte_ns;
                    continue;
                }
                let Some(mut byte) = lane.pending.pop_front() else { break };
                lane.free_at += byte_ns;
                if line.rng.chance(cfg.drop_rate) {
                    lane.stats.dropped += 1;
                    continue;
                }
                if line.rng.chance(cfg.flip_rate) {
                    byte ^= 1 << line.rng.below(8);
                    lane.stats.flipped += 1;
                }
                lane.arrived.push_back(byte);
                lane.stats.delivered += 1;
            }
        }
    }

    fn write(&self, lane: usize, bytes: &[u8]) {
        let now = self.clock.now_ns();
        let mut line = self.line.borrow_mut();
        let Some(lane) = line.lanes.get_mut(lane) else { return };
        if lane.pending.is_empty() && lane.free_at < now {
            lane.free_at = now;
        }
        lane.pending.extend(bytes.iter().copied());
        lane.stats.written += bytes.len() as u64;
    }

    fn read(&self, lane: usize, buf: &mut [u8]) -> usize {
        let mut line = self.line.borrow_mut();
        let Some(lane) = line.lanes.get_mut(lane) else { return 0 };
        let n = buf.len().min(lane.arrived.len());
        for (slot, byte) in buf.iter_mut().zip(lane.arrived.drain(..n)) {
            *slot = byte;
        }
        n
    }

    fn ready(&self, lane: usize) -> bool {
        self.line.borrow().lanes.get(lane).is_some_and(|l| !l.arrived.is_empty())
    }
}

/// The device's end of a [`SerialLink`]: `embedded-io` `Read + ReadReady + Write`. Writes
/// never block (the line queues them); reads return what has arrived.
#[derive(Debug, Clone)]
pub struct DeviceEnd {
    link: SerialLink,
}

impl embedded_io::ErrorType for DeviceEnd {
    type Error = core::convert::Infallible;
}

impl embedded_io::Read for DeviceEnd {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        Ok(self.link.read(DOWN, buf))
    }
}

impl embedded_io::ReadReady for DeviceEnd {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(self.link.ready(DOWN))
    }
}

impl embedded_io::Write for DeviceEnd {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.link.write(UP, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// The host's end of a [`SerialLink`]: a non-blocking `std::io::Read + Write`; a read with
/// nothing arrived fails with `WouldBlock`, like a non-blocking socket.
#[derive(Debug, Clone)]
pub struct HostEnd {
    link: SerialLink,
}

impl std::io::Read for HostEnd {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.link.read(UP, buf) {
            0 if !buf.is_empty() => Err(std::io::ErrorKind::WouldBlock.into()),
            n => Ok(n),
        }
    }
}

impl std::io::Write for HostEnd {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.link.write(DOWN, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code: a panic is a test failure")]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn carries_bytes_at_line_rate() {
        let clock = VirtualClock::new();
        let link = SerialLink::new(LinkConfig::clean(7), clock.clone());
        let mut host = link.host_end();
        host.write_all(&[0x55; 11_520]).unwrap();
        clock.advance_ms(500);
        link.step();
        let delivered = link.down_stats().delivered;
        assert!((5_750..=5_770).contains(&delivered), "{delivered}");
        clock.advance_ms(500);
        link.step();
        assert_eq!(link.down_stats().delivered, 11_520);
        let mut dev = link.device_end();
        let mut buf = vec![0u8; 20_000];
        assert_eq!(embedded_io::Read::read(&mut dev, &mut buf).unwrap(), 11_520);
        assert_eq!(host.read(&mut buf).unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
    }

    #[test]
    fn faults_are_deterministic_from_the_seed() {
        let run = |seed| {
            let clock = VirtualClock::new();
            let cfg = LinkConfig {
                drop_rate: 0.01,
                flip_rate: 0.01,
                garbage_rate: 0.01,
                garbage_max: 5,
                ..LinkConfig::clean(seed)
            };
            let link = SerialLink::new(cfg, clock.clone());
            link.host_end().write_all(&[0u8; 5000]).unwrap();
            clock.advance_ms(2000);
            link.step();
            let mut buf = vec![0u8; 10_000];
            let n = embedded_io::Read::read(&mut link.device_end(), &mut buf).unwrap();
            (buf[..n].to_vec(), link.down_stats())
        };
        let (a, sa) = run(3);
        let (b, sb) = run(3);
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        assert!(sa.dropped > 10 && sa.flipped > 10 && sa.garbage > 10, "{sa:?}");
        assert_ne!(run(4).0, a);
    }
}
