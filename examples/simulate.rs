//! The demo: a whole device lifecycle on a simulated NOR flash, with no hardware and no
//! network. `cargo run --example simulate`.
//!
//! 1. Version 1.0.0 runs; the platform offers 1.1.0 (256 KiB). The download starts, and the
//!    power is cut in the middle of it.
//! 2. After the reboot the same offer arrives again: the download resumes at its last
//!    checkpoint, completes, verifies, and the image is staged.
//! 3. The bootloader swaps the slots and starts a trial boot; the self-test passes, the image
//!    is confirmed and "success" is reported.
//! 4. Version 1.2.0 is offered; its self-test fails, the bootloader swaps back, and the
//!    failure is reported after the rollback.

use ota_client::agent::{Agent, AgentConfig, AgentEvent, Application, Report, Startup};
use ota_client::boot::{BootLoader, Layout, Strategy};
use ota_client::flash::{OneFlash, Partition};
use ota_client::mock::{ChunkServer, CutKind, PowerCut, SimFlash};
use ota_client::{Digest, Offer, Version};
use std::io::Write as _;

const SECTOR: u32 = 4096;
const SLOT_SECTORS: u32 = 96;
const IMAGE_LEN: usize = 256 * 1024;
type Flash = SimFlash<4, 4096>;
type Storage = OneFlash<Flash>;
/// The firmware of one boot: the Agent holds the flash (lent by the simulation) and the app.
type Firmware<'a> = Agent<&'a mut Storage, App>;

struct App {
    self_test_passes: bool,
}

impl Application for App {
    fn self_test(&mut self) -> bool {
        println!("  application: self-test {}", if self.self_test_passes { "passed" } else { "FAILED" });
        self.self_test_passes
    }
    fn request_reboot(&mut self) {
        println!("  application: reboot requested");
    }
}

fn image(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32).map(|i| (i ^ seed).wrapping_mul(2_654_435_761).to_le_bytes()[3]).collect()
}

fn offer(bytes: &[u8], version: &str) -> Offer {
    let digest =
        Digest { md5: Some(<[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(bytes))), sha256: None };
    Offer::new(Version::parse(version).unwrap(), bytes.len() as u32, digest)
}

fn describe(s: &Startup) -> String {
    match s {
        Startup::Normal => "nothing pending".into(),
        Startup::Confirmed(v) => format!("{v} passed its self-test and is confirmed"),
        Startup::RollbackRequested(v) => format!("{v} failed its self-test: rollback requested"),
        Startup::RolledBack(v) => format!("{v} was rolled back"),
        Startup::RebootPending(v) => format!("{v} is staged, waiting for a reboot"),
        Startup::Requeued { reports } => format!("{reports} undelivered report(s) queued again"),
    }
}

fn bar(percent: u8) {
    let filled = usize::from(percent) / 4;
    print!("\r  downloading [{}{}] {percent:3}%", "#".repeat(filled), " ".repeat(25 - filled));
    let _ = std::io::stdout().flush();
}

fn send_reports(agent: &mut Firmware<'_>) {
    while let Some(r) = agent.next_report().cloned() {
        if !matches!(r, Report::Progress { .. }) {
            println!("  report to platform: {r}");
        }
        agent.report_delivered(&r).unwrap();
    }
}

/// The application after a reset: its Agent over the flash, started (confirms or rolls back).
fn firmware<'a>(
    storage: &'a mut Storage,
    layout: Layout,
    running: &str,
    self_test_passes: bool,
) -> Firmware<'a> {
    let config = AgentConfig::new(ota_client::mock::demo_policy());
    let agent = Agent::new(storage, layout, config, Version::parse(running).unwrap()).unwrap();
    let mut agent = agent.with_application(App { self_test_passes });
    let startup = agent.start().unwrap();
    println!("  agent: {}", describe(&startup));
    agent
}

fn boot(layout: Layout, storage: &mut Storage) {
    let boot = BootLoader::new(layout)
        .require_signature(ota_client::mock::demo_keys(), ota_client::mock::DEMO_PRODUCT);
    let d = boot.boot(storage).unwrap();
    println!("bootloader: {:?} → run slot {:?}{}", d.event, d.slot, if d.trial { " (trial)" } else { "" });
}

