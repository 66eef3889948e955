//! Packet text (or a [`Packet`]) to one MessagePack frame, byte for byte as notepack 2.2
//! encodes the object the Node.js server builds for the same packet.

use bytes::Bytes;

use crate::ack_id::AckId;
use crate::error::{DecodeError, JsonError, PlaceholderError};
use crate::header;
use crate::namespace::Namespace;
use crate::packet::{Packet, PacketKind};
use crate::scan::{hex4, skip_plain, unescape_simple, MAX_DEPTH_LIMIT};

/// The payload of the Node server's refusal of an unknown namespace, which it writes with
/// `nsp` before `data` (`client.js`), unlike every other packet.
const INVALID_NAMESPACE: &[u8] = br#"{"message":"Invalid namespace"}"#;

#[derive(Clone, Copy)]
enum Field {
    Type,
    Nsp,
    Data,
    Id,
}

/// Encodes a packet text (without the Engine.IO `4`) and its attachments.
pub(crate) fn encode_text(text: &[u8], attachments: &[Bytes]) -> Result<Bytes, DecodeError> {
    let header = header::parse(text, usize::MAX)?;
    if header.attachments != attachments.len() {
        return Err(DecodeError::IllegalAttachments {
            offset: 1,
            reason: "the count differs from the number of attachments given",
        });
    }
    let start = header.payload_start;
    let payload = (start < text.len()).then(|| &text[start..]);
    write_packet(
        header.kind,
        &header.nsp,
        header.ack,
        payload,
        start,
        attachments,
    )
}

/// Encodes a packet.
pub(crate) fn encode_packet(packet: &Packet) -> Result<Bytes, DecodeError> {
    write_packet(
        packet.kind,
        &packet.nsp,
        packet.ack,
        packet.payload().map(|p| &p[..]),
        0,
        packet.attachments(),
    )
}

/// The map `{type, data, id, nsp}` in the order the Node server's object has its keys:
/// `socket.emit` builds `{type, data}`, adds `id` for an ack callback, then `nsp`;
/// `socket.ack` builds `{id, type, data}` then `nsp`; `client.js` refuses an unknown namespace
/// with `{type, nsp, data}`.
fn write_packet(
    kind: PacketKind,
    nsp: &Namespace,
    ack: Option<AckId>,
    payload: Option<&[u8]>,
    base: usize,
    attachments: &[Bytes],
) -> Result<Bytes, DecodeError> {
    let order = match kind {
        PacketKind::Ack | PacketKind::BinaryAck => {
            [Field::Id, Field::Type, Field::Data, Field::Nsp]
        }
        PacketKind::ConnectError if payload == Some(INVALID_NAMESPACE) => {
            [Field::Type, Field::Nsp, Field::Data, Field::Id]
        }
        _ => [Field::Type, Field::Data, Field::Id, Field::Nsp],
    };
    let entries = 2 + usize::from(payload.is_some()) + usize::from(ack.is_some());
    let size = 24
        + nsp.as_bytes().len()
        + payload.map_or(0, <[u8]>::len)
        + attachments.iter().map(Bytes::len).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.push(0x80 | entries as u8);
    for field in order {
        match field {
            Field::Type => {
                out.extend_from_slice(b"\xa4type");
                let ty = match kind {
                    PacketKind::BinaryEvent => PacketKind::Event,
                    PacketKind::BinaryAck => PacketKind::Ack,
                    other => other,
                };
                out.push(ty as u8);
            }
            Field::Nsp => {
                out.extend_from_slice(b"\xa3nsp");
                write_str_header(&mut out, nsp.as_bytes().len())?;
                out.extend_from_slice(nsp.as_bytes());
            }
            Field::Id => {
                if let Some(id) = ack {
                    out.extend_from_slice(b"\xa2id");
                    write_uint(&mut out, id.get());
                }
            }
            Field::Data => {
                if let Some(json) = payload {
                    out.extend_from_slice(b"\xa4data");
                    let mut t = Transcoder {
                        json,
                        pos: 0,
                        base,
                        out: &mut out,
                        attachments,
                        used: vec![false; attachments.len()],
                        scratch: Vec::new(),
                    };
                    t.value(1)?;
                    t.whitespace();
                    if t.pos < json.len() {
                        return Err(t.json_error(JsonError::TrailingCharacters));
                    }
                    if let Some(index) = t.used.iter().position(|u| !u) {
                        return Err(DecodeError::MissingPlaceholder { index });
                    }
                }
            }
        }
    }
    if payload.is_none() && !attachments.is_empty() {
        return Err(DecodeError::MissingPlaceholder { index: 0 });
    }
    Ok(Bytes::from(out))
}

