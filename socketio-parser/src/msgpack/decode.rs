//! MessagePack frame to [`Packet`]: the packet map read, its data checked as the JSON text
//! `JSON.stringify` would write for what notepack decodes, binary values turned into
//! placeholders and attachments.
//!
//! The JSON itself is written only when something asks for it ([`Data::json`]): the
//! arguments are read from the MessagePack. One converter does both jobs, so that what
//! `decode` accepts and what it would have written cannot drift apart. It checks every rule
//! while writing into an [`Out`]: a `Vec` (the JSON), or [`Unwritten`] (nothing: the checks
//! only). The size limit applies to the JSON; `decode` writes nothing only when the frame is
//! too small for its JSON to reach the limit (see [`json_fits`]), and writes the JSON while
//! checking otherwise, exactly as it always did.

use bytes::Bytes;

use super::data::Data;
use super::date;
use super::de::needs_escape;
use super::read::{error, Head, Reader};
use crate::ack_id::AckId;
use crate::config::DecoderConfig;
use crate::decoder::RESERVED_EVENTS;
use crate::error::{DecodeError, MsgpackError};
use crate::jsnum;
use crate::namespace::Namespace;
use crate::packet::{Json, NameSpan, Packet, PacketKind, Payload};
use crate::scan::{is_plain_at, skip_plain, MAX_DEPTH_LIMIT};

/// Integers at most this large print the same as their double.
pub(super) const EXACT: u64 = 1 << 53;

/// What one converted value was, for the payload rules and the event name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    /// `undefined`: nothing written (the caller writes `null` or drops the key).
    Undefined,
    Null,
    Bool,
    /// A number; `false` when it was NaN or infinite (written `null`).
    Number(bool),
    /// A string; `true` when its JSON holds escapes.
    Str(bool),
    /// A `Date`, written as its ISO string (or `null`).
    Date,
    Binary,
    /// Another extension, written `[type, placeholder]`.
    Ext,
    Array,
    Map,
}

impl Written {
    fn describe(self) -> &'static str {
        match self {
            Written::Undefined => "no payload",
            Written::Null => "null",
            Written::Bool => "a boolean",
            Written::Number(_) => "a number",
            Written::Str(_) => "a string",
            Written::Date => "a date",
            Written::Binary => "binary data",
            Written::Ext => "an extension value",
            Written::Array => "an array",
            Written::Map => "an object",
        }
    }
}

/// Where the first two elements of the data array went, when the data is an array.
#[derive(Debug, Default, Clone, Copy)]
struct Elements {
    /// The first element: its frame offset, JSON span and kind.
    first: Option<(usize, usize, usize, Written)>,
    /// Offset in the JSON of the second element, or of the closing bracket.
    rest: usize,
}

/// Where the converter's JSON goes.
pub(super) trait Out {
    /// The JSON written so far, when it is being written.
    fn json(&mut self) -> Option<&mut Vec<u8>>;
    /// Its length; 0 when nothing is written.
    fn len(&self) -> usize;
    /// Drops what was written after `len`.
    fn truncate(&mut self, len: usize);
    /// The JSON, when it was written.
    fn finish(self) -> Option<Bytes>;
}

impl Out for Vec<u8> {
    #[inline(always)]
    fn json(&mut self) -> Option<&mut Vec<u8>> {
        Some(self)
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn truncate(&mut self, len: usize) {
        Vec::truncate(self, len);
    }
    fn finish(self) -> Option<Bytes> {
        Some(Bytes::from(self))
    }
}

/// No JSON: the converter only checks the data.
pub(super) struct Unwritten;

impl Out for Unwritten {
    #[inline(always)]
    fn json(&mut self) -> Option<&mut Vec<u8>> {
        None
    }
    fn len(&self) -> usize {
        0
    }
    fn truncate(&mut self, _len: usize) {}
    fn finish(self) -> Option<Bytes> {
        None
    }
}

/// Appends to the JSON when there is one.
macro_rules! put {
    ($out:expr, $bytes:expr) => {
        if let Some(json) = $out.json() {
            json.extend_from_slice($bytes);
        }
    };
}

struct Converter<'a, O> {
    frame: &'a Bytes,
    r: Reader<'a>,
    out: O,
    /// Binary values met so far: the next placeholder's number.
    attachment_count: usize,
    attachment_bytes: usize,
    max_attachments: usize,
    max_depth: usize,
    max_size: usize,
    /// Whether the data holds a `Date`: its ISO string exists only in the JSON.
    has_date: bool,
    /// Whether a string or key of the data is one that JSON escapes.
    escapes: bool,
}

