//! Signed images: a fixed-size trailer at the end of the image carries a signed
//! **manifest** (the version, the anti-rollback security counter and the product the image is
//! for) and an Ed25519 signature over the manifest and the SHA-256 of everything before the
//! trailer. The download engine checks it while the bytes stream in, and the boot manager
//! again before the first boot.
//!
//! None of the platforms this library speaks has a field for a signature, so the signature
//! travels inside the image: **image = body ‖ trailer**. The offer's size and digests (MD5,
//! SHA-256) cover the whole image, trailer included; the trailer is written to the slot
//! with the rest, after the end of the firmware proper, where it does no harm.
//!
//! # Trailer, format 2, fixed 128 bytes, little-endian
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic, `b"OTAS"` |
//! | 4 | 1 | format version, `2` ([`TRAILER_FORMAT`]) |
//! | 5 | 1 | algorithm, `1` = Ed25519 ([`ALG_ED25519_SHA256`]) |
//! | 6 | 1 | key id: selects one of the device's trusted public keys |
//! | 7 | 1 | length of the version text, 1..=32 |
//! | 8 | 4 | body length (u32): must equal image size − 128 |
//! | 12 | 4 | security counter (u32): the anti-rollback counter of the image |
//! | 16 | 4 | product id (u32): the product (hardware) the image is built for |
//! | 20 | 32 | version text, padded with zero bytes |
//! | 52 | 12 | reserved, zero |
//! | 64 | 64 | Ed25519 signature (R ‖ S) of the 96-byte message `trailer[0..64] ‖ SHA-256(body)` |
//!
//! Decoding is total: any other length, magic, format or algorithm, a version that is not a
//! valid [`Version`] text of the stated length, a non-zero padding or reserved byte is a
//! [`TrailerError`], and with [`SignaturePolicy::Required`] the image is refused.
//!
//! # Why this shape
//! - **At the end, fixed size**: the engine knows where the body stops from the offer's
//!   size alone, before any byte arrives, so it can cut the running hash exactly at the
//!   boundary. A header would shift the firmware off its link address.
//! - **Everything the device acts on is signed**: the version the success report names and
//!   the counter the bootloader raises its minimum to come from the manifest, never from the
//!   offer, so an old signed image offered under a newer label is refused (the versions
//!   disagree), and an offer cannot raise the counter and lock the genuine release out. The
//!   product id keeps an image signed for one product off another that trusts the same key.
//! - **The signed message is the manifest and the 32-byte body digest**, not the body: the
//!   engine already runs SHA-256 over every byte for the boot manager; at the body/trailer
//!   boundary it clones the running state and finalizes the clone
//!   ([`Verifier::sha256_so_far`]), so the body digest costs one extra final block, not a
//!   second pass over the slot. Plain Ed25519 (RFC 8032, not Ed25519ph) over those 96 bytes:
//!   any Ed25519 tool signs it.
//! - **Key id, not the key**: the device holds a small fixed set of public keys
//!   ([`TrustedKey`]); the id picks one, so keys can be rotated by shipping a firmware
//!   that trusts the next key before the old one is retired. An unknown id is refused.
//! - **Body length in the trailer**: binds the trailer to one image size, so a trailer cut
//!   from another image, or an image truncated or padded by a server, is refused even
//!   before the signature is checked.
//! - **Reserved bytes, covered by the signature**: room for later fields in a later format;
//!   format 2 requires them zero.
//! - **Verified once, at the end**, before the image is handed out for staging; a reboot
//!   before staging re-reads the slot (the engine's resume path) and verifies again.

#![deny(clippy::arithmetic_side_effects)]

use crate::Version;
use crate::image::integrity::Verifier;
use crate::version::MAX_VERSION_LEN;

