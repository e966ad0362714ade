//! EnOS cloud firmware OTA over MQTT: the pure codec (no I/O).
//!
//! Topics are `/sys/{productKey}/{deviceKey}/ota/device/{name}` ([`Topic`]). Requests use
//! the envelope `{"id":…,"version":"1.0","method":…,"params":{…}}`, replies
//! `{"id":…,"code":200,"data":…}`.
//!
//! - up: `inform` (the running version; also how success is reported), `progress`
//!   (`step` 0..100, or −1..−5 on failure, see [`failure_step`]; `step` and `desc` are
//!   strings), `getversion` (ask for firmware, "upon device request"), and the
//!   `upgrade_reply`;
//! - down: `upgrade` (cloud forced push: an [`Offer`] with an MD5 digest) and the replies to
//!   the device's requests; the `getversion_reply` lists firmware entries, of which the
//!   decoder keeps the newest.
//!
//! The kind of a downlink comes from its topic, so [`decode_downlink`] takes both.
//!
//! ```
//! use ota_client::platform::enos_cloud::{self, Downlink, Topic};
//! let mut buf = [0u8; 64];
//! let topic = enos_cloud::topic(Topic::Upgrade, "pk1", "dk1", &mut buf).unwrap();
//! assert_eq!(topic, "/sys/pk1/dk1/ota/device/upgrade");
//! let msg = br#"{"id":"7","version":"1.0","method":"ota.device.upgrade","params":{"version":"1.1",
//!   "sign":"00112233445566778899aabbccddeeff","signMethod":"md5","fileUrl":"https://f/1.bin","fileSize":1024}}"#;
//! let Ok(Downlink::Upgrade { id, offer }) = enos_cloud::decode_downlink::<128>(topic, msg) else { panic!() };
//! assert_eq!((id.as_str(), offer.size), ("7", 1024));
//! ```

#![deny(clippy::arithmetic_side_effects)]

use serde::Serialize;

use super::encode::{EncodeError, check_id, concat, int_text, to_json};
use super::json::{
    DecodeError, Object, Value, build_offer, parse_object, parse_object_with_duplicates, size_field,
    string_field, version_field,
};
use crate::offer::DEFAULT_LOCATION_LEN;
use crate::{Digest, FailureCause, Offer};

/// Longest message id kept.
pub const MAX_ID_LEN: usize = 32;
/// Longest `desc` kept from a progress report.
pub const MAX_DESC_LEN: usize = 64;

/// A message id, as text (EnOS sends it as a string; a number is accepted too).
pub type MessageId = heapless::String<MAX_ID_LEN>;

/// The OTA topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// `inform` (up).
    Inform,
    /// `inform_reply` (down).
    InformReply,
    /// `upgrade` (down).
    Upgrade,
    /// `upgrade_reply` (up).
    UpgradeReply,
    /// `progress` (up).
    Progress,
    /// `progress_reply` (down).
    ProgressReply,
    /// `getversion` (up).
    GetVersion,
    /// `getversion_reply` (down).
    GetVersionReply,
}

impl Topic {
    /// Every topic the device subscribes to.
    pub const DOWNLINK: [Topic; 4] =
        [Topic::Upgrade, Topic::InformReply, Topic::ProgressReply, Topic::GetVersionReply];
    /// Every topic the device publishes to.
    pub const UPLINK: [Topic; 4] = [Topic::Inform, Topic::UpgradeReply, Topic::Progress, Topic::GetVersion];

    /// The last topic level.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Inform => "inform",
            Self::InformReply => "inform_reply",
            Self::Upgrade => "upgrade",
            Self::UpgradeReply => "upgrade_reply",
            Self::Progress => "progress",
            Self::ProgressReply => "progress_reply",
            Self::GetVersion => "getversion",
            Self::GetVersionReply => "getversion_reply",
        }
    }

    /// The `method` of a request on this topic (replies have none).
    pub const fn method(self) -> Option<&'static str> {
        match self {
            Self::Inform => Some("ota.device.inform"),
            Self::Upgrade => Some("ota.device.upgrade"),
            Self::Progress => Some("ota.device.progress"),
            Self::GetVersion => Some("ota.device.getversion"),
            _ => None,
        }
    }

    /// The topic kind of a full topic `/sys/{pk}/{dk}/ota/device/{name}`, whatever the keys.
    pub fn of(topic: &str) -> Option<Topic> {
        let rest = topic.strip_prefix("/sys/")?;
        let mut levels = rest.split('/');
        let (_pk, _dk) = (levels.next()?, levels.next()?);
        if levels.next()? != "ota" || levels.next()? != "device" {
            return None;
        }
        let name = levels.next()?;
        if levels.next().is_some() {
            return None;
        }
        Topic::DOWNLINK.into_iter().chain(Topic::UPLINK).find(|t| t.name() == name)
    }
}

