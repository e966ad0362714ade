//! [`EdgeDevice`]: the EnOS Edge sub-device update flow. It polls checkversion, offers
//! updates to the [`Agent`], downloads through an [`HttpSource`], and delivers every report
//! the Agent queues as the Edge's HTTP calls.
//!
//! # A step function
//!
//! [`EdgeDevice::poll`] does **one** bounded piece of work and returns what it did
//! ([`EdgeEvent`]), in this order of priority:
//!
//! 1. a report is waiting and due → one HTTP call of it (see [`report_map`](super::report_map));
//! 2. an update is under way → one [`Agent::poll`] (one chunk fetched and written, or the
//!    verification and staging);
//! 3. the poll interval has passed → one checkversion exchange, and for an update the size
//!    probe and [`Agent::offer`];
//! 4. otherwise [`EdgeEvent::Idle`]: the caller may sleep.
//!
//! Time comes from the caller (`now_ms`, a [`Clock`](crate::time::Clock) reading), so the flow
//! itself never waits. With a blocking transport (the built-in
//! [`HttpClient`](crate::transport::http::HttpClient)) one call waits at most for the
//! transport's time limits; a main loop calls `poll` again at once after anything but `Idle`.
//!
//! # The size of an update
//!
//! checkversion carries no size. When the Journal holds a download checkpoint of the same
//! firmware (version and digest) its size is used and nothing is probed, so a download
//! interrupted by a power cut resumes with `Range: bytes=<checkpoint>-` as its first request.
//! Otherwise the flow fetches the image's first byte (a plain GET: the answer's
//! `Content-Length`, or a `206`'s `Content-Range` total, is the size), keeps that byte and
//! hands it to the download engine as the start of its first chunk: the same answer then goes
//! on to carry the rest of the image, so the probe costs no request of its own.
//!
//! # One connection
//!
//! HTTP/1.1 carries one exchange at a time on a connection, and the flow uses one transport.
//! A report sent in the middle of a download therefore closes the download's answer, and the
//! next chunk is fetched with a new `Range` request from where it stopped (the Agent queues
//! a progress report every `AgentConfig::progress_step` percent: 10 by default, 0 for none).

use super::codec::{
    CheckVersion, CheckVersionAnswer, CodecError, EdgeUpdate, decode_check_version_answer,
    decode_status_answer, download_id, encode_check_version, encode_download_result, encode_update_result,
};
use super::config::{EdgeConfig, ID_LEN, UpgradeMode};
use super::endpoints::EndpointError;
use super::primed::Primed;
use super::report_map::{EdgeCall, calls_for};
use crate::agent::{Agent, AgentEvent, Application, Decision, OfferOutcome, Report, Stage, Startup};
use crate::boot::BootError;
use crate::download::Checkpoint;
use crate::download::checkpoint::CHECKPOINT_LEN;
use crate::flash::{Journal, Storage, kinds};
use crate::transport::http::{HttpError, HttpSource, HttpTransport};
use crate::transport::{ChunkSource, SourceError};
use crate::version::MAX_VERSION_LEN;
use crate::{Digest, FailureCause, Offer, Version};

/// Largest checkversion answer read.
const ANSWER_LEN: usize = 1024;
/// Largest answer to a report read (`{"httpstatus":…,"message":…}`).
const STATUS_LEN: usize = 256;
/// Largest request body (checkversion or a report).
const BODY_LEN: usize = 384;
/// Longest endpoint URL built (base + path + id).
const URL_LEN: usize = 256;

/// Why a checkversion exchange or a report did not go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeError {
    /// An endpoint URL could not be built.
    Endpoint(EndpointError),
    /// A request body could not be encoded, or an answer could not be decoded.
    Codec(CodecError),
    /// The HTTP exchange failed.
    Http(HttpError),
    /// The Edge answered with this non-success status (`httpstatus` when its body had one).
    Status(u16),
    /// The first byte of the image (the size probe) could not be fetched; retried at the next
    /// poll.
    Probe(SourceError),
}

/// Which call delivered (part of) a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeCallKind {
    /// `POST /downloadresult/{id}` with this code.
    DownloadResult {
        /// 1 success, 0 failure.
        code: u8,
    },
    /// `POST /updateresult` with this flag and process.
    UpdateResult {
        /// 0 failed, 1 in progress, 2 done.
        flag: u8,
        /// 0..=100.
        process: u8,
    },
}

