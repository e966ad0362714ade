//! downloadresult and updateresult: the device's reports.

use serde::{Deserialize, Serialize};

use super::{CodecError, IntField, decode_int_or_text, encode};
use crate::FailureCause;
use crate::platform::enos_edge::errcode;

/// `POST /downloadresult/{id}` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DownloadResult<'a> {
    /// Device ID.
    #[serde(rename = "assetId")]
    pub asset_id: &'a str,
    /// 1: downloaded and digest verified; 0: download or digest check failed.
    pub code: u8,
    /// Free text.
    pub message: &'a str,
}

impl<'a> DownloadResult<'a> {
    /// The seed's success body: code 1, `"download success"`.
    pub const fn success(asset_id: &'a str) -> Self {
        Self { asset_id, code: 1, message: "download success" }
    }

    /// A failure body: code 0 and the cause's description as the message.
    pub const fn failure(asset_id: &'a str, cause: FailureCause) -> Self {
        Self { asset_id, code: 0, message: cause.description() }
    }
}

/// Encodes a downloadresult body: `{"assetId":…,"code":0|1,"message":…}`.
///
/// ```
/// use ota_client::platform::enos_edge::codec::{encode_download_result, DownloadResult};
/// let mut out = [0u8; 96];
/// let n = encode_download_result(&DownloadResult::success("ZR3c5CfFSO"), &mut out).unwrap();
/// assert_eq!(&out[..n], br#"{"assetId":"ZR3c5CfFSO","code":1,"message":"download success"}"#);
/// ```
pub fn encode_download_result(body: &DownloadResult<'_>, out: &mut [u8]) -> Result<usize, CodecError> {
    encode(body, out)
}

/// A downloadresult body as the Edge reads it (the mock server uses this).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadResultReport<'a> {
    /// Device ID.
    pub asset_id: &'a str,
    /// 0 or 1.
    pub code: i64,
    /// Free text (empty when missing).
    pub message: &'a str,
}

#[derive(Deserialize)]
struct DownloadResultWire<'a, N> {
    #[serde(rename = "assetId", borrow)]
    asset_id: Option<&'a str>,
    code: Option<N>,
    message: Option<&'a str>,
}

/// Decodes a downloadresult body; `code` may be a number or a string.
pub fn decode_download_result(body: &[u8]) -> Result<DownloadResultReport<'_>, CodecError> {
    fn from<N: IntField>(w: DownloadResultWire<'_, N>) -> Result<DownloadResultReport<'_>, CodecError> {
        Ok(DownloadResultReport {
            asset_id: w.asset_id.unwrap_or(""),
            code: w.code.ok_or(CodecError::MissingField)?.int().ok_or(CodecError::Malformed)?,
            message: w.message.unwrap_or(""),
        })
    }
    decode_int_or_text(body, from::<i64>, from::<&str>)
}

/// `flag` of an updateresult.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UpdateFlag {
    /// 0: the upgrade failed; `errcode` says why.
    Failed,
    /// 1: in progress; `process` is 0..=100.
    InProgress,
    /// 2: done. The Edge shows success only with process 100 and the target version.
    Done,
}

impl UpdateFlag {
    /// The wire value.
    pub const fn code(self) -> u8 {
        match self {
            Self::Failed => 0,
            Self::InProgress => 1,
            Self::Done => 2,
        }
    }

    /// The flag with wire value `code`.
    pub const fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(Self::Failed),
            1 => Some(Self::InProgress),
            2 => Some(Self::Done),
            _ => None,
        }
    }
}

/// `POST /updateresult` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateResult<'a> {
    /// Device ID.
    pub asset_id: &'a str,
    /// The seed's examples: the target version when failed or done, `""` in progress.
    pub version: &'a str,
    /// Free text.
    pub desc: &'a str,
    /// State.
    pub flag: UpdateFlag,
    /// Progress 0..=100 (clamped when encoded).
    pub process: u8,
    /// Error code, non-zero only with [`UpdateFlag::Failed`]; see
    /// [`errcode`].
    pub errcode: i32,
}

