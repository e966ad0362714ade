//! Boot: the A/B slots, the boot state kept in the Journal, trial boots, the Select and Swap
//! strategies, rollback and anti-rollback.
//!
//! Two halves over one boot state record: the application's [`BootControl`] stages a
//! verified image ([`BootControl::stage`]), confirms the running image after its self-test
//! ([`BootControl::confirm`]) or asks for a rollback; the bootloader's [`BootLoader`] calls
//! [`BootLoader::prepare_boot`] at every reset and runs the slot it names. A device is never left without a bootable image: every transition is persisted
//! before the flash work it announces, and swaps resume where a power cut stopped them.

mod control;
mod error;
mod layout;
mod loader;
mod state;
mod swap;

pub use control::BootControl;
pub use error::BootError;
pub use layout::{Layout, LayoutError, Strategy};
pub use loader::{BootDecision, BootEvent, BootLoader};
pub use state::{BootState, Outcome, Phase};
pub use swap::SwapProgress;