/// What one [`EdgeDevice::poll`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeEvent {
    /// Nothing was due.
    Idle,
    /// checkversion: no update.
    NoUpdate,
    /// checkversion offered an update; this is what the Agent made of it.
    Offered(OfferOutcome),
    /// checkversion offered an update refused or failed earlier (or already staged): not
    /// offered again yet.
    Ignored,
    /// checkversion offered an update the flow could not use (bad url, digest, size…); a
    /// failure report is queued.
    BadOffer(FailureCause),
    /// checkversion did not go through; the next one follows after the poll interval.
    CheckFailed(EdgeError),
    /// Downloading: progress in percent.
    Downloading {
        /// 0..=100.
        percent: u8,
    },
    /// The update waits for the start the application asked for.
    Waiting,
    /// The image is verified and staged; the application was asked to reboot.
    Staged,
    /// The update failed; the failure reports are queued.
    UpdateFailed(FailureCause),
    /// The Edge accepted this call (the report is delivered once all its calls are).
    Reported(EdgeCallKind),
    /// The report could not be delivered now (link failure, or an error `httpstatus`); it is
    /// sent again after `report_retry_ms`.
    ReportFailed(EdgeError),
}

/// Counters, for diagnostics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EdgeStats {
    /// checkversion requests sent.
    pub checks: u32,
    /// Size probes made.
    pub probes: u32,
    /// Report calls the Edge accepted.
    pub calls_accepted: u32,
    /// Report calls that failed or were refused.
    pub calls_failed: u32,
}

/// A firmware identity: version text and, when known, digest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Firmware {
    version: heapless::String<MAX_VERSION_LEN>,
    digest: Option<Digest>,
}

impl Firmware {
    fn new(version: &str, digest: Option<Digest>) -> Self {
        let mut v = heapless::String::new();
        for c in version.chars() {
            if v.push(c).is_err() {
                break;
            }
        }
        Self { version: v, digest }
    }

    fn matches(&self, other: &Self) -> bool {
        self.version == other.version
            && match (self.digest, other.digest) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// A failure the flow found before the Agent saw an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LocalFailure {
    version: heapless::String<MAX_VERSION_LEN>,
    cause: FailureCause,
}

/// The report being delivered and how many of its calls went through.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sending {
    Local(LocalFailure),
    Agent(Report),
}

/// The flow's answer to the Agent's `decide` hook in forced-push mode.
struct Forced<'a, A>(&'a mut A);

impl<A: Application> Application for Forced<'_, A> {
    fn decide<const L: usize>(&mut self, _offer: &Offer<L>) -> Decision {
        Decision::AcceptNow
    }
    fn security_counter<const L: usize>(&mut self, offer: &Offer<L>) -> u32 {
        self.0.security_counter(offer)
    }
    fn self_test(&mut self) -> bool {
        self.0.self_test()
    }
    fn request_reboot(&mut self) {
        self.0.request_reboot();
    }
}

/// The EnOS Edge sub-device: an [`Agent`] driven over an [`HttpTransport`] (the built-in
/// client or a modem's). See the [module docs](self) for the step order.
///
/// `L` bounds the offer's texts and the download URL; `N` the endpoint base URLs.
///
/// ```no_run
/// # #[cfg(feature = "mock")] {
/// use ota_client::agent::{Agent, AgentConfig, Application};
/// use ota_client::platform::enos_edge::{EdgeConfig, EdgeDevice, EdgeEndpoints, EdgeEvent};
/// use ota_client::transport::http::{HttpClient, TcpConnector};
/// # fn parts() -> (ota_client::flash::OneFlash<ota_client::mock::SimFlash<4, 4096>>, ota_client::flash::Journal, ota_client::boot::BootManager) { unimplemented!() }
/// struct App;
/// impl Application for App { fn request_reboot(&mut self) {} }
/// let (mut storage, mut journal, boot) = parts();
/// let agent: Agent = Agent::new(boot, AgentConfig::default(), ota_client::Version::parse("1.0.0").unwrap());
/// let config = EdgeConfig::new(EdgeEndpoints::for_host("192.168.1.10").unwrap(), "dev-1", "SN1").unwrap();
/// let http: HttpClient<_, 1024> = HttpClient::new(TcpConnector::default());
/// let mut device = EdgeDevice::new(agent, config, http);
/// let clock = ota_client::time::StdClock::new();
/// use ota_client::time::Clock;
/// device.start(&mut storage, &mut journal, &mut App, clock.now_ms()).unwrap();
/// let mut buf = [0u8; 1024];
/// loop {
///     if device.poll(&mut storage, &mut journal, &mut App, &mut buf, clock.now_ms()) == EdgeEvent::Idle {
///         std::thread::sleep(std::time::Duration::from_millis(100));
///     }
/// }
/// # }
/// ```
pub struct EdgeDevice<T: HttpTransport, const L: usize = 512, const N: usize = 64> {
    agent: Agent<L>,
    config: EdgeConfig<N>,
    source: HttpSource<'static, T, heapless::String<L>>,
    /// The first image byte, read by the size probe, not yet handed to the engine.
    held: Option<u8>,
    /// The update under way (or staged) and the id of its download.
    current: Option<(Firmware, heapless::String<ID_LEN>)>,
    staged: Option<heapless::String<MAX_VERSION_LEN>>,
    refused: Option<(Firmware, u64)>,
    local: Option<LocalFailure>,
    sending: Option<(Sending, usize)>,
    next_check_ms: u64,
    report_due_ms: u64,
    stats: EdgeStats,
}

