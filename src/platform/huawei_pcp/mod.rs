//! Huawei IoTDA software upgrade over LwM2M: the PCP binary protocol.
//!
//! - [`check_code`]: PCP's own CRC-16 (CCITT table, reflected update step).
//! - [`codec`]: zero-copy frame views and the messages 19..=24 in both directions.
//! - [`flow`]: the device side as a sans-I/O state machine, with resume by block index.
//! - [`stream`]: PCP frames out of a byte stream (PCP over a UART), with resynchronisation.
//! - [`source`]: [`PcpSource`], the flow as a chunk source for the download engine and the
//!   Agent (a transport-checked offer: PCP carries no image digest), and the PCP codes for
//!   the Agent's reports.
//!
//! Transport-agnostic: PCP frames travel whole over whatever channel the device has (an
//! LwM2M/CoAP resource, a serial link); [`flow::PcpFlow::handle`] takes one frame at a time.

pub mod check_code;
pub mod codec;
mod device;
pub mod flow;
pub mod source;
pub mod stream;

#[cfg(test)]
mod flow_tests;

pub use codec::{DeviceMessage, PcpError, PlatformMessage, Task};
pub use device::PcpDevice;
pub use flow::{Event, FlowConfig, PcpFlow, Progress, State};
pub use source::{PcpSource, ReportStart, SourceEvent, SourceStats, download_status, upgrade_result};
pub use stream::PcpStreamDecoder;
