//! The PCP flow against a scripted platform.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use super::codec::{DeviceMessage, PlatformMessage, Task, result, version_field};
use super::flow::{Event, FlowConfig, PcpFlow, State};

const CFG: FlowConfig = FlowConfig { timeout_ms: 1000, max_retries: 2 };

fn frame(m: PlatformMessage<'_>) -> Vec<u8> {
    let mut out = vec![0u8; 600];
    let n = m.emit(&mut out).unwrap();
    out.truncate(n);
    out
}

fn sent(flow: &mut PcpFlow, now: u64) -> Vec<DeviceMessage> {
    let mut out = [0u8; 64];
    let mut msgs = Vec::new();
    while let Some(n) = flow.poll_transmit(now, &mut out) {
        msgs.push(DeviceMessage::parse(&out[..n]).unwrap());
    }
    msgs
}

fn image() -> Vec<u8> {
    (0..1234u32).map(|i| (i * 31 % 251) as u8).collect()
}

fn task(check_code: u16) -> Task {
    Task { version: version_field("2.0").unwrap(), block_size: 500, block_count: 3, check_code }
}

/// Answers one block request from the image, as the platform would.
fn block_answer(img: &[u8], block: u16) -> Vec<u8> {
    let start = usize::from(block) * 500;
    let end = (start + 500).min(img.len());
    frame(PlatformMessage::Block { result: 0, block, data: &img[start..end] })
}

#[test]
fn full_upgrade_with_a_lost_request() {
    let img = image();
    let mut flow = PcpFlow::new(version_field("1.0").unwrap(), 4096, CFG);
    let mut stored = vec![0u8; img.len()];

    assert_eq!(flow.handle(0, &frame(PlatformMessage::QueryVersion)), None);
    assert_eq!(
        sent(&mut flow, 0),
        vec![DeviceMessage::Version { result: 0, version: version_field("1.0").unwrap() }]
    );

    assert_eq!(
        flow.handle(0, &frame(PlatformMessage::NewVersion(task(0x1234)))),
        Some(Event::Accepted(task(0x1234)))
    );
    let v = task(0).version;
    assert_eq!(
        sent(&mut flow, 0),
        vec![
            DeviceMessage::NewVersionAnswer { result: 0 },
            DeviceMessage::RequestBlock { version: v, block: 0 }
        ]
    );
    // The request is lost: nothing before the timeout, the same request after it.
    assert!(sent(&mut flow, 999).is_empty());
    assert_eq!(sent(&mut flow, 1000), vec![DeviceMessage::RequestBlock { version: v, block: 0 }]);
    assert_eq!(flow.stats().retries, 1);

    let mut now = 1000;
    for block in 0..3u16 {
        let answer = block_answer(&img, block);
        match flow.handle(now, &answer) {
            Some(Event::Block { offset, data }) => {
                stored[offset as usize..offset as usize + data.len()].copy_from_slice(data)
            }
            other => panic!("{other:?}"),
        }
        now += 10;
        let next = sent(&mut flow, now);
        if block < 2 {
            assert_eq!(next, vec![DeviceMessage::RequestBlock { version: v, block: block + 1 }]);
        } else {
            assert_eq!(next, vec![DeviceMessage::DownloadStatus { status: 0 }]);
        }
    }
    assert_eq!(stored, img);
    assert_eq!(flow.state(), State::Downloaded);
    assert_eq!(
        flow.handle(now, &frame(PlatformMessage::DownloadStatusAck { result: 0 })),
        Some(Event::DownloadReported { status: 0 })
    );
    assert!(sent(&mut flow, now + 5000).is_empty(), "an acknowledged status is not repeated");
    assert_eq!(flow.handle(now, &frame(PlatformMessage::ExecuteUpgrade)), Some(Event::Execute));
    assert_eq!(sent(&mut flow, now), vec![DeviceMessage::ExecuteAnswer { result: 0 }]);

    // After the restart into the new firmware, a fresh flow reports the result.
    let new_v = version_field("2.0").unwrap();
    let mut after = PcpFlow::new(new_v, 4096, CFG);
    after.report_upgrade_result(0, new_v);
    assert_eq!(sent(&mut after, 0), vec![DeviceMessage::UpgradeResult { result: 0, version: new_v }]);
    assert_eq!(sent(&mut after, 1000), vec![DeviceMessage::UpgradeResult { result: 0, version: new_v }]);
    assert_eq!(
        after.handle(1001, &frame(PlatformMessage::UpgradeResultAck { result: 0 })),
        Some(Event::Finished)
    );
    assert_eq!(after.state(), State::Idle);
}

