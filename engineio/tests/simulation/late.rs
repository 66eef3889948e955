//! Requests that arrive before their session closes but reach it, or the server, after:
//! the order they arrived in (their ids) decides, not the order they are routed in.

use std::time::{Duration, Instant};

use bytes::Bytes;
use engineio::sim::{payload, Sim};
use engineio::{CountingSidGenerator, Method, RequestHead, RequestId, Routed, Server, Transmit};

use super::{config, error_body, sim};

/// The official suite's "forcefully closes the session": a GET and a POST with the close
/// packet, sent together. The GET arrived first but is routed after the close: it is the
/// long-poll the close releases, as it would have been had it been routed first.
#[test]
fn a_get_that_arrived_before_the_client_close_is_released_with_a_noop() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let get = sim.arrive();
    let post = sim.post(sid, "1");
    assert_eq!(sim.body(post).as_deref(), Some("ok"));
    assert!(!sim.is_open(sid));
    sim.deliver(get, Sim::poll_head(sid), None);
    assert_eq!(sim.status(get), Some(200));
    assert_eq!(sim.packets(get), ["6"]);
    let later = sim.poll(sid);
    assert_eq!(
        sim.body(later).unwrap(),
        error_body(1, "Session ID unknown")
    );
}

#[test]
fn a_get_that_arrived_after_the_close_finds_the_session_unknown() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let post = sim.arrive();
    let get = sim.arrive();
    let mut head = RequestHead::new(Method::Post, format!("EIO=4&transport=polling&sid={sid}"));
    head.content_length = Some(1);
    sim.deliver(post, head, Some(Bytes::from_static(b"1")));
    sim.deliver(get, Sim::poll_head(sid), None);
    assert_eq!(sim.body(get).unwrap(), error_body(1, "Session ID unknown"));
}

/// Two GETs that both arrived before the close would have overlapped: only the first one
/// routed gets the release.
#[test]
fn only_one_late_get_is_released() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let first = sim.arrive();
    let second = sim.arrive();
    sim.post(sid, "1");
    sim.deliver(second, Sim::poll_head(sid), None);
    sim.deliver(first, Sim::poll_head(sid), None);
    assert_eq!(sim.packets(second), ["6"]);
    assert_eq!(sim.status(first), Some(400));
}

/// With a GET parked when the close came, that GET was the one released; a GET that
/// arrived before the close too would have been a second, overlapping GET.
#[test]
fn a_get_parked_at_the_close_leaves_no_answer_owed() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let parked = sim.poll(sid);
    let late = sim.arrive();
    sim.post(sid, "1");
    assert_eq!(sim.packets(parked), ["6"]);
    sim.deliver(late, Sim::poll_head(sid), None);
    assert_eq!(sim.status(late), Some(400));
}

/// A POST that closes the session with an error releases a parked GET with a close
/// packet, and so a late one.
#[test]
fn a_late_get_after_a_parse_error_gets_a_close_packet() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let get = sim.arrive();
    let post = sim.post(sid, payload(["4ok", "x"]));
    assert_eq!(sim.status(post), Some(400));
    sim.deliver(get, Sim::poll_head(sid), None);
    assert_eq!(sim.packets(get), ["1"]);
}

/// Only a close a request made is ordered against requests: after a ping timeout, every
/// GET finds the session unknown.
#[test]
fn a_close_by_the_clock_owes_no_late_get() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let get = sim.arrive();
    sim.advance(Duration::from_secs(1));
    assert!(!sim.is_open(sid));
    sim.deliver(get, Sim::poll_head(sid), None);
    assert_eq!(sim.status(get), Some(400));
}

/// The server forgets what a closed session owed after a few seconds: a request is late
/// only by the time its task waited to run.
#[test]
fn the_server_forgets_a_late_get_after_a_few_seconds() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let get = sim.arrive();
    sim.post(sid, "1");
    sim.advance(Duration::from_secs(5));
    sim.deliver(get, Sim::poll_head(sid), None);
    assert_eq!(sim.status(get), Some(400));
}

/// The same decision when the late GET reaches the closed session itself, before its
/// owner has let it go (the GET was routed before the close, but queued after the POST).
#[test]
fn a_late_get_that_reaches_the_closed_session_is_released_there() {
    #[allow(clippy::disallowed_methods)] // the origin of the test's clock
    let t0 = Instant::now();
    let mut server = Server::new(config(), CountingSidGenerator::new(1));
    let handshake = RequestHead::new(Method::Get, "EIO=4&transport=polling");
    let Routed::Opened(mut session) = server.handle_request(t0, RequestId(1), &handshake) else {
        panic!("handshake refused");
    };
    while session.poll_transmit().is_some() {}
    while session.poll_event().is_some() {}
    let sid = session.sid();
    let query = format!("EIO=4&transport=polling&sid={sid}");
    let get_head = RequestHead::new(Method::Get, query.as_str());
    let Routed::Session(get) = server.handle_request(t0, RequestId(2), &get_head) else {
        panic!("not routed");
    };
    let mut post_head = RequestHead::new(Method::Post, query.as_str());
    post_head.content_length = Some(1);
    let Routed::Session(post) = server.handle_request(t0, RequestId(3), &post_head) else {
        panic!("not routed");
    };
    // The POST reaches the session first.
    session.handle_request(t0, post);
    session.handle_body(t0, RequestId(3), Bytes::from_static(b"1"));
    session.handle_request(t0, get);
    let mut answers = Vec::new();
    while let Some(t) = session.poll_transmit() {
        if let Transmit::Respond { request, response } = t {
            answers.push((request, response.status, response.body));
        }
    }
    assert_eq!(
        answers,
        [
            (RequestId(3), 200, Bytes::from_static(b"ok")),
            (RequestId(2), 200, Bytes::from_static(b"6")),
        ]
    );
    assert!(session.is_closed());
    assert_eq!(session.late_poll(), None, "the answer owed was given");
    server.handle_session_closed(t0, &session);
    let Routed::Session(again) = server.handle_request(t0, RequestId(4), &get_head) else {
        panic!("nothing was owed: the caller finds no session");
    };
    let Transmit::Respond { response, .. } = server.handle_unknown_session(t0, again) else {
        panic!("not an answer");
    };
    assert_eq!(response.status, 400);
}
