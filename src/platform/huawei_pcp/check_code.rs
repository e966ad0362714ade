//! The PCP check code: a CRC-16 that matches no catalogued variant.
//!
//! The table is the MSB-first CRC-16/CCITT table (polynomial 0x1021), but each byte is
//! folded in with the reflected (LSB-first) update step
//! `crc = (crc >> 8) ^ TABLE[(crc ^ byte) & 0xFF]`, starting from 0 with no final XOR.
//! It is computed over the whole frame with the two check-code bytes set to zero.

#![deny(clippy::arithmetic_side_effects)]

/// The 256-entry table, built at compile time.
pub const TABLE: [u16; 256] = build_table();

#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "evaluated at compile time: a bad index or an overflow fails the build"
)]
const fn build_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// Folds `bytes` into `crc`.
pub fn update(mut crc: u16, bytes: &[u8]) -> u16 {
    for &b in bytes {
        let index = usize::from((crc ^ u16::from(b)) & 0xFF);
        crc = (crc >> 8) ^ TABLE.get(index).copied().unwrap_or(0);
    }
    crc
}

/// The check code of a whole frame, with the check-code field (bytes 4 and 5) counted as zero.
pub fn frame_check_code(frame: &[u8]) -> u16 {
    let head = frame.get(..4).unwrap_or(frame);
    let crc = update(0, head);
    if frame.len() < 6 {
        return crc;
    }
    let crc = update(crc, &[0, 0]);
    update(crc, frame.get(6..).unwrap_or(&[]))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code: a panic is a test failure")]
mod tests {
    use super::*;

    #[test]
    fn table_is_the_msb_first_ccitt_table() {
        assert_eq!(TABLE[0], 0x0000);
        assert_eq!(TABLE[1], 0x1021);
        assert_eq!(TABLE[2], 0x2042);
        assert_eq!(TABLE[255], 0x1EF0);
    }
}
