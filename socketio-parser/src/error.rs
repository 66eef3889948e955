//! The error types, one per kind of fault.
//!
//! * [`DecodeError`]: the **peer** sent something the protocol does not allow. The reference
//!   server answers every such error by closing the whole Engine.IO connection; so should you.
//! * [`EncodeError`]: the **caller** asked for something that cannot be put on the wire
//!   (a reserved event name, a payload of the wrong shape, a value serde cannot serialize).
//! * [`ArgsError`]: a well-formed packet whose arguments do not fit the Rust type a handler asked
//!   for. Neither side broke the protocol; the application decides what to do.
//!
//! Offsets in [`DecodeError`] count bytes from the start of the Socket.IO text frame, that is
//! the packet text without the Engine.IO `4` prefix; for a MessagePack frame (the `msgpack`
//! feature), from the start of that binary frame.

use std::fmt;

use thiserror::Error;

use crate::packet::PacketKind;

/// What the peer got wrong in a frame: the peer's fault. The reference server answers every
/// such error by closing the whole Engine.IO connection; so should you. Offsets count bytes
/// from the start of the Socket.IO text frame (the packet without the Engine.IO `4`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The text frame is empty: a packet needs at least its type digit.
    #[error("empty text frame: a packet starts with a type digit 0-6")]
    EmptyFrame,
    /// The first byte is not a packet type digit `0`..=`6`.
    #[error("unknown packet type {} at offset 0: expected a digit 0-6", ByteDisplay(*found))]
    UnknownType {
        /// The byte found instead.
        found: u8,
    },
    /// The attachment count of a BINARY_EVENT / BINARY_ACK header is malformed.
    #[error("illegal attachment count at offset {offset}: {reason}")]
    IllegalAttachments {
        /// Where the count starts.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The attachment count is above [`DecoderConfig::max_attachments`](crate::DecoderConfig).
    #[error("{count} attachments announced at offset {offset}, more than the limit of {max}")]
    TooManyAttachments {
        /// Where the count starts.
        offset: usize,
        /// The announced count (saturated at `u64::MAX`).
        count: u64,
        /// The configured limit.
        max: usize,
    },
    /// The namespace is not valid UTF-8.
    #[error("namespace at offset {offset} is not valid UTF-8")]
    NamespaceNotUtf8 {
        /// Where the namespace starts.
        offset: usize,
    },
    /// The ack id does not fit in 64 bits.
    #[error("ack id at offset {offset} does not fit in 64 bits")]
    AckIdOverflow {
        /// Where the ack id starts.
        offset: usize,
    },
    /// The payload is not valid JSON.
    #[error("invalid JSON payload at offset {offset}: {error}")]
    InvalidJson {
        /// Where the problem was found.
        offset: usize,
        /// What the problem is.
        error: JsonError,
    },
    /// The payload nests arrays and objects deeper than
    /// [`DecoderConfig::max_depth`](crate::DecoderConfig).
    #[error("JSON payload nests deeper than {max} levels at offset {offset}")]
    TooDeep {
        /// The bracket that went one level too deep.
        offset: usize,
        /// The configured limit.
        max: usize,
    },
    /// The payload has a JSON type this packet kind does not allow (or is missing).
    #[error("invalid {kind} payload at offset {offset}: expected {expected}, found {found}")]
    InvalidPayload {
        /// The packet kind, as announced by the type digit.
        kind: PacketKind,
        /// Where the payload starts (the frame length when it is missing).
        offset: usize,
        /// What the kind allows.
        expected: &'static str,
        /// What was there.
        found: &'static str,
    },
    /// An EVENT uses one of the names reserved by Socket.IO.
    #[error("reserved event name {name:?} at offset {offset}")]
    ReservedEventName {
        /// The reserved name.
        name: &'static str,
        /// Where the name starts.
        offset: usize,
    },
    /// The packet (text frame plus attachments so far) is above
    /// [`DecoderConfig::max_packet_size`](crate::DecoderConfig).
    #[error("packet of at least {size} bytes exceeds the limit of {max} bytes")]
    PacketTooLarge {
        /// Bytes received for this packet, counting the frame that crossed the limit.
        size: usize,
        /// The configured limit.
        max: usize,
    },
    /// A binary placeholder is wrong.
    #[error("bad binary placeholder at offset {offset}: {error}")]
    BadPlaceholder {
        /// Where the placeholder object starts.
        offset: usize,
        /// What is wrong with it.
        error: PlaceholderError,
    },
    /// An announced attachment has no placeholder in the payload.
    #[error("attachment {index} is announced but no placeholder refers to it")]
    MissingPlaceholder {
        /// The attachment nobody refers to.
        index: usize,
    },
    /// A text frame arrived while the attachments of the previous packet were still expected.
    #[error("text frame received while {remaining} attachment(s) of the previous packet are outstanding")]
    UnexpectedText {
        /// How many binary frames were still expected.
        remaining: usize,
    },
    /// A binary frame arrived while no attachment was expected.
    #[error("binary frame received while no attachment is expected")]
    UnexpectedBinary,
    /// A MessagePack frame (the `msgpack` feature) is malformed or is not a valid packet.
    #[error("invalid MessagePack packet at offset {offset}: {error}")]
    InvalidMsgpack {
        /// Where the problem was found, in bytes from the start of the frame.
        offset: usize,
        /// What the problem is.
        error: MsgpackError,
    },
}

