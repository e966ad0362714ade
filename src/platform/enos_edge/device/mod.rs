//! [`EdgeDevice`]: the EnOS Edge sub-device update flow. It polls checkversion, offers
//! updates to the [`Agent`], downloads through an [`HttpSource`], and delivers every report
//! the Agent queues as the Edge's HTTP calls.
//!
//! # A step function
//!
//! [`EdgeDevice::poll`] does **one** bounded piece of work and returns what it did (an
//! [`Event`], the type every platform driver answers; the Edge's detail stays on the device:
//! [`EdgeDevice::last_call`], [`EdgeDevice::last_error`]), in this order of priority:
//!
//! 0. an image is staged and every report is out → [`Event::Reboot`];
//! 1. a report is waiting and due → one HTTP call of it (see [`report_map`](super::report_map));
//! 2. an update is under way → one [`Agent::poll`] (one chunk fetched and written, or the
//!    verification and staging);
//! 3. the poll interval has passed → one checkversion exchange, and for an update the size
//!    probe and [`Agent::offer`];
//! 4. otherwise [`Event::Idle`]: the caller may sleep.
//!
//! Time comes from the caller (`now_ms`, a [`Clock`](crate::time::Clock) reading), so the flow
//! itself never waits. With a blocking transport (the built-in
//! [`HttpClient`](crate::transport::http::HttpClient)) one call waits at most for the
//! transport's time limits; a main loop calls `poll` again at once after anything but `Idle`.
//!
//! # The size of an update
//!
//! The seed's checkversion answer carries no size. An answer that has one anyway (a
//! `fileSize` field) is taken at its word. Otherwise, when the Journal holds a download
//! checkpoint of the same firmware (version and digest) its size is used and nothing is
//! probed, so a download
//! interrupted by a power cut resumes with `Range: bytes=<checkpoint>-` as its first request.
//! Otherwise the flow fetches the image's first byte (a plain GET: the answer's
//! `Content-Length`, or a `206`'s `Content-Range` total, is the size), keeps that byte and
//! hands it to the download engine as the start of its first chunk: the same answer then goes
//! on to carry the image, so the probe costs no request of its own (until a report needs the
//! connection, see below).
//!
//! # Upgrade modes
//!
//! [`UpgradeMode::ForcedPush`](super::UpgradeMode::ForcedPush) (seed 001's "cloud forced
//! push") accepts every update the Edge offers without asking the application's
//! [`decide`](crate::agent::Application::decide); the device keeps its say through the
//! self-test before the new image is confirmed. [`UpgradeMode::UponRequest`](super::UpgradeMode::UponRequest)
//! hands each offer to `decide` (accept now, later, decline; a decline is reported as flag 0,
//! errcode −5), and [`EdgeDevice::check_now`] asks the Edge at once when the device's own
//! conditions are met. An update declined, refused or failed is not offered to the Agent
//! again for `refused_retry_ms` ([`EdgeDevice::reconsider`] lifts that).
//!
//! # Reports across a reboot
//!
//! Final reports (success, failure after the download started) survive reboots in the
//! Journal until the Edge acknowledges them. The download id of `/downloadresult/{id}` is
//! known only in the boot that saw the `downloadurl`: a download failure whose report is
//! delivered after a reboot is sent as its updateresult alone, and a downloadresult success
//! not yet delivered when the device reboots into the new image is not sent (the updateresult
//! with flag 2 that follows says more).
//!
//! # The Edge's answers to reports
//!
//! A report call is delivered when the Edge answers `204` (or any 2xx whose body, if it is the
//! documented `{"httpstatus":…,"message":…}`, says 2xx). A link failure, a 5xx status or
//! `httpstatus` 500 leaves the call queued: it is sent again after `report_retry_ms`, across
//! reboots for the final reports (the Agent keeps them in the Journal), until the Edge takes
//! it ([`Event::Retry`]). A 4xx (400 bad request, 404 unsupported url, 406 not
//! acceptable) refuses that body for good: the call is dropped and the report moves on
//! ([`Event::ReportRejected`]), so that one refused call does not hold up every later
//! report.
//!
//! # One connection
//!
//! HTTP/1.1 carries one exchange at a time on a connection, and the flow uses one transport.
//! A report sent in the middle of a download therefore closes the download's answer, and the
//! next chunk is fetched with a new `Range` request from where it stopped (the Agent queues
//! a progress report every `AgentConfig::progress_step` percent: 10 by default, 0 for none).

