//! The download checkpoint: what the Journal keeps (kind
//! [`DOWNLOAD_CHECKPOINT`](crate::flash::kinds::DOWNLOAD_CHECKPOINT)) so that a download
//! resumes after a reboot or a lost link.
//!
//! Encoding, format 1, fixed 92 bytes, little-endian (the Journal adds its own CRC):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | format version, `1` |
//! | 1 | 1 | target slot index (0 = A, 1 = B) |
//! | 2 | 1 | flags: bit 0 MD5 present, bit 1 SHA-256 present, bit 2 package id present (a transport-checked offer: then bits 0 and 1 are clear); other bits 0 |
//! | 3 | 1 | length of the version text (1..=32) |
//! | 4 | 4 | image size |
//! | 8 | 4 | bytes written and verified on flash |
//! | 12 | 16 | MD5 (zeros when absent); with flag bit 2, the package id u32 LE in bytes 12..16 and zeros after |
//! | 28 | 32 | SHA-256 (zeros when absent) |
//! | 60 | 32 | version text, zero padded |
//!
//! Decoding is total: any other length, format, flag, slot, text or `written > size` gives
//! `None`, and the download starts over.

#![deny(clippy::arithmetic_side_effects)]

use crate::flash::{Journal, Storage, kinds};
use crate::image::Slot;
use crate::version::MAX_VERSION_LEN;
use crate::{Digest, Version};

/// Encoded length of a checkpoint.
pub const CHECKPOINT_LEN: usize = 92;
/// The format byte this code writes and reads.
pub const CHECKPOINT_FORMAT: u8 = 1;

const FLAG_MD5: u8 = 1;
const FLAG_SHA256: u8 = 2;
const FLAG_PACKAGE: u8 = 4;

/// A download's progress as persisted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Version text of the offer.
    pub version: Version,
    /// Image size of the offer.
    pub size: u32,
    /// Digests of the offer.
    pub digest: Digest,
    /// The slot the image is written to.
    pub slot: Slot,
    /// Bytes of the image on flash, from offset 0: a multiple of the write size, or `size`.
    pub written: u32,
    /// The package id of a transport-checked offer (no digest; Huawei PCP's check code).
    /// Kept only when `digest` is empty.
    pub package_id: Option<u32>,
}

impl Checkpoint {
    /// Encodes into the fixed format.
    pub fn encode(&self) -> [u8; CHECKPOINT_LEN] {
        let mut out = [0u8; CHECKPOINT_LEN];
        let text = self.version.as_str().as_bytes();
        let package = self.package_id.filter(|_| !self.digest.is_present());
        let mut flags = 0;
        if self.digest.md5.is_some() {
            flags |= FLAG_MD5;
        }
        if self.digest.sha256.is_some() {
            flags |= FLAG_SHA256;
        }
        if package.is_some() {
            flags |= FLAG_PACKAGE;
        }
        let head = [CHECKPOINT_FORMAT, self.slot.index(), flags, text.len().min(MAX_VERSION_LEN) as u8];
        put(&mut out, 0, &head);
        put(&mut out, 4, &self.size.to_le_bytes());
        put(&mut out, 8, &self.written.to_le_bytes());
        put(&mut out, 12, &self.digest.md5.unwrap_or_default());
        if let Some(id) = package {
            put(&mut out, 12, &id.to_le_bytes());
        }
        put(&mut out, 28, &self.digest.sha256.unwrap_or_default());
        put(&mut out, 60, text.get(..MAX_VERSION_LEN).unwrap_or(text));
        out
    }

    /// Decodes a record; `None` for anything this format does not describe exactly.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let b: &[u8; CHECKPOINT_LEN] = bytes.try_into().ok()?;
        let [format, slot, flags, text_len] = *arr::<4>(b, 0)?;
        if format != CHECKPOINT_FORMAT || !matches!(flags, 1..=3 | FLAG_PACKAGE) {
            return None;
        }
        let slot = Slot::from_index(slot)?;
        let size = u32::from_le_bytes(*arr(b, 4)?);
        let written = u32::from_le_bytes(*arr(b, 8)?);
        let mut md5: [u8; 16] = *arr(b, 12)?;
        let package_id = if flags == FLAG_PACKAGE {
            let id = u32::from_le_bytes(*arr(b, 12)?);
            md5 = [0; 16];
            // The rest of the field must be zero.
            if arr::<12>(b, 16)? != &[0; 12] {
                return None;
            }
            Some(id)
        } else {
            None
        };
        let sha256: [u8; 32] = *arr(b, 28)?;
        let text_field: &[u8; MAX_VERSION_LEN] = arr(b, 60)?;
        let (text, pad) = text_field.split_at_checked(usize::from(text_len))?;
        if pad.iter().any(|&x| x != 0)
            || (flags & FLAG_MD5 == 0 && md5 != [0; 16])
            || (flags & FLAG_SHA256 == 0 && sha256 != [0; 32])
            || size == 0
            || written > size
        {
            return None;
        }
        let version = Version::parse(core::str::from_utf8(text).ok()?).ok()?;
        let digest = Digest {
            md5: (flags & FLAG_MD5 != 0).then_some(md5),
            sha256: (flags & FLAG_SHA256 != 0).then_some(sha256),
        };
        Some(Self { version, size, digest, slot, written, package_id })
    }

    /// The download checkpoint the Journal holds, if it holds a valid one (for a platform
    /// flow that must know what a resumed download has, such as
    /// [`PcpSource`](crate::platform::huawei_pcp::PcpSource)).
    pub fn load<S: Storage, const K: usize>(storage: &mut S, journal: &Journal<K>) -> Option<Self> {
        let mut raw = [0u8; CHECKPOINT_LEN];
        match journal.read(storage.primary(), kinds::DOWNLOAD_CHECKPOINT, &mut raw) {
            Ok(Some(bytes)) => Self::decode(bytes),
            _ => None,
        }
    }

    /// True when this checkpoint is for the same firmware (version text, size, digests, and
    /// package id when the offer has no digest) going to the same slot.
    pub fn same_download(
        &self,
        version: &Version,
        size: u32,
        digest: &Digest,
        package_id: Option<u32>,
        slot: Slot,
    ) -> bool {
        let package = package_id.filter(|_| !digest.is_present());
        self.version.same_text(version)
            && self.size == size
            && self.digest == *digest
            && self.package_id == package
            && self.slot == slot
    }
}

