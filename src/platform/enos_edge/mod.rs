//! EnOS Edge sub-device OTA channel (seed 000): the device polls the Edge over HTTP.
//!
//! - [`codec`]: the JSON bodies of checkversion, downloadresult, updateresult and the
//!   Edge's `httpstatus` answers, encoded exactly and decoded leniently.
//! - [`endpoints`]: every endpoint's base URL, defaulting to the seed's ports (5055, and
//!   5050 for downloadresult).
//! - [`errcode`]: the `errcode` reported for each [`FailureCause`](crate::FailureCause).
//!
//! - [`device`]: [`EdgeDevice`], the update flow that drives the [`Agent`](crate::agent::Agent)
//!   over an [`HttpTransport`](crate::transport::http::HttpTransport), with its
//!   [`config`] and the mapping of reports onto the Edge's calls ([`report_map`]).

pub mod codec;
pub mod config;
pub mod device;
pub mod endpoints;
pub mod errcode;
mod primed;
pub mod report_map;

pub use codec::{CheckVersionAnswer, CodecError, EdgeUpdate, UpdateFlag, UpdateResult};
pub use config::{EdgeConfig, EdgeConfigError, ID_LEN, UpgradeMode};
pub use device::{EdgeCallKind, EdgeDevice, EdgeError, EdgeStats};
pub use endpoints::{DEFAULT_DOWNLOAD_RESULT_PORT, DEFAULT_PORT, EdgeEndpoints, EndpointError};
