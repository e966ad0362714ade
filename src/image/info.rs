//! [`ImageInfo`]: what the boot state remembers about an image.

use crate::Version;

/// An image as the boot state records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// Size in bytes.
    pub size: u32,
    /// SHA-256 of the image bytes, checked before the first trial boot.
    pub sha256: [u8; 32],
    /// Its version.
    pub version: Version,
    /// Anti-rollback counter: an image below the boot state's minimum is refused.
    pub security_counter: u32,
}
