//! [`Download`]: the resumable download state machine.
//!
//! It is sans-I/O and non-blocking: every [`Download::poll`] borrows the flash, the Journal,
//! the chunk source, a caller buffer and the time, does at most one bounded piece of work
//! (one fetch and its writes, or one buffer of re-hashing) and returns `WouldBlock` until the
//! image is complete and verified.
//!
//! # What it does
//! - Checks the offer first (size 0, or neither a digest nor a package id →
//!   [`FailureCause::InvalidOffer`], larger than the slot → [`FailureCause::NotEnoughStorage`]);
//!   nothing is read or written then. A transport-checked offer
//!   ([`Offer::transport_checked`], Huawei PCP: no image digest exists) is checked by size only
//!   at the end; its package id takes the digest's place in the checkpoint's identity.
//! - Looks for a checkpoint of the same download (version text, size, digests or package id,
//!   slot). If there is one it resumes there: the prefix already on flash is read back and
//!   re-hashed (the `md5` crate cannot save its state), then fetching continues at the
//!   checkpoint.
//!   Otherwise any other checkpoint is overwritten by one at offset 0 *before* the first
//!   erase, so a power cut can never leave a checkpoint that claims erased data.
//! - Erases each sector of the target slot on first touch, writes in pieces aligned to the
//!   write size (an unaligned tail of fewer than write-size bytes waits in a small buffer for
//!   the next chunk), and hashes every byte as it arrives.
//! - Appends a checkpoint every `checkpoint_interval` bytes (default one erase sector).
//!   Fetches never cross the next checkpoint offset, so checkpoints sit exactly at multiples
//!   of the interval, are write aligned and cover only bytes already on flash. After a power
//!   cut at most one interval is fetched again (plus, when the interval is not a multiple of
//!   the erase size and the cut left the checkpoint's sector dirty, the part of that sector
//!   before the checkpoint: the engine then rewinds to the sector start).
//! - Retries transient [`SourceError`]s with exponential backoff (`retry_base_ms`, doubling,
//!   capped at `retry_cap_ms`) up to `max_attempts` consecutive failures; a fetch that stays
//!   `WouldBlock` for `chunk_timeout_ms` counts as a [`SourceError::Timeout`]; the whole
//!   download stops with [`FailureCause::DownloadTimeout`] after `overall_timeout_ms`.
//! - A source that claims more bytes than the buffer it was given is broken, not flaky: the
//!   engine stops at once with [`FailureCause::UpdateFailed`]; nothing of that answer is
//!   hashed or written, and the checkpoint stays (the bytes on flash are still good).
//! - With [`SignaturePolicy::Required`] (feature `ed25519`) the image must end in a signed
//!   trailer ([`signature`](crate::image::signature)): the bytes pass through a trailer collector
//!   that takes the body's SHA-256 from the running hash at the body/trailer boundary and
//!   keeps the trailer bytes, on the fetch path and on the resume path alike; the Ed25519
//!   check runs once, after the digests, and a refusal is
//!   [`FailureCause::IntegrityCheckFailure`] like a digest mismatch. An image too short to
//!   hold a trailer is refused before anything is fetched.
//! - At the end it checks size and digests. On success a last checkpoint (offset = size) is
//!   written so that a reboot before staging resumes without fetching anything, and the
//!   result is a [`VerifiedImage`]. On an integrity failure the checkpoint is removed. If the
//!   download had resumed, the bad bytes may predate the resume (fetched before a reboot, by
//!   a link that has since been fixed), so the engine starts over from byte 0 by itself,
//!   once; [`FailureCause::IntegrityCheckFailure`] is reported only for an image fetched
//!   whole by this engine.
//!
//! # Resume cost
//! Re-hashing reads back `checkpoint` bytes from the slot and runs SHA-256 (and MD5 when the
//! offer has one) over them, one caller buffer per poll: the same hashing time the download
//! spent on those bytes the first time, plus the flash reads, and no network traffic. On the
//! host it runs at the raw hash speed (`benches/pipeline.rs`, `resume_rehash_256k`).
//!
//! # After `Done`
//! The last checkpoint (offset = size) stays in the Journal until the caller stages the image
//! and calls [`Download::clear_checkpoint`]. Whoever rewrites the target slot by other means
//! must clear it too (a stale checkpoint is caught by the integrity check, at the cost of one
//! failed attempt).

