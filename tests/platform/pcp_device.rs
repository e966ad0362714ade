//! Huawei PCP through the download engine and the Agent, against a scripted platform:
//! notify → size probe → transport-checked offer → blocks by index → stage → download status
//! 0 → execute → reboot → confirm → upgrade result 0; lost and corrupted block answers; the
//! opt-in for digest-less offers; a power cut that resumes at the checkpoint's block when the
//! same package is notified again, and starts over for another version or check code.
//!
//! The PCP vectors of PROTOCOLS.md are not used here (the codec's own tests cover them).

use crate::support::sim_device::{E, SimDevice, TestAgent, image, unsigned, v};

use ota_client::FailureCause;
use ota_client::agent::{AgentConfig, AgentEvent, OfferOutcome, Report, Startup};
use ota_client::boot::{Phase, Strategy};
use ota_client::mock::pcp_platform::{PcpPackage, PcpPlatform};
use ota_client::mock::{CountingSource, CutKind};
use ota_client::platform::huawei_pcp::codec::{MAX_DEVICE_FRAME, result, version_field};
use ota_client::platform::huawei_pcp::{FlowConfig, PcpFlow, PcpSource, ReportStart, SourceEvent};
use sha2::Digest as _;

const FLOW: FlowConfig = FlowConfig { timeout_ms: 200, max_retries: 5 };

/// A PCP device wired by hand from the Agent and the `PcpSource` (what `PcpDevice` does,
/// step by step, so that the test can count the bytes the engine pulls).
struct Device {
    sim: SimDevice,
    agent: TestAgent,
    source: PcpSource,
    config: AgentConfig,
    in_flight: Option<Report>,
    offers: Vec<OfferOutcome>,
    execute: bool,
    fetched: u64,
    now: u64,
}

fn package(version: &str, data: &[u8], check_code: u16) -> PcpPackage {
    PcpPackage { version: version.to_owned(), block_size: 500, data: data.to_vec(), check_code }
}

fn pcp_config() -> AgentConfig {
    AgentConfig { accept_transport_checked: true, ..unsigned() }
}

/// The PCP source of a boot running `running`, resuming at `agent`'s checkpoint if any.
fn source(sim: &SimDevice, agent: &mut TestAgent, running: &str) -> PcpSource {
    let flow = PcpFlow::new(version_field(running).unwrap(), sim.layout.max_image_size(), FLOW);
    PcpSource::new(flow, agent.checkpoint())
}

impl Device {
    fn new(config: AgentConfig) -> Self {
        let mut sim = SimDevice::with_slots(Strategy::Select, 24, 25);
        let (mut agent, startup) = sim.start_with("1.0", config);
        assert_eq!(startup, Startup::Normal);
        let source = source(&sim, &mut agent, "1.0");
        Self {
            sim,
            agent,
            source,
            config,
            in_flight: None,
            offers: Vec::new(),
            execute: false,
            fetched: 0,
            now: 0,
        }
    }

    /// Reset (after a power cut or into a new image): bootloader, new Agent, new PCP source
    /// that knows the Journal's checkpoint.
    fn reboot(&mut self, running: &str) -> Startup {
        let (mut agent, startup, _) = self.sim.boot_with(running, self.config);
        self.source = source(&self.sim, &mut agent, running);
        self.agent = agent;
        self.in_flight = None;
        self.offers.clear();
        self.execute = false;
        self.fetched = 0;
        startup
    }