impl<T: HttpTransport, const L: usize, const N: usize> EdgeDevice<T, L, N> {
    /// A device driving `agent` over `transport`. Call [`start`](Self::start) after every
    /// boot, then [`poll`](Self::poll) in the main loop.
    pub fn new(agent: Agent<L>, config: EdgeConfig<N>, transport: T) -> Self {
        Self {
            agent,
            config,
            source: HttpSource::with_url(transport, heapless::String::new(), None),
            held: None,
            current: None,
            staged: None,
            refused: None,
            local: None,
            sending: None,
            next_check_ms: 0,
            report_due_ms: 0,
            stats: EdgeStats::default(),
        }
    }

    /// Runs [`Agent::start`] (confirm or roll back a trial image, queue the previous
    /// update's outcome) and remembers what it means for the flow: a staged image is not
    /// offered again, a rolled-back one not for `refused_retry_ms`.
    pub fn start<S: Storage, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        app: &mut impl Application,
        now_ms: u64,
    ) -> Result<Startup, BootError> {
        let startup = self.agent.start(storage, journal, app)?;
        match &startup {
            Startup::RebootPending(v) => self.staged = Some(Firmware::new(v.as_str(), None).version),
            Startup::RollbackRequested(v) | Startup::RolledBack(v) => {
                self.refuse(Firmware::new(v.as_str(), None), now_ms);
            }
            Startup::Normal | Startup::Confirmed(_) => {}
        }
        Ok(startup)
    }

    /// The Agent.
    pub fn agent(&self) -> &Agent<L> {
        &self.agent
    }

    /// The configuration.
    pub fn config(&self) -> &EdgeConfig<N> {
        &self.config
    }

    /// The configuration, to change timing or endpoints.
    pub fn config_mut(&mut self) -> &mut EdgeConfig<N> {
        &mut self.config
    }

    /// The transport (for instance to count its connections).
    pub fn transport_mut(&mut self) -> &mut T {
        self.source.transport_mut()
    }

    /// Counters.
    pub fn stats(&self) -> EdgeStats {
        self.stats
    }

    /// The absolute URL of the last update offered.
    pub fn download_url(&self) -> &str {
        self.source.url()
    }

    /// Sends checkversion at the next poll instead of waiting for the interval ("upon
    /// device request": the device asks when its conditions are met).
    pub fn check_now(&mut self) {
        self.next_check_ms = 0;
    }

    /// Forgets the update refused or failed last, so the next answer offering it goes to
    /// the Agent (and the application's `decide`) again.
    pub fn reconsider(&mut self) {
        self.refused = None;
    }

    /// True when a report waits to be sent.
    pub fn report_pending(&self) -> bool {
        self.local.is_some() || self.sending.is_some() || self.agent.next_report().is_some()
    }

    /// Does the next piece of work (see the [module docs](self)).
    pub fn poll<S: Storage, const K: usize, A: Application>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        app: &mut A,
        buf: &mut [u8],
        now_ms: u64,
    ) -> EdgeEvent {
        if now_ms >= self.report_due_ms && self.report_pending() {
            return self.send_report(storage, journal, now_ms);
        }
        if self.agent.current_offer().is_some() {
            return self.download(storage, journal, app, buf, now_ms);
        }
        if now_ms >= self.next_check_ms {
            self.next_check_ms = now_ms.saturating_add(self.config.poll_interval_ms);
            return self.check(storage, journal, app, now_ms);
        }
        EdgeEvent::Idle
    }

    fn refuse(&mut self, firmware: Firmware, now_ms: u64) {
        self.refused = Some((firmware, now_ms.saturating_add(self.config.refused_retry_ms)));
    }

    fn is_refused(&self, firmware: &Firmware, now_ms: u64) -> bool {
        self.refused.as_ref().is_some_and(|(f, until)| now_ms < *until && f.matches(firmware))
    }

    fn download<S: Storage, const K: usize, A: Application>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        app: &mut A,
        buf: &mut [u8],
        now_ms: u64,
    ) -> EdgeEvent {
        let mut source = Primed { inner: &mut self.source, held: &mut self.held };
        match self.agent.poll(storage, journal, &mut source, buf, now_ms, app) {
            AgentEvent::Idle => EdgeEvent::Idle,
            AgentEvent::Waiting => EdgeEvent::Waiting,
            AgentEvent::Downloading { percent } => EdgeEvent::Downloading { percent },
            AgentEvent::Staged => {
                self.staged = self.current.as_ref().map(|(f, _)| f.version.clone());
                self.source.reset();
                EdgeEvent::Staged
            }
            AgentEvent::Failed(cause) => {
                if let Some((f, _)) = &self.current {
                    self.refuse(f.clone(), now_ms);
                }
                self.held = None;
                self.source.reset();
                EdgeEvent::UpdateFailed(cause)
            }
        }
    }

    /// One checkversion exchange; an update goes on to [`Self::consider`].
    fn check<S: Storage, const K: usize, A: Application>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        app: &mut A,
        now_ms: u64,
    ) -> EdgeEvent {
        self.stats.checks = self.stats.checks.saturating_add(1);
        let mut url: heapless::String<URL_LEN> = heapless::String::new();
        if let Err(e) = self.config.endpoints.check_version_url(&mut url) {
            return EdgeEvent::CheckFailed(EdgeError::Endpoint(e));
        }
        let mut body = [0u8; BODY_LEN];
        let request = CheckVersion {
            asset_id: &self.config.asset_id,
            version: self.agent.running().as_str(),
            serial_num: &self.config.serial_num,
        };
        let n = match encode_check_version(&request, &mut body) {
            Ok(n) => n,
            Err(e) => return EdgeEvent::CheckFailed(EdgeError::Codec(e)),
        };
        let mut answer = [0u8; ANSWER_LEN];
        let (status, len) =
            match self.source.transport_mut().post_json(&url, body.get(..n).unwrap_or(&[]), &mut answer) {
                Ok(x) => x,
                Err(e) => return EdgeEvent::CheckFailed(EdgeError::Http(e)),
            };
        if !(200..300).contains(&status) {
            return EdgeEvent::CheckFailed(EdgeError::Status(status));
        }
        let answer = answer.get(..len).unwrap_or(&[]);
        match decode_check_version_answer(answer) {
            Ok(CheckVersionAnswer::NoUpdate) => EdgeEvent::NoUpdate,
            Ok(CheckVersionAnswer::Update(update)) => self.consider(storage, journal, app, &update, now_ms),
            Err(e) => match answer_version(answer) {
                // An update answer the flow cannot use: tell the Edge why (once).
                Some(version) => self.bad_offer(Firmware::new(version, None), e.cause(), now_ms),
                None => EdgeEvent::CheckFailed(EdgeError::Codec(e)),
            },
        }
    }

    /// Queues a failure report for an update the Agent never saw (once per firmware).
    fn bad_offer(&mut self, firmware: Firmware, cause: FailureCause, now_ms: u64) -> EdgeEvent {
        if self.is_refused(&firmware, now_ms) {
            return EdgeEvent::Ignored;
        }
        self.local = Some(LocalFailure { version: firmware.version.clone(), cause });
        self.refuse(firmware, now_ms);
        EdgeEvent::BadOffer(cause)
    }

    /// An update answer: resolve the url, learn the size, offer it to the Agent.
    fn consider<S: Storage, const K: usize, A: Application>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        app: &mut A,
        update: &EdgeUpdate<'_>,
        now_ms: u64,
    ) -> EdgeEvent {
        let firmware = Firmware::new(update.version.as_str(), Some(update.digest));
        if self.staged.as_ref().is_some_and(|v| *v == firmware.version) || self.is_refused(&firmware, now_ms)
        {
            return EdgeEvent::Ignored;
        }
        let mut offer: Offer<L> = match update.to_offer(0) {
            Ok(o) => o,
            Err(e) => return self.bad_offer(firmware, e.cause(), now_ms),
        };
        let mut url: heapless::String<L> = heapless::String::new();
        if self.config.endpoints.download_url(&offer.location, &mut url).is_err() {
            return self.bad_offer(firmware, FailureCause::InvalidUri, now_ms);
        }
        let mut id: heapless::String<ID_LEN> = heapless::String::new();
        if id.push_str(download_id(&url)).is_err() {
            id.clear();
        }
        self.held = None;
        self.source.set_url(url.clone());
        let size = match checkpoint_size(storage, journal, &offer) {
            Some(size) => size,
            None => match self.probe() {
                Ok(size) => size,
                Err(e) if e.is_transient() => return EdgeEvent::CheckFailed(EdgeError::Probe(e)),
                Err(e) => return self.bad_offer(firmware, e.cause(), now_ms),
            },
        };
        offer.size = size;
        offer.location = url;
        let outcome = match self.config.mode {
            UpgradeMode::ForcedPush => self.agent.offer(storage, journal, offer, &mut Forced(app), now_ms),
            UpgradeMode::UponRequest => self.agent.offer(storage, journal, offer, app, now_ms),
        };
        match outcome {
            OfferOutcome::Accepted => self.current = Some((firmware, id)),
            OfferOutcome::Deferred => {
                // The probe's answer would go stale while waiting.
                self.current = Some((firmware, id));
                self.held = None;
                self.source.reset();
            }
            OfferOutcome::Duplicate => {}
            OfferOutcome::Refused(_) => {
                self.refuse(firmware, now_ms);
                self.held = None;
                self.source.reset();
            }
        }
        EdgeEvent::Offered(outcome)
    }

    /// Fetches the image's first byte; the answer tells the size.
    fn probe(&mut self) -> Result<u32, SourceError> {
        self.stats.probes = self.stats.probes.saturating_add(1);
        let mut first = [0u8; 1];
        // At offset 0 the source answers at once (it only blocks while skipping to an
        // offset); a few tries bound the loop anyway.
        let mut result = Err(nb::Error::WouldBlock);
        for _ in 0..4 {
            result = self.source.fetch(0, &mut first);
            if !matches!(result, Err(nb::Error::WouldBlock)) {
                break;
            }
        }
        match result {
            Ok(1) => {}
            Ok(_) | Err(nb::Error::WouldBlock) => return Err(SourceError::Protocol),
            Err(nb::Error::Other(e)) => return Err(e),
        }
        let Some(total) = self.source.total_size() else {
            // A chunked answer without a size: the offer cannot be judged.
            self.source.reset();
            return Err(SourceError::InvalidLocation);
        };
        self.held = first.first().copied();
        u32::try_from(total).map_err(|_| SourceError::InvalidLocation)
    }

    /// Sends the next call of the report at the head of the queue (reports that need no
    /// call, such as `Version`, are dropped on the way).
    fn send_report<S: Storage, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        now_ms: u64,
    ) -> EdgeEvent {
        let asset_id = self.config.asset_id.clone();
        // Local failures first, then the Agent's queue; bounded by the queue's length.
        for _ in 0..8 {
            let (sending, part) = match &self.sending {
                Some((s, part)) => (s.clone(), *part),
                None => match (&self.local, self.agent.next_report()) {
                    (Some(l), _) => (Sending::Local(l.clone()), 0),
                    (None, Some(r)) => (Sending::Agent(r.clone()), 0),
                    (None, None) => return EdgeEvent::Idle,
                },
            };
            let report = match &sending {
                Sending::Agent(r) => r.clone(),
                Sending::Local(l) => Report::Failed {
                    target: Version::parse(&l.version).unwrap_or_else(|_| self.agent.running().clone()),
                    cause: l.cause,
                    stage: Stage::Offer,
                },
            };
            let id = match (&self.current, &report) {
                (Some((f, id)), Report::Downloaded { target } | Report::Failed { target, .. })
                    if f.version.as_str() == target.as_str() && !id.is_empty() =>
                {
                    Some(id.clone())
                }
                _ => None,
            };
            let running = self.agent.running().clone();
            let calls = calls_for(&report, &asset_id, running.as_str(), id.is_some());
            let Some(call) = calls.get(part).copied() else {
                // Nothing (more) to send for this one.
                self.delivered(storage, journal, &sending, now_ms);
                continue;
            };
            let is_last = part.saturating_add(1) >= calls.len();
            // A download answer cannot share the connection with the report.
            if self.agent.current_offer().is_some() {
                self.source.reset();
            }
            return match self.post_call(&call, id.as_deref().unwrap_or("")) {
                Ok(kind) => {
                    self.stats.calls_accepted = self.stats.calls_accepted.saturating_add(1);
                    if is_last {
                        self.delivered(storage, journal, &sending, now_ms);
                    } else {
                        self.sending = Some((sending, part.saturating_add(1)));
                    }
                    EdgeEvent::Reported(kind)
                }
                Err(e) => {
                    self.stats.calls_failed = self.stats.calls_failed.saturating_add(1);
                    self.sending = Some((sending, part));
                    self.report_due_ms = now_ms.saturating_add(self.config.report_retry_ms);
                    EdgeEvent::ReportFailed(e)
                }
            };
        }
        EdgeEvent::Idle
    }

    /// The whole report went through: forget it.
    fn delivered<S: Storage, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        sending: &Sending,
        now_ms: u64,
    ) {
        self.sending = None;
        match sending {
            Sending::Local(_) => self.local = None,
            Sending::Agent(r) => {
                // Only if it is still the head (a newer progress report may have replaced it).
                if self.agent.next_report() == Some(r)
                    && self.agent.report_delivered(storage, journal).is_err()
                {
                    // The journal could not drop it; it is sent again later (the Edge takes
                    // a repeated report).
                    self.report_due_ms = now_ms.saturating_add(self.config.report_retry_ms);
                }
            }
        }
    }

    /// POSTs one call and judges the Edge's answer.
    fn post_call(&mut self, call: &EdgeCall<'_>, id: &str) -> Result<EdgeCallKind, EdgeError> {
        let mut url: heapless::String<URL_LEN> = heapless::String::new();
        let mut body = [0u8; BODY_LEN];
        let (n, kind) = match call {
            EdgeCall::DownloadResult(d) => {
                self.config.endpoints.download_result_url(id, &mut url).map_err(EdgeError::Endpoint)?;
                let n = encode_download_result(d, &mut body).map_err(EdgeError::Codec)?;
                (n, EdgeCallKind::DownloadResult { code: d.code })
            }
            EdgeCall::UpdateResult(u) => {
                self.config.endpoints.update_result_url(&mut url).map_err(EdgeError::Endpoint)?;
                let n = encode_update_result(u, &mut body).map_err(EdgeError::Codec)?;
                (n, EdgeCallKind::UpdateResult { flag: u.flag.code(), process: u.process.min(100) })
            }
        };
        let mut answer = [0u8; STATUS_LEN];
        let (status, len) = self
            .source
            .transport_mut()
            .post_json(&url, body.get(..n).unwrap_or(&[]), &mut answer)
            .map_err(EdgeError::Http)?;
        let accepted = match decode_status_answer(answer.get(..len).unwrap_or(&[])) {
            Ok(a) if a.accepted(status) => true,
            Ok(a) => return Err(EdgeError::Status(a.httpstatus.unwrap_or(status))),
            // Not the documented JSON: the HTTP status decides.
            Err(_) => (200..300).contains(&status),
        };
        if accepted { Ok(kind) } else { Err(EdgeError::Status(status)) }
    }
}

