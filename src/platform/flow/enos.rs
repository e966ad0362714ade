//! [`EnosDialect`]: EnOS cloud `ota.device.*` topics and messages for a [`Flow`](super::Flow).

use core::fmt::Write as _;

use super::{Dialect, Inbound};
use crate::agent::{OfferOutcome, Report};
use crate::platform::enos_cloud::{self, Downlink, MessageId, Progress, Topic};
use crate::transport::http::Url;
use crate::{Offer, Version};

/// `upgrade_reply` code for an upgrade request that was received and judged (the outcome
/// follows as `progress`).
pub const REPLY_OK: i32 = 200;
/// `upgrade_reply` code for an upgrade request whose parameters do not decode.
pub const REPLY_BAD_REQUEST: i32 = 400;
/// Longest file service base ([`EnosDialect::set_file_base`]).
pub const FILE_BASE_LEN: usize = 128;

/// Why [`EnosDialect::set_file_base`] refused a base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FileBaseError {
    /// Not an absolute `http(s)://` URL.
    NotAUrl,
    /// Longer than [`FILE_BASE_LEN`] bytes.
    TooLong,
}

impl core::fmt::Display for FileBaseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NotAUrl => f.write_str("file base is not an http(s) URL"),
            Self::TooLong => f.write_str("file base too long"),
        }
    }
}

impl core::error::Error for FileBaseError {}

/// EnOS cloud: subscribes to `upgrade` and the `*_reply` topics of
/// `/sys/{pk}/{dk}/ota/device/`. Both modes: a cloud forced push (`upgrade`, answered with an
/// `upgrade_reply`) and upon device request (a `getversion` at every session start; the
/// newest listed firmware newer than the running one is taken as an offer).
///
/// | Report | uplink |
/// |---|---|
/// | `Version` | `inform` with the running version |
/// | `Progress` | `progress` `step` = percent, `desc` "downloading" |
/// | `Downloaded` | `progress` `step` "100", `desc` "verified and staged, rebooting" |
/// | `Succeeded` | `inform` with the new version |
/// | `Failed` | `progress` `step` −1..−5 ([`enos_cloud::failure_step`]), `desc` the cause |
///
/// **`fileUrl`.** EnOS's device OTA documentation shows `fileUrl` as a path of its file
/// service (`"/1b30e0ea83002000/ota/kadak13"`), not a full URL. Give the dialect that
/// service's base with [`EnosDialect::set_file_base`] and such a path is resolved against it
/// before the offer reaches the Agent; a full `http(s)://` URL is used as sent. Without a
/// base, a path-only `fileUrl` reaches the download as it is and fails there as an invalid
/// URI (reported as `step` −2).
///
/// ```
/// use ota_client::platform::flow::{Dialect, EnosDialect, Inbound};
/// use ota_client::Version;
/// let mut enos = EnosDialect::new("pk1", "dk1").unwrap();
/// enos.set_file_base("https://files.enos.example/dm").unwrap();
/// let msg = br#"{"id":"123","version":"1.0","method":"ota.device.upgrade","params":{"version":"v1.0",
///   "sign":"00112233445566778899aabbccddeeff","signMethod":"md5","fileUrl":"/1b30e0ea83002000/ota/kadak13","fileSize":1024}}"#;
/// let running = Version::parse("v0.9").unwrap();
/// let Inbound::Offer(offer) = Dialect::<256>::decode(&mut enos, "/sys/pk1/dk1/ota/device/upgrade", msg, &running)
/// else { panic!() };
/// assert_eq!(offer.location.as_str(), "https://files.enos.example/dm/1b30e0ea83002000/ota/kadak13");
/// ```
#[derive(Debug, Clone)]
pub struct EnosDialect {
    product_key: heapless::String<64>,
    device_key: heapless::String<64>,
    next_id: u32,
    /// The upgrade request being judged.
    upgrade_id: Option<MessageId>,
    /// Replies and requests to send, in order.
    requests: heapless::Deque<Request, 4>,
    /// Ask for firmware at every session start.
    ask_on_session: bool,
    /// Base that a path-only `fileUrl` is resolved against (empty: none).
    file_base: heapless::String<FILE_BASE_LEN>,
}

