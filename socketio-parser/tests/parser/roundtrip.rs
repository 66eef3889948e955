//! Property tests: encoding then decoding is the identity, binary nested anywhere included;
//! and the decoder survives any input.

use bytes::Bytes;
use proptest::prelude::*;
use serde_json::Value;
use socketio_parser::{
    AckId, Binary, Decoder, DecoderConfig, Encoder, Namespace, Packet, PacketKind, Spread, Status,
    RESERVED_EVENTS,
};

use crate::common::{decode_frames, js_normalize, packet_to_json, tv_to_json, Frame, Tv};

fn leaf() -> impl Strategy<Value = Tv> {
    prop_oneof![
        Just(Tv::Null),
        any::<bool>().prop_map(Tv::Bool),
        any::<i64>().prop_map(|n| Tv::Num(n.into())),
        // Floats with short decimal forms, so that parsing them back is exact.
        (any::<i32>(), 0u32..12).prop_map(|(m, e)| Tv::Num(
            serde_json::Number::from_f64(f64::from(m) / f64::from(1u32 << e)).expect("finite")
        )),
        any::<String>().prop_map(Tv::Str),
        proptest::collection::vec(any::<u8>(), 0..16).prop_map(|b| Tv::Bin(Binary::from(b))),
    ]
}

fn value() -> impl Strategy<Value = Tv> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Tv::Arr),
            proptest::collection::btree_map("[a-z_]{0,6}", inner, 0..6)
                .prop_map(|m| Tv::Obj(m.into_iter().collect())),
        ]
    })
}

fn namespace() -> impl Strategy<Value = Namespace> {
    prop_oneof![
        Just(Namespace::main()),
        "/[^,]{1,12}".prop_map(|s| Namespace::new(&s).expect("valid"))
    ]
}

fn event_name() -> impl Strategy<Value = String> {
    any::<String>().prop_filter("not reserved", |s| !RESERVED_EVENTS.contains(&s.as_str()))
}

fn count_binaries(v: &Tv) -> usize {
    match v {
        Tv::Bin(_) => 1,
        Tv::Arr(items) => items.iter().map(count_binaries).sum(),
        Tv::Obj(entries) => entries.iter().map(|(_, v)| count_binaries(v)).sum(),
        _ => 0,
    }
}

fn frames_of(packet: &Packet) -> Vec<Frame> {
    let encoded = Encoder::new().encode(packet);
    std::iter::once(Frame::Text(encoded.text))
        .chain(encoded.attachments.into_iter().map(Frame::Binary))
        .collect()
}

fn roundtrip(packet: &Packet) -> Packet {
    let mut config = DecoderConfig::default().with_max_attachments(usize::MAX);
    config.max_depth = 16;
    let mut outcome = decode_frames(frames_of(packet), config);
    assert_eq!(outcome.outcome, "ok", "{packet:?}: {:?}", outcome.error);
    assert_eq!(outcome.packets.len(), 1);
    outcome.packets.pop().expect("one packet")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn events_round_trip(nsp in namespace(), name in event_name(), ack in proptest::option::of(any::<u64>()),
                         args in proptest::collection::vec(value(), 0..5)) {
        let mut packet = Packet::event(nsp.clone(), &name, &Spread(&args)).expect("valid event");
        if let Some(id) = ack {
            packet = packet.with_ack_id(AckId::new(id));
        }
        let binaries: usize = args.iter().map(count_binaries).sum();
        prop_assert_eq!(packet.kind(), if binaries > 0 { PacketKind::BinaryEvent } else { PacketKind::Event });
        prop_assert_eq!(packet.attachments().len(), binaries);

        let decoded = roundtrip(&packet);
        prop_assert_eq!(&decoded, &packet);
        prop_assert_eq!(decoded.namespace(), &nsp);
        prop_assert_eq!(decoded.ack_id().map(AckId::get), ack);
        let decoded_name = decoded.event_name().expect("a name");
        prop_assert_eq!(decoded_name.as_str(), Some(name.as_str()));
        let mut expected = vec![Value::String(name.clone())];
        expected.extend(args.iter().map(tv_to_json));
        prop_assert_eq!(js_normalize(&packet_to_json(&decoded)["data"]), js_normalize(&Value::Array(expected)));
        // Attachments are the very bytes sent: no copy on the way.
        for (sent, received) in packet.attachments().iter().zip(decoded.attachments()) {
            prop_assert_eq!(sent.as_ptr(), received.as_ptr());
        }
        // Forwarding the raw arguments reproduces the packet.
        let raw = decoded.raw_args().expect("events have arguments");
        let mut forwarded = Packet::event_raw(nsp, &name, raw).expect("valid");
        if let Some(id) = ack {
            forwarded = forwarded.with_ack_id(AckId::new(id));
        }
        prop_assert_eq!(Encoder::new().encode(&forwarded), Encoder::new().encode(&packet));
    }

    #[test]
    fn acks_round_trip(nsp in namespace(), id in any::<u64>(), args in proptest::collection::vec(value(), 0..5)) {
        let packet = Packet::ack(nsp, AckId::new(id), &Spread(&args)).expect("valid ack");
        let decoded = roundtrip(&packet);
        prop_assert_eq!(&decoded, &packet);
        let expected = Value::Array(args.iter().map(tv_to_json).collect());
        prop_assert_eq!(js_normalize(&packet_to_json(&decoded)["data"]), js_normalize(&expected));
    }

    #[test]
    fn connects_round_trip(nsp in namespace(), auth in proptest::option::of(proptest::collection::btree_map("[a-z]{1,5}", any::<i32>(), 0..4))) {
        let packet = match &auth {
            Some(map) => Packet::connect_with(nsp, map).expect("an object"),
            None => Packet::connect(nsp),
        };
        prop_assert_eq!(roundtrip(&packet), packet);
    }

    #[test]
    fn any_text_is_decoded_or_refused_without_panic(text in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = Decoder::new().push_text(Bytes::from(text));
    }

    #[test]
    fn grammar_like_text_is_decoded_or_refused_without_panic(
        text in r#"[0-6]([0-9]{0,2}-)?(/[a-z,]{0,4},?)?[0-9]{0,3}(\[("[a-z_]{0,12}"|[0-9.e-]{1,4}|\{"_placeholder":(true|1),"num":[0-9.-]{1,3}\}|[\[\]{},: ]){0,8}\]?)?"#,
        binaries in 0usize..3,
    ) {
        let mut decoder = Decoder::new();
        if let Ok(Status::NeedsAttachments(_)) = decoder.push_text(Bytes::from(text)) {
            for _ in 0..binaries {
                if decoder.push_binary(Bytes::from_static(b"x")).is_err() {
                    break;
                }
            }
        }
    }
}
