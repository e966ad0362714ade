//! A simulated device for the MQTT platform tests: SimFlash, the Agent, a platform
//! [`Flow`] over the std MQTT client, downloads over HTTP from loopback; reboots simulated as
//! in tests/agent_lifecycle.rs (the bootloader's `prepare_boot` on the same flash, then a
//! fresh Agent and Flow).

#![allow(dead_code)]

use std::time::{Duration, Instant};

use ota_client::agent::{
    Agent, AgentConfig, AgentEvent, Application, Decision, OfferOutcome, Report, Startup,
};
use ota_client::boot::{BootControl, BootLoader, Layout, Phase, Strategy};
use ota_client::flash::{Journal, OneFlash, Partition};
use ota_client::image::Slot;
use ota_client::mock::SimFlash;
use ota_client::platform::flow::{
    Control, Dialect, EnosDialect, Flow, HuaweiDialect, Inbound, RunBuffers, TencentDialect, run_http,
};
use ota_client::time::StdClock;
use ota_client::transport::http::{HttpClient, TcpConnector};
use ota_client::transport::mqtt_std::StdMqttClient;
use ota_client::{Offer, Version};

pub const E: u32 = 4096;
pub type Flash = SimFlash<4, 4096>;
pub type Store = OneFlash<Flash>;
pub type DeviceFlow = Flow<StdMqttClient, AnyDialect>;

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

#[derive(Default)]
pub struct App {
    pub reboots: u32,
    /// The versions `decide` was asked about.
    pub asked: Vec<String>,
    /// Decline every offer.
    pub decline: bool,
}

impl Application for App {
    fn decide<const L: usize>(&mut self, offer: &Offer<L>) -> Decision {
        self.asked.push(offer.version.as_str().to_string());
        if self.decline { Decision::Decline } else { Decision::AcceptNow }
    }

    fn request_reboot(&mut self) {
        self.reboots += 1;
    }
}

pub struct Device {
    pub storage: Store,
    pub layout: Layout,
    pub app: App,
    make_dialect: Box<dyn Fn() -> AnyDialect>,
    boots: u32,
    port: u16,
}

pub fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

impl Device {
    /// A device with 128 KiB slots (Swap), talking to the broker on `port`.
    pub fn new(port: u16, make_dialect: impl Fn() -> AnyDialect + 'static) -> Self {
        let storage = OneFlash(Flash::new((2 + 32 + 33) as usize * E as usize, 0xFF));
        let p = |o: u32, n: u32| Partition::new(&storage.0, o * E, n * E, 0xFF).unwrap();
        let layout = Layout::new::<Store>(p(0, 2), p(2, 32), p(34, 33), Strategy::Swap).unwrap();
        Self { storage, layout, app: App::default(), make_dialect: Box::new(make_dialect), boots: 0, port }
    }

    /// Power on (or reset): the bootloader runs, then the firmware starts its Agent and
    /// connects a new MQTT session.
    pub fn boot(&mut self, running: &str) -> (DeviceFlow, Journal, Startup, Slot) {
        let boot = BootControl::new(self.layout);
        let mut journal: Journal = Journal::open(&mut self.storage.0, self.layout.state()).unwrap();
        let slot = BootLoader::new(*boot.layout())
            .prepare_boot(&mut self.storage, &mut journal, &mut |_| {})
            .unwrap()
            .slot;
        let mut journal: Journal = Journal::open(&mut self.storage.0, self.layout.state()).unwrap();
        let mut agent = Agent::new(
            BootControl::new(self.layout),
            AgentConfig::new(ota_client::image::SignaturePolicy::Unsigned),
            v(running),
        );
        let startup = agent.start(&mut self.storage, &mut journal, &mut self.app).unwrap();
        self.boots += 1;
        let mqtt = StdMqttClient::connect(&format!("ota-device-boot{}", self.boots), "127.0.0.1", self.port);
        (Flow::new(mqtt, (self.make_dialect)(), agent), journal, startup, slot)
    }

    /// Runs the flow with downloads over HTTP until `hook` stops it or `limit` passes
    /// (a test failure).
    pub fn run(
        &mut self,
        flow: &mut DeviceFlow,
        journal: &mut Journal,
        limit: Duration,
        mut hook: impl FnMut(&DeviceFlow, &mut Store, Option<AgentEvent>) -> Control,
    ) {
        let mut http: HttpClient<TcpConnector, 2048> = HttpClient::new(TcpConnector::default());
        let clock = StdClock::new();
        let mut rx = vec![0u8; 8192];
        let mut chunk = [0u8; 1024];
        let deadline = Instant::now() + limit;
        let mut timed_out = false;
        let bufs = RunBuffers { rx: &mut rx, chunk: &mut chunk };
        run_http(flow, &mut self.storage, journal, &mut http, &mut self.app, &clock, bufs, |f, s, e| {
            if Instant::now() > deadline {
                timed_out = true;
                return Control::Stop;
            }
            if matches!(e, None | Some(AgentEvent::Waiting)) {
                std::thread::sleep(Duration::from_millis(2));
            }
            hook(f, s, e)
        })
        .unwrap();
        assert!(!timed_out, "the device did not finish within {limit:?}: {:?}", flow.stats());
    }

    /// Runs until the outbox is empty and at least `sent` reports went out in total.
    pub fn settle(&mut self, flow: &mut DeviceFlow, journal: &mut Journal, sent: u32) {
        self.run(flow, journal, Duration::from_secs(20), |f, _, _| {
            if f.stats().reports_sent >= sent && f.agent().next_report().is_none() {
                Control::Stop
            } else {
                Control::Continue
            }
        });
    }

    pub fn phase(&mut self, journal: &Journal) -> Phase {
        BootControl::new(self.layout).state(&mut self.storage, journal).unwrap().phase
    }

    pub fn slot_holds(&self, slot: Slot, image: &[u8]) -> bool {
        let base = self.layout.slot(slot).part.offset() as usize;
        self.storage.0.contents()[base..base + image.len()] == image[..]
    }
}

/// A test image of `len` bytes.
pub fn image(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32).map(|i| (i ^ seed).wrapping_mul(2_654_435_761).to_le_bytes()[2]).collect()
}

/// Builds an offer for `bytes` the way `offer` likes (digest kind, token).
pub fn with_location(offer: Offer, url: &str) -> Offer {
    offer.with_location(url).unwrap()
}
