//! Engine.IO v4 packets: one type character followed by an optional payload.
//!
//! ```text
//! 0{"sid":..}  open       server → client, the handshake
//! 1            close      either way
//! 2 / 2probe   ping       server → client (the probe: client → server, on the new WebSocket)
//! 3 / 3probe   pong       client → server (the probe answer: server → client)
//! 4hello       message    either way; binary messages are raw WebSocket binary
//!                         frames, or `b` + base64 inside a polling payload
//! 5            upgrade    client → server, completes the switch to WebSocket
//! 6            noop       server → client, releases a parked long-poll GET
//! ```

use base64::Engine as _;
use bytes::Bytes;

/// An application message carried by an Engine.IO `message` packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message. The bytes are valid UTF-8: WebSocket text frames are
    /// validated by the WebSocket layer, polling payloads by the engine.
    Text(Bytes),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// Size of the message's data in bytes.
    pub fn len(&self) -> usize {
        match self {
            Message::Text(b) | Message::Binary(b) => b.len(),
        }
    }

    /// Whether the message carries no data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The type character of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PacketType {
    Open,
    Close,
    Ping,
    Pong,
    Message,
    Upgrade,
    Noop,
}

impl PacketType {
    pub(crate) fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            b'0' => PacketType::Open,
            b'1' => PacketType::Close,
            b'2' => PacketType::Ping,
            b'3' => PacketType::Pong,
            b'4' => PacketType::Message,
            b'5' => PacketType::Upgrade,
            b'6' => PacketType::Noop,
            _ => return None,
        })
    }

    pub(crate) fn as_byte(self) -> u8 {
        match self {
            PacketType::Open => b'0',
            PacketType::Close => b'1',
            PacketType::Ping => b'2',
            PacketType::Pong => b'3',
            PacketType::Message => b'4',
            PacketType::Upgrade => b'5',
            PacketType::Noop => b'6',
        }
    }
}

/// A packet received from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Incoming {
    Open,
    Close,
    /// `probe` is true for `2probe`, the first packet on an upgrading WebSocket.
    Ping {
        probe: bool,
    },
    Pong,
    Message(Message),
    Upgrade,
    Noop,
}

/// Why a received packet could not be decoded: the client's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// A packet with no type character (an empty frame or payload entry).
    #[error("empty packet")]
    Empty,
    /// The first character is neither a packet type `0`-`6` nor `b`.
    #[error("unknown packet type {0:#04x}")]
    UnknownType(u8),
    /// A `b` packet whose payload is not valid base64.
    #[error("invalid base64 in a binary packet")]
    InvalidBase64,
    /// A polling payload that is not valid UTF-8.
    #[error("payload is not valid UTF-8")]
    InvalidUtf8,
}

/// Decodes one text packet (a WebSocket text frame or one entry of a polling
/// payload). `bytes` must be valid UTF-8; the message payload is a zero-copy
/// slice of it.
pub(crate) fn decode_text(bytes: Bytes) -> Result<Incoming, PacketError> {
    let Some(&first) = bytes.first() else {
        return Err(PacketError::Empty);
    };
    if first == b'b' {
        let data = base64::engine::general_purpose::STANDARD
            .decode(&bytes[1..])
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&bytes[1..]))
            .map_err(|_| PacketError::InvalidBase64)?;
        return Ok(Incoming::Message(Message::Binary(Bytes::from(data))));
    }
    let kind = PacketType::from_byte(first).ok_or(PacketError::UnknownType(first))?;
    let data = bytes.slice(1..);
    Ok(match kind {
        PacketType::Open => Incoming::Open,
        PacketType::Close => Incoming::Close,
        PacketType::Ping => Incoming::Ping {
            probe: &data[..] == b"probe",
        },
        PacketType::Pong => Incoming::Pong,
        PacketType::Message => Incoming::Message(Message::Text(data)),
        PacketType::Upgrade => Incoming::Upgrade,
        PacketType::Noop => Incoming::Noop,
    })
}

/// A packet the server sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// The handshake; the bytes are its JSON.
    Open(Bytes),
    Close,
    Ping,
    /// `3probe`, the answer to an upgrade probe.
    PongProbe,
    Message(Message),
    Noop,
}

