//! HTTP long-polling: GETs, POSTs, payloads, overlap and abort rules.

use bytes::Bytes;
use engineio::sim::payload;
use engineio::{CloseReason, Event, Message, Method, RequestHead, TransportError};

use super::{error_body, sim};

#[test]
fn post_delivers_messages_in_order_and_is_answered_ok() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let post = sim.post(sid, payload(["4hello", "4€uro", "bAQIDBA=="]));
    assert_eq!(sim.status(post), Some(200));
    assert_eq!(sim.body(post).as_deref(), Some("ok"));
    let r = sim.response(post).unwrap();
    assert_eq!(r.header_value("Content-Type"), Some("text/html"));
    assert_eq!(r.header_value("Cache-Control"), Some("no-store"));
    assert_eq!(sim.received(sid), ["hello", "€uro", "<binary 01 02 03 04>"]);
}

#[test]
fn a_get_with_nothing_to_send_is_parked_until_a_send() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let get = sim.poll(sid);
    assert_eq!(sim.status(get), None, "parked");
    sim.send_text(sid, "hello").unwrap();
    assert_eq!(sim.packets(get), ["4hello"]);
}

#[test]
fn sends_before_a_poll_are_coalesced_into_one_payload() {
    let mut sim = sim();
    let sid = sim.open_polling();
    sim.send_text(sid, "a").unwrap();
    sim.send_text(sid, "b").unwrap();
    sim.send(sid, Message::Binary(Bytes::from_static(&[1, 2, 3, 4])))
        .unwrap();
    let get = sim.poll(sid);
    assert_eq!(sim.body(get).unwrap(), "4a\x1e4b\x1ebAQIDBA==");
    let next = sim.poll(sid);
    assert_eq!(sim.status(next), None, "nothing left: parked");
}

#[test]
fn replies_queued_while_handling_a_post_go_out_before_its_ok_and_together() {
    let mut sim = sim();
    sim.echo = true;
    let sid = sim.open_polling();
    let get = sim.poll(sid);
    let post = sim.post(sid, payload(["4a", "4b", "4c"]));
    assert_eq!(sim.body(post).as_deref(), Some("ok"));
    // All three echoes went out in the one parked GET.
    assert_eq!(sim.packets(get), ["4a", "4b", "4c"]);
}

#[test]
fn the_ok_waits_until_the_application_takes_the_messages() {
    let mut server = engineio::Server::new(super::config(), engineio::CountingSidGenerator::new(3));
    #[allow(clippy::disallowed_methods)]
    let now = std::time::Instant::now();
    let head = RequestHead::new(Method::Get, "EIO=4&transport=polling");
    let engineio::Routed::Opened(mut session) =
        server.handle_request(now, engineio::RequestId(1), &head)
    else {
        panic!()
    };
    while session.poll_transmit().is_some() {}
    while session.poll_event().is_some() {}
    let post = RequestHead::new(
        Method::Post,
        format!("EIO=4&transport=polling&sid={}", session.sid()),
    );
    let engineio::Routed::Session(r) = server.handle_request(now, engineio::RequestId(2), &post)
    else {
        panic!()
    };
    session.handle_request(now, r);
    session.handle_body(now, engineio::RequestId(2), Bytes::from_static(b"4x"));
    assert_eq!(session.poll_transmit(), None);
    assert!(matches!(session.poll_event(), Some(Event::Message(_))));
    assert!(matches!(
        session.poll_transmit(),
        Some(engineio::Transmit::Respond { .. })
    ));
}

#[test]
fn a_post_without_messages_is_answered_at_once() {
    let mut sim = sim();
    let sid = sim.open_polling();
    sim.advance_ms(300);
    let post = sim.post(sid, "3");
    assert_eq!(sim.body(post).as_deref(), Some("ok"));
}

#[test]
fn duplicate_get_is_400_and_the_parked_one_gets_a_close_packet() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let first = sim.poll(sid);
    let second = sim.poll(sid);
    assert_eq!(sim.status(second), Some(400));
    assert_eq!(sim.packets(first), ["1"]);
    assert_eq!(
        sim.events(sid).last(),
        Some(&&Event::Closed(CloseReason::TransportError(
            TransportError::PollOverlap
        )))
    );
    let later = sim.poll(sid);
    assert_eq!(
        sim.body(later).unwrap(),
        error_body(1, "Session ID unknown")
    );
}

#[test]
fn an_aborted_parked_get_closes_the_session() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let get = sim.poll(sid);
    sim.abort(get);
    assert!(!sim.is_open(sid));
    assert_eq!(
        sim.events(sid).last(),
        Some(&&Event::Closed(CloseReason::TransportError(
            TransportError::PollAborted
        )))
    );
    assert_eq!(sim.answer(get), None, "nobody is listening for it");
}

