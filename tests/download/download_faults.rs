//! The download engine against every scripted fault of the mock chunk server, and against
//! bad input: it completes once the link recovers or fails with the right cause, and a
//! corrupt image is never reported done.

use crate::download_rig;

use download_rig::*;
use ota_client::download::{Download, DownloadConfig};
use ota_client::flash::{Journal, OneFlash};
use ota_client::mock::{ChunkServer, Fault, ManualClock, SimFlash};
use ota_client::offer::HexError;
use ota_client::transport::SourceError;
use ota_client::{Digest, FailureCause, Offer, Version};

const W: usize = 8;
const IMAGE_LEN: usize = 3 * SECTOR + 77;
const CHUNK: usize = 100;

fn cfg() -> DownloadConfig {
    DownloadConfig {
        checkpoint_interval: 0,
        retry_base_ms: 10,
        retry_cap_ms: 200,
        max_attempts: 5,
        chunk_timeout_ms: 1_000,
        overall_timeout_ms: 0,
        ..DownloadConfig::new(ota_client::image::SignaturePolicy::Unsigned)
    }
}

struct Run {
    storage: OneFlash<SimFlash<W, SECTOR>>,
    journal: Journal,
    clock: ManualClock,
}

impl Run {
    fn new() -> Self {
        let flash = fresh_flash::<W>(0xFF);
        let mut storage = OneFlash(flash);
        let part = state_part(&storage.0);
        let journal = Journal::open(&mut storage.0, part).unwrap();
        Self { storage, journal, clock: ManualClock::new() }
    }

    fn download(
        &mut self,
        offer: &Offer,
        server: &mut ChunkServer,
        cfg: DownloadConfig,
    ) -> (Download, Result<ota_client::download::VerifiedImage, FailureCause>) {
        let mut dl = Download::new(offer, target(&self.storage.0), cfg);
        let mut buf = [0u8; CHUNK];
        let r = drive(&mut dl, &mut self.storage, &mut self.journal, server, &mut buf, &self.clock, 5);
        (dl, r)
    }

    /// The active slot is untouched and the journal reopens.
    fn assert_safe(&mut self) {
        assert_eq!(slot_a(&self.storage.0), active_pattern().as_slice(), "active slot changed");
        let part = state_part(&self.storage.0);
        let reopened: Journal = Journal::open(&mut self.storage.0, part).expect("journal reopens");
        let _ = checkpoint(&reopened, &mut self.storage.0);
    }
}

fn healthy(image: &[u8]) -> ChunkServer {
    ChunkServer::new(image.to_vec())
}

/// A fault the engine rides out: the download completes, bit-exact, with nothing fetched twice.
fn survives(fault: Fault, times: u32) {
    let img = image(IMAGE_LEN, 1);
    let offer = offer("1.1.0", &img);
    let mut run = Run::new();
    let mut server = healthy(&img).fault_at(700, fault.clone(), times);
    let (dl, r) = run.download(&offer, &mut server, cfg());
    let done = r.unwrap_or_else(|c| panic!("{fault:?} x{times}: failed with {c:?}"));
    assert_eq!(done.size, IMAGE_LEN as u32);
    assert_eq!(done.md5, offer.digest.md5);
    assert_eq!(Some(done.sha256), offer.digest.sha256);
    assert_eq!(slot_b(&run.storage.0, IMAGE_LEN), img.as_slice(), "{fault:?}: slot differs");
    assert_eq!(server.stats().faults, u64::from(times), "{fault:?}: not every fault fired");
    assert!(dl.fetched_bytes() >= IMAGE_LEN as u64);
    run.assert_safe();
}

/// A fault that corrupts the image: never done, integrity failure, checkpoint removed, and a
/// fresh attempt from a healthy server starts over and succeeds.
fn caught(fault: Fault, times: u32) {
    let img = image(IMAGE_LEN, 2);
    let offer = offer("1.2.0", &img);
    let mut run = Run::new();
    let mut server = healthy(&img).fault_at(700, fault.clone(), times);
    let (_, r) = run.download(&offer, &mut server, cfg());
    assert_eq!(r.err(), Some(FailureCause::IntegrityCheckFailure), "{fault:?} was not caught");
    assert_eq!(
        checkpoint(&run.journal, &mut run.storage.0),
        None,
        "checkpoint survived an integrity failure"
    );
    run.assert_safe();

    let (dl, r) = run.download(&offer, &mut healthy(&img), cfg());
    assert!(r.is_ok(), "{fault:?}: fresh attempt failed: {r:?}");
    assert_eq!(dl.resumed_from(), 0);
    assert_eq!(slot_b(&run.storage.0, IMAGE_LEN), img.as_slice());
    run.assert_safe();
}

