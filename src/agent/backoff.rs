//! The failed-offer back-off: after an update fails, the same firmware offered again is not
//! downloaded again until a back-off that doubles with every failure has passed, so a cloud
//! (or an attacker) repeating a failing offer costs one download per back-off, not one per
//! offer. Kept in the Journal (kind [`OFFER_BACKOFF`](crate::flash::kinds::OFFER_BACKOFF)),
//! so a reboot does not reset it.
//!
//! The device has no wall clock across reboots: the record keeps the back-off's length, and
//! after a reboot the window starts again at the first offer the Agent sees, so a reboot can
//! only make it longer, never shorter.
//!
//! Record format: version (length byte + text) | size u32 (0: any size, for an image rolled
//! back at boot, whose size the boot state no longer holds) | cause code u8 | failures u8 |
//! back-off ms u32.

#![deny(clippy::arithmetic_side_effects)]

use crate::bytes::{ByteReader, ByteWriter};
use crate::{FailureCause, Version};

/// Largest encoded record.
pub(crate) const MAX_ENCODED: usize = 1 + 32 + 4 + 1 + 1 + 4;

/// The longest back-off: a day.
pub(crate) const CAP_MS: u64 = 24 * 3600 * 1000;

/// The last firmware that failed and how long it is held back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Backoff {
    pub(crate) version: Version,
    /// 0: any size.
    pub(crate) size: u32,
    pub(crate) cause: FailureCause,
    pub(crate) failures: u8,
    pub(crate) backoff_ms: u32,
    /// When the window ends in this boot's clock; `None` until the first offer after a boot.
    pub(crate) until_ms: Option<u64>,
}

impl Backoff {
    /// True when an offer of `version` with `size` bytes is this firmware.
    pub(crate) fn matches(&self, version: &Version, size: u32) -> bool {
        self.version.same_text(version) && (self.size == 0 || self.size == size)
    }

    /// The back-off after `failures` failures: `base_ms` doubled per failure after the first,
    /// at most [`CAP_MS`].
    pub(crate) fn length_ms(base_ms: u64, failures: u8) -> u32 {
        let doublings = u32::from(failures.saturating_sub(1)).min(32);
        let ms = base_ms.checked_shl(doublings).unwrap_or(u64::MAX).min(CAP_MS);
        u32::try_from(ms).unwrap_or(u32::MAX)
    }

    pub(crate) fn encode<'b>(&self, buf: &'b mut [u8; MAX_ENCODED]) -> Option<&'b [u8]> {
        let mut w = ByteWriter::new(&mut buf[..]);
        w.version(&self.version)?;
        w.u32(self.size)?;
        let code = FailureCause::ALL.iter().position(|&c| c == self.cause)?;
        w.u8(u8::try_from(code).ok()?)?;
        w.u8(self.failures)?;
        w.u32(self.backoff_ms)?;
        let n = w.len();
        buf.get(..n)
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = ByteReader::new(bytes);
        let b = Self {
            version: r.version()?,
            size: r.u32()?,
            cause: *FailureCause::ALL.get(usize::from(r.u8()?))?,
            failures: r.u8()?,
            backoff_ms: r.u32()?,
            until_ms: None,
        };
        r.is_done().then_some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_truncation() {
        let b = Backoff {
            version: Version::parse(&"1".repeat(32)).unwrap(),
            size: 7,
            cause: FailureCause::VersionMismatch,
            failures: 3,
            backoff_ms: 240_000,
            until_ms: None,
        };
        let mut buf = [0u8; MAX_ENCODED];
        let bytes = b.encode(&mut buf).unwrap().to_vec();
        assert_eq!(bytes.len(), MAX_ENCODED);
        assert_eq!(Backoff::decode(&bytes), Some(b));
        for n in 0..bytes.len() {
            assert_eq!(Backoff::decode(&bytes[..n]), None);
        }
    }

    #[test]
    fn doubles_up_to_a_day() {
        assert_eq!(Backoff::length_ms(60_000, 1), 60_000);
        assert_eq!(Backoff::length_ms(60_000, 2), 120_000);
        assert_eq!(Backoff::length_ms(60_000, 11), 61_440_000);
        assert_eq!(Backoff::length_ms(60_000, 12), CAP_MS as u32);
        assert_eq!(Backoff::length_ms(60_000, 255), CAP_MS as u32);
        assert_eq!(Backoff::length_ms(0, 9), 0);
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..60)) {
            let _ = Backoff::decode(&bytes);
        }
    }
}
