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

/// The payload as JSON text: the text, where the event name is, where the arguments start.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Json {
    /// The payload JSON, exactly (no surrounding whitespace); placeholders left in place.
    pub(crate) text: Option<Bytes>,
    /// Events: the name.
    pub(crate) name: Option<NameSpan>,
    /// Events and acks: offset in `text` of the first argument, or of the closing bracket
    /// when there is none.
    pub(crate) rest: usize,
}

/// What a packet holds its payload as.
#[derive(Clone)]
pub(crate) enum Payload {
    /// JSON text: a packet decoded from text, or built.
    Json(Json),
    /// A packet decoded from a MessagePack frame: its data value, a slice of the frame, and
    /// its JSON written only when something asks for it.
    #[cfg(feature = "msgpack")]
    Msgpack(crate::msgpack::Data),
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
    pub(crate) payload: Payload,
    pub(crate) attachments: Vec<Bytes>,
}

/// Two packets are equal when they say the same: the form a packet was decoded from (text
/// or MessagePack) does not count.
impl PartialEq for Packet {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.nsp == other.nsp
            && self.ack == other.ack
            && self.json() == other.json()
            && self.attachments() == other.attachments()
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
        #[cfg(feature = "msgpack")]
        if let Payload::Msgpack(data) = &self.payload {
            return data.attachments();
        }
        &self.attachments
    }

    /// Takes the attachments out of the packet.
    pub fn take_attachments(&mut self) -> Vec<Bytes> {
        // The MessagePack data still holds the bytes; reading it would find binary that the
        // JSON no longer has. From now on the arguments are read from the JSON.
        #[cfg(feature = "msgpack")]
        if let Payload::Msgpack(data) = &mut self.payload {
            self.attachments = data.take_attachments();
            self.payload = Payload::Json(data.json(self.kind).clone());
        }
        std::mem::take(&mut self.attachments)
    }

    /// The payload JSON as received (placeholders not replaced), if there is one.
    ///
    /// A packet from `msgpack::decode` (feature `msgpack`) writes its JSON on the first call
    /// (or the first of [`raw_args`](Packet::raw_args), comparing or printing the packet)
    /// and keeps it.
    pub fn payload(&self) -> Option<&Bytes> {
        self.json().text.as_ref()
    }

    /// The event name of an EVENT / BINARY_EVENT, read in place: a string (borrowed unless
    /// it holds escapes) or a number. `None` for other kinds.
    pub fn event_name(&self) -> Option<EventName<'_>> {
        #[cfg(feature = "msgpack")]
        if let Payload::Msgpack(data) = &self.payload {
            return data.event_name(self.kind);
        }
        let json = self.json();
        let span = json.name?;
        let text = json.text.as_ref()?;
        Some(args::event_name(&text[span.start..span.end], span.string))
    }

    /// The payload as JSON text, written now if the packet holds MessagePack data.
    pub(crate) fn json(&self) -> &Json {
        match &self.payload {
            Payload::Json(json) => json,
            #[cfg(feature = "msgpack")]
            Payload::Msgpack(data) => data.json(self.kind),
        }
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
        self.args_kind("arguments")?;
        #[cfg(feature = "msgpack")]
        if let Payload::Msgpack(data) = &self.payload {
            return data.args(self.kind.is_event());
        }
        let text = self.json().text.as_ref().ok_or(ArgsError::NoArguments {
            kind: self.kind,
            what: "arguments",
        })?;
        args::deserialize_args(text, self.kind.is_event(), &self.attachments)
    }

    /// Deserializes the whole payload, e.g. the auth object of a CONNECT or the object of a
    /// CONNECT_ERROR. Placeholders deserialize into [`Binary`](crate::Binary) values.
    ///
    /// # Errors
    /// [`ArgsError::NoArguments`] when the packet has no payload, [`ArgsError::Json`] when it
    /// does not fit `T`.
    pub fn payload_as<'de, T: Deserialize<'de>>(&'de self) -> Result<T, ArgsError> {
        #[cfg(feature = "msgpack")]
        if let Payload::Msgpack(data) = &self.payload {
            return data.payload_as();
        }
        let text = self.json().text.as_ref().ok_or(ArgsError::NoArguments {
            kind: self.kind,
            what: "payload",
        })?;
        args::deserialize_value(text, &self.attachments)
    }

    /// The arguments as raw JSON plus attachments, to encode again without parsing them
    /// (forwarding, echoing). `None` for kinds other than events and acks.
    pub fn raw_args(&self) -> Option<RawArgs> {
        self.args_kind("arguments").ok()?;
        let json = self.json();
        let text = json.text.as_ref()?;
        Some(RawArgs::from_checked(
            trim_end(text.slice(json.rest..text.len() - 1)),
            self.attachments().to_vec(),
        ))
    }

    /// Events and acks have arguments (a packet of another kind is refused before its
    /// payload is looked at).
    fn args_kind(&self, what: &'static str) -> Result<(), ArgsError> {
        if self.kind.is_event() || self.kind.is_ack() {
            return Ok(());
        }
        Err(ArgsError::NoArguments {
            kind: self.kind,
            what,
        })
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
        if let Some(p) = self.payload() {
            d.field("payload", &String::from_utf8_lossy(p));
        }
        if !self.attachments().is_empty() {
            let sizes: Vec<usize> = self.attachments().iter().map(Bytes::len).collect();
            d.field("attachment_sizes", &sizes);
        }
        d.finish()
    }
}
