//! Power-cut sweeps: run a workload once per flash operation and cut kind, reboot, check.
//!
//! [`power_sweep`] sweeps one workload on one [`SimFlash`]: it runs the workload once
//! uninterrupted to learn its mutating operations, then once per operation and per cut
//! kind (before, torn, after) with the power cut there; after each cut it power-cycles the
//! flash and lets `check` judge what the flash holds, given the model state the workload
//! built up to the cut. What happens after the reboot (recovery, the rest of the work) is
//! up to `check`.
//!
//! [`lifecycle_sweep`] sweeps a whole device lifecycle that spans several boots, on a
//! device whose chips (one [`SimFlash`], or two in a [`TwoFlashes`]) hang on one
//! [`PowerSupply`] (a [`PowerDomain`]). A `boot` closure runs one boot from power-on and says
//! whether the device then resets or is done. The sweep runs the lifecycle uninterrupted,
//! then once per operation of it and per cut kind with a cut there; after a cut it
//! power-cycles the supply and boots again until the device is done with the power on, so
//! the recovery itself runs under test, and `check` judges the end state together with the
//! model (the world outside the device, which survives cuts). With
//! [`LifecycleSweep::double_cut_stride`] it also cuts a second time, at every operation of
//! the recovery from every k-th first cut.
//!
//! ```
//! use embedded_storage::nor_flash::NorFlash;
//! use ota_client::flash::TwoFlashes;
//! use ota_client::mock::{Boot, LifecycleSweep, SimFlash, lifecycle_sweep, two_chips};
//!
//! type Device = TwoFlashes<SimFlash<4, 256>, SimFlash<1, 256>>;
//! // Two chips on one supply. They allow overwrites, so a torn write is repaired by
//! // writing the same value again.
//! let fresh = || {
//!     let a = SimFlash::<4, 256>::new(512, 0xFF).allow_and_overwrite(true);
//!     let b = SimFlash::<1, 256>::new(256, 0xFF).allow_and_overwrite(true);
//!     two_chips(a, b)
//! };
//! // Boot 1 programs a word on chip A and resets; boot 2 programs a byte on chip B.
//! let boot = |dev: &mut Device, _: &mut ()| {
//!     if dev.primary.contents()[..4] != [0; 4] {
//!         let _ = dev.primary.write(0, &[0; 4]);
//!         return Boot::Reset;
//!     }
//!     let _ = dev.secondary.write(0, &[0]);
//!     Boot::Done
//! };
//! let opts = LifecycleSweep { name: "two chips", max_boots: 8, double_cut_stride: Some(2) };
//! let report = lifecycle_sweep(&opts, fresh, boot, |dev, _, run| {
//!     let done = dev.primary.contents()[..4] == [0; 4] && dev.secondary.contents()[0] == 0;
//!     if done { Ok(()) } else { Err(format!("unfinished after {} cuts", run.cuts)) }
//! });
//! // 2 operations: 1 uninterrupted + 3 × 2 single cuts; second cuts after the 3 first cuts
//! // at op 0, whose recoveries take 2, 2 and 1 operations: 3 × 5.
//! assert_eq!((report.ops, report.scenarios, report.double_scenarios), (2, 7, 15));
//! report.assert_clean();
//! ```

use super::sim_flash::{CutKind, OpKind, PowerCut, PowerSupply, SimFlash};
use crate::flash::{OneFlash, TwoFlashes};
use std::string::String;
use std::vec::Vec;

/// What a sweep found.
#[derive(Debug, Clone, Default)]
pub struct SweepReport {
    /// Name given to the sweep.
    pub name: String,
    /// Mutating flash operations in the uninterrupted workload.
    pub ops: u64,
    /// Scenarios run with at most one cut: the uninterrupted run plus cut points × cut kinds
    /// (`1 + 3 × ops` when the uninterrupted run succeeds).
    pub scenarios: u64,
    /// Scenarios run with two cuts ([`lifecycle_sweep`] with a
    /// [`LifecycleSweep::double_cut_stride`]; 0 otherwise).
    pub double_scenarios: u64,
    /// The stride of the first cuts that second cuts followed (`None`: no double cuts).
    pub double_cut_stride: Option<u64>,
    /// One line per failed scenario.
    pub failures: Vec<String>,
}