/// The trailer's first four bytes.
pub const TRAILER_MAGIC: [u8; 4] = *b"OTAS";
/// The trailer format this code writes and reads.
pub const TRAILER_FORMAT: u8 = 2;
/// Algorithm id: Ed25519 (RFC 8032) signature of the manifest and the body's SHA-256.
pub const ALG_ED25519_SHA256: u8 = 1;
/// Encoded length of a trailer.
pub const TRAILER_LEN: usize = 128;
/// [`TRAILER_LEN`] as a `u32`, for image offsets.
const TRAILER_LEN_U32: u32 = TRAILER_LEN as u32;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Length of the signed part of the trailer (everything before the signature).
pub const SIGNED_LEN: usize = TRAILER_LEN - SIGNATURE_LEN;
/// Length of the message the signature covers: the signed part of the trailer and the body's
/// SHA-256.
pub const MESSAGE_LEN: usize = SIGNED_LEN + 32;

/// What the signature vouches for, besides the body: the facts the device acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Manifest {
    /// The image's version: the offer must name exactly this text.
    pub version: Version,
    /// The anti-rollback counter: the bootloader refuses images below its minimum and raises
    /// the minimum to this when the image is confirmed.
    pub security_counter: u32,
    /// The product (hardware) the image is for: must equal the device's
    /// ([`SignaturePolicy::Required`]).
    pub product: u32,
}

/// What a verified signature vouches for: the signing key and the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Signed {
    /// The id of the trusted key that signed.
    pub key_id: u8,
    /// The signed facts.
    pub manifest: Manifest,
}

/// A decoded trailer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Trailer {
    /// Algorithm id ([`ALG_ED25519_SHA256`]).
    pub algorithm: u8,
    /// Which trusted key signed the image.
    pub key_id: u8,
    /// Length of the body the signature covers.
    pub body_len: u32,
    /// The signed facts.
    pub manifest: Manifest,
    /// The signature (R ‖ S).
    pub signature: [u8; SIGNATURE_LEN],
}

/// Why a trailer does not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TrailerError {
    /// Not exactly [`TRAILER_LEN`] bytes (the image is shorter than a trailer).
    Length,
    /// The magic is not `b"OTAS"`: most likely an unsigned image.
    Magic,
    /// An unknown format version.
    Format,
    /// An unknown algorithm id.
    Algorithm,
    /// The version text is empty, too long, not UTF-8, not a valid version, or followed by
    /// non-zero padding.
    Version,
    /// A reserved byte is not zero.
    Reserved,
}

impl core::fmt::Display for TrailerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Length => f.write_str("image shorter than a trailer"),
            Self::Magic => f.write_str("no trailer magic (unsigned image?)"),
            Self::Format => f.write_str("unknown trailer format"),
            Self::Algorithm => f.write_str("unknown signature algorithm"),
            Self::Version => f.write_str("invalid trailer version text"),
            Self::Reserved => f.write_str("reserved trailer byte not zero"),
        }
    }
}

impl core::error::Error for TrailerError {}

impl Trailer {
    /// The signed part (bytes 0..64): everything but the signature.
    pub fn signed_part(&self) -> [u8; SIGNED_LEN] {
        let mut out = [0u8; SIGNED_LEN];
        let text = self.manifest.version.as_str().as_bytes();
        let text_len = u8::try_from(text.len()).unwrap_or(0);
        let head = [TRAILER_FORMAT, self.algorithm, self.key_id, text_len];
        let fields = [self.body_len, self.manifest.security_counter, self.manifest.product];
        let mut w = out.iter_mut();
        for b in TRAILER_MAGIC.iter().chain(head.iter()) {
            if let Some(d) = w.next() {
                *d = *b;
            }
        }
        for f in fields {
            for b in f.to_le_bytes() {
                if let Some(d) = w.next() {
                    *d = b;
                }
            }
        }
        for (d, b) in w.zip(text.iter()) {
            *d = *b;
        }
        out
    }

    /// The message the signature covers: [`signed_part`](Self::signed_part) ‖ `body_sha256`.
    pub fn message(&self, body_sha256: &[u8; 32]) -> [u8; MESSAGE_LEN] {
        let mut out = [0u8; MESSAGE_LEN];
        for (d, s) in out.iter_mut().zip(self.signed_part().iter().chain(body_sha256.iter())) {
            *d = *s;
        }
        out
    }

