//! [`HttpClient`]: the built-in blocking HTTP/1.1 client over a [`Connector`].

#![deny(clippy::arithmetic_side_effects)]

use core::fmt::Write as _;

use embedded_io::{ErrorKind, Read, Write};

use super::{
    BodyDecoder, BodyError, BodyKind, Connector, HeadError, HttpError, HttpTransport, Method, Parsed,
    RequestHead, Response, Url, encode_request, parse_head,
};
use crate::time::{Clock, NoClock};

/// Redirects followed per request unless set otherwise.
pub const DEFAULT_MAX_REDIRECTS: u8 = 5;

/// Interim (`1xx`) heads a request may get before its final head; one more is
/// [`HttpError::TooManyInterim`].
pub const MAX_INTERIM_HEADS: u8 = 4;

/// Time a request may take from its first byte sent to its final head complete, unless set
/// otherwise ([`HttpClient::set_head_timeout_ms`]); measured only by a client with a clock.
pub const DEFAULT_HEAD_TIMEOUT_MS: u32 = 30_000;

/// Longest host name kept for connection reuse (a DNS name is at most 253 bytes).
const MAX_HOST: usize = 253;

/// A blocking HTTP/1.1 client with fixed buffers.
///
/// `BUF` bytes hold one request head, then the response head and body bytes in flight: it
/// bounds the largest response head (1024 is plenty for the servers the platforms use;
/// presigned CDN answers may want 2048). While a GET follows redirects, two `URL`-byte
/// strings on the stack hold the current and next target. Besides `BUF`, the client keeps
/// about 300 bytes (mostly the host name of the open connection, for reuse).
///
/// Connections are kept open and reused while requests go to the same scheme, host and
/// port and the server allows it. A response whose body was not read to the end closes its
/// connection at the next request. GET requests follow up to
/// [`max_redirects`](Self::set_max_redirects) redirects; POST answers are returned as they are.
///
/// # Redirects
///
/// - A redirect to another origin (scheme, host or port differ) **drops the
///   `Authorization: Bearer` token** (the only credential the client sends): the next
///   request and every later one of the same chain go without it, even back on the first
///   origin. Same-origin redirects (a path on the same server) keep it.
/// - A redirect from `https` to `http` is **refused** with [`HttpError::InsecureRedirect`]
///   (mapped to [`SourceError::InvalidLocation`](crate::transport::SourceError::InvalidLocation):
///   not retryable), before anything is sent to the `http` URL. `http` to `https` is followed.
///
/// The rules hold on the URL level whatever the [`Connector`] can open (TLS is the
/// connector's; [`TcpConnector`](super::TcpConnector) opens `http` only).
///
/// # Time limits
///
/// Each read is bounded by the connection's own time limit. On top of that, a request may
/// take at most [`head_timeout_ms`](Self::set_head_timeout_ms) (default
/// [`DEFAULT_HEAD_TIMEOUT_MS`]) from its first byte sent until its final head is complete,
/// interim heads included, else [`HttpError::HeadTimeout`]: a server that trickles its head a
/// byte at a time, each read inside the read limit, is cut off. The deadline is checked before
/// every read, so it is exceeded by at most one read's time limit. It needs a [`Clock`]: build
/// the client with [`with_clock`](Self::with_clock) (a client from [`new`](Self::new) has
/// [`NoClock`] and no head deadline). At most [`MAX_INTERIM_HEADS`] interim (`1xx`) heads are
/// taken before the final one ([`HttpError::TooManyInterim`]).
///
/// ```no_run
/// # #[cfg(feature = "std")] {
/// use ota_client::transport::http::{HttpClient, HttpTransport, TcpConnector};
/// let mut client: HttpClient<_, 1024> = HttpClient::new(TcpConnector::default());
/// let head = client.get_range("http://127.0.0.1:8080/fw.bin", 0, None).unwrap();
/// let mut buf = [0u8; 512];
/// while client.read_body(&mut buf).unwrap() > 0 {}
/// # let _ = head; }
/// ```
pub struct HttpClient<C: Connector, const BUF: usize, const URL: usize = 512, K: Clock = NoClock> {
    connector: C,
    clock: K,
    head_timeout_ms: u32,
    conn: Option<C::Connection>,
    origin: Option<Origin>,
    buf: [u8; BUF],
    /// Unread raw bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    body: Option<BodyDecoder>,
    close_after_body: bool,
    pending: Option<BodyError>,
    max_redirects: u8,
    connections: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: super::Scheme,
    host: heapless::String<MAX_HOST>,
    port: u16,
}

