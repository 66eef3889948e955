//! Reading a MessagePack packet's arguments straight from its frame.
//!
//! A packet that came from a frame has JSON too (written on request), and the JSON path
//! ([`Packet::args`](crate::Packet::args) on a text packet) parses such text with serde_json.
//! For a packet that came from a frame, `args` and `payload_as` read the MessagePack bytes
//! instead, with this `serde::Deserializer`, and give every type what the JSON path gives it:
//!
//! * values as the transcoder writes them and serde_json reads the text back: an integer
//!   that JavaScript holds exactly as `u64` / `i64`; a larger one, or a float, rounded to the
//!   double JavaScript reads, then visited as serde_json visits the digits JavaScript prints
//!   (an integral double below 1e21 is an integer: `2.0` visits `u64` 2, `1e20` visits
//!   `f64`); NaN and the infinities as `null`; `undefined` as `null` in an array and as no
//!   member in a map; a `Date` as its ISO string; another extension as `[type, bytes]`;
//!   numeric map keys as the names JavaScript gives them;
//! * strings borrowed from the frame where the JSON text would be borrowable (no character
//!   that JSON escapes: `decode` notes whether the data holds any such string, so that the
//!   usual data needs no second look), passed by reference otherwise, so `&str` arguments
//!   work exactly where they do with JSON. A `Date`'s string exists only in the JSON, where `&str` can
//!   borrow it, so `decode` leaves data holding a `Date` to the JSON path (the reader still
//!   reads dates, as owned strings);
//! * serde_json's nesting limit (the 128th container read fails), and its refusals: a
//!   sequence or map read only partly, a string given to a number...
//!
//! Binary differs in form, not in outcome. Where the JSON holds a placeholder, this reader
//! hands the `bin` value's bytes (a slice of the frame) to the visitor of `deserialize_any`
//! (and of `Option`, newtypes). [`Binary`](crate::Binary) and [`Value`](crate::Value) take
//! them as a `Bytes` slice of the frame, through the thread-local of
//! `binary::with_shared`, and count one claim each. Every `bin` handed to a visitor counts
//! one *reached*, as every `_placeholder` key read does (the JSON path's guard counts the
//! same keys), and more reached than claimed is
//! [`ArgsError::UnreadBinary`](crate::ArgsError::UnreadBinary): bytes never pass silently as
//! something else (a `String` would accept them). Typed requests that the JSON path answers
//! with a placeholder object (a string, bytes, a sequence, a map...) are refused outright.
//! Skipped values are not counted.

use bytes::Bytes;
use serde::de::{Deserialize, Deserializer, Error as _, Unexpected, Visitor};

mod access;
mod key;

use access::{Ext, Map, MapVariant, Seq};
use key::{Key, UnitVariant};

use super::date;
use super::decode::EXACT;
use super::read::{Head, Reader};
use crate::args::{check_all_read, ArgsVisitor};
use crate::binary::with_shared;
use crate::error::ArgsError;
use crate::jsnum;
use crate::scan::skip_plain;

type Error = serde_json::Error;

/// serde_json's nesting limit: it starts with 128 levels and fails on the level that
/// leaves none.
const JSON_DEPTH_LIMIT: usize = 128;

/// Reads the elements of the data array `data` (an EVENT's or ACK's) into `T`, skipping the
/// event name when `skip_name`. `plain`: no string of `data` is one that JSON escapes.
/// `has_binary`: the packet has attachments (`bin` values).
pub(crate) fn deserialize_args<'de, T: Deserialize<'de>>(
    data: Reader<'de>,
    frame: &'de Bytes,
    plain: bool,
    skip_name: bool,
    has_binary: bool,
) -> Result<T, ArgsError> {
    read(data, frame, plain, has_binary, |de| {
        de.deserialize_seq(ArgsVisitor::new(skip_name))
    })
}

/// Reads the whole data value `data` into `T`.
pub(crate) fn deserialize_value<'de, T: Deserialize<'de>>(
    data: Reader<'de>,
    frame: &'de Bytes,
    plain: bool,
    has_binary: bool,
) -> Result<T, ArgsError> {
    read(data, frame, plain, has_binary, |de| T::deserialize(de))
}

