//! Size probe: baseline + what a bootloader links: open the state Journal, `prepare_boot`
//! with the `Swap` strategy (finish or undo a swap, check a staged image's SHA-256, trial
//! attempts, rollback), then name the slot to jump to.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use ota_board_qemu::board::{self, Flash};
use ota_board_qemu::probe;
use ota_client::boot::{BootLoader, Strategy};
use ota_client::flash::{Journal, OneFlash};
use panic_semihosting as _;

fn bootloader(storage: &mut OneFlash<Flash>) -> Option<()> {
    let layout = probe::layout(storage, Strategy::Swap)?;
    let mut journal: Journal = Journal::open(&mut storage.0, layout.state()).ok()?;
    let decision = BootLoader::new(layout).prepare_boot(storage, &mut journal, &mut |_| {}).ok()?;
    // A real bootloader jumps to the slot's vector table here.
    hprintln!("boot slot {} (trial: {})", decision.slot.index(), decision.trial);
    Some(())
}

#[entry]
fn main() -> ! {
    probe::start();
    let mut storage = OneFlash(board::flash());
    let ok = probe::driver_smoke(&mut storage.0) && bootloader(&mut storage).is_some();
    probe::finish("probe-bootloader", ok)
}