impl Origin {
    fn of(url: &Url<'_>) -> Option<Self> {
        let mut host = heapless::String::new();
        host.push_str(url.host).ok()?;
        host.make_ascii_lowercase();
        Some(Self { scheme: url.scheme, host, port: url.port })
    }

    fn matches(&self, url: &Url<'_>) -> bool {
        self.scheme == url.scheme && self.port == url.port && self.host.eq_ignore_ascii_case(url.host)
    }
}

impl<C: Connector, const BUF: usize, const URL: usize> HttpClient<C, BUF, URL> {
    /// A client that opens its connections through `connector`, without a clock: no head
    /// deadline is measured (the connection's read limits and [`MAX_INTERIM_HEADS`] still
    /// apply). Prefer [`with_clock`](Self::with_clock).
    pub fn new(connector: C) -> Self {
        HttpClient::with_clock(connector, NoClock)
    }
}

#[cfg(feature = "std")]
impl HttpClient<super::TcpConnector, 2048, 512, crate::time::StdClock> {
    /// The host client: plain TCP ([`TcpConnector`](super::TcpConnector)), a 2 KiB head
    /// buffer, 512-byte URLs, head deadlines on the [`StdClock`](crate::time::StdClock).
    pub fn tcp() -> Self {
        HttpClient::with_clock(super::TcpConnector::default(), crate::time::StdClock::new())
    }
}

impl<C: Connector, const BUF: usize, const URL: usize, K: Clock> HttpClient<C, BUF, URL, K> {
    /// A client that opens its connections through `connector` and measures each request's
    /// head deadline ([`DEFAULT_HEAD_TIMEOUT_MS`] until [set](Self::set_head_timeout_ms))
    /// with `clock` ([`StdClock`](crate::time::StdClock) on the host, a timer on a device).
    ///
    /// ```
    /// # #[cfg(feature = "std")] {
    /// use ota_client::time::StdClock;
    /// use ota_client::transport::http::{HttpClient, TcpConnector};
    /// let mut client: HttpClient<_, 1024, 512, _> =
    ///     HttpClient::with_clock(TcpConnector::default(), StdClock::new());
    /// client.set_head_timeout_ms(10_000);
    /// # }
    /// ```
    pub fn with_clock(connector: C, clock: K) -> Self {
        Self {
            connector,
            clock,
            head_timeout_ms: DEFAULT_HEAD_TIMEOUT_MS,
            conn: None,
            origin: None,
            buf: [0; BUF],
            start: 0,
            end: 0,
            body: None,
            close_after_body: false,
            pending: None,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            connections: 0,
        }
    }

    /// Sets how many redirects a GET follows before failing with
    /// [`HttpError::TooManyRedirects`]; 0 returns 3xx answers to the caller.
    pub fn set_max_redirects(&mut self, max: u8) {
        self.max_redirects = max;
    }

    /// Sets the head deadline of each request, in milliseconds from its first byte sent until
    /// its final head is complete (interim heads included); 0 measures none. Needs a client
    /// with a clock ([`with_clock`](Self::with_clock)).
    pub fn set_head_timeout_ms(&mut self, ms: u32) {
        self.head_timeout_ms = ms;
    }

    /// How many connections the client has opened so far (keep-alive reuse keeps this low).
    pub const fn connections_opened(&self) -> u32 {
        self.connections
    }

    /// The connector, to inspect or reconfigure it.
    pub fn connector_mut(&mut self) -> &mut C {
        &mut self.connector
    }

