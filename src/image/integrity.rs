//! Streaming integrity: SHA-256 (always) and MD5 (when the offer has one), updated as the
//! image bytes arrive, plus the size.
//!
//! The `md5` crate cannot save and restore a hasher's internal state (`sha2` 0.11 can, through
//! `digest`'s `hazmat::SerializableState`, but an MD5 would still need the prefix), so a
//! download that resumes after a reboot re-hashes the prefix it already wrote by reading it
//! back from the slot (see the engine docs for the cost).

use crate::{Digest, FailureCause};
use sha2::Digest as _;

/// Digests of an image whose size and digests matched its offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Verified {
    /// SHA-256 of the image (always computed: the boot manager records it).
    pub sha256: [u8; 32],
    /// MD5 of the image, computed only when the offer carried one.
    pub md5: Option<[u8; 16]>,
}

/// A streaming verifier for one image.
///
/// ```
/// use ota_client::image::Verifier;
/// use ota_client::{Digest, FailureCause};
/// let digest = Digest::md5_hex("900150983cd24fb0d6963f7d28e17f72").unwrap(); // MD5("abc")
/// let mut v = Verifier::new(&digest);
/// v.update(b"ab");
/// v.update(b"c");
/// assert!(v.clone().finish(3, &digest).is_ok());
/// assert_eq!(v.finish(4, &digest), Err(FailureCause::IntegrityCheckFailure));
/// ```
#[derive(Clone)]
pub struct Verifier {
    sha256: sha2::Sha256,
    md5: Option<md5::Md5>,
    len: u64,
}

impl core::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Verifier").field("len", &self.len).field("md5", &self.md5.is_some()).finish()
    }
}

impl Verifier {
    /// A verifier for an image expected to match `digest`: MD5 is computed only when
    /// `digest.md5` is present; SHA-256 always.
    pub fn new(digest: &Digest) -> Self {
        Self {
            sha256: sha2::Sha256::new(),
            md5: digest.md5.map(|_| <md5::Md5 as sha2::Digest>::new()),
            len: 0,
        }
    }

    /// Feeds the next bytes of the image.
    pub fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        if let Some(m) = self.md5.as_mut() {
            sha2::Digest::update(m, bytes);
        }
        self.len = self.len.saturating_add(bytes.len() as u64);
    }

    /// The SHA-256 of the bytes fed so far, without ending the stream: the running state is
    /// cloned and the clone finalized (one or two more blocks of hashing). The signature
    /// check takes the body digest this way at the body/trailer boundary.
    pub fn sha256_so_far(&self) -> [u8; 32] {
        self.sha256.clone().finalize().into()
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when nothing has been fed yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Checks the bytes fed against `size` and `digest`: every digest present must match.
    /// Fails with [`FailureCause::IntegrityCheckFailure`] on any mismatch, and with
    /// [`FailureCause::InvalidOffer`] when `digest` has no digest at all.
    pub fn finish(self, size: u32, digest: &Digest) -> Result<Verified, FailureCause> {
        if !digest.is_present() {
            return Err(FailureCause::InvalidOffer);
        }
        let sha256: [u8; 32] = self.sha256.finalize().into();
        let md5 = self.md5.map(|m| sha2::Digest::finalize(m).into());
        let size_ok = self.len == u64::from(size);
        let sha_ok = digest.sha256.is_none_or(|d| d == sha256);
        let md5_ok = match (digest.md5, md5) {
            (Some(want), Some(got)) => want == got,
            (None, _) => true,
            (Some(_), None) => false,
        };
        if size_ok && sha_ok && md5_ok {
            Ok(Verified { sha256, md5 })
        } else {
            Err(FailureCause::IntegrityCheckFailure)
        }
    }

    /// Checks the size only, for a transport-checked offer
    /// ([`Offer::transport_checked`](crate::Offer::transport_checked): Huawei PCP gives no
    /// image digest, and its per-frame check codes are the only content check). The SHA-256
    /// is still computed, for the boot manager to guard the staged image.
    pub fn finish_size_only(self, size: u32) -> Result<Verified, FailureCause> {
        if self.len != u64::from(size) {
            return Err(FailureCause::IntegrityCheckFailure);
        }
        let sha256: [u8; 32] = self.sha256.finalize().into();
        Ok(Verified { sha256, md5: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(data: &[u8]) -> [u8; 32] {
        sha2::Sha256::digest(data).into()
    }

    #[test]
    fn both_digests_checked() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        let digest = Digest {
            md5: Some(<[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(&data))),
            sha256: Some(sha(&data)),
        };
        let mut v = Verifier::new(&digest);
        for c in data.chunks(333) {
            v.update(c);
        }
        let ok = v.clone().finish(5000, &digest).unwrap();
        assert_eq!(ok.sha256, sha(&data));
        assert_eq!(ok.md5, Some(<[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(&data))));

        let mut bad_md5 = digest;
        bad_md5.md5.as_mut().unwrap()[0] ^= 1;
        assert_eq!(v.clone().finish(5000, &bad_md5), Err(FailureCause::IntegrityCheckFailure));
        let mut bad_sha = digest;
        bad_sha.sha256.as_mut().unwrap()[31] ^= 1;
        assert_eq!(v.clone().finish(5000, &bad_sha), Err(FailureCause::IntegrityCheckFailure));
        assert_eq!(v.clone().finish(4999, &digest), Err(FailureCause::IntegrityCheckFailure));
        assert_eq!(v.finish(5000, &Digest::default()), Err(FailureCause::InvalidOffer));
    }

    #[test]
    fn sha_only_offer_still_yields_sha_and_no_md5() {
        let data = b"firmware";
        let digest = Digest { md5: None, sha256: Some(sha(data)) };
        let mut v = Verifier::new(&digest);
        v.update(data);
        let ok = v.finish(8, &digest).unwrap();
        assert_eq!(ok.md5, None);
        assert_eq!(ok.sha256, sha(data));
    }

    #[test]
    fn size_only_check_for_transport_checked_offers() {
        let mut v = Verifier::new(&Digest::default());
        v.update(b"firmware");
        assert_eq!(v.clone().finish_size_only(9), Err(FailureCause::IntegrityCheckFailure));
        assert_eq!(v.finish_size_only(8).unwrap().sha256, sha(b"firmware"));
    }

    #[test]
    fn md5_only_offer_computes_sha_too() {
        let data = b"firmware";
        let digest =
            Digest { md5: Some(<[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(data))), sha256: None };
        let mut v = Verifier::new(&digest);
        v.update(data);
        let ok = v.finish(8, &digest).unwrap();
        assert_eq!(ok.sha256, sha(data));
    }
}