    /// One millisecond: platform frames in, reports out, the Agent's poll, device frames out.
    fn step(&mut self, platform: &mut PcpPlatform) -> AgentEvent {
        self.now += 1;
        let now = self.now;
        let mut out = [0u8; MAX_DEVICE_FRAME];
        for frame in platform.take_frames() {
            let event = self.source.handle(now, &frame);
            // The flow holds one immediate answer: send it before the next frame.
            while let Some(n) = self.source.poll_transmit(now, &mut out) {
                platform.receive(&out[..n]);
            }
            match event {
                Some(SourceEvent::OfferReady) => {
                    let offer = self.source.offer().expect("offer ready");
                    let outcome = self.agent.offer(offer, now);
                    self.offers.push(outcome);
                }
                Some(SourceEvent::ReportAcknowledged) => {
                    if let Some(sent) = self.in_flight.take() {
                        self.agent.report_delivered(&sent).unwrap();
                    }
                }
                Some(SourceEvent::Execute) => self.execute = true,
                Some(SourceEvent::NoTask) | None => {}
            }
        }
        if self.in_flight.is_none()
            && let Some(report) = self.agent.next_report().cloned()
        {
            match self.source.start_report(&report, self.agent.running()) {
                ReportStart::Delivered => {
                    self.agent.report_delivered(&report).unwrap();
                }
                ReportStart::Sent => self.in_flight = Some(report),
            }
        }
        let mut buf = [0u8; 256];
        let mut src = CountingSource::new(&mut self.source);
        let event = self.agent.poll(&mut src, &mut buf, now);
        self.fetched += src.bytes;
        while let Some(n) = self.source.poll_transmit(now, &mut out) {
            platform.receive(&out[..n]);
        }
        event
    }

    /// Steps until `done` holds, failing the test after `limit` ms.
    fn run_until(
        &mut self,
        platform: &mut PcpPlatform,
        limit: u64,
        mut done: impl FnMut(&Self, &PcpPlatform, AgentEvent) -> bool,
    ) {
        for _ in 0..limit {
            let e = self.step(platform);
            if done(self, platform, e) {
                return;
            }
        }
        panic!("not done after {limit} ms; platform heard {:?}", platform.record());
    }
}

