//! Firmware versions in the forms the platforms use: `"1.0.0"`, `"v2.0.0.1"`, `"V0.9"`,
//! `"1.2.3-beta"`.
//!
//! A [`Version`] keeps the text exactly as received (platforms compare reported and target
//! versions as strings) and a parsed numeric form for ordering.

#![deny(clippy::arithmetic_side_effects)]

use core::cmp::Ordering;

/// Longest version text accepted, in bytes (Tencent allows 1..=32 characters).
pub const MAX_VERSION_LEN: usize = 32;
/// Most numeric components a version may have (`"2.0.0.1"` has four).
pub const MAX_COMPONENTS: usize = 8;

/// Why a version text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum VersionError {
    /// The text is empty.
    Empty,
    /// The text is longer than [`MAX_VERSION_LEN`] bytes.
    TooLong,
    /// The text holds a control character (a line break, a NUL…): no platform's version.
    Malformed,
}

impl core::fmt::Display for VersionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Empty => f.write_str("empty version"),
            Self::TooLong => f.write_str("version too long"),
            Self::Malformed => f.write_str("version holds a control character"),
        }
    }
}

impl core::error::Error for VersionError {}

/// A firmware version.
///
/// Any text of 1..=[`MAX_VERSION_LEN`] bytes without control characters is a version: the
/// platforms allow free text (Tencent: "1 to 32 characters") and compare reported and
/// target versions as strings. A text that starts with a number (after an optional
/// `v`/`V`) also has a numeric form, up to [`MAX_COMPONENTS`] components of `u32`; the rest
/// of the text is its suffix. A text without a numeric form (`"release-7"`, `"NB_V1.2"`) is
/// all suffix, with numeric components of zero.
///
/// Ordering compares the numeric components (missing trailing components count as zero, so
/// `"1.0"` equals `"1.0.0"`), then a version with a suffix (`"1.0-rc1"`) sorts before the
/// same version without one, and suffixes compare bytewise. Equality follows ordering;
/// [`Version::as_str`] gives the exact text for platforms that compare strings.
///
/// ```
/// use ota_client::Version;
/// let old = Version::parse("v1.9").unwrap();
/// let new = Version::parse("1.10.0").unwrap();
/// assert!(new > old);
/// assert_eq!(Version::parse("V2.0").unwrap(), Version::parse("2.0.0").unwrap());
/// assert_eq!(new.as_str(), "1.10.0");
/// ```
#[derive(Clone, Debug)]
pub struct Version {
    text: heapless::String<MAX_VERSION_LEN>,
    parts: [u32; MAX_COMPONENTS],
    /// Byte offset in `text` where the suffix starts (== len when there is none).
    suffix_at: u8,
}

