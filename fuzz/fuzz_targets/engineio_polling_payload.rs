//! Fuzzes the Engine.IO polling payload decoder (`engineio::fuzzing`, the codec a session
//! reads POST bodies with): the whole input is one body.
//!
//! Checked besides "no panic":
//! * a body is refused as a whole exactly when it is not UTF-8;
//! * it splits at every record separator and only there: as many packets as separators plus
//!   one, unless one fails, which is then the last; a text message holds no separator and is
//!   a slice of valid UTF-8, a binary one no more than three bytes per four of base64;
//! * the packets a server also sends (close, ping, message, noop), encoded as a server writes
//!   a payload, decode to the same packets, and encoding those again gives the same bytes.

#![no_main]

use bytes::Bytes;
use engineio::fuzzing::{decode_payload, encode_payload, PayloadPacket};
use engineio::{Message, PacketError};
use libfuzzer_sys::fuzz_target;

const SEPARATOR: u8 = 0x1e;

fuzz_target!(|data: &[u8]| {
    let body = Bytes::copy_from_slice(data);
    let packets = match decode_payload(body) {
        Ok(packets) => packets,
        Err(e) => {
            assert_eq!(e, PacketError::InvalidUtf8);
            assert!(std::str::from_utf8(data).is_err());
            return;
        }
    };
    assert!(std::str::from_utf8(data).is_ok());
    let segments: Vec<&[u8]> = data.split(|&b| b == SEPARATOR).collect();
    assert!(!packets.is_empty());
    assert!(packets.len() <= segments.len());
    if packets.last().is_some_and(Result::is_ok) {
        assert_eq!(packets.len(), segments.len(), "packets left unread");
    }
    let mut sendable = Vec::new();
    for (i, (packet, segment)) in packets.iter().zip(&segments).enumerate() {
        match packet {
            Err(e) => {
                assert_eq!(i, packets.len() - 1, "decoding went on after {e:?}");
                match e {
                    PacketError::Empty => assert!(segment.is_empty()),
                    PacketError::UnknownType(b) => assert_eq!(segment.first(), Some(b)),
                    PacketError::InvalidBase64 => assert_eq!(segment.first(), Some(&b'b')),
                    other => panic!("{other:?} for one packet"),
                }
            }
            Ok(packet) => {
                check(packet, segment);
                if encode_payload(std::slice::from_ref(packet)).is_some() {
                    sendable.push(packet.clone());
                }
            }
        }
    }
    let Some(encoded) = encode_payload(&sendable) else {
        panic!("packets that encode one by one do not encode together");
    };
    if sendable.is_empty() {
        // Nothing encodes to nothing (which would read back as one empty packet).
        assert!(encoded.is_empty());
        return;
    }
    let again: Vec<PayloadPacket> = decode_payload(encoded.clone())
        .expect("an encoded payload is UTF-8")
        .into_iter()
        .map(|p| p.expect("an encoded packet decodes"))
        .collect();
    assert_eq!(again, sendable);
    assert_eq!(encode_payload(&again), Some(encoded));
});

fn check(packet: &PayloadPacket, segment: &[u8]) {
    let first = segment.first().copied();
    match packet {
        PayloadPacket::Message(Message::Text(text)) => {
            assert_eq!(first, Some(b'4'));
            assert_eq!(&text[..], &segment[1..]);
            assert!(!text.contains(&SEPARATOR));
            assert!(std::str::from_utf8(text).is_ok());
        }
        PayloadPacket::Message(Message::Binary(data)) => {
            assert_eq!(first, Some(b'b'));
            assert!(data.len() <= (segment.len() - 1) / 4 * 3 + 2);
        }
        PayloadPacket::Open => assert_eq!(first, Some(b'0')),
        PayloadPacket::Close => assert_eq!(first, Some(b'1')),
        PayloadPacket::Ping { probe } => {
            assert_eq!(first, Some(b'2'));
            assert_eq!(*probe, segment == b"2probe");
        }
        PayloadPacket::Pong => assert_eq!(first, Some(b'3')),
        PayloadPacket::Upgrade => assert_eq!(first, Some(b'5')),
        PayloadPacket::Noop => assert_eq!(first, Some(b'6')),
        other => panic!("unknown packet {other:?}"),
    }
}