#[test]
fn drops_are_retried() {
    survives(Fault::Drop, 1);
    survives(Fault::Drop, 4);
}

#[test]
fn delays_are_waited_out() {
    survives(Fault::Delay, 50);
    let img = image(IMAGE_LEN, 3);
    let offer = offer("1.1.0", &img);
    let mut run = Run::new();
    let mut server = healthy(&img).with_clock(run.clock.clone()).fault_at(300, Fault::DelayMs(600), 1);
    let (_, r) = run.download(&offer, &mut server, cfg());
    assert!(r.is_ok(), "a delay under the chunk timeout must be waited out: {r:?}");
}

#[test]
fn truncated_answers_are_continued() {
    survives(Fault::Truncate(7), 40);
    survives(Fault::Truncate(1), 20);
}

#[test]
fn disconnect_mid_chunk_resumes_at_the_byte() {
    survives(Fault::DisconnectMidChunk, 3);
}

#[test]
fn transient_server_errors_are_retried() {
    survives(Fault::Fail(SourceError::Server), 2);
    survives(Fault::Fail(SourceError::Timeout), 2);
    survives(Fault::Fail(SourceError::Protocol), 2);
}

#[test]
fn corruption_is_caught() {
    caught(Fault::Corrupt(0x5A), 1);
    caught(Fault::Corrupt(0x01), 3);
}

#[test]
fn wrong_range_is_caught() {
    caught(Fault::WrongRange(100), 1);
}

#[test]
fn a_source_that_ignores_ranges_is_caught() {
    // The link drops at 700; the source reconnects and streams from byte 0 again.
    let img = image(IMAGE_LEN, 4);
    let offer = offer("1.3.0", &img);
    let mut run = Run::new();
    let mut server = healthy(&img).fault_at(700, Fault::Drop, 1).fault_at(700, Fault::IgnoreRange, 1);
    let (_, r) = run.download(&offer, &mut server, cfg());
    assert_eq!(r.err(), Some(FailureCause::IntegrityCheckFailure));
    assert_eq!(checkpoint(&run.journal, &mut run.storage.0), None);
    run.assert_safe();
    let (_, r) = run.download(&offer, &mut healthy(&img), cfg());
    assert!(r.is_ok());
    assert_eq!(slot_b(&run.storage.0, IMAGE_LEN), img.as_slice());
}

#[test]
fn an_image_replaced_mid_download_fails_then_the_new_offer_succeeds() {
    let old = image(IMAGE_LEN, 5);
    let new = image(IMAGE_LEN + 300, 6);
    let mut run = Run::new();
    let mut server = healthy(&old).fault_at(900, Fault::ReplaceImage(new.clone()), 1);
    let (_, r) = run.download(&offer("2.0.0", &old), &mut server, cfg());
    assert_eq!(r.err(), Some(FailureCause::IntegrityCheckFailure));
    run.assert_safe();
    // The platform now offers the new file; the same server serves it.
    let (dl, r) = run.download(&offer("2.0.1", &new), &mut server, cfg());
    let done = r.expect("new offer completes");
    assert_eq!(dl.resumed_from(), 0);
    assert_eq!(done.version.as_str(), "2.0.1");
    assert_eq!(slot_b(&run.storage.0, new.len()), new.as_slice());
}

#[test]
fn permanent_errors_fail_with_their_cause() {
    for (e, cause) in [
        (SourceError::NotFound, FailureCause::FileNotFound),
        (SourceError::Unauthorized, FailureCause::AuthorisationExpired),
        (SourceError::InvalidLocation, FailureCause::InvalidUri),
    ] {
        let img = image(IMAGE_LEN, 7);
        let mut run = Run::new();
        let mut server = healthy(&img).fault_at(0, Fault::Fail(e), 1);
        let (dl, r) = run.download(&offer("1.0.1", &img), &mut server, cfg());
        assert_eq!(r.err(), Some(cause), "{e:?}");
        assert_eq!(dl.attempts(), 0, "{e:?} must not be retried");
        run.assert_safe();
    }
}

