//! A small, lenient, zero-copy JSON reader for the platform decoders.
//!
//! The platforms are loose about types: Tencent sends `percent` and `result_code` as
//! strings, Huawei and EnOS send sizes and ids either way. `serde-json-core` needs the type
//! before it reads a value (it has no `deserialize_any`), so it cannot accept "a number or a
//! string" for one field. This reader validates a whole document once (syntax, UTF-8,
//! nesting depth), then hands out [`Value`]s that borrow from the input and convert
//! leniently. Uplinks are still encoded with `serde-json-core`.
//!
//! Nothing here allocates or panics: every index is checked and nesting is bounded by
//! [`MAX_DEPTH`].

#![deny(clippy::arithmetic_side_effects)]

/// Deepest nesting of objects and arrays a document may have.
pub const MAX_DEPTH: usize = 16;

/// Why a downlink (or, on the cloud side, an uplink) could not be decoded.
///
/// Decoding never changes any state: a caller that gets an error drops the message (or
/// answers with the platform's error code) and carries on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DecodeError {
    /// The payload is empty or only whitespace.
    Empty,
    /// The payload is not valid UTF-8.
    NotUtf8,
    /// The document ends before it is complete (a truncated message).
    Truncated,
    /// The payload is not well-formed JSON (or has bytes after the document).
    Syntax,
    /// Objects or arrays are nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// The document is valid JSON but not of the platform's shape (not an object, no
    /// envelope, wrong topic).
    NotAMessage,
    /// A field the message needs is absent.
    MissingField(&'static str),
    /// A field is present but of an unusable type or value (not a number, negative size,
    /// malformed digest or version).
    InvalidField(&'static str),
    /// A text field is longer than the fixed buffer the decoder keeps it in.
    FieldTooLong(&'static str),
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Empty => f.write_str("empty payload"),
            Self::NotUtf8 => f.write_str("payload is not UTF-8"),
            Self::Truncated => f.write_str("truncated JSON"),
            Self::Syntax => f.write_str("malformed JSON"),
            Self::TooDeep => f.write_str("JSON nested too deeply"),
            Self::NotAMessage => f.write_str("not a message of this platform"),
            Self::MissingField(n) => write!(f, "missing field `{n}`"),
            Self::InvalidField(n) => write!(f, "invalid field `{n}`"),
            Self::FieldTooLong(n) => write!(f, "field `{n}` too long"),
        }
    }
}

/// A JSON value borrowed from a validated document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    /// A string, as its raw text between the quotes (escapes not yet resolved).
    Str(&'a str),
    /// A number, as its text.
    Num(&'a str),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An object.
    Obj(Object<'a>),
    /// An array.
    Arr(Array<'a>),
}

/// A validated object, `{` to `}` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Object<'a> {
    text: &'a str,
}

/// A validated array, `[` to `]` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Array<'a> {
    text: &'a str,
}

/// Validates `payload` as one JSON document whose top level is an object.
pub(crate) fn parse_object(payload: &[u8]) -> Result<Object<'_>, DecodeError> {
    let text = core::str::from_utf8(payload).map_err(|_| DecodeError::NotUtf8)?;
    let start = skip_ws(text, 0);
    if start >= text.len() {
        return Err(DecodeError::Empty);
    }
    let (value, end) = parse_value(text, start, 0)?;
    if skip_ws(text, end) != text.len() {
        return Err(DecodeError::Syntax);
    }
    match value {
        Value::Obj(o) => Ok(o),
        _ => Err(DecodeError::NotAMessage),
    }
}

fn byte(text: &str, i: usize) -> Option<u8> {
    text.as_bytes().get(i).copied()
}

/// The index `n` bytes after `i`. Indices are positions in a `&str`, so they stay far below
/// `usize::MAX`; saturating keeps an impossible overflow past the end, where [`byte`] and
/// `get` find nothing.
const fn ahead(i: usize, n: usize) -> usize {
    i.saturating_add(n)
}

fn skip_ws(text: &str, mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = byte(text, i) {
        i = ahead(i, 1);
    }
    i
}

/// The text between the quotes of the string spanning `start..end` (quotes included).
fn string_inner(text: &str, start: usize, end: usize) -> Option<&str> {
    text.get(ahead(start, 1)..end.checked_sub(1)?)
}

