//! Outcome reports through the Agent's public API: each names its update, the queue keeps
//! every unacknowledged outcome across updates and reboots, an acknowledgement forgets only
//! the report it names, and an offer during a download follows one rule.

use ota_client::agent::{
    AgentConfig, AgentEvent, Delivery, FINAL_REPORTS, OfferOutcome, Report, Stage, Startup,
};
use ota_client::flash::kinds;
use ota_client::image::SignaturePolicy;
use ota_client::mock::ChunkServer;
use ota_client::{FailureCause, JobId};

use crate::support::sim_device::*;
use ota_client::boot::Strategy;

fn job(s: &str) -> JobId {
    JobId::try_from(s).unwrap()
}

fn succeeded(version: &str, j: &str) -> Report {
    Report::Succeeded { version: v(version), job: job(j) }
}

fn failed(version: &str, j: &str, cause: FailureCause, stage: Stage) -> Report {
    Report::Failed { target: v(version), job: job(j), cause, stage }
}

/// The final reports queued, in order.
fn finals(agent: &TestAgent) -> Vec<Report> {
    agent.reports().filter(|r| r.is_final()).cloned().collect()
}

/// Acknowledges every report that is not final.
fn ack_transient(agent: &mut TestAgent) {
    let transient: Vec<Report> = agent.reports().filter(|r| !r.is_final()).cloned().collect();
    for r in transient {
        assert_eq!(agent.report_delivered(&r).unwrap(), Delivery::Forgotten);
    }
}

/// Offers, downloads and stages `version` under `j`, with the platform acknowledging nothing.
fn stage(agent: &mut TestAgent, version: &str, j: &str) {
    let img = image(9_000 + version.len() * 100, 0);
    let offer = offer_for(&img, version).with_job(j).unwrap();
    assert_eq!(agent.offer(offer, 0), OfferOutcome::Accepted);
    let mut src = ChunkServer::new(img);
    assert_eq!(run(agent, &mut src), AgentEvent::Staged);
}

#[test]
fn every_report_of_an_update_names_its_job() {
    let mut dev = SimDevice::new(Strategy::Select);
    let (mut agent, _) = dev.start("1.0.0");
    stage(&mut agent, "1.1.0", "task-7");
    let reports: Vec<Report> = agent.reports().cloned().collect();
    assert!(!reports.is_empty());
    assert!(reports.iter().all(|r| r.job() == "task-7"), "{reports:?}");
    assert_eq!(reports.last().unwrap().to_string(), "1.1.0: downloaded, verified and staged (job task-7)");
    dev.reset();
    let (agent, startup) = dev.start("1.1.0");
    assert_eq!(startup, Startup::Confirmed(v("1.1.0")));
    assert_eq!(finals(&agent), vec![succeeded("1.1.0", "task-7")]);
}

/// An unacknowledged success is not overwritten when the next update is staged, and a late
/// acknowledgement of it leaves the next update's outcome owed.
#[test]
fn an_unacknowledged_outcome_survives_the_next_update_and_its_late_ack_removes_only_it() {
    for strategy in [Strategy::Select, Strategy::Swap] {
        let mut dev = SimDevice::new(strategy);
        let (mut agent, _) = dev.start("1.0.0");
        stage(&mut agent, "1.1.0", "a");
        dev.reset();
        let (mut agent, startup) = dev.start("1.1.0");
        assert_eq!(startup, Startup::Confirmed(v("1.1.0")));
        // The platform does not acknowledge 1.1.0's success (an Edge answering 5xx), and
        // offers 1.2.0 meanwhile.
        stage(&mut agent, "1.2.0", "b");
        assert_eq!(finals(&agent), vec![succeeded("1.1.0", "a")]);
        // A reboot before anything is delivered: still owed.
        dev.reset();
        let (mut agent, startup) = dev.start("1.2.0");
        assert_eq!(startup, Startup::Confirmed(v("1.2.0")), "{strategy:?}");
        assert_eq!(finals(&agent), vec![succeeded("1.1.0", "a"), succeeded("1.2.0", "b")]);
        // 1.1.0's late acknowledgement forgets 1.1.0's success only.
        let late = succeeded("1.1.0", "a");
        assert_eq!(agent.report_delivered(&late).unwrap(), Delivery::Forgotten);
        assert_eq!(agent.report_delivered(&late).unwrap(), Delivery::NotQueued);
        dev.reset();
        let (mut agent, startup) = dev.start("1.2.0");
        assert_eq!(startup, Startup::Requeued { reports: 1 });
        assert_eq!(finals(&agent), vec![succeeded("1.2.0", "b")]);
        // Acknowledged after a reboot: forgotten for good.
        let ack = succeeded("1.2.0", "b");
        assert_eq!(agent.report_delivered(&ack).unwrap(), Delivery::Forgotten);
        dev.reset();
        let (agent, startup) = dev.start("1.2.0");
        assert_eq!((startup, finals(&agent)), (Startup::Normal, vec![]));
    }
}