#[test]
fn a_link_that_stays_down_fails_after_the_attempts_then_resumes() {
    let img = image(IMAGE_LEN, 8);
    let offer = offer("1.4.0", &img);
    let mut run = Run::new();
    let mut server = healthy(&img).fault_at(1200, Fault::Drop, 1000);
    let t0 = run.clock.now();
    let (dl, r) = run.download(&offer, &mut server, cfg());
    assert_eq!(r.err(), Some(FailureCause::ConnectionLost));
    assert_eq!(dl.attempts(), 5);
    assert_eq!(server.stats().resets, 5);
    // Backoff 10, 20, 40, 80 ms between the five attempts.
    assert!(run.clock.now() - t0 >= 150, "backoff not applied: {} ms", run.clock.now() - t0);
    let cp = checkpoint(&run.journal, &mut run.storage.0).expect("checkpoint kept after a lost link");
    assert_eq!(cp.written, SECTOR as u32 * 2);
    run.assert_safe();

    let mut server = healthy(&img).with_high_water(server.stats().high_water);
    let (dl, r) = run.download(&offer, &mut server, cfg());
    assert!(r.is_ok());
    assert_eq!(dl.resumed_from(), 2 * SECTOR as u32);
    assert_eq!(dl.rehashed_bytes(), 2 * SECTOR as u64);
    assert_eq!(dl.fetched_bytes(), (IMAGE_LEN - 2 * SECTOR) as u64);
    assert!(server.stats().refetched <= SECTOR as u64);
    assert_eq!(slot_b(&run.storage.0, IMAGE_LEN), img.as_slice());
}

trait Now {
    fn now(&self) -> u64;
}
impl Now for ManualClock {
    fn now(&self) -> u64 {
        ota_client::time::Clock::now_ms(self)
    }
}

#[test]
fn backoff_doubles_up_to_the_cap() {
    let img = image(IMAGE_LEN, 9);
    let mut run = Run::new();
    let mut server = healthy(&img).fault_at(0, Fault::Drop, 1000);
    let cfg = DownloadConfig { retry_base_ms: 100, retry_cap_ms: 300, max_attempts: 6, ..cfg() };
    let mut dl = Download::new(&offer("1.0.2", &img), target(&run.storage.0), cfg);
    let mut buf = [0u8; CHUNK];
    let mut waits = Vec::new();
    let r = loop {
        match dl.poll(&mut run.storage, &mut run.journal, &mut server, &mut buf, run.clock.now()) {
            Ok(_) => panic!("the link never came back"),
            Err(nb::Error::Other(c)) => break c,
            Err(nb::Error::WouldBlock) => {
                if let Some(at) = dl.retry_at()
                    && waits.last().map(|&(_, a)| a) != Some(at)
                {
                    waits.push((run.clock.now(), at));
                }
                run.clock.advance(5);
            }
        }
    };
    assert_eq!(r, FailureCause::ConnectionLost);
    let delays: Vec<u64> = waits.iter().map(|&(now, at)| at - now).collect();
    assert_eq!(delays, [100, 200, 300, 300, 300], "base, doubling, capped");
    // Delays 100, 200, 300, 300, 300 (the polls move the clock in 5 ms steps).
    let t = run.clock.now();
    assert!((1200..1200 + 6 * 5).contains(&t), "elapsed {t}");
}

#[test]
fn a_stalled_source_times_out() {
    let img = image(IMAGE_LEN, 10);
    let mut run = Run::new();
    let mut server = healthy(&img).fault_at(600, Fault::Delay, u32::MAX);
    let (_, r) = run.download(&offer("1.0.3", &img), &mut server, cfg());
    assert_eq!(r.err(), Some(FailureCause::DownloadTimeout), "chunk timeouts exhaust the attempts");
    assert!(checkpoint(&run.journal, &mut run.storage.0).is_some());

    let mut run = Run::new();
    let mut server = healthy(&img).fault_at(600, Fault::Delay, u32::MAX);
    let cfg = DownloadConfig { chunk_timeout_ms: 0, overall_timeout_ms: 2_000, ..cfg() };
    let (_, r) = run.download(&offer("1.0.3", &img), &mut server, cfg);
    assert_eq!(r.err(), Some(FailureCause::DownloadTimeout), "overall timeout");
    assert!(run.clock.now() >= 2_000);
}

