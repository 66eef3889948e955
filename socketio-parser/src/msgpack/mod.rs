//! The official MessagePack parser, `socket.io-msgpack-parser` 3.x, as a transcoder (feature
//! `msgpack`).
//!
//! A client built with `parser: require("socket.io-msgpack-parser")` sends every Socket.IO
//! packet as **one Engine.IO binary message**: the MessagePack encoding (as `notepack.io`
//! writes it) of the packet object `{type, data, nsp, id}`. Binary values are MessagePack
//! `bin` inside the data; there are no attachments, no placeholders and no BINARY_EVENT or
//! BINARY_ACK types.
//!
//! This module converts between that form and the crate's own, so that everything above the
//! codec stays as it is:
//!
//! * [`decode`] turns a frame into the [`Packet`] the default text [`Decoder`](crate::Decoder)
//!   would have produced for the equivalent text packet: the data as JSON bytes (what
//!   `JSON.stringify` writes for the value notepack decodes), every `bin` replaced by a
//!   placeholder `{"_placeholder":true,"num":N}` (depth first, left to right) whose bytes
//!   become an attachment sharing the frame's memory (`Bytes::slice`, no copy), and the kind
//!   BINARY_EVENT / BINARY_ACK when there are attachments. [`Packet::args`],
//!   [`Binary`](crate::Binary) and [`Packet::raw_args`] work unchanged. The packet keeps
//!   its data as a slice of the frame, and [`Packet::args`] / [`Packet::payload_as`] read
//!   it from there, giving what the JSON path gives (the same values, `&str` borrowed where
//!   JSON would borrow, binary as slices of the frame, binary that reaches a type that
//!   cannot hold it refused) without the JSON; [`Packet::event_name`] reads the name there
//!   too. The JSON is written when first asked for ([`Packet::payload`],
//!   [`Packet::raw_args`], comparing or printing the packet), except for data that holds a
//!   `Date`, whose arguments are read from the JSON: `decode` checks every rule of it but
//!   writes nothing, unless the frame is large enough for its JSON to reach
//!   `max_packet_size`.
//! * [`encode_text_packet`] takes what the default [`Encoder`](crate::Encoder) produced (the
//!   packet text without the Engine.IO `4`, and its attachments) and returns the one frame
//!   the official `socket.io-msgpack-parser` Encoder writes for the object the official Node
//!   server builds for the same packet, byte for byte. So a broadcast is encoded to text once
//!   and transcoded once for all the clients that speak MessagePack. [`encode`] does the same
//!   from a [`Packet`].
//!
//! ```
//! use bytes::Bytes;
//! use socketio_parser::{msgpack, Binary, DecoderConfig, Encoder, Namespace, Packet};
//!
//! // A binary Engine.IO message from a client: {type: 2, data: ["upload", <bin 01 02>],
//! // nsp: "/files", id: 7}, as notepack writes it.
//! let frame = Bytes::from_static(b"\x84\xa4type\x02\xa4data\x92\xa6upload\xc4\x02\x01\x02\
//!     \xa3nsp\xa6/files\xa2id\x07");
//! let packet = msgpack::decode(frame, &DecoderConfig::default())
//!     .expect("a peer that breaks the protocol: close the connection");
//! assert_eq!(packet.payload().unwrap().as_ref(), br#"["upload",{"_placeholder":true,"num":0}]"#);
//! assert_eq!(packet.namespace(), "/files");
//! let (data,): (Binary,) = packet.args().unwrap();
//! assert_eq!(&data[..], &[1, 2]);
//!
//! // The answer: encode as usual, then transcode the text (here from its `Encoded` form; a
//! // server that wrote "4" + text into one buffer passes `&buf[1..]`).
//! let ack = Encoder::new().ack(packet.namespace(), packet.ack_id().unwrap(), &("ok",)).unwrap();
//! let frame = msgpack::encode_text_packet(&ack.text, &ack.attachments).unwrap();
//! // {id: 7, type: 3, data: ["ok"], nsp: "/files"}: the key order of the Node server's ack.
//! assert_eq!(&frame[..], b"\x84\xa2id\x07\xa4type\x03\xa4data\x91\xa2ok\xa3nsp\xa6/files");
//!
//! // Or from a packet.
//! let hello = Packet::event(Namespace::main(), "hello", &(1, 2.5)).unwrap();
//! assert_eq!(
//!     &msgpack::encode(&hello).unwrap()[..],
//!     b"\x83\xa4type\x02\xa4data\x93\xa5hello\x01\xcb\x40\x04\x00\x00\x00\x00\x00\x00\xa3nsp\xa1/"
//! );
//! ```
//!
//! On a connection that uses this parser, every Engine.IO message is binary and carries one
//! whole packet: call [`decode`] for each one (no per-connection decoder state); a text
//! message is a protocol error there (the official decoder fails on it too).
//!
//! # Decoding: what is accepted, and how it becomes JSON
//!
//! The rules of the official decoder (`checkPacket`): the frame is one MessagePack value with
//! no trailing bytes; `type` an integer 0 to 4 (`Number.isInteger`, so `2.0` counts); `nsp` a
//! string; `id` absent, `undefined` or an integer; `data` as each type allows: CONNECT absent
//! or a map, DISCONNECT absent, CONNECT_ERROR a string or a map, EVENT and ACK an array.
//! Other keys of the packet map are ignored (the JavaScript client sends `options`). The
//! limits of [`DecoderConfig`] apply, where the official decoder has
//! none: `max_packet_size` to the frame and to the equivalent text packet (the JSON plus the
//! attachments), `max_attachments` to the number of binary values, `max_depth` to the data's
//! nesting as the text form nests (the data array counts as 1, a binary value as the
//! placeholder object it becomes, an extension as `[type, placeholder]`) and to the values
//! of keys that are ignored.
//!
//! Values become what `JSON.stringify` writes for what notepack decodes:
//!
//! * numbers as JavaScript prints them: integers beyond 2^53 (int 64, uint 64) rounded to the
//!   nearest double first, as `hi * 2^32 + lo` rounds them (`18446744073709551615` becomes
//!   `18446744073709552000`); float 32 widened; NaN and the infinities become `null`, as
//!   `JSON.stringify` writes them. A JavaScript server would hand its handler NaN or
//!   Infinity and, echoing them, send them back as such; a server on this crate sees `null`
//!   and echoes `null`, which is what the text parser gives for the same emit.
//! * `undefined` (fixext 1 of type 0): `null` in an array, and in a map the key is left out;
//!   as the data itself it means "no data".
//! * a `Date` (fixext 8 of type 0): its ISO string, `"2024-05-06T13:08:09.010Z"`, or `null`
//!   when out of `Date`'s range. A JavaScript server would hand its handler a `Date` and
//!   echo it as one; here it is the string the text parser would have carried.
//! * `bin`, and ext 8/16/32 of type 0 (notepack's `ArrayBuffer`): an attachment.
//! * any other extension: `[type, <attachment>]`, as notepack reads it.
//! * map keys: strings, and numbers as JavaScript names the property (`1` is `"1"`, `NaN` is
//!   `"NaN"`). A key that is neither (nil, a boolean, an array...) is refused: JavaScript would
//!   turn it into text such as `"null"` or `"[object Object]"`, which no client means. A key
//!   repeated in a map stays repeated in the JSON, where `JSON.parse`, like notepack, keeps
//!   the last value. Keys keep their order (JavaScript lists integer-like keys first).
//!
//! This crate is stricter than the official decoder in these points:
//!
//! * **Strings** must be UTF-8 (notepack replaces bad bytes with U+FFFD).
//! * **The namespace** must start with `/` and hold no `,`, as any [`Namespace`](crate::Namespace)
//!   (the official decoder takes any string; the Node server then refuses it as an unknown
//!   namespace).
//! * **Ack ids** must be integers from 0 to 2^64 - 1 (the official decoder takes negative
//!   ones too, and rounds beyond 2^53).
//! * **Events** need a name, as with the text parser: a string that is not reserved, or a
//!   finite number (the official decoder takes any array, even an empty one).
//! * **Binary data** only in EVENT and ACK (the text form has attachments only there).
//! * **`"_placeholder": true`** in a map is refused: the JSON form reserves such objects for
//!   attachments.
//! * **The packet map** must not repeat `type`, `nsp`, `data` or `id` (JavaScript keeps the
//!   last), and the data must not be an extension value (notepack would make it an array).
//!
//! # Encoding: byte-identical to the Node server
//!
//! The frame is the map of the object the Node server builds: `{type, data, id, nsp}` for
//! events and everything else (`socket.emit`, `id` only with an ack callback), `{id, type,
//! data, nsp}` for acks (`socket.ack`), and `{type, nsp, data}` for its refusal of an unknown
//! namespace (`{"message":"Invalid namespace"}`, written by `client.js`). Strings, maps and
//! arrays take notepack's smallest headers; an integral number its smallest integer
//! encoding, any other number float 64; placeholders become `bin` of their attachment. The
//! differential tests check this against the npm packages.
//!
//! Where the Node server's object differs, the bytes do too: its CONNECT answer is
//! `{sid, pid}` with `pid` undefined (written as fixext 1) unless connection state recovery
//! is on, a middleware refusal is `{message, data}` with `data` undefined unless set, and a
//! broadcast with an ack has `nsp` before `id`. JSON numbers are read as JavaScript reads
//! them, so an integer beyond 2^53 becomes the nearest double, as it would in a JavaScript
//! peer (a Rust `u64` above 2^53 does not travel exactly; it does not through the text
//! parser to a JavaScript peer either). An integral number outside the 64-bit integers
//! (`1e20`) is written as float 64, where notepack wraps it modulo 2^64 (its 32-bit halves
//! overflow) and so corrupts it. A lone UTF-16 surrogate escaped in the JSON becomes U+FFFD,
//! as Node's `Buffer` writes it (notepack writes other bytes for strings of at most 32 UTF-16
//! units).
//!
//! The text given to [`encode_text_packet`] is checked to be well-formed (header, JSON,
//! placeholders against the attachments) but not against the per-type payload rules, which
//! are the encoder's business.

