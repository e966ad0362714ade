//! [`Report`]: what the device tells its platform, and the persisted form of the reports
//! the cloud must receive (kind [`PENDING_REPORT`](crate::flash::kinds::PENDING_REPORT)).

use crate::bytes::{ByteReader, ByteWriter};
use crate::{FailureCause, Version};

/// Where in the update a report or a failure belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Stage {
    /// Before the download: the offer was judged (declined, already latest, invalid).
    Offer,
    /// Fetching bytes.
    Download,
    /// Checking size and digests.
    Verify,
    /// Staging, swapping, trial booting.
    Install,
}

/// A report for the platform. Each platform module encodes it in its own format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// The running version (sent at start and when the platform asks).
    Version {
        /// The running version.
        current: Version,
    },
    /// Download progress.
    Progress {
        /// The version being fetched.
        target: Version,
        /// 0..=100.
        percent: u8,
    },
    /// The image is downloaded and verified, and staged for the next boot.
    Downloaded {
        /// The staged version.
        target: Version,
    },
    /// The new image booted and confirmed itself. Persisted until delivered.
    Succeeded {
        /// The version now running.
        version: Version,
    },
    /// The update failed. Persisted until delivered when `stage` is past the offer.
    Failed {
        /// The version that was offered.
        target: Version,
        /// Why.
        cause: FailureCause,
        /// Where.
        stage: Stage,
    },
}

impl Report {
    /// True for the final reports that must survive a reboot until delivered.
    pub fn must_persist(&self) -> bool {
        matches!(
            self,
            Self::Succeeded { .. }
                | Self::Failed { stage: Stage::Download | Stage::Verify | Stage::Install, .. }
        )
    }
}

impl core::fmt::Display for Report {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Version { current } => write!(f, "version {current}"),
            Self::Progress { target, percent } => write!(f, "{target}: {percent}%"),
            Self::Downloaded { target } => write!(f, "{target}: downloaded, verified and staged"),
            Self::Succeeded { version } => write!(f, "{version}: update succeeded"),
            Self::Failed { target, cause, stage } => write!(f, "{target}: failed at {stage:?}: {cause}"),
        }
    }
}

/// What the journal keeps between a staged update and its delivered outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pending {
    /// `target` was staged; its outcome is known after the next boot.
    Awaiting { target: Version },
    /// A final report not yet delivered.
    Report(Report),
}

const MAX: usize = 48;

fn cause_code(c: FailureCause) -> u8 {
    FailureCause::ALL.iter().position(|&x| x == c).and_then(|i| u8::try_from(i).ok()).unwrap_or(u8::MAX)
}

fn stage_code(s: Stage) -> u8 {
    match s {
        Stage::Offer => 0,
        Stage::Download => 1,
        Stage::Verify => 2,
        Stage::Install => 3,
    }
}

fn stage_of(b: u8) -> Option<Stage> {
    Some(match b {
        0 => Stage::Offer,
        1 => Stage::Download,
        2 => Stage::Verify,
        3 => Stage::Install,
        _ => return None,
    })
}

impl Pending {
    pub(crate) fn encode<'b>(&self, buf: &'b mut [u8; MAX]) -> Option<&'b [u8]> {
        let mut w = ByteWriter::new(buf);
        match self {
            Self::Awaiting { target } => {
                w.u8(1)?;
                w.version(target)?;
            }
            Self::Report(Report::Succeeded { version }) => {
                w.u8(2)?;
                w.version(version)?;
            }
            Self::Report(Report::Failed { target, cause, stage }) => {
                w.u8(3)?;
                w.version(target)?;
                w.u8(cause_code(*cause))?;
                w.u8(stage_code(*stage))?;
            }
            Self::Report(_) => return None,
        }
        let n = w.len();
        buf.get(..n)
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = ByteReader::new(bytes);
        let p = match r.u8()? {
            1 => Self::Awaiting { target: r.version()? },
            2 => Self::Report(Report::Succeeded { version: r.version()? }),
            3 => Self::Report(Report::Failed {
                target: r.version()?,
                cause: *FailureCause::ALL.get(usize::from(r.u8()?))?,
                stage: stage_of(r.u8()?)?,
            }),
            _ => return None,
        };
        r.is_done().then_some(p)
    }

    pub(crate) const MAX_ENCODED: usize = MAX;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_round_trips() {
        let v = Version::parse("v2.0.0.1").unwrap();
        let all = [
            Pending::Awaiting { target: v.clone() },
            Pending::Report(Report::Succeeded { version: v.clone() }),
            Pending::Report(Report::Failed {
                target: v.clone(),
                cause: FailureCause::IntegrityCheckFailure,
                stage: Stage::Verify,
            }),
        ];
        for p in all {
            let mut buf = [0u8; MAX];
            let bytes = p.encode(&mut buf).unwrap().to_vec();
            assert_eq!(Pending::decode(&bytes), Some(p));
            for n in 0..bytes.len() {
                assert_eq!(Pending::decode(&bytes[..n]), None);
            }
        }
        for c in FailureCause::ALL {
            let p = Pending::Report(Report::Failed { target: v.clone(), cause: c, stage: Stage::Install });
            let mut buf = [0u8; MAX];
            let bytes = p.encode(&mut buf).unwrap().to_vec();
            assert_eq!(Pending::decode(&bytes), Some(p));
        }
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..60)) {
            let _ = Pending::decode(&bytes);
        }
    }
}
