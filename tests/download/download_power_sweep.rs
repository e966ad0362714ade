//! A power cut at every flash operation of a whole download (cut before, torn, after), for
//! write sizes 1/4/8/16/32 and both erased values. After each cut the device "reboots": a
//! fresh engine over the same journal and flash resumes and completes; the image in the slot
//! is bit-exact, the active slot untouched, and the bytes fetched again stay within one
//! checkpoint interval plus one chunk.

use crate::download_rig;

use download_rig::*;
use ota_client::download::{Download, DownloadConfig};
use ota_client::flash::{Journal, OneFlash};
use ota_client::mock::{ChunkServer, ManualClock, SimFlash, power_sweep};
use std::cell::Cell;

const IMAGE_LEN: usize = 5 * SECTOR + 37;

#[derive(Default)]
struct Model {
    /// End of the highest range the server handed out before the cut.
    high_water: u32,
    done: bool,
}

fn cfg(interval: u32) -> DownloadConfig {
    DownloadConfig {
        checkpoint_interval: interval,
        retry_base_ms: 1,
        retry_cap_ms: 4,
        ..DownloadConfig::new(ota_client::image::SignaturePolicy::Unsigned)
    }
}

/// Runs one download until it finishes or the flash fails; returns the server afterwards.
fn run_download<const W: usize>(
    flash: &mut SimFlash<W, SECTOR>,
    img: &[u8],
    chunk: usize,
    interval: u32,
    high_water: u32,
) -> (Result<ota_client::download::VerifiedImage, ota_client::FailureCause>, ChunkServer, Download) {
    let part = state_part(flash);
    let tgt = target(flash);
    let mut server = ChunkServer::new(img.to_vec()).with_high_water(high_water);
    let mut dl = Download::new(&offer("9.1.0", img), tgt, cfg(interval));
    let mut storage = OneFlash(&mut *flash);
    let Ok(mut journal) = Journal::<8>::open(storage.0, part) else {
        return (Err(ota_client::FailureCause::UpdateFailed), server, dl);
    };
    let mut buf = vec![0u8; chunk];
    let r = drive(&mut dl, &mut storage, &mut journal, &mut server, &mut buf, &ManualClock::new(), 1);
    (r, server, dl)
}

/// Sweeps a download; `slack` is what may be fetched again beyond one interval plus a chunk.
fn sweep<const W: usize>(erased: u8, chunk: usize, interval: u32, slack: u64) {
    let img = image(IMAGE_LEN, 0xC0FFEE ^ W as u32);
    let expected_sha = digest_of(&img, false, true).sha256.unwrap();
    let effective_interval = if interval == 0 { SECTOR as u64 } else { u64::from(interval) };
    let bound = effective_interval + chunk as u64 + slack;
    let worst = Cell::new(0u64);
    let resumed = Cell::new(0u64);
    let report = power_sweep(
        &format!("download W={W} erased={erased:#04x} chunk={chunk} interval={effective_interval}"),
        || fresh_flash::<W>(erased),
        |flash, model: &mut Model| {
            let (r, server, _) = run_download(flash, &img, chunk, interval, 0);
            model.high_water = server.stats().high_water;
            model.done = r.is_ok();
        },
        |flash, model| {
            if slot_a(flash) != active_pattern().as_slice() {
                return Err("active slot changed".into());
            }
            let (r, server, dl) = run_download(flash, &img, chunk, interval, model.high_water);
            let done = r.map_err(|c| format!("resumed download failed: {c:?}"))?;
            if slot_b(flash, IMAGE_LEN) != img.as_slice() {
                return Err("slot is not bit-exact".into());
            }
            if done.sha256 != expected_sha || done.size != IMAGE_LEN as u32 {
                return Err("wrong verified image".into());
            }
            let again = server.stats().refetched;
            worst.set(worst.get().max(again));
            if dl.resumed_from() > 0 {
                resumed.set(resumed.get() + 1);
            }
            if again > bound {
                return Err(format!(
                    "fetched {again} bytes again (bound {bound}), resumed from {}",
                    dl.resumed_from()
                ));
            }
            if model.done && server.stats().fetches != 0 {
                return Err("a finished download fetched again".into());
            }
            Ok(())
        },
    );
    println!(
        "{}; worst re-fetch {} bytes (bound {bound} = interval {effective_interval} + chunk {chunk} + {slack}); {} resumed from a checkpoint",
        report.summary(),
        worst.get(),
        resumed.get()
    );
    report.assert_clean();
    assert!(report.ops > 20, "workload too small");
    assert!(resumed.get() > 0, "no scenario resumed");
}

