//! The serial transport: frames over a UART and a device-pull chunk protocol on top.
//!
//! - [`frame`]: COBS framing with a 0x00 delimiter, sequence number and CRC-32C per frame;
//!   the sans-I/O [`FrameDecoder`] resynchronises after garbage and counts what it drops.
//! - [`message`]: the chunk protocol's messages in CBOR (version report, offer, chunk
//!   request and answer, progress and result reports, errors).
//! - [`ChunkClient`]: the device side without I/O, with a window of requests in flight;
//!   [`SerialClient`] runs it over an `embedded-io` port as a
//!   [`ChunkSource`](crate::transport::ChunkSource).
//!
//! The device driven by the Agent over this transport (reports out, offers in, the client
//! as the Agent's chunk source) is a platform driver: [`platform::serial`](crate::platform::serial).
//!
//! The host side (an update server for one or many devices) and a link simulator are in
//! `mock` (feature `mock`).

mod client;
#[cfg(test)]
mod client_tests;
mod cobs;
pub mod frame;
pub mod message;
mod uart;

pub use client::{
    ChunkClient, ClientConfig, ClientStats, DEFAULT_FRAME_LEN, MAX_WINDOW, OfferInfo, Reply,
    SerialConfigError, TX_FRAME_LEN,
};
pub use frame::{DecodeEvent, Frame, FrameDecoder, FrameEncoder, FrameError, FrameStats, max_frame_len};
pub use message::{Message, MessageError};
pub use uart::SerialClient;
