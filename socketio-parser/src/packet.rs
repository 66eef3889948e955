//! The data model: [`PacketKind`] and [`Packet`].

use std::fmt;

use bytes::Bytes;
use serde::Deserialize;

use crate::ack_id::AckId;
use crate::args::{self, EventName, RawArgs};
use crate::error::ArgsError;
use crate::namespace::Namespace;

/// The seven Socket.IO packet types, numbered as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketKind {
    /// `0`: connect to a namespace (client: optional auth object; server: `{"sid":…}`).
    Connect = 0,
    /// `1`: leave a namespace. No payload.
    Disconnect = 1,
    /// `2`: an event `[name, ...args]`.
    Event = 2,
    /// `3`: the answer to an event that carried an ack id: `[...args]`.
    Ack = 3,
    /// `4`: the server refuses a namespace connection: a string or an object.
    ConnectError = 4,
    /// `5`: an event with binary attachments.
    BinaryEvent = 5,
    /// `6`: an ack with binary attachments.
    BinaryAck = 6,
}

impl PacketKind {
    /// The kind for a wire digit `0`..=`6`.
    pub fn from_digit(digit: u8) -> Option<Self> {
        Some(match digit {
            b'0' => PacketKind::Connect,
            b'1' => PacketKind::Disconnect,
            b'2' => PacketKind::Event,
            b'3' => PacketKind::Ack,
            b'4' => PacketKind::ConnectError,
            b'5' => PacketKind::BinaryEvent,
            b'6' => PacketKind::BinaryAck,
            _ => return None,
        })
    }

    /// The wire digit.
    pub fn digit(self) -> u8 {
        b'0' + self as u8
    }

    /// BINARY_EVENT or BINARY_ACK: announces attachments.
    pub fn is_binary(self) -> bool {
        matches!(self, PacketKind::BinaryEvent | PacketKind::BinaryAck)
    }

    /// EVENT or BINARY_EVENT.
    pub fn is_event(self) -> bool {
        matches!(self, PacketKind::Event | PacketKind::BinaryEvent)
    }

    /// ACK or BINARY_ACK.
    pub fn is_ack(self) -> bool {
        matches!(self, PacketKind::Ack | PacketKind::BinaryAck)
    }

    /// The name used by the protocol documents, e.g. `BINARY_EVENT`.
    pub fn name(self) -> &'static str {
        match self {
            PacketKind::Connect => "CONNECT",
            PacketKind::Disconnect => "DISCONNECT",
            PacketKind::Event => "EVENT",
            PacketKind::Ack => "ACK",
            PacketKind::ConnectError => "CONNECT_ERROR",
            PacketKind::BinaryEvent => "BINARY_EVENT",
            PacketKind::BinaryAck => "BINARY_ACK",
        }
    }
}

impl fmt::Display for PacketKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the event name sits in the payload, and how to read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NameSpan {
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// A string (`Some(escaped)`) or a number (`None`).
    pub(crate) string: Option<bool>,
}

/// One Socket.IO packet: kind, namespace, optional ack id, JSON payload and attachments.
///
/// A decoded packet keeps its payload as a [`Bytes`] slice of the received frame and its
/// attachments as the received [`Bytes`]; nothing is parsed until asked:
/// [`event_name`](Packet::event_name) reads the name in place, [`args`](Packet::args)
/// deserializes the arguments into your types, and [`raw_args`](Packet::raw_args) hands the
/// argument JSON on untouched (to forward or echo it).
///
/// Build outgoing packets with [`Packet::event`], [`Packet::ack`], [`Packet::connect`] and
/// friends, and turn them into frames with an [`Encoder`](crate::Encoder).
///
/// The kind is the wire kind: a packet with attachments is a BINARY_EVENT or BINARY_ACK.
/// [`PacketKind::is_event`] and [`PacketKind::is_ack`] cover both forms.
#[derive(Clone)]
pub struct Packet {
    pub(crate) kind: PacketKind,
    pub(crate) nsp: Namespace,
    pub(crate) ack: Option<AckId>,
    /// The payload JSON, exactly (no surrounding whitespace); placeholders left in place.
    pub(crate) payload: Option<Bytes>,
    /// Events: the name.
    pub(crate) name: Option<NameSpan>,
    /// Events and acks: offset in `payload` of the first argument, or of the closing bracket
    /// when there is none.
    pub(crate) rest: usize,
    pub(crate) attachments: Vec<Bytes>,
    /// A packet decoded from a MessagePack frame: its data value, a slice of the frame.
    /// `args` and `payload_as` read it instead of the JSON (the same values, faster).
    #[cfg(feature = "msgpack")]
    pub(crate) msgpack: Option<Bytes>,
}

/// Two packets are equal when they say the same: the form a packet was decoded from (text
/// or MessagePack) does not count.
impl PartialEq for Packet {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.nsp == other.nsp
            && self.ack == other.ack
            && self.payload == other.payload
            && self.name == other.name
            && self.rest == other.rest
            && self.attachments == other.attachments
    }
}