fn eof_or(text: &str, i: usize, err: DecodeError) -> DecodeError {
    if i >= text.len() { DecodeError::Truncated } else { err }
}

/// Parses the value starting at `i` (no leading whitespace), returning it and the index
/// just past it.
fn parse_value(text: &str, i: usize, depth: usize) -> Result<(Value<'_>, usize), DecodeError> {
    match byte(text, i) {
        None => Err(DecodeError::Truncated),
        Some(b'"') => {
            let end = scan_string(text, i)?;
            let inner = string_inner(text, i, end).ok_or(DecodeError::Syntax)?;
            Ok((Value::Str(inner), end))
        }
        Some(b'{') => {
            let end = scan_container(text, i, depth, b'}')?;
            Ok((Value::Obj(Object { text: text.get(i..end).ok_or(DecodeError::Syntax)? }), end))
        }
        Some(b'[') => {
            let end = scan_container(text, i, depth, b']')?;
            Ok((Value::Arr(Array { text: text.get(i..end).ok_or(DecodeError::Syntax)? }), end))
        }
        Some(b't') => literal(text, i, "true").map(|e| (Value::Bool(true), e)),
        Some(b'f') => literal(text, i, "false").map(|e| (Value::Bool(false), e)),
        Some(b'n') => literal(text, i, "null").map(|e| (Value::Null, e)),
        Some(b'-' | b'0'..=b'9') => {
            let end = scan_number(text, i)?;
            Ok((Value::Num(text.get(i..end).ok_or(DecodeError::Syntax)?), end))
        }
        Some(_) => Err(DecodeError::Syntax),
    }
}

fn literal(text: &str, i: usize, word: &str) -> Result<usize, DecodeError> {
    let end = i.checked_add(word.len()).ok_or(DecodeError::Syntax)?;
    match text.get(i..end) {
        Some(t) if t == word => Ok(end),
        Some(_) => Err(DecodeError::Syntax),
        None => {
            // Truncated only if what is there is a prefix of the word.
            let rest = text.get(i..).unwrap_or("");
            if word.starts_with(rest) { Err(DecodeError::Truncated) } else { Err(DecodeError::Syntax) }
        }
    }
}

/// Returns the index just past the closing quote of the string starting at `i`.
fn scan_string(text: &str, i: usize) -> Result<usize, DecodeError> {
    let mut j = ahead(i, 1);
    loop {
        match byte(text, j) {
            None => return Err(DecodeError::Truncated),
            Some(b'"') => return Ok(ahead(j, 1)),
            Some(b'\\') => match byte(text, ahead(j, 1)) {
                None => return Err(DecodeError::Truncated),
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j = ahead(j, 2),
                Some(b'u') => {
                    for k in 2..6 {
                        match byte(text, ahead(j, k)) {
                            None => return Err(DecodeError::Truncated),
                            Some(c) if c.is_ascii_hexdigit() => {}
                            Some(_) => return Err(DecodeError::Syntax),
                        }
                    }
                    j = ahead(j, 6);
                }
                Some(_) => return Err(DecodeError::Syntax),
            },
            Some(0..=0x1F) => return Err(DecodeError::Syntax),
            Some(_) => j = ahead(j, 1),
        }
    }
}

fn scan_digits(text: &str, mut i: usize) -> usize {
    while byte(text, i).is_some_and(|c| c.is_ascii_digit()) {
        i = ahead(i, 1);
    }
    i
}

/// Returns the index just past the number starting at `i`.
fn scan_number(text: &str, i: usize) -> Result<usize, DecodeError> {
    let mut j = i;
    if byte(text, j) == Some(b'-') {
        j = ahead(j, 1);
    }
    match byte(text, j) {
        Some(b'0') => j = ahead(j, 1),
        Some(b'1'..=b'9') => j = scan_digits(text, j),
        _ => return Err(eof_or(text, j, DecodeError::Syntax)),
    }
    if byte(text, j) == Some(b'.') {
        let first = ahead(j, 1);
        let k = scan_digits(text, first);
        if k == first {
            return Err(eof_or(text, k, DecodeError::Syntax));
        }
        j = k;
    }
    if let Some(b'e' | b'E') = byte(text, j) {
        j = ahead(j, 1);
        if let Some(b'+' | b'-') = byte(text, j) {
            j = ahead(j, 1);
        }
        let k = scan_digits(text, j);
        if k == j {
            return Err(eof_or(text, k, DecodeError::Syntax));
        }
        j = k;
    }
    Ok(j)
}

