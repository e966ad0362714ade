//! [`Agent`]: the one value a device builds to take updates. It owns the flash, the Journal,
//! the application side of the boot state ([`BootControl`]) and the [`Application`] hooks, so
//! no call takes them again; platform drivers own the Agent in turn.

use super::{AgentConfig, AgentEvent, Core, Delivery, OfferOutcome, Report, Startup};
use crate::boot::{BootControl, BootError, Layout, LayoutError};
use crate::download::{Checkpoint, Download};
use crate::flash::PartitionError;
use crate::flash::{Journal, Storage};
use crate::transport::ChunkSource;
use crate::{FailureCause, Offer, Version};

use super::Application;

/// The update agent: offer → decide → download (resumable) → verify → stage → reboot →
/// confirm or roll back → report, with every outcome persisted until the platform
/// acknowledged it (see the [module docs](super)).
///
/// Built once from a validated [`Layout`]; [`storage_mut`](Self::storage_mut) lends the
/// flash back to the application between calls and [`into_parts`](Self::into_parts) returns
/// it. `A` is the application's hooks (`()` accepts every offer and passes every self-test),
/// `K` the Journal's record kinds, `L` the capacity of an offer's location and token texts.
///
/// ```
/// # #[cfg(feature = "mock")] {
/// use ota_client::agent::{Agent, AgentConfig, Startup};
/// use ota_client::boot::Layout;
/// use ota_client::flash::OneFlash;
/// use ota_client::image::SignaturePolicy;
/// use ota_client::mock::SimFlash;
///
/// let mut flash = OneFlash(SimFlash::<4, 4096>::new(140 * 1024, 0xFF));
/// let layout = Layout::swap(&mut flash, (0, 8192), (8192, 64 * 1024), (73728, 68 * 1024)).unwrap();
/// let config = AgentConfig::new(SignaturePolicy::Unsigned);
/// let mut agent = Agent::new(flash, layout, config, "1.0.0".parse().unwrap()).unwrap();
/// assert_eq!(agent.start().unwrap(), Startup::Normal);
/// agent.report_version();
/// assert!(agent.next_report().is_some());
/// # }
/// ```
pub struct Agent<S: Storage, A: Application = (), const K: usize = 8, const L: usize = 512> {
    core: Core<L>,
    storage: S,
    journal: Journal<K>,
    app: A,
}

impl<S: Storage> Agent<S> {
    /// An agent with the default capacities (8 Journal record kinds, 512-byte offer texts);
    /// [`new_sized`](Agent::new_sized) chooses them. See [`new_sized`](Agent::new_sized).
    pub fn new(
        storage: S,
        layout: Layout,
        config: impl Into<AgentConfig>,
        running: Version,
    ) -> Result<Self, BootError> {
        Self::new_sized(storage, layout, config, running)
    }
}

impl<S: Storage, const K: usize, const L: usize> Agent<S, (), K, L> {
    /// An agent for a device running `running`, on `storage` laid out as `layout`. Opens the
    /// Journal on the layout's state partition (recovering it after a power cut). A layout
    /// whose partitions do not fit `storage` is refused here, before anything is written.
    /// The application hooks are `()` until [`with_application`](Self::with_application).
    pub fn new_sized(
        mut storage: S,
        layout: Layout,
        config: impl Into<AgentConfig>,
        running: Version,
    ) -> Result<Self, BootError> {
        let config = config.into();
        let fits = |part: crate::flash::Partition, capacity: usize| {
            part.offset()
                .checked_add(part.size())
                .and_then(|end| usize::try_from(end).ok())
                .is_some_and(|end| end <= capacity)
        };
        let primary = embedded_storage::nor_flash::ReadNorFlash::capacity(storage.primary());
        let secondary = embedded_storage::nor_flash::ReadNorFlash::capacity(storage.secondary());
        use crate::image::Slot;
        if !fits(layout.state(), primary)
            || !fits(layout.slot(Slot::A).part, primary)
            || !fits(layout.slot(Slot::B).part, secondary)
        {
            return Err(BootError::Layout(LayoutError::Partition(PartitionError::OutOfBounds)));
        }
        let journal = Journal::open(storage.primary(), layout.state())?;
        Ok(Self { core: Core::new(BootControl::new(layout), config, running), storage, journal, app: () })
    }
}

impl<S: Storage, A: Application, const K: usize, const L: usize> Agent<S, A, K, L> {
    /// The same agent with the application's hooks `app` (offer decisions, the self-test, a
    /// reboot request).
    pub fn with_application<B: Application>(self, app: B) -> Agent<S, B, K, L> {
        Agent { core: self.core, storage: self.storage, journal: self.journal, app }
    }