use super::checkpoint::{CHECKPOINT_LEN, Checkpoint};
use crate::flash::{Journal, JournalError, MAX_ACCESS_SIZE, Storage, kinds};
use crate::image::integrity::Verifier;
#[cfg(feature = "ed25519")]
use crate::image::signature::Trailer;
#[cfg(feature = "ed25519")]
use crate::image::signature::TrailerCollector;
use crate::image::signature::{SignaturePolicy, Signed};
use crate::image::{Slot, SlotRegion};
use crate::transport::{ChunkSource, SourceError};
use crate::{Digest, FailureCause, Offer, Version};

/// Tuning of a [`Download`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DownloadConfig {
    /// Bytes between checkpoints; 0 means one erase sector of the target slot. Rounded up to
    /// a multiple of the write size.
    pub checkpoint_interval: u32,
    /// First backoff delay after a transient error, in ms.
    pub retry_base_ms: u64,
    /// Longest backoff delay, in ms.
    pub retry_cap_ms: u64,
    /// Consecutive failed fetches after which the download fails (at least 1).
    pub max_attempts: u32,
    /// A fetch that answers `WouldBlock` for this long counts as a timeout; 0: no limit.
    pub chunk_timeout_ms: u64,
    /// The whole download fails with [`FailureCause::DownloadTimeout`] after this long,
    /// counted from the first poll of this boot (a reboot starts the count again); 0: no
    /// limit. Default [`DEFAULT_OVERALL_TIMEOUT_MS`], so a source that trickles a byte now and
    /// then cannot hold the device in "downloading" for ever.
    pub overall_timeout_ms: u64,
    /// Whether the image must end in a valid signed manifest
    /// ([`signature`](crate::image::signature)). No default: see [`DownloadConfig::new`].
    pub signature: SignaturePolicy,
}

/// The default [`DownloadConfig::overall_timeout_ms`]: six hours, well above a whole slot over
/// a slow cellular link, well below the 24 hours the platforms give a job.
pub const DEFAULT_OVERALL_TIMEOUT_MS: u64 = 6 * 3600 * 1000;

impl DownloadConfig {
    /// The default tunables under `signature`, the one setting a device must state (see
    /// [`SignaturePolicy`]): a checkpoint every erase sector, retries from 500 ms to 30 s, 8
    /// attempts, 30 s per chunk, [`DEFAULT_OVERALL_TIMEOUT_MS`] for the whole image.
    pub const fn new(signature: SignaturePolicy) -> Self {
        Self {
            checkpoint_interval: 0,
            retry_base_ms: 500,
            retry_cap_ms: 30_000,
            max_attempts: 8,
            chunk_timeout_ms: 30_000,
            overall_timeout_ms: DEFAULT_OVERALL_TIMEOUT_MS,
            signature,
        }
    }
}

/// A downloaded image whose size and digests matched the offer, now in `slot`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedImage {
    /// The slot holding the image.
    pub slot: Slot,
    /// Image size in bytes.
    pub size: u32,
    /// SHA-256 of the image (for the boot manager to check the staged image at boot).
    pub sha256: [u8; 32],
    /// MD5 of the image, when the offer had one.
    pub md5: Option<[u8; 16]>,
    /// The version the offer announced.
    pub version: Version,
    /// The signing key and the signed [`Manifest`](crate::image::signature::Manifest), under
    /// [`SignaturePolicy::Required`]; `None` when no signature was required.
    pub signed: Option<Signed>,
}

