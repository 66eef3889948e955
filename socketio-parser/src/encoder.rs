//! [`Encoder`]: packets to frames.

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;

use crate::ack_id::AckId;
use crate::args::RawArgs;
use crate::decoder::RESERVED_EVENTS;
use crate::error::EncodeError;
use crate::json_out::{self, write_value};
use crate::namespace::Namespace;
use crate::packet::{Packet, PacketKind};

/// One encoded packet: a text frame and the binary frames that follow it, in order.
///
/// The text is the Socket.IO packet without the Engine.IO `4` prefix; to get one buffer with
/// the prefix, use the `*_into` methods after writing the prefix yourself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The text frame.
    pub text: Bytes,
    /// The attachments, each one binary frame, in placeholder order.
    pub attachments: Vec<Bytes>,
}

/// Turns packets into frames, byte for byte as the reference `socket.io-parser` 4.2 does.
///
/// Two ways in:
/// * from a [`Packet`] ([`encode`](Encoder::encode), [`encode_into`](Encoder::encode_into)),
///   built with [`Packet::event`] and friends or received from a [`Decoder`](crate::Decoder);
/// * straight from your arguments, with no intermediate packet:
///   [`event_into`](Encoder::event_into), [`ack_into`](Encoder::ack_into), and for
///   arguments kept as JSON [`event_raw_into`](Encoder::event_raw_into) and
///   [`ack_raw_into`](Encoder::ack_raw_into).
///
/// The `*_into` methods append the text frame to a caller's [`BytesMut`], after whatever the
/// caller put there (say the Engine.IO `4`), so a broadcast is encoded once and the frozen
/// [`Bytes`] shared by every recipient:
///
/// ```
/// use bytes::{BufMut, BytesMut};
/// use socketio_parser::{Encoder, Namespace};
///
/// let mut buf = BytesMut::new();
/// buf.put_u8(b'4'); // Engine.IO "message"
/// let attachments = Encoder::new()
///     .event_into(&mut buf, &Namespace::main(), "chat", None, &("hi",))
///     .unwrap();
/// let frame = buf.split().freeze(); // clone it for every recipient
/// assert_eq!(&frame[..], br#"42["chat","hi"]"#);
/// assert!(attachments.is_empty());
/// ```
///
/// An EVENT or ACK whose arguments hold binary becomes a BINARY_EVENT or BINARY_ACK by itself.
/// The encoder holds no state; it is a value so that options can be added later.
#[derive(Debug, Clone, Copy, Default)]
pub struct Encoder {
    _private: (),
}

impl Encoder {
    /// An encoder.
    pub fn new() -> Self {
        Encoder::default()
    }

    /// Encodes a packet.
    pub fn encode(&self, packet: &Packet) -> Encoded {
        let size = 24 + packet.nsp.as_bytes().len() + packet.payload().map_or(0, Bytes::len);
        let mut out = BytesMut::with_capacity(size);
        let attachments = self.encode_into(packet, &mut out);
        Encoded {
            text: out.freeze(),
            attachments,
        }
    }

    /// Appends a packet's text frame to `out` and returns its attachments.
    ///
    /// The kind written follows the attachments: an event or ack with attachments goes out as
    /// BINARY_EVENT / BINARY_ACK, without as EVENT / ACK.
    pub fn encode_into(&self, packet: &Packet, out: &mut BytesMut) -> Vec<Bytes> {
        let count = packet.attachments().len();
        let kind = match packet.kind {
            PacketKind::Event | PacketKind::BinaryEvent if count > 0 => PacketKind::BinaryEvent,
            PacketKind::Event | PacketKind::BinaryEvent => PacketKind::Event,
            PacketKind::Ack | PacketKind::BinaryAck if count > 0 => PacketKind::BinaryAck,
            PacketKind::Ack | PacketKind::BinaryAck => PacketKind::Ack,
            other => other,
        };
        write_header(out, kind, count, &packet.nsp, packet.ack);
        if let Some(payload) = packet.payload() {
            out.extend_from_slice(payload);
        }
        packet.attachments().to_vec()
    }

    /// Encodes an event from serializable arguments.
    ///
    /// # Errors
    /// See [`event_into`](Encoder::event_into).
    pub fn event<A: ?Sized + Serialize>(
        &self,
        nsp: &Namespace,
        name: &str,
        ack: Option<AckId>,
        args: &A,
    ) -> Result<Encoded, EncodeError> {
        let mut out = BytesMut::new();
        let attachments = self.event_into(&mut out, nsp, name, ack, args)?;
        Ok(Encoded {
            text: out.freeze(),
            attachments,
        })
    }

    /// Appends the text frame of an event `[name, ...args]` to `out` and returns its
    /// attachments.
    ///
    /// `args` follows the spreading rule of [`Packet::event`]: a tuple is several arguments,
    /// `()` none, anything else one.
    ///
    /// # Errors
    /// [`EncodeError::ReservedEventName`] for a reserved name, [`EncodeError::Serialize`]
    /// when `args` fails to serialize. On error `out` is left as it was.
    pub fn event_into<A: ?Sized + Serialize>(
        &self,
        out: &mut BytesMut,
        nsp: &Namespace,
        name: &str,
        ack: Option<AckId>,
        args: &A,
    ) -> Result<Vec<Bytes>, EncodeError> {
        check_event_name(name)?;
        write_serialized(out, PacketKind::Event, nsp, ack, Some(name), args)
    }

