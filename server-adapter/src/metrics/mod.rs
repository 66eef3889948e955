//! Counts for operators: what a server holds now and what it has done since it started.
//!
//! [`SocketIo::metrics`](crate::socketio::SocketIo::metrics) returns a [`Metrics`] snapshot,
//! [`EngineIo::metrics`](crate::EngineIo::metrics) an [`EngineMetrics`]: plain values, taken
//! at the moment of the call, the same whether the server is served by this crate's HTTP
//! server or through the tower layer (both drive the same engine). Counters (`*_total` in
//! the Prometheus text) only grow while the server lives; gauges (open connections, sockets,
//! rooms, acks waiting) are the state at the snapshot.
//!
//! ```
//! use server_adapter::metrics::PROMETHEUS_CONTENT_TYPE;
//! use server_adapter::socketio::SocketIo;
//!
//! let io = SocketIo::builder().build();
//! let metrics = io.metrics();
//! assert_eq!(metrics.engine.polling + metrics.engine.websocket, 0);
//! assert_eq!(metrics.namespaces[0].name, "/");
//! // What a `GET /metrics` answers, with `Content-Type: PROMETHEUS_CONTENT_TYPE`:
//! let text = metrics.to_prometheus();
//! assert!(text.contains("socketio_connections{transport=\"websocket\"} 0\n"));
//! # let _ = PROMETHEUS_CONTENT_TYPE;
//! ```
//!
//! # Cost
//!
//! Counting is always on. What happens per message is counted by the session's own task in
//! counters of that session (a plain load and store each: no lock, no atomic read-modify-write
//! instruction, no cache line shared between connections); what happens once per connection
//! or per refused request is one relaxed atomic increment. A snapshot sums the open sessions'
//! counters under the routing table's lock: its cost grows with the number of open
//! connections (about what routing a few hundred requests costs, for ten thousand), so take
//! one per scrape, not per message.

mod counters;
mod prometheus;

pub(crate) use counters::{EngineStats, Refusal, SessionCounters, SioStats, Sums, Transport};
pub use prometheus::PROMETHEUS_CONTENT_TYPE;

/// A snapshot of an Engine.IO server: its connections (sessions), the messages they carry,
/// and how they ended. What [`EngineIo::metrics`](crate::EngineIo::metrics) returns, and the
/// [`engine`](Metrics::engine) part of a Socket.IO server's [`Metrics`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineMetrics {
    /// Sessions open now on HTTP long-polling (one being upgraded counts here until the
    /// upgrade completes).
    pub polling: u64,
    /// Sessions open now on WebSocket (opened on it, or upgraded to it).
    pub websocket: u64,
    /// Sessions opened since the server started (handshakes accepted).
    pub opened: u64,
    /// Sessions that moved from long-polling to WebSocket.
    pub upgrades: u64,
    /// Messages received from clients: Engine.IO messages, so a Socket.IO packet counts
    /// once, plus once for each binary attachment; pings and other control packets are not
    /// counted.
    pub messages_in: u64,
    /// Messages queued for clients, counted as [`messages_in`](Self::messages_in) is (a
    /// broadcast counts once per recipient).
    pub messages_out: u64,
    /// Bytes of the messages received: their data, without Engine.IO or HTTP/WebSocket
    /// framing.
    pub bytes_in: u64,
    /// Bytes of the messages queued for clients, counted as [`bytes_in`](Self::bytes_in) is.
    pub bytes_out: u64,
    /// Sends refused because the connection's buffer was full
    /// ([`EmitError::BufferFull`](crate::socketio::EmitError::BufferFull),
    /// [`SendError::BufferFull`](engineio::SendError::BufferFull)): a client that does not
    /// keep up. The connection stays open; the sender decides what to do.
    pub buffer_full: u64,
    /// Requests under the engine's path that were refused, by why.
    pub refused: Refusals,
    /// Sessions that closed, by the Engine.IO close reason.
    pub closes: Closes,
}

/// Requests an engine refused, by why (the `reason` label of `*_refusals_total`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refusals {
    /// Handshakes the `allow_request` hook refused (403, code 4); label `forbidden`.
    pub forbidden: u64,
    /// Handshakes refused because `max_sessions` sessions were open (503); label
    /// `server full`.
    pub server_full: u64,
    /// Requests naming a session that is not open (400, code 1), often clients of a server
    /// that restarted or a load balancer without sticky sessions; label `unknown sid`.
    pub unknown_sid: u64,
    /// Requests that broke the protocol (400: unknown transport, a handshake that is not a
    /// GET, an unsupported `EIO`, an invalid WebSocket handshake, ...); label `bad request`.
    pub bad_request: u64,
    /// Long-polling handshakes and CORS preflights from a page whose `Origin` the CORS
    /// policy does not allow: answered without `Access-Control-Allow-Origin`, so the browser
    /// refuses the answer; label `cors`.
    pub cors: u64,
}

