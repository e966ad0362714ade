//! [`Report`]: what the device tells its platform, and the persisted list of final reports
//! the platform has not acknowledged yet (kind
//! [`PENDING_REPORT`](crate::flash::kinds::PENDING_REPORT)).
//!
//! Record format (little-endian): tag `0x10` | count u8 | `count` reports, each a kind byte
//! (`2` succeeded, `3` failed) | version (length byte + text) | job id (length byte + text)
//! and, for a failure, cause code (its index in [`FailureCause::ALL`]) | stage code. Records
//! of the single-report format before the list (tags `1` awaiting, `2` succeeded, `3` failed,
//! no job id) are still read.

#![deny(clippy::arithmetic_side_effects)]

use crate::bytes::{ByteReader, ByteWriter};
use crate::{FailureCause, JobId, UpdateId, Version};

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
///
/// Every report about an update names it: its target version and the platform's job id
/// (`job`, empty when the platform has none; see [`UpdateId`]). Acknowledge a report with
/// [`Agent::report_delivered`](super::Agent::report_delivered), passing the report itself:
/// only that report is forgotten.
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
        /// The platform's job id, empty when none.
        job: JobId,
        /// 0..=100.
        percent: u8,
    },
    /// The image is downloaded and verified, and staged for the next boot.
    Downloaded {
        /// The staged version.
        target: Version,
        /// The platform's job id, empty when none.
        job: JobId,
    },
    /// The new image booted and confirmed itself. Persisted until delivered.
    Succeeded {
        /// The version now running.
        version: Version,
        /// The platform's job id, empty when none.
        job: JobId,
    },
    /// The update failed. Persisted until delivered when `stage` is past the offer.
    Failed {
        /// The version that was offered.
        target: Version,
        /// The platform's job id, empty when none.
        job: JobId,
        /// Why.
        cause: FailureCause,
        /// Where.
        stage: Stage,
    },
}

impl Report {
    /// True for the final reports that must survive a reboot until delivered: a success, and
    /// a failure after the offer was accepted.
    pub fn must_persist(&self) -> bool {
        matches!(
            self,
            Self::Succeeded { .. }
                | Self::Failed { stage: Stage::Download | Stage::Verify | Stage::Install, .. }
        )
    }

    /// True for a final outcome (a success or a failure, at any stage): the Agent never drops
    /// one to make room in its queue.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Succeeded { .. } | Self::Failed { .. })
    }

    /// The update the report is about; `None` for [`Report::Version`].
    pub fn update(&self) -> Option<UpdateId> {
        let (version, job) = match self {
            Self::Version { .. } => return None,
            Self::Progress { target, job, .. }
            | Self::Downloaded { target, job }
            | Self::Failed { target, job, .. } => (target, job),
            Self::Succeeded { version, job } => (version, job),
        };
        Some(UpdateId { version: version.clone(), job: job.clone() })
    }

    /// The platform's job id of the update the report is about (empty when none).
    pub fn job(&self) -> &str {
        match self {
            Self::Version { .. } => "",
            Self::Progress { job, .. }
            | Self::Downloaded { job, .. }
            | Self::Succeeded { job, .. }
            | Self::Failed { job, .. } => job.as_str(),
        }
    }

    /// True when both are the same report: the same kind, fields and version *texts*
    /// (`"1.0"` and `"1.0.0"` are equal versions but different reports, as a platform that
    /// compares strings sees them).
    pub fn same_as(&self, other: &Report) -> bool {
        let text = |a: &Version, b: &Version| a.same_text(b);
        match (self, other) {
            (Self::Version { current: a }, Self::Version { current: b }) => text(a, b),
            (
                Self::Progress { target: a, job: j, percent: p },
                Self::Progress { target: b, job: k, percent: q },
            ) => text(a, b) && j == k && p == q,
            (Self::Downloaded { target: a, job: j }, Self::Downloaded { target: b, job: k }) => {
                text(a, b) && j == k
            }
            (Self::Succeeded { version: a, job: j }, Self::Succeeded { version: b, job: k }) => {
                text(a, b) && j == k
            }
            (
                Self::Failed { target: a, job: j, cause: c, stage: s },
                Self::Failed { target: b, job: k, cause: d, stage: t },
            ) => text(a, b) && j == k && c == d && s == t,
            _ => false,
        }
    }
}

