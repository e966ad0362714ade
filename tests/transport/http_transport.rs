//! The HTTP transport over real TCP on loopback against the mock server.

use std::time::Duration;

use ota_client::mock::ManualClock;
use ota_client::mock::enos_edge_server::{EnosEdgeServer, ReportKind};
use ota_client::mock::http_server::{Fault, MockHttpServer};
use ota_client::platform::enos_edge::codec::{
    self, CheckVersion, CheckVersionAnswer, DownloadResult, UpdateResult,
};
use ota_client::time::Clock;
use ota_client::transport::http::{
    ConnectError, Connector, HttpClient, HttpError, HttpSource, HttpTransport, Scheme, TcpConnection,
    TcpConnector,
};
use ota_client::transport::{ChunkSource, SourceError};

type Client = HttpClient<TcpConnector, 1024>;

fn client() -> Client {
    HttpClient::new(TcpConnector::default())
}

/// A file whose every byte depends on its offset, so bytes from the wrong offset show.
fn firmware(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + i / 251) % 256) as u8).collect()
}

/// Fetches from `offset` until `into` holds `total` bytes or the source fails.
fn pull(
    source: &mut impl ChunkSource,
    into: &mut Vec<u8>,
    total: usize,
    chunk: usize,
) -> Result<(), SourceError> {
    let mut buf = vec![0u8; chunk];
    while into.len() < total {
        let offset = u32::try_from(into.len()).unwrap();
        match source.fetch(offset, &mut buf) {
            Ok(n) => {
                assert!(n > 0 && n <= chunk);
                into.extend_from_slice(&buf[..n]);
            }
            Err(nb::Error::WouldBlock) => {}
            Err(nb::Error::Other(e)) => return Err(e),
        }
    }
    Ok(())
}

#[test]
fn get_whole_file() {
    let server = MockHttpServer::start().unwrap();
    let fw = firmware(50_000);
    server.put_file("/fw.bin", fw.clone());
    let url = server.url("/fw.bin");
    let mut c = client();
    let mut source = HttpSource::new(&mut c, &url, None);
    let mut got = Vec::new();
    pull(&mut source, &mut got, fw.len(), 700).unwrap();
    assert_eq!(got, fw);
    assert_eq!(source.total_size(), Some(50_000));
    assert_eq!(source.last_status(), Some(200));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1, "one answer streams the whole file");
    assert_eq!(reqs[0].header("range"), None);
    assert_eq!(reqs[0].header("host"), Some(server.addr().to_string().as_str()));
}

#[test]
fn ranged_resume_after_close_mid_body() {
    let server = MockHttpServer::start().unwrap();
    let fw = firmware(40_000);
    server.put_file("/fw.bin", fw.clone());
    server.inject(Fault::CloseAfter(12_345));
    let url = server.url("/fw.bin");
    let mut c = client();
    let mut source = HttpSource::new(&mut c, &url, None);
    let mut got = Vec::new();
    assert_eq!(pull(&mut source, &mut got, fw.len(), 1000), Err(SourceError::ConnectionLost));
    assert_eq!(got.len(), 12_345);
    pull(&mut source, &mut got, fw.len(), 1000).unwrap();
    assert_eq!(got, fw, "bit-exact after resume");
    assert_eq!(source.last_status(), Some(206));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].header("range"), Some("bytes=12345-"));
    assert_eq!(server.connections(), 2);
}

