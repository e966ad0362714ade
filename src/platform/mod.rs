//! Platform dialects: one module per cloud or edge protocol, each a pure codec (no I/O)
//! plus the platform's update flow, and its mapping of [`FailureCause`](crate::FailureCause)
//! to the platform's own codes.
//!
//! Every JSON decoder here (Tencent, Huawei IoTDA, EnOS cloud and EnOS Edge, device and
//! cloud side) refuses a message in which any object repeats a key, compared after
//! unescaping ([`DecodeError::DuplicateKey`], [`enos_edge::CodecError::DuplicateKey`]). The
//! flows still tell the platform about such an offer when they can name it (its `version`,
//! or its request `id` on EnOS cloud; the first one when the name itself is repeated): the
//! Agent never sees it.

mod encode;
pub mod enos_edge;
pub mod huawei_pcp;
mod json;

pub mod enos_cloud;
pub mod flow;
pub mod huawei_iotda;
pub mod serial;
pub mod tencent;

pub use encode::EncodeError;
pub use json::{DecodeError, KEY_WINDOW, MAX_DEPTH};
