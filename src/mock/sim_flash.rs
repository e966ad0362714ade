//! [`SimFlash`]: a simulated NOR flash with power-loss injection.
//!
//! It behaves as real NOR does: erase whole sectors only, write only at write-size alignment,
//! and a write may only move bits away from the erased value (writing over programmed bytes
//! is an error, unless [`SimFlash::allow_and_overwrite`] models a part that permits it).
//!
//! Power loss is armed with [`SimFlash::arm`] to strike at the Nth mutating operation (write
//! or erase; reads do not change the flash and are not counted) in one of four ways, see
//! [`CutKind`]. After the cut every operation fails with [`SimFlashError::PowerLoss`] until
//! the test "reboots" with [`SimFlash::power_cycle`] and builds fresh library objects over the
//! same contents. Torn bytes come from a deterministic generator seeded by the user.

use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash};
use std::vec::Vec;

/// How the power is cut at the armed operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CutKind {
    /// Before the operation starts: it has no effect.
    Before,
    /// In the middle of a write: a prefix is programmed, one byte gets arbitrary bits, the
    /// rest stays untouched. (Armed on an erase, the erase is torn instead.)
    MidWrite,
    /// In the middle of an erase: the sector is left as a mix of erased and arbitrary bytes.
    /// (Armed on a write, the write is torn instead.)
    MidErase,
    /// Just after the operation completed: it takes full effect, then everything fails.
    After,
}

impl CutKind {
    /// The torn cut that fits an operation of kind `op`.
    pub fn torn_for(op: OpKind) -> Self {
        match op {
            OpKind::Write => Self::MidWrite,
            OpKind::Erase => Self::MidErase,
        }
    }
}

/// A mutating flash operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// A program operation.
    Write,
    /// A sector erase operation.
    Erase,
}

/// Where and how to cut the power.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerCut {
    /// Index (from 0) of the mutating operation to strike, counted since construction or
    /// the last [`SimFlash::power_cycle`].
    pub at_op: u64,
    /// How to strike.
    pub kind: CutKind,
}

/// Errors of the simulated part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimFlashError {
    /// Offset or length not aligned to the write, read or erase size.
    NotAligned,
    /// Access outside the flash.
    OutOfBounds,
    /// A write to bytes that are not erased.
    WriteOverProgrammed,
    /// The power is off: cut by [`SimFlash::arm`], restored by [`SimFlash::power_cycle`].
    PowerLoss,
}

impl NorFlashError for SimFlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            Self::NotAligned => NorFlashErrorKind::NotAligned,
            Self::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            Self::WriteOverProgrammed | Self::PowerLoss => NorFlashErrorKind::Other,
        }
    }
}

impl core::fmt::Display for SimFlashError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for SimFlashError {}

/// Operation counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlashStats {
    /// Read operations.
    pub reads: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Write operations.
    pub writes: u64,
    /// Bytes programmed.
    pub bytes_programmed: u64,
    /// Erases per sector, indexed by sector number.
    pub erases: Vec<u32>,
}

impl FlashStats {
    /// Total sector erases.
    pub fn total_erases(&self) -> u64 {
        self.erases.iter().map(|&e| u64::from(e)).sum()
    }

    /// Most erases of any one sector (the wear hot spot).
    pub fn max_erases(&self) -> u32 {
        self.erases.iter().copied().max().unwrap_or(0)
    }

    /// Erases of the sectors in `[from, to)` (byte offsets, sector aligned) for sector size `e`.
    pub fn erases_in(&self, from: u32, to: u32, e: u32) -> u64 {
        let (a, b) = ((from / e) as usize, (to / e) as usize);
        self.erases.get(a..b).map_or(0, |s| s.iter().map(|&x| u64::from(x)).sum())
    }
}

/// A simulated NOR flash.
///
/// `WRITE` (1..=32) is the write granularity, `ERASE` the sector size, `READ` the read
/// granularity. The size and the erased value (0xFF or 0x00) are chosen at construction.
///
/// ```
/// use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
/// use ota_client::mock::{CutKind, PowerCut, SimFlash, SimFlashError};
///
/// // An external SPI NOR: 1-byte writes, 4 KiB sectors, 1 MiB, erased to 0xFF.
/// let mut flash = SimFlash::<1, 4096>::new(1 << 20, 0xFF);
/// flash.write(0, &[0x12, 0x34]).unwrap();
/// assert_eq!(flash.write(0, &[0x00]), Err(SimFlashError::WriteOverProgrammed));
///
/// // Cut the power in the middle of the next write, then reboot.
/// flash.arm(PowerCut { at_op: flash.ops(), kind: CutKind::MidWrite });
/// assert_eq!(flash.write(16, &[0u8; 8]), Err(SimFlashError::PowerLoss));
/// assert_eq!(flash.read(0, &mut [0u8; 2]), Err(SimFlashError::PowerLoss));
/// flash.power_cycle();
/// let mut buf = [0u8; 2];
/// flash.read(0, &mut buf).unwrap();
/// assert_eq!(buf, [0x12, 0x34]);
/// ```
#[derive(Debug, Clone)]
pub struct SimFlash<const WRITE: usize, const ERASE: usize, const READ: usize = 1> {
    data: Vec<u8>,
    erased: u8,
    and_overwrite: bool,
    powered: bool,
    armed: Option<PowerCut>,
    ops: u64,
    op_log: Vec<OpKind>,
    rng: u64,
    stats: FlashStats,
}