    /// Encodes into the fixed format (format [`TRAILER_FORMAT`], reserved bytes 0).
    pub fn encode(&self) -> [u8; TRAILER_LEN] {
        let mut out = [0u8; TRAILER_LEN];
        for (d, s) in out.iter_mut().zip(self.signed_part().iter().chain(self.signature.iter())) {
            *d = *s;
        }
        out
    }

    /// Decodes a trailer; total on any input.
    pub fn decode(raw: &[u8]) -> Result<Self, TrailerError> {
        let raw: &[u8; TRAILER_LEN] = raw.try_into().map_err(|_| TrailerError::Length)?;
        let (magic, rest) = raw.split_first_chunk::<4>().ok_or(TrailerError::Length)?;
        let (head, rest) = rest.split_first_chunk::<4>().ok_or(TrailerError::Length)?;
        let (len, rest) = rest.split_first_chunk::<4>().ok_or(TrailerError::Length)?;
        let (counter, rest) = rest.split_first_chunk::<4>().ok_or(TrailerError::Length)?;
        let (product, rest) = rest.split_first_chunk::<4>().ok_or(TrailerError::Length)?;
        let (text, rest) = rest.split_first_chunk::<MAX_VERSION_LEN>().ok_or(TrailerError::Length)?;
        let (reserved, rest) = rest.split_first_chunk::<12>().ok_or(TrailerError::Length)?;
        let signature: [u8; SIGNATURE_LEN] = rest.try_into().map_err(|_| TrailerError::Length)?;
        let [format, algorithm, key_id, text_len] = *head;
        if *magic != TRAILER_MAGIC {
            return Err(TrailerError::Magic);
        }
        if format != TRAILER_FORMAT {
            return Err(TrailerError::Format);
        }
        if algorithm != ALG_ED25519_SHA256 {
            return Err(TrailerError::Algorithm);
        }
        let (used, padding) = text.split_at_checked(usize::from(text_len)).ok_or(TrailerError::Version)?;
        if padding.iter().any(|&b| b != 0) {
            return Err(TrailerError::Version);
        }
        let version = core::str::from_utf8(used)
            .ok()
            .and_then(|t| Version::parse(t).ok())
            .ok_or(TrailerError::Version)?;
        if reserved.iter().any(|&b| b != 0) {
            return Err(TrailerError::Reserved);
        }
        Ok(Self {
            algorithm,
            key_id,
            body_len: u32::from_le_bytes(*len),
            manifest: Manifest {
                version,
                security_counter: u32::from_le_bytes(*counter),
                product: u32::from_le_bytes(*product),
            },
            signature,
        })
    }
}

/// One public key the device trusts, with the id images name it by.
///
/// Raw bytes rather than a parsed key, so a firmware can keep its keys in a `static`:
///
/// ```
/// use ota_client::image::TrustedKey;
/// static KEYS: [TrustedKey; 1] = [TrustedKey { id: 1, public_key: [0x3b; 32] }];
/// # let _ = &KEYS;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TrustedKey {
    /// The key id a trailer names.
    pub id: u8,
    /// The Ed25519 public key (compressed Edwards point, 32 bytes).
    pub public_key: [u8; 32],
}

/// Whether downloaded images must carry a valid signed manifest
/// ([`DownloadConfig::new`](crate::download::DownloadConfig::new)).
///
/// There is no default: a device states the policy it runs under. Ship
/// [`Required`](Self::Required); [`Unsigned`](Self::Unsigned) is for development boards and
/// links that are trusted end to end (a factory line, a test bench), never for a product on
/// a network: without a signature, whoever can write the offer's digest and serve the image
/// gets it staged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SignaturePolicy {
    /// No signature check (the only choice without feature `ed25519`): a trailer, if the image
    /// has one, is just more image bytes; the version is the offer's and the security counter
    /// 0 (no anti-rollback without a signature).
    Unsigned,
    /// Every image must end in a valid trailer signed by one of `keys` whose manifest names
    /// `product` (feature `ed25519`). An image without one, a trailer of another body length,
    /// an unknown key id, another product or a bad signature fails the download with
    /// [`FailureCause::IntegrityCheckFailure`](crate::FailureCause::IntegrityCheckFailure):
    /// nothing is staged.
    #[cfg(feature = "ed25519")]
    Required {
        /// The trusted public keys; a trailer's key id selects one.
        keys: &'static [TrustedKey],
        /// This device's product id: the manifest must name exactly this one.
        product: u32,
    },
}

