//! Flash: partitions over any `embedded-storage` NOR flash, and the power-safe [`Journal`].

mod journal;
mod partition;

pub use journal::{Journal, JournalError};
pub use partition::{AccessError, MAX_ACCESS_SIZE, Partition, PartitionError};
