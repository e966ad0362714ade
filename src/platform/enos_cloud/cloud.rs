//! The cloud side of the EnOS cloud codec: what the platform (or a mock cloud) sends and
//! receives. Compiled only with feature `mock`: a device encodes reports and decodes
//! offers, never the reverse, so a device build carries none of this.

use serde::ser::{SerializeSeq, SerializeStruct};

use super::*;
use crate::Version;
use crate::offer::encode_hex;

struct Entry<'a, const L: usize>(&'a Offer<L>);

impl<const L: usize> Serialize for Entry<'_, L> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut hex = [0u8; 32];
        let sign = encode_hex(&self.0.digest.md5.unwrap_or_default(), &mut hex);
        let mut st = s.serialize_struct("Entry", 5)?;
        st.serialize_field("version", self.0.version.as_str())?;
        st.serialize_field("sign", sign)?;
        st.serialize_field("signMethod", "md5")?;
        st.serialize_field("fileUrl", self.0.location.as_str())?;
        st.serialize_field("fileSize", &self.0.size)?;
        st.end()
    }
}

struct Entries<'a, const L: usize>(&'a [Offer<L>]);

impl<const L: usize> Serialize for Entries<'_, L> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for offer in self.0 {
            seq.serialize_element(&Entry(offer))?;
        }
        seq.end()
    }
}

/// Cloud side: encodes an `ota.device.upgrade` request (the offer needs an MD5 digest).
pub fn encode_upgrade<const L: usize>(
    id: &str,
    offer: &Offer<L>,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    if offer.digest.md5.is_none() {
        return Err(EncodeError::InvalidValue);
    }
    encode_request(id, "ota.device.upgrade", Entry(offer), out)
}

/// Cloud side: encodes a `getversion_reply` listing `offers`.
pub fn encode_versions_reply<const L: usize>(
    id: &str,
    offers: &[Offer<L>],
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    to_json(&Reply { id, code: 200, data: Entries(offers) }, out)
}

/// A device message, as the cloud decodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uplink {
    /// `ota.device.inform`.
    Inform {
        /// Request id.
        id: MessageId,
        /// The running version.
        version: Version,
    },
    /// `ota.device.progress`.
    Progress {
        /// Request id.
        id: MessageId,
        /// `step`: 0..=100, or a negative failure step.
        step: i64,
        /// `desc`.
        desc: heapless::String<MAX_DESC_LEN>,
    },
    /// `ota.device.getversion`.
    GetVersion {
        /// Request id.
        id: MessageId,
    },
    /// The `upgrade_reply`.
    UpgradeReply {
        /// The id of the upgrade request.
        id: MessageId,
        /// `code`.
        code: i64,
    },
}

/// Cloud side: decodes a device message on `topic` and checks it against the documented
/// format: the request envelope with `"version":"1.0"` and the topic's `method`; `step` and
/// `desc` as strings with `step` in −5..=100 (below −5 is user-defined and accepted too).
pub fn decode_uplink(topic: &str, payload: &[u8]) -> Result<Uplink, DecodeError> {
    let kind = Topic::of(topic).ok_or(DecodeError::NotAMessage)?;
    let obj = parse_object(payload)?;
    let id = message_id(&obj)?;
    if kind == Topic::UpgradeReply {
        return Ok(Uplink::UpgradeReply { id, code: obj.int("code")? });
    }
    let method = kind.method().ok_or(DecodeError::NotAMessage)?;
    if obj.text("method")? != method {
        return Err(DecodeError::InvalidField("method"));
    }
    if obj.text("version")? != ENVELOPE_VERSION {
        return Err(DecodeError::InvalidField("version"));
    }
    let params = obj.object("params")?;
    match kind {
        Topic::Inform => Ok(Uplink::Inform { id, version: version_field(&params, "version")? }),
        Topic::Progress => {
            let step = match params.get("step") {
                Some(v @ Value::Str(_)) => v.int().filter(|s| *s <= 100),
                None => return Err(DecodeError::MissingField("step")),
                Some(_) => None,
            }
            .ok_or(DecodeError::InvalidField("step"))?;
            if !matches!(params.get("desc"), Some(Value::Str(_))) {
                return Err(DecodeError::InvalidField("desc"));
            }
            let mut desc = heapless::String::new();
            string_field(&params, "desc", &mut desc)?;
            Ok(Uplink::Progress { id, step, desc })
        }
        _ => Ok(Uplink::GetVersion { id }),
    }
}