/// Download progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Progress {
    /// Image bytes received (re-hashed ones included after a resume).
    pub bytes: u32,
    /// Image size.
    pub total: u32,
}

impl Progress {
    /// Whole percent, 0..=100.
    pub fn percent(&self) -> u8 {
        if self.total == 0 {
            return 0;
        }
        (u64::from(self.bytes.min(self.total)) * 100 / u64::from(self.total)) as u8
    }
}

#[derive(Debug, Clone)]
enum State {
    Start,
    Rehash {
        at: u32,
        to: u32,
    },
    Fetch,
    Backoff {
        until: u64,
    },
    Finish,
    /// Verified: the digests (the rest of the [`VerifiedImage`] is rebuilt from the engine,
    /// so the state does not hold a second copy of the version and manifest).
    Done {
        sha256: [u8; 32],
        md5: Option<[u8; 16]>,
    },
    Failed(FailureCause),
}

/// The download state machine. See the [module docs](self).
///
/// ```
/// # #[cfg(feature = "mock")] {
/// use ota_client::image::{Slot, SlotRegion};
/// use ota_client::download::{Download, DownloadConfig};
/// use ota_client::flash::{Journal, OneFlash, Partition};
/// use ota_client::mock::{ChunkServer, SimFlash};
/// use ota_client::{Digest, Offer, Version};
///
/// let image: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
/// let flash = SimFlash::<4, 1024>::new(16 * 1024, 0xFF);
/// let state = Partition::new(&flash, 0, 2048, 0xFF).unwrap();
/// let target = SlotRegion { slot: Slot::B, part: Partition::new(&flash, 8192, 8192, 0xFF).unwrap() };
/// let mut storage = OneFlash(flash);
/// let mut journal: Journal = Journal::open(&mut storage.0, state).unwrap();
/// let digest = Digest { md5: Some(<[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(&image))), sha256: None };
/// let offer: Offer = Offer::new(Version::parse("1.1").unwrap(), 3000, digest);
/// let mut server = ChunkServer::new(image.clone());
/// let mut dl = Download::new(&offer, target, DownloadConfig::new(ota_client::image::SignaturePolicy::Unsigned));
/// let mut buf = [0u8; 256];
/// let done = loop {
///     match dl.poll(&mut storage, &mut journal, &mut server, &mut buf, 0) {
///         Ok(done) => break done,
///         Err(nb::Error::WouldBlock) => continue,
///         Err(nb::Error::Other(cause)) => panic!("{cause}"),
///     }
/// };
/// assert_eq!(done.size, 3000);
/// assert_eq!(&storage.0.contents()[8192..8192 + 3000], &image[..]);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Download {
    version: Version,
    size: u32,
    digest: Digest,
    /// The package id of a transport-checked offer (no digest).
    package_id: Option<u32>,
    region: SlotRegion,
    cfg: DownloadConfig,
    interval: u32,
    state: State,
    verifier: Verifier,
    /// Body digest and trailer bytes, under [`SignaturePolicy::Required`].
    #[cfg(feature = "ed25519")]
    signed: Option<TrailerCollector>,
    /// Bytes of the image on flash (a multiple of the write size until the end).
    flushed: u32,
    /// Received bytes not yet written: fewer than the write size.
    tail: [u8; MAX_ACCESS_SIZE],
    tail_len: usize,
    /// Sectors below this offset were erased by this download (a sector boundary).
    erased_upto: u32,
    next_checkpoint: u32,
    resumed_from: u32,
    attempts: u32,
    waiting_since: Option<u64>,
    started_ms: Option<u64>,
    fetched: u64,
    rehashed: u64,
    checkpoints: u32,
    restarts: u32,
}

