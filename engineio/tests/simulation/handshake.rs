//! The handshake and the order in which requests are checked.

use engineio::sim::Sim;
use engineio::{AllowRequest, Config, Event, Method, RequestHead, TransportKind, Transports};

use super::{config, error_body, sim};

fn get(sim: &mut Sim, query: &str) -> engineio::RequestId {
    sim.request(RequestHead::new(Method::Get, query))
}

/// Parses the handshake JSON just enough to check its exact keys and values.
fn open_fields(packet: &str) -> Vec<(String, String)> {
    let json = packet.strip_prefix('0').expect("an open packet");
    let inner = json
        .strip_prefix('{')
        .and_then(|j| j.strip_suffix('}'))
        .expect("an object");
    let mut fields = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                fields.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    fields.push(&inner[start..]);
    fields
        .into_iter()
        .map(|f| {
            let (k, v) = f.split_once(':').expect("key:value");
            (k.trim_matches('"').to_owned(), v.to_owned())
        })
        .collect()
}

#[test]
fn polling_handshake_answers_the_open_packet_with_exactly_five_keys() {
    let mut sim = sim();
    let id = get(&mut sim, "EIO=4&transport=polling&t=abc");
    assert_eq!(sim.status(id), Some(200));
    let response = sim.response(id).unwrap();
    assert_eq!(
        response.header_value("Content-Type"),
        Some("text/plain; charset=UTF-8")
    );
    let packets = sim.packets(id);
    assert_eq!(packets.len(), 1, "the open packet alone: {packets:?}");
    let fields = open_fields(&packets[0]);
    let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "sid",
            "upgrades",
            "pingInterval",
            "pingTimeout",
            "maxPayload"
        ]
    );
    assert_eq!(fields[1].1, r#"["websocket"]"#);
    assert_eq!(fields[2].1, "300");
    assert_eq!(fields[3].1, "200");
    assert_eq!(fields[4].1, "1000000");
    let sid = fields[0].1.trim_matches('"');
    assert_eq!(sid.len(), 20);
    assert!(sid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
}

#[test]
fn websocket_handshake_accepts_then_sends_open_with_no_upgrades() {
    let mut sim = sim();
    let (sid, ws) = sim.open_websocket();
    assert_eq!(
        sim.answer(ws),
        Some(&engineio::sim::Answer::WebSocketAccepted)
    );
    let frames = sim.ws_frames(ws);
    assert_eq!(frames.len(), 1);
    let fields = open_fields(&frames[0]);
    assert_eq!(fields[0].1, format!("\"{sid}\""));
    assert_eq!(fields[1].1, "[]");
    assert_eq!(
        sim.session(sid).unwrap().transport(),
        TransportKind::WebSocket
    );
}

#[test]
fn opened_is_the_first_event_and_carries_the_query() {
    let mut sim = sim();
    let sid = sim.open_polling();
    match sim.events(sid).first() {
        Some(Event::Opened(h)) => {
            assert_eq!(h.sid, sid);
            assert_eq!(h.transport, TransportKind::Polling);
            assert_eq!(h.query, "EIO=4&transport=polling");
        }
        other => panic!("expected Opened, got {other:?}"),
    }
}

#[test]
fn session_ids_are_distinct() {
    let mut sim = sim();
    let sids: std::collections::HashSet<_> = (0..200).map(|_| sim.open_polling()).collect();
    assert_eq!(sids.len(), 200);
    assert!(sim.violations().is_empty());
}

#[test]
fn missing_unknown_or_disabled_transport_is_code_0() {
    let mut sim = sim();
    for query in ["EIO=4", "EIO=4&transport=abc", "EIO=4&transport="] {
        let id = get(&mut sim, query);
        assert_eq!(sim.status(id), Some(400), "{query}");
        assert_eq!(sim.body(id).unwrap(), error_body(0, "Transport unknown"));
    }
    let mut sim = Sim::new(Config {
        transports: Transports {
            polling: false,
            websocket: true,
        },
        ..config()
    });
    let id = get(&mut sim, "EIO=4&transport=polling");
    assert_eq!(sim.body(id).unwrap(), error_body(0, "Transport unknown"));
}

#[test]
fn bad_eio_is_code_5() {
    let mut sim = sim();
    for query in [
        "transport=polling",
        "EIO=abc&transport=polling",
        "EIO=3&transport=polling",
    ] {
        let id = get(&mut sim, query);
        assert_eq!(sim.status(id), Some(400), "{query}");
        assert_eq!(
            sim.body(id).unwrap(),
            error_body(5, "Unsupported protocol version")
        );
    }
}

#[test]
fn handshake_must_be_a_get() {
    let mut sim = sim();
    for method in [Method::Post, Method::Other] {
        let id = sim.request(RequestHead::new(method, "EIO=4&transport=polling"));
        assert_eq!(sim.status(id), Some(400));
        assert_eq!(sim.body(id).unwrap(), error_body(2, "Bad handshake method"));
    }
}

#[test]
fn websocket_transport_without_upgrade_and_upgrade_with_polling_are_bad_requests() {
    let mut sim = sim();
    let id = get(&mut sim, "EIO=4&transport=websocket");
    assert_eq!(sim.body(id).unwrap(), error_body(3, "Bad request"));
    let mut head = RequestHead::new(Method::Get, "EIO=4&transport=polling");
    head.websocket_upgrade = true;
    let id = sim.request(head);
    assert_eq!(sim.body(id).unwrap(), error_body(3, "Bad request"));
}

#[test]
fn origin_with_control_characters_is_a_bad_request() {
    let mut sim = sim();
    let mut head = RequestHead::new(Method::Get, "EIO=4&transport=polling");
    head.origin = Some("http://a\r\nb".to_owned());
    let id = sim.request(head);
    assert_eq!(sim.body(id).unwrap(), error_body(3, "Bad request"));
}

#[test]
fn allow_request_refusal_is_403_code_4_with_the_hooks_message() {
    let mut sim = Sim::new(Config {
        allow_request: Some(AllowRequest::new(|head| {
            if head.query.contains("token=good") {
                Ok(())
            } else {
                Err("token \"missing\"".to_owned())
            }
        })),
        ..config()
    });
    let id = get(&mut sim, "EIO=4&transport=polling");
    assert_eq!(sim.status(id), Some(403));
    assert_eq!(
        sim.body(id).unwrap(),
        r#"{"code":4,"message":"token \"missing\""}"#
    );
    let id = get(&mut sim, "EIO=4&transport=polling&token=good");
    assert_eq!(sim.status(id), Some(200));
}

#[test]
fn unknown_or_malformed_sid_is_code_1() {
    let mut sim = sim();
    for sid in ["AAAAAAAAAAAAAAAAAAAA", "nope", "../../etc"] {
        let id = get(&mut sim, &format!("EIO=4&transport=polling&sid={sid}"));
        assert_eq!(sim.status(id), Some(400));
        assert_eq!(sim.body(id).unwrap(), error_body(1, "Session ID unknown"));
    }
}

#[test]
fn jsonp_polling_is_refused() {
    let mut sim = sim();
    let id = get(&mut sim, "EIO=4&transport=polling&j=0");
    assert_eq!(sim.body(id).unwrap(), error_body(3, "Bad request"));
}

#[test]
fn checks_run_in_the_reference_order() {
    let mut sim = sim();
    // Transport is checked before the method and the protocol version.
    let id = sim.request(RequestHead::new(Method::Post, "EIO=3&transport=abc"));
    assert_eq!(sim.body(id).unwrap(), error_body(0, "Transport unknown"));
    // Origin before sid.
    let mut head = RequestHead::new(Method::Get, "EIO=4&transport=polling&sid=unknown");
    head.origin = Some("\u{1}".to_owned());
    let id = sim.request(head);
    assert_eq!(sim.body(id).unwrap(), error_body(3, "Bad request"));
    // Method before version.
    let id = sim.request(RequestHead::new(Method::Post, "EIO=3&transport=polling"));
    assert_eq!(sim.body(id).unwrap(), error_body(2, "Bad handshake method"));
    // With a sid, the version is not checked (the session was opened with 4).
    let sid = sim.open_polling();
    let id = sim.request(RequestHead::new(
        Method::Post,
        format!("EIO=3&transport=polling&sid={sid}"),
    ));
    assert_eq!(
        sim.status(id),
        None,
        "a POST head without body is waiting for its body"
    );
}

#[test]
fn session_cap_answers_503_until_a_session_closes() {
    let mut sim = Sim::new(Config {
        max_sessions: Some(2),
        ..config()
    });
    let a = sim.open_polling();
    let _b = sim.open_polling();
    let id = get(&mut sim, "EIO=4&transport=polling");
    assert_eq!(sim.status(id), Some(503));
    sim.close(a);
    let get_a = sim.poll(a);
    assert_eq!(sim.packets(get_a), ["1"]);
    assert_eq!(sim.server().open_sessions(), 1);
    let id = get(&mut sim, "EIO=4&transport=polling");
    assert_eq!(sim.status(id), Some(200));
}
