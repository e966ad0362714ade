//! The platform `Flow` against a scripted in-memory MQTT client (no broker): subscriptions
//! after reconnects, reports held until the broker acknowledges them and sent again after a
//! lost session, publishes refused for a while, bad input, and the download paused while
//! offline. Deterministic; the broker runs are in tests/platform/mqtt_devices.rs.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::support::sim_device::{App, SimDevice, Store, v};

use ota_client::agent::Report;
use ota_client::boot::Strategy;
use ota_client::mock::ChunkServer;
use ota_client::platform::Event;
use ota_client::platform::flow::{Flow, TencentDialect};
use ota_client::transport::mqtt::{LinkState, MqttClient, MqttError, MqttEvent, QoS, copy_message};

const DOWN: &str = "$ota/update/P/d";

enum Ev {
    Msg(&'static str, Vec<u8>),
    Connected { resubscribed: bool },
    Disconnected,
    TooLarge,
}

#[derive(Default)]
struct Script {
    state: Option<LinkState>,
    events: VecDeque<Ev>,
    published: Vec<String>,
    subscribed: Vec<String>,
    unacked: usize,
    /// Publishes answered WouldBlock before one is taken.
    busy: u32,
}

#[derive(Clone, Default)]
struct Client(Rc<RefCell<Script>>);

impl Client {
    fn s(&self) -> std::cell::RefMut<'_, Script> {
        self.0.borrow_mut()
    }
    fn session(&self, resubscribed: bool) {
        let mut s = self.s();
        s.events.push_back(Ev::Connected { resubscribed });
        s.state = Some(LinkState::Ready);
    }
    fn drop_session(&self) {
        let mut s = self.s();
        s.events.push_back(Ev::Disconnected);
        s.unacked = 0;
        s.state = Some(LinkState::Connecting);
    }
    fn published(&self) -> Vec<String> {
        self.s().published.clone()
    }
}

impl MqttClient for Client {
    fn state(&self) -> LinkState {
        self.0.borrow().state.unwrap_or(LinkState::Connecting)
    }
    fn publish(&mut self, _topic: &str, payload: &[u8], _qos: QoS) -> nb::Result<(), MqttError> {
        let mut s = self.s();
        if s.busy > 0 {
            s.busy -= 1;
            return Err(nb::Error::WouldBlock);
        }
        s.published.push(String::from_utf8(payload.to_vec()).unwrap());
        s.unacked += 1;
        Ok(())
    }
    fn subscribe(&mut self, filter: &str, _qos: QoS) -> nb::Result<(), MqttError> {
        self.s().subscribed.push(filter.to_string());
        Ok(())
    }
    fn poll<'b>(&mut self, buf: &'b mut [u8]) -> nb::Result<MqttEvent<'b>, MqttError> {
        match self.s().events.pop_front() {
            None => Err(nb::Error::WouldBlock),
            Some(Ev::Connected { resubscribed }) => Ok(MqttEvent::Connected { resubscribed }),
            Some(Ev::Disconnected) => Ok(MqttEvent::Disconnected),
            Some(Ev::TooLarge) => Err(nb::Error::Other(MqttError::MessageTooLarge { needed: 99_999 })),
            Some(Ev::Msg(topic, payload)) => {
                copy_message(topic.as_bytes(), &payload, buf).map_err(nb::Error::Other)
            }
        }
    }
    fn reconnect(&mut self) -> nb::Result<(), MqttError> {
        Ok(())
    }
    fn unacknowledged(&self) -> usize {
        self.0.borrow().unacked
    }
}

struct Rig {
    client: Client,
    flow: Flow<Client, TencentDialect, ChunkServer, Store, App>,
    rx: Vec<u8>,
}

impl Rig {
    /// A flow whose downloads come from an empty in-memory server.
    fn new() -> Self {
        Self::serving(ChunkServer::new(Vec::new()))
    }

    /// A flow whose downloads come from `source`.
    fn serving(source: ChunkServer) -> Self {
        let (agent, _) = SimDevice::new(Strategy::Swap).start("1.0.0");
        let client = Client::default();
        let flow = Flow::new(client.clone(), TencentDialect::new("P", "d").unwrap(), source, agent);
        Self { client, flow, rx: vec![0; 1024] }
    }

    /// One poll of the flow (no offer is downloading in these tests but one).
    fn service(&mut self) -> Event {
        let mut chunk = [0u8; 1000];
        self.flow.poll(0, &mut self.rx, &mut chunk).unwrap()
    }
}

