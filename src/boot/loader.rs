//! [`BootLoader`]: the bootloader half of the A/B lifecycle. At every reset,
//! [`BootLoader::prepare_boot`] finishes or undoes an interrupted swap, starts a staged
//! image's trial after checking it, spends trial attempts, rolls back, and names the slot to
//! run. It writes nothing but the boot state and the swap's progress records, and links
//! neither the download engine nor the report queue nor any platform code: the bootloader
//! binary stays small. The application half is [`BootControl`](super::BootControl).
//!
//! ```text
//!   Idle ──stage──▶ Staged ──boot──▶ (Swap: Installing ──▶) Trial ──confirm──▶ Idle (new)
//!                     │                                       │
//!                     └─ digest or counter bad at boot ─▶ Idle  └─ attempts run out, or
//!                                                                rollback requested ──▶
//!                                                   (Swap: Reverting ──▶) Idle (old)
//! ```

use super::error::BootError;
use super::layout::{Layout, Strategy};
use super::state::{Phase, load, save, update_slot};
use super::swap::{Direction, SwapProgress, exchange};
use crate::flash::{Journal, Storage};
use crate::image::info::ImageInfo;
#[cfg(feature = "ed25519")]
use crate::image::signature::{TRAILER_LEN, TrustedKey, verify_digest};
use crate::image::slot::{Slot, SlotRegion};

/// What happened during [`BootLoader::prepare_boot`].
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
    /// A signature is required ([`BootLoader::require_signature`]) and the staged image
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

/// The bootloader: owns the layout and the boot-time checks; the flash and the Journal are
/// lent to [`prepare_boot`](Self::prepare_boot).
#[derive(Debug, Clone, Copy)]
pub struct BootLoader {
    layout: Layout,
    verify_before_trial: bool,
    #[cfg(feature = "ed25519")]
    signature_keys: Option<(&'static [TrustedKey], u32)>,
}

impl BootLoader {
    /// A bootloader for `layout` that checks a staged image's SHA-256 before its first boot.
    pub fn new(layout: Layout) -> Self {
        Self {
            layout,
            verify_before_trial: true,
            #[cfg(feature = "ed25519")]
            signature_keys: None,
        }
    }

    /// Requires a staged image to end in a valid signed-image trailer
    /// ([`image::signature`](crate::image::signature)) signed by one of `keys` for
    /// `product`, checked before its first boot (feature `ed25519`). An image that fails, or
    /// whose signed manifest names another version or security counter than the staged
    /// record, is discarded with [`BootEvent::StagedImageUnsigned`] and the running image
    /// boots on; a manifest counter below the minimum is [`BootEvent::StagedImageRevoked`].
    ///
    /// The download engine already checks the signature while the image streams in
    /// ([`SignaturePolicy::Required`](crate::image::SignaturePolicy)); this second check
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

    /// [`prepare_boot`](Self::prepare_boot) with the Journal opened on the layout's state
    /// partition (recovered after a power cut) and no progress callback: the whole
    /// bootloader in one call.
    pub fn boot<S: Storage>(&self, storage: &mut S) -> Result<BootDecision, BootError> {
        let mut journal: Journal = Journal::open(storage.primary(), self.layout.state())?;
        self.prepare_boot(storage, &mut journal, &mut |_| {})
    }

    /// The layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Called once per reset before jumping to an image: finishes or undoes
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
        let mut state = load(storage, journal)?;
        let mut event = BootEvent::Normal;
        // Each arm either returns or moves the phase strictly forward, so this ends.
        loop {
            match state.phase.clone() {
                Phase::Idle => return Ok(BootDecision { slot: state.active, trial: false, event }),
                Phase::Staged { image, attempts } => {
                    let region = self.layout.staging(update_slot(&self.layout, &state));
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
                        save(storage, journal, &state)?;
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
                    save(storage, journal, &state)?;
                }
                Phase::Installing { image, attempts, pages, swap_id } => {
                    exchange(&self.layout, storage, journal, pages, swap_id, Direction::Install, progress)?;
                    state.phase = Phase::Trial {
                        image,
                        attempts_left: attempts.saturating_sub(1),
                        revert_requested: false,
                        pages,
                    };
                    save(storage, journal, &state)?;
                    return Ok(BootDecision { slot: Slot::A, trial: true, event: BootEvent::TrialStarted });
                }
                Phase::Trial { image, attempts_left, revert_requested, pages } => {
                    if attempts_left > 0 && !revert_requested {
                        state.phase =
                            Phase::Trial { image, attempts_left: attempts_left - 1, revert_requested, pages };
                        save(storage, journal, &state)?;
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
                    save(storage, journal, &state)?;
                }
                Phase::Reverting { image, pages, swap_id } => {
                    exchange(&self.layout, storage, journal, pages, swap_id, Direction::Revert, progress)?;
                    event = BootEvent::RolledBack;
                    state.last_rollback = Some(image.version);
                    state.phase = Phase::Idle;
                    save(storage, journal, &state)?;
                }
            }
        }
    }
}
