//! A single-pass JSON validator that also finds what the decoder needs.
//!
//! The decoder never builds a tree. One pass over the payload checks the JSON grammar
//! (RFC 8259, which is what `JSON.parse` accepts), checks UTF-8 inside strings, bounds the
//! nesting depth with a bit stack (no recursion, no allocation), and on the way notes:
//!
//! * the JSON type of the top-level value (for the per-kind payload rules),
//! * for a top-level array, where its first element is and what it is (the event name), and
//!   where the elements after it start (the arguments),
//! * for binary packets, every placeholder `{"_placeholder":true,"num":N}`, each checked
//!   against the announced attachment count and recorded in a bitmap so that a number used
//!   twice or never is caught.
//!
//! Placeholder rule: an object is a placeholder when it is exactly the two members
//! `"_placeholder":true` and `"num":<digits>`, in either order (keys may be escaped). Any other
//! object that has a `"_placeholder":true` member is an error. The reference decoder treats
//! any object whose `_placeholder` is `true` as a placeholder and ignores its other members;
//! no encoder writes such objects, so this crate refuses them rather than guess.

use crate::error::{JsonError, PlaceholderError};

/// The deepest nesting a [`DecoderConfig`](crate::DecoderConfig) may ask for: the size of the
/// bit stack that tracks open containers.
pub(crate) const MAX_DEPTH_LIMIT: usize = 512;

/// The JSON type of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonType {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

impl JsonType {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            JsonType::Object => "an object",
            JsonType::Array => "an array",
            JsonType::String => "a string",
            JsonType::Number => "a number",
            JsonType::Bool => "a boolean",
            JsonType::Null => "null",
        }
    }
}

/// The first element of a top-level array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct First {
    /// Offset of its first byte (the opening quote for a string).
    pub(crate) start: usize,
    /// Offset just past its last byte.
    pub(crate) end: usize,
    pub(crate) ty: JsonType,
    /// For a string: whether it holds a backslash escape.
    pub(crate) escaped: bool,
}

/// What one pass over a JSON text found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scan {
    pub(crate) ty: JsonType,
    /// Offset just past the value (trailing whitespace excluded).
    pub(crate) end: usize,
    /// For a non-empty top-level array: its first element.
    pub(crate) first: Option<First>,
    /// For a top-level array: the offset of its second element, or of its closing bracket
    /// when it has fewer than two elements.
    pub(crate) rest: usize,
}

/// Why a scan failed; offsets are relative to the scanned text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanError {
    Json {
        offset: usize,
        error: JsonError,
    },
    TooDeep {
        offset: usize,
        max: usize,
    },
    Placeholder {
        offset: usize,
        error: PlaceholderError,
    },
}

/// Placeholder bookkeeping for a binary packet announcing `count` attachments.
#[derive(Debug)]
pub(crate) struct Placeholders<'a> {
    count: usize,
    seen: &'a mut [u64],
}

impl<'a> Placeholders<'a> {
    /// `seen` must hold at least `count` bits, all zero.
    pub(crate) fn new(count: usize, seen: &'a mut [u64]) -> Self {
        debug_assert!(seen.len() * 64 >= count && seen.iter().all(|w| *w == 0));
        Placeholders { count, seen }
    }

    /// The first attachment number no placeholder referred to.
    pub(crate) fn first_missing(&self) -> Option<usize> {
        (0..self.count).find(|&n| self.seen[n / 64] & (1 << (n % 64)) == 0)
    }

    fn mark(&mut self, num: u64, offset: usize) -> Result<(), ScanError> {
        let error = match usize::try_from(num) {
            Ok(n) if n < self.count => {
                let (word, bit) = (n / 64, 1u64 << (n % 64));
                if self.seen[word] & bit == 0 {
                    self.seen[word] |= bit;
                    return Ok(());
                }
                PlaceholderError::Repeated { num: n }
            }
            _ => PlaceholderError::OutOfRange {
                num,
                count: self.count,
            },
        };
        Err(ScanError::Placeholder { offset, error })
    }
}

