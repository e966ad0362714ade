//! A host-side mock of the MQTT clouds (Tencent IoT Hub, Huawei IoTDA, EnOS cloud).
//!
//! It connects to a real broker through [`StdMqttClient`] (so it reconnects and
//! re-subscribes across broker restarts like the device does), subscribes to the device's
//! uplink topics, decodes every report with the platform's own codec — which also checks
//! the report against the documented format — and keeps them in order for the test to
//! assert on. It answers what the real platform answers (Tencent `report_version_rsp`,
//! EnOS `inform_reply`, `progress_reply` and `getversion_reply`), and publishes offers,
//! version queries or raw bytes on the device's downlink topic when the test asks.
//!
//! ```no_run
//! use ota_client::mock::mqtt_cloud::{CloudPlatform, MockCloud};
//! let cloud = MockCloud::start(CloudPlatform::tencent("PRODUCT", "dev1"), "127.0.0.1", 1883);
//! assert!(cloud.wait_ready(std::time::Duration::from_secs(10)));
//! ```

use std::string::{String, ToString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use std::vec::Vec;

use crate::Offer;
use crate::platform::{DecodeError, EncodeError, enos_cloud, huawei_iotda, tencent};
use crate::transport::mqtt::{LinkState, MqttClient, MqttEvent, QoS};
use crate::transport::mqtt_std::StdMqttClient;

/// Which platform the mock plays, with the device's identity on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudPlatform {
    /// Tencent IoT Hub.
    Tencent {
        /// `productID`.
        product_id: String,
        /// `deviceName`.
        device_name: String,
    },
    /// Huawei IoTDA.
    Huawei {
        /// `device_id`.
        device_id: String,
    },
    /// EnOS cloud.
    Enos {
        /// Product key.
        product_key: String,
        /// Device key.
        device_key: String,
    },
}

impl CloudPlatform {
    /// Tencent IoT Hub for device `device_name` of product `product_id`.
    pub fn tencent(product_id: &str, device_name: &str) -> Self {
        Self::Tencent { product_id: product_id.to_string(), device_name: device_name.to_string() }
    }

    /// Huawei IoTDA for `device_id`.
    pub fn huawei(device_id: &str) -> Self {
        Self::Huawei { device_id: device_id.to_string() }
    }

    /// EnOS cloud for device `device_key` of product `product_key`.
    pub fn enos(product_key: &str, device_key: &str) -> Self {
        Self::Enos { product_key: product_key.to_string(), device_key: device_key.to_string() }
    }

    fn topic_text(r: Result<&str, EncodeError>) -> String {
        r.map(str::to_string).unwrap_or_default()
    }

    /// The topics the device publishes on (the mock subscribes to them).
    pub fn uplink_topics(&self) -> Vec<String> {
        let mut buf = [0u8; 256];
        match self {
            Self::Tencent { product_id, device_name } => {
                std::vec![Self::topic_text(tencent::uplink_topic(product_id, device_name, &mut buf))]
            }
            Self::Huawei { device_id } => {
                std::vec![Self::topic_text(huawei_iotda::uplink_topic(device_id, &mut buf))]
            }
            Self::Enos { product_key, device_key } => enos_cloud::Topic::UPLINK
                .iter()
                .map(|t| Self::topic_text(enos_cloud::topic(*t, product_key, device_key, &mut buf)))
                .collect(),
        }
    }

    /// The topic the device subscribes to (for EnOS: the `upgrade` topic).
    pub fn downlink_topic(&self) -> String {
        self.enos_topic_or(enos_cloud::Topic::Upgrade)
    }

    fn enos_topic_or(&self, kind: enos_cloud::Topic) -> String {
        let mut buf = [0u8; 256];
        match self {
            Self::Tencent { product_id, device_name } => {
                Self::topic_text(tencent::downlink_topic(product_id, device_name, &mut buf))
            }
            Self::Huawei { device_id } => Self::topic_text(huawei_iotda::downlink_topic(device_id, &mut buf)),
            Self::Enos { product_key, device_key } => {
                Self::topic_text(enos_cloud::topic(kind, product_key, device_key, &mut buf))
            }
        }
    }
}

/// A device report as the mock received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudReport {
    /// A Tencent report.
    Tencent(tencent::Uplink),
    /// A Huawei report.
    Huawei(huawei_iotda::Uplink),
    /// An EnOS message.
    Enos(enos_cloud::Uplink),
    /// A message that does not follow the platform's format.
    Invalid {
        /// Where it arrived.
        topic: String,
        /// What it held.
        payload: Vec<u8>,
        /// Why the codec refused it.
        error: DecodeError,
    },
}

