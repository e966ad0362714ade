//! Through a real mosquitto: the std MQTT adapter subscribes, the mock Tencent cloud offers
//! firmware, the device decodes it and reports; then the broker restarts and the adapter
//! reconnects, re-subscribes and messages flow again.
//!
//! Needs `mosquitto` (`apt-get install -y mosquitto`); fails with that message otherwise.

use crate::support;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use ota_client::mock::mqtt_cloud::{CloudPlatform, CloudReport, MockCloud};
use ota_client::platform::tencent::{self, Downlink, Progress, State, Uplink};
use ota_client::transport::mqtt::{LinkState, MqttClient, MqttError, MqttEvent, QoS};
use ota_client::transport::mqtt_std::StdMqttClient;
use ota_client::{Digest, FailureCause, Offer, Version};
use support::mosquitto::Mosquitto;

const PRODUCT: &str = "PROD01";
const DEVICE: &str = "dev-1";
/// Liveness bound for anything that crosses the broker (not a speed assertion).
const LIMIT: Duration = Duration::from_secs(20);

struct Device {
    mqtt: StdMqttClient,
    report_topic: String,
    update_topic: String,
    connects: usize,
    disconnects: usize,
    bad_messages: usize,
    inbox: VecDeque<Vec<u8>>,
}

impl Device {
    fn connect(port: u16) -> Self {
        let mut buf = [0u8; 128];
        let update_topic = tencent::downlink_topic(PRODUCT, DEVICE, &mut buf).unwrap().to_string();
        let report_topic = tencent::uplink_topic(PRODUCT, DEVICE, &mut buf).unwrap().to_string();
        let mut mqtt = StdMqttClient::connect("ota-device-1", "127.0.0.1", port);
        nb::block!(mqtt.subscribe(&update_topic, QoS::AtLeastOnce)).unwrap();
        Self {
            mqtt,
            report_topic,
            update_topic,
            connects: 0,
            disconnects: 0,
            bad_messages: 0,
            inbox: VecDeque::new(),
        }
    }

    /// Handles everything the adapter has queued: link events are counted, messages kept
    /// in `inbox`.
    fn pump(&mut self) {
        let mut buf = [0u8; 2048];
        loop {
            match self.mqtt.poll(&mut buf) {
                Ok(MqttEvent::Message { topic, payload }) => {
                    assert_eq!(topic, self.update_topic);
                    self.inbox.push_back(payload.to_vec());
                }
                Ok(MqttEvent::Connected { resubscribed }) => {
                    assert!(resubscribed, "the std adapter re-subscribes by itself");
                    self.connects += 1;
                }
                Ok(MqttEvent::Disconnected) => self.disconnects += 1,
                Err(nb::Error::WouldBlock) => return,
                Err(nb::Error::Other(MqttError::MessageTooLarge { .. })) => self.bad_messages += 1,
                Err(nb::Error::Other(e)) => panic!("mqtt error: {e}"),
            }
        }
    }