impl<const WRITE: usize, const ERASE: usize, const READ: usize> SimFlash<WRITE, ERASE, READ> {
    const GEOMETRY_OK: () = assert!(
        WRITE >= 1
            && WRITE <= 32
            && READ >= 1
            && ERASE >= WRITE
            && ERASE.is_multiple_of(WRITE)
            && ERASE.is_multiple_of(READ),
        "SimFlash: WRITE must be 1..=32 and divide ERASE; READ must divide ERASE"
    );

    /// A blank (fully erased) flash of `size` bytes, a multiple of `ERASE`.
    ///
    /// # Panics
    /// If `size` is not a multiple of `ERASE` (a test set-up error), or if `erased` is
    /// neither 0xFF nor 0x00.
    pub fn new(size: usize, erased: u8) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::GEOMETRY_OK;
        assert!(
            size.is_multiple_of(ERASE) && size > 0,
            "SimFlash: size must be a non-zero multiple of ERASE"
        );
        assert!(erased == 0xFF || erased == 0x00, "SimFlash: erased value must be 0xFF or 0x00");
        Self {
            data: std::vec![erased; size],
            erased,
            and_overwrite: false,
            powered: true,
            armed: None,
            ops: 0,
            op_log: Vec::new(),
            rng: 0x9E37_79B9_7F4A_7C15,
            stats: FlashStats { erases: std::vec![0; size / ERASE], ..FlashStats::default() },
        }
    }

    /// A flash holding `contents` (for example garbage, or a snapshot of another flash).
    ///
    /// # Panics
    /// As [`SimFlash::new`].
    pub fn from_contents(contents: &[u8], erased: u8) -> Self {
        let mut f = Self::new(contents.len(), erased);
        f.data.copy_from_slice(contents);
        f
    }

    /// Seeds the generator of torn bytes (deterministic per seed).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = seed ^ 0x9E37_79B9_7F4A_7C15;
        if self.rng == 0 {
            self.rng = 1;
        }
        self
    }

    /// Models parts that allow writing over programmed bytes: the result is the AND (for
    /// erased 0xFF) or the OR (for erased 0x00) of old and new bits.
    pub fn allow_and_overwrite(mut self, allow: bool) -> Self {
        self.and_overwrite = allow;
        self
    }

    /// Arms a power cut.
    pub fn arm(&mut self, cut: PowerCut) {
        self.armed = Some(cut);
    }

    /// Disarms a pending cut.
    pub fn disarm(&mut self) {
        self.armed = None;
    }

    /// "Reboots": restores power and disarms; the contents stay as the cut left them and the
    /// operation counter restarts at 0.
    pub fn power_cycle(&mut self) {
        self.powered = true;
        self.armed = None;
        self.ops = 0;
        self.op_log.clear();
    }

    /// False after a cut, until [`SimFlash::power_cycle`].
    pub fn is_powered(&self) -> bool {
        self.powered
    }

    /// Mutating operations attempted since construction or the last power cycle.
    pub fn ops(&self) -> u64 {
        self.ops
    }

    /// The kind of every mutating operation since construction or the last power cycle.
    pub fn op_log(&self) -> &[OpKind] {
        &self.op_log
    }

    /// Operation counters.
    pub fn stats(&self) -> &FlashStats {
        &self.stats
    }

    /// Zeroes the counters.
    pub fn reset_stats(&mut self) {
        let sectors = self.stats.erases.len();
        self.stats = FlashStats { erases: std::vec![0; sectors], ..FlashStats::default() };
    }

    /// The raw contents.
    pub fn contents(&self) -> &[u8] {
        &self.data
    }

    /// Mutable raw contents, to plant garbage or corrupt an image in a test.
    pub fn contents_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// The erased byte value.
    pub fn erased_value(&self) -> u8 {
        self.erased
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn random_byte(&mut self) -> u8 {
        (self.next_random() >> 56) as u8
    }

    /// Counts a mutating operation and decides whether the power dies now.
    fn strike(&mut self, op: OpKind) -> Option<CutKind> {
        let index = self.ops;
        self.ops += 1;
        self.op_log.push(op);
        match self.armed {
            Some(cut) if cut.at_op == index => {
                self.armed = None;
                Some(cut.kind)
            }
            _ => None,
        }
    }

    fn check_range(&self, offset: u32, len: usize, align: usize) -> Result<(usize, usize), SimFlashError> {
        if !self.powered {
            return Err(SimFlashError::PowerLoss);
        }
        let start = offset as usize;
        if !start.is_multiple_of(align) || !len.is_multiple_of(align) {
            return Err(SimFlashError::NotAligned);
        }
        let end = start.checked_add(len).ok_or(SimFlashError::OutOfBounds)?;
        if end > self.data.len() {
            return Err(SimFlashError::OutOfBounds);
        }
        Ok((start, end))
    }

    fn program(&mut self, start: usize, bytes: &[u8]) {
        let cells = &mut self.data[start..start + bytes.len()];
        if !self.and_overwrite {
            // The caller checked the cells are erased.
            cells.copy_from_slice(bytes);
        } else if self.erased == 0xFF {
            cells.iter_mut().zip(bytes).for_each(|(c, &b)| *c &= b);
        } else {
            cells.iter_mut().zip(bytes).for_each(|(c, &b)| *c |= b);
        }
    }

    fn erase_sector(&mut self, sector: usize) {
        let e = self.erased;
        self.data[sector * ERASE..(sector + 1) * ERASE].fill(e);
        self.stats.erases[sector] += 1;
    }
}