#[test]
fn a_source_claiming_more_than_the_buffer_is_refused() {
    let img = image(IMAGE_LEN, 11);
    let offer = offer("1.5.0", &img);
    let mut run = Run::new();
    let mut server = healthy(&img).fault_at(1100, Fault::Oversize, 1);
    let (dl, r) = run.download(&offer, &mut server, cfg());
    assert_eq!(r.err(), Some(FailureCause::UpdateFailed));
    // Nothing of the bad answer was written: the slot holds the good prefix, erased after.
    let p = dl.progress().bytes as usize;
    assert!((1100..1100 + CHUNK).contains(&p), "stopped at {p}");
    let flushed = p - p % W;
    assert_eq!(slot_b(&run.storage.0, flushed), &img[..flushed]);
    let rest = &run.storage.0.contents()[B_AT as usize + flushed..B_AT as usize + 3 * SECTOR];
    assert!(rest.iter().all(|&b| b == 0xFF), "bytes of the oversized answer reached flash");
    run.assert_safe();
    // The checkpoint still describes good bytes: a fixed source resumes and completes.
    let (dl, r) = run.download(&offer, &mut healthy(&img), cfg());
    assert!(r.is_ok());
    assert_eq!(dl.resumed_from(), 2 * SECTOR as u32);
    assert_eq!(slot_b(&run.storage.0, IMAGE_LEN), img.as_slice());
}

#[test]
fn bad_offers_write_nothing() {
    let img = image(IMAGE_LEN, 12);
    let v = Version::parse("3.0").unwrap();
    let cases: [(Offer, FailureCause); 3] = [
        (Offer::new(v.clone(), 0, digest_of(&img, true, true)), FailureCause::InvalidOffer),
        (Offer::new(v.clone(), IMAGE_LEN as u32, Digest::default()), FailureCause::InvalidOffer),
        (Offer::new(v, SLOT_LEN + 1, digest_of(&img, true, false)), FailureCause::NotEnoughStorage),
    ];
    for (offer, cause) in cases {
        let mut run = Run::new();
        let before = run.storage.0.contents().to_vec();
        let ops = run.storage.0.ops();
        let mut server = healthy(&img);
        let (_, r) = run.download(&offer, &mut server, cfg());
        assert_eq!(r.err(), Some(cause));
        assert_eq!(run.storage.0.ops(), ops, "flash written for a bad offer");
        assert_eq!(run.storage.0.contents(), before.as_slice());
        assert_eq!(server.stats().fetches, 0);
        run.assert_safe();
    }
    // A slot-sized offer is fine.
    let full = image(SLOT_LEN as usize, 13);
    let mut run = Run::new();
    let (_, r) = run.download(&offer("3.1", &full), &mut healthy(&full), cfg());
    assert!(r.is_ok());
}

#[test]
fn a_digest_of_the_wrong_length_is_refused_at_parse() {
    assert_eq!(Digest::md5_hex("00112233"), Err(HexError::WrongLength));
    assert_eq!(Digest::sha256_hex(&"ab".repeat(31)), Err(HexError::WrongLength));
    assert_eq!(Digest::sha256_hex(&"ab".repeat(33)), Err(HexError::WrongLength));
    assert!(Digest::md5_hex(&"0f".repeat(16)).is_ok());
    assert!(Version::parse(&"9".repeat(33)).is_err(), "a version is 1..=32 bytes");
}

#[test]
fn an_empty_buffer_is_refused() {
    let img = image(IMAGE_LEN, 14);
    let mut run = Run::new();
    let mut dl = Download::new(&offer("1.0", &img), target(&run.storage.0), cfg());
    let r = dl.poll(&mut run.storage, &mut run.journal, &mut healthy(&img), &mut [], 0);
    assert_eq!(r, Err(nb::Error::Other(FailureCause::OutOfMemory)));
    assert_eq!(run.storage.0.ops(), 0);
}

