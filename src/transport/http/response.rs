//! Sans-I/O parser of an HTTP/1.1 response head (status line and headers).
//!
//! The client reads bytes into its buffer and calls [`parse_head`] until it answers
//! [`Parsed::Complete`]; a head that does not fit in the buffer is
//! [`HeadError::TooLarge`], reported by the caller that owns the buffer. Only the headers the
//! client acts on are kept; every other header is checked for shape and skipped.

#![deny(clippy::arithmetic_side_effects)]

/// Why a response head was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HeadError {
    /// The status line is not `HTTP/1.x NNN reason`.
    BadStatusLine,
    /// A header line has no colon, an empty or invalid name, or is a folded continuation.
    BadHeader,
    /// `Content-Length` is not a number, or two of them disagree.
    BadContentLength,
    /// `Transfer-Encoding` names a coding other than `chunked`.
    UnsupportedTransferEncoding,
    /// `Content-Range` is not `bytes first-last/total` with `first <= last < total`.
    BadContentRange,
    /// The head does not fit in the buffer.
    TooLarge,
}

impl core::fmt::Display for HeadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BadStatusLine => f.write_str("invalid status line"),
            Self::BadHeader => f.write_str("invalid header line"),
            Self::BadContentLength => f.write_str("invalid or conflicting Content-Length"),
            Self::UnsupportedTransferEncoding => f.write_str("unsupported transfer coding"),
            Self::BadContentRange => f.write_str("invalid Content-Range"),
            Self::TooLarge => f.write_str("response head too large"),
        }
    }
}

impl core::error::Error for HeadError {}

/// A checked `Content-Range: bytes first-last/total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ContentRange {
    /// Offset of the first byte sent.
    pub first: u64,
    /// Offset of the last byte sent (inclusive).
    pub last: u64,
    /// Size of the whole file, when the server knows it (`*` otherwise).
    pub total: Option<u64>,
}

impl ContentRange {
    /// Parses the header value.
    ///
    /// ```
    /// use ota_client::transport::http::ContentRange;
    /// let r = ContentRange::parse("bytes 100-199/1000").unwrap();
    /// assert_eq!((r.first, r.last, r.total, r.len()), (100, 199, Some(1000), 100));
    /// assert!(ContentRange::parse("bytes 200-100/1000").is_err());
    /// ```
    pub fn parse(value: &str) -> Result<Self, HeadError> {
        let rest = value.trim().strip_prefix("bytes ").ok_or(HeadError::BadContentRange)?;
        let (span, total) = rest.trim_start().split_once('/').ok_or(HeadError::BadContentRange)?;
        let (first, last) = span.split_once('-').ok_or(HeadError::BadContentRange)?;
        let first = parse_u64(first).ok_or(HeadError::BadContentRange)?;
        let last = parse_u64(last).ok_or(HeadError::BadContentRange)?;
        let total =
            if total == "*" { None } else { Some(parse_u64(total).ok_or(HeadError::BadContentRange)?) };
        if first > last || total.is_some_and(|t| last >= t) {
            return Err(HeadError::BadContentRange);
        }
        Ok(Self { first, last, total })
    }

    /// Number of bytes in the range.
    pub const fn len(&self) -> u64 {
        self.last.saturating_sub(self.first).saturating_add(1)
    }

    /// Never true: a valid range holds at least one byte.
    pub const fn is_empty(&self) -> bool {
        false
    }
}

/// What the client needs from a response head. Borrows from the parse buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseHead<'a> {
    /// Status code, `100..=999`.
    pub status: u16,
    /// `Content-Length`, when sent.
    pub content_length: Option<u64>,
    /// `Transfer-Encoding: chunked`. Overrides `Content-Length`.
    pub chunked: bool,
    /// `Content-Range`, checked.
    pub content_range: Option<ContentRange>,
    /// `Location`, for redirects.
    pub location: Option<&'a str>,
    /// The server closes the connection after this response (`Connection: close`, or
    /// HTTP/1.0 without `keep-alive`).
    pub close: bool,
}

impl ResponseHead<'_> {
    /// True for statuses that never carry a body (1xx, 204, 304).
    pub const fn has_no_body(&self) -> bool {
        self.status < 200 || self.status == 204 || self.status == 304
    }

    /// True for the redirect statuses the client follows (301, 302, 303, 307, 308).
    pub const fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308)
    }
}

/// Result of [`parse_head`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// More bytes are needed.
    Incomplete,
    /// The head, and how many bytes of the buffer it took (body bytes follow).
    Complete(ResponseHead<'a>, usize),
}

