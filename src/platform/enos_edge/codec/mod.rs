//! Pure JSON codec of the EnOS Edge sub-device channel (bytes in, values out, no I/O).
//!
//! Encoding is exact: the field names and order of the seed document, numbers as numbers.
//! Decoding is lenient: unknown fields are ignored, optional fields may be missing, and the
//! integer fields the seed is loose about (`code`, `httpstatus`, `errcode`) are accepted as
//! a number or a string of digits.
//!
//! Every decoder first checks the body as a whole: it must be one well-formed JSON document
//! ([`CodecError::Malformed`] otherwise) in which no object repeats a key, compared after
//! unescaping ([`CodecError::DuplicateKey`]). `serde-json-core` alone would keep the first of
//! two unknown fields and read `"ver\u0073ion"` as a key other than `version`.

#![deny(clippy::arithmetic_side_effects)]

use serde::{Deserialize, Serialize};

use crate::FailureCause;

mod check_version;
mod reports;
mod status;
#[cfg(test)]
mod tests;

pub use check_version::{
    CheckVersion, CheckVersionAnswer, CheckVersionAnswerBody, EdgeUpdate, decode_check_version,
    decode_check_version_answer, download_id, encode_check_version, encode_check_version_answer,
};
pub use reports::{
    DownloadResult, DownloadResultReport, UpdateFlag, UpdateResult, decode_download_result,
    decode_update_result, encode_download_result, encode_update_result,
};
pub use status::{StatusAnswer, decode_status_answer, encode_status_answer};

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

fn encode<T: Serialize>(value: &T, out: &mut [u8]) -> Result<usize, CodecError> {
    serde_json_core::to_slice(value, out).map_err(|_| CodecError::BufferTooSmall)
}

fn decode<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, CodecError> {
    crate::platform::json::check_document(body).map_err(|e| match e {
        crate::platform::json::DecodeError::DuplicateKey => CodecError::DuplicateKey,
        _ => CodecError::Malformed,
    })?;
    serde_json_core::from_slice(body).map(|(v, _)| v).map_err(|_| CodecError::Malformed)
}

/// An integer sent as a number or as a string of digits.
trait IntField {
    fn int(&self) -> Option<i64>;
}

impl IntField for i64 {
    fn int(&self) -> Option<i64> {
        Some(*self)
    }
}

impl IntField for &str {
    fn int(&self) -> Option<i64> {
        self.trim().parse().ok()
    }
}

/// Decodes `body` as `W<i64>`, and failing that as `W<&str>`: serde-json-core cannot look
/// ahead at a value's type, so the two shapes are tried in turn.
fn decode_int_or_text<'a, A, B, T>(
    body: &'a [u8],
    from_num: impl FnOnce(A) -> Result<T, CodecError>,
    from_text: impl FnOnce(B) -> Result<T, CodecError>,
) -> Result<T, CodecError>
where
    A: Deserialize<'a>,
    B: Deserialize<'a>,
{
    match decode::<A>(body) {
        Ok(a) => from_num(a),
        Err(_) => from_text(decode::<B>(body)?),
    }
}
