//! `RamFlash`: a NOR flash emulated in the board's RAM.
//!
//! QEMU's `mps2-an386` has no flash controller that firmware could erase and program (its
//! code memory is plain RAM), so this driver keeps a NOR flash's rules over a RAM array
//! instead: erase works on whole `ERASE`-byte sectors and sets them to `0xFF`; writes must be
//! aligned to `WRITE` bytes and may only clear bits (programming a byte that is not erased
//! to a value needing a 0 → 1 transition is refused, as a real part would corrupt it). The
//! library reaches it only through `embedded-storage`'s `NorFlash` traits, exactly as it
//! reaches a real part's HAL driver.

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash, check_erase, check_read, check_write,
};

/// Why a flash operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RamFlashError {
    /// Misaligned or out of bounds (`embedded-storage`'s checks).
    Access(NorFlashErrorKind),
    /// A write needed a 0 → 1 bit transition: the bytes were not erased.
    NotErased,
}

impl NorFlashError for RamFlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            Self::Access(kind) => *kind,
            Self::NotErased => NorFlashErrorKind::Other,
        }
    }
}

/// Counts of the operations the driver performed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlashStats {
    /// Sectors erased.
    pub erases: u32,
    /// Write calls.
    pub writes: u32,
    /// Bytes programmed.
    pub bytes_written: u32,
}

/// NOR flash rules over a RAM array: `WRITE`-byte writes, `ERASE`-byte sectors, erased to
/// `0xFF`.
pub struct RamFlash<const WRITE: usize, const ERASE: usize> {
    mem: &'static mut [u8],
    stats: FlashStats,
}

impl<const WRITE: usize, const ERASE: usize> RamFlash<WRITE, ERASE> {
    /// A flash over `mem`, whose length must be a whole number of sectors. The contents are
    /// kept as they are (call [`RamFlash::erase_all`] for a blank chip).
    pub fn new(mem: &'static mut [u8]) -> Self {
        assert!(mem.len().is_multiple_of(ERASE), "RamFlash: size must be a whole number of sectors");
        Self { mem, stats: FlashStats::default() }
    }

    /// Erases the whole chip, as a factory-fresh part.
    pub fn erase_all(&mut self) {
        self.mem.fill(0xFF);
    }

    /// Operation counts since creation.
    pub fn stats(&self) -> FlashStats {
        self.stats
    }
}

impl<const WRITE: usize, const ERASE: usize> ErrorType for RamFlash<WRITE, ERASE> {
    type Error = RamFlashError;
}

impl<const WRITE: usize, const ERASE: usize> ReadNorFlash for RamFlash<WRITE, ERASE> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        check_read(self, offset, bytes.len()).map_err(RamFlashError::Access)?;
        let start = offset as usize;
        bytes.copy_from_slice(&self.mem[start..start + bytes.len()]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.mem.len()
    }
}

impl<const WRITE: usize, const ERASE: usize> NorFlash for RamFlash<WRITE, ERASE> {
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        check_erase(self, from, to).map_err(RamFlashError::Access)?;
        self.mem[from as usize..to as usize].fill(0xFF);
        self.stats.erases += (to - from) / ERASE as u32;
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        check_write(self, offset, bytes.len()).map_err(RamFlashError::Access)?;
        let start = offset as usize;
        let target = &mut self.mem[start..start + bytes.len()];
        // NOR programming only clears bits.
        if target.iter().zip(bytes).any(|(old, new)| old & new != *new) {
            return Err(RamFlashError::NotErased);
        }
        target.copy_from_slice(bytes);
        self.stats.writes += 1;
        self.stats.bytes_written += bytes.len() as u32;
        Ok(())
    }
}
