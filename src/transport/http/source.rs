//! [`HttpSource`]: a [`ChunkSource`] that downloads one URL with resumable `Range` requests.

#![deny(clippy::arithmetic_side_effects)]

use super::{HttpError, HttpTransport, status_error};
use crate::transport::{ChunkSource, SourceError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    /// No answer open.
    Closed,
    /// An answer is open and its next body byte is file byte `pos`; `end` is one past the
    /// last byte the answer carries, when known.
    Open { pos: u64, end: Option<u64> },
    /// The server ignored `Range` and sends the file from 0: bytes up to `target` are
    /// dropped.
    Skipping { pos: u64, target: u64, end: Option<u64> },
}

/// Downloads the file at one URL as a [`ChunkSource`], over any [`HttpTransport`].
///
/// - The first fetch at offset 0 sends a plain `GET`; a fetch at `offset > 0` sends
///   `Range: bytes=<offset>-`. A `206` answer must carry a `Content-Range` starting exactly
///   at `offset` (and a `Content-Length` equal to its length), else the fetch fails with
///   [`SourceError::Protocol`].
/// - Consecutive fetches read on from the open answer; a fetch at another offset abandons it
///   and opens a new one.
/// - **A `200` answer to a ranged request** (a server that ignores `Range`) carries the file
///   from byte 0. Its bytes before `offset` are **read and discarded**, never handed out:
///   reopening would only bring the same answer again, so reading past them is the one way
///   to make progress. While discarding, `fetch` uses the caller's buffer as scratch and
///   answers `WouldBlock` after each read, so the caller keeps polling and never blocks for
///   the whole prefix.
/// - Status mapping: 404/410 [`NotFound`](SourceError::NotFound), 401/403
///   [`Unauthorized`](SourceError::Unauthorized), 5xx [`Server`](SourceError::Server), other
///   non-2xx [`Protocol`](SourceError::Protocol); a dropped connection or a body cut short
///   [`ConnectionLost`](SourceError::ConnectionLost); a connection time limit
///   [`Timeout`](SourceError::Timeout). After any error the connection is dropped.
///
/// ```no_run
/// # #[cfg(feature = "std")] {
/// use ota_client::transport::{ChunkSource, http::{HttpClient, HttpSource, TcpConnector}};
/// let mut client: HttpClient<_, 1024> = HttpClient::new(TcpConnector::default());
/// let mut source = HttpSource::new(&mut client, "http://127.0.0.1:5055/version/1", None);
/// let mut buf = [0u8; 512];
/// let n = nb::block!(source.fetch(0, &mut buf)).unwrap();
/// # let _ = n; }
/// ```
///
/// `U` holds the URL and `B` the bearer token: `&str` for a source fixed for its life,
/// `heapless::String` for one that follows offers ([`ChunkSource::locate`]), `&'static str`
/// (always `""`) for a token that is never sent.
pub struct HttpSource<T: HttpTransport, U: UrlBuf = &'static str, B: UrlBuf = U> {
    transport: T,
    url: U,
    /// The `Authorization: Bearer` token; empty for none.
    bearer: B,
    stream: Stream,
    total: Option<u64>,
    last_status: Option<u16>,
}

/// Where an [`HttpSource`] keeps its URL and token: a borrowed `&str`, fixed for the
/// source's life, or a `heapless::String`, which [`ChunkSource::locate`] points at each
/// offer's location (the platform drivers own such a source).
pub trait UrlBuf: AsRef<str> {
    /// Makes the text `s`; false when it cannot (longer than the capacity, or a borrowed
    /// text that is not `s`), and then the text is unchanged.
    fn set(&mut self, s: &str) -> bool;
}

impl UrlBuf for &str {
    fn set(&mut self, s: &str) -> bool {
        *self == s
    }
}

impl<const N: usize> UrlBuf for heapless::String<N> {
    fn set(&mut self, s: &str) -> bool {
        if s.len() > N {
            return false;
        }
        self.clear();
        self.push_str(s).is_ok()
    }
}

impl<'a, T: HttpTransport> HttpSource<T, &'a str> {
    /// A source for the file at `url` (absolute), sending `Authorization: Bearer <token>`
    /// when `bearer` is given.
    pub fn new(transport: T, url: &'a str, bearer: Option<&'a str>) -> Self {
        Self::with_url(transport, url, bearer.unwrap_or(""))
    }
}

impl<T: HttpTransport, const N: usize> HttpSource<T, heapless::String<N>> {
    /// A source that follows offers: no URL yet, each offer's location and token (up to `N`
    /// bytes each) set with [`ChunkSource::locate`]. The platform drivers own one.
    pub fn for_offers(transport: T) -> Self {
        Self::with_url(transport, heapless::String::new(), heapless::String::new())
    }
}