/// Each byte of a frame adds at most this much to the JSON of its data: a number key
/// (`127`, one byte, becomes `,"127":`). A string byte becomes at most `\u00xx`, a header
/// byte at most `null,` or the brackets of an empty container.
const JSON_PER_BYTE: usize = 8;

/// What a binary value adds to the JSON beside its bytes, at most:
/// `[-128,{"_placeholder":true,"num":18446744073709551615}],`.
const JSON_PER_ATTACHMENT: usize = 64;

/// Whether the JSON of any frame of `len` bytes, plus its attachments, stays within
/// `max_packet_size`: then the size need not be measured while decoding. Every binary value
/// takes at least two bytes of the frame.
fn json_fits(len: usize, config: &DecoderConfig) -> bool {
    let attachments = config.max_attachments.min(len / 2);
    len.checked_mul(JSON_PER_BYTE)
        .zip(attachments.checked_mul(JSON_PER_ATTACHMENT))
        .and_then(|(a, b)| a.checked_add(b))
        .is_some_and(|bound| bound <= config.max_packet_size)
}

pub(crate) fn decode(frame: Bytes, config: &DecoderConfig) -> Result<Packet, DecodeError> {
    if frame.len() > config.max_packet_size {
        return Err(DecodeError::PacketTooLarge {
            size: frame.len(),
            max: config.max_packet_size,
        });
    }
    if json_fits(frame.len(), config) {
        return decode_into(frame, config, Unwritten);
    }
    // The JSON is usually a little longer than the MessagePack, unless binary data takes
    // most of the frame: a large frame's JSON grows as it is written.
    let out = Vec::with_capacity((frame.len() + frame.len() / 4 + 16).min(4096));
    decode_into(frame, config, out)
}

/// Decodes `frame`, writing the JSON of its data into `out` (or not, with [`Unwritten`]).
pub(super) fn decode_into<O: Out>(
    frame: Bytes,
    config: &DecoderConfig,
    out: O,
) -> Result<Packet, DecodeError> {
    let mut c = Converter {
        frame: &frame,
        r: Reader::new(&frame),
        out,
        attachment_count: 0,
        attachment_bytes: 0,
        max_attachments: config.max_attachments,
        max_depth: config.max_depth.min(MAX_DEPTH_LIMIT),
        max_size: config.max_packet_size,
        has_date: false,
        escapes: false,
    };
    let Head::Map(entries) = c.r.head()? else {
        return Err(error(0, MsgpackError::NotAMap));
    };

    let mut kind = None;
    let mut nsp = None;
    let mut ack = None;
    let mut data: Option<(usize, Written, Elements)> = None;
    let mut data_end = 0;
    let mut seen = [false; 4];
    for _ in 0..entries {
        let key_at = c.r.pos;
        let key = match c.r.head()? {
            Head::Str { start, len } => match &frame[start..start + len] {
                b"type" => Some(0),
                b"nsp" => Some(1),
                b"data" => Some(2),
                b"id" => Some(3),
                _ => None,
            },
            Head::UInt(_) | Head::Int(_) | Head::Float(_) => None,
            _ => return Err(error(key_at, MsgpackError::InvalidMapKey)),
        };
        let Some(key) = key else {
            c.skip(1)?;
            continue;
        };
        if std::mem::replace(&mut seen[key], true) {
            return Err(error(key_at, MsgpackError::RepeatedKey));
        }
        let at = c.r.pos;
        match key {
            0 => kind = c.packet_type(at)?,
            1 => nsp = c.namespace(at)?,
            2 => {
                let mut elements = Elements::default();
                let written = c.value(1, Some(&mut elements))?;
                if written != Written::Undefined {
                    data = Some((at, written, elements));
                    data_end = c.r.pos;
                }
            }
            _ => ack = c.ack_id(at)?,
        }
    }
    if c.r.pos != frame.len() {
        return Err(error(c.r.pos, MsgpackError::TrailingBytes));
    }
    let kind = kind.ok_or(error(0, MsgpackError::InvalidType))?;
    let nsp = nsp.ok_or(error(0, MsgpackError::InvalidNamespace("missing")))?;
    let (name, rest) = check_data(kind, data, &frame)?;

    let binary = c.attachment_count > 0;
    let kind = match kind {
        PacketKind::Event if binary => PacketKind::BinaryEvent,
        PacketKind::Ack if binary => PacketKind::BinaryAck,
        PacketKind::Event | PacketKind::Ack => kind,
        _ if binary => {
            let at = data.map_or(0, |(at, _, _)| at);
            return Err(error(at, MsgpackError::BinaryNotAllowed));
        }
        _ => kind,
    };
    let (has_date, plain, binary) = (c.has_date, !c.escapes, c.attachment_count);
    let text = c.out.finish();
    let mut attachments = Vec::new();
    let payload = match data {
        None => Payload::Json(Json::default()),
        Some((at, _, _)) => {
            // The frame itself becomes the data: no reference count to take.
            let json = text.map(|text| Json {
                text: Some(text),
                name,
                rest,
            });
            let mut data = Data::new(frame, (at, data_end), json, plain, binary);
            if has_date {
                // A `Date`'s string exists only in the JSON, where the JSON path hands it out
                // borrowed: such arguments are read from the JSON.
                attachments = data.take_attachments();
                Payload::Json(data.json(kind).clone())
            } else {
                // Arguments are read from the MessagePack itself (see `de`).
                Payload::Msgpack(data)
            }
        }
    };
    Ok(Packet {
        kind,
        nsp,
        ack,
        payload,
        attachments,
    })
}