fn read<'de, T>(
    data: Reader<'de>,
    frame: &'de Bytes,
    plain: bool,
    has_binary: bool,
    f: impl FnOnce(&mut ValueReader<'de>) -> Result<T, Error>,
) -> Result<T, ArgsError> {
    let mut de = ValueReader {
        r: data,
        depth: 0,
        reached: 0,
        plain,
    };
    if !has_binary {
        return Ok(f(&mut de)?);
    }
    let (value, claimed) = with_shared(frame, || f(&mut de));
    let unread = de.reached.saturating_sub(claimed);
    // A type that cannot hold bytes usually refuses them: the JSON path, where it reads a
    // placeholder object instead, reports that as binary it could not read.
    let value = value.map_err(|e| match unread {
        0 => ArgsError::Json(e),
        count => ArgsError::UnreadBinary { count },
    })?;
    check_all_read(unread)?;
    Ok(value)
}

/// A cursor over one MessagePack value that [`decode`](super::decode) accepted.
struct ValueReader<'de> {
    r: Reader<'de>,
    /// Containers entered and not left.
    depth: usize,
    /// `bin` values handed to a visitor, and `_placeholder` keys read.
    reached: usize,
    /// No string is one that JSON escapes: each can be handed out borrowed without a look.
    plain: bool,
}

/// A value whose head has been read.
struct Value<'a, 'de> {
    de: &'a mut ValueReader<'de>,
    head: Head,
}

fn broken(e: impl std::fmt::Display) -> Error {
    Error::custom(format_args!("MessagePack data that decode accepted: {e}"))
}

impl<'de> ValueReader<'de> {
    /// The next value's head. The one-byte heads are read here, the others by `Reader`.
    #[inline(always)]
    fn head(&mut self) -> Result<Head, Error> {
        let pos = self.r.pos;
        let Some(&marker) = self.r.buf.get(pos) else {
            return Err(broken("unexpected end"));
        };
        let head = match marker {
            0x00..=0x7f => Head::UInt(u64::from(marker)),
            0x80..=0x8f => Head::Map(u32::from(marker & 0x0f)),
            0x90..=0x9f => Head::Array(u32::from(marker & 0x0f)),
            0xa0..=0xbf => {
                let len = usize::from(marker & 0x1f);
                if self.r.buf.len() - pos - 1 < len {
                    return Err(broken("unexpected end"));
                }
                Head::Str {
                    start: pos + 1,
                    len,
                }
            }
            0xc0 => Head::Nil,
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xe0..=0xff => Head::Int(i64::from(marker as i8)),
            _ => return self.r.head().map_err(broken),
        };
        self.r.pos = match head {
            Head::Str { start, len } => start + len,
            _ => pos + 1,
        };
        Ok(head)
    }

    #[inline]
    fn at_undefined(&self) -> bool {
        let buf = self.r.buf;
        buf.get(self.r.pos) == Some(&0xd4) && buf.get(self.r.pos + 1) == Some(&0x00)
    }

    /// Skips the rest of a value whose head was `head`.
    fn skip_rest(&mut self, head: Head) -> Result<(), Error> {
        let mut pending = match head {
            Head::Array(n) => u64::from(n),
            Head::Map(n) => 2 * u64::from(n),
            _ => 0,
        };
        while pending > 0 {
            pending -= 1;
            match self.head()? {
                Head::Array(n) => pending += u64::from(n),
                Head::Map(n) => pending += 2 * u64::from(n),
                _ => {}
            }
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth >= JSON_DEPTH_LIMIT {
            return Err(Error::custom("recursion limit exceeded"));
        }
        Ok(())
    }

    /// Map entries left after a visitor stopped: only members that JSON leaves out
    /// (`undefined` values) may remain.
    fn rest_of_map(&mut self, mut left: u32) -> Result<(), Error> {
        while left > 0 {
            left -= 1;
            self.head()?;
            if !self.at_undefined() {
                return Err(Error::custom("trailing members in a map"));
            }
            self.head()?;
        }
        Ok(())
    }

    fn seq<V: Visitor<'de>>(&mut self, n: u32, visitor: V) -> Result<V::Value, Error> {
        self.enter()?;
        let mut seq = Seq { de: self, left: n };
        let value = visitor.visit_seq(&mut seq)?;
        if seq.left > 0 {
            return Err(Error::custom("trailing elements in an array"));
        }
        self.depth -= 1;
        Ok(value)
    }

    fn map<V: Visitor<'de>>(&mut self, n: u32, visitor: V) -> Result<V::Value, Error> {
        self.enter()?;
        let mut map = Map { de: self, left: n };
        let value = visitor.visit_map(&mut map)?;
        let left = map.left;
        self.rest_of_map(left)?;
        self.depth -= 1;
        Ok(value)
    }

    fn ext<V: Visitor<'de>>(&mut self, ty: i8, bin: Head, visitor: V) -> Result<V::Value, Error> {
        self.enter()?;
        let mut seq = Ext {
            de: self,
            ty,
            bin,
            next: 0,
        };
        let value = visitor.visit_seq(&mut seq)?;
        if seq.next < 2 {
            return Err(Error::custom("trailing elements in an array"));
        }
        self.depth -= 1;
        Ok(value)
    }
}

