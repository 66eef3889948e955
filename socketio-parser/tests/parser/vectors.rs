//! Every example encoding of the protocol documents, byte for byte both ways: the text (and
//! attachments) decode to the packet, and the packet encodes to the text.
//!
//! Sources: the Socket.IO v5 protocol document ("Packet encoding" tables and the sample
//! session) and the examples of the official protocol test suite. Texts are written without
//! the Engine.IO `4` prefix.

use bytes::Bytes;
use serde_json::{json, Value};
use socketio_parser::DecoderConfig;

use crate::common::{decode_frames, encode_description, js_normalize, packet_to_json, Frame};

// Objects in these vectors have one key each, so `json!`'s sorted maps keep their order.

const PH0: &str = r#"{"_placeholder":true,"num":0}"#;
const PH1: &str = r#"{"_placeholder":true,"num":1}"#;

/// (text, attachments, packet with binary values as {"$bin": hex})
fn vectors() -> Vec<(String, Vec<&'static [u8]>, Value)> {
    let b1234 = json!({"$bin": "01020304"});
    let mut v = vec![
        // Connection to a namespace.
        ("0".into(), vec![], json!({"type": 0, "nsp": "/"})),
        (
            r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#.into(),
            vec![],
            json!({"type": 0, "nsp": "/", "data": {"sid": "wZX3oN0bSVIhsaknAAAI"}}),
        ),
        (
            "0/admin,".into(),
            vec![],
            json!({"type": 0, "nsp": "/admin"}),
        ),
        (
            r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#.into(),
            vec![],
            json!({"type": 0, "nsp": "/admin", "data": {"sid": "oSO0OpakMV_3jnilAAAA"}}),
        ),
        (
            r#"4{"message":"Not authorized"}"#.into(),
            vec![],
            json!({"type": 4, "nsp": "/", "data": {"message": "Not authorized"}}),
        ),
        // Sending and receiving data.
        (
            r#"2["foo"]"#.into(),
            vec![],
            json!({"type": 2, "nsp": "/", "data": ["foo"]}),
        ),
        (
            r#"2/admin,["bar"]"#.into(),
            vec![],
            json!({"type": 2, "nsp": "/admin", "data": ["bar"]}),
        ),
        (
            format!(r#"51-["baz",{PH0}]"#),
            vec![&[1, 2, 3, 4][..]],
            json!({"type": 2, "nsp": "/", "data": ["baz", b1234]}),
        ),
        (
            format!(r#"52-/admin,["baz",{PH0},{PH1}]"#),
            vec![&[1, 2][..], &[3, 4][..]],
            json!({"type": 2, "nsp": "/admin", "data": ["baz", {"$bin": "0102"}, {"$bin": "0304"}]}),
        ),
        // Acknowledgement.
        (
            r#"212["foo"]"#.into(),
            vec![],
            json!({"type": 2, "nsp": "/", "data": ["foo"], "id": 12}),
        ),
        (
            "312[]".into(),
            vec![],
            json!({"type": 3, "nsp": "/", "data": [], "id": 12}),
        ),
        (
            r#"2/admin,13["foo"]"#.into(),
            vec![],
            json!({"type": 2, "nsp": "/admin", "data": ["foo"], "id": 13}),
        ),
        (
            r#"3/admin,13["bar"]"#.into(),
            vec![],
            json!({"type": 3, "nsp": "/admin", "data": ["bar"], "id": 13}),
        ),
        (
            format!(r#"51-14["foo",{PH0}]"#),
            vec![&[1, 2, 3, 4][..]],
            json!({"type": 2, "nsp": "/", "data": ["foo", b1234], "id": 14}),
        ),
        (
            r#"314["bar"]"#.into(),
            vec![],
            json!({"type": 3, "nsp": "/", "data": ["bar"], "id": 14}),
        ),
        (
            r#"215["foo"]"#.into(),
            vec![],
            json!({"type": 2, "nsp": "/", "data": ["foo"], "id": 15}),
        ),
        (
            format!(r#"61-15["bar",{PH0}]"#),
            vec![&[1, 2, 3, 4][..]],
            json!({"type": 3, "nsp": "/", "data": ["bar", b1234], "id": 15}),
        ),
        // Disconnection from a namespace.
        ("1".into(), vec![], json!({"type": 1, "nsp": "/"})),
        (
            "1/admin,".into(),
            vec![],
            json!({"type": 1, "nsp": "/admin"}),
        ),
        // History: CONNECT with a payload.
        (
            r#"0/admin,{"token":"123"}"#.into(),
            vec![],
            json!({"type": 0, "nsp": "/admin", "data": {"token": "123"}}),
        ),
        (
            r#"0/admin,{"sid":"CjdVH4TQvovi1VvgAC5Z"}"#.into(),
            vec![],
            json!({"type": 0, "nsp": "/admin", "data": {"sid": "CjdVH4TQvovi1VvgAC5Z"}}),
        ),
        // Sample session.
        (
            r#"2["hey","Jude"]"#.into(),
            vec![],
            json!({"type": 2, "nsp": "/", "data": ["hey", "Jude"]}),
        ),
        (
            r#"2["hello"]"#.into(),
            vec![],
            json!({"type": 2, "nsp": "/", "data": ["hello"]}),
        ),
        (
            r#"2["world"]"#.into(),
            vec![],
            json!({"type": 2, "nsp": "/", "data": ["world"]}),
        ),
        (
            r#"0/admin,{"sid":"-G5j-67EZFp-q59rADQM"}"#.into(),
            vec![],
            json!({"type": 0, "nsp": "/admin", "data": {"sid": "-G5j-67EZFp-q59rADQM"}}),
        ),
        (
            r#"2/admin,1["tellme"]"#.into(),
            vec![],
            json!({"type": 2, "nsp": "/admin", "data": ["tellme"], "id": 1}),
        ),
        (
            format!(r#"61-/admin,1[{PH0}]"#),
            vec![&[0xff][..]],
            json!({"type": 3, "nsp": "/admin", "data": [{"$bin": "ff"}], "id": 1}),
        ),
        // The official test suite.
        (
            r#"0{"token":"123"}"#.into(),
            vec![],
            json!({"type": 0, "nsp": "/", "data": {"token": "123"}}),
        ),
        (
            r#"2["auth",{}]"#.into(),
            vec![],
            json!({"type": 2, "nsp": "/", "data": ["auth", {}]}),
        ),
        (
            r#"2["auth",{"token":"123"}]"#.into(),
            vec![],
            json!({"type": 2, "nsp": "/", "data": ["auth", {"token": "123"}]}),
        ),
        (
            r#"2/custom,["auth",{"token":"abc"}]"#.into(),
            vec![],
            json!({"type": 2, "nsp": "/custom", "data": ["auth", {"token": "abc"}]}),
        ),
        (
            r#"4/random,{"message":"Invalid namespace"}"#.into(),
            vec![],
            json!({"type": 4, "nsp": "/random", "data": {"message": "Invalid namespace"}}),
        ),
        (
            r#"2["message",1,"2",{"3":[true]}]"#.into(),
            vec![],
            json!({"type": 2, "nsp": "/", "data": ["message", 1, "2", {"3": [true]}]}),
        ),
        (
            r#"2["message-back",1,"2",{"3":[true]}]"#.into(),
            vec![],
            json!({"type": 2, "nsp": "/", "data": ["message-back", 1, "2", {"3": [true]}]}),
        ),
        (
            format!(r#"52-["message",{PH0},{PH1}]"#),
            vec![&[1, 2, 3][..], &[4, 5, 6][..]],
            json!({"type": 2, "nsp": "/", "data": ["message", {"$bin": "010203"}, {"$bin": "040506"}]}),
        ),
        (
            format!(r#"52-789["message-with-ack",{PH0},{PH1}]"#),
            vec![&[1, 2, 3][..], &[4, 5, 6][..]],
            json!({"type": 2, "nsp": "/", "data": ["message-with-ack", {"$bin": "010203"}, {"$bin": "040506"}], "id": 789}),
        ),
        (
            format!(r#"62-789[{PH0},{PH1}]"#),
            vec![&[1, 2, 3][..], &[4, 5, 6][..]],
            json!({"type": 3, "nsp": "/", "data": [{"$bin": "010203"}, {"$bin": "040506"}], "id": 789}),
        ),
    ];
    v.push((
        r#"2["message","message to main namespace"]"#.into(),
        vec![],
        json!({"type": 2, "nsp": "/", "data": ["message", "message to main namespace"]}),
    ));
    v
}

fn frames(text: &str, attachments: &[&'static [u8]]) -> Vec<Frame> {
    std::iter::once(Frame::Text(Bytes::copy_from_slice(text.as_bytes())))
        .chain(
            attachments
                .iter()
                .map(|a| Frame::Binary(Bytes::from_static(a))),
        )
        .collect()
}

#[test]
fn documented_texts_decode_to_their_packets() {
    for (text, attachments, packet) in vectors() {
        let outcome = decode_frames(frames(&text, &attachments), DecoderConfig::default());
        assert_eq!(outcome.outcome, "ok", "{text}: {:?}", outcome.error);
        assert_eq!(outcome.packets.len(), 1, "{text}");
        let decoded = packet_to_json(&outcome.packets[0]);
        assert_eq!(js_normalize(&decoded), js_normalize(&packet), "{text}");
    }
}

#[test]
fn documented_packets_encode_to_their_texts() {
    for (text, attachments, packet) in vectors() {
        let encoded = encode_description(&serde_json::from_value(packet).expect("a description"));
        assert_eq!(String::from_utf8_lossy(&encoded.text), text);
        let got: Vec<&[u8]> = encoded.attachments.iter().map(|a| &a[..]).collect();
        assert_eq!(got, attachments, "{text}");
    }
}

#[test]
fn documented_decode_only_forms() {
    // Accepted without the trailing comma (the suite sends these), and refused.
    for (text, nsp) in [
        ("0/custom", "/custom"),
        ("1/custom", "/custom"),
        ("0/random", "/random"),
    ] {
        let outcome = decode_frames(frames(text, &[]), DecoderConfig::default());
        assert_eq!(outcome.outcome, "ok", "{text}");
        assert_eq!(outcome.packets[0].namespace(), nsp);
    }
    let outcome = decode_frames(frames("abc", &[]), DecoderConfig::default());
    assert_eq!(outcome.outcome, "error");
}