/// The size recorded by a download checkpoint of the same firmware, if there is one.
fn checkpoint_size<S: Storage, const K: usize, const L: usize>(
    storage: &mut S,
    journal: &Journal<K>,
    offer: &Offer<L>,
) -> Option<u32> {
    let mut buf = [0u8; CHECKPOINT_LEN];
    let bytes = journal.read(storage.primary(), kinds::DOWNLOAD_CHECKPOINT, &mut buf).ok()??;
    let c = Checkpoint::decode(bytes)?;
    (c.version.same_text(&offer.version) && c.digest == offer.digest).then_some(c.size)
}

/// The `version` of an answer that did not decode as an update, when it says `code` 1 (as
/// a number or a string) and has a version at all.
fn answer_version(answer: &[u8]) -> Option<&str> {
    #[derive(serde::Deserialize)]
    struct Loose<'a> {
        #[serde(borrow)]
        version: Option<&'a str>,
    }
    let text = core::str::from_utf8(answer).ok()?;
    let compact: heapless::String<16> =
        text.split(r#""code""#).nth(1)?.chars().filter(|c| !c.is_whitespace() && *c != '"').take(3).collect();
    let one = compact.strip_prefix(":1").is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_digit()));
    if !one {
        return None;
    }
    let (loose, _): (Loose<'_>, usize) = serde_json_core::from_slice(answer).ok()?;
    loose.version.map(str::trim).filter(|v| !v.is_empty())
}
