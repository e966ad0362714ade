//! Shared helpers for building topics and encoding messages into caller buffers.

/// Why a topic or message could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer is too small for the topic or message.
    BufferTooSmall,
    /// A product, device or message id is empty or holds a character MQTT topics reserve
    /// (`/`, `+`, `#`, NUL).
    InvalidId,
    /// A value the format requires is missing or out of range.
    InvalidValue,
}

impl core::error::Error for EncodeError {}

impl core::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::BufferTooSmall => "output buffer too small",
            Self::InvalidId => "id empty or holds a reserved topic character",
            Self::InvalidValue => "required value missing or out of range",
        })
    }
}

/// Checks that `id` can stand as one topic level.
pub(crate) fn check_id(id: &str) -> Result<(), EncodeError> {
    if id.is_empty() || id.contains(['/', '+', '#', '\0']) {
        return Err(EncodeError::InvalidId);
    }
    Ok(())
}

/// Writes `parts` one after another into `buf` and returns the text.
pub(crate) fn concat<'b>(parts: &[&str], buf: &'b mut [u8]) -> Result<&'b str, EncodeError> {
    let mut n = 0usize;
    for part in parts {
        let end = n.checked_add(part.len()).ok_or(EncodeError::BufferTooSmall)?;
        buf.get_mut(n..end).ok_or(EncodeError::BufferTooSmall)?.copy_from_slice(part.as_bytes());
        n = end;
    }
    let written = buf.get(..n).ok_or(EncodeError::BufferTooSmall)?;
    core::str::from_utf8(written).map_err(|_| EncodeError::BufferTooSmall)
}

/// Serialises `value` as JSON into `out`, returning the length written.
pub(crate) fn to_json<T: serde::Serialize>(value: &T, out: &mut [u8]) -> Result<usize, EncodeError> {
    serde_json_core::to_slice(value, out).map_err(|_| EncodeError::BufferTooSmall)
}

/// Formats a signed integer as decimal text (the platforms that want numbers as strings).
pub(crate) fn int_text(value: i64, buf: &mut [u8; 20]) -> &str {
    let mut tmp = [0u8; 20];
    let mut n = 0usize;
    let mut v = value.unsigned_abs();
    loop {
        if let Some(slot) = tmp.get_mut(n) {
            // v % 10 < 10 always fits a u8.
            *slot = b'0' + u8::try_from(v % 10).unwrap_or(0);
        }
        n += 1;
        v /= 10;
        if v == 0 || n >= tmp.len() {
            break;
        }
    }
    let mut len = 0usize;
    if value < 0 {
        if let Some(slot) = buf.get_mut(0) {
            *slot = b'-';
        }
        len = 1;
    }
    for i in (0..n).rev() {
        if let (Some(d), Some(slot)) = (tmp.get(i), buf.get_mut(len)) {
            *slot = *d;
            len += 1;
        }
    }
    core::str::from_utf8(buf.get(..len).unwrap_or(&[])).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_text() {
        let mut buf = [0u8; 8];
        assert_eq!(concat(&["ab", "/", "cd"], &mut buf), Ok("ab/cd"));
        assert_eq!(concat(&["abcde", "/", "cde"], &mut buf), Err(EncodeError::BufferTooSmall));
        assert_eq!(check_id("a+b"), Err(EncodeError::InvalidId));
        assert_eq!(check_id(""), Err(EncodeError::InvalidId));
        let mut t = [0u8; 20];
        assert_eq!(int_text(-5, &mut t), "-5");
        assert_eq!(int_text(0, &mut t), "0");
        assert_eq!(int_text(i64::MIN, &mut t), "-9223372036854775808");
        assert_eq!(int_text(1234, &mut t), "1234");
    }
}
