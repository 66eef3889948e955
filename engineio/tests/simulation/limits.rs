//! Payload limits and buffer bounds.

use bytes::Bytes;
use engineio::sim::Sim;
use engineio::{
    CloseReason, Config, Event, Method, OutboxLimits, RequestHead, SendError, TransportError,
};

use super::config;

#[test]
fn a_post_announcing_more_than_max_payload_is_413() {
    let mut sim = Sim::new(Config {
        max_payload: 100,
        ..config()
    });
    let sid = sim.open_polling();
    let mut head = RequestHead::new(Method::Post, format!("EIO=4&transport=polling&sid={sid}"));
    head.content_length = Some(101);
    let id = sim.request(head);
    assert_eq!(sim.status(id), Some(413));
    assert_eq!(
        sim.events(sid).last(),
        Some(&&Event::Closed(CloseReason::TransportError(
            TransportError::PayloadTooLarge
        )))
    );
}

#[test]
fn a_body_over_max_payload_without_length_is_413() {
    let mut sim = Sim::new(Config {
        max_payload: 100,
        ..config()
    });
    let sid = sim.open_polling();
    let head = RequestHead::new(Method::Post, format!("EIO=4&transport=polling&sid={sid}"));
    let id = sim.request_with_body(head, Some(Bytes::from(vec![b'4'; 101])));
    assert_eq!(sim.status(id), Some(413));
    assert!(!sim.is_open(sid));
}

#[test]
fn a_body_of_exactly_max_payload_is_accepted() {
    let mut sim = Sim::new(Config {
        max_payload: 100,
        ..config()
    });
    let sid = sim.open_polling();
    let id = sim.post(sid, Bytes::from(vec![b'4'; 100]));
    assert_eq!(sim.body(id).as_deref(), Some("ok"));
    assert_eq!(sim.received(sid), ["4".repeat(99)]);
}

#[test]
fn max_payload_is_advertised() {
    let mut sim = Sim::new(Config {
        max_payload: 12345,
        ..config()
    });
    let id = sim.request(RequestHead::new(Method::Get, "EIO=4&transport=polling"));
    assert!(sim.body(id).unwrap().contains(r#""maxPayload":12345"#));
}

#[test]
fn a_full_outbox_refuses_sends_and_keeps_the_session() {
    let mut sim = Sim::new(Config {
        outbox: OutboxLimits {
            max_packets: 3,
            max_bytes: 1000,
        },
        ..config()
    });
    let sid = sim.open_polling();
    for i in 0..3 {
        sim.send_text(sid, &format!("m{i}")).unwrap();
    }
    assert_eq!(sim.send_text(sid, "m3"), Err(SendError::BufferFull));
    assert!(sim.is_open(sid));
    assert_eq!(sim.session(sid).unwrap().buffered_bytes(), 6);
    let get = sim.poll(sid);
    assert_eq!(sim.packets(get), ["4m0", "4m1", "4m2"]);
    sim.send_text(sid, "m3").unwrap();
}

#[test]
fn the_byte_bound_counts_message_bytes() {
    let mut sim = Sim::new(Config {
        outbox: OutboxLimits {
            max_packets: 100,
            max_bytes: 10,
        },
        ..config()
    });
    let sid = sim.open_polling();
    sim.send_text(sid, "0123456789").unwrap();
    assert_eq!(sim.send_text(sid, "x"), Err(SendError::BufferFull));
    // Control packets are never refused: the heartbeat still runs.
    sim.advance_ms(300);
    let get = sim.poll(sid);
    assert_eq!(sim.packets(get), ["40123456789", "2"]);
}

#[test]
fn writability_tells_whether_a_volatile_message_would_wait() {
    let mut sim = Sim::new(config());
    let sid = sim.open_polling();
    assert!(!sim.session(sid).unwrap().is_writable(), "no GET parked");
    let _get = sim.poll(sid);
    assert!(sim.session(sid).unwrap().is_writable());
    let (ws_sid, _) = sim.open_websocket();
    assert!(sim.session(ws_sid).unwrap().is_writable());
}
