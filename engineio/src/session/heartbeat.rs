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
//! The pong deadline counts from when the ping was *due*, not from when the
//! driver got round to it: a runtime that wakes a few milliseconds late under
//! load does not lend the client those milliseconds, so a client that stopped
//! answering times out at the same moment however busy the server is. A
//! server that was stalled for longer still leaves the client at least half
//! of `ping_timeout` after the ping goes out, so its own stall cannot time a
//! client out before it had a chance to answer.

use std::time::Instant;

use crate::config::SessionTiming;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Heartbeat {
    /// Waiting for the interval to elapse, then a ping is due.
    ExpectInterval { ping_at: Instant },
    /// A ping is out; the pong must come before the deadline.
    ExpectPong { deadline: Instant },
    /// No heartbeat: the session is closing or closed.
    Stopped,
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
            Heartbeat::Stopped => None,
        }
    }

    /// A pong arrived at `now`.
    pub(crate) fn on_pong(&mut self, now: Instant, timing: &SessionTiming) {
        if *self != Heartbeat::Stopped {
            *self = Heartbeat::start(now, timing);
        }
    }

    /// Advances to `now`: a ping may be due, or the pong may be late.
    pub(crate) fn on_time(&mut self, now: Instant, timing: &SessionTiming) -> HeartbeatDue {
        match *self {
            Heartbeat::ExpectInterval { ping_at } if now >= ping_at => {
                let on_schedule = ping_at + timing.ping_timeout;
                let least = now + timing.ping_timeout / 2;
                *self = Heartbeat::ExpectPong {
                    deadline: on_schedule.max(least),
                };
                HeartbeatDue::SendPing
            }
            Heartbeat::ExpectPong { deadline } if now >= deadline => {
                *self = Heartbeat::Stopped;
                HeartbeatDue::TimedOut
            }
            _ => HeartbeatDue::Nothing,
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
    use std::time::Duration;

    fn timing() -> SessionTiming {
        Config {
            ping_interval: Duration::from_millis(300),
            ping_timeout: Duration::from_millis(200),
            ..Config::default()
        }
        .session_timing()
    }

    #[test]
    fn pings_after_the_interval_and_times_out_after_the_timeout() {
        #[allow(clippy::disallowed_methods)] // a base instant for a virtual clock
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let t = timing();
        let mut hb = Heartbeat::start(t0, &t);
        assert_eq!(hb.on_time(ms(299), &t), HeartbeatDue::Nothing);
        assert_eq!(hb.on_time(ms(300), &t), HeartbeatDue::SendPing);
        assert_eq!(hb.deadline(), Some(ms(500)));
        assert_eq!(hb.on_time(ms(499), &t), HeartbeatDue::Nothing);
        assert_eq!(hb.on_time(ms(500), &t), HeartbeatDue::TimedOut);
        assert_eq!(hb.deadline(), None);
    }

    #[test]
    fn a_pong_restarts_the_interval_from_its_arrival() {
        #[allow(clippy::disallowed_methods)] // a base instant for a virtual clock
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let t = timing();
        let mut hb = Heartbeat::start(t0, &t);
        assert_eq!(hb.on_time(ms(300), &t), HeartbeatDue::SendPing);
        hb.on_pong(ms(350), &t);
        assert_eq!(hb.deadline(), Some(ms(650)));
        hb.stop();
        hb.on_pong(ms(400), &t);
        assert_eq!(hb, Heartbeat::Stopped);
    }

    #[test]
    fn a_late_wake_up_does_not_move_the_pong_deadline() {
        #[allow(clippy::disallowed_methods)] // a base instant for a virtual clock
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let t = timing();
        let mut hb = Heartbeat::start(t0, &t);
        // Due at 300, handled at 340: the pong is still due at 500.
        assert_eq!(hb.on_time(ms(340), &t), HeartbeatDue::SendPing);
        assert_eq!(hb.deadline(), Some(ms(500)));
        assert_eq!(hb.on_time(ms(500), &t), HeartbeatDue::TimedOut);
    }

    #[test]
    fn a_stalled_server_leaves_the_client_half_the_timeout() {
        #[allow(clippy::disallowed_methods)] // a base instant for a virtual clock
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let t = timing();
        let mut hb = Heartbeat::start(t0, &t);
        // Due at 300, handled at 650, past the scheduled deadline of 500.
        assert_eq!(hb.on_time(ms(650), &t), HeartbeatDue::SendPing);
        assert_eq!(hb.deadline(), Some(ms(750)));
        assert_eq!(hb.on_time(ms(749), &t), HeartbeatDue::Nothing);
        assert_eq!(hb.on_time(ms(750), &t), HeartbeatDue::TimedOut);
    }
}