/// What is wrong with a MessagePack frame, for the `msgpack` feature's decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MsgpackError {
    /// The frame ends inside a value.
    #[error("unexpected end of the frame")]
    UnexpectedEnd,
    /// The byte 0xc1, which MessagePack leaves unused.
    #[error("the unused marker byte 0xc1")]
    UnusedMarker,
    /// Bytes after the packet's map.
    #[error("trailing bytes after the packet")]
    TrailingBytes,
    /// A string holds bytes that are not UTF-8.
    #[error("invalid UTF-8 in a string")]
    InvalidUtf8,
    /// The frame is not a map: a packet is the map `{type, nsp, data?, id?}`.
    #[error("a packet is a map {{type, nsp, data?, id?}}")]
    NotAMap,
    /// One of `type`, `nsp`, `data` or `id` appears twice in the packet's map.
    #[error("the packet's map repeats a key")]
    RepeatedKey,
    /// `type` is missing, not an integer, or not one of 0 to 4.
    #[error("\"type\" must be an integer from 0 to 4")]
    InvalidType,
    /// `nsp` is missing, not a string, or not a namespace this crate can carry.
    #[error("invalid \"nsp\": {0}")]
    InvalidNamespace(&'static str),
    /// `id` is not an integer from 0 to 2^64 - 1.
    #[error("\"id\" must be an integer from 0 to 2^64-1")]
    InvalidAckId,
    /// A map key in the payload is neither a string nor a number.
    #[error("a map key must be a string or a number")]
    InvalidMapKey,
    /// A map in the payload has `"_placeholder": true`, which the JSON form reserves for
    /// attachments.
    #[error("a map with \"_placeholder\": true")]
    PlaceholderKey,
    /// Binary data in a packet other than EVENT or ACK.
    #[error("binary data is only allowed in EVENT and ACK packets")]
    BinaryNotAllowed,
}

/// What is wrong with a JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JsonError {
    /// The text ends inside a value.
    #[error("unexpected end of input")]
    UnexpectedEnd,
    /// A byte that cannot start or continue a value here.
    #[error("unexpected {}", ByteDisplay(*.0))]
    UnexpectedByte(u8),
    /// Whitespace before the payload. The reference decoder would read it as an ack id (a
    /// JavaScript `Number(" ")` is 0); this crate rejects it.
    #[error("whitespace before the payload")]
    LeadingWhitespace,
    /// A string holds bytes that are not UTF-8.
    #[error("invalid UTF-8 in a string")]
    InvalidUtf8,
    /// A string holds a raw control character (below U+0020).
    #[error("unescaped control character in a string")]
    ControlCharacter,
    /// A backslash escape other than `\" \\ \/ \b \f \n \r \t \uXXXX`.
    #[error("invalid escape sequence")]
    InvalidEscape,
    /// A number that does not follow the JSON grammar.
    #[error("invalid number")]
    InvalidNumber,
    /// Something other than whitespace after the value.
    #[error("trailing characters after the value")]
    TrailingCharacters,
}

