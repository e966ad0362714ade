//! [`ChunkServer`]: an in-memory [`ChunkSource`] serving one image, with scripted faults.

use super::manual_clock::ManualClock;
use crate::time::Clock;
use crate::transport::{ChunkSource, SourceError};
use std::vec::Vec;

/// A misbehaviour of the server or of the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The connection drops: this fetch fails with [`SourceError::ConnectionLost`].
    Drop,
    /// Nothing arrives yet: this fetch answers `WouldBlock`.
    Delay,
    /// Nothing arrives for `ms` virtual milliseconds (needs [`ChunkServer::with_clock`]).
    DelayMs(u64),
    /// This answer carries at most this many bytes.
    Truncate(usize),
    /// The bytes of this answer are XORed with this value (bit flips on the way).
    Corrupt(u8),
    /// Half of the chunk arrives, then the connection drops (the next fetch fails).
    DisconnectMidChunk,
    /// A buggy source: this answer carries bytes from `offset + shift` (wrapping around the
    /// image) instead of `offset`.
    WrongRange(u32),
    /// A buggy source that does not honour ranges: from now on every connection streams
    /// the file from byte 0, whatever offset is asked.
    IgnoreRange,
    /// The file on the server changes to this image (from now on).
    ReplaceImage(Vec<u8>),
    /// This fetch fails with this error.
    Fail(SourceError),
    /// A broken source: claims one byte more than the buffer it was given.
    Oversize,
}

#[derive(Debug, Clone)]
struct Scripted {
    at: u32,
    fault: Fault,
    times: u32,
}

/// What the server saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Calls to `fetch`.
    pub fetches: u64,
    /// Calls to `reset`.
    pub resets: u64,
    /// Bytes handed out.
    pub served: u64,
    /// Bytes handed out at offsets already served before (re-downloads).
    pub refetched: u64,
    /// End of the highest range served so far.
    pub high_water: u32,
    /// Faults that fired.
    pub faults: u64,
}

/// An in-memory chunk source.
///
/// Faults are scripted with [`ChunkServer::fault_at`]: a fault fires on a fetch at or past
/// its offset, `times` times (one fault per fetch, in script order).
///
/// ```
/// use ota_client::mock::{ChunkServer, Fault};
/// use ota_client::transport::{ChunkSource, SourceError};
/// let mut server = ChunkServer::new(vec![1, 2, 3, 4]).fault_at(2, Fault::Drop, 1);
/// let mut buf = [0u8; 8];
/// assert_eq!(server.fetch(0, &mut buf[..2]), Ok(2));
/// assert_eq!(server.fetch(2, &mut buf), Err(nb::Error::Other(SourceError::ConnectionLost)));
/// assert_eq!(server.fetch(2, &mut buf), Ok(2));
/// assert_eq!(&buf[..2], &[3, 4]);
/// ```
#[derive(Debug, Clone)]
pub struct ChunkServer {
    image: Vec<u8>,
    max_chunk: usize,
    script: Vec<Scripted>,
    clock: Option<ManualClock>,
    delay_until: Option<u64>,
    disconnect_pending: bool,
    /// Stream position of a source that ignores ranges.
    stream_from_zero: Option<usize>,
    ignores_range: bool,
    stats: ServerStats,
}

impl ChunkServer {
    /// Serves `image`, filling each buffer as far as it goes.
    pub fn new(image: Vec<u8>) -> Self {
        Self {
            image,
            max_chunk: usize::MAX,
            script: Vec::new(),
            clock: None,
            delay_until: None,
            disconnect_pending: false,
            stream_from_zero: None,
            ignores_range: false,
            stats: ServerStats::default(),
        }
    }

    /// Hands out at most `n` bytes per fetch (at least 1).
    pub fn with_max_chunk(mut self, n: usize) -> Self {
        self.max_chunk = n.max(1);
        self
    }

