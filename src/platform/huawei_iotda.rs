//! Huawei IoTDA firmware and software upgrade over MQTT: the pure codec (no I/O).
//!
//! The device subscribes to `$oc/devices/{device_id}/sys/events/down` and publishes to
//! `$oc/devices/{device_id}/sys/events/up`. Both carry the same envelope:
//! `{"object_device_id":…,"services":[{"service_id":"$ota","event_type":…,"event_time":…,"paras":{…}}]}`
//! (`object_device_id` and `event_time` optional; a gateway sets `object_device_id` to the
//! child device it speaks for).
//!
//! - down: `version_query`; `firmware_upgrade` / `software_upgrade` (URL plus a bearer
//!   `access_token`, which lands in [`Offer::token`]) and their `_v2` forms (presigned URL,
//!   no token). The digest is the SHA-256 `sign`.
//! - up: `version_report` (`sw_version` and/or `fw_version`) and `upgrade_progress_report`
//!   with a `result_code` (see [`result_code`]), `progress`, the running `version` and a
//!   `description`. The platform counts an upgrade as successful when the final report has
//!   result 0, progress 100 and `version` equal to the target.
//!
//! ```
//! use ota_client::platform::huawei_iotda::{self, Envelope, Event, ProgressReport};
//! let msg = br#"{"services":[{"service_id":"$ota","event_type":"version_query","paras":{}}]}"#;
//! assert!(matches!(huawei_iotda::decode_downlink::<128>(msg).unwrap().event, Event::VersionQuery { .. }));
//!
//! let mut out = [0u8; 200];
//! let n = huawei_iotda::encode_progress(&Envelope::default(), &ProgressReport::success("v2.0"), &mut out).unwrap();
//! assert_eq!(&out[..n], br#"{"services":[{"service_id":"$ota","event_type":"upgrade_progress_report","paras":{"result_code":0,"progress":100,"version":"v2.0"}}]}"#);
//! ```

#![deny(clippy::arithmetic_side_effects)]

use serde::Serialize;

use super::encode::{EncodeError, check_id, concat, to_json};
use super::json::{
    DecodeError, Object, Value, build_offer, parse_object, parse_object_with_duplicates, size_field,
    string_field, version_field,
};
use crate::offer::DEFAULT_LOCATION_LEN;
use crate::{Digest, FailureCause, Offer, Version};

/// Longest device id, task id or description kept from a message.
pub const MAX_ID_LEN: usize = 64;

/// The `service_id` of OTA events.
pub const OTA_SERVICE: &str = "$ota";

/// The topic the device subscribes to: `$oc/devices/{device_id}/sys/events/down`.
pub fn downlink_topic<'b>(device_id: &str, buf: &'b mut [u8]) -> Result<&'b str, EncodeError> {
    check_id(device_id)?;
    concat(&["$oc/devices/", device_id, "/sys/events/down"], buf)
}

/// The topic the device publishes to: `$oc/devices/{device_id}/sys/events/up`.
pub fn uplink_topic<'b>(device_id: &str, buf: &'b mut [u8]) -> Result<&'b str, EncodeError> {
    check_id(device_id)?;
    concat(&["$oc/devices/", device_id, "/sys/events/up"], buf)
}

/// Which package an upgrade installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Package {
    /// `firmware_upgrade` (FOTA); reported as `fw_version`.
    Firmware,
    /// `software_upgrade` (SOTA); reported as `sw_version`.
    Software,
}

/// An upgrade command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade<const L: usize = DEFAULT_LOCATION_LEN> {
    /// Firmware or software.
    pub package: Package,
    /// True for the `_v2` form: the URL is presigned and no token is sent.
    pub presigned: bool,
    /// The image: version, size, SHA-256, URL and (v1) the bearer token.
    pub offer: Offer<L>,
    /// `expires` (token lifetime as the platform states it), when present.
    pub expires: Option<i64>,
}

/// An OTA event from the cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<const L: usize = DEFAULT_LOCATION_LEN> {
    /// `version_query`: answer with a version report.
    VersionQuery {
        /// `task_id`, empty when absent.
        task_id: heapless::String<MAX_ID_LEN>,
    },
    /// `firmware_upgrade`, `software_upgrade` or their `_v2` forms.
    Upgrade(Upgrade<L>),
    /// An event type this codec does not know, or a message without a `$ota` service.
    Unknown,
}

