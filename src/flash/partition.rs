//! A [`Partition`]: a validated, sector-aligned region of one NOR flash.

use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};

/// Why a partition was refused at construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum PartitionError {
    /// The offset or the size is not a multiple of the flash's erase size.
    Misaligned,
    /// The region reaches past the end of the flash, or is empty.
    OutOfBounds,
    /// The region has fewer erase sectors than its user needs.
    TooSmall,
    /// The flash's write or read size is larger than this library supports
    /// ([`MAX_ACCESS_SIZE`] bytes), or is zero, or does not divide the erase size.
    UnsupportedGeometry,
}

impl core::fmt::Display for PartitionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Misaligned => f.write_str("partition not aligned to erase sectors"),
            Self::OutOfBounds => f.write_str("partition outside the flash or empty"),
            Self::TooSmall => f.write_str("partition has too few sectors"),
            Self::UnsupportedGeometry => f.write_str("unsupported flash geometry"),
        }
    }
}

impl core::error::Error for PartitionError {}

/// Largest flash write or read granularity the library supports (STM32H7 writes 32 bytes).
pub const MAX_ACCESS_SIZE: usize = 32;

/// A region of a NOR flash: whole erase sectors, inside the flash, with its erased byte value.
///
/// A partition holds no reference to the flash; operations take the flash as an argument, so
/// that several partitions (a state partition and two slots) can share one chip. Offsets
/// given to partition methods are relative to the partition start and bounds-checked.
///
/// ```
/// # #[cfg(feature = "mock")] {
/// use ota_client::flash::Partition;
/// use ota_client::mock::SimFlash;
/// let flash = SimFlash::<4, 4096>::new(64 * 1024, 0xFF);
/// let part = Partition::new(&flash, 0x8000, 0x2000, 0xFF).unwrap();
/// assert_eq!(part.sectors(), 2);
/// assert!(Partition::new(&flash, 0x8001, 0x2000, 0xFF).is_err());
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Partition {
    offset: u32,
    size: u32,
    erase_size: u32,
    write_size: u32,
    read_size: u32,
    erased: u8,
}

impl Partition {
    /// Validates a region of `flash`: `offset` and `size` must be multiples of the erase
    /// size and the region must lie inside the flash. `erased` is the value the part reads
    /// after an erase (0xFF for most NOR, 0x00 for some internal flash).
    pub fn new<F: NorFlash>(flash: &F, offset: u32, size: u32, erased: u8) -> Result<Self, PartitionError> {
        let erase_size = u32::try_from(F::ERASE_SIZE).map_err(|_| PartitionError::UnsupportedGeometry)?;
        let write_size = u32::try_from(F::WRITE_SIZE).map_err(|_| PartitionError::UnsupportedGeometry)?;
        let read_size =
            u32::try_from(<F as ReadNorFlash>::READ_SIZE).map_err(|_| PartitionError::UnsupportedGeometry)?;
        let max = MAX_ACCESS_SIZE as u32;
        if write_size == 0 || read_size == 0 || erase_size == 0 || write_size > max || read_size > max {
            return Err(PartitionError::UnsupportedGeometry);
        }
        if erase_size % write_size != 0 || erase_size % read_size != 0 {
            return Err(PartitionError::UnsupportedGeometry);
        }
        if !offset.is_multiple_of(erase_size) || !size.is_multiple_of(erase_size) {
            return Err(PartitionError::Misaligned);
        }
        let end = offset.checked_add(size).ok_or(PartitionError::OutOfBounds)?;
        let capacity = u32::try_from(flash.capacity()).unwrap_or(u32::MAX);
        if size == 0 || end > capacity {
            return Err(PartitionError::OutOfBounds);
        }
        Ok(Self { offset, size, erase_size, write_size, read_size, erased })
    }

    /// The partition without its first `skip` bytes: `None` unless `skip` is a multiple of
    /// the erase size smaller than the partition.
    pub fn tail(&self, skip: u32) -> Option<Self> {
        if !skip.is_multiple_of(self.erase_size) || skip >= self.size {
            return None;
        }
        Some(Self { offset: self.offset.checked_add(skip)?, size: self.size.checked_sub(skip)?, ..*self })
    }

    /// Checks that the partition has at least `n` erase sectors.
    pub fn require_sectors(self, n: u32) -> Result<Self, PartitionError> {
        if self.sectors() < n { Err(PartitionError::TooSmall) } else { Ok(self) }
    }

    /// Absolute start offset in the flash.
    pub const fn offset(&self) -> u32 {
        self.offset
    }
    /// Size in bytes.
    pub const fn size(&self) -> u32 {
        self.size
    }
    /// Erase sector size in bytes.
    pub const fn erase_size(&self) -> u32 {
        self.erase_size
    }
    /// Write granularity in bytes.
    pub const fn write_size(&self) -> u32 {
        self.write_size
    }
    /// Read granularity in bytes.
    pub const fn read_size(&self) -> u32 {
        self.read_size
    }
    /// The byte value of erased flash.
    pub const fn erased(&self) -> u8 {
        self.erased
    }
    /// Number of erase sectors.
    pub const fn sectors(&self) -> u32 {
        self.size / self.erase_size
    }