/// A non-negative integer in notepack's smallest encoding.
pub(crate) fn write_uint(out: &mut Vec<u8>, n: u64) {
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend_from_slice(&[0xcc, n as u8]);
    } else if n < 0x1_0000 {
        out.push(0xcd);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n < 0x1_0000_0000 {
        out.push(0xce);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// An integer in notepack's smallest encoding.
pub(crate) fn write_int(out: &mut Vec<u8>, n: i64) {
    if let Ok(u) = u64::try_from(n) {
        write_uint(out, u);
    } else if n >= -0x20 {
        out.push(n as u8);
    } else if n >= -0x80 {
        out.extend_from_slice(&[0xd0, n as u8]);
    } else if n >= -0x8000 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -0x8000_0000 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// A JavaScript number as notepack writes it: integral values as the smallest integer,
/// anything else (fractions, NaN, infinities) as float 64. Integral values outside the range
/// of int 64 and uint 64 are float 64 too, where notepack wraps them modulo 2^64.
pub(crate) fn write_number(out: &mut Vec<u8>, f: f64) {
    const TWO_31: f64 = 2_147_483_648.0;
    const TWO_32: f64 = 4_294_967_296.0;
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    if f.fract() != 0.0 || !(-TWO_63..TWO_64).contains(&f) {
        // NaN and the infinities too: their `fract()` is NaN.
        out.push(0xcb);
        out.extend_from_slice(&f.to_bits().to_be_bytes());
    } else if f >= 0.0 {
        // -0.0 lands here too, and is written 0, as by notepack.
        if f < TWO_32 {
            write_uint(out, f as u64);
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(f as u64).to_be_bytes());
        }
    } else if f >= -TWO_31 {
        write_int(out, f as i64);
    } else {
        out.push(0xd3);
        out.extend_from_slice(&(f as i64).to_be_bytes());
    }
}

#[inline]
fn write_len(
    out: &mut Vec<u8>,
    len: usize,
    markers: [u8; 3],
    fix: Option<u8>,
) -> Result<(), DecodeError> {
    match (fix, len) {
        (Some(fix), 0..=0x1f) => out.push(fix | len as u8),
        (_, 0..=0xff) => out.extend_from_slice(&[markers[0], len as u8]),
        (_, 0x100..=0xffff) => {
            out.push(markers[1]);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            let len = u32::try_from(len).map_err(|_| DecodeError::PacketTooLarge {
                size: len,
                max: u32::MAX as usize,
            })?;
            out.push(markers[2]);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    Ok(())
}

#[inline]
fn write_str_header(out: &mut Vec<u8>, len: usize) -> Result<(), DecodeError> {
    write_len(out, len, [0xd9, 0xda, 0xdb], Some(0xa0))
}

fn write_bin(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), DecodeError> {
    write_len(out, bytes.len(), [0xc4, 0xc5, 0xc6], None)?;
    out.extend_from_slice(bytes);
    Ok(())
}

/// JSON text to MessagePack, one pass, placeholders to bin.
struct Transcoder<'a> {
    json: &'a [u8],
    pos: usize,
    /// Offset of `json` in the text, for error offsets.
    base: usize,
    out: &'a mut Vec<u8>,
    attachments: &'a [Bytes],
    used: Vec<bool>,
    /// Unescaped strings.
    scratch: Vec<u8>,
}

impl Transcoder<'_> {
    fn json_error(&self, error: JsonError) -> DecodeError {
        DecodeError::InvalidJson {
            offset: self.base + self.pos,
            error,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.json.get(self.pos).copied()
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), DecodeError> {
        self.whitespace();
        match self.peek() {
            Some(b'{') => self.container(depth, true),
            Some(b'[') => self.container(depth, false),
            Some(b'"') => self.string(),
            Some(b't') => self.literal(b"true", 0xc3),
            Some(b'f') => self.literal(b"false", 0xc2),
            Some(b'n') => self.literal(b"null", 0xc0),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b) => Err(self.json_error(JsonError::UnexpectedByte(b))),
            None => Err(self.json_error(JsonError::UnexpectedEnd)),
        }
    }

    fn literal(&mut self, word: &[u8], marker: u8) -> Result<(), DecodeError> {
        if !self.json[self.pos..].starts_with(word) {
            return Err(self.json_error(JsonError::UnexpectedByte(self.json[self.pos])));
        }
        self.pos += word.len();
        self.out.push(marker);
        Ok(())
    }

    fn expect(&mut self, byte: u8) -> Result<(), DecodeError> {
        self.whitespace();
        match self.peek() {
            Some(b) if b == byte => {
                self.pos += 1;
                Ok(())
            }
            Some(b) => Err(self.json_error(JsonError::UnexpectedByte(b))),
            None => Err(self.json_error(JsonError::UnexpectedEnd)),
        }
    }

    /// An array or object: a one-byte head, widened once the count is known.
    fn container(&mut self, depth: usize, object: bool) -> Result<(), DecodeError> {
        if depth > MAX_DEPTH_LIMIT {
            return Err(DecodeError::TooDeep {
                offset: self.base + self.pos,
                max: MAX_DEPTH_LIMIT,
            });
        }
        let placeholder_at = self.base + self.pos;
        let (close, fix, wide) = if object {
            (b'}', 0x80, [0xde, 0xdf])
        } else {
            (b']', 0x90, [0xdc, 0xdd])
        };
        self.pos += 1;
        let head = self.out.len();
        self.out.push(fix);
        let mut count = 0usize;
        self.whitespace();
        if self.peek() == Some(close) {
            self.pos += 1;
        } else {
            loop {
                if object {
                    self.whitespace();
                    if self.peek() != Some(b'"') {
                        return Err(match self.peek() {
                            Some(b) => self.json_error(JsonError::UnexpectedByte(b)),
                            None => self.json_error(JsonError::UnexpectedEnd),
                        });
                    }
                    self.string()?;
                    self.expect(b':')?;
                }
                self.value(depth + 1)?;
                count += 1;
                self.whitespace();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b) if b == close => {
                        self.pos += 1;
                        break;
                    }
                    Some(b) => return Err(self.json_error(JsonError::UnexpectedByte(b))),
                    None => return Err(self.json_error(JsonError::UnexpectedEnd)),
                }
            }
        }
        if count < 16 {
            self.out[head] = fix | count as u8;
        } else if count < 0x1_0000 {
            self.out[head] = wide[0];
            self.out
                .splice(head + 1..head + 1, (count as u16).to_be_bytes());
        } else {
            let count = u32::try_from(count).map_err(|_| DecodeError::PacketTooLarge {
                size: count,
                max: u32::MAX as usize,
            })?;
            self.out[head] = wide[1];
            self.out.splice(head + 1..head + 1, count.to_be_bytes());
        }
        if object && count == 2 && !self.attachments.is_empty() {
            if let Some(num) = placeholder_num(&self.out[head..]) {
                self.take_placeholder(num, head, placeholder_at)?;
            }
        }
        Ok(())
    }

    /// Replaces the placeholder map at `head` by the attachment's bytes.
    fn take_placeholder(&mut self, num: u64, head: usize, at: usize) -> Result<(), DecodeError> {
        let count = self.attachments.len();
        let bad = |error| DecodeError::BadPlaceholder { offset: at, error };
        let index = usize::try_from(num)
            .ok()
            .filter(|&n| n < count)
            .ok_or(bad(PlaceholderError::OutOfRange { num, count }))?;
        if std::mem::replace(&mut self.used[index], true) {
            return Err(bad(PlaceholderError::Repeated { num: index }));
        }
        self.out.truncate(head);
        write_bin(self.out, &self.attachments[index])
    }

    fn number(&mut self) -> Result<(), DecodeError> {
        let start = self.pos;
        let json = self.json;
        let digits = |mut i: usize| {
            while json.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        let mut i = start + usize::from(json[start] == b'-');
        let int_start = i;
        match json.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(i),
            _ => {
                self.pos = i;
                return Err(self.json_error(JsonError::InvalidNumber));
            }
        }
        let int_end = i;
        let mut integer = true;
        if json.get(i) == Some(&b'.') {
            integer = false;
            let end = digits(i + 1);
            if end == i + 1 {
                self.pos = end;
                return Err(self.json_error(JsonError::InvalidNumber));
            }
            i = end;
        }
        if let Some(b'e' | b'E') = json.get(i) {
            integer = false;
            i += 1;
            if let Some(b'+' | b'-') = json.get(i) {
                i += 1;
            }
            let end = digits(i);
            if end == i {
                self.pos = end;
                return Err(self.json_error(JsonError::InvalidNumber));
            }
            i = end;
        }
        self.pos = i;
        let text = std::str::from_utf8(&json[start..i]).expect("a JSON number is ASCII");
        // Up to 15 digits an integer is exact in a double: write it as it is. Anything else
        // is read as JavaScript reads it, to the nearest double.
        if integer && int_end - int_start <= 15 {
            let magnitude = json[int_start..int_end]
                .iter()
                .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
            write_int(
                self.out,
                if start == int_start {
                    magnitude
                } else {
                    -magnitude
                },
            );
            return Ok(());
        }
        let f: f64 = text
            .parse()
            .expect("the JSON number grammar is a subset of Rust's float syntax");
        write_number(self.out, f);
        Ok(())
    }

    fn string(&mut self) -> Result<(), DecodeError> {
        let start = self.pos + 1;
        let mut i = start;
        let mut ascii = true;
        loop {
            i = skip_plain(self.json, i);
            match self.json.get(i) {
                Some(b'"') => break,
                Some(b'\\') => return self.escaped_string(start),
                Some(0x00..=0x1f) => {
                    self.pos = i;
                    return Err(self.json_error(JsonError::ControlCharacter));
                }
                Some(_) => {
                    ascii = false;
                    i += 1;
                }
                None => {
                    self.pos = i;
                    return Err(self.json_error(JsonError::UnexpectedEnd));
                }
            }
        }
        let raw = &self.json[start..i];
        if !ascii && std::str::from_utf8(raw).is_err() {
            self.pos = start;
            return Err(self.json_error(JsonError::InvalidUtf8));
        }
        self.pos = i + 1;
        write_str_header(self.out, raw.len())?;
        self.out.extend_from_slice(raw);
        Ok(())
    }

    /// A string with escapes, decoded into `scratch`; a lone surrogate becomes U+FFFD, as
    /// Node's `Buffer` writes it.
    fn escaped_string(&mut self, start: usize) -> Result<(), DecodeError> {
        let mut s = std::mem::take(&mut self.scratch);
        s.clear();
        let mut i = start;
        let mut high: Option<u16> = None;
        let result = loop {
            let Some(&b) = self.json.get(i) else {
                self.pos = i;
                break Err(self.json_error(JsonError::UnexpectedEnd));
            };
            if b == b'\\' && self.json.get(i + 1) == Some(&b'u') {
                let Some(unit) = self.json.get(i + 2..i + 6).and_then(hex4) else {
                    self.pos = i;
                    break Err(self.json_error(JsonError::InvalidEscape));
                };
                i += 6;
                match (high.take(), unit) {
                    (Some(h), 0xdc00..=0xdfff) => {
                        let c =
                            0x10000 + ((u32::from(h) - 0xd800) << 10) + (u32::from(unit) - 0xdc00);
                        push_char(
                            &mut s,
                            char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER),
                        );
                    }
                    (previous, 0xd800..=0xdbff) => {
                        if previous.is_some() {
                            push_char(&mut s, char::REPLACEMENT_CHARACTER);
                        }
                        high = Some(unit);
                    }
                    (previous, _) => {
                        if previous.is_some() {
                            push_char(&mut s, char::REPLACEMENT_CHARACTER);
                        }
                        push_char(
                            &mut s,
                            char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER),
                        );
                    }
                }
                continue;
            }
            if high.take().is_some() {
                push_char(&mut s, char::REPLACEMENT_CHARACTER);
            }
            match b {
                b'"' => {
                    i += 1;
                    break Ok(());
                }
                b'\\' => {
                    let Some(c) = self.json.get(i + 1).copied().and_then(unescape_simple) else {
                        self.pos = i;
                        break Err(self.json_error(JsonError::InvalidEscape));
                    };
                    s.push(c);
                    i += 2;
                }
                0x00..=0x1f => {
                    self.pos = i;
                    break Err(self.json_error(JsonError::ControlCharacter));
                }
                _ => {
                    s.push(b);
                    i += 1;
                }
            }
        };
        let result = result.and_then(|()| {
            if std::str::from_utf8(&s).is_err() {
                self.pos = start;
                return Err(self.json_error(JsonError::InvalidUtf8));
            }
            self.pos = i;
            write_str_header(self.out, s.len())?;
            self.out.extend_from_slice(&s);
            Ok(())
        });
        self.scratch = s;
        result
    }
}

