//! The Journal: a power-safe, append-only record store; the one place where the library
//! keeps persistent state (download checkpoints, boot state, pending reports).
//!
//! # How it works
//!
//! The journal owns a partition of two or more erase sectors used as a ring. Records
//! (a kind, a sequence number, a payload, a CRC-32 over all of it) are appended to the
//! *active* sector; the newest record of each kind wins, and a zero-length record deletes
//! its kind. When the active sector is full, the next sector of the ring is erased, the
//! live records (the newest of each kind) are copied into it together with the record being
//! written, and only then is the sector's header written, carrying a generation one higher
//! than the active one. That single header write is the commit point: until it lands, the
//! old sector is still the one with the highest generation and opens as before.
//!
//! After any power cut, [`Journal::open`] yields the state before or after the interrupted
//! append, never a mix and never "no state" when a state existed. A torn record at the end
//! of the active sector is ignored and seals the sector, so the next append compacts.
//! Compaction costs one erase per sector's worth of appends, and the ring spreads the wear
//! over every sector of the partition.
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "mock")] {
//! use ota_client::flash::{Journal, Partition};
//! use ota_client::mock::SimFlash;
//!
//! let mut flash = SimFlash::<4, 4096>::new(16 * 1024, 0xFF);
//! let part = Partition::new(&flash, 0, 8192, 0xFF).unwrap();
//! let mut journal: Journal = Journal::open(&mut flash, part).unwrap();
//! journal.write(&mut flash, 1, b"offset=4096").unwrap();
//!
//! // After a reboot, the newest record of each kind is there.
//! let journal: Journal = Journal::open(&mut flash, part).unwrap();
//! let mut buf = [0u8; 32];
//! assert_eq!(journal.read(&mut flash, 1, &mut buf).unwrap(), Some(&b"offset=4096"[..]));
//! # }
//! ```

#![deny(clippy::arithmetic_side_effects)]

mod format;
mod writer;

use crate::flash::{AccessError, Partition, PartitionError};
use embedded_storage::nor_flash::NorFlash;
use format::{
    RECORD_CRC_LEN, RECORD_HEADER_LEN, RecordHeader, SECTOR_HEADER_LEN, parse_sector_header, sector_header,
};
use writer::RecordWriter;

/// Why a journal operation failed.
///
/// `E` is the flash driver's error. Display and `core::error::Error` need only `E: Debug`
/// (embedded-storage flash errors implement `Debug` and `NorFlashError`, seldom `Display`):
/// the driver's error is printed with `{:?}` and is not a `source()`; `Partition` is. Under
/// feature `defmt` the driver's error is printed by its
/// [`NorFlashErrorKind`](embedded_storage::nor_flash::NorFlashErrorKind). To keep the
/// cause without the driver's type, [`JournalError::map_flash`] with
/// [`NorFlashError::kind`](embedded_storage::nor_flash::NorFlashError::kind) gives a
/// `JournalError<NorFlashErrorKind>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JournalError<E> {
    /// The flash driver failed (for a simulated flash: possibly a power cut).
    Flash(E),
    /// The partition is unusable: misaligned, out of bounds or under two sectors.
    Partition(PartitionError),
    /// The record cannot fit in one sector, whatever else is stored.
    RecordTooLarge,
    /// The live records together with this one do not fit in one sector.
    Full,
    /// More distinct kinds than the journal's `KINDS` capacity.
    TooManyKinds,
    /// The caller's buffer is smaller than the record (`needed` bytes).
    BufferTooSmall {
        /// Payload length of the record.
        needed: usize,
    },
    /// A record changed on flash since it was scanned (bit rot, or a foreign writer), or a
    /// foreign writer left a sector with the highest possible generation, so no newer sector
    /// can be committed (only [`Journal::format`] recovers such a partition).
    Corrupt,
}

