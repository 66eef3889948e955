//! Requests that arrived before their session closed but reach it, or the
//! server, only after.
//!
//! A client's requests travel on separate connections, and the driver may read
//! and route them in another order than they arrived in (each connection in a
//! task of its own, on whichever worker runs it). The reference server, one
//! event loop, handles them in arrival order. The order that decides is
//! therefore the order of [`RequestId`]s, which the caller gives in arrival
//! order, not the order the requests reach the session.
//!
//! The case it decides: a long-poll GET and a POST carrying the client's close
//! packet, sent together. Had the GET been handled first, as it arrived, it
//! would have been the parked GET the close releases (200 with a noop). So a
//! session that a request closed without releasing a GET owes that answer to
//! the first long-poll GET that arrived before the closing request, whether it
//! reaches the closed session (still draining its inputs) or the server after
//! the session is gone. A GET that arrived after the close finds the session
//! unknown, as on the reference server.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::packet::Outgoing;
use crate::request::RequestId;
use crate::sid::Sid;

/// The answer a closed session owes a long-poll GET that arrived before the
/// request that closed it (see [`Session::late_poll`](crate::Session::late_poll)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatePoll {
    /// The request that closed the session.
    pub(crate) closed_by: RequestId,
    /// What a GET parked at the close got: the client's own close releases it
    /// with a noop, any other close with a close packet.
    pub(crate) noop: bool,
}

impl LatePoll {
    /// Whether a GET with this id arrived before the close.
    pub(crate) fn arrived_before(&self, request: RequestId) -> bool {
        request < self.closed_by
    }

    /// The packet the GET is answered with.
    pub(crate) fn packet(&self) -> Outgoing {
        if self.noop {
            Outgoing::Noop
        } else {
            Outgoing::Close
        }
    }
}

/// How long the server keeps a closed session's [`LatePoll`]. A GET that
/// arrived before the close is late only by the time a task waits to run: far
/// less than this.
pub(crate) const LATE_POLL_SPAN: Duration = Duration::from_secs(5);

/// Most [`LatePoll`]s kept at once; past it the oldest is forgotten.
pub(crate) const MAX_LATE_POLLS: usize = 1024;

/// The server's record of closed sessions that still owe a GET an answer.
#[derive(Debug, Default)]
pub(crate) struct LatePolls {
    by_sid: HashMap<Sid, LatePoll>,
    /// When each was recorded, oldest first.
    order: VecDeque<(Instant, Sid)>,
}

impl LatePolls {
    pub(crate) fn insert(&mut self, now: Instant, sid: Sid, late: LatePoll) {
        self.expire(now);
        // `order` holds every record and those already used, so bounding it bounds both.
        while self.order.len() >= MAX_LATE_POLLS {
            if let Some((_, oldest)) = self.order.pop_front() {
                self.by_sid.remove(&oldest);
            }
        }
        if self.by_sid.insert(sid, late).is_none() {
            self.order.push_back((now, sid));
        }
    }

    /// The record for `sid`, if the session closed within the span. `None`
    /// at once when nothing is recorded, which is nearly always.
    pub(crate) fn get(&mut self, now: Instant, sid: Sid) -> Option<LatePoll> {
        if self.by_sid.is_empty() {
            return None;
        }
        self.expire(now);
        self.by_sid.get(&sid).copied()
    }

    /// The record for `sid` is used up: a GET got the answer.
    pub(crate) fn remove(&mut self, sid: Sid) {
        // Its place in `order` goes when it expires.
        self.by_sid.remove(&sid);
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(at, sid)) = self.order.front() {
            if now.saturating_duration_since(at) < LATE_POLL_SPAN {
                break;
            }
            self.order.pop_front();
            self.by_sid.remove(&sid);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_sid.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(n: u64) -> Sid {
        use crate::SidGenerator;
        let mut sids = crate::CountingSidGenerator::new(n);
        sids.generate()
    }

    const LATE: LatePoll = LatePoll {
        closed_by: RequestId(10),
        noop: true,
    };

    #[test]
    #[allow(clippy::disallowed_methods)] // any instant will do as the origin
    fn a_record_is_kept_for_the_span_then_forgotten() {
        let t0 = Instant::now();
        let mut late = LatePolls::default();
        late.insert(t0, sid(1), LATE);
        assert_eq!(late.get(t0 + LATE_POLL_SPAN / 2, sid(1)), Some(LATE));
        assert_eq!(late.get(t0 + LATE_POLL_SPAN, sid(1)), None);
        assert_eq!(late.len(), 0);
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // any instant will do as the origin
    fn the_oldest_record_goes_past_the_bound() {
        let t0 = Instant::now();
        let mut late = LatePolls::default();
        for n in 0..=MAX_LATE_POLLS as u64 {
            late.insert(t0, sid(n + 1), LATE);
        }
        assert_eq!(late.len(), MAX_LATE_POLLS);
        assert_eq!(late.get(t0, sid(1)), None);
        assert_eq!(late.get(t0, sid(2)), Some(LATE));
    }

    #[test]
    fn only_earlier_requests_arrived_before_the_close() {
        assert!(LATE.arrived_before(RequestId(9)));
        assert!(!LATE.arrived_before(RequestId(10)));
        assert!(!LATE.arrived_before(RequestId(11)));
    }
}