impl core::fmt::Display for Report {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Version { current } => write!(f, "version {current}"),
            Self::Progress { target, percent, .. } => write!(f, "{target}: {percent}%"),
            Self::Downloaded { target, .. } => write!(f, "{target}: downloaded, verified and staged"),
            Self::Succeeded { version, .. } => write!(f, "{version}: update succeeded"),
            Self::Failed { target, cause, stage, .. } => write!(f, "{target}: failed at {stage:?}: {cause}"),
        }?;
        match self.job() {
            "" => Ok(()),
            job => write!(f, " (job {job})"),
        }
    }
}

/// Final reports persisted until delivered, besides the one the boot state owes
/// ([`BootState::awaiting`](crate::boot::BootState::awaiting)).
pub(crate) const FINALS: usize = 4;

/// What the journal record of kind `PENDING_REPORT` holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Persisted {
    /// An awaited update, from a record of the format before the list (the boot state now
    /// holds it).
    pub(crate) legacy_awaiting: Option<Version>,
    /// Final reports not yet delivered, oldest first.
    pub(crate) reports: heapless::Vec<Report, FINALS>,
}

const LIST: u8 = 0x10;
const LEGACY_AWAITING: u8 = 1;
const SUCCEEDED: u8 = 2;
const FAILED: u8 = 3;

/// Largest record: tag, count, and four failures of 1 + 33 + 65 + 2 bytes.
pub(crate) const MAX_ENCODED: usize = 2 + FINALS * (1 + 33 + 65 + 2);

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

/// Encodes `reports` (at most [`FINALS`], each final) as a list record. `None` when one is
/// not final or there are too many.
pub(crate) fn encode_list<'a, 'b>(
    reports: impl Iterator<Item = &'a Report>,
    buf: &'b mut [u8; MAX_ENCODED],
) -> Option<&'b [u8]> {
    let mut w = ByteWriter::new(&mut buf[..]);
    w.u8(LIST)?;
    w.u8(0)?;
    let mut count = 0u8;
    for r in reports {
        match r {
            Report::Succeeded { version, job } => {
                w.u8(SUCCEEDED)?;
                w.version(version)?;
                w.job(job)?;
            }
            Report::Failed { target, job, cause, stage } => {
                w.u8(FAILED)?;
                w.version(target)?;
                w.job(job)?;
                w.u8(cause_code(*cause))?;
                w.u8(stage_code(*stage))?;
            }
            _ => return None,
        }
        count = count.checked_add(1)?;
    }
    if usize::from(count) > FINALS {
        return None;
    }
    let n = w.len();
    *buf.get_mut(1)? = count;
    buf.get(..n)
}

fn get_final(r: &mut ByteReader<'_>, kind: u8, with_job: bool) -> Option<Report> {
    let version = r.version()?;
    let job = if with_job { r.job()? } else { JobId::new() };
    Some(match kind {
        SUCCEEDED => Report::Succeeded { version, job },
        FAILED => Report::Failed {
            target: version,
            job,
            cause: *FailureCause::ALL.get(usize::from(r.u8()?))?,
            stage: stage_of(r.u8()?)?,
        },
        _ => return None,
    })
}

impl Persisted {
    /// Decodes a record; `None` for anything malformed.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = ByteReader::new(bytes);
        let mut p = Self::default();
        match r.u8()? {
            LIST => {
                let count = r.u8()?;
                for _ in 0..count {
                    let kind = r.u8()?;
                    p.reports.push(get_final(&mut r, kind, true)?).ok()?;
                }
            }
            LEGACY_AWAITING => p.legacy_awaiting = Some(r.version()?),
            kind @ (SUCCEEDED | FAILED) => p.reports.push(get_final(&mut r, kind, false)?).ok()?,
            _ => return None,
        }
        r.is_done().then_some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(s: &str) -> JobId {
        JobId::try_from(s).unwrap()
    }