mod data;
mod date;
mod de;
mod decode;
mod encode;
mod read;

use bytes::Bytes;

use crate::config::DecoderConfig;
use crate::error::{DecodeError, EncodeError};
use crate::packet::Packet;

pub(crate) use data::Data;

/// Decodes one MessagePack frame (a binary Engine.IO message) into a packet, as the default
/// [`Decoder`](crate::Decoder) would decode the equivalent text packet.
///
/// # Errors
/// Any [`DecodeError`]: the peer broke the protocol (close the connection). Errors found in
/// the MessagePack itself are [`DecodeError::InvalidMsgpack`]; the payload and limit errors
/// are the text decoder's, with offsets into the frame.
pub fn decode(frame: Bytes, config: &DecoderConfig) -> Result<Packet, DecodeError> {
    decode::decode(frame, config)
}

/// Transcodes a packet text, as the default [`Encoder`](crate::Encoder) produces it (the
/// Socket.IO packet without the Engine.IO `4`), and its attachments into one MessagePack
/// frame, to send as one binary Engine.IO message.
///
/// # Errors
/// [`EncodeError::InvalidPacketText`] when the text is not a well-formed packet, when its
/// placeholders do not match `attachments`, or when it nests deeper than 512 levels.
pub fn encode_text_packet(text: &[u8], attachments: &[Bytes]) -> Result<Bytes, EncodeError> {
    encode::encode_text(text, attachments).map_err(EncodeError::InvalidPacketText)
}

/// Encodes a packet into one MessagePack frame.
///
/// # Errors
/// [`EncodeError::InvalidPacketText`] when the payload nests deeper than 512 levels (a
/// packet built from a very deep Rust value).
pub fn encode(packet: &Packet) -> Result<Bytes, EncodeError> {
    encode::encode_packet(packet).map_err(EncodeError::InvalidPacketText)
}

#[cfg(test)]
mod tests;
