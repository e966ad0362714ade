//! How each Agent [`Report`] becomes the Edge's HTTP calls.
//!
//! | Report | Edge calls, in order |
//! |---|---|
//! | `Version` | none (checkversion carries the version) |
//! | `Progress { percent }` | `POST /updateresult` flag 1, process = percent, version `""`, desc `"updating"` |
//! | `Downloaded` (verified and staged) | `POST /downloadresult/{id}` code 1, `"download success"` |
//! | `Succeeded { version }` (confirmed after the reboot) | `POST /updateresult` flag 2, process 100, version, `"update completed"` |
//! | `Failed` at download or verify | `POST /downloadresult/{id}` code 0 (message: the cause), then `POST /updateresult` flag 0, process 0, errcode |
//! | `Failed` at the offer or the install | `POST /updateresult` flag 0, process 0, errcode |
//!
//! A failed updateresult carries the version the device runs (the seed's "current sub
//! device version": the update did not take), and the cause's description as `desc`. The errcode is [`errcode`](super::errcode::errcode) of the cause (−3 integrity, −5
//! declined, …). `{id}` is the last segment of the `downloadurl` the update came from; a
//! failure report that survived a reboot before this boot saw that url has no id and is
//! sent as its updateresult alone.

use super::codec::{DownloadResult, UpdateResult};
use crate::agent::{Report, Stage};

/// One HTTP call to the Edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeCall<'a> {
    /// `POST /downloadresult/{id}`.
    DownloadResult(DownloadResult<'a>),
    /// `POST /updateresult`.
    UpdateResult(UpdateResult<'a>),
}

/// The calls that deliver `report` for device `asset_id` running version `running`, in
/// order (at most two). `has_id`: whether the download id of the report's target is known.
///
/// ```
/// use ota_client::agent::{Report, Stage};
/// use ota_client::platform::enos_edge::report_map::{calls_for, EdgeCall};
/// use ota_client::{FailureCause, Version};
/// let failed = Report::Failed {
///     target: Version::parse("2.0.0").unwrap(),
///     job: Default::default(),
///     cause: FailureCause::IntegrityCheckFailure,
///     stage: Stage::Verify,
/// };
/// let calls = calls_for(&failed, "dev-1", "1.0.0", true);
/// assert!(matches!(calls[0], EdgeCall::DownloadResult(d) if d.code == 0));
/// assert!(matches!(calls[1], EdgeCall::UpdateResult(u) if u.errcode == -3 && u.version == "1.0.0"));
/// ```
pub fn calls_for<'a>(
    report: &'a Report,
    asset_id: &'a str,
    running: &'a str,
    has_id: bool,
) -> heapless::Vec<EdgeCall<'a>, 2> {
    let mut calls = heapless::Vec::new();
    let mut push = |c| {
        // Capacity 2 is the most any report needs.
        let _ = calls.push(c);
    };
    match report {
        Report::Version { .. } => {}
        Report::Progress { percent, .. } => {
            push(EdgeCall::UpdateResult(UpdateResult::in_progress(asset_id, *percent)));
        }
        Report::Downloaded { .. } => {
            if has_id {
                push(EdgeCall::DownloadResult(DownloadResult::success(asset_id)));
            }
        }
        Report::Succeeded { version, .. } => {
            push(EdgeCall::UpdateResult(UpdateResult::done(asset_id, version.as_str())));
        }
        Report::Failed { cause, stage, .. } => {
            if has_id && matches!(stage, Stage::Download | Stage::Verify) {
                push(EdgeCall::DownloadResult(DownloadResult::failure(asset_id, *cause)));
            }
            push(EdgeCall::UpdateResult(UpdateResult::failed(asset_id, running, *cause)));
        }
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::enos_edge::UpdateFlag;
    use crate::{FailureCause, JobId, Version};

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn every_report_maps_as_the_table_says() {
        assert!(calls_for(&Report::Version { current: v("1.0") }, "a", "1.0", true).is_empty());
        let p = Report::Progress { target: v("2.0"), job: JobId::new(), percent: 40 };
        assert_eq!(
            calls_for(&p, "a", "1.0", true).as_slice(),
            [EdgeCall::UpdateResult(UpdateResult::in_progress("a", 40))]
        );
        let d = Report::Downloaded { target: v("2.0"), job: JobId::new() };
        assert_eq!(
            calls_for(&d, "a", "1.0", true).as_slice(),
            [EdgeCall::DownloadResult(DownloadResult::success("a"))]
        );
        assert!(calls_for(&d, "a", "1.0", false).is_empty());
        let s = Report::Succeeded { version: v("2.0"), job: JobId::new() };
        let calls = calls_for(&s, "a", "1.0", true);
        let [EdgeCall::UpdateResult(u)] = calls.as_slice() else { panic!("{calls:?}") };
        assert_eq!((u.flag, u.process, u.version), (UpdateFlag::Done, 100, "2.0"));
        for stage in [Stage::Offer, Stage::Download, Stage::Verify, Stage::Install] {
            let f = Report::Failed {
                target: v("2.0"),
                job: JobId::new(),
                cause: FailureCause::DeclinedByApplication,
                stage,
            };
            let calls = calls_for(&f, "a", "1.0", true);
            let downloaded = matches!(stage, Stage::Download | Stage::Verify);
            assert_eq!(calls.len(), if downloaded { 2 } else { 1 }, "{stage:?}");
            let Some(EdgeCall::UpdateResult(u)) = calls.last() else { panic!() };
            assert_eq!((u.flag, u.process, u.errcode, u.version), (UpdateFlag::Failed, 0, -5, "1.0"));
            assert_eq!(calls_for(&f, "a", "1.0", false).len(), 1);
        }
    }
}