    /// Encodes an ack from serializable arguments.
    ///
    /// # Errors
    /// See [`ack_into`](Encoder::ack_into).
    pub fn ack<A: ?Sized + Serialize>(
        &self,
        nsp: &Namespace,
        id: AckId,
        args: &A,
    ) -> Result<Encoded, EncodeError> {
        let mut out = BytesMut::new();
        let attachments = self.ack_into(&mut out, nsp, id, args)?;
        Ok(Encoded {
            text: out.freeze(),
            attachments,
        })
    }

    /// Appends the text frame of an ack `[...args]` to `out` and returns its attachments.
    ///
    /// # Errors
    /// [`EncodeError::Serialize`] when `args` fails to serialize. On error `out` is left as
    /// it was.
    pub fn ack_into<A: ?Sized + Serialize>(
        &self,
        out: &mut BytesMut,
        nsp: &Namespace,
        id: AckId,
        args: &A,
    ) -> Result<Vec<Bytes>, EncodeError> {
        write_serialized(out, PacketKind::Ack, nsp, Some(id), None, args)
    }

    /// Appends the text frame of an event whose arguments are already JSON (see
    /// [`RawArgs`]) to `out` and returns the attachments.
    ///
    /// # Errors
    /// [`EncodeError::ReservedEventName`] for a reserved name.
    pub fn event_raw_into(
        &self,
        out: &mut BytesMut,
        nsp: &Namespace,
        name: &str,
        ack: Option<AckId>,
        args: &RawArgs,
    ) -> Result<Vec<Bytes>, EncodeError> {
        check_event_name(name)?;
        write_raw(out, PacketKind::Event, nsp, ack, Some(name), args);
        Ok(args.attachments().to_vec())
    }

    /// Appends the text frame of an ack whose arguments are already JSON to `out` and
    /// returns the attachments.
    pub fn ack_raw_into(
        &self,
        out: &mut BytesMut,
        nsp: &Namespace,
        id: AckId,
        args: &RawArgs,
    ) -> Vec<Bytes> {
        write_raw(out, PacketKind::Ack, nsp, Some(id), None, args);
        args.attachments().to_vec()
    }
}

pub(crate) fn check_event_name(name: &str) -> Result<(), EncodeError> {
    match RESERVED_EVENTS.iter().find(|r| **r == name) {
        Some(name) => Err(EncodeError::ReservedEventName { name }),
        None => Ok(()),
    }
}

/// `type [count "-"] [nsp ","] [id]`
pub(crate) fn write_header(
    out: &mut BytesMut,
    kind: PacketKind,
    count: usize,
    nsp: &Namespace,
    ack: Option<AckId>,
) {
    out.reserve(8 + nsp.as_bytes().len());
    out.put_u8(kind.digit());
    if kind.is_binary() {
        put_decimal(out, count as u64);
        out.put_u8(b'-');
    }
    if !nsp.is_main() {
        out.extend_from_slice(nsp.as_bytes());
        out.put_u8(b',');
    }
    if let Some(id) = ack {
        put_decimal(out, id.get());
    }
}