impl Outgoing {
    /// Length of this packet's text form inside a polling payload.
    pub(crate) fn encoded_len(&self) -> usize {
        match self {
            Outgoing::Open(json) => 1 + json.len(),
            Outgoing::PongProbe => 6,
            Outgoing::Message(Message::Text(t)) => 1 + t.len(),
            Outgoing::Message(Message::Binary(b)) => 1 + base64_len(b.len()),
            Outgoing::Close | Outgoing::Ping | Outgoing::Noop => 1,
        }
    }

    /// Appends this packet's text form (as in a polling payload) to `out`.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Outgoing::Open(json) => {
                out.push(PacketType::Open.as_byte());
                out.extend_from_slice(json);
            }
            Outgoing::Close => out.push(PacketType::Close.as_byte()),
            Outgoing::Ping => out.push(PacketType::Ping.as_byte()),
            Outgoing::PongProbe => out.extend_from_slice(b"3probe"),
            Outgoing::Message(Message::Text(t)) => {
                out.push(PacketType::Message.as_byte());
                out.extend_from_slice(t);
            }
            Outgoing::Message(Message::Binary(b)) => {
                out.push(b'b');
                let start = out.len();
                out.resize(start + base64_len(b.len()), 0);
                let written = base64::engine::general_purpose::STANDARD
                    .encode_slice(b, &mut out[start..])
                    .expect("the buffer was sized with base64_len");
                debug_assert_eq!(written, base64_len(b.len()));
            }
            Outgoing::Noop => out.push(PacketType::Noop.as_byte()),
        }
    }
}

/// Length of padded standard base64 for `n` bytes.
fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(s: &str) -> Result<Incoming, PacketError> {
        decode_text(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn encode(p: &Outgoing) -> String {
        let mut out = Vec::new();
        p.encode_into(&mut out);
        assert_eq!(out.len(), p.encoded_len());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn decodes_every_packet_type() {
        assert_eq!(decode("0"), Ok(Incoming::Open));
        assert_eq!(decode("1"), Ok(Incoming::Close));
        assert_eq!(decode("2"), Ok(Incoming::Ping { probe: false }));
        assert_eq!(decode("2probe"), Ok(Incoming::Ping { probe: true }));
        assert_eq!(decode("3"), Ok(Incoming::Pong));
        assert_eq!(decode("3probe"), Ok(Incoming::Pong));
        assert_eq!(
            decode("4hello"),
            Ok(Incoming::Message(Message::Text(Bytes::from_static(
                b"hello"
            ))))
        );
        assert_eq!(
            decode("4"),
            Ok(Incoming::Message(Message::Text(Bytes::new())))
        );
        assert_eq!(decode("5"), Ok(Incoming::Upgrade));
        assert_eq!(decode("6"), Ok(Incoming::Noop));
    }

    #[test]
    fn decodes_base64_binary_with_or_without_padding() {
        let expected = Ok(Incoming::Message(Message::Binary(Bytes::from_static(&[
            1, 2, 3, 4,
        ]))));
        assert_eq!(decode("bAQIDBA=="), expected);
        assert_eq!(decode("bAQIDBA"), expected);
        assert_eq!(
            decode("b"),
            Ok(Incoming::Message(Message::Binary(Bytes::new())))
        );
        assert_eq!(decode("b!!!"), Err(PacketError::InvalidBase64));
    }

    #[test]
    fn rejects_unknown_types_and_empty_packets() {
        assert_eq!(decode(""), Err(PacketError::Empty));
        assert_eq!(decode("abc"), Err(PacketError::UnknownType(b'a')));
        assert_eq!(decode("7"), Err(PacketError::UnknownType(b'7')));
    }

    #[test]
    fn encodes_every_outgoing_packet() {
        assert_eq!(encode(&Outgoing::Open(Bytes::from_static(b"{}"))), "0{}");
        assert_eq!(encode(&Outgoing::Close), "1");
        assert_eq!(encode(&Outgoing::Ping), "2");
        assert_eq!(encode(&Outgoing::PongProbe), "3probe");
        assert_eq!(
            encode(&Outgoing::Message(Message::Text(Bytes::from_static(b"hi")))),
            "4hi"
        );
        assert_eq!(
            encode(&Outgoing::Message(Message::Binary(Bytes::from_static(&[
                1, 2, 3, 4
            ])))),
            "bAQIDBA=="
        );
        assert_eq!(
            encode(&Outgoing::Message(Message::Binary(Bytes::new()))),
            "b"
        );
        assert_eq!(encode(&Outgoing::Noop), "6");
    }
}