/// Validates `buf` as one JSON value (optionally followed by whitespace) nested at most
/// `max_depth` deep. With `placeholders`, also checks and records binary placeholders.
pub(crate) fn scan(
    buf: &[u8],
    max_depth: usize,
    placeholders: Option<&mut Placeholders<'_>>,
) -> Result<Scan, ScanError> {
    let mut scanner = Scanner {
        buf,
        pos: 0,
        placeholders,
    };
    scanner.run(max_depth.min(MAX_DEPTH_LIMIT))
}

struct Scanner<'b, 'p, 'q> {
    buf: &'b [u8],
    pos: usize,
    placeholders: Option<&'p mut Placeholders<'q>>,
}

/// A bit per open container: 1 for an object, 0 for an array.
struct Stack([u64; MAX_DEPTH_LIMIT / 64]);

impl Stack {
    fn set(&mut self, depth: usize, object: bool) {
        let (word, bit) = (depth / 64, 1u64 << (depth % 64));
        if object {
            self.0[word] |= bit;
        } else {
            self.0[word] &= !bit;
        }
    }

    fn is_object(&self, depth: usize) -> bool {
        self.0[depth / 64] & (1u64 << (depth % 64)) != 0
    }
}

const fn json_error(offset: usize, error: JsonError) -> ScanError {
    ScanError::Json { offset, error }
}

#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Which of the two placeholder keys a key is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Placeholder,
    Num,
    Other,
}

impl<'b> Scanner<'b, '_, '_> {
    fn run(&mut self, max_depth: usize) -> Result<Scan, ScanError> {
        let mut stack = Stack([0; MAX_DEPTH_LIMIT / 64]);
        // Number of open containers; the top-level array, if any, is depth 1.
        let mut depth = 0usize;
        let mut top_ty = None;
        let mut first = None;
        let mut rest = 0usize;
        let mut elem_start = 0usize;
        let mut top_elements = 0usize;

        'value: loop {
            // Parse one value starting exactly at `pos`.
            let start = self.pos;
            if depth == 1 && !stack.is_object(0) {
                elem_start = start;
            }
            let b = self.peek()?;
            let (ty, escaped) = match b {
                b'{' | b'[' => {
                    if depth >= max_depth {
                        return Err(ScanError::TooDeep {
                            offset: start,
                            max: max_depth,
                        });
                    }
                    let object = b == b'{';
                    if top_ty.is_none() {
                        top_ty = Some(if object {
                            JsonType::Object
                        } else {
                            JsonType::Array
                        });
                    }
                    if object && self.placeholders.is_some() && self.try_placeholder()? {
                        (JsonType::Object, false)
                    } else {
                        self.pos += 1;
                        self.skip_ws();
                        let close = if object { b'}' } else { b']' };
                        if self.peek()? == close {
                            self.pos += 1;
                            if depth == 0 && !object {
                                rest = self.pos - 1;
                            }
                            (
                                if object {
                                    JsonType::Object
                                } else {
                                    JsonType::Array
                                },
                                false,
                            )
                        } else {
                            stack.set(depth, object);
                            depth += 1;
                            if object {
                                self.member_key()?;
                            }
                            continue 'value;
                        }
                    }
                }
                b'"' => (JsonType::String, self.string()?),
                b't' => (self.literal(b"true", JsonType::Bool)?, false),
                b'f' => (self.literal(b"false", JsonType::Bool)?, false),
                b'n' => (self.literal(b"null", JsonType::Null)?, false),
                b'-' | b'0'..=b'9' => {
                    self.number()?;
                    (JsonType::Number, false)
                }
                _ => return Err(json_error(start, JsonError::UnexpectedByte(b))),
            };
            if top_ty.is_none() {
                top_ty = Some(ty);
            }
            let mut completed = Some((ty, escaped));

            // A value just ended; climb out of every container it closes.
            loop {
                if depth == 1 && !stack.is_object(0) {
                    if let Some((ty, escaped)) = completed.take() {
                        top_elements += 1;
                        if top_elements == 1 {
                            first = Some(First {
                                start: elem_start,
                                end: self.pos,
                                ty,
                                escaped,
                            });
                        }
                    }
                }
                if depth == 0 {
                    break 'value;
                }
                self.skip_ws();
                let b = self.peek()?;
                let object = stack.is_object(depth - 1);
                match (b, object) {
                    (b',', _) => {
                        self.pos += 1;
                        self.skip_ws();
                        if depth == 1 && !object && top_elements == 1 {
                            rest = self.pos;
                        }
                        if object {
                            self.member_key()?;
                        }
                        continue 'value;
                    }
                    (b'}', true) | (b']', false) => {
                        if depth == 1 && !object && top_elements < 2 {
                            rest = self.pos;
                        }
                        self.pos += 1;
                        depth -= 1;
                        completed = Some((
                            if object {
                                JsonType::Object
                            } else {
                                JsonType::Array
                            },
                            false,
                        ));
                    }
                    _ => return Err(json_error(self.pos, JsonError::UnexpectedByte(b))),
                }
            }
        }

