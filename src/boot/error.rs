//! [`BootError`]: why a boot-state operation failed.

use crate::flash::JournalError;
use embedded_storage::nor_flash::{NorFlashError, NorFlashErrorKind};

/// Why a boot manager operation failed. The persisted state is unchanged by a refused
/// request; after a flash failure it is the state before or after the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootError {
    /// A flash operation failed.
    Flash(NorFlashErrorKind),
    /// The state partition cannot hold the boot state (too small, or full of application
    /// records).
    StateFull,
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

#[cfg(feature = "defmt")]
impl defmt::Format for BootError {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::Flash(k) => defmt::write!(f, "Flash({=str})", crate::flash::kind_name(*k)),
            Self::StateFull => defmt::write!(f, "StateFull"),
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
            JournalError::Corrupt => Self::Flash(NorFlashErrorKind::Other),
            JournalError::Partition(_)
            | JournalError::RecordTooLarge
            | JournalError::Full
            | JournalError::TooManyKinds
            | JournalError::BufferTooSmall { .. } => Self::StateFull,
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