/// Validates the object or array starting at `i`; returns the index just past its end.
fn scan_container(text: &str, i: usize, depth: usize, close: u8) -> Result<usize, DecodeError> {
    if depth >= MAX_DEPTH {
        return Err(DecodeError::TooDeep);
    }
    let is_object = close == b'}';
    let mut j = skip_ws(text, ahead(i, 1));
    if byte(text, j) == Some(close) {
        return Ok(ahead(j, 1));
    }
    loop {
        if is_object {
            if byte(text, j) != Some(b'"') {
                return Err(eof_or(text, j, DecodeError::Syntax));
            }
            j = skip_ws(text, scan_string(text, j)?);
            if byte(text, j) != Some(b':') {
                return Err(eof_or(text, j, DecodeError::Syntax));
            }
            j = skip_ws(text, ahead(j, 1));
        }
        // `depth < MAX_DEPTH` was checked above.
        let (_, end) = parse_value(text, j, ahead(depth, 1))?;
        j = skip_ws(text, end);
        match byte(text, j) {
            Some(b',') => j = skip_ws(text, ahead(j, 1)),
            Some(c) if c == close => return Ok(ahead(j, 1)),
            _ => return Err(eof_or(text, j, DecodeError::Syntax)),
        }
    }
}

impl<'a> Object<'a> {
    /// The members, in document order.
    pub(crate) fn members(&self) -> Members<'a> {
        Members { text: self.text, pos: 1 }
    }

    /// The value of the first member called `key`.
    pub(crate) fn get(&self, key: &str) -> Option<Value<'a>> {
        self.members().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The member `key` as text (see [`Value::text`]), or `None` when absent or `null`.
    pub(crate) fn text_opt(&self, key: &'static str) -> Result<Option<&'a str>, DecodeError> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.text().map(Some).ok_or(DecodeError::InvalidField(key)),
        }
    }

    /// The member `key` as text; absent is an error.
    pub(crate) fn text(&self, key: &'static str) -> Result<&'a str, DecodeError> {
        self.text_opt(key)?.ok_or(DecodeError::MissingField(key))
    }

    /// The member `key` as an integer (a number or a numeric string), or `None` when absent.
    pub(crate) fn int_opt(&self, key: &'static str) -> Result<Option<i64>, DecodeError> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.int().map(Some).ok_or(DecodeError::InvalidField(key)),
        }
    }

    /// The member `key` as an integer; absent is an error.
    pub(crate) fn int(&self, key: &'static str) -> Result<i64, DecodeError> {
        self.int_opt(key)?.ok_or(DecodeError::MissingField(key))
    }

    /// The member `key` as an object; absent or another type is an error.
    pub(crate) fn object(&self, key: &'static str) -> Result<Object<'a>, DecodeError> {
        match self.get(key) {
            Some(Value::Obj(o)) => Ok(o),
            None | Some(Value::Null) => Err(DecodeError::MissingField(key)),
            Some(_) => Err(DecodeError::InvalidField(key)),
        }
    }
}

/// Iterator over an object's members: raw key text and value.
pub(crate) struct Members<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let text = self.text;
        let j = skip_ws(text, self.pos);
        if byte(text, j) != Some(b'"') {
            self.pos = text.len();
            return None;
        }
        let key_end = scan_string(text, j).ok()?;
        let key = string_inner(text, j, key_end)?;
        let v = skip_ws(text, ahead(skip_ws(text, key_end), 1));
        // Depth was checked when the document was validated.
        let (value, end) = parse_value(text, v, 0).ok()?;
        self.pos = ahead(skip_ws(text, end), 1);
        Some((key, value))
    }
}

impl<'a> Array<'a> {
    /// The elements, in document order.
    pub(crate) fn iter(&self) -> Elements<'a> {
        Elements { text: self.text, pos: 1 }
    }
}

/// Iterator over an array's elements.
pub(crate) struct Elements<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let text = self.text;
        let j = skip_ws(text, self.pos);
        match byte(text, j) {
            None | Some(b']') => {
                self.pos = text.len();
                None
            }
            Some(_) => {
                let (value, end) = parse_value(text, j, 0).ok()?;
                self.pos = ahead(skip_ws(text, end), 1);
                Some(value)
            }
        }
    }
}

