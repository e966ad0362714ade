//! Shared set-up of the download tests: a flash with a state partition, an "active" slot A
//! full of a pattern, and the target slot B.

use ota_client::download::{Checkpoint, Download, VerifiedImage};
use ota_client::flash::{Journal, Partition, Storage, kinds};
use ota_client::image::{Slot, SlotRegion};
use ota_client::mock::{ManualClock, SimFlash};
use ota_client::time::Clock;
use ota_client::transport::ChunkSource;
use ota_client::{Digest, FailureCause, Offer, Version};
use sha2::Digest as _;

pub const SECTOR: usize = 512;
pub const STATE_LEN: u32 = 2 * SECTOR as u32;
pub const SLOT_LEN: u32 = 8 * SECTOR as u32;
pub const FLASH_LEN: usize = (STATE_LEN + 2 * SLOT_LEN) as usize;
pub const A_AT: u32 = STATE_LEN;
pub const B_AT: u32 = STATE_LEN + SLOT_LEN;

/// A flash with slot A filled with a recognisable pattern (the running firmware).
pub fn fresh_flash<const W: usize>(erased: u8) -> SimFlash<W, SECTOR> {
    let mut flash = SimFlash::<W, SECTOR>::new(FLASH_LEN, erased);
    for (i, b) in flash.contents_mut()[A_AT as usize..B_AT as usize].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31) ^ 0xA5;
    }
    flash
}

pub fn active_pattern() -> Vec<u8> {
    (0..SLOT_LEN as usize).map(|i| (i as u8).wrapping_mul(31) ^ 0xA5).collect()
}

pub fn state_part<const W: usize>(flash: &SimFlash<W, SECTOR>) -> Partition {
    Partition::new(flash, 0, STATE_LEN, flash.erased_value()).unwrap()
}

pub fn target<const W: usize>(flash: &SimFlash<W, SECTOR>) -> SlotRegion {
    SlotRegion { slot: Slot::B, part: Partition::new(flash, B_AT, SLOT_LEN, flash.erased_value()).unwrap() }
}

pub fn image(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_mul(2_654_435_761) ^ seed).rotate_left(7) as u8).collect()
}

pub fn digest_of(image: &[u8], md5: bool, sha256: bool) -> Digest {
    Digest {
        md5: md5.then(|| <[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(image))),
        sha256: sha256.then(|| sha2::Sha256::digest(image).into()),
    }
}

pub fn offer(version: &str, image: &[u8]) -> Offer {
    Offer::new(Version::parse(version).unwrap(), image.len() as u32, digest_of(image, true, true))
}

/// Polls until the download finishes, moving the clock `step_ms` per poll.
pub fn drive<S: Storage, C: ChunkSource, const K: usize>(
    dl: &mut Download,
    storage: &mut S,
    journal: &mut Journal<K>,
    source: &mut C,
    buf: &mut [u8],
    clock: &ManualClock,
    step_ms: u64,
) -> Result<VerifiedImage, FailureCause> {
    for _ in 0..1_000_000 {
        match dl.poll(storage, journal, source, buf, clock.now_ms()) {
            Ok(done) => return Ok(done),
            Err(nb::Error::Other(cause)) => return Err(cause),
            Err(nb::Error::WouldBlock) => clock.advance(step_ms),
        }
    }
    panic!("download did not finish in a million polls");
}

/// The checkpoint the journal holds, if any.
pub fn checkpoint<F: embedded_storage::nor_flash::NorFlash, const K: usize>(
    journal: &Journal<K>,
    flash: &mut F,
) -> Option<Checkpoint> {
    let mut buf = [0u8; 128];
    let raw = journal.read(flash, kinds::DOWNLOAD_CHECKPOINT, &mut buf).expect("journal readable")?;
    Some(Checkpoint::decode(raw).expect("checkpoint decodes"))
}

/// Slot B's first `len` bytes.
pub fn slot_b<const W: usize>(flash: &SimFlash<W, SECTOR>, len: usize) -> &[u8] {
    &flash.contents()[B_AT as usize..B_AT as usize + len]
}

pub fn slot_a<const W: usize>(flash: &SimFlash<W, SECTOR>) -> &[u8] {
    &flash.contents()[A_AT as usize..B_AT as usize]
}
