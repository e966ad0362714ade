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
//!
//! The power, the armed cut and the operation counter belong to a [`PowerSupply`]. Each new
//! `SimFlash` has a private one; [`SimFlash::on_supply`] puts several chips on one supply, as
//! on a board where the MCU's internal flash and an external SPI NOR share one regulator: the
//! operations of every chip count on the supply's one counter, and a cut stops them all.

use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash};
use std::cell::RefCell;
use std::rc::Rc;
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
    /// Index (from 0) of the mutating operation to strike, counted on the chip's
    /// [`PowerSupply`] (over every chip on it) since its creation or the last power cycle.
    pub at_op: u64,
    /// How to strike.
    pub kind: CutKind,
}

/// Errors of the simulated part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SimFlashError {
    /// Offset or length not aligned to the write, read or erase size.
    NotAligned,
    /// Access outside the flash.
    OutOfBounds,
    /// A write to bytes that are not erased.
    WriteOverProgrammed,
    /// The power is off: cut by [`SimFlash::arm`] (or [`PowerSupply::arm`]), restored by
    /// [`SimFlash::power_cycle`] (or [`PowerSupply::power_cycle`]).
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
        f.write_str(match self {
            Self::NotAligned => "flash access not aligned",
            Self::OutOfBounds => "flash access out of bounds",
            Self::WriteOverProgrammed => "write to bytes that are not erased",
            Self::PowerLoss => "power lost",
        })
    }
}

impl core::error::Error for SimFlashError {}

/// The state one power supply shares among its chips.
#[derive(Debug, Clone)]
struct SupplyState {
    powered: bool,
    armed: Option<PowerCut>,
    ops: u64,
    op_log: Vec<OpKind>,
}

/// The power supply of one or more [`SimFlash`] chips: whether the power is on, the armed
/// [`PowerCut`], and the counter and log of the mutating operations of every chip on it.
///
/// A `PowerSupply` is a cheap handle: a clone is the same supply (a cut armed through one
/// handle strikes the chips of all). Handles are `!Send`: a supply and its chips live on one
/// thread.
///
/// ```
/// use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
/// use ota_client::mock::{CutKind, PowerCut, PowerSupply, SimFlash, SimFlashError};
///
/// // An internal flash and an external SPI NOR on one regulator.
/// let supply = PowerSupply::new();
/// let mut internal = SimFlash::<8, 2048>::new(8192, 0xFF).on_supply(&supply);
/// let mut external = SimFlash::<1, 4096>::new(16384, 0xFF).on_supply(&supply);
/// internal.write(0, &[0; 8]).unwrap(); // supply operation 0
/// supply.arm(PowerCut { at_op: 1, kind: CutKind::Before });
/// assert_eq!(external.write(0, &[0]), Err(SimFlashError::PowerLoss)); // operation 1
/// assert_eq!(internal.read(0, &mut [0; 8]), Err(SimFlashError::PowerLoss)); // both dead
/// supply.power_cycle();
/// assert!(internal.is_powered() && external.is_powered());
/// ```
#[derive(Debug, Clone)]
pub struct PowerSupply(Rc<RefCell<SupplyState>>);

impl PowerSupply {
    /// A new supply: powered, nothing armed, no operations yet.
    pub fn new() -> Self {
        Self(Rc::new(RefCell::new(SupplyState { powered: true, armed: None, ops: 0, op_log: Vec::new() })))
    }

    /// A new, separate supply in the same state as this one (what a [`SimFlash`] clone gets).
    fn snapshot(&self) -> Self {
        Self(Rc::new(RefCell::new(self.0.borrow().clone())))
    }

    /// Arms a power cut (replacing a pending one); `cut.at_op` indexes this supply's
    /// operations, see [`PowerSupply::ops`].
    pub fn arm(&self, cut: PowerCut) {
        self.0.borrow_mut().armed = Some(cut);
    }

    /// Disarms a pending cut.
    pub fn disarm(&self) {
        self.0.borrow_mut().armed = None;
    }

    /// "Reboots": restores the power and disarms; the contents of every chip stay as the cut
    /// left them and the operation counter and log restart empty.
    pub fn power_cycle(&self) {
        let mut s = self.0.borrow_mut();
        s.powered = true;
        s.armed = None;
        s.ops = 0;
        s.op_log.clear();
    }