impl<'a> UpdateResult<'a> {
    /// Progress report: flag 1, version `""`, desc `"updating"`.
    pub const fn in_progress(asset_id: &'a str, process: u8) -> Self {
        Self { asset_id, version: "", desc: "updating", flag: UpdateFlag::InProgress, process, errcode: 0 }
    }

    /// Success report: flag 2, process 100, the new version, desc `"update completed"`.
    pub const fn done(asset_id: &'a str, version: &'a str) -> Self {
        Self { asset_id, version, desc: "update completed", flag: UpdateFlag::Done, process: 100, errcode: 0 }
    }

    /// Failure report: flag 0, process 0, the cause's description and errcode.
    pub const fn failed(asset_id: &'a str, version: &'a str, cause: FailureCause) -> Self {
        Self {
            asset_id,
            version,
            desc: cause.description(),
            flag: UpdateFlag::Failed,
            process: 0,
            errcode: errcode::errcode(cause),
        }
    }
}

#[derive(Serialize)]
struct UpdateResultWireOut<'a> {
    #[serde(rename = "assetId")]
    asset_id: &'a str,
    version: &'a str,
    desc: &'a str,
    flag: u8,
    process: u8,
    errcode: i32,
}

/// Encodes an updateresult body: `{"assetId","version","desc","flag","process","errcode"}`,
/// `errcode` as a number as in the seed's examples.
///
/// ```
/// use ota_client::platform::enos_edge::codec::{encode_update_result, UpdateResult};
/// let mut out = [0u8; 128];
/// let n = encode_update_result(&UpdateResult::done("999999", "v2.0.0.1"), &mut out).unwrap();
/// assert_eq!(&out[..n], &br#"{"assetId":"999999","version":"v2.0.0.1","desc":"update completed","flag":2,"process":100,"errcode":0}"#[..]);
/// ```
pub fn encode_update_result(body: &UpdateResult<'_>, out: &mut [u8]) -> Result<usize, CodecError> {
    let wire = UpdateResultWireOut {
        asset_id: body.asset_id,
        version: body.version,
        desc: body.desc,
        flag: body.flag.code(),
        process: body.process.min(100),
        errcode: body.errcode,
    };
    encode(&wire, out)
}

#[derive(Deserialize)]
struct UpdateResultWireIn<'a, N> {
    #[serde(rename = "assetId", borrow)]
    asset_id: Option<&'a str>,
    version: Option<&'a str>,
    desc: Option<&'a str>,
    flag: Option<i64>,
    process: Option<i64>,
    errcode: Option<N>,
}

/// Decodes an updateresult body (the mock server uses this); `errcode` may be a number or
/// a string, and defaults to 0 when missing.
pub fn decode_update_result(body: &[u8]) -> Result<UpdateResult<'_>, CodecError> {
    fn from<N: IntField>(w: UpdateResultWireIn<'_, N>) -> Result<UpdateResult<'_>, CodecError> {
        let flag =
            UpdateFlag::from_code(w.flag.ok_or(CodecError::MissingField)?).ok_or(CodecError::UnknownCode)?;
        let process =
            u8::try_from(w.process.ok_or(CodecError::MissingField)?).map_err(|_| CodecError::Malformed)?;
        let errcode = match w.errcode {
            None => 0,
            Some(e) => e.int().and_then(|e| i32::try_from(e).ok()).ok_or(CodecError::Malformed)?,
        };
        Ok(UpdateResult {
            asset_id: w.asset_id.unwrap_or(""),
            version: w.version.unwrap_or(""),
            desc: w.desc.unwrap_or(""),
            flag,
            process,
            errcode,
        })
    }
    decode_int_or_text(body, from::<i64>, from::<&str>)
}