/// The JSON of the data value at `r` in `frame`, which [`decode`] accepted for a packet of
/// kind `kind`.
pub(super) fn data_json(frame: &Bytes, r: Reader<'_>, kind: PacketKind) -> Json {
    let len = r.buf.len() - r.pos;
    let mut c = Converter {
        frame,
        r,
        out: Vec::with_capacity((len + len / 4 + 16).min(4096)),
        attachment_count: 0,
        attachment_bytes: 0,
        // Already checked.
        max_attachments: usize::MAX,
        max_depth: usize::MAX,
        max_size: usize::MAX,
        has_date: false,
        escapes: false,
    };
    let mut elements = Elements::default();
    let written = c
        .value(1, Some(&mut elements))
        .expect("decode accepted this data, with limits at least as tight");
    let (name, rest) = spans(kind, written, elements);
    Json {
        text: Some(Bytes::from(c.out)),
        name,
        rest,
    }
}

/// Where the event name and the arguments are in the JSON of data that passed the rules of
/// [`check_data`].
fn spans(kind: PacketKind, written: Written, elements: Elements) -> (Option<NameSpan>, usize) {
    match (kind, written) {
        (PacketKind::Ack | PacketKind::BinaryAck, Written::Array) => {
            (None, elements.first.map_or(elements.rest, |f| f.1))
        }
        (PacketKind::Event | PacketKind::BinaryEvent, Written::Array) => {
            let name = elements.first.map(|(_, start, end, first)| NameSpan {
                start,
                end,
                string: match first {
                    Written::Str(escaped) => Some(escaped),
                    _ => None,
                },
            });
            (name, elements.rest)
        }
        _ => (None, 0),
    }
}