#[test]
fn resumes_by_block_index_after_restart() {
    let img = image();
    let mut flow = PcpFlow::new(version_field("1.0").unwrap(), 4096, CFG);
    flow.handle(0, &frame(PlatformMessage::NewVersion(task(0x1234))));
    sent(&mut flow, 0);
    assert!(matches!(flow.handle(1, &block_answer(&img, 0)), Some(Event::Block { offset: 0, .. })));
    let saved = flow.progress().unwrap();
    assert_eq!(saved.next_block, 1);

    // Power cut: a new flow from the saved progress waits for the platform.
    let mut flow = PcpFlow::resume(version_field("1.0").unwrap(), 4096, CFG, saved);
    assert!(sent(&mut flow, 0).is_empty());
    // A different package is a new task, not a resume.
    assert_eq!(
        flow.handle(5, &frame(PlatformMessage::NewVersion(task(0x1234)))),
        Some(Event::Resumed { task: task(0x1234), next_block: 1 })
    );
    let v = task(0).version;
    assert_eq!(
        sent(&mut flow, 5),
        vec![
            DeviceMessage::NewVersionAnswer { result: 0 },
            DeviceMessage::RequestBlock { version: v, block: 1 }
        ]
    );
    assert!(matches!(flow.handle(6, &block_answer(&img, 1)), Some(Event::Block { offset: 500, .. })));
    sent(&mut flow, 6);
    assert!(
        matches!(flow.handle(7, &block_answer(&img, 2)), Some(Event::Block { offset: 1000, data }) if data.len() == 234)
    );
    assert_eq!(sent(&mut flow, 7), vec![DeviceMessage::DownloadStatus { status: 0 }]);
    // Notified again once complete: status 0 again.
    assert_eq!(flow.handle(8, &frame(PlatformMessage::NewVersion(task(0x1234)))), None);
    assert_eq!(
        sent(&mut flow, 8),
        vec![DeviceMessage::NewVersionAnswer { result: 0 }, DeviceMessage::DownloadStatus { status: 0 }]
    );
}

#[test]
fn stalls_after_retries_then_resumes_on_notification() {
    let mut flow = PcpFlow::new(version_field("1.0").unwrap(), 4096, CFG);
    flow.handle(0, &frame(PlatformMessage::NewVersion(task(1))));
    let mut now = 0;
    let mut requests = 0;
    for _ in 0..10 {
        requests +=
            sent(&mut flow, now).iter().filter(|m| matches!(m, DeviceMessage::RequestBlock { .. })).count();
        now += 1000;
    }
    assert_eq!(requests, 3, "first try plus max_retries");
    assert_eq!(flow.state(), State::Stalled { next_block: 0 });
    assert!(matches!(
        flow.handle(now, &frame(PlatformMessage::NewVersion(task(1)))),
        Some(Event::Resumed { .. })
    ));
    assert_eq!(flow.state(), State::Downloading { next_block: 0 });
}

