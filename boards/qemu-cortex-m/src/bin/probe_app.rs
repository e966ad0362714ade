//! Size probe: baseline + what an application links for A/B updates: confirm at start-up,
//! get the update slot, write an image into it, hash it, stage it, read the state back.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use ota_board_qemu::board::{self, Flash};
use ota_board_qemu::probe;
use ota_client::Version;
use ota_client::boot::{BootControl, Phase, Strategy};
use ota_client::flash::{Journal, OneFlash};
use ota_client::image::ImageInfo;
use panic_semihosting as _;

const IMAGE: u32 = 4096;
const PIECE: usize = 256;

fn app(storage: &mut OneFlash<Flash>) -> Option<()> {
    let layout = probe::layout(storage, Strategy::Swap)?;
    let mut journal: Journal = Journal::open(&mut storage.0, layout.state()).ok()?;
    let boot = BootControl::new(layout);
    // Every start: confirm an image on trial once the self-test passed (no-op otherwise).
    boot.confirm(storage, &mut journal).ok()?;
    // An update: the bytes a download would deliver, written piece by piece.
    let region = boot.update_region(storage, &mut journal).ok()?;
    region.erase_sector(storage, 0).ok()?;
    let mut piece = [0u8; PIECE];
    for i in 0..IMAGE / PIECE as u32 {
        piece.fill(i as u8);
        region.write(storage, i * PIECE as u32, &piece).ok()?;
    }
    let sha256 = region.sha256(storage, IMAGE).ok()?;
    let version = Version::parse("2.0.0").ok()?;
    let info = ImageInfo { size: IMAGE, sha256, version, security_counter: 1 };
    boot.stage(storage, &mut journal, info, 2).ok()?;
    let state = boot.state(storage, &journal).ok()?;
    matches!(state.phase, Phase::Staged { .. }).then_some(())
}

#[entry]
fn main() -> ! {
    probe::start();
    let mut storage = OneFlash(board::flash());
    let ok = probe::driver_smoke(&mut storage.0) && app(&mut storage).is_some();
    probe::finish("probe-app", ok)
}