mod check;
mod delivery;
mod events;
#[cfg(all(test, feature = "mock"))]
mod tests;

use events::EdgeEvent;
pub use events::{EdgeCallKind, EdgeError, EdgeStats};

use super::config::{EdgeConfig, ID_LEN};
use super::primed::Primed;
use crate::agent::{Agent, AgentEvent, Application, Report, Startup};
use crate::boot::BootError;
use crate::flash::Storage;
use crate::platform::Event;
use crate::transport::ChunkSource;
use crate::transport::http::{HttpSource, HttpTransport};
use crate::version::MAX_VERSION_LEN;
use crate::{Digest, FailureCause};

/// Largest checkversion answer read.
const ANSWER_LEN: usize = 1024;
/// Largest answer to a report read (`{"httpstatus":…,"message":…}`).
const STATUS_LEN: usize = 256;
/// Largest request body (checkversion or a report).
const BODY_LEN: usize = 384;
/// Longest endpoint URL built (base + path + id).
const URL_LEN: usize = 256;

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

/// The EnOS Edge sub-device: an [`Agent`] driven over an [`HttpTransport`] (the built-in
/// client or a modem's). See the [module docs](self) for the step order.
///
/// `L` bounds the offer's texts and the download URL; `N` the endpoint base URLs.
///
/// ```no_run
/// # #[cfg(feature = "mock")] {
/// use ota_client::agent::Agent;
/// use ota_client::boot::Layout;
/// use ota_client::flash::OneFlash;
/// use ota_client::image::SignaturePolicy;
/// use ota_client::mock::SimFlash;
/// use ota_client::platform::enos_edge::{EdgeConfig, EdgeDevice};
/// use ota_client::time::Clock;
/// use ota_client::transport::http::HttpClient;
///
/// // The device's flash (here simulated): state, slot A, slot B.
/// let mut flash = OneFlash(SimFlash::<4, 4096>::new(130 * 4096, 0xFF));
/// let layout = Layout::select(&mut flash, (0, 2 * 4096), (2 * 4096, 64 * 4096), (66 * 4096, 64 * 4096)).unwrap();
/// let agent = Agent::new(flash, layout, SignaturePolicy::Unsigned, "1.0.0".parse().unwrap()).unwrap();
/// let config = EdgeConfig::for_host("192.168.1.10", "dev-1", "SN1").unwrap();
/// let mut device = EdgeDevice::new(agent, config, HttpClient::tcp());
/// let clock = std::time::Instant::now();
/// device.start(clock.now_ms()).unwrap();
/// let mut buf = [0u8; 1024];
/// loop {
///     let event = device.poll(&mut buf, clock.now_ms());
///     if event.is_reboot() {
///         break; // staged and reported: reset into the new image
///     }
///     if event.is_idle() {
///         std::thread::sleep(std::time::Duration::from_millis(100));
///     }
/// }
/// # }
/// ```
pub struct EdgeDevice<
    T: HttpTransport,
    S: Storage,
    A: Application = (),
    const K: usize = 8,
    const L: usize = 512,
    const N: usize = 64,
> {
    agent: Agent<S, A, K, L>,
    config: EdgeConfig<N>,
    source: HttpSource<T, heapless::String<L>, &'static str>,
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
    /// The process of the last progress report the Edge accepted.
    last_progress: Option<u8>,
    /// The `assetId` the Edge named in its last answer (used when the configured one is empty).
    learned_asset_id: heapless::String<ID_LEN>,
    last_call: Option<EdgeCallKind>,
    last_error: Option<EdgeError>,
    stats: EdgeStats,
}

