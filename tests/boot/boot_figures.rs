//! Write amplification of an update on the device's real path, per strategy and image size,
//! on a realistic geometry (4 KiB sectors, 4-byte writes, a two-sector state partition, slots
//! of 1 MiB): erases per slot sector, bytes programmed against the image size, erases of the
//! state partition, and the Journal records each update appends, by kind.
//!
//! Every update goes the way a device takes it: the [`Agent`] takes the offer and downloads
//! it from a [`ChunkServer`] through the download engine with its default checkpoints
//! ([`AgentConfig::new`]: one checkpoint every erase sector of the slot), verifies and stages
//! it; every report is delivered as soon as it is queued; the bootloader
//! ([`BootLoader::boot`]) installs the image; a fresh Agent starts (and confirms it) and its
//! outcome report is delivered. Counted over the updates after a first one (which, with no
//! recorded size for the factory image, swaps the whole slot). Run with `--nocapture` to see
//! the table that docs/figures.md quotes.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use embedded_storage::nor_flash::{ErrorType, NorFlash, ReadNorFlash};
use ota_client::agent::{Agent, AgentConfig, AgentEvent, OfferOutcome, Startup};
use ota_client::boot::{BootLoader, Layout, Strategy};
use ota_client::flash::{OneFlash, Partition, kinds};
use ota_client::image::SignaturePolicy;
use ota_client::mock::{ChunkServer, SharedFlash, SimFlash};
use ota_client::{Digest, Offer, Version};

const E: u32 = 4096;
/// Sectors of slot A (1 MiB); B has one more (the swap's spare page).
const SLOT: u32 = 256;
/// Sectors of the state partition.
const STATE: u32 = 2;
/// The chunk buffer a device lends the Agent.
const CHUNK: usize = 1024;

/// Journal records seen on the state partition, by kind: appended ones and the copies
/// compaction makes.
#[derive(Default)]
struct Tally {
    /// Partition offset just past the record being written (a write below it continues it).
    record_end: u32,
    /// A compaction is under way into the sector at this offset: its records are copies until
    /// the sector header lands (the last one before it is the record being appended).
    compacting: Option<u32>,
    pending: Vec<(u8, u32)>,
    /// Records appended per kind: (count, bytes on flash).
    appended: BTreeMap<u8, (u32, u32)>,
    /// Bytes compaction copied.
    copied: u32,
}

impl Tally {
    fn record(&mut self, kind: u8, bytes: u32) {
        let e = self.appended.entry(kind).or_default();
        e.0 += 1;
        e.1 += bytes;
    }

    fn saw_write(&mut self, offset: u32, data: &[u8]) {
        if offset >= STATE * E {
            return;
        }
        if offset.is_multiple_of(E) && data.starts_with(b"OTAJ") {
            // The sector header: the commit point of a compaction.
            if let Some(last) = self.pending.pop() {
                self.record(last.0, last.1);
            }
            self.copied += self.pending.drain(..).map(|(_, b)| b).sum::<u32>();
            self.compacting = None;
            self.record_end = offset + 16;
            return;
        }
        if offset < self.record_end || data.first() != Some(&0xA5) || data.len() < 4 {
            return;
        }
        let len = u32::from(u16::from_le_bytes([data[2], data[3]]));
        let bytes = (12 + len).div_ceil(4) * 4;
        self.record_end = offset + bytes;
        match self.compacting {
            Some(_) => self.pending.push((data[1], bytes)),
            None => self.record(data[1], bytes),
        }
    }

    fn saw_erase(&mut self, from: u32) {
        if from < STATE * E {
            self.compacting = Some(from);
            self.pending.clear();
            self.record_end = from;
        }
    }
}

/// The device's flash: one shared [`SimFlash`] whose state partition writes are tallied.
#[derive(Clone)]
struct Tap {
    flash: SharedFlash<4, 4096>,
    tally: Rc<RefCell<Tally>>,
}

impl ErrorType for Tap {
    type Error = <SharedFlash<4, 4096> as ErrorType>::Error;
}

