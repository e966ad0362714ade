//! [`BootManager`]: the application side (stage, confirm, roll back) and the bootloader side
//! ([`BootManager::prepare_boot`]) of the A/B lifecycle.
//!
//! ```text
//!   Idle ──stage──▶ Staged ──boot──▶ (Swap: Installing ──▶) Trial ──confirm──▶ Idle (new)
//!                     │                                       │
//!                     └─ digest or counter bad at boot ─▶ Idle  └─ attempts run out, or
//!                                                                rollback requested ──▶
//!                                                   (Swap: Reverting ──▶) Idle (old)
//! ```

use super::error::BootError;
use super::image::ImageInfo;
use super::layout::{Layout, Strategy};
use super::slot::{Slot, SlotRegion};
use super::state::{BootState, MAX_ENCODED, Phase};
use super::swap::{Direction, SwapProgress, exchange};
use crate::UpdateId;
#[cfg(feature = "ed25519")]
use crate::download::signature::{TRAILER_LEN, TrustedKey, verify_digest};
use crate::flash::{Journal, Storage, kinds};

/// What happened during [`BootManager::prepare_boot`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BootEvent {
    /// Nothing changed: the confirmed image boots.
    Normal,
    /// A staged image boots for the first time, on trial.
    TrialStarted,
    /// The image on trial boots again (one attempt spent).
    TrialContinues,
    /// The image on trial ran out of attempts or was refused by the application: the
    /// previous image boots again.
    RolledBack,
    /// The staged image did not match its SHA-256 and was discarded.
    StagedImageCorrupt,
    /// A signature is required ([`BootManager::require_signature`]) and the staged image
    /// carried no valid one, or its signed manifest disagrees with the staged record; it was
    /// discarded.
    StagedImageUnsigned,
    /// The staged image's security counter is below the minimum; it was discarded.
    StagedImageRevoked,
}

/// The bootloader's answer: which slot to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BootDecision {
    /// The slot to run.
    pub slot: Slot,
    /// True when the image runs on trial and must confirm itself.
    pub trial: bool,
    /// What this boot did.
    pub event: BootEvent,
}