#[test]
fn server_ignoring_range_never_lands_bytes_at_the_resume_offset() {
    let server = MockHttpServer::start().unwrap();
    let fw = firmware(30_000);
    server.put_file("/fw.bin", fw.clone());
    server.set_ignore_range(true);
    server.inject(Fault::CloseAfter(10_000));
    let url = server.url("/fw.bin");
    let mut c = client();
    let mut source = HttpSource::new(&mut c, &url, None);
    let mut got = Vec::new();
    assert_eq!(pull(&mut source, &mut got, fw.len(), 512), Err(SourceError::ConnectionLost));
    assert_eq!(got.len(), 10_000);
    // The first fetch after the cut must hand out file bytes 10_000.., not 0...
    let mut buf = [0u8; 512];
    let first = loop {
        match source.fetch(10_000, &mut buf) {
            Ok(n) => break buf[..n].to_vec(),
            Err(nb::Error::WouldBlock) => continue,
            Err(nb::Error::Other(e)) => panic!("{e:?}"),
        }
    };
    assert_eq!(first[..], fw[10_000..10_000 + first.len()]);
    assert_ne!(first[..], fw[..first.len()]);
    got.extend_from_slice(&first);
    pull(&mut source, &mut got, fw.len(), 512).unwrap();
    assert_eq!(got, fw);
    assert_eq!(source.last_status(), Some(200));
    let reqs = server.requests();
    assert_eq!(reqs[1].header("range"), Some("bytes=10000-"), "asked for a range, got 200");
}

#[test]
fn chunked_bodies_and_a_cut_chunked_body() {
    let server = MockHttpServer::start().unwrap();
    let fw = firmware(25_000);
    server.put_file("/fw.bin", fw.clone());
    server.set_chunked(true);
    let url = server.url("/fw.bin");
    let mut c = client();
    {
        let mut source = HttpSource::new(&mut c, &url, None);
        let mut got = Vec::new();
        pull(&mut source, &mut got, fw.len(), 333).unwrap();
        assert_eq!(got, fw);
    }
    // Cut inside the chunked stream: a truncated chunked body is a lost connection, then
    // the download resumes with Range.
    server.inject(Fault::CloseAfter(7_000));
    let mut source = HttpSource::new(&mut c, &url, None);
    let mut got = Vec::new();
    assert_eq!(pull(&mut source, &mut got, fw.len(), 333), Err(SourceError::ConnectionLost));
    assert!(!got.is_empty() && got.len() < 7_000);
    pull(&mut source, &mut got, fw.len(), 333).unwrap();
    assert_eq!(got, fw);
}

#[test]
fn keep_alive_reuses_one_connection() {
    let server = MockHttpServer::start().unwrap();
    for i in 0..5 {
        server.put_file(&format!("/f{i}"), firmware(1000 + i));
    }
    let mut c = client();
    for round in 0..2 {
        for i in 0..5 {
            let url = server.url(&format!("/f{i}"));
            let mut source = HttpSource::new(&mut c, &url, None);
            let mut got = Vec::new();
            pull(&mut source, &mut got, 1000 + i, 256).unwrap();
            assert_eq!(got, firmware(1000 + i), "round {round} file {i}");
        }
    }
    assert_eq!(server.requests().len(), 10);
    assert_eq!(server.connections(), 1);
    assert_eq!(c.connections_opened(), 1);

    // A server that closes after each answer costs one connection per request (the first
    // still rides the connection kept open so far).
    server.set_close_after_each(true);
    for i in 0..3 {
        let url = server.url(&format!("/f{i}"));
        let mut source = HttpSource::new(&mut c, &url, None);
        let mut got = Vec::new();
        pull(&mut source, &mut got, 1000 + i, 4096).unwrap();
    }
    assert_eq!(server.connections(), 3);
    assert_eq!(c.connections_opened(), 3);
}

#[test]
fn redirects_are_followed_and_bounded() {
    let server = MockHttpServer::start().unwrap();
    let fw = firmware(5000);
    server.put_file("/real.bin", fw.clone());
    server.redirect("/a", "/b");
    server.redirect("/b", &server.url("/real.bin"));
    server.redirect("/loop", "/loop");
    let mut c = client();
    let url = server.url("/a");
    let mut source = HttpSource::new(&mut c, &url, None);
    let mut got = Vec::new();
    pull(&mut source, &mut got, fw.len(), 1024).unwrap();
    assert_eq!(got, fw);
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/a", "/b", "/real.bin"]);

    let before = server.requests().len();
    assert_eq!(c.get_range(&server.url("/loop"), 0, None), Err(HttpError::TooManyRedirects));
    assert_eq!(server.requests().len() - before, 6, "the first request and 5 redirects");
    c.set_max_redirects(1);
    let url = server.url("/a");
    let mut source = HttpSource::new(&mut c, &url, None);
    assert_eq!(source.fetch(0, &mut [0u8; 64]), Err(nb::Error::Other(SourceError::Protocol)));
}

