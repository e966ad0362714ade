//! EnOS Edge sub-device OTA channel (seed 000): the device polls the Edge over HTTP.
//!
//! - [`codec`]: the JSON bodies of checkversion, downloadresult, updateresult and the
//!   Edge's `httpstatus` answers, encoded exactly and decoded leniently.
//! - [`endpoints`]: every endpoint's base URL, defaulting to the seed's ports (5055, and
//!   5050 for downloadresult).
//! - [`errcode`]: the `errcode` reported for each [`FailureCause`](crate::FailureCause).
//!
//! The update flow that drives these over an [`HttpTransport`](crate::transport::http::HttpTransport)
//! comes with the Agent.

pub mod codec;
pub mod endpoints;
pub mod errcode;

pub use codec::{CheckVersionAnswer, CodecError, EdgeUpdate, UpdateFlag, UpdateResult};
pub use endpoints::{DEFAULT_DOWNLOAD_RESULT_PORT, DEFAULT_PORT, EdgeEndpoints, EndpointError};
