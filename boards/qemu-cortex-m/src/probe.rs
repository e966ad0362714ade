//! What every size probe does besides its slice of the library: exercise the flash driver
//! (so the driver is in the baseline, not in a slice), build the layout, measure the stack,
//! report, exit.

use cortex_m_semihosting::{debug, hprintln};
use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
use ota_client::boot::{Layout, Strategy};
use ota_client::flash::{OneFlash, Partition};

use crate::board::{Flash, SECTOR, SLOT_A, SLOT_B, STATE};

/// Erases the chip, programs, reads back and erases a sector through the driver.
pub fn driver_smoke(flash: &mut Flash) -> bool {
    flash.erase_all();
    let mut buf = [0u8; 4];
    flash.write(0, &[1, 2, 3, 4]).is_ok()
        && flash.read(0, &mut buf).is_ok()
        && buf == [1, 2, 3, 4]
        && flash.erase(0, SECTOR).is_ok()
}

/// A partition from (first sector, count).
pub fn part(flash: &Flash, (first, count): (u32, u32)) -> Option<Partition> {
    Partition::new(flash, first * SECTOR, count * SECTOR, 0xFF).ok()
}

/// The board's boot layout.
pub fn layout(storage: &OneFlash<Flash>, strategy: Strategy) -> Option<Layout> {
    let f = &storage.0;
    Layout::new::<OneFlash<Flash>>(part(f, STATE)?, part(f, SLOT_A)?, part(f, SLOT_B)?, strategy).ok()
}

/// Call first: paints the stack so that [`finish`] can report the deepest it went.
pub fn start() {
    crate::stack::paint();
}

/// Prints the probe's result and peak stack, and exits QEMU with the matching code.
pub fn finish(name: &str, ok: bool) -> ! {
    hprintln!("{}: peak stack {} B", name, crate::stack::high_water());
    hprintln!("{}: {}", name, if ok { "ok" } else { "FAILED" });
    debug::exit(if ok { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    #[allow(clippy::empty_loop)]
    loop {}
}