    /// False after a cut, until [`PowerSupply::power_cycle`].
    pub fn is_powered(&self) -> bool {
        self.0.borrow().powered
    }

    /// Mutating operations attempted by the chips of this supply since its creation or the
    /// last power cycle.
    pub fn ops(&self) -> u64 {
        self.0.borrow().ops
    }

    /// A copy of the kind of every mutating operation since the supply's creation or the last
    /// power cycle, in order (`op_log()[i]` is the operation a cut at `at_op: i` strikes).
    pub fn op_log(&self) -> Vec<OpKind> {
        self.0.borrow().op_log.clone()
    }

    /// True when both handles are the same supply.
    pub fn same_as(&self, other: &PowerSupply) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// Counts a mutating operation and decides whether the power dies now.
    fn strike(&self, op: OpKind) -> Option<CutKind> {
        let mut s = self.0.borrow_mut();
        let index = s.ops;
        s.ops += 1;
        s.op_log.push(op);
        match s.armed {
            Some(cut) if cut.at_op == index => {
                s.armed = None;
                Some(cut.kind)
            }
            _ => None,
        }
    }

    /// Cuts the power now.
    fn cut(&self) {
        self.0.borrow_mut().powered = false;
    }
}

impl Default for PowerSupply {
    fn default() -> Self {
        Self::new()
    }
}

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
///
/// The power belongs to the chip's [`PowerSupply`] (a private one unless
/// [`SimFlash::on_supply`] joined a shared one); `arm`, `disarm`, `power_cycle`, `is_powered`,
/// `ops` and `op_log` act on that supply, so on a shared supply they act for every chip on it.
///
/// `Clone` copies the contents, the settings, the torn-byte generator and the counters; the
/// clone gets a private supply of its own in the same state as the original's (powered or
/// not, the same cut armed, the same counter). It does not join the original's supply: a
/// snapshot taken with `clone` is not disturbed by later cuts. Use [`SimFlash::on_supply`] on
/// the clone to share.
#[derive(Debug)]
pub struct SimFlash<const WRITE: usize, const ERASE: usize, const READ: usize = 1> {
    data: Vec<u8>,
    erased: u8,
    and_overwrite: bool,
    supply: PowerSupply,
    rng: u64,
    stats: FlashStats,
}

