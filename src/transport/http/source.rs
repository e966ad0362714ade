//! [`HttpSource`]: a [`ChunkSource`] that downloads one URL with resumable `Range` requests.

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
pub struct HttpSource<'a, T: HttpTransport> {
    transport: T,
    url: &'a str,
    bearer: Option<&'a str>,
    stream: Stream,
    total: Option<u64>,
    last_status: Option<u16>,
}

impl<'a, T: HttpTransport> HttpSource<'a, T> {
    /// A source for the file at `url` (absolute), sending `Authorization: Bearer <token>`
    /// when `bearer` is given.
    pub fn new(transport: T, url: &'a str, bearer: Option<&'a str>) -> Self {
        Self { transport, url, bearer, stream: Stream::Closed, total: None, last_status: None }
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
        let response = match self.transport.get_range(self.url, offset, self.bearer) {
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

impl<T: HttpTransport> ChunkSource for HttpSource<'_, T> {
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
}