    /// The flash, lent back to the application (its own data, a firmware's settings). Writes
    /// to the layout's partitions would break the update state.
    pub fn storage_mut(&mut self) -> &mut S {
        &mut self.storage
    }

    /// The Journal, for the application's own records (kinds from
    /// [`kinds::FIRST_APPLICATION_KIND`](crate::flash::kinds::FIRST_APPLICATION_KIND) up) and for inspection.
    pub fn journal_mut(&mut self) -> (&mut S, &mut Journal<K>) {
        (&mut self.storage, &mut self.journal)
    }

    /// The application's hooks.
    pub fn app(&self) -> &A {
        &self.app
    }

    /// The application's hooks, mutably.
    pub fn app_mut(&mut self) -> &mut A {
        &mut self.app
    }

    /// Gives the flash, the Journal and the application back.
    pub fn into_parts(self) -> (S, Journal<K>, A) {
        (self.storage, self.journal, self.app)
    }

    /// The running version.
    pub fn running(&self) -> &Version {
        self.core.running()
    }

    /// The application side of the boot state.
    pub fn boot(&self) -> &BootControl {
        self.core.boot()
    }

    /// The boot state as the Journal holds it.
    pub fn boot_state(&mut self) -> Result<crate::boot::BootState, BootError> {
        let boot = *self.core.boot();
        boot.state(&mut self.storage, &self.journal)
    }

    /// True when an image is staged and waits for the reboot that installs it (after
    /// [`AgentEvent::Staged`], and after a restart until that reboot).
    pub fn reboot_pending(&self) -> bool {
        self.core.staged.is_some()
    }

    /// The offer being worked on, if any.
    pub fn current_offer(&self) -> Option<&Offer<L>> {
        self.core.current_offer()
    }

    /// The queued reports, the next to send first.
    pub fn reports(&self) -> impl Iterator<Item = &Report> {
        self.core.reports()
    }

    /// Call once after every boot, before anything else: confirms a trial image whose
    /// self-test ([`Application::self_test`]) passes, or requests its rollback, and queues
    /// every final report the platform has not acknowledged: the outcome the boot state owes
    /// and the persisted list.
    pub fn start(&mut self) -> Result<Startup, BootError> {
        self.core.start(&mut self.storage, &mut self.journal, &mut self.app)
    }

    /// Queues a report of the running version.
    pub fn report_version(&mut self) {
        self.core.report_version();
    }

    /// Queues the failure report of an offer of `target` refused before it reached
    /// [`offer`](Self::offer) (its message could not be used: a malformed digest or size, no
    /// URL), so that the platform hears why. Nothing is written to flash.
    pub fn report_refused(&mut self, target: Version, cause: FailureCause) {
        self.core.report_refused(target, cause);
    }

    /// Takes an offer from the platform: checks it (already latest, busy, invalid, too
    /// large, a downgrade, backed off after failures), asks [`Application::decide`], and
    /// arbitrates against a job under way (the rules are on the [module docs](super) and
    /// [`AgentConfig`]).
    pub fn offer(&mut self, offer: Offer<L>, now_ms: u64) -> OfferOutcome {
        self.core.offer(&mut self.storage, &mut self.journal, offer, &mut self.app, now_ms)
    }

    /// [`offer`](Self::offer), with the decision forced to "accept now" (a platform's forced
    /// push: the application is not asked).
    pub fn offer_forced(&mut self, offer: Offer<L>, now_ms: u64) -> OfferOutcome {
        self.core.offer(&mut self.storage, &mut self.journal, offer, &mut Forced(&mut self.app), now_ms)
    }

    /// The download checkpoint the Journal holds, whichever firmware it is for (what a
    /// platform source such as [`PcpSource`](crate::platform::huawei_pcp::PcpSource) resumes
    /// from after a restart).
    pub fn checkpoint(&mut self) -> Option<Checkpoint> {
        Checkpoint::load(&mut self.storage, &self.journal)
    }

    /// The download checkpoint of `offer`'s firmware (the same version and digest), if the
    /// Journal holds one: its `written` bytes are what a resumed download does not fetch
    /// again, its `size` the image size (for a platform whose repeated offer omits it).
    pub fn checkpoint_of(&mut self, offer: &Offer<L>) -> Option<Checkpoint> {
        Checkpoint::load(&mut self.storage, &self.journal)
            .filter(|c| c.version.same_text(&offer.version) && c.digest == offer.digest)
    }