impl Version {
    /// Parses a version text.
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        if text.is_empty() {
            return Err(VersionError::Empty);
        }
        if text.len() > MAX_VERSION_LEN {
            return Err(VersionError::TooLong);
        }
        if text.chars().any(char::is_control) {
            return Err(VersionError::Malformed);
        }
        let mut owned = heapless::String::new();
        owned.push_str(text).map_err(|_| VersionError::TooLong)?;
        Ok(match Self::numeric(text) {
            Some((parts, end)) => Self {
                text: owned,
                parts,
                // end <= MAX_VERSION_LEN (32) always fits in u8.
                suffix_at: u8::try_from(end).unwrap_or(0),
            },
            // Free text: all suffix.
            None => Self { text: owned, parts: [0; MAX_COMPONENTS], suffix_at: 0 },
        })
    }

    /// The numeric components of `text` and where they end, when it starts with a number
    /// (after an optional `v`/`V`) and has at most [`MAX_COMPONENTS`] of them, each a `u32`.
    fn numeric(text: &str) -> Option<([u32; MAX_COMPONENTS], usize)> {
        let bytes = text.as_bytes();
        let mut i = match bytes.first() {
            Some(b'v' | b'V') => 1,
            _ => 0,
        };
        let mut parts = [0u32; MAX_COMPONENTS];
        let mut count = 0usize;
        // `i` stays at most `text.len()`: it only steps over bytes that exist.
        loop {
            let start = i;
            let mut value: u32 = 0;
            while let Some(&b) = bytes.get(i) {
                if !b.is_ascii_digit() {
                    break;
                }
                value = value.checked_mul(10)?.checked_add(char::from(b).to_digit(10)?)?;
                i = i.saturating_add(1);
            }
            if i == start {
                return None;
            }
            *parts.get_mut(count)? = value;
            // Below `MAX_COMPONENTS`: `parts[count]` exists.
            count = count.saturating_add(1);
            match bytes.get(i) {
                Some(b'.') if bytes.get(i.saturating_add(1)).is_some_and(u8::is_ascii_digit) => {
                    i = i.saturating_add(1);
                }
                _ => break,
            }
        }
        Some((parts, i))
    }

    /// The version exactly as it was received.
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// The numeric components, padded with zeros to [`MAX_COMPONENTS`].
    pub fn components(&self) -> &[u32; MAX_COMPONENTS] {
        &self.parts
    }

    /// The text after the numeric part (`"-rc1"` in `"1.0-rc1"`), empty when there is none.
    pub fn suffix(&self) -> &str {
        self.text.get(usize::from(self.suffix_at)..).unwrap_or("")
    }

    /// True when both texts are byte-for-byte equal (what platforms check on success).
    pub fn same_text(&self, other: &Version) -> bool {
        self.text == other.text
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts).then_with(|| {
            match (self.suffix().is_empty(), other.suffix().is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.suffix().cmp(other.suffix()),
            }
        })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl core::str::FromStr for Version {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl core::fmt::Display for Version {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Version {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn parses_platform_forms() {
        assert_eq!(v("1.0.0").components()[..3], [1, 0, 0]);
        assert_eq!(v("v2.0.0.1").components()[..4], [2, 0, 0, 1]);
        assert_eq!(v("V0.9").components()[..2], [0, 9]);
        assert_eq!(v("v1.0").as_str(), "v1.0");
        assert_eq!(v("1.2.3-beta").suffix(), "-beta");
        assert_eq!(v("3").components()[0], 3);
    }

    #[test]
    fn orders_numerically() {
        assert!(v("1.10") > v("1.9"));
        assert!(v("v2.0.0.1") > v("2.0"));
        assert_eq!(v("1.0"), v("1.0.0"));
        assert!(v("1.0-rc1") < v("1.0"));
        assert!(v("1.0-rc1") < v("1.0-rc2"));
        assert!(!v("v1.0").same_text(&v("1.0")));
    }

    #[test]
    fn refuses_bad_text() {
        assert_eq!(Version::parse(""), Err(VersionError::Empty));
        assert_eq!(Version::parse("1.0\n"), Err(VersionError::Malformed));
        assert_eq!(Version::parse("a\0"), Err(VersionError::Malformed));
        assert_eq!(Version::parse("1.0.0.0.0.0.0.0-aaaaaaaaaaaaaaaaaaaaaaaaaaa"), Err(VersionError::TooLong));
    }

    #[test]
    fn free_text_is_a_version_of_its_own() {
        // Tencent allows any 1..32 characters; platforms compare the text.
        for t in ["abc", "v", ".1", "release-7", "NB_V1.2", "99999999999", "1.2.3.4.5.6.7.8.9"] {
            let x = v(t);
            assert_eq!((x.as_str(), x.suffix(), x.components()), (t, t, &[0; MAX_COMPONENTS]), "{t}");
        }
        assert_eq!(v("release-7"), v("release-7"));
        assert_ne!(v("release-7"), v("release-8"));
        assert!(v("release-7") < v("release-8"), "free texts compare bytewise");
        assert!(v("0.1") > v("release-7"), "a numeric version sorts after free text");
        assert_eq!(v("NB_V1.2").suffix(), "NB_V1.2");
    }

    proptest::proptest! {
        #[test]
        fn any_short_text_without_controls_parses(s in "[ -~]{1,32}") {
            let x = Version::parse(&s).unwrap();
            proptest::prop_assert_eq!(x.as_str(), s.as_str());
            proptest::prop_assert!(x.same_text(&Version::parse(&s).unwrap()));
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = Version::parse(&s);
        }

        #[test]
        fn ordering_is_consistent(a in "[vV]?[0-9]{1,3}(\\.[0-9]{1,3}){0,3}", b in "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}") {
            let (x, y) = (v(&a), v(&b));
            proptest::prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
            proptest::prop_assert_eq!(x == y, x.cmp(&y) == Ordering::Equal);
        }
    }
}