impl<E> JournalError<E> {
    /// The same error with the flash driver's error mapped by `f` (for example
    /// [`NorFlashError::kind`](embedded_storage::nor_flash::NorFlashError::kind), to keep the
    /// cause without the driver's type).
    ///
    /// ```
    /// use embedded_storage::nor_flash::{NorFlashError, NorFlashErrorKind};
    /// use ota_client::flash::JournalError;
    /// let e: JournalError<NorFlashErrorKind> = JournalError::Flash(NorFlashErrorKind::OutOfBounds);
    /// assert_eq!(e.map_flash(|k| k.kind()), JournalError::Flash(NorFlashErrorKind::OutOfBounds));
    /// ```
    pub fn map_flash<F>(self, f: impl FnOnce(E) -> F) -> JournalError<F> {
        match self {
            Self::Flash(e) => JournalError::Flash(f(e)),
            Self::Partition(p) => JournalError::Partition(p),
            Self::RecordTooLarge => JournalError::RecordTooLarge,
            Self::Full => JournalError::Full,
            Self::TooManyKinds => JournalError::TooManyKinds,
            Self::BufferTooSmall { needed } => JournalError::BufferTooSmall { needed },
            Self::Corrupt => JournalError::Corrupt,
        }
    }
}

impl<E: core::fmt::Debug> core::fmt::Display for JournalError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Flash(e) => write!(f, "flash error: {e:?}"),
            Self::Partition(_) => f.write_str("journal partition unusable"),
            Self::RecordTooLarge => f.write_str("record larger than a sector"),
            Self::Full => f.write_str("journal full"),
            Self::TooManyKinds => f.write_str("too many record kinds"),
            Self::BufferTooSmall { needed } => write!(f, "buffer too small for a {needed}-byte record"),
            Self::Corrupt => f.write_str("journal corrupt"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for JournalError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Partition(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(feature = "defmt")]
impl<E: embedded_storage::nor_flash::NorFlashError> defmt::Format for JournalError<E> {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::Flash(e) => {
                defmt::write!(f, "JournalError::Flash({=str})", crate::flash::kind_name(e.kind()))
            }
            Self::Partition(p) => defmt::write!(f, "JournalError::Partition({})", p),
            Self::RecordTooLarge => defmt::write!(f, "JournalError::RecordTooLarge"),
            Self::Full => defmt::write!(f, "JournalError::Full"),
            Self::TooManyKinds => defmt::write!(f, "JournalError::TooManyKinds"),
            Self::BufferTooSmall { needed } => {
                defmt::write!(f, "JournalError::BufferTooSmall {{ needed: {} }}", needed)
            }
            Self::Corrupt => defmt::write!(f, "JournalError::Corrupt"),
        }
    }
}

impl<E> From<AccessError<E>> for JournalError<E> {
    fn from(e: AccessError<E>) -> Self {
        match e {
            AccessError::Bounds => Self::Corrupt,
            AccessError::Flash(e) => Self::Flash(e),
        }
    }
}

/// Where the newest record of a kind lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    kind: u8,
    /// Partition offset of the record.
    at: u32,
    len: u16,
}

/// The power-safe record store. `KINDS` bounds the number of distinct record kinds kept in
/// RAM (8 by default; the library itself uses fewer than that).
#[derive(Clone, Debug)]
pub struct Journal<const KINDS: usize = 8> {
    part: Partition,
    /// Active sector and its generation; `None` until the first write.
    active: Option<(u32, u32)>,
    /// Next free offset inside the active sector; `erase_size` when sealed.
    head: u32,
    /// Sequence number of the next record in the active sector; `None` when the last one
    /// carries `u32::MAX` (left by a foreign writer): the next write then compacts.
    next_seq: Option<u32>,
    live: heapless::Vec<Slot, KINDS>,
}

