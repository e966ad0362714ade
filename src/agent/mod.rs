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
//! the journal and a chunk source, and sends the reports it queues.
//!
//! # Outcome reports: never lost, never overwritten
//!
//! Every report names its update (target version and platform job id, [`UpdateId`]), and
//! [`Agent::report_delivered`] takes the report that was delivered and forgets only that one:
//! a late or repeated acknowledgement of another update's report changes nothing.
//!
//! The outcome of a staged update is owed from the moment it is staged: the
//! [`BootState::awaiting`](crate::boot::BootState::awaiting) field names it, written in the
//! **same** Journal record that stages the image, so no power cut separates the two. While it
//! is set, the outcome follows from the boot state alone ([`BootState::outcome`]): the awaited
//! image confirmed is a success; rolled back, refused at boot or its rollback requested is a
//! failure. Confirming needs no separate report write, and the field is cleared only when the
//! platform acknowledged the outcome. Every other final report (a failure after the offer was
//! accepted, a superseded job, and an undelivered outcome when the next image is staged) goes
//! into a persisted list of at most [`FINAL_REPORTS`] reports (kind
//! [`PENDING_REPORT`](crate::flash::kinds::PENDING_REPORT)) before it is queued, and leaves it
//! only when acknowledged. After every boot, [`Agent::start`] queues them all again
//! ([`Startup::Requeued`]).
//!
//! The queue ([`OUTBOX`] reports) never drops a final report: when it is full, the oldest
//! progress report goes first, then the oldest other report that is not final; a newer
//! progress report replaces older ones. An offer that could leave more final reports
//! outstanding than the list holds is refused with [`FailureCause::Busy`]
//! (see [`Agent::offer`]).
//!
//! Delivery is at least once: a power cut after the platform took a report but before the
//! acknowledgement's write landed sends it again after the reboot. Platforms take a
//! repeated final report for the same job as the same outcome.
//!
//! [`BootState::outcome`]: crate::boot::BootState::outcome
//! [`UpdateId`]: crate::UpdateId

mod application;
mod backoff;
mod error;
mod owned;
mod report;

pub use application::{Application, Decision};
pub use error::ReportError;
pub use owned::Agent;
pub use report::{Report, Stage};

use crate::boot::{BootControl, BootError, BootState, Outcome, Phase};
use crate::download::{Download, DownloadConfig};
use crate::flash::{Journal, Storage, kinds};
use crate::image::ImageInfo;
use crate::image::SignaturePolicy;
use crate::transport::ChunkSource;
use crate::{FailureCause, JobId, Offer, UpdateId, Version};
use backoff::Backoff;
use report::Persisted;

/// Final reports the Journal keeps besides the outcome the boot state owes: failures after an
/// offer was accepted, superseded jobs, and an undelivered outcome when the next image is
/// staged.
pub const FINAL_REPORTS: usize = report::FINALS;

/// Reports the Agent's queue holds: every persisted final report and the owed outcome, plus
/// three for progress, version and offer refusals.
pub const OUTBOX: usize = FINAL_REPORTS + 4;

/// Tunables of the [`Agent`].
#[derive(Debug, Clone, Copy)]
pub struct AgentConfig {
    /// Boots a new image gets to confirm itself before it is rolled back (at least 1).
    pub trial_attempts: u8,
    /// Queue a progress report every this many percent (0 = none).
    pub progress_step: u8,
    /// The download engine's settings (checkpoint interval, retries, timeouts, and the
    /// [`SignaturePolicy`]: with `Required`, only images with a valid signed manifest are
    /// staged, under the manifest's version and security counter).
    pub download: DownloadConfig,
    /// Accept transport-checked offers ([`Offer::transport_checked`]: no image digest, only a
    /// package id, as Huawei PCP sends). Off by default: an offer without a digest is then
    /// refused with [`FailureCause::InvalidOffer`]. Turn it on only for a platform whose
    /// protocol has no digest and checks every block itself (PCP's per-frame check code);
    /// the image is then checked for its size only, and the SHA-256 the engine computes of
    /// what it wrote guards the staged image until it boots. An offer that carries a digest
    /// is always verified against it.
    pub accept_transport_checked: bool,
    /// Accept offers of a version lower than the running one. Off by default: such an offer
    /// is refused with [`FailureCause::Downgrade`]. Versions compare as [`Version`] orders
    /// them; a fleet with free-text versions that do not order must turn this on. With a
    /// signature required, the bootloader's anti-rollback counter still refuses images
    /// signed below the minimum.
    pub allow_downgrade: bool,
    /// A higher version offered during a download supersedes it only once the download has
    /// run this long (ms since it was accepted); earlier, the offer is refused as busy. Bounds
    /// what a cloud alternating offers costs: at most one restart of the download (one pass of
    /// slot erases) per this interval. Default 10 minutes.
    pub supersede_after_ms: u64,
    /// After an update fails, the same firmware (version and size) offered again is refused
    /// with the failure's cause, without a download, for this long; every further failure of
    /// it doubles the wait, up to a day. Persisted across reboots. 0: no back-off. Default
    /// one minute.
    pub failure_backoff_ms: u64,
}

