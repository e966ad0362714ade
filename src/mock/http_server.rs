//! A real HTTP/1.1 server on loopback for host tests (feature `sim`): serves files with
//! `Range`, records every request, and injects faults on request.
//!
//! ```
//! use ota_client::mock::http_server::{Fault, MockHttpServer};
//! let server = MockHttpServer::start().unwrap();
//! server.put_file("/fw.bin", vec![7u8; 1000]);
//! server.inject(Fault::CloseAfter(100)); // the next file answer stops after 100 body bytes
//! println!("{}", server.url("/fw.bin")); // http://127.0.0.1:<port>/fw.bin
//! ```

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

/// A fault applied to the next file answer (one per answer, in the order injected).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Send the head and this many body bytes, then close the connection.
    CloseAfter(usize),
    /// Answer with this status and a short text body instead of the file.
    Status(u16),
    /// Send the body in pieces of `chunk` bytes with `delay_ms` between them.
    Slow {
        /// Bytes per piece.
        chunk: usize,
        /// Pause after each piece, in milliseconds.
        delay_ms: u64,
    },
    /// Ignore `Range`: answer 200 with the whole file.
    IgnoreRange,
    /// Send the body with chunked transfer encoding.
    Chunked,
    /// Send a `Content-Length` this many bytes larger than the body, then close.
    LyingLength(usize),
}

/// One request as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// Request target (path and query).
    pub path: String,
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Which connection carried it (1 for the first accepted).
    pub connection: usize,
}

impl RecordedRequest {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An answer a [`Handler`] gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockResponse {
    /// Status code.
    pub status: u16,
    /// Extra headers (`Content-Length` and `Connection` are added).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl MockResponse {
    /// A JSON answer.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self { status, headers: vec![("Content-Type".into(), "application/json".into())], body: body.into() }
    }

    /// An answer without body.
    pub fn empty(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: Vec::new() }
    }
}

/// Answers requests before the file store does; `None` passes the request on.
pub type Handler = Arc<dyn Fn(&RecordedRequest) -> Option<MockResponse> + Send + Sync>;

#[derive(Default)]
struct State {
    files: HashMap<String, Arc<Vec<u8>>>,
    redirects: HashMap<String, String>,
    requests: Vec<RecordedRequest>,
    faults: VecDeque<Fault>,
    ignore_range: bool,
    chunked: bool,
    close_after_each: bool,
    connections: usize,
    handler: Option<Handler>,
}

/// The server. It stops accepting when dropped.
pub struct MockHttpServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MockHttpServer {
    /// Starts a server on `127.0.0.1` at a free port.
    pub fn start() -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0")
    }

    /// Starts a server on `addr` (e.g. `"0.0.0.0:5055"` to serve real devices by hand).
    pub fn start_on(addr: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (Arc::clone(&state), Arc::clone(&stop));
        thread::Builder::new()
            .name("mock-http-accept".into())
            .spawn(move || accept_loop(&listener, &st, &sp))?;
        Ok(Self { addr, state, stop })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Serves `bytes` at `path` (GET, with `Range`).
    pub fn put_file(&self, path: &str, bytes: Vec<u8>) {
        lock(&self.state).files.insert(path.to_owned(), Arc::new(bytes));
    }

    /// Answers `path` with `302 Found` to `location`.
    pub fn redirect(&self, path: &str, location: &str) {
        lock(&self.state).redirects.insert(path.to_owned(), location.to_owned());
    }

    /// Queues a fault for the next file answer.
    pub fn inject(&self, fault: Fault) {
        lock(&self.state).faults.push_back(fault);
    }

    /// Ignores `Range` on every file answer from now on.
    pub fn set_ignore_range(&self, on: bool) {
        lock(&self.state).ignore_range = on;
    }

    /// Sends every file answer chunked from now on.
    pub fn set_chunked(&self, on: bool) {
        lock(&self.state).chunked = on;
    }

    /// Closes the connection after every answer (no keep-alive) from now on.
    pub fn set_close_after_each(&self, on: bool) {
        lock(&self.state).close_after_each = on;
    }

    /// Installs a handler that answers requests before the file store.
    pub fn set_handler(&self, handler: Handler) {
        lock(&self.state).handler = Some(handler);
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).requests.clone()
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> usize {
        lock(&self.state).connections
    }
}

impl Drop for MockHttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn accept_loop(listener: &TcpListener, state: &Arc<Mutex<State>>, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let id = {
            let mut s = lock(state);
            s.connections += 1;
            s.connections
        };
        let st = Arc::clone(state);
        let _ = thread::Builder::new().name(format!("mock-http-{id}")).spawn(move || {
            let _ = serve_connection(stream, &st, id);
        });
    }
}

fn serve_connection(stream: TcpStream, state: &Mutex<State>, id: usize) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let _ = stream.set_nodelay(true);
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader, id)? {
        lock(state).requests.push(request.clone());
        let keep_open = answer(&mut out, state, &request)?;
        if !keep_open {
            let _ = out.shutdown(Shutdown::Both);
            return Ok(());
        }
    }
    Ok(())
}

fn read_request(reader: &mut BufReader<TcpStream>, id: usize) -> std::io::Result<Option<RecordedRequest>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else { return Ok(None) };
    let (method, path) = (method.to_owned(), path.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            return Ok(None);
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let len = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body)?;
    Ok(Some(RecordedRequest { method, path, headers, body, connection: id }))
}

