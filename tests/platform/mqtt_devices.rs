//! The three MQTT platform flows end to end through a real mosquitto: the mock cloud
//! (src/mock/mqtt_cloud.rs) publishes offers and checks every report against the platform's
//! format; the device runs the Agent on SimFlash and downloads from the mock HTTP server on
//! loopback. Per platform: a normal update with the reboot, confirm and success report (and
//! the offer repeated while downloading, ignored); the broker restarted mid-download; an
//! offer of the running version; a digest mismatch; a power cut mid-download, resumed with
//! `Range` after the reboot.
//!
//! Needs `mosquitto` (`apt-get install -y mosquitto`); fails with that message otherwise.

use crate::support;
use std::ops::ControlFlow;

use std::time::{Duration, Instant};

use ota_client::agent::Startup;
use ota_client::boot::Phase;
use ota_client::mock::CutKind;
use ota_client::mock::http_server::MockHttpServer;
use ota_client::mock::mqtt_cloud::{CloudPlatform, CloudReport, MockCloud};
use ota_client::platform::Event;
use ota_client::platform::flow::{EnosDialect, HuaweiDialect, TencentDialect};
use ota_client::platform::{enos_cloud, huawei_iotda, tencent};
use ota_client::transport::mqtt::{LinkState, MqttClient};
use ota_client::{Digest, Offer, Version};
use support::mosquitto::Mosquitto;
use support::mqtt_device::{AnyDialect, DeviceFlow, MqttDevice};
use support::sim_device::{image, v};

const LIMIT: Duration = Duration::from_secs(30);
const IMAGE_LEN: usize = 96 * 1024;
const TOKEN: &str = "bearer-token-42";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum P {
    Tencent,
    Huawei,
    Enos,
}

/// A report as the test reads it, whatever the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Version(Version),
    Progress(u8),
    /// Tencent `burning`, EnOS step 100 "staged".
    Staged,
    Success(Version),
    Failure(i64),
    UpgradeReply(i64),
    GetVersion,
}

impl P {
    fn cloud(self) -> CloudPlatform {
        match self {
            P::Tencent => CloudPlatform::tencent("PRODUCT1", "dev1"),
            P::Huawei => CloudPlatform::huawei("dev-001"),
            P::Enos => CloudPlatform::enos("pk1", "dk1"),
        }
    }

    fn dialect(self) -> AnyDialect {
        match self {
            P::Tencent => AnyDialect::Tencent(TencentDialect::new("PRODUCT1", "dev1").unwrap()),
            P::Huawei => AnyDialect::Huawei(HuaweiDialect::new("dev-001").unwrap()),
            P::Enos => AnyDialect::Enos(EnosDialect::new("pk1", "dk1").unwrap()),
        }
    }

    /// The offer the platform sends for `bytes`: MD5 for Tencent and EnOS; SHA-256 and a
    /// bearer token (firmware_upgrade v1) for Huawei.
    fn offer(self, bytes: &[u8], version: &str, url: &str) -> Offer {
        let offer = match self {
            P::Huawei => {
                use sha2::Digest as _;
                let sha: [u8; 32] = sha2::Sha256::digest(bytes).into();
                Offer::new(v(version), bytes.len() as u32, Digest { md5: None, sha256: Some(sha) })
                    .with_token(TOKEN)
                    .unwrap()
            }
            _ => Offer::new(
                v(version),
                bytes.len() as u32,
                Digest {
                    md5: Some(<[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(bytes))),
                    sha256: None,
                },
            ),
        };
        offer.with_location(url).unwrap()
    }

    fn integrity_code(self) -> i64 {
        match self {
            P::Tencent => -4,
            P::Huawei => 7,
            P::Enos => -3,
        }
    }

    fn already_latest_code(self) -> i64 {
        match self {
            P::Tencent => -5,
            P::Huawei => 3,
            P::Enos => -5,
        }
    }

