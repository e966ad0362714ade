//! Boot: the A/B slots, the boot state kept in the Journal, trial boots, the Select and Swap
//! strategies, rollback and anti-rollback.
//!
//! The application side stages a verified image ([`BootManager::stage`]), confirms the
//! running image after its self-test ([`BootManager::confirm`]) or asks for a rollback; the
//! bootloader side calls [`BootManager::prepare_boot`] at every reset and runs the slot it
//! names. A device is never left without a bootable image: every transition is persisted
//! before the flash work it announces, and swaps resume where a power cut stopped them.

mod error;
mod image;
mod layout;
mod manager;
mod slot;
mod state;
mod swap;

pub use error::BootError;
pub use image::ImageInfo;
pub use layout::{Layout, LayoutError, Strategy};
pub use manager::{BootDecision, BootEvent, BootManager};
pub use slot::{Slot, SlotError, SlotRegion};
pub use state::{BootState, Outcome, Phase};
pub use swap::SwapProgress;
