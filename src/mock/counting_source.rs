//! A [`ChunkSource`] wrapper that counts the image bytes taken through it: how tests measure
//! what a resume fetched again.

use crate::transport::{ChunkSource, SourceError};

/// Passes fetches through to `inner` and adds up the bytes they returned.
///
/// ```
/// use ota_client::mock::{ChunkServer, CountingSource};
/// use ota_client::transport::ChunkSource;
/// let mut server = ChunkServer::new(vec![7u8; 100]);
/// let mut source = CountingSource::new(&mut server);
/// let mut buf = [0u8; 40];
/// source.fetch(0, &mut buf).unwrap();
/// assert_eq!(source.bytes, 40);
/// ```
#[derive(Debug)]
pub struct CountingSource<'a, C: ChunkSource + ?Sized> {
    /// The wrapped source.
    pub inner: &'a mut C,
    /// Bytes returned by fetches so far.
    pub bytes: u64,
}

impl<'a, C: ChunkSource + ?Sized> CountingSource<'a, C> {
    /// Wraps `inner`, starting the count at 0.
    pub fn new(inner: &'a mut C) -> Self {
        Self { inner, bytes: 0 }
    }
}

impl<C: ChunkSource + ?Sized> ChunkSource for CountingSource<'_, C> {
    fn fetch(&mut self, offset: u32, buf: &mut [u8]) -> nb::Result<usize, SourceError> {
        let n = self.inner.fetch(offset, buf)?;
        self.bytes = self.bytes.saturating_add(n as u64);
        Ok(n)
    }

    fn reset(&mut self) {
        self.inner.reset();
    }
}