impl<const KINDS: usize> Journal<KINDS> {
    /// Opens the journal in `part`, which needs at least two erase sectors. Reads only: the
    /// first write formats a blank or garbage partition.
    pub fn open<F: NorFlash>(flash: &mut F, part: Partition) -> Result<Self, JournalError<F::Error>> {
        part.require_sectors(2).map_err(JournalError::Partition)?;
        let header_len = part.align_write(SECTOR_HEADER_LEN as u32);
        if header_len.saturating_add(part.align_write((RECORD_HEADER_LEN + RECORD_CRC_LEN) as u32))
            > part.erase_size()
        {
            return Err(JournalError::Partition(PartitionError::TooSmall));
        }
        let mut best: Option<(u32, u32)> = None;
        for s in 0..part.sectors() {
            let mut h = [0u8; SECTOR_HEADER_LEN];
            part.read(flash, at(s, part.erase_size(), 0)?, &mut h)?;
            if let Some(generation) = parse_sector_header(&h)
                && best.is_none_or(|(_, g)| generation > g)
            {
                best = Some((s, generation));
            }
        }
        let mut j = Self { part, active: best, head: 0, next_seq: Some(0), live: heapless::Vec::new() };
        if let Some((sector, _)) = best {
            j.scan(flash, sector)?;
        }
        Ok(j)
    }

    /// Reads the records of the active sector and finds its write head.
    fn scan<F: NorFlash>(&mut self, flash: &mut F, sector: u32) -> Result<(), JournalError<F::Error>> {
        let e = self.part.erase_size();
        let base = at(sector, e, 0)?;
        // `pos <= e` throughout: the header fits (checked by `open`) and a record counts
        // only when it fits in the room left.
        let mut pos = self.part.align_write(SECTOR_HEADER_LEN as u32);
        let mut last_seq: Option<u32> = None;
        while let Some((hdr, total)) = self.check_record(flash, add(base, pos)?, sub(e, pos)?)? {
            if last_seq.is_some_and(|s| hdr.seq <= s) {
                break;
            }
            last_seq = Some(hdr.seq);
            self.note(hdr.kind, add(base, pos)?, hdr.len).map_err(|_| JournalError::TooManyKinds)?;
            pos = add(pos, total)?;
        }
        // Records count only while their sequence numbers increase, so a record after one
        // numbered `u32::MAX` would be ignored: that sector takes no more appends.
        self.next_seq = last_seq.map_or(Some(0), |s| s.checked_add(1));
        // Anything but erased flash after the last good record is a torn write: seal.
        self.head = if self.part.is_erased(flash, add(base, pos)?, sub(e, pos)?)? { pos } else { e };
        if self.head == e && pos < e {
            crate::log::warning!(
                "journal: torn write after offset {=u32} of sector {=u32}, sealed",
                pos,
                sector
            );
        }
        Ok(())
    }

    /// Validates the record at `at` (at most `room` bytes): its header and its total size.
    fn check_record<F: NorFlash>(
        &self,
        flash: &mut F,
        at: u32,
        room: u32,
    ) -> Result<Option<(RecordHeader, u32)>, JournalError<F::Error>> {
        if room < (RECORD_HEADER_LEN + RECORD_CRC_LEN) as u32 {
            return Ok(None);
        }
        let mut hb = [0u8; RECORD_HEADER_LEN];
        self.part.read(flash, at, &mut hb)?;
        let Some(hdr) = RecordHeader::decode(&hb) else { return Ok(None) };
        let total = self.part.align_write(hdr.raw_len());
        if total > room {
            return Ok(None);
        }
        let mut crc = format::CRC32.digest();
        crc.update(&hb);
        let len = u32::from(hdr.len);
        let payload_at = add(at, RECORD_HEADER_LEN as u32)?;
        stream(&self.part, flash, payload_at, len, |chunk| {
            crc.update(chunk);
            Ok(())
        })?;
        let mut cb = [0u8; RECORD_CRC_LEN];
        self.part.read(flash, add(payload_at, len)?, &mut cb)?;
        Ok((crc.finalize() == u32::from_le_bytes(cb)).then_some((hdr, total)))
    }

    /// Records that the newest `kind` now lives at `at`.
    fn note(&mut self, kind: u8, at: u32, len: u16) -> Result<(), ()> {
        let slot = Slot { kind, at, len };
        match self.live.iter_mut().find(|s| s.kind == kind) {
            Some(s) => *s = slot,
            None => self.live.push(slot).map_err(|_| ())?,
        }
        Ok(())
    }