impl<const WRITE: usize, const ERASE: usize, const READ: usize> Clone for SimFlash<WRITE, ERASE, READ> {
    fn clone(&self) -> Self {
        Self {
            data: self.data.clone(),
            erased: self.erased,
            and_overwrite: self.and_overwrite,
            supply: self.supply.snapshot(),
            rng: self.rng,
            stats: self.stats.clone(),
        }
    }
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
            supply: PowerSupply::new(),
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
        self.set_seed(seed);
        self
    }

    /// Seeds the generator of torn bytes in place (as [`SimFlash::with_seed`]).
    pub fn set_seed(&mut self, seed: u64) {
        self.rng = seed ^ 0x9E37_79B9_7F4A_7C15;
        if self.rng == 0 {
            self.rng = 1;
        }
    }

    /// Puts the chip on `supply` (leaving its previous supply): from now on its operations
    /// count on that supply's counter and a cut on it stops this chip too.
    ///
    /// ```
    /// use ota_client::mock::{PowerSupply, SimFlash};
    /// let supply = PowerSupply::new();
    /// let a = SimFlash::<4, 256>::new(1024, 0xFF).on_supply(&supply);
    /// let b = SimFlash::<1, 512>::new(1024, 0x00).on_supply(&a.supply());
    /// assert!(b.supply().same_as(&supply));
    /// ```
    pub fn on_supply(mut self, supply: &PowerSupply) -> Self {
        self.supply = supply.clone();
        self
    }

    /// A handle to the chip's power supply.
    pub fn supply(&self) -> PowerSupply {
        self.supply.clone()
    }

    /// Models parts that allow writing over programmed bytes: the result is the AND (for
    /// erased 0xFF) or the OR (for erased 0x00) of old and new bits.
    pub fn allow_and_overwrite(mut self, allow: bool) -> Self {
        self.and_overwrite = allow;
        self
    }

    /// Arms a power cut on the chip's supply ([`PowerSupply::arm`]).
    pub fn arm(&mut self, cut: PowerCut) {
        self.supply.arm(cut);
    }

    /// Disarms a pending cut ([`PowerSupply::disarm`]).
    pub fn disarm(&mut self) {
        self.supply.disarm();
    }

    /// "Reboots": restores power and disarms; the contents stay as the cut left them and the
    /// operation counter restarts at 0 ([`PowerSupply::power_cycle`]: on a shared supply,
    /// every chip on it is rebooted).
    pub fn power_cycle(&mut self) {
        self.supply.power_cycle();
    }

    /// False after a cut, until [`SimFlash::power_cycle`].
    pub fn is_powered(&self) -> bool {
        self.supply.is_powered()
    }

    /// Mutating operations attempted since construction or the last power cycle, by every
    /// chip on the supply ([`PowerSupply::ops`]).
    pub fn ops(&self) -> u64 {
        self.supply.ops()
    }

    /// A copy of the kind of every mutating operation since construction or the last power
    /// cycle, by every chip on the supply ([`PowerSupply::op_log`]).
    pub fn op_log(&self) -> Vec<OpKind> {
        self.supply.op_log()
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

    fn check_range(&self, offset: u32, len: usize, align: usize) -> Result<(usize, usize), SimFlashError> {
        if !self.supply.is_powered() {
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
        match self.supply.strike(OpKind::Erase) {
            None => {
                (first..last).for_each(|s| self.erase_sector(s));
                Ok(())
            }
            Some(CutKind::Before) => {
                self.supply.cut();
                Err(SimFlashError::PowerLoss)
            }
            Some(CutKind::After) => {
                (first..last).for_each(|s| self.erase_sector(s));
                self.supply.cut();
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
                self.supply.cut();
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
        let cut = self.supply.strike(OpKind::Write);
        match cut {
            Some(CutKind::Before) => {
                self.supply.cut();
                return Err(SimFlashError::PowerLoss);
            }
            Some(CutKind::MidWrite | CutKind::MidErase) if !bytes.is_empty() => {
                let prefix = (self.next_random() % bytes.len() as u64) as usize;
                self.program(start, &bytes[..prefix]);
                let junk = self.random_byte();
                self.data[start + prefix] = junk;
                self.stats.writes += 1;
                self.stats.bytes_programmed += prefix as u64 + 1;
                self.supply.cut();
                return Err(SimFlashError::PowerLoss);
            }
            _ => {}
        }
        self.program(start, bytes);
        self.stats.writes += 1;
        self.stats.bytes_programmed += bytes.len() as u64;
        if cut.is_some() {
            self.supply.cut();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type A = SimFlash<4, 256>;
    type B = SimFlash<1, 512>;

    fn pair() -> (PowerSupply, A, B) {
        let supply = PowerSupply::new();
        let a = A::new(1024, 0xFF).on_supply(&supply);
        let b = B::new(1024, 0x00).on_supply(&supply);
        (supply, a, b)
    }

    #[test]
    fn a_new_flash_has_a_private_supply() {
        let mut a = A::new(1024, 0xFF);
        let b = A::new(1024, 0xFF);
        assert!(!a.supply().same_as(&b.supply()));
        assert!(a.supply().same_as(&a.supply()));
        a.arm(PowerCut { at_op: 0, kind: CutKind::Before });
        assert_eq!(a.write(0, &[0; 4]), Err(SimFlashError::PowerLoss));
        assert!(!a.is_powered());
        assert!(b.is_powered());
    }

    #[test]
    fn chips_on_one_supply_share_the_counter_and_the_log() {
        let (supply, mut a, mut b) = pair();
        a.write(0, &[0; 4]).unwrap();
        b.erase(0, 512).unwrap();
        b.write(3, &[1]).unwrap();
        a.erase(256, 512).unwrap();
        assert_eq!(supply.ops(), 4);
        assert_eq!((a.ops(), b.ops()), (4, 4));
        assert_eq!(supply.op_log(), [OpKind::Write, OpKind::Erase, OpKind::Write, OpKind::Erase]);
        assert_eq!(a.op_log(), b.op_log());
        // Reads are not counted, on either chip.
        a.read(0, &mut [0; 4]).unwrap();
        b.read(0, &mut [0; 4]).unwrap();
        assert_eq!(supply.ops(), 4);
    }

    #[test]
    fn a_cut_armed_at_op_n_lands_on_the_chip_that_does_op_n() {
        for kind in [CutKind::Before, CutKind::MidWrite, CutKind::After] {
            let (supply, mut a, mut b) = pair();
            a.write(0, &[0; 4]).unwrap(); // op 0, chip A
            supply.arm(PowerCut { at_op: 1, kind });
            // Reads on A do not count: the cut waits for op 1.
            a.read(0, &mut [0; 4]).unwrap();
            let r = b.write(8, &[0x5A, 0xA5]); // op 1, chip B
            assert_eq!(r.is_ok(), kind == CutKind::After, "{kind:?}");
            match kind {
                CutKind::Before => assert_eq!(b.contents()[8..10], [0x00, 0x00]),
                CutKind::After => assert_eq!(b.contents()[8..10], [0x5A, 0xA5]),
                _ => assert_ne!(b.stats().bytes_programmed, 0, "the torn write programmed nothing"),
            }
            // Both chips are dead now, for reads, writes and erases.
            assert!(!supply.is_powered() && !a.is_powered() && !b.is_powered());
            assert_eq!(a.read(0, &mut [0; 4]), Err(SimFlashError::PowerLoss));
            assert_eq!(a.write(4, &[0; 4]), Err(SimFlashError::PowerLoss));
            assert_eq!(a.erase(0, 256), Err(SimFlashError::PowerLoss));
            assert_eq!(b.read(0, &mut [0; 1]), Err(SimFlashError::PowerLoss));
            assert_eq!(b.write(100, &[1]), Err(SimFlashError::PowerLoss));
            // Chip A's write before the cut survived.
            assert_eq!(a.contents()[..4], [0; 4]);
            // One power cycle revives both and restarts the counter.
            a.power_cycle();
            assert!(a.is_powered() && b.is_powered());
            assert_eq!(supply.ops(), 0);
            assert!(supply.op_log().is_empty());
            let mut buf = [0xEE; 4];
            a.read(0, &mut buf).unwrap();
            assert_eq!(buf, [0; 4]);
            b.write(200, &[7]).unwrap();
            a.write(4, &[1; 4]).unwrap();
            assert_eq!(supply.ops(), 2);
        }
    }

    #[test]
    fn a_cut_disarmed_through_another_handle_does_not_strike() {
        let (supply, mut a, mut b) = pair();
        a.arm(PowerCut { at_op: 0, kind: CutKind::Before });
        b.disarm();
        a.write(0, &[0; 4]).unwrap();
        assert!(supply.is_powered());
    }

    #[test]
    fn torn_bytes_stay_per_chip() {
        // The same torn write on chip B gives the same bytes whatever chip A's seed is.
        let torn = |seed_a: u64| {
            let supply = PowerSupply::new();
            let mut a = A::new(1024, 0xFF).with_seed(seed_a).on_supply(&supply);
            let mut b = B::new(1024, 0x00).with_seed(7).on_supply(&supply);
            a.arm(PowerCut { at_op: 0, kind: CutKind::MidWrite });
            let _ = b.write(0, &[0xFF; 64]);
            b.contents()[..64].to_vec()
        };
        assert_eq!(torn(1), torn(2));
    }

    #[test]
    fn a_clone_gets_a_private_copy_of_the_supply() {
        let (supply, mut a, _b) = pair();
        a.write(0, &[0; 4]).unwrap();
        supply.arm(PowerCut { at_op: 1, kind: CutKind::Before });
        let mut snapshot = a.clone();
        assert!(!snapshot.supply().same_as(&supply));
        assert_eq!(snapshot.ops(), 1);
        // The copy carries the armed cut, on its own counter.
        assert_eq!(snapshot.write(4, &[0; 4]), Err(SimFlashError::PowerLoss));
        assert!(supply.is_powered());
        a.write(4, &[0; 4]).unwrap_err();
        assert!(!a.is_powered());
        snapshot.power_cycle();
        assert!(!a.is_powered());
    }
}
