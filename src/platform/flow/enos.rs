//! [`EnosDialect`]: EnOS cloud `ota.device.*` topics and messages for a [`Flow`](super::Flow).

use core::fmt::Write as _;

use super::{Dialect, Inbound};
use crate::Version;
use crate::agent::{OfferOutcome, Report};
use crate::platform::enos_cloud::{self, Downlink, MessageId, Progress, Topic};

/// `upgrade_reply` code for an upgrade request that was received and judged (the outcome
/// follows as `progress`).
pub const REPLY_OK: i32 = 200;
/// `upgrade_reply` code for an upgrade request whose parameters do not decode.
pub const REPLY_BAD_REQUEST: i32 = 400;

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
        })
    }

    /// Whether a `getversion` is sent at every session start (default true).
    pub fn set_ask_on_session(&mut self, on: bool) {
        self.ask_on_session = on;
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

    fn decode(&mut self, topic: &str, payload: &[u8], running: &Version) -> Inbound<L> {
        match enos_cloud::decode_downlink::<L>(topic, payload) {
            Ok(Downlink::Upgrade { id, offer }) => {
                self.upgrade_id = Some(id);
                Inbound::Offer(offer)
            }
            Ok(Downlink::Versions { code: 200, newest: Some(offer), .. }) if offer.version > *running => {
                Inbound::Offer(offer)
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
            Report::Version { current: v } | Report::Succeeded { version: v } => {
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
