//! # ota-client
//!
//! The device side of firmware over-the-air updates, for `no_std` microcontrollers
//! (Cortex-M class parts, no heap, tens of KiB of RAM).
//!
//! - [`flash`]: partitions over any [`embedded_storage::nor_flash::NorFlash`], and the
//!   [`Journal`](flash::Journal), the one power-safe place where the library keeps state.
//! - [`version`], [`offer`], [`failure`]: protocol-neutral types every platform maps onto.
//! - [`mock`] (feature `mock`): [`SimFlash`](mock::SimFlash), a simulated NOR flash with
//!   power-loss injection, and the other host-side test doubles.
//!
//! The library is `#![no_std]`, allocation-free and `#![forbid(unsafe_code)]`; buffers are
//! sized by the caller through const generics or slices, and no input (from flash, a transport
//! or a caller) makes it panic.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]
// Unit tests may unwrap and index: a panic there is a test failure, not a device crash.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

pub mod agent;
pub mod boot;
mod bytes;
pub mod download;
pub mod failure;
pub mod flash;
mod log;
pub mod offer;
pub mod platform;
pub mod time;
pub mod transport;
pub mod version;

#[cfg(feature = "mock")]
pub mod mock;

pub use failure::FailureCause;
pub use offer::{Digest, Offer};
pub use version::Version;
