//! Unit tests of the transcoder: decoding here, encoding in `encode.rs`.

use bytes::Bytes;

use super::encode::write_number;
use super::*;
use crate::error::MsgpackError;
use crate::{AckId, Binary, EventName, PacketKind};

mod encode;
mod lazy;

/// Builds MessagePack by hand, as notepack writes it.
#[derive(Default)]
struct W(Vec<u8>);

impl W {
    fn map(mut self, n: u8) -> Self {
        self.0.push(0x80 | n);
        self
    }
    fn arr(mut self, n: u8) -> Self {
        self.0.push(0x90 | n);
        self
    }
    fn s(mut self, s: &str) -> Self {
        assert!(s.len() < 32);
        self.0.push(0xa0 | s.len() as u8);
        self.0.extend_from_slice(s.as_bytes());
        self
    }
    fn num(mut self, f: f64) -> Self {
        write_number(&mut self.0, f);
        self
    }
    fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }
    fn bin(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(&[0xc4, bytes.len() as u8]);
        self.0.extend_from_slice(bytes);
        self
    }
    fn frame(self) -> Bytes {
        Bytes::from(self.0)
    }
}

/// `{type, data: <data>, nsp: "/"}` with `data` written by `f`.
fn packet_with(ty: u8, data: impl FnOnce(W) -> W) -> Bytes {
    let w = W::default().map(3).s("type").num(f64::from(ty)).s("data");
    data(w).s("nsp").s("/").frame()
}

fn event(data: impl FnOnce(W) -> W) -> Bytes {
    packet_with(2, data)
}

fn ok(frame: Bytes) -> Packet {
    decode(frame.clone(), &DecoderConfig::default())
        .unwrap_or_else(|e| panic!("{:02x?}: {e}", &frame[..]))
}

fn err(frame: Bytes) -> DecodeError {
    decode(frame.clone(), &DecoderConfig::default())
        .expect_err(&format!("{:02x?} decodes", &frame[..]))
}

fn json(p: &Packet) -> &str {
    std::str::from_utf8(p.payload().expect("a payload")).unwrap()
}

fn mp_error(offset: usize, error: MsgpackError) -> DecodeError {
    DecodeError::InvalidMsgpack { offset, error }
}

