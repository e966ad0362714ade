//! What a platform offers: a target version, its size, its digests and where to fetch it.

#![deny(clippy::arithmetic_side_effects)]

use crate::{FailureCause, Version};

/// Expected digests of an image. At least one must be present for an offer to be valid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Digest {
    /// MD5 of the whole image (EnOS, Tencent).
    pub md5: Option<[u8; 16]>,
    /// SHA-256 of the whole image (Huawei IoTDA).
    pub sha256: Option<[u8; 32]>,
}

/// Why a hex digest text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HexError {
    /// The text is not exactly twice the digest length.
    WrongLength,
    /// A character is not a hex digit.
    NotHex,
}

impl core::fmt::Display for HexError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::WrongLength => f.write_str("hex digest of the wrong length"),
            Self::NotHex => f.write_str("not a hex digit"),
        }
    }
}

impl core::error::Error for HexError {}

/// Decodes `text` (upper or lower case hex) into exactly `N` bytes.
///
/// ```
/// let d: [u8; 2] = ota_client::offer::decode_hex("a0Ff").unwrap();
/// assert_eq!(d, [0xa0, 0xff]);
/// ```
pub fn decode_hex<const N: usize>(text: &str) -> Result<[u8; N], HexError> {
    let bytes = text.as_bytes();
    if bytes.len() != N.saturating_mul(2) {
        return Err(HexError::WrongLength);
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = hex_val(pair.first().copied())?;
        let lo = hex_val(pair.get(1).copied())?;
        *o = (hi << 4) | lo;
    }
    Ok(out)
}

fn hex_val(c: Option<u8>) -> Result<u8, HexError> {
    c.and_then(|c| char::from(c).to_digit(16)).and_then(|d| u8::try_from(d).ok()).ok_or(HexError::NotHex)
}

/// Writes `bytes` as lower-case hex into `out`, returning the text. `out` must hold
/// `2 * bytes.len()` bytes; otherwise the text is cut short at a whole byte.
pub fn encode_hex<'a>(bytes: &[u8], out: &'a mut [u8]) -> &'a str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut pairs = 0usize;
    for (b, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        if let [hi, lo] = pair {
            *hi = DIGITS.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            *lo = DIGITS.get(usize::from(b & 0xF)).copied().unwrap_or(b'0');
            pairs = pairs.saturating_add(1);
        }
    }
    // `pairs` pairs of `out` were written, so twice that is at most `out.len()`.
    let n = pairs.saturating_mul(2);
    core::str::from_utf8(out.get(..n).unwrap_or(&[])).unwrap_or("")
}

impl Digest {
    /// A digest with only MD5, from 32 hex characters.
    pub fn md5_hex(text: &str) -> Result<Self, HexError> {
        Ok(Self { md5: Some(decode_hex(text)?), sha256: None })
    }

    /// A digest with only SHA-256, from 64 hex characters.
    pub fn sha256_hex(text: &str) -> Result<Self, HexError> {
        Ok(Self { md5: None, sha256: Some(decode_hex(text)?) })
    }

    /// True when at least one digest is present.
    pub fn is_present(&self) -> bool {
        self.md5.is_some() || self.sha256.is_some()
    }
}

/// Longest download location an [`Offer`] holds by default (presigned URLs are long).
pub const DEFAULT_LOCATION_LEN: usize = 512;

/// Longest platform job id an [`Offer`] (and every report about it) keeps: Huawei IoTDA's
/// `task_id` and the EnOS Edge download id are at most this long.
pub const MAX_JOB_LEN: usize = 64;

/// The platform's identifier of one update job (Huawei IoTDA `task_id`, the EnOS Edge
/// download id), empty for a platform that has none (Tencent, EnOS cloud, serial, PCP).
pub type JobId = heapless::String<MAX_JOB_LEN>;

/// Which update a report is about: the target version and the platform's job id (empty when
/// the platform has none). Two reports about the same update carry equal `UpdateId`s, so a
/// late acknowledgement of one update's report can never remove another update's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateId {
    /// The target version.
    pub version: Version,
    /// The platform's job id, empty when none.
    pub job: JobId,
}

#[cfg(feature = "defmt")]
impl defmt::Format for UpdateId {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{} (job {=str})", self.version, self.job.as_str());
    }
}

impl UpdateId {
    /// The update of `offer`.
    pub fn of<const L: usize>(offer: &Offer<L>) -> Self {
        Self { version: offer.version.clone(), job: offer.job.clone() }
    }

    /// True when both name the same update (the same version text and job id).
    pub fn same_as(&self, other: &UpdateId) -> bool {
        self.version.same_text(&other.version) && self.job == other.job
    }
}

/// An update offered by a platform.
///
/// `L` bounds the location and token texts. The identity of the firmware, the thing a
/// download may resume against, is `(version, size, digest)`: a presigned URL may change
/// between two offers of the same firmware.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer<const L: usize = DEFAULT_LOCATION_LEN> {
    /// The version the image carries.
    pub version: Version,
    /// Image size in bytes.
    pub size: u32,
    /// Expected digests.
    pub digest: Digest,
    /// Where to fetch it: a URL, a path relative to a server base, or empty for a
    /// device-pull protocol (serial, PCP) where the transport knows the source.
    pub location: heapless::String<L>,
    /// A bearer token for the download, empty when none is needed.
    pub token: heapless::String<L>,
    /// Only for a protocol that carries no image digest (Huawei PCP): the platform's
    /// identifier of the package (PCP's 16-bit check code). Such an offer has an empty
    /// [`Digest`]: the image is then checked by the transport's per-frame check codes and
    /// its size only, and this identifier (with version and size) decides whether a download
    /// may resume. See [`Offer::transport_checked`].
    pub package_id: Option<u32>,
    /// The platform's id of this update job ([`JobId`]), empty when the platform has none.
    /// Every report about the offer carries it (see [`UpdateId`]). It is not part of the
    /// firmware's identity: the same firmware offered under a new job resumes its download.
    pub job: JobId,
}

