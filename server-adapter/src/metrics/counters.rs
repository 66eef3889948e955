//! Where the counts are kept while the server runs, and how a snapshot sums them.
//!
//! What happens per message (messages and bytes each way, the acks a connection waits for,
//! buffer-full refusals, dropped volatile emits) is counted in the session's own
//! [`SessionCounters`], which live in the session's inbox (the one allocation every session
//! already has). Only the session's task writes the per-message ones, so an increment is a
//! plain load and store: no locked instruction, and no cache line shared with any other
//! session. A snapshot sums the counters of the open sessions (under the routing table's
//! lock, which also folds a closing session's counts into the table's totals, so a count is
//! never lost nor seen twice).
//!
//! What happens once per connection or per refused request (sessions opened, upgrades,
//! closes and disconnects by reason, refusals) is counted in per-server atomics
//! ([`EngineStats`], [`SioStats`]): one relaxed increment on a path that already costs tens
//! of microseconds.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};

use engineio::{CloseReason, ErrorCode, TransportKind};
use socketio_core::DisconnectReason;

use super::{Closes, ConnectRefusals, Disconnects, EngineMetrics, Refusals};

/// Adds `n` to a counter that only one task writes: a plain load and store (the one writer
/// cannot race itself), which readers in other tasks see whole.
fn add_single_writer(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

/// The transport a session is on, for the open-connection gauges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Transport {
    Polling = 0,
    WebSocket = 1,
    /// The session closed (its task may still be finishing): counted in no gauge.
    Closed = 2,
}

impl From<TransportKind> for Transport {
    fn from(kind: TransportKind) -> Self {
        match kind {
            TransportKind::WebSocket => Transport::WebSocket,
            _ => Transport::Polling,
        }
    }
}

/// One session's counts.
///
/// `messages_*`, `bytes_*`, `acks_waiting` and `transport` are written by the session's
/// task only; `buffer_full` and `volatile_dropped` by any task that sends to the session
/// (they count refusals, off the path of a message that goes through).
#[derive(Debug)]
pub(crate) struct SessionCounters {
    messages_in: AtomicU64,
    bytes_in: AtomicU64,
    messages_out: AtomicU64,
    bytes_out: AtomicU64,
    buffer_full: AtomicU64,
    volatile_dropped: AtomicU64,
    acks_waiting: AtomicU32,
    transport: AtomicU8,
}

impl SessionCounters {
    /// Counters of a session opened over `transport`.
    pub(crate) fn new(transport: Transport) -> Self {
        SessionCounters {
            messages_in: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            messages_out: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            buffer_full: AtomicU64::new(0),
            volatile_dropped: AtomicU64::new(0),
            acks_waiting: AtomicU32::new(0),
            transport: AtomicU8::new(transport as u8),
        }
    }

    /// The client sent a message of `len` bytes (session task only).
    pub(crate) fn received(&self, len: usize) {
        add_single_writer(&self.messages_in, 1);
        add_single_writer(&self.bytes_in, len as u64);
    }

    /// The session queued a message of `len` bytes for the client (session task only).
    pub(crate) fn sent(&self, len: usize) {
        add_single_writer(&self.messages_out, 1);
        add_single_writer(&self.bytes_out, len as u64);
    }

    /// A send was refused because the session's buffer was full (any task).
    pub(crate) fn buffer_full(&self) {
        self.buffer_full.fetch_add(1, Relaxed);
    }

    /// A volatile emit was dropped (any task).
    pub(crate) fn volatile_dropped(&self) {
        self.volatile_dropped.fetch_add(1, Relaxed);
    }

    /// How many of the server's emits wait for this client's acknowledgement now (session
    /// task only).
    pub(crate) fn set_acks_waiting(&self, waiting: usize) {
        let waiting = u32::try_from(waiting).unwrap_or(u32::MAX);
        self.acks_waiting.store(waiting, Relaxed);
    }

    /// The session moved to `transport`, or closed (session task only).
    pub(crate) fn set_transport(&self, transport: Transport) {
        self.transport.store(transport as u8, Relaxed);
    }

    fn transport(&self) -> Transport {
        match self.transport.load(Relaxed) {
            0 => Transport::Polling,
            1 => Transport::WebSocket,
            _ => Transport::Closed,
        }
    }
}