#[test]
fn status_codes_map_to_source_errors() {
    let server = MockHttpServer::start().unwrap();
    server.put_file("/fw.bin", firmware(100));
    let mut c = client();
    let missing = server.url("/missing");
    let mut source = HttpSource::new(&mut c, &missing, None);
    assert_eq!(source.fetch(0, &mut [0u8; 64]), Err(nb::Error::Other(SourceError::NotFound)));
    let url = server.url("/fw.bin");
    for (status, expected) in [
        (500, SourceError::Server),
        (503, SourceError::Server),
        (403, SourceError::Unauthorized),
        (401, SourceError::Unauthorized),
    ] {
        server.inject(Fault::Status(status));
        let mut source = HttpSource::new(&mut c, &url, None);
        assert_eq!(source.fetch(0, &mut [0u8; 64]), Err(nb::Error::Other(expected)), "{status}");
    }
    // Offset beyond the end: 416.
    let mut source = HttpSource::new(&mut c, &url, None);
    assert_eq!(source.fetch(100, &mut [0u8; 64]), Err(nb::Error::Other(SourceError::Protocol)));
    // Nothing answers at all.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/x", l.local_addr().unwrap())
    };
    let mut source = HttpSource::new(&mut c, &dead, None);
    assert_eq!(source.fetch(0, &mut [0u8; 64]), Err(nb::Error::Other(SourceError::ConnectionLost)));
    let mut source = HttpSource::new(&mut c, "ftp://x/y", None);
    assert_eq!(source.fetch(0, &mut [0u8; 64]), Err(nb::Error::Other(SourceError::InvalidLocation)));
}

#[test]
fn lying_content_length_is_a_lost_connection() {
    let server = MockHttpServer::start().unwrap();
    let fw = firmware(3000);
    server.put_file("/fw.bin", fw.clone());
    server.inject(Fault::LyingLength(500));
    let url = server.url("/fw.bin");
    let mut c = client();
    let mut source = HttpSource::new(&mut c, &url, None);
    let mut got = Vec::new();
    assert_eq!(pull(&mut source, &mut got, 3500, 256), Err(SourceError::ConnectionLost));
    assert_eq!(got, fw);
}

#[test]
fn slow_body_past_the_read_limit_times_out() {
    let server = MockHttpServer::start().unwrap();
    server.put_file("/fw.bin", firmware(4000));
    // Wide margins: the limit is 1 s, the server pauses 8 s after the first 1000 bytes.
    server.inject(Fault::Slow { chunk: 1000, delay_ms: 8000 });
    let connector = TcpConnector { io_timeout: Duration::from_secs(1), ..TcpConnector::default() };
    let mut c: Client = HttpClient::new(connector);
    let url = server.url("/fw.bin");
    let mut source = HttpSource::new(&mut c, &url, None);
    let mut got = Vec::new();
    assert_eq!(pull(&mut source, &mut got, 4000, 4000), Err(SourceError::Timeout));
    assert_eq!(got.len(), 1000);
    // A slow body within the limit arrives whole.
    server.inject(Fault::Slow { chunk: 500, delay_ms: 5 });
    let mut got = Vec::new();
    pull(&mut source, &mut got, 4000, 4000).unwrap();
    assert_eq!(got, firmware(4000));
}

#[test]
fn bearer_token_is_sent() {
    let server = MockHttpServer::start().unwrap();
    server.put_file("/fw.bin", firmware(10));
    let url = server.url("/fw.bin");
    let mut c = client();
    let mut source = HttpSource::new(&mut c, &url, Some("t0k3n"));
    let mut got = Vec::new();
    pull(&mut source, &mut got, 10, 64).unwrap();
    assert_eq!(server.requests()[0].header("authorization"), Some("Bearer t0k3n"));
}