    /// Reads a cloud report; format violations fail the test. `target` tells Huawei's
    /// success (result 0, progress 100, version = target) from plain progress.
    fn seen(self, r: &CloudReport, target: &Version) -> Seen {
        match r {
            CloudReport::Tencent(tencent::Uplink::ReportVersion { version }) => {
                Seen::Version(version.clone())
            }
            CloudReport::Tencent(tencent::Uplink::ReportProgress {
                state,
                percent,
                result_code,
                version,
                ..
            }) => match state {
                tencent::State::Downloading => Seen::Progress(percent.unwrap()),
                tencent::State::Burning => Seen::Staged,
                tencent::State::Done => Seen::Success(version.clone()),
                tencent::State::Fail => Seen::Failure(*result_code),
            },
            CloudReport::Huawei(u) => match &u.report {
                huawei_iotda::Report::Version { fw_version, .. } => {
                    Seen::Version(fw_version.clone().unwrap())
                }
                r if r.is_success_for(target) => Seen::Success(target.clone()),
                huawei_iotda::Report::Progress { result_code: 0, progress, .. } => {
                    Seen::Progress(progress.unwrap())
                }
                huawei_iotda::Report::Progress { result_code, .. } => Seen::Failure(i64::from(*result_code)),
            },
            CloudReport::Enos(u) => match u {
                enos_cloud::Uplink::Inform { version, .. } if version.same_text(target) => {
                    Seen::Success(version.clone())
                }
                enos_cloud::Uplink::Inform { version, .. } => Seen::Version(version.clone()),
                enos_cloud::Uplink::Progress { step, desc, .. }
                    if *step == 100 && desc.contains("staged") =>
                {
                    Seen::Staged
                }
                enos_cloud::Uplink::Progress { step, .. } if *step >= 0 => Seen::Progress(*step as u8),
                enos_cloud::Uplink::Progress { step, .. } => Seen::Failure(*step),
                enos_cloud::Uplink::UpgradeReply { code, .. } => Seen::UpgradeReply(*code),
                enos_cloud::Uplink::GetVersion { .. } => Seen::GetVersion,
            },
            CloudReport::Invalid { topic, payload, error } => panic!(
                "{self:?}: report on {topic} breaks the format ({error:?}): {}",
                String::from_utf8_lossy(payload)
            ),
        }
    }

    fn seen_all(self, cloud: &MockCloud, target: &Version) -> Vec<Seen> {
        cloud.reports().iter().map(|r| self.seen(r, target)).collect()
    }
}

struct Rig {
    p: P,
    broker: Mosquitto,
    cloud: MockCloud,
    http: MockHttpServer,
    device: MqttDevice,
    new: Vec<u8>,
    target: Version,
}

impl Rig {
    fn start(p: P) -> Self {
        let broker = Mosquitto::start();
        let cloud = MockCloud::start(p.cloud(), "127.0.0.1", broker.port());
        assert!(cloud.wait_ready(LIMIT), "mock cloud not ready; broker log:\n{}", broker.log());
        let http = MockHttpServer::start().unwrap();
        let new = image(IMAGE_LEN, 7);
        http.put_file("/fw/1.1.0.bin", new.clone());
        let device = MqttDevice::new(broker.port(), move || p.dialect());
        Self { p, broker, cloud, http, device, new, target: v("1.1.0") }
    }

    fn offer(&self) -> Offer {
        self.p.offer(&self.new, "1.1.0", &self.http.url("/fw/1.1.0.bin"))
    }