impl Refusals {
    /// All refusals, whatever the reason.
    pub fn total(&self) -> u64 {
        self.forbidden + self.server_full + self.unknown_sid + self.bad_request + self.cors
    }
}

/// Sessions closed, by Engine.IO close reason (the `reason` label of `*_closes_total`,
/// named as the reference server names them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Closes {
    /// The client closed the session (a close packet, or its WebSocket closed); label
    /// `transport close`.
    pub transport_close: u64,
    /// The transport failed or the client broke a transport rule (a long-poll's connection
    /// gone, overlapping requests, a payload above `max_payload`, a WebSocket error); label
    /// `transport error`.
    pub transport_error: u64,
    /// No pong came within `ping_timeout`; label `ping timeout`.
    pub ping_timeout: u64,
    /// The client sent an Engine.IO packet that could not be decoded; label `parse error`.
    pub parse_error: u64,
    /// The server closed the session: the application, a Socket.IO protocol error, or a
    /// shutdown; label `forced close`.
    pub server_close: u64,
}

impl Closes {
    /// All closed sessions, whatever the reason.
    pub fn total(&self) -> u64 {
        self.transport_close
            + self.transport_error
            + self.ping_timeout
            + self.parse_error
            + self.server_close
    }
}

/// A snapshot of a Socket.IO server: what [`SocketIo::metrics`](crate::socketio::SocketIo::metrics)
/// returns. Its connections, messages and their ends are in [`engine`](Self::engine); the rest
/// is about sockets (one client in one namespace).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// The Engine.IO connections that carry the sockets.
    pub engine: EngineMetrics,
    /// Each namespace that exists now (static ones, and the children of dynamic ones that
    /// have sockets), by name.
    pub namespaces: Vec<NamespaceMetrics>,
    /// The server's emits waiting for a client's acknowledgement now (`emit_with_ack`, one
    /// per recipient of a broadcast).
    pub acks_waiting: u64,
    /// Emits whose acknowledgement did not come within their timeout.
    pub acks_timed_out: u64,
    /// Volatile emits dropped because the client could not take them at once.
    pub volatile_dropped: u64,
    /// CONNECTs to a namespace that were refused, by why.
    pub connect_refused: ConnectRefusals,
    /// Sockets that left their namespace, by the Socket.IO disconnect reason.
    pub disconnects: Disconnects,
}

/// One namespace in a [`Metrics`] snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NamespaceMetrics {
    /// The namespace's name (`/`, `/admin`, ...).
    pub name: String,
    /// Sockets connected to it now, on this server.
    pub sockets: u64,
    /// Rooms with at least one of its sockets now, on this server (the room each socket is
    /// by its own id not counted).
    pub rooms: u64,
}

impl NamespaceMetrics {
    pub(crate) fn new(name: &str, sockets: u64, rooms: u64) -> Self {
        NamespaceMetrics {
            name: name.to_owned(),
            sockets,
            rooms,
        }
    }
}

/// CONNECTs refused (the `reason` label of `socketio_refusals_total`, beside the engine's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectRefusals {
    /// A namespace's middleware refused (the client gets `connect_error`); label
    /// `middleware`.
    pub middleware: u64,
    /// The namespace does not exist; label `unknown namespace`.
    pub unknown_namespace: u64,
}

/// Sockets that left their namespace, by disconnect reason (the `reason` label of
/// `socketio_disconnects_total`, named as the reference server names them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Disconnects {
    /// The client left the namespace; `client namespace disconnect`.
    pub client_namespace_disconnect: u64,
    /// The server made the socket leave, or closed its connection;
    /// `server namespace disconnect`.
    pub server_namespace_disconnect: u64,
    /// The connection was closed under the socket by the server (a session closed by the
    /// engine's application); `forced server close`.
    pub forced_server_close: u64,
    /// The server shut down; `server shutting down`.
    pub server_shutting_down: u64,
    /// The client closed the connection, or its transport ended; `transport close`.
    pub transport_close: u64,
    /// The transport failed; `transport error`.
    pub transport_error: u64,
    /// The client stopped answering pings; `ping timeout`.
    pub ping_timeout: u64,
    /// The client sent something that could not be decoded or broke the protocol;
    /// `parse error`.
    pub parse_error: u64,
}

impl Disconnects {
    /// All disconnected sockets, whatever the reason.
    pub fn total(&self) -> u64 {
        self.client_namespace_disconnect
            + self.server_namespace_disconnect
            + self.forced_server_close
            + self.server_shutting_down
            + self.transport_close
            + self.transport_error
            + self.ping_timeout
            + self.parse_error
    }
}