/// What is wrong with a binary placeholder `{"_placeholder":true,"num":N}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PlaceholderError {
    /// An object has `"_placeholder":true` but is not exactly
    /// `{"_placeholder":true,"num":N}` (in either key order).
    #[error(
        "an object with \"_placeholder\":true must be exactly {{\"_placeholder\":true,\"num\":N}}"
    )]
    Malformed,
    /// `num` is not a non-negative integer written with digits only.
    #[error("\"num\" must be a non-negative integer")]
    NotAnInteger,
    /// `num` is not below the announced attachment count.
    #[error("refers to attachment {num}, but the packet announces {count}")]
    OutOfRange {
        /// The number found (saturated at `u64::MAX`).
        num: u64,
        /// The announced attachment count.
        count: usize,
    },
    /// Two placeholders refer to the same attachment.
    #[error("attachment {num} is referred to twice")]
    Repeated {
        /// The attachment referred to twice.
        num: usize,
    },
}

/// What the caller got wrong when building or encoding a packet.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The event name is reserved by Socket.IO and must not be emitted.
    #[error("event name {name:?} is reserved and cannot be emitted")]
    ReservedEventName {
        /// The reserved name.
        name: &'static str,
    },
    /// The namespace is not one the wire format can carry.
    #[error("invalid namespace {namespace:?}: {reason}")]
    InvalidNamespace {
        /// The rejected text.
        namespace: String,
        /// Why.
        reason: &'static str,
    },
    /// The payload serialized to a JSON type this packet kind does not allow.
    #[error("a {kind} payload must be {expected}")]
    InvalidPayload {
        /// The packet kind.
        kind: PacketKind,
        /// What the kind allows.
        expected: &'static str,
    },
    /// Pre-encoded arguments are not a valid JSON array, or their placeholders do not match
    /// the attachments given with them.
    #[error("invalid raw arguments: {0}")]
    InvalidRawArgs(DecodeError),
    /// A packet text given to the MessagePack transcoder (the `msgpack` feature) is not a
    /// valid packet, or its placeholders do not match the attachments given with it; or a
    /// packet's payload nests deeper than MessagePack encoding allows (512 levels).
    #[error("cannot transcode the packet to MessagePack: {0}")]
    InvalidPacketText(DecodeError),
    /// The value could not be serialized.
    #[error("cannot serialize the payload: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// A packet's arguments do not deserialize into the requested type.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ArgsError {
    /// The packet kind carries no arguments of that sort (e.g. `args` on a CONNECT).
    #[error("a {kind} packet has no {what}")]
    NoArguments {
        /// The packet kind.
        kind: PacketKind,
        /// What was asked for.
        what: &'static str,
    },
    /// The JSON does not fit the requested type.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The packet carries binary, and some of it reached a type that cannot hold bytes
    /// (`serde_json::Value`, a map, a struct field that is not [`Binary`](crate::Binary)),
    /// which would have taken a placeholder for an ordinary object. Read binary with
    /// [`Binary`](crate::Binary) or [`Value`](crate::Value).
    #[error(
        "{count} binary attachment(s) reached a type that cannot hold bytes; \
         read them with socketio_parser::Binary or socketio_parser::Value"
    )]
    UnreadBinary {
        /// How many placeholders were read as something other than bytes.
        count: usize,
    },
}

/// Shows a byte as a character when printable ASCII, otherwise in hex.
struct ByteDisplay(u8);

impl fmt::Display for ByteDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_ascii_graphic() || self.0 == b' ' {
            write!(f, "byte {:?}", self.0 as char)
        } else {
            write!(f, "byte 0x{:02x}", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_and_where() {
        let cases = [
            (DecodeError::UnknownType { found: b'9' }, "unknown packet type byte '9' at offset 0: expected a digit 0-6"),
            (DecodeError::UnknownType { found: 0 }, "unknown packet type byte 0x00 at offset 0: expected a digit 0-6"),
            (
                DecodeError::InvalidJson { offset: 7, error: JsonError::UnexpectedByte(b'}') },
                "invalid JSON payload at offset 7: unexpected byte '}'",
            ),
            (
                DecodeError::BadPlaceholder { offset: 8, error: PlaceholderError::OutOfRange { num: 3, count: 1 } },
                "bad binary placeholder at offset 8: refers to attachment 3, but the packet announces 1",
            ),
            (
                DecodeError::InvalidPayload { kind: PacketKind::Event, offset: 1, expected: "an array", found: "an object" },
                "invalid EVENT payload at offset 1: expected an array, found an object",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
        let e = EncodeError::ReservedEventName { name: "connect" };
        assert_eq!(
            e.to_string(),
            "event name \"connect\" is reserved and cannot be emitted"
        );
    }
}
