//! The [`Agent`]: ties the boot manager, the download engine and the Journal into the update
//! lifecycle, and keeps the reports the platform must hear.
//!
//! ```text
//!  start() ─▶ confirm a trial image (self-test) or roll it back; queue the outcome report
//!  offer() ─▶ already latest? busy? invalid? ─▶ Application::decide ─▶ accept / later / decline
//!  poll()  ─▶ download (resumable) ─▶ verify ─▶ stage ─▶ Application::request_reboot
//!  next_report() / report_delivered() ─▶ the platform sends, the Agent forgets once delivered
//! ```
//!
//! The Agent does no I/O of its own: a platform flow feeds it offers, lends it the flash,
//! the journal and a chunk source, and sends the reports it queues. Final reports (success,
//! failure after the download started) are written to the Journal before they are queued,
//! so they survive the reboot an update causes, and are removed only once delivered.

mod application;
mod report;

pub use application::{Application, Decision};
pub use report::{Report, Stage};

use crate::boot::{BootError, BootManager, ImageInfo, Phase};
use crate::download::{Download, DownloadConfig};
use crate::flash::{Journal, Storage, kinds};
use crate::transport::ChunkSource;
use crate::{FailureCause, Offer, Version};
use report::Pending;

/// Tunables of the [`Agent`].
#[derive(Debug, Clone, Copy)]
pub struct AgentConfig {
    /// Boots a new image gets to confirm itself before it is rolled back (at least 1).
    pub trial_attempts: u8,
    /// Queue a progress report every this many percent (0 = none).
    pub progress_step: u8,
    /// The download engine's settings (checkpoint interval, retries, timeouts, and the
    /// [`SignaturePolicy`](crate::download::SignaturePolicy): with `Required`, only images
    /// with a valid signature trailer are staged).
    pub download: DownloadConfig,
    /// Accept transport-checked offers ([`Offer::transport_checked`]: no image digest, only a
    /// package id, as Huawei PCP sends). Off by default: an offer without a digest is then
    /// refused with [`FailureCause::InvalidOffer`]. Turn it on only for a platform whose
    /// protocol has no digest and checks every block itself (PCP's per-frame check code);
    /// the image is then checked for its size only, and the SHA-256 the engine computes of
    /// what it wrote guards the staged image until it boots. An offer that carries a digest
    /// is always verified against it.
    pub accept_transport_checked: bool,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            trial_attempts: 3,
            progress_step: 10,
            download: DownloadConfig::default(),
            accept_transport_checked: false,
        }
    }
}

/// What [`Agent::start`] found after a boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Startup {
    /// Nothing to finish.
    Normal,
    /// A new image passed its self-test and is confirmed; success is queued.
    Confirmed(Version),
    /// A new image failed its self-test; failure is queued and a rollback requested:
    /// reboot.
    RollbackRequested(Version),
    /// The previous boot rolled an image back (or refused it); failure is queued.
    RolledBack(Version),
    /// An image is staged and waits for a reboot.
    RebootPending(Version),
}

/// What an offer led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferOutcome {
    /// The download starts at the next [`Agent::poll`].
    Accepted,
    /// The application asked to start later.
    Deferred,
    /// The same firmware is already being fetched or staged: ignored.
    Duplicate,
    /// Refused; a failure report is queued.
    Refused(FailureCause),
}

/// What a [`Agent::poll`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentEvent {
    /// Nothing to do.
    Idle,
    /// Waiting for a deferred start.
    Waiting,
    /// Bytes moved; progress in percent.
    Downloading {
        /// 0..=100.
        percent: u8,
    },
    /// The image is verified and staged; the application was asked to reboot.
    Staged,
    /// The update failed; a failure report is queued.
    Failed(FailureCause),
}

struct Job<const L: usize> {
    offer: Offer<L>,
    start_at_ms: u64,
    download: Option<Download>,
    last_percent: Option<u8>,
}

/// Reports waiting to be sent.
const OUTBOX: usize = 4;