/// Why a signed image is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SignatureError {
    /// No trailer, or one that does not decode.
    Trailer(TrailerError),
    /// The trailer's body length is not image size − [`TRAILER_LEN`].
    BodyLength,
    /// No trusted key has the trailer's key id.
    UnknownKey,
    /// The trusted key's bytes are not a valid Ed25519 public key.
    BadKey,
    /// The signature does not verify.
    BadSignature,
    /// The manifest is for another product.
    Product {
        /// The product the manifest names.
        manifest: u32,
    },
}

impl core::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Trailer(_) => f.write_str("bad signature trailer"),
            Self::BodyLength => f.write_str("trailer body length does not match the image"),
            Self::UnknownKey => f.write_str("no trusted key with the trailer key id"),
            Self::BadKey => f.write_str("trusted key is not a valid Ed25519 key"),
            Self::BadSignature => f.write_str("signature does not verify"),
            Self::Product { manifest } => write!(f, "manifest for another product ({manifest})"),
        }
    }
}

impl core::error::Error for SignatureError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Trailer(e) => Some(e),
            _ => None,
        }
    }
}

/// Collects what the signature check needs while the image streams through a [`Verifier`]:
/// the SHA-256 of the body, taken from the running hash at the body/trailer boundary, and
/// the trailer bytes.
///
/// It knows where it is from the verifier's length, so the engine's resume path (re-hashing
/// the prefix already on flash, trailer bytes included) fills it exactly as a fresh download
/// does.
#[derive(Debug, Clone)]
pub struct TrailerCollector {
    body_len: u32,
    body_sha256: Option<[u8; 32]>,
    trailer: [u8; TRAILER_LEN],
    got: usize,
}

impl TrailerCollector {
    /// A collector for an image of `image_size` bytes; `None` when the image is not longer
    /// than a trailer (no body).
    pub fn new(image_size: u32) -> Option<Self> {
        let body_len = image_size.checked_sub(TRAILER_LEN_U32).filter(|&b| b > 0)?;
        Some(Self { body_len, body_sha256: None, trailer: [0; TRAILER_LEN], got: 0 })
    }

    /// Feeds the next image bytes to `verifier`, splitting them at the body/trailer
    /// boundary to take the body digest there and keep the trailer bytes.
    pub fn feed(&mut self, verifier: &mut Verifier, bytes: &[u8]) {
        let at = verifier.len();
        let body_left = u64::from(self.body_len).saturating_sub(at);
        let split = usize::try_from(body_left).unwrap_or(usize::MAX).min(bytes.len());
        let (body, tail) = bytes.split_at(split);
        if !body.is_empty() {
            verifier.update(body);
        }
        if self.body_sha256.is_none() && verifier.len() == u64::from(self.body_len) {
            self.body_sha256 = Some(verifier.sha256_so_far());
        }
        if tail.is_empty() {
            return;
        }
        // Offset of `tail` inside the trailer.
        let into = verifier.len().saturating_sub(u64::from(self.body_len));
        verifier.update(tail);
        let into = usize::try_from(into).unwrap_or(usize::MAX);
        if let Some(dst) = self.trailer.get_mut(into..) {
            for (d, s) in dst.iter_mut().zip(tail) {
                *d = *s;
            }
            self.got = self.got.max(into.saturating_add(tail.len()).min(TRAILER_LEN));
        }
    }

    /// The SHA-256 of the body, once the stream has passed the boundary.
    pub fn body_sha256(&self) -> Option<[u8; 32]> {
        self.body_sha256
    }

    /// The trailer bytes, once all of them have streamed in.
    pub fn trailer(&self) -> Option<&[u8; TRAILER_LEN]> {
        (self.got == TRAILER_LEN).then_some(&self.trailer)
    }