#[test]
fn overlapping_posts_are_400_and_close_the_session() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let head = || RequestHead::new(Method::Post, format!("EIO=4&transport=polling&sid={sid}"));
    let first = sim.request(head());
    let second = sim.request(head());
    assert_eq!(sim.status(second), Some(400));
    assert_eq!(
        sim.status(first),
        Some(400),
        "the first one is answered too, never left hanging"
    );
    assert_eq!(
        sim.events(sid).last(),
        Some(&&Event::Closed(CloseReason::TransportError(
            TransportError::PostOverlap
        )))
    );
    // Its body arriving late changes nothing.
    sim.send_body(first, "4late");
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn a_post_whose_connection_drops_before_the_body_closes_the_session() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let post = sim.request(RequestHead::new(
        Method::Post,
        format!("EIO=4&transport=polling&sid={sid}"),
    ));
    sim.abort(post);
    assert_eq!(
        sim.events(sid).last(),
        Some(&&Event::Closed(CloseReason::TransportError(
            TransportError::PostAborted
        )))
    );
}

#[test]
fn binary_content_type_is_rejected() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let mut head = RequestHead::new(Method::Post, format!("EIO=4&transport=polling&sid={sid}"));
    head.content_type = Some("application/octet-stream".to_owned());
    let post = sim.request_with_body(head, Some(Bytes::from_static(b"\x04\x01")));
    assert_eq!(sim.body(post).unwrap(), error_body(3, "Bad request"));
    assert_eq!(
        sim.events(sid).last(),
        Some(&&Event::Closed(CloseReason::TransportError(
            TransportError::BinaryContent
        )))
    );
}

#[test]
fn an_invalid_packet_answers_400_and_closes_with_parse_error() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let post = sim.post(sid, "abc");
    assert_eq!(sim.status(post), Some(400));
    assert!(matches!(
        sim.events(sid).last(),
        Some(Event::Closed(CloseReason::ParseError(_)))
    ));
    let get = sim.poll(sid);
    assert_eq!(sim.body(get).unwrap(), error_body(1, "Session ID unknown"));
}

#[test]
fn messages_before_a_bad_packet_are_delivered_then_the_session_closes() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let post = sim.post(sid, payload(["4first", "9bad", "4never"]));
    assert_eq!(sim.status(post), Some(400));
    assert_eq!(sim.received(sid), ["first"]);
}

#[test]
fn invalid_utf8_and_empty_bodies_are_parse_errors() {
    for body in [&b"4\xff\xfe"[..], b""] {
        let mut sim = sim();
        let sid = sim.open_polling();
        let post = sim.post(sid, Bytes::copy_from_slice(body));
        assert_eq!(sim.status(post), Some(400));
        assert!(matches!(
            sim.events(sid).last(),
            Some(Event::Closed(CloseReason::ParseError(_)))
        ));
    }
}

#[test]
fn client_close_packet_releases_the_parked_get_with_noop() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let get = sim.poll(sid);
    let post = sim.post(sid, payload(["4bye", "1", "4ignored"]));
    assert_eq!(sim.body(post).as_deref(), Some("ok"));
    assert_eq!(sim.packets(get), ["6"]);
    assert_eq!(sim.received(sid), ["bye"]);
    assert_eq!(
        sim.events(sid).last(),
        Some(&&Event::Closed(CloseReason::TransportClose))
    );
    let later = sim.poll(sid);
    assert_eq!(sim.status(later), Some(400));
}

#[test]
fn a_ping_from_the_client_is_a_protocol_error() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let post = sim.post(sid, "2");
    assert_eq!(sim.status(post), Some(400));
    assert_eq!(
        sim.events(sid).last(),
        Some(&&Event::Closed(CloseReason::TransportError(
            TransportError::ClientPing
        )))
    );
}

#[test]
fn open_upgrade_and_noop_from_the_client_are_ignored() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let post = sim.post(sid, payload(["0", "5", "6", "4still"]));
    assert_eq!(sim.body(post).as_deref(), Some("ok"));
    assert_eq!(sim.received(sid), ["still"]);
    assert!(sim.is_open(sid));
}

#[test]
fn other_methods_with_a_sid_get_500() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let id = sim.request(RequestHead::new(
        Method::Other,
        format!("EIO=4&transport=polling&sid={sid}"),
    ));
    assert_eq!(sim.status(id), Some(500));
    assert!(sim.is_open(sid));
}

#[test]
fn polling_a_websocket_session_is_a_transport_mismatch() {
    let mut sim = sim();
    let (sid, _) = sim.open_websocket();
    let get = sim.poll(sid);
    assert_eq!(sim.body(get).unwrap(), error_body(3, "Bad request"));
    assert!(sim.is_open(sid), "a stray request does not end the session");
}
