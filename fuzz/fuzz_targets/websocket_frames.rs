//! Fuzzes the WebSocket decoder (`server_adapter::ws::Decoder`: frame headers, unmasking,
//! message assembly, incremental UTF-8 validation) with a stream fed as a connection reads
//! it: whole, in the pieces the input's cuts make, and (when short) one byte at a time. The
//! decoder is called after every piece until it asks for more, as the socket does.
//!
//! Input: see `socketio_fuzz::Split`; the config byte picks the side (bit 0: decoding a
//! client's frames, which must be masked, or a server's) and the message size limit (the
//! rest, modulo 7: 0, 1, 125, 126, 1000, 65 536 or no limit).
//!
//! Checked besides "no panic":
//! * every feeding yields the same messages and control frames in the same order and ends
//!   the same way (the same error, or the same bytes left in the buffer);
//! * a text message is valid UTF-8; a text or binary message is within the limit; a ping or
//!   pong payload is at most 125 bytes; a close frame has a code that may be sent and a
//!   reason of at most 123 bytes;
//! * `wanted` (the bytes still missing from the frame in progress) never overflows;
//! * what was decoded, written again as one frame each (masked as the side requires),
//!   decodes to the same messages.

#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use server_adapter::ws::{encode_frame, Decoder, Incoming, OpCode, ProtocolError, Role};
use socketio_fuzz::Split;

fuzz_target!(|data: &[u8]| {
    let Some(split) = Split::read(data) else {
        return;
    };
    let role = if split.config & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let max = [0, 1, 125, 126, 1000, 65_536, usize::MAX][usize::from(split.config >> 1) % 7];
    let mut first: Option<Outcome> = None;
    for pieces in split.feedings() {
        let outcome = drive(&pieces, role, max);
        match &first {
            None => first = Some(outcome),
            Some(whole) => assert_eq!(&outcome, whole, "a split changed the outcome"),
        }
    }
    let Some(outcome) = first else { return };
    let decoded: usize = outcome.messages.iter().map(payload_len).sum();
    assert!(
        decoded <= split.stream.len(),
        "more payload out than bytes in"
    );

    // Written again, one frame each, the messages decode to themselves.
    let mut again = Vec::new();
    for message in &outcome.messages {
        encode(message, role, &mut again);
    }
    let round = drive(&[&again], role, max);
    assert_eq!(round.end, Ok(Vec::new()));
    assert_eq!(round.messages, outcome.messages);
});

#[derive(Debug, PartialEq)]
struct Outcome {
    messages: Vec<Incoming>,
    /// The error that failed the connection, or what was left in the buffer.
    end: Result<Vec<u8>, ProtocolError>,
}

fn drive(pieces: &[&[u8]], role: Role, max: usize) -> Outcome {
    let mut decoder = Decoder::new(role, max);
    let mut buf = BytesMut::new();
    let mut messages = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(message)) => {
                    check(&message, max);
                    messages.push(message);
                }
                Ok(None) => {
                    let _ = decoder.wanted(buf.len());
                    let _ = decoder.wanted(0);
                    break;
                }
                Err(e) => {
                    return Outcome {
                        messages,
                        end: Err(e),
                    }
                }
            }
        }
    }
    Outcome {
        messages,
        end: Ok(buf.to_vec()),
    }
}

fn check(message: &Incoming, max: usize) {
    match message {
        Incoming::Text(text) => {
            assert!(std::str::from_utf8(text).is_ok(), "text message not UTF-8");
            assert!(text.len() <= max, "text message over the limit");
        }
        Incoming::Binary(data) => assert!(data.len() <= max, "binary message over the limit"),
        Incoming::Ping(p) | Incoming::Pong(p) => assert!(p.len() <= 125),
        Incoming::Close(Some(frame)) => {
            assert!(frame.code.is_sendable(), "close code {}", frame.code.0);
            assert!(frame.reason.len() <= 123);
        }
        Incoming::Close(None) => {}
    }
}

fn payload_len(message: &Incoming) -> usize {
    match message {
        Incoming::Text(b) | Incoming::Binary(b) | Incoming::Ping(b) | Incoming::Pong(b) => b.len(),
        Incoming::Close(Some(frame)) => 2 + frame.reason.len(),
        Incoming::Close(None) => 0,
    }
}

fn encode(message: &Incoming, role: Role, out: &mut Vec<u8>) {
    let mask = match role {
        Role::Server => Some([0x0f, 0xf0, 0x5a, 0xa5]),
        Role::Client => None,
    };
    let close_payload;
    let (opcode, payload): (OpCode, &[u8]) = match message {
        Incoming::Text(b) => (OpCode::Text, b),
        Incoming::Binary(b) => (OpCode::Binary, b),
        Incoming::Ping(b) => (OpCode::Ping, b),
        Incoming::Pong(b) => (OpCode::Pong, b),
        Incoming::Close(None) => (OpCode::Close, &[]),
        Incoming::Close(Some(frame)) => {
            let mut p = frame.code.0.to_be_bytes().to_vec();
            p.extend_from_slice(frame.reason.as_bytes());
            close_payload = Bytes::from(p);
            (OpCode::Close, &close_payload)
        }
    };
    encode_frame(true, opcode, mask, payload, out);
}