#[test]
fn another_offers_checkpoint_is_overwritten_before_any_erase() {
    let a = image(IMAGE_LEN, 15);
    let b = image(IMAGE_LEN, 16);
    let mut run = Run::new();
    let (_, r) = run.download(&offer("4.0", &a), &mut healthy(&a).fault_at(1500, Fault::Drop, 100), cfg());
    assert_eq!(r.err(), Some(FailureCause::ConnectionLost));
    assert_eq!(checkpoint(&run.journal, &mut run.storage.0).unwrap().written, 2 * SECTOR as u32);

    // Watch the first flash operations of the new download: the checkpoint comes first.
    let mut dl = Download::new(&offer("4.1", &b), target(&run.storage.0), cfg());
    let mut buf = [0u8; CHUNK];
    let mut server = healthy(&b);
    let _ = dl.poll(&mut run.storage, &mut run.journal, &mut server, &mut buf, 0);
    let cp = checkpoint(&run.journal, &mut run.storage.0).unwrap();
    assert_eq!((cp.version.as_str(), cp.written), ("4.1", 0));
    let r = drive(&mut dl, &mut run.storage, &mut run.journal, &mut server, &mut buf, &run.clock, 5);
    assert!(r.is_ok());
    assert_eq!(dl.resumed_from(), 0);
    assert_eq!(slot_b(&run.storage.0, IMAGE_LEN), b.as_slice());
    // The same version text with another digest is another firmware, too.
    let cp = checkpoint(&run.journal, &mut run.storage.0).unwrap();
    assert_eq!(cp.written, IMAGE_LEN as u32);
}

#[test]
fn a_finished_download_resumes_without_fetching() {
    let img = image(IMAGE_LEN, 17);
    let offer = offer("5.0", &img);
    let mut run = Run::new();
    let (_, r) = run.download(&offer, &mut healthy(&img), cfg());
    let first = r.unwrap();
    let mut server = healthy(&img);
    let (dl, r) = run.download(&offer, &mut server, cfg());
    assert_eq!(r.unwrap(), first);
    assert_eq!(server.stats().fetches, 0);
    assert_eq!(dl.rehashed_bytes(), IMAGE_LEN as u64);
    Download::clear_checkpoint(&mut run.storage, &mut run.journal).unwrap();
    assert_eq!(checkpoint(&run.journal, &mut run.storage.0), None);
}

#[test]
fn md5_only_and_sha_only_offers() {
    for (md5, sha) in [(true, false), (false, true)] {
        let img = image(IMAGE_LEN, 18);
        let offer: Offer =
            Offer::new(Version::parse("6.0").unwrap(), IMAGE_LEN as u32, digest_of(&img, md5, sha));
        let mut run = Run::new();
        let (_, r) = run.download(&offer, &mut healthy(&img), cfg());
        let done = r.unwrap();
        assert_eq!(done.md5.is_some(), md5);
        assert_eq!(done.sha256, digest_of(&img, false, true).sha256.unwrap(), "SHA-256 is always computed");
        let mut bad = img.clone();
        bad[IMAGE_LEN - 1] ^= 1;
        let mut run = Run::new();
        let (_, r) = run.download(&offer, &mut healthy(&bad), cfg());
        assert_eq!(r.err(), Some(FailureCause::IntegrityCheckFailure));
    }
}

#[test]
fn progress_is_reported() {
    let img = image(IMAGE_LEN, 19);
    let mut run = Run::new();
    let mut dl = Download::new(&offer("7.0", &img), target(&run.storage.0), cfg());
    let mut buf = [0u8; CHUNK];
    let mut server = healthy(&img);
    let mut seen = Vec::new();
    loop {
        match dl.poll(&mut run.storage, &mut run.journal, &mut server, &mut buf, 0) {
            Ok(_) => break,
            Err(nb::Error::WouldBlock) => seen.push(dl.progress()),
            Err(nb::Error::Other(c)) => panic!("{c:?}"),
        }
    }
    assert!(seen.windows(2).all(|w| w[0].bytes <= w[1].bytes));
    assert!(seen.iter().any(|p| p.percent() > 0 && p.percent() < 100));
    assert_eq!(dl.progress().percent(), 100);
    assert_eq!(dl.progress().total, IMAGE_LEN as u32);
    // Checkpoints at each sector (3 inside the image) and one at the end.
    assert_eq!(dl.checkpoints_written(), 4);
}