    /// Checks the collected trailer against `keys` and `product`; returns the verified trailer.
    #[cfg(feature = "ed25519")]
    pub fn verify(&self, keys: &[TrustedKey], product: u32) -> Result<Trailer, SignatureError> {
        let raw = self.trailer().ok_or(SignatureError::Trailer(TrailerError::Length))?;
        let digest = self.body_sha256.ok_or(SignatureError::Trailer(TrailerError::Length))?;
        verify_digest(keys, product, raw, self.body_len, &digest)
    }
}

/// Checks a whole signed image held in memory (a second pass over it, unlike the engine):
/// for host tools, tests, or a bootloader that wants to re-check a slot. Returns the verified
/// trailer.
#[cfg(feature = "ed25519")]
pub fn verify_image(keys: &[TrustedKey], product: u32, image: &[u8]) -> Result<Trailer, SignatureError> {
    use sha2::Digest as _;
    let body_len = image.len().checked_sub(TRAILER_LEN).filter(|&b| b > 0);
    let body_len = body_len.ok_or(SignatureError::Trailer(TrailerError::Length))?;
    let (body, raw) = image.split_at(body_len);
    let body_len = u32::try_from(body_len).map_err(|_| SignatureError::BodyLength)?;
    let digest: [u8; 32] = sha2::Sha256::digest(body).into();
    verify_digest(keys, product, raw, body_len, &digest)
}

/// Checks a trailer (`raw`, the image's last [`TRAILER_LEN`] bytes) against `keys` and
/// `product`, given the body's length and SHA-256: the check the engine and the boot manager
/// share. Returns the verified trailer (its manifest is what the signer vouched for).
#[cfg(feature = "ed25519")]
pub fn verify_digest(
    keys: &[TrustedKey],
    product: u32,
    raw: &[u8],
    body_len: u32,
    digest: &[u8; 32],
) -> Result<Trailer, SignatureError> {
    let trailer = Trailer::decode(raw).map_err(SignatureError::Trailer)?;
    if trailer.body_len != body_len {
        return Err(SignatureError::BodyLength);
    }
    let key = keys.iter().find(|k| k.id == trailer.key_id).ok_or(SignatureError::UnknownKey)?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key.public_key).map_err(|_| SignatureError::BadKey)?;
    let signature = ed25519_dalek::Signature::from_bytes(&trailer.signature);
    // Strict: refuses small-order keys and non-canonical signatures, so one image has
    // exactly one valid signature per key.
    key.verify_strict(&trailer.message(digest), &signature).map_err(|_| SignatureError::BadSignature)?;
    // Checked after the signature, so an unsigned trailer cannot probe the product id.
    if trailer.manifest.product != product {
        return Err(SignatureError::Product { manifest: trailer.manifest.product });
    }
    Ok(trailer)
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, reason = "test code: an overflow is a test failure")]
mod tests {
    use super::*;
    use crate::Digest;

    fn trailer() -> Trailer {
        Trailer {
            algorithm: ALG_ED25519_SHA256,
            key_id: 7,
            body_len: 0x0102_0304,
            manifest: Manifest {
                version: Version::parse("2.1.0").unwrap(),
                security_counter: 0x0A0B_0C0D,
                product: 0x1122_3344,
            },
            signature: [0x5A; 64],
        }
    }

    #[test]
    fn encode_decode_round_trip_and_layout() {
        let raw = trailer().encode();
        assert_eq!(&raw[..4], b"OTAS");
        assert_eq!(raw[4..8], [2, 1, 7, 5]);
        assert_eq!(raw[8..12], [4, 3, 2, 1]);
        assert_eq!(raw[12..16], [0x0D, 0x0C, 0x0B, 0x0A]);
        assert_eq!(raw[16..20], [0x44, 0x33, 0x22, 0x11]);
        assert_eq!(&raw[20..25], b"2.1.0");
        assert_eq!(raw[25..64], [0; 39]);
        assert_eq!(raw[64..], [0x5A; 64]);
        assert_eq!(Trailer::decode(&raw), Ok(trailer()));
        let t = trailer();
        assert_eq!(&t.message(&[9; 32])[..64], &raw[..64]);
        assert_eq!(t.message(&[9; 32])[64..], [9; 32]);
        let longest = Trailer {
            manifest: Manifest { version: Version::parse(&"9".repeat(32)).unwrap(), ..t.manifest.clone() },
            ..t
        };
        assert_eq!(Trailer::decode(&longest.encode()), Ok(longest));
    }

