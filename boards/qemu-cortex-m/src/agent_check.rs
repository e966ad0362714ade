//! The Agent on target: an offer, a download from an in-memory `ChunkSource` (with
//! `WouldBlock`s and a dropped connection), a power cut half-way, the download resumed from
//! its Journal checkpoint after the "reboot", staging, the bootloader's swap, the trial
//! boot's self-test and confirmation, and the reports the platform would be sent. A second
//! update fails its self-test and is rolled back.

use cortex_m_semihosting::hprintln;
use ota_board_qemu::board::{Flash, SECTOR, SLOT_A, SLOT_B, STATE};
use ota_client::agent::{Agent, AgentConfig, AgentEvent, Application, OfferOutcome, Report, Stage, Startup};
use ota_client::boot::{BootDecision, BootEvent, BootLoader, Layout, Strategy};
use ota_client::flash::{Journal, OneFlash, Partition, kinds};
use ota_client::image::Slot;
use ota_client::transport::{ChunkSource, SourceError};
use ota_client::{Digest, Offer, Version};

use crate::image::TestImage;
use crate::report::{Abort, Checker};

type Storage = OneFlash<Flash>;
/// The Agent of one boot: it holds the flash and the application, lent by the scenario;
/// offers with locations of up to 64 bytes.
type BoardAgent<'a> = Agent<&'a mut Storage, &'a mut BoardApp, 8, 64>;

const FACTORY: TestImage = TestImage { seed: 11, size: 24_000, version: "1.0.0", security_counter: 0 };
const UPDATE: TestImage = TestImage { seed: 12, size: 50_003, version: "2.0.0", security_counter: 0 };
const FAILING: TestImage = TestImage { seed: 13, size: 30_000, version: "3.0.0", security_counter: 0 };
/// Milliseconds of simulated time per poll.
const TICK_MS: u64 = 5;

/// Serves a test image from memory (bytes generated on demand) in chunks of at most
/// `chunk` bytes. Every third fetch first answers `WouldBlock`, as a network stack does; the
/// first fetch at or past `drop_at` fails with `ConnectionLost`.
struct MemorySource {
    image: TestImage,
    chunk: usize,
    drop_at: Option<u32>,
    calls: u32,
    served: u32,
    first_offset: Option<u32>,
    dropped: u32,
}

impl MemorySource {
    fn new(image: TestImage, drop_at: Option<u32>) -> Self {
        Self { image, chunk: 700, drop_at, calls: 0, served: 0, first_offset: None, dropped: 0 }
    }
}

impl ChunkSource for MemorySource {
    fn fetch(&mut self, offset: u32, buf: &mut [u8]) -> nb::Result<usize, SourceError> {
        self.calls += 1;
        if self.calls.is_multiple_of(3) {
            return Err(nb::Error::WouldBlock);
        }
        self.first_offset.get_or_insert(offset);
        if self.drop_at.is_some_and(|at| offset >= at) {
            self.drop_at = None;
            self.dropped += 1;
            return Err(nb::Error::Other(SourceError::ConnectionLost));
        }
        if offset >= self.image.size {
            return Err(nb::Error::Other(SourceError::Protocol));
        }
        let n = buf.len().min(self.chunk).min((self.image.size - offset) as usize);
        let got = self.image.fill(offset, &mut buf[..n]);
        self.served += got as u32;
        Ok(got)
    }
}

/// The firmware's side of the update: self-test result and reboot requests.
struct BoardApp {
    self_test_passes: bool,
    reboots_requested: u32,
}

impl Application for BoardApp {
    fn self_test(&mut self) -> bool {
        self.self_test_passes
    }
    fn request_reboot(&mut self) {
        self.reboots_requested += 1;
    }
}

fn version(text: &str) -> Result<Version, Abort> {
    Version::parse(text).map_err(|_| Abort)
}

fn offer_for(image: &TestImage) -> Result<Offer<64>, Abort> {
    let digest = Digest { md5: None, sha256: Some(image.sha256()) };
    Offer::new(version(image.version)?, image.size, digest)
        .with_location("mem:/firmware.bin")
        .map_err(|_| Abort)
}

fn layout(c: &mut Checker, storage: &Storage) -> Result<Layout, Abort> {
    let p = |(first, count): (u32, u32)| Partition::new(&storage.0, first * SECTOR, count * SECTOR, 0xFF);
    let parts = (|| Ok::<_, ota_client::flash::PartitionError>((p(STATE)?, p(SLOT_A)?, p(SLOT_B)?)))();
    let (state, a, b) = c.must(parts, "partitions")?;
    c.must(Layout::new::<Storage>(state, a, b, Strategy::Swap), "layout (Swap)")
}

