//! Socket.IO v5 packets: a push decoder and an encoder, byte-compatible with the official
//! JavaScript `socket.io-parser` 4.2.
//!
//! This crate is pure: it has no networking code, reads no clock, spawns nothing and names no
//! async runtime (a `clippy.toml` keeps it that way). Bytes come in, packets come out, and the
//! other way round; moving frames is the caller's business.
//!
//! ```text
//!  text frame ─┐                                  ┌─► Packet (kind, namespace, ack id,
//!  (no "4")    ├─► Decoder (one per connection) ──┤    payload JSON kept as Bytes,
//!  binary ─────┘     push_text / push_binary      │    attachments as received Bytes)
//!  frames                                         └─► or NeedsAttachments(n)
//!
//!  Packet / your Serialize args ─► Encoder ─► text frame Bytes + attachments Vec<Bytes>
//! ```
//!
//! # The decode loop
//!
//! A Socket.IO packet travels as one Engine.IO text message, followed, for BINARY_EVENT and
//! BINARY_ACK, by one binary message per attachment. Strip the Engine.IO `4` prefix and push
//! every message, in order, into the connection's [`Decoder`]:
//!
//! ```
//! use bytes::Bytes;
//! use socketio_parser::{Binary, Decoder, Status};
//!
//! // What a transport might hand over, Engine.IO prefix already removed.
//! enum Frame { Text(Bytes), Binary(Bytes) }
//! let frames = [
//!     Frame::Text(Bytes::from_static(br#"2["chat",{"room":"r1","text":"hi"}]"#)),
//!     Frame::Text(Bytes::from_static(br#"51-/files,7["upload","a.bin",{"_placeholder":true,"num":0}]"#)),
//!     Frame::Binary(Bytes::from_static(&[1, 2, 3, 4])),
//! ];
//!
//! let mut decoder = Decoder::new();
//! let mut packets = Vec::new();
//! for frame in frames {
//!     let status = match frame {
//!         Frame::Text(text) => decoder.push_text(text),
//!         Frame::Binary(data) => decoder.push_binary(data),
//!     };
//!     match status {
//!         Ok(Status::Complete(packet)) => packets.push(packet),
//!         Ok(Status::NeedsAttachments(_)) => {} // wait for more binary frames
//!         Err(error) => panic!("the peer broke the protocol, close the connection: {error}"),
//!     }
//! }
//!
//! // Nothing is parsed until asked for.
//! let chat = &packets[0];
//! assert_eq!(chat.event_name().unwrap(), "chat");
//! #[derive(serde::Deserialize)]
//! struct Message<'a> { room: &'a str, text: &'a str }
//! let (msg,): (Message,) = chat.args().unwrap();
//! assert_eq!((msg.room, msg.text), ("r1", "hi"));
//!
//! let upload = &packets[1];
//! assert_eq!(upload.namespace(), "/files");
//! assert_eq!(upload.ack_id().unwrap().get(), 7);
//! let (name, data): (String, Binary) = upload.args().unwrap();
//! assert_eq!((name.as_str(), &data[..]), ("a.bin", &[1, 2, 3, 4][..]));
//! ```
//!
//! # Encoding
//!
//! ```
//! use socketio_parser::{AckId, Binary, Encoder, Namespace, Packet};
//!
//! let packet = Packet::event(Namespace::main(), "baz", &(Binary::from(vec![1u8, 2, 3, 4]),)).unwrap();
//! let encoded = Encoder::new().encode(&packet);
//! assert_eq!(&encoded.text[..], br#"51-["baz",{"_placeholder":true,"num":0}]"#);
//! assert_eq!(&encoded.attachments[0][..], &[1, 2, 3, 4]);
//!
//! // Answer an ack straight into a buffer that already holds the Engine.IO prefix.
//! let mut buf = bytes::BytesMut::from(&b"4"[..]);
//! Encoder::new().ack_into(&mut buf, &Namespace::main(), AckId::new(12), &("ok",)).unwrap();
//! assert_eq!(&buf[..], br#"4312["ok"]"#);
//! ```
//!
//! Arguments are any `Serialize` value: a tuple is spread into several arguments, `()` is
//! none, anything else is one (see [`Packet::event`]). The text is what `JSON.stringify`
//! writes for the same value, with two limits that come from the languages, not the codec:
//! a JavaScript object lists integer-like keys (`"3"`) first, while a Rust map or struct keeps
//! its own order; and integers beyond 2^53 are written exactly, while JavaScript rounds them. Binary data travels as attachments
//! through [`Binary`]; a plain `Vec<u8>` is an array of numbers, as in JavaScript. The
//! [`binary`] module explains how this works with serde.
//!
//! # MessagePack (feature `msgpack`)
//!
//! Clients of the official `socket.io-msgpack-parser` send each packet as one MessagePack
//! binary message. With the cargo feature `msgpack`, the `msgpack` module decodes such a
//! frame into the same [`Packet`] the text decoder would produce, and transcodes the
//! [`Encoder`]'s text into the frame the Node server would send; its docs show the loop.
//!
//! # Design
//!
//! * **Lazy, zero-copy decoding.** Decoding frames the header (type, attachment count,
//!   namespace, ack id) and validates the JSON payload in one hand-written pass that also
//!   bounds nesting, finds the event name and checks every placeholder. The payload stays a
//!   [`bytes::Bytes`] slice of the received frame; attachments are the received `Bytes`.
//!   Typed parsing (serde_json) happens only in [`Packet::args`] / [`Packet::payload_as`].
//!   A small event decodes with at most one allocation (turning the frame into a shareable
//!   `Bytes`, when it is not one already), plus one for a namespace other than `/`.
//! * **Encoding** uses serde_json with a formatter that writes floats as JavaScript does and
//!   turns bytes into placeholders; serde_json's string escaping already equals
//!   `JSON.stringify`'s. The `*_into` methods write into a caller's `BytesMut` after a prefix,
//!   so a broadcast is encoded once.
//! * **Errors say whose fault.** [`DecodeError`]: the peer's (close the connection);
//!   [`EncodeError`]: the caller's (a reserved event name, a payload of the wrong shape);
//!   [`ArgsError`]: arguments that do not fit the requested type.
//!
//! # How strict, and where it differs from `socket.io-parser`
//!
//! The decoder accepts and rejects what the reference decoder does, rule for rule (the
//! differential tests run both on a shared corpus): unknown types, malformed or too many
//! attachments (limit 10 by default), the namespace up to the first comma or the end, the ack
//! id as a run of digits, the payload type each kind allows, reserved event names, a text
//! frame while attachments are outstanding and a binary frame when none is. It is
//! deliberately stricter in these points:
//!
//! * **Placeholders** must each appear exactly once, numbered `0..count`, as exactly
//!   `{"_placeholder":true,"num":N}` with `N` written in digits. The reference decoder accepts
//!   unused attachments, repeated numbers, fractional numbers (which it turns into
//!   `undefined`) and extra members. They are also checked as soon as the text frame
//!   arrives, where the reference decoder waits for the last attachment.
//! * **Limits**: [`DecoderConfig::max_packet_size`] and [`DecoderConfig::max_depth`]; the
//!   reference decoder has neither (its attachment limit, 10, is the same).
//! * **Missing payloads**: EVENT and ACK require an array, CONNECT_ERROR a string or object. The
//!   reference decoder lets `2` or `3` with no payload through.
//! * **JavaScript number coercion** is not imitated: the reference decoder reads its numbers
//!   with `Number()`, so it takes an empty frame or a leading space as type 0, whitespace as
//!   ack-id digits (`2 ["a"]` is an event with ack id 0) and `0x1`, `1e0` or ` 1 ` as
//!   attachment counts. This crate wants ASCII digits where digits belong.
//! * **Ack ids** must fit in a `u64`; the reference decoder rounds longer ones.
//! * **UTF-8**: text frames are bytes here, so the namespace and JSON strings are checked to
//!   be UTF-8 (JavaScript receives strings that are already decoded).
//!
//! # Panics
//!
//! No input may panic: a panic is a bug. Every `expect` in the crate states why it cannot
//! fail, and the decoder is fuzzed (`fuzz/`, target `socketio_decoder`). The decoder checks
//! its limits before allocating, and what it allocates (the attachment list, a bitmap of
//! placeholders) is bounded by the size of the received frame, whatever the
//! [`DecoderConfig`].

#![forbid(unsafe_code)]

mod ack_id;
mod args;
pub mod binary;
mod binary_guard;
mod builder;
mod config;
mod decoder;
mod encoder;
mod error;
mod header;
mod jsnum;
mod json_out;
#[cfg(feature = "msgpack")]
pub mod msgpack;
mod namespace;
mod packet;
mod scan;
pub mod value;

pub use ack_id::AckId;
pub use args::{EventName, RawArgs};
pub use binary::Binary;
pub use config::DecoderConfig;
pub use decoder::{Decoder, Status, RESERVED_EVENTS};
pub use encoder::{Encoded, Encoder};
pub use error::{ArgsError, DecodeError, EncodeError, JsonError, MsgpackError, PlaceholderError};
pub use json_out::Spread;
pub use namespace::Namespace;
pub use packet::{Packet, PacketKind};
pub use value::{Map, Str, Value};