        let end = self.pos;
        self.skip_ws();
        if self.pos != self.buf.len() {
            return Err(json_error(self.pos, JsonError::TrailingCharacters));
        }
        Ok(Scan {
            ty: top_ty.expect("a value was parsed before the loop ended"),
            end,
            first,
            rest,
        })
    }

    #[inline]
    fn peek(&self) -> Result<u8, ScanError> {
        self.buf
            .get(self.pos)
            .copied()
            .ok_or(json_error(self.pos, JsonError::UnexpectedEnd))
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(&b) = self.buf.get(self.pos) {
            if !is_ws(b) {
                break;
            }
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), ScanError> {
        let b = self.peek()?;
        if b != byte {
            return Err(json_error(self.pos, JsonError::UnexpectedByte(b)));
        }
        self.pos += 1;
        Ok(())
    }

    /// Parses `"key"` `:` and the whitespace after it; `pos` is at the key's quote.
    fn member_key(&mut self) -> Result<(), ScanError> {
        let key_start = self.pos;
        if self.peek()? != b'"' {
            return Err(json_error(
                self.pos,
                JsonError::UnexpectedByte(self.buf[self.pos]),
            ));
        }
        let escaped = self.string()?;
        let key_end = self.pos;
        self.skip_ws();
        self.expect(b':')?;
        self.skip_ws();
        // A placeholder-shaped object was already taken by `try_placeholder`; any other object
        // claiming to be a placeholder is malformed.
        if self.placeholders.is_some()
            && self.buf[self.pos..].starts_with(b"true")
            && self.classify_key(key_start, key_end, escaped) == Key::Placeholder
        {
            // Report at the key: the object start is not tracked.
            return Err(ScanError::Placeholder {
                offset: key_start,
                error: PlaceholderError::Malformed,
            });
        }
        Ok(())
    }

    fn classify_key(&self, start: usize, end: usize, escaped: bool) -> Key {
        let raw = &self.buf[start + 1..end - 1];
        let eq = |target: &[u8]| {
            if escaped {
                json_str_eq_ascii(raw, target)
            } else {
                raw == target
            }
        };
        if eq(b"_placeholder") {
            Key::Placeholder
        } else if eq(b"num") {
            Key::Num
        } else {
            Key::Other
        }
    }

    /// At a `{` in a binary packet: if the object is a well-formed placeholder, consume it,
    /// check and record its number and return true. Otherwise leave `pos` unchanged and
    /// return false (errors in the text itself are reported at once).
    fn try_placeholder(&mut self) -> Result<bool, ScanError> {
        let open = self.pos;
        self.pos += 1;
        let mut seen_flag = false;
        let mut num: Option<(usize, usize)> = None;
        let mut closed = false;
        for member in 0..2 {
            self.skip_ws();
            if self.peek()? != b'"' {
                break;
            }
            let key_start = self.pos;
            let escaped = self.string()?;
            let key = self.classify_key(key_start, self.pos, escaped);
            self.skip_ws();
            if self.peek()? != b':' {
                break;
            }
            self.pos += 1;
            self.skip_ws();
            match key {
                Key::Placeholder if !seen_flag && self.buf[self.pos..].starts_with(b"true") => {
                    self.literal(b"true", JsonType::Bool)?;
                    seen_flag = true;
                }
                Key::Num if num.is_none() && matches!(self.peek()?, b'-' | b'0'..=b'9') => {
                    let start = self.pos;
                    self.number()?;
                    num = Some((start, self.pos));
                }
                _ => break,
            }
            self.skip_ws();
            let want = if member == 0 { b',' } else { b'}' };
            if self.peek()? != want {
                break;
            }
            self.pos += 1;
            closed = member == 1;
        }
        let (Some((num_start, num_end)), true, true) = (num, seen_flag, closed) else {
            self.pos = open;
            return Ok(false);
        };
        let digits = &self.buf[num_start..num_end];
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(ScanError::Placeholder {
                offset: open,
                error: PlaceholderError::NotAnInteger,
            });
        }
        let value = digits.iter().fold(0u64, |acc, d| {
            acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        });
        self.placeholders
            .as_mut()
            .expect("try_placeholder is only called with placeholder tracking on")
            .mark(value, open)?;
        Ok(true)
    }

    fn literal(&mut self, word: &'static [u8], ty: JsonType) -> Result<JsonType, ScanError> {
        for &expected in word {
            match self.buf.get(self.pos) {
                Some(&b) if b == expected => self.pos += 1,
                Some(&b) => return Err(json_error(self.pos, JsonError::UnexpectedByte(b))),
                None => return Err(json_error(self.pos, JsonError::UnexpectedEnd)),
            }
        }
        Ok(ty)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.buf.get(self.pos), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Result<(), ScanError> {
        let start = self.pos;
        let invalid = |at: usize| json_error(at, JsonError::InvalidNumber);
        if self.buf[self.pos] == b'-' {
            self.pos += 1;
        }
        match self.buf.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(invalid(start)),
        }
        if self.buf.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(invalid(start));
            }
        }
        if matches!(self.buf.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.buf.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(invalid(start));
            }
        }
        Ok(())
    }

    /// Parses a string starting at its opening quote; returns whether it holds an escape.
    fn string(&mut self) -> Result<bool, ScanError> {
        let buf = self.buf;
        let mut pos = self.pos + 1;
        let mut escaped = false;
        loop {
            pos = skip_plain(buf, pos);
            let Some(&b) = buf.get(pos) else {
                return Err(json_error(pos, JsonError::UnexpectedEnd));
            };
            match b {
                b'"' => {
                    self.pos = pos + 1;
                    return Ok(escaped);
                }
                b'\\' => {
                    escaped = true;
                    match buf.get(pos + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => pos += 2,
                        Some(b'u') => {
                            let hex = buf.get(pos + 2..pos + 6);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Err(json_error(pos, JsonError::InvalidEscape));
                            }
                            pos += 6;
                        }
                        Some(_) => return Err(json_error(pos, JsonError::InvalidEscape)),
                        None => return Err(json_error(pos + 1, JsonError::UnexpectedEnd)),
                    }
                }
                0x00..=0x1f => return Err(json_error(pos, JsonError::ControlCharacter)),
                _ => {
                    // Non-ASCII: check one UTF-8 sequence.
                    let width = match b {
                        0xc2..=0xdf => 2,
                        0xe0..=0xef => 3,
                        0xf0..=0xf4 => 4,
                        _ => return Err(json_error(pos, JsonError::InvalidUtf8)),
                    };
                    match buf.get(pos..pos + width) {
                        Some(seq) if std::str::from_utf8(seq).is_ok() => pos += width,
                        _ => return Err(json_error(pos, JsonError::InvalidUtf8)),
                    }
                }
            }
        }
    }
}

