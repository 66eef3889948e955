//! The Socket.IO connection state machine on a virtual clock.

use std::time::{Duration, Instant};

use bytes::Bytes;
use proptest::prelude::*;
use socketio_core::{
    CloseCause, Config, Connection, DisconnectReason, Event, Parser, SocketId, Transmit, Violation,
};

struct Harness {
    conn: Connection,
    t0: Instant,
    now: Instant,
    sent: Vec<String>,
    events: Vec<Event>,
    next_id: u8,
}

impl Harness {
    fn new() -> Self {
        Harness::with(Config {
            connect_timeout: Duration::from_millis(1000),
            ..Config::default()
        })
    }

    fn with(config: Config) -> Self {
        #[allow(clippy::disallowed_methods)] // the virtual clock's origin
        let t0 = Instant::now();
        Harness {
            conn: Connection::new(t0, &config),
            t0,
            now: t0,
            sent: Vec::new(),
            events: Vec::new(),
            next_id: 1,
        }
    }

    fn text(&mut self, s: &str) {
        self.conn.handle_message(
            self.now,
            engineio::Message::Text(Bytes::copy_from_slice(s.as_bytes())),
        );
        self.drain();
    }

    fn binary(&mut self, b: &[u8]) {
        self.conn.handle_message(
            self.now,
            engineio::Message::Binary(Bytes::copy_from_slice(b)),
        );
        self.drain();
    }

    fn advance_ms(&mut self, ms: u64) {
        self.now += Duration::from_millis(ms);
        if self.conn.poll_timeout().is_some_and(|t| t <= self.now) {
            self.conn.handle_timeout(self.now);
        }
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(t) = self.conn.poll_transmit() {
            self.sent.push(match t {
                Transmit::Text(t) => String::from_utf8(t.to_vec()).unwrap(),
                Transmit::Binary(b) => format!("<bin {}>", b.len()),
                Transmit::CloseSession(cause) => format!("<close {cause:?}>"),
                other => format!("{other:?}"),
            });
        }
        while let Some(e) = self.conn.poll_event() {
            self.events.push(e);
        }
    }

    fn new_id(&mut self) -> SocketId {
        self.next_id += 1;
        SocketId::from_random_bytes([self.next_id; 15])
    }

    /// Joins `nsp` and returns the socket id.
    fn join(&mut self, nsp: &str) -> SocketId {
        let connect = if nsp == "/" {
            "0".to_owned()
        } else {
            format!("0{nsp},")
        };
        self.text(&connect);
        match self.events.pop() {
            Some(Event::ConnectRequest { namespace, .. }) => assert_eq!(namespace.as_str(), nsp),
            other => panic!("expected a connect request, got {other:?}"),
        }
        let id = self.new_id();
        self.conn.accept(self.now, nsp, id).unwrap();
        self.drain();
        id
    }

    fn last_sent(&self) -> &str {
        self.sent.last().map(String::as_str).unwrap_or("")
    }