    /// The partition the journal lives in.
    pub fn partition(&self) -> &Partition {
        &self.part
    }

    /// True when nothing has ever been committed (or the partition held only garbage).
    pub fn is_empty(&self) -> bool {
        self.live.iter().all(|s| s.len == 0)
    }

    /// Payload length of the newest record of `kind`, `None` when absent or deleted.
    pub fn len_of(&self, kind: u8) -> Option<usize> {
        self.live.iter().find(|s| s.kind == kind && s.len > 0).map(|s| usize::from(s.len))
    }

    /// Reads the newest record of `kind` into `buf`, checking its CRC again. `Ok(None)` when
    /// the kind was never written or was removed.
    pub fn read<'b, F: NorFlash>(
        &self,
        flash: &mut F,
        kind: u8,
        buf: &'b mut [u8],
    ) -> Result<Option<&'b [u8]>, JournalError<F::Error>> {
        let Some(slot) = self.live.iter().find(|s| s.kind == kind && s.len > 0) else { return Ok(None) };
        let len = usize::from(slot.len);
        let out = buf.get_mut(..len).ok_or(JournalError::BufferTooSmall { needed: len })?;
        let mut hb = [0u8; RECORD_HEADER_LEN];
        self.part.read(flash, slot.at, &mut hb)?;
        let payload_at = add(slot.at, RECORD_HEADER_LEN as u32)?;
        self.part.read(flash, payload_at, out)?;
        let mut cb = [0u8; RECORD_CRC_LEN];
        self.part.read(flash, add(payload_at, u32::from(slot.len))?, &mut cb)?;
        let mut crc = format::CRC32.digest();
        crc.update(&hb);
        crc.update(out);
        let hdr = RecordHeader::decode(&hb);
        if crc.finalize() != u32::from_le_bytes(cb) || hdr.map(|h| (h.kind, h.len)) != Some((kind, slot.len))
        {
            return Err(JournalError::Corrupt);
        }
        Ok(Some(out))
    }

    /// Appends a record: after it returns `Ok`, the newest `kind` is `payload`, across any
    /// power cut. If it fails (or the power is cut during it), the journal reopens with
    /// either the old or the new payload.
    pub fn write<F: NorFlash>(
        &mut self,
        flash: &mut F,
        kind: u8,
        payload: &[u8],
    ) -> Result<(), JournalError<F::Error>> {
        let len = u16::try_from(payload.len()).map_err(|_| JournalError::RecordTooLarge)?;
        let total = self.part.align_write(RecordHeader { kind, len, seq: 0 }.raw_len());
        let e = self.part.erase_size();
        if e.checked_sub(self.part.align_write(SECTOR_HEADER_LEN as u32)).is_none_or(|room| total > room) {
            return Err(JournalError::RecordTooLarge);
        }
        if !self.live.iter().any(|s| s.kind == kind) && self.live.is_full() {
            return Err(JournalError::TooManyKinds);
        }
        let end = self.head.checked_add(total).filter(|&end| end <= e);
        match (self.active, end, self.next_seq) {
            (Some((sector, _)), Some(end), Some(seq)) => {
                let at = at(sector, e, self.head)?;
                let hdr = RecordHeader { kind, len, seq };
                // A failed append may leave a torn record: seal the sector until compaction.
                self.head = e;
                Self::put(&self.part, flash, at, hdr, Source::Slice(payload))?;
                self.head = end;
                self.next_seq = seq.checked_add(1);
                self.note(kind, at, len).map_err(|_| JournalError::TooManyKinds)
            }
            _ => self.compact(flash, Some((kind, payload))),
        }
    }

    /// Deletes `kind` (appends a zero-length record).
    pub fn remove<F: NorFlash>(&mut self, flash: &mut F, kind: u8) -> Result<(), JournalError<F::Error>> {
        if self.len_of(kind).is_none() {
            return Ok(());
        }
        self.write(flash, kind, &[])
    }

    /// Erases every sector: the journal becomes empty. For factory reset and for recovering
    /// a partition a newer firmware filled with more kinds than this one knows.
    pub fn format<F: NorFlash>(&mut self, flash: &mut F) -> Result<(), JournalError<F::Error>> {
        self.part.erase(flash, 0, self.part.size())?;
        self.active = None;
        self.head = 0;
        self.live.clear();
        Ok(())
    }

    /// Moves the live records (and `extra`, replacing its kind) into the next sector of the
    /// ring and commits it by writing its header last.
    fn compact<F: NorFlash>(
        &mut self,
        flash: &mut F,
        extra: Option<(u8, &[u8])>,
    ) -> Result<(), JournalError<F::Error>> {
        let e = self.part.erase_size();
        let header_len = self.part.align_write(SECTOR_HEADER_LEN as u32);
        let keep = |s: &&Slot| s.len > 0 && extra.is_none_or(|(k, _)| k != s.kind);
        // Check the room first: a full journal must not erase anything.
        let mut need = header_len;
        for s in self.live.iter().filter(keep) {
            need = need.saturating_add(
                self.part.align_write(RecordHeader { kind: 0, len: s.len, seq: 0 }.raw_len()),
            );
        }
        if let Some((_, p)) = extra {
            let len = u16::try_from(p.len()).map_err(|_| JournalError::RecordTooLarge)?;
            need =
                need.saturating_add(self.part.align_write(RecordHeader { kind: 0, len, seq: 0 }.raw_len()));
        }
        if need > e {
            return Err(JournalError::Full);
        }
        let (target, generation) = match self.active {
            // The new sector must carry a higher generation than every other one. A foreign
            // writer may have left the highest possible one: wrapping to 0 would lose this
            // write at the next open, so refuse before erasing anything (`format` recovers).
            Some((s, g)) => (
                s.checked_add(1).and_then(|n| n.checked_rem(self.part.sectors())).unwrap_or(0),
                g.checked_add(1).ok_or(JournalError::Corrupt)?,
            ),
            None => (0, 1),
        };
        let base = at(target, e, 0)?;
        crate::log::debug!("journal: compacting into sector {=u32}, generation {=u32}", target, generation);
        self.part.erase_sector(flash, target)?;
        let mut moved: heapless::Vec<Slot, KINDS> = heapless::Vec::new();
        let mut pos = header_len;
        // Sequence numbers only have to increase within a sector: continue the old ones,
        // unless they would run out before the last record, then start again at 0.
        let records =
            u32::try_from(self.live.iter().filter(keep).count()).unwrap_or(u32::MAX).saturating_add(1);
        let mut seq = self.next_seq.filter(|s| s.checked_add(records).is_some()).unwrap_or(0);
        for s in self.live.iter().filter(keep) {
            let hdr = RecordHeader { kind: s.kind, len: s.len, seq };
            let to = add(base, pos)?;
            let end =
                Self::put(&self.part, flash, to, hdr, Source::Flash(add(s.at, RECORD_HEADER_LEN as u32)?))?;
            moved.push(Slot { kind: s.kind, at: to, len: s.len }).map_err(|_| JournalError::TooManyKinds)?;
            pos = sub(end, base)?;
            // `seq + records` fits (checked above): this never saturates.
            seq = seq.saturating_add(1);
        }
        if let Some((kind, payload)) = extra {
            let len = u16::try_from(payload.len()).map_err(|_| JournalError::RecordTooLarge)?;
            if len > 0 {
                let hdr = RecordHeader { kind, len, seq };
                let to = add(base, pos)?;
                let end = Self::put(&self.part, flash, to, hdr, Source::Slice(payload))?;
                moved.push(Slot { kind, at: to, len }).map_err(|_| JournalError::TooManyKinds)?;
                pos = sub(end, base)?;
                seq = seq.saturating_add(1);
            }
        }
        // The commit point.
        let mut header = [self.part.erased(); 32];
        header
            .get_mut(..SECTOR_HEADER_LEN)
            .ok_or(JournalError::Corrupt)?
            .copy_from_slice(&sector_header(generation));
        let header = header.get(..header_len as usize).ok_or(JournalError::Corrupt)?;
        self.part.write(flash, base, header)?;
        self.active = Some((target, generation));
        self.head = pos;
        self.next_seq = Some(seq);
        self.live = moved;
        Ok(())
    }

    /// Writes one record at partition offset `at`, returning the offset just past it.
    fn put<F: NorFlash>(
        part: &Partition,
        flash: &mut F,
        at: u32,
        hdr: RecordHeader,
        payload: Source<'_>,
    ) -> Result<u32, JournalError<F::Error>> {
        let mut w = RecordWriter::new(part, at);
        w.push(flash, &hdr.encode())?;
        match payload {
            Source::Slice(p) => w.push(flash, p)?,
            Source::Flash(from) => {
                // Read into a buffer first: `stream` holds the flash while it calls back.
                let mut buf = [0u8; 64];
                let mut done = 0u32;
                let len = u32::from(hdr.len);
                while let Some(left) = len.checked_sub(done).filter(|&left| left > 0) {
                    let n = left.min(buf.len() as u32);
                    let chunk = buf.get_mut(..n as usize).ok_or(JournalError::Corrupt)?;
                    part.read(flash, add(from, done)?, chunk)?;
                    w.push(flash, chunk)?;
                    done = add(done, n)?;
                }
            }
        }
        Ok(w.finish(flash)?)
    }
}

