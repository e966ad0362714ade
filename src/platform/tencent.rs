//! Tencent IoT Hub firmware update over MQTT: the pure codec (no I/O).
//!
//! The device subscribes to `$ota/update/{productID}/{deviceName}` (QoS 1) and publishes to
//! `$ota/report/{productID}/{deviceName}`:
//!
//! - up: `report_version`, then `report_progress` with state `downloading` (with percent),
//!   `burning`, `done` or `fail` (result codes −1..−5, see [`failure_code`]);
//! - down: `update_firmware` (an [`Offer`] with an MD5 digest) and `report_version_rsp`.
//!
//! Decoding is lenient (sizes and codes as numbers or strings, extra fields ignored, unknown
//! types reported as [`Downlink::Unknown`]); encoding follows the documented format exactly,
//! including `percent` and `result_code` as strings.
//!
//! ```
//! use ota_client::platform::tencent::{self, Downlink, Progress};
//! let msg = br#"{"type":"update_firmware","file_size":708482,
//!   "md5sum":"36eb5951179db14a63a37a9322a2aaaa","url":"https://ota.example/fw.bin","version":"0.2"}"#;
//! let Ok(Downlink::Offer(offer)) = tencent::decode_downlink::<256>(msg) else { panic!() };
//! assert_eq!(offer.size, 708482);
//!
//! let mut out = [0u8; 160];
//! let n = tencent::encode_progress(&Progress::Downloading { percent: 10 }, "0.2", &mut out).unwrap();
//! assert_eq!(&out[..n], br#"{"type":"report_progress","report":{"progress":{"state":"downloading","percent":"10","result_code":"0","result_msg":""},"version":"0.2"}}"#);
//! ```

#![deny(clippy::arithmetic_side_effects)]

use serde::Serialize;

use super::encode::{EncodeError, check_id, concat, int_text, to_json};
use super::json::{
    DecodeError, Object, build_offer, parse_object, parse_object_with_duplicates, size_field, version_field,
};
use crate::offer::DEFAULT_LOCATION_LEN;
use crate::{Digest, FailureCause, Offer, Version};

/// Longest `result_msg` kept from a cloud message.
pub const MAX_MESSAGE_LEN: usize = 64;

/// The topic the device subscribes to: `$ota/update/{product_id}/{device_name}`.
pub fn downlink_topic<'b>(
    product_id: &str,
    device_name: &str,
    buf: &'b mut [u8],
) -> Result<&'b str, EncodeError> {
    check_id(product_id)?;
    check_id(device_name)?;
    concat(&["$ota/update/", product_id, "/", device_name], buf)
}

/// The topic the device publishes to: `$ota/report/{product_id}/{device_name}`.
pub fn uplink_topic<'b>(
    product_id: &str,
    device_name: &str,
    buf: &'b mut [u8],
) -> Result<&'b str, EncodeError> {
    check_id(product_id)?;
    check_id(device_name)?;
    concat(&["$ota/report/", product_id, "/", device_name], buf)
}

/// A message from the cloud to the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Downlink<const L: usize = DEFAULT_LOCATION_LEN> {
    /// `update_firmware`: fetch this image (MD5 digest, URL location, no token).
    Offer(Offer<L>),
    /// `report_version_rsp`: the cloud's answer to a version report.
    VersionReply {
        /// `result_code` (0 is success).
        result_code: i64,
        /// The version the cloud recorded, when it sent one that parses.
        version: Option<Version>,
    },
    /// A message of a type this codec does not know; ignore it.
    Unknown,
}

/// Decodes a message received on the downlink topic. A message in which any object repeats
/// a key (after unescaping) is refused with [`DecodeError::DuplicateKey`].
pub fn decode_downlink<const L: usize>(payload: &[u8]) -> Result<Downlink<L>, DecodeError> {
    let obj = parse_object(payload)?;
    match obj.text("type")? {
        "update_firmware" => decode_offer(&obj).map(Downlink::Offer),
        "report_version_rsp" => Ok(Downlink::VersionReply {
            result_code: obj.int("result_code")?,
            version: version_field(&obj, "version").ok(),
        }),
        _ => Ok(Downlink::Unknown),
    }
}

