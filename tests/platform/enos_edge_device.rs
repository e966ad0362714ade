//! The EnOS Edge device flow end to end over real TCP on loopback: `EdgeDevice` (Agent +
//! SimFlash + BootControl + the HTTP client over `TcpStream`) against the mock Edge server,
//! and the same device downloading from nginx.
//!
//! Reboots are simulated as in `agent_lifecycle.rs`: `BootLoader::prepare_boot` on the same
//! flash, then a new Agent and a new device. Time is simulated (`now` advances 10 ms a poll),
//! so no assert depends on speed.

use crate::support;

use ota_client::FailureCause;
use ota_client::agent::{Decision, OfferOutcome, Startup};
use ota_client::boot::{Phase, Strategy};
use ota_client::mock::CutKind;
use ota_client::mock::enos_edge_server::{EdgeReport, EnosEdgeServer, ReportKind};
use ota_client::mock::http_server::{Fault, MockResponse};
use ota_client::platform::Event;
use ota_client::platform::enos_edge::{
    EdgeCallKind, EdgeConfig, EdgeDevice, EdgeEndpoints, EdgeError, UpgradeMode,
};
use ota_client::transport::http::{HttpClient, HttpError, HttpTransport, Response, TcpConnector};
use support::nginx::{Nginx, firmware};
use support::sim_device::{App, E, SimDevice, Store, unsigned, v};

const ASSET: &str = "ZR3c5CfFSO";
const SERIAL: &str = "1234-5678-90aa";
const CHUNK: usize = 1024;
/// The engine's checkpoint interval with the default config: one erase sector.
const INTERVAL: u64 = E as u64;
const IMAGE_LEN: usize = 100_003;

/// The library's HTTP client, wrapped to count the body bytes it hands out and the
/// ranged GETs it sends: the device works over any `HttpTransport`.
struct Counting {
    inner: HttpClient<TcpConnector, 1024>,
    body_bytes: u64,
    gets: Vec<u64>,
}

impl Counting {
    fn new() -> Self {
        Self { inner: HttpClient::new(TcpConnector::default()), body_bytes: 0, gets: Vec::new() }
    }
}

impl HttpTransport for Counting {
    fn get_range(&mut self, url: &str, offset: u64, bearer: Option<&str>) -> Result<Response, HttpError> {
        self.gets.push(offset);
        self.inner.get_range(url, offset, bearer)
    }
    fn read_body(&mut self, out: &mut [u8]) -> Result<usize, HttpError> {
        let n = self.inner.read_body(out)?;
        self.body_bytes += n as u64;
        Ok(n)
    }
    fn post_json(&mut self, url: &str, json: &[u8], answer: &mut [u8]) -> Result<(u16, usize), HttpError> {
        self.inner.post_json(url, json, answer)
    }
    fn close(&mut self) {
        self.inner.close();
    }
}

/// What one poll did as the tests compare it: the device's [`Event`] with the Edge's detail
/// the device keeps ([`EdgeDevice::last_call`], [`EdgeDevice::last_error`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Idle,
    NoUpdate,
    Offered(OfferOutcome),
    Ignored,
    BadOffer(FailureCause),
    Waiting,
    Downloading {
        percent: u8,
    },
    Staged,
    UpdateFailed(FailureCause),
    Reported(EdgeCallKind),
    ReportRejected {
        call: EdgeCallKind,
        status: u16,
    },
    /// A check or a report call failed; tried again later.
    Retry(EdgeError),
    Reboot,
    Other(Event),
}

impl Seen {
    fn of(dev: &Device, event: Event) -> Self {
        match event {
            Event::Idle => Self::Idle,
            Event::NoUpdate => Self::NoUpdate,
            Event::Offered(o) => Self::Offered(o),
            Event::Ignored => Self::Ignored,
            Event::Unusable(c) => Self::BadOffer(c),
            Event::Waiting => Self::Waiting,
            Event::Downloading { percent } => Self::Downloading { percent },
            Event::Staged => Self::Staged,
            Event::Failed(c) => Self::UpdateFailed(c),
            Event::Reported => Self::Reported(dev.last_call().expect("a call was answered")),
            Event::ReportRejected { status } => {
                Self::ReportRejected { call: dev.last_call().expect("a call was refused"), status }
            }
            Event::Retry(kind) => {
                let e = dev.last_error().expect("an exchange failed");
                assert_eq!(e.source_error(), kind, "the event's kind is its error's");
                Self::Retry(e)
            }
            Event::Reboot => Self::Reboot,
            other => Self::Other(other),
        }
    }
}

