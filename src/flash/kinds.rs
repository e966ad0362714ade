//! Journal record kinds: the library uses `0..=31`; applications may keep their own records
//! in the same journal with kinds `32..=255`.

/// Boot state: active slot, staged image, trial attempts, confirmation, security counter.
pub const BOOT_STATE: u8 = 1;
/// Progress of an interrupted swap.
pub const SWAP_PROGRESS: u8 = 2;
/// Download checkpoint: offer identity, offset, hasher state.
pub const DOWNLOAD_CHECKPOINT: u8 = 3;
/// A report the cloud must receive, kept until acknowledged.
pub const PENDING_REPORT: u8 = 4;
/// The last failed firmware and its back-off (see the Agent's `backoff` module).
pub const OFFER_BACKOFF: u8 = 5;
/// First kind free for applications.
pub const FIRST_APPLICATION_KIND: u8 = 32;
