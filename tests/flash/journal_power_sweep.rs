//! Exhaustive power-cut sweeps of the Journal: every flash operation of a workload that
//! spans several compactions, cut before, torn, and after, for write sizes 1/4/8/16/32 and
//! both erased values. After each cut: reopen, check the state is the one before or after
//! the interrupted append, then keep appending and check again.

use ota_client::flash::{Journal, Partition};
use ota_client::mock::{SimFlash, power_sweep};
use std::collections::BTreeMap;

const KINDS: u8 = 3;
const STEPS: u32 = 240;
const SECTOR: usize = 512;

#[derive(Default)]
struct Model {
    acked: BTreeMap<u8, Vec<u8>>,
    inflight: Option<(u8, Option<Vec<u8>>)>,
}

/// Step `i`'s operation: a write of a varying length, or now and then a removal.
fn step(i: u32) -> (u8, Option<Vec<u8>>) {
    let kind = (i % u32::from(KINDS)) as u8;
    if i % 11 == 10 {
        return (kind, None);
    }
    let len = 1 + (i * 37 % 60) as usize;
    (kind, Some((0..len).map(|b| (b as u32 ^ i.wrapping_mul(2_654_435_761)) as u8).collect()))
}

fn expect(model: &Model, kind: u8) -> (Option<&[u8]>, Option<Option<&[u8]>>) {
    let acked = model.acked.get(&kind).map(Vec::as_slice);
    let inflight = match &model.inflight {
        Some((k, v)) if *k == kind => Some(v.as_deref()),
        _ => None,
    };
    (acked, inflight)
}

fn check_state<const W: usize>(
    flash: &mut SimFlash<W, SECTOR>,
    part: Partition,
    model: &Model,
) -> Result<Journal, String> {
    let journal: Journal = Journal::open(flash, part).map_err(|e| format!("open failed: {e:?}"))?;
    let mut buf = [0u8; 64];
    for kind in 0..KINDS {
        let got = journal.read(flash, kind, &mut buf).map_err(|e| format!("read {kind}: {e:?}"))?;
        let (acked, inflight) = expect(model, kind);
        let ok = got == acked || inflight.is_some_and(|v| got == v);
        if !ok {
            return Err(format!("kind {kind}: got {got:?}, acked {acked:?}, in flight {inflight:?}"));
        }
    }
    Ok(journal)
}

fn sweep<const W: usize>(erased: u8, sectors: usize) {
    let size = SECTOR * sectors;
    let fresh = || SimFlash::<W, SECTOR>::new(size + SECTOR, erased);
    let part_of =
        |flash: &SimFlash<W, SECTOR>| Partition::new(flash, SECTOR as u32, size as u32, erased).unwrap();
    let report = power_sweep(
        &format!("journal W={W} erased={erased:#04x} sectors={sectors}"),
        fresh,
        |flash, model: &mut Model| {
            let part = part_of(flash);
            let Ok(mut journal) = Journal::<8>::open(flash, part) else { return };
            for i in 0..STEPS {
                let (kind, value) = step(i);
                model.inflight = Some((kind, value.clone()));
                let r = match &value {
                    Some(v) => journal.write(flash, kind, v),
                    None => journal.remove(flash, kind),
                };
                if r.is_err() {
                    return;
                }
                match value {
                    Some(v) => model.acked.insert(kind, v),
                    None => model.acked.remove(&kind),
                };
                model.inflight = None;
            }
        },
        |flash, model| {
            let part = part_of(flash);
            let mut journal = check_state(flash, part, model)?;
            // The journal must stay usable: append a full round more and check it all.
            let mut after = Model { acked: BTreeMap::new(), inflight: None };
            for i in 0..u32::from(KINDS) * 4 {
                let (kind, value) = step(STEPS + i);
                let v = value.unwrap_or_else(|| vec![0x5A; 9]);
                journal.write(flash, kind, &v).map_err(|e| format!("append after reboot: {e:?}"))?;
                after.acked.insert(kind, v);
            }
            check_state(flash, part, &after).map(|_| ())
        },
    );
    println!("{}", report.summary());
    report.assert_clean();
    assert!(report.ops > u64::from(STEPS), "workload too small to cover compactions");
}

#[test]
fn sweep_write_size_1() {
    sweep::<1>(0xFF, 2);
    sweep::<1>(0x00, 2);
}

#[test]
fn sweep_write_size_4() {
    sweep::<4>(0xFF, 2);
    sweep::<4>(0x00, 2);
}

#[test]
fn sweep_write_size_8() {
    sweep::<8>(0xFF, 2);
    sweep::<8>(0x00, 2);
}

#[test]
fn sweep_write_size_16() {
    sweep::<16>(0xFF, 2);
    sweep::<16>(0x00, 2);
}

#[test]
fn sweep_write_size_32() {
    sweep::<32>(0xFF, 2);
    sweep::<32>(0x00, 2);
}

#[test]
fn sweep_three_sector_ring() {
    sweep::<4>(0xFF, 3);
    sweep::<8>(0x00, 3);
}