/// Builds `/sys/{product_key}/{device_key}/ota/device/{name}` into `buf`.
pub fn topic<'b>(
    kind: Topic,
    product_key: &str,
    device_key: &str,
    buf: &'b mut [u8],
) -> Result<&'b str, EncodeError> {
    check_id(product_key)?;
    check_id(device_key)?;
    concat(&["/sys/", product_key, "/", device_key, "/ota/device/", kind.name()], buf)
}

/// A message from the cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Downlink<const L: usize = DEFAULT_LOCATION_LEN> {
    /// `ota.device.upgrade`: install this image; answer with an `upgrade_reply` of `id`.
    Upgrade {
        /// The request id, for the reply (empty when the request had none: EnOS documents
        /// `id` as optional).
        id: MessageId,
        /// The image (MD5 digest, URL location).
        offer: Offer<L>,
    },
    /// The reply to an `inform` or `progress` request.
    Reply {
        /// Which request it answers: [`Topic::Inform`] or [`Topic::Progress`].
        to: Topic,
        /// The request id.
        id: MessageId,
        /// `code`: 200 is success.
        code: i64,
    },
    /// The reply to a `getversion` request.
    Versions {
        /// The request id.
        id: MessageId,
        /// `code`: 200 is success.
        code: i64,
        /// The newest well-formed firmware entry, if any.
        newest: Option<Offer<L>>,
        /// How many entries the reply listed (well-formed or not).
        listed: usize,
    },
    /// Another method or topic; ignore it.
    Unknown,
}

fn message_id(obj: &Object<'_>) -> Result<MessageId, DecodeError> {
    let mut id = MessageId::new();
    if !string_field(obj, "id", &mut id)? {
        return Err(DecodeError::MissingField("id"));
    }
    Ok(id)
}

/// The `id` of a request, so that a malformed `upgrade` can still be answered with an
/// error code. `None` when the payload has no readable id. A message that repeats a key
/// (refused by [`decode_downlink`] with [`DecodeError::DuplicateKey`]) is still answered:
/// the first `id` counts.
pub fn request_id(payload: &[u8]) -> Option<MessageId> {
    parse_object_with_duplicates(payload).ok().and_then(|o| message_id(&o).ok())
}

fn firmware_entry<const L: usize>(p: &Object<'_>) -> Result<Offer<L>, DecodeError> {
    let version = version_field(p, "version")?;
    let size = size_field(p, "fileSize")?;
    match p.text_opt("signMethod")? {
        None => {}
        Some(m) if m.eq_ignore_ascii_case("md5") => {}
        Some(_) => return Err(DecodeError::InvalidField("signMethod")),
    }
    let digest = Digest::md5_hex(p.text("sign")?).map_err(|_| DecodeError::InvalidField("sign"))?;
    build_offer(version, size, digest, p, "fileUrl", None)
}

/// Decodes a message received on `topic` (one of [`Topic::DOWNLINK`]). A message in which
/// any object repeats a key (after unescaping: envelope, `params`, a firmware entry) is
/// refused with [`DecodeError::DuplicateKey`].
pub fn decode_downlink<const L: usize>(topic: &str, payload: &[u8]) -> Result<Downlink<L>, DecodeError> {
    let Some(kind) = Topic::of(topic) else { return Ok(Downlink::Unknown) };
    let obj = parse_object(payload)?;
    match kind {
        Topic::Upgrade => {
            match obj.text_opt("method")? {
                None | Some("ota.device.upgrade") => {}
                Some(_) => return Ok(Downlink::Unknown),
            }
            // EnOS documents `id` as optional ("reserved"): an upgrade without one is still
            // an upgrade, answered with an empty id.
            let mut id = MessageId::new();
            string_field(&obj, "id", &mut id)?;
            let offer = firmware_entry(&obj.object("params")?)?;
            Ok(Downlink::Upgrade { id, offer })
        }
        Topic::InformReply | Topic::ProgressReply => Ok(Downlink::Reply {
            to: if kind == Topic::InformReply { Topic::Inform } else { Topic::Progress },
            id: message_id(&obj)?,
            code: obj.int("code")?,
        }),
        Topic::GetVersionReply => {
            let id = message_id(&obj)?;
            let code = obj.int("code")?;
            let mut newest: Option<Offer<L>> = None;
            let mut listed = 0usize;
            let mut consider = |entry: Value<'_>| {
                listed = listed.saturating_add(1);
                let Value::Obj(e) = entry else { return };
                if let Ok(offer) = firmware_entry::<L>(&e)
                    && newest.as_ref().is_none_or(|n| offer.version > n.version)
                {
                    newest = Some(offer);
                }
            };
            match obj.get("data") {
                Some(Value::Arr(entries)) => entries.iter().for_each(&mut consider),
                Some(single @ Value::Obj(_)) => consider(single),
                None | Some(Value::Null) => {}
                Some(_) => return Err(DecodeError::InvalidField("data")),
            }
            Ok(Downlink::Versions { id, code, newest, listed })
        }
        Topic::Inform | Topic::UpgradeReply | Topic::Progress | Topic::GetVersion => Ok(Downlink::Unknown),
    }
}

