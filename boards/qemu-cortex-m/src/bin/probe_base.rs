//! Size probe: the baseline. Runtime, semihosting output and the flash driver; no
//! ota-client code.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use ota_board_qemu::{board, probe};
use panic_semihosting as _;

#[entry]
fn main() -> ! {
    probe::start();
    let mut flash = board::flash();
    let ok = probe::driver_smoke(&mut flash);
    probe::finish("probe-base", ok)
}
