//! [`BootError`]: why a boot-state operation failed.

use crate::flash::{JournalError, PartitionError};
use embedded_storage::nor_flash::{NorFlashError, NorFlashErrorKind};

/// Why a boot manager operation failed. The persisted state is unchanged by a refused
/// request; after a flash failure it is the state before or after the operation.
///
/// A [`JournalError`] converts variant for variant: the flash driver's failure becomes
/// [`Flash`](Self::Flash) with its kind, a full journal [`StateFull`](Self::StateFull), a
/// corrupt one [`JournalCorrupt`](Self::JournalCorrupt), and so on, so that a corrupt state
/// partition stays distinguishable from a full one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BootError {
    /// A flash operation failed.
    Flash(NorFlashErrorKind),
    /// The state partition cannot hold the boot state: the live records do not fit one
    /// sector ([`JournalError::Full`]), or the boot state does not encode.
    StateFull,
    /// A record does not fit one sector of the state partition
    /// ([`JournalError::RecordTooLarge`]), or a stored record is larger than its reader's
    /// buffer ([`JournalError::BufferTooSmall`]).
    RecordTooLarge,
    /// The state partition holds more record kinds than the Journal's capacity
    /// ([`JournalError::TooManyKinds`]).
    TooManyKinds,
    /// The state partition's Journal is corrupt ([`JournalError::Corrupt`]): a record changed
    /// on flash since it was scanned, or no newer sector can be committed.
    JournalCorrupt,
    /// The state partition is unusable for the Journal ([`JournalError::Partition`]).
    StatePartition(PartitionError),
    /// The image is empty or larger than the slot it must fit.
    ImageTooLarge,
    /// The image's security counter is below the device's minimum.
    SecurityCounter {
        /// The device's minimum.
        minimum: u32,
        /// The image's counter.
        image: u32,
    },
    /// Trial attempts must be at least 1.
    InvalidAttempts,
    /// Another lifecycle step is under way (an image on trial, a swap to finish): confirm
    /// or roll back first.
    Busy,
    /// A rollback has been requested; the image can no longer be confirmed.
    RollbackPending,
    /// The layout does not fit the flash it was given ([`Agent::new`](crate::agent::Agent::new)):
    /// refused before anything is written.
    Layout(super::LayoutError),
}

impl core::fmt::Display for BootError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Flash(k) => write!(f, "flash error: {k}"),
            Self::StateFull => f.write_str("state partition full"),
            Self::RecordTooLarge => f.write_str("state record too large"),
            Self::TooManyKinds => f.write_str("too many record kinds in the state partition"),
            Self::JournalCorrupt => f.write_str("state journal corrupt"),
            Self::StatePartition(_) => f.write_str("state partition unusable"),
            Self::ImageTooLarge => f.write_str("image empty or larger than its slot"),
            Self::SecurityCounter { minimum, image } => {
                write!(f, "image security counter {image} below the minimum {minimum}")
            }
            Self::InvalidAttempts => f.write_str("trial attempts must be at least 1"),
            Self::Busy => f.write_str("another lifecycle step is under way"),
            Self::RollbackPending => f.write_str("rollback pending"),
            Self::Layout(_) => f.write_str("layout does not fit the flash"),
        }
    }
}

impl core::error::Error for BootError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::StatePartition(e) => Some(e),
            Self::Layout(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for BootError {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::Flash(k) => defmt::write!(f, "Flash({=str})", crate::flash::kind_name(*k)),
            Self::StateFull => defmt::write!(f, "StateFull"),
            Self::RecordTooLarge => defmt::write!(f, "RecordTooLarge"),
            Self::TooManyKinds => defmt::write!(f, "TooManyKinds"),
            Self::JournalCorrupt => defmt::write!(f, "JournalCorrupt"),
            Self::StatePartition(e) => defmt::write!(f, "StatePartition({})", e),
            Self::ImageTooLarge => defmt::write!(f, "ImageTooLarge"),
            Self::SecurityCounter { minimum, image } => {
                defmt::write!(f, "SecurityCounter {{ minimum: {}, image: {} }}", minimum, image)
            }
            Self::InvalidAttempts => defmt::write!(f, "InvalidAttempts"),
            Self::Busy => defmt::write!(f, "Busy"),
            Self::RollbackPending => defmt::write!(f, "RollbackPending"),
            Self::Layout(e) => defmt::write!(f, "Layout({})", e),
        }
    }
}

impl<E: NorFlashError> From<JournalError<E>> for BootError {
    fn from(e: JournalError<E>) -> Self {
        match e {
            JournalError::Flash(e) => Self::Flash(e.kind()),
            JournalError::Corrupt => Self::JournalCorrupt,
            JournalError::Full => Self::StateFull,
            JournalError::RecordTooLarge | JournalError::BufferTooSmall { .. } => Self::RecordTooLarge,
            JournalError::TooManyKinds => Self::TooManyKinds,
            JournalError::Partition(p) => Self::StatePartition(p),
        }
    }
}

impl From<crate::image::SlotError> for BootError {
    fn from(e: crate::image::SlotError) -> Self {
        match e {
            crate::image::SlotError::Bounds => Self::ImageTooLarge,
            crate::image::SlotError::Flash(k) => Self::Flash(k),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boot::LayoutError;
    use core::error::Error;

    #[test]
    fn corrupt_journal_is_not_a_full_one() {
        let corrupt = BootError::from(JournalError::<NorFlashErrorKind>::Corrupt);
        let full = BootError::from(JournalError::<NorFlashErrorKind>::Full);
        assert_eq!(corrupt, BootError::JournalCorrupt);
        assert_eq!(full, BootError::StateFull);
        assert_ne!(corrupt, full);
        assert_eq!(
            BootError::from(JournalError::<NorFlashErrorKind>::Partition(PartitionError::TooSmall)),
            BootError::StatePartition(PartitionError::TooSmall)
        );
        assert_eq!(
            BootError::from(JournalError::Flash(NorFlashErrorKind::OutOfBounds)),
            BootError::Flash(NorFlashErrorKind::OutOfBounds)
        );
    }

    #[test]
    fn display_and_source_chain() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(BootError::JournalCorrupt.to_string(), "state journal corrupt");
        let e = BootError::Layout(LayoutError::Partition(PartitionError::Misaligned));
        assert_eq!(e.to_string(), "layout does not fit the flash");
        let layout = e.source().unwrap();
        assert_eq!(layout.to_string(), "partition does not fit its device");
        let partition = layout.source().unwrap();
        assert_eq!(partition.to_string(), "partition not aligned to erase sectors");
        assert!(partition.source().is_none());
    }
}