    /// The download under way, if any (progress, resume offset, bytes fetched).
    pub fn download(&self) -> Option<&Download> {
        self.core.download()
    }

    /// Drops the current offer (the platform cancelled it, so no report is owed). The
    /// download checkpoint stays, so the same firmware offered again resumes.
    pub fn cancel(&mut self) {
        self.core.cancel();
    }

    /// Moves the current update forward: downloads a chunk from `source` into `buf` (its
    /// size is the chunk size), or verifies and stages; on staging the application's
    /// [`request_reboot`](Application::request_reboot) runs and the event is
    /// [`AgentEvent::Staged`].
    pub fn poll(&mut self, source: &mut impl ChunkSource, buf: &mut [u8], now_ms: u64) -> AgentEvent {
        self.core.poll(&mut self.storage, &mut self.journal, source, buf, now_ms, &mut self.app)
    }

    /// The next report to send, if any. It stays first until
    /// [`report_delivered`](Self::report_delivered).
    pub fn next_report(&self) -> Option<&Report> {
        self.core.next_report()
    }

    /// The platform acknowledged `delivered`: forget it, and its persisted copy. Only that
    /// report is forgotten; an acknowledgement of a report that is not queued returns
    /// [`Delivery::NotQueued`] and changes nothing. On a flash error the report stays queued
    /// (and persisted), so a later acknowledgement can forget it.
    pub fn report_delivered(&mut self, delivered: &Report) -> Result<Delivery, super::ReportError> {
        self.core.report_delivered(&mut self.storage, &mut self.journal, delivered)
    }
}

/// The application of a forced push: accepts now, otherwise the application's own hooks.
struct Forced<'a, A: Application>(&'a mut A);

impl<A: Application> Application for Forced<'_, A> {
    fn self_test(&mut self) -> bool {
        self.0.self_test()
    }
    fn request_reboot(&mut self) {
        self.0.request_reboot()
    }
}

#[cfg(all(test, feature = "mock"))]
mod tests {
    use super::*;
    use crate::flash::{OneFlash, Partition};
    use crate::image::SignaturePolicy;
    use crate::mock::SimFlash;

    type Flash = SimFlash<4, 4096>;

    #[test]
    fn a_layout_for_another_flash_is_refused_before_anything_is_written() {
        let big = Flash::new(64 * 4096, 0xFF);
        let p = |o: u32, n: u32| Partition::new(&big, o * 4096, n * 4096, 0xFF).unwrap();
        let layout =
            Layout::new::<OneFlash<Flash>>(p(0, 2), p(2, 20), p(22, 21), crate::boot::Strategy::Swap)
                .unwrap();
        let mut small = OneFlash(Flash::new(16 * 4096, 0xFF));
        let refused = Agent::new(&mut small, layout, SignaturePolicy::Unsigned, "1.0".parse().unwrap());
        assert!(matches!(
            refused,
            Err(BootError::Layout(LayoutError::Partition(PartitionError::OutOfBounds)))
        ));
        assert_eq!(small.0.stats().writes, 0, "nothing written");
        assert!(small.0.stats().erases.iter().all(|&e| e == 0), "nothing erased");
        // The same layout on the flash it was made for opens, and the parts come back.
        let agent =
            Agent::new(OneFlash(big), layout, SignaturePolicy::Unsigned, "1.0".parse().unwrap()).unwrap();
        let (flash, journal, ()) = agent.into_parts();
        assert_eq!(journal.partition(), &layout.state());
        assert_eq!(flash.0.contents().len(), 64 * 4096);
    }

    #[test]
    fn the_application_and_the_flash_are_lent_and_given_back() {
        struct Count(u32);
        impl Application for Count {
            fn self_test(&mut self) -> bool {
                self.0 += 1;
                true
            }
        }
        let mut flash = OneFlash(Flash::new(64 * 4096, 0xFF));
        let layout =
            Layout::select(&mut flash, (0, 8192), (8192, 20 * 4096), (22 * 4096, 20 * 4096)).unwrap();
        let mut agent = Agent::new(flash, layout, SignaturePolicy::Unsigned, "1.0".parse().unwrap())
            .unwrap()
            .with_application(Count(0));
        agent.start().unwrap();
        assert_eq!(agent.app().0, 0, "no trial image: no self-test");
        assert!(!agent.reboot_pending());
        agent.storage_mut().0.contents_mut()[0x30000] = 0x42;
        let (flash, _, app) = agent.into_parts();
        assert_eq!((flash.0.contents()[0x30000], app.0), (0x42, 0));
    }
}