fn offer_json(image: &[u8], version: &str) -> Vec<u8> {
    let md5: String = <[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(image))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        r#"{{"type":"update_firmware","file_size":{},"md5sum":"{md5}","url":"http://h/fw.bin","version":"{version}"}}"#,
        image.len()
    )
    .into_bytes()
}

#[test]
fn subscribes_again_only_when_the_client_lost_its_subscriptions() {
    let mut rig = Rig::new();
    rig.service();
    assert_eq!(rig.client.s().subscribed, vec![DOWN.to_string()]);
    rig.client.session(true);
    rig.service();
    assert_eq!(rig.client.s().subscribed.len(), 1, "the client re-subscribed by itself");
    rig.client.drop_session();
    rig.client.session(false);
    rig.service();
    assert_eq!(rig.client.s().subscribed, vec![DOWN.to_string(), DOWN.to_string()]);
    assert_eq!(rig.flow.stats().sessions, 2);
    assert_eq!(rig.flow.stats().disconnects, 1);
}

#[test]
fn a_report_is_kept_until_acknowledged_and_sent_again_after_a_lost_session() {
    let mut rig = Rig::new();
    rig.client.session(true);
    rig.service();
    let version = r#"{"type":"report_version","report":{"version":"1.0.0"}}"#;
    assert_eq!(rig.client.published(), vec![version.to_string()]);
    assert!(matches!(rig.flow.agent().next_report(), Some(Report::Version { .. })), "kept until acked");
    // No acknowledgement: nothing new is sent, the report stays.
    rig.service();
    rig.service();
    assert_eq!(rig.client.published().len(), 1);
    // The session drops with the report unacknowledged: it goes again in the next one
    // (the new session's own version report is the same report: the queue keeps it once).
    rig.client.drop_session();
    rig.service();
    assert!(rig.flow.agent().next_report().is_some());
    rig.client.session(true);
    rig.service();
    assert_eq!(rig.client.published(), vec![version.to_string(), version.to_string()]);
    rig.client.s().unacked = 0;
    rig.service();
    // Acked: forgotten, and nothing else is owed.
    assert_eq!(rig.flow.agent().next_report(), None);
    rig.service();
    assert_eq!(rig.client.published().len(), 2);
}

#[test]
fn a_publish_refused_for_a_while_goes_out_later() {
    let mut rig = Rig::new();
    rig.client.s().busy = 3;
    rig.client.session(true);
    for _ in 0..3 {
        rig.service();
        assert!(rig.client.published().is_empty());
    }
    rig.service();
    assert_eq!(rig.client.published().len(), 1);
    assert_eq!(rig.flow.stats().reports_sent, 1);
}

#[test]
fn bad_input_is_ignored_and_the_flow_goes_on() {
    let mut rig = Rig::new();
    rig.client.session(true);
    rig.service();
    rig.client.s().unacked = 0;
    rig.service();
    let junk: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"\xff\xfe".to_vec(),
        br#"{"type":"update_firmware","file_size":"many","md5sum":1,"url":[],"version":{}}"#.to_vec(),
        br#"{"type":"update_firmware"}"#.to_vec(),
        br#"{"type":"something_new","x":1}"#.to_vec(),
        vec![b'['; 5000],
        format!(r#"{{"type":"update_firmware","version":"{}"}}"#, "9".repeat(900)).into_bytes(),
    ];
    for j in junk {
        rig.client.s().events.push_back(Ev::Msg(DOWN, j));
    }
    rig.client.s().events.push_back(Ev::TooLarge);
    rig.service();
    assert_eq!(rig.flow.stats().offers, 0);
    assert_eq!(rig.flow.agent().current_offer(), None);
    assert_eq!(rig.client.published().len(), 1, "no report for junk");
    // A good offer after the junk still works.
    let image = vec![7u8; 3000];
    rig.client.s().events.push_back(Ev::Msg(DOWN, offer_json(&image, "1.1.0")));
    rig.service();
    assert_eq!(rig.flow.stats().offers, 1);
    assert_eq!(rig.flow.agent().current_offer().map(|o| o.version.clone()), Some(v("1.1.0")));
}