impl ReadNorFlash for Tap {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.flash.read(offset, bytes)
    }
    fn capacity(&self) -> usize {
        self.flash.capacity()
    }
}

impl NorFlash for Tap {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = 4096;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.tally.borrow_mut().saw_erase(from);
        self.flash.erase(from, to)
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.tally.borrow_mut().saw_write(offset, bytes);
        self.flash.write(offset, bytes)
    }
}

type Storage = OneFlash<Tap>;

struct Figures {
    updates: u32,
    slot_erases_max: u32,
    slot_erases_per_update: f64,
    programmed_per_byte: f64,
    state_erases_per_update: f64,
    /// Per kind: records and bytes appended per update.
    appended: BTreeMap<u8, (f64, f64)>,
    copied_per_update: f64,
}

fn image(len: u32, u: u32) -> Vec<u8> {
    (0..len).map(|i| (i ^ (u * 77)).wrapping_mul(2_654_435_761).to_le_bytes()[3]).collect()
}

fn version(u: u32) -> Version {
    Version::parse(&format!("1.{u}")).unwrap()
}

/// One whole update from `running` to `1.{u+1}`, as a device takes it.
fn update(storage: &Storage, layout: Layout, u: u32, image_len: u32) {
    let config = AgentConfig::new(SignaturePolicy::Unsigned);
    let new = image(image_len, u);
    let mut agent = Agent::new(storage.clone(), layout, config, version(u)).unwrap();
    assert_eq!(agent.start().unwrap(), Startup::Normal);
    let md5 = <[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(&new));
    let sha256 = <[u8; 32]>::from(<sha2::Sha256 as sha2::Digest>::digest(&new));
    let offer = Offer::new(version(u + 1), image_len, Digest { md5: Some(md5), sha256: Some(sha256) })
        .with_location("/fw.bin")
        .unwrap();
    assert_eq!(agent.offer(offer, 0), OfferOutcome::Accepted);
    let mut server = ChunkServer::new(new.clone());
    let mut buf = [0u8; CHUNK];
    loop {
        let event = agent.poll(&mut server, &mut buf, 0);
        deliver(&mut agent);
        match event {
            AgentEvent::Staged => break,
            AgentEvent::Downloading { .. } => {}
            other => panic!("update {u}: {other:?}"),
        }
    }
    // The reset: the bootloader installs the image and starts its trial.
    let mut boot_storage = storage.clone();
    let decision = BootLoader::new(layout).boot(&mut boot_storage).unwrap();
    assert!(decision.trial);
    let base = layout.slot(decision.slot).part.offset() as usize;
    assert_eq!(&storage.0.flash.borrow().contents()[base..base + new.len()], &new[..]);
    // The new image: its Agent confirms it and the outcome is delivered.
    let mut agent = Agent::new(storage.clone(), layout, config, version(u)).unwrap();
    assert_eq!(agent.start().unwrap(), Startup::Confirmed(version(u + 1)));
    deliver(&mut agent);
    assert!(!agent.boot_state().unwrap().is_trial());
}

/// Delivers every queued report.
fn deliver<A: ota_client::agent::Application>(agent: &mut Agent<Storage, A>) {
    while let Some(r) = agent.next_report().cloned() {
        agent.report_delivered(&r).unwrap();
    }
}

