//! Images: what the boot layer and the download engine both need, below both of them.
//!
//! - [`slot`]: the two image slots and flash I/O on a slot's region ([`SlotRegion`]), on
//!   whichever device the slot lives.
//! - [`info`]: what the boot state records about an image ([`ImageInfo`]).
//! - [`integrity`]: streaming SHA-256 / MD5 and the size check ([`Verifier`]).
//! - [`signature`]: the signed-image trailer, its manifest and the [`SignaturePolicy`].
//!
//! Layers point down: platform → agent → download / boot → **image** → flash. The download
//! engine writes and verifies an image through this module; the bootloader checks the same
//! trailer before a first boot; neither imports the other.

pub mod info;
pub mod integrity;
pub mod signature;
pub mod slot;

pub use info::ImageInfo;
pub use integrity::{Verified, Verifier};
pub use signature::{
    Manifest, SignatureError, SignaturePolicy, Signed, Trailer, TrailerCollector, TrailerError, TrustedKey,
};
#[cfg(feature = "ed25519")]
pub use signature::{verify_digest, verify_image};
pub use slot::{Slot, SlotError, SlotRegion};