/// The acknowledgement of the previous update's outcome that arrives after the next update is
/// staged (not yet booted) leaves the staged update's outcome owed: it is reported after the
/// reboot whether the image is confirmed or rolled back.
#[test]
fn a_late_ack_while_the_next_update_is_staged_keeps_its_outcome_owed() {
    for fail in [false, true] {
        let mut dev = SimDevice::new(Strategy::Swap);
        let app = dev.app.clone();
        let (mut agent, _) = dev.start("1.0.0");
        stage(&mut agent, "1.1.0", "a");
        dev.reset();
        let (mut agent, _) = dev.start("1.1.0");
        stage(&mut agent, "1.2.0", "b");
        let late = succeeded("1.1.0", "a");
        assert_eq!(agent.report_delivered(&late).unwrap(), Delivery::Forgotten);
        dev.reset();
        app.fail_self_test.set(fail);
        let (_, startup) = dev.start("1.2.0");
        app.fail_self_test.set(false);
        dev.reset();
        let (agent, second) = dev.start(if fail { "1.1.0" } else { "1.2.0" });
        if fail {
            assert_eq!(startup, Startup::RollbackRequested(v("1.2.0")));
            assert_eq!(second, Startup::RolledBack(v("1.2.0")));
            assert_eq!(
                finals(&agent),
                vec![failed("1.2.0", "b", FailureCause::UpdateFailed, Stage::Install)]
            );
        } else {
            assert_eq!(startup, Startup::Confirmed(v("1.2.0")));
            assert_eq!(second, Startup::Requeued { reports: 1 });
            assert_eq!(finals(&agent), vec![succeeded("1.2.0", "b")]);
        }
    }
}

/// A higher version offered during a download supersedes it, and the superseded job hears
/// why; a lower or equal one is refused as busy and the download carries on.
#[test]
fn an_offer_during_a_download_supersedes_it_only_when_newer() {
    let mut dev = SimDevice::new(Strategy::Select);
    let (mut agent, _) = dev.start("1.0.0");
    let img = image(40_000, 0);
    let first = offer_for(&img, "1.1.0").with_job("a").unwrap();
    assert_eq!(agent.offer(first, 0), OfferOutcome::Accepted);
    let mut src = ChunkServer::new(img.clone());
    let mut buf = [0u8; 1024];
    while agent.download().is_none_or(|d| d.progress().percent() < 41) {
        let event = agent.poll(&mut src, &mut buf, 0);
        assert!(matches!(event, AgentEvent::Downloading { .. }), "{event:?}");
    }
    // Older and equal versions: refused, the download goes on.
    for (version, j) in [("1.0.5", "old"), ("1.1.0", "other-build")] {
        let other = offer_for(&image(1000, 0), version).with_job(j).unwrap();
        let outcome = agent.offer(other, 0);
        assert_eq!(outcome, OfferOutcome::Refused(FailureCause::Busy), "{version}");
        assert_eq!(agent.current_offer().unwrap().job.as_str(), "a");
    }
    assert!(agent.download().unwrap().progress().percent() >= 41);
    // A newer one, before the download has run `supersede_after_ms`: refused as busy.
    let newer_img = image(12_000, 0);
    let newer = offer_for(&newer_img, "1.2.0").with_job("b").unwrap();
    let after = AgentConfig::new(SignaturePolicy::Unsigned).supersede_after_ms;
    let early = agent.offer(newer.clone(), after - 1);
    assert_eq!(early, OfferOutcome::Refused(FailureCause::Busy));
    // Once it has: it supersedes, and 1.1.0 gets a persisted failure naming its job.
    assert_eq!(agent.offer(newer, after), OfferOutcome::Accepted);
    let superseded = failed("1.1.0", "a", FailureCause::Superseded, Stage::Download);
    assert_eq!(
        finals(&agent)[..],
        [
            failed("1.0.5", "old", FailureCause::Busy, Stage::Offer),
            failed("1.1.0", "other-build", FailureCause::Busy, Stage::Offer),
            failed("1.2.0", "b", FailureCause::Busy, Stage::Offer),
            superseded.clone(),
        ]
    );
    let mut src = ChunkServer::new(newer_img);
    let mut now = after;
    loop {
        match agent.poll(&mut src, &mut buf, now) {
            AgentEvent::Downloading { .. } => now += 1,
            other => {
                assert_eq!(other, AgentEvent::Staged);
                break;
            }
        }
    }
    // The superseded job's failure survives the reboot; the refusals were told at once.
    dev.reset();
    let (agent, _) = dev.start("1.2.0");
    assert_eq!(finals(&agent), vec![superseded, succeeded("1.2.0", "b")]);
}

