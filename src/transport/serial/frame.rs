//! Frames on a byte stream: `0x00 | COBS(seq | payload | crc32c) | 0x00`.
//!
//! - The body is one sequence byte, the payload, and a CRC-32/ISCSI (Castagnoli) of sequence
//!   and payload, little-endian. 32 bits because frames are up to about a kilobyte and a
//!   noisy UART yields many corrupt frames: a 16-bit check lets one in 65,536 through, and
//!   the Castagnoli polynomial keeps a larger Hamming distance than the IEEE one at these
//!   lengths (Koopman's tables), so short bursts of flipped bits are always caught.
//! - COBS removes every 0x00 from the body, so 0x00 marks frame boundaries. Every frame also
//!   starts with a delimiter: garbage on an idle line then ends before the next frame instead
//!   of spoiling it. Two delimiters in a row (an empty frame) are ignored.
//! - The sequence number counts frames per direction; the decoder uses gaps to count frames
//!   lost on the line. Requests and answers are matched by offset, not by sequence.
//!
//! [`FrameDecoder`] is sans-I/O: feed it whatever bytes the UART produced and it hands back
//! whole frames, resynchronising at the next delimiter after any error.

#![deny(clippy::arithmetic_side_effects)]

use super::cobs::{self, Unstuffed, Unstuffer};

/// The frame check: CRC-32/ISCSI.
pub const FRAME_CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

/// Bytes a frame body adds to the payload: sequence (1) and CRC (4).
pub const BODY_OVERHEAD: usize = 5;

/// The frame delimiter.
pub const DELIMITER: u8 = 0x00;

/// Largest number of bytes [`FrameEncoder::encode`] writes for a payload of `len` bytes.
/// Saturates at `usize::MAX` for lengths no buffer can hold.
pub const fn max_frame_len(len: usize) -> usize {
    cobs::max_encoded_len(len.saturating_add(BODY_OVERHEAD)).saturating_add(2)
}

/// Why a frame was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FrameError {
    /// The CRC does not match the body.
    Crc,
    /// The COBS encoding is broken (the delimiter came in the middle of a block).
    Cobs,
    /// The body is longer than the decoder's buffer.
    Oversized,
    /// The body is shorter than sequence plus CRC.
    TooShort,
    /// The output buffer is too small for the encoded frame (encoder only).
    BufferTooSmall,
}

impl core::error::Error for FrameError {}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Crc => "frame CRC mismatch",
            Self::Cobs => "broken COBS encoding",
            Self::Oversized => "frame longer than the receive buffer",
            Self::TooShort => "frame shorter than its header",
            Self::BufferTooSmall => "output buffer too small for the frame",
        })
    }
}

/// Writes frames. Holds the next sequence number.
#[derive(Debug, Clone, Default)]
pub struct FrameEncoder {
    seq: u8,
}

impl FrameEncoder {
    /// An encoder starting at sequence 0.
    pub const fn new() -> Self {
        Self { seq: 0 }
    }

    /// Encodes `payload` as one frame into `out`, returning the number of bytes to send.
    /// Needs at most [`max_frame_len`]`(payload.len())` bytes.
    ///
    /// ```
    /// use ota_client::transport::serial::{FrameDecoder, FrameEncoder, DecodeEvent};
    /// let mut out = [0u8; 64];
    /// let n = FrameEncoder::new().encode(b"hi", &mut out).unwrap();
    /// let mut dec = FrameDecoder::<32>::new();
    /// let (_, event) = dec.feed(&out[..n]);
    /// assert!(matches!(event, Some(DecodeEvent::Frame(f)) if f.payload == b"hi"));
    /// ```
    pub fn encode(&mut self, payload: &[u8], out: &mut [u8]) -> Result<usize, FrameError> {
        let seq = self.seq;
        let mut digest = FRAME_CRC.digest();
        digest.update(&[seq]);
        digest.update(payload);
        let crc = digest.finalize().to_le_bytes();
        let (first, rest) = out.split_first_mut().ok_or(FrameError::BufferTooSmall)?;
        *first = DELIMITER;
        let body = core::iter::once(seq).chain(payload.iter().copied()).chain(crc);
        let n = cobs::encode(body, rest).ok_or(FrameError::BufferTooSmall)?;
        *rest.get_mut(n).ok_or(FrameError::BufferTooSmall)? = DELIMITER;
        self.seq = seq.wrapping_add(1);
        // `rest[n]` exists and `rest` is `out` minus one byte, so this is at most `out.len()`.
        n.checked_add(2).ok_or(FrameError::BufferTooSmall)
    }
}

/// A frame that passed its checks. The payload borrows the decoder's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The sender's sequence number.
    pub seq: u8,
    /// The payload.
    pub payload: &'a [u8],
}

/// What [`FrameDecoder::feed`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeEvent<'a> {
    /// A good frame.
    Frame(Frame<'a>),
    /// A frame was dropped (already counted in [`FrameStats`]).
    Dropped(FrameError),
}