impl AgentConfig {
    /// The default tunables under `signature`, the one setting a device must state (see
    /// [`SignaturePolicy`]): 3 trial boots, a progress report every 10 %, the engine's
    /// defaults ([`DownloadConfig::new`]), no transport-checked offers, no downgrades,
    /// superseding after 10 minutes, a one-minute failure back-off.
    pub const fn new(signature: SignaturePolicy) -> Self {
        Self {
            trial_attempts: 3,
            progress_step: 10,
            download: DownloadConfig::new(signature),
            accept_transport_checked: false,
            allow_downgrade: false,
            supersede_after_ms: 10 * 60 * 1000,
            failure_backoff_ms: 60 * 1000,
        }
    }
}

/// The default tunables under a signature policy: [`Agent::new`] takes either.
impl From<crate::image::SignaturePolicy> for AgentConfig {
    fn from(signature: crate::image::SignaturePolicy) -> Self {
        Self::new(signature)
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
    /// An earlier boot rolled this image back (or refused it at boot); its failure is queued.
    /// Said at every boot until the platform acknowledged the failure.
    RolledBack(Version),
    /// An image is staged and waits for a reboot.
    RebootPending(Version),
    /// Final reports of earlier boots that the platform has not acknowledged were queued again
    /// (a success confirmed in an earlier boot, a download failure, a superseded job).
    Requeued {
        /// How many.
        reports: u8,
    },
}

/// What an offer led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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

/// What [`Agent::report_delivered`] did with an acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The report was queued and is forgotten now, its persisted copy too.
    Forgotten,
    /// No queued report is this one (a repeated or stale acknowledgement, or a report of
    /// another device): nothing changed.
    NotQueued,
}

struct Job<const L: usize> {
    offer: Offer<L>,
    accepted_ms: u64,
    start_at_ms: u64,
    download: Option<Download>,
    last_percent: Option<u8>,
}

/// A queued report and where its persisted copy lives.
#[derive(Debug, Clone)]
struct Queued {
    report: Report,
    /// In the persisted list of final reports.
    listed: bool,
    /// The outcome [`BootState::awaiting`] owes.
    owed: bool,
}

impl Queued {
    fn transient(report: Report) -> Self {
        Self { report, listed: false, owed: false }
    }

    /// True when nothing on flash keeps it: the queue may drop it to make room.
    fn droppable(&self) -> bool {
        !self.listed && !self.owed
    }
}

/// The lifecycle logic of an [`Agent`], with the flash, the Journal and the application lent
/// to each call; the [`Agent`] owns them.
pub(crate) struct Core<const L: usize = 512> {
    boot: BootControl,
    config: AgentConfig,
    running: Version,
    job: Option<Job<L>>,
    pub(super) staged: Option<Version>,
    outbox: heapless::Vec<Queued, OUTBOX>,
    backoff: Option<Backoff>,
}

impl<const L: usize> Core<L> {
    /// The logic for a device running `running`.
    pub(crate) fn new(boot: BootControl, config: AgentConfig, running: Version) -> Self {
        Self { boot, config, running, job: None, staged: None, outbox: heapless::Vec::new(), backoff: None }
    }