/// Parses a response head from the start of `buf`. Lines end in CRLF; a bare LF is accepted.
///
/// ```
/// use ota_client::transport::http::{parse_head, Parsed};
/// let raw = b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 10-19/20\r\nContent-Length: 10\r\n\r\nBODY";
/// let Ok(Parsed::Complete(head, used)) = parse_head(raw) else { panic!() };
/// assert_eq!((head.status, head.content_length, used), (206, Some(10), raw.len() - 4));
/// assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\n"), Ok(Parsed::Incomplete));
/// ```
pub fn parse_head(buf: &[u8]) -> Result<Parsed<'_>, HeadError> {
    let Some(end) = head_end(buf) else {
        // Fail early on a status line that can never become valid.
        if let Some(line_end) = buf.iter().position(|&b| b == b'\n') {
            parse_status_line(trim_cr(buf.get(..line_end).unwrap_or(&[])))?;
        } else {
            check_status_prefix(buf)?;
        }
        return Ok(Parsed::Incomplete);
    };
    let head_bytes = buf.get(..end).unwrap_or(&[]);
    let mut lines = head_bytes.split(|&b| b == b'\n').map(trim_cr);
    let (version_minor, status) = parse_status_line(lines.next().unwrap_or(&[]))?;
    let mut head = ResponseHead {
        status,
        content_length: None,
        chunked: false,
        content_range: None,
        location: None,
        close: version_minor == 0,
    };
    for line in lines {
        if line.is_empty() {
            break;
        }
        let (name, value) = split_header(line)?;
        apply_header(&mut head, name, value, version_minor)?;
    }
    if head.chunked {
        head.content_length = None;
    }
    Ok(Parsed::Complete(head, end))
}

/// Offset just after the blank line that ends the head, if present.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut line_start = 0usize;
    // `end` is the index just past byte `i`.
    for ((i, &b), end) in buf.iter().enumerate().zip(1usize..) {
        if b == b'\n' {
            let line = buf.get(line_start..i).unwrap_or(&[]);
            if line.is_empty() || line == b"\r" {
                return (line_start > 0).then_some(end);
            }
            line_start = end;
        }
    }
    None
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn check_status_prefix(buf: &[u8]) -> Result<(), HeadError> {
    const PREFIX: &[u8] = b"HTTP/1.";
    let n = buf.len().min(PREFIX.len());
    if buf.get(..n) == PREFIX.get(..n) { Ok(()) } else { Err(HeadError::BadStatusLine) }
}

/// `HTTP/1.x NNN reason` → (x, NNN).
fn parse_status_line(line: &[u8]) -> Result<(u8, u16), HeadError> {
    let rest = line.strip_prefix(b"HTTP/1.").ok_or(HeadError::BadStatusLine)?;
    let minor = match rest.first() {
        Some(b'0') => 0,
        Some(b'1') => 1,
        _ => return Err(HeadError::BadStatusLine),
    };
    let code = match rest.get(1..) {
        Some([b' ', a, b, c, tail @ ..]) if tail.is_empty() || tail.first() == Some(&b' ') => [*a, *b, *c],
        _ => return Err(HeadError::BadStatusLine),
    };
    if !code.iter().all(u8::is_ascii_digit) || code[0] == b'0' {
        return Err(HeadError::BadStatusLine);
    }
    let status =
        core::str::from_utf8(&code).ok().and_then(|c| c.parse().ok()).ok_or(HeadError::BadStatusLine)?;
    if line.iter().any(|&b| b < b' ' && b != b'\t') {
        return Err(HeadError::BadStatusLine);
    }
    Ok((minor, status))
}

fn split_header(line: &[u8]) -> Result<(&[u8], &[u8]), HeadError> {
    let colon = line.iter().position(|&b| b == b':').ok_or(HeadError::BadHeader)?;
    let name = line.get(..colon).unwrap_or(&[]);
    let value = line.get(colon..).and_then(|v| v.get(1..)).unwrap_or(&[]);
    let token = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    if name.is_empty() || !name.iter().all(token) {
        return Err(HeadError::BadHeader);
    }
    if value.iter().any(|&b| (b < b' ' && b != b'\t') || b == 0x7F) {
        return Err(HeadError::BadHeader);
    }
    Ok((name, value.trim_ascii()))
}

fn apply_header<'a>(
    head: &mut ResponseHead<'a>,
    name: &[u8],
    value: &'a [u8],
    version_minor: u8,
) -> Result<(), HeadError> {
    if name.eq_ignore_ascii_case(b"content-length") {
        let n = core::str::from_utf8(value).ok().and_then(parse_u64).ok_or(HeadError::BadContentLength)?;
        if head.content_length.is_some_and(|old| old != n) {
            return Err(HeadError::BadContentLength);
        }
        head.content_length = Some(n);
    } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
        for coding in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            if coding.eq_ignore_ascii_case(b"chunked") {
                head.chunked = true;
            } else if !coding.is_empty() && !coding.eq_ignore_ascii_case(b"identity") {
                return Err(HeadError::UnsupportedTransferEncoding);
            }
        }
    } else if name.eq_ignore_ascii_case(b"content-range") {
        let text = core::str::from_utf8(value).map_err(|_| HeadError::BadContentRange)?;
        // `bytes */total` comes with 416 and says nothing about a body: keep only real ranges.
        if !text.trim_start().starts_with("bytes */") {
            head.content_range = Some(ContentRange::parse(text)?);
        }
    } else if name.eq_ignore_ascii_case(b"location") {
        head.location = core::str::from_utf8(value).ok().filter(|s| !s.is_empty());
    } else if name.eq_ignore_ascii_case(b"connection") {
        for option in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            if option.eq_ignore_ascii_case(b"close") {
                head.close = true;
            } else if option.eq_ignore_ascii_case(b"keep-alive") && version_minor == 0 {
                head.close = false;
            }
        }
    }
    Ok(())
}