    /// Uses `clock` for [`Fault::DelayMs`].
    pub fn with_clock(mut self, clock: ManualClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Scripts `fault` to fire `times` times on fetches at or past `offset`.
    pub fn fault_at(mut self, offset: u32, fault: Fault, times: u32) -> Self {
        self.script.push(Scripted { at: offset, fault, times });
        self
    }

    /// Counts bytes below `high_water` as already served (to measure re-downloads of a
    /// second server standing in for the first after a reboot).
    pub fn with_high_water(mut self, high_water: u32) -> Self {
        self.stats.high_water = high_water;
        self
    }

    /// The image currently served.
    pub fn image(&self) -> &[u8] {
        &self.image
    }

    /// What the server saw.
    pub fn stats(&self) -> ServerStats {
        self.stats
    }

    fn next_fault(&mut self, offset: u32) -> Option<Fault> {
        let s = self.script.iter_mut().find(|s| s.times > 0 && offset >= s.at)?;
        s.times -= 1;
        self.stats.faults += 1;
        Some(s.fault.clone())
    }

    fn now(&self) -> u64 {
        self.clock.as_ref().map_or(0, Clock::now_ms)
    }

    /// Copies image bytes from `from` into `buf`, returning the count.
    fn copy_from(&self, from: usize, buf: &mut [u8], limit: usize) -> usize {
        let src = self.image.get(from..).unwrap_or(&[]);
        let n = src.len().min(buf.len()).min(limit).min(self.max_chunk);
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), src.get(..n)) {
            dst.copy_from_slice(src);
        }
        n
    }

    fn account(&mut self, offset: u32, n: usize) {
        let n32 = u32::try_from(n).unwrap_or(u32::MAX);
        self.stats.served += n as u64;
        self.stats.refetched += u64::from(n32.min(self.stats.high_water.saturating_sub(offset)));
        self.stats.high_water = self.stats.high_water.max(offset.saturating_add(n32));
    }
}

impl ChunkSource for ChunkServer {
    fn fetch(&mut self, offset: u32, buf: &mut [u8]) -> nb::Result<usize, SourceError> {
        self.stats.fetches += 1;
        if let Some(until) = self.delay_until {
            if self.now() < until {
                return Err(nb::Error::WouldBlock);
            }
            self.delay_until = None;
        }
        if self.disconnect_pending {
            self.disconnect_pending = false;
            return Err(nb::Error::Other(SourceError::ConnectionLost));
        }
        let at = offset as usize;
        let mut limit = usize::MAX;
        let mut xor = 0u8;
        let mut from = at;
        match self.next_fault(offset) {
            None => {}
            Some(Fault::Drop) => return Err(nb::Error::Other(SourceError::ConnectionLost)),
            Some(Fault::Delay) => return Err(nb::Error::WouldBlock),
            Some(Fault::DelayMs(ms)) => {
                self.delay_until = Some(self.now().saturating_add(ms));
                return Err(nb::Error::WouldBlock);
            }
            Some(Fault::Truncate(max)) => limit = max.max(1),
            Some(Fault::Corrupt(x)) => xor = x,
            Some(Fault::DisconnectMidChunk) => {
                limit = (buf.len().min(self.max_chunk) / 2).max(1);
                self.disconnect_pending = true;
            }
            Some(Fault::WrongRange(shift)) => {
                let len = self.image.len().max(1);
                from = (at + shift as usize) % len;
            }
            Some(Fault::IgnoreRange) => self.ignores_range = true,
            Some(Fault::ReplaceImage(image)) => self.image = image,
            Some(Fault::Fail(e)) => return Err(nb::Error::Other(e)),
            Some(Fault::Oversize) => {
                let n = self.copy_from(at, buf, usize::MAX);
                self.account(offset, n);
                return Ok(buf.len() + 1);
            }
        }
        if self.ignores_range {
            let pos = *self.stream_from_zero.get_or_insert(0);
            from = pos;
        } else if at >= self.image.len() {
            // A real server answers "range not satisfiable".
            return Err(nb::Error::Other(SourceError::Protocol));
        }
        let n = self.copy_from(from, buf, limit);
        if n == 0 {
            return Err(nb::Error::Other(SourceError::Protocol));
        }
        if let Some(pos) = self.stream_from_zero.as_mut() {
            *pos += n;
        }
        if xor != 0 {
            for b in buf.iter_mut().take(n) {
                *b ^= xor;
            }
        }
        self.account(offset, n);
        Ok(n)
    }

    fn reset(&mut self) {
        self.stats.resets += 1;
        self.disconnect_pending = false;
        // A source that ignores ranges starts its next stream at byte 0 again.
        if self.ignores_range {
            self.stream_from_zero = Some(0);
        }
    }
}
