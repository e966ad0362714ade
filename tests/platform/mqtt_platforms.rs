//! Through a real mosquitto, the mock Huawei IoTDA and EnOS clouds against a device that
//! speaks with the platform codecs over the std MQTT adapter: queries, offers, replies and
//! every report checked by the cloud against the platform's format.
//!
//! Needs `mosquitto` (`apt-get install -y mosquitto`); fails with that message otherwise.

use crate::support;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use ota_client::mock::mqtt_cloud::{CloudPlatform, CloudReport, MockCloud};
use ota_client::platform::{enos_cloud, huawei_iotda};
use ota_client::transport::mqtt::{LinkState, MqttClient, MqttEvent, QoS};
use ota_client::transport::mqtt_std::StdMqttClient;
use ota_client::{Digest, FailureCause, Offer, Version};
use support::mosquitto::Mosquitto;

const LIMIT: Duration = Duration::from_secs(20);
const SHA: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const MD5: &str = "9a0364b9e99bb480dd25e1f0284c8555";

struct Device {
    mqtt: StdMqttClient,
    inbox: VecDeque<(String, Vec<u8>)>,
}

impl Device {
    fn connect(port: u16, topics: &[String]) -> Self {
        let mut mqtt = StdMqttClient::connect("ota-device", "127.0.0.1", port);
        for t in topics {
            nb::block!(mqtt.subscribe(t, QoS::AtLeastOnce)).unwrap();
        }
        let mut d = Self { mqtt, inbox: VecDeque::new() };
        let deadline = Instant::now() + LIMIT;
        while d.mqtt.state() != LinkState::Ready {
            assert!(Instant::now() < deadline, "device not ready");
            d.pump();
            std::thread::sleep(Duration::from_millis(5));
        }
        d
    }

    fn pump(&mut self) {
        let mut buf = [0u8; 4096];
        loop {
            match self.mqtt.poll(&mut buf) {
                Ok(MqttEvent::Message { topic, payload }) => {
                    self.inbox.push_back((topic.into(), payload.to_vec()))
                }
                Ok(_) => {}
                Err(nb::Error::WouldBlock) => return,
                Err(nb::Error::Other(e)) => panic!("mqtt: {e}"),
            }
        }
    }