    #[test]
    fn decode_refuses_every_bad_field() {
        let raw = trailer().encode();
        assert_eq!(Trailer::decode(&raw[..127]), Err(TrailerError::Length));
        assert_eq!(Trailer::decode(&[]), Err(TrailerError::Length));
        for (at, flip, err) in [
            (0, 0x40, TrailerError::Magic),
            (4, 0x40, TrailerError::Format),
            (5, 0x40, TrailerError::Algorithm),
            (7, 0x40, TrailerError::Version),
            (7, 0x05, TrailerError::Version),
            (20, 0x80, TrailerError::Version),
            (30, 0x01, TrailerError::Version),
            (52, 0x01, TrailerError::Reserved),
            (63, 0x01, TrailerError::Reserved),
        ] {
            let mut bad = raw;
            bad[at] ^= flip;
            assert_eq!(Trailer::decode(&bad), Err(err), "byte {at}");
        }
    }

    #[test]
    fn collector_takes_the_body_digest_at_the_boundary_for_any_chunking() {
        use sha2::Digest as _;
        let image: Vec<u8> = (0..300u32).map(|i| (i * 13) as u8).collect();
        let body_sha: [u8; 32] = sha2::Sha256::digest(&image[..172]).into();
        let whole_sha: [u8; 32] = sha2::Sha256::digest(&image).into();
        for chunk in [1, 7, 128, 100, 172, 173, 300] {
            let digest = Digest { md5: None, sha256: Some(whole_sha) };
            let mut v = Verifier::new(&digest);
            let mut c = TrailerCollector::new(300).unwrap();
            for piece in image.chunks(chunk) {
                assert!(c.trailer().is_none());
                c.feed(&mut v, piece);
            }
            assert_eq!(c.body_sha256(), Some(body_sha), "chunk {chunk}");
            assert_eq!(&c.trailer().unwrap()[..], &image[172..], "chunk {chunk}");
            assert_eq!(v.finish(300, &digest).unwrap().sha256, whole_sha, "chunk {chunk}");
        }
    }

    proptest::proptest! {
        /// Any image split into any chunks: the collector's body digest and trailer are the
        /// image's, and the verifier saw every byte once.
        #[test]
        fn collector_matches_a_second_pass(
            image in proptest::collection::vec(proptest::num::u8::ANY, 0..400),
            cuts in proptest::collection::vec(1usize..90, 1..40),
        ) {
            use sha2::Digest as _;
            let Some(mut c) = TrailerCollector::new(image.len() as u32) else {
                proptest::prop_assert!(image.len() <= TRAILER_LEN);
                return Ok(());
            };
            let mut v = Verifier::new(&Digest::default());
            let mut rest = &image[..];
            for cut in cuts.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (head, tail) = rest.split_at((*cut).min(rest.len()));
                c.feed(&mut v, head);
                rest = tail;
            }
            let body = &image[..image.len() - TRAILER_LEN];
            let want: [u8; 32] = sha2::Sha256::digest(body).into();
            proptest::prop_assert_eq!(c.body_sha256(), Some(want));
            proptest::prop_assert_eq!(&c.trailer().unwrap()[..], &image[body.len()..]);
            proptest::prop_assert_eq!(v.len(), image.len() as u64);
        }

        /// Decoding is total, and whatever decodes encodes back to the same bytes.
        #[test]
        fn decode_is_total(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..140), magic: bool) {
            let mut raw = raw;
            if magic && raw.len() >= 8 {
                let (id, len) = (raw[6], raw[7] % 33);
                raw[..8].copy_from_slice(&[b'O', b'T', b'A', b'S', 2, 1, id, len]);
            }
            if let Ok(t) = Trailer::decode(&raw) {
                proptest::prop_assert_eq!(&t.encode()[..], &raw[..]);
            }
        }
    }

    #[test]
    fn collector_needs_a_body() {
        assert!(TrailerCollector::new(128).is_none());
        assert!(TrailerCollector::new(0).is_none());
        assert!(TrailerCollector::new(129).is_some());
    }
}