/// A decoded downlink message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downlink<const L: usize = DEFAULT_LOCATION_LEN> {
    /// `object_device_id`, empty when absent (the message is for the connected device).
    pub object_device_id: heapless::String<MAX_ID_LEN>,
    /// The event of the first `$ota` service in the message.
    pub event: Event<L>,
}

/// The first `$ota` service of an envelope, with the envelope's `object_device_id`.
fn ota_service<'a>(
    obj: &Object<'a>,
    device: &mut heapless::String<MAX_ID_LEN>,
) -> Result<Option<Object<'a>>, DecodeError> {
    string_field(obj, "object_device_id", device)?;
    let services = match obj.get("services") {
        Some(Value::Arr(a)) => a,
        None => return Err(DecodeError::MissingField("services")),
        Some(_) => return Err(DecodeError::InvalidField("services")),
    };
    for service in services.iter() {
        if let Value::Obj(s) = service
            && s.text_opt("service_id").ok().flatten() == Some(OTA_SERVICE)
        {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

/// The `paras` of a service; absent or `null` reads as an empty object.
fn paras<'a>(service: &Object<'a>) -> Result<Option<Object<'a>>, DecodeError> {
    match service.get("paras") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Obj(o)) => Ok(Some(o)),
        Some(_) => Err(DecodeError::InvalidField("paras")),
    }
}

/// Decodes a message received on the downlink topic. A message in which any object repeats
/// a key (after unescaping: envelope, service, `paras`) is refused with
/// [`DecodeError::DuplicateKey`].
pub fn decode_downlink<const L: usize>(payload: &[u8]) -> Result<Downlink<L>, DecodeError> {
    let obj = parse_object(payload)?;
    let mut object_device_id = heapless::String::new();
    let Some(service) = ota_service(&obj, &mut object_device_id)? else {
        return Ok(Downlink { object_device_id, event: Event::Unknown });
    };
    let (package, presigned) = match service.text("event_type")? {
        "version_query" => {
            let mut task_id = heapless::String::new();
            if let Some(p) = paras(&service)? {
                string_field(&p, "task_id", &mut task_id)?;
            }
            return Ok(Downlink { object_device_id, event: Event::VersionQuery { task_id } });
        }
        "firmware_upgrade" => (Package::Firmware, false),
        "software_upgrade" => (Package::Software, false),
        "firmware_upgrade_v2" => (Package::Firmware, true),
        "software_upgrade_v2" => (Package::Software, true),
        _ => return Ok(Downlink { object_device_id, event: Event::Unknown }),
    };
    let p = paras(&service)?.ok_or(DecodeError::MissingField("paras"))?;
    let version = version_field(&p, "version")?;
    let size = size_field(&p, "file_size")?;
    let digest = Digest::sha256_hex(p.text("sign")?).map_err(|_| DecodeError::InvalidField("sign"))?;
    let token = if presigned { None } else { Some("access_token") };
    let mut offer = build_offer(version, size, digest, &p, "url", token)?;
    // The task (`task_id`, empty when absent) names the job in every report about it.
    string_field(&p, "task_id", &mut offer.job)?;
    let expires = p.int_opt("expires")?;
    Ok(Downlink { object_device_id, event: Event::Upgrade(Upgrade { package, presigned, offer, expires }) })
}

/// The `object_device_id` (empty when absent) and `version` of an upgrade event that may not
/// decode as a whole (to answer an unusable upgrade with a failure for that version); `None`
/// for other messages.
///
/// A message that repeats a key (refused by [`decode_downlink`] with
/// [`DecodeError::DuplicateKey`]) is still read here, the first of repeated members counting:
/// the answer only names the failed upgrade.
pub fn offered_version(payload: &[u8]) -> Option<(heapless::String<MAX_ID_LEN>, Version)> {
    let obj = parse_object_with_duplicates(payload).ok()?;
    let mut device = heapless::String::new();
    let service = ota_service(&obj, &mut device).ok()??;
    let upgrade = matches!(
        service.text("event_type").ok()?,
        "firmware_upgrade" | "software_upgrade" | "firmware_upgrade_v2" | "software_upgrade_v2"
    );
    let version = version_field(&paras(&service).ok()??, "version").ok()?;
    upgrade.then_some((device, version))
}