struct State {
    reports: Vec<CloudReport>,
    /// Firmware the EnOS mock lists in its `getversion_reply`.
    enos_catalogue: Vec<Offer>,
    next_id: u64,
}

/// The mock cloud. Dropping it disconnects.
pub struct MockCloud {
    platform: CloudPlatform,
    mqtt: Arc<Mutex<StdMqttClient>>,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why the mock could not publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CloudError {
    /// The message could not be encoded (a digest the platform needs is missing, or it
    /// is too large).
    Encode(EncodeError),
    /// The MQTT client would not take the message within a second.
    NotSent,
    /// This platform has no such message.
    NotOnThisPlatform,
}

impl core::fmt::Display for CloudError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Encode(_) => f.write_str("message could not be encoded"),
            Self::NotSent => f.write_str("MQTT client did not take the message"),
            Self::NotOnThisPlatform => f.write_str("no such message on this platform"),
        }
    }
}

impl core::error::Error for CloudError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Encode(e) => Some(e),
            _ => None,
        }
    }
}

impl MockCloud {
    /// Connects to the broker at `host:port` and subscribes to the device's uplinks.
    pub fn start(platform: CloudPlatform, host: &str, port: u16) -> Self {
        let mut client = StdMqttClient::connect("ota-mock-cloud", host, port);
        for topic in platform.uplink_topics() {
            // A fresh client's queue has room; a refusal would show as never becoming ready.
            let _ = client.subscribe(&topic, QoS::AtLeastOnce);
        }
        let mqtt = Arc::new(Mutex::new(client));
        let state =
            Arc::new(Mutex::new(State { reports: Vec::new(), enos_catalogue: Vec::new(), next_id: 1 }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (platform, mqtt, state, stop) = (platform.clone(), mqtt.clone(), state.clone(), stop.clone());
            std::thread::Builder::new()
                .name("mock-cloud".to_string())
                .spawn(move || serve(&platform, &mqtt, &state, &stop))
                .ok()
        };
        Self { platform, mqtt, state, stop, thread }
    }

    /// The platform played.
    pub fn platform(&self) -> &CloudPlatform {
        &self.platform
    }

    /// The link state of the mock's own client.
    pub fn link_state(&self) -> LinkState {
        lock(&self.mqtt).state()
    }

    /// Waits until the mock is connected with its subscriptions acknowledged.
    pub fn wait_ready(&self, limit: Duration) -> bool {
        wait_until(limit, || self.link_state() == LinkState::Ready)
    }

    /// Every report received so far, in order.
    pub fn reports(&self) -> Vec<CloudReport> {
        lock(&self.state).reports.clone()
    }

    /// Forgets the reports received so far.
    pub fn clear_reports(&self) {
        lock(&self.state).reports.clear();
    }

    /// Waits until at least `count` reports have arrived; returns them all.
    pub fn wait_reports(&self, count: usize, limit: Duration) -> Vec<CloudReport> {
        wait_until(limit, || lock(&self.state).reports.len() >= count);
        self.reports()
    }

    /// Publishes raw bytes on `topic` (bad-input tests).
    pub fn publish_raw(&self, topic: &str, payload: &[u8]) -> Result<(), CloudError> {
        publish(&self.mqtt, topic, payload)
    }

    fn publish_encoded(
        &self,
        topic: &str,
        encode: impl FnOnce(&mut [u8]) -> Result<usize, EncodeError>,
    ) -> Result<(), CloudError> {
        let mut out = std::vec![0u8; 4096];
        let n = encode(&mut out).map_err(CloudError::Encode)?;
        self.publish_raw(topic, out.get(..n).unwrap_or(&[]))
    }

    fn next_id(&self) -> String {
        let mut s = lock(&self.state);
        s.next_id += 1;
        s.next_id.to_string()
    }

    /// Pushes an offer the platform's way: Tencent `update_firmware` (MD5), Huawei
    /// `firmware_upgrade` (SHA-256; the offer's token as `access_token`, or the `_v2` form
    /// when the token is empty), EnOS `ota.device.upgrade` (MD5).
    pub fn offer(&self, offer: &Offer) -> Result<(), CloudError> {
        let topic = self.platform.downlink_topic();
        match &self.platform {
            CloudPlatform::Tencent { .. } => {
                self.publish_encoded(&topic, |out| tencent::encode_offer(offer, out))
            }
            CloudPlatform::Huawei { .. } => {
                let upgrade = huawei_iotda::Upgrade {
                    package: huawei_iotda::Package::Firmware,
                    presigned: offer.token.is_empty(),
                    offer: offer.clone(),
                    expires: Some(86400),
                };
                let env = huawei_iotda::Envelope::default();
                self.publish_encoded(&topic, |out| huawei_iotda::encode_upgrade(&env, &upgrade, out))
            }
            CloudPlatform::Enos { .. } => {
                let id = self.next_id();
                self.publish_encoded(&topic, |out| enos_cloud::encode_upgrade(&id, offer, out))
            }
        }
    }

    /// Huawei only: sends a `version_query`.
    pub fn version_query(&self) -> Result<(), CloudError> {
        if !matches!(self.platform, CloudPlatform::Huawei { .. }) {
            return Err(CloudError::NotOnThisPlatform);
        }
        let topic = self.platform.downlink_topic();
        let env = huawei_iotda::Envelope::default();
        self.publish_encoded(&topic, |out| huawei_iotda::encode_version_query(&env, None, out))
    }

    /// EnOS only: the firmware listed in answers to the device's `getversion`.
    pub fn set_enos_catalogue(&self, offers: &[Offer]) -> Result<(), CloudError> {
        if !matches!(self.platform, CloudPlatform::Enos { .. }) {
            return Err(CloudError::NotOnThisPlatform);
        }
        lock(&self.state).enos_catalogue = offers.to_vec();
        Ok(())
    }
}

impl Drop for MockCloud {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn publish(mqtt: &Mutex<StdMqttClient>, topic: &str, payload: &[u8]) -> Result<(), CloudError> {
    let mut sent = false;
    wait_until(Duration::from_secs(1), || {
        sent = lock(mqtt).publish(topic, payload, QoS::AtLeastOnce).is_ok();
        sent
    });
    if sent { Ok(()) } else { Err(CloudError::NotSent) }
}

/// The mock's receive loop: decode, record, answer.
fn serve(platform: &CloudPlatform, mqtt: &Mutex<StdMqttClient>, state: &Mutex<State>, stop: &AtomicBool) {
    let mut buf = std::vec![0u8; 64 * 1024];
    while !stop.load(Ordering::SeqCst) {
        let received = {
            let mut client = lock(mqtt);
            match client.poll(&mut buf) {
                Ok(MqttEvent::Message { topic, payload }) => {
                    Some(Some((topic.to_string(), payload.to_vec())))
                }
                Ok(_) | Err(nb::Error::Other(_)) => Some(None),
                Err(nb::Error::WouldBlock) => None,
            }
        };
        let Some(event) = received else {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        let Some((topic, payload)) = event else { continue };
        let report = decode(platform, &topic, &payload);
        let answer = answer(platform, &report, state);
        lock(state).reports.push(report);
        if let Some((topic, bytes)) = answer {
            let _ = publish(mqtt, &topic, &bytes);
        }
    }
}

fn decode(platform: &CloudPlatform, topic: &str, payload: &[u8]) -> CloudReport {
    let decoded = match platform {
        CloudPlatform::Tencent { .. } => tencent::decode_uplink(payload).map(CloudReport::Tencent),
        CloudPlatform::Huawei { .. } => huawei_iotda::decode_uplink(payload).map(CloudReport::Huawei),
        CloudPlatform::Enos { .. } => enos_cloud::decode_uplink(topic, payload).map(CloudReport::Enos),
    };
    decoded.unwrap_or_else(|error| CloudReport::Invalid {
        topic: topic.to_string(),
        payload: payload.to_vec(),
        error,
    })
}

/// What the platform answers to a report, as (topic, payload).
fn answer(platform: &CloudPlatform, report: &CloudReport, state: &Mutex<State>) -> Option<(String, Vec<u8>)> {
    let mut out = std::vec![0u8; 8192];
    let (topic, n) = match (platform, report) {
        (CloudPlatform::Tencent { .. }, CloudReport::Tencent(tencent::Uplink::ReportVersion { version })) => {
            let n = tencent::encode_version_reply(0, "success", version.as_str(), &mut out).ok()?;
            (platform.downlink_topic(), n)
        }
        (CloudPlatform::Enos { .. }, CloudReport::Enos(up)) => {
            use enos_cloud::{Topic, Uplink};
            match up {
                Uplink::Inform { id, .. } => (
                    platform.enos_topic_or(Topic::InformReply),
                    enos_cloud::encode_reply(id, 200, &mut out).ok()?,
                ),
                Uplink::Progress { id, .. } => (
                    platform.enos_topic_or(Topic::ProgressReply),
                    enos_cloud::encode_reply(id, 200, &mut out).ok()?,
                ),
                Uplink::GetVersion { id } => {
                    let catalogue = lock(state).enos_catalogue.clone();
                    let n = enos_cloud::encode_versions_reply(id, &catalogue, &mut out).ok()?;
                    (platform.enos_topic_or(Topic::GetVersionReply), n)
                }
                Uplink::UpgradeReply { .. } => return None,
            }
        }
        _ => return None,
    };
    out.truncate(n);
    Some((topic, out))
}
