//! Reading arguments on request: [`EventName`], typed deserialization and [`RawArgs`].

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use bytes::Bytes;
use serde::de::value::SeqAccessDeserializer;
use serde::de::{Deserialize, Deserializer, IgnoredAny, SeqAccess, Visitor};

use crate::binary::with_attachments;
use crate::binary_guard::Guarded;
use crate::error::{ArgsError, DecodeError, EncodeError};
use crate::jsnum;
use crate::scan::{self, hex4, unescape_simple, JsonType, Placeholders, ScanError};

/// The name of an event: the first element of its array, a string or a number.
///
/// `Display` gives the text a Node.js server would dispatch on: the string itself, or the
/// number as JavaScript prints it (`1.0` and `1` both become `"1"`).
#[derive(Debug, Clone, PartialEq)]
pub enum EventName<'a> {
    /// A string name; borrowed from the frame unless it held escapes. Lone UTF-16 surrogates
    /// (which JSON allows) become U+FFFD.
    Str(Cow<'a, str>),
    /// A numeric name.
    Number(f64),
}

impl EventName<'_> {
    /// The name when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            EventName::Str(s) => Some(s),
            EventName::Number(_) => None,
        }
    }
}

impl PartialEq<str> for EventName<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for EventName<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl fmt::Display for EventName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventName::Str(s) => f.write_str(s),
            // `1e400` is a valid JSON number; JavaScript reads it as Infinity.
            EventName::Number(n) if n.is_infinite() => {
                f.write_str(if *n > 0.0 { "Infinity" } else { "-Infinity" })
            }
            EventName::Number(n) => {
                let mut buf = Vec::with_capacity(24);
                jsnum::write_f64(&mut buf, *n).map_err(|_| fmt::Error)?;
                f.write_str(&String::from_utf8_lossy(&buf))
            }
        }
    }
}

/// `raw` is a validated JSON string (with quotes) when `string` is `Some(escaped)`, a
/// validated JSON number otherwise.
pub(crate) fn event_name(raw: &[u8], string: Option<bool>) -> EventName<'_> {
    match string {
        Some(false) => EventName::Str(Cow::Borrowed(
            std::str::from_utf8(&raw[1..raw.len() - 1])
                .expect("the scanner checked that strings are UTF-8"),
        )),
        Some(true) => EventName::Str(Cow::Owned(unescape_lossy(&raw[1..raw.len() - 1]))),
        None => EventName::Number(
            std::str::from_utf8(raw)
                .ok()
                .and_then(|s| s.parse().ok())
                .expect("the scanner checked the JSON number grammar, a subset of Rust's"),
        ),
    }
}