/// The per-kind data rules of the official msgpack parser, plus this crate's event name
/// rule. Returns the event name span and the arguments offset.
fn check_data(
    kind: PacketKind,
    data: Option<(usize, Written, Elements)>,
    frame: &Bytes,
) -> Result<(Option<NameSpan>, usize), DecodeError> {
    let (offset, written) = data.map_or((frame.len(), Written::Undefined), |(at, w, _)| (at, w));
    let invalid = |expected, found: &'static str| {
        Err(DecodeError::InvalidPayload {
            kind,
            offset,
            expected,
            found,
        })
    };
    match (kind, data) {
        (PacketKind::Connect, None) | (PacketKind::Disconnect, None) => Ok((None, 0)),
        (PacketKind::Connect, Some((_, Written::Map, _))) => Ok((None, 0)),
        (PacketKind::Connect, _) => invalid("an object or no payload", written.describe()),
        (PacketKind::Disconnect, _) => invalid("no payload", written.describe()),
        (PacketKind::ConnectError, Some((_, Written::Map | Written::Str(_), _))) => Ok((None, 0)),
        (PacketKind::ConnectError, _) => invalid("a string or an object", written.describe()),
        (PacketKind::Ack, Some((_, Written::Array, elements))) => {
            Ok(spans(kind, Written::Array, elements))
        }
        (PacketKind::Ack, _) => invalid("an array", written.describe()),
        (PacketKind::Event, Some((_, Written::Array, elements))) => {
            const EXPECTED: &str = "an array starting with a string or number event name";
            let Some((at, _, _, first)) = elements.first else {
                return invalid(EXPECTED, "an empty array");
            };
            let string = match first {
                Written::Str(_) => true,
                Written::Number(true) => false,
                other => {
                    return Err(DecodeError::InvalidPayload {
                        kind,
                        offset: at,
                        expected: EXPECTED,
                        found: match other {
                            Written::Number(_) => "a number that is not finite as event name",
                            Written::Undefined | Written::Null => "null as event name",
                            Written::Bool => "a boolean as event name",
                            Written::Date => "a date as event name",
                            Written::Binary => "binary data as event name",
                            Written::Map => "an object as event name",
                            _ => "an array as event name",
                        },
                    })
                }
            };
            if string {
                // The name's bytes as sent: the head after its marker and length.
                let mut r = Reader::new(frame);
                r.pos = at;
                if let Ok(Head::Str { start, len }) = r.head() {
                    let raw = &frame[start..start + len];
                    if let Some(name) = RESERVED_EVENTS.iter().find(|n| n.as_bytes() == raw) {
                        return Err(DecodeError::ReservedEventName { name, offset: at });
                    }
                }
            }
            Ok(spans(kind, Written::Array, elements))
        }
        (PacketKind::Event, _) => invalid(
            "an array starting with a string or number event name",
            written.describe(),
        ),
        (PacketKind::BinaryEvent | PacketKind::BinaryAck, _) => {
            unreachable!("packet_type gives kinds 0 to 4 only")
        }
    }
}