impl Packet {
    /// The wire kind.
    pub fn kind(&self) -> PacketKind {
        self.kind
    }

    /// The namespace.
    pub fn namespace(&self) -> &Namespace {
        &self.nsp
    }

    /// The ack id, if any. Any kind may carry one on the wire (the reference decoder reads it
    /// for every kind); it means something for EVENT (answer me) and ACK (this answers).
    pub fn ack_id(&self) -> Option<AckId> {
        self.ack
    }

    /// The binary attachments, in placeholder order.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// Takes the attachments out of the packet.
    pub fn take_attachments(&mut self) -> Vec<Bytes> {
        // The MessagePack data still holds the bytes; reading it would find binary that the
        // JSON no longer has.
        #[cfg(feature = "msgpack")]
        {
            self.msgpack = None;
        }
        std::mem::take(&mut self.attachments)
    }

    /// The payload JSON as received (placeholders not replaced), if there is one.
    pub fn payload(&self) -> Option<&Bytes> {
        self.payload.as_ref()
    }

    /// The event name of an EVENT / BINARY_EVENT, read in place: a string (borrowed unless
    /// it holds escapes) or a number. `None` for other kinds.
    pub fn event_name(&self) -> Option<EventName<'_>> {
        let span = self.name?;
        let payload = self.payload.as_ref()?;
        Some(args::event_name(
            &payload[span.start..span.end],
            span.string,
        ))
    }

    /// Deserializes the arguments: for an event, the elements after its name; for an ack, all
    /// its elements.
    ///
    /// `T` is read as a sequence: a tuple such as `(String, Binary)`, a `Vec<_>`, or a struct
    /// (fields in order). Extra arguments beyond what `T` reads are ignored, as a JavaScript
    /// handler ignores them; missing ones are an error. For one argument use a 1-tuple
    /// `(T,)`. Placeholders deserialize into [`Binary`](crate::Binary) values that share the
    /// attachments' memory.
    ///
    /// A packet from `msgpack::decode` (feature `msgpack`) reads its arguments straight from
    /// the MessagePack frame rather than from the JSON payload: the same values and errors,
    /// without parsing the JSON.
    ///
    /// # Errors
    /// [`ArgsError::NoArguments`] for kinds other than events and acks, [`ArgsError::Json`]
    /// when the arguments do not fit `T`.
    pub fn args<'de, T: Deserialize<'de>>(&'de self) -> Result<T, ArgsError> {
        let payload = self.args_payload("arguments")?;
        #[cfg(feature = "msgpack")]
        if let Some(data) = &self.msgpack {
            return crate::msgpack::deserialize_args(
                data,
                self.kind.is_event(),
                !self.attachments.is_empty(),
            );
        }
        args::deserialize_args(payload, self.kind.is_event(), &self.attachments)
    }

    /// Deserializes the whole payload, e.g. the auth object of a CONNECT or the object of a
    /// CONNECT_ERROR. Placeholders deserialize into [`Binary`](crate::Binary) values.
    ///
    /// # Errors
    /// [`ArgsError::NoArguments`] when the packet has no payload, [`ArgsError::Json`] when it
    /// does not fit `T`.
    pub fn payload_as<'de, T: Deserialize<'de>>(&'de self) -> Result<T, ArgsError> {
        let payload = self.payload.as_ref().ok_or(ArgsError::NoArguments {
            kind: self.kind,
            what: "payload",
        })?;
        #[cfg(feature = "msgpack")]
        if let Some(data) = &self.msgpack {
            return crate::msgpack::deserialize_value(data, !self.attachments.is_empty());
        }
        args::deserialize_value(payload, &self.attachments)
    }

    /// The arguments as raw JSON plus attachments, to encode again without parsing them
    /// (forwarding, echoing). `None` for kinds other than events and acks.
    pub fn raw_args(&self) -> Option<RawArgs> {
        let payload = self.args_payload("arguments").ok()?;
        Some(RawArgs::from_checked(
            trim_end(payload.slice(self.rest..payload.len() - 1)),
            self.attachments.clone(),
        ))
    }

    fn args_payload(&self, what: &'static str) -> Result<&Bytes, ArgsError> {
        match &self.payload {
            Some(p) if self.kind.is_event() || self.kind.is_ack() => Ok(p),
            _ => Err(ArgsError::NoArguments {
                kind: self.kind,
                what,
            }),
        }
    }
}

fn trim_end(mut bytes: Bytes) -> Bytes {
    let keep = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .map_or(0, |i| i + 1);
    bytes.truncate(keep);
    bytes
}

impl fmt::Debug for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Packet");
        d.field("kind", &self.kind).field("nsp", &self.nsp);
        if let Some(ack) = self.ack {
            d.field("ack", &ack.get());
        }
        if let Some(p) = &self.payload {
            d.field("payload", &String::from_utf8_lossy(p));
        }
        if !self.attachments.is_empty() {
            let sizes: Vec<usize> = self.attachments.iter().map(Bytes::len).collect();
            d.field("attachment_sizes", &sizes);
        }
        d.finish()
    }
}