type Device = EdgeDevice<Counting, Store, App>;

/// A [`SimDevice`] whose firmware runs an [`EdgeDevice`] in simulated time.
struct Rig {
    sim: SimDevice,
    now: u64,
    mode: UpgradeMode,
    /// The `assetId` the device is configured with.
    asset: &'static str,
}

impl Rig {
    fn new() -> Self {
        Self { sim: SimDevice::new(Strategy::Select), now: 0, mode: UpgradeMode::UponRequest, asset: ASSET }
    }

    /// A boot of the firmware (after [`SimDevice::reset`], or the first one): a new Agent
    /// and device over a new connection.
    fn boot(&mut self, running: &str, endpoints: EdgeEndpoints) -> (Device, Startup) {
        let agent = self.sim.agent(running, unsigned());
        let mut config = EdgeConfig::new(endpoints, self.asset, SERIAL).unwrap();
        config.poll_interval_ms = 1_000;
        config.report_retry_ms = 500;
        config.mode = self.mode;
        let mut device = EdgeDevice::new(agent, config, Counting::new());
        let startup = device.start(self.now).unwrap();
        (device, startup)
    }

    fn step(&mut self, dev: &mut Device) -> Seen {
        self.now += 10;
        let mut buf = [0u8; CHUNK];
        let event = dev.poll(&mut buf, self.now);
        Seen::of(dev, event)
    }

    /// Polls until `stop` holds for an event; returns every event seen.
    fn run_until(&mut self, dev: &mut Device, mut stop: impl FnMut(&Seen) -> bool) -> Vec<Seen> {
        let mut events = Vec::new();
        for _ in 0..100_000 {
            let e = self.step(dev);
            events.push(e);
            if stop(&e) {
                return events;
            }
        }
        panic!("flow never reached the expected event; last: {:?}", &events[events.len() - 5..]);
    }

    /// Polls until something happens; returns that event.
    fn next(&mut self, dev: &mut Device) -> Seen {
        *self.run_until(dev, |e| *e != Seen::Idle).last().unwrap()
    }

    /// Polls until no report waits (and at least one poll happened).
    fn deliver_all(&mut self, dev: &mut Device) -> Vec<Seen> {
        let mut events = Vec::new();
        for _ in 0..1_000 {
            events.push(self.step(dev));
            if !dev.report_pending() {
                return events;
            }
        }
        panic!("reports never delivered: {:?}", &events[events.len() - 5..]);
    }
}

fn progress(process: u8) -> String {
    format!(
        r#"{{"assetId":"{ASSET}","version":"","desc":"updating","flag":1,"process":{process},"errcode":0}}"#
    )
}

