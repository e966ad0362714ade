//! [`BootControl`]: the application half of the A/B lifecycle: where a download writes
//! ([`update_region`](BootControl::update_region)), staging a verified image, confirming the
//! running image after its self-test, asking for a rollback, reading the boot state. The
//! bootloader half is [`BootLoader`](super::BootLoader); both read and write the same boot
//! state record in the Journal.

use super::error::BootError;
use super::layout::{Layout, Strategy};
use super::state::{BootState, Phase, load, save, update_slot};
use crate::UpdateId;
use crate::flash::{Journal, Storage};
use crate::image::info::ImageInfo;
use crate::image::slot::SlotRegion;

/// The application's control of the boot state: owns the layout; the flash and the Journal
/// are lent to each call.
///
/// ```
/// # #[cfg(feature = "mock")] {
/// use ota_client::boot::{BootControl, BootLoader, Layout, Strategy};
/// use ota_client::image::{ImageInfo, Slot};
/// use ota_client::flash::{Journal, OneFlash, Partition};
/// use ota_client::mock::SimFlash;
/// use ota_client::Version;
///
/// type Flash = SimFlash<4, 4096>;
/// let mut storage = OneFlash(Flash::new(64 * 4096, 0xFF));
/// let p = |o: u32, s: u32| Partition::new(&storage.0, o * 4096, s * 4096, 0xFF).unwrap();
/// let layout = Layout::new::<OneFlash<Flash>>(p(0, 2), p(2, 20), p(22, 20), Strategy::Select).unwrap();
/// let boot = BootControl::new(layout);
/// let mut journal: Journal = Journal::open(&mut storage.0, layout.state()).unwrap();
///
/// // The application downloaded an image into the update slot (here: zeros) and stages it.
/// let region = boot.update_region(&mut storage, &mut journal).unwrap();
/// let image = [0u8; 4096];
/// region.erase_sector(&mut storage, 0).unwrap();
/// region.write(&mut storage, 0, &image).unwrap();
/// let sha256 = region.sha256(&mut storage, 4096).unwrap();
/// let info = ImageInfo { size: 4096, sha256, version: Version::parse("1.1").unwrap(), security_counter: 1 };
/// boot.stage(&mut storage, &mut journal, info, 2).unwrap();
///
/// // The bootloader, at the next reset.
/// let decision = BootLoader::new(layout).prepare_boot(&mut storage, &mut journal, &mut |_| {}).unwrap();
/// assert_eq!((decision.slot, decision.trial), (Slot::B, true));
///
/// // The new image passes its self-test.
/// assert!(boot.confirm(&mut storage, &mut journal).unwrap());
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BootControl {
    layout: Layout,
}

impl BootControl {
    /// The application side for `layout`.
    pub fn new(layout: Layout) -> Self {
        Self { layout }
    }

    /// The layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The boot state. A blank state partition, or one whose record cannot be decoded, reads
    /// as [`BootState::default`]: slot A, idle.
    pub fn state<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &Journal<K>,
    ) -> Result<BootState, BootError> {
        load(storage, journal)
    }

    /// The slot a download must write to, after making sure nothing staged still points at
    /// it (a staged image is withdrawn). Refused with [`BootError::Busy`] while an image is on
    /// trial or a swap is unfinished: the other slot then holds the rollback image.
    pub fn update_region<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
    ) -> Result<SlotRegion, BootError> {
        let mut state = load(storage, journal)?;
        match state.phase {
            Phase::Idle => {}
            Phase::Staged { .. } => {
                state.phase = Phase::Idle;
                save(storage, journal, &state)?;
            }
            _ => return Err(BootError::Busy),
        }
        Ok(self.layout.staging(update_slot(&self.layout, &state)))
    }

    /// Stages a verified image, already written to the update slot, for a trial boot with
    /// `attempts` boots (at least 1) to confirm itself. [`BootState::awaiting`] stays as it is.
    pub fn stage<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
        image: ImageInfo,
        attempts: u8,
    ) -> Result<(), BootError> {
        self.stage_with(storage, journal, image, attempts, None)
    }

    /// [`stage`](Self::stage), and in the same write records that `update`'s outcome is owed
    /// to the platform ([`BootState::awaiting`]).
    pub(crate) fn stage_awaited<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
        image: ImageInfo,
        attempts: u8,
        update: UpdateId,
    ) -> Result<(), BootError> {
        self.stage_with(storage, journal, image, attempts, Some(update))
    }

    /// Records that `update`'s outcome is owed (for a record of the format before
    /// [`BootState::awaiting`]).
    pub(crate) fn set_awaiting<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
        update: UpdateId,
    ) -> Result<(), BootError> {
        let mut state = load(storage, journal)?;
        state.awaiting = Some(update);
        save(storage, journal, &state)
    }

    /// Forgets the awaited update once the platform acknowledged its outcome. Returns
    /// `false` (and writes nothing) when `update` is not the awaited one.
    pub(crate) fn clear_awaiting<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
        update: &UpdateId,
    ) -> Result<bool, BootError> {
        let mut state = load(storage, journal)?;
        if !state.awaiting.as_ref().is_some_and(|a| a.same_as(update)) {
            return Ok(false);
        }
        state.awaiting = None;
        save(storage, journal, &state)?;
        Ok(true)
    }

    fn stage_with<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
        image: ImageInfo,
        attempts: u8,
        update: Option<UpdateId>,
    ) -> Result<(), BootError> {
        if attempts == 0 {
            return Err(BootError::InvalidAttempts);
        }
        if image.size == 0 || image.size > self.layout.max_image_size() {
            return Err(BootError::ImageTooLarge);
        }
        let mut state = load(storage, journal)?;
        if image.security_counter < state.min_security_counter {
            return Err(BootError::SecurityCounter {
                minimum: state.min_security_counter,
                image: image.security_counter,
            });
        }
        if !matches!(state.phase, Phase::Idle | Phase::Staged { .. }) {
            return Err(BootError::Busy);
        }
        state.phase = Phase::Staged { image, attempts };
        state.last_rollback = None;
        if update.is_some() {
            state.awaiting = update;
        }
        save(storage, journal, &state)
    }

    /// Confirms the image on trial after its self-test: it becomes the confirmed image and
    /// the minimum security counter rises to its counter. Returns `false` (and changes
    /// nothing) when no image is on trial, so it is safe to call at every boot.
    pub fn confirm<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
    ) -> Result<bool, BootError> {
        let mut state = load(storage, journal)?;
        let Phase::Trial { image, revert_requested, .. } = &state.phase else { return Ok(false) };
        if *revert_requested {
            return Err(BootError::RollbackPending);
        }
        let image = image.clone();
        if self.layout.strategy() == Strategy::Select {
            state.active = state.active.other();
        }
        state.min_security_counter = state.min_security_counter.max(image.security_counter);
        state.active_image = Some(image);
        state.phase = Phase::Idle;
        save(storage, journal, &state)?;
        Ok(true)
    }

    /// Asks for the previous image: an image on trial is rolled back at the next boot; a
    /// staged image is withdrawn. Returns `false` when there is nothing to roll back.
    pub fn request_rollback<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
    ) -> Result<bool, BootError> {
        let mut state = load(storage, journal)?;
        match &mut state.phase {
            Phase::Trial { attempts_left, revert_requested, .. } => {
                *attempts_left = 0;
                *revert_requested = true;
            }
            Phase::Staged { .. } => state.phase = Phase::Idle,
            _ => return Ok(false),
        }
        save(storage, journal, &state)?;
        Ok(true)
    }
}