/// The high bit of each byte of `w` that is `"`, `\`, a control byte or a non-ASCII byte,
/// and perhaps of bytes above the lowest such byte (the lowest flagged byte is exact).
#[inline(always)]
fn special_bytes(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let quote = w ^ (ONES * u64::from(b'"'));
    let backslash = w ^ (ONES * u64::from(b'\\'));
    // A byte is flagged when it is zero (in `quote`/`backslash`), below 0x20 or >= 0x80.
    let special = (quote.wrapping_sub(ONES) & !quote)
        | (backslash.wrapping_sub(ONES) & !backslash)
        | w.wrapping_sub(ONES * 0x20)
        | w;
    special & HIGHS
}

/// Returns the first offset at or after `pos` holding `"`, `\`, a control byte or a non-ASCII
/// byte (or `buf.len()`), looking at eight bytes at a time.
#[inline]
pub(crate) fn skip_plain(buf: &[u8], mut pos: usize) -> usize {
    while let Some(chunk) = buf.get(pos..pos + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("the slice is 8 bytes long"));
        let special = special_bytes(w);
        if special != 0 {
            return pos + (special.trailing_zeros() / 8) as usize;
        }
        pos += 8;
    }
    while let Some(&b) = buf.get(pos) {
        if b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b) {
            break;
        }
        pos += 1;
    }
    pos
}

