//! Pure JSON codec of the EnOS Edge sub-device channel (bytes in, values out, no I/O).
//!
//! Encoding is exact: the field names and order of the seed document, numbers as numbers.
//! Decoding is lenient: unknown fields are ignored, optional fields may be missing, and the
//! integer fields the seed is loose about (`code`, `httpstatus`, `errcode`) are accepted as
//! a number or a string of digits.

use serde::{Deserialize, Serialize};

use super::errcode;
use crate::offer::{Digest, Offer};
use crate::{FailureCause, Version};

/// Why a message could not be encoded or decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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
}

impl CodecError {
    /// The failure to report when this error ends an update.
    pub const fn cause(self) -> FailureCause {
        match self {
            Self::BadUrl => FailureCause::InvalidUri,
            Self::UnsupportedSignMethod => FailureCause::UnsupportedPackage,
            Self::BufferTooSmall => FailureCause::OutOfMemory,
            Self::Malformed | Self::MissingField | Self::UnknownCode | Self::BadDigest | Self::BadVersion => {
                FailureCause::InvalidOffer
            }
        }
    }
}

fn encode<T: Serialize>(value: &T, out: &mut [u8]) -> Result<usize, CodecError> {
    serde_json_core::to_slice(value, out).map_err(|_| CodecError::BufferTooSmall)
}

fn decode<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, CodecError> {
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

// ---------------------------------------------------------------------------------------
// checkversion

/// `POST /checkversion` request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckVersion<'a> {
    /// Device ID.
    #[serde(rename = "assetId", borrow)]
    pub asset_id: &'a str,
    /// Version the device runs.
    pub version: &'a str,
    /// Serial number.
    #[serde(rename = "serialNum")]
    pub serial_num: &'a str,
}

/// Encodes the checkversion request: `{"assetId":…,"version":…,"serialNum":…}`.
///
/// ```
/// use ota_client::platform::enos_edge::codec::{encode_check_version, CheckVersion};
/// let mut out = [0u8; 128];
/// let n = encode_check_version(&CheckVersion { asset_id: "dev1", version: "1.0.0", serial_num: "1234-5678-90aa" }, &mut out).unwrap();
/// assert_eq!(&out[..n], br#"{"assetId":"dev1","version":"1.0.0","serialNum":"1234-5678-90aa"}"#);
/// ```
pub fn encode_check_version(request: &CheckVersion<'_>, out: &mut [u8]) -> Result<usize, CodecError> {
    encode(request, out)
}

/// Decodes a checkversion request (the Edge side; the mock server uses it). Missing fields
/// decode as empty.
pub fn decode_check_version(body: &[u8]) -> Result<CheckVersion<'_>, CodecError> {
    #[derive(Deserialize)]
    struct Wire<'a> {
        #[serde(rename = "assetId", borrow)]
        asset_id: Option<&'a str>,
        version: Option<&'a str>,
        #[serde(rename = "serialNum")]
        serial_num: Option<&'a str>,
    }
    let w: Wire<'_> = decode(body)?;
    Ok(CheckVersion {
        asset_id: w.asset_id.unwrap_or(""),
        version: w.version.unwrap_or(""),
        serial_num: w.serial_num.unwrap_or(""),
    })
}

/// An update the Edge offers, borrowed from the answer body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeUpdate<'a> {
    /// `assetId` echoed by the Edge (may be empty).
    pub asset_id: &'a str,
    /// Target version.
    pub version: Version,
    /// Expected digest, from `signMethod` and `sign`.
    pub digest: Digest,
    /// `downloadurl` as sent (JSON escapes still in): usually a path such as
    /// `/version/15912345678`, relative to the Edge base URL.
    pub download_url: &'a str,
}

/// A checkversion answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckVersionAnswer<'a> {
    /// `code` 0: no update.
    NoUpdate,
    /// `code` 1: an update.
    Update(EdgeUpdate<'a>),
}

#[derive(Deserialize)]
struct AnswerWire<'a, N> {
    #[serde(rename = "assetId", borrow)]
    asset_id: Option<&'a str>,
    version: Option<&'a str>,
    code: Option<N>,
    #[serde(rename = "signMethod")]
    sign_method: Option<&'a str>,
    sign: Option<&'a str>,
    downloadurl: Option<&'a str>,
}

