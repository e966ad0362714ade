//! What the two Agent size probes share: an in-memory image source, and one update through
//! the `Agent` (start, offer, resumable verified download, stage, reports delivered). The
//! probes differ only in the `AgentConfig` and the image bytes, so their flash figures differ
//! exactly by what the configuration links in.

use ota_client::agent::{Agent, AgentConfig, AgentEvent, Application};
use ota_client::boot::Strategy;
use ota_client::flash::OneFlash;
use ota_client::transport::{ChunkSource, SourceError};
use ota_client::{Digest, Offer, Version};
use sha2::{Digest as _, Sha256};

use crate::board::Flash;
use crate::probe;

/// Serves an image of `LEN` bytes whose byte `i` is `byte(i)`.
struct Source<B, const LEN: u32> {
    byte: B,
}

impl<B: Fn(u32) -> u8, const LEN: u32> ChunkSource for Source<B, LEN> {
    fn fetch(&mut self, offset: u32, buf: &mut [u8]) -> nb::Result<usize, SourceError> {
        let left =
            LEN.checked_sub(offset).filter(|&n| n > 0).ok_or(nb::Error::Other(SourceError::Protocol))?;
        let n = buf.len().min(left as usize);
        for (k, b) in buf.iter_mut().take(n).enumerate() {
            *b = (self.byte)(offset + k as u32);
        }
        Ok(n)
    }
}

struct App;

impl Application for App {
    fn request_reboot(&mut self) {}
}

/// Runs one update of the `LEN`-byte image `byte` from 1.0.0 to 2.0.0 through an Agent with
/// `config`; `Some(())` once it is staged and its reports are delivered. Generic over the
/// size and the generator, so that each probe links exactly what it would had it written the
/// loop itself.
pub fn update<B: Fn(u32) -> u8 + Copy, const LEN: u32>(
    storage: &mut OneFlash<Flash>,
    config: AgentConfig,
    byte: B,
) -> Option<()> {
    let layout = probe::layout(storage, Strategy::Swap)?;
    let agent =
        Agent::<_, (), 8, 64>::new_sized(storage, layout, config, Version::parse("1.0.0").ok()?).ok()?;
    let mut agent = agent.with_application(App);
    agent.start().ok()?;
    let mut h = Sha256::new();
    for i in 0..LEN {
        h.update([byte(i)]);
    }
    let digest = Digest { md5: None, sha256: Some(h.finalize().into()) };
    let offer = Offer::new(Version::parse("2.0.0").ok()?, LEN, digest).with_location("/fw.bin").ok()?;
    agent.offer(offer, 0);
    let mut source = Source::<B, LEN> { byte };
    let mut buf = [0u8; 512];
    let mut now = 0;
    let event = loop {
        now += 1;
        match agent.poll(&mut source, &mut buf, now) {
            AgentEvent::Downloading { .. } | AgentEvent::Waiting if now < 10_000 => continue,
            other => break other,
        }
    };
    while let Some(report) = agent.next_report().cloned() {
        agent.report_delivered(&report).ok()?;
    }
    (event == AgentEvent::Staged).then_some(())
}
