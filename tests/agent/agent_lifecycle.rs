//! The Agent end to end on SimFlash: offer → download → stage → reboot → trial → confirm →
//! success report, across reboots; a failed self-test rolls back and reports failure; final
//! reports survive reboots until delivered; offers are judged before anything is written.

use ota_client::agent::{AgentEvent, Decision, OfferOutcome, Report, Stage, Startup};
use ota_client::boot::{Phase, Strategy};
use ota_client::mock::{ChunkServer, Fault};
use ota_client::{Digest, FailureCause, Offer};

use crate::support::sim_device::*;

#[test]
fn full_update_reports_success_after_confirm() {
    for strategy in [Strategy::Select, Strategy::Swap] {
        let mut dev = SimDevice::new(strategy);
        let new = image(50_000, 0);
        let app = dev.app.clone();
        let (mut agent, startup) = dev.start("1.0.0");
        assert_eq!(startup, Startup::Normal);
        agent.report_version();
        let outcome = agent.offer(offer_for(&new, "1.1.0"), 0);
        assert_eq!(outcome, OfferOutcome::Accepted);
        let mut src = ChunkServer::new(new.clone());
        assert_eq!(run(&mut agent, &mut src), AgentEvent::Staged);
        assert_eq!(app.reboots.get(), 1);
        let reports = drain(&mut agent);
        assert_eq!(reports.first(), Some(&Report::Version { current: v("1.0.0") }));
        assert!(reports.iter().any(|r| matches!(r, Report::Progress { percent: 100, .. })));
        assert_eq!(
            reports.last(),
            Some(&Report::Downloaded { target: v("1.1.0"), job: ota_client::JobId::new() })
        );

        // Reset: the bootloader starts the trial of the new image.
        let slot = dev.reset();
        assert!(dev.slot_holds(slot, &new), "{strategy:?}: trial slot holds the new image");
        let (_, startup) = dev.start("1.1.0");
        assert_eq!(startup, Startup::Confirmed(v("1.1.0")));
        // The success report survives a reboot before it is delivered.
        dev.reset();
        let (mut agent2, _) = dev.start("1.1.0");
        assert_eq!(
            agent2.next_report(),
            Some(&Report::Succeeded { version: v("1.1.0"), job: ota_client::JobId::new() })
        );
        assert_eq!(
            drain(&mut agent2),
            vec![Report::Succeeded { version: v("1.1.0"), job: ota_client::JobId::new() }]
        );
        // Delivered: gone after the next reboot.
        dev.reset();
        let (agent3, startup) = dev.start("1.1.0");
        assert_eq!(startup, Startup::Normal);
        assert_eq!(agent3.next_report(), None);
    }
}

#[test]
fn failed_self_test_rolls_back_and_reports_failure() {
    for strategy in [Strategy::Select, Strategy::Swap] {
        let mut dev = SimDevice::new(strategy);
        let new = image(20_000, 0);
        let app = dev.app.clone();
        let (mut agent, _) = dev.start("1.0.0");
        agent.offer(offer_for(&new, "2.0"), 0);
        let mut src = ChunkServer::new(new.clone());
        assert_eq!(run(&mut agent, &mut src), AgentEvent::Staged);
        dev.reset();
        app.fail_self_test.set(true);
        let (_, startup) = dev.start("2.0");
        assert_eq!(startup, Startup::RollbackRequested(v("2.0")));
        dev.reset();
        app.fail_self_test.set(false);
        let (mut agent, startup) = dev.start("1.0.0");
        assert_eq!(startup, Startup::RolledBack(v("2.0")));
        let reports = drain(&mut agent);
        assert_eq!(
            reports,
            vec![Report::Failed {
                target: v("2.0"),
                job: ota_client::JobId::new(),
                cause: FailureCause::UpdateFailed,
                stage: Stage::Install
            }]
        );
        assert_eq!(dev.phase(), Phase::Idle);
    }
}

#[test]
fn corrupt_download_is_never_staged() {
    let mut dev = SimDevice::new(Strategy::Select);
    let new = image(30_000, 0);
    let app = dev.app.clone();
    let (mut agent, _) = dev.start("1.0.0");
    agent.offer(offer_for(&new, "2.0"), 0);
    let mut src = ChunkServer::new(new).fault_at(12_288, Fault::Corrupt(0x40), 1);
    let event = run(&mut agent, &mut src);
    assert_eq!(event, AgentEvent::Failed(FailureCause::IntegrityCheckFailure));
    assert_eq!(app.reboots.get(), 0);
    assert_eq!(dev.phase(), Phase::Idle);
    // The failure report is persisted: it survives a reboot until delivered.
    dev.reset();
    let (mut agent, _) = dev.start("1.0.0");
    assert_eq!(
        drain(&mut agent),
        vec![Report::Failed {
            target: v("2.0"),
            job: ota_client::JobId::new(),
            cause: FailureCause::IntegrityCheckFailure,
            stage: Stage::Verify
        }]
    );
}

#[test]
fn offers_are_judged_before_anything_is_written() {
    let mut dev = SimDevice::new(Strategy::Swap);
    let app = dev.app.clone();
    let (mut agent, _) = dev.start("1.0.0");
    let ops = dev.storage.0.borrow_mut().stats().writes;
    let img = image(1000, 0);
    let cases = [
        (offer_for(&img, "1.0.0"), FailureCause::AlreadyLatest),
        (Offer::new(v("2.0"), 0, offer_for(&img, "2.0").digest), FailureCause::InvalidOffer),
        (Offer::new(v("2.0"), 1000, Digest::default()), FailureCause::InvalidOffer),
        (Offer::new(v("2.0"), 32 * E + 1, offer_for(&img, "2.0").digest), FailureCause::NotEnoughStorage),
    ];
    for (offer, cause) in cases {
        assert_eq!(agent.offer(offer, 0), OfferOutcome::Refused(cause));
    }
    app.decision.set(Some(Decision::Decline));
    assert_eq!(
        agent.offer(offer_for(&img, "2.0"), 0),
        OfferOutcome::Refused(FailureCause::DeclinedByApplication)
    );
    assert_eq!(dev.storage.0.borrow_mut().stats().writes, ops, "refused offers write nothing");
    let reports = drain(&mut agent);
    assert_eq!(reports.len(), 4, "the queue keeps the newest four reports: {reports:?}");

    // Later: the download waits; a repeated offer of the same firmware is ignored.
    app.decision.set(Some(Decision::Later { delay_ms: 500 }));
    assert_eq!(agent.offer(offer_for(&img, "2.0"), 0), OfferOutcome::Deferred);
    assert_eq!(agent.offer(offer_for(&img, "2.0"), 10), OfferOutcome::Duplicate);
    let mut src = ChunkServer::new(img.clone());
    let mut buf = [0u8; 256];
    assert_eq!(agent.poll(&mut src, &mut buf, 100), AgentEvent::Waiting);
    assert_eq!(run(&mut agent, &mut src), AgentEvent::Staged);
}
