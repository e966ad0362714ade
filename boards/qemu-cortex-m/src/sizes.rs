//! `size_of` of the library's main types on this 32-bit target: the RAM a device pays to
//! hold them (statics or stack), before any buffer the caller sizes.

use core::mem::size_of;
use cortex_m_semihosting::hprintln;
use ota_client::agent::Agent;
use ota_client::boot::{BootControl, BootDecision, BootState, Layout};
use ota_client::download::{Download, DownloadConfig};
use ota_client::flash::{Journal, OneFlash, Partition};
use ota_client::image::{ImageInfo, SlotRegion};
use ota_client::{Offer, Version};

use ota_board_qemu::board::Flash;

fn row(name: &str, bytes: usize) {
    hprintln!("  size_of {:<28} {:>5} B", name, bytes);
}

/// Prints one line per type.
pub fn print() {
    hprintln!("type sizes (thumbv7em, bytes):");
    row("Journal (8 kinds)", size_of::<Journal>());
    row("Journal<4>", size_of::<Journal<4>>());
    row("Partition", size_of::<Partition>());
    row("Layout", size_of::<Layout>());
    row("BootControl", size_of::<BootControl>());
    row("BootState", size_of::<BootState>());
    row("BootDecision", size_of::<BootDecision>());
    row("ImageInfo", size_of::<ImageInfo>());
    row("SlotRegion", size_of::<SlotRegion>());
    row("Version", size_of::<Version>());
    row("Offer", size_of::<Offer>());
    row("Download (engine)", size_of::<Download>());
    row("DownloadConfig", size_of::<DownloadConfig>());
    // The Agent owns its Journal and the flash handle (here a borrow of the driver).
    row(
        "Agent<&mut flash, (), 8, 64> (64-byte locations)",
        size_of::<Agent<&'static mut OneFlash<Flash>, (), 8, 64>>(),
    );
    row("Agent<&mut flash> (512-byte locations)", size_of::<Agent<&'static mut OneFlash<Flash>>>());
    row("OneFlash<RamFlash> (driver)", size_of::<OneFlash<Flash>>());
}
