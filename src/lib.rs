//! # ota-client
//!
//! The device side of firmware over-the-air updates, for `no_std` microcontrollers
//! (Cortex-M class parts, no heap, tens of KiB of RAM). Layers point down:
//! platform → agent → download / boot → image → flash.
//!
//! - [`flash`]: partitions over any [`embedded_storage::nor_flash::NorFlash`], and the
//!   [`Journal`](flash::Journal), the one power-safe place where the library keeps state.
//! - [`image`]: what boot and download share: the slots and slot I/O, the streaming
//!   [`Verifier`](image::Verifier) (MD5/SHA-256), and the signed-image trailer (Ed25519,
//!   feature `ed25519`).
//! - [`boot`]: the A/B lifecycle (Select or Swap with one spare page) in two halves: the
//!   bootloader's [`BootLoader`](boot::BootLoader) (`prepare_boot` at every reset) and the
//!   application's [`BootControl`](boot::BootControl) (stage, confirm, roll back).
//! - [`download`]: the resumable, sans-I/O download engine: checkpoints in the Journal,
//!   the image verified through [`image`] while the bytes stream in.
//! - [`agent`]: the [`Agent`](agent::Agent): offer → decide → download → stage → reboot →
//!   confirm or roll back → report, with reports persisted until delivered.
//! - [`transport`]: how bytes arrive: the [`ChunkSource`](transport::ChunkSource) trait, an
//!   HTTP/1.1 client over `embedded-io`, a serial chunk protocol (COBS, CRC-32C, CBOR), and
//!   the [`MqttClient`](transport::mqtt::MqttClient) trait.
//! - [`platform`]: codecs and device flows of EnOS Edge (HTTP), Tencent IoT Hub, Huawei
//!   IoTDA and EnOS cloud (MQTT, [`platform::flow`]) and Huawei PCP (LwM2M).
//! - [`version`], [`offer`], [`failure`], [`time`]: protocol-neutral types every platform
//!   maps onto.
//! - [`mock`]: host test doubles. Feature `sim`: [`SimFlash`](mock::SimFlash), a simulated
//!   NOR flash with power-loss injection, and fault-injecting transports, with no platform,
//!   MQTT client or crypto. Feature `mock`: those plus the mock platform servers and the
//!   cloud side of the codecs.
//!
//! The library is `#![no_std]`, allocation-free and `#![forbid(unsafe_code)]`; buffers are
//! sized by the caller through const generics or slices, and no input (from flash, a transport
//! or a caller) makes it panic. With feature `defmt` it logs its decisions through `defmt`.
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
pub mod image;
mod log;
pub mod offer;
pub mod platform;
pub mod time;
pub mod transport;
pub mod version;

#[cfg(feature = "sim")]
pub mod mock;

pub use failure::FailureCause;
pub use offer::{Digest, JobId, Offer, UpdateId};
pub use version::Version;

/// The README's quick starts, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
