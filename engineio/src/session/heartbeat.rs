//! The v4 heartbeat: the server pings, the client answers with a pong.
//!
//! ```text
//!   ExpectInterval ──(ping_interval elapsed)──> send ping ──> ExpectPong
//!        ^                                                       │
//!        └───────────────(pong: interval restarts now)───────────┤
//!                                                                │
//!                            (ping_timeout elapsed) ──> close: ping timeout
//! ```
//!
//! Only a pong moves the deadline; other traffic does not (as the reference
//! server). A pong that arrives while no ping is outstanding also restarts
//! the interval.
//!
//! The pong deadline counts from when the ping reached the client's reach:
//! from when it was sent on a WebSocket or to a waiting long-poll, so that a
//! runtime that wakes late under load does not shorten the client's time to
//! answer; but from when it was *due* when it must wait for the client's next
//! GET, as on a punctual server, so that a long-polling client that stopped
//! polling times out at the same moment however late the server woke. A
//! server stalled past the deadline still leaves that client half of
//! `ping_timeout` once the ping is queued.
//!
//! While the driver does not read the client (its application is behind, see
//! [`Session::handle_input_paused`](crate::Session::handle_input_paused)), a pong may be
//! waiting unread behind the client's messages: the pong deadline stands still until
//! reading resumes, and then has what was left of it.

use std::time::{Duration, Instant};

use crate::config::SessionTiming;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Heartbeat {
    /// Waiting for the interval to elapse, then a ping is due.
    ExpectInterval { ping_at: Instant },
    /// A ping is out; the pong must come before the deadline.
    ExpectPong { deadline: Instant },
    /// A ping is out, but the client is not being read: the pong may be waiting unread.
    /// `left` is the time the client will have once reading resumes.
    ExpectPongUnread { left: Duration },
    /// No heartbeat: the session is closing or closed.
    Stopped,
}

/// Where a ping goes when it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PingLeaves {
    /// Written at once: on the WebSocket, or in the answer to a waiting GET.
    Now,
    /// Queued until the client's next GET.
    OnNextPoll,
}

/// What the heartbeat wants done at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeartbeatDue {
    Nothing,
    SendPing,
    TimedOut,
}

impl Heartbeat {
    pub(crate) fn start(now: Instant, timing: &SessionTiming) -> Self {
        Heartbeat::ExpectInterval {
            ping_at: now + timing.ping_interval,
        }
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        match *self {
            Heartbeat::ExpectInterval { ping_at } => Some(ping_at),
            Heartbeat::ExpectPong { deadline } => Some(deadline),
            Heartbeat::ExpectPongUnread { .. } | Heartbeat::Stopped => None,
        }
    }

    /// A pong arrived at `now`.
    pub(crate) fn on_pong(&mut self, now: Instant, timing: &SessionTiming) {
        if *self != Heartbeat::Stopped {
            *self = Heartbeat::start(now, timing);
        }
    }

    /// Advances to `now`: a ping may be due, or the pong may be late. `ping_leaves`
    /// says whether a ping due now goes out at once (a WebSocket, a waiting GET) or
    /// waits for the client to poll.
    pub(crate) fn on_time(
        &mut self,
        now: Instant,
        timing: &SessionTiming,
        ping_leaves: PingLeaves,
    ) -> HeartbeatDue {
        match *self {
            Heartbeat::ExpectInterval { ping_at } if now >= ping_at => {
                let deadline = match ping_leaves {
                    PingLeaves::Now => now + timing.ping_timeout,
                    PingLeaves::OnNextPoll => {
                        (ping_at + timing.ping_timeout).max(now + timing.ping_timeout / 2)
                    }
                };
                *self = Heartbeat::ExpectPong { deadline };
                HeartbeatDue::SendPing
            }
            Heartbeat::ExpectPong { deadline } if now >= deadline => {
                *self = Heartbeat::Stopped;
                HeartbeatDue::TimedOut
            }
            _ => HeartbeatDue::Nothing,
        }
    }

    /// The driver stopped reading the client at `now`: an outstanding pong deadline stands
    /// still.
    pub(crate) fn pause(&mut self, now: Instant) {
        if let Heartbeat::ExpectPong { deadline } = *self {
            *self = Heartbeat::ExpectPongUnread {
                left: deadline.saturating_duration_since(now),
            };
        }
    }

