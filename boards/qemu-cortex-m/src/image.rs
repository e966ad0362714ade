//! Test images: deterministic pseudo-random bytes, their SHA-256, and writing them into a
//! slot the way a download does (erase, then program in 1 KiB pieces).

use ota_client::Version;
use ota_client::flash::OneFlash;
use ota_client::image::{ImageInfo, SlotError, SlotRegion};
use sha2::{Digest, Sha256};

use ota_board_qemu::board::{Flash, SECTOR, WRITE};

/// One test image: `size` bytes generated from `seed`.
#[derive(Clone, Copy)]
pub struct TestImage {
    pub seed: u32,
    pub size: u32,
    pub version: &'static str,
    pub security_counter: u32,
}

const PIECE: usize = 1024;

impl TestImage {
    /// Byte `i` of the image (xorshift of seed and index).
    fn byte(&self, i: u32) -> u8 {
        let mut x = self.seed.wrapping_mul(0x9E37_79B9) ^ i.wrapping_mul(0x85EB_CA6B);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        (x >> 11) as u8
    }

    /// Fills `buf` with the image bytes at `offset` (0xFF past the end, the erased value) and
    /// returns how many were image bytes.
    pub fn fill(&self, offset: u32, buf: &mut [u8]) -> usize {
        let mut n = 0;
        for (k, b) in buf.iter_mut().enumerate() {
            let i = offset + k as u32;
            *b = if i < self.size {
                n += 1;
                self.byte(i)
            } else {
                0xFF
            };
        }
        n
    }

    /// The image's SHA-256, computed from the generator (independently of any flash).
    pub fn sha256(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        let mut buf = [0u8; PIECE];
        let mut at = 0;
        while at < self.size {
            let n = self.fill(at, &mut buf);
            h.update(&buf[..n]);
            at += n as u32;
        }
        h.finalize().into()
    }

    /// What the boot state records about it.
    pub fn info(&self) -> ImageInfo {
        ImageInfo {
            size: self.size,
            sha256: self.sha256(),
            version: Version::parse(self.version).unwrap_or_else(|_| panic!("bad test version")),
            security_counter: self.security_counter,
        }
    }

    /// Erases the sectors the image needs in `region` and programs it in 1 KiB pieces (the
    /// last one padded with 0xFF to the write size).
    pub fn write_to(&self, storage: &mut OneFlash<Flash>, region: &SlotRegion) -> Result<(), SlotError> {
        for s in 0..self.size.div_ceil(SECTOR) {
            region.erase_sector(storage, s)?;
        }
        let mut buf = [0u8; PIECE];
        let mut at = 0;
        while at < self.size {
            let n = self.fill(at, &mut buf);
            let padded = n.div_ceil(WRITE) * WRITE;
            region.write(storage, at, &buf[..padded])?;
            at += n as u32;
        }
        Ok(())
    }
}