#[test]
fn enos_edge_exchange_over_json_posts() {
    let edge = EnosEdgeServer::start().unwrap();
    let fw = firmware(20_000);
    let path = edge.set_firmware("dev-1", "v2.0.0.1", fw.clone());
    let endpoints = edge.endpoints::<64>();
    let mut c = client();
    let mut url = heapless::String::<128>::new();
    let mut body = [0u8; 256];
    let mut answer = [0u8; 512];

    endpoints.check_version_url(&mut url).unwrap();
    let n = codec::encode_check_version(
        &CheckVersion { asset_id: "dev-1", version: "1.0.0", serial_num: "1234-5678-90aa" },
        &mut body,
    )
    .unwrap();
    let (status, len) = c.post_json(&url, &body[..n], &mut answer).unwrap();
    assert_eq!(status, 200);
    let CheckVersionAnswer::Update(update) = codec::decode_check_version_answer(&answer[..len]).unwrap()
    else {
        panic!("expected an update")
    };
    assert_eq!((update.version.as_str(), update.download_url), ("v2.0.0.1", path.as_str()));
    assert_eq!(update.digest.md5, Some(<[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(&fw))));

    let mut file_url = heapless::String::<128>::new();
    endpoints.download_url(update.download_url, &mut file_url).unwrap();
    let mut source = HttpSource::new(&mut c, &file_url, None);
    let mut got = Vec::new();
    pull(&mut source, &mut got, fw.len(), 1000).unwrap();
    assert_eq!(got, fw);

    let id = codec::download_id(update.download_url);
    endpoints.download_result_url(id, &mut url).unwrap();
    let n = codec::encode_download_result(&DownloadResult::success("dev-1"), &mut body).unwrap();
    let (status, len) = c.post_json(&url, &body[..n], &mut answer).unwrap();
    assert_eq!(status, 204);
    assert!(codec::decode_status_answer(&answer[..len]).unwrap().accepted(status));

    endpoints.update_result_url(&mut url).unwrap();
    for report in [UpdateResult::in_progress("dev-1", 60), UpdateResult::done("dev-1", "v2.0.0.1")] {
        let n = codec::encode_update_result(&report, &mut body).unwrap();
        let (status, _) = c.post_json(&url, &body[..n], &mut answer).unwrap();
        assert_eq!(status, 204);
    }
    edge.set_report_status(Some(404));
    let n = codec::encode_update_result(&UpdateResult::in_progress("dev-1", 99), &mut body).unwrap();
    let (status, len) = c.post_json(&url, &body[..n], &mut answer).unwrap();
    let answer = codec::decode_status_answer(&answer[..len]).unwrap();
    assert_eq!((status, answer.httpstatus, answer.accepted(status)), (404, Some(404), false));

    let reports = edge.reports();
    let kinds: Vec<ReportKind> = reports.iter().map(|r| r.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            ReportKind::DownloadResult("15912345678".into()),
            ReportKind::UpdateResult,
            ReportKind::UpdateResult,
            ReportKind::UpdateResult
        ]
    );
    assert_eq!(reports[0].json, r#"{"assetId":"dev-1","code":1,"message":"download success"}"#);
    assert_eq!(
        reports[2].json,
        r#"{"assetId":"dev-1","version":"v2.0.0.1","desc":"update completed","flag":2,"process":100,"errcode":0}"#
    );
    assert!(reports.iter().all(|r| r.well_formed));
    assert_eq!(edge.http().connections(), 1, "every call rode one kept-alive connection");

    // Once the device runs the offered version there is no update.
    endpoints.check_version_url(&mut url).unwrap();
    let n = codec::encode_check_version(
        &CheckVersion { asset_id: "dev-1", version: "v2.0.0.1", serial_num: "" },
        &mut body,
    )
    .unwrap();
    let mut answer = [0u8; 512];
    let (_, len) = c.post_json(&url, &body[..n], &mut answer).unwrap();
    assert_eq!(codec::decode_check_version_answer(&answer[..len]), Ok(CheckVersionAnswer::NoUpdate));
    assert_eq!(edge.check_count(), 2);
}

