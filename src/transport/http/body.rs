//! Sans-I/O body decoders: a fixed `Content-Length`, `Transfer-Encoding: chunked`, or
//! everything until the server closes.
//!
//! [`BodyDecoder::decode`] takes raw bytes as they came off the connection and copies the
//! body bytes they hold into the caller's buffer; [`BodyDecoder::on_eof`] tells a clean end
//! from a cut one.

#![deny(clippy::arithmetic_side_effects)]

/// Why a body could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum BodyError {
    /// The connection closed before the body was complete: fewer bytes than
    /// `Content-Length` promised, or a chunked body without its last chunk.
    Truncated,
    /// A chunk-size line is not hex, overflows, or is longer than [`MAX_CHUNK_LINE`].
    BadChunkSize,
    /// Chunk data is not followed by CRLF.
    BadChunkEnd,
    /// A trailer line is longer than [`MAX_CHUNK_LINE`].
    BadTrailer,
    /// The server sent bytes after the end of the body (a `Content-Length` smaller than the
    /// body).
    TrailingData,
}

impl core::fmt::Display for BodyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Truncated => f.write_str("body cut short"),
            Self::BadChunkSize => f.write_str("invalid chunk size line"),
            Self::BadChunkEnd => f.write_str("chunk data not followed by CRLF"),
            Self::BadTrailer => f.write_str("trailer line too long"),
            Self::TrailingData => f.write_str("bytes after the end of the body"),
        }
    }
}

impl core::error::Error for BodyError {}

/// Longest chunk-size line (size plus extensions) or trailer line accepted.
pub const MAX_CHUNK_LINE: usize = 256;

/// How the end of a body is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BodyKind {
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer encoding.
    Chunked,
    /// Until the server closes the connection.
    UntilClose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Length {
        left: u64,
    },
    UntilClose,
    /// Reading hex digits of a chunk size; `ext` once past them (extension or spaces).
    Size {
        size: u64,
        digits: u8,
        ext: bool,
        line: u16,
    },
    SizeLf {
        size: u64,
    },
    Data {
        left: u64,
    },
    DataCr,
    DataLf,
    /// Trailer section after the last chunk; `line` counts bytes of the current line.
    Trailer {
        line: u16,
    },
    TrailerLf {
        line: u16,
    },
    Done,
}

/// Decodes one response body.
///
/// ```
/// use ota_client::transport::http::{BodyDecoder, BodyKind};
/// let mut body = BodyDecoder::new(BodyKind::Chunked);
/// let mut out = [0u8; 16];
/// let (used, n) = body.decode(b"5\r\nhello\r\n0\r\n\r\n", &mut out).unwrap();
/// assert_eq!((&out[..n], used, body.is_done()), (&b"hello"[..], 15, true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyDecoder {
    state: State,
}

impl BodyDecoder {
    /// A decoder for a body of the given kind.
    pub const fn new(kind: BodyKind) -> Self {
        let state = match kind {
            BodyKind::Length(0) => State::Done,
            BodyKind::Length(left) => State::Length { left },
            BodyKind::Chunked => State::Size { size: 0, digits: 0, ext: false, line: 0 },
            BodyKind::UntilClose => State::UntilClose,
        };
        Self { state }
    }