impl Download {
    /// A download of `offer` into `target` (the inactive slot: the engine touches nothing
    /// else). Nothing happens until the first [`poll`](Self::poll).
    pub fn new<const L: usize>(offer: &Offer<L>, target: SlotRegion, cfg: DownloadConfig) -> Self {
        Self {
            version: offer.version.clone(),
            size: offer.size,
            digest: offer.digest,
            package_id: offer.package_id.filter(|_| !offer.digest.is_present()),
            region: target,
            cfg,
            interval: 0,
            state: State::Start,
            verifier: Verifier::new(&offer.digest),
            #[cfg(feature = "ed25519")]
            signed: collector(&cfg.signature, offer.size),
            flushed: 0,
            tail: [0; MAX_ACCESS_SIZE],
            tail_len: 0,
            erased_upto: 0,
            next_checkpoint: 0,
            resumed_from: 0,
            attempts: 0,
            waiting_since: None,
            started_ms: None,
            fetched: 0,
            rehashed: 0,
            checkpoints: 0,
            restarts: 0,
        }
    }

    /// Advances the download.
    ///
    /// `buf` is the chunk buffer: its length bounds each fetch and each re-hash read (a few
    /// hundred bytes to a few KiB). `now_ms` is the caller's monotonic time
    /// ([`Clock::now_ms`](crate::time::Clock::now_ms)).
    ///
    /// Returns `WouldBlock` while in progress, the [`VerifiedImage`] when done, or the
    /// [`FailureCause`]; once finished, further polls return the same result.
    pub fn poll<S: Storage, C: ChunkSource + ?Sized, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        source: &mut C,
        buf: &mut [u8],
        now_ms: u64,
    ) -> nb::Result<VerifiedImage, FailureCause> {
        match self.state {
            State::Done { sha256, md5 } => return Ok(self.verified(sha256, md5)),
            State::Failed(cause) => return Err(nb::Error::Other(cause)),
            _ => {}
        }
        match self.step(storage, journal, source, buf, now_ms) {
            Ok(Some(image)) => {
                self.state = State::Done { sha256: image.sha256, md5: image.md5 };
                Ok(image)
            }
            Ok(None) => Err(nb::Error::WouldBlock),
            Err(cause) => {
                self.state = State::Failed(cause);
                Err(nb::Error::Other(cause))
            }
        }
    }

    fn step<S: Storage, C: ChunkSource + ?Sized, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        source: &mut C,
        buf: &mut [u8],
        now: u64,
    ) -> Result<Option<VerifiedImage>, FailureCause> {
        let started = *self.started_ms.get_or_insert(now);
        if self.cfg.overall_timeout_ms > 0 && now.saturating_sub(started) >= self.cfg.overall_timeout_ms {
            return Err(FailureCause::DownloadTimeout);
        }
        if buf.is_empty() && matches!(self.state, State::Rehash { .. } | State::Fetch | State::Backoff { .. })
        {
            return Err(FailureCause::OutOfMemory);
        }
        match self.state.clone() {
            State::Start => {
                self.start(storage, journal, buf)?;
                Ok(None)
            }
            State::Rehash { at, to } => {
                let n = buf.len().min((to - at) as usize);
                let piece = buf.get_mut(..n).ok_or(FailureCause::OutOfMemory)?;
                self.region.read(storage, at, piece).map_err(|_| FailureCause::UpdateFailed)?;
                self.consume(piece);
                self.rehashed += n as u64;
                let at = at + n as u32;
                self.state = if at < to { State::Rehash { at, to } } else { self.after_rehash() };
                Ok(None)
            }
            State::Backoff { until } => {
                if now < until {
                    return Ok(None);
                }
                self.state = State::Fetch;
                self.fetch(storage, journal, source, buf, now)
            }
            State::Fetch => self.fetch(storage, journal, source, buf, now),
            State::Finish => self.finish(storage, journal),
            State::Done { sha256, md5 } => Ok(Some(self.verified(sha256, md5))),
            State::Failed(cause) => Err(cause),
        }
    }

    /// Validates, then resumes from a matching checkpoint or starts over.
    fn start<S: Storage, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        buf: &[u8],
    ) -> Result<(), FailureCause> {
        let part = self.region.part;
        if self.size == 0 || (!self.digest.is_present() && self.package_id.is_none()) {
            return Err(FailureCause::InvalidOffer);
        }
        if self.size > part.size() {
            return Err(FailureCause::NotEnoughStorage);
        }
        if buf.is_empty() {
            return Err(FailureCause::OutOfMemory);
        }
        #[cfg(feature = "ed25519")]
        if matches!(self.cfg.signature, SignaturePolicy::Required { .. }) && self.signed.is_none() {
            // Too short to hold a trailer and a body: refused before any byte is fetched.
            return Err(FailureCause::IntegrityCheckFailure);
        }
        let ws = part.write_size();
        let es = part.erase_size();
        let wanted = if self.cfg.checkpoint_interval == 0 { es } else { self.cfg.checkpoint_interval };
        self.interval = part.align_write(wanted).max(ws);

        let mut raw = [0u8; CHECKPOINT_LEN];
        let found = match journal.read(storage.primary(), kinds::DOWNLOAD_CHECKPOINT, &mut raw) {
            Ok(Some(bytes)) => Checkpoint::decode(bytes),
            Ok(None) | Err(JournalError::BufferTooSmall { .. }) | Err(JournalError::Corrupt) => None,
            Err(_) => return Err(FailureCause::UpdateFailed),
        };
        let resume = found
            .filter(|c| {
                c.same_download(&self.version, self.size, &self.digest, self.package_id, self.region.slot)
            })
            .map(|c| c.written)
            .filter(|&w| w == self.size || w.is_multiple_of(ws));

        let mut start = 0;
        match resume {
            Some(w) if w == self.size || w.is_multiple_of(es) => {
                start = w;
                self.erased_upto = w;
            }
            Some(w) => {
                let sector_start = w - w % es;
                let sector_end = sector_start.saturating_add(es).min(part.size());
                let clean = self
                    .region
                    .is_erased(storage, w, sector_end - w)
                    .map_err(|_| FailureCause::UpdateFailed)?;
                if clean {
                    start = w;
                    self.erased_upto = sector_end;
                } else {
                    // The cut left bytes after the checkpoint in its sector: rewind to the
                    // sector start, and say so in the journal before erasing it.
                    start = sector_start;
                    self.erased_upto = sector_start;
                    self.write_checkpoint(storage, journal, sector_start)?;
                }
            }
            None => {
                if journal.len_of(kinds::DOWNLOAD_CHECKPOINT).is_some() {
                    self.write_checkpoint(storage, journal, 0)?;
                }
            }
        }
        self.flushed = start;
        self.resumed_from = start;
        self.next_checkpoint = (start / self.interval).saturating_add(1).saturating_mul(self.interval);
        self.state = if start > 0 { State::Rehash { at: 0, to: start } } else { State::Fetch };
        Ok(())
    }

    fn after_rehash(&self) -> State {
        if self.flushed >= self.size { State::Finish } else { State::Fetch }
    }

    fn fetch<S: Storage, C: ChunkSource + ?Sized, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        source: &mut C,
        buf: &mut [u8],
        now: u64,
    ) -> Result<Option<VerifiedImage>, FailureCause> {
        let received = self.received();
        let remaining = self.size.saturating_sub(received);
        if remaining == 0 {
            self.state = State::Finish;
            return Ok(None);
        }
        let to_checkpoint = match self.next_checkpoint.saturating_sub(received) {
            0 => remaining,
            n => n,
        };
        let want = buf.len().min(remaining as usize).min(to_checkpoint as usize);
        let window = buf.get_mut(..want).ok_or(FailureCause::OutOfMemory)?;
        match source.fetch(received, window) {
            Ok(n) if n > want => Err(FailureCause::UpdateFailed),
            Ok(0) => self.transient(source, SourceError::Protocol, now),
            Ok(n) => {
                self.attempts = 0;
                self.waiting_since = None;
                self.fetched += n as u64;
                let chunk = window.get(..n).ok_or(FailureCause::UpdateFailed)?;
                self.consume(chunk);
                self.absorb(storage, chunk)?;
                if self.flushed >= self.next_checkpoint && self.flushed < self.size {
                    self.write_checkpoint(storage, journal, self.flushed)?;
                    self.next_checkpoint = self.next_checkpoint.saturating_add(self.interval);
                }
                if self.received() >= self.size {
                    self.state = State::Finish;
                }
                Ok(None)
            }
            Err(nb::Error::WouldBlock) => {
                let since = *self.waiting_since.get_or_insert(now);
                if self.cfg.chunk_timeout_ms > 0 && now.saturating_sub(since) >= self.cfg.chunk_timeout_ms {
                    return self.transient(source, SourceError::Timeout, now);
                }
                Ok(None)
            }
            Err(nb::Error::Other(e)) if e.is_transient() => self.transient(source, e, now),
            Err(nb::Error::Other(e)) => Err(e.cause()),
        }
    }

    fn transient<C: ChunkSource + ?Sized>(
        &mut self,
        source: &mut C,
        e: SourceError,
        now: u64,
    ) -> Result<Option<VerifiedImage>, FailureCause> {
        self.attempts = self.attempts.saturating_add(1);
        self.waiting_since = None;
        source.reset();
        if self.attempts >= self.cfg.max_attempts.max(1) {
            return Err(e.cause());
        }
        let shift = self.attempts.saturating_sub(1).min(63);
        let factor = 1u64.checked_shl(shift).unwrap_or(u64::MAX);
        let delay = self.cfg.retry_base_ms.saturating_mul(factor).min(self.cfg.retry_cap_ms);
        self.state = State::Backoff { until: now.saturating_add(delay) };
        Ok(None)
    }

    /// Writes whole write units of `tail + chunk` and keeps the rest in the tail.
    fn absorb<S: Storage>(&mut self, storage: &mut S, chunk: &[u8]) -> Result<(), FailureCause> {
        let ws = self.region.part.write_size() as usize;
        let mut data = chunk;
        if self.tail_len > 0 || data.len() < ws {
            let take = (ws - self.tail_len).min(data.len());
            let (head, rest) = data.split_at_checked(take).ok_or(FailureCause::UpdateFailed)?;
            self.tail
                .get_mut(self.tail_len..self.tail_len + take)
                .ok_or(FailureCause::UpdateFailed)?
                .copy_from_slice(head);
            self.tail_len += take;
            data = rest;
            if self.tail_len == ws {
                let unit = self.tail;
                self.write_units(storage, unit.get(..ws).ok_or(FailureCause::UpdateFailed)?)?;
                self.tail_len = 0;
            }
        }
        let bulk = data.len() - data.len() % ws;
        let (units, rest) = data.split_at_checked(bulk).ok_or(FailureCause::UpdateFailed)?;
        self.write_units(storage, units)?;
        if !rest.is_empty() {
            self.tail.get_mut(..rest.len()).ok_or(FailureCause::UpdateFailed)?.copy_from_slice(rest);
            self.tail_len = rest.len();
        }
        Ok(())
    }

    /// Writes write-aligned `data` at `flushed`, erasing each sector on first touch.
    fn write_units<S: Storage>(&mut self, storage: &mut S, mut data: &[u8]) -> Result<(), FailureCause> {
        let es = self.region.part.erase_size();
        while !data.is_empty() {
            let sector = self.flushed / es;
            if self.flushed >= self.erased_upto {
                self.region.erase_sector(storage, sector).map_err(|_| FailureCause::UpdateFailed)?;
                self.erased_upto = (sector + 1).saturating_mul(es);
            }
            let room = (sector + 1).saturating_mul(es).saturating_sub(self.flushed) as usize;
            if room == 0 {
                return Err(FailureCause::UpdateFailed);
            }
            let (piece, rest) = data.split_at(room.min(data.len()));
            self.region.write(storage, self.flushed, piece).map_err(|_| FailureCause::UpdateFailed)?;
            self.flushed += piece.len() as u32;
            data = rest;
        }
        Ok(())
    }

    fn finish<S: Storage, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
    ) -> Result<Option<VerifiedImage>, FailureCause> {
        if self.tail_len > 0 {
            let ws = self.region.part.write_size() as usize;
            let mut unit = self.tail;
            for b in unit.iter_mut().skip(self.tail_len) {
                *b = self.region.part.erased();
            }
            self.write_units(storage, unit.get(..ws).ok_or(FailureCause::UpdateFailed)?)?;
            self.tail_len = 0;
            self.flushed = self.size;
        }
        let verifier = core::mem::replace(&mut self.verifier, Verifier::new(&self.digest));
        let checked = if self.digest.is_present() {
            verifier.finish(self.size, &self.digest)
        } else {
            verifier.finish_size_only(self.size)
        };
        match checked.and_then(|v| Ok((v, self.check_signature()?))) {
            Ok((v, signed)) => {
                if self.resumed_from < self.size {
                    self.write_checkpoint(storage, journal, self.size)?;
                }
                Ok(Some(VerifiedImage {
                    slot: self.region.slot,
                    size: self.size,
                    sha256: v.sha256,
                    md5: v.md5,
                    version: self.version.clone(),
                    signed,
                }))
            }
            Err(cause) => {
                journal
                    .remove(storage.primary(), kinds::DOWNLOAD_CHECKPOINT)
                    .map_err(|_| FailureCause::UpdateFailed)?;
                if self.resumed_from > 0 && self.restarts == 0 {
                    // The bad bytes may predate the resume (fetched before a reboot or by an
                    // earlier attempt): start over once rather than report a failure that
                    // a fresh download would not have.
                    self.restart();
                    return Ok(None);
                }
                Err(cause)
            }
        }
    }

    /// The verified image with digests `sha256` and `md5`: the signed manifest, under a
    /// signature policy, is decoded again from the trailer bytes the collector verified.
    fn verified(&self, sha256: [u8; 32], md5: Option<[u8; 16]>) -> VerifiedImage {
        #[cfg(feature = "ed25519")]
        let signed = self
            .signed
            .as_ref()
            .and_then(TrailerCollector::trailer)
            .and_then(|raw| Trailer::decode(raw).ok())
            .map(|t| Signed { key_id: t.key_id, manifest: t.manifest });
        #[cfg(not(feature = "ed25519"))]
        let signed = None;
        VerifiedImage {
            slot: self.region.slot,
            size: self.size,
            sha256,
            md5,
            version: self.version.clone(),
            signed,
        }
    }

    /// Starts the download over from byte 0, the checkpoint already removed.
    fn restart(&mut self) {
        self.restarts = self.restarts.saturating_add(1);
        self.verifier = Verifier::new(&self.digest);
        #[cfg(feature = "ed25519")]
        {
            self.signed = collector(&self.cfg.signature, self.size);
        }
        self.flushed = 0;
        self.tail_len = 0;
        self.erased_upto = 0;
        self.resumed_from = 0;
        self.next_checkpoint = self.interval;
        self.attempts = 0;
        self.waiting_since = None;
        self.state = State::Fetch;
    }

    /// Hashes the next image bytes (fetched, or read back when resuming), through the trailer
    /// collector when a signature is required.
    fn consume(&mut self, bytes: &[u8]) {
        #[cfg(feature = "ed25519")]
        if let Some(collector) = self.signed.as_mut() {
            collector.feed(&mut self.verifier, bytes);
            return;
        }
        self.verifier.update(bytes);
    }

    /// The signature check of the policy, once the whole image went through
    /// [`consume`](Self::consume): the verified trailer, `None` when no signature is required.
    fn check_signature(&self) -> Result<Option<Signed>, FailureCause> {
        #[cfg(feature = "ed25519")]
        if let SignaturePolicy::Required { keys, product } = self.cfg.signature {
            let collector = self.signed.as_ref().ok_or(FailureCause::IntegrityCheckFailure)?;
            return match collector.verify(keys, product) {
                Ok(t) => Ok(Some(Signed { key_id: t.key_id, manifest: t.manifest })),
                Err(e) => {
                    crate::log::warning!("image signature refused: {}", e);
                    Err(FailureCause::IntegrityCheckFailure)
                }
            };
        }
        Ok(None)
    }

    fn write_checkpoint<S: Storage, const K: usize>(
        &mut self,
        storage: &mut S,
        journal: &mut Journal<K>,
        written: u32,
    ) -> Result<(), FailureCause> {
        let record = Checkpoint {
            version: self.version.clone(),
            size: self.size,
            digest: self.digest,
            slot: self.region.slot,
            written,
            package_id: self.package_id,
        }
        .encode();
        journal
            .write(storage.primary(), kinds::DOWNLOAD_CHECKPOINT, &record)
            .map_err(|_| FailureCause::UpdateFailed)?;
        self.checkpoints = self.checkpoints.saturating_add(1);
        Ok(())
    }

    /// Removes the download checkpoint, once the image has been staged (or the update
    /// abandoned), so that no later download resumes against it.
    pub fn clear_checkpoint<S: Storage, const K: usize>(
        storage: &mut S,
        journal: &mut Journal<K>,
    ) -> Result<(), FailureCause> {
        journal.remove(storage.primary(), kinds::DOWNLOAD_CHECKPOINT).map_err(|_| FailureCause::UpdateFailed)
    }

    fn received(&self) -> u32 {
        self.flushed.saturating_add(self.tail_len as u32).min(self.size)
    }

    /// Bytes received (or re-hashed after a resume) against the image size.
    pub fn progress(&self) -> Progress {
        let bytes = match self.state {
            State::Rehash { at, .. } => at,
            State::Done { .. } => self.size,
            _ => self.received(),
        };
        Progress { bytes, total: self.size }
    }

    /// The slot this download writes to.
    pub fn target(&self) -> SlotRegion {
        self.region
    }

    /// Bytes this engine has fetched from the source.
    pub fn fetched_bytes(&self) -> u64 {
        self.fetched
    }

    /// Bytes read back from the slot and re-hashed when resuming.
    pub fn rehashed_bytes(&self) -> u64 {
        self.rehashed
    }

    /// The offset the download resumed from (0 when it started over).
    pub fn resumed_from(&self) -> u32 {
        self.resumed_from
    }

    /// Checkpoint records this engine appended to the Journal.
    pub fn checkpoints_written(&self) -> u32 {
        self.checkpoints
    }

    /// Times the download started over by itself after an integrity failure of a resumed
    /// download (at most once).
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// Consecutive failed fetches so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// While backing off after a transient error: the time (ms) of the next fetch attempt,
    /// so a caller may sleep until then.
    pub fn retry_at(&self) -> Option<u64> {
        match self.state {
            State::Backoff { until } => Some(until),
            _ => None,
        }
    }

    /// The checkpoint interval in use (known after the first poll).
    pub fn checkpoint_interval(&self) -> u32 {
        self.interval
    }

    /// True once the download is done or failed.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Done { .. } | State::Failed(_))
    }
}

/// The trailer collector a policy needs for an image of `size` bytes.
#[cfg(feature = "ed25519")]
fn collector(policy: &SignaturePolicy, size: u32) -> Option<TrailerCollector> {
    match policy {
        SignaturePolicy::Unsigned => None,
        SignaturePolicy::Required { .. } => TrailerCollector::new(size),
    }
}
