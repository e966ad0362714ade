//! Consistent Overhead Byte Stuffing: removes every 0x00 from a frame body so that 0x00 can
//! delimit frames on the wire. Overhead is one byte per 254 bytes of body, plus one.

#![deny(clippy::arithmetic_side_effects)]

/// Largest encoded size of a body of `len` bytes (without delimiters).
/// Saturates at `usize::MAX` for lengths no buffer can hold.
pub const fn max_encoded_len(len: usize) -> usize {
    len.saturating_add(len / 254).saturating_add(1)
}

/// Encodes the bytes of `input` into `out`, returning the encoded length, or `None` when
/// `out` is too small. The output contains no 0x00 byte.
pub fn encode(input: impl IntoIterator<Item = u8>, out: &mut [u8]) -> Option<usize> {
    // `code_at` is the slot of the current block's code byte, patched when the block ends.
    let mut code_at = 0usize;
    let mut write = 1usize;
    let mut code: u8 = 1;
    for byte in input {
        if byte == 0 {
            *out.get_mut(code_at)? = code;
            code_at = write;
            write = write.checked_add(1)?;
            code = 1;
        } else {
            *out.get_mut(write)? = byte;
            write = write.checked_add(1)?;
            // `code` is below 0xFF here: a block is flushed as soon as it reaches 0xFF.
            code = code.saturating_add(1);
            if code == 0xFF {
                *out.get_mut(code_at)? = code;
                code_at = write;
                write = write.checked_add(1)?;
                code = 1;
            }
        }
    }
    *out.get_mut(code_at)? = code;
    if write > out.len() {
        return None;
    }
    Some(write)
}

/// Incremental decoder state: feed it the bytes between two delimiters, one at a time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unstuffer {
    /// Data bytes left in the current block; 0 means the next byte is a code byte.
    left: u8,
    /// A zero is due before the next block (the previous block's code was below 0xFF).
    zero_due: bool,
}

/// What one encoded byte decodes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unstuffed {
    /// Nothing (a code byte that starts a block after a 0xFF block, or the first block).
    Nothing,
    /// One decoded byte.
    One(u8),
    /// A zero from the end of the previous block; the input byte was the next code byte.
    Zero,
}

impl Unstuffer {
    /// A decoder at the start of a frame.
    pub const fn new() -> Self {
        Self { left: 0, zero_due: false }
    }

    /// Resets for a new frame.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Decodes one non-zero encoded byte.
    pub fn push(&mut self, byte: u8) -> Unstuffed {
        match self.left.checked_sub(1) {
            Some(left) => {
                self.left = left;
                Unstuffed::One(byte)
            }
            None => {
                let zero = self.zero_due;
                self.left = byte.saturating_sub(1);
                self.zero_due = byte != 0xFF;
                if zero { Unstuffed::Zero } else { Unstuffed::Nothing }
            }
        }
    }

    /// True when the frame so far ends on a block boundary, i.e. it is complete if the
    /// delimiter comes now.
    pub fn at_boundary(&self) -> bool {
        self.left == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code: a panic is a test failure")]
mod tests {
    use super::*;

    fn round_trip(input: &[u8]) {
        let mut out = vec![0u8; max_encoded_len(input.len())];
        let n = encode(input.iter().copied(), &mut out).unwrap();
        assert!(!out[..n].contains(&0), "{input:?}");
        let mut u = Unstuffer::default();
        let mut back = Vec::new();
        for &b in &out[..n] {
            match u.push(b) {
                Unstuffed::Nothing => {}
                Unstuffed::One(x) => back.push(x),
                Unstuffed::Zero => back.push(0),
            }
        }
        assert!(u.at_boundary());
        assert_eq!(back, input);
    }

    #[test]
    fn known_vectors() {
        let mut out = [0u8; 16];
        assert_eq!(encode([0x00], &mut out), Some(2));
        assert_eq!(&out[..2], &[0x01, 0x01]);
        assert_eq!(encode([0x11, 0x22, 0x00, 0x33], &mut out), Some(5));
        assert_eq!(&out[..5], &[0x03, 0x11, 0x22, 0x02, 0x33]);
        assert_eq!(encode([], &mut out), Some(1));
        assert_eq!(out[0], 0x01);
        assert_eq!(encode([1, 2, 3], &mut out[..3]), None);
    }

    #[test]
    fn round_trips() {
        round_trip(&[]);
        round_trip(&[0, 0, 0]);
        let long: Vec<u8> = (0..1000u32).map(|i| (i % 255 + 1) as u8).collect();
        round_trip(&long);
        round_trip(&long[..254]);
        round_trip(&long[..253]);
        let mixed: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 256) as u8).collect();
        round_trip(&mixed);
    }
}
