//! Platform dialects: one module per cloud or edge protocol, each a pure codec (no I/O)
//! plus the platform's update flow, and its mapping of [`FailureCause`](crate::FailureCause)
//! to the platform's own codes.
//!
//! # One shape for every driver
//!
//! Every platform driver ([`flow::Flow`] over MQTT, [`enos_edge::EdgeDevice`] over HTTP,
//! [`serial::SerialUpdater`] over a UART, [`huawei_pcp::PcpDevice`] over LwM2M) owns the
//! [`Agent`](crate::agent::Agent) and its transport, and advances with one `poll` that does
//! one piece of work and answers an [`Event`]. The main loop is the same on every platform:
//!
//! ```text
//! loop {
//!     let event = driver.poll(…)?;
//!     if event.is_reboot() { reset(); }      // staged, every report out: install it
//!     if event.is_idle() { sleep_or_wfi(); } // nothing moved: wait for the next tick
//! }
//! ```
//!
//! A platform's own detail (which EnOS Edge call went through, the MQTT session counters)
//! stays on its driver (`stats()`, `last_error()`), so that one event type serves all.
//!
//! Every JSON decoder here (Tencent, Huawei IoTDA, EnOS cloud and EnOS Edge, device and
//! cloud side) refuses a message in which any object repeats a key, compared after
//! unescaping ([`DecodeError::DuplicateKey`], [`enos_edge::CodecError::DuplicateKey`]). The
//! flows still tell the platform about such an offer when they can name it (its `version`,
//! or its request `id` on EnOS cloud; the first one when the name itself is repeated): the
//! Agent never sees it.

#[cfg(any(feature = "tencent", feature = "huawei", feature = "enos", feature = "enos-edge"))]
// Shared by several platforms: with only some of them built, some helpers go unused.
#[cfg_attr(
    not(all(feature = "tencent", feature = "huawei", feature = "enos", feature = "enos-edge")),
    allow(dead_code)
)]
mod encode;
#[cfg(feature = "enos-edge")]
pub mod enos_edge;
#[cfg(feature = "pcp")]
pub mod huawei_pcp;
// (`tencent`, `huawei` and `enos` imply `mqtt`.)
#[cfg(any(feature = "enos-edge", feature = "mqtt"))]
// Shared by several platforms: with only some of them built, some helpers go unused.
#[cfg_attr(
    not(all(feature = "tencent", feature = "huawei", feature = "enos", feature = "enos-edge")),
    allow(dead_code)
)]
mod json;

mod event;

#[cfg(feature = "enos")]
pub mod enos_cloud;
#[cfg(feature = "mqtt")]
pub mod flow;
#[cfg(feature = "huawei")]
pub mod huawei_iotda;
#[cfg(feature = "serial")]
pub mod serial;
#[cfg(feature = "tencent")]
pub mod tencent;

#[cfg(any(feature = "tencent", feature = "huawei", feature = "enos"))]
pub use encode::EncodeError;
pub use event::Event;
// (`tencent`, `huawei` and `enos` imply `mqtt`.)
#[cfg(any(feature = "enos-edge", feature = "mqtt"))]
pub use json::{DecodeError, KEY_WINDOW, MAX_DEPTH};
