//! Fuzzes the Socket.IO decoder with sequences of frames.
//!
//! Input format (readable, so that seeds can be written by hand): frames separated by a NUL
//! byte; a frame that starts with byte 0x01 is a binary frame (the rest of it), any other is a
//! text frame. The first byte, when it is 0x02..=0x05, picks tighter decoder limits; 0x06
//! lifts the attachment limit.
//!
//! Checked besides "no panic": a decoded packet encodes to a frame that decodes to the same
//! packet; the lazy accessors never panic; the decoder's pending count is consistent.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use socketio_parser::{Binary, Decoder, DecoderConfig, Encoder, Packet, Status};

fuzz_target!(|data: &[u8]| {
    let (config, data) = match data.first() {
        Some(&b @ 0x02..=0x05) => (
            DecoderConfig::default()
                .with_max_attachments(usize::from(b) - 1)
                .with_max_depth(usize::from(b) * 2)
                .with_max_packet_size(64 << b),
            &data[1..],
        ),
        // No limit on attachments: memory must stay bounded by the input anyway.
        Some(0x06) => (
            DecoderConfig::default().with_max_attachments(usize::MAX),
            &data[1..],
        ),
        _ => (DecoderConfig::default(), data),
    };
    let mut decoder = Decoder::with_config(config.clone());
    for frame in data.split(|&b| b == 0) {
        let status = match frame.split_first() {
            Some((1, binary)) => decoder.push_binary(Bytes::copy_from_slice(binary)),
            _ => decoder.push_text(Bytes::copy_from_slice(frame)),
        };
        match status {
            Ok(Status::Complete(packet)) => {
                assert_eq!(decoder.pending_attachments(), 0);
                check_packet(&packet, &config);
            }
            Ok(Status::NeedsAttachments(n)) => {
                assert!(n > 0 && n <= config.max_attachments);
                assert_eq!(decoder.pending_attachments(), n);
            }
            Err(_) => assert_eq!(decoder.pending_attachments(), 0),
        }
    }
});

fn check_packet(packet: &Packet, config: &DecoderConfig) {
    // Lazy accessors: may fail, must not panic.
    let _ = packet.event_name().map(|n| n.to_string());
    let _ = packet.args::<Vec<serde_json::Value>>();
    let _ = packet.args::<(String, Binary)>();
    let _ = packet.payload_as::<serde_json::Value>();

    // Encoding a decoded packet gives frames that decode to the same packet.
    let encoded = Encoder::new().encode(packet);
    let mut again = Decoder::with_config(config.clone().with_max_packet_size(usize::MAX));
    let mut status = again
        .push_text(encoded.text.clone())
        .expect("re-encoded text decodes");
    for attachment in &encoded.attachments {
        status = again
            .push_binary(attachment.clone())
            .expect("re-encoded attachment is accepted");
    }
    match status {
        Status::Complete(decoded) => assert_eq!(&decoded, packet),
        Status::NeedsAttachments(n) => panic!("re-encoded packet still needs {n} attachments"),
    }

    // Forwarding the raw arguments keeps them.
    if let Some(raw) = packet.raw_args() {
        let forwarded = if packet.kind().is_event() {
            let name = packet
                .event_name()
                .map(|n| n.to_string())
                .unwrap_or_default();
            Packet::event_raw(packet.namespace().clone(), &name, raw.clone()).ok()
        } else {
            packet
                .ack_id()
                .map(|id| Packet::ack_raw(packet.namespace().clone(), id, raw.clone()))
        };
        if let Some(forwarded) = forwarded {
            assert_eq!(forwarded.raw_args().as_ref(), Some(&raw));
        }
    }
}