/// Decodes a checkversion answer.
///
/// ```
/// use ota_client::platform::enos_edge::codec::{decode_check_version_answer, CheckVersionAnswer};
/// let body = br#"{"assetId":"999999","version":"v2.0.0.1","code":1,"desc":"has update","signMethod":"MD5",
///   "sign":"0123456789abcdef0123456789abcdef","downloadurl":"/version/15912345678"}"#;
/// let CheckVersionAnswer::Update(u) = decode_check_version_answer(body).unwrap() else { panic!() };
/// assert_eq!((u.version.as_str(), u.download_url), ("v2.0.0.1", "/version/15912345678"));
/// assert!(u.digest.md5.is_some());
/// ```
pub fn decode_check_version_answer(body: &[u8]) -> Result<CheckVersionAnswer<'_>, CodecError> {
    decode_int_or_text(body, answer_from_wire::<i64>, answer_from_wire::<&str>)
}

fn answer_from_wire<N: IntField>(w: AnswerWire<'_, N>) -> Result<CheckVersionAnswer<'_>, CodecError> {
    let code = w.code.ok_or(CodecError::MissingField)?.int().ok_or(CodecError::Malformed)?;
    match code {
        0 => return Ok(CheckVersionAnswer::NoUpdate),
        1 => {}
        _ => return Err(CodecError::UnknownCode),
    }
    fn present(s: Option<&str>) -> Result<&str, CodecError> {
        s.map(str::trim).filter(|s| !s.is_empty()).ok_or(CodecError::MissingField)
    }
    let version = Version::parse(present(w.version)?).map_err(|_| CodecError::BadVersion)?;
    let digest = digest(present(w.sign_method)?, present(w.sign)?)?;
    let download_url = present(w.downloadurl)?;
    // Still JSON-escaped here: `\/` is a slash.
    let path = download_url.starts_with('/') || download_url.starts_with("\\/");
    let full = download_url.contains("://") || download_url.contains(":\\/\\/");
    if !(path || full) {
        return Err(CodecError::BadUrl);
    }
    Ok(CheckVersionAnswer::Update(EdgeUpdate {
        asset_id: w.asset_id.unwrap_or(""),
        version,
        digest,
        download_url,
    }))
}

fn digest(method: &str, sign: &str) -> Result<Digest, CodecError> {
    let is = |name: &str| method.eq_ignore_ascii_case(name);
    if is("md5") {
        Digest::md5_hex(sign).map_err(|_| CodecError::BadDigest)
    } else if is("sha256") || is("sha-256") {
        Digest::sha256_hex(sign).map_err(|_| CodecError::BadDigest)
    } else {
        Err(CodecError::UnsupportedSignMethod)
    }
}

impl EdgeUpdate<'_> {
    /// The protocol-neutral offer, with `location` set to `download_url` unescaped. The
    /// checkversion answer carries no size: pass the size learned from the download's
    /// `Content-Length`/`Content-Range`, or 0 while unknown.
    pub fn to_offer<const L: usize>(&self, size: u32) -> Result<Offer<L>, CodecError> {
        let mut offer = Offer::new(self.version.clone(), size, self.digest);
        unescape_into(self.download_url, &mut offer.location)?;
        Ok(offer)
    }
}

/// Copies a JSON string body (between the quotes) into `out`, resolving the escapes.
fn unescape_into<const L: usize>(raw: &str, out: &mut heapless::String<L>) -> Result<(), CodecError> {
    out.clear();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        let c = if c == '\\' {
            match chars.next() {
                Some('/') => '/',
                Some('\\') => '\\',
                Some('"') => '"',
                Some('u') => {
                    let hex: heapless::String<4> = chars.by_ref().take(4).collect();
                    u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32).ok_or(CodecError::BadUrl)?
                }
                _ => return Err(CodecError::BadUrl),
            }
        } else {
            c
        };
        out.push(c).map_err(|_| CodecError::BadUrl)?;
    }
    Ok(())
}