impl SweepReport {
    /// The one summary line a sweep prints: single and double scenario counts, the stride of
    /// the double cuts and the failures.
    pub fn summary(&self) -> String {
        let stride = match self.double_cut_stride {
            Some(k) => std::format!("stride {k}"),
            None => "stride none".into(),
        };
        std::format!(
            "sweep {}: {} scenarios over {} flash operations, {} double-cut scenarios ({stride}), {} failures",
            self.name,
            self.scenarios,
            self.ops,
            self.double_scenarios,
            self.failures.len()
        )
    }

    /// Panics with the first failures when there are any (for use in tests).
    ///
    /// # Panics
    /// When [`SweepReport::failures`] is not empty.
    pub fn assert_clean(&self) {
        assert!(
            self.failures.is_empty(),
            "{}\nfirst failures:\n{}",
            self.summary(),
            self.failures.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
        );
    }
}

/// The three cuts swept at an operation of kind `op`.
fn cut_kinds(op: OpKind) -> [CutKind; 3] {
    [CutKind::Before, CutKind::torn_for(op), CutKind::After]
}

/// Runs `workload` on a flash made by `fresh` once without a cut, records its mutating
/// operations, then once for every operation × {before, torn, after}. After each cut the
/// flash is power-cycled and `check` judges what it holds, given the model state the
/// workload built up to the cut (what was acknowledged, what was in flight).
///
/// `fresh` may prepare the flash (its own operations are not swept if it ends with
/// [`SimFlash::power_cycle`]). The workload must stop at the first flash error.
///
/// ```
/// use embedded_storage::nor_flash::NorFlash;
/// use ota_client::mock::{power_sweep, SimFlash};
/// let report = power_sweep(
///     "two writes",
///     || SimFlash::<4, 256>::new(1024, 0xFF),
///     |flash, acked: &mut u32| {
///         for i in 0..2u32 {
///             if flash.write(i * 4, &[0, 0, 0, 0]).is_err() { return; }
///             *acked = i + 1;
///         }
///     },
///     |flash, acked| {
///         let words = (0..2).filter(|i| flash.contents()[i * 4..i * 4 + 4] == [0; 4]).count();
///         if words as u32 >= *acked { Ok(()) } else { Err("acknowledged write lost".into()) }
///     },
/// );
/// assert_eq!(report.scenarios, 7);
/// report.assert_clean();
/// ```
pub fn power_sweep<const W: usize, const E: usize, const R: usize, M: Default>(
    name: &str,
    fresh: impl Fn() -> SimFlash<W, E, R>,
    workload: impl Fn(&mut SimFlash<W, E, R>, &mut M),
    check: impl Fn(&mut SimFlash<W, E, R>, &M) -> Result<(), String>,
) -> SweepReport {
    let mut report = SweepReport { name: name.into(), ..SweepReport::default() };
    let mut flash = fresh();
    let mut model = M::default();
    workload(&mut flash, &mut model);
    let ops = flash.op_log();
    report.ops = ops.len() as u64;
    flash.power_cycle();
    report.scenarios += 1;
    if let Err(e) = check(&mut flash, &model) {
        report.failures.push(std::format!("uninterrupted run: {e}"));
    }
    for (i, &op) in ops.iter().enumerate() {
        for kind in cut_kinds(op) {
            let mut flash = fresh().with_seed(scenario_seed(i as u64, kind));
            flash.arm(PowerCut { at_op: i as u64, kind });
            let mut model = M::default();
            workload(&mut flash, &mut model);
            flash.power_cycle();
            report.scenarios += 1;
            if let Err(e) = check(&mut flash, &model) {
                report.failures.push(std::format!("cut {kind:?} at op {i} ({op:?}): {e}"));
            }
        }
    }
    report
}

/// A device whose flash chips all hang on one [`PowerSupply`]: a [`SimFlash`],
/// [`OneFlash`]`<SimFlash>`, or [`TwoFlashes`] of two `SimFlash` chips on one supply (build
/// those with [`two_chips`]). Implement it for a device type of your own by delegating to
/// its chips.
pub trait PowerDomain {
    /// A handle to the supply of the device's chips.
    fn supply(&self) -> PowerSupply;

    /// Seeds the torn-byte generator of every chip, deterministically per `seed` (chips get
    /// distinct seeds derived from it).
    fn seed_torn_bytes(&mut self, seed: u64);

    /// True when every chip is on the supply [`PowerDomain::supply`] returns. The provided
    /// method says yes, which holds for one chip; [`lifecycle_sweep`] refuses a device
    /// that says no.
    fn on_one_supply(&self) -> bool {
        true
    }
}

