//! The HTTP long-polling payload: packets joined by the record separator 0x1E.
//!
//! `4hello\x1e2\x1ebAQIDBA==` is a message `hello`, a ping and a binary message
//! `01 02 03 04`. No length prefixes and no trailing separator (Engine.IO v4).

use bytes::Bytes;

use crate::packet::{decode_text, Incoming, Outgoing, PacketError};

/// The record separator between packets of a polling payload.
pub(crate) const SEPARATOR: u8 = 0x1e;

/// Splits a POST body into packets, in order, decoding lazily.
///
/// The body must be valid UTF-8 as a whole (v4 payloads are text). Decoding
/// stops at the first packet that fails, like the reference decoder: the
/// iterator yields that error and then ends.
pub(crate) fn decode(body: Bytes) -> Result<PayloadPackets, PacketError> {
    if std::str::from_utf8(&body).is_err() {
        return Err(PacketError::InvalidUtf8);
    }
    Ok(PayloadPackets { rest: Some(body) })
}

/// Iterator over the packets of a polling payload.
#[derive(Debug)]
pub(crate) struct PayloadPackets {
    rest: Option<Bytes>,
}

impl Iterator for PayloadPackets {
    type Item = Result<Incoming, PacketError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut rest = self.rest.take()?;
        let packet = match rest.iter().position(|&b| b == SEPARATOR) {
            Some(at) => {
                let packet = rest.split_to(at);
                bytes::Buf::advance(&mut rest, 1);
                self.rest = Some(rest);
                packet
            }
            None => rest,
        };
        let decoded = decode_text(packet);
        if decoded.is_err() {
            self.rest = None;
        }
        Some(decoded)
    }
}

/// Encodes packets into one payload body.
pub(crate) fn encode<'a>(packets: impl Iterator<Item = &'a Outgoing> + Clone) -> Bytes {
    let len: usize = packets
        .clone()
        .map(|p| p.encoded_len() + 1)
        .sum::<usize>()
        .saturating_sub(1);
    let mut out = Vec::with_capacity(len);
    for (i, packet) in packets.enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        packet.encode_into(&mut out);
    }
    debug_assert_eq!(out.len(), len);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Message;

    fn decode_all(s: &[u8]) -> Result<Vec<Result<Incoming, PacketError>>, PacketError> {
        decode(Bytes::copy_from_slice(s)).map(|it| it.collect())
    }

    fn text(s: &'static str) -> Incoming {
        Incoming::Message(Message::Text(Bytes::from_static(s.as_bytes())))
    }

    #[test]
    fn decodes_the_protocol_document_examples() {
        assert_eq!(decode_all(b"4hello").unwrap(), vec![Ok(text("hello"))]);
        assert_eq!(
            decode_all(b"4hello\x1e2\x1e4world").unwrap(),
            vec![
                Ok(text("hello")),
                Ok(Incoming::Ping { probe: false }),
                Ok(text("world"))
            ]
        );
        assert_eq!(
            decode_all(b"4hello\x1ebAQIDBA==").unwrap(),
            vec![
                Ok(text("hello")),
                Ok(Incoming::Message(Message::Binary(Bytes::from_static(&[
                    1, 2, 3, 4
                ]))))
            ]
        );
    }

    #[test]
    fn stops_at_the_first_bad_packet() {
        assert_eq!(
            decode_all(b"4a\x1ex\x1e4b").unwrap(),
            vec![Ok(text("a")), Err(PacketError::UnknownType(b'x'))]
        );
        assert_eq!(decode_all(b"").unwrap(), vec![Err(PacketError::Empty)]);
        assert_eq!(
            decode_all(b"4a\x1e").unwrap(),
            vec![Ok(text("a")), Err(PacketError::Empty)]
        );
        assert_eq!(
            decode_all(b"abc").unwrap(),
            vec![Err(PacketError::UnknownType(b'a'))]
        );
    }

    #[test]
    fn rejects_invalid_utf8() {
        assert_eq!(decode_all(b"4\xff").unwrap_err(), PacketError::InvalidUtf8);
    }

    #[test]
    fn keeps_multibyte_text_intact() {
        assert_eq!(
            decode_all("4€\x1e4é".as_bytes()).unwrap(),
            vec![Ok(text("€")), Ok(text("é"))]
        );
    }

    #[test]
    fn encodes_joined_by_separator_without_trailing_one() {
        let packets = [
            Outgoing::Message(Message::Text(Bytes::from_static(b"hello"))),
            Outgoing::Ping,
            Outgoing::Message(Message::Binary(Bytes::from_static(&[1, 2, 3, 4]))),
        ];
        assert_eq!(&encode(packets.iter())[..], b"4hello\x1e2\x1ebAQIDBA==");
        assert_eq!(&encode([Outgoing::Noop].iter())[..], b"6");
        assert_eq!(&encode([].iter())[..], b"");
    }
}
