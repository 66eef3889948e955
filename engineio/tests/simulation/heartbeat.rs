//! Heartbeats: the server pings every interval, the client must pong in time.

use engineio::{CloseReason, Event, TransportError};

use super::{error_body, sim};

const PING_TIMEOUT: Event = Event::Closed(CloseReason::PingTimeout);

/// The session is closed, and a ping timeout is what closed it.
fn assert_timed_out(sim: &engineio::sim::Sim, sid: engineio::Sid) {
    assert!(!sim.is_open(sid));
    assert_eq!(sim.events(sid).last(), Some(&&PING_TIMEOUT));
}

#[test]
fn websocket_ping_pong_over_several_intervals() {
    let mut sim = sim();
    let (sid, ws) = sim.open_websocket();
    for round in 1..=5 {
        sim.advance_ms(300);
        assert_eq!(sim.ws_frames(ws).len(), 1 + round, "ping number {round}");
        assert_eq!(sim.ws_frames(ws).last().unwrap(), "2");
        sim.advance_ms(50);
        sim.ws_text(ws, "3");
    }
    assert!(sim.is_open(sid));
    assert_eq!(sim.elapsed().as_millis(), 5 * 350);
}

#[test]
fn no_pong_closes_after_the_timeout() {
    let mut sim = sim();
    let (sid, ws) = sim.open_websocket();
    sim.advance_ms(499);
    assert!(sim.is_open(sid));
    sim.advance_ms(1);
    assert_timed_out(&sim, sid);
    assert_eq!(sim.ws_close_code(ws), Some(1000));
}

#[test]
fn a_pong_one_ms_before_the_deadline_keeps_the_session() {
    let mut sim = sim();
    let (sid, ws) = sim.open_websocket();
    sim.advance_ms(300 + 199);
    sim.ws_text(ws, "3");
    sim.advance_ms(1);
    assert!(sim.is_open(sid));
    // The next ping is counted from the pong (t = 499), not from the last ping.
    sim.advance_ms(298);
    assert_eq!(sim.ws_frames(ws).len(), 2);
    sim.advance_ms(1);
    assert_eq!(sim.ws_frames(ws).len(), 3);
}

#[test]
fn a_pong_one_ms_after_the_deadline_is_too_late_even_before_the_timer_fires() {
    let mut sim = sim();
    let (sid, ws) = sim.open_websocket();
    sim.advance_ms(300);
    // The caller's timer is late: the pong arrives first, 1 ms past the deadline.
    // The input still sees the deadline has passed.
    sim.advance_clock_only(std::time::Duration::from_millis(201));
    sim.ws_text(ws, "3");
    assert_timed_out(&sim, sid);
}

#[test]
fn other_traffic_does_not_reset_the_deadline() {
    let mut sim = sim();
    let (sid, ws) = sim.open_websocket();
    sim.advance_ms(300);
    for _ in 0..19 {
        sim.advance_ms(10);
        sim.ws_text(ws, "4busy");
    }
    sim.advance_ms(10);
    assert_timed_out(&sim, sid);
}

#[test]
fn polling_ping_waits_in_the_buffer_and_the_deadline_still_runs() {
    let mut sim = sim();
    let sid = sim.open_polling();
    sim.advance_ms(300);
    let get = sim.poll(sid);
    assert_eq!(sim.packets(get), ["2"]);
    let post = sim.post(sid, "3");
    assert_eq!(sim.body(post).as_deref(), Some("ok"));
    assert!(sim.is_open(sid));
    // A client that stops polling is dead after interval + timeout.
    sim.advance_ms(300 + 200);
    assert!(!sim.is_open(sid));
    let post = sim.post(sid, "3");
    assert_eq!(sim.body(post).unwrap(), error_body(1, "Session ID unknown"));
}

#[test]
fn polling_ping_pong_three_times() {
    let mut sim = sim();
    let sid = sim.open_polling();
    for _ in 0..3 {
        let get = sim.poll(sid);
        sim.advance_ms(300);
        assert_eq!(sim.packets(get), ["2"], "the parked GET carries the ping");
        let post = sim.post(sid, "3");
        assert_eq!(sim.body(post).as_deref(), Some("ok"));
    }
    assert!(sim.is_open(sid));
}

#[test]
fn a_ping_from_the_client_on_websocket_closes_with_a_transport_error() {
    let mut sim = sim();
    let (sid, ws) = sim.open_websocket();
    sim.ws_text(ws, "2");
    assert_eq!(
        sim.events(sid).last(),
        Some(&&Event::Closed(CloseReason::TransportError(
            TransportError::ClientPing
        )))
    );
    assert_eq!(sim.ws_close_code(ws), Some(1002));
}