#[test]
fn answer_larger_than_the_buffer_is_an_error() {
    let edge = EnosEdgeServer::start().unwrap();
    edge.set_firmware("d", "2.0", vec![1; 10]);
    let mut c = client();
    let mut url = heapless::String::<128>::new();
    edge.endpoints::<64>().check_version_url(&mut url).unwrap();
    let mut small = [0u8; 16];
    assert_eq!(
        c.post_json(&url, br#"{"assetId":"d","version":"1","serialNum":""}"#, &mut small),
        Err(HttpError::AnswerTooLarge)
    );
}

#[test]
fn edge_answers_bad_requests_and_unknown_paths() {
    let edge = EnosEdgeServer::start().unwrap();
    let mut c = client();
    let mut answer = [0u8; 256];
    let base = edge.base_url();

    let (status, len) = c.post_json(&format!("{base}/nothing/here"), b"{}", &mut answer).unwrap();
    let a = codec::decode_status_answer(&answer[..len]).unwrap();
    assert_eq!((status, a.httpstatus, a.message), (404, Some(404), "unsupported url"));

    let (status, len) = c.post_json(&format!("{base}/updateresult"), b"{not json", &mut answer).unwrap();
    let a = codec::decode_status_answer(&answer[..len]).unwrap();
    assert_eq!((status, a.httpstatus, a.accepted(status)), (400, Some(400), false));
    let reports = edge.reports();
    assert_eq!(reports.len(), 1);
    assert!(!reports[0].well_formed);
    assert_eq!(reports[0].json, "{not json");

    let (status, _) = c.post_json(&format!("{base}/checkversion"), b"[]", &mut answer).unwrap();
    assert_eq!(status, 400);
    // An unknown device has no update.
    let (status, len) = c
        .post_json(&format!("{base}/checkversion"), br#"{"assetId":"who","version":"1"}"#, &mut answer)
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(codec::decode_check_version_answer(&answer[..len]), Ok(CheckVersionAnswer::NoUpdate));
}

/// Stands in for a TLS stack: opens `https` URLs as plain TCP to the same host and port (the
/// mock server speaks plain HTTP), so that redirects out of `https` run on loopback.
struct FakeTls(TcpConnector);

impl Connector for FakeTls {
    type Connection = TcpConnection;
    fn connect(&mut self, _scheme: Scheme, host: &str, port: u16) -> Result<TcpConnection, ConnectError> {
        self.0.connect(Scheme::Http, host, port)
    }
}

fn authorization(server: &MockHttpServer) -> Vec<Option<String>> {
    server.requests().iter().map(|r| r.header("authorization").map(str::to_owned)).collect()
}

#[test]
fn a_same_origin_redirect_keeps_the_token() {
    let server = MockHttpServer::start().unwrap();
    server.put_file("/fw.bin", firmware(3000));
    server.redirect("/a", "/b");
    server.redirect("/b", &server.url("/fw.bin"));
    let mut c = client();
    let url = server.url("/a");
    let mut source = HttpSource::new(&mut c, &url, Some("t0k"));
    let mut got = Vec::new();
    pull(&mut source, &mut got, 3000, 1024).unwrap();
    assert_eq!(got, firmware(3000));
    assert_eq!(authorization(&server), vec![Some("Bearer t0k".to_owned()); 3]);
}

#[test]
fn a_cross_origin_redirect_drops_the_token() {
    let server = MockHttpServer::start().unwrap();
    let cdn = MockHttpServer::start().unwrap();
    cdn.put_file("/fw.bin", firmware(3000));
    server.redirect("/fw", &cdn.url("/fw.bin"));
    let mut c = client();
    let url = server.url("/fw");
    let mut source = HttpSource::new(&mut c, &url, Some("t0k"));
    let mut got = Vec::new();
    pull(&mut source, &mut got, 3000, 1024).unwrap();
    assert_eq!(got, firmware(3000), "the download itself goes on");
    assert_eq!(authorization(&server), [Some("Bearer t0k".to_owned())]);
    assert_eq!(authorization(&cdn), [None], "the other origin never sees the token");

    // Nor when the chain comes back: server → cdn → server again.
    server.redirect("/back", "/fw.bin");
    server.put_file("/fw.bin", firmware(10));
    cdn.redirect("/hop", &server.url("/back"));
    server.redirect("/start", &cdn.url("/hop"));
    let before = server.requests().len();
    let mut c = client();
    c.get_range(&server.url("/start"), 0, Some("t0k")).unwrap();
    let sent = authorization(&server);
    assert_eq!(sent[before..], [Some("Bearer t0k".to_owned()), None, None]);
    assert_eq!(authorization(&cdn)[1..], [None]);
}

#[test]
fn an_https_url_redirected_to_http_is_refused() {
    let server = MockHttpServer::start().unwrap();
    server.put_file("/fw.bin", firmware(100));
    server.redirect("/tls", &server.url("/fw.bin"));
    let port = server.addr().port();
    let mut c: HttpClient<FakeTls, 1024> = HttpClient::new(FakeTls(TcpConnector::default()));
    let url = format!("https://127.0.0.1:{port}/tls");
    assert_eq!(c.get_range(&url, 0, Some("t0k")), Err(HttpError::InsecureRedirect));
    assert_eq!(server.requests().len(), 1, "nothing went out over plain http");
    let mut source = HttpSource::new(&mut c, &url, Some("t0k"));
    assert_eq!(
        source.fetch(0, &mut [0u8; 64]),
        Err(nb::Error::Other(SourceError::InvalidLocation)),
        "not retryable"
    );
    assert!(!SourceError::InvalidLocation.is_transient());
    // https to https elsewhere is followed, without the token; http to https is followed.
    let cdn = MockHttpServer::start().unwrap();
    cdn.put_file("/fw.bin", firmware(100));
    server.redirect("/tls2", &format!("https://127.0.0.1:{}/fw.bin", cdn.addr().port()));
    assert_eq!(c.get_range(&format!("https://127.0.0.1:{port}/tls2"), 0, Some("t0k")).unwrap().status, 200);
    assert_eq!(authorization(&cdn), [None]);
    assert_eq!(c.get_range(&server.url("/tls2"), 0, None).unwrap().status, 200);
}

#[test]
fn a_redirect_loop_across_origins_is_bounded() {
    let a = MockHttpServer::start().unwrap();
    let b = MockHttpServer::start().unwrap();
    a.redirect("/ping", &b.url("/pong"));
    b.redirect("/pong", &a.url("/ping"));
    let mut c = client();
    assert_eq!(c.get_range(&a.url("/ping"), 0, Some("t0k")), Err(HttpError::TooManyRedirects));
    assert_eq!(a.requests().len() + b.requests().len(), 6, "the first request and 5 redirects");
    let with_token = authorization(&a).iter().chain(&authorization(&b)).filter(|h| h.is_some()).count();
    assert_eq!(with_token, 1, "only the first request carried the token");
}

/// A connection that hands out its answer `per_read` bytes at a time, each read taking
/// `read_ms` on the shared clock (inside any per-read limit: every read returns data).
struct Trickle {
    clock: ManualClock,
    answer: std::collections::VecDeque<u8>,
    per_read: usize,
    read_ms: u64,
    reads: std::rc::Rc<std::cell::Cell<usize>>,
}

impl embedded_io::ErrorType for Trickle {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, embedded_io::ErrorKind> {
        self.clock.advance(self.read_ms);
        self.reads.set(self.reads.get() + 1);
        let n = buf.len().min(self.per_read).min(self.answer.len());
        for b in &mut buf[..n] {
            *b = self.answer.pop_front().unwrap();
        }
        Ok(n)
    }
}

impl embedded_io::Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> Result<usize, embedded_io::ErrorKind> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), embedded_io::ErrorKind> {
        Ok(())
    }
}

