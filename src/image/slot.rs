//! Slots, and flash I/O on a slot through [`Storage`] whichever device it lives on.

use crate::flash::{AccessError, Partition, Storage};

/// One of the two image slots.
///
/// Slot `A` (the primary slot) lives on the primary device, slot `B` (the secondary slot) on
/// the secondary device, which may be the same chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Slot {
    /// The primary slot.
    A,
    /// The secondary slot.
    B,
}

impl Slot {
    /// The other slot.
    pub const fn other(self) -> Self {
        match self {
            Self::A => Self::B,
            Self::B => Self::A,
        }
    }

    /// 0 for A, 1 for B (the on-flash encoding).
    pub const fn index(self) -> u8 {
        match self {
            Self::A => 0,
            Self::B => 1,
        }
    }

    /// The slot with on-flash index `i`.
    pub const fn from_index(i: u8) -> Option<Self> {
        match i {
            0 => Some(Self::A),
            1 => Some(Self::B),
            _ => None,
        }
    }
}

/// A slot's partition together with the device it lives on, for flash I/O.
///
/// Errors are reported without the driver's error type (which differs between two devices):
/// [`SlotError::Flash`] carries the `embedded-storage` error kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotRegion {
    /// Which slot.
    pub slot: Slot,
    /// Its partition on its device.
    pub part: Partition,
}

/// A failed slot access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SlotError {
    /// The access reaches outside the slot or is misaligned.
    Bounds,
    /// The flash driver failed.
    Flash(embedded_storage::nor_flash::NorFlashErrorKind),
}

impl core::fmt::Display for SlotError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Bounds => f.write_str("slot access out of bounds or misaligned"),
            Self::Flash(k) => write!(f, "flash error: {k}"),
        }
    }
}

impl core::error::Error for SlotError {}

#[cfg(feature = "defmt")]
impl defmt::Format for SlotError {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::Bounds => defmt::write!(f, "SlotError::Bounds"),
            Self::Flash(kind) => defmt::write!(f, "SlotError::Flash({=str})", crate::flash::kind_name(*kind)),
        }
    }
}

fn map<E: embedded_storage::nor_flash::NorFlashError>(e: AccessError<E>) -> SlotError {
    match e {
        AccessError::Bounds => SlotError::Bounds,
        AccessError::Flash(e) => SlotError::Flash(e.kind()),
    }
}

impl SlotRegion {
    /// Reads `buf.len()` bytes at `offset` in the slot.
    pub fn read<S: Storage>(&self, storage: &mut S, offset: u32, buf: &mut [u8]) -> Result<(), SlotError> {
        match self.slot {
            Slot::A => self.part.read(storage.primary(), offset, buf).map_err(map),
            Slot::B => self.part.read(storage.secondary(), offset, buf).map_err(map),
        }
    }

    /// Writes `data` at `offset` (both aligned to the write size).
    pub fn write<S: Storage>(&self, storage: &mut S, offset: u32, data: &[u8]) -> Result<(), SlotError> {
        match self.slot {
            Slot::A => self.part.write(storage.primary(), offset, data).map_err(map),
            Slot::B => self.part.write(storage.secondary(), offset, data).map_err(map),
        }
    }

    /// Erases sector `index` of the slot.
    pub fn erase_sector<S: Storage>(&self, storage: &mut S, index: u32) -> Result<(), SlotError> {
        match self.slot {
            Slot::A => self.part.erase_sector(storage.primary(), index).map_err(map),
            Slot::B => self.part.erase_sector(storage.secondary(), index).map_err(map),
        }
    }

    /// True when `[offset, offset + len)` reads as erased.
    pub fn is_erased<S: Storage>(&self, storage: &mut S, offset: u32, len: u32) -> Result<bool, SlotError> {
        match self.slot {
            Slot::A => self.part.is_erased(storage.primary(), offset, len).map_err(map),
            Slot::B => self.part.is_erased(storage.secondary(), offset, len).map_err(map),
        }
    }

    /// SHA-256 of the first `len` bytes of the slot, read in 256-byte pieces.
    pub fn sha256<S: Storage>(&self, storage: &mut S, len: u32) -> Result<[u8; 32], SlotError> {
        Ok(self.sha256_split(storage, len, len)?.1)
    }

    /// From one read of the first `len` bytes: the SHA-256 of the first `split` of them
    /// (clamped to `len`) and of all `len` (a signed image's body and the whole image).
    pub fn sha256_split<S: Storage>(
        &self,
        storage: &mut S,
        len: u32,
        split: u32,
    ) -> Result<([u8; 32], [u8; 32]), SlotError> {
        use sha2::Digest as _;
        let split = split.min(len);
        let mut h = sha2::Sha256::new();
        let mut prefix: Option<[u8; 32]> = None;
        let mut buf = [0u8; 256];
        let mut at = 0u32;
        while at < len {
            if at == split {
                prefix = Some(h.clone().finalize().into());
            }
            // Pieces end at `split`, so the prefix digest is taken exactly there.
            let end = if at < split { split } else { len };
            let n = (end - at).min(buf.len() as u32);
            let chunk = buf.get_mut(..n as usize).ok_or(SlotError::Bounds)?;
            self.read(storage, at, chunk)?;
            h.update(&*chunk);
            at += n;
        }
        let whole: [u8; 32] = h.finalize().into();
        Ok((prefix.unwrap_or(whole), whole))
    }
}
