//! Whole-lifecycle power-cut sweeps through the public API, as a device runs it:
//! boot (bootloader `prepare_boot`, then the application) → version report → the cloud
//! offers → download → stage → reset → trial boot → self-test → confirm (or rollback) →
//! outcome report → acknowledged. Every boot builds every library object afresh from flash.
//!
//! One cut at every flash operation of every boot (before, torn, after), and double cuts (a
//! second cut at every operation of the recovery after every k-th first cut), for Select
//! and Swap, the success and the self-test-failure path, write sizes 1, 4 and 16, both erased
//! values, and one or two chips on one power supply. The flash refuses to re-program a
//! written word (as ECC flash does).
//!
//! Invariants after every scenario:
//! - every slot the bootloader names holds a whole image (old or new), at every boot;
//! - the device ends idle on the new image, confirmed, if the confirmation was acknowledged,
//!   on the old one if it was never attempted (or the self-test fails); a confirmation cut
//!   while it was written may go either way;
//! - exactly one distinct final report about the update reaches the cloud, naming its job,
//!   and it says what the device ended on; nothing is left owed or queued;
//! - bytes fetched again ≤ (checkpoint interval + one chunk) per cut.
//!
//! Delivery is at least once: a cut after the cloud took a report but before the
//! acknowledgement's write landed sends the report again after the reboot. Such duplicates
//! are counted and printed, not failed.

use std::cell::Cell;

use ota_client::agent::{Agent, AgentConfig, AgentEvent, Application, OfferOutcome, Report, Startup};
use ota_client::boot::{BootControl, BootLoader, Layout, Phase, Strategy};
use ota_client::flash::{Journal, OneFlash, Partition, Storage};
use ota_client::image::Slot;
use ota_client::mock::{
    Boot, ChunkServer, LifecycleSweep, PowerDomain, Run, SimFlash, SweepReport, lifecycle_sweep, two_chips,
};
use ota_client::{Digest, Offer, Version};

const SECTOR: usize = 512;
const STATE_SECTORS: u32 = 2;
const SLOT_SECTORS: u32 = 6;
const OLD_LEN: usize = 2300;
const NEW_LEN: usize = 2100;
const CHUNK: usize = 256;
const JOB: &str = "job-42";

fn image(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_mul(2_654_435_761) ^ seed).to_le_bytes()[1]).collect()
}

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

/// What one sweep varies.
#[derive(Clone)]
struct Case {
    layout: Layout,
    /// The new image passes its self-test.
    pass: bool,
    old: Vec<u8>,
    new: Vec<u8>,
}

impl Case {
    fn offer(&self) -> Offer {
        let md5 = <[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(&self.new));
        Offer::new(v("1.1.0"), NEW_LEN as u32, Digest { md5: Some(md5), sha256: None })
            .with_location("/fw.bin")
            .unwrap()
            .with_job(JOB)
            .unwrap()
    }

    fn config(&self) -> AgentConfig {
        // One trial attempt: a cut in the trial boot before the confirmation rolls back.
        AgentConfig { trial_attempts: 1, ..AgentConfig::new(ota_client::image::SignaturePolicy::Unsigned) }
    }
}

/// The world outside the device: survives power cuts.
#[derive(Default)]
struct World {
    /// Final reports the cloud received about the job, duplicates included.
    finals: Vec<Report>,
    confirm_tried: bool,
    confirm_acked: bool,
    fetched: u64,
    violations: Vec<String>,
    boots: u32,
}

struct App {
    pass: bool,
    reboot: bool,
}

impl Application for App {
    fn self_test(&mut self) -> bool {
        self.pass
    }
    fn request_reboot(&mut self) {
        self.reboot = true;
    }
}

/// Which image `slot` holds: `Some(true)` new, `Some(false)` old, `None` neither whole.
fn held<S: Storage>(dev: &mut S, case: &Case, slot: Slot) -> Result<Option<bool>, String> {
    let region = case.layout.slot(slot);
    let mut buf = vec![0u8; OLD_LEN.max(NEW_LEN)];
    region.read(dev, 0, &mut buf).map_err(|e| format!("read slot {slot:?}: {e:?}"))?;
    Ok(if buf[..OLD_LEN] == case.old[..] {
        Some(false)
    } else if buf[..NEW_LEN] == case.new[..] {
        Some(true)
    } else {
        None
    })
}