/// Reads `len` bytes at `from` in 64-byte pieces and hands each to `f`.
fn stream<F: NorFlash>(
    part: &Partition,
    flash: &mut F,
    from: u32,
    len: u32,
    mut f: impl FnMut(&[u8]) -> Result<(), JournalError<F::Error>>,
) -> Result<(), JournalError<F::Error>> {
    let mut buf = [0u8; 64];
    let mut done = 0u32;
    while let Some(left) = len.checked_sub(done).filter(|&left| left > 0) {
        let n = left.min(buf.len() as u32);
        let chunk = buf.get_mut(..n as usize).ok_or(JournalError::Corrupt)?;
        part.read(flash, add(from, done)?, chunk)?;
        f(chunk)?;
        done = add(done, n)?;
    }
    Ok(())
}

// Partition offsets. Every offset the journal computes lies inside the partition, whose size
// fits in `u32`; an overflow could only come from corrupt flash, and reads as corruption.

/// `a + b`.
fn add<E>(a: u32, b: u32) -> Result<u32, JournalError<E>> {
    a.checked_add(b).ok_or(JournalError::Corrupt)
}

/// `a - b`.
fn sub<E>(a: u32, b: u32) -> Result<u32, JournalError<E>> {
    a.checked_sub(b).ok_or(JournalError::Corrupt)
}