/// Huawei's `result_code` for a failure: 1 device in use, 2 poor signal, 3 already latest,
/// 4 low battery, 5 insufficient storage, 6 download timeout, 7 package verification
/// failed, 8 unsupported package type, 9 insufficient memory, 10 install failed,
/// 255 internal exception. (0, success, is [`RESULT_SUCCESS`].)
pub const fn result_code(cause: FailureCause) -> u8 {
    use FailureCause as C;
    match cause {
        // A deferral by the application tells the platform to try again later; a job a newer
        // one replaced lost to "device in use".
        C::Busy | C::DeclinedByApplication | C::Superseded => 1,
        C::ConnectionLost => 2,
        // A device running a newer version is, for the platform, already up to date.
        C::AlreadyLatest | C::Downgrade => 3,
        C::LowBattery => 4,
        C::NotEnoughStorage => 5,
        C::DownloadTimeout => 6,
        C::IntegrityCheckFailure | C::VersionMismatch => 7,
        C::UnsupportedPackage => 8,
        C::OutOfMemory => 9,
        C::UpdateFailed => 10,
        C::InvalidUri | C::FileNotFound | C::AuthorisationExpired | C::InvalidOffer => 255,
    }
}

/// `result_code` of a successful step or upgrade.
pub const RESULT_SUCCESS: u8 = 0;

/// The optional envelope fields of an uplink.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// `object_device_id`: set by a gateway speaking for a child device.
    pub object_device_id: Option<&'a str>,
    /// `event_time` as `yyyyMMddTHHmmssZ`, when the device knows the time.
    pub event_time: Option<&'a str>,
}

/// An `upgrade_progress_report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProgressReport<'a> {
    /// 0 success or in progress, otherwise a [`result_code`].
    pub result_code: u8,
    /// Progress 0..=100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    /// The version the device runs (after a successful upgrade: the target).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'a str>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
}

impl<'a> ProgressReport<'a> {
    /// Download in progress.
    pub fn downloading(percent: u8, running_version: &'a str) -> Self {
        Self {
            result_code: RESULT_SUCCESS,
            progress: Some(percent.min(100)),
            version: Some(running_version),
            description: None,
        }
    }

    /// The final success report: result 0, progress 100, the new version.
    pub fn success(new_version: &'a str) -> Self {
        Self {
            result_code: RESULT_SUCCESS,
            progress: Some(100),
            version: Some(new_version),
            description: None,
        }
    }

    /// A failure, with the cause's code and description.
    pub fn failure(cause: FailureCause, running_version: &'a str) -> Self {
        Self {
            result_code: result_code(cause),
            progress: None,
            version: Some(running_version),
            description: Some(cause.description()),
        }
    }
}

#[derive(Serialize)]
struct Msg<'a, P: Serialize> {
    #[serde(skip_serializing_if = "Option::is_none")]
    object_device_id: Option<&'a str>,
    services: [Service<'a, P>; 1],
}

#[derive(Serialize)]
struct Service<'a, P: Serialize> {
    service_id: &'a str,
    event_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_time: Option<&'a str>,
    paras: P,
}

fn encode_event<P: Serialize>(
    env: &Envelope<'_>,
    event_type: &str,
    paras: P,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    let msg = Msg {
        object_device_id: env.object_device_id,
        services: [Service { service_id: OTA_SERVICE, event_type, event_time: env.event_time, paras }],
    };
    to_json(&msg, out)
}

#[derive(Serialize)]
struct VersionParas<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    sw_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fw_version: Option<&'a str>,
}

/// Encodes a `version_report`; at least one of the versions must be given.
pub fn encode_version_report(
    env: &Envelope<'_>,
    sw_version: Option<&str>,
    fw_version: Option<&str>,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    if sw_version.is_none() && fw_version.is_none() {
        return Err(EncodeError::InvalidValue);
    }
    encode_event(env, "version_report", VersionParas { sw_version, fw_version }, out)
}

/// Encodes an `upgrade_progress_report`.
pub fn encode_progress(
    env: &Envelope<'_>,
    report: &ProgressReport<'_>,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    if report.progress.is_some_and(|p| p > 100) {
        return Err(EncodeError::InvalidValue);
    }
    encode_event(env, "upgrade_progress_report", report, out)
}

