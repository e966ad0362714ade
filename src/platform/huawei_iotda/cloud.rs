//! The cloud side of the Huawei IoTDA codec: what the platform (or a mock cloud) sends and
//! receives. Compiled only with feature `mock`: a device encodes reports and decodes
//! offers, never the reverse, so a device build carries none of this.

use super::*;
use crate::offer::encode_hex;

#[derive(Serialize)]
struct QueryParas<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    task_id: Option<&'a str>,
}

/// Cloud side: encodes a `version_query`.
pub fn encode_version_query(
    env: &Envelope<'_>,
    task_id: Option<&str>,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    encode_event(env, "version_query", QueryParas { task_id }, out)
}

#[derive(Serialize)]
struct UpgradeParas<'a> {
    version: &'a str,
    url: &'a str,
    file_size: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<i64>,
    sign: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    task_id: Option<&'a str>,
}

/// Cloud side: encodes an upgrade command (`firmware_upgrade`, `software_upgrade` or the
/// `_v2` forms when `upgrade.presigned`). The offer needs a SHA-256 digest.
pub fn encode_upgrade<const L: usize>(
    env: &Envelope<'_>,
    upgrade: &Upgrade<L>,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    let sha = upgrade.offer.digest.sha256.ok_or(EncodeError::InvalidValue)?;
    let mut hex = [0u8; 64];
    let sign = encode_hex(&sha, &mut hex);
    let event_type = match (upgrade.package, upgrade.presigned) {
        (Package::Firmware, false) => "firmware_upgrade",
        (Package::Software, false) => "software_upgrade",
        (Package::Firmware, true) => "firmware_upgrade_v2",
        (Package::Software, true) => "software_upgrade_v2",
    };
    let paras = UpgradeParas {
        version: upgrade.offer.version.as_str(),
        url: upgrade.offer.location.as_str(),
        file_size: upgrade.offer.size,
        access_token: if upgrade.presigned { None } else { Some(upgrade.offer.token.as_str()) },
        expires: upgrade.expires,
        sign,
        task_id: if upgrade.offer.job.is_empty() { None } else { Some(upgrade.offer.job.as_str()) },
    };
    encode_event(env, event_type, paras, out)
}

/// A device report, as the cloud decodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// `version_report`.
    Version {
        /// `sw_version`, when sent.
        sw_version: Option<Version>,
        /// `fw_version`, when sent.
        fw_version: Option<Version>,
    },
    /// `upgrade_progress_report`.
    Progress {
        /// `result_code`.
        result_code: u8,
        /// `progress`, when sent.
        progress: Option<u8>,
        /// `version`, when sent.
        version: Option<Version>,
        /// `description`, empty when absent.
        description: heapless::String<MAX_ID_LEN>,
    },
}

impl Report {
    /// True when this report is what the platform counts as a completed upgrade to
    /// `target`: result 0, progress 100 and `version` exactly the target's text.
    pub fn is_success_for(&self, target: &Version) -> bool {
        matches!(self, Report::Progress { result_code: RESULT_SUCCESS, progress: Some(100), version: Some(v), .. }
            if v.same_text(target))
    }
}

/// A decoded uplink message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uplink {
    /// `object_device_id`, empty when absent.
    pub object_device_id: heapless::String<MAX_ID_LEN>,
    /// The report.
    pub report: Report,
}

fn opt_version(p: &Object<'_>, key: &'static str) -> Result<Option<Version>, DecodeError> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => version_field(p, key).map(Some),
    }
}

/// Cloud side: decodes a device report and checks it against the documented format:
/// a `$ota` service, a version report with at least one version, a progress report with a
/// numeric `result_code` among 0..=10 and 255 and `progress` within 0..=100.
pub fn decode_uplink(payload: &[u8]) -> Result<Uplink, DecodeError> {
    let obj = parse_object(payload)?;
    let mut object_device_id = heapless::String::new();
    let service = ota_service(&obj, &mut object_device_id)?.ok_or(DecodeError::InvalidField("service_id"))?;
    let p = paras(&service)?.ok_or(DecodeError::MissingField("paras"))?;
    let report = match service.text("event_type")? {
        "version_report" => {
            let sw_version = opt_version(&p, "sw_version")?;
            let fw_version = opt_version(&p, "fw_version")?;
            if sw_version.is_none() && fw_version.is_none() {
                return Err(DecodeError::MissingField("sw_version"));
            }
            Report::Version { sw_version, fw_version }
        }
        "upgrade_progress_report" => {
            let code = match p.get("result_code") {
                Some(v @ Value::Num(_)) => v.int(),
                None => return Err(DecodeError::MissingField("result_code")),
                Some(_) => None,
            };
            let result_code = code
                .and_then(|c| u8::try_from(c).ok())
                .filter(|c| *c <= 10 || *c == 255)
                .ok_or(DecodeError::InvalidField("result_code"))?;
            let progress = match p.get("progress") {
                None => None,
                Some(v @ Value::Num(_)) => Some(
                    v.int()
                        .and_then(|c| u8::try_from(c).ok())
                        .filter(|c| *c <= 100)
                        .ok_or(DecodeError::InvalidField("progress"))?,
                ),
                Some(_) => return Err(DecodeError::InvalidField("progress")),
            };
            let mut description = heapless::String::new();
            string_field(&p, "description", &mut description)?;
            Report::Progress { result_code, progress, version: opt_version(&p, "version")?, description }
        }
        _ => return Err(DecodeError::InvalidField("event_type")),
    };
    Ok(Uplink { object_device_id, report })
}