/// One boot from power-on.
fn one_boot<D: Storage + PowerDomain>(dev: &mut D, w: &mut World, case: &Case) -> Boot {
    let supply = dev.supply();
    w.boots += 1;
    let boot_no = w.boots;
    macro_rules! attempt {
        ($e:expr, $what:expr) => {
            match $e {
                Ok(x) => x,
                Err(e) => {
                    if supply.is_powered() {
                        w.violations.push(format!("boot {boot_no}: {}: {e:?}", $what));
                    }
                    return Boot::Done;
                }
            }
        };
    }
    // The bootloader.
    let boot = BootControl::new(case.layout);
    let mut journal: Journal = attempt!(Journal::open(dev.primary(), case.layout.state()), "journal open");
    let decision = attempt!(
        BootLoader::new(*boot.layout()).prepare_boot(dev, &mut journal, &mut |_| {}),
        "prepare_boot"
    );
    let running_new = match attempt!(held(dev, case, decision.slot), "slot read") {
        Some(new) => new,
        None => {
            w.violations.push(format!("boot {boot_no}: slot {:?} holds no whole image", decision.slot));
            return Boot::Done;
        }
    };
    // The application.
    let running = if running_new { v("1.1.0") } else { v("1.0.0") };
    let state = attempt!(boot.state(dev, &journal), "state");
    if case.pass && matches!(state.phase, Phase::Trial { revert_requested: false, .. }) {
        w.confirm_tried = true;
    }
    drop(journal);
    // The Agent owns the flash from here (borrowed: the device outlives the boot).
    let agent = attempt!(Agent::new(&mut *dev, case.layout, case.config(), running), "agent");
    let mut agent = agent.with_application(App { pass: case.pass, reboot: false });
    let startup = attempt!(agent.start(), "start");
    if matches!(startup, Startup::Confirmed(_)) {
        w.confirm_acked = true;
    }
    agent.report_version();
    let mut offer = None;
    loop {
        while let Some(r) = agent.next_report().cloned() {
            if !supply.is_powered() {
                return Boot::Done;
            }
            match &r {
                Report::Version { current } if !current.same_text(&v("1.1.0")) && w.finals.is_empty() => {
                    offer = Some(case.offer());
                }
                r if r.is_final() => w.finals.push(r.clone()),
                _ => {}
            }
            attempt!(agent.report_delivered(&r), "report_delivered");
        }
        if agent.app().reboot {
            return Boot::Reset;
        }
        let Some(o) = offer.take() else { return Boot::Done };
        let outcome = agent.offer(o, 0);
        if !supply.is_powered() {
            return Boot::Done;
        }
        if outcome != OfferOutcome::Accepted {
            w.violations.push(format!("boot {boot_no}: offer {outcome:?}"));
            return Boot::Done;
        }
        let mut src = ChunkServer::new(case.new.clone()).with_max_chunk(CHUNK);
        let mut buf = [0u8; CHUNK];
        let mut now = 0u64;
        loop {
            let event = agent.poll(&mut src, &mut buf, now);
            now += 1;
            if !supply.is_powered() {
                w.fetched += src.stats().served;
                return Boot::Done;
            }
            match event {
                AgentEvent::Downloading { .. } | AgentEvent::Waiting => {}
                AgentEvent::Staged => break,
                other => {
                    w.violations.push(format!("boot {boot_no}: download {other:?}"));
                    break;
                }
            }
        }
        w.fetched += src.stats().served;
    }
}

