//! Closing, from either side.

use engineio::{CloseReason, Event, Message, SendError, TransportError, WsClosed};

use super::{error_body, sim};

fn text(s: &'static str) -> Message {
    Message::Text(bytes::Bytes::from_static(s.as_bytes()))
}

#[test]
fn server_close_with_a_parked_get_sends_buffered_packets_then_close() {
    let mut sim = sim();
    let sid = sim.open_polling();
    sim.send_text(sid, "a").unwrap();
    sim.send_text(sid, "b").unwrap();
    let get = sim.poll(sid);
    assert_eq!(sim.packets(get), ["4a", "4b"]);
    let get = sim.poll(sid);
    sim.send_text(sid, "c").unwrap();
    let get2 = sim.poll(sid);
    assert_eq!(sim.packets(get), ["4c"]);
    sim.close(sid);
    assert_eq!(sim.packets(get2), ["1"]);
    assert_eq!(
        sim.events(sid).last(),
        Some(&&Event::Closed(CloseReason::ServerClose))
    );
}

#[test]
fn server_close_without_a_get_waits_for_the_next_one() {
    let mut sim = sim();
    let sid = sim.open_polling();
    sim.send_text(sid, "last words").unwrap();
    sim.close(sid);
    assert!(sim.is_open(sid), "waiting to deliver the close packet");
    assert_eq!(sim.send_text(sid, "too late"), Err(SendError::Closed));
    let get = sim.poll(sid);
    assert_eq!(sim.packets(get), ["4last words"]);
    assert!(sim.is_open(sid), "the close packet goes in the next answer");
    let get = sim.poll(sid);
    assert_eq!(sim.packets(get), ["1"]);
    assert!(!sim.is_open(sid));
}

/// Messages queued before a close reach the client in an answer of their own:
/// socket.io-client hands messages over a tick later but acts on a close at
/// once, so a DISCONNECT sharing a payload with the close would come second.
#[test]
fn server_close_after_messages_sends_the_close_in_the_next_answer() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let get = sim.poll(sid);
    sim.in_one_turn(sid, |session, now| {
        session.send(text("41")).unwrap();
        session.send(text("41/admin,")).unwrap();
        session.close(now);
    });
    assert_eq!(sim.packets(get), ["441", "441/admin,"]);
    assert!(sim.is_open(sid));
    let get = sim.poll(sid);
    assert_eq!(sim.packets(get), ["1"]);
    assert!(!sim.is_open(sid));
    assert_eq!(
        sim.events(sid).last(),
        Some(&&Event::Closed(CloseReason::ServerClose))
    );
}

#[test]
fn server_close_gives_up_after_the_close_timeout() {
    let mut sim = sim();
    let sid = sim.open_polling();
    sim.close(sid);
    sim.advance_ms(29_999);
    assert!(sim.is_open(sid));
    sim.advance_ms(1);
    assert!(!sim.is_open(sid));
    assert_eq!(
        sim.events(sid).last(),
        Some(&&Event::Closed(CloseReason::ServerClose))
    );
}

#[test]
fn server_close_on_websocket_flushes_then_closes_the_socket() {
    let mut sim = sim();
    let (sid, ws) = sim.open_websocket();
    sim.send_text(sid, "bye").unwrap();
    sim.close(sid);
    assert_eq!(sim.ws_frames(ws).last().unwrap(), "4bye");
    assert_eq!(sim.ws_close_code(ws), Some(1000));
    assert!(!sim.is_open(sid));
}

#[test]
fn client_close_packet_on_websocket() {
    let mut sim = sim();
    let (sid, ws) = sim.open_websocket();
    sim.ws_text(ws, "1");
    assert_eq!(
        sim.events(sid).last(),
        Some(&&Event::Closed(CloseReason::TransportClose))
    );
    assert_eq!(sim.ws_close_code(ws), Some(1000));
}

#[test]
fn websocket_ends_map_to_close_reasons() {
    let cases = [
        (WsClosed::ByPeer, CloseReason::TransportClose),
        (
            WsClosed::MessageTooLarge,
            CloseReason::TransportError(TransportError::PayloadTooLarge),
        ),
        (
            WsClosed::Error,
            CloseReason::TransportError(TransportError::WebSocket),
        ),
    ];
    for (how, reason) in cases {
        let mut sim = sim();
        let (sid, ws) = sim.open_websocket();
        sim.ws_closed(ws, how);
        assert_eq!(sim.events(sid).last(), Some(&&Event::Closed(reason)));
        assert_eq!(sim.ws_close_code(ws), None, "the socket is already gone");
    }
}

#[test]
fn a_parse_error_on_websocket_closes_with_1002() {
    let mut sim = sim();
    let (sid, ws) = sim.open_websocket();
    sim.ws_text(ws, "hello");
    assert!(matches!(
        sim.events(sid).last(),
        Some(Event::Closed(CloseReason::ParseError(_)))
    ));
    assert_eq!(sim.ws_close_code(ws), Some(1002));
}

#[test]
fn binary_websocket_messages_are_binary_messages() {
    let mut sim = sim();
    sim.echo = true;
    let (sid, ws) = sim.open_websocket();
    sim.ws_message(ws, Message::Binary(bytes::Bytes::from_static(&[1, 2, 3])));
    assert_eq!(sim.received(sid), ["<binary 01 02 03>"]);
    assert_eq!(sim.ws_frames(ws).last().unwrap(), "<binary 01 02 03>");
}

#[test]
fn a_closed_session_answers_unknown_sid_from_then_on() {
    let mut sim = sim();
    let sid = sim.open_polling();
    sim.post(sid, "1");
    for _ in 0..3 {
        let get = sim.poll(sid);
        assert_eq!(sim.body(get).unwrap(), error_body(1, "Session ID unknown"));
    }
    assert_eq!(sim.send_text(sid, "x"), Err(SendError::Closed));
}

#[test]
fn closed_is_the_last_event_and_comes_once() {
    let mut sim = sim();
    let (sid, ws) = sim.open_websocket();
    sim.ws_text(ws, "1");
    sim.ws_closed(ws, WsClosed::ByPeer);
    sim.close(sid);
    sim.advance_ms(10_000);
    let closes = sim
        .events(sid)
        .into_iter()
        .filter(|e| matches!(e, Event::Closed(_)))
        .count();
    assert_eq!(closes, 1);
}
