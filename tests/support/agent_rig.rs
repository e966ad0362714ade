//! A device for Agent tests: one SimFlash with a two-sector state partition and two slots,
//! an application that counts reboot requests, and helpers to run and drain the Agent.
//!
//! The Agent owns its flash and its application. So that a test can still look at the flash
//! (slot contents, write counts) and steer the application between boots, both are shared
//! handles: `mock::SharedFlash` is a `NorFlash` over one `SimFlash` (every operation borrows
//! it for that call only), and [`App`] keeps its counters in cells.

use std::cell::Cell;
use std::rc::Rc;

use ota_client::agent::{Agent, AgentConfig, AgentEvent, Application, Decision, Report, Startup};
use ota_client::boot::{BootControl, BootLoader, Layout, Strategy};
use ota_client::flash::{Journal, OneFlash, Partition};
use ota_client::image::Slot;
use ota_client::mock::{ChunkServer, SharedFlash, SimFlash};
use ota_client::{Digest, Offer, Version};

pub const E: u32 = 4096;
pub type Flash = SimFlash<4, 4096>;
pub type Storage = OneFlash<SharedFlash<4, 4096>>;
/// The Agent of these tests.
pub type TestAgent = Agent<Storage, App>;

/// The application's hooks; clones share their state.
#[derive(Clone, Default)]
pub struct App(Rc<AppState>);

#[derive(Default)]
pub struct AppState {
    pub reboots: Cell<u32>,
    pub fail_self_test: Cell<bool>,
    pub decision: Cell<Option<Decision>>,
}

impl std::ops::Deref for App {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.0
    }
}

impl Application for App {
    fn decide(&mut self, _version: &Version, _size: u32) -> Decision {
        self.decision.get().unwrap_or(Decision::AcceptNow)
    }
    fn self_test(&mut self) -> bool {
        !self.fail_self_test.get()
    }
    fn request_reboot(&mut self) {
        self.reboots.set(self.reboots.get() + 1);
    }
}

pub struct Device {
    pub storage: Storage,
    pub layout: Layout,
}

impl Device {
    pub fn new(strategy: Strategy) -> Self {
        let storage = OneFlash(SharedFlash::new(Flash::new((2 + 32 + 33) as usize * E as usize, 0xFF)));
        let p = |o: u32, n: u32| Partition::new(&storage.0, o * E, n * E, 0xFF).unwrap();
        let layout = Layout::new::<Storage>(p(0, 2), p(2, 32), p(34, 33), strategy).unwrap();
        Self { storage, layout }
    }

    pub fn journal(&mut self) -> Journal {
        Journal::open(&mut self.storage.0, self.layout.state()).unwrap()
    }

    /// The bootloader runs at reset.
    pub fn reset(&mut self) -> Slot {
        let boot = BootControl::new(self.layout);
        let mut journal = self.journal();
        BootLoader::new(*boot.layout())
            .prepare_boot(&mut self.storage, &mut journal, &mut |_| {})
            .unwrap()
            .slot
    }

    /// The Agent of a boot running `running`, started, and a Journal of the test's own over
    /// the same flash (for reading; the Agent's is inside it).
    pub fn agent(&mut self, running: &str, app: &mut App) -> (TestAgent, Journal, Startup) {
        self.agent_with(running, app, AgentConfig::new(ota_client::image::SignaturePolicy::Unsigned))
    }

    /// [`Device::agent`] with `config`; the boot manager requires what `config`'s policy does.
    pub fn agent_with(
        &mut self,
        running: &str,
        app: &mut App,
        config: AgentConfig,
    ) -> (TestAgent, Journal, Startup) {
        let mut agent = Agent::new(self.storage.clone(), self.layout, config, v(running))
            .unwrap()
            .with_application(app.clone());
        let startup = agent.start().unwrap();
        (agent, self.journal(), startup)
    }

    pub fn slot_holds(&self, slot: Slot, image: &[u8]) -> bool {
        let base = self.layout.slot(slot).part.offset() as usize;
        self.storage.0.borrow().contents()[base..base + image.len()] == image[..]
    }
}

pub fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

pub fn image(len: usize) -> Vec<u8> {
    (0..len as u32).map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes()[2]).collect()
}

pub fn offer_for(bytes: &[u8], version: &str) -> Offer {
    let md5 = <[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(bytes));
    Offer::new(v(version), bytes.len() as u32, Digest { md5: Some(md5), sha256: None })
        .with_location("/fw.bin")
        .unwrap()
}

/// Polls until the download ends (`dev`, `journal` and `app` are the Agent's own now; kept so
/// that the tests read as before).
pub fn run(
    _dev: &mut Device,
    agent: &mut TestAgent,
    _journal: &mut Journal,
    src: &mut ChunkServer,
    _app: &mut App,
) -> AgentEvent {
    let mut buf = [0u8; 1024];
    for now in 0..10_000u64 {
        match agent.poll(src, &mut buf, now) {
            AgentEvent::Downloading { .. } | AgentEvent::Waiting => continue,
            other => return other,
        }
    }
    panic!("download never ended");
}

pub fn drain(_dev: &mut Device, agent: &mut TestAgent, _journal: &mut Journal) -> Vec<Report> {
    let mut out = Vec::new();
    while let Some(r) = agent.next_report().cloned() {
        agent.report_delivered(&r).unwrap();
        out.push(r);
    }
    out
}