    fn abs(&self, offset: u32, len: usize) -> Option<u32> {
        let len = u32::try_from(len).ok()?;
        let end = offset.checked_add(len)?;
        if end > self.size {
            return None;
        }
        self.offset.checked_add(offset)
    }

    /// Erases the sectors covering `[from, to)` (relative, sector aligned).
    pub fn erase<F: NorFlash>(&self, flash: &mut F, from: u32, to: u32) -> Result<(), AccessError<F::Error>> {
        if from > to || !from.is_multiple_of(self.erase_size) || !to.is_multiple_of(self.erase_size) {
            return Err(AccessError::Bounds);
        }
        let len = usize::try_from(to - from).map_err(|_| AccessError::Bounds)?;
        let start = self.abs(from, len).ok_or(AccessError::Bounds)?;
        let end = start.checked_add(to - from).ok_or(AccessError::Bounds)?;
        flash.erase(start, end).map_err(AccessError::Flash)
    }

    /// Erases sector number `index`.
    pub fn erase_sector<F: NorFlash>(&self, flash: &mut F, index: u32) -> Result<(), AccessError<F::Error>> {
        let from = index.checked_mul(self.erase_size).ok_or(AccessError::Bounds)?;
        let to = from.checked_add(self.erase_size).ok_or(AccessError::Bounds)?;
        self.erase(flash, from, to)
    }

    /// Writes `data` at `offset`; both must be multiples of the write size.
    pub fn write<F: NorFlash>(
        &self,
        flash: &mut F,
        offset: u32,
        data: &[u8],
    ) -> Result<(), AccessError<F::Error>> {
        let abs = self.abs(offset, data.len()).ok_or(AccessError::Bounds)?;
        flash.write(abs, data).map_err(AccessError::Flash)
    }

    /// Reads `buf.len()` bytes at any `offset`, whatever the flash's read granularity.
    pub fn read<F: ReadNorFlash>(
        &self,
        flash: &mut F,
        offset: u32,
        buf: &mut [u8],
    ) -> Result<(), AccessError<F::Error>> {
        let abs = self.abs(offset, buf.len()).ok_or(AccessError::Bounds)?;
        let rs = self.read_size;
        if rs == 1 {
            return flash.read(abs, buf).map_err(AccessError::Flash);
        }
        // Read through an aligned window of whole read units.
        let mut window = [0u8; 2 * MAX_ACCESS_SIZE];
        let unit = (window.len() as u32 / rs) * rs;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = abs + done as u32;
            let aligned = pos - pos % rs;
            let skip = (pos - aligned) as usize;
            // Never read past the partition end (a multiple of the read size).
            let span_len = unit.min(self.offset + self.size - aligned);
            let span = window.get_mut(..span_len as usize).ok_or(AccessError::Bounds)?;
            flash.read(aligned, span).map_err(AccessError::Flash)?;
            let take = (span_len as usize - skip).min(buf.len() - done);
            let src = span.get(skip..skip + take).ok_or(AccessError::Bounds)?;
            buf.get_mut(done..done + take).ok_or(AccessError::Bounds)?.copy_from_slice(src);
            done += take;
        }
        Ok(())
    }

    /// True when `[offset, offset + len)` reads as erased.
    pub fn is_erased<F: ReadNorFlash>(
        &self,
        flash: &mut F,
        offset: u32,
        len: u32,
    ) -> Result<bool, AccessError<F::Error>> {
        let mut buf = [0u8; 64];
        let mut at = offset;
        let end = offset.checked_add(len).ok_or(AccessError::Bounds)?;
        while at < end {
            let n = (end - at).min(buf.len() as u32);
            let chunk = buf.get_mut(..n as usize).ok_or(AccessError::Bounds)?;
            self.read(flash, at, chunk)?;
            if chunk.iter().any(|&b| b != self.erased) {
                return Ok(false);
            }
            at += n;
        }
        Ok(true)
    }

    /// Rounds `n` up to the write size.
    pub const fn align_write(&self, n: u32) -> u32 {
        n.div_ceil(self.write_size).saturating_mul(self.write_size)
    }
}

/// A failed partition access.
///
/// `E` is the flash driver's error. Display and `core::error::Error` need only `E: Debug`
/// (embedded-storage flash errors implement `Debug` and `NorFlashError`, seldom `Display`):
/// the driver's error is printed with `{:?}` and is not a `source()`. Under feature `defmt`
/// the driver's error is printed by its [`NorFlashErrorKind`](embedded_storage::nor_flash::NorFlashErrorKind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessError<E> {
    /// The access reaches outside the partition or is misaligned.
    Bounds,
    /// The flash driver failed.
    Flash(E),
}

impl<E: core::fmt::Debug> core::fmt::Display for AccessError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Bounds => f.write_str("access outside the partition or misaligned"),
            Self::Flash(e) => write!(f, "flash error: {e:?}"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for AccessError<E> {}

#[cfg(feature = "defmt")]
impl<E: embedded_storage::nor_flash::NorFlashError> defmt::Format for AccessError<E> {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::Bounds => defmt::write!(f, "AccessError::Bounds"),
            Self::Flash(e) => {
                defmt::write!(f, "AccessError::Flash({=str})", crate::flash::kind_name(e.kind()))
            }
        }
    }
}