impl<'a> Value<'a> {
    /// Text of a string without escapes, or the text of a number (platforms send versions
    /// and ids either way). Strings with escapes need [`unescape`].
    pub(crate) fn text(&self) -> Option<&'a str> {
        match *self {
            Value::Str(s) if !s.contains('\\') => Some(s),
            Value::Num(n) => Some(n),
            _ => None,
        }
    }

    /// An integer from a JSON integer or a string holding one (surrounding spaces allowed).
    pub(crate) fn int(&self) -> Option<i64> {
        let t = match *self {
            Value::Num(n) => n,
            Value::Str(s) => s.trim(),
            _ => return None,
        };
        parse_int(t)
    }
}

/// Parses an optionally signed decimal integer; no fraction, no exponent.
pub(crate) fn parse_int(t: &str) -> Option<i64> {
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut v: i64 = 0;
    for c in digits.bytes() {
        v = v.checked_mul(10)?.checked_add(i64::from(c.checked_sub(b'0')?))?;
    }
    if neg { v.checked_neg() } else { Some(v) }
}

/// Resolves the escapes of a raw JSON string (or copies a number's text) into `out`.
pub(crate) fn unescape_into<const N: usize>(
    value: Value<'_>,
    out: &mut heapless::String<N>,
    field: &'static str,
) -> Result<(), DecodeError> {
    out.clear();
    let raw = match value {
        Value::Str(s) => s,
        Value::Num(n) => n,
        _ => return Err(DecodeError::InvalidField(field)),
    };
    let too_long = DecodeError::FieldTooLong(field);
    let bad = DecodeError::InvalidField(field);
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        let c = if c == '\\' {
            match chars.next() {
                Some('"') => '"',
                Some('\\') => '\\',
                Some('/') => '/',
                Some('b') => '\u{8}',
                Some('f') => '\u{c}',
                Some('n') => '\n',
                Some('r') => '\r',
                Some('t') => '\t',
                Some('u') => {
                    let hi = hex4(&mut chars).ok_or(bad)?;
                    let code = if (0xD800..0xDC00).contains(&hi) {
                        if chars.next() != Some('\\') || chars.next() != Some('u') {
                            return Err(bad);
                        }
                        let lo = hex4(&mut chars).ok_or(bad)?;
                        if !(0xDC00..0xE000).contains(&lo) {
                            return Err(bad);
                        }
                        // In range by the checks above: 0x10000..=0x10FFFF.
                        surrogate_pair(hi, lo).ok_or(bad)?
                    } else {
                        hi
                    };
                    char::from_u32(code).ok_or(bad)?
                }
                _ => return Err(bad),
            }
        } else {
            c
        };
        out.push(c).map_err(|_| too_long)?;
    }
    Ok(())
}

/// The code point of a UTF-16 surrogate pair; `None` when either half is out of its range.
fn surrogate_pair(hi: u32, lo: u32) -> Option<u32> {
    let high = hi.checked_sub(0xD800).filter(|h| *h < 0x400)?;
    let low = lo.checked_sub(0xDC00).filter(|l| *l < 0x400)?;
    0x1_0000u32.checked_add(high << 10)?.checked_add(low)
}

fn hex4(chars: &mut core::str::Chars<'_>) -> Option<u32> {
    let mut v = 0u32;
    for _ in 0..4 {
        v = (v << 4) | chars.next()?.to_digit(16)?;
    }
    Some(v)
}

/// The member `key` of `obj`, unescaped into a fixed string; absent is `Ok(false)`.
pub(crate) fn string_field<const N: usize>(
    obj: &Object<'_>,
    key: &'static str,
    out: &mut heapless::String<N>,
) -> Result<bool, DecodeError> {
    match obj.get(key) {
        None | Some(Value::Null) => {
            out.clear();
            Ok(false)
        }
        Some(v) => unescape_into(v, out, key).map(|()| true),
    }
}

