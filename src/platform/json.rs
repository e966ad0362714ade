//! A small, lenient, zero-copy JSON reader for the platform decoders.
//!
//! The platforms are loose about types: Tencent sends `percent` and `result_code` as
//! strings, Huawei and EnOS send sizes and ids either way. `serde-json-core` needs the type
//! before it reads a value (it has no `deserialize_any`), so it cannot accept "a number or a
//! string" for one field. This reader validates a whole document once (syntax, UTF-8,
//! nesting depth), then hands out [`Value`]s that borrow from the input and convert
//! leniently. It is the one JSON reader of the crate: Tencent, Huawei IoTDA, EnOS cloud and
//! EnOS Edge all decode with it; messages are encoded with `serde-json-core` (the
//! `platform::encode` helpers).
//!
//! Nothing here allocates or panics: every index is checked and nesting is bounded by
//! [`MAX_DEPTH`].
//!
//! # Duplicate keys
//!
//! A document in which any object names a member twice is refused with
//! [`DecodeError::DuplicateKey`], at every level (envelope, `params`, the offer object,
//! anything nested): parsers disagree about which of two `version`s or `url`s counts, so such
//! a message is ambiguous and no reading of it is safe. Keys are compared after their escapes
//! are resolved (`"ver\u0073ion"` is `"version"`), and [`Object::get`] compares the same way.
//!
//! The check compares keys [`KEY_WINDOW`] at a time; its bound is stated there.

#![deny(clippy::arithmetic_side_effects)]

/// Deepest nesting of objects and arrays a document may have.
pub const MAX_DEPTH: usize = 16;

/// How many keys of one object the duplicate-key check ([`DecodeError::DuplicateKey`]) holds
/// at once, as slices on the stack.
///
/// The check is bounded and allocation-free: for a payload of `n` bytes whose largest object
/// has `k` members it reads each byte at most `MAX_DEPTH · (⌈k / KEY_WINDOW⌉ + 2)` times and
/// compares each pair of keys of one object once, at a cost of at most the shorter key's
/// length: `O(n·k)` work in all.
pub const KEY_WINDOW: usize = 16;

/// Why a downlink (or, on the cloud side, an uplink) could not be decoded.
///
/// Decoding never changes any state: a caller that gets an error drops the message (or
/// answers with the platform's error code) and carries on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
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
    /// An object names the same member twice, at any level of the document (envelope,
    /// `params`, the offer, anything nested). Keys are compared after their escapes are
    /// resolved, so `"ver\u0073ion"` repeats `"version"`. Parsers disagree about which of two
    /// values counts, so the message is ambiguous and refused as a whole, never read as
    /// "first wins". The check's cost is bounded (see [`KEY_WINDOW`]).
    DuplicateKey,
}

impl core::error::Error for DecodeError {}

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
            Self::DuplicateKey => f.write_str("an object repeats a key"),
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

/// Validates `payload` as one JSON document whose top level is an object, with no object
/// anywhere in it naming a member twice ([`DecodeError::DuplicateKey`]).
pub(crate) fn parse_object(payload: &[u8]) -> Result<Object<'_>, DecodeError> {
    let obj = parse_object_with_duplicates(payload)?;
    check_unique_keys(obj.text)?;
    Ok(obj)
}

/// Validates `payload` like [`parse_object`] but lets objects repeat keys ([`Object::get`]
/// then answers the first). Only for deciding whom to tell about a message that was refused
/// (the version or request id a failure answer names); never for reading an offer.
pub(crate) fn parse_object_with_duplicates(payload: &[u8]) -> Result<Object<'_>, DecodeError> {
    match validate(payload)?.0 {
        Value::Obj(o) => Ok(o),
        _ => Err(DecodeError::NotAMessage),
    }
}