#[test]
fn decodes_every_packet_type() {
    let p = ok(W::default()
        .map(2)
        .s("type")
        .num(0.0)
        .s("nsp")
        .s("/")
        .frame());
    assert_eq!((p.kind(), p.payload()), (PacketKind::Connect, None));
    let p = ok(packet_with(0, |w| w.map(1).s("token").s("abc")));
    assert_eq!(json(&p), r#"{"token":"abc"}"#);
    let p = ok(W::default()
        .map(2)
        .s("type")
        .num(1.0)
        .s("nsp")
        .s("/admin")
        .frame());
    assert_eq!(
        (p.kind(), p.namespace().as_str()),
        (PacketKind::Disconnect, "/admin")
    );
    let p = ok(packet_with(4, |w| w.s("nope")));
    assert_eq!(
        (p.kind(), json(&p)),
        (PacketKind::ConnectError, r#""nope""#)
    );
    let p = ok(packet_with(3, |w| w.arr(0)));
    assert_eq!(
        (p.kind(), json(&p), p.ack_id()),
        (PacketKind::Ack, "[]", None)
    );
    assert!(p.raw_args().unwrap().is_empty());

    // What socket.io-client 4.8 sends: {type, data, options, id, nsp}.
    let frame = W::default()
        .map(5)
        .s("type")
        .num(2.0)
        .s("data")
        .arr(3)
        .s("chat")
        .map(1)
        .s("a")
        .num(1.0)
        .num(-2.5)
        .s("options")
        .map(1)
        .s("compress")
        .raw(&[0xc3])
        .s("id")
        .num(12.0)
        .s("nsp")
        .s("/chat")
        .frame();
    let p = ok(frame);
    assert_eq!(p.kind(), PacketKind::Event);
    assert_eq!(p.namespace(), "/chat");
    assert_eq!(p.ack_id(), Some(AckId::new(12)));
    assert_eq!(json(&p), r#"["chat",{"a":1},-2.5]"#);
    assert_eq!(p.event_name().unwrap(), "chat");
    let (obj, n): (serde_json::Value, f64) = p.args().unwrap();
    assert_eq!((obj["a"].as_u64(), n), (Some(1), -2.5));
    assert_eq!(p.raw_args().unwrap().elements_json(), br#"{"a":1},-2.5"#);
}

#[test]
fn binary_values_become_attachments_sharing_the_frame() {
    let frame = event(|w| {
        w.arr(4)
            .s("up")
            .bin(b"AB")
            .map(1)
            .s("k")
            .arr(2)
            .raw(&[0xc7, 1, 0, b'C'])
            .bin(b"")
            .raw(&[0xd5, 9, 1, 2])
    });
    let p = ok(frame.clone());
    assert_eq!(p.kind(), PacketKind::BinaryEvent);
    assert_eq!(
        json(&p),
        r#"["up",{"_placeholder":true,"num":0},{"k":[{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]},[9,{"_placeholder":true,"num":3}]]"#
    );
    let atts = p.attachments();
    assert_eq!(atts.len(), 4);
    assert_eq!(
        [&atts[0][..], &atts[1][..], &atts[2][..], &atts[3][..]],
        [&b"AB"[..], b"C", b"", &[1, 2]]
    );
    let range = frame.as_ptr_range();
    assert!(atts
        .iter()
        .all(|a| range.contains(&a.as_ptr()) || a.is_empty()));
    let (a, rest): (Binary, crate::Value) = p.args().unwrap();
    assert_eq!(&a[..], b"AB");
    assert_eq!(rest["k"][1].as_binary().map(|b| b.len()), Some(0));

    let p = ok(packet_with(3, |w| w.arr(1).bin(&[7])));
    assert_eq!(p.kind(), PacketKind::BinaryAck);
    let (b,): (Binary,) = p.args().unwrap();
    assert_eq!(&b[..], &[7]);
}

#[test]
fn numbers_print_as_javascript_prints_them() {
    let cases: &[(&[u8], &str)] = &[
        (&[0x00], "0"),
        (&[0xff], "-1"),
        (
            &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            "18446744073709552000",
        ),
        (&[0xcf, 0, 0x20, 0, 0, 0, 0, 0, 1], "9007199254740992"),
        (&[0xcf, 0, 0x20, 0, 0, 0, 0, 0, 0], "9007199254740992"),
        (&[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], "-9223372036854776000"),
        (&[0xd3, 0xff, 0xe0, 0, 0, 0, 0, 0, 0], "-9007199254740992"),
        (&[0xca, 0x3d, 0xcc, 0xcc, 0xcd], "0.10000000149011612"),
        (
            &[0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a],
            "0.1",
        ),
        (
            &[0xcb, 0x44, 0x4b, 0x1a, 0xe4, 0xd6, 0xe2, 0xef, 0x50],
            "1e+21",
        ),
        (&[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], "null"),
        (&[0xcb, 0xff, 0xf0, 0, 0, 0, 0, 0, 0], "null"),
        (&[0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0], "0"),
    ];
    for (bytes, expected) in cases {
        let p = ok(event(|w| w.arr(2).s("n").raw(bytes)));
        assert_eq!(json(&p), format!("[\"n\",{expected}]"), "{bytes:02x?}");
    }
    // A number name is read as JavaScript reads it; a name that is not finite is refused.
    let p = ok(event(|w| {
        w.arr(1).raw(&[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0])
    }));
    assert_eq!(p.event_name().unwrap(), EventName::Number(1.5));
    assert!(matches!(
        err(event(|w| w
            .arr(1)
            .raw(&[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]))),
        DecodeError::InvalidPayload { offset: 13, .. }
    ));
}

#[test]
fn undefined_dates_and_strings_follow_json_stringify() {
    let undefined = [0xd4, 0, 0];
    let p = ok(event(|w| {
        w.arr(4)
            .s("u")
            .raw(&undefined)
            .map(3)
            .s("a")
            .raw(&undefined)
            .s("b")
            .num(1.0)
            .s("c")
            .raw(&undefined)
            .raw(&[0xd7, 0, 0, 0, 0x01, 0x8f, 0x4e, 0x04, 0xce, 0xb2])
    }));
    assert_eq!(json(&p), r#"["u",null,{"b":1},"2024-05-06T13:08:09.010Z"]"#);
    // `data: undefined` and `id: undefined` are absent.
    let frame = W::default()
        .map(4)
        .s("type")
        .num(0.0)
        .s("data")
        .raw(&undefined)
        .s("id")
        .raw(&undefined)
        .s("nsp")
        .s("/")
        .frame();
    let p = ok(frame);
    assert_eq!((p.payload(), p.ack_id()), (None, None));
    let p = ok(event(|w| w.arr(2).s("s").s("a\"\\\n\u{1}\u{7f}é")));
    assert_eq!(json(&p), "[\"s\",\"a\\\"\\\\\\n\\u0001\u{7f}é\"]");
    let p = ok(event(|w| w.arr(1).s("c\nhat")));
    assert_eq!(p.event_name().unwrap(), "c\nhat");
}

#[test]
fn map_keys_are_strings_or_numbers() {
    let p = ok(event(|w| {
        w.arr(2)
            .s("k")
            .map(5)
            .num(1.0)
            .s("a")
            .num(-1.5)
            .s("b")
            .raw(&[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0])
            .s("c")
            .s("x")
            .s("d")
            .s("x")
            .s("e")
    }));
    assert_eq!(
        json(&p),
        r#"["k",{"1":"a","-1.5":"b","NaN":"c","x":"d","x":"e"}]"#
    );
    assert_eq!(
        err(event(|w| w.arr(2).s("k").map(1).raw(&[0xc0]).num(1.0))),
        mp_error(16, MsgpackError::InvalidMapKey)
    );
    assert_eq!(
        err(event(|w| w
            .arr(2)
            .s("k")
            .map(2)
            .s("_placeholder")
            .raw(&[0xc3])
            .s("num")
            .num(0.0))),
        mp_error(16, MsgpackError::PlaceholderKey)
    );
    // `_placeholder` with any other value is plain data.
    let p = ok(event(|w| {
        w.arr(2).s("k").map(1).s("_placeholder").raw(&[0xc2])
    }));
    assert_eq!(json(&p), r#"["k",{"_placeholder":false}]"#);
}

#[test]
fn applies_the_official_rules_and_the_crate_s_stricter_ones() {
    let header_error = |frame: Bytes| err(frame);
    assert_eq!(
        header_error(W::default().arr(0).frame()),
        mp_error(0, MsgpackError::NotAMap)
    );
    assert_eq!(
        header_error(W::default().map(1).s("nsp").s("/").frame()),
        mp_error(0, MsgpackError::InvalidType)
    );
    for ty in [5.0, 6.0, -1.0, 1.5] {
        assert_eq!(
            header_error(
                W::default()
                    .map(2)
                    .s("type")
                    .num(ty)
                    .s("nsp")
                    .s("/")
                    .frame()
            ),
            mp_error(6, MsgpackError::InvalidType),
            "{ty}"
        );
    }
    // 2.0 as a double is an integer for `Number.isInteger`.
    let p = ok(W::default()
        .map(3)
        .s("type")
        .raw(&[0xcb, 0x40, 0, 0, 0, 0, 0, 0, 0])
        .s("data")
        .arr(1)
        .s("a")
        .s("nsp")
        .s("/")
        .frame());
    assert_eq!(p.kind(), PacketKind::Event);
    for (nsp, reason) in [
        ("admin", "not starting with '/'"),
        ("/a,b", "holding a ','"),
    ] {
        assert_eq!(
            err(W::default()
                .map(2)
                .s("type")
                .num(0.0)
                .s("nsp")
                .s(nsp)
                .frame()),
            mp_error(11, MsgpackError::InvalidNamespace(reason))
        );
    }
    assert_eq!(
        err(W::default()
            .map(2)
            .s("type")
            .num(0.0)
            .s("nsp")
            .num(1.0)
            .frame()),
        mp_error(11, MsgpackError::InvalidNamespace("not a string"))
    );
    assert_eq!(
        err(W::default().map(1).s("type").num(0.0).frame()),
        mp_error(0, MsgpackError::InvalidNamespace("missing"))
    );
    for id in [-1.0, 0.5] {
        let frame = W::default()
            .map(3)
            .s("type")
            .num(0.0)
            .s("nsp")
            .s("/")
            .s("id")
            .num(id)
            .frame();
        assert_eq!(err(frame), mp_error(16, MsgpackError::InvalidAckId), "{id}");
    }
    let frame = W::default()
        .map(3)
        .s("type")
        .num(0.0)
        .s("nsp")
        .s("/")
        .s("id")
        .raw(&[0xcb, 0x40, 0x08, 0, 0, 0, 0, 0, 0])
        .frame();
    assert_eq!(ok(frame).ack_id(), Some(AckId::new(3)));
    let repeated = W::default()
        .map(3)
        .s("type")
        .num(0.0)
        .s("type")
        .num(0.0)
        .s("nsp")
        .s("/")
        .frame();
    assert_eq!(err(repeated), mp_error(7, MsgpackError::RepeatedKey));

    let invalid = |ty: u8, data: fn(W) -> W| match err(packet_with(ty, data)) {
        DecodeError::InvalidPayload { found, .. } => found,
        other => panic!("{other:?}"),
    };
    assert_eq!(invalid(0, |w| w.arr(0)), "an array");
    assert_eq!(invalid(0, |w| w.raw(&[0xc0])), "null");
    assert_eq!(invalid(1, |w| w.map(0)), "an object");
    assert_eq!(invalid(4, |w| w.num(1.0)), "a number");
    assert_eq!(invalid(2, |w| w.map(0)), "an object");
    assert_eq!(invalid(2, |w| w.arr(0)), "an empty array");
    assert_eq!(invalid(2, |w| w.arr(1).raw(&[0xc0])), "null as event name");
    assert_eq!(
        invalid(2, |w| w.arr(1).raw(&[0xd4, 0, 0])),
        "null as event name"
    );
    assert_eq!(invalid(2, |w| w.arr(1).arr(0)), "an array as event name");
    assert_eq!(invalid(2, |w| w.raw(&[0xd4, 5, 0])), "an extension value");
    assert_eq!(invalid(3, |w| w.s("x")), "a string");
    assert_eq!(
        err(W::default()
            .map(2)
            .s("type")
            .num(2.0)
            .s("nsp")
            .s("/")
            .frame()),
        DecodeError::InvalidPayload {
            kind: PacketKind::Event,
            offset: 13,
            expected: "an array starting with a string or number event name",
            found: "no payload"
        }
    );
    assert_eq!(
        err(event(|w| w.arr(1).s("disconnect"))),
        DecodeError::ReservedEventName {
            name: "disconnect",
            offset: 13
        }
    );
    assert_eq!(
        err(packet_with(0, |w| w.map(1).s("b").bin(b"x"))),
        mp_error(12, MsgpackError::BinaryNotAllowed)
    );
    assert_eq!(
        err(event(|w| w.arr(1).raw(&[0xa1, 0xff]))),
        mp_error(13, MsgpackError::InvalidUtf8)
    );
}

#[test]
fn refuses_malformed_frames() {
    let good = event(|w| w.arr(2).s("a").s("bcd"));
    for cut in 0..good.len() {
        assert_eq!(
            err(good.slice(..cut)),
            mp_error(cut, MsgpackError::UnexpectedEnd),
            "{cut}"
        );
    }
    let mut long = good.to_vec();
    long.push(0xc0);
    assert_eq!(
        err(long.into()),
        mp_error(good.len(), MsgpackError::TrailingBytes)
    );
    // A huge announced array ends at the end of the frame, without allocating for it.
    let huge = event(|w| w.raw(&[0xdd, 0xff, 0xff, 0xff, 0xff]).s("a"));
    assert!(matches!(
        err(huge),
        DecodeError::InvalidMsgpack {
            error: MsgpackError::UnexpectedEnd,
            ..
        }
    ));
    let unused = event(|w| w.arr(2).s("a").raw(&[0xc1]));
    assert_eq!(err(unused), mp_error(15, MsgpackError::UnusedMarker));
}

#[test]
fn enforces_the_decoder_limits() {
    let frame = event(|w| w.arr(3).s("a").bin(&[1; 10]).bin(&[2; 10]));
    let config = DecoderConfig::default().with_max_attachments(1);
    assert!(matches!(
        decode(frame.clone(), &config),
        Err(DecodeError::TooManyAttachments {
            count: 2,
            max: 1,
            ..
        })
    ));
    let config = DecoderConfig::default().with_max_packet_size(frame.len() - 1);
    assert!(matches!(
        decode(frame.clone(), &config),
        Err(DecodeError::PacketTooLarge { .. })
    ));
    // The equivalent text packet counts too: here its JSON and attachments.
    let config = DecoderConfig::default().with_max_packet_size(frame.len() + 30);
    assert!(matches!(
        decode(frame, &config),
        Err(DecodeError::PacketTooLarge { .. })
    ));
    let deep = event(|w| w.arr(2).s("a").arr(1).arr(0));
    let config = DecoderConfig::default().with_max_depth(2);
    assert_eq!(
        decode(deep.clone(), &config).unwrap_err(),
        DecodeError::TooDeep { offset: 16, max: 2 }
    );
    assert!(decode(deep, &config.with_max_depth(3)).is_ok());
    // Binary is a placeholder object in the text form, an extension `[type, placeholder]`:
    // they nest as deep there, so that the text form decodes with the same limits.
    let bin = event(|w| w.arr(2).s("a").arr(1).bin(b"x"));
    let config = DecoderConfig::default().with_max_depth(2);
    assert!(matches!(
        decode(bin.clone(), &config),
        Err(DecodeError::TooDeep { max: 2, .. })
    ));
    assert!(decode(bin, &config.with_max_depth(3)).is_ok());
    let ext = event(|w| w.arr(2).s("a").raw(b"\xd4\x07\x01"));
    let config = DecoderConfig::default().with_max_depth(2);
    assert!(matches!(
        decode(ext.clone(), &config),
        Err(DecodeError::TooDeep { max: 2, .. })
    ));
    assert!(decode(ext, &config.with_max_depth(3)).is_ok());
    // Ignored keys are bounded too.
    let frame = W::default()
        .map(3)
        .s("type")
        .num(0.0)
        .s("x")
        .arr(1)
        .arr(1)
        .arr(0)
        .s("nsp")
        .s("/")
        .frame();
    assert!(matches!(
        decode(frame, &DecoderConfig::default().with_max_depth(2)),
        Err(DecodeError::TooDeep { .. })
    ));
}
