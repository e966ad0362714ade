//! Size probe: baseline + the Journal (open, write, read, remove), as an application keeps
//! its own records.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use ota_board_qemu::board::{self, Flash, JOURNAL_TEST};
use ota_board_qemu::probe;
use ota_client::flash::Journal;
use panic_semihosting as _;

fn journal(flash: &mut Flash) -> Option<()> {
    let part = probe::part(flash, JOURNAL_TEST)?;
    let mut j: Journal = Journal::open(flash, part).ok()?;
    j.write(flash, 40, b"checkpoint").ok()?;
    let mut buf = [0u8; 32];
    let got = j.read(flash, 40, &mut buf).ok()??;
    (got == b"checkpoint").then_some(())?;
    j.remove(flash, 40).ok()
}

#[entry]
fn main() -> ! {
    probe::start();
    let mut flash = board::flash();
    let ok = probe::driver_smoke(&mut flash) && journal(&mut flash).is_some();
    probe::finish("probe-journal", ok)
}
