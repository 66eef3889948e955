//! Byte vectors captured from `@socket.io/redis-adapter` 8.3.0 with `socket.io` 4.8.3
//! (node uid `ke0wGZ`), read by a second Redis client subscribed to `socket.io*`, and
//! property round trips.

use proptest::prelude::*;

use super::*;

fn hex(s: &str) -> Bytes {
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect();
    Bytes::from(bytes)
}

const UID: &str = "ke0wGZ";

/// `io.emit("news", 1)` on `socket.io#/#`.
const EMIT: &str = "93a66b653077475a83a47479706502a46461746192a46e65777301a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380";
/// `io.to("room").except("x").emit("file", Buffer.from([1, 2]), {a: "b"})` on `socket.io#/#room#`.
const EMIT_ROOM_BINARY: &str = "93a66b653077475a83a47479706502a46461746193a466696c65c402010281a161a162a36e7370a12f83a5726f6f6d7391a4726f6f6da665786365707491a178a5666c61677380";
/// `io.to(["r1", "r2"]).volatile.emit("v")` on `socket.io#/#`.
const EMIT_VOLATILE: &str = "93a66b653077475a83a47479706502a46461746191a176a36e7370a12f83a5726f6f6d7392a27231a27232a665786365707490a5666c61677381a8766f6c6174696c65c3";
/// `io.timeout(1000).emit("poll", "q", cb)` on `socket.io-request#/#` (request id `ixe79y`).
const BROADCAST_REQUEST: &str = "85a3756964a66b653077475aa9726571756573744964a6697865373979a47479706507a67061636b657483a47479706502a46461746192a4706f6c6ca171a36e7370a12fa46f70747383a5726f6f6d7390a665786365707490a5666c61677381a774696d656f7574cd03e8";