/// The sums over sessions: of the open ones at a snapshot, or of the closed ones kept by the
/// routing table (plain numbers, under its lock).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sums {
    pub(crate) messages_in: u64,
    pub(crate) bytes_in: u64,
    pub(crate) messages_out: u64,
    pub(crate) bytes_out: u64,
    pub(crate) buffer_full: u64,
    pub(crate) volatile_dropped: u64,
    /// Gauges: counted for open sessions only, never kept for closed ones.
    pub(crate) acks_waiting: u64,
    pub(crate) polling: u64,
    pub(crate) websocket: u64,
}

impl Sums {
    /// Adds a session's counts; with `open`, its gauges too.
    pub(crate) fn add(&mut self, counters: &SessionCounters, open: bool) {
        self.messages_in += counters.messages_in.load(Relaxed);
        self.bytes_in += counters.bytes_in.load(Relaxed);
        self.messages_out += counters.messages_out.load(Relaxed);
        self.bytes_out += counters.bytes_out.load(Relaxed);
        self.buffer_full += counters.buffer_full.load(Relaxed);
        self.volatile_dropped += counters.volatile_dropped.load(Relaxed);
        if open {
            self.acks_waiting += u64::from(counters.acks_waiting.load(Relaxed));
            match counters.transport() {
                Transport::Polling => self.polling += 1,
                Transport::WebSocket => self.websocket += 1,
                Transport::Closed => {}
            }
        }
    }
}

/// The requests an engine refuses, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Forbidden,
    ServerFull,
    UnknownSid,
    BadRequest,
    Cors,
}

impl Refusal {
    const ALL: usize = 5;

    /// The kind of refusal an engine answer is, if it is one.
    pub(crate) fn of(response: &engineio::Response) -> Option<Refusal> {
        match (response.error_code(), response.status) {
            (Some(ErrorCode::Forbidden), _) => Some(Refusal::Forbidden),
            (Some(ErrorCode::UnknownSid), _) => Some(Refusal::UnknownSid),
            (Some(_), _) => Some(Refusal::BadRequest),
            (None, 503) => Some(Refusal::ServerFull),
            (None, status) if status >= 400 => Some(Refusal::BadRequest),
            _ => None,
        }
    }

    /// The refusal's name in logs and in the `reason` label.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Refusal::Forbidden => "forbidden",
            Refusal::ServerFull => "server full",
            Refusal::UnknownSid => "unknown sid",
            Refusal::BadRequest => "bad request",
            Refusal::Cors => "cors",
        }
    }
}

/// The index of an Engine.IO close reason in [`EngineStats::closes`].
fn close_index(reason: &CloseReason) -> usize {
    match reason {
        CloseReason::TransportClose => 0,
        CloseReason::PingTimeout => 2,
        CloseReason::ParseError(_) => 3,
        CloseReason::ServerClose => 4,
        // `TransportError` and any reason added later.
        _ => 1,
    }
}

/// An engine's counts of what happens once per session or per refused request.
#[derive(Debug, Default)]
pub(crate) struct EngineStats {
    opened: AtomicU64,
    upgrades: AtomicU64,
    closes: [AtomicU64; 5],
    refusals: [AtomicU64; Refusal::ALL],
}

impl EngineStats {
    /// A handshake opened a session.
    pub(crate) fn opened(&self) {
        self.opened.fetch_add(1, Relaxed);
    }

    /// A session moved to WebSocket.
    pub(crate) fn upgraded(&self) {
        self.upgrades.fetch_add(1, Relaxed);
    }

    /// A session closed.
    pub(crate) fn closed(&self, reason: &CloseReason) {
        self.closes[close_index(reason)].fetch_add(1, Relaxed);
    }

    /// The engine refused a request.
    pub(crate) fn refused(&self, refusal: Refusal) {
        self.refusals[refusal as usize].fetch_add(1, Relaxed);
    }