    #[test]
    fn list_round_trips() {
        let v = Version::parse("v2.0.0.1-with-a-suffix-of-32-b").unwrap();
        let long = job(&"j".repeat(crate::offer::MAX_JOB_LEN));
        let all = [
            Report::Succeeded { version: v.clone(), job: long.clone() },
            Report::Failed {
                target: v.clone(),
                job: long.clone(),
                cause: FailureCause::Superseded,
                stage: Stage::Verify,
            },
            Report::Failed {
                target: v.clone(),
                job: JobId::new(),
                cause: FailureCause::IntegrityCheckFailure,
                stage: Stage::Download,
            },
            Report::Failed {
                target: v.clone(),
                job: long,
                cause: FailureCause::UpdateFailed,
                stage: Stage::Install,
            },
        ];
        for n in 0..=FINALS {
            let mut buf = [0u8; MAX_ENCODED];
            let bytes = encode_list(all[..n].iter(), &mut buf).unwrap().to_vec();
            let p = Persisted::decode(&bytes).unwrap();
            assert_eq!(p.reports.as_slice(), &all[..n]);
            assert_eq!(p.legacy_awaiting, None);
            for cut in 0..bytes.len() {
                assert_eq!(Persisted::decode(&bytes[..cut]), None);
            }
        }
        let five = all.iter().chain(all.first());
        assert_eq!(encode_list(five, &mut [0; MAX_ENCODED]), None);
        let not_final = [Report::Version { current: v }];
        assert_eq!(encode_list(not_final.iter(), &mut [0; MAX_ENCODED]), None);
    }

    #[test]
    fn every_cause_round_trips() {
        for c in FailureCause::ALL {
            let r = Report::Failed {
                target: Version::parse("1").unwrap(),
                job: job("t"),
                cause: c,
                stage: Stage::Install,
            };
            let mut buf = [0u8; MAX_ENCODED];
            let bytes = encode_list([&r].into_iter(), &mut buf).unwrap().to_vec();
            assert_eq!(Persisted::decode(&bytes).unwrap().reports.as_slice(), &[r]);
        }
    }

    #[test]
    fn reads_the_single_report_format() {
        // tag, version "1.1", then (failure) cause 3 and stage 2.
        let awaiting = [1, 3, b'1', b'.', b'1'];
        let succeeded = [2, 3, b'1', b'.', b'1'];
        let failed = [3, 3, b'1', b'.', b'1', 3, 2];
        let v = Version::parse("1.1").unwrap();
        assert_eq!(Persisted::decode(&awaiting).unwrap().legacy_awaiting, Some(v.clone()));
        assert_eq!(
            Persisted::decode(&succeeded).unwrap().reports.as_slice(),
            &[Report::Succeeded { version: v.clone(), job: JobId::new() }]
        );
        assert_eq!(
            Persisted::decode(&failed).unwrap().reports.as_slice(),
            &[Report::Failed {
                target: v,
                job: JobId::new(),
                cause: FailureCause::ALL[3],
                stage: Stage::Verify
            }]
        );
    }

    #[test]
    fn same_as_compares_texts() {
        let a = Report::Succeeded { version: Version::parse("1.0").unwrap(), job: JobId::new() };
        let b = Report::Succeeded { version: Version::parse("1.0.0").unwrap(), job: JobId::new() };
        assert_eq!(a, b);
        assert!(!a.same_as(&b));
        assert!(a.same_as(&a.clone()));
        let c = Report::Succeeded { version: Version::parse("1.0").unwrap(), job: job("x") };
        assert!(!a.same_as(&c));
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..420)) {
            let _ = Persisted::decode(&bytes);
        }
    }
}