/// The `version` of an `update_firmware` message that may not decode as a whole (to answer
/// an unusable offer with a failure for that version); `None` for other messages.
///
/// A message that repeats a key (refused by [`decode_downlink`] with
/// [`DecodeError::DuplicateKey`]) still names its version here, the first one when `version`
/// itself is repeated: the name only tells the platform which offer failed.
pub fn offered_version(payload: &[u8]) -> Option<Version> {
    let obj = parse_object_with_duplicates(payload).ok()?;
    (obj.text("type").ok()? == "update_firmware").then(|| version_field(&obj, "version").ok()).flatten()
}

fn decode_offer<const L: usize>(obj: &Object<'_>) -> Result<Offer<L>, DecodeError> {
    let version = version_field(obj, "version")?;
    let size = size_field(obj, "file_size")?;
    let digest = Digest::md5_hex(obj.text("md5sum")?).map_err(|_| DecodeError::InvalidField("md5sum"))?;
    build_offer(version, size, digest, obj, "url", None)
}

/// What the device reports with `report_progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Downloading, `percent` 0..=100 of the image received.
    Downloading {
        /// Percentage received; values over 100 are reported as 100.
        percent: u8,
    },
    /// Download complete, writing the image.
    Burning,
    /// The update succeeded.
    Done,
    /// The update failed; reported with [`failure_code`] and the cause's description.
    Fail(FailureCause),
}

/// Tencent's result code for a failure: −1 download timeout, −2 file does not exist,
/// −3 signature (URL) expired, −4 MD5 mismatch, −5 update failed (everything else).
pub const fn failure_code(cause: FailureCause) -> i8 {
    use FailureCause as C;
    match cause {
        C::DownloadTimeout | C::ConnectionLost => -1,
        C::FileNotFound | C::InvalidUri => -2,
        C::AuthorisationExpired => -3,
        C::IntegrityCheckFailure | C::VersionMismatch => -4,
        C::NotEnoughStorage
        | C::OutOfMemory
        | C::UnsupportedPackage
        | C::UpdateFailed
        | C::AlreadyLatest
        | C::Busy
        | C::LowBattery
        | C::DeclinedByApplication
        | C::InvalidOffer
        | C::Superseded
        | C::Downgrade => -5,
    }
}

#[derive(Serialize)]
struct VersionMsg<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    report: VersionBody<'a>,
}

#[derive(Serialize)]
struct VersionBody<'a> {
    version: &'a str,
}

#[derive(Serialize)]
struct ProgressMsg<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    report: ProgressReport<'a>,
}

#[derive(Serialize)]
struct ProgressReport<'a> {
    progress: ProgressBody<'a>,
    version: &'a str,
}

#[derive(Serialize)]
struct ProgressBody<'a> {
    state: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    percent: Option<&'a str>,
    result_code: &'a str,
    result_msg: &'a str,
}

/// Encodes `{"type":"report_version","report":{"version":…}}` into `out`; returns its length.
pub fn encode_report_version(version: &str, out: &mut [u8]) -> Result<usize, EncodeError> {
    to_json(&VersionMsg { kind: "report_version", report: VersionBody { version } }, out)
}

/// Encodes a `report_progress` message for the update to `version` into `out`.
///
/// With [`Progress::Fail`], `result_msg` is the cause's description (`"download timeout"`,
/// `"integrity check failure"`…): seed 004 calls it the error message and shows `"time_out"`
/// for −1 as an example; the code, not the text, is what the platform interprets.
pub fn encode_progress(progress: &Progress, version: &str, out: &mut [u8]) -> Result<usize, EncodeError> {
    let mut pct = [0u8; 20];
    let mut code = [0u8; 20];
    let (state, percent, result_code, result_msg) = match *progress {
        Progress::Downloading { percent } => {
            ("downloading", Some(int_text(i64::from(percent.min(100)), &mut pct)), "0", "")
        }
        Progress::Burning => ("burning", None, "0", ""),
        Progress::Done => ("done", None, "0", ""),
        Progress::Fail(cause) => {
            ("fail", None, int_text(i64::from(failure_code(cause)), &mut code), cause.description())
        }
    };
    let msg = ProgressMsg {
        kind: "report_progress",
        report: ProgressReport {
            progress: ProgressBody { state, percent, result_code, result_msg },
            version,
        },
    };
    to_json(&msg, out)
}