/// The invariants at the end of a scenario.
fn check<D: Storage + PowerDomain>(
    dev: &mut D,
    w: &World,
    run: &Run,
    case: &Case,
    duplicates: &Cell<u64>,
) -> Result<(), String> {
    if let Some(first) = w.violations.first() {
        return Err(format!("{first} ({} violations)", w.violations.len()));
    }
    let boot = BootControl::new(case.layout);
    let journal: Journal = Journal::open(dev.primary(), case.layout.state()).map_err(|e| format!("{e:?}"))?;
    let state = boot.state(dev, &journal).map_err(|e| format!("{e:?}"))?;
    if state.phase != Phase::Idle {
        return Err(format!("ended in {:?}", state.phase));
    }
    if state.awaiting.is_some()
        || journal.len_of(ota_client::flash::kinds::PENDING_REPORT).is_some_and(|n| n > 0)
    {
        return Err("an outcome is still owed at the end".into());
    }
    let on_new = held(dev, case, state.active)?.ok_or("the active slot holds no whole image")?;
    if w.confirm_acked && !on_new {
        return Err("the confirmation was acknowledged, the device ended on the old image".into());
    }
    if on_new && (!w.confirm_tried || !case.pass) {
        return Err("ended on the new image without a confirmation".into());
    }
    let mut distinct: Vec<&Report> = Vec::new();
    for r in &w.finals {
        if !distinct.iter().any(|d| d.same_as(r)) {
            distinct.push(r);
        }
    }
    match distinct.as_slice() {
        [one] => {
            if one.job() != JOB {
                return Err(format!("the final report names job {:?}", one.job()));
            }
            if matches!(one, Report::Succeeded { .. }) != on_new {
                return Err(format!(
                    "reported {one}, ended on the {} image",
                    if on_new { "new" } else { "old" }
                ));
            }
        }
        other => return Err(format!("{} distinct final reports: {other:?}", other.len())),
    }
    duplicates.set(duplicates.get() + (w.finals.len() - distinct.len()) as u64);
    let allowed = u64::from(run.cuts) * (SECTOR + CHUNK) as u64;
    let again = w.fetched.saturating_sub(NEW_LEN as u64);
    if again > allowed {
        return Err(format!("fetched {again} bytes again after {} cuts (allowed {allowed})", run.cuts));
    }
    Ok(())
}

fn case(layout: Layout, pass: bool) -> Case {
    Case { layout, pass, old: image(OLD_LEN, 1), new: image(NEW_LEN, 2) }
}

fn part<F: embedded_storage::nor_flash::NorFlash>(flash: &F, first: u32, n: u32, erased: u8) -> Partition {
    Partition::new(flash, first * SECTOR as u32, n * SECTOR as u32, erased).unwrap()
}

/// Writes the factory image into slot A, padded with the erased value to a whole number of
/// 16-byte words.
fn factory<S: Storage>(dev: &mut S, case: &Case, erased: u8) {
    let a = case.layout.slot(Slot::A);
    for s in 0..SLOT_SECTORS {
        a.erase_sector(dev, s).unwrap();
    }
    let mut padded = case.old.clone();
    padded.resize(OLD_LEN.div_ceil(16) * 16, erased);
    a.write(dev, 0, &padded).unwrap();
}

struct Totals {
    scenarios: u64,
    doubles: u64,
    duplicates: u64,
}

fn run_one<D: Storage + PowerDomain>(
    name: &str,
    case: Case,
    erased: u8,
    fresh: impl Fn() -> D,
    stride: Option<u64>,
    totals: &mut Totals,
) {
    let duplicates = Cell::new(0);
    let opts = LifecycleSweep { name, max_boots: 12, double_cut_stride: stride };
    let report: SweepReport = lifecycle_sweep(
        &opts,
        || {
            let mut dev = fresh();
            factory(&mut dev, &case, erased);
            dev
        },
        |dev, w: &mut World| one_boot(dev, w, &case),
        |dev, w, run| check(dev, w, run, &case, &duplicates),
    );
    println!("{}, {} duplicate final reports", report.summary(), duplicates.get());
    totals.scenarios += report.scenarios;
    totals.doubles += report.double_scenarios;
    totals.duplicates += duplicates.get();
    report.assert_clean();
}

