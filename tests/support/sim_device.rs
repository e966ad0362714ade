//! The one simulated device of the integration tests: a [`SimFlash`] shared between the
//! Agent and the test, a [`Layout`] over it, and one [`App`] whose clones share their state.
//! A platform test keeps only its driver (Flow, EdgeDevice, SerialUpdater, PCP source…) and
//! its server; everything about flash, boots and power cuts is here.
//!
//! The Agent owns its flash and its application. So that a test can still look at the flash
//! (slot contents, write counts, power) and steer the application between boots, both are
//! shared handles: `mock::SharedFlash` is a `NorFlash` over one `SimFlash` (every operation
//! borrows it for that call only), and [`App`] keeps its state in cells.
//!
//! A boot is what a reset does: power comes back ([`SimDevice::power_cycle`]), the
//! bootloader runs ([`SimDevice::bootloader`]), then the firmware builds a fresh Agent over
//! the same flash and starts it ([`SimDevice::start`]).

#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use ota_client::agent::{Agent, AgentConfig, AgentEvent, Application, Decision, Report, Startup};
use ota_client::boot::{BootControl, BootLoader, BootState, Layout, Phase, Strategy};
use ota_client::download::Checkpoint;
use ota_client::flash::{Journal, OneFlash, Partition, kinds};
use ota_client::image::{SignaturePolicy, Slot};
use ota_client::mock::{ChunkServer, CutKind, PowerCut, SharedFlash, SimFlash};
use ota_client::{Digest, Offer, Version};

/// The erase size of the simulated flash.
pub const E: u32 = 4096;
pub type Flash = SimFlash<4, 4096>;
/// The flash the Agent owns; the test keeps a clone of the handle to look at it.
pub type Store = OneFlash<SharedFlash<4, 4096>>;
/// The Agent of a simulated device.
pub type TestAgent = Agent<Store, App>;

/// The application's hooks; clones share their state (the Agent owns one, the test keeps
/// one, and every boot of a [`SimDevice`] hands the Agent a clone of the same).
#[derive(Clone, Default)]
pub struct App(Rc<AppState>);

#[derive(Default)]
pub struct AppState {
    /// Reboot requests, over every boot.
    pub reboots: Cell<u32>,
    /// The versions `decide` was asked about, in order.
    pub asked: RefCell<Vec<String>>,
    /// What `decide` answers; `None` accepts now.
    pub decision: Cell<Option<Decision>>,
    /// The self-test fails.
    pub fail_self_test: Cell<bool>,
}

impl App {
    /// An application that declines every offer.
    pub fn declining() -> Self {
        let app = Self::default();
        app.decline(true);
        app
    }

    /// Declines every offer (`true`) or accepts them now (`false`).
    pub fn decline(&self, decline: bool) {
        self.decision.set(decline.then_some(Decision::Decline));
    }

    /// How many times `decide` was asked.
    pub fn decided(&self) -> u32 {
        self.asked.borrow().len() as u32
    }

    /// A reboot was requested.
    pub fn reboot_wanted(&self) -> bool {
        self.reboots.get() > 0
    }
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
        self.decision.get().unwrap_or(Decision::AcceptNow)
    }
    fn self_test(&mut self) -> bool {
        !self.fail_self_test.get()
    }
    fn request_reboot(&mut self) {
        self.reboots.set(self.reboots.get() + 1);
    }
}

/// One simulated device: its flash, its partitions, its application.
pub struct SimDevice {
    pub storage: Store,
    pub layout: Layout,
    pub app: App,
}

/// The Agent configuration of most tests: unsigned images.
pub fn unsigned() -> AgentConfig {
    AgentConfig::new(SignaturePolicy::Unsigned)
}

impl SimDevice {
    /// Two state sectors, slots of 32 and 33 sectors (128 KiB images).
    pub fn new(strategy: Strategy) -> Self {
        Self::with_slots(strategy, 32, 33)
    }

    /// Two state sectors, then slot A of `a` sectors and slot B of `b`.
    pub fn with_slots(strategy: Strategy, a: u32, b: u32) -> Self {
        let storage = OneFlash(SharedFlash::new(Flash::new((2 + a + b) as usize * E as usize, 0xFF)));
        let p = |o: u32, n: u32| Partition::new(&storage.0, o * E, n * E, 0xFF).unwrap();
        let layout = Layout::new::<Store>(p(0, 2), p(2, a), p(2 + a, b), strategy).unwrap();
        Self { storage, layout, app: App::default() }
    }

    /// Power comes back: a cut that struck is over, an armed one disarmed, the operation
    /// count starts again at 0.
    pub fn power_cycle(&mut self) {
        self.storage.0.borrow_mut().power_cycle();
    }

    /// Cuts the power `after_ops` flash operations from now.
    pub fn power_cut(&mut self, after_ops: u64, kind: CutKind) {
        let at_op = self.ops() + after_ops;
        self.storage.0.borrow_mut().arm(PowerCut { at_op, kind });
    }