#[derive(Debug, Clone)]
enum Request {
    UpgradeReply { id: MessageId, code: i32 },
    GetVersion,
}

impl EnosDialect {
    /// The dialect for `device_key` of `product_key`; `None` when a key is too long.
    pub fn new(product_key: &str, device_key: &str) -> Option<Self> {
        Some(Self {
            product_key: heapless::String::try_from(product_key).ok()?,
            device_key: heapless::String::try_from(device_key).ok()?,
            next_id: 1,
            upgrade_id: None,
            requests: heapless::Deque::new(),
            ask_on_session: true,
            file_base: heapless::String::new(),
        })
    }

    /// The base URL of the file service that a path-only `fileUrl` (such as
    /// `/1b30e0ea83002000/ota/kadak13`) is resolved against: the path is appended to the base,
    /// which may carry a path prefix of its own (a trailing `/` is dropped).
    pub fn set_file_base(&mut self, base: &str) -> Result<(), FileBaseError> {
        let base = base.trim().trim_end_matches('/');
        Url::parse(base).map_err(|_| FileBaseError::NotAUrl)?;
        let mut b = heapless::String::new();
        b.push_str(base).map_err(|_| FileBaseError::TooLong)?;
        self.file_base = b;
        Ok(())
    }

    /// The offer with a path-only location resolved against the file base; `None` when the
    /// resolved URL does not fit the offer's location.
    fn resolved<const L: usize>(&self, mut offer: Offer<L>) -> Option<Offer<L>> {
        let path = offer.location.trim();
        if self.file_base.is_empty() || !path.starts_with('/') || path.starts_with("//") {
            return Some(offer);
        }
        let mut url: heapless::String<L> = heapless::String::new();
        url.push_str(&self.file_base).ok()?;
        url.push_str(path).ok()?;
        offer.location = url;
        Some(offer)
    }

    /// Whether a `getversion` is sent at every session start (default true).
    pub fn set_ask_on_session(&mut self, on: bool) {
        self.ask_on_session = on;
    }

    /// Asks the cloud for firmware now ("upon device request": the device asks when its own
    /// conditions are met): a `getversion` goes out at the flow's next
    /// [`poll`](super::Flow::poll) with a session up. Reach the dialect through
    /// [`Flow::dialect_mut`](super::Flow::dialect_mut). False when the request queue is full
    /// (a request is already waiting).
    pub fn ask_now(&mut self) -> bool {
        self.requests.push_back(Request::GetVersion).is_ok()
    }

    fn topic(&self, kind: Topic, buf: &mut [u8]) -> Option<usize> {
        enos_cloud::topic(kind, &self.product_key, &self.device_key, buf).ok().map(str::len)
    }

    fn id(&mut self) -> heapless::String<12> {
        let mut s = heapless::String::new();
        let _ = write!(s, "{}", self.next_id);
        self.next_id = self.next_id.wrapping_add(1).max(1);
        s
    }
}

impl<const L: usize> Dialect<L> for EnosDialect {
    fn filter_count(&self) -> usize {
        Topic::DOWNLINK.len()
    }