    /// The snapshot of an engine whose sessions sum to `sums`.
    pub(crate) fn snapshot(&self, sums: &Sums) -> EngineMetrics {
        let closes = |i: usize| self.closes[i].load(Relaxed);
        let refusals = |r: Refusal| self.refusals[r as usize].load(Relaxed);
        EngineMetrics {
            polling: sums.polling,
            websocket: sums.websocket,
            opened: self.opened.load(Relaxed),
            upgrades: self.upgrades.load(Relaxed),
            messages_in: sums.messages_in,
            messages_out: sums.messages_out,
            bytes_in: sums.bytes_in,
            bytes_out: sums.bytes_out,
            buffer_full: sums.buffer_full,
            refused: Refusals {
                forbidden: refusals(Refusal::Forbidden),
                server_full: refusals(Refusal::ServerFull),
                unknown_sid: refusals(Refusal::UnknownSid),
                bad_request: refusals(Refusal::BadRequest),
                cors: refusals(Refusal::Cors),
            },
            closes: Closes {
                transport_close: closes(0),
                transport_error: closes(1),
                ping_timeout: closes(2),
                parse_error: closes(3),
                server_close: closes(4),
            },
        }
    }
}

/// The index of a Socket.IO disconnect reason in [`SioStats::disconnects`].
fn disconnect_index(reason: DisconnectReason) -> usize {
    match reason {
        DisconnectReason::ClientNamespaceDisconnect => 0,
        DisconnectReason::ServerNamespaceDisconnect => 1,
        DisconnectReason::ForcedServerClose => 2,
        DisconnectReason::ServerShuttingDown => 3,
        DisconnectReason::TransportClose => 4,
        DisconnectReason::PingTimeout => 6,
        DisconnectReason::ParseError => 7,
        // `TransportError` and any reason added later.
        _ => 5,
    }
}

/// A Socket.IO server's counts of what happens once per socket.
#[derive(Debug, Default)]
pub(crate) struct SioStats {
    disconnects: [AtomicU64; 8],
    refused_by_middleware: AtomicU64,
    unknown_namespace: AtomicU64,
    acks_timed_out: AtomicU64,
}

impl SioStats {
    /// A socket left its namespace.
    pub(crate) fn disconnected(&self, reason: DisconnectReason) {
        self.disconnects[disconnect_index(reason)].fetch_add(1, Relaxed);
    }

    /// A namespace's middleware refused a CONNECT.
    pub(crate) fn refused_by_middleware(&self) {
        self.refused_by_middleware.fetch_add(1, Relaxed);
    }

    /// A CONNECT named a namespace that does not exist.
    pub(crate) fn unknown_namespace(&self) {
        self.unknown_namespace.fetch_add(1, Relaxed);
    }

    /// An emit's acknowledgement did not come in time.
    pub(crate) fn ack_timed_out(&self) {
        self.acks_timed_out.fetch_add(1, Relaxed);
    }

    pub(crate) fn acks_timed_out(&self) -> u64 {
        self.acks_timed_out.load(Relaxed)
    }

    pub(crate) fn connect_refusals(&self) -> ConnectRefusals {
        ConnectRefusals {
            middleware: self.refused_by_middleware.load(Relaxed),
            unknown_namespace: self.unknown_namespace.load(Relaxed),
        }
    }

