//! The page exchange behind [`Strategy::Swap`](super::Strategy::Swap), with one spare page,
//! at three writes per image byte: the download, saving the old page, installing the new one.
//!
//! Slot A holds image X in pages `0..n`. Slot B is one page larger; the download stages image
//! Y one page in, in pages `1..=n` ([`Layout::staging`](super::Layout::staging)), so B's page 0
//! is free. Installing runs `2n` steps, each "erase a destination page, copy a source page
//! into it", whose source is never overwritten before the step is done:
//!
//! ```text
//! install:  for i in 0..n:         B[i]   <- A[i]      (X[i] saved where Y[i-1] was, already installed)
//!                                  A[i]   <- B[i+1]    (Y[i] installed)
//! revert:   for i in (0..n).rev(): B[i+1] <- A[i]      (Y[i] saved where X[i+1] was, already restored)
//!                                  A[i]   <- B[i]      (X[i] restored)
//! ```
//!
//! After the install A holds Y and B holds X in pages `0..n`; the revert mirrors it and leaves
//! Y staged again in B's pages `1..=n`. Every page of either slot is written once per
//! exchange, so an update programs each image byte three times (download, save, install) and
//! erases each slot sector at most twice. No shift pass is needed, because the download
//! already put Y where the exchange reads it.
//!
//! After every step a progress record `(swap id, steps done)` is appended to the Journal;
//! after a power cut the exchange resumes by redoing the first step not recorded, which is
//! idempotent because its source is intact.

use super::error::BootError;
use super::layout::Layout;
use crate::flash::{Journal, Storage, kinds};
use crate::image::slot::{Slot, SlotRegion};

/// Progress of a swap, for a callback during long exchanges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SwapProgress {
    /// Steps done.
    pub done: u32,
    /// Steps in all (two per page).
    pub total: u32,
}

/// Steps already done for swap `swap_id`, from its progress record.
fn steps_done<S: Storage, const K: usize>(
    storage: &mut S,
    journal: &Journal<K>,
    swap_id: u32,
) -> Result<u32, BootError> {
    let mut buf = [0u8; 8];
    match journal.read(storage.primary(), kinds::SWAP_PROGRESS, &mut buf)? {
        Some(rec) => {
            let (id, step) = rec.split_at(4.min(rec.len()));
            let id = id.try_into().map(u32::from_le_bytes).ok();
            let step = step.try_into().map(u32::from_le_bytes).ok();
            Ok(if id == Some(swap_id) { step.unwrap_or(0) } else { 0 })
        }
        None => Ok(0),
    }
}

/// Which way an exchange runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// The staged image (B, pages `1..=n`) into A; the old one saved to B, pages `0..n`.
    Install,
    /// Back: the saved image (B, pages `0..n`) into A; the failed one to B, pages `1..=n`.
    Revert,
}

/// Runs (or resumes) the exchange of the first `pages` pages of slot A with slot B.
pub(crate) fn exchange<S: Storage, const K: usize>(
    layout: &Layout,
    storage: &mut S,
    journal: &mut Journal<K>,
    pages: u32,
    swap_id: u32,
    direction: Direction,
    progress: &mut dyn FnMut(SwapProgress),
) -> Result<(), BootError> {
    let total = pages.saturating_mul(2);
    let start = steps_done(storage, journal, swap_id)?.min(total);
    let (a, b) = (layout.slot(Slot::A), layout.slot(Slot::B));
    let page = layout.page();
    for step in start..total {
        let save = step.is_multiple_of(2);
        let (src, src_page, dst, dst_page) = match direction {
            Direction::Install => {
                let i = step / 2;
                if save { (a, i, b, i) } else { (b, i + 1, a, i) }
            }
            Direction::Revert => {
                let i = pages - 1 - step / 2;
                if save { (a, i, b, i + 1) } else { (b, i, a, i) }
            }
        };
        copy_page(storage, page, src, src_page, dst, dst_page)?;
        let mut rec = [0u8; 8];
        let (id, done) = rec.split_at_mut(4);
        id.copy_from_slice(&swap_id.to_le_bytes());
        done.copy_from_slice(&(step + 1).to_le_bytes());
        journal.write(storage.primary(), kinds::SWAP_PROGRESS, &rec)?;
        progress(SwapProgress { done: step + 1, total });
    }
    Ok(())
}

/// Erases page `dst_page` of `dst` and copies page `src_page` of `src` into it. Pieces that
/// read as erased are not programmed (the destination is already erased there).
fn copy_page<S: Storage>(
    storage: &mut S,
    page: u32,
    src: SlotRegion,
    src_page: u32,
    dst: SlotRegion,
    dst_page: u32,
) -> Result<(), BootError> {
    let dst_erase = dst.part.erase_size();
    let first = dst_page.checked_mul(page / dst_erase).ok_or(BootError::ImageTooLarge)?;
    for s in first..first + page / dst_erase {
        dst.erase_sector(storage, s)?;
    }
    let mut buf = [0u8; 256];
    let w = dst.part.write_size() as usize;
    let piece = (buf.len() / w.max(1)) * w.max(1);
    let chunk = buf.get_mut(..piece).ok_or(BootError::ImageTooLarge)?;
    let (src_base, dst_base) = (src_page * page, dst_page * page);
    let mut at = 0u32;
    while at < page {
        let n = (page - at).min(piece as u32) as usize;
        let c = chunk.get_mut(..n).ok_or(BootError::ImageTooLarge)?;
        src.read(storage, src_base + at, c)?;
        let erased = dst.part.erased();
        if c.iter().any(|&x| x != erased) {
            dst.write(storage, dst_base + at, c)?;
        }
        at += n as u32;
    }
    Ok(())
}
