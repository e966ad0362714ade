//! Size probe: baseline + the whole application side through the `Agent`: start (confirm or
//! roll back), an offer, a resumable download from a `ChunkSource` verified by SHA-256 and
//! staged, and the report queue. (The platform codec and transport are not included: they
//! depend on which cloud and network the device uses.)
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use ota_board_qemu::board::{self, Flash};
use ota_board_qemu::probe;
use ota_client::agent::{Agent, AgentConfig, AgentEvent, Application};
use ota_client::boot::{BootManager, Strategy};
use ota_client::flash::{Journal, OneFlash};
use ota_client::transport::{ChunkSource, SourceError};
use ota_client::{Digest, Offer, Version};
use panic_semihosting as _;
use sha2::{Digest as _, Sha256};

const IMAGE: u32 = 8192;

/// Image byte `i`.
fn byte(i: u32) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

/// Serves the image from memory.
struct Source;

impl ChunkSource for Source {
    fn fetch(&mut self, offset: u32, buf: &mut [u8]) -> nb::Result<usize, SourceError> {
        let left =
            IMAGE.checked_sub(offset).filter(|&n| n > 0).ok_or(nb::Error::Other(SourceError::Protocol))?;
        let n = buf.len().min(left as usize);
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = byte(offset + k as u32);
        }
        Ok(n)
    }
}

struct App;

impl Application for App {
    fn request_reboot(&mut self) {}
}

fn agent(storage: &mut OneFlash<Flash>) -> Option<()> {
    let layout = probe::layout(storage, Strategy::Swap)?;
    let mut journal: Journal = Journal::open(&mut storage.0, layout.state()).ok()?;
    let mut agent: Agent<64> =
        Agent::new(BootManager::new(layout), AgentConfig::default(), Version::parse("1.0.0").ok()?);
    agent.start(storage, &mut journal, &mut App).ok()?;
    let mut h = Sha256::new();
    for i in 0..IMAGE {
        h.update([byte(i)]);
    }
    let digest = Digest { md5: None, sha256: Some(h.finalize().into()) };
    let offer = Offer::new(Version::parse("2.0.0").ok()?, IMAGE, digest).with_location("/fw.bin").ok()?;
    agent.offer(storage, &mut journal, offer, &mut App, 0);
    let mut buf = [0u8; 512];
    let mut now = 0;
    let event = loop {
        now += 1;
        match agent.poll(storage, &mut journal, &mut Source, &mut buf, now, &mut App) {
            AgentEvent::Downloading { .. } | AgentEvent::Waiting if now < 10_000 => continue,
            other => break other,
        }
    };
    while agent.next_report().is_some() {
        agent.report_delivered(storage, &mut journal).ok()?;
    }
    (event == AgentEvent::Staged).then_some(())
}

#[entry]
fn main() -> ! {
    probe::start();
    let mut storage = OneFlash(board::flash());
    let ok = probe::driver_smoke(&mut storage.0) && agent(&mut storage).is_some();
    probe::finish("probe-agent", ok)
}