/// Validates `payload` as one JSON document: the top-level value and its text.
fn validate(payload: &[u8]) -> Result<(Value<'_>, &str), DecodeError> {
    let text = core::str::from_utf8(payload).map_err(|_| DecodeError::NotUtf8)?;
    let start = skip_ws(text, 0);
    if start >= text.len() {
        return Err(DecodeError::Empty);
    }
    let (value, end) = parse_value(text, start, 0)?;
    if skip_ws(text, end) != text.len() {
        return Err(DecodeError::Syntax);
    }
    Ok((value, text.get(start..end).ok_or(DecodeError::Syntax)?))
}

/// Refuses a validated document in which some object repeats a key.
///
/// Walks the text once, skipping strings; every `{` outside a string starts an object, whose
/// own members are compared by [`Object::check_unique_keys`] (nested objects are found by the
/// walk in turn, so no object is checked twice and nothing recurses).
fn check_unique_keys(doc: &str) -> Result<(), DecodeError> {
    let mut i = 0usize;
    while let Some(b) = byte(doc, i) {
        match b {
            b'"' => i = scan_string(doc, i)?,
            b'{' => {
                // An object nested at depth d holds at most MAX_DEPTH - d levels, so it
                // validates again from depth 0.
                if let (Value::Obj(o), _) = parse_value(doc, i, 0)? {
                    o.check_unique_keys()?;
                }
                i = ahead(i, 1);
            }
            _ => i = ahead(i, 1),
        }
    }
    Ok(())
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

    /// The value of the member called `key`, comparing keys after unescaping (`"ver\u0073ion"`
    /// is `version`). Objects from [`parse_object`] have unique keys; in one from
    /// [`parse_object_with_duplicates`] this is the first.
    pub(crate) fn get(&self, key: &str) -> Option<Value<'a>> {
        self.members().find(|(k, _)| key_is(k, key)).map(|(_, v)| v)
    }

    /// Refuses the object when two of its own members (not those of nested objects) have the
    /// same key after unescaping. Takes up to [`KEY_WINDOW`] keys, compares each with those
    /// taken before it, then every later key with the window; repeats from the first key
    /// after the window. A pair is compared once.
    fn check_unique_keys(&self) -> Result<(), DecodeError> {
        let mut rest = self.members();
        loop {
            let mut window: [&str; KEY_WINDOW] = [""; KEY_WINDOW];
            let mut filled = 0usize;
            while filled < KEY_WINDOW {
                let Some((key, _)) = rest.next() else { break };
                if window.get(..filled).unwrap_or(&[]).iter().any(|k| same_key(k, key)) {
                    return Err(DecodeError::DuplicateKey);
                }
                if let Some(slot) = window.get_mut(filled) {
                    *slot = key;
                }
                filled = ahead(filled, 1);
            }
            if filled == 0 {
                return Ok(());
            }
            let taken = window.get(..filled).unwrap_or(&[]);
            for (later, _) in rest.clone() {
                if taken.iter().any(|k| same_key(k, later)) {
                    return Err(DecodeError::DuplicateKey);
                }
            }
            if filled < KEY_WINDOW {
                return Ok(());
            }
        }
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
#[derive(Clone)]
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

/// True when the raw keys `a` and `b` (texts between the quotes, escapes unresolved) name
/// the same member.
fn same_key(a: &str, b: &str) -> bool {
    if !a.contains('\\') && !b.contains('\\') {
        return a == b;
    }
    Unescaped::new(a).eq(Unescaped::new(b))
}

/// True when the raw key `raw` is `key` once its escapes are resolved.
fn key_is(raw: &str, key: &str) -> bool {
    if !raw.contains('\\') {
        return raw == key;
    }
    Unescaped::new(raw).eq(key.chars().map(u32::from))
}

/// The code points of a raw JSON string (escapes resolved, a surrogate pair joined into one
/// code point). A lone surrogate escape stands for itself, so it equals only the same lone
/// surrogate; an escape the validator would have refused yields a value above `0x10FFFF`.
#[derive(Clone)]
struct Unescaped<'a> {
    chars: core::str::Chars<'a>,
}

