//! The upgrade from long-polling to WebSocket, and its races.

use bytes::Bytes;
use engineio::sim::{Answer, Sim};
use engineio::{CloseReason, Config, Event, TransportKind, WsClosed};

use super::{config, error_body, sim};

/// Runs the whole upgrade; returns the WebSocket's id.
fn upgrade(sim: &mut Sim, sid: engineio::Sid) -> engineio::RequestId {
    let ws = sim.upgrade_request(sid);
    assert_eq!(sim.answer(ws), Some(&Answer::WebSocketAccepted));
    assert!(
        sim.ws_frames(ws).is_empty(),
        "no open packet on the upgrade socket"
    );
    sim.ws_text(ws, "2probe");
    assert_eq!(sim.ws_frames(ws), ["3probe"]);
    sim.ws_text(ws, "5");
    ws
}

#[test]
fn probe_then_upgrade_moves_the_session_to_the_websocket() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let get = sim.poll(sid);
    let ws = sim.upgrade_request(sid);
    sim.ws_text(ws, "2probe");
    assert_eq!(sim.ws_frames(ws), ["3probe"]);
    assert_eq!(
        sim.packets(get),
        ["6"],
        "the parked GET is released with a noop"
    );
    sim.ws_text(ws, "5");
    assert_eq!(
        sim.session(sid).unwrap().transport(),
        TransportKind::WebSocket
    );
    assert!(sim.events(sid).contains(&&Event::Upgraded));
    sim.ws_text(ws, "4hello");
    assert_eq!(sim.received(sid), ["hello"]);
    sim.send_text(sid, "world").unwrap();
    assert_eq!(sim.ws_frames(ws).last().unwrap(), "4world");
}

#[test]
fn after_the_upgrade_polling_requests_get_400() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let ws = upgrade(&mut sim, sid);
    let get = sim.poll(sid);
    assert_eq!(sim.body(get).unwrap(), error_body(3, "Bad request"));
    let post = sim.post(sid, "4x");
    assert_eq!(sim.status(post), Some(400));
    sim.ws_text(ws, "4still");
    assert_eq!(sim.received(sid), ["still"]);
}

#[test]
fn a_second_websocket_for_the_session_is_closed() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let ws = upgrade(&mut sim, sid);
    let second = sim.upgrade_request(sid);
    assert_eq!(sim.answer(second), Some(&Answer::WebSocketAccepted));
    assert_eq!(sim.ws_close_code(second), Some(1008));
    assert!(sim.is_open(sid));
    assert_eq!(sim.ws_close_code(ws), None);
    // Also while an upgrade is still in progress.
    let sid = sim.open_polling();
    let first = sim.upgrade_request(sid);
    let second = sim.upgrade_request(sid);
    assert_eq!(sim.ws_close_code(second), Some(1008));
    sim.ws_text(first, "2probe");
    assert_eq!(sim.ws_frames(first), ["3probe"]);
}

#[test]
fn a_websocket_session_cannot_upgrade_again() {
    let mut sim = sim();
    let (sid, _) = sim.open_websocket();
    let ws = sim.upgrade_request(sid);
    assert_eq!(sim.ws_close_code(ws), Some(1008));
}

#[test]
fn probe_and_upgrade_back_to_back() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let ws = sim.upgrade_request(sid);
    sim.ws_text(ws, "2probe");
    sim.ws_text(ws, "5");
    sim.ws_text(ws, "4after");
    assert_eq!(sim.received(sid), ["after"]);
    assert_eq!(
        sim.session(sid).unwrap().transport(),
        TransportKind::WebSocket
    );
}

#[test]
fn a_get_arriving_mid_upgrade_gets_a_noop_at_once() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let ws = sim.upgrade_request(sid);
    sim.ws_text(ws, "2probe");
    sim.send_text(sid, "held").unwrap();
    let get = sim.poll(sid);
    assert_eq!(
        sim.packets(get),
        ["6"],
        "the held message waits for the WebSocket"
    );
    sim.ws_text(ws, "5");
    assert_eq!(sim.ws_frames(ws), ["3probe", "4held"]);
}

#[test]
fn a_get_before_the_probe_still_carries_messages() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let ws = sim.upgrade_request(sid);
    sim.send_text(sid, "early").unwrap();
    let get = sim.poll(sid);
    assert_eq!(sim.packets(get), ["4early"]);
    sim.ws_text(ws, "2probe");
    sim.ws_text(ws, "5");
    assert_eq!(sim.ws_frames(ws), ["3probe"]);
}

#[test]
fn messages_sent_during_the_upgrade_arrive_once_in_order_on_one_transport() {
    let mut sim = sim();
    let sid = sim.open_polling();
    sim.send_text(sid, "m1").unwrap();
    let ws = sim.upgrade_request(sid);
    sim.send_text(sid, "m2").unwrap();
    sim.ws_text(ws, "2probe");
    sim.send_text(sid, "m3").unwrap();
    let get = sim.poll(sid);
    assert_eq!(sim.packets(get), ["6"]);
    sim.send_text(sid, "m4").unwrap();
    sim.ws_text(ws, "5");
    sim.send_text(sid, "m5").unwrap();
    assert_eq!(
        sim.ws_frames(ws),
        ["3probe", "4m1", "4m2", "4m3", "4m4", "4m5"]
    );
}

#[test]
fn an_abandoned_probe_leaves_the_session_on_polling() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let ws = sim.upgrade_request(sid);
    sim.ws_text(ws, "2probe");
    sim.send_text(sid, "kept").unwrap();
    sim.ws_closed(ws, WsClosed::ByPeer);
    assert!(sim.is_open(sid));
    assert_eq!(
        sim.session(sid).unwrap().transport(),
        TransportKind::Polling
    );
    let get = sim.poll(sid);
    assert_eq!(sim.packets(get), ["4kept"]);
    // A new upgrade can be tried later.
    let ws2 = sim.upgrade_request(sid);
    sim.ws_text(ws2, "2probe");
    assert_eq!(sim.ws_frames(ws2), ["3probe"]);
}

