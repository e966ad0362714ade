//! Flash: partitions over any `embedded-storage` NOR flash, the devices they live on, and the
//! power-safe [`Journal`].

mod journal;
pub mod kinds;
mod partition;
mod storage;

pub use journal::{Journal, JournalError};
pub use partition::{AccessError, MAX_ACCESS_SIZE, Partition, PartitionError};
pub use storage::{OneFlash, Storage, TwoFlashes};

/// A short name for an `embedded-storage` error kind, for logs.
pub fn kind_name(kind: embedded_storage::nor_flash::NorFlashErrorKind) -> &'static str {
    use embedded_storage::nor_flash::NorFlashErrorKind as K;
    match kind {
        K::NotAligned => "not aligned",
        K::OutOfBounds => "out of bounds",
        _ => "other",
    }
}