    pub(crate) fn disconnects(&self) -> Disconnects {
        let count = |i: usize| self.disconnects[i].load(Relaxed);
        Disconnects {
            client_namespace_disconnect: count(0),
            server_namespace_disconnect: count(1),
            forced_server_close: count(2),
            server_shutting_down: count(3),
            transport_close: count(4),
            transport_error: count(5),
            ping_timeout: count(6),
            parse_error: count(7),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_counts_each_way_and_its_gauges_only_while_open() {
        let counters = SessionCounters::new(Transport::Polling);
        counters.received(10);
        counters.received(5);
        counters.sent(7);
        counters.buffer_full();
        counters.volatile_dropped();
        counters.volatile_dropped();
        counters.set_acks_waiting(3);

        let mut open = Sums::default();
        open.add(&counters, true);
        assert_eq!(
            open,
            Sums {
                messages_in: 2,
                bytes_in: 15,
                messages_out: 1,
                bytes_out: 7,
                buffer_full: 1,
                volatile_dropped: 2,
                acks_waiting: 3,
                polling: 1,
                websocket: 0,
            }
        );

        counters.set_transport(Transport::WebSocket);
        let mut upgraded = Sums::default();
        upgraded.add(&counters, true);
        assert_eq!((upgraded.polling, upgraded.websocket), (0, 1));

        counters.set_transport(Transport::Closed);
        let mut closing = Sums::default();
        closing.add(&counters, true);
        assert_eq!((closing.polling, closing.websocket), (0, 0));

        let mut kept = Sums::default();
        kept.add(&counters, false);
        assert_eq!(
            (kept.messages_in, kept.acks_waiting, kept.polling),
            (2, 0, 0),
            "a closed session keeps its counts, not its gauges"
        );
    }

    #[test]
    fn refusals_are_told_apart_by_the_engine_answer() {
        use engineio::{Config, Method, RequestHead, RequestId, Routed, Server, Transmit};

        let refusal_of = |config: Config, query: &str, method: Method| {
            let mut server = Server::new(config, engineio::CountingSidGenerator::default());
            let head = RequestHead::new(method, query);
            match server.handle_request(std::time::Instant::now(), RequestId(1), &head) {
                Routed::Respond(Transmit::Respond { response, .. }) => Refusal::of(&response),
                other => panic!("not answered at once: {other:?}"),
            }
        };
        let get = Method::Get;
        assert_eq!(
            refusal_of(Config::default(), "EIO=4&transport=polling&sid=nope", get),
            Some(Refusal::UnknownSid)
        );
        assert_eq!(
            refusal_of(Config::default(), "EIO=3&transport=polling", get),
            Some(Refusal::BadRequest)
        );
        assert_eq!(
            refusal_of(Config::default(), "EIO=4&transport=carrier-pigeon", get),
            Some(Refusal::BadRequest)
        );
        assert_eq!(
            refusal_of(Config::default(), "EIO=4&transport=polling", Method::Post),
            Some(Refusal::BadRequest)
        );
        let refuse_all = Config {
            allow_request: Some(engineio::AllowRequest::new(|_| Err("no".to_owned()))),
            ..Config::default()
        };
        assert_eq!(
            refusal_of(refuse_all, "EIO=4&transport=polling", get),
            Some(Refusal::Forbidden)
        );
        let full = Config {
            max_sessions: Some(0),
            ..Config::default()
        };
        assert_eq!(
            refusal_of(full, "EIO=4&transport=polling", get),
            Some(Refusal::ServerFull)
        );
        let preflight = Config {
            cors: Some(engineio::Cors::any_origin()),
            ..Config::default()
        };
        assert_eq!(
            refusal_of(preflight, "EIO=4&transport=polling", Method::Options),
            None,
            "a preflight is answered, not refused"
        );
    }

    #[test]
    fn closes_and_disconnects_are_counted_by_reason() {
        let engine = EngineStats::default();
        engine.opened();
        engine.opened();
        engine.upgraded();
        engine.closed(&CloseReason::TransportClose);
        engine.closed(&CloseReason::PingTimeout);
        engine.closed(&CloseReason::PingTimeout);
        engine.closed(&CloseReason::ServerClose);
        engine.refused(Refusal::Cors);
        let sums = Sums {
            messages_in: 4,
            polling: 1,
            ..Sums::default()
        };
        let m = engine.snapshot(&sums);
        assert_eq!(
            (m.opened, m.upgrades, m.messages_in, m.polling),
            (2, 1, 4, 1)
        );
        assert_eq!(
            m.closes,
            Closes {
                transport_close: 1,
                transport_error: 0,
                ping_timeout: 2,
                parse_error: 0,
                server_close: 1,
            }
        );
        assert_eq!(m.refused.cors, 1);
        assert_eq!(m.refused.total(), 1);

        let sio = SioStats::default();
        sio.disconnected(DisconnectReason::ClientNamespaceDisconnect);
        sio.disconnected(DisconnectReason::TransportError);
        sio.disconnected(DisconnectReason::ParseError);
        sio.refused_by_middleware();
        sio.ack_timed_out();
        let d = sio.disconnects();
        assert_eq!(
            (
                d.client_namespace_disconnect,
                d.transport_error,
                d.parse_error,
                d.transport_close
            ),
            (1, 1, 1, 0)
        );
        assert_eq!(d.total(), 3);
        assert_eq!(sio.connect_refusals().middleware, 1);
        assert_eq!(sio.acks_timed_out(), 1);
    }
}
