//! [`Layout`]: two slots and a state partition, validated once, and the [`Strategy`] that
//! moves images between them.

use crate::flash::{Partition, Storage};
use crate::image::slot::{Slot, SlotRegion};

/// How a new image gets to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Strategy {
    /// A/B execute-in-place: the bootloader runs whichever slot the boot state names; an
    /// update writes only the inactive slot, then flips the state. No copying.
    Select,
    /// One execution address: the new image is staged one page into the secondary slot
    /// (which is one page larger than the primary; no scratch partition) and the bootloader
    /// exchanges the slots page by page, three writes per image byte in all. A revert
    /// exchanges them back.
    Swap,
}

/// Why a layout was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum LayoutError {
    /// The state partition has fewer than two erase sectors.
    StateTooSmall,
    /// Two partitions on the same device overlap.
    Overlap,
    /// The slots' erase sizes are not multiples of one another, so no common swap page exists.
    IncompatibleSectors,
    /// For [`Strategy::Swap`]: the secondary slot must be at least one swap page larger than
    /// the primary slot (the spare page).
    NoSparePage,
    /// A partition does not fit its device ([`Layout::swap`], [`Layout::select`]).
    Partition(crate::flash::PartitionError),
}

impl core::fmt::Display for LayoutError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::StateTooSmall => f.write_str("state partition has fewer than two sectors"),
            Self::Overlap => f.write_str("partitions overlap"),
            Self::IncompatibleSectors => f.write_str("slot erase sizes have no common swap page"),
            Self::NoSparePage => f.write_str("secondary slot has no spare page"),
            Self::Partition(_) => f.write_str("partition does not fit its device"),
        }
    }
}

impl core::error::Error for LayoutError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Partition(e) => Some(e),
            _ => None,
        }
    }
}

/// Where the boot state and the two image slots live.
///
/// `state` and `a` are on the primary device, `b` on the secondary one (see
/// [`Storage`]). Built once with [`Layout::new`], which checks the geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    state: Partition,
    a: Partition,
    b: Partition,
    strategy: Strategy,
    page: u32,
}

fn overlap(x: &Partition, y: &Partition) -> bool {
    x.offset() < y.offset() + y.size() && y.offset() < x.offset() + x.size()
}

impl Layout {
    /// Validates a layout for the devices of `S`.
    ///
    /// ```
    /// # #[cfg(feature = "mock")] {
    /// use ota_client::boot::{Layout, LayoutError, Strategy};
    /// use ota_client::flash::{OneFlash, Partition};
    /// use ota_client::mock::SimFlash;
    /// let flash = SimFlash::<4, 4096>::new(256 * 1024, 0xFF);
    /// let state = Partition::new(&flash, 0, 8192, 0xFF).unwrap();
    /// let a = Partition::new(&flash, 8192, 64 * 1024, 0xFF).unwrap();
    /// let b = Partition::new(&flash, 8192 + 64 * 1024, 68 * 1024, 0xFF).unwrap();
    /// let layout = Layout::new::<OneFlash<SimFlash<4, 4096>>>(state, a, b, Strategy::Swap).unwrap();
    /// assert_eq!(layout.max_image_size(), 64 * 1024);
    /// // Without the spare page a swap layout is refused.
    /// let small_b = Partition::new(&flash, 8192 + 64 * 1024, 64 * 1024, 0xFF).unwrap();
    /// assert_eq!(Layout::new::<OneFlash<SimFlash<4, 4096>>>(state, a, small_b, Strategy::Swap), Err(LayoutError::NoSparePage));
    /// # }
    /// ```
    pub fn new<S: Storage>(
        state: Partition,
        a: Partition,
        b: Partition,
        strategy: Strategy,
    ) -> Result<Self, LayoutError> {
        if state.sectors() < 2 {
            return Err(LayoutError::StateTooSmall);
        }
        if overlap(&state, &a) || (S::ONE_DEVICE && (overlap(&state, &b) || overlap(&a, &b))) {
            return Err(LayoutError::Overlap);
        }
        let page = a.erase_size().max(b.erase_size());
        if !page.is_multiple_of(a.erase_size()) || !page.is_multiple_of(b.erase_size()) {
            return Err(LayoutError::IncompatibleSectors);
        }
        if strategy == Strategy::Swap && b.size() < a.size().saturating_add(page) {
            return Err(LayoutError::NoSparePage);
        }
        Ok(Self { state, a, b, strategy, page })
    }

