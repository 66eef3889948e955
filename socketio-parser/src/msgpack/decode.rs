//! MessagePack frame to [`Packet`]: the packet map read, its data written as the JSON text
//! `JSON.stringify` would write for what notepack decodes, binary values turned into
//! placeholders and attachments.

use bytes::{Buf, Bytes};

use super::date;
use super::read::{error, Head, Reader};
use crate::ack_id::AckId;
use crate::config::DecoderConfig;
use crate::decoder::RESERVED_EVENTS;
use crate::error::{DecodeError, MsgpackError};
use crate::jsnum;
use crate::namespace::Namespace;
use crate::packet::{NameSpan, Packet, PacketKind};
use crate::scan::{skip_plain, MAX_DEPTH_LIMIT};

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

struct Converter<'a> {
    frame: &'a Bytes,
    r: Reader<'a>,
    out: Vec<u8>,
    attachments: Vec<Bytes>,
    attachment_bytes: usize,
    max_attachments: usize,
    max_depth: usize,
    max_size: usize,
    /// Whether the data holds a `Date`: its ISO string exists only in the JSON.
    has_date: bool,
}

pub(crate) fn decode(frame: Bytes, config: &DecoderConfig) -> Result<Packet, DecodeError> {
    if frame.len() > config.max_packet_size {
        return Err(DecodeError::PacketTooLarge {
            size: frame.len(),
            max: config.max_packet_size,
        });
    }
    let mut c = Converter {
        frame: &frame,
        r: Reader::new(&frame),
        // The JSON is usually a little longer than the MessagePack, unless binary data takes
        // most of the frame: a large frame's JSON grows as it is written.
        out: Vec::with_capacity((frame.len() + frame.len() / 4 + 16).min(4096)),
        attachments: Vec::new(),
        attachment_bytes: 0,
        max_attachments: config.max_attachments,
        max_depth: config.max_depth.min(MAX_DEPTH_LIMIT),
        max_size: config.max_packet_size,
        has_date: false,
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

    let kind = match kind {
        PacketKind::Event if !c.attachments.is_empty() => PacketKind::BinaryEvent,
        PacketKind::Ack if !c.attachments.is_empty() => PacketKind::BinaryAck,
        PacketKind::Event | PacketKind::Ack => kind,
        _ if !c.attachments.is_empty() => {
            let at = data.map_or(0, |(at, _, _)| at);
            return Err(error(at, MsgpackError::BinaryNotAllowed));
        }
        _ => kind,
    };
    let payload = data.map(|_| Bytes::from(c.out));
    let attachments = c.attachments;
    // Arguments are read from the MessagePack itself (see `de`), unless a `Date` is there:
    // the JSON path hands its string out borrowed from the JSON. The frame itself becomes
    // the data: no reference count to take.
    let msgpack = match data {
        Some((at, _, _)) if !c.has_date => {
            let mut frame = frame;
            frame.truncate(data_end);
            frame.advance(at);
            Some(frame)
        }
        _ => None,
    };
    Ok(Packet {
        kind,
        nsp,
        ack,
        payload,
        name,
        rest,
        attachments,
        msgpack,
    })
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
            Ok((None, elements.first.map_or(elements.rest, |f| f.1)))
        }
        (PacketKind::Ack, _) => invalid("an array", written.describe()),
        (PacketKind::Event, Some((_, Written::Array, elements))) => {
            const EXPECTED: &str = "an array starting with a string or number event name";
            let Some((at, start, end, first)) = elements.first else {
                return invalid(EXPECTED, "an empty array");
            };
            let string = match first {
                Written::Str(escaped) => Some(escaped),
                Written::Number(true) => None,
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
            if string.is_some() {
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
            Ok((Some(NameSpan { start, end, string }), elements.rest))
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

impl Converter<'_> {
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

    fn check_size(&self) -> Result<(), DecodeError> {
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
                self.out.extend_from_slice(b"null");
                Written::Null
            }
            Head::Bool(b) => {
                self.out
                    .extend_from_slice(if b { b"true" } else { b"false" });
                Written::Bool
            }
            Head::UInt(n) if n <= EXACT => {
                self.out
                    .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
                Written::Number(true)
            }
            Head::Int(n) if n >= -(EXACT as i64) => {
                self.out
                    .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
                Written::Number(true)
            }
            // JavaScript reads `hi * 2^32 + lo`: one rounding of the exact value.
            Head::UInt(n) => self.number(n as f64),
            Head::Int(n) => self.number(n as f64),
            Head::Float(f) => self.number(f),
            Head::Str { start, len } => Written::Str(self.string(at, start, len)?),
            Head::Bin { start, len } => {
                // Its placeholder is an object at this depth of the text form.
                self.enter(at, depth)?;
                self.binary(at, start, len)?;
                Written::Binary
            }
            Head::Ext { ty, start, len } => {
                // `[type, placeholder]`: the placeholder object is one level deeper.
                self.enter(at, depth + 1)?;
                self.out.push(b'[');
                self.out
                    .extend_from_slice(itoa::Buffer::new().format(ty).as_bytes());
                self.out.push(b',');
                self.binary(at, start, len)?;
                self.out.push(b']');
                Written::Ext
            }
            Head::Undefined => Written::Undefined,
            Head::Date(ms) => {
                self.has_date = true;
                date::write_json(&mut self.out, ms);
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
        jsnum::write_f64(&mut self.out, f).expect("writing to a Vec cannot fail");
        Written::Number(f.is_finite())
    }

    fn array(
        &mut self,
        n: u32,
        depth: usize,
        mut elements: Option<&mut Elements>,
    ) -> Result<(), DecodeError> {
        self.out.push(b'[');
        for i in 0..n {
            if i > 0 {
                self.out.push(b',');
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
                self.out.extend_from_slice(b"null");
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
        self.out.push(b']');
        Ok(())
    }

    fn map(&mut self, n: u32, depth: usize) -> Result<(), DecodeError> {
        self.out.push(b'{');
        let mut empty = true;
        for _ in 0..n {
            let mark = self.out.len();
            if !empty {
                self.out.push(b',');
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
            self.out.push(b':');
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
        self.out.push(b'}');
        Ok(())
    }

    /// A number key as JavaScript turns it into a property name (`String(n)`), quoted.
    fn key_number(&mut self, f: f64) {
        self.out.push(b'"');
        write_key_name(&mut self.out, f);
        self.out.push(b'"');
    }

    /// Writes a string as `JSON.stringify` does; returns whether it needed escapes.
    fn string(&mut self, at: usize, start: usize, len: usize) -> Result<bool, DecodeError> {
        let frame: &[u8] = self.frame;
        write_json_string(&mut self.out, &frame[start..start + len])
            .map_err(|()| error(at, MsgpackError::InvalidUtf8))
    }

    fn binary(&mut self, at: usize, start: usize, len: usize) -> Result<(), DecodeError> {
        let num = self.attachments.len();
        if num >= self.max_attachments {
            return Err(DecodeError::TooManyAttachments {
                offset: at,
                count: num as u64 + 1,
                max: self.max_attachments,
            });
        }
        self.attachments.push(self.frame.slice(start..start + len));
        self.attachment_bytes += len;
        self.out
            .extend_from_slice(b"{\"_placeholder\":true,\"num\":");
        self.out
            .extend_from_slice(itoa::Buffer::new().format(num).as_bytes());
        self.out.push(b'}');
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
