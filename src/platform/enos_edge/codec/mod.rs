//! Pure JSON codec of the EnOS Edge sub-device channel (bytes in, values out, no I/O).
//!
//! Encoding is exact: the field names and order of the seed document, numbers as numbers.
//! Decoding is lenient: unknown fields are ignored, optional fields may be missing, and the
//! integer fields the seed is loose about (`code`, `httpstatus`, `errcode`) are accepted as
//! a number or a string of digits.
//!
//! One JSON layer with the other platforms: bodies are read with the platforms' shared
//! reader (the crate's `platform::json`) and written with their shared `serde-json-core`
//! encoder. Every decoder first checks the body as a whole: it must be one well-formed JSON
//! object ([`CodecError::Malformed`] otherwise) in which no object repeats a key, compared
//! after unescaping ([`CodecError::DuplicateKey`]).
//!
//! The device encodes the checkversion request and the two reports and decodes the Edge's
//! answers; the Edge's side (decoding requests and reports, encoding answers, for the mock
//! Edge) is compiled only with feature `mock`.

#![deny(clippy::arithmetic_side_effects)]

use serde::Serialize;

use crate::FailureCause;
use crate::platform::encode::to_json;
use crate::platform::json::{DecodeError, Object, Value, parse_object};

mod check_version;
mod reports;
mod status;
#[cfg(test)]
mod tests;

pub use check_version::{
    CheckVersion, CheckVersionAnswer, EdgeUpdate, decode_check_version_answer, download_id,
    encode_check_version,
};
pub use reports::{DownloadResult, UpdateFlag, UpdateResult, encode_download_result, encode_update_result};
pub use status::{StatusAnswer, decode_status_answer};

// The Edge's side (request and report decoders, answer encoders), for the mock Edge.
#[cfg(feature = "mock")]
pub use check_version::{CheckVersionAnswerBody, decode_check_version, encode_check_version_answer};
#[cfg(feature = "mock")]
pub use reports::{DownloadResultReport, decode_download_result, decode_update_result};
#[cfg(feature = "mock")]
pub use status::encode_status_answer;

/// Why a message could not be encoded or decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CodecError {
    /// Not JSON, or a field has the wrong type.
    Malformed,
    /// A field the message needs is missing or empty.
    MissingField,
    /// `code` (checkversion) or `flag` (updateresult) has a value the protocol does not define.
    UnknownCode,
    /// `sign` is not a hex digest of the size `signMethod` says.
    BadDigest,
    /// `signMethod` is neither MD5 nor SHA-256.
    UnsupportedSignMethod,
    /// The offered `version` does not parse.
    BadVersion,
    /// `downloadurl` is neither an absolute path nor an `http(s)://` URL, or does not fit.
    BadUrl,
    /// The output buffer is too small.
    BufferTooSmall,
    /// An object in the body names the same member twice (keys compared after unescaping):
    /// the message is ambiguous and refused as a whole.
    DuplicateKey,
}

impl core::fmt::Display for CodecError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Malformed => f.write_str("malformed message"),
            Self::MissingField => f.write_str("missing or empty field"),
            Self::UnknownCode => f.write_str("undefined code or flag"),
            Self::BadDigest => f.write_str("sign is not a digest of the stated method"),
            Self::UnsupportedSignMethod => f.write_str("unsupported sign method"),
            Self::BadVersion => f.write_str("offered version does not parse"),
            Self::BadUrl => f.write_str("invalid download URL"),
            Self::BufferTooSmall => f.write_str("output buffer too small"),
            Self::DuplicateKey => f.write_str("an object repeats a key"),
        }
    }
}

impl core::error::Error for CodecError {}

impl CodecError {
    /// The failure to report when this error ends an update.
    pub const fn cause(self) -> FailureCause {
        match self {
            Self::BadUrl => FailureCause::InvalidUri,
            Self::UnsupportedSignMethod => FailureCause::UnsupportedPackage,
            Self::BufferTooSmall => FailureCause::OutOfMemory,
            Self::Malformed
            | Self::MissingField
            | Self::UnknownCode
            | Self::BadDigest
            | Self::BadVersion
            | Self::DuplicateKey => FailureCause::InvalidOffer,
        }
    }
}

/// Serialises `value` into `out` with the platforms' shared encoder.
fn encode<T: Serialize>(value: &T, out: &mut [u8]) -> Result<usize, CodecError> {
    to_json(value, out).map_err(|_| CodecError::BufferTooSmall)
}

/// Reads `body` as one JSON object with the platforms' shared reader, which checks the whole
/// document (syntax, UTF-8, depth) and refuses an object that repeats a key.
fn parse(body: &[u8]) -> Result<Object<'_>, CodecError> {
    parse_object(body).map_err(|e| match e {
        DecodeError::DuplicateKey => CodecError::DuplicateKey,
        _ => CodecError::Malformed,
    })
}

/// The member `key` as its raw string text (JSON escapes still in); `None` when absent or
/// `null`, [`CodecError::Malformed`] when not a string.
fn raw_text<'a>(obj: &Object<'a>, key: &str) -> Result<Option<&'a str>, CodecError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s)),
        Some(_) => Err(CodecError::Malformed),
    }
}

/// The member `key` as an integer sent as a number or as a string of digits; `None` when
/// absent or `null`, [`CodecError::Malformed`] otherwise.
fn int_field(obj: &Object<'_>, key: &str) -> Result<Option<i64>, CodecError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.int().map(Some).ok_or(CodecError::Malformed),
    }
}
