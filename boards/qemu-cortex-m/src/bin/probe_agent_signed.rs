//! Size probe: `probe-agent` with image signatures required (feature `signed` of this crate,
//! which turns on ota-client's `ed25519`): the image ends in a signed-image trailer, the
//! engine takes the body digest at the boundary and checks the Ed25519 signature before
//! staging. Its flash figure minus probe-agent's is what signatures cost a device. The
//! trailer and public key below were made on the host with a test key (seed 0x42 × 32) over
//! the body this probe generates.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use ota_board_qemu::agent_probe;
use ota_board_qemu::board;
use ota_board_qemu::probe;
use ota_client::agent::AgentConfig;
use ota_client::download::{DownloadConfig, SignaturePolicy, TrustedKey};
use ota_client::flash::OneFlash;
use panic_semihosting as _;

const IMAGE: u32 = 8192;
/// The body: the image less its 76-byte trailer.
const BODY: u32 = IMAGE - 76;

/// The public key of the probe's test signing key (seed 0x42 × 32).
const PUBLIC_KEY: [u8; 32] = [
    0x21, 0x52, 0xf8, 0xd1, 0x9b, 0x79, 0x1d, 0x24, 0x45, 0x32, 0x42, 0xe1, 0x5f, 0x2e, 0xab, 0x6c, 0xb7,
    0xcf, 0xfa, 0x7b, 0x6a, 0x5e, 0xd3, 0x00, 0x97, 0x96, 0x0e, 0x06, 0x98, 0x81, 0xdb, 0x12,
];

/// The trailer of the probe image: key id 1, signature over the SHA-256 of the body.
const TRAILER: [u8; 76] = [
    0x4f, 0x54, 0x41, 0x53, 0x01, 0x01, 0x01, 0x00, 0xb4, 0x1f, 0x00, 0x00, 0x55, 0xf2, 0x33, 0xbd, 0x32,
    0x70, 0xa1, 0x12, 0x16, 0xf7, 0x7d, 0x98, 0x67, 0x2e, 0x89, 0xb2, 0x0b, 0x98, 0xb0, 0x1d, 0xde, 0x97,
    0x9c, 0x4f, 0xd6, 0x9a, 0x92, 0x2d, 0xf2, 0x1a, 0x7c, 0x55, 0x44, 0x39, 0x6a, 0x0b, 0x60, 0x31, 0x9b,
    0x77, 0x4b, 0x58, 0x08, 0x04, 0x95, 0x08, 0xfe, 0xf4, 0xb7, 0x03, 0xed, 0x22, 0x0b, 0x96, 0x89, 0x2c,
    0x57, 0x48, 0x83, 0x4d, 0xc0, 0x4d, 0x6a, 0x03,
];

static KEYS: [TrustedKey; 1] = [TrustedKey { id: 1, public_key: PUBLIC_KEY }];

/// Image byte `i`: the generated body, then the trailer.
fn byte(i: u32) -> u8 {
    match i.checked_sub(BODY) {
        None => (i.wrapping_mul(2_654_435_761) >> 13) as u8,
        Some(k) => TRAILER.get(k as usize).copied().unwrap_or(0),
    }
}

#[entry]
fn main() -> ! {
    probe::start();
    let mut storage = OneFlash(board::flash());
    let download =
        DownloadConfig { signature: SignaturePolicy::Required { keys: &KEYS }, ..DownloadConfig::default() };
    let config = AgentConfig { download, ..AgentConfig::default() };
    let ok = probe::driver_smoke(&mut storage.0)
        && agent_probe::update::<_, IMAGE>(&mut storage, config, byte).is_some();
    probe::finish("probe-agent-signed", ok)
}
