//! The polling payload codec on its own, for the fuzz targets (feature `fuzzing`, off by
//! default).
//!
//! A session reads POST bodies and writes GET answers with it, but it is not part of the
//! crate's API: an embedder hands whole bodies to [`Session::handle_body`](crate::Session)
//! and never sees packets. These two functions reach the same decoder and encoder directly,
//! so that arbitrary payloads can be decoded and what decodes can be encoded back.

use bytes::Bytes;

use crate::packet::{Incoming, Message, Outgoing, PacketError};
use crate::payload;

/// One packet of a polling payload, as the decoder reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadPacket {
    /// `0`, with anything after it dropped.
    Open,
    /// `1`, with anything after it dropped.
    Close,
    /// `2`; `probe` for exactly `2probe`.
    Ping {
        /// Whether it was `2probe`.
        probe: bool,
    },
    /// `3`, with anything after it dropped (`3probe` included).
    Pong,
    /// `4` and a text message, or `b` and a base64 binary message.
    Message(Message),
    /// `5`, with anything after it dropped.
    Upgrade,
    /// `6`, with anything after it dropped.
    Noop,
}

/// Decodes a POST body as a session does: `Err` if it is not UTF-8, else its packets in
/// order, ending with the first one that fails (the session stops reading there).
///
/// # Errors
/// [`PacketError::InvalidUtf8`]: the body is not UTF-8.
pub fn decode_payload(body: Bytes) -> Result<Vec<Result<PayloadPacket, PacketError>>, PacketError> {
    let packets = payload::decode(body)?;
    Ok(packets
        .map(|p| {
            p.map(|p| match p {
                Incoming::Open => PayloadPacket::Open,
                Incoming::Close => PayloadPacket::Close,
                Incoming::Ping { probe } => PayloadPacket::Ping { probe },
                Incoming::Pong => PayloadPacket::Pong,
                Incoming::Message(m) => PayloadPacket::Message(m),
                Incoming::Upgrade => PayloadPacket::Upgrade,
                Incoming::Noop => PayloadPacket::Noop,
            })
        })
        .collect())
}

/// Encodes packets into one payload as a session writes a GET answer. Only the packets a
/// server sends on a long-poll have a form here (close, a plain ping, message, noop);
/// `None` if `packets` holds any other.
#[must_use]
pub fn encode_payload(packets: &[PayloadPacket]) -> Option<Bytes> {
    let outgoing = packets
        .iter()
        .map(|p| match p {
            PayloadPacket::Close => Some(Outgoing::Close),
            PayloadPacket::Ping { probe: false } => Some(Outgoing::Ping),
            PayloadPacket::Message(m) => Some(Outgoing::Message(m.clone())),
            PayloadPacket::Noop => Some(Outgoing::Noop),
            _ => None,
        })
        .collect::<Option<Vec<Outgoing>>>()?;
    Some(payload::encode(outgoing.iter()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_server_sends_encodes_back() {
        let packets = decode_payload(Bytes::from_static(b"4hi\x1e2\x1ebAQI=\x1e6\x1e1")).unwrap();
        let packets: Vec<PayloadPacket> = packets.into_iter().map(Result::unwrap).collect();
        let body = encode_payload(&packets).unwrap();
        assert_eq!(&body[..], b"4hi\x1e2\x1ebAQI=\x1e6\x1e1");
        assert_eq!(encode_payload(&[PayloadPacket::Pong]), None);
        assert_eq!(
            decode_payload(Bytes::from_static(b"\xff")),
            Err(PacketError::InvalidUtf8)
        );
    }
}