#[test]
fn refusals_and_platform_errors() {
    let running = version_field("1.0").unwrap();
    let mut flow = PcpFlow::new(running, 1000, CFG);
    // 3 x 500 bytes does not fit in 1000.
    assert_eq!(flow.handle(0, &frame(PlatformMessage::NewVersion(task(1)))), None);
    assert_eq!(sent(&mut flow, 0), vec![DeviceMessage::NewVersionAnswer { result: result::NO_SPACE }]);
    let same = Task { version: running, block_size: 100, block_count: 1, check_code: 1 };
    flow.handle(0, &frame(PlatformMessage::NewVersion(same)));
    assert_eq!(sent(&mut flow, 0), vec![DeviceMessage::NewVersionAnswer { result: result::LATEST }]);
    flow.set_busy(true);
    let small = Task { block_count: 1, ..task(1) };
    flow.handle(0, &frame(PlatformMessage::NewVersion(small)));
    assert_eq!(sent(&mut flow, 0), vec![DeviceMessage::NewVersionAnswer { result: result::BUSY }]);
    flow.set_busy(false);
    assert!(flow.handle(0, &frame(PlatformMessage::NewVersion(small))).is_some());
    sent(&mut flow, 0);
    // 0x81: counted and asked again at once; 0x80: the task is gone.
    assert_eq!(
        flow.handle(1, &frame(PlatformMessage::Block { result: result::BAD_BLOCK, block: 0, data: &[] })),
        None
    );
    assert_eq!(flow.stats().bad_blocks, 1);
    assert_eq!(sent(&mut flow, 2).len(), 1);
    assert_eq!(
        flow.handle(3, &frame(PlatformMessage::Block { result: result::NO_TASK, block: 0, data: &[] })),
        Some(Event::NoTask)
    );
    assert_eq!(flow.state(), State::Idle);
    // Execute without a download is refused with an internal error.
    assert_eq!(flow.handle(4, &frame(PlatformMessage::ExecuteUpgrade)), None);
    assert_eq!(sent(&mut flow, 4), vec![DeviceMessage::ExecuteAnswer { result: result::INTERNAL }]);
}

#[test]
fn bad_frames_are_dropped_and_counted() {
    let img = image();
    let mut flow = PcpFlow::new(version_field("1.0").unwrap(), 4096, CFG);
    flow.handle(0, &frame(PlatformMessage::NewVersion(task(9))));
    sent(&mut flow, 0);
    let good = block_answer(&img, 0);
    let mut wrong_check = good.clone();
    wrong_check[4] ^= 0x55;
    let mut wrong_len = good.clone();
    wrong_len[7] = wrong_len[7].wrapping_add(1);
    let mut short_block = frame(PlatformMessage::Block { result: 0, block: 0, data: &img[..499] });
    assert_eq!(flow.handle(1, &wrong_check), None);
    assert_eq!(flow.handle(1, &wrong_len), None);
    assert_eq!(flow.handle(1, &good[..20]), None);
    assert_eq!(flow.handle(1, &short_block), None);
    short_block.clear();
    assert_eq!(flow.handle(1, &short_block), None);
    // A block never asked for.
    assert_eq!(flow.handle(1, &block_answer(&img, 2)), None);
    let s = flow.stats();
    assert_eq!(s.check_code_errors, 1);
    assert_eq!(s.length_errors, 3);
    assert_eq!(s.bad_blocks, 1);
    assert_eq!(s.unexpected, 1);
    assert_eq!(flow.state(), State::Downloading { next_block: 0 });
    assert!(matches!(flow.handle(2, &good), Some(Event::Block { offset: 0, .. })));
}

proptest::proptest! {
    #[test]
    fn arbitrary_frames_never_panic(frames in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..40), 0..20)) {
        let mut flow = PcpFlow::new(version_field("1.0").unwrap(), 4096, CFG);
        flow.handle(0, &frame(PlatformMessage::NewVersion(task(9))));
        for (i, f) in frames.iter().enumerate() {
            let _ = flow.handle(i as u64, f);
            let _ = sent(&mut flow, i as u64 * 700);
        }
    }
}