#[test]
fn many_sessions_keep_independent_timers() {
    let mut sim = sim();
    // Session i opens at t = 3i ms; every third one answers its pings.
    let mut sessions = Vec::new();
    for i in 0..100u64 {
        let (sid, ws) = sim.open_websocket();
        sessions.push((i, sid, ws, i % 3 == 0, 0usize));
        sim.advance_ms(3);
    }
    while sim.elapsed().as_millis() < 1200 {
        sim.advance_ms(1);
        let now = sim.elapsed().as_millis() as u64;
        for (i, sid, ws, answers, pongs) in sessions.iter_mut() {
            if *answers {
                let pings = sim.ws_frames(*ws).iter().filter(|f| *f == "2").count();
                if pings > *pongs {
                    *pongs = pings;
                    sim.ws_text(*ws, "3");
                }
                assert!(sim.is_open(*sid));
            } else {
                // Silent: pinged at 3i + 300, closed at 3i + 500 exactly.
                assert_eq!(
                    sim.is_open(*sid),
                    now < 3 * *i + 500,
                    "session {i} at {now} ms"
                );
            }
        }
    }
    for (_, sid, ws, answers, pongs) in &sessions {
        if *answers {
            assert!(*pongs >= 3, "{sid} answered {pongs} pings");
            assert!(sim.ws_frames(*ws).len() > 3);
        } else {
            assert_eq!(sim.events(*sid).last(), Some(&&PING_TIMEOUT));
        }
    }
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

/// The official suite's "closes the session upon ping timeout" on a server whose timer wakes
/// late: the client never polls, its GET comes just after interval + timeout, and finds the
/// session gone, however late the ping was queued.
#[test]
fn a_polling_client_that_never_polls_times_out_on_schedule_when_the_timer_is_late() {
    let mut sim = sim();
    let sid = sim.open_polling();
    // The ping is due at 300; the caller's timer wakes at 340.
    sim.advance_clock_only(std::time::Duration::from_millis(340));
    sim.wake_late();
    assert!(sim.is_open(sid));
    // Its GET arrives at 505: past 300 + 200.
    sim.advance_clock_only(std::time::Duration::from_millis(165));
    let get = sim.poll(sid);
    assert_eq!(sim.status(get), Some(400));
    assert_eq!(sim.events(sid).last(), Some(&&PING_TIMEOUT));
}

/// A ping that goes out late to a waiting GET leaves the client the whole timeout to answer.
#[test]
fn a_ping_released_late_to_a_waiting_get_leaves_the_whole_timeout() {
    let mut sim = sim();
    let sid = sim.open_polling();
    let get = sim.poll(sid);
    sim.advance_clock_only(std::time::Duration::from_millis(340));
    sim.wake_late();
    assert_eq!(sim.packets(get), ["2"]);
    // 199 ms after it left, past the scheduled 500.
    sim.advance_clock_only(std::time::Duration::from_millis(199));
    let post = sim.post(sid, "3");
    assert_eq!(sim.body(post).as_deref(), Some("ok"));
    assert!(sim.is_open(sid));
}

#[test]
fn the_pong_deadline_stands_still_while_the_client_is_not_read() {
    let mut sim = sim();
    let (sid, ws) = sim.open_websocket();
    // The ping goes out at 300 (deadline 500); at 400 the driver stops reading.
    sim.advance_ms(400);
    sim.in_one_turn(sid, |session, now| session.handle_input_paused(now));
    sim.advance_ms(1000);
    assert!(
        sim.is_open(sid),
        "no timeout while the pong may wait unread"
    );
    // Reading resumes at 1400 with the 100 ms that were left: the deadline is 1500.
    sim.in_one_turn(sid, |session, now| session.handle_input_resumed(now));
    sim.advance_ms(99);
    assert!(sim.is_open(sid));
    sim.advance_ms(1);
    assert_timed_out(&sim, sid);
    assert_eq!(sim.ws_close_code(ws), Some(1000));
}

#[test]
fn a_ping_due_while_the_client_is_not_read_waits_for_reading_to_time_out() {
    let mut sim = sim();
    let (sid, ws) = sim.open_websocket();
    sim.in_one_turn(sid, |session, now| session.handle_input_paused(now));
    // The ping still goes out at 300, but its 200 ms start only when reading resumes.
    sim.advance_ms(2000);
    assert_eq!(sim.ws_frames(ws).last().map(String::as_str), Some("2"));
    assert!(sim.is_open(sid));
    sim.in_one_turn(sid, |session, now| session.handle_input_resumed(now));
    sim.advance_ms(150);
    sim.ws_text(ws, "3");
    sim.advance_ms(250);
    assert!(sim.is_open(sid), "the pong in time keeps it");
}