/// Every connection plays `answer` as a [`Trickle`].
struct Slowloris {
    clock: ManualClock,
    answer: Vec<u8>,
    per_read: usize,
    read_ms: u64,
    reads: std::rc::Rc<std::cell::Cell<usize>>,
}

impl Slowloris {
    fn new(clock: &ManualClock, answer: &[u8], per_read: usize, read_ms: u64) -> Self {
        Self { clock: clock.clone(), answer: answer.to_vec(), per_read, read_ms, reads: Default::default() }
    }
}

impl Connector for Slowloris {
    type Connection = Trickle;
    fn connect(&mut self, _: Scheme, _: &str, _: u16) -> Result<Trickle, ConnectError> {
        Ok(Trickle {
            clock: self.clock.clone(),
            answer: self.answer.iter().copied().collect(),
            per_read: self.per_read,
            read_ms: self.read_ms,
            reads: std::rc::Rc::clone(&self.reads),
        })
    }
}

/// A head of about 400 bytes: many one-byte reads.
fn long_head() -> Vec<u8> {
    let mut head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n".to_vec();
    for i in 0..12 {
        head.extend_from_slice(format!("X-Padding-{i}: {}\r\n", "p".repeat(16)).as_bytes());
    }
    head.extend_from_slice(b"\r\nok");
    head
}