#[test]
fn sweep_write_size_1() {
    sweep::<1>(0xFF, 96, 0, 0);
    sweep::<1>(0x00, 7, 0, 0);
}

#[test]
fn sweep_write_size_4() {
    sweep::<4>(0xFF, 96, 0, 0);
    sweep::<4>(0x00, 37, 0, 0);
}

#[test]
fn sweep_write_size_8() {
    sweep::<8>(0xFF, 96, 0, 0);
    sweep::<8>(0x00, 200, 0, 0);
}

#[test]
fn sweep_write_size_16() {
    sweep::<16>(0xFF, 96, 0, 0);
    sweep::<16>(0x00, 13, 0, 0);
}

#[test]
fn sweep_write_size_32() {
    sweep::<32>(0xFF, 96, 0, 0);
    sweep::<32>(0x00, 96, 0, 0);
}

#[test]
fn sweep_two_sector_interval() {
    sweep::<4>(0xFF, 96, 2 * SECTOR as u32, 0);
    sweep::<8>(0x00, 96, 2 * SECTOR as u32, 0);
}

/// An interval that is not a multiple of the sector: a checkpoint inside a sector whose tail
/// the cut dirtied makes the engine rewind to the sector start, so up to one more sector.
#[test]
fn sweep_interval_inside_sectors() {
    sweep::<4>(0xFF, 96, 384, SECTOR as u64);
    sweep::<1>(0x00, 50, 128, SECTOR as u64);
}

/// A second cut while resuming: the flash is first left by a cut at operation `k` of a
/// download (every third operation, torn), then every operation of the resumed download is
/// swept, and a third run must complete. This covers the rewind to a sector start, which
/// must be journalled before the sector is erased.
fn sweep_second_cut<const W: usize>(erased: u8, chunk: usize, interval: u32) {
    let img = image(IMAGE_LEN, 0xBEEF ^ W as u32);
    let mut first = fresh_flash::<W>(erased);
    let _ = run_download(&mut first, &img, chunk, interval, 0);
    let first_ops = first.op_log().to_vec();
    let mut scenarios = 0;
    let mut failures = Vec::new();
    for (k, &op) in first_ops.iter().enumerate().step_by(3) {
        let fresh = || {
            let mut flash = fresh_flash::<W>(erased).with_seed(k as u64);
            flash.arm(ota_client::mock::PowerCut {
                at_op: k as u64,
                kind: ota_client::mock::CutKind::torn_for(op),
            });
            let _ = run_download(&mut flash, &img, chunk, interval, 0);
            flash.power_cycle();
            flash
        };
        let report = power_sweep(
            &format!("second cut after first cut at op {k}"),
            fresh,
            |flash, _: &mut Model| {
                let _ = run_download(flash, &img, chunk, interval, 0);
            },
            |flash, _| {
                let (r, _, _) = run_download(flash, &img, chunk, interval, 0);
                r.map_err(|c| format!("third run failed: {c:?}"))?;
                if slot_b(flash, IMAGE_LEN) != img.as_slice() {
                    return Err("slot is not bit-exact".into());
                }
                if slot_a(flash) != active_pattern().as_slice() {
                    return Err("active slot changed".into());
                }
                Ok(())
            },
        );
        scenarios += report.scenarios;
        failures.extend(report.failures.iter().map(|f| format!("first cut at op {k}: {f}")));
    }
    println!(
        "second-cut sweep W={W} erased={erased:#04x} chunk={chunk} interval={interval}: {scenarios} scenarios, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.iter().take(10).cloned().collect::<Vec<_>>().join("\n"));
}

#[test]
fn sweep_second_cut_while_resuming() {
    sweep_second_cut::<4>(0xFF, 96, 384);
    sweep_second_cut::<1>(0x00, 50, 0);
    sweep_second_cut::<16>(0xFF, 40, 0);
}