#[test]
fn the_target_slot_may_live_on_a_second_chip() {
    use ota_client::flash::{Partition, TwoFlashes};
    use ota_client::image::{Slot, SlotRegion};
    let img = image(IMAGE_LEN, 20);
    let offer = offer("8.0", &img);
    let internal = fresh_flash::<W>(0x00);
    let external = SimFlash::<1, 4096>::new(64 * 1024, 0xFF);
    let state = state_part(&internal);
    let target = SlotRegion { slot: Slot::B, part: Partition::new(&external, 8192, 16384, 0xFF).unwrap() };
    let mut storage = TwoFlashes { primary: internal, secondary: external };
    let mut journal: Journal = Journal::open(&mut storage.primary, state).unwrap();
    let clock = ManualClock::new();
    let mut buf = [0u8; CHUNK];
    let mut server = healthy(&img).fault_at(1000, Fault::Drop, 100);
    let mut dl = Download::new(&offer, target, cfg());
    let r = drive(&mut dl, &mut storage, &mut journal, &mut server, &mut buf, &clock, 5);
    assert_eq!(r.err(), Some(FailureCause::ConnectionLost));
    let mut dl = Download::new(&offer, target, cfg());
    let r = drive(&mut dl, &mut storage, &mut journal, &mut healthy(&img), &mut buf, &clock, 5);
    assert!(r.is_ok());
    assert_eq!(dl.resumed_from(), 0, "an image shorter than one 4 KiB sector has no checkpoint inside");
    assert_eq!(&storage.secondary.contents()[8192..8192 + IMAGE_LEN], img.as_slice());
    assert_eq!(slot_a(&storage.primary), active_pattern().as_slice());
}

#[test]
fn the_engine_is_small() {
    let size = std::mem::size_of::<Download>();
    println!("size_of::<Download>() = {size} bytes");
    // Tests build with feature `mock`, which implies `ed25519`: the signed-image trailer
    // collector (body digest, the 128 trailer bytes) and the policy are included.
    assert!(size <= 832, "Download grew to {size} bytes");
}

#[test]
fn a_resumed_download_that_fails_integrity_starts_over_once() {
    let img = image(IMAGE_LEN, 21);
    let offer = offer("9.0", &img);
    let mut run = Run::new();
    // A byte flipped before the first checkpoint, then the file vanishes for a while.
    let mut server = healthy(&img).fault_at(100, Fault::Corrupt(0x10), 1).fault_at(
        2 * SECTOR as u32,
        Fault::Fail(SourceError::NotFound),
        1,
    );
    let (_, r) = run.download(&offer, &mut server, cfg());
    assert_eq!(r.err(), Some(FailureCause::FileNotFound));
    assert_eq!(checkpoint(&run.journal, &mut run.storage.0).unwrap().written, 2 * SECTOR as u32);

    // The file is back: the resumed download finds the bad prefix at the end and starts over.
    let mut server = healthy(&img);
    let (dl, r) = run.download(&offer, &mut server, cfg());
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(dl.restarts(), 1);
    assert_eq!(dl.fetched_bytes(), (IMAGE_LEN - 2 * SECTOR + IMAGE_LEN) as u64);
    assert_eq!(slot_b(&run.storage.0, IMAGE_LEN), img.as_slice());

    // A source that keeps corrupting: one restart, then the failure is reported.
    let mut run = Run::new();
    let mut server = healthy(&img).fault_at(2 * SECTOR as u32, Fault::Fail(SourceError::NotFound), 1);
    let _ = run.download(&offer, &mut server, cfg());
    let mut server = healthy(&img).fault_at(0, Fault::Corrupt(0x10), u32::MAX);
    let (dl, r) = run.download(&offer, &mut server, cfg());
    assert_eq!(r.err(), Some(FailureCause::IntegrityCheckFailure));
    assert_eq!(dl.restarts(), 1);
    assert_eq!(checkpoint(&run.journal, &mut run.storage.0), None);
}

#[test]
fn an_empty_buffer_later_is_refused_too() {
    let img = image(IMAGE_LEN, 22);
    let mut run = Run::new();
    let mut dl = Download::new(&offer("1.0", &img), target(&run.storage.0), cfg());
    let mut server = healthy(&img);
    let mut buf = [0u8; CHUNK];
    for _ in 0..3 {
        let _ = dl.poll(&mut run.storage, &mut run.journal, &mut server, &mut buf, 0);
    }
    let r = dl.poll(&mut run.storage, &mut run.journal, &mut server, &mut [], 0);
    assert_eq!(r, Err(nb::Error::Other(FailureCause::OutOfMemory)));
    run.assert_safe();
}
