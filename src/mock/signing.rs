//! Host-side signing of images for tests and examples: appends the signed-image trailer
//! ([`download::signature`](crate::download::signature)) to a body.

use crate::download::signature::{ALG_ED25519_SHA256, Trailer};
use ed25519_dalek::{Signer as _, SigningKey};
use sha2::Digest as _;

/// The Ed25519 public key of the secret key (seed) `secret`, for a
/// [`TrustedKey`](crate::download::TrustedKey).
pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    SigningKey::from_bytes(secret).verifying_key().to_bytes()
}

/// `body ‖ trailer`: the body signed with the Ed25519 secret key (seed) `secret`, naming
/// key id `key_id`. The signature is over the 32-byte SHA-256 of `body`.
///
/// ```
/// use ota_client::download::{TrustedKey, verify_image};
/// use ota_client::mock::{public_key, sign_image};
/// let secret = [7u8; 32];
/// let image = sign_image(b"firmware", &secret, 3);
/// assert_eq!(image.len(), 8 + 76);
/// let keys = [TrustedKey { id: 3, public_key: public_key(&secret) }];
/// assert_eq!(verify_image(&keys, &image), Ok(3));
/// ```
pub fn sign_image(body: &[u8], secret: &[u8; 32], key_id: u8) -> Vec<u8> {
    let digest: [u8; 32] = sha2::Sha256::digest(body).into();
    let signature = SigningKey::from_bytes(secret).sign(&digest).to_bytes();
    let trailer = Trailer {
        algorithm: ALG_ED25519_SHA256,
        key_id,
        body_len: u32::try_from(body.len()).unwrap_or(u32::MAX),
        signature,
    };
    let mut image = Vec::with_capacity(body.len().saturating_add(trailer.encode().len()));
    image.extend_from_slice(body);
    image.extend_from_slice(&trailer.encode());
    image
}