    fn disconnect_reasons(&self) -> Vec<(String, DisconnectReason)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Disconnected {
                    namespace, reason, ..
                } => Some((namespace.to_string(), *reason)),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn accept_answers_with_the_socket_id_and_never_the_engine_sid() {
    let mut h = Harness::new();
    let id = h.join("/");
    assert_eq!(h.last_sent(), format!(r#"0{{"sid":"{id}"}}"#));
    let id2 = h.join("/custom");
    assert_eq!(h.last_sent(), format!(r#"0/custom,{{"sid":"{id2}"}}"#));
    assert_ne!(id, id2);
    assert_eq!(h.conn.socket_id("/custom"), Some(id2));
    assert_eq!(h.conn.sockets().count(), 2);
    // A MessagePack frame does not fit a connection on the default parser.
    assert_eq!(
        h.conn.send_msgpack("/", Bytes::from_static(b"\x80")),
        Err(socketio_core::UsageError::ParserMismatch)
    );
}

#[test]
fn connect_auth_payload_is_handed_over_as_json() {
    let mut h = Harness::new();
    h.text(r#"0/custom,{"token":"123"}"#);
    match h.events.pop() {
        Some(Event::ConnectRequest { namespace, auth }) => {
            assert_eq!(namespace.as_str(), "/custom");
            assert_eq!(auth.as_deref(), Some(&br#"{"token":"123"}"#[..]));
        }
        other => panic!("{other:?}"),
    }
    h.text("0/none");
    match h.events.pop() {
        Some(Event::ConnectRequest { namespace, auth }) => {
            assert_eq!(namespace.as_str(), "/none");
            assert_eq!(auth, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn refusals_keep_the_connection_open() {
    let mut h = Harness::new();
    h.text("0/random,");
    h.conn.refuse_unknown_namespace("/random").unwrap();
    h.drain();
    assert_eq!(h.last_sent(), r#"4/random,{"message":"Invalid namespace"}"#);
    h.text("0/admin,");
    let data = serde_json::json!({"code": 401, "hint": "log in"});
    h.conn
        .refuse("/admin", "not authorized", Some(&data))
        .unwrap();
    h.drain();
    assert_eq!(
        h.last_sent(),
        r#"4/admin,{"message":"not authorized","data":{"code":401,"hint":"log in"}}"#
    );
    assert!(!h.conn.is_closed());
    // A refused namespace may be asked for again.
    let id = h.join("/admin");
    assert_eq!(h.conn.socket_id("/admin"), Some(id));
}

#[test]
fn namespaces_per_connection_are_bounded() {
    let mut h = Harness::with(Config {
        max_namespaces: 2,
        ..Config::default()
    });
    h.join("/a");
    // A CONNECT still waiting for its decision counts too.
    h.text("0/b,");
    let asked = h.events.len();
    h.text("0/c,");
    assert_eq!(h.events.len(), asked, "no connect request past the bound");
    assert_eq!(h.last_sent(), r#"4/c,{"message":"Too many namespaces"}"#);
    assert!(!h.conn.is_closed());
    // Leaving one makes room again.
    h.text("1/a,");
    h.events.clear();
    h.text("0/c,");
    assert!(matches!(h.events.pop(), Some(Event::ConnectRequest { .. })));
}

#[test]
fn deciding_twice_or_for_nothing_is_a_usage_error() {
    let mut h = Harness::new();
    let id = h.new_id();
    assert_eq!(
        h.conn.accept(h.now, "/", id),
        Err(socketio_core::UsageError::NoPendingConnect)
    );
    h.join("/");
    assert_eq!(
        h.conn.accept(h.now, "/", id),
        Err(socketio_core::UsageError::NoPendingConnect)
    );
    assert!(h.conn.refuse_unknown_namespace("/").is_err());
}

#[test]
fn the_connect_timeout_closes_a_connection_that_joins_nothing() {
    let mut h = Harness::new();
    h.advance_ms(999);
    assert!(!h.conn.is_closed());
    h.advance_ms(1);
    assert!(h.conn.is_closed());
    assert_eq!(h.last_sent(), "<close ConnectTimeout>");
}

#[test]
fn the_connect_timeout_also_covers_a_decision_still_pending() {
    let mut h = Harness::new();
    h.text("0");
    h.advance_ms(1000);
    assert!(h.conn.is_closed());
    let id = h.new_id();
    assert_eq!(
        h.conn.accept(h.now, "/", id),
        Err(socketio_core::UsageError::Closed)
    );
}

#[test]
fn a_joined_connection_outlives_the_connect_timeout() {
    let mut h = Harness::new();
    h.join("/");
    h.advance_ms(5000);
    assert!(!h.conn.is_closed());
    assert_eq!(h.conn.poll_timeout(), None);
}

#[test]
fn events_reach_the_application_untouched() {
    let mut h = Harness::new();
    h.join("/");
    h.join("/custom");
    h.text(r#"2["message",1,"two",{"three":3}]"#);
    h.text(r#"2/custom,7["with-ack"]"#);
    let evs: Vec<_> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Event(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[0].event_name().unwrap(), "message");
    let (a, b): (u32, String) = evs[0].args().unwrap();
    assert_eq!((a, b.as_str()), (1, "two"));
    assert_eq!(evs[1].namespace().as_str(), "/custom");
    assert_eq!(evs[1].ack_id().unwrap().get(), 7);
}

#[test]
fn binary_events_wait_for_their_attachments() {
    let mut h = Harness::new();
    h.join("/");
    h.text(r#"52-["upload",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
    assert!(!h.events.iter().any(|e| matches!(e, Event::Event(_))));
    h.binary(&[1, 2]);
    h.binary(&[3]);
    let packet = h
        .events
        .iter()
        .find_map(|e| match e {
            Event::Event(p) => Some(p),
            _ => None,
        })
        .unwrap();
    assert_eq!(packet.attachments().len(), 2);
}

#[test]
fn acks_are_matched_by_id_and_unknown_ones_ignored() {
    let mut h = Harness::new();
    h.join("/");
    let a = h.conn.allocate_ack(h.now, "/", None).unwrap();
    let b = h.conn.allocate_ack(h.now, "/", None).unwrap();
    assert_eq!((a.get(), b.get()), (0, 1));
    h.text(&format!(r#"3{}["first"]"#, b.get()));
    h.text(r#"399["nobody asked"]"#);
    h.text(&format!(r#"3{}["again"]"#, b.get()));
    let acks: Vec<_> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Ack(p) => Some(p.ack_id().unwrap().get()),
            _ => None,
        })
        .collect();
    assert_eq!(acks, [1], "only the first answer to a pending id counts");
    assert!(!h.conn.is_closed());
}

#[test]
fn ack_ids_are_per_socket() {
    let mut h = Harness::new();
    h.join("/");
    h.join("/custom");
    assert_eq!(h.conn.allocate_ack(h.now, "/", None).unwrap().get(), 0);
    assert_eq!(
        h.conn.allocate_ack(h.now, "/custom", None).unwrap().get(),
        0
    );
    assert_eq!(h.conn.allocate_ack(h.now, "/", None).unwrap().get(), 1);
    assert!(h.conn.allocate_ack(h.now, "/nope", None).is_err());
}

#[test]
fn late_acks_time_out_and_are_then_ignored() {
    let mut h = Harness::new();
    h.join("/");
    let id = h
        .conn
        .allocate_ack(h.now, "/", Some(Duration::from_millis(500)))
        .unwrap();
    assert_eq!(
        h.conn.poll_timeout(),
        Some(h.now + Duration::from_millis(500))
    );
    h.advance_ms(499);
    assert!(!h
        .events
        .iter()
        .any(|e| matches!(e, Event::AckTimedOut { .. })));
    h.advance_ms(1);
    assert!(h
        .events
        .iter()
        .any(|e| matches!(e, Event::AckTimedOut { ack, .. } if *ack == id)));
    h.text(&format!(r#"3{}["too late"]"#, id.get()));
    assert!(!h.events.iter().any(|e| matches!(e, Event::Ack(_))));
    assert_eq!(h.conn.poll_timeout(), None);
    let _ = h.t0;
}

#[test]
fn pending_acks_are_bounded() {
    let mut h = Harness::with(Config {
        max_pending_acks: 2,
        ..Config::default()
    });
    h.join("/");
    h.conn.allocate_ack(h.now, "/", None).unwrap();
    let b = h.conn.allocate_ack(h.now, "/", None).unwrap();
    assert_eq!(
        h.conn.allocate_ack(h.now, "/", None),
        Err(socketio_core::UsageError::TooManyPendingAcks)
    );
    h.conn.cancel_ack("/", b);
    h.conn.allocate_ack(h.now, "/", None).unwrap();
}

#[test]
fn client_disconnect_leaves_one_namespace() {
    let mut h = Harness::new();
    h.join("/");
    h.join("/custom");
    h.text("1/custom,");
    assert_eq!(
        h.disconnect_reasons(),
        [(
            "/custom".to_owned(),
            DisconnectReason::ClientNamespaceDisconnect
        )]
    );
    assert!(!h.conn.is_closed());
    h.text(r#"2["still","here"]"#);
    assert!(h.events.iter().any(|e| matches!(e, Event::Event(_))));
    // An event for the namespace just left ends the connection.
    h.text(r#"2/custom,["gone"]"#);
    assert!(h.conn.is_closed());
}

#[test]
fn server_disconnect_sends_disconnect_and_keeps_the_connection() {
    let mut h = Harness::new();
    h.join("/");
    h.join("/custom");
    h.conn.disconnect("/custom").unwrap();
    h.drain();
    assert_eq!(h.last_sent(), "1/custom,");
    assert_eq!(
        h.disconnect_reasons(),
        [(
            "/custom".to_owned(),
            DisconnectReason::ServerNamespaceDisconnect
        )]
    );
    assert!(!h.conn.is_closed());
    assert!(h.conn.disconnect("/custom").is_err());
}

#[test]
fn closing_with_disconnect_tells_each_socket_first() {
    let mut h = Harness::new();
    h.join("/");
    h.join("/custom");
    h.conn.close(DisconnectReason::ServerNamespaceDisconnect);
    h.drain();
    let tail: Vec<&str> = h
        .sent
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            "1",
            "1/custom,",
            "<close Server(ServerNamespaceDisconnect)>"
        ]
    );
    assert_eq!(h.disconnect_reasons().len(), 2);
}

#[test]
fn shutting_down_closes_without_disconnect_packets_so_clients_reconnect() {
    let mut h = Harness::new();
    h.join("/");
    h.conn.close(DisconnectReason::ServerShuttingDown);
    h.drain();
    assert_eq!(h.last_sent(), "<close Server(ServerShuttingDown)>");
    assert!(!h.sent.iter().any(|s| s.starts_with('1')));
    assert_eq!(
        h.disconnect_reasons(),
        [("/".to_owned(), DisconnectReason::ServerShuttingDown)]
    );
}

#[test]
fn the_end_of_the_engine_session_disconnects_every_socket() {
    let cases = [
        (
            engineio::CloseReason::TransportClose,
            DisconnectReason::TransportClose,
        ),
        (
            engineio::CloseReason::PingTimeout,
            DisconnectReason::PingTimeout,
        ),
        (
            engineio::CloseReason::TransportError(engineio::TransportError::PollAborted),
            DisconnectReason::TransportError,
        ),
        (
            engineio::CloseReason::ServerClose,
            DisconnectReason::ForcedServerClose,
        ),
    ];
    for (engine, expected) in cases {
        let mut h = Harness::new();
        h.join("/");
        h.join("/custom");
        h.conn.handle_session_closed(h.now, engine);
        h.drain();
        assert_eq!(
            h.disconnect_reasons(),
            [("/".to_owned(), expected), ("/custom".to_owned(), expected)]
        );
        assert!(h.conn.is_closed());
        assert_eq!(h.conn.poll_timeout(), None);
    }
}

#[test]
fn protocol_violations_close_the_connection() {
    let cases: [(&[&str], Violation); 4] = [
        (&["0", "0"], Violation::DuplicateConnect),
        (&[r#"2["not joined"]"#], Violation::NotConnected),
        (&["0", r#"2["decision pending"]"#], Violation::NotConnected),
        (
            &[r#"4{"message":"from client"}"#],
            Violation::ClientConnectError,
        ),
    ];
    for (frames, violation) in cases {
        let mut h = Harness::new();
        for f in frames {
            h.text(f);
        }
        assert!(h.conn.is_closed(), "{frames:?}");
        assert_eq!(
            h.last_sent(),
            format!("<close {:?}>", CloseCause::Violation(violation))
        );
    }
}

#[test]
fn decode_errors_close_with_parse_error() {
    for bad in ["9", r#"2{"not":"an array"}"#, r#"2["connect"]"#, "2abc"] {
        let mut h = Harness::new();
        h.join("/");
        h.text(bad);
        assert!(h.conn.is_closed(), "{bad}");
        assert_eq!(
            h.disconnect_reasons(),
            [("/".to_owned(), DisconnectReason::ParseError)],
            "{bad}"
        );
        assert!(h.last_sent().starts_with("<close Decode("), "{bad}");
    }
    // A binary frame nobody announced.
    let mut h = Harness::new();
    h.join("/");
    h.binary(&[1]);
    assert!(h.conn.is_closed());
}

#[test]
fn after_closing_nothing_more_happens() {
    let mut h = Harness::new();
    h.join("/");
    h.conn.close(DisconnectReason::ForcedServerClose);
    h.drain();
    let sent = h.sent.len();
    let events = h.events.len();
    h.text(r#"2["ignored"]"#);
    h.text("0/x,");
    h.advance_ms(100_000);
    assert_eq!((h.sent.len(), h.events.len()), (sent, events));
    assert!(h
        .conn
        .send("/", Bytes::from_static(b"2[\"x\"]"), &[])
        .is_err());
}

proptest! {
    /// Any sequence of frames and time jumps: no panic, and once the
    /// connection asks to close, it never produces anything again.
    #[test]
    fn arbitrary_frames_never_panic(frames in proptest::collection::vec(
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| (0u8, b)),
            prop::sample::select(vec![
                "0", "0/a,", "1", "1/a,", r#"2["e",1]"#, r#"21["e"]"#, r#"31[]"#, r#"2/a,["e"]"#,
                r#"51-["e",{"_placeholder":true,"num":0}]"#, "4{}", "6", "0{\"x\":1}",
            ]).prop_map(|s| (1u8, s.as_bytes().to_vec())),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(|b| (2u8, b)),
            (0u64..2000).prop_map(|ms| (3u8, ms.to_le_bytes().to_vec())),
        ],
        0..60,
    )) {
        let mut h = Harness::new();
        for (kind, data) in frames {
            match kind {
                0 | 1 => h.text(&String::from_utf8_lossy(&data)),
                2 => h.binary(&data),
                _ => h.advance_ms(u64::from_le_bytes(data.try_into().unwrap())),
            }
            // Accept every pending connect, sometimes with an ack in flight.
            let pending: Vec<String> = h.events.iter().filter_map(|e| match e {
                Event::ConnectRequest { namespace, .. } => Some(namespace.to_string()),
                _ => None,
            }).collect();
            h.events.clear();
            for nsp in pending {
                let id = h.new_id();
                let _ = h.conn.accept(h.now, &nsp, id);
                let _ = h.conn.allocate_ack(h.now, &nsp, Some(Duration::from_millis(300)));
                h.drain();
            }
            if h.conn.is_closed() {
                let before = h.sent.len();
                h.text(r#"2["after close"]"#);
                prop_assert_eq!(h.sent.len(), before);
                prop_assert!(h.conn.poll_timeout().is_none());
            }
            if let Some(t) = h.conn.poll_timeout() {
                prop_assert!(t > h.now || h.conn.poll_timeout() == Some(t));
            }
        }
    }
}

/// With the MessagePack parser, a packet is one binary message each way, and a text message
/// is a protocol violation.
#[test]
fn the_msgpack_parser_reads_and_writes_one_binary_message_per_packet() {
    let config = Config {
        parser: Parser::MsgPack,
        ..Config::default()
    };
    #[allow(clippy::disallowed_methods)] // the virtual clock's origin
    let now = Instant::now();
    let mut conn = Connection::new(now, &config);
    let binary = |b: &'static [u8]| engineio::Message::Binary(Bytes::from_static(b));
    // {type: 0, nsp: "/"}
    conn.handle_message(now, binary(b"\x82\xa4type\x00\xa3nsp\xa1/"));
    assert!(matches!(
        conn.poll_event(),
        Some(Event::ConnectRequest { auth: None, .. })
    ));
    let id = SocketId::from_random_bytes([7; 15]);
    conn.accept(now, "/", id).unwrap();
    let Some(Transmit::Binary(answer)) = conn.poll_transmit() else {
        panic!("the CONNECT answer is one binary message");
    };
    let answer = socketio_parser::msgpack::decode(answer, &Default::default()).unwrap();
    assert_eq!(
        answer.payload().unwrap().as_ref(),
        format!(r#"{{"sid":"{id}"}}"#).as_bytes()
    );
    assert_eq!(conn.poll_transmit(), None);

    // {type: 2, data: ["ev", <bin 01 02>], nsp: "/", id: 5}: binary inline, read as Binary.
    conn.handle_message(
        now,
        binary(b"\x84\xa4type\x02\xa4data\x92\xa2ev\xc4\x02\x01\x02\xa3nsp\xa1/\xa2id\x05"),
    );
    let Some(Event::Event(event)) = conn.poll_event() else {
        panic!("an event");
    };
    let (bytes,): (socketio_parser::Binary,) = event.args().unwrap();
    assert_eq!(&bytes[..], &[1, 2]);
    // What the application sends is written by the default encoder and goes out transcoded.
    let ack = socketio_parser::Encoder::new()
        .ack(event.namespace(), event.ack_id().unwrap(), &(bytes,))
        .unwrap();
    conn.send("/", ack.text, &ack.attachments).unwrap();
    let Some(Transmit::Binary(frame)) = conn.poll_transmit() else {
        panic!("the ack is one binary message");
    };
    assert_eq!(
        &frame[..],
        b"\x84\xa2id\x05\xa4type\x03\xa4data\x91\xc4\x02\x01\x02\xa3nsp\xa1/"
    );
    assert_eq!(conn.poll_transmit(), None);

    // A broadcast transcoded once elsewhere goes out as it is.
    let frame = Bytes::from_static(b"\x83\xa4type\x02\xa4data\x91\xa2hi\xa3nsp\xa1/");
    conn.send_msgpack("/", frame.clone()).unwrap();
    assert_eq!(conn.poll_transmit(), Some(Transmit::Binary(frame.clone())));
    assert_eq!(
        conn.send_msgpack("/other", frame.clone()),
        Err(socketio_core::UsageError::NotConnected)
    );

    // A text message breaks the protocol.
    conn.handle_message(
        now,
        engineio::Message::Text(Bytes::from_static(b"2[\"ev\"]")),
    );
    assert_eq!(
        conn.poll_transmit(),
        Some(Transmit::CloseSession(CloseCause::Violation(
            Violation::TextWithBinaryParser
        )))
    );
}

/// Connection state recovery's rules: the session log on a virtual clock.
#[path = "recovery/log.rs"]
mod recovery;
