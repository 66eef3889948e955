//! The serde integration: typed arguments in and out, and how bytes travel.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use socketio_parser::{
    AckId, ArgsError, Binary, Decoder, Encoder, EventName, Namespace, Packet, Status,
};

fn decode(frames: &[&[u8]]) -> Packet {
    let mut decoder = Decoder::new();
    let mut last = None;
    for (i, frame) in frames.iter().enumerate() {
        let bytes = Bytes::copy_from_slice(frame);
        last = Some(if i == 0 {
            decoder.push_text(bytes)
        } else {
            decoder.push_binary(bytes)
        });
    }
    match last {
        Some(Ok(Status::Complete(p))) => p,
        other => panic!("{other:?}"),
    }
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Upload {
    name: String,
    parts: Vec<Binary>,
    sum: Option<Binary>,
}

#[test]
fn typed_arguments_round_trip_with_binary() {
    let upload = Upload {
        name: "a.bin".into(),
        parts: vec![Binary::from(vec![1, 2]), Binary::from(vec![3])],
        sum: Some(Binary::from(vec![9])),
    };
    let packet = Packet::event(Namespace::main(), "upload", &(&upload, 7u8)).unwrap();
    let encoded = Encoder::new().encode(&packet);
    assert_eq!(
        String::from_utf8(encoded.text.to_vec()).unwrap(),
        r#"53-["upload",{"name":"a.bin","parts":[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}],"sum":{"_placeholder":true,"num":2}},7]"#
    );
    let mut frames: Vec<&[u8]> = vec![&encoded.text];
    frames.extend(encoded.attachments.iter().map(|a| &a[..]));
    let decoded = decode(&frames);
    let (back, n): (Upload, u8) = decoded.args().unwrap();
    assert_eq!((back, n), (upload, 7));
}

#[test]
fn arguments_borrow_from_the_frame_and_extra_ones_are_ignored() {
    let p = decode(&[br#"2["chat","hello",{"to":"bob"},42,"extra"]"#]);
    #[derive(Deserialize)]
    struct To<'a> {
        to: &'a str,
    }
    let (text, to, n): (&str, To<'_>, u32) = p.args().unwrap();
    assert_eq!((text, to.to, n), ("hello", "bob", 42));
    let all: Vec<serde_json::Value> = p.args().unwrap();
    assert_eq!(all.len(), 4);
    assert!(matches!(
        p.args::<(String, String)>(),
        Err(ArgsError::Json(_))
    ));
    assert!(p.args::<(String, To<'_>, u32, String, String)>().is_err());
}

#[test]
fn received_binary_shares_the_frame_memory() {
    let attachment = Bytes::from(vec![5u8; 1024]);
    let mut decoder = Decoder::new();
    let _ = decoder
        .push_text(Bytes::from_static(
            br#"51-["f",{"_placeholder":true,"num":0}]"#,
        ))
        .unwrap();
    let Status::Complete(p) = decoder.push_binary(attachment.clone()).unwrap() else {
        panic!()
    };
    let (b,): (Binary,) = p.args().unwrap();
    assert_eq!(b.as_bytes().as_ptr(), attachment.as_ptr());
}

#[test]
fn how_bytes_travel() {
    let e = Encoder::new();
    let nsp = Namespace::main();
    // A plain Vec<u8> is an array of numbers, as in JavaScript.
    let plain = e.event(&nsp, "b", None, &(vec![1u8, 2],)).unwrap();
    assert_eq!(&plain.text[..], br#"2["b",[1,2]]"#);
    // Binary, and anything serialized through serialize_bytes, is an attachment.
    let bin = e
        .event(&nsp, "b", None, &(Binary::from(vec![1u8, 2]),))
        .unwrap();
    assert_eq!(&bin.text[..], br#"51-["b",{"_placeholder":true,"num":0}]"#);
    let bytes = e
        .event(&nsp, "b", None, &(Bytes::from_static(b"\x01\x02"),))
        .unwrap();
    assert_eq!(bytes, bin);
    #[derive(Serialize)]
    struct WithBytes<'a> {
        #[serde(serialize_with = "as_bytes")]
        data: &'a [u8],
    }
    fn as_bytes<S: serde::Serializer>(v: &&[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }
    let with = e
        .event(&nsp, "b", Some(AckId::new(1)), &WithBytes { data: b"xy" })
        .unwrap();
    assert_eq!(
        &with.text[..],
        br#"51-1["b",{"data":{"_placeholder":true,"num":0}}]"#
    );
    assert_eq!(&with.attachments[0][..], b"xy");
}

#[test]
fn binary_fields_need_an_attachment() {
    // A placeholder-shaped object in a plain EVENT is data, and there is nothing to resolve.
    let p = decode(&[br#"2["f",{"_placeholder":true,"num":0}]"#]);
    assert!(p.args::<(Binary,)>().is_err());
    let (v,): (serde_json::Value,) = p.args().unwrap();
    assert_eq!(v["num"], 0);
}

#[test]
fn event_names_read_in_place() {
    let p = decode(&[br#"2["caf\u00e9",1]"#]);
    assert_eq!(p.event_name().unwrap(), "café");
    let p = decode(&[br#"2[1.0,"x"]"#]);
    assert_eq!(p.event_name(), Some(EventName::Number(1.0)));
    assert_eq!(p.event_name().unwrap().to_string(), "1");
    let (x,): (String,) = p.args().unwrap();
    assert_eq!(x, "x");
}

#[test]
fn connect_payloads_and_wrong_kinds() {
    let p = decode(&[br#"0/admin,{"token":"123"}"#]);
    #[derive(Deserialize)]
    struct Auth {
        token: String,
    }
    assert_eq!(p.payload_as::<Auth>().unwrap().token, "123");
    assert!(matches!(
        p.args::<(String,)>(),
        Err(ArgsError::NoArguments { .. })
    ));
    assert!(p.raw_args().is_none());
    let p = decode(&[b"0"]);
    assert!(matches!(
        p.payload_as::<serde_json::Value>(),
        Err(ArgsError::NoArguments { .. })
    ));
}

#[test]
fn acks_answer_with_the_same_id() {
    let p = decode(&[br#"2/chat,12["ping"]"#]);
    let mut out = bytes::BytesMut::from(&b"4"[..]);
    let atts = Encoder::new()
        .ack_into(
            &mut out,
            p.namespace(),
            p.ack_id().unwrap(),
            &("pong", Binary::from(vec![1u8])),
        )
        .unwrap();
    assert_eq!(
        &out[..],
        br#"461-/chat,12["pong",{"_placeholder":true,"num":0}]"#
    );
    assert_eq!(atts.len(), 1);
    // Echo the arguments back without parsing them.
    let p = decode(&[
        br#"52-9["echo",{"_placeholder":true,"num":1},[{"_placeholder":true,"num":0}]]"#,
        b"A",
        b"B",
    ]);
    let mut out = bytes::BytesMut::new();
    let atts = Encoder::new().ack_raw_into(
        &mut out,
        p.namespace(),
        p.ack_id().unwrap(),
        &p.raw_args().unwrap(),
    );
    assert_eq!(
        &out[..],
        br#"62-9[{"_placeholder":true,"num":1},[{"_placeholder":true,"num":0}]]"#
    );
    assert_eq!(
        atts,
        vec![Bytes::from_static(b"A"), Bytes::from_static(b"B")]
    );
}

/// `["ev", {"z":1,"blob":<bytes>,"a":[<bytes>]}, <bytes>]` as it arrives.
fn nested_binary_event() -> Packet {
    decode(&[
        br#"53-["ev",{"z":1,"blob":{"_placeholder":true,"num":0},"a":[{"num":1,"_placeholder":true}]},{"_placeholder":true,"num":2}]"#,
        b"\x00\x01",
        b"\x02",
        b"\x03",
    ])
}

#[test]
fn a_dynamic_value_holds_binary_anywhere_and_sends_it_back() {
    let packet = nested_binary_event();
    let (first, last): (socketio_parser::Value, socketio_parser::Value) = packet.args().unwrap();
    assert_eq!(first["blob"].as_binary().unwrap()[..], b"\x00\x01"[..]);
    assert_eq!(first["a"][0].as_binary().unwrap()[..], b"\x02"[..]);
    assert_eq!(last.as_binary().unwrap()[..], b"\x03"[..]);
    let echo = Packet::event(Namespace::main(), "ev", &(first, last)).unwrap();
    let encoded = Encoder::new().encode(&echo);
    assert_eq!(
        String::from_utf8(encoded.text.to_vec()).unwrap(),
        r#"53-["ev",{"z":1,"blob":{"_placeholder":true,"num":0},"a":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":2}]"#
    );
    let sizes: Vec<&[u8]> = encoded.attachments.iter().map(|a| &a[..]).collect();
    assert_eq!(sizes, [&b"\x00\x01"[..], b"\x02", b"\x03"]);
}

#[test]
fn binary_read_as_a_json_value_is_refused_not_passed_as_an_object() {
    let packet = nested_binary_event();
    let unread = |r: Result<(), ArgsError>| match r {
        Err(ArgsError::UnreadBinary { count }) => count,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        unread(packet.args::<(serde_json::Value,)>().map(drop)),
        2,
        "the two placeholders of the first argument"
    );
    assert_eq!(
        unread(
            packet
                .args::<(serde_json::Value, socketio_parser::Value)>()
                .map(drop)
        ),
        2
    );
    assert_eq!(
        unread(
            packet
                .args::<(std::collections::HashMap<String, serde_json::Value>,)>()
                .map(drop)
        ),
        2,
        "`blob`, and the one inside `a`"
    );
    assert!(packet.args::<Vec<serde_json::Value>>().is_err());
    assert!(packet.payload_as::<serde_json::Value>().is_err());
}

#[test]
fn binary_that_a_handler_skips_or_reads_as_bytes_is_fine() {
    let packet = nested_binary_event();
    // Arguments beyond what the type reads, and unknown struct fields, are skipped.
    #[derive(Deserialize)]
    struct OnlyZ {
        z: u8,
    }
    let (only,): (OnlyZ,) = packet.args().unwrap();
    assert_eq!(only.z, 1);
    #[derive(Deserialize)]
    struct Typed {
        blob: Binary,
        a: Vec<Binary>,
    }
    let (typed, last): (Typed, Option<Binary>) = packet.args().unwrap();
    assert_eq!(
        (typed.blob.len(), typed.a.len(), last.unwrap().len()),
        (2, 1, 1)
    );
    // Through serde's buffering (untagged enums) too.
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Bytes(Binary),
        #[allow(dead_code)] // only the other variant is expected
        Text(String),
    }
    let (_, second): (serde::de::IgnoredAny, Either) = packet.args().unwrap();
    assert!(matches!(second, Either::Bytes(b) if b[..] == b"\x03"[..]));
}
