//! The defaults against a hostile party (broker, server, image), each test written as the
//! attack, asserting the safe outcome, and printing what the attack cost the flash: a
//! downgrade to a genuine old release; an old signed image relabelled as a newer version
//! (and as "99.0.0" to raise the anti-rollback counter); a broker alternating offers during a
//! download; a version-climbing broker; a failing offer repeated; a source that trickles.
//! The wear figures these print are quoted in `docs/security.md`.

use crate::support::sim_device::*;

use ota_client::agent::{AgentConfig, AgentEvent, OfferOutcome};
use ota_client::boot::{Phase, Strategy};
use ota_client::download::DEFAULT_OVERALL_TIMEOUT_MS;
use ota_client::image::Slot;
use ota_client::image::{SignaturePolicy, TrustedKey};
use ota_client::mock::{ChunkServer, manifest, public_key, sign_image};
use ota_client::{Digest, FailureCause, Offer};
use std::sync::LazyLock;

const SECRET: [u8; 32] = [0x6B; 32];
const PRODUCT: u32 = 0x7E57;
static KEYS: LazyLock<[TrustedKey; 1]> =
    LazyLock::new(|| [TrustedKey { id: 1, public_key: public_key(&SECRET) }]);

fn signed_config() -> AgentConfig {
    AgentConfig::new(SignaturePolicy::Required { keys: &*KEYS, product: PRODUCT })
}

/// Erases of the update slot (slot B under Select when A is active) and of the state
/// partition since the flash's statistics were last reset.
fn wear(dev: &SimDevice) -> (u64, u32, u64) {
    let stats = dev.storage.0.borrow().stats().clone();
    let slot = dev.layout.slot(Slot::B).part;
    let (from, to) = (slot.offset() / E, (slot.offset() + slot.size()) / E);
    let hottest = stats.erases[from as usize..to as usize].iter().copied().max().unwrap_or(0);
    let state = dev.layout.state();
    (
        stats.erases_in(from, to, 1),
        hottest,
        stats.erases_in(state.offset() / E, (state.offset() + state.size()) / E, 1),
    )
}

#[test]
fn a_genuine_old_release_is_refused_as_a_downgrade() {
    let mut dev = SimDevice::new(Strategy::Select);
    let old = image(30_000, 0);
    let (mut agent, _) = dev.start("2.0.0");
    dev.storage.0.borrow_mut().reset_stats();
    let outcome = agent.offer(offer_for(&old, "1.0.0"), 0);
    assert_eq!(outcome, OfferOutcome::Refused(FailureCause::Downgrade));
    assert_eq!(agent.poll(&mut ChunkServer::new(old.clone()), &mut [0; 512], 0), AgentEvent::Idle);
    assert_eq!(dev.storage.0.borrow_mut().stats().total_erases(), 0, "nothing erased");
    // Only when the configuration says so.
    let config = AgentConfig { allow_downgrade: true, ..AgentConfig::new(SignaturePolicy::Unsigned) };
    let (mut agent, _) = dev.start_with("2.0.0", config);
    let outcome = agent.offer(offer_for(&old, "1.0.0"), 0);
    assert_eq!(outcome, OfferOutcome::Accepted);
}

/// An old genuine signed image offered as "3.0.0" (to be reported as a success of 3.0.0) or
/// as "99.0.0" (to raise the anti-rollback minimum and lock the genuine 3.0.0 out): refused
/// for the mismatch, nothing staged, the minimum unchanged; the genuine 3.0.0 then installs
/// with its signed counter.
#[test]
fn an_old_signed_image_relabelled_neither_installs_nor_raises_the_counter() {
    let mut dev = SimDevice::new(Strategy::Select);
    let old = sign_image(&image(20_000, 0), &manifest("1.0.0", 1, PRODUCT), &SECRET, 1);
    for label in ["3.0.0", "99.0.0"] {
        let (mut agent, _) = dev.start_with("2.0.0", signed_config());
        let offer = offer_for(&old, label);
        assert_eq!(agent.offer(offer, 0), OfferOutcome::Accepted);
        let mut src = ChunkServer::new(old.clone());
        let event = run(&mut agent, &mut src);
        assert_eq!(event, AgentEvent::Failed(FailureCause::VersionMismatch), "{label}");
        let state = dev.boot_state();
        assert_eq!((state.phase, state.min_security_counter), (Phase::Idle, 0), "{label}");
    }
    let genuine = sign_image(&image(21_000, 0), &manifest("3.0.0", 3, PRODUCT), &SECRET, 1);
    let (mut agent, _) = dev.start_with("2.0.0", signed_config());
    let offer = offer_for(&genuine, "3.0.0");
    assert_eq!(agent.offer(offer, 0), OfferOutcome::Accepted);
    let mut src = ChunkServer::new(genuine.clone());
    assert_eq!(run(&mut agent, &mut src), AgentEvent::Staged);
    dev.reset();
    let (_, _) = dev.start_with("3.0.0", signed_config());
    let state = dev.boot_state();
    assert_eq!(state.active_image.as_ref().map(|i| i.version.as_str()), Some("3.0.0"));
    assert_eq!(state.min_security_counter, 3, "the signed counter, not the offer's label");
}

