//! Fuzzes the MessagePack transcoder (`socketio_parser::msgpack`).
//!
//! Input: the first byte picks the mode and limits, the rest is the input.
//! * 0x07: the rest is a packet text, NUL, then attachments separated by NUL, for
//!   `encode_text_packet`; whatever it makes must decode without panicking.
//! * 0x02..=0x05: a MessagePack frame decoded with tighter limits; 0x06 with no limit on
//!   attachments; anything else: the whole input is a frame, default limits.
//!
//! Checked for every frame: decoding it without a size limit (the JSON left unwritten) has
//! the outcome of decoding it with the mode's limit (the JSON written while checking, when
//! the frame is large enough to reach it), but for the size error itself.
//!
//! Checked for a decoded packet besides "no panic": its two encodings (direct, and through
//! the text encoder) are the same bytes and decode to the same packet; its text form decodes
//! with the text decoder to the same packet (so what the transcoder makes is a valid text
//! packet) with the same event name (read from the frame on one side, the JSON on the
//! other); the lazy accessors never panic; the arguments read straight from the frame
//! (`args`, `payload_as`) equal those the JSON path reads from the text form, for
//! `Vec<Value>`, `Vec<serde_json::Value>` and a typed struct with binary fields.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use socketio_parser::{
    msgpack, ArgsError, Binary, DecodeError, Decoder, DecoderConfig, Encoder, Packet, Status, Value,
};

#[derive(Debug, PartialEq, Deserialize)]
struct Typed {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    data: Option<Binary>,
    #[serde(default)]
    items: Vec<Value>,
    #[serde(default)]
    n: Option<f64>,
}

fuzz_target!(|data: &[u8]| {
    let (config, frame) = match data.first() {
        Some(0x07) => return encode_text(&data[1..]),
        Some(&b @ 0x02..=0x05) => (
            DecoderConfig::default()
                .with_max_attachments(usize::from(b) - 1)
                .with_max_depth(usize::from(b) * 2)
                .with_max_packet_size(64 << b),
            &data[1..],
        ),
        Some(0x06) => (
            DecoderConfig::default().with_max_attachments(usize::MAX),
            &data[1..],
        ),
        _ => (DecoderConfig::default(), data),
    };
    let frame = Bytes::copy_from_slice(frame);
    let decoded = msgpack::decode(frame.clone(), &config);
    // Without a size limit the JSON is never written while decoding; with a tight one it is
    // (to be measured). Either way the outcome is the same, but for the size itself.
    let unlimited = msgpack::decode(frame, &config.clone().with_max_packet_size(usize::MAX));
    match (&decoded, &unlimited) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(DecodeError::PacketTooLarge { .. }), _) => {}
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("limited {decoded:?}, unlimited {unlimited:?}"),
    }
    if let Ok(packet) = decoded {
        assert!(packet.attachments().len() <= config.max_attachments);
        check_packet(&packet, &config);
    }
});

fn encode_text(data: &[u8]) {
    let mut parts = data.split(|&b| b == 0);
    let text = parts.next().unwrap_or_default();
    let attachments: Vec<Bytes> = parts.map(Bytes::copy_from_slice).collect();
    if let Ok(frame) = msgpack::encode_text_packet(text, &attachments) {
        if let Ok(packet) = msgpack::decode(frame, &DecoderConfig::default()) {
            check_packet(&packet, &DecoderConfig::default());
        }
    }
}

fn check_packet(packet: &Packet, config: &DecoderConfig) {
    let _ = packet.event_name().map(|n| n.to_string());
    let _ = packet.args::<Vec<serde_json::Value>>();
    let _ = packet.args::<(String, Binary)>();
    let _ = packet.payload_as::<serde_json::Value>();

    let frame = msgpack::encode(packet).expect("a decoded packet encodes");
    let unlimited = config.clone().with_max_packet_size(usize::MAX);
    let again = msgpack::decode(frame.clone(), &unlimited).expect("its encoding decodes");
    assert_eq!(&again, packet);

    let text = Encoder::new().encode(packet);
    let through_text = msgpack::encode_text_packet(&text.text, &text.attachments)
        .expect("the text form transcodes");
    assert_eq!(through_text, frame);

    let mut decoder = Decoder::with_config(unlimited);
    let mut status = decoder
        .push_text(text.text.clone())
        .expect("the text form is a valid text packet");
    for attachment in &text.attachments {
        status = decoder
            .push_binary(attachment.clone())
            .expect("its attachments are accepted");
    }
    let decoded = match status {
        Status::Complete(decoded) => decoded,
        Status::NeedsAttachments(n) => panic!("the text form still needs {n} attachments"),
    };
    assert_eq!(&decoded, packet);
    // The name read from the frame is the one the text form gives.
    assert_eq!(
        packet.event_name().map(|n| n.to_string()),
        decoded.event_name().map(|n| n.to_string())
    );

    // `packet` reads its arguments from the frame, `decoded` from the JSON text.
    same(packet.args::<Vec<Value>>(), decoded.args::<Vec<Value>>());
    same(
        packet.args::<Vec<serde_json::Value>>(),
        decoded.args::<Vec<serde_json::Value>>(),
    );
    same(packet.args::<(Typed,)>(), decoded.args::<(Typed,)>());
    same(
        packet.args::<(String, Typed)>(),
        decoded.args::<(String, Typed)>(),
    );
    same(packet.payload_as::<Value>(), decoded.payload_as::<Value>());
    same(packet.payload_as::<Typed>(), decoded.payload_as::<Typed>());
}

/// The same value, or both an error.
fn same<T: PartialEq + std::fmt::Debug>(direct: Result<T, ArgsError>, json: Result<T, ArgsError>) {
    match (&direct, &json) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        _ => panic!("direct {direct:?}, json {json:?}"),
    }
}