/// Not a code point: what a malformed escape compares as.
const NOT_A_CHAR: u32 = 0x11_0000;

impl<'a> Unescaped<'a> {
    fn new(raw: &'a str) -> Self {
        Self { chars: raw.chars() }
    }
}

impl Iterator for Unescaped<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let c = self.chars.next()?;
        if c != '\\' {
            return Some(u32::from(c));
        }
        let code = match self.chars.next() {
            Some('b') => 0x8,
            Some('f') => 0xC,
            Some('n') => 0xA,
            Some('r') => 0xD,
            Some('t') => 0x9,
            Some(c @ ('"' | '\\' | '/')) => u32::from(c),
            Some('u') => {
                let Some(hi) = hex4(&mut self.chars) else { return Some(NOT_A_CHAR) };
                let mut look = self.chars.clone();
                let pair = if (0xD800..0xDC00).contains(&hi)
                    && look.next() == Some('\\')
                    && look.next() == Some('u')
                {
                    hex4(&mut look).and_then(|lo| surrogate_pair(hi, lo))
                } else {
                    None
                };
                match pair {
                    Some(code) => {
                        self.chars = look;
                        code
                    }
                    None => hi,
                }
            }
            Some(_) | None => NOT_A_CHAR,
        };
        Some(code)
    }
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

    #[test]
    fn repeated_keys_are_refused_at_every_level() {
        let dup = Err(DecodeError::DuplicateKey);
        assert_eq!(parse_object(br#"{"version":"1","version":"2"}"#).map(|_| ()), dup);
        assert_eq!(parse_object(br#"{"a":{"url":"x","b":1,"url":"y"}}"#).map(|_| ()), dup);
        assert_eq!(parse_object(br#"{"a":[1,{"s":1,"s":1}]}"#).map(|_| ()), dup, "same value too");
        assert_eq!(parse_object(br#"{"a":[[{"deep":{"k":0,"k":0}}]]}"#).map(|_| ()), dup);
        // Keys compared after unescaping.
        for doc in [
            r#"{"version":"1","ver\u0073ion":"2"}"#,
            r#"{"ver\u0073ion":"1","version":"2"}"#,
            r#"{"\u0076ersion":"1","versio\u006E":"2"}"#,
            r#"{"a/b":1,"a\/b":2}"#,
            r#"{"q\"":1,"q\u0022":2}"#,
            r#"{"😀":1,"\ud83d\ude00":2}"#,
            r#"{"\uD83D\uDE00":1,"\ud83d\ude00":2}"#,
            r#"{"\ud800":1,"\uD800":2}"#,
            r#"{"tab\t":1,"tab\u0009":2}"#,
        ] {
            assert_eq!(parse_object(doc.as_bytes()).map(|_| ()), dup, "{doc}");
        }
        // Not repeats: the same key in different objects, a key equal to a value, keys that
        // differ only after a surrogate, a lone surrogate next to a real character.
        for doc in [
            r#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#,
            r#"{"version":"version","x":"{\"version\":1,\"version\":2}"}"#,
            r#"{"\ud83d\ude00":1,"\ud83d\ude01":2}"#,
            r#"{"\ud83d":1,"\ud83d\ude00":2}"#,
            r#"{"a":1,"A":2,"a ":3," a":4}"#,
        ] {
            assert!(parse_object(doc.as_bytes()).is_ok(), "{doc}");
        }
        assert_eq!(parse_object(br#"{"x":1"#).map(|_| ()), Err(DecodeError::Truncated));
        // The lenient reading keeps the first, for naming a refused message only.
        let o = parse_object_with_duplicates(br#"{"version":"1","ver\u0073ion":"2"}"#).unwrap();
        assert_eq!(o.text("version"), Ok("1"));
    }

    #[test]
    fn repeats_beyond_the_key_window_are_found() {
        let keys: Vec<String> = (0..3 * KEY_WINDOW + 5).map(|i| format!("k{i}")).collect();
        let object = |keys: &[String]| {
            let members: Vec<String> = keys.iter().map(|k| format!("\"{k}\":{{\"n\":1}}")).collect();
            format!("{{{}}}", members.join(","))
        };
        assert!(parse_object(object(&keys).as_bytes()).is_ok());
        let n = keys.len();
        // Pairs inside one window, across windows, and the first with the last.
        for (a, b) in [
            (0, 1),
            (3, KEY_WINDOW - 1),
            (KEY_WINDOW - 1, KEY_WINDOW),
            (5, 2 * KEY_WINDOW + 3),
            (0, n - 1),
            (n - 2, n - 1),
        ] {
            let mut k = keys.clone();
            k[b] = k[a].clone();
            assert_eq!(
                parse_object(object(&k).as_bytes()).map(|_| ()),
                Err(DecodeError::DuplicateKey),
                "{a} {b}"
            );
            // Escaped form of the same key.
            k[b] = format!("\\u006B{}", &k[a][1..]);
            assert_eq!(
                parse_object(object(&k).as_bytes()).map(|_| ()),
                Err(DecodeError::DuplicateKey),
                "{a} {b} escaped"
            );
        }
    }

    #[test]
    fn members_are_found_by_their_unescaped_key() {
        let o = parse_object(br#"{"ver\u0073ion":"2","a\/b":3}"#).unwrap();
        assert_eq!(o.text("version"), Ok("2"));
        assert_eq!(o.int("a/b"), Ok(3));
        assert_eq!(o.get("ver\\u0073ion"), None, "the raw text is not the key");
    }

    /// A key of the small alphabet, each character written plainly or as a `\u` escape.
    fn written(key: &str, escape: &[bool]) -> String {
        key.chars()
            .zip(escape.iter().chain(core::iter::repeat(&false)))
            .map(|(c, &e)| {
                if e {
                    // Characters beyond the BMP as a surrogate pair, as JSON writes them.
                    c.encode_utf16(&mut [0u16; 2]).iter().map(|u| format!("\\u{u:04X}")).collect()
                } else {
                    c.to_string()
                }
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn the_scanner_never_panics(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse_object(&raw);
            let _ = parse_object_with_duplicates(&raw);
        }

        #[test]
        fn the_scanner_never_panics_on_json_like_text(raw in r#"[{}\[\]",:\\u0-9a-fA-F tfnrl]{0,120}"#) {
            let _ = parse_object(raw.as_bytes());
            if let Ok(o) = parse_object_with_duplicates(raw.as_bytes()) {
                for (k, _) in o.members() {
                    let _ = o.get(k);
                }
            }
        }

        /// Refused exactly when two keys of one object are the same text once unescaped,
        /// however they are written and wherever the object sits.
        #[test]
        fn repeats_are_found_exactly(
            keys in proptest::collection::vec(("[abé😀]{0,3}", proptest::collection::vec(proptest::bool::ANY, 0..3)), 0..40),
            nest in proptest::bool::ANY,
        ) {
            let members: Vec<String> =
                keys.iter().enumerate().map(|(i, (k, e))| format!("\"{}\":{i}", written(k, e))).collect();
            let inner = format!("{{{}}}", members.join(","));
            let doc = if nest { format!("{{\"outer\":[1,{inner}],\"b\":{{}}}}") } else { inner };
            let distinct: std::collections::HashSet<&String> = keys.iter().map(|(k, _)| k).collect();
            let expected = if distinct.len() == keys.len() { Ok(()) } else { Err(DecodeError::DuplicateKey) };
            proptest::prop_assert_eq!(parse_object(doc.as_bytes()).map(|_| ()), expected, "{}", doc);
        }
    }
}
