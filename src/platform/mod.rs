//! Platform dialects: one module per cloud or edge protocol, each a pure codec (no I/O)
//! plus the platform's update flow, and its mapping of [`FailureCause`](crate::FailureCause)
//! to the platform's own codes.

mod encode;
pub mod enos_edge;
pub mod huawei_pcp;
mod json;

pub mod enos_cloud;
pub mod flow;
pub mod huawei_iotda;
pub mod tencent;

pub use encode::EncodeError;
pub use json::{DecodeError, MAX_DEPTH};