/// EnOS's `step` for a failure: −1 upgrade failed, −2 download failed, −3 verify failed,
/// −4 write (burn) failed, −5 the device declined.
pub const fn failure_step(cause: FailureCause) -> i8 {
    use FailureCause as C;
    match cause {
        C::OutOfMemory | C::Superseded => -1,
        C::ConnectionLost
        | C::DownloadTimeout
        | C::FileNotFound
        | C::AuthorisationExpired
        | C::InvalidUri => -2,
        C::IntegrityCheckFailure | C::UnsupportedPackage | C::InvalidOffer | C::VersionMismatch => -3,
        C::NotEnoughStorage | C::UpdateFailed => -4,
        C::AlreadyLatest | C::Busy | C::LowBattery | C::DeclinedByApplication | C::Downgrade => -5,
    }
}

/// The version of the request envelope.
pub const ENVELOPE_VERSION: &str = "1.0";

#[derive(Serialize)]
struct Request<'a, P: Serialize> {
    id: &'a str,
    version: &'a str,
    method: &'a str,
    params: P,
}

#[derive(Serialize)]
struct InformParams<'a> {
    version: &'a str,
}

#[derive(Serialize)]
struct ProgressParams<'a> {
    step: &'a str,
    desc: &'a str,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct Reply<'a, D: Serialize> {
    id: &'a str,
    code: i32,
    data: D,
}

/// A progress report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress<'a> {
    /// `step` 0..=100 with a free-text description.
    Step {
        /// Percentage done; values over 100 are reported as 100.
        percent: u8,
        /// `desc`.
        desc: &'a str,
    },
    /// A failure: `step` from [`failure_step`], `desc` the cause's description.
    Failed(FailureCause),
}

fn encode_request<P: Serialize>(
    id: &str,
    method: &str,
    params: P,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    check_id(id)?;
    to_json(&Request { id, version: ENVELOPE_VERSION, method, params }, out)
}

/// Encodes an `ota.device.inform` request reporting the running `version` (after an
/// update, this is the success report).
pub fn encode_inform(id: &str, version: &str, out: &mut [u8]) -> Result<usize, EncodeError> {
    encode_request(id, "ota.device.inform", InformParams { version }, out)
}

/// Encodes an `ota.device.progress` request.
pub fn encode_progress(id: &str, progress: &Progress<'_>, out: &mut [u8]) -> Result<usize, EncodeError> {
    let mut step = [0u8; 20];
    let (step, desc) = match *progress {
        Progress::Step { percent, desc } => (int_text(i64::from(percent.min(100)), &mut step), desc),
        Progress::Failed(cause) => (int_text(i64::from(failure_step(cause)), &mut step), cause.description()),
    };
    encode_request(id, "ota.device.progress", ProgressParams { step, desc }, out)
}

/// Encodes an `ota.device.getversion` request (ask which firmware the cloud offers).
pub fn encode_getversion(id: &str, out: &mut [u8]) -> Result<usize, EncodeError> {
    encode_request(id, "ota.device.getversion", Empty {}, out)
}

/// Encodes the `upgrade_reply` to request `id` (`code` 200 accepts).
pub fn encode_upgrade_reply(id: &str, code: i32, out: &mut [u8]) -> Result<usize, EncodeError> {
    encode_reply(id, code, out)
}