    /// False once an armed cut struck, until [`SimDevice::power_cycle`].
    pub fn is_powered(&self) -> bool {
        self.storage.0.borrow().is_powered()
    }

    /// Flash operations since the last power cycle.
    pub fn ops(&self) -> u64 {
        self.storage.0.borrow().ops()
    }

    /// The bootloader's run at reset (without the power cycle); returns the slot it boots.
    pub fn bootloader(&mut self) -> Slot {
        BootLoader::new(self.layout).boot(&mut self.storage).unwrap().slot
    }

    /// A reset: the power cycle, then the bootloader; returns the slot it boots.
    pub fn reset(&mut self) -> Slot {
        self.power_cycle();
        self.bootloader()
    }

    /// The firmware's start running `running` without a reset before it (the first boot of
    /// a fresh device): a new Agent over this flash with this application, started.
    pub fn start(&mut self, running: &str) -> (TestAgent, Startup) {
        self.start_with(running, unsigned())
    }

    /// [`SimDevice::start`] with `config`.
    pub fn start_with(&mut self, running: &str, config: AgentConfig) -> (TestAgent, Startup) {
        let mut agent = self.agent(running, config);
        let startup = agent.start().unwrap();
        (agent, startup)
    }

    /// The Agent of a boot running `running`, not started yet (for a driver that starts it).
    pub fn agent(&self, running: &str, config: AgentConfig) -> TestAgent {
        Agent::new(self.storage.clone(), self.layout, config, v(running))
            .unwrap()
            .with_application(self.app.clone())
    }

    /// A boot: [`SimDevice::reset`], then [`SimDevice::start`]; also returns the slot booted.
    pub fn boot(&mut self, running: &str) -> (TestAgent, Startup, Slot) {
        self.boot_with(running, unsigned())
    }

    /// [`SimDevice::boot`] with `config`.
    pub fn boot_with(&mut self, running: &str, config: AgentConfig) -> (TestAgent, Startup, Slot) {
        let slot = self.reset();
        let (agent, startup) = self.start_with(running, config);
        (agent, startup, slot)
    }

    /// A Journal of the test's own over the state partition, opened now (one opened earlier
    /// may not know the records the Agent wrote since).
    pub fn journal(&mut self) -> Journal {
        Journal::open(&mut self.storage.0, self.layout.state()).unwrap()
    }

    /// The boot state on flash now.
    pub fn boot_state(&mut self) -> BootState {
        let journal = self.journal();
        BootControl::new(self.layout).state(&mut self.storage, &journal).unwrap()
    }

    /// The boot phase on flash now.
    pub fn phase(&mut self) -> Phase {
        self.boot_state().phase
    }

    /// The slot the boot state names active.
    pub fn active_slot(&mut self) -> Slot {
        self.boot_state().active
    }

    /// The download checkpoint on flash now.
    pub fn checkpoint(&mut self) -> Option<Checkpoint> {
        let journal = self.journal();
        let mut buf = [0u8; 128];
        journal
            .read(&mut self.storage.0, kinds::DOWNLOAD_CHECKPOINT, &mut buf)
            .unwrap()
            .and_then(Checkpoint::decode)
    }

    /// `slot` begins with `image`, bit for bit.
    pub fn slot_holds(&self, slot: Slot, image: &[u8]) -> bool {
        let base = self.layout.slot(slot).part.offset() as usize;
        self.storage.0.borrow().contents()[base..base + image.len()] == image[..]
    }
}

pub fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

/// A test image of `len` bytes; `seed` makes images of one length differ.
pub fn image(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32).map(|i| (i ^ seed).wrapping_mul(2_654_435_761).to_le_bytes()[2]).collect()
}

/// An offer of `bytes` as `version`, with its MD5, at `/fw.bin`.
pub fn offer_for(bytes: &[u8], version: &str) -> Offer {
    let md5 = <[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(bytes));
    Offer::new(v(version), bytes.len() as u32, Digest { md5: Some(md5), sha256: None })
        .with_location("/fw.bin")
        .unwrap()
}

/// Polls `agent` over `src` until the download ends; returns how it ended.
pub fn run(agent: &mut TestAgent, src: &mut ChunkServer) -> AgentEvent {
    let mut buf = [0u8; 1024];
    for now in 0..10_000u64 {
        match agent.poll(src, &mut buf, now) {
            AgentEvent::Downloading { .. } | AgentEvent::Waiting => continue,
            other => return other,
        }
    }
    panic!("download never ended");
}

/// Takes every queued report, acknowledging each.
pub fn drain(agent: &mut TestAgent) -> Vec<Report> {
    let mut out = Vec::new();
    while let Some(r) = agent.next_report().cloned() {
        agent.report_delivered(&r).unwrap();
        out.push(r);
    }
    out
}