    /// Sends a request with an optional body and reads the answer's head. GET requests follow
    /// redirects under the rules in the [type's documentation](Self#redirects): a
    /// cross-origin redirect drops the bearer token, `https` to `http` is refused. The body
    /// is then read with [`read_body`](Self::read_body).
    pub fn request(&mut self, head: &RequestHead<'_>, body: &[u8]) -> Result<Response, HttpError> {
        let mut target: heapless::String<URL> = heapless::String::new();
        let mut redirects = 0u8;
        // The token goes only to the origin it was given for; once a redirect leaves that
        // origin it is never sent again in this chain.
        let mut bearer = head.bearer;
        loop {
            let url = if target.is_empty() { head.url } else { Url::parse(&target)? };
            let this = RequestHead { url, bearer, ..*head };
            let (response, location) = self.exchange(&this, body)?;
            let follow = head.method == Method::Get && is_redirect(response.status) && self.max_redirects > 0;
            if !follow {
                return Ok(response);
            }
            if redirects >= self.max_redirects {
                self.close();
                return Err(HttpError::TooManyRedirects);
            }
            // Below `max_redirects`: checked just above.
            redirects = redirects.saturating_add(1);
            let location = location
                .and_then(|(a, b)| self.buf.get(a..b))
                .and_then(|bytes| core::str::from_utf8(bytes).ok())
                .ok_or(HttpError::BadRedirect)?;
            let next_url = url.join(location).map_err(|_| HttpError::BadRedirect)?;
            if url.downgrades_to(&next_url) {
                self.close();
                return Err(HttpError::InsecureRedirect);
            }
            if !url.same_origin(&next_url) {
                bearer = None;
            }
            let mut next: heapless::String<URL> = heapless::String::new();
            write_url(&next_url, &mut next)?;
            self.skip_body()?;
            target = next;
        }
    }