/// Counters of what the decoder saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FrameStats {
    /// Good frames.
    pub frames: u32,
    /// Frames dropped for a CRC mismatch.
    pub crc_errors: u32,
    /// Frames dropped for broken COBS.
    pub cobs_errors: u32,
    /// Frames dropped for being longer than the buffer.
    pub oversized: u32,
    /// Frames dropped for being shorter than a header.
    pub too_short: u32,
    /// Frames the sender sent that never arrived intact, from gaps in sequence numbers.
    pub lost: u32,
}

impl FrameStats {
    /// Frames dropped for any reason.
    pub fn dropped(&self) -> u32 {
        self.crc_errors
            .saturating_add(self.cobs_errors)
            .saturating_add(self.oversized)
            .saturating_add(self.too_short)
    }
}

/// Reassembles frames from a byte stream into a buffer of `N` bytes (the largest body:
/// payload plus [`BODY_OVERHEAD`]).
#[derive(Debug, Clone)]
pub struct FrameDecoder<const N: usize> {
    buf: [u8; N],
    len: usize,
    /// Bytes have arrived since the last delimiter.
    started: bool,
    /// The body overflowed the buffer; skip to the next delimiter.
    overflow: bool,
    /// The previous call returned a frame that borrows `buf`; clear it first.
    handed_out: bool,
    unstuff: Unstuffer,
    next_seq: Option<u8>,
    stats: FrameStats,
}

impl<const N: usize> Default for FrameDecoder<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> FrameDecoder<N> {
    /// Largest payload a frame may carry into this decoder.
    pub const MAX_PAYLOAD: usize = N.saturating_sub(BODY_OVERHEAD);

    /// An empty decoder.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
            started: false,
            overflow: false,
            handed_out: false,
            unstuff: Unstuffer::new(),
            next_seq: None,
            stats: FrameStats {
                frames: 0,
                crc_errors: 0,
                cobs_errors: 0,
                oversized: 0,
                too_short: 0,
                lost: 0,
            },
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> FrameStats {
        self.stats
    }

    /// Forgets any partial frame (e.g. after the port was reopened).
    pub fn reset(&mut self) {
        self.restart();
        self.handed_out = false;
        self.next_seq = None;
    }

    fn restart(&mut self) {
        self.len = 0;
        self.started = false;
        self.overflow = false;
        self.unstuff.reset();
    }