impl<const W: usize, const E: usize, const R: usize> PowerDomain for SimFlash<W, E, R> {
    fn supply(&self) -> PowerSupply {
        SimFlash::supply(self)
    }

    fn seed_torn_bytes(&mut self, seed: u64) {
        self.set_seed(seed);
    }
}

impl<F: PowerDomain> PowerDomain for OneFlash<F> {
    fn supply(&self) -> PowerSupply {
        self.0.supply()
    }

    fn seed_torn_bytes(&mut self, seed: u64) {
        self.0.seed_torn_bytes(seed);
    }

    fn on_one_supply(&self) -> bool {
        self.0.on_one_supply()
    }
}

/// The supply is the primary chip's; both chips must be on it (see [`two_chips`]).
impl<P: PowerDomain, S: PowerDomain> PowerDomain for TwoFlashes<P, S> {
    fn supply(&self) -> PowerSupply {
        self.primary.supply()
    }

    fn seed_torn_bytes(&mut self, seed: u64) {
        self.primary.seed_torn_bytes(seed);
        self.secondary.seed_torn_bytes(seed.rotate_left(29) ^ 0xA076_1D64_78BD_642F);
    }

    fn on_one_supply(&self) -> bool {
        self.primary.on_one_supply()
            && self.secondary.on_one_supply()
            && self.primary.supply().same_as(&self.secondary.supply())
    }
}

/// Two chips on one supply: `b` joins `a`'s supply, `a` becomes the primary (state partition
/// and primary slot), `b` the secondary.
///
/// ```
/// use ota_client::mock::{PowerDomain, SimFlash, two_chips};
/// let device = two_chips(SimFlash::<8, 2048>::new(8192, 0xFF), SimFlash::<1, 4096>::new(16384, 0xFF));
/// assert!(device.on_one_supply());
/// assert!(device.secondary.supply().same_as(&device.supply()));
/// ```
pub fn two_chips<
    const W1: usize,
    const E1: usize,
    const R1: usize,
    const W2: usize,
    const E2: usize,
    const R2: usize,
>(
    a: SimFlash<W1, E1, R1>,
    b: SimFlash<W2, E2, R2>,
) -> TwoFlashes<SimFlash<W1, E1, R1>, SimFlash<W2, E2, R2>> {
    let supply = a.supply();
    TwoFlashes { primary: a, secondary: b.on_supply(&supply) }
}

/// What one boot of the device ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boot {
    /// The device asked for a reset: the next boot follows at once, power stays on (a soft
    /// reset).
    Reset,
    /// The lifecycle is over (the device is idle).
    Done,
}

/// What happened in one scenario of a [`lifecycle_sweep`], given to `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Power cuts that struck: 0 in the uninterrupted run, 1 or 2 in the swept scenarios.
    pub cuts: u32,
    /// Boots run, counting those a cut ended.
    pub boots: u32,
}

/// Options of a [`lifecycle_sweep`].
#[derive(Debug, Clone)]
pub struct LifecycleSweep<'a> {
    /// Name of the sweep, for the report.
    pub name: &'a str,
    /// Most boots a scenario may take (counting those a cut ended) before it is a failure:
    /// a device that never settles is reported, not left to hang the sweep.
    pub max_boots: u32,
    /// Second cuts: for every k-th first cut (`Some(k)`: first cuts at operations
    /// 0, k, 2k, …, all three kinds), cut again at every operation of the recovery, all
    /// three kinds. `None`: single cuts only. `Some(0)` counts as `Some(1)`.
    pub double_cut_stride: Option<u64>,
}

/// How a scenario's boots ended.
struct Ended {
    boots: u32,
    /// Power cycles done, one per cut that struck.
    cycles: u32,
}

/// Boots `dev` until a boot ends in `Done` with the power on, power-cycling after every boot
/// that ends without power, and calling `after_first_cycle` right after the first power cycle.
fn run_boots<D: PowerDomain, M>(
    dev: &mut D,
    model: &mut M,
    boot: &impl Fn(&mut D, &mut M) -> Boot,
    max_boots: u32,
    mut after_first_cycle: impl FnMut(&mut D),
) -> Result<Ended, String> {
    let supply = dev.supply();
    let (mut boots, mut cycles) = (0u32, 0u32);
    loop {
        if boots >= max_boots {
            return Err(std::format!("did not finish in {max_boots} boots"));
        }
        boots += 1;
        let end = boot(dev, model);
        if !supply.is_powered() {
            supply.power_cycle();
            cycles += 1;
            if cycles == 1 {
                after_first_cycle(dev);
            }
        } else if end == Boot::Done {
            return Ok(Ended { boots, cycles });
        }
    }
}