/// The bootloader at reset.
fn bootloader(c: &mut Checker, storage: &mut Storage, layout: Layout) -> Result<BootDecision, Abort> {
    let mut journal: Journal =
        c.quiet(Journal::open(&mut storage.0, layout.state()), "open the state journal")?;
    let d =
        c.quiet(BootLoader::new(layout).prepare_boot(storage, &mut journal, &mut |_| {}), "prepare_boot")?;
    hprintln!("  reset -> {:?}", d);
    Ok(d)
}

/// The application after a reset: a fresh journal and agent, then `start`.
fn boot_app<'a>(
    c: &mut Checker,
    storage: &'a mut Storage,
    layout: Layout,
    running: &str,
    app: &'a mut BoardApp,
) -> Result<(BoardAgent<'a>, Startup), Abort> {
    let config = AgentConfig::new(ota_client::image::SignaturePolicy::Unsigned);
    let agent = c.quiet(Agent::new_sized(storage, layout, config, version(running)?), "open the agent")?;
    let mut agent = agent.with_application(app);
    let startup = c.quiet(agent.start(), "agent start")?;
    hprintln!("  agent start ({}) -> {}", running, describe_startup(&startup));
    Ok((agent, startup))
}

/// Polls until the agent stops downloading or `stop` says so; returns the last event.
#[allow(clippy::too_many_arguments)]
fn poll_until(
    agent: &mut BoardAgent<'_>,
    source: &mut MemorySource,
    now: &mut u64,
    stop: impl Fn(&MemorySource) -> bool,
) -> AgentEvent {
    let mut buf = [0u8; 512];
    loop {
        *now += TICK_MS;
        let event = agent.poll(source, &mut buf, *now);
        match event {
            AgentEvent::Downloading { .. } | AgentEvent::Waiting if !stop(source) && *now < 600_000 => {
                continue;
            }
            other => return other,
        }
    }
}

/// Delivers every queued report; returns them in order (at most 8).
fn deliver(c: &mut Checker, agent: &mut BoardAgent<'_>) -> heapless::Vec<Report, 8> {
    let mut sent = heapless::Vec::new();
    while let Some(r) = agent.next_report().cloned() {
        hprintln!("  report -> {}", describe(&r));
        let delivered = agent.report_delivered(&r);
        let _ = sent.push(r);
        if c.quiet(delivered, "report delivered").is_err() {
            break;
        }
    }
    sent
}

/// A report in one short line.
fn describe(r: &Report) -> &'static str {
    match r {
        Report::Version { .. } => "version",
        Report::Progress { .. } => "progress",
        Report::Downloaded { .. } => "downloaded",
        Report::Succeeded { .. } => "succeeded",
        Report::Failed { .. } => "failed",
    }
}

/// A startup outcome in one short line.
fn describe_startup(s: &Startup) -> &'static str {
    match s {
        Startup::Normal => "normal",
        Startup::Confirmed(_) => "confirmed the trial image",
        Startup::RollbackRequested(_) => "self-test failed: rollback requested",
        Startup::RolledBack(_) => "the last update was rolled back",
        Startup::RebootPending(_) => "an image waits for a reboot",
        Startup::Requeued { .. } => "undelivered reports queued again",
    }
}

fn is_version(v: &Version, text: &str) -> bool {
    v.as_str() == text
}