/// The id that names a download in `/downloadresult/{id}`: the last path segment of
/// `downloadurl` (`/version/15912345678` → `15912345678`), query and fragment dropped. The
/// seed shows the same number in both paths and defines no other source for it.
pub fn download_id(download_url: &str) -> &str {
    let path = download_url.split(['?', '#']).next().unwrap_or("");
    path.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

// ---------------------------------------------------------------------------------------
// downloadresult

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

// ---------------------------------------------------------------------------------------
// updateresult

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

// ---------------------------------------------------------------------------------------
// answers to reports

/// The Edge's answer to a report: `{"httpstatus":204|400|404|406|500,"message":…}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusAnswer<'a> {
    /// `httpstatus`, when the body has one.
    pub httpstatus: Option<u16>,
    /// `message` (empty when missing).
    pub message: &'a str,
}

impl StatusAnswer<'_> {
    /// True when the report was taken: `httpstatus` 2xx, or no `httpstatus` and a 2xx HTTP
    /// status.
    pub fn accepted(&self, http_status: u16) -> bool {
        (200..300).contains(&self.httpstatus.unwrap_or(http_status))
    }
}

#[derive(Deserialize)]
struct StatusWire<'a, N> {
    httpstatus: Option<N>,
    #[serde(borrow)]
    message: Option<&'a str>,
}

/// Decodes the answer to a downloadresult or updateresult. An empty body (HTTP 204) is an
/// answer without `httpstatus`.
///
/// ```
/// use ota_client::platform::enos_edge::codec::decode_status_answer;
/// let a = decode_status_answer(br#"{"httpstatus":"404","message":"unsupported url"}"#).unwrap();
/// assert_eq!((a.httpstatus, a.message, a.accepted(200)), (Some(404), "unsupported url", false));
/// assert!(decode_status_answer(b"").unwrap().accepted(204));
/// ```
pub fn decode_status_answer(body: &[u8]) -> Result<StatusAnswer<'_>, CodecError> {
    fn from<N: IntField>(w: StatusWire<'_, N>) -> Result<StatusAnswer<'_>, CodecError> {
        let httpstatus = match w.httpstatus {
            None => None,
            Some(s) => Some(s.int().and_then(|s| u16::try_from(s).ok()).ok_or(CodecError::Malformed)?),
        };
        Ok(StatusAnswer { httpstatus, message: w.message.unwrap_or("") })
    }
    if body.trim_ascii().is_empty() {
        return Ok(StatusAnswer { httpstatus: None, message: "" });
    }
    decode_int_or_text(body, from::<i64>, from::<&str>)
}

// ---------------------------------------------------------------------------------------
// Edge side encoders (the mock server answers with these)

/// A checkversion answer as the Edge sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckVersionAnswerBody<'a> {
    /// Device ID.
    #[serde(rename = "assetId")]
    pub asset_id: &'a str,
    /// Target version (code 1) or the device's version (code 0).
    pub version: &'a str,
    /// 0 no update, 1 update.
    pub code: u8,
    /// `"no update"` / `"has update"`.
    pub desc: &'a str,
    /// `"MD5"` or `""`.
    #[serde(rename = "signMethod")]
    pub sign_method: &'a str,
    /// Hex digest or `""`.
    pub sign: &'a str,
    /// Download path or `""`.
    pub downloadurl: &'a str,
}

/// Encodes a checkversion answer (Edge side).
pub fn encode_check_version_answer(
    body: &CheckVersionAnswerBody<'_>,
    out: &mut [u8],
) -> Result<usize, CodecError> {
    encode(body, out)
}

#[derive(Serialize)]
struct StatusAnswerOut<'a> {
    httpstatus: u16,
    message: &'a str,
}

