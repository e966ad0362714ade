//! checkversion: the device's request and the Edge's two answers.

use serde::Serialize;

use super::{CodecError, encode, int_field, parse, raw_text};
use crate::Version;
use crate::offer::{Digest, Offer};
use crate::platform::json::{Value, unescape_into};

/// `POST /checkversion` request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckVersion<'a> {
    /// Device ID.
    #[serde(rename = "assetId")]
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

/// Decodes a checkversion request (the Edge side, feature `mock`; the mock server uses it).
/// Missing fields decode as empty; texts keep their JSON escapes.
#[cfg(feature = "mock")]
pub fn decode_check_version(body: &[u8]) -> Result<CheckVersion<'_>, CodecError> {
    let obj = parse(body)?;
    Ok(CheckVersion {
        asset_id: raw_text(&obj, "assetId")?.unwrap_or(""),
        version: raw_text(&obj, "version")?.unwrap_or(""),
        serial_num: raw_text(&obj, "serialNum")?.unwrap_or(""),
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
    /// Image size in bytes when the answer carries one (`fileSize`, as a number or a string;
    /// not in the seed, which leaves the size to the download's `Content-Length`).
    pub size: Option<u32>,
}

/// A checkversion answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckVersionAnswer<'a> {
    /// `code` 0: no update.
    NoUpdate,
    /// `code` 1: an update.
    Update(EdgeUpdate<'a>),
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
    let obj = parse(body)?;
    let code = int_field(&obj, "code")?.ok_or(CodecError::MissingField)?;
    match code {
        0 => return Ok(CheckVersionAnswer::NoUpdate),
        1 => {}
        _ => return Err(CodecError::UnknownCode),
    }
    let present = |key: &str| -> Result<&str, CodecError> {
        raw_text(&obj, key)?.map(str::trim).filter(|s| !s.is_empty()).ok_or(CodecError::MissingField)
    };
    let version = Version::parse(present("version")?).map_err(|_| CodecError::BadVersion)?;
    let digest = digest(present("signMethod")?, present("sign")?)?;
    let download_url = present("downloadurl")?;
    // Still JSON-escaped here: `\/` is a slash.
    let path = download_url.starts_with('/') || download_url.starts_with("\\/");
    let full = download_url.contains("://") || download_url.contains(":\\/\\/");
    if !(path || full) {
        return Err(CodecError::BadUrl);
    }
    Ok(CheckVersionAnswer::Update(EdgeUpdate {
        asset_id: raw_text(&obj, "assetId")?.unwrap_or(""),
        version,
        digest,
        download_url,
        // The optional `fileSize`: a number or a string of digits that fits in `u32`; any
        // other value is ignored (the size then comes from the download's answer).
        size: obj
            .get("fileSize")
            .and_then(|v| v.int())
            .and_then(|n| u32::try_from(n).ok())
            .filter(|&n| n > 0),
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
        unescape_into(Value::Str(self.download_url), &mut offer.location, "downloadurl")
            .map_err(|_| CodecError::BadUrl)?;
        Ok(offer)
    }
}

/// The id that names a download in `/downloadresult/{id}`: the last path segment of
/// `downloadurl` (`/version/15912345678` → `15912345678`), query and fragment dropped. The
/// seed shows the same number in both paths and defines no other source for it.
pub fn download_id(download_url: &str) -> &str {
    let path = download_url.split(['?', '#']).next().unwrap_or("");
    path.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

// Edge side encoders (the mock server answers with these; feature `mock`)

/// A checkversion answer as the Edge sends it.
#[cfg(feature = "mock")]
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
#[cfg(feature = "mock")]
pub fn encode_check_version_answer(
    body: &CheckVersionAnswerBody<'_>,
    out: &mut [u8],
) -> Result<usize, CodecError> {
    encode(body, out)
}
