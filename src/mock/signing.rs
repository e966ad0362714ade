//! Host-side signing of images for tests and examples: appends the signed-image trailer
//! ([`image::signature`](crate::image::signature)) with its manifest to a body.

use crate::Version;
use crate::image::signature::{ALG_ED25519_SHA256, Manifest, SignaturePolicy, Trailer, TrustedKey};
use ed25519_dalek::{Signer as _, SigningKey};
use sha2::Digest as _;

/// The Ed25519 public key of the secret key (seed) `secret`, for a
/// [`TrustedKey`](crate::image::TrustedKey).
pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    SigningKey::from_bytes(secret).verifying_key().to_bytes()
}

/// The secret key (seed) the demos and examples sign with. It is public, so it proves
/// nothing: a product generates its own key pair and keeps the secret off the device.
pub const DEMO_SECRET: [u8; 32] = *b"ota-client demo key, not secret!";

/// The product id the demos and examples sign for.
pub const DEMO_PRODUCT: u32 = 0xD3_0000;

/// The demo key as the devices of the demos and examples trust it (key id 1).
pub fn demo_keys() -> &'static [TrustedKey] {
    static KEYS: std::sync::OnceLock<[TrustedKey; 1]> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| [TrustedKey { id: 1, public_key: public_key(&DEMO_SECRET) }])
}

/// The signature policy of the demos and examples: [`demo_keys`] for [`DEMO_PRODUCT`].
pub fn demo_policy() -> SignaturePolicy {
    SignaturePolicy::Required { keys: demo_keys(), product: DEMO_PRODUCT }
}

/// `body` signed with the demo key as `version` (security counter 1) for [`DEMO_PRODUCT`].
pub fn demo_sign(body: &[u8], version: &str) -> Vec<u8> {
    sign_image(body, &manifest(version, 1, DEMO_PRODUCT), &DEMO_SECRET, 1)
}

/// A manifest for `version` with `security_counter` and `product`.
///
/// # Panics
/// When `version` is not a valid version text (a test's mistake).
#[allow(clippy::panic, reason = "a test helper: a bad literal is the test's mistake")]
pub fn manifest(version: &str, security_counter: u32, product: u32) -> Manifest {
    let Ok(version) = Version::parse(version) else { panic!("not a version text: {version:?}") };
    Manifest { version, security_counter, product }
}

/// `body ‖ trailer`: the body and `manifest` signed with the Ed25519 secret key (seed)
/// `secret`, naming key id `key_id`.
///
/// ```
/// use ota_client::image::{TrustedKey, verify_image};
/// use ota_client::mock::{manifest, public_key, sign_image};
/// let secret = [7u8; 32];
/// let image = sign_image(b"firmware", &manifest("1.2.0", 4, 0x51), &secret, 3);
/// assert_eq!(image.len(), 8 + 128);
/// let keys = [TrustedKey { id: 3, public_key: public_key(&secret) }];
/// let trailer = verify_image(&keys, 0x51, &image).unwrap();
/// assert_eq!((trailer.key_id, trailer.manifest.security_counter), (3, 4));
/// assert_eq!(trailer.manifest.version.as_str(), "1.2.0");
/// ```
pub fn sign_image(body: &[u8], manifest: &Manifest, secret: &[u8; 32], key_id: u8) -> Vec<u8> {
    let digest: [u8; 32] = sha2::Sha256::digest(body).into();
    let mut trailer = Trailer {
        algorithm: ALG_ED25519_SHA256,
        key_id,
        body_len: u32::try_from(body.len()).unwrap_or(u32::MAX),
        manifest: manifest.clone(),
        signature: [0; 64],
    };
    trailer.signature = SigningKey::from_bytes(secret).sign(&trailer.message(&digest)).to_bytes();
    let mut image = Vec::with_capacity(body.len().saturating_add(trailer.encode().len()));
    image.extend_from_slice(body);
    image.extend_from_slice(&trailer.encode());
    image
}
