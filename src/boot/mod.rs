//! Boot: the A/B slots, the boot state kept in the Journal, trial boots, the Select and Swap
//! strategies, rollback and anti-rollback.

mod slot;

pub use slot::{Slot, SlotError, SlotRegion};
