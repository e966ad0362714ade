//! A simulated device for the MQTT platform tests: SimFlash, the Agent, a platform
//! [`Flow`] over the std MQTT client, downloads over HTTP from loopback; reboots simulated as
//! in tests/agent/agent_lifecycle.rs (the bootloader's `prepare_boot` on the same flash, then a
//! fresh Agent and Flow).

use std::cell::{Cell, RefCell};
use std::ops::ControlFlow;
use std::rc::Rc;
use std::time::{Duration, Instant};

use ota_client::Version;
use ota_client::agent::{Agent, AgentConfig, Application, Decision, OfferOutcome, Report, Startup};
use ota_client::boot::{BootControl, BootLoader, Layout, Phase, Strategy};
use ota_client::flash::{Journal, OneFlash, Partition};
use ota_client::image::Slot;
use ota_client::mock::{SharedFlash, SimFlash};
use ota_client::platform::Event;
use ota_client::platform::flow::{Dialect, EnosDialect, Flow, HuaweiDialect, Inbound, TencentDialect};
use ota_client::time::{Clock, StdClock};
use ota_client::transport::http::{HttpClient, HttpSource, TcpConnector};
use ota_client::transport::mqtt_std::StdMqttClient;

pub const E: u32 = 4096;
pub type Flash = SimFlash<4, 4096>;
/// The flash the Agent owns; the test keeps a clone of the handle to look at it.
pub type Store = OneFlash<SharedFlash<4, 4096>>;
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

/// The application's hooks; clones share their state (the Agent owns one, the test keeps one).
#[derive(Clone, Default)]
pub struct App(Rc<AppState>);

#[derive(Default)]
pub struct AppState {
    pub reboots: Cell<u32>,
    /// The versions `decide` was asked about.
    pub asked: RefCell<Vec<String>>,
    /// Decline every offer.
    pub decline: Cell<bool>,
}

impl std::ops::Deref for App {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.0
    }
}

impl Application for App {
    fn decide(&mut self, version: &Version, _size: u32) -> Decision {
        self.asked.borrow_mut().push(version.as_str().to_string());
        if self.decline.get() { Decision::Decline } else { Decision::AcceptNow }
    }

    fn request_reboot(&mut self) {
        self.reboots.set(self.reboots.get() + 1);
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
        let storage = OneFlash(SharedFlash::new(Flash::new((2 + 32 + 33) as usize * E as usize, 0xFF)));
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
        let journal: Journal = Journal::open(&mut self.storage.0, self.layout.state()).unwrap();
        let mut agent = Agent::new(
            self.storage.clone(),
            self.layout,
            AgentConfig::new(ota_client::image::SignaturePolicy::Unsigned),
            v(running),
        )
        .unwrap()
        .with_application(self.app.clone());
        let startup = agent.start().unwrap();
        self.boots += 1;
        let mqtt = StdMqttClient::connect(&format!("ota-device-boot{}", self.boots), "127.0.0.1", self.port);
        let source = HttpSource::for_offers(HttpClient::new(TcpConnector::default()));
        (Flow::new(mqtt, (self.make_dialect)(), source, agent), journal, startup, slot)
    }

    /// Runs the flow (downloads over HTTP) until `hook`, which sees every poll's event,
    /// stops it, or `limit` passes (a test failure).
    pub fn run(
        &mut self,
        flow: &mut DeviceFlow,
        _journal: &mut Journal,
        limit: Duration,
        mut hook: impl FnMut(&DeviceFlow, &mut Store, Event) -> ControlFlow<()>,
    ) {
        let clock = StdClock::new();
        let mut rx = vec![0u8; 8192];
        let mut chunk = [0u8; 1024];
        let deadline = Instant::now() + limit;
        let mut store = self.storage.clone();
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
            if hook(flow, &mut store, e).is_break() {
                return;
            }
        }
    }

    /// Runs until the outbox is empty and at least `sent` reports went out in total.
    pub fn settle(&mut self, flow: &mut DeviceFlow, journal: &mut Journal, sent: u32) {
        self.run(flow, journal, Duration::from_secs(20), |f, _, _| {
            if f.stats().reports_sent >= sent && f.agent().next_report().is_none() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
    }

    /// The boot phase on flash now (a Journal opened afresh: the one `boot` returned may
    /// not know the records the Agent wrote since).
    pub fn phase(&mut self, _journal: &Journal) -> Phase {
        let journal: Journal = Journal::open(&mut self.storage.0, self.layout.state()).unwrap();
        BootControl::new(self.layout).state(&mut self.storage, &journal).unwrap().phase
    }

    pub fn slot_holds(&self, slot: Slot, image: &[u8]) -> bool {
        let base = self.layout.slot(slot).part.offset() as usize;
        self.storage.0.borrow().contents()[base..base + image.len()] == image[..]
    }
}

/// A test image of `len` bytes.
pub fn image(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32).map(|i| (i ^ seed).wrapping_mul(2_654_435_761).to_le_bytes()[2]).collect()
}