/// A platform that never acknowledges: outcomes pile up to the documented capacity, further
/// offers are refused as busy, and none is ever dropped, across reboots.
#[test]
fn outcomes_are_never_dropped_when_the_platform_never_acknowledges() {
    let mut dev = SimDevice::new(Strategy::Select);
    let mut running = "1.0.0".to_string();
    let mut want: Vec<Report> = Vec::new();
    let mut refused = 0;
    for minor in 1..=FINAL_REPORTS + 3 {
        let version = format!("1.{minor}.0");
        let (mut agent, _) = dev.start(&running);
        ack_transient(&mut agent);
        assert_eq!(finals(&agent), want, "before {version}");
        let img = image(5_000 + minor, 0);
        let offer = offer_for(&img, &version).with_job(&format!("j{minor}")).unwrap();
        match agent.offer(offer, 0) {
            OfferOutcome::Accepted => {
                let mut src = ChunkServer::new(img);
                assert_eq!(run(&mut agent, &mut src), AgentEvent::Staged);
                dev.reset();
                running = version.clone();
                want.push(succeeded(&version, &format!("j{minor}")));
            }
            OfferOutcome::Refused(FailureCause::Busy) => refused += 1,
            other => panic!("{version}: {other:?}"),
        }
    }
    // Room for the list plus the owed outcome.
    assert_eq!(want.len(), FINAL_REPORTS + 1);
    assert_eq!(refused, 2);
    let (mut agent, startup) = dev.start(&running);
    assert_eq!(startup, Startup::Requeued { reports: (FINAL_REPORTS + 1) as u8 });
    assert_eq!(finals(&agent), want);
    // Acknowledged in any order, each exactly once.
    for r in want.iter().rev() {
        assert_eq!(agent.report_delivered(r).unwrap(), Delivery::Forgotten);
    }
    dev.reset();
    let (agent, startup) = dev.start(&running);
    assert_eq!((startup, agent.next_report()), (Startup::Normal, None));
}

/// A queue full of progress and version reports never pushes a final report out.
#[test]
fn a_full_queue_drops_progress_first_and_finals_never() {
    let mut dev = SimDevice::new(Strategy::Select);
    let (mut agent, _) = dev.start("1.0.0");
    stage(&mut agent, "1.1.0", "a");
    dev.reset();
    let (mut agent, _) = dev.start("1.1.0");
    for i in 0..3 * ota_client::agent::OUTBOX {
        agent.report_version();
        agent.report_refused(v(&format!("9.{i}")), FailureCause::InvalidOffer);
    }
    let reports: Vec<Report> = agent.reports().cloned().collect();
    assert_eq!(reports.len(), ota_client::agent::OUTBOX);
    assert_eq!(reports[0], succeeded("1.1.0", "a"));
    // The newest refusal is kept (the oldest droppable ones went).
    let last = failed(
        &format!("9.{}", 3 * ota_client::agent::OUTBOX - 1),
        "",
        FailureCause::InvalidOffer,
        Stage::Offer,
    );
    assert!(reports.contains(&last), "{reports:?}");
}