/// Parses a decimal without sign or spaces, at most 19 digits (no overflow).
fn parse_u64(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &[u8]) -> ResponseHead<'_> {
        match parse_head(raw) {
            Ok(Parsed::Complete(h, _)) => h,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_known_headers() {
        let h = head(
            b"HTTP/1.1 206 Partial\r\ncontent-length: 10\r\nCONTENT-RANGE: bytes 5-14/15\r\n\
              X-Other: \xff\xfe\r\nConnection: keep-alive\r\n\r\n",
        );
        assert_eq!(h.status, 206);
        assert_eq!(h.content_length, Some(10));
        assert_eq!(h.content_range, Some(ContentRange { first: 5, last: 14, total: Some(15) }));
        assert!(!h.close);
        let h = head(b"HTTP/1.1 302 Found\nLocation:  /version/2 \nConnection: close\n\n");
        assert_eq!((h.status, h.location, h.close, h.is_redirect()), (302, Some("/version/2"), true, true));
        let h = head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n");
        assert!(h.chunked);
        assert_eq!(h.content_length, None);
        let h = head(b"HTTP/1.0 200\r\n\r\n");
        assert!(h.close);
        let h = head(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n");
        assert!(!h.close);
        let h = head(b"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */100\r\n\r\n");
        assert_eq!(h.content_range, None);
        assert!(head(b"HTTP/1.1 204 No Content\r\n\r\n").has_no_body());
    }

    #[test]
    fn reports_used_length() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
        assert_eq!(parse_head(raw), Ok(Parsed::Complete(head(raw), raw.len() - 3)));
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le"), Ok(Parsed::Incomplete));
        assert_eq!(parse_head(b""), Ok(Parsed::Incomplete));
        assert_eq!(parse_head(b"HTT"), Ok(Parsed::Incomplete));
    }

    #[test]
    fn refuses_malformed_status_lines() {
        for raw in [
            &b"HTTP/2 200 OK\r\n\r\n"[..],
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"HTTP/1.1 099 Low\r\n\r\n",
            b"HTTP/1.1  200 OK\r\n\r\n",
            b"HTTP/1.1\r\n\r\n",
            b"ICY 200 OK\r\n\r\n",
            b"<html>hello</html>",
            b"\r\n\r\n",
            b"HTTP/1.1 200 O\x01K\r\n\r\n",
        ] {
            assert_eq!(parse_head(raw), Err(HeadError::BadStatusLine), "{:?}", String::from_utf8_lossy(raw));
        }
        // Detected before the head is complete.
        assert_eq!(parse_head(b"SSH-2.0-OpenSSH"), Err(HeadError::BadStatusLine));
        assert_eq!(parse_head(b"HTTP/1.1 xyz\r\nMore"), Err(HeadError::BadStatusLine));
    }

    #[test]
    fn refuses_malformed_headers() {
        let bad = |raw: &[u8]| parse_head(raw).map(|_| ()).unwrap_err();
        assert_eq!(bad(b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n"), HeadError::BadHeader);
        assert_eq!(bad(b"HTTP/1.1 200 OK\r\n: empty\r\n\r\n"), HeadError::BadHeader);
        assert_eq!(bad(b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n"), HeadError::BadHeader);
        assert_eq!(bad(b"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n"), HeadError::BadHeader);
        assert_eq!(bad(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), HeadError::BadContentLength);
        assert_eq!(bad(b"HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n"), HeadError::BadContentLength);
        assert_eq!(
            bad(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"),
            HeadError::BadContentLength
        );
        assert_eq!(
            bad(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            HeadError::BadContentLength
        );
        assert_eq!(
            bad(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            HeadError::UnsupportedTransferEncoding
        );
        for range in
            ["bytes 5-4/10", "bytes 0-10/10", "bytes=0-1/10", "bytes 0-/10", "bytes a-b/c", "bytes 1-2"]
        {
            let raw = format!("HTTP/1.1 206 P\r\nContent-Range: {range}\r\n\r\n");
            assert_eq!(bad(raw.as_bytes()), HeadError::BadContentRange, "{range}");
        }
        assert_eq!(ContentRange::parse("bytes 0-9/*").unwrap().total, None);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse_head(&raw);
        }

        #[test]
        fn arbitrary_headers_never_panic(lines in proptest::collection::vec("[ -~\t]{0,40}", 0..8)) {
            let raw = format!("HTTP/1.1 200 OK\r\n{}\r\n\r\n", lines.join("\r\n"));
            if let Ok(Parsed::Complete(h, used)) = parse_head(raw.as_bytes()) {
                proptest::prop_assert!(used <= raw.len());
                proptest::prop_assert_eq!(h.status, 200);
            }
        }
    }
}