impl<O: Out> Converter<'_, O> {
    /// `type`: an integer 0 to 4 (`Number.isInteger`, so 2.0 counts).
    fn packet_type(&mut self, at: usize) -> Result<Option<PacketKind>, DecodeError> {
        let n = match self.r.head()? {
            Head::UInt(n) => n,
            Head::Float(f) if f.fract() == 0.0 && (0.0..=4.0).contains(&f) => f as u64,
            _ => return Err(error(at, MsgpackError::InvalidType)),
        };
        match n {
            0..=4 => Ok(PacketKind::from_digit(b'0' + n as u8)),
            _ => Err(error(at, MsgpackError::InvalidType)),
        }
    }

    /// `nsp`: a string; this crate also wants it to start with `/` and hold no `,`.
    fn namespace(&mut self, at: usize) -> Result<Option<Namespace>, DecodeError> {
        let Head::Str { start, len } = self.r.head()? else {
            return Err(error(at, MsgpackError::InvalidNamespace("not a string")));
        };
        let raw = &self.frame[start..start + len];
        if std::str::from_utf8(raw).is_err() {
            return Err(error(at, MsgpackError::InvalidUtf8));
        }
        if raw.first() != Some(&b'/') {
            return Err(error(
                at,
                MsgpackError::InvalidNamespace("not starting with '/'"),
            ));
        }
        if raw.contains(&b',') {
            return Err(error(at, MsgpackError::InvalidNamespace("holding a ','")));
        }
        if raw == b"/" {
            return Ok(Some(Namespace::main()));
        }
        Ok(Some(Namespace::from_checked(Bytes::copy_from_slice(raw))))
    }

    /// `id`: absent, `undefined`, or an integer this crate can hold.
    fn ack_id(&mut self, at: usize) -> Result<Option<AckId>, DecodeError> {
        match self.r.head()? {
            Head::Undefined => Ok(None),
            Head::UInt(n) => Ok(Some(AckId::new(n))),
            // Below 2^64, so the conversion is exact; -0.0 is 0.
            Head::Float(f)
                if f.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&f) =>
            {
                Ok(Some(AckId::new(f as u64)))
            }
            _ => Err(error(at, MsgpackError::InvalidAckId)),
        }
    }

    fn check_size(&mut self) -> Result<(), DecodeError> {
        if self.out.json().is_none() {
            // Nothing written: `decode` made sure the JSON cannot reach the limit.
            return Ok(());
        }
        let size = self.out.len() + self.attachment_bytes;
        if size > self.max_size {
            return Err(DecodeError::PacketTooLarge {
                size,
                max: self.max_size,
            });
        }
        Ok(())
    }

    /// Skips a value that the packet does not use, checking only its structure and depth.
    fn skip(&mut self, depth: usize) -> Result<(), DecodeError> {
        let at = self.r.pos;
        let n = match self.r.head()? {
            Head::Array(n) => u64::from(n),
            Head::Map(n) => 2 * u64::from(n),
            _ => return Ok(()),
        };
        if depth > self.max_depth {
            return Err(DecodeError::TooDeep {
                offset: at,
                max: self.max_depth,
            });
        }
        for _ in 0..n {
            self.skip(depth + 1)?;
        }
        Ok(())
    }

    /// Converts the value at the cursor, nested `depth` deep (the data itself is 1), into
    /// JSON. With `elements`, records where the first two elements of an array go.
    fn value(
        &mut self,
        depth: usize,
        elements: Option<&mut Elements>,
    ) -> Result<Written, DecodeError> {
        let at = self.r.pos;
        let written = match self.r.head()? {
            Head::Nil => {
                put!(self.out, b"null");
                Written::Null
            }
            Head::Bool(b) => {
                put!(self.out, if b { b"true" } else { b"false" });
                Written::Bool
            }
            Head::UInt(n) if n <= EXACT => {
                put!(self.out, itoa::Buffer::new().format(n).as_bytes());
                Written::Number(true)
            }
            Head::Int(n) if n >= -(EXACT as i64) => {
                put!(self.out, itoa::Buffer::new().format(n).as_bytes());
                Written::Number(true)
            }
            // JavaScript reads `hi * 2^32 + lo`: one rounding of the exact value.
            Head::UInt(n) => self.number(n as f64),
            Head::Int(n) => self.number(n as f64),
            Head::Float(f) => self.number(f),
            Head::Str { start, len } => Written::Str(self.string(at, start, len)?),
            Head::Bin { len, .. } => {
                // Its placeholder is an object at this depth of the text form.
                self.enter(at, depth)?;
                self.binary(at, len)?;
                Written::Binary
            }
            Head::Ext { ty, len, .. } => {
                // `[type, placeholder]`: the placeholder object is one level deeper.
                self.enter(at, depth + 1)?;
                put!(self.out, b"[");
                put!(self.out, itoa::Buffer::new().format(ty).as_bytes());
                put!(self.out, b",");
                self.binary(at, len)?;
                put!(self.out, b"]");
                Written::Ext
            }
            Head::Undefined => Written::Undefined,
            Head::Date(ms) => {
                self.has_date = true;
                if let Some(json) = self.out.json() {
                    date::write_json(json, ms);
                }
                Written::Date
            }
            Head::Array(n) => {
                self.enter(at, depth)?;
                self.array(n, depth, elements)?;
                Written::Array
            }
            Head::Map(n) => {
                self.enter(at, depth)?;
                self.map(n, depth)?;
                Written::Map
            }
        };
        self.check_size()?;
        Ok(written)
    }

    fn enter(&self, at: usize, depth: usize) -> Result<(), DecodeError> {
        if depth > self.max_depth {
            return Err(DecodeError::TooDeep {
                offset: at,
                max: self.max_depth,
            });
        }
        Ok(())
    }

    fn number(&mut self, f: f64) -> Written {
        if let Some(json) = self.out.json() {
            jsnum::write_f64(json, f).expect("writing to a Vec cannot fail");
        }
        Written::Number(f.is_finite())
    }

    fn array(
        &mut self,
        n: u32,
        depth: usize,
        mut elements: Option<&mut Elements>,
    ) -> Result<(), DecodeError> {
        put!(self.out, b"[");
        for i in 0..n {
            if i > 0 {
                put!(self.out, b",");
            }
            let at = self.r.pos;
            let start = self.out.len();
            if i == 1 {
                if let Some(e) = elements.as_deref_mut() {
                    e.rest = start;
                }
            }
            let written = self.value(depth + 1, None)?;
            if written == Written::Undefined {
                put!(self.out, b"null");
            }
            if i == 0 {
                if let Some(e) = elements.as_deref_mut() {
                    e.first = Some((at, start, self.out.len(), written));
                }
            }
        }
        if n < 2 {
            if let Some(e) = elements {
                e.rest = self.out.len();
            }
        }
        put!(self.out, b"]");
        Ok(())
    }

    fn map(&mut self, n: u32, depth: usize) -> Result<(), DecodeError> {
        put!(self.out, b"{");
        let mut empty = true;
        for _ in 0..n {
            let mark = self.out.len();
            if !empty {
                put!(self.out, b",");
            }
            let key_at = self.r.pos;
            let placeholder = match self.r.head()? {
                Head::Str { start, len } => {
                    self.string(key_at, start, len)?;
                    &self.frame[start..start + len] == b"_placeholder"
                }
                Head::UInt(n) => {
                    self.key_number(n as f64);
                    false
                }
                Head::Int(n) => {
                    self.key_number(n as f64);
                    false
                }
                Head::Float(f) => {
                    self.key_number(f);
                    false
                }
                _ => return Err(error(key_at, MsgpackError::InvalidMapKey)),
            };
            put!(self.out, b":");
            if placeholder && self.r.buf.get(self.r.pos) == Some(&0xc3) {
                return Err(error(key_at, MsgpackError::PlaceholderKey));
            }
            if self.value(depth + 1, None)? == Written::Undefined {
                // JSON.stringify leaves out members whose value is undefined.
                self.out.truncate(mark);
            } else {
                empty = false;
            }
        }
        put!(self.out, b"}");
        Ok(())
    }

    /// A number key as JavaScript turns it into a property name (`String(n)`), quoted.
    fn key_number(&mut self, f: f64) {
        if let Some(json) = self.out.json() {
            json.push(b'"');
            write_key_name(json, f);
            json.push(b'"');
        }
    }

    /// Writes a string as `JSON.stringify` does (with nothing written, checks that it is
    /// UTF-8); returns whether JSON escapes any of it.
    #[inline(always)]
    fn string(&mut self, at: usize, start: usize, len: usize) -> Result<bool, DecodeError> {
        // ASCII with nothing to escape, the usual string, checked here in one word or pass.
        if self.out.json().is_none() && is_plain_at(self.frame, start, len) {
            return Ok(false);
        }
        self.string_slowly(at, start, len)
    }

    #[inline(never)]
    fn string_slowly(&mut self, at: usize, start: usize, len: usize) -> Result<bool, DecodeError> {
        let frame: &[u8] = self.frame;
        let raw = &frame[start..start + len];
        let escaped = match self.out.json() {
            Some(json) => write_json_string(json, raw),
            None => match std::str::from_utf8(raw) {
                Ok(_) => Ok(needs_escape(raw)),
                Err(_) => Err(()),
            },
        }
        .map_err(|()| error(at, MsgpackError::InvalidUtf8))?;
        self.escapes |= escaped;
        Ok(escaped)
    }

    fn binary(&mut self, at: usize, len: usize) -> Result<(), DecodeError> {
        let num = self.attachment_count;
        if num >= self.max_attachments {
            return Err(DecodeError::TooManyAttachments {
                offset: at,
                count: num as u64 + 1,
                max: self.max_attachments,
            });
        }
        self.attachment_count += 1;
        self.attachment_bytes += len;
        if let Some(json) = self.out.json() {
            json.extend_from_slice(b"{\"_placeholder\":true,\"num\":");
            json.extend_from_slice(itoa::Buffer::new().format(num).as_bytes());
            json.push(b'}');
        }
        Ok(())
    }
}