    fn store(&mut self, byte: u8) {
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = byte;
                // Below `N`: `buf[len]` exists.
                self.len = self.len.saturating_add(1);
            }
            None => self.overflow = true,
        }
    }

    /// Consumes bytes from `input` up to and including the first frame boundary that yields
    /// an event. Returns how many bytes were consumed and the event, if any; call again
    /// with the rest of the input.
    pub fn feed<'a>(&'a mut self, input: &[u8]) -> (usize, Option<DecodeEvent<'a>>) {
        if self.handed_out {
            self.handed_out = false;
            self.restart();
        }
        // `used` counts the bytes up to and including this one.
        for (used, &byte) in (1usize..).zip(input) {
            if byte == DELIMITER {
                match self.finish() {
                    Some(Ok((seq, len))) => {
                        let payload = self.buf.get(1..).and_then(|b| b.get(..len)).unwrap_or(&[]);
                        return (used, Some(DecodeEvent::Frame(Frame { seq, payload })));
                    }
                    Some(Err(e)) => return (used, Some(DecodeEvent::Dropped(e))),
                    None => continue,
                }
            }
            self.started = true;
            if self.overflow {
                continue;
            }
            match self.unstuff.push(byte) {
                Unstuffed::Nothing => {}
                Unstuffed::One(b) => self.store(b),
                Unstuffed::Zero => self.store(0),
            }
        }
        (input.len(), None)
    }

    /// Ends the current frame at a delimiter: the sequence number and payload length of a
    /// good frame (the payload is `buf[1..1 + len]`), or why it was dropped.
    fn finish(&mut self) -> Option<Result<(u8, usize), FrameError>> {
        if !self.started {
            self.restart();
            return None;
        }
        let error = if self.overflow {
            self.stats.oversized = self.stats.oversized.saturating_add(1);
            Some(FrameError::Oversized)
        } else if !self.unstuff.at_boundary() {
            self.stats.cobs_errors = self.stats.cobs_errors.saturating_add(1);
            Some(FrameError::Cobs)
        } else if self.len < BODY_OVERHEAD {
            self.stats.too_short = self.stats.too_short.saturating_add(1);
            Some(FrameError::TooShort)
        } else {
            None
        };
        if let Some(error) = error {
            self.restart();
            return Some(Err(error));
        }
        let body = self.buf.get(..self.len).unwrap_or(&[]);
        // At least `BODY_OVERHEAD` bytes (checked above), so the CRC is there.
        let (data, crc) = body.split_last_chunk::<4>().map_or((body, [0; 4]), |(data, crc)| (data, *crc));
        let expected = u32::from_le_bytes(crc);
        if FRAME_CRC.checksum(data) != expected {
            self.stats.crc_errors = self.stats.crc_errors.saturating_add(1);
            self.restart();
            return Some(Err(FrameError::Crc));
        }
        let (&seq, payload_len) = match data.split_first() {
            Some((seq, payload)) => (seq, payload.len()),
            None => (&0, 0),
        };
        if let Some(next) = self.next_seq {
            let gap = seq.wrapping_sub(next);
            if gap < 128 {
                self.stats.lost = self.stats.lost.saturating_add(u32::from(gap));
            }
        }
        self.next_seq = Some(seq.wrapping_add(1));
        self.stats.frames = self.stats.frames.saturating_add(1);
        self.handed_out = true;
        Some(Ok((seq, payload_len)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code: a panic is a test failure")]
mod tests {
    use super::*;

    fn frames<const N: usize>(
        dec: &mut FrameDecoder<N>,
        mut input: &[u8],
    ) -> Vec<Result<Vec<u8>, FrameError>> {
        let mut out = Vec::new();
        while !input.is_empty() {
            let (used, ev) = dec.feed(input);
            match ev {
                Some(DecodeEvent::Frame(f)) => out.push(Ok(f.payload.to_vec())),
                Some(DecodeEvent::Dropped(e)) => out.push(Err(e)),
                None => {}
            }
            input = &input[used..];
        }
        out
    }

    fn encode(enc: &mut FrameEncoder, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; max_frame_len(payload.len())];
        let n = enc.encode(payload, &mut out).unwrap();
        out.truncate(n);
        out
    }

    #[test]
    fn round_trip_with_zeros_and_long_runs() {
        let mut enc = FrameEncoder::new();
        let mut dec = FrameDecoder::<1100>::new();
        let long: Vec<u8> = (0..1024u32).map(|i| (i % 7) as u8).collect();
        let mut wire = encode(&mut enc, b"");
        wire.extend(encode(&mut enc, &[0, 0, 0]));
        wire.extend(encode(&mut enc, &long));
        let got = frames(&mut dec, &wire);
        assert_eq!(got, vec![Ok(vec![]), Ok(vec![0, 0, 0]), Ok(long)]);
        assert_eq!(dec.stats().frames, 3);
        assert_eq!(dec.stats().lost, 0);
    }

    #[test]
    fn resynchronises_after_garbage_and_counts() {
        let mut enc = FrameEncoder::new();
        let mut dec = FrameDecoder::<64>::new();
        let mut wire = vec![0x13, 0x37, 0xFF, 0x00, 0x42];
        wire.extend(encode(&mut enc, b"one"));
        let mut flipped = encode(&mut enc, b"two");
        flipped[3] ^= 0x10;
        wire.extend(flipped);
        wire.extend(encode(&mut enc, b"three"));
        let got = frames(&mut dec, &wire);
        assert_eq!(got.iter().filter(|r| r.is_ok()).count(), 2);
        assert_eq!(got.last(), Some(&Ok(b"three".to_vec())));
        let s = dec.stats();
        assert_eq!(s.frames, 2);
        assert_eq!(s.lost, 1, "the frame with the flipped bit is missing from the sequence");
        assert!(s.dropped() >= 2, "{s:?}");
    }

    #[test]
    fn oversized_frame_dropped_then_next_frame_decodes() {
        let mut enc = FrameEncoder::new();
        let mut dec = FrameDecoder::<16>::new();
        let mut wire = encode(&mut enc, &[7u8; 40]);
        wire.extend(encode(&mut enc, b"ok"));
        let got = frames(&mut dec, &wire);
        assert_eq!(got, vec![Err(FrameError::Oversized), Ok(b"ok".to_vec())]);
        assert_eq!(dec.stats().oversized, 1);
        assert_eq!(FrameDecoder::<16>::MAX_PAYLOAD, 11);
    }

    #[test]
    fn byte_by_byte_feeding_works() {
        let mut enc = FrameEncoder::new();
        let mut dec = FrameDecoder::<64>::new();
        let wire = encode(&mut enc, b"hello");
        let mut got = None;
        for b in &wire {
            if let (1, Some(DecodeEvent::Frame(f))) = dec.feed(core::slice::from_ref(b)) {
                got = Some(f.payload.to_vec());
            }
        }
        assert_eq!(got.as_deref(), Some(&b"hello"[..]));
    }

    #[test]
    fn short_and_broken_frames_are_counted() {
        let mut dec = FrameDecoder::<64>::new();
        // Code byte promises 5 data bytes, delimiter after 2: broken COBS.
        let got = frames(&mut dec, &[0x06, 1, 2, 0x00, 0x02, 9, 0x00]);
        assert_eq!(got, vec![Err(FrameError::Cobs), Err(FrameError::TooShort)]);
        let mut small = [0u8; 4];
        assert_eq!(FrameEncoder::new().encode(b"abc", &mut small), Err(FrameError::BufferTooSmall));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let mut dec = FrameDecoder::<128>::new();
            let _ = frames(&mut dec, &bytes);
        }

        #[test]
        fn payloads_round_trip(payload in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let mut enc = FrameEncoder::new();
            let mut dec = FrameDecoder::<305>::new();
            let got = frames(&mut dec, &encode(&mut enc, &payload));
            proptest::prop_assert_eq!(got, vec![Ok(payload)]);
        }
    }
}