// The cloud side (offer encoders, report decoders), for the mock clouds: feature `mock`.
#[cfg(feature = "mock")]
mod cloud;
#[cfg(feature = "mock")]
pub use cloud::{State, Uplink, decode_uplink, encode_offer, encode_version_reply};

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    /// The offer from seed 004, with the masked MD5 filled in.
    const SEED_OFFER: &[u8] = br#"{
"file_size": 708482,
"md5sum": "36eb5951179db14a63aaaaa37a9322a2",
"type": "update_firmware",
"url": "https://ota-1255858890.cos.ap-guangzhou.myqcloud.com",
"version": "0.2"
}"#;

    fn text(out: &[u8], n: usize) -> &str {
        core::str::from_utf8(&out[..n]).unwrap()
    }

    #[test]
    fn topics() {
        let mut buf = [0u8; 64];
        assert_eq!(downlink_topic("ABC123", "dev1", &mut buf), Ok("$ota/update/ABC123/dev1"));
        assert_eq!(uplink_topic("ABC123", "dev1", &mut buf), Ok("$ota/report/ABC123/dev1"));
        assert_eq!(uplink_topic("A/B", "dev1", &mut buf), Err(EncodeError::InvalidId));
        assert_eq!(uplink_topic("ABC123", "dev1", &mut [0u8; 10]), Err(EncodeError::BufferTooSmall));
    }

    #[test]
    fn decodes_seed_offer() {
        let Downlink::Offer(offer) = decode_downlink::<128>(SEED_OFFER).unwrap() else {
            panic!("not an offer")
        };
        assert_eq!(offer.version.as_str(), "0.2");
        assert_eq!(offer.size, 708482);
        assert_eq!(offer.digest, Digest::md5_hex("36eb5951179db14a63aaaaa37a9322a2").unwrap());
        assert_eq!(offer.location.as_str(), "https://ota-1255858890.cos.ap-guangzhou.myqcloud.com");
        assert!(offer.token.is_empty());
        assert_eq!(offer.validate(1 << 20), Ok(()));
    }

    #[test]
    fn seed_offer_as_published_has_a_masked_digest() {
        // The seed masks four hex digits with `*`: such an offer is refused, not guessed at.
        let masked = std::string::String::from_utf8(SEED_OFFER.to_vec()).unwrap().replace("aaaa", "****");
        assert_eq!(decode_downlink::<128>(masked.as_bytes()), Err(DecodeError::InvalidField("md5sum")));
    }

    #[test]
    fn decodes_leniently() {
        let msg =
            br#"{"type":"update_firmware","file_size":"1024","md5sum":"36EB5951179DB14A63AAAAA37A9322A2",
            "url":"http:\/\/h\/f","version":2,"extra":[1,{"a":null}]}"#;
        let Downlink::Offer(o) = decode_downlink::<64>(msg).unwrap() else { panic!() };
        assert_eq!((o.size, o.version.as_str(), o.location.as_str()), (1024, "2", "http://h/f"));
        let rsp =
            br#"{"type":"report_version_rsp","result_code":"0","result_msg":"success","version":"1.0.0"}"#;
        assert_eq!(
            decode_downlink::<64>(rsp).unwrap(),
            Downlink::VersionReply { result_code: 0, version: Some(Version::parse("1.0.0").unwrap()) }
        );
        assert_eq!(decode_downlink::<64>(br#"{"type":"something_new","x":1}"#).unwrap(), Downlink::Unknown);
        // The version is free text of 1..32 characters, kept exactly.
        let free = br#"{"type":"update_firmware","file_size":1,"md5sum":"36eb5951179db14a63aaaaa37a9322a2","url":"u","version":"fw_release-2024.06"}"#;
        let Downlink::Offer(o) = decode_downlink::<64>(free).unwrap() else { panic!() };
        assert_eq!(o.version.as_str(), "fw_release-2024.06");
    }

    #[test]
    fn refuses_bad_offers() {
        let bad = |m: &[u8]| decode_downlink::<64>(m).unwrap_err();
        assert_eq!(bad(b"{\"type\":\"update_firmware\""), DecodeError::Truncated);
        assert_eq!(bad(b"{}"), DecodeError::MissingField("type"));
        assert_eq!(
            bad(br#"{"type":"update_firmware","file_size":-1,"md5sum":"00","url":"u","version":"1"}"#),
            DecodeError::InvalidField("file_size")
        );
        assert_eq!(
            bad(br#"{"type":"update_firmware","file_size":1,"md5sum":"00","url":"u","version":"1"}"#),
            DecodeError::InvalidField("md5sum")
        );
        assert_eq!(
            bad(br#"{"type":"update_firmware","file_size":1,"md5sum":"36eb5951179db14a63aaaaa37a9322a2","version":"1"}"#),
            DecodeError::MissingField("url")
        );
        assert_eq!(decode_downlink::<8>(SEED_OFFER).unwrap_err(), DecodeError::FieldTooLong("url"));
    }

    #[test]
    fn encodes_seed_reports_exactly() {
        let mut out = [0u8; 256];
        let n = encode_report_version("0.1", &mut out).unwrap();
        assert_eq!(text(&out, n), r#"{"type":"report_version","report":{"version":"0.1"}}"#);
        let n = encode_progress(&Progress::Downloading { percent: 10 }, "0.2", &mut out).unwrap();
        assert_eq!(
            text(&out, n),
            r#"{"type":"report_progress","report":{"progress":{"state":"downloading","percent":"10","result_code":"0","result_msg":""},"version":"0.2"}}"#
        );
        let n = encode_progress(&Progress::Burning, "0.2", &mut out).unwrap();
        assert_eq!(
            text(&out, n),
            r#"{"type":"report_progress","report":{"progress":{"state":"burning","result_code":"0","result_msg":""},"version":"0.2"}}"#
        );
        let n = encode_progress(&Progress::Done, "0.2", &mut out).unwrap();
        assert_eq!(
            text(&out, n),
            r#"{"type":"report_progress","report":{"progress":{"state":"done","result_code":"0","result_msg":""},"version":"0.2"}}"#
        );
        let n = encode_progress(&Progress::Fail(FailureCause::DownloadTimeout), "0.2", &mut out).unwrap();
        assert_eq!(
            text(&out, n),
            r#"{"type":"report_progress","report":{"progress":{"state":"fail","result_code":"-1","result_msg":"download timeout"},"version":"0.2"}}"#
        );
        assert_eq!(encode_report_version("0.1", &mut [0u8; 20]), Err(EncodeError::BufferTooSmall));
    }

    #[test]
    fn every_failure_maps() {
        for cause in FailureCause::ALL {
            assert!((-5..=-1).contains(&failure_code(cause)), "{cause:?}");
        }
        assert_eq!(failure_code(FailureCause::IntegrityCheckFailure), -4);
        assert_eq!(failure_code(FailureCause::AuthorisationExpired), -3);
        assert_eq!(failure_code(FailureCause::FileNotFound), -2);
        assert_eq!(failure_code(FailureCause::UpdateFailed), -5);
    }

    #[test]
    fn cloud_side_round_trips() {
        let Downlink::Offer(offer) = decode_downlink::<128>(SEED_OFFER).unwrap() else { panic!() };
        let mut out = [0u8; 256];
        let n = encode_offer(&offer, &mut out).unwrap();
        assert_eq!(decode_downlink::<128>(&out[..n]).unwrap(), Downlink::Offer(offer));
        let n = encode_version_reply(0, "success", "1.0.0", &mut out).unwrap();
        assert_eq!(
            text(&out, n),
            r#"{"type":"report_version_rsp","result_code":0,"result_msg":"success","version":"1.0.0"}"#
        );
        for p in [
            Progress::Downloading { percent: 55 },
            Progress::Burning,
            Progress::Done,
            Progress::Fail(FailureCause::IntegrityCheckFailure),
        ] {
            let n = encode_progress(&p, "0.2", &mut out).unwrap();
            let Uplink::ReportProgress { state, percent, result_code, .. } =
                decode_uplink(&out[..n]).unwrap()
            else {
                panic!()
            };
            match p {
                Progress::Downloading { percent: want } => {
                    assert_eq!((state, percent, result_code), (State::Downloading, Some(want), 0))
                }
                Progress::Fail(_) => assert_eq!((state, result_code), (State::Fail, -4)),
                _ => assert_eq!((percent, result_code), (None, 0)),
            }
        }
        // The cloud side holds reports to the format: numbers where strings belong are refused.
        let loose = br#"{"type":"report_progress","report":{"progress":{"state":"downloading","percent":10,"result_code":"0","result_msg":""},"version":"0.2"}}"#;
        assert_eq!(decode_uplink(loose), Err(DecodeError::InvalidField("percent")));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = decode_downlink::<64>(&bytes);
            let _ = decode_uplink(&bytes);
        }

        #[test]
        fn mutated_offers_never_panic(cut in 0usize..200, flip in 0usize..200, byte in proptest::num::u8::ANY) {
            let mut m = SEED_OFFER.to_vec();
            if let Some(b) = m.get_mut(flip) { *b = byte; }
            m.truncate(cut);
            let _ = decode_downlink::<64>(&m);
        }

        #[test]
        fn progress_round_trips(percent in 0u8..=100, version in "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}") {
            let mut out = [0u8; 256];
            let n = encode_progress(&Progress::Downloading { percent }, &version, &mut out).unwrap();
            let Uplink::ReportProgress { percent: got, version: v, .. } = decode_uplink(&out[..n]).unwrap() else {
                panic!()
            };
            proptest::prop_assert_eq!(got, Some(percent));
            proptest::prop_assert_eq!(v.as_str(), version.as_str());
        }
    }

    /// The attack: an `update_firmware` that names `version`, `md5sum` or `url` twice (once
    /// plainly, once through an escape) so that another parser would read other values. The
    /// decoder refuses it; the flow can still name the version to report the failure.
    #[test]
    fn an_offer_with_a_repeated_key_is_refused() {
        let md5 = "36eb5951179db14a63aaaaa37a9322a2";
        let offer = format!(
            r#"{{"type":"update_firmware","file_size":10,"md5sum":"{md5}","url":"https://a/fw.bin","version":"0.2"}}"#
        );
        assert!(matches!(decode_downlink::<128>(offer.as_bytes()), Ok(Downlink::Offer(_))));
        let other_md5 = "ffffffffffffffffffffffffffffffff";
        for (member, second) in [
            (r#""version":"0.2""#, r#""version":"9.9""#),
            (r#""version":"0.2""#, r#""ver\u0073ion":"9.9""#),
            (r#""version":"0.2""#, r#""\u0076ersion":"0.2""#),
            (r#""url":"https://a/fw.bin""#, r#""url":"https://evil/fw.bin""#),
            (r#""url":"https://a/fw.bin""#, r#""u\u0072l":"https://evil/fw.bin""#),
            (r#""file_size":10"#, r#""file_size":99"#),
            (r#""type":"update_firmware""#, r#""type":"report_version_rsp""#),
        ] {
            for twice in [format!("{member},{second}"), format!("{second},{member}")] {
                let attack = offer.replace(member, &twice);
                assert_eq!(
                    decode_downlink::<128>(attack.as_bytes()),
                    Err(DecodeError::DuplicateKey),
                    "{attack}"
                );
                // The failure names the first version written, whichever that is.
                let want = if twice.starts_with(second) && second.contains("9.9") { "9.9" } else { "0.2" };
                let named = offered_version(attack.as_bytes()).map(|v| v.as_str().to_owned());
                if twice.starts_with(r#""type":"report_version_rsp""#) {
                    assert_eq!(named, None, "the first `type` says it is no offer: {attack}");
                    continue;
                }
                assert_eq!(named.as_deref(), Some(want), "{attack}");
            }
        }
        for second in [format!(r#""md5sum":"{other_md5}""#), format!(r#""md5\u0073um":"{other_md5}""#)] {
            let attack = offer.replace(r#""url""#, &format!(r#"{second},"url""#));
            assert_eq!(decode_downlink::<128>(attack.as_bytes()), Err(DecodeError::DuplicateKey), "{attack}");
            assert_eq!(
                offered_version(attack.as_bytes()).map(|v| v.as_str().to_owned()).as_deref(),
                Some("0.2")
            );
        }
        // The cloud side refuses a report that repeats a key, too.
        let report = br#"{"type":"report_version","report":{"version":"1.0","version":"2.0"}}"#;
        assert_eq!(decode_uplink(report), Err(DecodeError::DuplicateKey));
    }
}
