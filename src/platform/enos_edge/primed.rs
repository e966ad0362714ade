//! [`Primed`]: hands the download engine the image byte the size probe already read, then
//! continues on the probe's own answer.

use crate::transport::{ChunkSource, SourceError};

/// A [`ChunkSource`] that answers a fetch at offset 0 with `held` first and fills the rest
/// of the buffer from `inner` at offset 1 (where the probe's answer stands), so the probe
/// costs no extra request.
pub(crate) struct Primed<'s, S> {
    pub(crate) inner: &'s mut S,
    pub(crate) held: &'s mut Option<u8>,
}

impl<S: ChunkSource> ChunkSource for Primed<'_, S> {
    fn fetch(&mut self, offset: u32, buf: &mut [u8]) -> nb::Result<usize, SourceError> {
        let first = self.held.take();
        let Some(byte) = first.filter(|_| offset == 0) else { return self.inner.fetch(offset, buf) };
        let Some((head, rest)) = buf.split_first_mut() else {
            *self.held = Some(byte);
            return Ok(0);
        };
        *head = byte;
        if rest.is_empty() {
            return Ok(1);
        }
        // An error here closed the answer; the next fetch (at offset 1) reopens with Range.
        match self.inner.fetch(1, rest) {
            Ok(n) => Ok(n.saturating_add(1).min(buf.len())),
            Err(_) => Ok(1),
        }
    }

    fn reset(&mut self) {
        self.inner.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Bytes {
        data: Vec<u8>,
        asked: Vec<u32>,
        fail_next: bool,
    }

    impl ChunkSource for Bytes {
        fn fetch(&mut self, offset: u32, buf: &mut [u8]) -> nb::Result<usize, SourceError> {
            self.asked.push(offset);
            if std::mem::take(&mut self.fail_next) {
                return Err(nb::Error::Other(SourceError::ConnectionLost));
            }
            let at = offset as usize;
            let n = buf.len().min(self.data.len() - at);
            buf[..n].copy_from_slice(&self.data[at..at + n]);
            Ok(n)
        }
    }

    #[test]
    fn held_byte_comes_first_then_the_stream() {
        let mut inner = Bytes { data: (0..100).collect(), asked: vec![], fail_next: false };
        let mut held = Some(0u8);
        let mut p = Primed { inner: &mut inner, held: &mut held };
        let mut buf = [0u8; 10];
        assert_eq!(p.fetch(0, &mut buf), Ok(10));
        assert_eq!(buf, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(p.fetch(10, &mut buf), Ok(10));
        assert_eq!(inner.asked, [1, 10]);
        assert_eq!(held, None);
    }

    #[test]
    fn an_error_after_the_held_byte_still_delivers_it() {
        let mut inner = Bytes { data: (0..100).collect(), asked: vec![], fail_next: true };
        let mut held = Some(0u8);
        let mut p = Primed { inner: &mut inner, held: &mut held };
        let mut buf = [9u8; 4];
        assert_eq!(p.fetch(0, &mut buf), Ok(1));
        assert_eq!(buf[0], 0);
        assert_eq!(p.fetch(0, &mut []), Ok(0));
        // A fetch elsewhere drops the held byte.
        let mut held = Some(0u8);
        let mut p = Primed { inner: &mut inner, held: &mut held };
        assert_eq!(p.fetch(5, &mut buf), Ok(4));
        assert_eq!(held, None);
    }
}