    /// Reads body bytes of the current answer into `out`; `Ok(0)` at its end. Bytes the
    /// server sends past the end of a body are reported as [`BodyError::TrailingData`] by
    /// the call after the last body bytes.
    pub fn read_body(&mut self, out: &mut [u8]) -> Result<usize, HttpError> {
        if let Some(e) = self.pending.take() {
            return Err(HttpError::Body(e));
        }
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(mut decoder) = self.body else { return Ok(0) };
            if decoder.is_done() {
                return Ok(0);
            }
            let result = self.read_body_step(&mut decoder, out);
            self.body = Some(decoder);
            match result {
                Ok(Some(n)) => {
                    if decoder.is_done() {
                        self.on_body_done();
                    }
                    return Ok(n);
                }
                Ok(None) => {}
                Err(e) => {
                    self.close();
                    return Err(e);
                }
            }
        }
    }

    /// Drops the connection and any answer in progress.
    pub fn close(&mut self) {
        self.conn = None;
        self.origin = None;
        self.body = None;
        self.start = 0;
        self.end = 0;
    }

    /// One step of body reading: `Some(n)` when `n > 0` bytes were produced (or the body
    /// ended, `n == 0`), `None` to go round again.
    fn read_body_step(
        &mut self,
        decoder: &mut BodyDecoder,
        out: &mut [u8],
    ) -> Result<Option<usize>, HttpError> {
        if self.start < self.end {
            let raw = self.buf.get(self.start..self.end).unwrap_or(&[]);
            let (used, made) = decoder.decode(raw, out)?;
            self.start = self.start.saturating_add(used).min(self.end);
            return Ok((made > 0 || decoder.is_done()).then_some(made));
        }
        self.start = 0;
        self.end = 0;
        let conn = self.conn.as_mut().ok_or(HttpError::Closed)?;
        // Body bytes whose count the framing knows go straight into `out`.
        if let Some(left) = decoder.remaining_hint() {
            let n = usize::try_from(left).map_or(out.len(), |l| l.min(out.len()));
            let dst = out.get_mut(..n).unwrap_or(&mut []);
            let got = conn.read(dst).map_err(io_error)?;
            if got == 0 {
                decoder.on_eof()?;
                return Ok(Some(0));
            }
            decoder.consume_direct(got);
            return Ok(Some(got));
        }
        let got = conn.read(&mut self.buf).map_err(io_error)?;
        if got == 0 {
            decoder.on_eof()?;
            return Ok(Some(0));
        }
        self.end = got;
        Ok(None)
    }

    fn on_body_done(&mut self) {
        if self.start < self.end {
            // Responses are not pipelined: any byte here broke the framing.
            self.pending = Some(BodyError::TrailingData);
            self.close();
        } else if self.close_after_body {
            self.close();
        }
    }

    /// Reads and drops the rest of a small body (a redirect's); closes on a large one.
    fn skip_body(&mut self) -> Result<(), HttpError> {
        let mut scratch = [0u8; 64];
        let mut budget = 4096usize;
        loop {
            match self.read_body(&mut scratch) {
                Ok(0) => return Ok(()),
                Ok(n) if n < budget => budget = budget.saturating_sub(n),
                Ok(_) | Err(HttpError::Body(BodyError::TrailingData)) => {
                    self.close();
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends one request on a (possibly reused) connection and reads the answer head. A
    /// reused connection that the server closed while idle is reopened once.
    fn exchange(
        &mut self,
        head: &RequestHead<'_>,
        body: &[u8],
    ) -> Result<(Response, Option<(usize, usize)>), HttpError> {
        self.end_previous();
        let reused = self.connect(&head.url)?;
        match self.exchange_once(head, body) {
            Err(HttpError::Closed | HttpError::Io(_)) if reused && self.end == 0 => {
                self.close();
                self.connect(&head.url)?;
                self.exchange_once(head, body)
            }
            other => other,
        }
        .inspect_err(|_| self.close())
    }

    /// A new request abandons the previous answer: its connection is reusable only when
    /// the body was read to the end.
    fn end_previous(&mut self) {
        self.pending = None;
        if self.body.take().is_some_and(|b| !b.is_done()) {
            self.close();
        }
    }

    /// Opens a connection unless one to the same origin is open; true when reused.
    fn connect(&mut self, url: &Url<'_>) -> Result<bool, HttpError> {
        if self.conn.is_some() && self.origin.as_ref().is_some_and(|o| o.matches(url)) {
            return Ok(true);
        }
        self.close();
        let conn = self.connector.connect(url.scheme, url.host, url.port).map_err(HttpError::Connect)?;
        self.conn = Some(conn);
        self.origin = Origin::of(url);
        self.connections = self.connections.saturating_add(1);
        Ok(false)
    }

    fn exchange_once(
        &mut self,
        head: &RequestHead<'_>,
        body: &[u8],
    ) -> Result<(Response, Option<(usize, usize)>), HttpError> {
        self.start = 0;
        self.end = 0;
        let deadline = (self.head_timeout_ms > 0)
            .then(|| self.clock.now_ms().saturating_add(u64::from(self.head_timeout_ms)));
        let mut interim = 0u8;
        let n = encode_request(head, &mut self.buf)?;
        let conn = self.conn.as_mut().ok_or(HttpError::Closed)?;
        conn.write_all(self.buf.get(..n).unwrap_or(&[])).map_err(io_error)?;
        conn.write_all(body).map_err(io_error)?;
        conn.flush().map_err(io_error)?;
        loop {
            let parsed = parse_head(self.buf.get(..self.end).unwrap_or(&[]))?;
            if let Parsed::Complete(h, used) = parsed {
                if h.status < 200 {
                    if interim >= MAX_INTERIM_HEADS {
                        return Err(HttpError::TooManyInterim);
                    }
                    // Below MAX_INTERIM_HEADS: checked just above.
                    interim = interim.saturating_add(1);
                    // An interim answer (100 Continue): drop it and read on.
                    self.buf.copy_within(used..self.end, 0);
                    // `used <= end`: the head was parsed from `buf[..end]`.
                    self.end = self.end.saturating_sub(used);
                    continue;
                }
                let location = h.location.map(|loc| {
                    let at = (loc.as_ptr() as usize).wrapping_sub(self.buf.as_ptr() as usize);
                    (at, at.saturating_add(loc.len()))
                });
                let kind = match (h.has_no_body(), h.chunked, h.content_length) {
                    (true, _, _) => BodyKind::Length(0),
                    (false, true, _) => BodyKind::Chunked,
                    (false, false, Some(n)) => BodyKind::Length(n),
                    (false, false, None) => BodyKind::UntilClose,
                };
                let response = Response {
                    status: h.status,
                    content_length: h.content_length,
                    content_range: h.content_range,
                };
                self.close_after_body = h.close || kind == BodyKind::UntilClose;
                self.start = used;
                let decoder = BodyDecoder::new(kind);
                self.body = Some(decoder);
                if decoder.is_done() && self.start == self.end && self.close_after_body {
                    self.conn = None;
                    self.origin = None;
                }
                return Ok((response, location));
            }
            if self.end >= BUF {
                return Err(HttpError::Head(HeadError::TooLarge));
            }
            if deadline.is_some_and(|d| self.clock.now_ms() >= d) {
                return Err(HttpError::HeadTimeout);
            }
            let conn = self.conn.as_mut().ok_or(HttpError::Closed)?;
            let got = conn.read(self.buf.get_mut(self.end..).unwrap_or(&mut [])).map_err(io_error)?;
            if got == 0 {
                return Err(HttpError::Closed);
            }
            // `got` is at most the room after `end` in `buf`.
            self.end = self.end.saturating_add(got);
        }
    }
}

impl<C: Connector, const BUF: usize, const URL: usize, K: Clock> HttpTransport
    for HttpClient<C, BUF, URL, K>
{
    fn get_range(&mut self, url: &str, offset: u64, bearer: Option<&str>) -> Result<Response, HttpError> {
        let url = Url::parse(url)?;
        let head = RequestHead { range_from: Some(offset), bearer, ..RequestHead::new(Method::Get, url) };
        self.request(&head, &[])
    }

    fn read_body(&mut self, out: &mut [u8]) -> Result<usize, HttpError> {
        HttpClient::read_body(self, out)
    }

    fn post_json(&mut self, url: &str, json: &[u8], answer: &mut [u8]) -> Result<(u16, usize), HttpError> {
        let url = Url::parse(url)?;
        let head = RequestHead { json_len: Some(json.len()), ..RequestHead::new(Method::Post, url) };
        let response = self.request(&head, json)?;
        let mut len = 0usize;
        loop {
            let room = answer.get_mut(len..).unwrap_or(&mut []);
            if room.is_empty() {
                let mut probe = [0u8; 1];
                if HttpClient::read_body(self, &mut probe)? > 0 {
                    self.close();
                    return Err(HttpError::AnswerTooLarge);
                }
                return Ok((response.status, len));
            }
            match HttpClient::read_body(self, room)? {
                0 => return Ok((response.status, len)),
                // `n` is at most the room left in `answer`.
                n => len = len.saturating_add(n),
            }
        }
    }

    fn close(&mut self) {
        HttpClient::close(self)
    }
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

fn io_error<E: embedded_io::Error>(e: E) -> HttpError {
    match e.kind() {
        ErrorKind::TimedOut => HttpError::Timeout,
        kind => HttpError::Io(kind),
    }
}

/// Writes `url` as absolute text.
fn write_url<const N: usize>(url: &Url<'_>, out: &mut heapless::String<N>) -> Result<(), HttpError> {
    let host_v6 = url.host.contains(':');
    let (open, close) = if host_v6 { ("[", "]") } else { ("", "") };
    write!(out, "{}://{open}{}{close}:{}{}", url.scheme.as_str(), url.host, url.port, url.path)
        .map_err(|_| HttpError::UrlTooLong)
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, reason = "test code: an overflow is a test failure")]
mod tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;

    use super::*;
    use crate::transport::http::{BodyError, ConnectError, Scheme};

    enum Step {
        Data(&'static [u8]),
        Fail(ErrorKind),
    }

    /// A connection that plays back a script of reads and records what was written.
    struct Scripted {
        steps: VecDeque<Step>,
        written: Rc<RefCell<Vec<u8>>>,
    }

    impl embedded_io::ErrorType for Scripted {
        type Error = ErrorKind;
    }

    impl Read for Scripted {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
            match self.steps.pop_front() {
                None => Ok(0),
                Some(Step::Fail(kind)) => Err(kind),
                Some(Step::Data(data)) => {
                    let n = data.len().min(buf.len());
                    buf[..n].copy_from_slice(&data[..n]);
                    if n < data.len() {
                        self.steps.push_front(Step::Data(&data[n..]));
                    }
                    Ok(n)
                }
            }
        }
    }

    impl Write for Scripted {
        fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
            self.written.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> Result<(), ErrorKind> {
            Ok(())
        }
    }

    /// Hands out one scripted connection per connect.
    #[derive(Default)]
    struct Script {
        connections: VecDeque<Vec<Step>>,
        written: Rc<RefCell<Vec<u8>>>,
    }

    impl Script {
        fn conn(mut self, steps: Vec<Step>) -> Self {
            self.connections.push_back(steps);
            self
        }
    }

    impl Connector for Script {
        type Connection = Scripted;
        fn connect(&mut self, _: Scheme, _: &str, _: u16) -> Result<Scripted, ConnectError> {
            let steps = self.connections.pop_front().ok_or(ConnectError::Unreachable)?;
            Ok(Scripted { steps: steps.into(), written: Rc::clone(&self.written) })
        }
    }

    const URL: &str = "http://h/x";

    fn body_of<C: Connector, const B: usize>(c: &mut HttpClient<C, B>) -> Result<Vec<u8>, HttpError> {
        let mut all = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            match c.read_body(&mut buf)? {
                0 => return Ok(all),
                n => all.extend_from_slice(&buf[..n]),
            }
        }
    }

    #[test]
    fn interim_answers_are_skipped() {
        let script = Script::default().conn(vec![Step::Data(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        )]);
        let mut c: HttpClient<_, 256> = HttpClient::new(script);
        assert_eq!(c.get_range(URL, 0, None).unwrap().status, 200);
        assert_eq!(body_of(&mut c).unwrap(), b"hi");
    }

    #[test]
    fn oversized_head_is_refused() {
        let padding: &'static str = "a".repeat(200).leak();
        let head: &'static str = format!("HTTP/1.1 200 OK\r\nX-Padding: {padding}\r\n\r\n").leak();
        let script = Script::default().conn(vec![Step::Data(head.as_bytes())]);
        let mut c: HttpClient<_, 128> = HttpClient::new(script);
        assert_eq!(c.get_range(URL, 0, None), Err(HttpError::Head(HeadError::TooLarge)));
        assert_eq!(
            HttpError::Head(HeadError::TooLarge).source_error(),
            crate::transport::SourceError::Protocol
        );
    }

    #[test]
    fn malformed_status_and_timeouts() {
        let script = Script::default()
            .conn(vec![Step::Data(b"HTTP/1.1 OK 200\r\n\r\n")])
            .conn(vec![Step::Fail(ErrorKind::TimedOut)])
            .conn(vec![
                Step::Data(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"),
                Step::Fail(ErrorKind::ConnectionReset),
            ]);
        let mut c: HttpClient<_, 256> = HttpClient::new(script);
        assert_eq!(c.get_range(URL, 0, None), Err(HttpError::Head(HeadError::BadStatusLine)));
        assert_eq!(c.get_range(URL, 0, None), Err(HttpError::Timeout));
        assert_eq!(c.get_range(URL, 0, None).unwrap().content_length, Some(9));
        assert_eq!(body_of(&mut c), Err(HttpError::Io(ErrorKind::ConnectionReset)));
        assert_eq!(c.get_range(URL, 0, None), Err(HttpError::Connect(ConnectError::Unreachable)));
    }

    #[test]
    fn bytes_past_content_length_break_the_connection() {
        let script = Script::default()
            .conn(vec![Step::Data(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\n")])
            .conn(vec![Step::Data(b"HTTP/1.1 204 No Content\r\n\r\n")]);
        let mut c: HttpClient<_, 256> = HttpClient::new(script);
        c.get_range(URL, 0, None).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(c.read_body(&mut buf), Ok(3));
        assert_eq!(c.read_body(&mut buf), Err(HttpError::Body(BodyError::TrailingData)));
        assert_eq!(c.get_range(URL, 0, None).unwrap().status, 204);
        assert_eq!(c.connections_opened(), 2);
    }

    #[test]
    fn stale_kept_alive_connection_is_reopened_once() {
        let script = Script::default()
            .conn(vec![Step::Data(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")])
            .conn(vec![Step::Data(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb")]);
        let mut c: HttpClient<_, 256> = HttpClient::new(script);
        c.get_range(URL, 0, None).unwrap();
        assert_eq!(body_of(&mut c).unwrap(), b"a");
        // The first connection's script is over: the server closed it while idle.
        c.get_range(URL, 0, None).unwrap();
        assert_eq!(body_of(&mut c).unwrap(), b"b");
        assert_eq!(c.connections_opened(), 2);
    }

    #[test]
    fn unread_body_closes_before_the_next_request() {
        let script = Script::default()
            .conn(vec![Step::Data(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123")])
            .conn(vec![Step::Data(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz")]);
        let mut c: HttpClient<_, 256> = HttpClient::new(script);
        c.get_range(URL, 0, None).unwrap();
        assert_eq!(c.read_body(&mut [0u8; 2]), Ok(2));
        c.get_range(URL, 50, Some("tok")).unwrap();
        assert_eq!(body_of(&mut c).unwrap(), b"z");
        assert_eq!(c.connections_opened(), 2);
        let written = String::from_utf8(c.connector_mut().written.borrow().clone()).unwrap();
        assert!(written.contains("Range: bytes=50-\r\nAuthorization: Bearer tok\r\n"), "{written}");
    }

    #[test]
    fn body_until_close_and_post_answers() {
        let script = Script::default()
            .conn(vec![Step::Data(b"HTTP/1.0 200 OK\r\n\r\nuntil the end")])
            .conn(vec![Step::Data(b"HTTP/1.1 302 Found\r\nLocation: /y\r\nContent-Length: 0\r\n\r\n")]);
        let mut c: HttpClient<_, 256> = HttpClient::new(script);
        c.get_range(URL, 0, None).unwrap();
        assert_eq!(body_of(&mut c).unwrap(), b"until the end");
        let mut answer = [0u8; 8];
        assert_eq!(c.post_json(URL, b"{}", &mut answer), Ok((302, 0)), "POST does not follow redirects");
        let written = String::from_utf8(c.connector_mut().written.borrow().clone()).unwrap();
        assert!(written.ends_with(
            "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}"
        ));
    }

    #[test]
    fn redirect_to_a_bad_location() {
        let script = Script::default()
            .conn(vec![Step::Data(b"HTTP/1.1 301 Moved\r\nLocation: ftp://x/\r\nContent-Length: 0\r\n\r\n")])
            .conn(vec![Step::Data(b"HTTP/1.1 307 Moved\r\nContent-Length: 0\r\n\r\n")]);
        let mut c: HttpClient<_, 256> = HttpClient::new(script);
        assert_eq!(c.get_range(URL, 0, None), Err(HttpError::BadRedirect));
        assert_eq!(c.get_range(URL, 0, None), Err(HttpError::BadRedirect));
    }

    /// The requests written so far, one string per request head.
    fn requests(c: &mut HttpClient<Script, 256>) -> Vec<String> {
        let written = String::from_utf8(c.connector_mut().written.borrow().clone()).unwrap();
        written.split_inclusive("\r\n\r\n").map(str::to_owned).collect()
    }

    fn redirect(location: &str) -> Step {
        let head = format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n");
        Step::Data(head.leak().as_bytes())
    }

    const OK: Step = Step::Data(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

    #[test]
    fn the_token_follows_same_origin_redirects_only() {
        // Same origin (a path, then the same host in another case with its default port):
        // the token stays. Then another port: dropped, and not sent again back home.
        let script = Script::default()
            .conn(vec![redirect("/b"), redirect("HTTP://H:80/c"), redirect("http://h:8080/d")])
            .conn(vec![redirect("http://h/e")])
            .conn(vec![OK]);
        let mut c: HttpClient<_, 256> = HttpClient::new(script);
        assert_eq!(c.get_range(URL, 0, Some("t0k")).unwrap().status, 200);
        let sent = requests(&mut c);
        let with_token: Vec<bool> =
            sent.iter().map(|r| r.contains("Authorization: Bearer t0k\r\n")).collect();
        assert_eq!(with_token, [true, true, true, false, false], "{sent:?}");
        assert!(sent[3].starts_with("GET /d HTTP/1.1\r\nHost: h:8080\r\n"));
        assert!(sent.iter().skip(3).all(|r| !r.contains("Authorization")));
        // Another host or another scheme on the same host and port is another origin too.
        for away in ["http://other/x", "https://h:80/x"] {
            let script = Script::default().conn(vec![redirect(away)]).conn(vec![OK]);
            let mut c: HttpClient<_, 256> = HttpClient::new(script);
            c.get_range(URL, 0, Some("t0k")).unwrap();
            let sent = requests(&mut c);
            assert_eq!(sent.len(), 2);
            assert!(sent[0].contains("Authorization") && !sent[1].contains("Authorization"), "{away}");
        }
    }

    #[test]
    fn https_redirected_to_http_is_refused() {
        for to in ["http://h/x", "http://other:443/x"] {
            let script = Script::default().conn(vec![redirect(to)]).conn(vec![OK]);
            let mut c: HttpClient<_, 256> = HttpClient::new(script);
            assert_eq!(c.get_range("https://h/fw", 0, Some("t0k")), Err(HttpError::InsecureRedirect));
            assert_eq!(requests(&mut c).len(), 1, "nothing sent to {to}");
            assert_eq!(c.connections_opened(), 1);
        }
        assert_eq!(
            HttpError::InsecureRedirect.source_error(),
            crate::transport::SourceError::InvalidLocation
        );
        assert!(!HttpError::InsecureRedirect.source_error().is_transient());
        // Later in the chain too: http → https → http.
        let script = Script::default().conn(vec![redirect("https://h/y")]).conn(vec![redirect("http://h/z")]);
        let mut c: HttpClient<_, 256> = HttpClient::new(script);
        assert_eq!(c.get_range(URL, 0, None), Err(HttpError::InsecureRedirect));
        // A path stays on https; http to https is an upgrade and is followed.
        let script = Script::default().conn(vec![redirect("/y"), OK]);
        let mut c: HttpClient<_, 256> = HttpClient::new(script);
        assert_eq!(c.get_range("https://h/fw", 0, Some("t0k")).unwrap().status, 200);
        assert!(requests(&mut c).iter().all(|r| r.contains("Authorization: Bearer t0k")));
    }

    #[test]
    fn interim_heads_are_capped() {
        let interim: &'static str = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n";
        let final_head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
        let four: &'static str = format!("{interim}{interim}{final_head}").leak();
        let five: &'static str =
            format!("{interim}{interim}HTTP/1.1 103 Early Hints\r\n\r\n{final_head}").leak();
        let script =
            Script::default().conn(vec![Step::Data(four.as_bytes())]).conn(vec![Step::Data(five.as_bytes())]);
        let mut c: HttpClient<_, 256> = HttpClient::new(script);
        assert_eq!(c.get_range(URL, 0, None).unwrap().status, 200, "four interim heads are taken");
        assert_eq!(body_of(&mut c).unwrap(), b"hi");
        c.close();
        assert_eq!(c.get_range(URL, 0, None), Err(HttpError::TooManyInterim), "a fifth is not");
        assert_eq!(HttpError::TooManyInterim.source_error(), crate::transport::SourceError::Protocol);
    }

    proptest::proptest! {
        /// Whatever a server sends, in whatever pieces, the client answers or fails; it
        /// never panics and never hands out more body bytes than it received.
        #[test]
        fn arbitrary_answers_never_panic(
            head in proptest::sample::select(vec![
                "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
                "HTTP/1.1 206 P\r\nContent-Range: bytes 5-9/10\r\nTransfer-Encoding: chunked\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                "HTTP/1.0 200 OK\r\n\r\n",
                "",
            ]),
            tail in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            cut in 1usize..40,
        ) {
            let mut raw = head.as_bytes().to_vec();
            raw.extend_from_slice(&tail);
            let raw: &'static [u8] = raw.leak();
            let steps: Vec<Step> = raw.chunks(cut).map(Step::Data).collect();
            let mut c: HttpClient<_, 128> = HttpClient::new(Script::default().conn(steps));
            if c.get_range(URL, 0, None).is_ok() {
                let mut total = 0usize;
                let mut buf = [0u8; 13];
                while let Ok(n) = c.read_body(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    total += n;
                    proptest::prop_assert!(total <= raw.len());
                }
            }
        }
    }
}
