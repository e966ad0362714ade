//! On-flash layout of the journal: sector headers and records.
//!
//! ```text
//! sector:  [ header, padded to the write size ][ record ][ record ] … [ erased ]
//! header:  magic "OTAJ" (4) | format 1 (1) | 0 (3) | generation u32 LE | CRC-32 LE over the first 12 bytes
//! record:  0xA5 (1) | kind (1) | len u16 LE | seq u32 LE | payload (len) | CRC-32 LE over all before it
//!          | padding to the write size (erased value)
//! ```
//!
//! The header is written *last*, after the compacted records, so a sector counts only once
//! it is complete; the sector whose header carries the highest generation is the active one.

use crc::{CRC_32_ISO_HDLC, Crc};

/// CRC-32 (ISO-HDLC, as zlib) over headers and records.
pub(crate) const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

pub(crate) const SECTOR_MAGIC: [u8; 4] = *b"OTAJ";
pub(crate) const FORMAT: u8 = 1;
pub(crate) const SECTOR_HEADER_LEN: usize = 16;

pub(crate) const RECORD_MAGIC: u8 = 0xA5;
pub(crate) const RECORD_HEADER_LEN: usize = 8;
pub(crate) const RECORD_CRC_LEN: usize = 4;

/// Encodes a sector header for `generation`.
pub(crate) fn sector_header(generation: u32) -> [u8; SECTOR_HEADER_LEN] {
    let mut h = [0u8; SECTOR_HEADER_LEN];
    let (head, tail) = h.split_at_mut(12);
    let (magic, rest) = head.split_at_mut(4);
    magic.copy_from_slice(&SECTOR_MAGIC);
    let (fmt, gen_bytes) = rest.split_at_mut(4);
    fmt.copy_from_slice(&[FORMAT, 0, 0, 0]);
    gen_bytes.copy_from_slice(&generation.to_le_bytes());
    let crc = CRC32.checksum(head);
    tail.copy_from_slice(&crc.to_le_bytes());
    h
}

/// Decodes a sector header: the generation when it is intact.
pub(crate) fn parse_sector_header(h: &[u8; SECTOR_HEADER_LEN]) -> Option<u32> {
    let (head, tail) = h.split_at(12);
    if head.get(..4)? != SECTOR_MAGIC || head.get(4..8)? != [FORMAT, 0, 0, 0] {
        return None;
    }
    let crc = u32::from_le_bytes(tail.try_into().ok()?);
    if CRC32.checksum(head) != crc {
        return None;
    }
    Some(u32::from_le_bytes(head.get(8..12)?.try_into().ok()?))
}

/// A record header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RecordHeader {
    pub kind: u8,
    pub len: u16,
    pub seq: u32,
}

impl RecordHeader {
    pub(crate) fn encode(&self) -> [u8; RECORD_HEADER_LEN] {
        let l = self.len.to_le_bytes();
        let s = self.seq.to_le_bytes();
        [RECORD_MAGIC, self.kind, l[0], l[1], s[0], s[1], s[2], s[3]]
    }

    pub(crate) fn decode(b: &[u8; RECORD_HEADER_LEN]) -> Option<Self> {
        let [magic, kind, l0, l1, s0, s1, s2, s3] = *b;
        if magic != RECORD_MAGIC {
            return None;
        }
        Some(Self { kind, len: u16::from_le_bytes([l0, l1]), seq: u32::from_le_bytes([s0, s1, s2, s3]) })
    }

    /// Bytes the record occupies before padding (at most 12 + 65,535: no overflow).
    pub(crate) fn raw_len(&self) -> u32 {
        u32::from(self.len).saturating_add((RECORD_HEADER_LEN + RECORD_CRC_LEN) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sector_header_round_trip_and_corruption() {
        let h = sector_header(7);
        assert_eq!(parse_sector_header(&h), Some(7));
        for i in 0..SECTOR_HEADER_LEN {
            let mut bad = h;
            bad[i] ^= 0x10;
            assert_eq!(parse_sector_header(&bad), None, "flip in byte {i} undetected");
        }
        assert_eq!(parse_sector_header(&[0xFF; SECTOR_HEADER_LEN]), None);
        assert_eq!(parse_sector_header(&[0x00; SECTOR_HEADER_LEN]), None);
    }

    #[test]
    fn record_header_round_trip() {
        let r = RecordHeader { kind: 3, len: 300, seq: 0xDEAD_BEEF };
        assert_eq!(RecordHeader::decode(&r.encode()), Some(r));
        assert_eq!(RecordHeader::decode(&[0xFF; 8]), None);
        assert_eq!(r.raw_len(), 312);
    }
}