#[test]
fn a_slowloris_head_is_cut_off_at_the_head_deadline() {
    let clock = ManualClock::new();
    // One byte per read, 100 ms each: every read well inside a per-read limit, the whole
    // head ~40 s.
    let server = Slowloris::new(&clock, &long_head(), 1, 100);
    let reads = std::rc::Rc::clone(&server.reads);
    let mut c: HttpClient<_, 1024, 512, _> = HttpClient::with_clock(server, clock.clone());
    c.set_head_timeout_ms(2_000);
    assert_eq!(c.get_range("http://h/fw", 0, None), Err(HttpError::HeadTimeout));
    assert_eq!(clock.now_ms(), 2_000, "cut at the first read past the deadline");
    assert_eq!(reads.get(), 20, "20 bytes taken, not 400");
    assert_eq!(HttpError::HeadTimeout.source_error(), SourceError::Timeout, "retryable");

    // Each request has its own deadline, which the default (30 s) sets too.
    let mut c: HttpClient<_, 1024, 512, _> =
        HttpClient::with_clock(Slowloris::new(&clock, &long_head(), 1, 100), clock.clone());
    let start = clock.now_ms();
    assert_eq!(c.get_range("http://h/fw", 0, None), Err(HttpError::HeadTimeout));
    assert_eq!(
        clock.now_ms() - start,
        u64::from(ota_client::transport::http::client::DEFAULT_HEAD_TIMEOUT_MS)
    );

    // The same head within the deadline is taken; without a clock there is no deadline.
    let mut c: HttpClient<_, 1024, 512, _> =
        HttpClient::with_clock(Slowloris::new(&clock, &long_head(), 1, 4), clock.clone());
    c.set_head_timeout_ms(2_000);
    assert_eq!(c.get_range("http://h/fw", 0, None).unwrap().status, 200);
    let mut c: HttpClient<_, 1024> = HttpClient::new(Slowloris::new(&clock, &long_head(), 1, 100));
    assert_eq!(c.get_range("http://h/fw", 0, None).unwrap().status, 200);
}

#[test]
fn interim_heads_count_against_the_head_deadline() {
    let clock = ManualClock::new();
    // Three `100 Continue` heads, one per 700 ms read, then the final head.
    let mut answer = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(3);
    answer.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let mut c: HttpClient<_, 1024, 512, _> =
        HttpClient::with_clock(Slowloris::new(&clock, &answer, 25, 700), clock.clone());
    c.set_head_timeout_ms(2_000);
    assert_eq!(c.get_range("http://h/fw", 0, None), Err(HttpError::HeadTimeout));
    assert_eq!(clock.now_ms(), 2_100, "three reads, then the deadline had passed");
    // More than four interim heads is refused however fast they come.
    let mut answer = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(5);
    answer.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let mut c: HttpClient<_, 1024, 512, _> =
        HttpClient::with_clock(Slowloris::new(&clock, &answer, 1000, 1), clock.clone());
    assert_eq!(c.get_range("http://h/fw", 0, None), Err(HttpError::TooManyInterim));
}