/// Polls the download once per second from `from_s` for `seconds`, calling `attack(t)`
/// before each poll with the time in seconds.
fn download_under_attack(
    dev: &mut SimDevice,
    agent: &mut TestAgent,
    sources: &mut dyn FnMut(&TestAgent) -> usize,
    servers: &mut [ChunkServer],
    seconds: u64,
    mut attack: impl FnMut(&mut SimDevice, &mut TestAgent, u64),
) -> AgentEvent {
    let mut buf = [0u8; 1024];
    for t in 0..seconds {
        attack(dev, agent, t);
        let i = sources(agent);
        match agent.poll(&mut servers[i], &mut buf, t * 1000) {
            AgentEvent::Downloading { .. } | AgentEvent::Waiting => {}
            other => return other,
        }
    }
    AgentEvent::Idle
}

/// A broker alternating two offers once a second during a download: the newer is refused
/// as busy (the download has not run `supersede_after_ms`), the older is the one under way.
/// The download is never restarted: each slot sector is erased once.
#[test]
fn a_broker_alternating_offers_cannot_restart_the_download() {
    let mut dev = SimDevice::new(Strategy::Select);
    let (a, b) = (image(100_000, 0), image(90_000, 0));
    let (mut agent, _) = dev.start("1.0.0");
    dev.storage.0.borrow_mut().reset_stats();
    assert_eq!(agent.offer(offer_for(&a, "1.1.0"), 0), OfferOutcome::Accepted);
    let mut servers = [ChunkServer::new(a.clone()).with_max_chunk(1024), ChunkServer::new(b.clone())];
    let mut switches = 0;
    let event = download_under_attack(
        &mut dev,
        &mut agent,
        &mut |agent| usize::from(agent.current_offer().is_some_and(|o| o.version.as_str() == "1.2.0")),
        &mut servers,
        100_000,
        |_dev, agent, t| {
            if t % 2 == 1 && switches < 50 {
                switches += 1;
                let outcome = agent.offer(offer_for(&b, "1.2.0"), t * 1000);
                assert_eq!(outcome, OfferOutcome::Refused(FailureCause::Busy));
                let outcome = agent.offer(offer_for(&a, "1.1.0"), t * 1000);
                assert_eq!(outcome, OfferOutcome::Duplicate);
            }
        },
    );
    assert_eq!(event, AgentEvent::Staged);
    assert_eq!(switches, 50);
    let (slot, hottest, state) = wear(&dev);
    println!(
        "attack: 50 alternations of two offers during a 100 KB download: {slot} slot erases, hottest slot sector {hottest}, {state} state erases, {} bytes fetched",
        servers[0].stats().served
    );
    assert_eq!(hottest, 1, "no sector erased twice");
    assert_eq!(servers[0].stats().refetched, 0);
}

/// A broker offering a higher version every minute for an hour, during a slow download:
/// one restart per `supersede_after_ms` at most.
#[test]
fn a_version_climbing_broker_restarts_the_download_at_most_once_per_interval() {
    let mut dev = SimDevice::new(Strategy::Select);
    let img = image(120_000, 0);
    let (mut agent, _) = dev.start("1.0.0");
    dev.storage.0.borrow_mut().reset_stats();
    assert_eq!(agent.offer(offer_for(&img, "1.1.0"), 0), OfferOutcome::Accepted);
    // 20 bytes a second: the download would take well over an hour.
    let mut servers = [ChunkServer::new(img.clone()).with_max_chunk(20)];
    let mut superseded = 0;
    let mut minor = 1;
    download_under_attack(&mut dev, &mut agent, &mut |_| 0, &mut servers, 3600, |_dev, agent, t| {
        if t % 60 == 59 {
            minor += 1;
            // The same image under a climbing version: its MD5 is the offer's.
            let offer = offer_for(&img, &format!("1.{minor}.0"));
            if agent.offer(offer, t * 1000) == OfferOutcome::Accepted {
                superseded += 1;
            }
        }
    });
    let interval_s = AgentConfig::new(SignaturePolicy::Unsigned).supersede_after_ms / 1000;
    let (slot, hottest, state) = wear(&dev);
    println!(
        "attack: a higher version every minute for an hour: {superseded} restarts, {slot} slot erases, hottest slot sector {hottest}, {state} state erases"
    );
    assert!(superseded as u64 <= 3600 / interval_s, "{superseded} restarts");
    assert!(u64::from(hottest) <= 1 + 3600 / interval_s);
}