fn sha(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

#[test]
fn full_upgrade_through_the_engine_with_lost_and_corrupted_blocks() {
    let img = image(23_456, 1); // 47 blocks of 500, the last one 456 bytes
    let mut platform =
        PcpPlatform::new(Some(package("2.0", &img, 0x1234))).execute_after_status().with_faults(7, 11);
    let mut dev = Device::new(pcp_config());
    platform.query_version();
    platform.notify();
    dev.run_until(&mut platform, 200_000, |d, _, _| d.execute);

    let rec = platform.record().clone();
    assert_eq!(rec.versions, vec!["1.0".to_owned()]);
    assert_eq!(rec.notify_answers, vec![result::OK]);
    assert_eq!(rec.statuses, vec![result::OK], "download status 0 once the image was staged");
    assert_eq!(rec.execute_answers, vec![result::OK]);
    assert_eq!(dev.offers, vec![OfferOutcome::Accepted]);
    assert!(dev.sim.app.reboot_wanted());
    // The size probe asks for the last block first, then the engine asks 0, 1, 2, ... in order
    // (repeats of lost or corrupted answers aside).
    let mut firsts = rec.requests.clone();
    firsts.dedup();
    assert_eq!(firsts, std::iter::once(46).chain(0..47).collect::<Vec<u16>>());
    assert!(rec.requests.len() > 48, "lost and corrupted answers were asked for again");
    assert!(dev.source.flow().stats().check_code_errors > 0 && dev.source.flow().stats().retries > 0);
    assert_eq!(dev.source.stats().size_probes, 1);
    assert_eq!(dev.fetched, img.len() as u64);
    // What is staged: the exact size, and the SHA-256 the engine computed of what it wrote.
    let state = dev.agent.boot_state().unwrap();
    let Phase::Staged { image: staged, .. } = state.phase else { panic!("{:?}", state.phase) };
    assert_eq!((staged.size, staged.sha256), (img.len() as u32, sha(&img)));

    // The platform said execute: reboot into 2.0, confirm, report upgrade result 0.
    assert_eq!(dev.reboot("2.0"), Startup::Confirmed(v("2.0")));
    dev.run_until(&mut platform, 10_000, |d, p, _| {
        !p.record().results.is_empty() && d.agent.next_report().is_none()
    });
    assert_eq!(platform.record().results, vec![(result::OK, "2.0".to_owned())]);
    let state = dev.agent.boot_state().unwrap();
    assert!(dev.sim.slot_holds(state.active, &img));
}

#[test]
fn a_digest_less_offer_is_refused_unless_the_agent_opts_in() {
    let img = image(3_000, 2);
    let mut platform = PcpPlatform::new(Some(package("2.0", &img, 0x4321)));
    let mut dev = Device::new(unsigned());
    platform.notify();
    dev.run_until(&mut platform, 10_000, |_, p, _| !p.record().statuses.is_empty());
    assert_eq!(dev.offers, vec![OfferOutcome::Refused(FailureCause::InvalidOffer)]);
    assert_eq!(platform.record().statuses, vec![result::CHECK_FAILED]);
    assert!(dev.agent.download().is_none());
}

/// Downloads until ~45 %, then cuts the power a few flash operations later; returns the
/// number of block requests the platform heard before the cut.
fn cut_mid_download(dev: &mut Device, platform: &mut PcpPlatform) -> usize {
    platform.notify();
    let mut armed = false;
    for _ in 0..200_000 {
        let e = dev.step(platform);
        if !armed && matches!(e, AgentEvent::Downloading { percent } if percent >= 45) {
            dev.sim.power_cut(5, CutKind::MidWrite);
            armed = true;
        }
        if let AgentEvent::Failed(_) = e {
            assert!(armed, "failed without a power cut");
            return platform.record().requests.len();
        }
        assert_ne!(e, AgentEvent::Staged, "the cut never struck");
    }
    panic!("download never reached 45 %");
}

#[test]
fn same_package_notified_again_resumes_at_the_checkpoint_block() {
    let img = image(40_000, 3); // 80 blocks of 500
    let mut platform = PcpPlatform::new(Some(package("2.0", &img, 0x1234))).execute_after_status();
    let mut dev = Device::new(pcp_config());
    let heard = cut_mid_download(&mut dev, &mut platform);
    let before = dev.fetched;

    assert_eq!(dev.reboot("1.0"), Startup::Normal);
    let checkpoint = dev.agent.checkpoint().expect("a checkpoint survived the cut");
    assert_eq!(checkpoint.package_id, Some(0x1234));
    assert!(checkpoint.digest.md5.is_none() && checkpoint.digest.sha256.is_none());
    let block = u16::try_from(checkpoint.written / 500).unwrap();
    assert!(block > 0);

    platform.notify();
    dev.run_until(&mut platform, 200_000, |d, _, _| d.execute);
    let requests = &platform.record().requests[heard..];
    assert_eq!(requests.first(), Some(&block), "the first block asked for is the checkpoint's, not 0");
    assert_eq!(dev.source.stats().size_probes, 0, "the size came from the checkpoint");
    assert_eq!(dev.offers, vec![OfferOutcome::Accepted]);
    let refetched = before + dev.fetched - img.len() as u64;
    println!("PCP power cut: resumed at byte {} (block {block}), refetched {refetched}", checkpoint.written);
    assert!(refetched <= u64::from(E) + 500, "refetched {refetched}");
    let state = dev.agent.boot_state().unwrap();
    let Phase::Staged { image: staged, .. } = state.phase else { panic!("{:?}", state.phase) };
    assert_eq!(staged.sha256, sha(&img));
    assert_eq!(platform.record().statuses, vec![result::OK]);
}

#[test]
fn another_version_or_check_code_starts_over() {
    for (version, check_code, seed) in [("3.0", 0x2222u16, 5u32), ("2.0", 0x9999, 6)] {
        let img = image(40_000, 4);
        let mut platform = PcpPlatform::new(Some(package("2.0", &img, 0x1234)));
        let mut dev = Device::new(pcp_config());
        let heard = cut_mid_download(&mut dev, &mut platform);
        assert_eq!(dev.reboot("1.0"), Startup::Normal);
        assert!(dev.agent.checkpoint().is_some_and(|c| c.written > 0));

        let other = image(30_250, seed); // 61 blocks, the last one 250 bytes
        platform.set_package(Some(package(version, &other, check_code)));
        platform.notify();
        dev.run_until(&mut platform, 200_000, |_, p, _| !p.record().statuses.is_empty());
        let requests = &platform.record().requests[heard..];
        assert_eq!(&requests[..2], &[60, 0], "{version}/{check_code:#x}: size probe, then block 0");
        assert_eq!(dev.fetched, other.len() as u64, "nothing resumed");
        let state = dev.agent.boot_state().unwrap();
        let Phase::Staged { image: staged, .. } = state.phase else { panic!("{:?}", state.phase) };
        assert_eq!((staged.version.as_str(), staged.sha256), (version, sha(&other)));
    }
}