    /// Waits until a Tencent downlink decodes (counting undecodable ones on the way).
    fn next_downlink(&mut self) -> Option<Downlink<256>> {
        let deadline = Instant::now() + LIMIT;
        while Instant::now() < deadline {
            self.pump();
            while let Some(payload) = self.inbox.pop_front() {
                match tencent::decode_downlink::<256>(&payload) {
                    Ok(d) => return Some(d),
                    Err(_) => self.bad_messages += 1,
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }

    /// Waits until `done` holds, pumping events meanwhile.
    fn wait(&mut self, what: &str, mut done: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + LIMIT;
        loop {
            self.pump();
            if done(self) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: state {:?}, {} connects",
                self.mqtt.state(),
                self.connects
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits until the adapter is Ready.
    fn wait_ready(&mut self) {
        self.wait("device link ready", |d| d.mqtt.state() == LinkState::Ready);
    }

    fn send(&mut self, encode: impl FnOnce(&mut [u8]) -> usize) {
        let mut out = [0u8; 512];
        let n = encode(&mut out);
        nb::block!(self.mqtt.publish(&self.report_topic, &out[..n], QoS::AtLeastOnce)).unwrap();
    }
}

fn offer(version: &str) -> Offer {
    Offer::new(
        Version::parse(version).unwrap(),
        708_482,
        Digest::md5_hex("36eb5951179db14a63aaaaa37a9322a2").unwrap(),
    )
    .with_location("http://127.0.0.1:8080/fw.bin")
    .unwrap()
}

fn progress(report: &CloudReport) -> (State, Option<u8>, i64, String) {
    match report {
        CloudReport::Tencent(Uplink::ReportProgress { state, percent, result_code, version, .. }) => {
            (*state, *percent, *result_code, version.as_str().to_string())
        }
        other => panic!("expected a progress report, got {other:?}"),
    }
}

#[test]
fn tencent_offer_reports_and_broker_restart() {
    let mut broker = Mosquitto::start();
    let cloud = MockCloud::start(CloudPlatform::tencent(PRODUCT, DEVICE), "127.0.0.1", broker.port());
    assert!(cloud.wait_ready(LIMIT), "mock cloud not ready; broker log:\n{}", broker.log());
    let mut device = Device::connect(broker.port());
    device.wait_ready();
    assert_eq!(device.connects, 1);
    assert_eq!(device.mqtt.subscriptions(), [device.update_topic.clone()]);

    // The device reports its version; the cloud records it and answers.
    device.send(|out| tencent::encode_report_version("1.0.0", out).unwrap());
    let reply = device.next_downlink().expect("report_version_rsp");
    assert_eq!(
        reply,
        Downlink::VersionReply { result_code: 0, version: Some(Version::parse("1.0.0").unwrap()) }
    );

    // Garbage on the subscribed topic is refused by the decoder, then the offer arrives.
    cloud.publish_raw(&device.update_topic, b"{\"type\":\"update_firmware\",\"file_size\":").unwrap();
    cloud.publish_raw(&device.update_topic, &[0xff, 0x00, 0x7b]).unwrap();
    cloud.offer(&offer("1.1.0")).unwrap();
    let Some(Downlink::Offer(got)) = device.next_downlink() else { panic!("no offer") };
    assert_eq!(device.bad_messages, 2);
    assert!(got.same_firmware(&offer("1.1.0")));
    assert_eq!(got.location.as_str(), "http://127.0.0.1:8080/fw.bin");

    for percent in [0, 50, 100] {
        device
            .send(|out| tencent::encode_progress(&Progress::Downloading { percent }, "1.1.0", out).unwrap());
    }
    device.send(|out| tencent::encode_progress(&Progress::Burning, "1.1.0", out).unwrap());
    device.send(|out| tencent::encode_progress(&Progress::Done, "1.1.0", out).unwrap());
    let reports = cloud.wait_reports(6, LIMIT);
    assert_eq!(reports.len(), 6, "{reports:?}");
    assert_eq!(
        reports[0],
        CloudReport::Tencent(Uplink::ReportVersion { version: Version::parse("1.0.0").unwrap() })
    );
    let seen: Vec<_> = reports[1..].iter().map(progress).collect();
    let v = "1.1.0".to_string();
    assert_eq!(
        seen,
        [
            (State::Downloading, Some(0), 0, v.clone()),
            (State::Downloading, Some(50), 0, v.clone()),
            (State::Downloading, Some(100), 0, v.clone()),
            (State::Burning, None, 0, v.clone()),
            (State::Done, None, 0, v.clone()),
        ]
    );

    // The broker restarts: both sides reconnect, the adapter re-subscribes, traffic flows.
    cloud.clear_reports();
    broker.restart();
    device.wait("device back after the broker restart", |d| {
        d.disconnects == 1 && d.connects == 2 && d.mqtt.state() == LinkState::Ready
    });
    assert!(cloud.wait_ready(LIMIT), "mock cloud did not come back");
    assert_eq!(device.connects, 2);
    assert_eq!(device.disconnects, 1);

    cloud.offer(&offer("1.2.0")).unwrap();
    let Some(Downlink::Offer(again)) = device.next_downlink() else { panic!("no offer after restart") };
    assert_eq!(again.version.as_str(), "1.2.0");
    device.send(|out| {
        tencent::encode_progress(&Progress::Fail(FailureCause::IntegrityCheckFailure), "1.2.0", out).unwrap()
    });
    let reports = cloud.wait_reports(1, LIMIT);
    assert_eq!(reports.len(), 1);
    assert_eq!(progress(&reports[0]), (State::Fail, None, -4, "1.2.0".to_string()));
}

#[test]
fn forced_reconnect_resubscribes() {
    let broker = Mosquitto::start();
    let cloud = MockCloud::start(CloudPlatform::tencent(PRODUCT, DEVICE), "127.0.0.1", broker.port());
    assert!(cloud.wait_ready(LIMIT));
    let mut device = Device::connect(broker.port());
    device.wait_ready();
    nb::block!(device.mqtt.reconnect()).unwrap();
    device.wait("second session", |d| d.connects == 2 && d.mqtt.state() == LinkState::Ready);
    cloud.offer(&offer("2.0")).unwrap();
    assert!(matches!(device.next_downlink(), Some(Downlink::Offer(_))));
    assert_eq!(device.disconnects, 1);
}

#[test]
fn oversized_message_is_dropped_not_fatal() {
    let broker = Mosquitto::start();
    let cloud = MockCloud::start(CloudPlatform::tencent(PRODUCT, DEVICE), "127.0.0.1", broker.port());
    assert!(cloud.wait_ready(LIMIT));
    let mut device = Device::connect(broker.port());
    device.wait_ready();
    cloud.publish_raw(&device.update_topic, &vec![b' '; 4000]).unwrap();
    cloud.offer(&offer("3.0")).unwrap();
    // The 2 KiB poll buffer cannot hold the first message: it is reported and dropped.
    assert!(matches!(device.next_downlink(), Some(Downlink::Offer(_))));
    assert_eq!(device.bad_messages, 1);
}
