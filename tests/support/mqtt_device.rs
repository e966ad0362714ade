//! A [`SimDevice`] for the MQTT platform tests: its firmware runs the platform [`Flow`] over
//! the std MQTT client (one of the three dialects) and downloads over HTTP from loopback;
//! every boot is the harness's (power cycle, bootloader, a fresh Agent), then a fresh Flow.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use ota_client::Version;
use ota_client::agent::{OfferOutcome, Report, Startup};
use ota_client::boot::Strategy;
use ota_client::image::Slot;
use ota_client::platform::Event;
use ota_client::platform::flow::{Dialect, EnosDialect, Flow, HuaweiDialect, Inbound, TencentDialect};
use ota_client::time::{Clock, StdClock};
use ota_client::transport::http::{HttpClient, HttpSource, TcpConnector};
use ota_client::transport::mqtt_std::StdMqttClient;

use super::sim_device::{App, SimDevice, Store};

/// The device's download path: the library's HTTP client over TCP, following each offer.
pub type DeviceSource = HttpSource<HttpClient<TcpConnector, 2048>, heapless::String<512>>;
pub type DeviceFlow = Flow<StdMqttClient, AnyDialect, DeviceSource, Store, App>;

/// One of the three dialects, chosen at run time (one per device: its size does not matter).
#[allow(clippy::large_enum_variant)]
pub enum AnyDialect {
    Tencent(TencentDialect),
    Huawei(HuaweiDialect),
    Enos(EnosDialect),
}

macro_rules! each {
    ($self:expr, $d:ident => $e:expr) => {
        match $self {
            AnyDialect::Tencent($d) => $e,
            AnyDialect::Huawei($d) => $e,
            AnyDialect::Enos($d) => $e,
        }
    };
}

impl Dialect<512> for AnyDialect {
    fn filter_count(&self) -> usize {
        each!(self, d => Dialect::<512>::filter_count(d))
    }
    fn filter<'b>(&self, index: usize, buf: &'b mut [u8]) -> Option<&'b str> {
        each!(self, d => Dialect::<512>::filter(d, index, buf))
    }
    fn decode(&mut self, topic: &str, payload: &[u8], running: &Version) -> Inbound<512> {
        each!(self, d => d.decode(topic, payload, running))
    }
    fn session_ready(&mut self) {
        each!(self, d => Dialect::<512>::session_ready(d))
    }
    fn offer_outcome(&mut self, outcome: OfferOutcome) {
        each!(self, d => Dialect::<512>::offer_outcome(d, outcome))
    }
    fn next_request(&mut self, topic: &mut [u8], out: &mut [u8]) -> Option<(usize, usize)> {
        each!(self, d => Dialect::<512>::next_request(d, topic, out))
    }
    fn request_sent(&mut self) {
        each!(self, d => Dialect::<512>::request_sent(d))
    }
    fn encode_report(
        &mut self,
        report: &Report,
        running: &Version,
        topic: &mut [u8],
        out: &mut [u8],
    ) -> Option<(usize, usize)> {
        each!(self, d => Dialect::<512>::encode_report(d, report, running, topic, out))
    }
}

/// A [`SimDevice`] whose firmware runs the platform [`Flow`] over a new MQTT session at
/// every boot.
pub struct MqttDevice {
    pub sim: SimDevice,
    make_dialect: Box<dyn Fn() -> AnyDialect>,
    boots: u32,
    port: u16,
}

impl MqttDevice {
    /// A device with 128 KiB slots (Swap), talking to the broker on `port`.
    pub fn new(port: u16, make_dialect: impl Fn() -> AnyDialect + 'static) -> Self {
        Self { sim: SimDevice::new(Strategy::Swap), make_dialect: Box::new(make_dialect), boots: 0, port }
    }

    /// Power on (or reset): the bootloader runs, then the firmware starts its Agent and
    /// connects a new MQTT session.
    pub fn boot(&mut self, running: &str) -> (DeviceFlow, Startup, Slot) {
        let (agent, startup, slot) = self.sim.boot(running);
        self.boots += 1;
        let mqtt = StdMqttClient::connect(&format!("ota-device-boot{}", self.boots), "127.0.0.1", self.port);
        let source = HttpSource::for_offers(HttpClient::new(TcpConnector::default()));
        (Flow::new(mqtt, (self.make_dialect)(), source, agent), startup, slot)
    }

    /// Runs the flow (downloads over HTTP) until `hook`, which sees every poll's event,
    /// stops it, or `limit` passes (a test failure).
    pub fn run(
        &mut self,
        flow: &mut DeviceFlow,
        limit: Duration,
        mut hook: impl FnMut(&DeviceFlow, &mut SimDevice, Event) -> ControlFlow<()>,
    ) {
        let clock = StdClock::new();
        let mut rx = vec![0u8; 8192];
        let mut chunk = [0u8; 1024];
        let deadline = Instant::now() + limit;
        loop {
            assert!(
                Instant::now() <= deadline,
                "the device did not finish within {limit:?}: {:?}",
                flow.stats()
            );
            let e = flow.poll(clock.now_ms(), &mut rx, &mut chunk).unwrap();
            if e.is_idle() {
                std::thread::sleep(Duration::from_millis(2));
            }
            if hook(flow, &mut self.sim, e).is_break() {
                return;
            }
        }
    }

    /// Runs until the outbox is empty and at least `sent` reports went out in total.
    pub fn settle(&mut self, flow: &mut DeviceFlow, sent: u32) {
        self.run(flow, Duration::from_secs(20), |f, _, _| {
            if f.stats().reports_sent >= sent && f.agent().next_report().is_none() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
    }
}
