//! Power-cut sweeps: run a workload once per flash operation and cut kind, reboot, check.

use super::sim_flash::{CutKind, PowerCut, SimFlash};
use std::string::String;
use std::vec::Vec;

/// What a sweep found.
#[derive(Debug, Clone, Default)]
pub struct SweepReport {
    /// Name given to the sweep.
    pub name: String,
    /// Mutating flash operations in the uninterrupted workload.
    pub ops: u64,
    /// Scenarios run (cut points × cut kinds, plus the uninterrupted run).
    pub scenarios: u64,
    /// One line per failed scenario.
    pub failures: Vec<String>,
}

impl SweepReport {
    /// The one summary line a sweep prints.
    pub fn summary(&self) -> String {
        std::format!(
            "sweep {}: {} scenarios over {} flash operations, {} failures",
            self.name,
            self.scenarios,
            self.ops,
            self.failures.len()
        )
    }

    /// Panics with the first failures when there are any (for use in tests).
    pub fn assert_clean(&self) {
        assert!(
            self.failures.is_empty(),
            "{}\nfirst failures:\n{}",
            self.summary(),
            self.failures.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
        );
    }
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
    let ops: Vec<_> = flash.op_log().to_vec();
    report.ops = ops.len() as u64;
    flash.power_cycle();
    report.scenarios += 1;
    if let Err(e) = check(&mut flash, &model) {
        report.failures.push(std::format!("uninterrupted run: {e}"));
    }
    for (i, &op) in ops.iter().enumerate() {
        for kind in [CutKind::Before, CutKind::torn_for(op), CutKind::After] {
            let mut flash = fresh().with_seed((i as u64) << 2 | kind as u64);
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
