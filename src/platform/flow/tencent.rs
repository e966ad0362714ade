//! [`TencentDialect`]: Tencent IoT Hub topics and messages for a [`Flow`](super::Flow).

use super::dialect::unusable_cause;
use super::{Dialect, Inbound};
use crate::Version;
use crate::agent::Report;
use crate::platform::tencent::{self, Downlink, Progress};

/// Tencent IoT Hub: subscribes `$ota/update/{product}/{device}`, publishes
/// `$ota/report/{product}/{device}`.
///
/// | Report | uplink |
/// |---|---|
/// | `Version` | `report_version` |
/// | `Progress` | `report_progress` `downloading`, `percent` |
/// | `Downloaded` | `report_progress` `burning` |
/// | `Succeeded` | `report_progress` `done` (version = the new one) |
/// | `Failed` | `report_progress` `fail`, `result_code` −1..−5 ([`tencent::failure_code`]) |
///
/// An `update_firmware` that cannot be used (for instance the masked `md5sum` of the
/// documentation's example) is answered with `fail` for its version: `result_code` −5, or −2
/// when the `url` is missing.
#[derive(Debug, Clone)]
pub struct TencentDialect {
    product_id: heapless::String<64>,
    device_name: heapless::String<64>,
}

impl TencentDialect {
    /// The dialect for `device_name` of `product_id`; `None` when an id is too long.
    pub fn new(product_id: &str, device_name: &str) -> Option<Self> {
        Some(Self {
            product_id: heapless::String::try_from(product_id).ok()?,
            device_name: heapless::String::try_from(device_name).ok()?,
        })
    }

    fn uplink(&self, topic: &mut [u8]) -> Option<usize> {
        tencent::uplink_topic(&self.product_id, &self.device_name, topic).ok().map(str::len)
    }
}

impl<const L: usize> Dialect<L> for TencentDialect {
    fn filter_count(&self) -> usize {
        1
    }

    fn filter<'b>(&self, index: usize, buf: &'b mut [u8]) -> Option<&'b str> {
        if index != 0 {
            return None;
        }
        tencent::downlink_topic(&self.product_id, &self.device_name, buf).ok()
    }

    fn owns(&self, topic: &str) -> bool {
        let mut ours = [0u8; super::TOPIC_LEN];
        tencent::downlink_topic(&self.product_id, &self.device_name, &mut ours).ok() == Some(topic)
    }

    fn decode(&mut self, topic: &str, payload: &[u8], _running: &Version) -> Inbound<L> {
        if !Dialect::<L>::owns(self, topic) {
            return Inbound::Ignore;
        }
        match tencent::decode_downlink::<L>(payload) {
            Ok(Downlink::Offer(offer)) => Inbound::Offer(offer),
            Ok(Downlink::VersionReply { .. } | Downlink::Unknown) => Inbound::Ignore,
            Err(e) => match tencent::offered_version(payload) {
                Some(version) => Inbound::Unusable { version, cause: unusable_cause(e, "url") },
                None => Inbound::Ignore,
            },
        }
    }

    fn encode_report(
        &mut self,
        report: &Report,
        _running: &Version,
        topic: &mut [u8],
        out: &mut [u8],
    ) -> Option<(usize, usize)> {
        let t = self.uplink(topic)?;
        let n = match report {
            Report::Version { current } => tencent::encode_report_version(current.as_str(), out),
            Report::Progress { target, percent, .. } => {
                tencent::encode_progress(&Progress::Downloading { percent: *percent }, target.as_str(), out)
            }
            Report::Downloaded { target, .. } => {
                tencent::encode_progress(&Progress::Burning, target.as_str(), out)
            }
            Report::Succeeded { version, .. } => {
                tencent::encode_progress(&Progress::Done, version.as_str(), out)
            }
            Report::Failed { target, cause, .. } => {
                tencent::encode_progress(&Progress::Fail(*cause), target.as_str(), out)
            }
        };
        n.ok().map(|n| (t, n))
    }
}
