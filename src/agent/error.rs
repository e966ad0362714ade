//! [`ReportError`]: why the Agent could not forget or persist a report.

use crate::boot::BootError;
use crate::flash::JournalError;
use embedded_storage::nor_flash::{NorFlashError, NorFlashErrorKind};

/// Why a report-queue operation ([`Agent::report_delivered`](super::Agent::report_delivered))
/// failed. The report stays queued (and persisted), so a later acknowledgement can forget it.
///
/// **Drivers.** The platform drivers (`Flow`, `EdgeDevice`, the serial updater) answer
/// [`BootError`] from their service loops, which also start the Agent and drive the boot
/// manager. They use `?` on a `ReportError` through `From<ReportError> for BootError`,
/// which keeps the cause: the journal's error maps as every [`JournalError`] does (a corrupt
/// journal is [`BootError::JournalCorrupt`], a full one [`BootError::StateFull`], a flash
/// failure [`BootError::Flash`] with its kind), a boot-state error is passed on unchanged,
/// and [`ListTooLarge`](Self::ListTooLarge) becomes [`BootError::StateFull`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportError {
    /// The Journal refused to write or remove the persisted report list. The flash driver's
    /// error is kept as its kind: [`JournalError::Flash`] holds the [`NorFlashErrorKind`].
    Journal(JournalError<NorFlashErrorKind>),
    /// The persisted report list does not encode into its record.
    ListTooLarge,
    /// Clearing the outcome the boot state owes failed.
    BootState(BootError),
}

impl core::fmt::Display for ReportError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Journal(_) => f.write_str("report list could not be written"),
            Self::ListTooLarge => f.write_str("report list too large for its record"),
            Self::BootState(_) => f.write_str("owed outcome could not be cleared from the boot state"),
        }
    }
}

impl core::error::Error for ReportError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Journal(e) => Some(e),
            Self::BootState(e) => Some(e),
            Self::ListTooLarge => None,
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for ReportError {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::Journal(e) => defmt::write!(f, "ReportError::Journal({})", e),
            Self::ListTooLarge => defmt::write!(f, "ReportError::ListTooLarge"),
            Self::BootState(e) => defmt::write!(f, "ReportError::BootState({})", e),
        }
    }
}

impl<E: NorFlashError> From<JournalError<E>> for ReportError {
    fn from(e: JournalError<E>) -> Self {
        Self::Journal(e.map_flash(|f| f.kind()))
    }
}

impl From<BootError> for ReportError {
    fn from(e: BootError) -> Self {
        Self::BootState(e)
    }
}

impl From<ReportError> for BootError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Journal(e) => e.into(),
            ReportError::ListTooLarge => Self::StateFull,
            ReportError::BootState(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::error::Error;
    use std::string::ToString;

    #[test]
    fn source_is_the_journal_error() {
        let e = ReportError::from(JournalError::<NorFlashErrorKind>::Corrupt);
        assert_eq!(e, ReportError::Journal(JournalError::Corrupt));
        assert_eq!(e.to_string(), "report list could not be written");
        assert_eq!(e.source().unwrap().to_string(), "journal corrupt");
        let flash = ReportError::from(JournalError::Flash(NorFlashErrorKind::NotAligned));
        assert_eq!(flash.source().unwrap().to_string(), "flash error: NotAligned");
    }

    #[test]
    fn boot_error_keeps_the_cause() {
        assert_eq!(BootError::from(ReportError::Journal(JournalError::Corrupt)), BootError::JournalCorrupt);
        assert_eq!(BootError::from(ReportError::Journal(JournalError::Full)), BootError::StateFull);
        assert_eq!(
            BootError::from(ReportError::Journal(JournalError::Flash(NorFlashErrorKind::OutOfBounds))),
            BootError::Flash(NorFlashErrorKind::OutOfBounds)
        );
        assert_eq!(BootError::from(ReportError::BootState(BootError::Busy)), BootError::Busy);
    }
}