impl<T: HttpTransport, U: UrlBuf, B: UrlBuf> HttpSource<T, U, B> {
    /// A source that keeps its URL and its bearer token (empty for none) in `U` (for
    /// instance a `heapless::String`), so that it can live in a struct and follow offers
    /// ([`ChunkSource::locate`]).
    pub fn with_url(transport: T, url: U, bearer: B) -> Self {
        Self { transport, url, bearer, stream: Stream::Closed, total: None, last_status: None }
    }

    /// Points the source at another file: drops the open answer and forgets the size.
    pub fn set_url(&mut self, url: U) {
        self.transport.close();
        self.url = url;
        self.stream = Stream::Closed;
        self.total = None;
        self.last_status = None;
    }

    /// The URL the source downloads.
    pub fn url(&self) -> &str {
        self.url.as_ref()
    }

    /// Size of the whole file, once an answer told it (`Content-Range` total, or the
    /// `Content-Length` of a `200`).
    pub const fn total_size(&self) -> Option<u64> {
        self.total
    }

    /// Status of the last answer opened, for diagnostics.
    pub const fn last_status(&self) -> Option<u16> {
        self.last_status
    }

    /// The transport, e.g. to reuse its connection for a report.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Gives the transport back.
    pub fn into_inner(self) -> T {
        self.transport
    }

    fn fail(&mut self, e: SourceError) -> nb::Error<SourceError> {
        self.transport.close();
        self.stream = Stream::Closed;
        nb::Error::Other(e)
    }

    fn http_fail(&mut self, e: HttpError) -> nb::Error<SourceError> {
        self.fail(e.source_error())
    }

    /// Opens an answer for the file from `offset`.
    fn open(&mut self, offset: u64) -> Result<(), nb::Error<SourceError>> {
        self.stream = Stream::Closed;
        let bearer = Some(self.bearer.as_ref()).filter(|b| !b.is_empty());
        let response = match self.transport.get_range(self.url.as_ref(), offset, bearer) {
            Ok(r) => r,
            Err(e) => return Err(self.http_fail(e)),
        };
        self.last_status = Some(response.status);
        if let Some(e) = status_error(response.status) {
            return Err(self.fail(e));
        }
        if response.status == 206 {
            let Some(range) = response.content_range else { return Err(self.fail(SourceError::Protocol)) };
            let length_ok = response.content_length.is_none_or(|n| n == range.len());
            if range.first != offset || !length_ok {
                return Err(self.fail(SourceError::Protocol));
            }
            self.total = range.total.or(self.total);
            self.stream = Stream::Open { pos: offset, end: range.last.checked_add(1) };
            return Ok(());
        }
        // 200: the whole file from byte 0.
        if let Some(n) = response.content_length {
            self.total = Some(n);
            if n <= offset {
                return Err(self.fail(SourceError::Protocol));
            }
        }
        let end = response.content_length;
        self.stream = if offset == 0 {
            Stream::Open { pos: 0, end }
        } else {
            Stream::Skipping { pos: 0, target: offset, end }
        };
        Ok(())
    }

    fn read_open(&mut self, pos: u64, end: Option<u64>, buf: &mut [u8]) -> nb::Result<usize, SourceError> {
        let n = match self.transport.read_body(buf) {
            Ok(n) => n,
            Err(e) => return Err(self.http_fail(e)),
        };
        if n == 0 {
            // The answer ended at `pos`: a partial range ends where it said and the file goes
            // on, so reopen; otherwise there is nothing at this offset.
            self.stream = Stream::Closed;
            let more = end == Some(pos) && self.total.is_some_and(|t| pos < t);
            return Err(if more { nb::Error::WouldBlock } else { self.fail(SourceError::Protocol) });
        }
        let pos = pos.saturating_add(n as u64);
        if end.is_some_and(|e| pos > e) {
            return Err(self.fail(SourceError::Protocol));
        }
        self.stream = Stream::Open { pos, end };
        Ok(n)
    }

    fn skip(
        &mut self,
        pos: u64,
        target: u64,
        end: Option<u64>,
        buf: &mut [u8],
    ) -> nb::Result<usize, SourceError> {
        let want = usize::try_from(target.saturating_sub(pos)).map_or(buf.len(), |w| w.min(buf.len()));
        let scratch = buf.get_mut(..want).unwrap_or(&mut []);
        let n = match self.transport.read_body(scratch) {
            Ok(0) => return Err(self.fail(SourceError::Protocol)),
            Ok(n) => n,
            Err(e) => return Err(self.http_fail(e)),
        };
        let pos = pos.saturating_add(n as u64);
        self.stream =
            if pos >= target { Stream::Open { pos, end } } else { Stream::Skipping { pos, target, end } };
        Err(nb::Error::WouldBlock)
    }
}

