//! Platform dialects: one module per cloud or edge protocol, each a pure codec (no I/O)
//! plus the platform's update flow, and its mapping of [`FailureCause`](crate::FailureCause)
//! to the platform's own codes.

pub mod enos_edge;
pub mod huawei_pcp;
