//! Power-cut sweeps of the A/B lifecycle, for both strategies, write sizes 1/4/8/16 and both
//! erased values:
//! (a) stage → reboot → swap or select → trial boot → confirm;
//! (b) stage → reboot → trial boots without confirmation until attempts run out → rollback.
//! After every cut and reboot: every slot `prepare_boot()` names holds exactly the old or the
//! new image (by SHA-256); the device ends confirmed on the new image if and only if the
//! confirmation completed (or once the lifecycle is driven to its end); after a failed trial
//! it ends on the old image.

use ota_client::Version;
use ota_client::boot::{BootControl, BootLoader, Layout, Phase, Strategy};
use ota_client::flash::{Journal, OneFlash, Partition};
use ota_client::image::{ImageInfo, Slot};
use ota_client::mock::{SimFlash, power_sweep};
use sha2::{Digest, Sha256};

const SECTOR: usize = 512;
const STATE_SECTORS: u32 = 2;
const SLOT_PAGES: u32 = 5;
const OLD_LEN: usize = 2300;
const NEW_LEN: usize = 2100;

type Flash<const W: usize> = SimFlash<W, SECTOR>;

fn image(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_mul(2_654_435_761) ^ seed).to_le_bytes()[1]).collect()
}

struct Rig {
    layout: Layout,
    old: Vec<u8>,
    new: Vec<u8>,
    new_info: ImageInfo,
}

fn make_rig<const W: usize>(erased: u8, strategy: Strategy) -> (Rig, OneFlash<Flash<W>>) {
    let e = SECTOR as u32;
    let total = (STATE_SECTORS + SLOT_PAGES * 2 + 1) as usize * SECTOR;
    let mut storage = OneFlash(Flash::<W>::new(total, erased));
    let p = |flash: &Flash<W>, first: u32, n: u32| Partition::new(flash, first * e, n * e, erased).unwrap();
    let state = p(&storage.0, 0, STATE_SECTORS);
    let a = p(&storage.0, STATE_SECTORS, SLOT_PAGES);
    let b = p(&storage.0, STATE_SECTORS + SLOT_PAGES, SLOT_PAGES + 1);
    let layout = Layout::new::<OneFlash<Flash<W>>>(state, a, b, strategy).unwrap();
    let (old, new) = (image(OLD_LEN, 1), image(NEW_LEN, 2));
    // Factory image in A (no boot state yet), the downloaded image where it is staged in B.
    let flash = storage.0.contents_mut();
    let a0 = a.offset() as usize;
    flash[a0..a0 + OLD_LEN].copy_from_slice(&old);
    let b0 = layout.staging(Slot::B).part.offset() as usize;
    flash[b0..b0 + NEW_LEN].copy_from_slice(&new);
    let new_info = ImageInfo {
        size: NEW_LEN as u32,
        sha256: Sha256::digest(&new).into(),
        version: Version::parse("2.0.0").unwrap(),
        security_counter: 1,
    };
    (Rig { layout, old, new, new_info }, storage)
}

#[derive(Default)]
struct Model {
    staged: bool,
    /// The confirmation was under way when the power went: either outcome is allowed.
    confirming: bool,
    confirmed: bool,
}

#[derive(Debug, PartialEq)]
enum Held {
    Old,
    New,
}

fn held<const W: usize>(rig: &Rig, flash: &Flash<W>, slot: Slot) -> Result<Held, String> {
    let base = rig.layout.slot(slot).part.offset() as usize;
    let c = flash.contents();
    if c[base..base + OLD_LEN] == rig.old[..] {
        Ok(Held::Old)
    } else if c[base..base + NEW_LEN] == rig.new[..] {
        Ok(Held::New)
    } else {
        Err(format!("slot {slot:?} holds neither image"))
    }
}

fn workload<const W: usize>(rig: &Rig, storage: &mut OneFlash<Flash<W>>, model: &mut Model, confirm: bool) {
    let boot = BootControl::new(rig.layout);
    let Ok(mut journal) = Journal::<8>::open(&mut storage.0, rig.layout.state()) else { return };
    if boot.stage(storage, &mut journal, rig.new_info.clone(), 2).is_err() {
        return;
    }
    model.staged = true;
    // Reboot into the bootloader.
    let Ok(mut journal) = Journal::<8>::open(&mut storage.0, rig.layout.state()) else { return };
    for _ in 0..4 {
        let Ok(decision) = BootLoader::new(*boot.layout()).prepare_boot(storage, &mut journal, &mut |_| {})
        else {
            return;
        };
        if confirm {
            model.confirming = true;
            if boot.confirm(storage, &mut journal).is_ok() {
                model.confirmed = true;
            }
            return;
        }
        if !decision.trial {
            return;
        }
    }
}