#[test]
fn the_download_pauses_while_offline_and_resumes_where_it_stopped() {
    let image: Vec<u8> = (0..40_000u32).map(|i| (i * 7 / 3) as u8).collect();
    let mut rig = Rig::serving(ChunkServer::new(image.clone()).with_max_chunk(1000));
    rig.client.session(true);
    rig.service();
    rig.client.s().events.push_back(Ev::Msg(DOWN, offer_json(&image, "1.1.0")));
    // The next event of the download: a poll that handled MQTT news (an offer, an
    // acknowledged report, a session change) did not move the download.
    let poll = |rig: &mut Rig| {
        for _ in 0..100 {
            rig.client.s().unacked = 0;
            match rig.service() {
                Event::Offered(_) | Event::Reported | Event::Connected | Event::Disconnected => continue,
                e => return e,
            }
        }
        panic!("only MQTT news");
    };
    for _ in 0..10 {
        assert!(matches!(poll(&mut rig), Event::Downloading { .. }));
    }
    let before = rig.flow.agent().download().unwrap().progress().bytes;
    assert!(before > 0);
    rig.client.drop_session();
    for _ in 0..5 {
        assert_eq!(poll(&mut rig), Event::Waiting);
    }
    assert_eq!(rig.flow.agent().download().unwrap().progress().bytes, before, "no bytes while offline");
    assert_eq!(rig.flow.source_mut().stats().resets, 1, "the open answer is closed once");
    assert_eq!(rig.flow.stats().pauses, 1);
    rig.client.session(true);
    let fetches = rig.flow.source_mut().stats().fetches;
    let mut staged = false;
    for _ in 0..200 {
        match poll(&mut rig) {
            Event::Staged => {
                staged = true;
                break;
            }
            Event::Downloading { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(staged);
    // Staged: once the broker acknowledged every report, the flow asks for the reboot.
    let mut polls = 0;
    while poll(&mut rig) != Event::Reboot {
        polls += 1;
        assert!(polls < 10 && rig.flow.report_pending(), "no reboot, and no report holds it up");
    }
    assert!(!rig.flow.report_pending() && rig.flow.agent().reboot_pending());
    assert!(rig.flow.source_mut().stats().fetches > fetches);
    assert_eq!(rig.flow.source_mut().stats().refetched, 0, "resumed where it stopped");
    // With pausing off the download moves regardless of the session.
    rig.flow.set_pause_offline(false);
    rig.client.drop_session();
    assert!(rig.flow.may_download());
}

#[test]
fn an_offer_of_the_running_version_is_answered_already_latest() {
    let mut rig = Rig::new();
    rig.client.session(true);
    rig.service();
    rig.client.s().unacked = 0;
    rig.service();
    let image = vec![1u8; 100];
    rig.client.s().events.push_back(Ev::Msg(DOWN, offer_json(&image, "1.0.0")));
    rig.service();
    let last = rig.client.published().last().cloned().unwrap();
    assert_eq!(
        last,
        r#"{"type":"report_progress","report":{"progress":{"state":"fail","result_code":"-5","result_msg":"already latest"},"version":"1.0.0"}}"#
    );
}

#[test]
fn huawei_reports_the_version_of_the_package_kind_and_ignores_other_devices() {
    use ota_client::platform::flow::{Dialect, HuaweiDialect, Inbound};
    use ota_client::platform::huawei_iotda::Package;
    let mut d = HuaweiDialect::new("dev-1").unwrap();
    let (mut topic, mut out) = ([0u8; 160], [0u8; 512]);
    let mut version_report = |d: &mut HuaweiDialect| {
        let r = Report::Version { current: v("1.0.0") };
        let (t, n) = Dialect::<512>::encode_report(d, &r, &v("1.0.0"), &mut topic, &mut out).unwrap();
        assert_eq!(&topic[..t], b"$oc/devices/dev-1/sys/events/up");
        String::from_utf8(out[..n].to_vec()).unwrap()
    };
    assert!(version_report(&mut d).contains(r#""paras":{"fw_version":"1.0.0"}"#));
    let upgrade = |who: &str| {
        format!(
            r#"{{"object_device_id":"{who}","services":[{{"service_id":"$ota","event_type":"software_upgrade","paras":{{"version":"2.0","url":"https://h/sw.bin","file_size":10,"access_token":"t","expires":60,"sign":"{}"}}}}]}}"#,
            "ab".repeat(32)
        )
    };
    let down = "$oc/devices/dev-1/sys/events/down";
    let other = Dialect::<512>::decode(&mut d, down, upgrade("child-9").as_bytes(), &v("1.0.0"));
    assert_eq!(other, Inbound::Ignore, "a gateway's message for another device");
    assert_eq!(d.package(), Package::Firmware);
    let Inbound::Offer(offer) =
        Dialect::<512>::decode(&mut d, down, upgrade("dev-1").as_bytes(), &v("1.0.0"))
    else {
        panic!("the software upgrade is an offer")
    };
    assert_eq!(offer.token.as_str(), "t");
    assert_eq!(d.package(), Package::Software);
    assert!(version_report(&mut d).contains(r#""paras":{"sw_version":"1.0.0"}"#));
    d.set_package(Package::Firmware);
    assert!(version_report(&mut d).contains("fw_version"));
}

#[test]
fn an_offer_that_cannot_be_used_is_answered_with_a_failure_for_its_version() {
    let mut rig = Rig::new();
    rig.client.session(true);
    rig.service();
    rig.client.s().unacked = 0;
    rig.service();
    // Seed 004's offer exactly as published: its md5sum is masked with `****`.
    let seed = br#"{
"file_size": 708482,
"md5sum": "36eb5951179db14a63****a37a9322a2",
"type": "update_firmware",
"url": "https://ota-1255858890.cos.ap-guangzhou.myqcloud.com",
"version": "0.2"
}"#;
    rig.client.s().events.push_back(Ev::Msg(DOWN, seed.to_vec()));
    rig.service();
    assert_eq!(rig.flow.stats().unusable, 1);
    assert_eq!(rig.flow.agent().current_offer(), None, "the Agent never saw it");
    assert_eq!(
        rig.client.published().last().unwrap(),
        r#"{"type":"report_progress","report":{"progress":{"state":"fail","result_code":"-5","result_msg":"invalid offer"},"version":"0.2"}}"#
    );
    // No url: −2 (the file cannot be found).
    rig.client.s().unacked = 0;
    let no_url = br#"{"type":"update_firmware","file_size":10,"md5sum":"36eb5951179db14a63aaaaa37a9322a2","version":"0.3"}"#;
    rig.client.s().events.push_back(Ev::Msg(DOWN, no_url.to_vec()));
    rig.service();
    assert_eq!(
        rig.client.published().last().unwrap(),
        r#"{"type":"report_progress","report":{"progress":{"state":"fail","result_code":"-2","result_msg":"invalid URI"},"version":"0.3"}}"#
    );
}

#[test]
fn an_offer_that_repeats_a_key_is_answered_with_a_failure_and_never_reaches_the_agent() {
    let mut rig = Rig::new();
    rig.client.session(true);
    rig.service();
    rig.client.s().unacked = 0;
    rig.service();
    // Two URLs, the second through an escape: another parser would fetch the other one.
    let twice = br#"{"type":"update_firmware","file_size":10,"md5sum":"36eb5951179db14a63aaaaa37a9322a2","url":"https://a/fw.bin","\u0075rl":"https://evil/fw.bin","version":"0.4"}"#;
    rig.client.s().events.push_back(Ev::Msg(DOWN, twice.to_vec()));
    rig.service();
    assert_eq!(rig.flow.stats().unusable, 1);
    assert_eq!(rig.flow.agent().current_offer(), None, "the Agent never saw it");
    assert_eq!(
        rig.client.published().last().unwrap(),
        r#"{"type":"report_progress","report":{"progress":{"state":"fail","result_code":"-5","result_msg":"invalid offer"},"version":"0.4"}}"#
    );
}

#[test]
fn huawei_answers_an_unusable_upgrade_for_this_device_only() {
    use ota_client::FailureCause;
    use ota_client::platform::flow::{Dialect, HuaweiDialect, Inbound};
    let mut d = HuaweiDialect::new("dev-1").unwrap();
    let down = "$oc/devices/dev-1/sys/events/down";
    let upgrade = |who: &str, sign: &str, url: &str| {
        format!(
            r#"{{"object_device_id":"{who}","services":[{{"service_id":"$ota","event_type":"firmware_upgrade","paras":{{"version":"v2.0",{url}"file_size":10,"access_token":"t","expires":60,"sign":"{sign}"}}}}]}}"#
        )
    };
    let url = r#""url":"https://h/fw.bin","#;
    let decode =
        |d: &mut HuaweiDialect, m: String| Dialect::<512>::decode(d, down, m.as_bytes(), &v("1.0.0"));
    assert_eq!(
        decode(&mut d, upgrade("dev-1", "not-hex", url)),
        Inbound::Unusable { version: v("v2.0"), cause: FailureCause::InvalidOffer }
    );
    assert_eq!(
        decode(&mut d, upgrade("", &"ab".repeat(32), "")),
        Inbound::Unusable { version: v("v2.0"), cause: FailureCause::InvalidUri }
    );
    assert_eq!(decode(&mut d, upgrade("child-9", "not-hex", url)), Inbound::Ignore, "another device's");
    // The report the Flow sends for it: result 255 (internal exception), the running version.
    let r = Report::Failed {
        target: v("v2.0"),
        job: ota_client::JobId::new(),
        cause: FailureCause::InvalidOffer,
        stage: ota_client::agent::Stage::Offer,
    };
    let (mut topic, mut out) = ([0u8; 160], [0u8; 512]);
    let (_, n) = Dialect::<512>::encode_report(&mut d, &r, &v("1.0.0"), &mut topic, &mut out).unwrap();
    assert_eq!(
        std::str::from_utf8(&out[..n]).unwrap(),
        r#"{"services":[{"service_id":"$ota","event_type":"upgrade_progress_report","paras":{"result_code":255,"version":"1.0.0","description":"invalid offer"}}]}"#
    );
}

#[test]
fn a_message_on_another_topic_of_a_shared_client_is_not_an_offer() {
    let mut rig = Rig::new();
    rig.client.session(true);
    rig.service();
    let image = vec![3u8; 500];
    for other in ["$ota/update/P/other-device", "app/commands"] {
        rig.client.s().events.push_back(Ev::Msg(other, offer_json(&image, "1.1.0")));
    }
    // The application shares the connection: its messages come to it, its publishes go out.
    let mut mine: Vec<(String, usize)> = Vec::new();
    let mut other = |topic: &str, payload: &[u8]| mine.push((topic.to_string(), payload.len()));
    let mut chunk = [0u8; 100];
    rig.flow.poll_with(0, &mut rig.rx, &mut chunk, &mut other).unwrap();
    let len = offer_json(&image, "1.1.0").len();
    assert_eq!(
        mine,
        vec![("$ota/update/P/other-device".to_string(), len), ("app/commands".to_string(), len)]
    );
    assert_eq!((rig.flow.stats().received, rig.flow.stats().passed_on), (2, 2));
    assert_eq!(rig.flow.stats().offers, 0);
    assert_eq!(rig.flow.agent().current_offer(), None);
    rig.flow.mqtt_mut().publish("app/telemetry", b"{\"t\":21}", QoS::AtMostOnce).unwrap();
    assert_eq!(rig.client.published().last().unwrap(), "{\"t\":21}");
    rig.client.s().events.push_back(Ev::Msg(DOWN, offer_json(&image, "1.1.0")));
    rig.service();
    assert_eq!(rig.flow.stats().offers, 1);
}

/// An HTTP transport that only counts the requests made of it.
struct NoServer(Rc<std::cell::Cell<u32>>);

impl ota_client::transport::http::HttpTransport for NoServer {
    fn get_range(
        &mut self,
        _: &str,
        _: u64,
        _: Option<&str>,
    ) -> Result<ota_client::transport::http::Response, ota_client::transport::http::HttpError> {
        self.0.set(self.0.get() + 1);
        Err(ota_client::transport::http::HttpError::Closed)
    }
    fn read_body(&mut self, _: &mut [u8]) -> Result<usize, ota_client::transport::http::HttpError> {
        Err(ota_client::transport::http::HttpError::Closed)
    }
    fn post_json(
        &mut self,
        _: &str,
        _: &[u8],
        _: &mut [u8],
    ) -> Result<(u16, usize), ota_client::transport::http::HttpError> {
        Err(ota_client::transport::http::HttpError::Closed)
    }
    fn close(&mut self) {}
}

#[test]
fn an_offer_at_a_location_the_source_cannot_follow_fails_without_a_request() {
    // A source fixed to one URL: the offer's location is another, so `locate` refuses it.
    let requests = Rc::new(std::cell::Cell::new(0));
    let source =
        ota_client::transport::http::HttpSource::new(NoServer(requests.clone()), "http://h/other", None);
    let (agent, _) = SimDevice::new(Strategy::Swap).start("1.0.0");
    let client = Client::default();
    let mut flow = Flow::new(client.clone(), TencentDialect::new("P", "d").unwrap(), source, agent);
    let (mut rx, mut chunk) = (vec![0u8; 1024], [0u8; 256]);
    client.session(true);
    client.s().events.push_back(Ev::Msg(DOWN, offer_json(&[5u8; 2000], "1.1.0")));
    let mut events = Vec::new();
    for _ in 0..50 {
        client.s().unacked = 0;
        let e = flow.poll(0, &mut rx, &mut chunk).unwrap();
        events.push(e);
        if matches!(e, Event::Failed(_)) {
            break;
        }
    }
    assert!(events.contains(&Event::Offered(ota_client::agent::OfferOutcome::Accepted)), "{events:?}");
    assert_eq!(events.last(), Some(&Event::Failed(ota_client::FailureCause::InvalidUri)), "{events:?}");
    assert_eq!(requests.get(), 0, "no request to a location the source was not pointed at");
    assert!(flow.agent().current_offer().is_none());
}