/// The torn-byte seed of the scenarios whose first cut is `kind` at operation `i` (as
/// [`power_sweep`] seeds).
fn scenario_seed(i: u64, kind: CutKind) -> u64 {
    i << 2 | kind as u64
}

/// Sweeps power cuts across a lifecycle of several boots: once uninterrupted, then with one
/// cut at every operation × {before, torn, after}, then (with
/// [`LifecycleSweep::double_cut_stride`]) with a second cut at every operation of the
/// recovery from every k-th first cut.
///
/// - `fresh` builds the device as it leaves the factory (or as a test prepared it). The sweep
///   then power-cycles its supply, so operations `fresh` did are never swept.
/// - `boot` runs one whole boot from power-on (bootloader, then application) over the device
///   and the model `M`, the world outside the device (a cloud that received reports, what
///   was acknowledged), which survives power cuts. It must build every library object afresh
///   from flash each time, and return when the device resets ([`Boot::Reset`]), is done
///   ([`Boot::Done`]) or a flash operation failed (after a cut every operation fails; what
///   it returns then does not matter).
/// - `check` judges the device and the model at the end of each scenario, told how many cuts
///   struck and how many boots it took ([`Run`]); it may use the device (it is powered).
///
/// The uninterrupted run boots until `Done`; soft resets do not power-cycle, so the
/// operations of all its boots are counted on one counter and every one of them is a cut
/// point. In a swept scenario, a boot that returns without power (whatever it returned) is
/// followed by a power cycle and another boot, until a boot returns `Done` with the power
/// on. A scenario that takes more than `max_boots` boots, or whose cut never strikes (the
/// workload is not deterministic), is a failure.
///
/// Torn bytes are deterministic: a scenario whose first cut is `kind` at operation `i`
/// seeds every chip with [`PowerDomain::seed_torn_bytes`]`(i << 2 | kind as u64)` (as
/// [`power_sweep`] does) right after the power-on, and the generators run on through a
/// second cut. A failure line names the cuts, so the scenario can be replayed by hand: power
/// on, seed, arm the first cut, boot until the power is gone, power-cycle, arm the second.
///
/// A double-cut scenario repeats its first cut exactly (same operation, kind and seed), so
/// its recovery is the one the single-cut scenario ran; the second cut's operation is
/// counted from the power cycle after the first cut. [`SweepReport::double_scenarios`] is
/// `3 × R` summed over the first cuts followed, `R` being the operations from that power
/// cycle to the end of the single-cut scenario. When the device's chips are not on one
/// supply ([`PowerDomain::on_one_supply`]), or the uninterrupted run fails to finish, the
/// report holds that one failure and nothing is swept.
///
/// ```
/// use embedded_storage::nor_flash::NorFlash;
/// use ota_client::mock::{Boot, LifecycleSweep, SimFlash, lifecycle_sweep};
///
/// // Boot 1 programs word 0 and resets, boot 2 programs word 1; the model counts the
/// // lifecycles the "cloud" heard were finished. The flash allows overwrites, so writing a
/// // torn word again repairs it.
/// let report = lifecycle_sweep(
///     &LifecycleSweep { name: "two boots", max_boots: 8, double_cut_stride: Some(1) },
///     || SimFlash::<4, 256>::new(1024, 0xFF).allow_and_overwrite(true),
///     |flash, finished: &mut u32| {
///         for word in 0..2 {
///             if flash.contents()[word * 4..word * 4 + 4] != [0; 4] {
///                 if flash.write(word as u32 * 4, &[0; 4]).is_err() {
///                     return Boot::Done; // the power is gone: the sweep boots again
///                 }
///                 if word == 0 {
///                     return Boot::Reset;
///                 }
///                 *finished += 1;
///             }
///         }
///         Boot::Done
///     },
///     |flash, finished, run| {
///         if flash.contents()[..8] != [0; 8] {
///             return Err(format!("unfinished after {} cuts", run.cuts));
///         }
///         if *finished > 1 { Err("finished twice".into()) } else { Ok(()) }
///     },
/// );
/// // 2 operations: 1 + 3 × 2 scenarios with at most one cut; the recoveries from the six
/// // first cuts take 2, 2, 1 (cuts at op 0) and 1, 1, 0 operations (at op 1): 3 × 7.
/// assert_eq!((report.ops, report.scenarios, report.double_scenarios), (2, 7, 21));
/// println!("{}", report.summary());
/// report.assert_clean();
/// ```
pub fn lifecycle_sweep<D: PowerDomain, M: Default>(
    opts: &LifecycleSweep<'_>,
    fresh: impl Fn() -> D,
    boot: impl Fn(&mut D, &mut M) -> Boot,
    check: impl Fn(&mut D, &M, &Run) -> Result<(), String>,
) -> SweepReport {
    let stride = opts.double_cut_stride.map(|k| k.max(1));
    let mut report =
        SweepReport { name: opts.name.into(), double_cut_stride: stride, ..SweepReport::default() };
    let power_on = || {
        let dev = fresh();
        dev.supply().power_cycle();
        dev
    };

    // The uninterrupted run.
    let mut dev = power_on();
    if !dev.on_one_supply() {
        report.failures.push("the device's chips are not on one PowerSupply (see mock::two_chips)".into());
        return report;
    }
    let mut model = M::default();
    report.scenarios += 1;
    let ended = match run_boots(&mut dev, &mut model, &boot, opts.max_boots, |_| {}) {
        Ok(ended) if ended.cycles == 0 => ended,
        Ok(_) => {
            report.failures.push("uninterrupted run: the power went off (a cut armed by `fresh`?)".into());
            return report;
        }
        Err(e) => {
            report.failures.push(std::format!("uninterrupted run: {e}"));
            return report;
        }
    };
    let ops = dev.supply().op_log();
    report.ops = ops.len() as u64;
    if let Err(e) = check(&mut dev, &model, &Run { cuts: 0, boots: ended.boots }) {
        report.failures.push(std::format!("uninterrupted run: {e}"));
    }

    for (i, &op) in (0u64..).zip(ops.iter()) {
        for kind in cut_kinds(op) {
            let what = std::format!("cut {kind:?} at op {i} ({op:?})");
            let seed = scenario_seed(i, kind);
            let first = PowerCut { at_op: i, kind };
            let mut dev = power_on();
            dev.seed_torn_bytes(seed);
            let supply = dev.supply();
            supply.arm(first);
            let mut model = M::default();
            report.scenarios += 1;
            let ended = match run_boots(&mut dev, &mut model, &boot, opts.max_boots, |_| {}) {
                Ok(ended) if ended.cycles == 1 => ended,
                Ok(_) => {
                    report
                        .failures
                        .push(std::format!("{what}: the cut never struck (is the workload deterministic?)"));
                    continue;
                }
                Err(e) => {
                    report.failures.push(std::format!("{what}: {e}"));
                    continue;
                }
            };
            // The recovery: every operation from the power cycle to the end.
            let recovery = match stride {
                Some(k) if i % k == 0 => supply.op_log(),
                _ => Vec::new(),
            };
            if let Err(e) = check(&mut dev, &model, &Run { cuts: 1, boots: ended.boots }) {
                report.failures.push(std::format!("{what}: {e}"));
            }
            for (j, &op2) in (0u64..).zip(recovery.iter()) {
                for kind2 in cut_kinds(op2) {
                    let what = std::format!("{what}, then {kind2:?} at op {j} of the recovery ({op2:?})");
                    let mut dev = power_on();
                    dev.seed_torn_bytes(seed);
                    dev.supply().arm(first);
                    let mut model = M::default();
                    report.double_scenarios += 1;
                    let second = |dev: &mut D| dev.supply().arm(PowerCut { at_op: j, kind: kind2 });
                    match run_boots(&mut dev, &mut model, &boot, opts.max_boots, second) {
                        Ok(ended) if ended.cycles == 2 => {
                            if let Err(e) = check(&mut dev, &model, &Run { cuts: 2, boots: ended.boots }) {
                                report.failures.push(std::format!("{what}: {e}"));
                            }
                        }
                        Ok(_) => report.failures.push(std::format!(
                            "{what}: the second cut never struck (is the workload deterministic?)"
                        )),
                        Err(e) => report.failures.push(std::format!("{what}: {e}")),
                    }
                }
            }
        }
    }
    report
}