/// Boots like a device until the lifecycle settles, checking every slot it is told to run.
fn drive<const W: usize>(
    rig: &Rig,
    storage: &mut OneFlash<Flash<W>>,
    confirm: bool,
) -> Result<(Held, Option<Version>), String> {
    let boot = BootControl::new(rig.layout);
    let loader = BootLoader::new(rig.layout);
    let mut journal: Journal =
        Journal::open(&mut storage.0, rig.layout.state()).map_err(|e| format!("{e:?}"))?;
    for _ in 0..6 {
        let d = loader
            .prepare_boot(storage, &mut journal, &mut |_| {})
            .map_err(|e| format!("prepare_boot: {e:?}"))?;
        let content = held(rig, &storage.0, d.slot)?;
        if d.trial {
            if content != Held::New {
                return Err(format!("trial boot of {:?} runs the old image", d.slot));
            }
            if confirm {
                boot.confirm(storage, &mut journal).map_err(|e| format!("confirm: {e:?}"))?;
            }
            continue;
        }
        let state = boot.state(storage, &journal).map_err(|e| format!("{e:?}"))?;
        if state.phase != Phase::Idle {
            return Err(format!("settled in {:?}", state.phase));
        }
        return Ok((content, state.last_rollback));
    }
    Err("lifecycle never settled".into())
}

fn sweep<const W: usize>(erased: u8, strategy: Strategy, confirm: bool) {
    let name = format!(
        "boot {strategy:?} {} W={W} erased={erased:#04x}",
        if confirm { "(a) confirm" } else { "(b) rollback" }
    );
    let (rig, _) = make_rig::<W>(erased, strategy);
    let report = power_sweep(
        &name,
        || make_rig::<W>(erased, strategy).1.0,
        |flash, model: &mut Model| {
            let mut storage = OneFlash(std::mem::replace(flash, Flash::<W>::new(SECTOR, erased)));
            workload(&rig, &mut storage, model, confirm);
            *flash = storage.0;
        },
        |flash, model| {
            let mut storage = OneFlash(flash.clone());
            let boot = BootControl::new(rig.layout);
            let journal: Journal =
                Journal::open(&mut storage.0, rig.layout.state()).map_err(|e| format!("{e:?}"))?;
            let state = boot.state(&mut storage, &journal).map_err(|e| format!("{e:?}"))?;
            let confirmed_new =
                state.phase == Phase::Idle && state.active_image.as_ref() == Some(&rig.new_info);
            let in_flight = model.confirming && !model.confirmed;
            if confirmed_new != model.confirmed && !in_flight {
                return Err(format!(
                    "confirmed on new image: {confirmed_new}, confirm completed: {}",
                    model.confirmed
                ));
            }
            if confirm {
                // Finish the update as the device would: stage again if the cut came first.
                if !model.staged && state.phase == Phase::Idle && !confirmed_new {
                    let mut journal = journal;
                    boot.stage(&mut storage, &mut journal, rig.new_info.clone(), 2)
                        .map_err(|e| format!("{e:?}"))?;
                }
                let (content, _) = drive(&rig, &mut storage, true)?;
                if content != Held::New {
                    return Err("a confirmed update must end on the new image".into());
                }
            } else {
                let (content, rollback) = drive(&rig, &mut storage, false)?;
                if content != Held::Old {
                    return Err("a failed trial must end on the old image".into());
                }
                if model.staged && rollback.as_ref() != Some(&rig.new_info.version) {
                    return Err(format!("rollback not recorded: {rollback:?}"));
                }
            }
            *flash = storage.0;
            Ok(())
        },
    );
    println!("{}", report.summary());
    report.assert_clean();
}

fn all<const W: usize>() {
    for erased in [0xFF, 0x00] {
        for strategy in [Strategy::Select, Strategy::Swap] {
            sweep::<W>(erased, strategy, true);
            sweep::<W>(erased, strategy, false);
        }
    }
}

#[test]
fn sweep_write_size_1() {
    all::<1>();
}

#[test]
fn sweep_write_size_4() {
    all::<4>();
}

#[test]
fn sweep_write_size_8() {
    all::<8>();
}

#[test]
fn sweep_write_size_16() {
    all::<16>();
}
