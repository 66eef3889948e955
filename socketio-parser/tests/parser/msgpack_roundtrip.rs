//! Property tests of the MessagePack transcoder: a packet encoded to a frame decodes to the
//! same packet (binary nested anywhere included), its two encodings agree, and the decoder
//! survives any input.

use bytes::Bytes;
use proptest::prelude::*;
use serde_json::Value;
use socketio_parser::{
    msgpack, AckId, Binary, DecoderConfig, Encoder, Namespace, Packet, Spread, RESERVED_EVENTS,
};

use crate::common::{js_normalize, packet_to_json, tv_to_json, Tv};

/// Numbers a JavaScript peer holds exactly: integers within 2^53, short binary fractions.
fn leaf() -> impl Strategy<Value = Tv> {
    prop_oneof![
        Just(Tv::Null),
        any::<bool>().prop_map(Tv::Bool),
        (-(1i64 << 53)..=(1i64 << 53)).prop_map(|n| Tv::Num(n.into())),
        (any::<i32>(), 0u32..12).prop_map(|(m, e)| Tv::Num(
            serde_json::Number::from_f64(f64::from(m) / f64::from(1u32 << e)).expect("finite")
        )),
        any::<String>().prop_map(Tv::Str),
        proptest::collection::vec(any::<u8>(), 0..16).prop_map(|b| Tv::Bin(Binary::from(b))),
    ]
}

pub(crate) fn value() -> impl Strategy<Value = Tv> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Tv::Arr),
            proptest::collection::btree_map("[a-z_]{0,6}", inner, 0..6)
                .prop_map(|m| Tv::Obj(m.into_iter().collect())),
        ]
    })
}

pub(crate) fn namespace() -> impl Strategy<Value = Namespace> {
    prop_oneof![
        Just(Namespace::main()),
        "/[^,]{1,12}".prop_map(|s| Namespace::new(&s).expect("valid"))
    ]
}

fn config() -> DecoderConfig {
    DecoderConfig::default().with_max_attachments(usize::MAX)
}

/// Encodes both ways, checks they agree, decodes.
fn roundtrip(packet: &Packet) -> Packet {
    let frame = msgpack::encode(packet).expect("encodes");
    let text = Encoder::new().encode(packet);
    assert_eq!(
        msgpack::encode_text_packet(&text.text, &text.attachments).expect("transcodes"),
        frame
    );
    let decoded = msgpack::decode(frame.clone(), &config()).expect("decodes");
    // Attachments are slices of the frame.
    let range = frame.as_ptr_range();
    for a in decoded.attachments().iter().filter(|a| !a.is_empty()) {
        assert!(range.contains(&a.as_ptr()));
    }
    decoded
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn events_round_trip(nsp in namespace(),
                         name in any::<String>().prop_filter("not reserved", |s| !RESERVED_EVENTS.contains(&s.as_str())),
                         ack in proptest::option::of(any::<u64>()),
                         args in proptest::collection::vec(value(), 0..5)) {
        let mut packet = Packet::event(nsp, &name, &Spread(&args)).expect("valid event");
        if let Some(id) = ack {
            packet = packet.with_ack_id(AckId::new(id));
        }
        let decoded = roundtrip(&packet);
        prop_assert_eq!(&decoded, &packet);
        let mut expected = vec![Value::String(name)];
        expected.extend(args.iter().map(tv_to_json));
        prop_assert_eq!(js_normalize(&packet_to_json(&decoded)["data"]), js_normalize(&Value::Array(expected)));
    }

    #[test]
    fn acks_round_trip(nsp in namespace(), id in any::<u64>(), args in proptest::collection::vec(value(), 0..5)) {
        let packet = Packet::ack(nsp, AckId::new(id), &Spread(&args)).expect("valid ack");
        prop_assert_eq!(roundtrip(&packet), packet);
    }

    #[test]
    fn other_packets_round_trip(nsp in namespace(), kind in 0u8..3, text in any::<String>(),
                                auth in proptest::collection::btree_map("[a-z]{1,5}", any::<i32>(), 0..4)) {
        let packet = match kind {
            0 => Packet::connect_with(nsp, &auth).expect("an object"),
            1 => Packet::disconnect(nsp),
            _ => Packet::connect_error(nsp, &text).expect("a string"),
        };
        prop_assert_eq!(roundtrip(&packet), packet);
    }

    #[test]
    fn any_frame_is_decoded_or_refused_without_panic(frame in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = msgpack::decode(Bytes::from(frame), &DecoderConfig::default());
    }

    #[test]
    fn any_text_is_transcoded_or_refused_without_panic(text in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = msgpack::encode_text_packet(&text, &[]);
    }
}