#[test]
fn node_broadcasts_decode_and_encode_back_byte_for_byte() {
    let frame = hex(EMIT);
    let b = decode_broadcast(&frame).unwrap();
    assert_eq!(b.uid, UID);
    assert_eq!(b.opts, Opts::default());
    assert_eq!(b.flags, Flags::default());
    let packet = decode_packet(b.packet.clone(), &DecoderConfig::default()).unwrap();
    assert_eq!(packet.payload().unwrap().as_ref(), br#"["news",1]"#);
    let map = encode_packet(br#"2["news",1]"#, &[]).unwrap();
    assert_eq!(encode_broadcast(UID, &map, &b.opts, &b.flags), frame);

    let frame = hex(EMIT_ROOM_BINARY);
    let b = decode_broadcast(&frame).unwrap();
    assert_eq!(b.opts.rooms, vec!["room"]);
    assert_eq!(b.opts.except, vec!["x"]);
    let packet = decode_packet(b.packet.clone(), &DecoderConfig::default()).unwrap();
    assert_eq!(
        packet.payload().unwrap().as_ref(),
        br#"["file",{"_placeholder":true,"num":0},{"a":"b"}]"#
    );
    assert_eq!(packet.attachments()[0].as_ref(), &[1, 2]);
    let map = encode_packet(
        br#"51-["file",{"_placeholder":true,"num":0},{"a":"b"}]"#,
        &[Bytes::from_static(&[1, 2])],
    )
    .unwrap();
    assert_eq!(encode_broadcast(UID, &map, &b.opts, &b.flags), frame);
    let channels = Channels::new("socket.io", "/", UID);
    assert_eq!(
        channels.broadcast_channel(&b.opts.rooms),
        "socket.io#/#room#"
    );
    assert_eq!(channels.room_of("socket.io#/#room#"), Some(Some("room")));
    assert_eq!(channels.room_of("socket.io#/#"), Some(None));
    assert!(channels.room_of("socket.io#/chat#").is_none());

    let frame = hex(EMIT_VOLATILE);
    let b = decode_broadcast(&frame).unwrap();
    assert_eq!(b.opts.rooms, vec!["r1", "r2"]);
    assert!(b.flags.volatile);
    let map = encode_packet(br#"2["v"]"#, &[]).unwrap();
    assert_eq!(encode_broadcast(UID, &map, &b.opts, &b.flags), frame);
    assert_eq!(channels.broadcast_channel(&b.opts.rooms), "socket.io#/#");
}

#[test]
fn node_requests_decode_and_encode_back_byte_for_byte() {
    let cases: [(&str, Request); 3] = [
        (
            r#"{"uid":"ke0wGZ","type":6,"data":["hello","world",1]}"#,
            Request::ServerSideEmit {
                uid: UID.into(),
                request_id: None,
                data: vec!["hello".into(), "world".into(), 1.into()],
            },
        ),
        (
            r#"{"uid":"ke0wGZ","type":2,"opts":{"rooms":["room"],"except":[]},"rooms":["other"]}"#,
            Request::RemoteJoin {
                uid: UID.into(),
                request_id: None,
                opts: Opts {
                    rooms: vec!["room".into()],
                    except: vec![],
                },
                rooms: vec!["other".into()],
            },
        ),
        (
            r#"{"uid":"ke0wGZ","type":4,"opts":{"rooms":["room"],"except":[]},"close":true}"#,
            Request::RemoteDisconnect {
                uid: UID.into(),
                request_id: None,
                opts: Opts {
                    rooms: vec!["room".into()],
                    except: vec![],
                },
                close: true,
            },
        ),
    ];
    for (json, request) in cases {
        let frame = Bytes::from_static(json.as_bytes());
        assert_eq!(decode_request(&frame).unwrap(), request);
        assert_eq!(encode_request(&request), frame);
    }

    let frame = hex(BROADCAST_REQUEST);
    let request = decode_request(&frame).unwrap();
    let Request::Broadcast {
        uid,
        request_id,
        packet,
        opts,
        flags,
    } = &request
    else {
        panic!("a broadcast request: {request:?}");
    };
    assert_eq!((uid.as_str(), request_id.as_str()), (UID, "ixe79y"));
    assert_eq!(opts, &Opts::default());
    assert_eq!(flags.timeout_ms, Some(1000));
    let p = decode_packet(packet.clone(), &DecoderConfig::default()).unwrap();
    assert_eq!(p.payload().unwrap().as_ref(), br#"["poll","q"]"#);
    assert_eq!(encode_request(&request), frame);
}

#[test]
fn responses_round_trip_and_acks_carry_binary() {
    let nsp = Namespace::main();
    let ack = Packet::ack(
        nsp.clone(),
        socketio_parser::AckId::new(4),
        &(socketio_parser::Binary::from(vec![9u8]), 2),
    )
    .unwrap();
    let value = ack_value(&ack).unwrap();
    assert_eq!(value.as_ref(), &[0xc4, 1, 9]);
    let response = Response::Ack {
        request_id: "r1".into(),
        value: value.clone(),
    };
    let frame = encode_response(&response);
    assert_eq!(decode_response(&frame).unwrap(), response);
    let back = ack_packet(&nsp, &value, &DecoderConfig::default()).unwrap();
    let (b,): (socketio_parser::Binary,) = back.args().unwrap();
    assert_eq!(&b[..], &[9]);

    for response in [
        Response::ClientCount {
            request_id: "a".into(),
            count: 3,
        },
        Response::ServerSideEmit {
            request_id: "b".into(),
            data: json!({"ok": true}),
        },
        Response::Sockets {
            request_id: "c".into(),
            sockets: vec![json!({"id": "x", "handshake": {}, "rooms": ["x"], "data": null})],
        },
        Response::Rooms {
            request_id: "d".into(),
            rooms: vec!["r".into()],
        },
        Response::Done {
            request_id: "e".into(),
        },
    ] {
        assert_eq!(
            decode_response(&encode_response(&response)).unwrap(),
            response
        );
    }
    assert_eq!(
        encode_response(&Response::ClientCount {
            request_id: "a".into(),
            count: 3
        }),
        Bytes::from_static(br#"{"type":8,"requestId":"a","clientCount":3}"#)
    );
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for bytes in [
        &b""[..],
        b"{",
        b"{}",
        b"\x93",
        b"\x93\xa1a",
        b"\x85\xa3uid",
        b"{\"type\":99,\"uid\":\"a\"}",
        b"\xc1",
    ] {
        let frame = Bytes::copy_from_slice(bytes);
        assert!(decode_broadcast(&frame).is_err());
        assert!(decode_request(&frame).is_err());
        assert!(decode_response(&frame).is_err());
    }
}

fn room() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 #/_-]{0,12}"
}

proptest! {
    #[test]
    fn broadcasts_round_trip(
        uid in "[a-zA-Z0-9]{1,8}",
        rooms in proptest::collection::vec(room(), 0..4),
        except in proptest::collection::vec(room(), 0..4),
        volatile: bool,
        timeout in proptest::option::of(0u64..100_000),
        text in "[a-z ]{0,40}",
    ) {
        let opts = Opts { rooms, except };
        let flags = Flags { volatile, local: false, timeout_ms: timeout };
        let packet_text = format!("2[\"e\",{}]", serde_json::to_string(&text).unwrap());
        let map = encode_packet(packet_text.as_bytes(), &[]).unwrap();
        let frame = encode_broadcast(&uid, &map, &opts, &flags);
        let b = decode_broadcast(&frame).unwrap();
        prop_assert_eq!(&b.uid, &uid);
        prop_assert_eq!(&b.opts, &opts);
        prop_assert_eq!(b.flags, flags);
        prop_assert_eq!(&b.packet, &map);
    }

    #[test]
    fn requests_round_trip(
        uid in "[a-zA-Z0-9]{1,8}",
        id in "[a-zA-Z0-9]{1,8}",
        rooms in proptest::collection::vec(room(), 0..4),
        close: bool,
        kind in 0u8..6,
    ) {
        let opts = Opts { rooms: rooms.clone(), except: vec![] };
        let request = match kind {
            0 => Request::Sockets { uid, request_id: id, rooms },
            1 => Request::AllRooms { uid, request_id: id },
            2 => Request::RemoteJoin { uid, request_id: None, opts, rooms },
            3 => Request::RemoteLeave { uid, request_id: None, opts, rooms },
            4 => Request::RemoteDisconnect { uid, request_id: None, opts, close },
            _ => Request::RemoteFetch { uid, request_id: id, opts },
        };
        prop_assert_eq!(decode_request(&encode_request(&request)).unwrap(), request);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let frame = Bytes::from(bytes);
        let _ = decode_broadcast(&frame);
        let _ = decode_request(&frame);
        let _ = decode_response(&frame);
    }
}