    /// The driver reads the client again from `now`: the deadline runs on from where it
    /// stood.
    pub(crate) fn resume(&mut self, now: Instant) {
        if let Heartbeat::ExpectPongUnread { left } = *self {
            *self = Heartbeat::ExpectPong {
                deadline: now + left,
            };
        }
    }

    pub(crate) fn stop(&mut self) {
        *self = Heartbeat::Stopped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn timing() -> SessionTiming {
        Config {
            ping_interval: Duration::from_millis(300),
            ping_timeout: Duration::from_millis(200),
            ..Config::default()
        }
        .session_timing()
    }

    /// A virtual clock: `ms(n)` is `n` milliseconds after a fixed start.
    fn clock() -> impl Fn(u64) -> Instant {
        #[allow(clippy::disallowed_methods)] // a base instant for a virtual clock
        let t0 = Instant::now();
        move |n| t0 + Duration::from_millis(n)
    }

    #[test]
    fn pings_after_the_interval_and_times_out_after_the_timeout() {
        let ms = clock();
        let t = timing();
        let mut hb = Heartbeat::start(ms(0), &t);
        assert_eq!(
            hb.on_time(ms(299), &t, PingLeaves::Now),
            HeartbeatDue::Nothing
        );
        assert_eq!(
            hb.on_time(ms(300), &t, PingLeaves::Now),
            HeartbeatDue::SendPing
        );
        assert_eq!(hb.deadline(), Some(ms(500)));
        assert_eq!(
            hb.on_time(ms(499), &t, PingLeaves::Now),
            HeartbeatDue::Nothing
        );
        assert_eq!(
            hb.on_time(ms(500), &t, PingLeaves::Now),
            HeartbeatDue::TimedOut
        );
        assert_eq!(hb.deadline(), None);
    }

    #[test]
    fn a_pong_restarts_the_interval_from_its_arrival() {
        let ms = clock();
        let t = timing();
        let mut hb = Heartbeat::start(ms(0), &t);
        assert_eq!(
            hb.on_time(ms(300), &t, PingLeaves::Now),
            HeartbeatDue::SendPing
        );
        hb.on_pong(ms(350), &t);
        assert_eq!(hb.deadline(), Some(ms(650)));
        hb.stop();
        hb.on_pong(ms(400), &t);
        assert_eq!(hb, Heartbeat::Stopped);
    }

    #[test]
    fn a_ping_sent_late_leaves_the_whole_timeout() {
        let ms = clock();
        let t = timing();
        let mut hb = Heartbeat::start(ms(0), &t);
        // Due at 300, sent at 340: the client has until 540.
        assert_eq!(
            hb.on_time(ms(340), &t, PingLeaves::Now),
            HeartbeatDue::SendPing
        );
        assert_eq!(hb.deadline(), Some(ms(540)));
    }

    #[test]
    fn a_ping_queued_late_is_due_on_schedule() {
        let ms = clock();
        let t = timing();
        let mut hb = Heartbeat::start(ms(0), &t);
        // Due at 300, queued at 340 for a client not polling: the pong is still due at 500.
        assert_eq!(
            hb.on_time(ms(340), &t, PingLeaves::OnNextPoll),
            HeartbeatDue::SendPing
        );
        assert_eq!(hb.deadline(), Some(ms(500)));
        assert_eq!(
            hb.on_time(ms(500), &t, PingLeaves::OnNextPoll),
            HeartbeatDue::TimedOut
        );
    }

    #[test]
    fn a_stalled_server_leaves_a_client_not_polling_half_the_timeout() {
        let ms = clock();
        let t = timing();
        let mut hb = Heartbeat::start(ms(0), &t);
        // Due at 300, queued at 650, past the scheduled deadline of 500.
        assert_eq!(
            hb.on_time(ms(650), &t, PingLeaves::OnNextPoll),
            HeartbeatDue::SendPing
        );
        assert_eq!(hb.deadline(), Some(ms(750)));
        assert_eq!(
            hb.on_time(ms(749), &t, PingLeaves::OnNextPoll),
            HeartbeatDue::Nothing
        );
        assert_eq!(
            hb.on_time(ms(750), &t, PingLeaves::OnNextPoll),
            HeartbeatDue::TimedOut
        );
    }
}