/// Encodes `{"httpstatus":…,"message":…}` (Edge side).
pub fn encode_status_answer(httpstatus: u16, message: &str, out: &mut [u8]) -> Result<usize, CodecError> {
    encode(&StatusAnswerOut { httpstatus, message }, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD5: &str = "0123456789abcdef0123456789ABCDEF";

    fn enc<F: FnOnce(&mut [u8]) -> Result<usize, CodecError>>(f: F) -> String {
        let mut out = [0u8; 256];
        let n = f(&mut out).unwrap();
        String::from_utf8(out[..n].to_vec()).unwrap()
    }

    #[test]
    fn checkversion_request_exact() {
        let req = CheckVersion { asset_id: "a\"b", version: "1.0.0", serial_num: "1234-5678-90aa" };
        let text = enc(|o| encode_check_version(&req, o));
        assert_eq!(text, r#"{"assetId":"a\"b","version":"1.0.0","serialNum":"1234-5678-90aa"}"#);
        let back = decode_check_version(br#"{"serialNum":"s","assetId":"x","extra":[1,{"y":2}]}"#).unwrap();
        assert_eq!((back.asset_id, back.version, back.serial_num), ("x", "", "s"));
        let mut small = [0u8; 10];
        assert_eq!(encode_check_version(&req, &mut small), Err(CodecError::BufferTooSmall));
    }

    #[test]
    fn answers_from_the_seed() {
        let no = br#"{"assetId":"ZR3c5CfFSO","version":"1.0.0","code":0,"desc":"no update","signMethod":"","sign":"","downloadurl":""}"#;
        assert_eq!(decode_check_version_answer(no), Ok(CheckVersionAnswer::NoUpdate));
        assert_eq!(decode_check_version_answer(br#"{"code":"0"}"#), Ok(CheckVersionAnswer::NoUpdate));
        let yes = format!(
            r#"{{"assetId":"999999","version":"v2.0.0.1","code":1,"desc":"has update","signMethod":"MD5","sign":"{MD5}","downloadurl":"\/version\/15912345678","new":true}}"#
        );
        let CheckVersionAnswer::Update(u) = decode_check_version_answer(yes.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(u.asset_id, "999999");
        assert_eq!(u.version.as_str(), "v2.0.0.1");
        assert_eq!(u.digest.md5, Some(crate::offer::decode_hex(MD5).unwrap()));
        let offer: Offer<64> = u.to_offer(1000).unwrap();
        assert_eq!((offer.location.as_str(), offer.size), ("/version/15912345678", 1000));
        assert_eq!(download_id(&offer.location), "15912345678");
        assert_eq!(download_id("http://h/a/b/77?x=1"), "77");
        let sha = format!(
            r#"{{"code":1,"version":"2","signMethod":"sha256","sign":"{MD5}{MD5}","downloadurl":"http://cdn/x"}}"#
        );
        let CheckVersionAnswer::Update(u) = decode_check_version_answer(sha.as_bytes()).unwrap() else {
            panic!()
        };
        assert!(u.digest.sha256.is_some());
    }

    #[test]
    fn bad_answers() {
        let bad = |s: &str| decode_check_version_answer(s.as_bytes()).unwrap_err();
        let full = |method: &str, sign: &str, url: &str, version: &str| {
            format!(
                r#"{{"code":1,"version":"{version}","signMethod":"{method}","sign":"{sign}","downloadurl":"{url}"}}"#
            )
        };
        assert_eq!(bad("not json"), CodecError::Malformed);
        assert_eq!(bad(""), CodecError::Malformed);
        assert_eq!(bad(r#"{"code":1.5}"#), CodecError::Malformed);
        assert_eq!(bad(r#"{"desc":"no code"}"#), CodecError::MissingField);
        assert_eq!(bad(r#"{"code":7}"#), CodecError::UnknownCode);
        assert_eq!(bad(r#"{"code":"x"}"#), CodecError::Malformed);
        assert_eq!(bad(r#"{"code":1,"version":"2.0"}"#), CodecError::MissingField);
        assert_eq!(bad(&full("MD5", "zxnchksmichasncjdchjcdn", "/v/1", "2.0")), CodecError::BadDigest);
        assert_eq!(bad(&full("CRC32", MD5, "/v/1", "2.0")), CodecError::UnsupportedSignMethod);
        assert_eq!(bad(&full("MD5", MD5, "version/1", "2.0")), CodecError::BadUrl);
        assert_eq!(bad(&full("MD5", MD5, "", "2.0")), CodecError::MissingField);
        assert_eq!(bad(&full("MD5", MD5, "/v/1", "x.y")), CodecError::BadVersion);
        assert_eq!(CodecError::BadUrl.cause(), FailureCause::InvalidUri);
        let body = full("MD5", MD5, "/v/\\q", "2.0");
        let CheckVersionAnswer::Update(u) = decode_check_version_answer(body.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(u.to_offer::<64>(0).unwrap_err(), CodecError::BadUrl);
        let body = full("MD5", MD5, &format!("/{}", "x".repeat(80)), "2.0");
        let CheckVersionAnswer::Update(u) = decode_check_version_answer(body.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(u.to_offer::<64>(0).unwrap_err(), CodecError::BadUrl);
    }

    #[test]
    fn reports_exact() {
        assert_eq!(
            enc(|o| encode_download_result(
                &DownloadResult::failure("ZR3c5CfFSO", FailureCause::IntegrityCheckFailure),
                o
            )),
            r#"{"assetId":"ZR3c5CfFSO","code":0,"message":"integrity check failure"}"#
        );
        assert_eq!(
            enc(|o| encode_update_result(&UpdateResult::in_progress("999999", 60), o)),
            r#"{"assetId":"999999","version":"","desc":"updating","flag":1,"process":60,"errcode":0}"#
        );
        let failed = UpdateResult::failed("999999", "v1.0.0.3", FailureCause::IntegrityCheckFailure);
        let text = enc(|o| encode_update_result(&failed, o));
        assert_eq!(
            text,
            r#"{"assetId":"999999","version":"v1.0.0.3","desc":"integrity check failure","flag":0,"process":0,"errcode":-3}"#
        );
        assert_eq!(decode_update_result(text.as_bytes()), Ok(failed));
        let over = UpdateResult { process: 250, ..UpdateResult::in_progress("a", 0) };
        assert!(enc(|o| encode_update_result(&over, o)).contains(r#""process":100"#));
    }

    #[test]
    fn lenient_report_decoding() {
        let r =
            decode_update_result(br#"{"assetId":"a","flag":0,"process":0,"errcode":"-7","x":1}"#).unwrap();
        assert_eq!((r.flag, r.errcode, r.version), (UpdateFlag::Failed, -7, ""));
        let r = decode_update_result(br#"{"flag":2,"process":100}"#).unwrap();
        assert_eq!((r.flag, r.errcode), (UpdateFlag::Done, 0));
        assert_eq!(decode_update_result(br#"{"flag":9,"process":0}"#), Err(CodecError::UnknownCode));
        assert_eq!(decode_update_result(br#"{"flag":1}"#), Err(CodecError::MissingField));
        assert_eq!(decode_update_result(br#"{"flag":1,"process":300}"#), Err(CodecError::Malformed));
        let d =
            decode_download_result(br#"{"assetId":"a","code":"1","message":"download success"}"#).unwrap();
        assert_eq!((d.code, d.message), (1, "download success"));
    }

    #[test]
    fn status_answers() {
        let a = decode_status_answer(br#"{"httpstatus":204,"message":"ok","extra":"x"}"#).unwrap();
        assert!(a.accepted(200));
        let a = decode_status_answer(br#"{"message":"only"}"#).unwrap();
        assert_eq!(a.httpstatus, None);
        assert!(!a.accepted(500));
        for status in [400, 404, 406, 500] {
            let body = enc(|o| encode_status_answer(status, "unsupported url", o));
            let a = decode_status_answer(body.as_bytes()).unwrap();
            assert_eq!((a.httpstatus, a.accepted(200)), (Some(status), false));
        }
        assert_eq!(decode_status_answer(br#"{"httpstatus":70000}"#), Err(CodecError::Malformed));
        assert_eq!(decode_status_answer(b"<html>"), Err(CodecError::Malformed));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_answers_never_panic(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = decode_check_version_answer(&raw);
            let _ = decode_status_answer(&raw);
            let _ = decode_update_result(&raw);
            let _ = decode_download_result(&raw);
            let _ = decode_check_version(&raw);
        }
    }
}