    fn next(&mut self) -> (String, Vec<u8>) {
        let deadline = Instant::now() + LIMIT;
        loop {
            self.pump();
            if let Some(m) = self.inbox.pop_front() {
                return m;
            }
            assert!(Instant::now() < deadline, "no message for the device");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn send(&mut self, topic: &str, encode: impl FnOnce(&mut [u8]) -> usize) {
        let mut out = [0u8; 1024];
        let n = encode(&mut out);
        nb::block!(self.mqtt.publish(topic, &out[..n], QoS::AtLeastOnce)).unwrap();
    }
}

fn start(platform: CloudPlatform) -> (Mosquitto, MockCloud) {
    let broker = Mosquitto::start();
    let cloud = MockCloud::start(platform, "127.0.0.1", broker.port());
    assert!(cloud.wait_ready(LIMIT), "mock cloud not ready; log:\n{}", broker.log());
    (broker, cloud)
}

#[test]
fn huawei_query_upgrade_and_reports() {
    let (broker, cloud) = start(CloudPlatform::huawei("dev-001"));
    let mut buf = [0u8; 128];
    let down = huawei_iotda::downlink_topic("dev-001", &mut buf).unwrap().to_string();
    let up = huawei_iotda::uplink_topic("dev-001", &mut buf).unwrap().to_string();
    let mut device = Device::connect(broker.port(), std::slice::from_ref(&down));
    let env = huawei_iotda::Envelope::default();

    cloud.version_query().unwrap();
    let (topic, payload) = device.next();
    assert_eq!(topic, down);
    let query = huawei_iotda::decode_downlink::<512>(&payload).unwrap();
    assert!(matches!(query.event, huawei_iotda::Event::VersionQuery { .. }));
    device.send(&up, |o| huawei_iotda::encode_version_report(&env, None, Some("v1.0"), o).unwrap());

    let offer = Offer::new(Version::parse("v1.1").unwrap(), 4096, Digest::sha256_hex(SHA).unwrap())
        .with_location("https://127.0.0.1:8943/pkg/1")
        .unwrap()
        .with_token("token-123")
        .unwrap();
    cloud.offer(&offer).unwrap();
    let (_, payload) = device.next();
    let huawei_iotda::Event::Upgrade(upgrade) = huawei_iotda::decode_downlink::<512>(&payload).unwrap().event
    else {
        panic!("not an upgrade")
    };
    assert!(!upgrade.presigned);
    assert_eq!(upgrade.offer, offer, "v1 upgrade carries the bearer token");

    device.send(&up, |o| {
        huawei_iotda::encode_progress(&env, &huawei_iotda::ProgressReport::downloading(50, "v1.0"), o)
            .unwrap()
    });
    device.send(&up, |o| {
        huawei_iotda::encode_progress(&env, &huawei_iotda::ProgressReport::success("v1.1"), o).unwrap()
    });
    device.send(&up, |o| {
        let r = huawei_iotda::ProgressReport::failure(FailureCause::AlreadyLatest, "v1.1");
        huawei_iotda::encode_progress(&env, &r, o).unwrap()
    });
    let reports = cloud.wait_reports(4, LIMIT);
    let got: Vec<_> = reports
        .iter()
        .map(|r| match r {
            CloudReport::Huawei(u) => u.report.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    use huawei_iotda::Report;
    assert_eq!(
        got[0],
        Report::Version { sw_version: None, fw_version: Some(Version::parse("v1.0").unwrap()) }
    );
    let codes: Vec<_> = got[1..]
        .iter()
        .map(|r| match r {
            Report::Progress { result_code, progress, version, .. } => {
                (*result_code, *progress, version.as_ref().map(|v| v.as_str().to_string()))
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        codes,
        [
            (0, Some(50), Some("v1.0".into())),
            (0, Some(100), Some("v1.1".into())),
            (3, None, Some("v1.1".into()))
        ]
    );
}

#[test]
fn enos_push_request_and_replies() {
    let (broker, cloud) = start(CloudPlatform::enos("pk1", "dk1"));
    let topic = |t| {
        let mut buf = [0u8; 128];
        enos_cloud::topic(t, "pk1", "dk1", &mut buf).unwrap().to_string()
    };
    let subs: Vec<String> = enos_cloud::Topic::DOWNLINK.iter().map(|t| topic(*t)).collect();
    let mut device = Device::connect(broker.port(), &subs);

    // Cloud forced push: upgrade arrives, the device accepts and reports progress.
    let offer = Offer::new(Version::parse("1.2.0").unwrap(), 524_288, Digest::md5_hex(MD5).unwrap())
        .with_location("https://127.0.0.1/fw-1.2.0.bin")
        .unwrap();
    cloud.offer(&offer).unwrap();
    let (t, payload) = device.next();
    let enos_cloud::Downlink::Upgrade { id, offer: got } =
        enos_cloud::decode_downlink::<512>(&t, &payload).unwrap()
    else {
        panic!("not an upgrade")
    };
    assert_eq!(got, offer);
    device.send(&topic(enos_cloud::Topic::UpgradeReply), |o| {
        enos_cloud::encode_upgrade_reply(&id, 200, o).unwrap()
    });
    let step = enos_cloud::Progress::Step { percent: 40, desc: "downloading" };
    device
        .send(&topic(enos_cloud::Topic::Progress), |o| enos_cloud::encode_progress("10", &step, o).unwrap());
    let (t, payload) = device.next();
    assert_eq!(
        enos_cloud::decode_downlink::<512>(&t, &payload).unwrap(),
        enos_cloud::Downlink::Reply {
            to: enos_cloud::Topic::Progress,
            id: "10".try_into().unwrap(),
            code: 200
        }
    );
    let failed = enos_cloud::Progress::Failed(FailureCause::IntegrityCheckFailure);
    device.send(&topic(enos_cloud::Topic::Progress), |o| {
        enos_cloud::encode_progress("11", &failed, o).unwrap()
    });
    let _ = device.next(); // progress_reply

    // Upon device request: getversion lists the catalogue; the device picks the newest.
    let older = Offer::new(Version::parse("1.1.9").unwrap(), 100, Digest::md5_hex(MD5).unwrap())
        .with_location("https://127.0.0.1/old.bin")
        .unwrap();
    cloud.set_enos_catalogue(&[older, offer.clone()]).unwrap();
    device.send(&topic(enos_cloud::Topic::GetVersion), |o| enos_cloud::encode_getversion("12", o).unwrap());
    let (t, payload) = device.next();
    let enos_cloud::Downlink::Versions { code, newest, listed, .. } =
        enos_cloud::decode_downlink::<512>(&t, &payload).unwrap()
    else {
        panic!("not a getversion_reply")
    };
    assert_eq!((code, listed), (200, 2));
    assert_eq!(newest, Some(offer));

    // Success is reported by inform with the new version.
    device.send(&topic(enos_cloud::Topic::Inform), |o| enos_cloud::encode_inform("13", "1.2.0", o).unwrap());
    let (t, payload) = device.next();
    assert!(matches!(
        enos_cloud::decode_downlink::<512>(&t, &payload).unwrap(),
        enos_cloud::Downlink::Reply { to: enos_cloud::Topic::Inform, code: 200, .. }
    ));

    let reports = cloud.wait_reports(5, LIMIT);
    let kinds: Vec<String> = reports
        .iter()
        .map(|r| match r {
            CloudReport::Enos(enos_cloud::Uplink::UpgradeReply { code, .. }) => {
                format!("upgrade_reply {code}")
            }
            CloudReport::Enos(enos_cloud::Uplink::Progress { step, .. }) => format!("progress {step}"),
            CloudReport::Enos(enos_cloud::Uplink::GetVersion { .. }) => "getversion".into(),
            CloudReport::Enos(enos_cloud::Uplink::Inform { version, .. }) => format!("inform {version}"),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["upgrade_reply 200", "progress 40", "progress -3", "getversion", "inform 1.2.0"]);
}

#[test]
fn mock_cloud_flags_reports_off_the_format() {
    let (broker, cloud) = start(CloudPlatform::tencent("P", "d"));
    let mut device = Device::connect(broker.port(), &[]);
    // percent as a number: the real SDK sends a string, so the mock refuses it.
    let loose = br#"{"type":"report_progress","report":{"progress":{"state":"downloading","percent":10,"result_code":"0","result_msg":""},"version":"0.2"}}"#;
    device.send("$ota/report/P/d", |o| {
        o[..loose.len()].copy_from_slice(loose);
        loose.len()
    });
    let reports = cloud.wait_reports(1, LIMIT);
    assert!(
        matches!(&reports[0], CloudReport::Invalid { error, .. } if *error == ota_client::platform::DecodeError::InvalidField("percent")),
        "{reports:?}"
    );
}
