//! The cloud side of the Tencent IoT Hub codec: what the platform (or a mock cloud) sends and
//! receives. Compiled only with feature `mock`: a device encodes reports and decodes
//! offers, never the reverse, so a device build carries none of this.

use super::*;
use crate::offer::encode_hex;
use crate::platform::json::string_field;

#[derive(Serialize)]
struct OfferMsg<'a> {
    file_size: u32,
    md5sum: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    url: &'a str,
    version: &'a str,
}

/// Cloud side: encodes an `update_firmware` offer (the offer needs an MD5 digest).
pub fn encode_offer<const L: usize>(offer: &Offer<L>, out: &mut [u8]) -> Result<usize, EncodeError> {
    let mut hex = [0u8; 32];
    let md5sum = encode_hex(&offer.digest.md5.unwrap_or_default(), &mut hex);
    let msg = OfferMsg {
        file_size: offer.size,
        md5sum,
        kind: "update_firmware",
        url: offer.location.as_str(),
        version: offer.version.as_str(),
    };
    to_json(&msg, out)
}

#[derive(Serialize)]
struct VersionRspMsg<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    result_code: i32,
    result_msg: &'a str,
    version: &'a str,
}

/// Cloud side: encodes a `report_version_rsp`.
pub fn encode_version_reply(
    result_code: i32,
    result_msg: &str,
    version: &str,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    to_json(&VersionRspMsg { kind: "report_version_rsp", result_code, result_msg, version }, out)
}

/// The `state` of a progress report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// `downloading`
    Downloading,
    /// `burning`
    Burning,
    /// `done`
    Done,
    /// `fail`
    Fail,
}

/// A message from the device, as the cloud decodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uplink {
    /// `report_version`.
    ReportVersion {
        /// The running version.
        version: Version,
    },
    /// `report_progress`.
    ReportProgress {
        /// The state.
        state: State,
        /// The percentage, present with `downloading`.
        percent: Option<u8>,
        /// `result_code`: 0, or −1..−5 with `fail`.
        result_code: i64,
        /// `result_msg`.
        result_msg: heapless::String<MAX_MESSAGE_LEN>,
        /// The version being installed.
        version: Version,
    },
}

/// Cloud side: decodes a device report and checks it against the documented format:
/// `percent` and `result_code` must be JSON strings, `percent` must be present exactly
/// when downloading and within 0..=100, and `result_code` must be 0 except with `fail`,
/// where it must be −1..−5.
pub fn decode_uplink(payload: &[u8]) -> Result<Uplink, DecodeError> {
    use crate::platform::json::Value;
    let obj = parse_object(payload)?;
    let report = obj.object("report")?;
    match obj.text("type")? {
        "report_version" => Ok(Uplink::ReportVersion { version: version_field(&report, "version")? }),
        "report_progress" => {
            let progress = report.object("progress")?;
            let state = match progress.text("state")? {
                "downloading" => State::Downloading,
                "burning" => State::Burning,
                "done" => State::Done,
                "fail" => State::Fail,
                _ => return Err(DecodeError::InvalidField("state")),
            };
            let percent = match progress.get("percent") {
                None => None,
                Some(v @ Value::Str(_)) => Some(
                    v.int()
                        .and_then(|p| u8::try_from(p).ok())
                        .filter(|p| *p <= 100)
                        .ok_or(DecodeError::InvalidField("percent"))?,
                ),
                Some(_) => return Err(DecodeError::InvalidField("percent")),
            };
            if percent.is_some() != (state == State::Downloading) {
                return Err(DecodeError::InvalidField("percent"));
            }
            let result_code = match progress.get("result_code") {
                Some(v @ Value::Str(_)) => v.int().ok_or(DecodeError::InvalidField("result_code"))?,
                None => return Err(DecodeError::MissingField("result_code")),
                Some(_) => return Err(DecodeError::InvalidField("result_code")),
            };
            let code_ok =
                if state == State::Fail { (-5..=-1).contains(&result_code) } else { result_code == 0 };
            if !code_ok {
                return Err(DecodeError::InvalidField("result_code"));
            }
            let mut result_msg = heapless::String::new();
            if !string_field(&progress, "result_msg", &mut result_msg)? {
                return Err(DecodeError::MissingField("result_msg"));
            }
            Ok(Uplink::ReportProgress {
                state,
                percent,
                result_code,
                result_msg,
                version: version_field(&report, "version")?,
            })
        }
        _ => Err(DecodeError::InvalidField("type")),
    }
}