impl<T: HttpTransport, U: UrlBuf, B: UrlBuf> ChunkSource for HttpSource<T, U, B> {
    fn fetch(&mut self, offset: u32, buf: &mut [u8]) -> nb::Result<usize, SourceError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let offset = u64::from(offset);
        match self.stream {
            Stream::Open { pos, end } if pos == offset => self.read_open(pos, end, buf),
            Stream::Skipping { pos, target, end } if target == offset => self.skip(pos, target, end, buf),
            _ => {
                self.open(offset)?;
                match self.stream {
                    Stream::Open { pos, end } => self.read_open(pos, end, buf),
                    Stream::Skipping { pos, target, end } => self.skip(pos, target, end, buf),
                    Stream::Closed => Err(self.fail(SourceError::Protocol)),
                }
            }
        }
    }

    fn reset(&mut self) {
        self.transport.close();
        self.stream = Stream::Closed;
    }

    /// Keeps the open answer when `location` and `token` are the ones it downloads; else
    /// points the source at them (the next fetch opens a new answer, the size is forgotten).
    /// [`SourceError::InvalidLocation`] when they do not fit `U` (too long, or a borrowed URL
    /// that differs): the engine fails the update with it.
    fn locate(&mut self, location: &str, token: &str) -> Result<(), SourceError> {
        if self.url.as_ref() == location && self.bearer.as_ref() == token {
            return Ok(());
        }
        self.transport.close();
        self.stream = Stream::Closed;
        self.total = None;
        self.last_status = None;
        if self.url.set(location) && self.bearer.set(token) {
            Ok(())
        } else {
            Err(SourceError::InvalidLocation)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use crate::transport::http::{ContentRange, Response};

    /// Plays back answers (head + body) and records the offsets asked for.
    #[derive(Default)]
    struct Fake {
        answers: VecDeque<(Response, Vec<u8>)>,
        body: VecDeque<u8>,
        asked: Vec<u64>,
        /// The URL and bearer token of every request.
        to: Vec<(String, Option<String>)>,
    }

    impl Fake {
        fn answer(
            mut self,
            status: u16,
            range: Option<(u64, u64, u64)>,
            len: Option<u64>,
            body: Vec<u8>,
        ) -> Self {
            let content_range =
                range.map(|(first, last, total)| ContentRange { first, last, total: Some(total) });
            self.answers.push_back((Response { status, content_length: len, content_range }, body));
            self
        }
    }

    impl HttpTransport for Fake {
        fn get_range(&mut self, url: &str, offset: u64, bearer: Option<&str>) -> Result<Response, HttpError> {
            self.asked.push(offset);
            self.to.push((url.to_string(), bearer.map(str::to_string)));
            let (head, body) = self.answers.pop_front().ok_or(HttpError::Closed)?;
            self.body = body.into();
            Ok(head)
        }
        fn read_body(&mut self, out: &mut [u8]) -> Result<usize, HttpError> {
            let n = out.len().min(self.body.len());
            for o in &mut out[..n] {
                *o = self.body.pop_front().unwrap();
            }
            Ok(n)
        }
        fn post_json(&mut self, _: &str, _: &[u8], _: &mut [u8]) -> Result<(u16, usize), HttpError> {
            Err(HttpError::Closed)
        }
        fn close(&mut self) {
            self.body.clear();
        }
    }

    fn file() -> Vec<u8> {
        (0..=255u8).cycle().take(300).collect()
    }

    fn fetch(s: &mut HttpSource<Fake>, offset: u32, len: usize) -> nb::Result<Vec<u8>, SourceError> {
        let mut buf = vec![0u8; len];
        s.fetch(offset, &mut buf).map(|n| buf[..n].to_vec())
    }

    #[test]
    fn locate_keeps_the_open_answer_for_the_same_offer_and_reopens_for_another() {
        let f = file();
        let fake = Fake::default().answer(200, None, Some(300), f.clone()).answer(
            206,
            Some((100, 299, 300)),
            Some(200),
            f[100..].to_vec(),
        );
        let mut s: HttpSource<Fake, heapless::String<16>> = HttpSource::for_offers(fake);
        let mut buf = [0u8; 100];
        assert_eq!(s.locate("http://h/a", ""), Ok(()));
        assert_eq!(s.fetch(0, &mut buf), Ok(100));
        // The same offer again (every poll): the open answer reads on, no new request.
        assert_eq!(s.locate("http://h/a", ""), Ok(()));
        assert_eq!(s.fetch(100, &mut buf), Ok(100));
        assert_eq!(s.total_size(), Some(300));
        // Another location with a token: a new request, with the token, the size forgotten.
        assert_eq!(s.locate("http://h/b", "tok"), Ok(()));
        assert_eq!((s.url(), s.total_size()), ("http://h/b", None));
        assert_eq!(s.fetch(100, &mut buf), Ok(100));
        // Longer than the URL buffer: refused, and the source still points where it did.
        assert_eq!(s.locate("http://h/a-much-longer-url", ""), Err(SourceError::InvalidLocation));
        assert_eq!(s.url(), "http://h/b");
        let fake = s.into_inner();
        assert_eq!(fake.asked, [0, 100]);
        assert_eq!(
            fake.to,
            [("http://h/a".to_string(), None), ("http://h/b".to_string(), Some("tok".to_string()))]
        );
    }

    #[test]
    fn a_borrowed_url_accepts_only_itself() {
        let mut s = HttpSource::new(Fake::default(), "http://h/f", Some("t"));
        assert_eq!(s.locate("http://h/f", "t"), Ok(()));
        assert_eq!(s.locate("http://h/g", "t"), Err(SourceError::InvalidLocation));
        assert_eq!(s.locate("http://h/f", "other"), Err(SourceError::InvalidLocation));
    }

    #[test]
    fn bad_partial_answers_are_protocol_errors() {
        let f = file();
        let fake = Fake::default()
            .answer(206, Some((99, 299, 300)), Some(201), f[99..].to_vec())
            .answer(206, None, Some(200), f[100..].to_vec())
            .answer(206, Some((100, 299, 300)), Some(150), f[100..].to_vec())
            .answer(200, None, Some(100), f[..100].to_vec());
        let mut s = HttpSource::new(fake, "http://h/f", None);
        for _ in 0..4 {
            assert_eq!(fetch(&mut s, 100, 10), Err(nb::Error::Other(SourceError::Protocol)));
        }
        assert_eq!(s.into_inner().asked, [100, 100, 100, 100]);
    }

    #[test]
    fn a_200_to_a_ranged_request_is_skipped_to_the_offset() {
        let f = file();
        let fake = Fake::default().answer(200, None, Some(300), f.clone());
        let mut s = HttpSource::new(fake, "http://h/f", None);
        let mut blocks = 0;
        let first = loop {
            match fetch(&mut s, 250, 64) {
                Ok(bytes) => break bytes,
                Err(nb::Error::WouldBlock) => blocks += 1,
                Err(e) => panic!("{e:?}"),
            }
        };
        assert_eq!(blocks, 4, "250 bytes dropped 64 at a time");
        assert_eq!(first, f[250..300]);
        assert_eq!(s.total_size(), Some(300));
        assert_eq!(
            fetch(&mut s, 300, 8),
            Err(nb::Error::Other(SourceError::Protocol)),
            "nothing past the end"
        );
    }

    #[test]
    fn a_short_range_is_continued_with_a_new_request() {
        let f = file();
        let fake = Fake::default().answer(206, Some((0, 99, 300)), Some(100), f[..100].to_vec()).answer(
            206,
            Some((100, 299, 300)),
            None,
            f[100..].to_vec(),
        );
        let mut s = HttpSource::new(fake, "http://h/f", None);
        assert_eq!(fetch(&mut s, 0, 100).unwrap(), f[..100]);
        assert_eq!(fetch(&mut s, 100, 100), Err(nb::Error::WouldBlock));
        assert_eq!(fetch(&mut s, 100, 500).unwrap(), f[100..]);
        assert_eq!(fetch(&mut s, 0, 0).unwrap(), b"");
        assert_eq!(s.into_inner().asked, [0, 100]);
    }

    #[test]
    fn a_fetch_elsewhere_reopens_and_errors_close() {
        let f = file();
        let fake = Fake::default().answer(206, Some((10, 299, 300)), Some(290), f[10..].to_vec()).answer(
            206,
            Some((20, 299, 300)),
            Some(280),
            f[20..].to_vec(),
        );
        let mut s = HttpSource::new(fake, "http://h/f", None);
        assert_eq!(fetch(&mut s, 10, 5).unwrap(), f[10..15]);
        assert_eq!(fetch(&mut s, 20, 5).unwrap(), f[20..25]);
        assert_eq!(fetch(&mut s, 25, 5).unwrap(), f[25..30]);
        assert_eq!(fetch(&mut s, 30, 5).unwrap(), f[30..35], "consecutive: same answer");
        assert_eq!(
            fetch(&mut s, 100, 5),
            Err(nb::Error::Other(SourceError::ConnectionLost)),
            "no more answers"
        );
        assert_eq!(s.into_inner().asked, [10, 20, 100]);
    }
}
