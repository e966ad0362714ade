//! ota-client on an emulated board: QEMU's `mps2-an386` (Arm MPS2, Cortex-M4 with FPU).
//!
//! Runs the library on the target and reports over semihosting:
//!
//! - the `size_of` of its main types on a 32-bit part;
//! - the Journal: appends that wrap its sector ring, a removal, a "reboot" (every object
//!   dropped and rebuilt from flash), the newest records checked, more appends;
//! - the A/B lifecycle with `BootControl`, under both strategies: a factory image, an update
//!   staged, installed by `prepare_boot` (a page swap under `Swap`), run on trial and
//!   confirmed; a second update rolled back (attempts run out under `Swap`, an explicit
//!   request under `Select`); every slot checked by SHA-256;
//! - the `Agent`: an offer downloaded from an in-memory `ChunkSource` (with `WouldBlock`s and
//!   a dropped connection), cut by a reboot half-way and resumed from its checkpoint, staged,
//!   swapped in, self-tested and confirmed, with the reports it queues; a second update that
//!   fails its self-test and is rolled back;
//! - the stack each scenario needed (high-water mark of a painted stack).
//!
//! The NOR flash is emulated in the board's RAM (`RamFlash`, which keeps NOR's rules): QEMU
//! has no writable flash controller for this board. The run ends with a semihosting exit:
//! QEMU exits 0 when every check passed, 1 otherwise.
//!
//! The size probes in `src/bin/` link one slice of the library each, for
//! `scripts/size-report.sh`.
#![no_std]
#![no_main]

mod agent_check;
mod boot_check;
mod image;
mod journal_check;
mod report;
mod sizes;

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use ota_client::flash::OneFlash;
use panic_semihosting as _;

use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
use ota_board_qemu::{board, stack};
use report::Checker;

/// The flash driver on its own: the baseline every build links.
fn driver_check(flash: &mut board::Flash, c: &mut Checker) {
    hprintln!("driver: RamFlash (4-byte writes, 4 KiB sectors, {} KiB)", board::SIM_FLASH_SIZE / 1024);
    flash.erase_all();
    let mut buf = [0u8; 8];
    c.check(flash.write(0, &[0x12, 0x34, 0x56, 0x78]).is_ok(), "program erased bytes");
    c.check(
        flash.read(0, &mut buf).is_ok() && buf[..4] == [0x12, 0x34, 0x56, 0x78] && buf[4..] == [0xFF; 4],
        "read them back",
    );
    c.check(flash.write(0, &[0xFF, 0xFF, 0xFF, 0xFF]).is_err(), "programming a 0 bit back to 1 is refused");
    c.check(flash.write(2, &[0; 4]).is_err(), "a misaligned write is refused");
    c.check(
        flash.erase(0, board::SECTOR).is_ok() && flash.read(0, &mut buf).is_ok() && buf == [0xFF; 8],
        "erase",
    );
}

/// Runs `scenario` on a freshly painted stack and prints how deep the stack went.
fn measured(name: &str, scenario: impl FnOnce()) {
    stack::paint();
    let base = stack::in_use();
    scenario();
    hprintln!(
        "stack: {} peaked at {} B ({} B below the caller's frame)",
        name,
        stack::high_water(),
        stack::high_water() - base
    );
}

#[entry]
fn main() -> ! {
    hprintln!("ota-board: ota-client on QEMU mps2-an386 (Cortex-M4F)");
    sizes::print();
    let mut c = Checker::new();
    let mut storage = OneFlash(board::flash());
    measured("driver check", || driver_check(&mut storage.0, &mut c));
    measured("Journal", || {
        let _ = journal_check::run(&mut storage.0, &mut c);
    });
    measured("BootControl (Swap)", || {
        let _ = boot_check::run_swap(&mut storage, &mut c);
    });
    measured("BootControl (Select)", || {
        let _ = boot_check::run_select(&mut storage, &mut c);
    });
    measured("Agent", || {
        let _ = agent_check::run(&mut storage, &mut c);
    });
    hprintln!("stack: {} B available for the stack in the 64 KiB RAM", stack::capacity());
    c.finish()
}