    /// Waits until the cloud has seen `want` (what the test reads the reports as).
    fn wait_seen(&self, what: &str, want: impl Fn(&[Seen]) -> bool) -> Vec<Seen> {
        let deadline = Instant::now() + LIMIT;
        loop {
            let seen = self.p.seen_all(&self.cloud, &self.target);
            if want(&seen) {
                return seen;
            }
            assert!(Instant::now() < deadline, "{:?}: the cloud never saw {what}; it saw {seen:?}", self.p);
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn seen_all_now(&self) -> Vec<Seen> {
        self.p.seen_all(&self.cloud, &self.target)
    }

    fn file_requests(&self) -> Vec<ota_client::mock::http_server::RecordedRequest> {
        self.http.requests().into_iter().filter(|r| r.path == "/fw/1.1.0.bin").collect()
    }

    /// Checks what every file request carried (Huawei v1: the bearer token).
    fn check_auth(&self) {
        for r in self.file_requests() {
            let auth = r.header("Authorization");
            match self.p {
                P::Huawei => assert_eq!(auth, Some(format!("Bearer {TOKEN}").as_str())),
                _ => assert_eq!(auth, None),
            }
        }
    }
}

fn progress_in_order(seen: &[Seen]) -> Vec<u8> {
    let p: Vec<u8> =
        seen.iter().filter_map(|s| if let Seen::Progress(p) = s { Some(*p) } else { None }).collect();
    assert!(p.windows(2).all(|w| w[0] <= w[1]), "progress goes backwards: {p:?}");
    p
}

/// The device boots `running` and announces it; returns its flow.
fn boot_and_announce(rig: &mut Rig, running: &str) -> DeviceFlow {
    let (mut flow, startup, _) = rig.device.boot(running);
    assert_eq!(startup, Startup::Normal);
    rig.device.settle(&mut flow, 1);
    let running = v(running);
    rig.wait_seen("the version report", |s| s.iter().any(|x| *x == Seen::Version(running.clone())));
    flow
}

fn normal_update(p: P) {
    let mut rig = Rig::start(p);
    let mut flow = boot_and_announce(&mut rig, "1.0.0");
    rig.cloud.offer(&rig.offer()).unwrap();
    // Download; at 20 % the cloud sends the same offer again: the device ignores it.
    let mut repeated = false;
    let mut garbled = false;
    let mut staged = false;
    let (cloud, offer) = (&rig.cloud, rig.offer());
    let down = cloud.platform().downlink_topic();
    rig.device.run(&mut flow, LIMIT, |f, _, e| {
        match e {
            Event::Downloading { percent } if percent >= 5 && !garbled => {
                // Bad input mid-download: ignored, nothing lost.
                for junk in
                    [&b"{\"method\":"[..], b"[1,2", b"{\"type\":\"update_firmware\",\"size\":\"x\"}", b"\xff"]
                {
                    cloud.publish_raw(&down, junk).unwrap();
                }
                garbled = true;
            }
            Event::Downloading { percent } if percent >= 20 && !repeated => {
                cloud.offer(&offer).unwrap();
                repeated = true;
            }
            Event::Staged => staged = true,
            Event::Failed(c) => panic!("{p:?}: update failed: {c}"),
            _ => {}
        }
        // Slow down until the repeat has arrived, so that it lands mid-download.
        if repeated && f.stats().duplicates == 0 {
            std::thread::sleep(Duration::from_millis(3));
        }
        if staged && f.agent().next_report().is_none() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    assert_eq!(flow.stats().duplicates, 1, "{p:?}: the repeated offer is ignored");
    assert_eq!(flow.stats().offers, 2);
    assert!(flow.stats().received >= 6, "{p:?}: the junk arrived: {:?}", flow.stats());
    assert_eq!(rig.device.sim.app.reboots.get(), 1);
    let requests = rig.file_requests();
    assert_eq!(requests.len(), 1, "{p:?}: one GET for the whole image: {requests:?}");
    assert_eq!(requests[0].header("Range"), None);
    rig.check_auth();
    if p != P::Huawei {
        rig.wait_seen("the staged report", |s| s.contains(&Seen::Staged));
    }
    let seen = rig.wait_seen("progress 100", |s| s.contains(&Seen::Progress(100)));
    assert!(progress_in_order(&seen).len() >= 3, "{p:?}: progress reports: {seen:?}");
    assert!(!seen.iter().any(|s| matches!(s, Seen::Failure(_) | Seen::Success(_))), "{seen:?}");
    if p == P::Enos {
        assert!(seen.contains(&Seen::UpgradeReply(200)), "{seen:?}");
    }

    // Reboot: the bootloader swaps and trial-boots 1.1.0, which confirms itself.
    drop(flow);
    let (mut flow, startup, slot) = rig.device.boot("1.1.0");
    assert_eq!(startup, Startup::Confirmed(v("1.1.0")));
    assert!(rig.device.sim.slot_holds(slot, &rig.new));
    rig.device.settle(&mut flow, 2);
    let seen = rig.wait_seen("the success report", |s| s.contains(&Seen::Success(v("1.1.0"))));
    assert!(!seen.iter().any(|s| matches!(s, Seen::Failure(_))), "{seen:?}");
    assert_eq!(rig.device.sim.phase(), Phase::Idle);
}

fn broker_restart(p: P) {
    let mut rig = Rig::start(p);
    let mut flow = boot_and_announce(&mut rig, "1.0.0");
    rig.cloud.offer(&rig.offer()).unwrap();
    let offer = rig.offer();
    let (cloud, broker) = (&rig.cloud, &mut rig.broker);
    let mut stopped = false;
    // Where the download stood when the device noticed the lost session, and how many
    // turns it has stood still since.
    let mut paused_at: Option<u32> = None;
    let mut still_turns = 0;
    let mut restarted = false;
    let mut repeated = false;
    let mut staged = false;
    rig.device.run(&mut flow, LIMIT, |f, _, e| {
        let bytes = f.agent().download().map(|d| d.progress().bytes);
        match e {
            Event::Downloading { percent } if percent >= 30 && !stopped => {
                broker.stop();
                stopped = true;
            }
            Event::Staged => staged = true,
            Event::Failed(c) => panic!("{p:?}: update failed: {c}"),
            _ => {}
        }
        if stopped && !restarted {
            // Hold the download back until the device notices; then it must stand still.
            std::thread::sleep(Duration::from_millis(3));
            if f.stats().pauses == 1 {
                let at = *paused_at.get_or_insert(bytes.unwrap());
                assert_eq!(bytes, Some(at), "{p:?}: the download moved while offline");
                assert_eq!(e, Event::Waiting);
                still_turns += 1;
                if still_turns == 20 {
                    broker.start_again();
                    restarted = true;
                    assert!(cloud.wait_ready(LIMIT), "mock cloud did not reconnect");
                }
            }
        }
        if restarted && !repeated && f.stats().sessions >= 2 && f.mqtt().state() == LinkState::Ready {
            // The platform offers the same firmware again (Tencent checkpoint restart).
            cloud.offer(&offer).unwrap();
            repeated = true;
        }
        if repeated && f.stats().duplicates == 0 {
            std::thread::sleep(Duration::from_millis(3));
        }
        if staged && f.agent().next_report().is_none() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    let paused_at = paused_at.expect("the download paused");
    assert!(paused_at > 0 && (paused_at as usize) < IMAGE_LEN, "{p:?}: paused at {paused_at}");
    let stats = flow.stats();
    assert!(stats.disconnects >= 1 && stats.sessions >= 2 && stats.pauses == 1, "{stats:?}");
    assert!(stats.subscribes >= 1, "{stats:?}");
    assert_eq!(stats.duplicates, 1, "{p:?}: the repeated offer after the restart is ignored");
    // The download stopped with the session and resumed with Range where it stopped.
    let requests = rig.file_requests();
    assert_eq!(requests.len(), 2, "{p:?}: {requests:?}");
    assert_eq!(requests[0].header("Range"), None);
    assert_eq!(requests[1].header("Range"), Some(format!("bytes={paused_at}-").as_str()));
    rig.check_auth();
    // The version is reported again in the new session, then progress up to 100.
    let seen = rig.wait_seen("progress 100", |s| s.contains(&Seen::Progress(100)));
    let versions = seen.iter().filter(|s| **s == Seen::Version(v("1.0.0"))).count();
    assert!(versions >= 2, "{p:?}: a version report per session: {seen:?}");
    let paused_percent = (u64::from(paused_at) * 100 / IMAGE_LEN as u64) as u8;
    let after: Vec<u8> = progress_in_order(&seen).into_iter().filter(|p| *p > paused_percent).collect();
    assert!(!after.is_empty(), "{p:?}: progress reported after the restart: {seen:?}");
    drop(flow);
    let (mut flow, startup, slot) = rig.device.boot("1.1.0");
    assert_eq!(startup, Startup::Confirmed(v("1.1.0")));
    assert!(rig.device.sim.slot_holds(slot, &rig.new));
    rig.device.settle(&mut flow, 2);
    rig.wait_seen("the success report", |s| s.contains(&Seen::Success(v("1.1.0"))));
}

fn already_latest(p: P) {
    let mut rig = Rig::start(p);
    rig.target = v("9.9.9"); // nothing here is a success
    let mut flow = boot_and_announce(&mut rig, "1.1.0");
    rig.cloud.offer(&rig.offer()).unwrap();
    rig.device.run(&mut flow, LIMIT, |f, _, _| {
        if f.stats().offers == 1 && f.agent().next_report().is_none() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    let code = p.already_latest_code();
    let seen = rig.wait_seen("already latest", |s| s.contains(&Seen::Failure(code)));
    assert!(!seen.iter().any(|s| matches!(s, Seen::Progress(_))), "{seen:?}");
    assert!(rig.file_requests().is_empty(), "nothing is downloaded");
    assert_eq!(rig.device.sim.phase(), Phase::Idle);
}

fn digest_mismatch(p: P) {
    let mut rig = Rig::start(p);
    let mut corrupt = rig.new.clone();
    corrupt[IMAGE_LEN / 2] ^= 0x10;
    rig.http.put_file("/fw/1.1.0.bin", corrupt);
    let mut flow = boot_and_announce(&mut rig, "1.0.0");
    rig.cloud.offer(&rig.offer()).unwrap();
    let mut failed = None;
    rig.device.run(&mut flow, LIMIT, |f, _, e| {
        match e {
            Event::Failed(c) => failed = Some(c),
            Event::Staged => panic!("{p:?}: a corrupt image was staged"),
            _ => {}
        }
        if failed.is_some() && f.agent().next_report().is_none() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    assert_eq!(failed, Some(ota_client::FailureCause::IntegrityCheckFailure));
    let code = p.integrity_code();
    rig.wait_seen("the integrity failure", |s| s.contains(&Seen::Failure(code)));
    assert_eq!(rig.device.sim.phase(), Phase::Idle, "nothing staged");
    assert_eq!(rig.device.sim.app.reboots.get(), 0);
    // The failure report was persisted until delivered: nothing comes back after a reboot.
    drop(flow);
    rig.cloud.clear_reports();
    let (mut flow, startup, _) = rig.device.boot("1.0.0");
    assert_eq!(startup, Startup::Normal);
    rig.device.settle(&mut flow, 1);
    let seen = rig.wait_seen("the version report", |s| s.contains(&Seen::Version(v("1.0.0"))));
    assert!(!seen.iter().any(|s| matches!(s, Seen::Failure(_))), "{seen:?}");
}

fn power_cut(p: P) {
    let mut rig = Rig::start(p);
    let mut flow = boot_and_announce(&mut rig, "1.0.0");
    rig.cloud.offer(&rig.offer()).unwrap();
    let mut armed = false;
    rig.device.run(&mut flow, LIMIT, |_, sim, e| {
        if let Event::Downloading { percent } = e
            && percent >= 45
            && !armed
        {
            sim.power_cut(2, CutKind::MidWrite);
            armed = true;
        }
        if let Event::Staged = e {
            panic!("{p:?}: staged despite the power cut");
        }
        if sim.is_powered() { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
    });
    drop(flow);
    let before = rig.file_requests().len();
    assert_eq!(before, 1);

    // Power comes back (the boot's power cycle): the same offer arrives again and the
    // download resumes.
    let mut flow = boot_and_announce(&mut rig, "1.0.0");
    rig.cloud.offer(&rig.offer()).unwrap();
    let mut resumed_from = None;
    let mut staged = false;
    rig.device.run(&mut flow, LIMIT, |f, _, e| {
        if let Some(d) = f.agent().download() {
            resumed_from.get_or_insert(d.resumed_from());
        }
        match e {
            Event::Staged => staged = true,
            Event::Failed(c) => panic!("{p:?}: resumed update failed: {c}"),
            _ => {}
        }
        if staged && f.agent().next_report().is_none() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    let resumed_from = resumed_from.unwrap();
    assert!(resumed_from > 0 && (resumed_from as usize) < IMAGE_LEN, "resumed at {resumed_from}");
    let requests = rig.file_requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[1].header("Range"), Some(format!("bytes={resumed_from}-").as_str()));
    rig.check_auth();
    drop(flow);
    let (mut flow, startup, slot) = rig.device.boot("1.1.0");
    assert_eq!(startup, Startup::Confirmed(v("1.1.0")));
    assert!(rig.device.sim.slot_holds(slot, &rig.new));
    rig.device.settle(&mut flow, 2);
    rig.wait_seen("the success report", |s| s.contains(&Seen::Success(v("1.1.0"))));
}

fn huawei_version_query() {
    let mut rig = Rig::start(P::Huawei);
    let mut flow = boot_and_announce(&mut rig, "1.0.0");
    rig.cloud.clear_reports();
    rig.cloud.version_query().unwrap();
    let sent = flow.stats().reports_sent;
    rig.device.settle(&mut flow, sent + 1);
    let seen = rig.wait_seen("the version report", |s| s.contains(&Seen::Version(v("1.0.0"))));
    assert_eq!(seen, vec![Seen::Version(v("1.0.0"))]);
}

/// EnOS upon device request: the device asks (`getversion`) at session start, the
/// application decides about the newest listed firmware.
fn enos_upon_device_request(decline: bool) {
    let mut rig = Rig::start(P::Enos);
    let older = P::Enos.offer(&rig.new, "0.9.0", &rig.http.url("/fw/0.9.0.bin"));
    rig.cloud.set_enos_catalogue(&[older, rig.offer()]).unwrap();
    rig.device.sim.app.decline(decline);
    let (mut flow, _, _) = rig.device.boot("1.0.0");
    let mut staged = false;
    rig.device.run(&mut flow, LIMIT, |f, _, e| {
        match e {
            Event::Staged => staged = true,
            Event::Failed(c) => panic!("update failed: {c}"),
            _ => {}
        }
        let done = if decline { f.stats().offers == 1 } else { staged };
        if done && f.agent().next_report().is_none() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    assert_eq!(
        *rig.device.sim.app.asked.borrow(),
        vec!["1.1.0".to_string()],
        "decide saw the newest listed firmware"
    );
    let seen = rig.seen_all_now();
    assert_eq!(seen.first(), Some(&Seen::GetVersion), "{seen:?}");
    if decline {
        rig.wait_seen("the declined step", |s| s.contains(&Seen::Failure(-5)));
        assert!(rig.file_requests().is_empty());
        assert_eq!(rig.device.sim.phase(), Phase::Idle);
        return;
    }
    rig.wait_seen("progress 100", |s| s.contains(&Seen::Progress(100)) && s.contains(&Seen::Staged));
    assert_eq!(rig.file_requests().len(), 1);
    drop(flow);
    // After the reboot the catalogue's newest is the running version: nothing more to fetch.
    let (mut flow, startup, _) = rig.device.boot("1.1.0");
    assert_eq!(startup, Startup::Confirmed(v("1.1.0")));
    rig.device.settle(&mut flow, 2);
    rig.wait_seen("the success report", |s| {
        s.iter().filter(|x| **x == Seen::GetVersion).count() == 2 && s.contains(&Seen::Success(v("1.1.0")))
    });
    assert_eq!(rig.device.sim.app.asked.borrow().len(), 1, "no offer after the update");
    assert_eq!(rig.file_requests().len(), 1);
}

#[test]
fn huawei_flow_answers_version_query() {
    huawei_version_query()
}

#[test]
fn enos_flow_upon_device_request_accepted() {
    enos_upon_device_request(false)
}

#[test]
fn enos_flow_upon_device_request_declined() {
    enos_upon_device_request(true)
}

macro_rules! platform_tests {
    ($($name:ident: $p:expr;)*) => {$(
        mod $name {
            use super::*;
            #[test]
            fn normal_update_with_repeated_offer() {
                normal_update($p)
            }
            #[test]
            fn broker_restart_mid_download() {
                broker_restart($p)
            }
            #[test]
            fn offer_of_running_version_is_already_latest() {
                already_latest($p)
            }
            #[test]
            fn digest_mismatch_is_reported_and_nothing_staged() {
                digest_mismatch($p)
            }
            #[test]
            fn power_cut_mid_download_resumes_with_range() {
                power_cut($p)
            }
        }
    )*};
}

platform_tests! {
    tencent_flow: P::Tencent;
    huawei_flow: P::Huawei;
    enos_flow: P::Enos;
}