impl<const L: usize> Offer<L> {
    /// An offer without location or token.
    pub fn new(version: Version, size: u32, digest: Digest) -> Self {
        Self {
            version,
            size,
            digest,
            location: heapless::String::new(),
            token: heapless::String::new(),
            package_id: None,
            job: JobId::new(),
        }
    }

    /// An offer from a protocol that gives no image digest, only an identifier of the package
    /// (Huawei PCP: the check code of message 20). No digest is made up: the download engine
    /// then checks the size only, and relies on the transport for the bytes (PCP checks every
    /// frame with its CRC-16). The SHA-256 the engine computes while downloading still guards
    /// the staged image until it boots.
    ///
    /// ```
    /// use ota_client::{Offer, Version};
    /// let offer: Offer = Offer::transport_checked(Version::parse("2.0").unwrap(), 1234, 0x1234);
    /// assert!(offer.validate(4096).is_ok());
    /// assert!(!offer.digest.is_present());
    /// ```
    pub fn transport_checked(version: Version, size: u32, package_id: u32) -> Self {
        Self { package_id: Some(package_id), ..Self::new(version, size, Digest::default()) }
    }

    /// Sets the location, failing with [`FailureCause::InvalidUri`] when it does not fit.
    pub fn with_location(mut self, location: &str) -> Result<Self, FailureCause> {
        self.location.clear();
        self.location.push_str(location).map_err(|_| FailureCause::InvalidUri)?;
        Ok(self)
    }

    /// Sets the bearer token, failing with [`FailureCause::OutOfMemory`] when it does not fit.
    pub fn with_token(mut self, token: &str) -> Result<Self, FailureCause> {
        self.token.clear();
        self.token.push_str(token).map_err(|_| FailureCause::OutOfMemory)?;
        Ok(self)
    }

    /// Sets the platform's job id. An id longer than [`MAX_JOB_LEN`] bytes is not kept (the
    /// offer then has none, and its reports name the version only): returns
    /// [`FailureCause::InvalidOffer`] so the caller can decide.
    ///
    /// ```
    /// use ota_client::{Digest, Offer, Version};
    /// let offer: Offer = Offer::new(Version::parse("2.0").unwrap(), 10, Digest::default());
    /// assert_eq!(offer.with_job("task-17").unwrap().job.as_str(), "task-17");
    /// ```
    pub fn with_job(mut self, job: &str) -> Result<Self, FailureCause> {
        self.job.clear();
        self.job.push_str(job).map_err(|_| FailureCause::InvalidOffer)?;
        Ok(self)
    }

    /// Checks the offer against the slot it would be written to.
    ///
    /// ```
    /// use ota_client::{Digest, FailureCause, Offer, Version};
    /// let offer: Offer = Offer::new(Version::parse("1.1").unwrap(), 0, Digest::default());
    /// assert_eq!(offer.validate(4096), Err(FailureCause::InvalidOffer));
    /// ```
    ///
    /// An offer needs either a digest or (transport-checked) a package id, not both.
    pub fn validate(&self, slot_size: u32) -> Result<(), FailureCause> {
        if self.size == 0 || self.digest.is_present() == self.package_id.is_some() {
            return Err(FailureCause::InvalidOffer);
        }
        if self.size > slot_size {
            return Err(FailureCause::NotEnoughStorage);
        }
        Ok(())
    }

    /// True when `other` is the same firmware (version text, size, digest and package id), so
    /// that a download of one may resume as the other.
    pub fn same_firmware<const M: usize>(&self, other: &Offer<M>) -> bool {
        self.version.same_text(&other.version)
            && self.size == other.size
            && self.digest == other.digest
            && self.package_id == other.package_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let d: [u8; 16] = decode_hex("00112233445566778899AABBCCDDEEFF").unwrap();
        let mut buf = [0u8; 32];
        assert_eq!(encode_hex(&d, &mut buf), "00112233445566778899aabbccddeeff");
        assert_eq!(decode_hex::<2>("abc"), Err(HexError::WrongLength));
        assert_eq!(decode_hex::<2>("zzzz"), Err(HexError::NotHex));
    }

    #[test]
    fn validates() {
        let v = Version::parse("1.0").unwrap();
        let ok: Offer =
            Offer::new(v.clone(), 100, Digest::md5_hex("00112233445566778899aabbccddeeff").unwrap());
        assert_eq!(ok.validate(100), Ok(()));
        assert_eq!(ok.validate(99), Err(FailureCause::NotEnoughStorage));
        let no_digest: Offer = Offer::new(v, 100, Digest::default());
        assert_eq!(no_digest.validate(100), Err(FailureCause::InvalidOffer));
        let long = "x".repeat(600);
        assert_eq!(ok.clone().with_location(&long).unwrap_err(), FailureCause::InvalidUri);
        assert!(ok.same_firmware(&ok.clone().with_location("/a").unwrap()));
        let pcp: Offer = Offer::transport_checked(Version::parse("2.0").unwrap(), 100, 0x1234);
        assert_eq!(pcp.validate(100), Ok(()));
        assert!(!pcp.same_firmware(&Offer::<8>::transport_checked(
            Version::parse("2.0").unwrap(),
            100,
            0x1235
        )));
        let both = Offer { package_id: Some(1), ..ok };
        assert_eq!(both.validate(100), Err(FailureCause::InvalidOffer));
    }
}