fn put(out: &mut [u8], at: usize, src: &[u8]) {
    if let Some(dst) = out.get_mut(at..at.saturating_add(src.len())) {
        dst.copy_from_slice(src);
    }
}

fn arr<const N: usize>(b: &[u8], at: usize) -> Option<&[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            version: Version::parse("v2.0.0.1-rc1").unwrap(),
            size: 123_457,
            digest: Digest { md5: Some([7; 16]), sha256: Some([9; 32]) },
            slot: Slot::B,
            written: 8192,
            package_id: None,
        }
    }

    #[test]
    fn round_trip() {
        let c = sample();
        assert_eq!(Checkpoint::decode(&c.encode()), Some(c.clone()));
        let only_sha = Checkpoint { digest: Digest { md5: None, sha256: Some([1; 32]) }, ..c.clone() };
        assert_eq!(Checkpoint::decode(&only_sha.encode()), Some(only_sha));
        let long =
            Checkpoint { version: Version::parse("1.2.3-abcdefghijklmnopqrstuvwxyz").unwrap(), ..c.clone() };
        assert_eq!(Checkpoint::decode(&long.encode()), Some(long));
        let pcp = Checkpoint { digest: Digest::default(), package_id: Some(0xBEEF), ..c };
        let enc = pcp.encode();
        assert_eq!(enc[2], FLAG_PACKAGE);
        assert_eq!(Checkpoint::decode(&enc), Some(pcp.clone()));
        assert!(pcp.same_download(&pcp.version, pcp.size, &Digest::default(), Some(0xBEEF), Slot::B));
        assert!(!pcp.same_download(&pcp.version, pcp.size, &Digest::default(), Some(0xBEEE), Slot::B));
        assert!(!pcp.same_download(&pcp.version, pcp.size, &Digest::default(), None, Slot::B));
        let mut junk = enc;
        junk[20] = 1;
        assert!(Checkpoint::decode(&junk).is_none(), "package id record with bytes after the id");
    }

    #[test]
    fn refuses_what_it_does_not_describe() {
        let good = sample().encode();
        assert!(Checkpoint::decode(&good[..91]).is_none());
        assert!(Checkpoint::decode(&[]).is_none());
        let mut extra = good.to_vec();
        extra.push(0);
        assert!(Checkpoint::decode(&extra).is_none());
        for (at, value) in
            [(0, 2u8), (1, 2), (2, 4), (2, 0), (3, 0), (3, 33), (60, 0x01), (75, 1), (63, 0xFF)]
        {
            let mut b = good;
            b[at] = value;
            assert!(Checkpoint::decode(&b).is_none(), "byte {at} = {value}");
        }
        let mut over = good;
        over[8..12].copy_from_slice(&200_000u32.to_le_bytes());
        assert!(Checkpoint::decode(&over).is_none(), "written > size");
    }

    #[test]
    fn matches_only_the_same_download() {
        let c = sample();
        let v = c.version.clone();
        assert!(c.same_download(&v, c.size, &c.digest, None, Slot::B));
        assert!(!c.same_download(&v, c.size, &c.digest, None, Slot::A));
        assert!(!c.same_download(&v, c.size + 1, &c.digest, None, Slot::B));
        assert!(!c.same_download(&Version::parse("2.0.0.1-rc1").unwrap(), c.size, &c.digest, None, Slot::B));
        let other = Digest { md5: Some([7; 16]), sha256: None };
        assert!(!c.same_download(&v, c.size, &other, None, Slot::B));
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            if let Some(c) = Checkpoint::decode(&bytes) {
                let enc = c.encode();
                prop_assert_eq!(enc.as_slice(), bytes.as_slice());
            }
        }

        #[test]
        fn mutated_records_never_panic(at in 0usize..CHECKPOINT_LEN, value: u8) {
            let mut b = sample().encode();
            b[at] = value;
            if let Some(c) = Checkpoint::decode(&b) {
                prop_assert_eq!(c.encode(), b);
            }
        }
    }
}