    fn filter<'b>(&self, index: usize, buf: &'b mut [u8]) -> Option<&'b str> {
        let kind = *Topic::DOWNLINK.get(index)?;
        enos_cloud::topic(kind, &self.product_key, &self.device_key, buf).ok()
    }

    /// Only this device's OTA downlink topics: not another device's (a gateway's children
    /// share the client) nor the application's own.
    fn owns(&self, topic: &str) -> bool {
        let mut ours = [0u8; super::TOPIC_LEN];
        Topic::of(topic).is_some_and(|kind| {
            Topic::DOWNLINK.contains(&kind)
                && self.topic(kind, &mut ours).and_then(|n| ours.get(..n)) == Some(topic.as_bytes())
        })
    }

    fn decode(&mut self, topic: &str, payload: &[u8], running: &Version) -> Inbound<L> {
        if !Dialect::<L>::owns(self, topic) {
            return Inbound::Ignore;
        }
        match enos_cloud::decode_downlink::<L>(topic, payload) {
            Ok(Downlink::Upgrade { id, offer }) => match self.resolved(offer) {
                Some(offer) => {
                    self.upgrade_id = Some(id);
                    Inbound::Offer(offer)
                }
                None => {
                    let _ = self.requests.push_back(Request::UpgradeReply { id, code: REPLY_BAD_REQUEST });
                    Inbound::Ignore
                }
            },
            Ok(Downlink::Versions { code: 200, newest: Some(offer), .. }) if offer.version > *running => {
                self.resolved(offer).map_or(Inbound::Ignore, Inbound::Offer)
            }
            Ok(_) => Inbound::Ignore,
            Err(_) => {
                if Topic::of(topic) == Some(Topic::Upgrade)
                    && let Some(id) = enos_cloud::request_id(payload)
                {
                    let _ = self.requests.push_back(Request::UpgradeReply { id, code: REPLY_BAD_REQUEST });
                }
                Inbound::Ignore
            }
        }
    }

    fn session_ready(&mut self) {
        if self.ask_on_session {
            let _ = self.requests.push_back(Request::GetVersion);
        }
    }

    fn offer_outcome(&mut self, _outcome: OfferOutcome) {
        if let Some(id) = self.upgrade_id.take() {
            let _ = self.requests.push_back(Request::UpgradeReply { id, code: REPLY_OK });
        }
    }

    fn next_request(&mut self, topic: &mut [u8], out: &mut [u8]) -> Option<(usize, usize)> {
        let (kind, n) = match self.requests.front()?.clone() {
            Request::UpgradeReply { id, code } => {
                (Topic::UpgradeReply, enos_cloud::encode_upgrade_reply(&id, code, out))
            }
            Request::GetVersion => {
                let id = self.id();
                (Topic::GetVersion, enos_cloud::encode_getversion(&id, out))
            }
        };
        match (self.topic(kind, topic), n) {
            (Some(t), Ok(n)) => Some((t, n)),
            // Cannot be encoded: drop it and go on with the next.
            _ => {
                self.requests.pop_front();
                Dialect::<L>::next_request(self, topic, out)
            }
        }
    }

    fn request_sent(&mut self) {
        self.requests.pop_front();
    }

    fn encode_report(
        &mut self,
        report: &Report,
        _running: &Version,
        topic: &mut [u8],
        out: &mut [u8],
    ) -> Option<(usize, usize)> {
        let id = self.id();
        let (kind, n) = match report {
            Report::Version { current: v } | Report::Succeeded { version: v, .. } => {
                (Topic::Inform, enos_cloud::encode_inform(&id, v.as_str(), out))
            }
            Report::Progress { percent, .. } => {
                let p = Progress::Step { percent: *percent, desc: "downloading" };
                (Topic::Progress, enos_cloud::encode_progress(&id, &p, out))
            }
            Report::Downloaded { .. } => {
                let p = Progress::Step { percent: 100, desc: "verified and staged, rebooting" };
                (Topic::Progress, enos_cloud::encode_progress(&id, &p, out))
            }
            Report::Failed { cause, .. } => {
                (Topic::Progress, enos_cloud::encode_progress(&id, &Progress::Failed(*cause), out))
            }
        };
        Some((self.topic(kind, topic)?, n.ok()?))
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    const UP: &str = "/sys/pk1/dk1/ota/device/upgrade";
    const VERSIONS: &str = "/sys/pk1/dk1/ota/device/getversion_reply";

    /// The upgrade request of EnOS's device OTA documentation (a path-only `fileUrl`), with a
    /// real MD5 in place of its placeholder `sign`.
    const DOC_UPGRADE: &[u8] = br#"{"id":"123","version":"1.0","method":"ota.device.upgrade","params":{"version":"v1.0","sign":"00112233445566778899aabbccddeeff","signMethod":"md5","fileUrl":"/1b30e0ea83002000/ota/kadak13","fileSize":1024}}"#;

    fn running() -> Version {
        Version::parse("v0.9").unwrap()
    }

    fn offer_of(d: &mut EnosDialect, topic: &str, msg: &[u8]) -> Inbound<128> {
        Dialect::<128>::decode(d, topic, msg, &running())
    }

    #[test]
    fn path_only_file_url_resolves_against_the_file_base() {
        let mut d = EnosDialect::new("pk1", "dk1").unwrap();
        let Inbound::Offer(o) = offer_of(&mut d, UP, DOC_UPGRADE) else { panic!() };
        assert_eq!(o.location.as_str(), "/1b30e0ea83002000/ota/kadak13", "no base: kept as sent");

        assert_eq!(d.set_file_base("ftp://x"), Err(FileBaseError::NotAUrl));
        assert_eq!(d.set_file_base(&"http://h/".repeat(20)), Err(FileBaseError::TooLong));
        d.set_file_base("http://10.0.0.5:8080/files/").unwrap();
        let Inbound::Offer(o) = offer_of(&mut d, UP, DOC_UPGRADE) else { panic!() };
        assert_eq!(o.location.as_str(), "http://10.0.0.5:8080/files/1b30e0ea83002000/ota/kadak13");

        let full = core::str::from_utf8(DOC_UPGRADE)
            .unwrap()
            .replace("/1b30e0ea83002000/ota/kadak13", "https://cdn.example/fw.bin");
        let Inbound::Offer(o) = offer_of(&mut d, UP, full.as_bytes()) else { panic!() };
        assert_eq!(o.location.as_str(), "https://cdn.example/fw.bin", "a full URL is used as sent");

        // The documented getversion reply lists entries of the same shape.
        let list = br#"{"id":"1","code":200,"data":[{"version":"v1.0","sign":"00112233445566778899aabbccddeeff","signMethod":"md5","fileUrl":"/1b30e0ea83002000/ota/kadak13","fileSize":1024}]}"#;
        let Inbound::Offer(o) = offer_of(&mut d, VERSIONS, list) else { panic!() };
        assert_eq!(o.location.as_str(), "http://10.0.0.5:8080/files/1b30e0ea83002000/ota/kadak13");
    }

    #[test]
    fn only_this_devices_topics_are_taken() {
        let mut d = EnosDialect::new("pk1", "dk1").unwrap();
        for other in
            ["/sys/pk1/child-7/ota/device/upgrade", "/sys/pk2/dk1/ota/device/upgrade", "app/commands"]
        {
            assert_eq!(offer_of(&mut d, other, DOC_UPGRADE), Inbound::Ignore, "{other}");
        }
        let (mut topic, mut out) = ([0u8; 128], [0u8; 128]);
        assert_eq!(Dialect::<128>::next_request(&mut d, &mut topic, &mut out), None, "nor answered");
        assert!(matches!(offer_of(&mut d, UP, DOC_UPGRADE), Inbound::Offer(_)));
    }

    #[test]
    fn ask_now_queues_a_getversion() {
        let mut d = EnosDialect::new("pk1", "dk1").unwrap();
        d.set_ask_on_session(false);
        Dialect::<64>::session_ready(&mut d);
        let (mut topic, mut out) = ([0u8; 128], [0u8; 128]);
        assert_eq!(Dialect::<64>::next_request(&mut d, &mut topic, &mut out), None);
        assert!(d.ask_now());
        let (t, n) = Dialect::<64>::next_request(&mut d, &mut topic, &mut out).unwrap();
        assert_eq!(&topic[..t], b"/sys/pk1/dk1/ota/device/getversion");
        assert_eq!(&out[..n], br#"{"id":"1","version":"1.0","method":"ota.device.getversion","params":{}}"#);
        Dialect::<64>::request_sent(&mut d);
        assert_eq!(Dialect::<64>::next_request(&mut d, &mut topic, &mut out), None);
        for _ in 0..4 {
            assert!(d.ask_now());
        }
        assert!(!d.ask_now(), "the queue is bounded");
    }

    #[test]
    fn an_upgrade_whose_resolved_url_does_not_fit_is_answered_400() {
        let mut d = EnosDialect::new("pk1", "dk1").unwrap();
        d.set_file_base(&format!("http://h/{}", "p".repeat(100))).unwrap();
        assert_eq!(Dialect::<64>::decode(&mut d, UP, DOC_UPGRADE, &running()), Inbound::Ignore);
        let (mut topic, mut out) = ([0u8; 128], [0u8; 128]);
        let (t, n) = Dialect::<64>::next_request(&mut d, &mut topic, &mut out).unwrap();
        assert_eq!(&topic[..t], b"/sys/pk1/dk1/ota/device/upgrade_reply");
        assert_eq!(&out[..n], br#"{"id":"123","code":400,"data":{}}"#);
    }
}