    /// The running version.
    pub fn running(&self) -> &Version {
        &self.running
    }

    /// The boot manager.
    pub fn boot(&self) -> &BootControl {
        &self.boot
    }

    /// The offer being worked on, if any.
    pub fn current_offer(&self) -> Option<&Offer<L>> {
        self.job.as_ref().map(|j| &j.offer)
    }

    /// The queued reports, the next to send first.
    pub fn reports(&self) -> impl Iterator<Item = &Report> {
        self.outbox.iter().map(|q| &q.report)
    }

    /// Call once after every boot, before anything else: confirms a trial image whose
    /// self-test passes (or requests its rollback), and queues every final report the platform
    /// has not acknowledged: the outcome the boot state owes and the persisted list.
    pub fn start<S: Storage, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        app: &mut impl Application,
    ) -> Result<Startup, BootError> {
        self.backoff = self.read_backoff(storage, journal)?;
        // The persisted list first: a report this boot persists is written together with it.
        let legacy_awaiting = {
            let persisted = self.read_persisted(storage, journal)?;
            for r in persisted.reports {
                self.enqueue(Queued { report: r, listed: true, owed: false });
            }
            persisted.legacy_awaiting
        };
        let mut state = self.boot.state(storage, journal)?;
        if let (None, Some(version)) = (&state.awaiting, legacy_awaiting) {
            // A record of the format before the list: the boot state owes that outcome now.
            let update = UpdateId { version, job: JobId::new() };
            self.boot.set_awaiting(storage, journal, update)?;
            state = self.boot.state(storage, journal)?;
        }
        let mut now = None;
        match state.phase.clone() {
            Phase::Trial { image, revert_requested: false, .. } => {
                let v = image.version.clone();
                let owed = state.awaiting.as_ref().is_some_and(|a| a.version.same_text(&v));
                if app.self_test() && self.boot.confirm(storage, journal)? {
                    self.running = v.clone();
                    if !owed {
                        // Staged without the Agent: nothing owes its outcome, so list it.
                        self.persist(
                            storage,
                            journal,
                            Report::Succeeded { version: v.clone(), job: JobId::new() },
                        )?;
                    }
                    now = Some(Startup::Confirmed(v));
                } else {
                    self.boot.request_rollback(storage, journal)?;
                    if !owed {
                        let failed = Report::Failed {
                            target: v.clone(),
                            job: JobId::new(),
                            cause: FailureCause::UpdateFailed,
                            stage: Stage::Install,
                        };
                        self.persist(storage, journal, failed)?;
                    }
                    app.request_reboot();
                    now = Some(Startup::RollbackRequested(v));
                }
                state = self.boot.state(storage, journal)?;
            }
            Phase::Trial { image, revert_requested: true, .. } => {
                // The rollback was requested in an earlier boot that then lost power.
                app.request_reboot();
                now = Some(Startup::RollbackRequested(image.version));
            }
            Phase::Staged { image, .. } => {
                self.staged = Some(image.version.clone());
                app.request_reboot();
                now = Some(Startup::RebootPending(image.version));
            }
            Phase::Idle | Phase::Installing { .. } | Phase::Reverting { .. } => {}
        }
        let mut rolled_back = None;
        if let Some(owed) = owed_report(&state) {
            if let Report::Failed { target, .. } = &owed {
                rolled_back = Some(target.clone());
                // An image that failed at boot is held back like a failed download (its size
                // is gone with the staged record: any size).
                if !self.backoff.as_ref().is_some_and(|b| b.matches(target, 0)) {
                    self.hold_back(storage, journal, target.clone(), 0, FailureCause::UpdateFailed, None);
                }
            }
            self.enqueue(Queued { report: owed, listed: false, owed: true });
        }
        let outstanding = self.outbox.iter().filter(|q| !q.droppable()).count();
        let requeued = u8::try_from(outstanding).unwrap_or(u8::MAX);
        Ok(match (now, rolled_back) {
            (Some(now), _) => now,
            (None, Some(v)) => Startup::RolledBack(v),
            (None, None) if requeued > 0 => Startup::Requeued { reports: requeued },
            (None, None) => Startup::Normal,
        })
    }

    /// Queues a report of the running version.
    pub fn report_version(&mut self) {
        let r = Report::Version { current: self.running.clone() };
        self.enqueue(Queued::transient(r));
    }

    /// Queues the failure report of an offer of `target` refused before it reached
    /// [`Agent::offer`] (its message could not be used: a malformed digest or size, no URL),
    /// so that the platform hears why. Nothing is written to flash.
    pub fn report_refused(&mut self, target: Version, cause: FailureCause) {
        self.enqueue(Queued::transient(Report::Failed {
            target,
            job: JobId::new(),
            cause,
            stage: Stage::Offer,
        }));
    }

    /// Takes an offer from the platform. Checks it (already latest, busy, invalid, too large,
    /// transport-checked without [`AgentConfig::accept_transport_checked`]) and asks the
    /// application.
    ///
    /// **An offer while another is under way** (accepted or deferred, not yet staged): the same
    /// firmware is a [`OfferOutcome::Duplicate`]; a *higher* version supersedes it, once it has
    /// passed every check and the application accepted it: the old job's download stops and
    /// it gets a persisted `Failed` report with [`FailureCause::Superseded`] (stage
    /// [`Stage::Download`]); anything else (a lower or equal version) is refused with
    /// [`FailureCause::Busy`] and the job under way carries on. While an image is staged or
    /// on trial, every other offer is refused as busy.
    ///
    /// **Room for outcomes**: an offer is refused as busy when its outcome (and the
    /// superseded job's) could not be kept with the final reports still unacknowledged
    /// ([`FINAL_REPORTS`] plus the owed outcome): a device whose platform never acknowledges
    /// stops taking updates rather than forget an outcome.
    ///
    /// The download checkpoint of a superseded job is replaced by the new job's at its first
    /// checkpoint; the same firmware offered again later starts over.
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
            let r = Report::Failed {
                target: offer.version.clone(),
                job: offer.job.clone(),
                cause,
                stage: Stage::Offer,
            };
            agent.enqueue(Queued::transient(r));
            OfferOutcome::Refused(cause)
        };
        if offer.version.same_text(&self.running) {
            return refuse(self, FailureCause::AlreadyLatest);
        }
        if offer.version < self.running && !self.config.allow_downgrade {
            return refuse(self, FailureCause::Downgrade);
        }
        if self.staged.is_some() {
            return refuse(self, FailureCause::Busy);
        }
        let supersedes = match &self.job {
            Some(j)
                if offer.version > j.offer.version
                    && now_ms.saturating_sub(j.accepted_ms) >= self.config.supersede_after_ms =>
            {
                true
            }
            Some(_) => return refuse(self, FailureCause::Busy),
            None => false,
        };
        if let Some(b) = self.backoff.as_mut()
            && b.matches(&offer.version, offer.size)
        {
            let until = *b.until_ms.get_or_insert(now_ms.saturating_add(u64::from(b.backoff_ms)));
            if now_ms < until {
                let cause = b.cause;
                return refuse(self, cause);
            }
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
        // The outcomes still owed, this offer's, and the superseded job's must fit the list
        // and the boot state's one owed outcome.
        let outstanding = self.outbox.iter().filter(|q| q.listed || q.owed).count();
        if outstanding.saturating_add(1).saturating_add(usize::from(supersedes))
            > FINAL_REPORTS.saturating_add(1)
        {
            return refuse(self, FailureCause::Busy);
        }
        let start_at_ms = match app.decide(&offer.version, offer.size) {
            Decision::AcceptNow => now_ms,
            Decision::Later { delay_ms } => now_ms.saturating_add(delay_ms),
            Decision::Decline => return refuse(self, FailureCause::DeclinedByApplication),
        };
        if supersedes && let Some(old) = self.job.take() {
            let r = Report::Failed {
                target: old.offer.version,
                job: old.offer.job,
                cause: FailureCause::Superseded,
                stage: Stage::Download,
            };
            // If the journal cannot take it, the report is still queued for this boot.
            if self.persist(storage, journal, r.clone()).is_err() {
                self.enqueue(Queued::transient(r));
            }
        }
        self.job = Some(Job { offer, accepted_ms: now_ms, start_at_ms, download: None, last_percent: None });
        if start_at_ms > now_ms { OfferOutcome::Deferred } else { OfferOutcome::Accepted }
    }

    /// The download under way, if any (progress, resume offset, bytes fetched).
    pub fn download(&self) -> Option<&Download> {
        self.job.as_ref().and_then(|j| j.download.as_ref())
    }

    /// Drops the current offer (the platform cancelled it, so no report is owed). The
    /// download checkpoint stays, so the same firmware offered again resumes.
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
                Err(e) => return self.fail(storage, journal, boot_cause(&e), Stage::Download, now_ms),
            }
        }
        let Some(download) = job.download.as_mut() else { return AgentEvent::Idle };
        match download.poll(storage, journal, source, buf, now_ms) {
            Err(nb::Error::WouldBlock) => {
                let percent = download.progress().percent();
                let step = self.config.progress_step;
                if step > 0 && job.last_percent.is_none_or(|p| percent >= p.saturating_add(step)) {
                    job.last_percent = Some(percent);
                    let r = Report::Progress {
                        target: job.offer.version.clone(),
                        job: job.offer.job.clone(),
                        percent,
                    };
                    self.enqueue(Queued::transient(r));
                }
                AgentEvent::Downloading { percent }
            }
            Err(nb::Error::Other(cause)) => {
                let stage = if cause == FailureCause::IntegrityCheckFailure {
                    Stage::Verify
                } else {
                    Stage::Download
                };
                self.fail(storage, journal, cause, stage, now_ms)
            }
            Ok(image) => {
                let update = UpdateId::of(&job.offer);
                // Under a signature policy, what the device acts on is what the signer vouched
                // for: the offer must name the signed version, and the counter is the signed one.
                let security_counter = match &image.signed {
                    Some(t) if !t.manifest.version.same_text(&update.version) => {
                        return self.fail(
                            storage,
                            journal,
                            FailureCause::VersionMismatch,
                            Stage::Verify,
                            now_ms,
                        );
                    }
                    Some(t) => t.manifest.security_counter,
                    None => 0,
                };
                let info = ImageInfo {
                    size: image.size,
                    sha256: image.sha256,
                    version: update.version.clone(),
                    security_counter,
                };
                // The boot state owes one outcome at a time: one still owed moves to the list
                // first. A cut after this write leaves it in both places; `start` queues it once.
                if let Some(i) = self.outbox.iter().position(|q| q.owed && !q.listed)
                    && self.write_list(storage, journal, |j, q| q.listed || j == i).is_err()
                {
                    return self.fail(storage, journal, FailureCause::UpdateFailed, Stage::Install, now_ms);
                }
                for q in self.outbox.iter_mut().filter(|q| q.owed) {
                    q.listed = true;
                }
                let attempts = self.config.trial_attempts;
                if let Err(e) = self.boot.stage_awaited(storage, journal, info, attempts, update.clone()) {
                    return self.fail(storage, journal, boot_cause(&e), Stage::Install, now_ms);
                }
                for q in self.outbox.iter_mut() {
                    q.owed = false;
                }
                // The checkpoint has served its purpose; if this write is cut, a later offer of
                // other firmware overwrites it, and the same firmware re-verifies and re-stages.
                let _ = Download::clear_checkpoint(storage, journal);
                self.job = None;
                self.staged = Some(update.version.clone());
                let progress = Report::Progress {
                    target: update.version.clone(),
                    job: update.job.clone(),
                    percent: 100,
                };
                self.enqueue(Queued::transient(progress));
                self.enqueue(Queued::transient(Report::Downloaded {
                    target: update.version,
                    job: update.job,
                }));
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
        now_ms: u64,
    ) -> AgentEvent {
        if let Some(job) = self.job.take() {
            let (version, size) = (job.offer.version.clone(), job.offer.size);
            self.hold_back(storage, journal, version, size, cause, Some(now_ms));
            let r = Report::Failed { target: job.offer.version, job: job.offer.job, cause, stage };
            // If the journal cannot take it, the report is still queued for this boot.
            if self.persist(storage, journal, r.clone()).is_err() {
                self.enqueue(Queued::transient(r));
            }
        }
        AgentEvent::Failed(cause)
    }

    /// The next report to send, if any. It stays first until [`Agent::report_delivered`].
    pub fn next_report(&self) -> Option<&Report> {
        self.outbox.first().map(|q| &q.report)
    }

    /// The platform acknowledged `delivered` (a report [`Agent::next_report`] gave, or any
    /// queued one): forget it, and its persisted copy. Only that report is forgotten; an
    /// acknowledgement of a report that is not queued (repeated, stale, from before a reboot
    /// that already forgot it) returns [`Delivery::NotQueued`] and changes nothing.
    ///
    /// On a flash error the report stays queued (and persisted), so a later acknowledgement
    /// can forget it. The error is a [`ReportError`] (see there for the drivers' `?` into
    /// [`BootError`]).
    pub fn report_delivered<S: Storage, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        delivered: &Report,
    ) -> Result<Delivery, ReportError> {
        let Some(i) = self.outbox.iter().position(|q| q.report.same_as(delivered)) else {
            return Ok(Delivery::NotQueued);
        };
        let Some(q) = self.outbox.get(i).cloned() else { return Ok(Delivery::NotQueued) };
        if q.listed {
            self.write_list(storage, journal, |j, x| x.listed && j != i)?;
            if let Some(x) = self.outbox.get_mut(i) {
                x.listed = false;
            }
        }
        if q.owed
            && let Some(update) = q.report.update()
        {
            self.boot.clear_awaiting(storage, journal, &update)?;
        }
        self.outbox.remove(i);
        Ok(Delivery::Forgotten)
    }

    /// Queues `q` and returns its index. An equal report already queued takes `q`'s flash
    /// homes instead (one entry per report); a progress report replaces older ones; a full
    /// queue drops its oldest progress report, else its oldest droppable report that is not
    /// final, else its oldest droppable one. `None` when only undroppable reports fill it
    /// (the capacity rules of [`Agent::offer`] keep that from happening).
    fn enqueue(&mut self, q: Queued) -> Option<usize> {
        if let Some(i) = self.outbox.iter().position(|x| x.report.same_as(&q.report)) {
            let x = self.outbox.get_mut(i)?;
            x.listed |= q.listed;
            x.owed |= q.owed;
            return Some(i);
        }
        if matches!(q.report, Report::Progress { .. }) {
            self.outbox.retain(|x| !matches!(x.report, Report::Progress { .. }) || !x.droppable());
        }
        if self.outbox.is_full() {
            let victim = self
                .outbox
                .iter()
                .position(|x| x.droppable() && matches!(x.report, Report::Progress { .. }))
                .or_else(|| self.outbox.iter().position(|x| x.droppable() && !x.report.is_final()))
                .or_else(|| self.outbox.iter().position(Queued::droppable));
            match victim {
                Some(v) => {
                    self.outbox.remove(v);
                }
                None => return None,
            }
        }
        self.outbox.push(q).ok()?;
        self.outbox.len().checked_sub(1)
    }

    /// Writes a final report to the persisted list, then queues it. If the write fails, the
    /// report is not queued (the caller decides).
    fn persist<S: Storage, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        r: Report,
    ) -> Result<(), BootError> {
        let Some(i) = self.enqueue(Queued::transient(r.clone())) else { return Err(BootError::StateFull) };
        let result = self.write_list(storage, journal, |j, x| x.listed || j == i);
        match result {
            Ok(()) => {
                if let Some(x) = self.outbox.get_mut(i) {
                    x.listed = true;
                }
                Ok(())
            }
            Err(e) => {
                // Not on flash: the caller queues it for this boot or fails.
                if self.outbox.get(i).is_some_and(|x| x.report.same_as(&r) && x.droppable()) {
                    self.outbox.remove(i);
                }
                Err(e.into())
            }
        }
    }

    /// Writes the persisted list: the queued reports `keep` selects (by index), oldest
    /// first; an empty list removes the record.
    fn write_list<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
        keep: impl Fn(usize, &Queued) -> bool,
    ) -> Result<(), ReportError> {
        let mut buf = [0u8; report::MAX_ENCODED];
        let mut kept =
            self.outbox.iter().enumerate().filter(|(j, q)| keep(*j, q)).map(|(_, q)| &q.report).peekable();
        if kept.peek().is_none() {
            journal.remove(storage.primary(), kinds::PENDING_REPORT)?;
            return Ok(());
        }
        let bytes = report::encode_list(kept, &mut buf).ok_or(ReportError::ListTooLarge)?;
        journal.write(storage.primary(), kinds::PENDING_REPORT, bytes)?;
        Ok(())
    }

    /// Holds `version` (of `size` bytes, 0: any) back after a failure with `cause`: one more
    /// failure if it is the firmware already held back, else the first. `now_ms`: when the
    /// window starts (`None`: at the first offer). Best effort: if the record cannot be
    /// written, the back-off still holds for this boot.
    fn hold_back<S: Storage, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        version: Version,
        size: u32,
        cause: FailureCause,
        now_ms: Option<u64>,
    ) {
        if self.config.failure_backoff_ms == 0 {
            return;
        }
        let failures = match &self.backoff {
            Some(b) if b.matches(&version, size) => b.failures.saturating_add(1),
            _ => 1,
        };
        let backoff_ms = Backoff::length_ms(self.config.failure_backoff_ms, failures);
        let until_ms = now_ms.map(|t| t.saturating_add(u64::from(backoff_ms)));
        let b = Backoff { version, size, cause, failures, backoff_ms, until_ms };
        let mut buf = [0u8; backoff::MAX_ENCODED];
        if let Some(bytes) = b.encode(&mut buf) {
            let _ = journal.write(storage.primary(), kinds::OFFER_BACKOFF, bytes);
        }
        self.backoff = Some(b);
    }

    fn read_backoff<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &Journal<K>,
    ) -> Result<Option<Backoff>, BootError> {
        let mut buf = [0u8; backoff::MAX_ENCODED];
        match journal.read(storage.primary(), kinds::OFFER_BACKOFF, &mut buf) {
            Ok(Some(b)) => Ok(Backoff::decode(b)),
            Ok(None) | Err(crate::flash::JournalError::BufferTooSmall { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn read_persisted<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &Journal<K>,
    ) -> Result<Persisted, BootError> {
        let mut buf = [0u8; report::MAX_ENCODED];
        match journal.read(storage.primary(), kinds::PENDING_REPORT, &mut buf) {
            // A record that does not decode (garbage, a newer format) holds nothing usable.
            Ok(Some(b)) => Ok(Persisted::decode(b).unwrap_or_default()),
            Ok(None) | Err(crate::flash::JournalError::BufferTooSmall { .. }) => Ok(Persisted::default()),
            Err(e) => Err(e.into()),
        }
    }
}

/// The outcome report the boot state owes, when it is decided.
fn owed_report(state: &BootState) -> Option<Report> {
    let update = state.awaiting.clone()?;
    match state.outcome()? {
        Outcome::Pending => None,
        Outcome::Succeeded => Some(Report::Succeeded { version: update.version, job: update.job }),
        Outcome::Failed => Some(Report::Failed {
            target: update.version,
            job: update.job,
            cause: FailureCause::UpdateFailed,
            stage: Stage::Install,
        }),
    }
}

/// The failure cause a platform hears for a boot manager refusal.
fn boot_cause(e: &BootError) -> FailureCause {
    match e {
        BootError::ImageTooLarge
        | BootError::StateFull
        | BootError::RecordTooLarge
        | BootError::TooManyKinds => FailureCause::NotEnoughStorage,
        BootError::SecurityCounter { .. } => FailureCause::UnsupportedPackage,
        BootError::Busy | BootError::RollbackPending => FailureCause::Busy,
        // A corrupt or unusable state partition is a fault, not a lack of room.
        BootError::Flash(_)
        | BootError::JournalCorrupt
        | BootError::StatePartition(_)
        | BootError::InvalidAttempts
        | BootError::Layout(_) => FailureCause::UpdateFailed,
    }
}