    /// True once the whole body has been decoded.
    pub const fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Body bytes still expected, when the framing says (a fixed length, or the rest of the
    /// current chunk).
    pub const fn remaining_hint(&self) -> Option<u64> {
        match self.state {
            State::Length { left } | State::Data { left } => Some(left),
            _ => None,
        }
    }

    /// Accounts for `n` body bytes the caller read from the connection straight into its own
    /// buffer, at most [`remaining_hint`](Self::remaining_hint) of them (more are clamped).
    pub fn consume_direct(&mut self, n: usize) {
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        self.state = match self.state {
            State::Length { left } => match left.checked_sub(n) {
                Some(0) | None => State::Done,
                Some(left) => State::Length { left },
            },
            State::Data { left } => match left.checked_sub(n) {
                Some(0) | None => State::DataCr,
                Some(left) => State::Data { left },
            },
            other => other,
        };
    }

    /// Decodes from `input` into `out`: returns `(consumed, produced)`. Stops when `out` is
    /// full, `input` is used up, or the body ends; bytes of `input` past the end are not
    /// consumed.
    pub fn decode(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), BodyError> {
        let mut used = 0usize;
        let mut made = 0usize;
        while used < input.len() && !self.is_done() {
            let rest = input.get(used..).unwrap_or(&[]);
            match self.state {
                State::Length { left } | State::Data { left } => {
                    let room = out.len().saturating_sub(made);
                    let n = clamp(left, rest.len().min(room));
                    if n == 0 {
                        break;
                    }
                    copy(rest, out, made, n);
                    // `n` is at most what is left of the input, of `out` and of `left`.
                    used = used.saturating_add(n);
                    made = made.saturating_add(n);
                    let left = left.saturating_sub(n as u64);
                    self.state = match self.state {
                        State::Length { .. } if left == 0 => State::Done,
                        State::Length { .. } => State::Length { left },
                        _ if left == 0 => State::DataCr,
                        _ => State::Data { left },
                    };
                }
                State::UntilClose => {
                    let n = rest.len().min(out.len().saturating_sub(made));
                    if n == 0 {
                        break;
                    }
                    copy(rest, out, made, n);
                    // `n` is at most what is left of the input and of `out`.
                    used = used.saturating_add(n);
                    made = made.saturating_add(n);
                }
                _ => {
                    let byte = rest.first().copied().unwrap_or(0);
                    self.framing_byte(byte)?;
                    // `used < input.len()` (the loop condition).
                    used = used.saturating_add(1);
                }
            }
        }
        Ok((used, made))
    }

    /// Tells the decoder that the connection closed. A body cut short is
    /// [`BodyError::Truncated`]; a body read until close ends here.
    pub fn on_eof(&mut self) -> Result<(), BodyError> {
        match self.state {
            State::Done => Ok(()),
            State::UntilClose => {
                self.state = State::Done;
                Ok(())
            }
            _ => Err(BodyError::Truncated),
        }
    }

    /// One byte of chunk framing (size line, CRLF after data, trailers).
    fn framing_byte(&mut self, b: u8) -> Result<(), BodyError> {
        self.state = match self.state {
            State::Size { size, digits, ext, line } => {
                let line = line.saturating_add(1);
                if usize::from(line) > MAX_CHUNK_LINE {
                    return Err(BodyError::BadChunkSize);
                }
                match (b, hex(b)) {
                    (_, Some(d)) if !ext => {
                        if digits >= 15 {
                            return Err(BodyError::BadChunkSize);
                        }
                        // Below 15 digits: checked just above.
                        let digits = digits.saturating_add(1);
                        State::Size { size: size << 4 | u64::from(d), digits, ext, line }
                    }
                    (b'\r', _) if digits > 0 => State::SizeLf { size },
                    (b'\n', _) if digits > 0 => Self::after_size(size),
                    (b';' | b' ' | b'\t', _) if digits > 0 => State::Size { size, digits, ext: true, line },
                    (c, _) if ext && c >= b' ' && c != 0x7F => State::Size { size, digits, ext, line },
                    _ => return Err(BodyError::BadChunkSize),
                }
            }
            State::SizeLf { size } if b == b'\n' => Self::after_size(size),
            State::SizeLf { .. } => return Err(BodyError::BadChunkSize),
            State::DataCr if b == b'\r' => State::DataLf,
            State::DataCr | State::DataLf if b == b'\n' => {
                State::Size { size: 0, digits: 0, ext: false, line: 0 }
            }
            State::DataCr | State::DataLf => return Err(BodyError::BadChunkEnd),
            State::Trailer { line } => match b {
                b'\r' => State::TrailerLf { line },
                b'\n' if line == 0 => State::Done,
                b'\n' => State::Trailer { line: 0 },
                _ if usize::from(line) >= MAX_CHUNK_LINE => return Err(BodyError::BadTrailer),
                // Below `MAX_CHUNK_LINE`: checked in the arm above.
                _ => State::Trailer { line: line.saturating_add(1) },
            },
            State::TrailerLf { line: 0 } if b == b'\n' => State::Done,
            State::TrailerLf { .. } if b == b'\n' => State::Trailer { line: 0 },
            State::TrailerLf { .. } => return Err(BodyError::BadTrailer),
            other => other,
        };
        Ok(())
    }

    fn after_size(size: u64) -> State {
        if size == 0 { State::Trailer { line: 0 } } else { State::Data { left: size } }
    }
}

fn hex(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// `min(left, avail)` as a usize.
fn clamp(left: u64, avail: usize) -> usize {
    usize::try_from(left).map_or(avail, |l| l.min(avail))
}

fn copy(src: &[u8], out: &mut [u8], at: usize, n: usize) {
    if let (Some(dst), Some(src)) = (out.get_mut(at..at.saturating_add(n)), src.get(..n)) {
        dst.copy_from_slice(src);
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, reason = "test code: an overflow is a test failure")]
mod tests {
    use super::*;

    /// Feeds `raw` in pieces of `step` bytes into an output of `out_len` bytes at a time.
    fn run(
        kind: BodyKind,
        raw: &[u8],
        step: usize,
        out_len: usize,
    ) -> (Vec<u8>, Result<(), BodyError>, usize) {
        let mut d = BodyDecoder::new(kind);
        let mut body = Vec::new();
        let mut pos = 0;
        while pos < raw.len() && !d.is_done() {
            let end = (pos + step).min(raw.len());
            let mut out = vec![0u8; out_len];
            match d.decode(&raw[pos..end], &mut out) {
                Ok((used, made)) => {
                    body.extend_from_slice(&out[..made]);
                    pos += used;
                }
                Err(e) => return (body, Err(e), pos),
            }
        }
        let end = if d.is_done() { Ok(()) } else { d.on_eof() };
        (body, end, pos)
    }

    #[test]
    fn length_body_in_any_pieces() {
        for step in [1, 3, 100] {
            for out in [1, 4, 100] {
                let (body, end, used) = run(BodyKind::Length(5), b"helloEXTRA", step, out);
                assert_eq!((&body[..], end, used), (&b"hello"[..], Ok(()), 5));
            }
        }
        assert!(BodyDecoder::new(BodyKind::Length(0)).is_done());
    }

    #[test]
    fn lying_content_length_is_truncated() {
        let (body, end, _) = run(BodyKind::Length(10), b"short", 2, 3);
        assert_eq!((&body[..], end), (&b"short"[..], Err(BodyError::Truncated)));
    }

    #[test]
    fn chunked_in_any_pieces() {
        let raw = b"4;name=value\r\nWiki\r\n5 \r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        for step in [1, 2, 7, 1000] {
            for out in [1, 5, 1000] {
                let (body, end, used) = run(BodyKind::Chunked, raw, step, out);
                assert_eq!(String::from_utf8(body).unwrap(), "Wikipedia in\r\n\r\nchunks.");
                assert_eq!((end, used), (Ok(()), raw.len() - 4));
            }
        }
        let (body, end, _) = run(BodyKind::Chunked, b"3\nabc\n0\n\n", 1, 10);
        assert_eq!((&body[..], end), (&b"abc"[..], Ok(())));
    }

    #[test]
    fn chunked_malformed() {
        let err = |raw: &[u8]| run(BodyKind::Chunked, raw, 4, 8).1;
        assert_eq!(err(b"3\r\nabc\r\n"), Err(BodyError::Truncated));
        assert_eq!(err(b"3\r\nab"), Err(BodyError::Truncated));
        assert_eq!(err(b"10\r\nabc"), Err(BodyError::Truncated));
        assert_eq!(err(b"3\r\nabc\r\n0\r\n"), Err(BodyError::Truncated));
        assert_eq!(err(b"zz\r\n"), Err(BodyError::BadChunkSize));
        assert_eq!(err(b"\r\n"), Err(BodyError::BadChunkSize));
        assert_eq!(err(b"-1\r\n"), Err(BodyError::BadChunkSize));
        assert_eq!(err(b"1234567890abcdef0\r\n"), Err(BodyError::BadChunkSize));
        assert_eq!(err(b"3\rxabc"), Err(BodyError::BadChunkSize));
        assert_eq!(err(b"3\r\nabcd\r\n"), Err(BodyError::BadChunkEnd));
        assert_eq!(err(b"3\r\nabc\rx"), Err(BodyError::BadChunkEnd));
        let long_ext = format!("1;{}\r\na\r\n0\r\n\r\n", "x".repeat(MAX_CHUNK_LINE));
        assert_eq!(err(long_ext.as_bytes()), Err(BodyError::BadChunkSize));
        let long_trailer = format!("0\r\n{}\r\n\r\n", "x".repeat(MAX_CHUNK_LINE + 1));
        assert_eq!(err(long_trailer.as_bytes()), Err(BodyError::BadTrailer));
    }

    #[test]
    fn until_close() {
        let (body, end, _) = run(BodyKind::UntilClose, b"all of it", 4, 3);
        assert_eq!((&body[..], end), (&b"all of it"[..], Ok(())));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            raw in proptest::collection::vec(proptest::num::u8::ANY, 0..400),
            step in 1usize..50,
            out in 0usize..50,
            len in 0u64..500,
        ) {
            for kind in [BodyKind::Chunked, BodyKind::Length(len), BodyKind::UntilClose] {
                let mut d = BodyDecoder::new(kind);
                let mut pos = 0;
                let mut buf = vec![0u8; out];
                let mut stalls = 0;
                while pos < raw.len() && !d.is_done() && stalls < 3 {
                    let end = (pos + step).min(raw.len());
                    match d.decode(&raw[pos..end], &mut buf) {
                        Ok((used, made)) => {
                            proptest::prop_assert!(used <= end - pos && made <= out);
                            stalls = if used == 0 { stalls + 1 } else { 0 };
                            pos += used;
                        }
                        Err(_) => break,
                    }
                }
                let _ = d.on_eof();
            }
        }

        #[test]
        fn chunked_round_trip(chunks in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 1..40), 0..6)) {
            let mut raw = Vec::new();
            for c in &chunks {
                raw.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                raw.extend_from_slice(c);
                raw.extend_from_slice(b"\r\n");
            }
            raw.extend_from_slice(b"0\r\n\r\n");
            let (body, end, used) = run(BodyKind::Chunked, &raw, 3, 7);
            proptest::prop_assert_eq!(body, chunks.concat());
            proptest::prop_assert_eq!(end, Ok(()));
            proptest::prop_assert_eq!(used, raw.len());
        }
    }
}
