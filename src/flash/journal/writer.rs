//! Streams a record into flash in write-size-aligned chunks through a small stack buffer.

use super::format::CRC32;
use crate::flash::{AccessError, Partition};
use embedded_storage::nor_flash::NorFlash;

const BUF: usize = 64;

/// Writes bytes at increasing offsets of a partition, buffering up to 64 bytes so that
/// every flash write is aligned to the write size, and keeps a running CRC-32.
pub(crate) struct RecordWriter<'a> {
    part: &'a Partition,
    at: u32,
    buf: [u8; BUF],
    fill: usize,
    chunk: usize,
    crc: crc::Digest<'static, u32>,
}

impl<'a> RecordWriter<'a> {
    /// A writer starting at `at` (write-size aligned) in `part`.
    pub(crate) fn new(part: &'a Partition, at: u32) -> Self {
        let w = part.write_size() as usize;
        // Write sizes are 1..=32 (checked by Partition), so this is a non-zero multiple of w.
        let w = w.max(1);
        let chunk = BUF.checked_div(w).unwrap_or(1).saturating_mul(w);
        Self { part, at, buf: [0; BUF], fill: 0, chunk, crc: CRC32.digest() }
    }

    /// Appends bytes that count towards the CRC.
    pub(crate) fn push<F: NorFlash>(
        &mut self,
        flash: &mut F,
        mut bytes: &[u8],
    ) -> Result<(), AccessError<F::Error>> {
        self.crc.update(bytes);
        while !bytes.is_empty() {
            let room = self.chunk.saturating_sub(self.fill);
            let n = room.min(bytes.len());
            let (now, rest) = bytes.split_at(n);
            let end = self.fill.checked_add(n).ok_or(AccessError::Bounds)?;
            self.buf.get_mut(self.fill..end).ok_or(AccessError::Bounds)?.copy_from_slice(now);
            self.fill = end;
            bytes = rest;
            if self.fill == self.chunk {
                self.flush(flash)?;
            }
        }
        Ok(())
    }

    fn flush<F: NorFlash>(&mut self, flash: &mut F) -> Result<(), AccessError<F::Error>> {
        if self.fill == 0 {
            return Ok(());
        }
        let w = self.part.write_size() as usize;
        let padded = self.fill.div_ceil(w.max(1)).checked_mul(w).ok_or(AccessError::Bounds)?;
        let erased = self.part.erased();
        self.buf.get_mut(self.fill..padded).ok_or(AccessError::Bounds)?.fill(erased);
        let data = self.buf.get(..padded).ok_or(AccessError::Bounds)?;
        self.part.write(flash, self.at, data)?;
        self.at =
            u32::try_from(padded).ok().and_then(|p| self.at.checked_add(p)).ok_or(AccessError::Bounds)?;
        self.fill = 0;
        Ok(())
    }

    /// Appends the CRC of everything pushed, pads to the write size and flushes. Returns the
    /// offset just past the record.
    pub(crate) fn finish<F: NorFlash>(mut self, flash: &mut F) -> Result<u32, AccessError<F::Error>> {
        let crc = self.crc.clone().finalize().to_le_bytes();
        self.push(flash, &crc)?;
        self.flush(flash)?;
        Ok(self.at)
    }
}