/// Whether the JSON of `head` is `null`.
#[inline]
fn is_null(head: Head) -> bool {
    match head {
        Head::Nil | Head::Undefined => true,
        Head::Float(f) => !f.is_finite(),
        Head::Date(ms) => !date::in_range(ms),
        _ => false,
    }
}

/// Visits the number JavaScript holds as serde_json visits the text `JSON.stringify` writes.
#[inline]
fn visit_number<'de, V: Visitor<'de>>(head: Head, visitor: V) -> Result<V::Value, Error> {
    let f = match head {
        Head::UInt(n) if n <= EXACT => return visitor.visit_u64(n),
        Head::Int(n) if n >= -(EXACT as i64) => return visitor.visit_i64(n),
        // JavaScript reads `hi * 2^32 + lo`: one rounding of the exact value.
        Head::UInt(n) => n as f64,
        Head::Int(n) => n as f64,
        Head::Float(f) => f,
        _ => unreachable!("called for numbers only"),
    };
    if !f.is_finite() {
        return visitor.visit_unit();
    }
    // JavaScript prints integral numbers below 1e21 as digits (-0 as "0"), which serde_json
    // reads as an integer when one fits.
    if f.abs() <= EXACT as f64 {
        // Exact below 2^53: integral when the conversion loses nothing.
        let i = f as i64;
        if i as f64 == f {
            return match u64::try_from(i) {
                Ok(u) => visitor.visit_u64(u),
                Err(_) => visitor.visit_i64(i),
            };
        }
        return visitor.visit_f64(f);
    }
    if f.fract() == 0.0 && f.abs() < 1e21 {
        // The shortest digits, padded with zeros: `2^63` prints 9223372036854776000.
        let mut digits = Vec::with_capacity(24);
        jsnum::write_f64(&mut digits, f).expect("writing to a Vec cannot fail");
        let negative = digits.first() == Some(&b'-');
        let magnitude = std::str::from_utf8(&digits[usize::from(negative)..])
            .ok()
            .and_then(|s| s.parse::<u64>().ok());
        match (negative, magnitude) {
            (false, Some(n)) => return visitor.visit_u64(n),
            (true, Some(n)) if n <= 1 << 63 => return visitor.visit_i64((n as i64).wrapping_neg()),
            _ => {}
        }
    }
    visitor.visit_f64(f)
}

/// Whether JSON would escape a character of this (UTF-8) string.
#[inline]
pub(super) fn needs_escape(raw: &[u8]) -> bool {
    let mut i = 0;
    loop {
        i = skip_plain(raw, i);
        match raw.get(i) {
            None => return false,
            Some(&b) if b >= 0x80 => i += 1,
            Some(_) => return true,
        }
    }
}

#[inline]
fn utf8(raw: &[u8]) -> Result<&str, Error> {
    std::str::from_utf8(raw).map_err(broken)
}

/// A `Date`'s ISO string; `None` when JavaScript's `Date` would be invalid.
fn date_string(ms: i64) -> Option<String> {
    let mut out = Vec::with_capacity(32);
    date::write_json(&mut out, ms);
    let quoted = String::from_utf8(out).expect("a date is written in ASCII");
    quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .map(str::to_owned)
}

fn unexpected(head: Head) -> Unexpected<'static> {
    match head {
        Head::Nil | Head::Undefined => Unexpected::Unit,
        Head::Bool(b) => Unexpected::Bool(b),
        Head::UInt(n) => Unexpected::Unsigned(n),
        Head::Int(n) => Unexpected::Signed(n),
        Head::Float(f) if f.is_finite() => Unexpected::Float(f),
        Head::Float(_) => Unexpected::Unit,
        Head::Str { .. } | Head::Date(_) => Unexpected::Other("a string"),
        Head::Bin { .. } => Unexpected::Other("binary data"),
        Head::Array(_) | Head::Ext { .. } => Unexpected::Seq,
        Head::Map(_) => Unexpected::Map,
    }
}

impl<'de> Value<'_, 'de> {
    fn invalid<V: Visitor<'de>, T>(self, visitor: &V) -> Result<T, Error> {
        Err(Error::invalid_type(unexpected(self.head), visitor))
    }

    #[inline]
    fn str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let buf: &'de [u8] = self.de.r.buf;
        match self.head {
            Head::Str { start, len } => {
                let raw = &buf[start..start + len];
                let s = utf8(raw)?;
                if !self.de.plain && needs_escape(raw) {
                    visitor.visit_str(s)
                } else {
                    visitor.visit_borrowed_str(s)
                }
            }
            Head::Date(ms) => match date_string(ms) {
                Some(s) => visitor.visit_string(s),
                None => visitor.visit_unit(),
            },
            _ => self.invalid(&visitor),
        }
    }
}

