//! Size probe: baseline + the whole application side through the `Agent`: start (confirm or
//! roll back), an offer, a resumable download from a `ChunkSource` verified by SHA-256 and
//! staged, and the report queue. (The platform codec and transport are not included: they
//! depend on which cloud and network the device uses.)
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use ota_board_qemu::agent_probe;
use ota_board_qemu::board;
use ota_board_qemu::probe;
use ota_client::agent::AgentConfig;
use ota_client::flash::OneFlash;
use panic_semihosting as _;

const IMAGE: u32 = 8192;

/// Image byte `i`.
fn byte(i: u32) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

#[entry]
fn main() -> ! {
    probe::start();
    let mut storage = OneFlash(board::flash());
    let ok = probe::driver_smoke(&mut storage.0)
        && agent_probe::update::<_, IMAGE>(
            &mut storage,
            AgentConfig::new(ota_client::image::SignaturePolicy::Unsigned),
            byte,
        )
        .is_some();
    probe::finish("probe-agent", ok)
}