/// The partition offset `within` bytes into sector `sector` of `erase_size` bytes.
fn at<E>(sector: u32, erase_size: u32, within: u32) -> Result<u32, JournalError<E>> {
    sector.checked_mul(erase_size).and_then(|base| base.checked_add(within)).ok_or(JournalError::Corrupt)
}

/// Where a record's payload comes from when it is written.
enum Source<'a> {
    Slice(&'a [u8]),
    /// Copied from the payload at this partition offset (compaction).
    Flash(u32),
}

#[cfg(all(test, feature = "mock"))]
#[allow(clippy::arithmetic_side_effects, reason = "test code: an overflow is a test failure")]
mod tests {
    use super::*;
    use crate::mock::SimFlash;

    /// Regression (found by the `journal_open` fuzz target): a sector whose header carries
    /// generation `u32::MAX` (left by a foreign writer) made compaction wrap to generation 0,
    /// so the write returned `Ok` and was gone after the next open.
    #[test]
    fn highest_generation_refuses_compaction_instead_of_losing_the_write() {
        let mut flash = SimFlash::<1, 512>::new(2048, 0xFF);
        let part = Partition::new(&flash, 0, 2048, 0xFF).unwrap();
        flash.contents_mut()[..SECTOR_HEADER_LEN].copy_from_slice(&sector_header(u32::MAX));
        flash.contents_mut()[512..512 + SECTOR_HEADER_LEN].copy_from_slice(&sector_header(u32::MAX - 1));
        let mut journal: Journal = Journal::open(&mut flash, part).unwrap();
        let mut buf = [0u8; 600];
        // Appends into the active sector still work until it is full...
        journal.write(&mut flash, 1, b"kept").unwrap();
        journal.write(&mut flash, 2, &[1u8; 200]).unwrap();
        journal.write(&mut flash, 2, &[2u8; 200]).unwrap();
        // ...and the compaction that would need a higher generation is refused untouched.
        let big = [7u8; 200];
        assert_eq!(journal.write(&mut flash, 2, &big), Err(JournalError::Corrupt));
        let reopened: Journal = Journal::open(&mut flash, part).unwrap();
        assert_eq!(reopened.read(&mut flash, 1, &mut buf).unwrap(), Some(&b"kept"[..]));
        assert_eq!(reopened.read(&mut flash, 2, &mut buf).unwrap(), Some(&[2u8; 200][..]));
        // `format` recovers the partition.
        journal.format(&mut flash).unwrap();
        journal.write(&mut flash, 2, &big).unwrap();
        let reopened: Journal = Journal::open(&mut flash, part).unwrap();
        assert_eq!(reopened.read(&mut flash, 2, &mut buf).unwrap(), Some(&big[..]));
    }

