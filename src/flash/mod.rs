//! Flash: partitions over any `embedded-storage` NOR flash, and the power-safe [`Journal`].

mod partition;

pub use partition::{AccessError, MAX_ACCESS_SIZE, Partition, PartitionError};
