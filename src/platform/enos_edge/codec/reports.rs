//! downloadresult and updateresult: the device's reports.

use serde::Serialize;

use super::{CodecError, encode};
#[cfg(feature = "mock")]
use super::{int_field, parse, raw_text};
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

/// A downloadresult body as the Edge reads it (the mock server uses this; feature `mock`).
#[cfg(feature = "mock")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadResultReport<'a> {
    /// Device ID.
    pub asset_id: &'a str,
    /// 0 or 1.
    pub code: i64,
    /// Free text (empty when missing).
    pub message: &'a str,
}

/// Decodes a downloadresult body (Edge side, feature `mock`); `code` may be a number or a
/// string.
#[cfg(feature = "mock")]
pub fn decode_download_result(body: &[u8]) -> Result<DownloadResultReport<'_>, CodecError> {
    let obj = parse(body)?;
    Ok(DownloadResultReport {
        asset_id: raw_text(&obj, "assetId")?.unwrap_or(""),
        code: int_field(&obj, "code")?.ok_or(CodecError::MissingField)?,
        message: raw_text(&obj, "message")?.unwrap_or(""),
    })
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

/// Decodes an updateresult body (Edge side, feature `mock`; the mock server uses this):
/// `flag` and `process` are numbers, `errcode` a number or a string and 0 when missing.
#[cfg(feature = "mock")]
pub fn decode_update_result(body: &[u8]) -> Result<UpdateResult<'_>, CodecError> {
    use crate::platform::json::Value;
    let obj = parse(body)?;
    let number = |key: &str| match obj.get(key) {
        None | Some(Value::Null) => Err(CodecError::MissingField),
        Some(v @ Value::Num(_)) => v.int().ok_or(CodecError::Malformed),
        Some(_) => Err(CodecError::Malformed),
    };
    let flag = UpdateFlag::from_code(number("flag")?).ok_or(CodecError::UnknownCode)?;
    let process = u8::try_from(number("process")?).map_err(|_| CodecError::Malformed)?;
    let errcode = match int_field(&obj, "errcode")? {
        None => 0,
        Some(e) => i32::try_from(e).map_err(|_| CodecError::Malformed)?,
    };
    Ok(UpdateResult {
        asset_id: raw_text(&obj, "assetId")?.unwrap_or(""),
        version: raw_text(&obj, "version")?.unwrap_or(""),
        desc: raw_text(&obj, "desc")?.unwrap_or(""),
        flag,
        process,
        errcode,
    })
}
