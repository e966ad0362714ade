//! PCP frames out of a byte stream (a UART), for devices that carry PCP over a serial link
//! instead of whole CoAP payloads.
//!
//! PCP has no delimiter: a frame is found by its start marker 0xFFFE and its data length.
//! [`PcpStreamDecoder`] hunts for the marker, reads the header, collects the data and checks
//! the check code. When a frame fails (bad version, too long for the buffer, wrong check
//! code) it looks for the next marker inside the bytes it already holds, so a false start in
//! garbage does not swallow the real frame behind it.

#![deny(clippy::arithmetic_side_effects)]

use super::check_code::frame_check_code;
use super::codec::{HEADER_LEN, START, VERSION};

/// Counters of what the stream decoder dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StreamStats {
    /// Frames handed out.
    pub frames: u32,
    /// Bytes skipped while looking for a start marker.
    pub skipped: u32,
    /// Frames dropped for a wrong check code.
    pub check_code_errors: u32,
    /// Frames whose stated length does not fit the buffer.
    pub oversized: u32,
    /// Headers with a wrong version.
    pub bad_headers: u32,
}

/// Reassembles PCP frames of at most `N` bytes from a byte stream.
#[derive(Debug, Clone)]
pub struct PcpStreamDecoder<const N: usize> {
    buf: [u8; N],
    len: usize,
    handed_out: bool,
    stats: StreamStats,
}

impl<const N: usize> Default for PcpStreamDecoder<N> {
    fn default() -> Self {
        Self::new()
    }
}

enum Check {
    NeedMore,
    Frame(usize),
    Bad,
}

impl<const N: usize> PcpStreamDecoder<N> {
    /// An empty decoder.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
            handed_out: false,
            stats: StreamStats { frames: 0, skipped: 0, check_code_errors: 0, oversized: 0, bad_headers: 0 },
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> StreamStats {
        self.stats
    }

    /// Consumes `input` up to the end of the first whole, valid frame, returning how many
    /// bytes were used and the frame (valid until the next call).
    pub fn feed<'a>(&'a mut self, input: &[u8]) -> (usize, Option<&'a [u8]>) {
        if self.handed_out {
            self.handed_out = false;
            self.len = 0;
        }
        // `used` counts the bytes up to and including this one.
        for (used, &byte) in (1usize..).zip(input) {
            if let Some(total) = self.push(byte) {
                self.handed_out = true;
                return (used, self.buf.get(..total));
            }
        }
        (input.len(), None)
    }

    fn push(&mut self, byte: u8) -> Option<usize> {
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = byte;
                // Below `N`: `buf[len]` exists.
                self.len = self.len.saturating_add(1);
            }
            None => self.resync(),
        }
        loop {
            match self.check() {
                Check::NeedMore => return None,
                Check::Frame(total) => {
                    self.stats.frames = self.stats.frames.saturating_add(1);
                    return Some(total);
                }
                Check::Bad => self.resync(),
            }
        }
    }

    fn check(&mut self) -> Check {
        let [s0, s1] = START.to_be_bytes();
        let b = |i: usize| self.buf.get(i).copied().unwrap_or(0);
        if self.len >= 1 && b(0) != s0 || self.len >= 2 && b(1) != s1 {
            return Check::Bad;
        }
        if self.len < HEADER_LEN {
            return Check::NeedMore;
        }
        if b(2) & 0x0F != VERSION {
            self.stats.bad_headers = self.stats.bad_headers.saturating_add(1);
            return Check::Bad;
        }
        let data_len = usize::from(u16::from_be_bytes([b(6), b(7)]));
        let Some(total) = data_len.checked_add(HEADER_LEN).filter(|&total| total <= N) else {
            self.stats.oversized = self.stats.oversized.saturating_add(1);
            return Check::Bad;
        };
        if self.len < total {
            return Check::NeedMore;
        }
        let frame = self.buf.get(..total).unwrap_or(&[]);
        if frame_check_code(frame) != u16::from_be_bytes([b(4), b(5)]) {
            self.stats.check_code_errors = self.stats.check_code_errors.saturating_add(1);
            return Check::Bad;
        }
        Check::Frame(total)
    }

    /// Drops bytes up to the next possible start marker after the first byte.
    fn resync(&mut self) {
        let [s0, _] = START.to_be_bytes();
        let held = self.buf.get(..self.len).unwrap_or(&[]);
        let next = held.iter().enumerate().skip(1).find(|&(_, &b)| b == s0).map_or(self.len, |(i, _)| i);
        self.buf.copy_within(next..self.len, 0);
        // `next <= len`: an index into the held bytes, or `len`.
        self.len = self.len.saturating_sub(next);
        self.stats.skipped = self.stats.skipped.saturating_add(u32::try_from(next).unwrap_or(u32::MAX));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code: a panic is a test failure")]
mod tests {
    use super::super::codec::{PlatformMessage, Task, version_field};
    use super::*;

    fn frames<const N: usize>(d: &mut PcpStreamDecoder<N>, mut input: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while !input.is_empty() {
            let (used, f) = d.feed(input);
            if let Some(f) = f {
                out.push(f.to_vec());
            }
            input = &input[used..];
        }
        out
    }

    fn emit(m: PlatformMessage<'_>) -> Vec<u8> {
        let mut out = vec![0u8; 600];
        let n = m.emit(&mut out).unwrap();
        out.truncate(n);
        out
    }

    #[test]
    fn finds_frames_among_garbage_and_bad_frames() {
        let query = emit(PlatformMessage::QueryVersion);
        let task =
            Task { version: version_field("2.0").unwrap(), block_size: 500, block_count: 2, check_code: 7 };
        let notify = emit(PlatformMessage::NewVersion(task));
        let block = emit(PlatformMessage::Block { result: 0, block: 1, data: &[0xFF; 100] });
        let mut bad_check = query.clone();
        bad_check[4] ^= 0x80;
        let mut huge = query.clone();
        huge[6] = 0x40; // claims 16 KiB of data
        let mut wire = vec![0x12, 0xFF, 0x00, 0xFF];
        wire.extend(&query);
        wire.extend(&bad_check);
        wire.extend([0xFF, 0xFE, 0x05]); // a false start with a bad version
        wire.extend(&notify);
        wire.extend(&huge[..8]);
        wire.extend(&block);
        wire.extend(&query[..5]); // cut off
        let mut d = PcpStreamDecoder::<600>::new();
        let got = frames(&mut d, &wire);
        assert_eq!(got, vec![query.clone(), notify, block]);
        let s = d.stats();
        assert_eq!(s.frames, 3);
        assert!(s.check_code_errors >= 1 && s.oversized >= 1 && s.bad_headers >= 1, "{s:?}");
        assert!(s.skipped > 0);
        // The cut-off frame completes when the rest arrives.
        assert_eq!(frames(&mut d, &query[5..]), vec![query]);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..800)) {
            let mut d = PcpStreamDecoder::<64>::new();
            for f in frames(&mut d, &bytes) {
                proptest::prop_assert!(super::super::codec::Packet::new_checked(&f[..]).is_ok());
            }
        }

        #[test]
        fn a_frame_after_garbage_is_found(garbage in proptest::collection::vec(proptest::num::u8::ANY, 0..50), data in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            let frame = emit(PlatformMessage::Block { result: 0, block: 3, data: &data });
            let mut wire = garbage.clone();
            wire.extend(&frame);
            wire.extend(vec![0u8; 600]);
            let mut d = PcpStreamDecoder::<600>::new();
            let got = frames(&mut d, &wire);
            proptest::prop_assert!(got.contains(&frame), "{:?}", d.stats());
        }
    }
}