/// The member `key` as a [`Version`](crate::Version) (a string, or a number such as `2`).
pub(crate) fn version_field(obj: &Object<'_>, key: &'static str) -> Result<crate::Version, DecodeError> {
    let mut text: heapless::String<{ crate::version::MAX_VERSION_LEN }> = heapless::String::new();
    if !string_field(obj, key, &mut text)? {
        return Err(DecodeError::MissingField(key));
    }
    crate::Version::parse(&text).map_err(|_| DecodeError::InvalidField(key))
}

/// The member `key` as an image size: a number or numeric string in `0..=u32::MAX`.
pub(crate) fn size_field(obj: &Object<'_>, key: &'static str) -> Result<u32, DecodeError> {
    u32::try_from(obj.int(key)?).map_err(|_| DecodeError::InvalidField(key))
}

/// Builds an offer from decoded fields; the location (and token) must fit `L`.
pub(crate) fn build_offer<const L: usize>(
    version: crate::Version,
    size: u32,
    digest: crate::Digest,
    obj: &Object<'_>,
    url_key: &'static str,
    token_key: Option<&'static str>,
) -> Result<crate::Offer<L>, DecodeError> {
    let mut offer = crate::Offer::<L>::new(version, size, digest);
    if !string_field(obj, url_key, &mut offer.location)? {
        return Err(DecodeError::MissingField(url_key));
    }
    if let Some(key) = token_key {
        string_field(obj, key, &mut offer.token)?;
    }
    Ok(offer)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::{format, vec::Vec};

    #[test]
    fn validates_documents() {
        assert_eq!(parse_object(b""), Err(DecodeError::Empty));
        assert_eq!(parse_object(b"  \n"), Err(DecodeError::Empty));
        assert_eq!(parse_object(b"{\"a\":1"), Err(DecodeError::Truncated));
        assert_eq!(parse_object(b"{\"a\":\"x"), Err(DecodeError::Truncated));
        assert_eq!(parse_object(b"{\"a\":tru"), Err(DecodeError::Truncated));
        assert_eq!(parse_object(b"{\"a\":1}x"), Err(DecodeError::Syntax));
        assert_eq!(parse_object(b"{\"a\":01}"), Err(DecodeError::Syntax));
        assert_eq!(parse_object(b"{\"a\":1,}"), Err(DecodeError::Syntax));
        assert_eq!(parse_object(b"{a:1}"), Err(DecodeError::Syntax));
        assert_eq!(parse_object(b"[1,2]"), Err(DecodeError::NotAMessage));
        assert_eq!(parse_object(b"{\"a\":\"\xff\"}"), Err(DecodeError::NotUtf8));
        let deep = "[".repeat(40);
        let doc = format!("{{\"a\":{deep}");
        assert_eq!(parse_object(doc.as_bytes()), Err(DecodeError::TooDeep));
        assert!(parse_object(b" {\"a\" : [1, {\"b\":null}, -2.5e3, true] } ").is_ok());
    }

    #[test]
    fn lenient_access() {
        let o = parse_object(br#"{"n":"42","m":-7,"s":"1.0","v":2,"f":1.5,"e":"a\/b\u00e9"}"#).unwrap();
        assert_eq!(o.int("n"), Ok(42));
        assert_eq!(o.int("m"), Ok(-7));
        assert_eq!(o.text("s"), Ok("1.0"));
        assert_eq!(o.text("v"), Ok("2"));
        assert_eq!(o.int("f"), Err(DecodeError::InvalidField("f")));
        assert_eq!(o.int("x"), Err(DecodeError::MissingField("x")));
        let mut s: heapless::String<8> = heapless::String::new();
        assert_eq!(string_field(&o, "e", &mut s), Ok(true));
        assert_eq!(s.as_str(), "a/bé");
        let mut tiny: heapless::String<2> = heapless::String::new();
        assert_eq!(string_field(&o, "e", &mut tiny), Err(DecodeError::FieldTooLong("e")));
    }

    #[test]
    fn iterates_arrays_and_members() {
        let o = parse_object(br#"{"a":[{"x":1},{"x":2}],"b":{}}"#).unwrap();
        let Some(Value::Arr(a)) = o.get("a") else { panic!("no array") };
        let xs: Vec<i64> =
            a.iter().filter_map(|v| if let Value::Obj(e) = v { e.int("x").ok() } else { None }).collect();
        assert_eq!(xs, [1, 2]);
        assert_eq!(o.members().count(), 2);
    }
}