impl<T: HttpTransport, S: Storage, A: Application, const K: usize, const L: usize, const N: usize>
    EdgeDevice<T, S, A, K, L, N>
{
    /// A device driving `agent` over `transport`. Call [`start`](Self::start) after every
    /// boot, then [`poll`](Self::poll) in the main loop.
    pub fn new(agent: Agent<S, A, K, L>, config: EdgeConfig<N>, transport: T) -> Self {
        Self {
            agent,
            config,
            source: HttpSource::with_url(transport, heapless::String::new(), ""),
            held: None,
            current: None,
            staged: None,
            refused: None,
            local: None,
            sending: None,
            next_check_ms: 0,
            report_due_ms: 0,
            last_progress: None,
            learned_asset_id: heapless::String::new(),
            last_call: None,
            last_error: None,
            stats: EdgeStats::default(),
        }
    }

    /// Runs [`Agent::start`] (confirm or roll back a trial image, queue the previous
    /// update's outcome) and remembers what it means for the flow: a staged image is not
    /// offered again, a rolled-back one not for `refused_retry_ms`.
    pub fn start(&mut self, now_ms: u64) -> Result<Startup, BootError> {
        let startup = self.agent.start()?;
        match &startup {
            Startup::RebootPending(v) => self.staged = Some(Firmware::new(v.as_str(), None).version),
            Startup::RollbackRequested(v) | Startup::RolledBack(v) => {
                self.refuse(Firmware::new(v.as_str(), None), now_ms);
            }
            Startup::Normal | Startup::Confirmed(_) | Startup::Requeued { .. } => {}
        }
        Ok(startup)
    }

    /// The Agent.
    pub fn agent(&self) -> &Agent<S, A, K, L> {
        &self.agent
    }

    /// The Agent, mutably (its flash, its application hooks).
    pub fn agent_mut(&mut self) -> &mut Agent<S, A, K, L> {
        &mut self.agent
    }

    /// Gives back the Agent (and with it the flash), for the reboot.
    pub fn into_agent(self) -> Agent<S, A, K, L> {
        self.agent
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

    /// The `assetId` the reports carry: the configured one, or, when that is empty (a device
    /// known to the Edge by its serial number only, as in seed 000's request), the one the
    /// Edge named in its last checkversion answer. Empty until then.
    pub fn asset_id(&self) -> &str {
        if self.config.asset_id.is_empty() { &self.learned_asset_id } else { &self.config.asset_id }
    }

    /// True when a report waits to be sent.
    pub fn report_pending(&self) -> bool {
        self.local.is_some() || self.sending.is_some() || self.agent.next_report().is_some()
    }

    /// Does the next piece of work (see the [module docs](self)); `buf` is the chunk buffer.
    pub fn poll(&mut self, buf: &mut [u8], now_ms: u64) -> Event {
        if self.agent.reboot_pending() && !self.report_pending() {
            return Event::Reboot;
        }
        let step = self.step(buf, now_ms);
        match step {
            EdgeEvent::Reported(call) | EdgeEvent::ReportRejected { call, .. } => self.last_call = Some(call),
            EdgeEvent::CheckFailed(e) | EdgeEvent::ReportFailed(e) => self.last_error = Some(e),
            _ => {}
        }
        step.into()
    }

    /// The last report call the Edge answered (accepted: [`Event::Reported`], or refused:
    /// [`Event::ReportRejected`]).
    pub fn last_call(&self) -> Option<EdgeCallKind> {
        self.last_call
    }

    /// Why the last exchange that answered [`Event::Retry`] failed.
    pub fn last_error(&self) -> Option<EdgeError> {
        self.last_error
    }

    fn step(&mut self, buf: &mut [u8], now_ms: u64) -> EdgeEvent {
        if now_ms >= self.report_due_ms && self.report_pending() {
            if self.asset_id().is_empty() {
                // Reports name the device by `assetId`: learn it from a checkversion answer
                // first. Until the Edge names it, reports wait `report_retry_ms` between tries.
                self.next_check_ms = now_ms.saturating_add(self.config.poll_interval_ms);
                if self.agent.current_offer().is_some() {
                    // A download answer cannot share the connection with the request.
                    self.source.reset();
                }
                let event = self.check(now_ms);
                if self.asset_id().is_empty() {
                    self.report_due_ms = now_ms.saturating_add(self.config.report_retry_ms);
                }
                return event;
            }
            return self.send_report(now_ms);
        }
        if self.agent.current_offer().is_some() {
            return self.download(buf, now_ms);
        }
        if now_ms >= self.next_check_ms {
            self.next_check_ms = now_ms.saturating_add(self.config.poll_interval_ms);
            return self.check(now_ms);
        }
        EdgeEvent::Idle
    }

    fn refuse(&mut self, firmware: Firmware, now_ms: u64) {
        self.refused = Some((firmware, now_ms.saturating_add(self.config.refused_retry_ms)));
    }

    fn is_refused(&self, firmware: &Firmware, now_ms: u64) -> bool {
        self.refused.as_ref().is_some_and(|(f, until)| now_ms < *until && f.matches(firmware))
    }

    fn download(&mut self, buf: &mut [u8], now_ms: u64) -> EdgeEvent {
        let mut source = Primed { inner: &mut self.source, held: &mut self.held };
        match self.agent.poll(&mut source, buf, now_ms) {
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
}