/// The update agent. `L` bounds the offer's location and token texts.
pub struct Agent<const L: usize = 512> {
    boot: BootManager,
    config: AgentConfig,
    running: Version,
    job: Option<Job<L>>,
    staged: Option<Version>,
    outbox: heapless::Deque<Report, OUTBOX>,
}

impl<const L: usize> Agent<L> {
    /// An agent for a device running `running`.
    pub fn new(boot: BootManager, config: AgentConfig, running: Version) -> Self {
        Self { boot, config, running, job: None, staged: None, outbox: heapless::Deque::new() }
    }

    /// The running version.
    pub fn running(&self) -> &Version {
        &self.running
    }

    /// The boot manager.
    pub fn boot(&self) -> &BootManager {
        &self.boot
    }

    /// The offer being worked on, if any.
    pub fn current_offer(&self) -> Option<&Offer<L>> {
        self.job.as_ref().map(|j| &j.offer)
    }

    /// Call once after every boot, before anything else: confirms a trial image whose
    /// self-test passes (or requests its rollback), and queues the outcome of the previous
    /// update if it was not delivered yet.
    pub fn start<S: Storage, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        app: &mut impl Application,
    ) -> Result<Startup, BootError> {
        let state = self.boot.state(storage, journal)?;
        let pending = self.read_pending(storage, journal)?;
        let startup = match (&state.phase, pending) {
            (Phase::Trial { image, .. }, _) => {
                let v = image.version.clone();
                if app.self_test() && self.boot.confirm(storage, journal)? {
                    self.persist(storage, journal, Report::Succeeded { version: v.clone() })?;
                    self.running = v.clone();
                    Startup::Confirmed(v)
                } else {
                    let failed = Report::Failed {
                        target: v.clone(),
                        cause: FailureCause::UpdateFailed,
                        stage: Stage::Install,
                    };
                    self.persist(storage, journal, failed)?;
                    self.boot.request_rollback(storage, journal)?;
                    app.request_reboot();
                    Startup::RollbackRequested(v)
                }
            }
            (Phase::Staged { image, .. }, _) => {
                self.staged = Some(image.version.clone());
                app.request_reboot();
                Startup::RebootPending(image.version.clone())
            }
            (_, Some(Pending::Awaiting { target })) => {
                // Staged before the last reboot, and no trial now: it was confirmed (and the
                // report write was cut), or rolled back, or refused at boot.
                let confirmed = state.active_image.as_ref().is_some_and(|i| i.version.same_text(&target));
                if confirmed {
                    self.persist(storage, journal, Report::Succeeded { version: target.clone() })?;
                    Startup::Confirmed(target)
                } else {
                    let failed = Report::Failed {
                        target: target.clone(),
                        cause: FailureCause::UpdateFailed,
                        stage: Stage::Install,
                    };
                    self.persist(storage, journal, failed)?;
                    Startup::RolledBack(target)
                }
            }
            (_, Some(Pending::Report(r))) => {
                let out = match &r {
                    Report::Failed { target, stage: Stage::Install, .. } => {
                        Startup::RolledBack(target.clone())
                    }
                    _ => Startup::Normal,
                };
                self.queue(r);
                out
            }
            (_, None) => Startup::Normal,
        };
        Ok(startup)
    }

    /// Queues a report of the running version.
    pub fn report_version(&mut self) {
        let r = Report::Version { current: self.running.clone() };
        self.queue(r);
    }

    /// Queues the failure report of an offer of `target` refused before it reached
    /// [`Agent::offer`] (its message could not be used: a malformed digest or size, no URL),
    /// so that the platform hears why. Nothing is written to flash.
    pub fn report_refused(&mut self, target: Version, cause: FailureCause) {
        self.queue(Report::Failed { target, cause, stage: Stage::Offer });
    }

    /// Takes an offer from the platform. Checks it (already latest, busy, invalid, too large,
    /// transport-checked without [`AgentConfig::accept_transport_checked`]) and asks the
    /// application.
    pub fn offer<S: Storage, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        offer: Offer<L>,
        app: &mut impl Application,
        now_ms: u64,
    ) -> OfferOutcome {
        if self.job.as_ref().is_some_and(|j| j.offer.same_firmware(&offer))
            || self.staged.as_ref().is_some_and(|v| v.same_text(&offer.version))
        {
            return OfferOutcome::Duplicate;
        }
        let refuse = |agent: &mut Self, cause| {
            agent.queue(Report::Failed { target: offer.version.clone(), cause, stage: Stage::Offer });
            OfferOutcome::Refused(cause)
        };
        if offer.version.same_text(&self.running) {
            return refuse(self, FailureCause::AlreadyLatest);
        }
        if self.staged.is_some() {
            return refuse(self, FailureCause::Busy);
        }
        if let Err(cause) = offer.validate(self.boot.layout().max_image_size()) {
            return refuse(self, cause);
        }
        if !offer.digest.is_present() && !self.config.accept_transport_checked {
            return refuse(self, FailureCause::InvalidOffer);
        }
        match self.boot.state(storage, journal).map(|s| s.phase) {
            Ok(Phase::Idle | Phase::Staged { .. }) => {}
            Ok(_) => return refuse(self, FailureCause::Busy),
            Err(_) => return refuse(self, FailureCause::UpdateFailed),
        }
        let start_at_ms = match app.decide(&offer) {
            Decision::AcceptNow => now_ms,
            Decision::Later { delay_ms } => now_ms.saturating_add(delay_ms),
            Decision::Decline => return refuse(self, FailureCause::DeclinedByApplication),
        };
        self.job = Some(Job { offer, start_at_ms, download: None, last_percent: None });
        if start_at_ms > now_ms { OfferOutcome::Deferred } else { OfferOutcome::Accepted }
    }

    /// The download under way, if any (progress, resume offset, bytes fetched).
    pub fn download(&self) -> Option<&Download> {
        self.job.as_ref().and_then(|j| j.download.as_ref())
    }

    /// Drops the current offer (the platform cancelled it). The download checkpoint stays, so
    /// the same firmware offered again resumes.
    pub fn cancel(&mut self) {
        self.job = None;
    }

    /// Moves the current update forward: downloads a chunk, or verifies and stages.
    /// `buf` is the chunk buffer the source fills (its size is the chunk size).
    pub fn poll<S: Storage, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        source: &mut impl ChunkSource,
        buf: &mut [u8],
        now_ms: u64,
        app: &mut impl Application,
    ) -> AgentEvent {
        let Some(job) = self.job.as_mut() else { return AgentEvent::Idle };
        if now_ms < job.start_at_ms {
            return AgentEvent::Waiting;
        }
        if job.download.is_none() {
            match self.boot.update_region(storage, journal) {
                Ok(region) => job.download = Some(Download::new(&job.offer, region, self.config.download)),
                Err(e) => return self.fail(storage, journal, boot_cause(&e), Stage::Download),
            }
        }
        let Some(download) = job.download.as_mut() else { return AgentEvent::Idle };
        match download.poll(storage, journal, source, buf, now_ms) {
            Err(nb::Error::WouldBlock) => {
                let percent = download.progress().percent();
                let step = self.config.progress_step;
                if step > 0 && job.last_percent.is_none_or(|p| percent >= p.saturating_add(step)) {
                    job.last_percent = Some(percent);
                    let r = Report::Progress { target: job.offer.version.clone(), percent };
                    self.queue(r);
                }
                AgentEvent::Downloading { percent }
            }
            Err(nb::Error::Other(cause)) => {
                let stage = if cause == FailureCause::IntegrityCheckFailure {
                    Stage::Verify
                } else {
                    Stage::Download
                };
                self.fail(storage, journal, cause, stage)
            }
            Ok(image) => {
                let target = job.offer.version.clone();
                let info = ImageInfo {
                    size: image.size,
                    sha256: image.sha256,
                    version: target.clone(),
                    security_counter: app.security_counter(&job.offer),
                };
                if let Err(e) = self.boot.stage(storage, journal, info, self.config.trial_attempts) {
                    return self.fail(storage, journal, boot_cause(&e), Stage::Install);
                }
                let awaiting = Pending::Awaiting { target: target.clone() };
                if self.write_pending(storage, journal, &awaiting).is_err() {
                    return self.fail(storage, journal, FailureCause::UpdateFailed, Stage::Install);
                }
                // The checkpoint has served its purpose; if this write is cut, a later offer of
                // other firmware overwrites it, and the same firmware re-verifies and re-stages.
                let _ = Download::clear_checkpoint(storage, journal);
                self.job = None;
                self.staged = Some(target.clone());
                self.queue(Report::Progress { target: target.clone(), percent: 100 });
                self.queue(Report::Downloaded { target });
                app.request_reboot();
                AgentEvent::Staged
            }
        }
    }

    fn fail<S: Storage, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        cause: FailureCause,
        stage: Stage,
    ) -> AgentEvent {
        if let Some(job) = self.job.take() {
            let r = Report::Failed { target: job.offer.version, cause, stage };
            // If the journal cannot take it, the report is still queued for this boot.
            if self.persist(storage, journal, r.clone()).is_err() {
                self.queue(r);
            }
        }
        AgentEvent::Failed(cause)
    }

    /// The next report to send, if any. It stays first until [`Agent::report_delivered`].
    pub fn next_report(&self) -> Option<&Report> {
        self.outbox.front()
    }

    /// The platform acknowledged the report [`Agent::next_report`] gave: forget it (and its
    /// persisted copy).
    pub fn report_delivered<S: Storage, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
    ) -> Result<(), BootError> {
        if let Some(r) = self.outbox.pop_front()
            && r.must_persist()
        {
            journal.remove(storage.primary(), kinds::PENDING_REPORT)?;
        }
        Ok(())
    }

    /// Queues `r`; a newer progress report replaces an older one, and a full queue drops its
    /// oldest report that is not persisted.
    fn queue(&mut self, r: Report) {
        if matches!(r, Report::Progress { .. }) {
            let mut kept: heapless::Deque<Report, OUTBOX> = heapless::Deque::new();
            while let Some(x) = self.outbox.pop_front() {
                if !matches!(x, Report::Progress { .. }) {
                    let _ = kept.push_back(x);
                }
            }
            self.outbox = kept;
        }
        if self.outbox.is_full() {
            let mut kept: heapless::Deque<Report, OUTBOX> = heapless::Deque::new();
            let mut dropped = false;
            while let Some(x) = self.outbox.pop_front() {
                if !dropped && !x.must_persist() {
                    dropped = true;
                } else {
                    let _ = kept.push_back(x);
                }
            }
            self.outbox = kept;
        }
        let _ = self.outbox.push_back(r);
    }

    /// Writes a final report to the journal, then queues it.
    fn persist<S: Storage, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        r: Report,
    ) -> Result<(), BootError> {
        self.write_pending(storage, journal, &Pending::Report(r.clone()))?;
        self.queue(r);
        Ok(())
    }

    fn write_pending<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
        p: &Pending,
    ) -> Result<(), BootError> {
        let mut buf = [0u8; Pending::MAX_ENCODED];
        let bytes = p.encode(&mut buf).ok_or(BootError::StateFull)?;
        journal.write(storage.primary(), kinds::PENDING_REPORT, bytes)?;
        Ok(())
    }

    fn read_pending<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &Journal<K>,
    ) -> Result<Option<Pending>, BootError> {
        let mut buf = [0u8; Pending::MAX_ENCODED];
        match journal.read(storage.primary(), kinds::PENDING_REPORT, &mut buf) {
            Ok(Some(b)) => Ok(Pending::decode(b)),
            Ok(None) | Err(crate::flash::JournalError::BufferTooSmall { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// The failure cause a platform hears for a boot manager refusal.
fn boot_cause(e: &BootError) -> FailureCause {
    match e {
        BootError::ImageTooLarge | BootError::StateFull => FailureCause::NotEnoughStorage,
        BootError::SecurityCounter { .. } => FailureCause::UnsupportedPackage,
        BootError::Busy | BootError::RollbackPending => FailureCause::Busy,
        BootError::Flash(_) | BootError::InvalidAttempts => FailureCause::UpdateFailed,
    }
}