/// Runs the scenario on a blank chip (its own stack frame, for the stack figures).
#[inline(never)]
pub fn run(storage: &mut Storage, c: &mut Checker) -> Result<(), Abort> {
    hprintln!("agent: 1.0.0 -> 2.0.0 (download cut by a reboot, resumed) confirmed -> 3.0.0 self-test fails");
    storage.0.erase_all();
    let layout = layout(c, storage)?;
    c.must(FACTORY.write_to(storage, &layout.slot(Slot::A)), "factory image programmed into slot A")?;
    let mut app = BoardApp { self_test_passes: true, reboots_requested: 0 };
    let mut now = 0u64;

    bootloader(c, storage, layout)?;
    let (mut agent, startup) = boot_app(c, storage, layout, "1.0.0", &mut app)?;
    c.equal(startup, Startup::Normal, "first start: nothing to finish");
    let outcome = agent.offer(offer_for(&UPDATE)?, now);
    c.equal(outcome, OfferOutcome::Accepted, "the offer of 2.0.0 is accepted");

    // Half the image arrives (through one dropped connection), then the power fails.
    let mut source = MemorySource::new(UPDATE, Some(UPDATE.size / 4));
    let half = UPDATE.size / 2;
    let event = poll_until(&mut agent, &mut source, &mut now, |s| s.served >= half);
    c.check(matches!(event, AgentEvent::Downloading { .. }), "downloading when the power fails");
    c.equal(source.dropped, 1, "the dropped connection was retried");
    hprintln!("  power cut after {} of {} bytes", source.served, UPDATE.size);
    c.check(
        agent.journal_mut().1.len_of(kinds::DOWNLOAD_CHECKPOINT).is_some(),
        "a download checkpoint is in the journal",
    );
    drop(agent);

    // Reboot: the platform offers the same firmware again; the download resumes.
    bootloader(c, storage, layout)?;
    let (mut agent, _) = boot_app(c, storage, layout, "1.0.0", &mut app)?;
    let outcome = agent.offer(offer_for(&UPDATE)?, now);
    c.equal(outcome, OfferOutcome::Accepted, "the same offer after the reboot is accepted");
    let mut source = MemorySource::new(UPDATE, None);
    let event = poll_until(&mut agent, &mut source, &mut now, |_| false);
    c.equal(event, AgentEvent::Staged, "the download finishes, is verified and staged");
    let resumed = source.first_offset.unwrap_or(0);
    hprintln!("  resumed at byte {}, fetched {} more bytes", resumed, source.served);
    c.check(resumed > 0 && resumed <= half, "the download resumed from its checkpoint, not from 0");
    c.equal(source.served, UPDATE.size - resumed, "no byte was fetched twice after the resume");
    c.check(agent.app().reboots_requested >= 1, "the application was asked to reboot");
    let sent = deliver(c, &mut agent);
    c.check(
        sent.iter().any(|r| matches!(r, Report::Downloaded { target, .. } if is_version(target, "2.0.0"))),
        "a downloaded report for 2.0.0",
    );
    drop(agent);

    // Reboot into the trial; the new firmware's self-test passes.
    let d = bootloader(c, storage, layout)?;
    c.equal((d.slot, d.trial, d.event), (Slot::A, true, BootEvent::TrialStarted), "2.0.0 boots on trial");
    let sha = c.must(layout.slot(Slot::A).sha256(storage, UPDATE.size), "hash slot A")?;
    c.check(sha == UPDATE.sha256(), "slot A holds 2.0.0 (SHA-256)");
    let (mut agent, startup) = boot_app(c, storage, layout, "2.0.0", &mut app)?;
    c.check(matches!(&startup, Startup::Confirmed(v) if is_version(v, "2.0.0")), "the agent confirms 2.0.0");
    let sent = deliver(c, &mut agent);
    c.check(
        sent.iter().any(|r| matches!(r, Report::Succeeded { version, .. } if is_version(version, "2.0.0"))),
        "a success report for 2.0.0",
    );
    c.check(
        agent.journal_mut().1.len_of(kinds::PENDING_REPORT).is_none(),
        "delivered reports leave the journal",
    );

    // 3.0.0 downloads and stages, but fails its self-test on the trial boot.
    let outcome = agent.offer(offer_for(&FAILING)?, now);
    c.equal(outcome, OfferOutcome::Accepted, "the offer of 3.0.0 is accepted");
    let mut source = MemorySource::new(FAILING, None);
    let event = poll_until(&mut agent, &mut source, &mut now, |_| false);
    c.equal(event, AgentEvent::Staged, "3.0.0 is staged");
    let _ = deliver(c, &mut agent);
    drop(agent);
    let d = bootloader(c, storage, layout)?;
    c.equal(d.event, BootEvent::TrialStarted, "3.0.0 boots on trial");
    app.self_test_passes = false;
    let (_, startup) = boot_app(c, storage, layout, "3.0.0", &mut app)?;
    c.check(
        matches!(&startup, Startup::RollbackRequested(v) if is_version(v, "3.0.0")),
        "the failed self-test requests a rollback",
    );
    app.self_test_passes = true;
    let d = bootloader(c, storage, layout)?;
    c.equal((d.slot, d.trial, d.event), (Slot::A, false, BootEvent::RolledBack), "the next reset rolls back");
    let sha = c.must(layout.slot(Slot::A).sha256(storage, UPDATE.size), "hash slot A")?;
    c.check(sha == UPDATE.sha256(), "slot A holds 2.0.0 again");
    let (mut agent, _) = boot_app(c, storage, layout, "2.0.0", &mut app)?;
    let sent = deliver(c, &mut agent);
    c.check(
        sent.iter().any(|r| matches!(r, Report::Failed { target, stage: Stage::Install, .. } if is_version(target, "3.0.0"))),
        "a failure report for 3.0.0 (install stage) after the rollback",
    );
    Ok(())
}