/// Encodes a reply `{"id":…,"code":…,"data":{}}`: the device's `upgrade_reply`
/// ([`encode_upgrade_reply`]), and the cloud's answer to `inform` or `progress`.
pub fn encode_reply(id: &str, code: i32, out: &mut [u8]) -> Result<usize, EncodeError> {
    to_json(&Reply { id, code, data: Empty {} }, out)
}

// The cloud side (offer encoders, report decoders), for the mock clouds: feature `mock`.
#[cfg(feature = "mock")]
mod cloud;
#[cfg(feature = "mock")]
pub use cloud::{Uplink, decode_uplink, encode_upgrade, encode_versions_reply};

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::{format, vec::Vec};

    const MD5: &str = "9a0364b9e99bb480dd25e1f0284c8555";
    const UPGRADE: &str = r#"{"id":"123","version":"1.0","method":"ota.device.upgrade","params":{"version":"1.2.0","sign":"9a0364b9e99bb480dd25e1f0284c8555","signMethod":"md5","fileUrl":"https://enos.example/ota/fw-1.2.0.bin","fileSize":524288}}"#;
    const UP_TOPIC: &str = "/sys/pk1/dk1/ota/device/upgrade";

    fn text(out: &[u8], n: usize) -> &str {
        core::str::from_utf8(&out[..n]).unwrap()
    }

    #[test]
    fn topics() {
        let mut buf = [0u8; 64];
        for t in Topic::DOWNLINK.into_iter().chain(Topic::UPLINK) {
            let s = topic(t, "pk1", "dk1", &mut buf).unwrap();
            assert_eq!(s, format!("/sys/pk1/dk1/ota/device/{}", t.name()));
            assert_eq!(Topic::of(s), Some(t));
        }
        assert_eq!(Topic::of("/sys/pk1/dk1/ota/device/upgrade/x"), None);
        assert_eq!(Topic::of("/sys/pk1/dk1/thing/event"), None);
        assert_eq!(topic(Topic::Inform, "p/k", "d", &mut buf), Err(EncodeError::InvalidId));
    }

    #[test]
    fn decodes_forced_push() {
        let Downlink::Upgrade { id, offer } = decode_downlink::<128>(UP_TOPIC, UPGRADE.as_bytes()).unwrap()
        else {
            panic!("not an upgrade")
        };
        assert_eq!(id.as_str(), "123");
        assert_eq!(offer.version.as_str(), "1.2.0");
        assert_eq!(offer.size, 524288);
        assert_eq!(offer.digest, Digest::md5_hex(MD5).unwrap());
        assert_eq!(offer.location.as_str(), "https://enos.example/ota/fw-1.2.0.bin");
        // Loose types: numeric id, size as text, upper-case sign method.
        let loose =
            UPGRADE.replace("\"123\"", "123").replace("524288", "\"524288\"").replace("\"md5\"", "\"MD5\"");
        assert!(matches!(decode_downlink::<128>(UP_TOPIC, loose.as_bytes()), Ok(Downlink::Upgrade { .. })));
    }

    #[test]
    fn refuses_bad_upgrades_but_keeps_the_id() {
        let bad = |m: &str| decode_downlink::<128>(UP_TOPIC, m.as_bytes()).unwrap_err();
        assert_eq!(bad(&UPGRADE.replace("\"md5\"", "\"sha1\"")), DecodeError::InvalidField("signMethod"));
        assert_eq!(bad(&UPGRADE.replace(MD5, "xyz")), DecodeError::InvalidField("sign"));
        assert_eq!(bad(&UPGRADE[..50]), DecodeError::Truncated);
        assert_eq!(bad(&UPGRADE.replace("\"params\"", "\"p\"")), DecodeError::MissingField("params"));
        assert_eq!(request_id(UPGRADE.replace(MD5, "xyz").as_bytes()).unwrap().as_str(), "123");
        assert_eq!(request_id(b"{"), None);
        // `id` is optional in EnOS's documentation.
        let no_id = UPGRADE.replace(r#""id":"123","#, "");
        let Ok(Downlink::Upgrade { id, offer }) = decode_downlink::<128>(UP_TOPIC, no_id.as_bytes()) else {
            panic!("an upgrade without id is still an upgrade")
        };
        assert_eq!((id.as_str(), offer.size), ("", 524288));
        let mut out = [0u8; 64];
        let n = encode_upgrade_reply(&id, 200, &mut out).unwrap();
        assert_eq!(text(&out, n), r#"{"id":"","code":200,"data":{}}"#);
        let other = UPGRADE.replace("ota.device.upgrade", "thing.service.x");
        assert_eq!(decode_downlink::<128>(UP_TOPIC, other.as_bytes()), Ok(Downlink::Unknown));
        assert_eq!(decode_downlink::<128>("/other/topic", b"garbage"), Ok(Downlink::Unknown));
    }

    #[test]
    fn decodes_replies_and_version_lists() {
        let r = decode_downlink::<64>(
            "/sys/p/d/ota/device/progress_reply",
            br#"{"id":"5","code":200,"data":{}}"#,
        );
        assert_eq!(
            r,
            Ok(Downlink::Reply { to: Topic::Progress, id: MessageId::try_from("5").unwrap(), code: 200 })
        );
        let entry = |v: &str| {
            format!(
                r#"{{"version":"{v}","sign":"{MD5}","signMethod":"md5","fileUrl":"https://f/{v}","fileSize":10}}"#
            )
        };
        let list = format!(
            r#"{{"id":"9","code":200,"data":[{},{},{{"version":"bad"}},{}]}}"#,
            entry("1.2"),
            entry("1.10"),
            entry("1.9")
        );
        let Downlink::Versions { id, code, newest, listed } =
            decode_downlink::<64>("/sys/p/d/ota/device/getversion_reply", list.as_bytes()).unwrap()
        else {
            panic!()
        };
        assert_eq!((id.as_str(), code, listed), ("9", 200, 4));
        assert_eq!(newest.unwrap().version.as_str(), "1.10");
        let empty = decode_downlink::<64>(
            "/sys/p/d/ota/device/getversion_reply",
            br#"{"id":"9","code":200,"data":[]}"#,
        );
        assert!(matches!(empty, Ok(Downlink::Versions { newest: None, listed: 0, .. })));
    }

    #[test]
    fn encodes_uplinks_exactly() {
        let mut out = [0u8; 200];
        let n = encode_inform("1", "1.0.0", &mut out).unwrap();
        assert_eq!(
            text(&out, n),
            r#"{"id":"1","version":"1.0","method":"ota.device.inform","params":{"version":"1.0.0"}}"#
        );
        let n = encode_progress("2", &Progress::Step { percent: 50, desc: "downloading" }, &mut out).unwrap();
        assert_eq!(
            text(&out, n),
            r#"{"id":"2","version":"1.0","method":"ota.device.progress","params":{"step":"50","desc":"downloading"}}"#
        );
        let n =
            encode_progress("3", &Progress::Failed(FailureCause::IntegrityCheckFailure), &mut out).unwrap();
        assert_eq!(
            text(&out, n),
            r#"{"id":"3","version":"1.0","method":"ota.device.progress","params":{"step":"-3","desc":"integrity check failure"}}"#
        );
        let n = encode_getversion("4", &mut out).unwrap();
        assert_eq!(
            text(&out, n),
            r#"{"id":"4","version":"1.0","method":"ota.device.getversion","params":{}}"#
        );
        let n = encode_upgrade_reply("123", 200, &mut out).unwrap();
        assert_eq!(text(&out, n), r#"{"id":"123","code":200,"data":{}}"#);
    }

    #[test]
    fn every_failure_maps() {
        for cause in FailureCause::ALL {
            assert!((-5..=-1).contains(&failure_step(cause)), "{cause:?}");
        }
        assert_eq!(failure_step(FailureCause::ConnectionLost), -2);
        assert_eq!(failure_step(FailureCause::IntegrityCheckFailure), -3);
        assert_eq!(failure_step(FailureCause::UpdateFailed), -4);
        assert_eq!(failure_step(FailureCause::DeclinedByApplication), -5);
    }

    #[test]
    fn cloud_side_round_trips() {
        let Downlink::Upgrade { offer, .. } = decode_downlink::<128>(UP_TOPIC, UPGRADE.as_bytes()).unwrap()
        else {
            panic!()
        };
        let mut out = [0u8; 512];
        let n = encode_upgrade("123", &offer, &mut out).unwrap();
        assert_eq!(text(&out, n), UPGRADE);
        let n = encode_versions_reply("8", &[offer.clone(), offer.clone()], &mut out).unwrap();
        let back = decode_downlink::<128>("/sys/p/d/ota/device/getversion_reply", &out[..n]).unwrap();
        assert_eq!(
            back,
            Downlink::Versions {
                id: MessageId::try_from("8").unwrap(),
                code: 200,
                newest: Some(offer),
                listed: 2
            }
        );
        let n = encode_progress("2", &Progress::Failed(FailureCause::LowBattery), &mut out).unwrap();
        let up = decode_uplink("/sys/p/d/ota/device/progress", &out[..n]).unwrap();
        assert!(matches!(up, Uplink::Progress { step: -5, .. }));
        let n = encode_inform("1", "2.0", &mut out).unwrap();
        assert!(matches!(decode_uplink("/sys/p/d/ota/device/inform", &out[..n]), Ok(Uplink::Inform { .. })));
        assert_eq!(
            decode_uplink("/sys/p/d/ota/device/progress", &out[..n]),
            Err(DecodeError::InvalidField("method"))
        );
        let numeric =
            br#"{"id":"2","version":"1.0","method":"ota.device.progress","params":{"step":50,"desc":""}}"#;
        assert_eq!(
            decode_uplink("/sys/p/d/ota/device/progress", numeric),
            Err(DecodeError::InvalidField("step"))
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            for t in Topic::DOWNLINK {
                let topic = format!("/sys/p/d/ota/device/{}", t.name());
                let _ = decode_downlink::<64>(&topic, &bytes);
            }
            let _ = decode_uplink("/sys/p/d/ota/device/progress", &bytes);
            let _ = request_id(&bytes);
        }

        #[test]
        fn arbitrary_topics_never_panic(topic in "\\PC{0,60}") {
            let _ = Topic::of(&topic);
            let _ = decode_downlink::<64>(&topic, UPGRADE.as_bytes());
        }

        #[test]
        fn mutated_upgrades_never_panic(cut in 0usize..260, flip in 0usize..260, byte in proptest::num::u8::ANY) {
            let mut m: Vec<u8> = UPGRADE.as_bytes().to_vec();
            if let Some(b) = m.get_mut(flip) { *b = byte; }
            m.truncate(cut);
            let _ = decode_downlink::<64>(UP_TOPIC, &m);
        }
    }

    /// The attack: an `upgrade` (or a `getversion_reply` entry) that names `version`, `sign`
    /// or `fileUrl` twice, plainly or through an escape. Refused; its request id can still be
    /// answered with an error code.
    #[test]
    fn an_upgrade_with_a_repeated_key_is_refused() {
        let other = "f".repeat(32);
        for (find, twice) in [
            (r#""version":"1.2.0""#, r#""version":"1.2.0","version":"9.9.9""#.to_owned()),
            (r#""version":"1.2.0""#, r#""vers\u0069on":"9.9.9","version":"1.2.0""#.to_owned()),
            (r#""sign":""#, format!(r#""sign":"{other}","sign":""#)),
            (r#""sign":""#, format!(r#""\u0073ign":"{other}","sign":""#)),
            (r#""fileUrl":"#, r#""fileUrl":"https://evil/x","fileUrl":"#.to_owned()),
            (r#""fileUrl":"#, r#""file\u0055rl":"https://evil/x","fileUrl":"#.to_owned()),
            (r#""fileSize":524288"#, r#""fileSize":524288,"fileSize":1"#.to_owned()),
            (r#""params":"#, r#""params":{},"params":"#.to_owned()),
            (r#""method":"#, r#""method":"other","method":"#.to_owned()),
        ] {
            let attack = UPGRADE.replacen(find, &twice, 1);
            assert_ne!(attack, UPGRADE);
            assert_eq!(
                decode_downlink::<128>(UP_TOPIC, attack.as_bytes()),
                Err(DecodeError::DuplicateKey),
                "{attack}"
            );
            assert_eq!(request_id(attack.as_bytes()).unwrap().as_str(), "123", "{attack}");
        }
        let ids = UPGRADE.replace(r#""id":"123""#, r#""id":"123","\u0069d":"456""#);
        assert_eq!(decode_downlink::<128>(UP_TOPIC, ids.as_bytes()), Err(DecodeError::DuplicateKey));
        assert_eq!(request_id(ids.as_bytes()).unwrap().as_str(), "123", "the first id is answered");
        // A firmware list whose entry repeats a key is refused as a whole.
        let entry = format!(
            r#"{{"version":"2.0","sign":"{MD5}","fileUrl":"https://f/2","fileSize":8,"version":"3.0"}}"#
        );
        let reply = format!(r#"{{"id":"5","code":200,"data":[{entry}]}}"#);
        assert_eq!(
            decode_downlink::<128>("/sys/pk1/dk1/ota/device/getversion_reply", reply.as_bytes()),
            Err(DecodeError::DuplicateKey)
        );
    }
}
