//! Bounds-checked little-endian byte cursors for the library's hand-written record formats.
//! Every call returns `None` instead of panicking when the buffer runs out.

use crate::{JobId, UpdateId, Version};

/// Writes into a caller buffer.
pub(crate) struct ByteWriter<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> ByteWriter<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) -> Option<()> {
        let end = self.pos.checked_add(b.len())?;
        self.buf.get_mut(self.pos..end)?.copy_from_slice(b);
        self.pos = end;
        Some(())
    }

    pub(crate) fn u8(&mut self, v: u8) -> Option<()> {
        self.bytes(&[v])
    }

    pub(crate) fn u32(&mut self, v: u32) -> Option<()> {
        self.bytes(&v.to_le_bytes())
    }

    /// A version as a length byte and its text.
    pub(crate) fn version(&mut self, v: &Version) -> Option<()> {
        let t = v.as_str().as_bytes();
        self.u8(u8::try_from(t.len()).ok()?)?;
        self.bytes(t)
    }

    /// A job id as a length byte and its text.
    pub(crate) fn job(&mut self, j: &JobId) -> Option<()> {
        let t = j.as_bytes();
        self.u8(u8::try_from(t.len()).ok()?)?;
        self.bytes(t)
    }

    /// An update id: its version, then its job id.
    pub(crate) fn update(&mut self, u: &UpdateId) -> Option<()> {
        self.version(&u.version)?;
        self.job(&u.job)
    }

    pub(crate) fn len(&self) -> usize {
        self.pos
    }
}

/// Reads from a byte slice.
pub(crate) struct ByteReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> ByteReader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bytes(N)?.try_into().ok()
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    pub(crate) fn version(&mut self) -> Option<Version> {
        let n = usize::from(self.u8()?);
        let t = core::str::from_utf8(self.bytes(n)?).ok()?;
        Version::parse(t).ok()
    }

    pub(crate) fn job(&mut self) -> Option<JobId> {
        let n = usize::from(self.u8()?);
        let t = core::str::from_utf8(self.bytes(n)?).ok()?;
        let mut j = JobId::new();
        j.push_str(t).ok()?;
        Some(j)
    }

    pub(crate) fn update(&mut self) -> Option<UpdateId> {
        Some(UpdateId { version: self.version()?, job: self.job()? })
    }

    /// True when every byte was consumed.
    pub(crate) fn is_done(&self) -> bool {
        self.pos == self.buf.len()
    }
}