    /// Regression (found by the `journal_open` fuzz target): after a record numbered
    /// `u32::MAX` (left by a foreign writer), the next append wrapped to sequence 0, which
    /// the scan takes for the end of the sector, so the write returned `Ok` and was gone
    /// after the next open. The input was `00 | OTAJ 01 000000 01000000 b4c297bf |
    /// a5 01 0100 ffffffff 78 cb29e445`: one sector (generation 1) with one record, kind 1.
    #[test]
    fn record_numbered_u32_max_is_followed_by_a_compaction_not_a_wrapped_append() {
        let mut flash = SimFlash::<1, 512>::new(2048, 0xFF);
        let part = Partition::new(&flash, 0, 2048, 0xFF).unwrap();
        let hdr = RecordHeader { kind: 1, len: 1, seq: u32::MAX }.encode();
        let mut record = [0u8; RECORD_HEADER_LEN + 1 + RECORD_CRC_LEN];
        record[..RECORD_HEADER_LEN].copy_from_slice(&hdr);
        record[RECORD_HEADER_LEN] = b'x';
        let crc = format::CRC32.checksum(&record[..RECORD_HEADER_LEN + 1]);
        record[RECORD_HEADER_LEN + 1..].copy_from_slice(&crc.to_le_bytes());
        let contents = flash.contents_mut();
        contents[..SECTOR_HEADER_LEN].copy_from_slice(&sector_header(1));
        contents[SECTOR_HEADER_LEN..SECTOR_HEADER_LEN + record.len()].copy_from_slice(&record);
        let mut journal: Journal = Journal::open(&mut flash, part).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(journal.read(&mut flash, 1, &mut buf).unwrap(), Some(&b"x"[..]));
        journal.write(&mut flash, 69, b"after garbage").unwrap();
        journal.write(&mut flash, 70, b"and one more").unwrap();
        let reopened: Journal = Journal::open(&mut flash, part).unwrap();
        assert_eq!(reopened.read(&mut flash, 1, &mut buf).unwrap(), Some(&b"x"[..]));
        assert_eq!(reopened.read(&mut flash, 69, &mut buf).unwrap(), Some(&b"after garbage"[..]));
        assert_eq!(reopened.read(&mut flash, 70, &mut buf).unwrap(), Some(&b"and one more"[..]));
    }
}
