//! The emulated flash part and where the library's partitions live on it.
//!
//! One chip of 4 KiB sectors with 4-byte writes (like many MCU flash parts and SPI NORs),
//! 152 KiB, emulated in the board's PSRAM:
//!
//! | sectors | bytes | what |
//! |---|---|---|
//! | 0..3 | 12 KiB | Journal test partition (3-sector ring) |
//! | 3..5 | 8 KiB | boot state (the library's Journal) |
//! | 5..21 | 64 KiB | slot A (primary, the execution slot) |
//! | 21..38 | 68 KiB | slot B (secondary; one spare page for `Swap`) |

use crate::ram_flash::RamFlash;

/// Write granularity in bytes.
pub const WRITE: usize = 4;
/// Erase sector in bytes.
pub const SECTOR: u32 = 4096;
/// The emulated part.
pub type Flash = RamFlash<WRITE, { SECTOR as usize }>;

/// Sectors of the chip.
pub const SECTORS: u32 = 38;
/// Where the emulated flash lives: the board's PSRAM, outside what memory.x gives the linker.
const SIM_FLASH_BASE: usize = 0x2100_0000;
/// Its size.
pub const SIM_FLASH_SIZE: usize = (SECTORS * SECTOR) as usize;

/// First sector and sector count of each partition.
pub const JOURNAL_TEST: (u32, u32) = (0, 3);
/// Boot state partition.
pub const STATE: (u32, u32) = (3, 2);
/// Slot A.
pub const SLOT_A: (u32, u32) = (5, 16);
/// Slot B (one sector larger than A: the swap's spare page).
pub const SLOT_B: (u32, u32) = (21, 17);

/// The emulated flash chip. Call once.
pub fn flash() -> Flash {
    // SAFETY: QEMU's mps2-an386 maps 16 MiB of PSRAM at 0x2100_0000. memory.x gives the
    // linker neither that region nor anything overlapping it, and main calls this once, so
    // the slice aliases nothing for the rest of the program.
    let mem = unsafe { core::slice::from_raw_parts_mut(SIM_FLASH_BASE as *mut u8, SIM_FLASH_SIZE) };
    Flash::new(mem)
}