/// Whether `buf[start..start + len]` is ASCII holding nothing that JSON escapes. A short run
/// is checked as one word read from `buf`, the bytes after the run masked out.
#[cfg(feature = "msgpack")]
#[inline]
pub(crate) fn is_plain_at(buf: &[u8], start: usize, len: usize) -> bool {
    if len < 8 {
        if let Some(chunk) = buf.get(start..start + 8) {
            let w = u64::from_le_bytes(chunk.try_into().expect("the slice is 8 bytes long"));
            let keep = (1u64 << (len * 8)) - 1;
            // The masked-out bytes become `a`, which is plain.
            let w = (w & keep) | (0x6161_6161_6161_6161 & !keep);
            return special_bytes(w) == 0;
        }
    }
    skip_plain(&buf[start..start + len], 0) == len
}

/// Whether the JSON string contents `raw` (between the quotes, escapes undecoded) decode to the
/// ASCII text `target`. Any escape that decodes to a non-ASCII code unit cannot match.
pub(crate) fn json_str_eq_ascii(raw: &[u8], target: &[u8]) -> bool {
    let mut i = 0;
    let mut t = target.iter();
    while i < raw.len() {
        let (byte, len) = if raw[i] == b'\\' {
            match raw.get(i + 1) {
                Some(b'u') => {
                    let Some(unit) = raw.get(i + 2..i + 6).and_then(hex4) else {
                        return false;
                    };
                    if unit >= 0x80 {
                        return false;
                    }
                    (unit as u8, 6)
                }
                Some(&c) => match unescape_simple(c) {
                    Some(b) => (b, 2),
                    None => return false,
                },
                None => return false,
            }
        } else {
            (raw[i], 1)
        };
        if t.next() != Some(&byte) {
            return false;
        }
        i += len;
    }
    t.next().is_none()
}

/// The byte a one-character escape `\c` stands for.
pub(crate) fn unescape_simple(c: u8) -> Option<u8> {
    Some(match c {
        b'"' => b'"',
        b'\\' => b'\\',
        b'/' => b'/',
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        _ => return None,
    })
}

/// Four hex digits as a UTF-16 code unit.
pub(crate) fn hex4(digits: &[u8]) -> Option<u16> {
    let s = std::str::from_utf8(digits).ok()?;
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests;