fn measure(strategy: Strategy, image_len: u32, updates: u32) -> Figures {
    let sectors = STATE + SLOT + SLOT + 1;
    let flash = SharedFlash::new(SimFlash::<4, 4096>::new((sectors * E) as usize, 0xFF));
    let tally = Rc::new(RefCell::new(Tally::default()));
    let storage = OneFlash(Tap { flash, tally: Rc::clone(&tally) });
    let p = |o: u32, n: u32| Partition::new(&storage.0, o * E, n * E, 0xFF).unwrap();
    let (state, a, b) = (p(0, STATE), p(STATE, SLOT), p(STATE + SLOT, SLOT + 1));
    let layout = Layout::new::<Storage>(state, a, b, strategy).unwrap();
    for u in 0..=updates {
        if u == 1 {
            storage.0.flash.borrow_mut().reset_stats();
            *tally.borrow_mut() = Tally::default();
        }
        update(&storage, layout, u, image_len);
    }
    let n = f64::from(updates);
    let flash = storage.0.flash.borrow();
    let stats = flash.stats();
    let slot_sectors = &stats.erases[STATE as usize..];
    let tally = tally.borrow();
    Figures {
        updates,
        slot_erases_max: *slot_sectors.iter().max().unwrap(),
        slot_erases_per_update: slot_sectors.iter().map(|&x| f64::from(x)).sum::<f64>() / n,
        programmed_per_byte: stats.bytes_programmed as f64 / n / f64::from(image_len),
        state_erases_per_update: stats.erases_in(0, STATE * E, E) as f64 / n,
        appended: tally
            .appended
            .iter()
            .map(|(&k, &(c, b))| (k, (f64::from(c) / n, f64::from(b) / n)))
            .collect(),
        copied_per_update: f64::from(tally.copied) / n,
    }
}

fn kind_name(kind: u8) -> &'static str {
    match kind {
        kinds::BOOT_STATE => "boot state",
        kinds::SWAP_PROGRESS => "swap progress",
        kinds::DOWNLOAD_CHECKPOINT => "checkpoint",
        kinds::PENDING_REPORT => "reports",
        kinds::OFFER_BACKOFF => "back-off",
        _ => "other",
    }
}

#[test]
fn write_amplification_per_update() {
    let interval = AgentConfig::new(SignaturePolicy::Unsigned).download.checkpoint_interval;
    assert_eq!(interval, 0, "the default checkpoint interval is one erase sector");
    println!(
        "Through the Agent and the download engine, default AgentConfig (a checkpoint every erase \
         sector: 4 KiB), 4 KiB sectors, 4-byte writes, 2-sector state partition; 10 updates per row \
         after a first one."
    );
    println!(
        "| strategy | image | slot erases / update | max erases of one sector (10 updates) | bytes programmed / image byte | state erases / update |"
    );
    println!("|---|---|---|---|---|---|");
    let mut journal_rows = Vec::new();
    for strategy in [Strategy::Select, Strategy::Swap] {
        for kib in [64u32, 256, 1024] {
            let len = kib * 1024;
            let f = measure(strategy, len, 10);
            let size = if kib >= 1024 { format!("{} MiB", kib / 1024) } else { format!("{kib} KiB") };
            println!(
                "| {strategy:?} | {size} | {:.1} | {} | {:.2} | {:.2} |",
                f.slot_erases_per_update, f.slot_erases_max, f.programmed_per_byte, f.state_erases_per_update
            );
            let kinds: Vec<String> = f
                .appended
                .iter()
                .map(|(&k, &(c, b))| format!("{} {c:.1} ({b:.0} B)", kind_name(k)))
                .collect();
            journal_rows.push(format!(
                "| {strategy:?} | {size} | {} | {:.0} B |",
                kinds.join(", "),
                f.copied_per_update
            ));
            assert_eq!(f.updates, 10);
            let pages = f64::from(len.div_ceil(E));
            match strategy {
                // Select writes the image once: one erase per image sector.
                Strategy::Select => {
                    assert!((f.slot_erases_per_update - pages).abs() < 0.01);
                    assert!(f.programmed_per_byte < 1.1);
                }
                // Swap: the download plus two copies per page.
                Strategy::Swap => {
                    assert!(f.slot_erases_per_update <= 3.0 * pages + 1.0);
                    assert!(f.programmed_per_byte < 3.2);
                }
            }
            // Issue 14 asks for at most 1.0; today the checkpoints and the swap's per-step
            // progress records take up to 9.4 (docs/figures.md#boot). This bound only keeps
            // it from growing.
            assert!(f.state_erases_per_update <= 10.0, "state partition wears faster than measured");
        }
    }
    println!();
    println!("Journal records appended per update, by kind (records, bytes), and bytes compaction copied:");
    println!("| strategy | image | appended per update | copied per update |");
    println!("|---|---|---|---|");
    for row in journal_rows {
        println!("{row}");
    }
}