/// Decodes the contents of a validated JSON string; lone surrogates become U+FFFD.
fn unescape_lossy(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    let mut pending_high: Option<u16> = None;
    while i < raw.len() {
        if raw[i] != b'\\' {
            if pending_high.take().is_some() {
                out.push(char::REPLACEMENT_CHARACTER);
            }
            let run = raw[i..]
                .iter()
                .position(|&b| b == b'\\')
                .map_or(raw.len(), |p| i + p);
            out.push_str(&String::from_utf8_lossy(&raw[i..run]));
            i = run;
            continue;
        }
        let Some(&c) = raw.get(i + 1) else { break };
        if c != b'u' {
            if pending_high.take().is_some() {
                out.push(char::REPLACEMENT_CHARACTER);
            }
            out.push(char::from(unescape_simple(c).unwrap_or(b'?')));
            i += 2;
            continue;
        }
        let unit = raw.get(i + 2..i + 6).and_then(hex4).unwrap_or(0xfffd);
        i += 6;
        match (pending_high.take(), unit) {
            (Some(high), 0xdc00..=0xdfff) => {
                let c = 0x10000 + ((u32::from(high) - 0xd800) << 10) + (u32::from(unit) - 0xdc00);
                out.push(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            (previous, 0xd800..=0xdbff) => {
                if previous.is_some() {
                    out.push(char::REPLACEMENT_CHARACTER);
                }
                pending_high = Some(unit);
            }
            (previous, unit) => {
                if previous.is_some() {
                    out.push(char::REPLACEMENT_CHARACTER);
                }
                out.push(char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
        }
    }
    if pending_high.is_some() {
        out.push(char::REPLACEMENT_CHARACTER);
    }
    out
}

/// Deserializes the elements of the JSON array `payload` into `T`, skipping the first one
/// (the event name) when `skip_name`.
pub(crate) fn deserialize_args<'de, T: Deserialize<'de>>(
    payload: &'de [u8],
    skip_name: bool,
    attachments: &[Bytes],
) -> Result<T, ArgsError> {
    let visitor = ArgsVisitor::new(skip_name);
    let mut de = serde_json::Deserializer::from_slice(payload);
    if attachments.is_empty() {
        let value = de.deserialize_seq(visitor)?;
        de.end()?;
        return Ok(value);
    }
    let (value, unread) = with_attachments(attachments, || {
        Guarded::new(&mut de).deserialize_seq(visitor)
    });
    let value = value?;
    de.end()?;
    check_all_read(unread)?;
    Ok(value)
}

/// Deserializes the whole JSON value `payload` into `T`.
pub(crate) fn deserialize_value<'de, T: Deserialize<'de>>(
    payload: &'de [u8],
    attachments: &[Bytes],
) -> Result<T, ArgsError> {
    let mut de = serde_json::Deserializer::from_slice(payload);
    if attachments.is_empty() {
        let value = T::deserialize(&mut de)?;
        de.end()?;
        return Ok(value);
    }
    let (value, unread) = with_attachments(attachments, || T::deserialize(Guarded::new(&mut de)));
    let value = value?;
    de.end()?;
    check_all_read(unread)?;
    Ok(value)
}

pub(crate) fn check_all_read(unread: usize) -> Result<(), ArgsError> {
    match unread {
        0 => Ok(()),
        count => Err(ArgsError::UnreadBinary { count }),
    }
}

/// Reads an argument array into `T`, skipping the event name first when `skip_name`.
pub(crate) struct ArgsVisitor<T> {
    skip_name: bool,
    marker: PhantomData<T>,
}

impl<T> ArgsVisitor<T> {
    pub(crate) fn new(skip_name: bool) -> Self {
        ArgsVisitor {
            skip_name,
            marker: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for ArgsVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of arguments")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        if self.skip_name {
            seq.next_element::<IgnoredAny>()?;
        }
        let value = T::deserialize(SeqAccessDeserializer::new(&mut seq))?;
        // Arguments beyond what `T` reads are ignored, as a JavaScript handler ignores them.
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(value)
    }
}

/// Arguments kept as JSON text, with their attachments: what a server forwards or echoes
/// without parsing.
///
/// The JSON is the comma-separated elements of an argument array, without its brackets;
/// placeholders in it number the attachments from 0, in order. Get one from
/// [`Packet::raw_args`](crate::Packet::raw_args) or check one with
/// [`RawArgs::from_json_array`], and encode it with
/// [`Encoder::event_raw_into`](crate::Encoder::event_raw_into) and friends.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct RawArgs {
    elements: Bytes,
    attachments: Vec<Bytes>,
}

impl RawArgs {
    /// No arguments.
    pub fn empty() -> Self {
        RawArgs::default()
    }

    pub(crate) fn from_checked(elements: Bytes, attachments: Vec<Bytes>) -> Self {
        RawArgs {
            elements,
            attachments,
        }
    }

    /// Checks `json`, a JSON array of arguments, against `attachments`: with attachments,
    /// placeholders `0..attachments.len()` must each appear exactly once; without, the
    /// array is taken as plain data. Nesting is bounded as by the default decoder.
    ///
    /// # Errors
    /// [`EncodeError::InvalidRawArgs`] when `json` is not such an array.
    pub fn from_json_array(json: Bytes, attachments: Vec<Bytes>) -> Result<Self, EncodeError> {
        let invalid = |e: DecodeError| EncodeError::InvalidRawArgs(e);
        let lead = json
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .count();
        let json = json.slice(lead..);
        let mut seen = vec![0u64; attachments.len().div_ceil(64)];
        let mut placeholders = Placeholders::new(attachments.len(), &mut seen);
        let tracking = (!attachments.is_empty()).then_some(&mut placeholders);
        let max_depth = crate::DecoderConfig::default().max_depth;
        let scan = scan::scan(&json, max_depth, tracking).map_err(|e| invalid(scan_error(e, 0)))?;
        if scan.ty != JsonType::Array {
            return Err(invalid(DecodeError::InvalidPayload {
                kind: crate::PacketKind::Ack,
                offset: 0,
                expected: "an array",
                found: scan.ty.describe(),
            }));
        }
        if let Some(index) = placeholders.first_missing() {
            return Err(invalid(DecodeError::MissingPlaceholder { index }));
        }
        let inner = json.slice(1..scan.end - 1);
        let start = inner
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .unwrap_or(inner.len());
        let end = inner
            .iter()
            .rposition(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .map_or(start, |i| i + 1);
        Ok(RawArgs {
            elements: inner.slice(start..end),
            attachments,
        })
    }

    /// The elements' JSON, without brackets (empty when there are no arguments).
    pub fn elements_json(&self) -> &[u8] {
        &self.elements
    }

    /// The attachments the placeholders refer to.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// Whether there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }
}

impl fmt::Debug for RawArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawArgs")
            .field("elements", &String::from_utf8_lossy(&self.elements))
            .field("attachments", &self.attachments.len())
            .finish()
    }
}

/// Turns a scanner error into a decode error, shifting its offset by `base`.
pub(crate) fn scan_error(e: ScanError, base: usize) -> DecodeError {
    match e {
        ScanError::Json { offset, error } => DecodeError::InvalidJson {
            offset: base + offset,
            error,
        },
        ScanError::TooDeep { offset, max } => DecodeError::TooDeep {
            offset: base + offset,
            max,
        },
        ScanError::Placeholder { offset, error } => DecodeError::BadPlaceholder {
            offset: base + offset,
            error,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_names() {
        assert_eq!(unescape_lossy(br"a\nb\u00e9\/"), "a\nbé/");
        assert_eq!(unescape_lossy(br"\ud83d\ude00!"), "\u{1F600}!");
        assert_eq!(unescape_lossy(br"\ud83dx"), "\u{FFFD}x");
        assert_eq!(unescape_lossy(br"\ude00"), "\u{FFFD}");
        assert_eq!(unescape_lossy(br"\ud83d\ud83d\ude00"), "\u{FFFD}\u{1F600}");
        assert_eq!(unescape_lossy("é\\té".as_bytes()), "é\té");
    }

    #[test]
    fn names_display_like_javascript() {
        assert_eq!(event_name(b"1.0", None).to_string(), "1");
        assert_eq!(event_name(b"-2.5e3", None).to_string(), "-2500");
        assert_eq!(event_name(b"-1e400", None).to_string(), "-Infinity");
        assert_eq!(event_name(b"\"chat\"", Some(false)), "chat");
        assert_eq!(event_name(br#""c\u0068at""#, Some(true)), "chat");
    }

    #[test]
    fn raw_args_from_json_array() {
        let raw =
            RawArgs::from_json_array(Bytes::from_static(b" [ 1 , {\"a\":2} ] "), vec![]).unwrap();
        assert_eq!(raw.elements_json(), b"1 , {\"a\":2}");
        let raw = RawArgs::from_json_array(Bytes::from_static(b"[]"), vec![]).unwrap();
        assert!(raw.is_empty());
        let bin = Bytes::from_static(b"\x01");
        let ok = RawArgs::from_json_array(
            Bytes::from_static(br#"[{"_placeholder":true,"num":0}]"#),
            vec![bin.clone()],
        );
        assert!(ok.is_ok());
        assert!(RawArgs::from_json_array(Bytes::from_static(b"[1]"), vec![bin]).is_err());
        assert!(RawArgs::from_json_array(Bytes::from_static(b"{}"), vec![]).is_err());
    }
}