impl<const WRITE: usize, const ERASE: usize, const READ: usize> ErrorType for SimFlash<WRITE, ERASE, READ> {
    type Error = SimFlashError;
}

impl<const WRITE: usize, const ERASE: usize, const READ: usize> ReadNorFlash
    for SimFlash<WRITE, ERASE, READ>
{
    const READ_SIZE: usize = READ;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let (start, end) = self.check_range(offset, bytes.len(), READ)?;
        bytes.copy_from_slice(&self.data[start..end]);
        self.stats.reads += 1;
        self.stats.bytes_read += bytes.len() as u64;
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.data.len()
    }
}

impl<const WRITE: usize, const ERASE: usize, const READ: usize> NorFlash for SimFlash<WRITE, ERASE, READ> {
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        if to < from {
            return Err(SimFlashError::OutOfBounds);
        }
        let (start, end) = self.check_range(from, (to - from) as usize, ERASE)?;
        let (first, last) = (start / ERASE, end / ERASE);
        match self.strike(OpKind::Erase) {
            None => {
                (first..last).for_each(|s| self.erase_sector(s));
                Ok(())
            }
            Some(CutKind::Before) => {
                self.powered = false;
                Err(SimFlashError::PowerLoss)
            }
            Some(CutKind::After) => {
                (first..last).for_each(|s| self.erase_sector(s));
                self.powered = false;
                Ok(())
            }
            Some(CutKind::MidErase | CutKind::MidWrite) => {
                // Sectors before the torn one are erased, the torn one is a mix, the rest untouched.
                let span = (last - first) as u64;
                let torn = first + (self.next_random() % span.max(1)) as usize;
                (first..torn).for_each(|s| self.erase_sector(s));
                for i in torn * ERASE..(torn + 1) * ERASE {
                    if self.next_random() & 1 == 0 {
                        self.data[i] = self.erased;
                    } else {
                        self.data[i] = self.random_byte();
                    }
                }
                self.stats.erases[torn] += 1;
                self.powered = false;
                Err(SimFlashError::PowerLoss)
            }
        }
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let (start, end) = self.check_range(offset, bytes.len(), WRITE)?;
        let erased = self.erased;
        // A branch-free fold: the compiler vectorises it (a short-circuit loop costs ~1 ns/byte).
        if !self.and_overwrite && self.data[start..end].iter().fold(0u8, |acc, &b| acc | (b ^ erased)) != 0 {
            return Err(SimFlashError::WriteOverProgrammed);
        }
        let cut = self.strike(OpKind::Write);
        match cut {
            Some(CutKind::Before) => {
                self.powered = false;
                return Err(SimFlashError::PowerLoss);
            }
            Some(CutKind::MidWrite | CutKind::MidErase) if !bytes.is_empty() => {
                let prefix = (self.next_random() % bytes.len() as u64) as usize;
                self.program(start, &bytes[..prefix]);
                let junk = self.random_byte();
                self.data[start + prefix] = junk;
                self.stats.writes += 1;
                self.stats.bytes_programmed += prefix as u64 + 1;
                self.powered = false;
                return Err(SimFlashError::PowerLoss);
            }
            _ => {}
        }
        self.program(start, bytes);
        self.stats.writes += 1;
        self.stats.bytes_programmed += bytes.len() as u64;
        if cut.is_some() {
            self.powered = false;
        }
        Ok(())
    }
}