/// Owns the layout and the rules of the A/B lifecycle. The Journal and the flash devices
/// are lent to each call, so the application and the bootloader each build their own
/// manager over the same partitions.
///
/// ```
/// # #[cfg(feature = "mock")] {
/// use ota_client::boot::{BootManager, ImageInfo, Layout, Slot, Strategy};
/// use ota_client::flash::{Journal, OneFlash, Partition};
/// use ota_client::mock::SimFlash;
/// use ota_client::Version;
///
/// type Flash = SimFlash<4, 4096>;
/// let mut storage = OneFlash(Flash::new(64 * 4096, 0xFF));
/// let p = |o: u32, s: u32| Partition::new(&storage.0, o * 4096, s * 4096, 0xFF).unwrap();
/// let layout = Layout::new::<OneFlash<Flash>>(p(0, 2), p(2, 20), p(22, 20), Strategy::Select).unwrap();
/// let boot = BootManager::new(layout);
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
/// let decision = boot.prepare_boot(&mut storage, &mut journal, &mut |_| {}).unwrap();
/// assert_eq!((decision.slot, decision.trial), (Slot::B, true));
///
/// // The new image passes its self-test.
/// assert!(boot.confirm(&mut storage, &mut journal).unwrap());
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BootManager {
    layout: Layout,
    verify_before_trial: bool,
    #[cfg(feature = "ed25519")]
    signature_keys: Option<(&'static [TrustedKey], u32)>,
}

impl BootManager {
    /// A manager for `layout` that checks a staged image's SHA-256 before its first boot.
    pub fn new(layout: Layout) -> Self {
        Self {
            layout,
            verify_before_trial: true,
            #[cfg(feature = "ed25519")]
            signature_keys: None,
        }
    }

    /// Requires a staged image to end in a valid signed-image trailer
    /// ([`download::signature`](crate::download::signature)) signed by one of `keys` for
    /// `product`, checked before its first boot (feature `ed25519`). An image that fails, or
    /// whose signed manifest names another version or security counter than the staged
    /// record, is discarded with [`BootEvent::StagedImageUnsigned`] and the running image
    /// boots on; a manifest counter below the minimum is [`BootEvent::StagedImageRevoked`].
    ///
    /// The download engine already checks the signature while the image streams in
    /// ([`SignaturePolicy::Required`](crate::download::SignaturePolicy)); this second check
    /// reads the slot at boot (in the same pass as the SHA-256 check), so the bootloader
    /// trusts only what it verified itself (an application that staged an image by other means, or flash changed after
    /// the download, cannot get an unsigned image booted).
    #[cfg(feature = "ed25519")]
    pub fn require_signature(mut self, keys: &'static [TrustedKey], product: u32) -> Self {
        self.signature_keys = Some((keys, product));
        self
    }

    /// The boot-time checks of a staged image, from one read of its slot: its SHA-256
    /// against the record (with [`verify_before_trial`](Self::verify_before_trial)), then its
    /// signature (with [`require_signature`](Self::require_signature)). Returns the event that
    /// discards it, or `None` when it may boot.
    fn check_staged<S: Storage>(
        &self,
        storage: &mut S,
        region: &SlotRegion,
        image: &ImageInfo,
    ) -> Result<Option<BootEvent>, BootError> {
        #[cfg(feature = "ed25519")]
        if let Some((keys, product)) = self.signature_keys {
            let trailer_len = u32::try_from(TRAILER_LEN).unwrap_or(u32::MAX);
            let body_len = image.size.checked_sub(trailer_len).filter(|&b| b > 0);
            let (body, whole) = region.sha256_split(storage, image.size, body_len.unwrap_or(0))?;
            if self.verify_before_trial && whole != image.sha256 {
                return Ok(Some(BootEvent::StagedImageCorrupt));
            }
            let Some(body_len) = body_len else { return Ok(Some(BootEvent::StagedImageUnsigned)) };
            let mut raw = [0u8; TRAILER_LEN];
            region.read(storage, body_len, &mut raw)?;
            let Ok(trailer) = verify_digest(keys, product, &raw, body_len, &body) else {
                return Ok(Some(BootEvent::StagedImageUnsigned));
            };
            // What the application recorded must be what the signer vouched for.
            let m = &trailer.manifest;
            if !m.version.same_text(&image.version) || m.security_counter != image.security_counter {
                return Ok(Some(BootEvent::StagedImageUnsigned));
            }
            return Ok(None);
        }
        if self.verify_before_trial && region.sha256(storage, image.size)? != image.sha256 {
            return Ok(Some(BootEvent::StagedImageCorrupt));
        }
        Ok(None)
    }

    /// Turns the SHA-256 check of a staged image at boot on or off (on by default; it reads
    /// the image once).
    pub fn verify_before_trial(mut self, verify: bool) -> Self {
        self.verify_before_trial = verify;
        self
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
        let mut buf = [0u8; MAX_ENCODED];
        Ok(match journal.read(storage.primary(), kinds::BOOT_STATE, &mut buf) {
            Ok(Some(bytes)) => BootState::decode(bytes).unwrap_or_default(),
            Ok(None) | Err(crate::flash::JournalError::BufferTooSmall { .. }) => BootState::default(),
            Err(e) => return Err(e.into()),
        })
    }

    fn save<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
        state: &BootState,
    ) -> Result<(), BootError> {
        let mut buf = [0u8; MAX_ENCODED];
        let bytes = state.encode(&mut buf).ok_or(BootError::StateFull)?;
        journal.write(storage.primary(), kinds::BOOT_STATE, bytes)?;
        Ok(())
    }

    /// The slot a download must write to, after making sure nothing staged still points at
    /// it (a staged image is withdrawn). Refused with [`BootError::Busy`] while an image is on
    /// trial or a swap is unfinished: the other slot then holds the rollback image.
    pub fn update_region<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
    ) -> Result<SlotRegion, BootError> {
        let mut state = self.state(storage, journal)?;
        match state.phase {
            Phase::Idle => {}
            Phase::Staged { .. } => {
                state.phase = Phase::Idle;
                self.save(storage, journal, &state)?;
            }
            _ => return Err(BootError::Busy),
        }
        Ok(self.layout.staging(self.update_slot(&state)))
    }

    fn update_slot(&self, state: &BootState) -> Slot {
        match self.layout.strategy() {
            Strategy::Select => state.active.other(),
            Strategy::Swap => Slot::B,
        }
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
        let mut state = self.state(storage, journal)?;
        state.awaiting = Some(update);
        self.save(storage, journal, &state)
    }

    /// Forgets the awaited update once the platform acknowledged its outcome. Returns
    /// `false` (and writes nothing) when `update` is not the awaited one.
    pub(crate) fn clear_awaiting<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
        update: &UpdateId,
    ) -> Result<bool, BootError> {
        let mut state = self.state(storage, journal)?;
        if !state.awaiting.as_ref().is_some_and(|a| a.same_as(update)) {
            return Ok(false);
        }
        state.awaiting = None;
        self.save(storage, journal, &state)?;
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
        let mut state = self.state(storage, journal)?;
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
        self.save(storage, journal, &state)
    }

    /// Confirms the image on trial after its self-test: it becomes the confirmed image and
    /// the minimum security counter rises to its counter. Returns `false` (and changes
    /// nothing) when no image is on trial, so it is safe to call at every boot.
    pub fn confirm<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
    ) -> Result<bool, BootError> {
        let mut state = self.state(storage, journal)?;
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
        self.save(storage, journal, &state)?;
        Ok(true)
    }

    /// Asks for the previous image: an image on trial is rolled back at the next boot; a
    /// staged image is withdrawn. Returns `false` when there is nothing to roll back.
    pub fn request_rollback<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
    ) -> Result<bool, BootError> {
        let mut state = self.state(storage, journal)?;
        match &mut state.phase {
            Phase::Trial { attempts_left, revert_requested, .. } => {
                *attempts_left = 0;
                *revert_requested = true;
            }
            Phase::Staged { .. } => state.phase = Phase::Idle,
            _ => return Ok(false),
        }
        self.save(storage, journal, &state)?;
        Ok(true)
    }

    /// Bootloader side, called once per reset before jumping to an image: finishes or undoes
    /// an interrupted swap, starts a staged image's trial, spends one trial attempt, rolls
    /// back when attempts ran out without confirmation, and says which slot to run.
    ///
    /// Every transition is written to the Journal before the flash work it announces, so a
    /// power cut anywhere leads the next call to the same outcome.
    pub fn prepare_boot<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
        progress: &mut dyn FnMut(SwapProgress),
    ) -> Result<BootDecision, BootError> {
        let decision = self.decide_boot(storage, journal, progress)?;
        crate::log::info!(
            "boot: run slot {}, trial {=bool}, event {}",
            decision.slot,
            decision.trial,
            decision.event
        );
        Ok(decision)
    }

    /// The body of [`prepare_boot`](Self::prepare_boot), without the log line.
    fn decide_boot<S: Storage, const K: usize>(
        &self,
        storage: &mut S,
        journal: &mut Journal<K>,
        progress: &mut dyn FnMut(SwapProgress),
    ) -> Result<BootDecision, BootError> {
        let mut state = self.state(storage, journal)?;
        let mut event = BootEvent::Normal;
        // Each arm either returns or moves the phase strictly forward, so this ends.
        loop {
            match state.phase.clone() {
                Phase::Idle => return Ok(BootDecision { slot: state.active, trial: false, event }),
                Phase::Staged { image, attempts } => {
                    let region = self.layout.staging(self.update_slot(&state));
                    if image.security_counter < state.min_security_counter {
                        event = BootEvent::StagedImageRevoked;
                        state.phase = Phase::Idle;
                    } else if let Some(refused) = self.check_staged(storage, &region, &image)? {
                        event = refused;
                        state.phase = Phase::Idle;
                    } else if self.layout.strategy() == Strategy::Select {
                        state.phase = Phase::Trial {
                            image,
                            attempts_left: attempts.saturating_sub(1),
                            revert_requested: false,
                            pages: 0,
                        };
                        self.save(storage, journal, &state)?;
                        return Ok(BootDecision {
                            slot: state.active.other(),
                            trial: true,
                            event: BootEvent::TrialStarted,
                        });
                    } else {
                        let old =
                            state.active_image.as_ref().map_or(self.layout.max_image_size(), |i| i.size);
                        let pages = image.size.max(old).div_ceil(self.layout.page());
                        let swap_id = state.next_swap_id;
                        state.next_swap_id = swap_id.wrapping_add(1);
                        state.phase = Phase::Installing { image, attempts, pages, swap_id };
                    }
                    self.save(storage, journal, &state)?;
                }
                Phase::Installing { image, attempts, pages, swap_id } => {
                    exchange(&self.layout, storage, journal, pages, swap_id, Direction::Install, progress)?;
                    state.phase = Phase::Trial {
                        image,
                        attempts_left: attempts.saturating_sub(1),
                        revert_requested: false,
                        pages,
                    };
                    self.save(storage, journal, &state)?;
                    return Ok(BootDecision { slot: Slot::A, trial: true, event: BootEvent::TrialStarted });
                }
                Phase::Trial { image, attempts_left, revert_requested, pages } => {
                    if attempts_left > 0 && !revert_requested {
                        state.phase =
                            Phase::Trial { image, attempts_left: attempts_left - 1, revert_requested, pages };
                        self.save(storage, journal, &state)?;
                        let slot = state.running_slot(self.layout.strategy());
                        return Ok(BootDecision { slot, trial: true, event: BootEvent::TrialContinues });
                    }
                    event = BootEvent::RolledBack;
                    if self.layout.strategy() == Strategy::Select {
                        state.last_rollback = Some(image.version);
                        state.phase = Phase::Idle;
                    } else {
                        let swap_id = state.next_swap_id;
                        state.next_swap_id = swap_id.wrapping_add(1);
                        state.phase = Phase::Reverting { image, pages, swap_id };
                    }
                    self.save(storage, journal, &state)?;
                }
                Phase::Reverting { image, pages, swap_id } => {
                    exchange(&self.layout, storage, journal, pages, swap_id, Direction::Revert, progress)?;
                    event = BootEvent::RolledBack;
                    state.last_rollback = Some(image.version);
                    state.phase = Phase::Idle;
                    self.save(storage, journal, &state)?;
                }
            }
        }
    }
}
