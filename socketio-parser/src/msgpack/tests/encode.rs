//! Unit tests of the encoding direction.

use bytes::Bytes;

use super::{decode, encode, encode_text_packet, event, W};
use crate::error::{DecodeError, EncodeError, JsonError, PlaceholderError};
use crate::{AckId, Binary, DecoderConfig, Encoder, Namespace, Packet, PacketKind};

fn text_to_msgpack(text: &str, attachments: &[&[u8]]) -> Vec<u8> {
    let attachments: Vec<Bytes> = attachments
        .iter()
        .map(|a| Bytes::copy_from_slice(a))
        .collect();
    encode_text_packet(text.as_bytes(), &attachments)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .to_vec()
}

#[test]
fn encodes_in_the_node_server_s_key_order() {
    let main = |w: W| w.s("nsp").s("/");
    assert_eq!(
        text_to_msgpack("0", &[]),
        main(W::default().map(2).s("type").num(0.0)).0
    );
    assert_eq!(
        text_to_msgpack(r#"0/a,{"sid":"x"}"#, &[]),
        W::default()
            .map(3)
            .s("type")
            .num(0.0)
            .s("data")
            .map(1)
            .s("sid")
            .s("x")
            .s("nsp")
            .s("/a")
            .0
    );
    assert_eq!(
        text_to_msgpack("1/a,", &[]),
        W::default().map(2).s("type").num(1.0).s("nsp").s("/a").0
    );
    assert_eq!(
        text_to_msgpack(r#"2["e",1]"#, &[]),
        main(
            W::default()
                .map(3)
                .s("type")
                .num(2.0)
                .s("data")
                .arr(2)
                .s("e")
                .num(1.0)
        )
        .0
    );
    assert_eq!(
        text_to_msgpack(r#"212["e"]"#, &[]),
        main(
            W::default()
                .map(4)
                .s("type")
                .num(2.0)
                .s("data")
                .arr(1)
                .s("e")
                .s("id")
                .num(12.0)
        )
        .0
    );
    assert_eq!(
        text_to_msgpack(r#"3300[]"#, &[]),
        main(
            W::default()
                .map(4)
                .s("id")
                .raw(&[0xcd, 1, 0x2c])
                .s("type")
                .num(3.0)
                .s("data")
                .arr(0)
        )
        .0
    );
    assert_eq!(
        text_to_msgpack(r#"4{"message":"nope"}"#, &[]),
        main(
            W::default()
                .map(3)
                .s("type")
                .num(4.0)
                .s("data")
                .map(1)
                .s("message")
                .s("nope")
        )
        .0
    );
    assert_eq!(
        text_to_msgpack(r#"4/x,{"message":"Invalid namespace"}"#, &[]),
        W::default()
            .map(3)
            .s("type")
            .num(4.0)
            .s("nsp")
            .s("/x")
            .s("data")
            .map(1)
            .s("message")
            .s("Invalid namespace")
            .0
    );
    assert_eq!(
        text_to_msgpack(r#"61-/b,5[{"_placeholder":true,"num":0}]"#, &[b"\x01\x02"]),
        W::default()
            .map(4)
            .s("id")
            .num(5.0)
            .s("type")
            .num(3.0)
            .s("data")
            .arr(1)
            .bin(&[1, 2])
            .s("nsp")
            .s("/b")
            .0
    );
}

#[test]
fn encodes_values_as_notepack_does() {
    let data = |text: &str| {
        let frame = text_to_msgpack(&format!("4{text}"), &[]);
        frame[12..frame.len() - 6].to_vec()
    };
    let cases: &[(&str, &[u8])] = &[
        (
            "[0,127,128,255,256,65535,65536]",
            &[
                0x97, 0, 0x7f, 0xcc, 0x80, 0xcc, 0xff, 0xcd, 1, 0, 0xcd, 0xff, 0xff, 0xce, 0, 1, 0,
                0,
            ],
        ),
        ("[4294967296]", &[0x91, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0]),
        (
            "[-1,-32,-33,-128,-129,-32768,-32769]",
            &[
                0x97, 0xff, 0xe0, 0xd0, 0xdf, 0xd0, 0x80, 0xd1, 0xff, 0x7f, 0xd1, 0x80, 0, 0xd2,
                0xff, 0xff, 0x7f, 0xff,
            ],
        ),
        (
            "[-2147483649]",
            &[0x91, 0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff],
        ),
        (
            "[1.0,1e2,-0,-0.0,0.5]",
            &[0x95, 1, 100, 0, 0, 0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0],
        ),
        // Integers are read as JavaScript reads them: beyond 2^53, to the nearest double.
        (
            "[9007199254740993]",
            &[0x91, 0xcf, 0, 0x20, 0, 0, 0, 0, 0, 0],
        ),
        (
            "[18374686479671620]",
            &[0x91, 0xcf, 0, 0x41, 0x47, 0xae, 0x14, 0x7a, 0xe1, 0x44],
        ),
        (
            "[18446744073709551615]",
            &[0x91, 0xcb, 0x43, 0xf0, 0, 0, 0, 0, 0, 0],
        ),
        (
            "[-9223372036854775808]",
            &[0x91, 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0],
        ),
        // Integral doubles beyond the 64-bit integers stay doubles (notepack wraps them).
        (
            "[1e20,-1e19]",
            &[
                0x92, 0xcb, 0x44, 0x15, 0xaf, 0x1d, 0x78, 0xb5, 0x8c, 0x40, 0xcb, 0xc3, 0xe1, 0x58,
                0xe4, 0x60, 0x91, 0x3d, 0x00,
            ],
        ),
        (
            "[18446744073709551616]",
            &[0x91, 0xcb, 0x43, 0xf0, 0, 0, 0, 0, 0, 0],
        ),
        ("[true,false,null]", &[0x93, 0xc3, 0xc2, 0xc0]),
        (r#"{"a":{}}"#, &[0x81, 0xa1, b'a', 0x80]),
        (
            r#" [ "\u00e9\n\ud83d\ude00\ud800x" ] "#,
            &[
                0x91, 0xab, 0xc3, 0xa9, b'\n', 0xf0, 0x9f, 0x98, 0x80, 0xef, 0xbf, 0xbd, b'x',
            ],
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(data(text), *expected, "{text}");
    }
    // Header sizes at their boundaries.
    let s31 = "x".repeat(31);
    let s32 = "x".repeat(32);
    assert_eq!(&data(&format!("\"{s31}\""))[..1], &[0xbf]);
    assert_eq!(&data(&format!("\"{s32}\""))[..2], &[0xd9, 32]);
    assert_eq!(
        &data(&format!("\"{}\"", "x".repeat(256)))[..3],
        &[0xda, 1, 0]
    );
    let list = |n: usize| format!("[{}]", vec!["0"; n].join(","));
    assert_eq!(data(&list(15))[0], 0x9f);
    assert_eq!(&data(&list(16))[..3], &[0xdc, 0, 16]);
    assert_eq!(&data(&list(65536))[..5], &[0xdd, 0, 1, 0, 0]);
    let map = |n: usize| {
        format!(
            "{{{}}}",
            (0..n)
                .map(|i| format!("\"{i}\":0"))
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    assert_eq!(data(&map(15))[0], 0x8f);
    assert_eq!(&data(&map(16))[..3], &[0xde, 0, 16]);
    let bin = text_to_msgpack(r#"51-["b",{"_placeholder":true,"num":0}]"#, &[&[9; 300]]);
    assert_eq!(&bin[12..18], &[0x92, 0xa1, b'b', 0xc5, 1, 0x2c]);
}

#[test]
fn refuses_text_that_is_not_a_packet() {
    let bad = |text: &str, attachments: &[Bytes]| match encode_text_packet(
        text.as_bytes(),
        attachments,
    ) {
        Err(EncodeError::InvalidPacketText(e)) => e,
        other => panic!("{text}: {other:?}"),
    };
    let one = [Bytes::from_static(b"x")];
    assert!(matches!(bad("", &[]), DecodeError::EmptyFrame));
    assert!(matches!(
        bad("2[\"a\"", &[]),
        DecodeError::InvalidJson {
            offset: 5,
            error: JsonError::UnexpectedEnd
        }
    ));
    assert!(matches!(
        bad("2[\"a\"]x", &[]),
        DecodeError::InvalidJson {
            error: JsonError::TrailingCharacters,
            ..
        }
    ));
    assert!(matches!(bad("2[01]", &[]), DecodeError::InvalidJson { .. }));
    assert!(matches!(
        bad("2[\"\u{1}\"]", &[]),
        DecodeError::InvalidJson {
            error: JsonError::ControlCharacter,
            ..
        }
    ));
    assert!(matches!(
        bad("2[\"\\q\"]", &[]),
        DecodeError::InvalidJson {
            error: JsonError::InvalidEscape,
            ..
        }
    ));
    assert!(matches!(
        bad("2[\"a\"]", &one),
        DecodeError::IllegalAttachments { .. }
    ));
    assert!(matches!(
        bad(r#"51-["a"]"#, &one),
        DecodeError::MissingPlaceholder { index: 0 }
    ));
    assert!(matches!(
        bad(r#"51-["a",{"_placeholder":true,"num":1}]"#, &one),
        DecodeError::BadPlaceholder {
            offset: 8,
            error: PlaceholderError::OutOfRange { num: 1, count: 1 }
        }
    ));
    assert!(matches!(
        bad(
            r#"51-["a",{"_placeholder":true,"num":0},{"num":0,"_placeholder":true}]"#,
            &one
        ),
        DecodeError::BadPlaceholder {
            error: PlaceholderError::Repeated { num: 0 },
            ..
        }
    ));
    let deep = format!("2[\"a\",{}{}]", "[".repeat(600), "]".repeat(600));
    assert!(matches!(
        bad(&deep, &[]),
        DecodeError::TooDeep { max: 512, .. }
    ));
    // Without attachments, a placeholder-shaped object is plain data, as in the text form.
    let frame = text_to_msgpack(r#"2["a",{"_placeholder":true,"num":0}]"#, &[]);
    assert_eq!(frame[15], 0x82);
}

#[test]
fn round_trips_through_both_forms() {
    let bin = Binary::from(vec![1u8, 2, 3]);
    let packets = [
        Packet::event(
            Namespace::new("/x").unwrap(),
            "e",
            &(1, "two", [3.5], bin.clone()),
        )
        .unwrap()
        .with_ack_id(AckId::new(9)),
        Packet::ack(Namespace::main(), AckId::new(1 << 40), &(bin, ())).unwrap(),
        Packet::connect(Namespace::main()),
        Packet::connect_with(Namespace::main(), &serde_json::json!({"token": "t"})).unwrap(),
        Packet::disconnect(Namespace::new("/d").unwrap()),
        Packet::connect_error(Namespace::main(), &"no").unwrap(),
    ];
    for p in packets {
        let frame = encode(&p).unwrap();
        assert_eq!(decode(frame.clone(), &DecoderConfig::default()).unwrap(), p);
        let text = Encoder::new().encode(&p);
        assert_eq!(
            encode_text_packet(&text.text, &text.attachments).unwrap(),
            frame
        );
    }
}

#[test]
fn the_deepest_allowed_nesting_fits_a_test_thread_s_stack() {
    // A test thread has 2 MiB of stack, as a tokio worker has; debug frames are the largest.
    let limit = DecoderConfig::MAX_DEPTH_LIMIT;
    let config = DecoderConfig::default().with_max_depth(usize::MAX);
    let mut data = W::default().arr(2).s("d").0;
    data.extend(std::iter::repeat_n(0x91, limit - 1));
    data.push(0xc0);
    let frame = event(|w| w.raw(&data));
    let p = decode(frame.clone(), &config).unwrap();
    assert_eq!(p.kind(), PacketKind::Event);
    assert_eq!(encode(&p).unwrap(), frame);
    let mut deeper = data.clone();
    deeper.insert(2 + 2, 0x91);
    assert!(matches!(
        decode(event(|w| w.raw(&deeper)), &config),
        Err(DecodeError::TooDeep { max: 512, .. })
    ));
}