/// Writes the answer; false when the connection must close.
fn answer(out: &mut TcpStream, state: &Mutex<State>, req: &RecordedRequest) -> std::io::Result<bool> {
    let (handler, redirect, file, close_each) = {
        let s = lock(state);
        (
            s.handler.clone(),
            s.redirects.get(&req.path).cloned(),
            s.files.get(&req.path).cloned(),
            s.close_after_each,
        )
    };
    let client_close = req.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
    let keep = !close_each && !client_close;
    if let Some(resp) = handler.and_then(|h| h(req)) {
        write_simple(out, &resp, keep)?;
        return Ok(keep);
    }
    if let Some(location) = redirect {
        let resp = MockResponse {
            status: 302,
            headers: vec![("Location".into(), location)],
            body: b"moved".to_vec(),
        };
        write_simple(out, &resp, keep)?;
        return Ok(keep);
    }
    match file {
        Some(bytes) if req.method == "GET" => serve_file(out, state, req, &bytes, keep),
        _ => {
            write_simple(
                out,
                &MockResponse { status: 404, headers: Vec::new(), body: b"not found".to_vec() },
                keep,
            )?;
            Ok(keep)
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        206 => "Partial Content",
        302 => "Found",
        400 => "Bad Request",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

fn write_simple(out: &mut TcpStream, resp: &MockResponse, keep: bool) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (n, v) in &resp.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if resp.status != 204 && resp.status != 304 {
        head.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    }
    head.push_str(if keep { "Connection: keep-alive\r\n\r\n" } else { "Connection: close\r\n\r\n" });
    out.write_all(head.as_bytes())?;
    out.write_all(&resp.body)?;
    out.flush()
}

/// `bytes=N-` or `bytes=N-M` → (first, last inclusive), clamped to the file.
fn parse_range(value: &str, len: usize) -> Option<(usize, usize)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let first: usize = a.trim().parse().ok()?;
    let last = if b.trim().is_empty() {
        len.checked_sub(1)?
    } else {
        b.trim().parse::<usize>().ok()?.min(len.checked_sub(1)?)
    };
    Some((first, last))
}

fn serve_file(
    out: &mut TcpStream,
    state: &Mutex<State>,
    req: &RecordedRequest,
    bytes: &[u8],
    keep: bool,
) -> std::io::Result<bool> {
    let (fault, ignore_range, chunked) = {
        let mut s = lock(state);
        (s.faults.pop_front(), s.ignore_range, s.chunked)
    };
    if let Some(Fault::Status(code)) = fault {
        let body = format!("injected {code}").into_bytes();
        write_simple(out, &MockResponse { status: code, headers: Vec::new(), body }, keep)?;
        return Ok(keep);
    }
    let ignore_range = ignore_range || fault == Some(Fault::IgnoreRange);
    let chunked = chunked || fault == Some(Fault::Chunked);
    let range = if ignore_range { None } else { req.header("range") };
    let (status, first, last) = match range {
        None => (200, 0, bytes.len().saturating_sub(1)),
        Some(r) => match parse_range(r, bytes.len()) {
            Some((first, last)) if first < bytes.len() && first <= last => (206, first, last),
            _ => {
                let resp = MockResponse {
                    status: 416,
                    headers: vec![("Content-Range".into(), format!("bytes */{}", bytes.len()))],
                    body: Vec::new(),
                };
                write_simple(out, &resp, keep)?;
                return Ok(keep);
            }
        },
    };
    let body = if bytes.is_empty() { &[][..] } else { bytes.get(first..=last).unwrap_or(&[]) };
    let mut head = format!("HTTP/1.1 {status} {}\r\nAccept-Ranges: bytes\r\n", reason(status));
    if status == 206 {
        head.push_str(&format!("Content-Range: bytes {first}-{last}/{}\r\n", bytes.len()));
    }
    let lie = match fault {
        Some(Fault::LyingLength(extra)) => Some(extra),
        _ => None,
    };
    if chunked {
        head.push_str("Transfer-Encoding: chunked\r\n");
    } else {
        head.push_str(&format!("Content-Length: {}\r\n", body.len() + lie.unwrap_or(0)));
    }
    let keep = keep && lie.is_none();
    head.push_str(if keep { "Connection: keep-alive\r\n\r\n" } else { "Connection: close\r\n\r\n" });
    out.write_all(head.as_bytes())?;

    let wire: Vec<u8> = if chunked { chunk_encode(body, 1000) } else { body.to_vec() };
    let (limit, piece, delay) = match fault {
        Some(Fault::CloseAfter(n)) => (n.min(wire.len()), wire.len().max(1), 0),
        Some(Fault::Slow { chunk, delay_ms }) => (wire.len(), chunk.max(1), delay_ms),
        _ => (wire.len(), wire.len().max(1), 0),
    };
    for part in wire.get(..limit).unwrap_or(&[]).chunks(piece) {
        out.write_all(part)?;
        out.flush()?;
        if delay > 0 {
            thread::sleep(Duration::from_millis(delay));
        }
    }
    out.flush()?;
    if matches!(fault, Some(Fault::CloseAfter(_))) {
        return Ok(false);
    }
    Ok(keep)
}

fn chunk_encode(body: &[u8], size: usize) -> Vec<u8> {
    let mut wire = Vec::with_capacity(body.len() + body.len() / size * 8 + 8);
    for c in body.chunks(size) {
        wire.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        wire.extend_from_slice(c);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    wire
}