/// `deserialize_*` methods that take any value their visitor accepts.
macro_rules! any_value {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.deserialize_any(visitor)
        }
    )*};
}

impl<'de> Deserializer<'de> for Value<'_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let buf: &'de [u8] = self.de.r.buf;
        match self.head {
            Head::Nil | Head::Undefined => visitor.visit_unit(),
            Head::Bool(b) => visitor.visit_bool(b),
            head @ (Head::UInt(_) | Head::Int(_) | Head::Float(_)) => visit_number(head, visitor),
            Head::Str { .. } | Head::Date(_) => self.str(visitor),
            Head::Bin { start, len } => {
                // Where the JSON has a placeholder object: one level deeper.
                if self.de.depth + 1 >= JSON_DEPTH_LIMIT {
                    return Err(Error::custom("recursion limit exceeded"));
                }
                self.de.reached += 1;
                visitor.visit_borrowed_bytes(&buf[start..start + len])
            }
            Head::Ext { ty, start, len } => self.de.ext(ty, Head::Bin { start, len }, visitor),
            Head::Array(n) => self.de.seq(n, visitor),
            Head::Map(n) => self.de.map(n, visitor),
        }
    }

    any_value! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_unit
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.str(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let buf: &'de [u8] = self.de.r.buf;
        match self.head {
            // serde_json hands a string's bytes; never a placeholder's.
            Head::Str { start, len } => {
                let raw = &buf[start..start + len];
                utf8(raw)?;
                if !self.de.plain && needs_escape(raw) {
                    visitor.visit_bytes(raw)
                } else {
                    visitor.visit_borrowed_bytes(raw)
                }
            }
            Head::Date(ms) => match date_string(ms) {
                Some(s) => visitor.visit_byte_buf(s.into_bytes()),
                None => self.invalid(&visitor),
            },
            Head::Array(_) | Head::Ext { .. } => self.deserialize_any(visitor),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if is_null(self.head) {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.head {
            Head::Array(_) | Head::Ext { .. } => self.deserialize_any(visitor),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.head {
            Head::Map(_) => self.deserialize_any(visitor),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.head {
            Head::Map(_) | Head::Array(_) | Head::Ext { .. } => self.deserialize_any(visitor),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.head {
            Head::Str { start, len } => {
                let key = Key {
                    head: Head::Str { start, len },
                    buf: self.de.r.buf,
                    plain: self.de.plain,
                    reached: None,
                };
                visitor.visit_enum(UnitVariant(key))
            }
            Head::Map(n) => {
                self.de.enter()?;
                let mut access = MapVariant {
                    de: self.de,
                    left: n,
                };
                let value = visitor.visit_enum(&mut access)?;
                let left = access.left;
                self.de.rest_of_map(left)?;
                self.de.depth -= 1;
                Ok(value)
            }
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.de.skip_rest(self.head)?;
        visitor.visit_unit()
    }
}

/// Reads the next value's head and hands it on.
macro_rules! read_head {
    ($($method:ident($($arg:ident: $ty:ty),*))*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Error> {
            let head = self.head()?;
            Value { de: self, head }.$method($($arg,)* visitor)
        }
    )*};
}

impl<'de> Deserializer<'de> for &mut ValueReader<'de> {
    type Error = Error;

    read_head! {
        deserialize_any() deserialize_bool() deserialize_i8() deserialize_i16()
        deserialize_i32() deserialize_i64() deserialize_i128() deserialize_u8()
        deserialize_u16() deserialize_u32() deserialize_u64() deserialize_u128()
        deserialize_f32() deserialize_f64() deserialize_char() deserialize_str()
        deserialize_string() deserialize_bytes() deserialize_byte_buf() deserialize_option()
        deserialize_unit() deserialize_unit_struct(name: &'static str)
        deserialize_newtype_struct(name: &'static str) deserialize_seq()
        deserialize_tuple(len: usize)
        deserialize_tuple_struct(name: &'static str, len: usize) deserialize_map()
        deserialize_struct(name: &'static str, fields: &'static [&'static str])
        deserialize_enum(name: &'static str, variants: &'static [&'static str])
        deserialize_identifier()
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let head = self.head()?;
        self.skip_rest(head)?;
        visitor.visit_unit()
    }
}
