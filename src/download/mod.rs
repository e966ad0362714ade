//! The resumable download engine: streams an offered image from a
//! [`ChunkSource`](crate::transport::ChunkSource) into the inactive slot, verifying it as
//! it arrives and checkpointing its progress in the [`Journal`](crate::flash::Journal).
//!
//! - [`checkpoint`]: the persisted progress record ([`Checkpoint`]).
//! - [`engine`]: the non-blocking state machine ([`Download`]).
//!
//! What the engine checks an image with (the streaming [`Verifier`](crate::image::Verifier),
//! the signed-image trailer and the [`SignaturePolicy`](crate::image::SignaturePolicy)) lives
//! in [`image`](crate::image), below this module and the boot layer.

pub mod checkpoint;
pub mod engine;

pub use checkpoint::Checkpoint;
pub use engine::{DEFAULT_OVERALL_TIMEOUT_MS, Download, DownloadConfig, Progress, VerifiedImage};