fn put_decimal(out: &mut BytesMut, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Writes an event or ack whose arguments come from serde, then, when they held binary, turns
/// the header into its binary form in place.
fn write_serialized<A: ?Sized + Serialize>(
    out: &mut BytesMut,
    kind: PacketKind,
    nsp: &Namespace,
    ack: Option<AckId>,
    name: Option<&str>,
    args: &A,
) -> Result<Vec<Bytes>, EncodeError> {
    let start = out.len();
    // Room for the header and a small payload at once: most packets are small, and growing
    // from the header's size reallocated once or twice as the arguments were written.
    out.reserve(128 + nsp.as_bytes().len() + name.map_or(0, str::len));
    write_header(out, kind, 0, nsp, ack);
    let mut attachments = Vec::new();
    if let Err(e) = json_out::write_array(out, name, args, &mut attachments) {
        out.truncate(start);
        return Err(e.into());
    }
    if !attachments.is_empty() {
        make_binary(out, start, attachments.len());
    }
    Ok(attachments)
}

/// Turns the EVENT / ACK header at `start` into BINARY_EVENT / BINARY_ACK with `count`.
fn make_binary(out: &mut BytesMut, start: usize, count: usize) {
    out[start] += PacketKind::BinaryEvent as u8 - PacketKind::Event as u8;
    let mut insert = BytesMut::with_capacity(21);
    put_decimal(&mut insert, count as u64);
    insert.put_u8(b'-');
    let old_len = out.len();
    out.resize(old_len + insert.len(), 0);
    out.copy_within(start + 1..old_len, start + 1 + insert.len());
    out[start + 1..start + 1 + insert.len()].copy_from_slice(&insert);
}

/// Writes an event or ack whose arguments are raw JSON.
fn write_raw(
    out: &mut BytesMut,
    kind: PacketKind,
    nsp: &Namespace,
    ack: Option<AckId>,
    name: Option<&str>,
    args: &RawArgs,
) {
    let count = args.attachments().len();
    let kind = match (kind, count) {
        (PacketKind::Event, 1..) => PacketKind::BinaryEvent,
        (PacketKind::Ack, 1..) => PacketKind::BinaryAck,
        (kind, _) => kind,
    };
    // All the room at once (the header's type, count and id, the namespace, the array):
    // growing the buffer twice moved the header into a second allocation.
    out.reserve(48 + nsp.as_bytes().len() + name.map_or(0, str::len) + args.elements_json().len());
    write_header(out, kind, count, nsp, ack);
    write_raw_array(out, name, args);
}

/// Writes `[name, elements]` / `[elements]`; returns the name span and the arguments offset
/// relative to the `[`.
pub(crate) fn write_raw_array(
    out: &mut BytesMut,
    name: Option<&str>,
    args: &RawArgs,
) -> (Option<(usize, usize)>, usize) {
    let base = out.len();
    out.reserve(args.elements_json().len() + name.map_or(0, str::len) + 8);
    out.put_u8(b'[');
    let mut span = None;
    if let Some(name) = name {
        let start = out.len() - base;
        write_value(out, name, &mut Vec::new()).expect("a string always serializes to JSON");
        span = Some((start, out.len() - base));
        if !args.is_empty() {
            out.put_u8(b',');
        }
    }
    let rest = out.len() - base;
    out.extend_from_slice(args.elements_json());
    out.put_u8(b']');
    (span, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Binary;

    fn nsp(s: &str) -> Namespace {
        Namespace::new(s).unwrap()
    }

    #[test]
    fn writes_headers_like_the_reference() {
        let e = Encoder::new();
        let text =
            |r: Result<Encoded, EncodeError>| String::from_utf8(r.unwrap().text.to_vec()).unwrap();
        assert_eq!(text(e.event(&nsp("/"), "foo", None, &())), r#"2["foo"]"#);
        assert_eq!(
            text(e.event(&nsp("/admin"), "foo", Some(AckId::new(13)), &())),
            r#"2/admin,13["foo"]"#
        );
        assert_eq!(text(e.ack(&nsp("/"), AckId::new(12), &())), "312[]");
        let bin = Binary::from(&b"\x01\x02\x03\x04"[..]);
        let enc = e
            .event(&nsp("/"), "foo", Some(AckId::new(14)), &(bin.clone(),))
            .unwrap();
        assert_eq!(
            &enc.text[..],
            br#"51-14["foo",{"_placeholder":true,"num":0}]"#
        );
        assert_eq!(enc.attachments, vec![bin.as_bytes().clone()]);
        let enc = e
            .ack(&nsp("/admin"), AckId::new(1), &(bin.clone(), bin))
            .unwrap();
        assert_eq!(
            &enc.text[..],
            br#"62-/admin,1[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
        );
    }

    #[test]
    fn keeps_the_prefix_and_rolls_back_on_error() {
        struct Fails;
        impl Serialize for Fails {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no"))
            }
        }
        let mut out = BytesMut::from(&b"4"[..]);
        let e = Encoder::new();
        assert!(e
            .event_into(&mut out, &Namespace::main(), "a", None, &(1, Fails))
            .is_err());
        assert!(matches!(
            e.event_into(&mut out, &Namespace::main(), "disconnect", None, &()),
            Err(EncodeError::ReservedEventName { name: "disconnect" })
        ));
        assert_eq!(&out[..], b"4");
        e.event_into(
            &mut out,
            &Namespace::main(),
            "a",
            None,
            &(Binary::from(vec![1u8]),),
        )
        .unwrap();
        assert_eq!(&out[..], br#"451-["a",{"_placeholder":true,"num":0}]"#);
    }

    #[test]
    fn raw_arguments_are_copied_as_they_are() {
        let e = Encoder::new();
        let raw = RawArgs::from_json_array(Bytes::from_static(b"[1,{\"a\":2}]"), vec![]).unwrap();
        let mut out = BytesMut::new();
        e.event_raw_into(&mut out, &nsp("/x"), "echo", Some(AckId::new(3)), &raw)
            .unwrap();
        assert_eq!(&out[..], br#"2/x,3["echo",1,{"a":2}]"#);
        let mut out = BytesMut::new();
        e.ack_raw_into(
            &mut out,
            &Namespace::main(),
            AckId::new(9),
            &RawArgs::empty(),
        );
        assert_eq!(&out[..], b"39[]");
        let mut out = BytesMut::new();
        e.event_raw_into(&mut out, &Namespace::main(), "e", None, &RawArgs::empty())
            .unwrap();
        assert_eq!(&out[..], br#"2["e"]"#);
    }
}