fn push_char(out: &mut Vec<u8>, c: char) {
    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
}

/// The number of a placeholder map `{"_placeholder":true,"num":N}` (either key order), as
/// MessagePack, when `map` is exactly one.
fn placeholder_num(map: &[u8]) -> Option<u64> {
    const FLAG: &[u8] = b"\xac_placeholder\xc3";
    const NUM: &[u8] = b"\xa3num";
    let body = map.strip_prefix(&[0x82])?;
    if let Some(rest) = body.strip_prefix(FLAG) {
        let (num, tail) = read_uint(rest.strip_prefix(NUM)?)?;
        return tail.is_empty().then_some(num);
    }
    let (num, tail) = read_uint(body.strip_prefix(NUM)?)?;
    (tail == FLAG).then_some(num)
}

/// A non-negative integer as [`write_uint`] writes it, and the bytes after it.
fn read_uint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let (&marker, rest) = bytes.split_first()?;
    let width = match marker {
        0x00..=0x7f => return Some((u64::from(marker), rest)),
        0xcc => 1,
        0xcd => 2,
        0xce => 4,
        0xcf => 8,
        _ => return None,
    };
    let (digits, tail) = rest.split_at_checked(width)?;
    let n = digits.iter().fold(0u64, |n, &b| n << 8 | u64::from(b));
    Some((n, tail))
}
