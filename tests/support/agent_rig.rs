//! A device for Agent tests: one SimFlash with a two-sector state partition and two slots,
//! an application that counts reboot requests, and helpers to run and drain the Agent.

#![allow(dead_code)]

use ota_client::agent::{Agent, AgentConfig, AgentEvent, Application, Decision, Report, Startup};
use ota_client::boot::{BootControl, BootLoader, Layout, Strategy};
use ota_client::flash::{Journal, OneFlash, Partition};
use ota_client::image::Slot;
use ota_client::mock::{ChunkServer, SimFlash};
use ota_client::{Digest, Offer, Version};

pub const E: u32 = 4096;
pub type Flash = SimFlash<4, 4096>;
pub type Storage = OneFlash<Flash>;

#[derive(Default)]
pub struct App {
    pub reboots: u32,
    pub fail_self_test: bool,
    pub decision: Option<Decision>,
}

impl Application for App {
    fn decide<const L: usize>(&mut self, _offer: &Offer<L>) -> Decision {
        self.decision.unwrap_or(Decision::AcceptNow)
    }
    fn self_test(&mut self) -> bool {
        !self.fail_self_test
    }
    fn request_reboot(&mut self) {
        self.reboots += 1;
    }
}

pub struct Device {
    pub storage: Storage,
    pub layout: Layout,
}

impl Device {
    pub fn new(strategy: Strategy) -> Self {
        let storage = OneFlash(Flash::new((2 + 32 + 33) as usize * E as usize, 0xFF));
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

    pub fn agent(&mut self, running: &str, app: &mut App) -> (Agent, Journal, Startup) {
        self.agent_with(running, app, AgentConfig::new(ota_client::image::SignaturePolicy::Unsigned))
    }

    /// [`Device::agent`] with `config`; the boot manager requires what `config`'s policy does.
    pub fn agent_with(
        &mut self,
        running: &str,
        app: &mut App,
        config: AgentConfig,
    ) -> (Agent, Journal, Startup) {
        let mut journal = self.journal();
        let mut agent = Agent::new(BootControl::new(self.layout), config, v(running));
        let startup = agent.start(&mut self.storage, &mut journal, app).unwrap();
        (agent, journal, startup)
    }

    pub fn slot_holds(&self, slot: Slot, image: &[u8]) -> bool {
        let base = self.layout.slot(slot).part.offset() as usize;
        self.storage.0.contents()[base..base + image.len()] == image[..]
    }
}

pub fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

pub fn image(len: usize) -> Vec<u8> {
    (0..len as u32).map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes()[2]).collect()
}

pub fn offer_for(bytes: &[u8], version: &str) -> Offer {
    let md5 = md5::compute(bytes).0;
    Offer::new(v(version), bytes.len() as u32, Digest { md5: Some(md5), sha256: None })
        .with_location("/fw.bin")
        .unwrap()
}

pub fn run(
    dev: &mut Device,
    agent: &mut Agent,
    journal: &mut Journal,
    src: &mut ChunkServer,
    app: &mut App,
) -> AgentEvent {
    let mut buf = [0u8; 1024];
    for now in 0..10_000u64 {
        match agent.poll(&mut dev.storage, journal, src, &mut buf, now, app) {
            AgentEvent::Downloading { .. } | AgentEvent::Waiting => continue,
            other => return other,
        }
    }
    panic!("download never ended");
}

pub fn drain(dev: &mut Device, agent: &mut Agent, journal: &mut Journal) -> Vec<Report> {
    let mut out = Vec::new();
    while let Some(r) = agent.next_report().cloned() {
        agent.report_delivered(&mut dev.storage, journal, &r).unwrap();
        out.push(r);
    }
    out
}