/// The same failing offer (its MD5 does not match what the server serves) sent 20 times a
/// second apart, then again after the back-off, and again after a reboot: one download per
/// back-off window, and the window survives the reboot.
#[test]
fn a_failing_offer_repeated_is_downloaded_once_per_backoff() {
    let mut dev = SimDevice::new(Strategy::Select);
    let served = image(40_000, 0);
    let bad = Offer::new(v("1.1.0"), served.len() as u32, Digest { md5: Some([0xEE; 16]), sha256: None });
    let (mut agent, _) = dev.start("1.0.0");
    dev.storage.0.borrow_mut().reset_stats();
    let mut server = ChunkServer::new(served.clone());
    let mut downloads = 0;
    let try_offer =
        |agent: &mut TestAgent, at_ms: u64, server: &mut ChunkServer| match agent.offer(bad.clone(), at_ms) {
            OfferOutcome::Accepted => {
                let mut buf = [0u8; 1024];
                loop {
                    match agent.poll(server, &mut buf, at_ms) {
                        AgentEvent::Downloading { .. } => {}
                        other => {
                            assert_eq!(other, AgentEvent::Failed(FailureCause::IntegrityCheckFailure));
                            return true;
                        }
                    }
                }
            }
            OfferOutcome::Refused(FailureCause::IntegrityCheckFailure) => false,
            other => panic!("{other:?}"),
        };
    for s in 0..20 {
        downloads += u32::from(try_offer(&mut agent, s * 1000, &mut server));
    }
    assert_eq!(downloads, 1, "20 offers a second apart: one download");
    let base = AgentConfig::new(SignaturePolicy::Unsigned).failure_backoff_ms;
    assert!(try_offer(&mut agent, base + 1, &mut server), "after the back-off: again");
    // The second failure doubles the wait; a reboot does not end it.
    drop(agent);
    let (mut agent, _) = dev.start("1.0.0");
    for s in 0..20 {
        assert!(!try_offer(&mut agent, s * 1000, &mut server), "after the reboot, {s} s");
    }
    assert!(!try_offer(&mut agent, 2 * base - 1, &mut server));
    assert!(try_offer(&mut agent, 2 * base, &mut server));
    let (slot, hottest, state) = wear(&dev);
    println!(
        "attack: a failing offer 41 times over a reboot: 3 downloads, {} bytes fetched, {slot} slot erases, hottest slot sector {hottest}, {state} state erases",
        server.stats().served
    );
    assert_eq!(server.stats().served, 3 * served.len() as u64);
}

/// A source that hands out one byte every 25 s never finishes: the download fails at the
/// default overall deadline.
#[test]
fn a_trickling_source_hits_the_overall_deadline() {
    let mut dev = SimDevice::new(Strategy::Select);
    let img = image(8_000, 0);
    let (mut agent, _) = dev.start("1.0.0");
    assert_eq!(agent.offer(offer_for(&img, "1.1.0"), 0), OfferOutcome::Accepted);
    let mut server = ChunkServer::new(img).with_max_chunk(1);
    let mut buf = [0u8; 512];
    let mut now = 0u64;
    let event = loop {
        match agent.poll(&mut server, &mut buf, now) {
            AgentEvent::Downloading { .. } | AgentEvent::Waiting => now += 25_000,
            other => break other,
        }
    };
    assert_eq!(event, AgentEvent::Failed(FailureCause::DownloadTimeout));
    assert!((DEFAULT_OVERALL_TIMEOUT_MS..=DEFAULT_OVERALL_TIMEOUT_MS + 25_000).contains(&now), "{now}");
    println!("attack: one byte per 25 s: failed after {} s with {} bytes", now / 1000, server.stats().served);
}