/// The property name JavaScript gives the number key `f` (`String(f)`), unquoted.
pub(super) fn write_key_name(out: &mut Vec<u8>, f: f64) {
    if f.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 { b"Infinity" } else { b"-Infinity" });
    } else {
        jsnum::write_f64(out, f).expect("writing to a Vec cannot fail");
    }
}

/// Writes `raw` as a JSON string the way `JSON.stringify` does: `\"`, `\\`, `\b`, `\f`,
/// `\n`, `\r`, `\t`, other control characters as `\u00xx`, everything else as it is. Returns
/// whether anything was escaped, or `Err` when `raw` is not UTF-8.
pub(crate) fn write_json_string(out: &mut Vec<u8>, raw: &[u8]) -> Result<bool, ()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(raw.len() + 2);
    out.push(b'"');
    let mut escaped = false;
    let mut checked = false;
    let mut run = 0;
    let mut i = 0;
    loop {
        i = skip_plain(raw, i);
        let Some(&b) = raw.get(i) else { break };
        if b >= 0x80 {
            // The ASCII before it is valid; check the rest once.
            if !checked && std::str::from_utf8(&raw[i..]).is_err() {
                return Err(());
            }
            checked = true;
            i += 1;
            continue;
        }
        out.extend_from_slice(&raw[run..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
        escaped = true;
        i += 1;
        run = i;
    }
    out.extend_from_slice(&raw[run..]);
    out.push(b'"');
    Ok(escaped)
}
