//! What a session tells the application.

use crate::packet::{Message, PacketError};
use crate::request::TransportKind;
use crate::sid::Sid;

/// Something the application should know about a session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The session was opened: always the session's first event.
    Opened(Handshake),
    /// The client sent a message.
    Message(Message),
    /// The session moved from long-polling to its WebSocket.
    Upgraded,
    /// The session is closed: always the last event. Requests naming its sid
    /// are answered `400 Session ID unknown` from now on.
    Closed(CloseReason),
}

/// What the handshake request carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// The new session's id.
    pub sid: Sid,
    /// The transport the session was opened over.
    pub transport: TransportKind,
    /// The handshake request's raw query string.
    pub query: String,
}

/// Why a session closed. Not an error: the normal end of every session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client closed the session: a close packet, or its WebSocket closed.
    TransportClose,
    /// The transport failed or the client broke a transport rule.
    TransportError(TransportError),
    /// No pong came within `ping_timeout` of a ping.
    PingTimeout,
    /// The client sent a packet that could not be decoded.
    ParseError(PacketError),
    /// The application closed the session (or the server is shutting down).
    ServerClose,
}

impl CloseReason {
    /// The reason as the reference server names it (`transport close`,
    /// `ping timeout`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            CloseReason::TransportClose => "transport close",
            CloseReason::TransportError(_) => "transport error",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::ParseError(_) => "parse error",
            CloseReason::ServerClose => "forced close",
        }
    }
}

/// How a transport failed: all of these are the client's (or the network's) doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The connection of a parked long-poll GET closed before it was answered.
    #[error("poll connection closed prematurely")]
    PollAborted,
    /// A second GET arrived while one was parked.
    #[error("overlapping long-poll GET from client")]
    PollOverlap,
    /// A POST's connection closed before its body arrived.
    #[error("data request connection closed prematurely")]
    PostAborted,
    /// A second POST arrived while one was in progress.
    #[error("overlapping POST from client")]
    PostOverlap,
    /// A POST with `Content-Type: application/octet-stream` (v4 sends binary as base64 text).
    #[error("binary POST body is not allowed in Engine.IO v4")]
    BinaryContent,
    /// A POST body or WebSocket message above `max_payload`.
    #[error("payload above max_payload")]
    PayloadTooLarge,
    /// The client sent a ping: in v4 only the server pings.
    #[error("ping from client: invalid heartbeat direction")]
    ClientPing,
    /// The WebSocket broke: an I/O error or a frame-level protocol violation.
    #[error("WebSocket error")]
    WebSocket,
}