/// Runs the download until it stages, fails, or the power dies. Returns true when staged.
fn download(agent: &mut Firmware<'_>, server: &mut ChunkServer) -> bool {
    let mut buf = [0u8; 1024];
    let mut now = 0;
    let mut shown = None;
    loop {
        now += 1;
        let event = agent.poll(server, &mut buf, now);
        if !agent.storage_mut().0.is_powered() {
            println!("\n  *** power cut ***");
            return false;
        }
        match event {
            AgentEvent::Downloading { percent } => {
                if shown.is_none() && agent.download().is_some_and(|d| d.resumed_from() > 0) {
                    let from = agent.download().map_or(0, |d| d.resumed_from());
                    println!(
                        "  resuming at byte {from} (last checkpoint; the prefix is re-hashed from flash)"
                    );
                }
                if shown != Some(percent) {
                    shown = Some(percent);
                    bar(percent);
                }
            }
            AgentEvent::Waiting => {}
            AgentEvent::Staged => {
                bar(100);
                println!();
                return true;
            }
            AgentEvent::Failed(cause) => {
                println!("\n  download stopped: {cause}");
                return false;
            }
            AgentEvent::Idle => return false,
        }
    }
}

fn main() {
    let total = (2 + SLOT_SECTORS * 2 + 1) * SECTOR;
    let mut storage = OneFlash(Flash::new(total as usize, 0xFF));
    let p = |o: u32, n: u32| Partition::new(&storage.0, o * SECTOR, n * SECTOR, 0xFF).unwrap();
    let layout = Layout::new::<Storage>(
        p(0, 2),
        p(2, SLOT_SECTORS),
        p(2 + SLOT_SECTORS, SLOT_SECTORS + 1),
        Strategy::Swap,
    )
    .unwrap();
    let factory = image(200 * 1024, 1);
    let a0 = layout.slot(ota_client::image::Slot::A).part.offset() as usize;
    storage.0.contents_mut()[a0..a0 + factory.len()].copy_from_slice(&factory);
    // Signed images: the (public) demo key, the version and counter in the signed manifest.
    let body_len = IMAGE_LEN - ota_client::image::signature::TRAILER_LEN;
    let v11 = ota_client::mock::demo_sign(&image(body_len, 2), "1.1.0");
    let v12 = ota_client::mock::demo_sign(&image(body_len, 3), "1.2.0");

    println!("== Update 1: 1.0.0 → 1.1.0 ({} KiB), power cut mid-download", IMAGE_LEN / 1024);
    boot(layout, &mut storage);
    let mut server = ChunkServer::new(v11.clone());
    {
        let mut agent = firmware(&mut storage, layout, "1.0.0", true);
        agent.report_version();
        send_reports(&mut agent);
        agent.offer(offer(&v11, "1.1.0"), 0);
        // Cut the power about 60% of the way through the image's flash writes.
        let flash = &mut agent.storage_mut().0;
        flash.arm(PowerCut {
            at_op: flash.ops() + (IMAGE_LEN as u64 / 1024) * 6 / 10,
            kind: CutKind::MidWrite,
        });
        download(&mut agent, &mut server);
    }
    storage.0.power_cycle();
    storage.0.reset_stats();

    println!("== Reboot; the platform offers 1.1.0 again: resume");
    boot(layout, &mut storage);
    let before = server.stats().served;
    {
        let mut agent = firmware(&mut storage, layout, "1.0.0", true);
        agent.offer(offer(&v11, "1.1.0"), 0);
        assert!(download(&mut agent, &mut server));
        send_reports(&mut agent);
    }
    let stats = storage.0.stats().clone();
    println!(
        "  figures: image {} bytes; fetched {} bytes in all: {} before the cut, {} after it\n           (resumed at the last checkpoint: {} bytes fetched twice)",
        IMAGE_LEN,
        server.stats().served,
        before,
        server.stats().served - before,
        server.stats().served - IMAGE_LEN as u64
    );
    println!(
        "           flash after the reboot: {} writes, {} bytes programmed, {} sector erases",
        stats.writes,
        stats.bytes_programmed,
        stats.total_erases()
    );

    println!("== Reboot into the new image");
    boot(layout, &mut storage);
    {
        let mut agent = firmware(&mut storage, layout, "1.1.0", true);
        send_reports(&mut agent);
        println!("== Update 2: 1.1.0 → 1.2.0, whose self-test fails");
        let mut server = ChunkServer::new(v12.clone());
        agent.offer(offer(&v12, "1.2.0"), 0);
        assert!(download(&mut agent, &mut server));
        send_reports(&mut agent);
    }
    boot(layout, &mut storage);
    drop(firmware(&mut storage, layout, "1.2.0", false));
    boot(layout, &mut storage);
    {
        let mut agent = firmware(&mut storage, layout, "1.1.0", true);
        assert!(agent.boot_state().unwrap().last_rollback.is_some());
        send_reports(&mut agent);
    }
    let held = &storage.0.contents()[a0..a0 + IMAGE_LEN];
    println!("== Done: slot A holds 1.1.0 again: {}", held == &v11[..]);
}
