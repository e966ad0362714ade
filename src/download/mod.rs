//! The resumable download engine: streams an offered image from a
//! [`ChunkSource`](crate::transport::ChunkSource) into the inactive slot, verifying it as
//! it arrives and checkpointing its progress in the [`Journal`](crate::flash::Journal).
//!
//! - [`integrity`]: streaming SHA-256 / MD5 and size check ([`Verifier`]).
//! - [`checkpoint`]: the persisted progress record ([`Checkpoint`]).
//! - [`signature`]: the signed-image trailer and the [`SignaturePolicy`].
//! - [`engine`]: the non-blocking state machine ([`Download`]).

pub mod checkpoint;
pub mod engine;
pub mod integrity;
pub mod signature;

pub use checkpoint::Checkpoint;
pub use engine::{DEFAULT_OVERALL_TIMEOUT_MS, Download, DownloadConfig, Progress, VerifiedImage};
pub use integrity::{Verified, Verifier};
pub use signature::{
    Manifest, SignatureError, SignaturePolicy, Signed, Trailer, TrailerCollector, TrailerError, TrustedKey,
};
#[cfg(feature = "ed25519")]
pub use signature::{verify_digest, verify_image};