// The cloud side (offer encoders, report decoders), for the mock clouds: feature `mock`.
#[cfg(feature = "mock")]
mod cloud;
#[cfg(feature = "mock")]
pub use cloud::{Report, Uplink, decode_uplink, encode_upgrade, encode_version_query};

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    const SHA: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

    /// A v1 firmware upgrade in the shape seed 003 and the platform's MQTT docs describe.
    const FW_V1: &str = r#"{"object_device_id":"dev-001","services":[{"service_id":"$ota","event_type":"firmware_upgrade","event_time":"20151212T121212Z","paras":{"version":"v1.2","url":"https://100.93.28.202:8943/iodm/dev/v2.0/upgradefile/applications/x/devices/dev-001/packages/1","file_size":81362,"access_token":"595124473f866b033dfa1f","expires":86400,"sign":"a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"}}]}"#;

    fn text(out: &[u8], n: usize) -> &str {
        core::str::from_utf8(&out[..n]).unwrap()
    }

    #[test]
    fn topics() {
        let mut buf = [0u8; 64];
        assert_eq!(downlink_topic("dev-001", &mut buf), Ok("$oc/devices/dev-001/sys/events/down"));
        assert_eq!(uplink_topic("dev-001", &mut buf), Ok("$oc/devices/dev-001/sys/events/up"));
        assert_eq!(uplink_topic("a#", &mut buf), Err(EncodeError::InvalidId));
    }

    #[test]
    fn decodes_v1_upgrade_with_token() {
        let d = decode_downlink::<256>(FW_V1.as_bytes()).unwrap();
        assert_eq!(d.object_device_id.as_str(), "dev-001");
        let Event::Upgrade(u) = d.event else { panic!("not an upgrade") };
        assert_eq!((u.package, u.presigned, u.expires), (Package::Firmware, false, Some(86400)));
        assert_eq!(u.offer.version.as_str(), "v1.2");
        assert_eq!(u.offer.size, 81362);
        assert_eq!(u.offer.digest, Digest::sha256_hex(SHA).unwrap());
        assert_eq!(u.offer.token.as_str(), "595124473f866b033dfa1f");
        assert!(u.offer.location.starts_with("https://100.93.28.202:8943/"));
    }

    #[test]
    fn decodes_v2_software_and_queries() {
        let msg = format!(
            r#"{{"services":[{{"service_id":"other","event_type":"x"}},{{"service_id":"$ota","event_type":"software_upgrade_v2","paras":{{"version":"2.0","url":"https://obs/presigned?X-Sig=1","file_size":"4096","sign":"{SHA}","task_id":"t1","access_token":"ignored"}}}}]}}"#
        );
        let Event::Upgrade(u) = decode_downlink::<256>(msg.as_bytes()).unwrap().event else { panic!() };
        assert_eq!((u.package, u.presigned, u.offer.size), (Package::Software, true, 4096));
        assert!(u.offer.token.is_empty(), "v2 carries no bearer token");
        assert_eq!(u.offer.job.as_str(), "t1");

        let q = br#"{"object_device_id":"child","services":[{"service_id":"$ota","event_type":"version_query","paras":{"task_id":"42","sub_device_count":1}}]}"#;
        let d = decode_downlink::<64>(q).unwrap();
        assert_eq!(d.object_device_id.as_str(), "child");
        assert_eq!(d.event, Event::VersionQuery { task_id: heapless::String::try_from("42").unwrap() });
        let bare = br#"{"services":[{"service_id":"$ota","event_type":"version_query"}]}"#;
        assert!(matches!(decode_downlink::<64>(bare).unwrap().event, Event::VersionQuery { .. }));
        let other = br#"{"services":[{"service_id":"$ota","event_type":"device_reboot","paras":{}}]}"#;
        assert_eq!(decode_downlink::<64>(other).unwrap().event, Event::Unknown);
        let no_ota = br#"{"services":[]}"#;
        assert_eq!(decode_downlink::<64>(no_ota).unwrap().event, Event::Unknown);
    }

    #[test]
    fn refuses_bad_upgrades() {
        let bad = |m: &str| decode_downlink::<256>(m.as_bytes()).unwrap_err();
        assert_eq!(bad(&FW_V1[..FW_V1.len() - 10]), DecodeError::Truncated);
        assert_eq!(bad(&FW_V1.replace(SHA, "abc")), DecodeError::InvalidField("sign"));
        assert_eq!(bad(&FW_V1.replace("81362", "-5")), DecodeError::InvalidField("file_size"));
        assert_eq!(bad(&FW_V1.replace("\"v1.2\"", "\"\"")), DecodeError::InvalidField("version"));
        assert_eq!(bad(r#"{"services":{}}"#), DecodeError::InvalidField("services"));
        assert_eq!(bad(r#"{"x":1}"#), DecodeError::MissingField("services"));
        assert_eq!(decode_downlink::<16>(FW_V1.as_bytes()).unwrap_err(), DecodeError::FieldTooLong("url"));
    }

    #[test]
    fn encodes_reports_exactly() {
        let mut out = [0u8; 300];
        let env = Envelope { object_device_id: Some("dev-001"), event_time: Some("20151212T121212Z") };
        let n = encode_version_report(&env, Some("v1.0"), Some("v1.0"), &mut out).unwrap();
        assert_eq!(
            text(&out, n),
            r#"{"object_device_id":"dev-001","services":[{"service_id":"$ota","event_type":"version_report","event_time":"20151212T121212Z","paras":{"sw_version":"v1.0","fw_version":"v1.0"}}]}"#
        );
        let n = encode_version_report(&Envelope::default(), None, Some("v1.0"), &mut out).unwrap();
        assert_eq!(
            text(&out, n),
            r#"{"services":[{"service_id":"$ota","event_type":"version_report","paras":{"fw_version":"v1.0"}}]}"#
        );
        assert_eq!(encode_version_report(&env, None, None, &mut out), Err(EncodeError::InvalidValue));
        let n = encode_progress(&Envelope::default(), &ProgressReport::downloading(30, "v1.0"), &mut out)
            .unwrap();
        assert_eq!(
            text(&out, n),
            r#"{"services":[{"service_id":"$ota","event_type":"upgrade_progress_report","paras":{"result_code":0,"progress":30,"version":"v1.0"}}]}"#
        );
        let n = encode_progress(
            &Envelope::default(),
            &ProgressReport::failure(FailureCause::IntegrityCheckFailure, "v1.0"),
            &mut out,
        )
        .unwrap();
        assert_eq!(
            text(&out, n),
            r#"{"services":[{"service_id":"$ota","event_type":"upgrade_progress_report","paras":{"result_code":7,"version":"v1.0","description":"integrity check failure"}}]}"#
        );
    }

    #[test]
    fn every_failure_maps() {
        for cause in FailureCause::ALL {
            let code = result_code(cause);
            assert!((1..=10).contains(&code) || code == 255, "{cause:?} -> {code}");
        }
        assert_eq!(result_code(FailureCause::AlreadyLatest), 3);
        assert_eq!(result_code(FailureCause::IntegrityCheckFailure), 7);
        assert_eq!(result_code(FailureCause::NotEnoughStorage), 5);
        assert_eq!(result_code(FailureCause::UpdateFailed), 10);
    }

    #[test]
    fn cloud_side_round_trips() {
        let d = decode_downlink::<256>(FW_V1.as_bytes()).unwrap();
        let Event::Upgrade(u) = d.event else { panic!() };
        let mut out = [0u8; 512];
        let env = Envelope { object_device_id: Some("dev-001"), event_time: None };
        let n = encode_upgrade(&env, &u, &mut out).unwrap();
        let back = decode_downlink::<256>(&out[..n]).unwrap();
        assert_eq!(back.event, Event::Upgrade(u.clone()));
        let v2 = Upgrade { presigned: true, ..u };
        let n = encode_upgrade(&env, &v2, &mut out).unwrap();
        assert!(!text(&out, n).contains("access_token"));
        assert!(text(&out, n).contains("\"firmware_upgrade_v2\""));
        let n = encode_version_query(&Envelope::default(), Some("t"), &mut out).unwrap();
        assert!(matches!(decode_downlink::<8>(&out[..n]).unwrap().event, Event::VersionQuery { .. }));

        let n = encode_progress(&Envelope::default(), &ProgressReport::success("v1.2"), &mut out).unwrap();
        let up = decode_uplink(&out[..n]).unwrap();
        assert_eq!(
            up.report,
            Report::Progress {
                result_code: 0,
                progress: Some(100),
                version: Some(Version::parse("v1.2").unwrap()),
                description: heapless::String::new()
            }
        );
        assert!(up.report.is_success_for(&Version::parse("v1.2").unwrap()));
        assert!(!up.report.is_success_for(&Version::parse("1.2").unwrap()), "versions compare as text");
        let n = encode_progress(&Envelope::default(), &ProgressReport::downloading(100, "v1.2"), &mut out)
            .unwrap();
        assert!(decode_uplink(&out[..n]).unwrap().report.is_success_for(&Version::parse("v1.2").unwrap()));
        let n = encode_progress(
            &Envelope::default(),
            &ProgressReport::failure(FailureCause::Busy, "v1.2"),
            &mut out,
        )
        .unwrap();
        assert!(!decode_uplink(&out[..n]).unwrap().report.is_success_for(&Version::parse("v1.2").unwrap()));
        let n = encode_version_report(&Envelope::default(), Some("1.0"), None, &mut out).unwrap();
        assert!(matches!(decode_uplink(&out[..n]).unwrap().report, Report::Version { fw_version: None, .. }));
        let wrong = br#"{"services":[{"service_id":"$ota","event_type":"upgrade_progress_report","paras":{"result_code":11}}]}"#;
        assert_eq!(decode_uplink(wrong), Err(DecodeError::InvalidField("result_code")));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = decode_downlink::<64>(&bytes);
            let _ = decode_uplink(&bytes);
        }

        #[test]
        fn mutated_upgrades_never_panic(cut in 0usize..400, flip in 0usize..400, byte in proptest::num::u8::ANY) {
            let mut m = FW_V1.as_bytes().to_vec();
            if let Some(b) = m.get_mut(flip) { *b = byte; }
            m.truncate(cut);
            let _ = decode_downlink::<128>(&m);
        }
    }

    /// The attack: an upgrade whose `paras`, service or envelope names a key twice (plainly
    /// or through an escape). Refused; the flow can still name the version to report it.
    #[test]
    fn an_upgrade_with_a_repeated_key_is_refused() {
        assert!(decode_downlink::<256>(FW_V1.as_bytes()).is_ok());
        let other = "0".repeat(64);
        for (find, twice) in [
            (r#""version":"v1.2""#, r#""version":"v1.2","version":"v9""#.to_owned()),
            (r#""version":"v1.2""#, r#""versio\u006e":"v9","version":"v1.2""#.to_owned()),
            (r#""sign":""#, format!(r#""sign":"{other}","sign":""#)),
            (r#""sign":""#, format!(r#""\u0073ign":"{other}","sign":""#)),
            (r#""url":""#, r#""url":"https://evil/x","url":""#.to_owned()),
            (r#""url":""#, r#""ur\u006C":"https://evil/x","url":""#.to_owned()),
            (r#""access_token":"#, r#""access_token":"stolen","access_token":"#.to_owned()),
            (r#""event_type":"#, r#""event_type":"version_query","event_type":"#.to_owned()),
            (r#""service_id":"#, r#""service_id":"x","service_id":"#.to_owned()),
            (r#""services":"#, r#""services":[],"services":"#.to_owned()),
            (r#""object_device_id":"#, r#""object_device_id":"other","object_device_id":"#.to_owned()),
        ] {
            let attack = FW_V1.replacen(find, &twice, 1);
            assert_ne!(attack, FW_V1);
            assert_eq!(decode_downlink::<256>(attack.as_bytes()), Err(DecodeError::DuplicateKey), "{attack}");
        }
        // Named for the failure answer: the first `version` counts.
        let twice = FW_V1.replace(r#""version":"v1.2""#, r#""version":"v1.2","ver\u0073ion":"v9""#);
        let (device, version) = offered_version(twice.as_bytes()).unwrap();
        assert_eq!((device.as_str(), version.as_str()), ("dev-001", "v1.2"));
        let sign = FW_V1.replace(r#""sign":"#, &format!(r#""sign":"{other}","sign":"#));
        assert_eq!(offered_version(sign.as_bytes()).unwrap().1.as_str(), "v1.2");
    }
}