    /// A [`Strategy::Swap`] layout from `(offset, length)` byte ranges: `state` and `a` on
    /// the primary device of `storage`, `b` (one swap page larger than `a`) on the secondary.
    /// For flash that erases to `0xFF` (NOR); other flash builds its partitions with
    /// [`Partition::new`] and calls [`Layout::new`]. Checks everything `new` checks, and that
    /// each range lies inside its device.
    ///
    /// ```
    /// # #[cfg(feature = "mock")] {
    /// use ota_client::boot::Layout;
    /// use ota_client::flash::OneFlash;
    /// use ota_client::mock::SimFlash;
    /// let mut storage = OneFlash(SimFlash::<4, 4096>::new(140 * 1024, 0xFF));
    /// let layout = Layout::swap(&mut storage, (0, 8192), (8192, 64 * 1024), (8192 + 64 * 1024, 68 * 1024));
    /// assert_eq!(layout.unwrap().max_image_size(), 64 * 1024);
    /// // A range past the end of the chip is refused before anything is written.
    /// assert!(Layout::swap(&mut storage, (0, 8192), (8192, 64 * 1024), (8192 + 64 * 1024, 72 * 1024)).is_err());
    /// # }
    /// ```
    pub fn swap<S: Storage>(
        storage: &mut S,
        state: (u32, u32),
        a: (u32, u32),
        b: (u32, u32),
    ) -> Result<Self, LayoutError> {
        Self::from_ranges(storage, state, a, b, Strategy::Swap)
    }

    /// A [`Strategy::Select`] layout from `(offset, length)` byte ranges, as [`Layout::swap`]
    /// builds one (the two slots of equal use; no spare page needed).
    pub fn select<S: Storage>(
        storage: &mut S,
        state: (u32, u32),
        a: (u32, u32),
        b: (u32, u32),
    ) -> Result<Self, LayoutError> {
        Self::from_ranges(storage, state, a, b, Strategy::Select)
    }

    fn from_ranges<S: Storage>(
        storage: &mut S,
        state: (u32, u32),
        a: (u32, u32),
        b: (u32, u32),
        strategy: Strategy,
    ) -> Result<Self, LayoutError> {
        let on_primary = |s: &mut S, (o, n): (u32, u32)| Partition::new(s.primary(), o, n, 0xFF);
        let state = on_primary(storage, state).map_err(LayoutError::Partition)?;
        let a = on_primary(storage, a).map_err(LayoutError::Partition)?;
        let b = Partition::new(storage.secondary(), b.0, b.1, 0xFF).map_err(LayoutError::Partition)?;
        Self::new::<S>(state, a, b, strategy)
    }

    /// The state partition (holds the Journal).
    pub fn state(&self) -> Partition {
        self.state
    }

    /// A slot's region.
    pub fn slot(&self, slot: Slot) -> SlotRegion {
        SlotRegion { slot, part: if slot == Slot::A { self.a } else { self.b } }
    }

    /// Where an image staged into `slot` lies: the whole slot, except for slot B under
    /// [`Strategy::Swap`], where it starts one swap page in, so the exchange needs no shift
    /// pass. Downloads write here and the bootloader checks the staged image here.
    ///
    /// ```
    /// # #[cfg(feature = "mock")] {
    /// use ota_client::boot::{Layout, Strategy};
    /// use ota_client::image::{Slot};
    /// use ota_client::flash::{OneFlash, Partition};
    /// use ota_client::mock::SimFlash;
    /// type Flash = SimFlash<4, 4096>;
    /// let flash = Flash::new(32 * 4096, 0xFF);
    /// let p = |o: u32, s: u32| Partition::new(&flash, o * 4096, s * 4096, 0xFF).unwrap();
    /// let layout = Layout::new::<OneFlash<Flash>>(p(0, 2), p(2, 8), p(10, 9), Strategy::Swap).unwrap();
    /// let staging = layout.staging(Slot::B);
    /// assert_eq!(staging.part.offset(), 11 * 4096);
    /// assert_eq!(staging.part.size(), layout.max_image_size());
    /// # }
    /// ```
    pub fn staging(&self, slot: Slot) -> SlotRegion {
        match (self.strategy, slot) {
            (Strategy::Swap, Slot::B) => {
                // `new` checked that B holds A and one page more.
                let part = self.b.tail(self.page).unwrap_or(self.b);
                SlotRegion { slot, part }
            }
            _ => self.slot(slot),
        }
    }

    /// The strategy.
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// The swap unit: the larger of the two slots' erase sizes.
    pub fn page(&self) -> u32 {
        self.page
    }

    /// The largest image that can be staged.
    pub fn max_image_size(&self) -> u32 {
        match self.strategy {
            Strategy::Select => self.a.size().min(self.b.size()),
            Strategy::Swap => self.a.size(),
        }
    }
}