#[test]
fn acknowledgements_of_reports_that_are_not_queued_change_nothing() {
    let mut dev = SimDevice::new(Strategy::Select);
    let (mut agent, _) = dev.start("1.0.0");
    stage(&mut agent, "1.1.0", "a");
    dev.reset();
    let (mut agent, _) = dev.start("1.1.0");
    let before = dev.storage.0.borrow_mut().stats().clone();
    for stranger in [
        succeeded("1.1.0", "b"),
        succeeded("1.1", "a"),
        failed("1.1.0", "a", FailureCause::UpdateFailed, Stage::Install),
        Report::Version { current: v("7") },
    ] {
        let got = agent.report_delivered(&stranger).unwrap();
        assert_eq!(got, Delivery::NotQueued, "{stranger:?}");
    }
    assert_eq!(dev.storage.0.borrow_mut().stats().writes, before.writes, "nothing written");
    assert_eq!(finals(&agent), vec![succeeded("1.1.0", "a")]);
}

#[test]
fn garbage_in_the_report_record_is_read_as_no_reports() {
    for garbage in [&[0x10u8, 9, 2][..], &[0xEE; 40], &[2, 200, b'1'], &[0x10, 1, 3, 1, b'1', 0, 99, 1]] {
        let mut dev = SimDevice::new(Strategy::Select);
        let mut journal = dev.journal();
        journal.write(&mut dev.storage.0, kinds::PENDING_REPORT, garbage).unwrap();
        let (mut agent, startup) = dev.start("1.0.0");
        assert_eq!((startup, agent.next_report()), (Startup::Normal, None), "{garbage:?}");
        // The device still updates and reports.
        stage(&mut agent, "1.1.0", "a");
        dev.reset();
        let (agent, _) = dev.start("1.1.0");
        assert_eq!(finals(&agent), vec![succeeded("1.1.0", "a")]);
    }
}

/// An image staged with the boot manager alone (nothing owes its outcome) is confirmed while
/// an earlier outcome waits in the persisted list: the new success joins the list, the earlier
/// report stays in it, across a reboot.
#[test]
fn a_success_without_an_owed_outcome_joins_the_list_and_keeps_earlier_reports() {
    let mut dev = SimDevice::new(Strategy::Select);
    let (mut agent, _) = dev.start("1.0.0");
    // A failed download leaves a persisted failure nobody acknowledges.
    let bad =
        ota_client::Offer::new(v("1.1.0"), 9_000, ota_client::Digest { md5: Some([1; 16]), sha256: None })
            .with_job("a")
            .unwrap();
    assert_eq!(agent.offer(bad, 0), OfferOutcome::Accepted);
    let mut src = ChunkServer::new(image(9_000, 0));
    assert_eq!(run(&mut agent, &mut src), AgentEvent::Failed(FailureCause::IntegrityCheckFailure));
    let failure = failed("1.1.0", "a", FailureCause::IntegrityCheckFailure, Stage::Verify);
    // The application stages 1.2.0 itself, through the boot control, on the Agent's flash
    // and Journal (the Journal is the Agent's: a second one over the same partition would
    // not know the records the Agent wrote).
    let boot = ota_client::boot::BootControl::new(dev.layout);
    let img = image(7_000, 0);
    let (storage, journal) = agent.journal_mut();
    let region = boot.update_region(storage, journal).unwrap();
    for s in 0..2 {
        region.erase_sector(storage, s).unwrap();
    }
    region.write(storage, 0, &img).unwrap();
    let sha256 = region.sha256(storage, 7_000).unwrap();
    let info = ota_client::image::ImageInfo { size: 7_000, sha256, version: v("1.2.0"), security_counter: 0 };
    boot.stage(storage, journal, info, 1).unwrap();
    dev.reset();
    let (agent, startup) = dev.start("1.2.0");
    assert_eq!(startup, Startup::Confirmed(v("1.2.0")));
    assert_eq!(finals(&agent), vec![failure.clone(), succeeded("1.2.0", "")]);
    dev.reset();
    let (agent, _) = dev.start("1.2.0");
    assert_eq!(finals(&agent), vec![failure, succeeded("1.2.0", "")], "both survive the reboot");
}