fn one_chip<const W: usize>(
    strategy: Strategy,
    pass: bool,
    erased: u8,
    stride: Option<u64>,
    totals: &mut Totals,
) {
    type F<const W: usize> = SimFlash<W, SECTOR>;
    let sectors = STATE_SECTORS + 2 * SLOT_SECTORS + 1;
    let probe = F::<W>::new(sectors as usize * SECTOR, erased);
    let state = part(&probe, 0, STATE_SECTORS, erased);
    let a = part(&probe, STATE_SECTORS, SLOT_SECTORS, erased);
    let b = part(&probe, STATE_SECTORS + SLOT_SECTORS, SLOT_SECTORS + 1, erased);
    let layout = Layout::new::<OneFlash<F<W>>>(state, a, b, strategy).unwrap();
    let name = format!(
        "{strategy:?} {} w{W} erased {erased:#04x} one chip",
        if pass { "success" } else { "self-test fails" }
    );
    let fresh = || OneFlash(F::<W>::new(sectors as usize * SECTOR, erased));
    run_one(&name, case(layout, pass), erased, fresh, stride, totals);
}

fn two_chip<const W: usize>(
    strategy: Strategy,
    pass: bool,
    erased: u8,
    stride: Option<u64>,
    totals: &mut Totals,
) {
    type P<const W: usize> = SimFlash<W, SECTOR>;
    type S = SimFlash<1, SECTOR>;
    let primary_sectors = STATE_SECTORS + SLOT_SECTORS;
    let (p, s) = (
        P::<W>::new(primary_sectors as usize * SECTOR, erased),
        S::new((SLOT_SECTORS + 1) as usize * SECTOR, erased),
    );
    let state = part(&p, 0, STATE_SECTORS, erased);
    let a = part(&p, STATE_SECTORS, SLOT_SECTORS, erased);
    let b = part(&s, 0, SLOT_SECTORS + 1, erased);
    let layout = Layout::new::<ota_client::flash::TwoFlashes<P<W>, S>>(state, a, b, strategy).unwrap();
    let name = format!(
        "{strategy:?} {} w{W} erased {erased:#04x} two chips",
        if pass { "success" } else { "self-test fails" }
    );
    let fresh = || {
        two_chips(
            P::<W>::new(primary_sectors as usize * SECTOR, erased),
            S::new((SLOT_SECTORS + 1) as usize * SECTOR, erased),
        )
    };
    run_one(&name, case(layout, pass), erased, fresh, stride, totals);
}

fn every_config(strategy: Strategy, pass: bool, stride: Option<u64>) -> Totals {
    let mut t = Totals { scenarios: 0, doubles: 0, duplicates: 0 };
    for erased in [0xFF, 0x00] {
        one_chip::<1>(strategy, pass, erased, stride, &mut t);
        one_chip::<4>(strategy, pass, erased, stride, &mut t);
        one_chip::<16>(strategy, pass, erased, stride, &mut t);
        two_chip::<1>(strategy, pass, erased, stride, &mut t);
        two_chip::<4>(strategy, pass, erased, stride, &mut t);
        two_chip::<16>(strategy, pass, erased, stride, &mut t);
    }
    println!(
        "{strategy:?} {}: {} single-cut scenarios, {} double-cut scenarios, {} duplicate final reports",
        if pass { "success" } else { "self-test fails" },
        t.scenarios,
        t.doubles,
        t.duplicates
    );
    t
}

/// Second cuts follow every `DOUBLE_STRIDE`-th first cut: 1, every first cut (the whole
/// sweep takes about a minute on two cores).
const DOUBLE_STRIDE: u64 = 1;

#[test]
fn select_success() {
    every_config(Strategy::Select, true, Some(DOUBLE_STRIDE));
}

#[test]
fn select_self_test_fails() {
    every_config(Strategy::Select, false, Some(DOUBLE_STRIDE));
}

#[test]
fn swap_success() {
    every_config(Strategy::Swap, true, Some(DOUBLE_STRIDE));
}

#[test]
fn swap_self_test_fails() {
    every_config(Strategy::Swap, false, Some(DOUBLE_STRIDE));
}
