//! [`HuaweiDialect`]: Huawei IoTDA `$ota` events for a [`Flow`](super::Flow).

use super::dialect::unusable_cause;
use super::{Dialect, Inbound};
use crate::Version;
use crate::agent::Report;
use crate::platform::huawei_iotda::{self, Envelope, Event, Package, ProgressReport};

/// Huawei IoTDA: subscribes `$oc/devices/{id}/sys/events/down`, publishes
/// `$oc/devices/{id}/sys/events/up`. Upgrades arrive as `firmware_upgrade` /
/// `software_upgrade` (their bearer `access_token` lands in the offer's token, which the
/// download sends) or the `_v2` forms.
///
/// | Report | `upgrade_progress_report` |
/// |---|---|
/// | `Version` | `version_report` (`fw_version`, or `sw_version` after a software upgrade) |
/// | `Progress` | `result_code` 0, `progress`, `version` = the running one |
/// | `Downloaded` | nothing (progress 100 was just reported) |
/// | `Succeeded` | `result_code` 0, `progress` 100, `version` = the new one |
/// | `Failed` | [`huawei_iotda::result_code`] (3 already latest, 7 verification failed, …), `description` |
///
/// An upgrade to the version already running is answered with result 3 (already latest)
/// and that version, not with a success: the device installed nothing, and the platform's
/// own negotiation (a `version_query` before every upgrade, seed 003 steps 4–5) already marks
/// a task whose target equals the reported version successful without sending it.
///
/// An upgrade event that cannot be used (a `sign` that is not 64 hex digits, no `url`) is
/// answered with a failure report for its version (result 255 internal exception, or 9
/// insufficient memory when a text is too long for this build's buffers), so the platform
/// does not wait out its 24-hour timeout.
#[derive(Debug, Clone)]
pub struct HuaweiDialect {
    device_id: heapless::String<64>,
    package: Package,
}

impl HuaweiDialect {
    /// The dialect for `device_id`; `None` when it is too long.
    pub fn new(device_id: &str) -> Option<Self> {
        Some(Self { device_id: heapless::String::try_from(device_id).ok()?, package: Package::Firmware })
    }

    /// Which version field the `version_report` fills: `fw_version` for
    /// [`Package::Firmware`] (the default), `sw_version` for [`Package::Software`]. An
    /// upgrade sets it to its own package kind.
    pub fn set_package(&mut self, package: Package) {
        self.package = package;
    }

    /// The package kind the version is reported as.
    pub fn package(&self) -> Package {
        self.package
    }
}

impl<const L: usize> Dialect<L> for HuaweiDialect {
    fn filter_count(&self) -> usize {
        1
    }

    fn filter<'b>(&self, index: usize, buf: &'b mut [u8]) -> Option<&'b str> {
        if index != 0 {
            return None;
        }
        huawei_iotda::downlink_topic(&self.device_id, buf).ok()
    }

    fn owns(&self, topic: &str) -> bool {
        let mut ours = [0u8; super::TOPIC_LEN];
        huawei_iotda::downlink_topic(&self.device_id, &mut ours).ok() == Some(topic)
    }

    fn decode(&mut self, topic: &str, payload: &[u8], _running: &Version) -> Inbound<L> {
        if !Dialect::<L>::owns(self, topic) {
            return Inbound::Ignore;
        }
        let down = match huawei_iotda::decode_downlink::<L>(payload) {
            Ok(down) => down,
            Err(e) => {
                return match huawei_iotda::offered_version(payload) {
                    Some((target, version)) if target.is_empty() || target == self.device_id.as_str() => {
                        Inbound::Unusable { version, cause: unusable_cause(e, "url") }
                    }
                    _ => Inbound::Ignore,
                };
            }
        };
        // A gateway's message for one of its children is not for this device.
        if !down.object_device_id.is_empty() && down.object_device_id != self.device_id {
            return Inbound::Ignore;
        }
        match down.event {
            Event::VersionQuery { .. } => Inbound::ReportVersion,
            Event::Upgrade(up) => {
                self.package = up.package;
                Inbound::Offer(up.offer)
            }
            Event::Unknown => Inbound::Ignore,
        }
    }

    fn encode_report(
        &mut self,
        report: &Report,
        running: &Version,
        topic: &mut [u8],
        out: &mut [u8],
    ) -> Option<(usize, usize)> {
        let t = huawei_iotda::uplink_topic(&self.device_id, topic).ok()?.len();
        let env = Envelope::default();
        let progress = |r: ProgressReport<'_>, out: &mut [u8]| huawei_iotda::encode_progress(&env, &r, out);
        let n = match report {
            Report::Version { current } => {
                let v = Some(current.as_str());
                let (sw, fw) = if self.package == Package::Software { (v, None) } else { (None, v) };
                huawei_iotda::encode_version_report(&env, sw, fw, out)
            }
            Report::Progress { percent, .. } => {
                progress(ProgressReport::downloading(*percent, running.as_str()), out)
            }
            Report::Downloaded { .. } => return None,
            Report::Succeeded { version, .. } => progress(ProgressReport::success(version.as_str()), out),
            Report::Failed { cause, .. } => progress(ProgressReport::failure(*cause, running.as_str()), out),
        };
        n.ok().map(|n| (t, n))
    }
}