fn download_result(code: u8, message: &str) -> String {
    format!(r#"{{"assetId":"{ASSET}","code":{code},"message":"{message}"}}"#)
}

fn update_result(version: &str, desc: &str, flag: u8, process: u8, errcode: i32) -> String {
    format!(
        r#"{{"assetId":"{ASSET}","version":"{version}","desc":"{desc}","flag":{flag},"process":{process},"errcode":{errcode}}}"#
    )
}

/// The reports as (endpoint, body) pairs, for exact comparison.
fn bodies(reports: &[EdgeReport]) -> Vec<(String, String)> {
    reports
        .iter()
        .map(|r| {
            assert!(r.well_formed, "{}", r.json);
            let at = match &r.kind {
                ReportKind::DownloadResult(id) => format!("/downloadresult/{id}"),
                ReportKind::UpdateResult => "/updateresult".to_owned(),
            };
            (at, r.json.clone())
        })
        .collect()
}

fn upd(body: String) -> (String, String) {
    ("/updateresult".to_owned(), body)
}

/// The progress reports a download from `from_percent` sends: every 10 % from the first.
fn progress_reports(processes: &[u8]) -> Vec<(String, String)> {
    processes.iter().map(|&p| upd(progress(p))).collect()
}

/// The `process` values of the progress reports in `reports`.
fn processes(reports: &[EdgeReport]) -> Vec<u8> {
    reports
        .iter()
        .filter(|r| r.json.contains(r#""flag":1"#))
        .map(|r| {
            let at = r.json.find(r#""process":"#).unwrap() + 10;
            r.json[at..].split(',').next().unwrap().parse().unwrap()
        })
        .collect()
}

/// The offsets of the GETs of `path` the mock server saw (0 for a GET without Range).
fn range_starts(server: &EnosEdgeServer, path: &str) -> Vec<u64> {
    server
        .http()
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == path)
        .map(|r| match r.header("Range") {
            None => 0,
            Some(h) => h.strip_prefix("bytes=").unwrap().trim_end_matches('-').parse().unwrap(),
        })
        .collect()
}

/// Downloads, stages, reboots and confirms; returns the reports of both boots.
fn update_to_staged(rig: &mut Rig, dev: &mut Device) {
    rig.run_until(dev, |e| *e == Seen::Staged);
    rig.deliver_all(dev);
    assert_eq!(rig.sim.app.reboots.get(), 1);
}

fn confirm_after_reboot(rig: &mut Rig, endpoints: EdgeEndpoints, fw: &[u8]) -> Device {
    let slot = rig.sim.reset();
    assert!(rig.sim.slot_holds(slot, fw), "the trial slot holds the new image");
    let (mut dev, startup) = rig.boot("2.0.0", endpoints);
    assert_eq!(startup, Startup::Confirmed(v("2.0.0")));
    rig.deliver_all(&mut dev);
    assert_eq!(rig.next(&mut dev), Seen::NoUpdate);
    assert!(matches!(rig.sim.boot_state().phase, Phase::Idle));
    dev
}

#[test]
fn full_update_end_to_end_with_exact_reports() {
    let server = EnosEdgeServer::start().unwrap();
    let fw = firmware(IMAGE_LEN);
    let path = server.set_firmware(ASSET, "2.0.0", fw.clone());
    let id = path.rsplit('/').next().unwrap().to_owned();
    let mut rig = Rig::new();
    let (mut dev, startup) = rig.boot("1.0.0", server.endpoints());
    assert_eq!(startup, Startup::Normal);

    let first = rig.next(&mut dev);
    assert_eq!(first, Seen::Offered(OfferOutcome::Accepted));
    assert_eq!(rig.sim.app.decided(), 1, "upon device request: the application decided");
    assert_eq!(dev.download_url(), server.base_url() + &path, "relative path resolved against the base");
    update_to_staged(&mut rig, &mut dev);
    assert!(matches!(rig.sim.boot_state().phase, Phase::Staged { .. }));
    assert_eq!(rig.sim.checkpoint(), None, "the Agent cleared the checkpoint after staging");
    // Staged and every report delivered: the device asks for the reboot, and checks no more.
    let checks = dev.stats().checks;
    let again = rig.next(&mut dev);
    assert_eq!(again, Seen::Reboot);
    assert_eq!(rig.step(&mut dev), Seen::Reboot, "until the reset");
    assert_eq!(dev.stats().checks, checks, "no checkversion while the reboot is due");
    assert_eq!(dev.transport_mut().body_bytes, IMAGE_LEN as u64, "every byte fetched once");
    assert_eq!(dev.stats().probes, 1, "the size came from the first answer's Content-Length");
    confirm_after_reboot(&mut rig, server.endpoints(), &fw);

    let reports = server.reports();
    let procs = processes(&reports);
    assert_eq!(procs.first(), Some(&0));
    assert_eq!(procs.last(), Some(&100));
    assert!(procs.windows(2).all(|w| w[1] >= w[0] + 10 || (w[1] > w[0] && w[1] == 100)), "{procs:?}");
    let mut expected = progress_reports(&procs);
    expected.push((format!("/downloadresult/{id}"), download_result(1, "download success")));
    expected.push(upd(update_result("2.0.0", "update completed", 2, 100, 0)));
    assert_eq!(bodies(&reports), expected);

    // The probe is the first GET (no Range); every other GET resumes where the last stopped.
    let starts = range_starts(&server, &path);
    assert_eq!(starts.first(), Some(&0));
    assert!(starts.windows(2).all(|w| w[1] > w[0]), "{starts:?}");
}

#[test]
fn forced_push_needs_no_decision_and_a_declined_offer_is_reported() {
    let server = EnosEdgeServer::start().unwrap();
    let fw = firmware(20_000);
    server.set_firmware(ASSET, "2.0.0", fw.clone());

    // Upon device request, declined: flag 0 errcode -5 with the running version, nothing written.
    let mut rig = Rig::new();
    rig.sim.app.decline(true);
    let (mut dev, _) = rig.boot("1.0.0", server.endpoints());
    let before = rig.sim.boot_state();
    let first = rig.next(&mut dev);
    assert_eq!(first, Seen::Offered(OfferOutcome::Refused(FailureCause::DeclinedByApplication)));
    rig.deliver_all(&mut dev);
    let declined = update_result("1.0.0", FailureCause::DeclinedByApplication.description(), 0, 0, -5);
    assert_eq!(bodies(&server.reports()), [upd(declined)]);
    // Not offered again every poll; asked again after `reconsider`.
    assert_eq!(rig.next(&mut dev), Seen::Ignored);
    dev.reconsider();
    dev.check_now();
    rig.sim.app.decision.set(Some(Decision::AcceptNow));
    let next = rig.next(&mut dev);
    assert_eq!(next, Seen::Offered(OfferOutcome::Accepted));
    assert_eq!(rig.sim.app.decided(), 2);
    drop(dev);
    assert_eq!(rig.sim.boot_state(), before);

    // Forced push: the application's decide is never asked.
    let mut rig = Rig::new();
    rig.mode = UpgradeMode::ForcedPush;
    rig.sim.app.decline(true);
    let (mut dev, _) = rig.boot("1.0.0", server.endpoints());
    update_to_staged(&mut rig, &mut dev);
    assert_eq!(rig.sim.app.decided(), 0);
    confirm_after_reboot(&mut rig, server.endpoints(), &fw);
}

/// Bytes fetched for one image with one interruption: at most one checkpoint interval and
/// one chunk again.
fn assert_fetch_bound(total: u64) {
    let bound = IMAGE_LEN as u64 + INTERVAL + CHUNK as u64;
    eprintln!(
        "fetched {total} bytes for a {IMAGE_LEN}-byte image ({} again), bound {bound}",
        total - IMAGE_LEN as u64
    );
    assert!(total >= IMAGE_LEN as u64 && total <= bound, "fetched {total}, bound {bound}");
}

#[test]
fn connection_cut_mid_download_resumes_with_range() {
    let server = EnosEdgeServer::start().unwrap();
    let fw = firmware(IMAGE_LEN);
    let path = server.set_firmware(ASSET, "2.0.0", fw.clone());
    let mut rig = Rig::new();
    let (mut dev, _) = rig.boot("1.0.0", server.endpoints());
    // Cut the answer that follows the 30 % report, 3000 bytes into its body.
    rig.run_until(
        &mut dev,
        |e| matches!(e, Seen::Reported(EdgeCallKind::UpdateResult { flag: 1, process }) if *process >= 30),
    );
    server.http().inject(Fault::CloseAfter(3_000));
    update_to_staged(&mut rig, &mut dev);
    let starts = range_starts(&server, &path);
    let cut_at = starts.windows(2).find(|w| w[1] == w[0] + 3_000);
    assert!(cut_at.is_some(), "a Range request resumed exactly where the cut answer stopped: {starts:?}");
    assert!(starts.windows(2).all(|w| w[1] > w[0]), "never fetched backwards: {starts:?}");
    assert_fetch_bound(dev.transport_mut().body_bytes);
    confirm_after_reboot(&mut rig, server.endpoints(), &fw);
    assert!(server.reports().last().unwrap().json.contains(r#""flag":2"#));
}

/// Runs a download until `percent`, cuts the power at the next flash write, reboots and
/// resumes; returns the checkpoint offset the resume must start from and the bytes fetched.
fn power_cut_and_resume(rig: &mut Rig, endpoints: &EdgeEndpoints, fw: &[u8]) -> (u64, u64) {
    let (mut dev, _) = rig.boot("1.0.0", endpoints.clone());
    rig.run_until(&mut dev, |e| matches!(e, Seen::Downloading { percent } if *percent >= 45));
    rig.sim.power_cut(3, CutKind::MidWrite);
    for _ in 0..1_000 {
        rig.step(&mut dev);
        if !rig.sim.is_powered() {
            break;
        }
    }
    assert!(!rig.sim.is_powered(), "the power cut struck");
    let before = dev.transport_mut().body_bytes;
    drop(dev);

    // Reboot: the bootloader, then a new Agent and device over a new connection.
    rig.sim.reset();
    let checkpoint = rig.sim.checkpoint().expect("a checkpoint survived the cut");
    assert!(checkpoint.written > 0);
    assert_eq!(checkpoint.size as usize, fw.len());
    let (mut dev, startup) = rig.boot("1.0.0", endpoints.clone());
    assert_eq!(startup, Startup::Normal);
    update_to_staged(rig, &mut dev);
    assert_eq!(dev.stats().probes, 0, "the size came from the checkpoint");
    let t = dev.transport_mut();
    assert_eq!(t.gets.first(), Some(&u64::from(checkpoint.written)), "the first GET after the reboot");
    (u64::from(checkpoint.written), before + t.body_bytes)
}

#[test]
fn power_cut_mid_download_resumes_with_range_after_reboot() {
    let server = EnosEdgeServer::start().unwrap();
    let fw = firmware(IMAGE_LEN);
    let path = server.set_firmware(ASSET, "2.0.0", fw.clone());
    let mut rig = Rig::new();
    let (resumed_at, fetched) = power_cut_and_resume(&mut rig, &server.endpoints(), &fw);
    assert!(resumed_at > 0);
    assert!(range_starts(&server, &path).contains(&resumed_at), "the server saw Range: bytes={resumed_at}-");
    assert_fetch_bound(fetched);
    confirm_after_reboot(&mut rig, server.endpoints(), &fw);
    let reports = server.reports();
    assert_eq!(reports.last().unwrap().json, update_result("2.0.0", "update completed", 2, 100, 0));
    assert_eq!(
        reports.iter().filter(|r| matches!(r.kind, ReportKind::DownloadResult(_))).count(),
        1,
        "one downloadresult"
    );
}

#[test]
fn md5_mismatch_reports_failure_and_stages_nothing() {
    let server = EnosEdgeServer::start().unwrap();
    let fw = firmware(30_000);
    let path = server.set_firmware_with_md5(ASSET, "2.0.0", fw, "0123456789abcdef0123456789abcdef");
    let id = path.rsplit('/').next().unwrap().to_owned();
    let mut rig = Rig::new();
    let (mut dev, _) = rig.boot("1.0.0", server.endpoints());
    let before = rig.sim.boot_state();
    let events = rig.run_until(&mut dev, |e| matches!(e, Seen::UpdateFailed(_)));
    assert_eq!(events.last(), Some(&Seen::UpdateFailed(FailureCause::IntegrityCheckFailure)));
    rig.deliver_all(&mut dev);
    assert_eq!(rig.sim.app.reboots.get(), 0);
    assert_eq!(rig.sim.boot_state(), before, "nothing staged");
    assert_eq!(rig.sim.checkpoint(), None);
    // The same bad offer is not downloaded again at every poll.
    assert_eq!(rig.next(&mut dev), Seen::Ignored);

    let reports = server.reports();
    let mut expected = progress_reports(&processes(&reports));
    let why = FailureCause::IntegrityCheckFailure.description();
    expected.push((format!("/downloadresult/{id}"), download_result(0, why)));
    expected.push(upd(update_result("1.0.0", why, 0, 0, -3)));
    assert_eq!(bodies(&reports), expected);
}

#[test]
fn reports_are_retried_until_the_edge_acknowledges_them() {
    let server = EnosEdgeServer::start().unwrap();
    let fw = firmware(20_000);
    server.set_firmware(ASSET, "2.0.0", fw.clone());
    let mut rig = Rig::new();
    let (mut dev, _) = rig.boot("1.0.0", server.endpoints());
    update_to_staged(&mut rig, &mut dev);
    drop(dev);

    // After the reboot the Edge answers {"httpstatus":500}: the success report stays queued,
    // survives another reboot, and goes through once the Edge accepts it.
    server.set_report_status(Some(500));
    rig.sim.reset();
    let (mut dev, startup) = rig.boot("2.0.0", server.endpoints());
    assert_eq!(startup, Startup::Confirmed(v("2.0.0")));
    let first = rig.step(&mut dev);
    assert_eq!(first, Seen::Retry(EdgeError::Status(500)));
    assert!(dev.report_pending());
    drop(dev);
    rig.sim.reset();
    let (mut dev, _) = rig.boot("2.0.0", server.endpoints());
    assert_eq!(rig.step(&mut dev), Seen::Retry(EdgeError::Status(500)));
    server.set_report_status(None);
    let events = rig.deliver_all(&mut dev);
    assert!(events.contains(&Seen::Reported(EdgeCallKind::UpdateResult { flag: 2, process: 100 })));
    let done = update_result("2.0.0", "update completed", 2, 100, 0);
    let sent: Vec<_> = server.reports().into_iter().filter(|r| r.json == done).collect();
    assert_eq!(sent.len(), 3, "sent until acknowledged");
    // Delivered: a new boot has nothing to send.
    drop(dev);
    rig.sim.reset();
    let (dev, startup) = rig.boot("2.0.0", server.endpoints());
    assert_eq!(startup, Startup::Normal);
    assert!(!dev.report_pending());
}

/// One checkversion with `answer`; returns the event and the reports it caused.
fn answer_case(answer: MockResponse) -> (Seen, Vec<EdgeReport>) {
    let server = EnosEdgeServer::start().unwrap();
    server.set_firmware(ASSET, "2.0.0", firmware(5_000));
    server.set_check_version_answer(Some(answer));
    let mut rig = Rig::new();
    let (mut dev, _) = rig.boot("1.0.0", server.endpoints());
    let before = rig.sim.boot_state();
    let event = rig.next(&mut dev);
    rig.deliver_all(&mut dev);
    for _ in 0..200 {
        rig.step(&mut dev);
    }
    assert_eq!(rig.sim.boot_state(), before, "nothing staged");
    assert_eq!(rig.sim.app.reboots.get(), 0);
    (event, server.reports())
}

fn json(status: u16, body: &str) -> MockResponse {
    MockResponse::json(status, body.as_bytes().to_vec())
}

const MD5: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn bad_answers_give_clear_errors_and_no_panic() {
    // Extra fields are tolerated.
    let extra = format!(
        r#"{{"assetId":"{ASSET}","version":"1.0.0","code":0,"desc":"no update","signMethod":"","sign":"","downloadurl":"","x":{{"y":[1,2]}},"fileSize":9}}"#
    );
    assert_eq!(answer_case(json(200, &extra)).0, Seen::NoUpdate);

    // An update answer missing its digest: flag 0, errcode -12 (invalid offer).
    let missing = format!(
        r#"{{"assetId":"{ASSET}","version":"2.0.0","code":1,"desc":"has update","downloadurl":"/version/1"}}"#
    );
    let (event, reports) = answer_case(json(200, &missing));
    assert_eq!(event, Seen::BadOffer(FailureCause::InvalidOffer));
    let why = FailureCause::InvalidOffer.description();
    assert_eq!(bodies(&reports), [upd(update_result("1.0.0", why, 0, 0, -12))]);

    // A downloadurl that is not a URL: errcode -9 (invalid URI).
    for url in ["version 1", "http://[::1", "ftp//x"] {
        let bad = format!(
            r#"{{"assetId":"{ASSET}","version":"2.0.0","code":1,"desc":"has update","signMethod":"MD5","sign":"{MD5}","downloadurl":"{url}"}}"#
        );
        let (event, reports) = answer_case(json(200, &bad));
        assert_eq!(event, Seen::BadOffer(FailureCause::InvalidUri), "{url}");
        let why = FailureCause::InvalidUri.description();
        assert_eq!(bodies(&reports), [upd(update_result("1.0.0", why, 0, 0, -9))], "{url}");
    }

    // A download path the Edge does not serve: errcode -7 (file not found).
    let gone = format!(
        r#"{{"assetId":"{ASSET}","version":"2.0.0","code":1,"desc":"has update","signMethod":"MD5","sign":"{MD5}","downloadurl":"/version/404"}}"#
    );
    let (event, reports) = answer_case(json(200, &gone));
    assert_eq!(event, Seen::BadOffer(FailureCause::FileNotFound));
    let why = FailureCause::FileNotFound.description();
    assert_eq!(bodies(&reports), [upd(update_result("1.0.0", why, 0, 0, -7))]);

    // Errors of the exchange itself: no report, the next check follows the interval.
    let cases = [
        (json(500, r#"{"httpstatus":500,"message":"internal"}"#), EdgeError::Status(500)),
        (json(404, r#"{"httpstatus":404,"message":"unsupported url"}"#), EdgeError::Status(404)),
        (
            json(200, r#"{"assetId":"x","code":1"#),
            EdgeError::Codec(ota_client::platform::enos_edge::CodecError::Malformed),
        ),
        (json(200, "not json"), EdgeError::Codec(ota_client::platform::enos_edge::CodecError::Malformed)),
        (
            json(200, r#"{"assetId":"x","code":7}"#),
            EdgeError::Codec(ota_client::platform::enos_edge::CodecError::UnknownCode),
        ),
        (
            json(200, r#"{"assetId":"x"}"#),
            EdgeError::Codec(ota_client::platform::enos_edge::CodecError::MissingField),
        ),
    ];
    for (answer, error) in cases {
        let (event, reports) = answer_case(answer);
        assert_eq!(event, Seen::Retry(error));
        assert!(reports.is_empty(), "{reports:?}");
    }
}

#[test]
fn an_answer_that_repeats_a_key_is_refused_and_reported() {
    let good = format!(
        r#"{{"assetId":"{ASSET}","version":"2.0.0","code":1,"desc":"has update","signMethod":"MD5","sign":"{MD5}","downloadurl":"/version/1"}}"#
    );
    let why = FailureCause::InvalidOffer.description();
    for (find, twice) in [
        (r#""version":"#, r#""version":"9.9.9","version":"#.to_owned()),
        (r#""version":"#, r#""ver\u0073ion":"9.9.9","version":"#.to_owned()),
        (r#""sign":"#, format!(r#""sign":"{}","sign":"#, "f".repeat(32))),
        (r#""sign":"#, format!(r#""si\u0067n":"{}","sign":"#, "f".repeat(32))),
        (r#""downloadurl":"#, r#""downloadurl":"http://evil/x","downloadurl":"#.to_owned()),
        (r#""downloadurl":"#, r#""downloadur\u006C":"http://evil/x","downloadurl":"#.to_owned()),
    ] {
        let attack = good.replacen(find, &twice, 1);
        assert_ne!(attack, good);
        let (event, reports) = answer_case(json(200, &attack));
        assert_eq!(event, Seen::BadOffer(FailureCause::InvalidOffer), "{attack}");
        assert_eq!(bodies(&reports), [upd(update_result("1.0.0", why, 0, 0, -12))], "{attack}");
    }
}

#[test]
fn server_errors_on_the_download_are_retried() {
    let server = EnosEdgeServer::start().unwrap();
    let fw = firmware(20_000);
    server.set_firmware(ASSET, "2.0.0", fw.clone());
    // The size probe meets a 500: retried at the next check, no report.
    server.http().inject(Fault::Status(500));
    let mut rig = Rig::new();
    let (mut dev, _) = rig.boot("1.0.0", server.endpoints());
    let first = rig.next(&mut dev);
    assert!(matches!(first, Seen::Retry(EdgeError::Probe(_))), "{first:?}");
    assert!(!dev.report_pending());
    let next = rig.next(&mut dev);
    assert_eq!(next, Seen::Offered(OfferOutcome::Accepted));
    // A 500 in the middle: the engine backs off and resumes.
    server.http().inject(Fault::Status(500));
    update_to_staged(&mut rig, &mut dev);
    confirm_after_reboot(&mut rig, server.endpoints(), &fw);
}

#[test]
fn downloads_and_resumes_against_nginx() {
    let edge = EnosEdgeServer::start().unwrap();
    let fw = firmware(IMAGE_LEN);
    let path = edge.set_firmware(ASSET, "2.0.0", fw.clone());
    let nginx = Nginx::start(&[(path.trim_start_matches('/'), &fw)]);
    // checkversion and the reports at the mock Edge; the relative downloadurl resolves
    // against the download base, which points at nginx.
    let mut endpoints: EdgeEndpoints = edge.endpoints();
    EdgeEndpoints::set(&mut endpoints.download, &nginx.url("")).unwrap();

    let mut rig = Rig::new();
    let (resumed_at, fetched) = power_cut_and_resume(&mut rig, &endpoints, &fw);
    assert_fetch_bound(fetched);
    confirm_after_reboot(&mut rig, endpoints, &fw);

    let access = nginx.log("access.log");
    assert!(access.contains(&format!("\"GET {path} HTTP/1.1\" 200")), "{access}");
    assert!(access.contains(&format!("\"GET {path} HTTP/1.1\" 206 range=bytes={resumed_at}-")), "{access}");
    let reports = edge.reports();
    assert_eq!(reports.last().unwrap().json, update_result("2.0.0", "update completed", 2, 100, 0));
}

#[test]
fn an_answer_with_file_size_and_an_absolute_url_needs_no_probe() {
    let server = EnosEdgeServer::start().unwrap();
    let fw = firmware(20_000);
    let path = server.set_firmware(ASSET, "2.0.0", fw.clone());
    let md5: String = <md5::Md5 as md5::Digest>::digest(&fw).iter().map(|b| format!("{b:02x}")).collect();
    // An absolute downloadurl, with the JSON-escaped slashes some servers send.
    let absolute = (server.base_url() + &path).replace('/', "\\/");
    let answer = format!(
        r#"{{"assetId":"{ASSET}","version":"2.0.0","code":1,"desc":"has update","signMethod":"MD5","sign":"{md5}","downloadurl":"{absolute}","fileSize":"{}"}}"#,
        fw.len()
    );
    server.set_check_version_answer(Some(json(200, &answer)));
    let mut rig = Rig::new();
    let (mut dev, _) = rig.boot("1.0.0", server.endpoints());
    assert_eq!(rig.next(&mut dev), Seen::Offered(OfferOutcome::Accepted));
    assert_eq!(dev.stats().probes, 0);
    assert_eq!(dev.download_url(), server.base_url() + &path);
    assert_eq!(dev.agent().current_offer().unwrap().size as usize, fw.len());
    update_to_staged(&mut rig, &mut dev);
    assert_eq!(dev.transport_mut().body_bytes, fw.len() as u64);
    server.set_check_version_answer(None);
    confirm_after_reboot(&mut rig, server.endpoints(), &fw);
}

#[test]
fn a_report_the_edge_refuses_for_good_is_not_resent() {
    for status in [400, 404, 406] {
        let server = EnosEdgeServer::start().unwrap();
        server.set_firmware(ASSET, "2.0.0", firmware(5_000));
        server.set_report_status(Some(status));
        let mut rig = Rig::new();
        rig.sim.app.decline(true);
        let (mut dev, _) = rig.boot("1.0.0", server.endpoints());
        assert_eq!(
            rig.next(&mut dev),
            Seen::Offered(OfferOutcome::Refused(FailureCause::DeclinedByApplication))
        );
        let call = EdgeCallKind::UpdateResult { flag: 0, process: 0 };
        assert_eq!(rig.next(&mut dev), Seen::ReportRejected { call, status });
        assert!(!dev.report_pending());
        for _ in 0..500 {
            rig.step(&mut dev);
        }
        assert_eq!(server.reports().len(), 1, "{status}: sent once");
        assert_eq!(dev.stats().calls_rejected, 1);
    }
}

#[test]
fn a_device_known_by_its_serial_number_learns_its_asset_id_from_the_edge() {
    // Seed 000's checkversion request carries `"assetId":""` and the serial number; the
    // Edge's answers name the asset, and the reports must carry that name.
    let server = EnosEdgeServer::start().unwrap();
    server.register_serial(SERIAL, ASSET);
    let fw = firmware(30_000);
    let path = server.set_firmware(ASSET, "2.0.0", fw.clone());
    let id = path.rsplit('/').next().unwrap().to_owned();
    let mut rig = Rig::new();
    rig.asset = "";
    let (mut dev, _) = rig.boot("1.0.0", server.endpoints());
    assert_eq!(dev.asset_id(), "", "nothing learned before the first answer");
    assert_eq!(rig.next(&mut dev), Seen::Offered(OfferOutcome::Accepted));
    assert_eq!(dev.asset_id(), ASSET);
    update_to_staged(&mut rig, &mut dev);

    // After the reboot the success report waits for the first answer to name the asset.
    let slot = rig.sim.reset();
    assert!(rig.sim.slot_holds(slot, &fw));
    let checks_before = server.check_count();
    let (mut dev, startup) = rig.boot("2.0.0", server.endpoints());
    assert_eq!(startup, Startup::Confirmed(v("2.0.0")));
    assert_eq!(rig.next(&mut dev), Seen::NoUpdate);
    assert_eq!(server.check_count(), checks_before + 1);
    rig.deliver_all(&mut dev);

    let checks: Vec<String> = server
        .http()
        .requests()
        .iter()
        .filter(|r| r.path == "/checkversion")
        .map(|r| r.body_text())
        .collect();
    let ask = |version: &str| format!(r#"{{"assetId":"","version":"{version}","serialNum":"{SERIAL}"}}"#);
    assert_eq!(checks.first(), Some(&ask("1.0.0")), "the seed's request, exactly");
    assert_eq!(checks.last(), Some(&ask("2.0.0")));
    let reports = server.reports();
    let mut expected = progress_reports(&processes(&reports));
    expected.push((format!("/downloadresult/{id}"), download_result(1, "download success")));
    expected.push(upd(update_result("2.0.0", "update completed", 2, 100, 0)));
    assert_eq!(bodies(&reports), expected, "every report names the asset the Edge named");
}