#[test]
fn the_upgrade_times_out() {
    let mut sim = Sim::new(Config {
        ping_interval: std::time::Duration::from_secs(10),
        ..config()
    });
    let sid = sim.open_polling();
    let ws = sim.upgrade_request(sid);
    sim.ws_text(ws, "2probe");
    sim.send_text(sid, "kept").unwrap();
    sim.advance_ms(300);
    let get = sim.poll(sid);
    assert_eq!(
        sim.packets(get),
        ["6"],
        "held for the WebSocket while it may still come"
    );
    sim.advance_ms(699);
    assert_eq!(sim.ws_close_code(ws), None);
    sim.advance_ms(1);
    assert_eq!(sim.ws_close_code(ws), Some(1000));
    assert!(sim.is_open(sid));
    let get = sim.poll(sid);
    assert_eq!(
        sim.packets(get),
        ["4kept"],
        "the held message goes by polling"
    );
    // A "5" arriving after the timeout changes nothing.
    sim.ws_text(ws, "5");
    assert_eq!(
        sim.session(sid).unwrap().transport(),
        TransportKind::Polling
    );
}

#[test]
fn any_other_packet_on_the_probe_socket_aborts_the_upgrade() {
    for first in ["4hello", "3probe", "2", "x"] {
        let mut sim = sim();
        let sid = sim.open_polling();
        let ws = sim.upgrade_request(sid);
        sim.ws_text(ws, first);
        assert_eq!(sim.ws_close_code(ws), Some(1000), "after {first:?}");
        assert!(sim.is_open(sid));
        assert!(sim.received(sid).is_empty());
    }
}

#[test]
fn a_client_close_during_the_upgrade_closes_the_probe_socket() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let ws = sim.upgrade_request(sid);
    sim.ws_text(ws, "2probe");
    sim.post(sid, "1");
    assert_eq!(
        sim.events(sid).last(),
        Some(&&Event::Closed(CloseReason::TransportClose))
    );
    assert_eq!(sim.ws_close_code(ws), Some(1000));
}

#[test]
fn a_server_close_during_the_upgrade_goes_out_by_polling() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let ws = sim.upgrade_request(sid);
    sim.ws_text(ws, "2probe");
    sim.send_text(sid, "last").unwrap();
    sim.close(sid);
    assert_eq!(sim.ws_close_code(ws), Some(1000));
    let get = sim.poll(sid);
    assert_eq!(sim.packets(get), ["4last"]);
    let get = sim.poll(sid);
    assert_eq!(sim.packets(get), ["1"]);
    assert_eq!(
        sim.events(sid).last(),
        Some(&&Event::Closed(CloseReason::ServerClose))
    );
}

#[test]
fn upgrades_can_be_disabled() {
    let mut sim = Sim::new(Config {
        allow_upgrades: false,
        ..config()
    });
    let id = sim.request(engineio::RequestHead::new(
        engineio::Method::Get,
        "EIO=4&transport=polling",
    ));
    assert!(sim.body(id).unwrap().contains(r#""upgrades":[]"#));
    let sid = sim.open_polling();
    let ws = sim.upgrade_request(sid);
    assert_eq!(sim.body(ws).unwrap(), error_body(3, "Bad request"));
}

#[test]
fn heartbeats_continue_on_the_websocket_after_the_upgrade() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let ws = upgrade(&mut sim, sid);
    sim.advance_ms(300);
    assert_eq!(sim.ws_frames(ws).last().unwrap(), "2");
    sim.ws_text(ws, "3");
    sim.advance_ms(400);
    assert!(sim.is_open(sid));
    sim.advance_ms(400);
    assert!(!sim.is_open(sid));
}

/// A runtime may write a session's messages itself only while the session would write them
/// at once, unchanged, on its WebSocket: never over polling, mid-upgrade, with something
/// queued, or once closed.
#[test]
fn direct_websocket_names_the_socket_only_while_messages_would_go_straight_out() {
    let mut sim = Sim::new(config());
    let sid = sim.open_polling();
    let direct = |sim: &Sim| sim.session(sid).and_then(|s| s.direct_websocket());
    assert_eq!(direct(&sim), None, "polling");
    let ws = sim.upgrade_request(sid);
    sim.ws_text(ws, "2probe");
    assert_eq!(direct(&sim), None, "upgrade under way");
    sim.ws_text(ws, "5");
    assert_eq!(direct(&sim), Some(ws), "upgraded");
    sim.in_one_turn(sid, |session, _| {
        session.send_text(Bytes::from_static(b"queued")).unwrap();
        assert_eq!(session.direct_websocket(), None, "a message waits");
    });
    assert_eq!(
        sim.ws_frames(ws).last().map(String::as_str),
        Some("4queued")
    );
    assert_eq!(direct(&sim), Some(ws), "written");
    assert_eq!(
        engineio::WsFrame::message(engineio::Message::Text(Bytes::from_static(b"x"))),
        engineio::WsFrame::Text {
            prefix: b'4',
            data: Bytes::from_static(b"x")
        }
    );
    sim.close(sid);
    assert_eq!(direct(&sim), None, "closed");

    let (ws_sid, socket) = sim.open_websocket();
    assert_eq!(
        sim.session(ws_sid).and_then(|s| s.direct_websocket()),
        Some(socket),
        "a WebSocket-only session"
    );
}
