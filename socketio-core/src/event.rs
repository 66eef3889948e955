//! What a connection tells its caller: application events and engine messages.

use bytes::Bytes;
use socketio_parser::{AckId, DecodeError, Namespace, Packet};

use crate::socket_id::SocketId;

/// Something the application must act on.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The client asks to join `namespace` (a CONNECT packet). Decide with
    /// [`Connection::accept`](crate::Connection::accept) or
    /// [`Connection::refuse`](crate::Connection::refuse): check that the
    /// namespace exists, run middleware. Until then, any other packet for
    /// this namespace is a protocol violation.
    ConnectRequest {
        /// The namespace asked for.
        namespace: Namespace,
        /// The CONNECT payload (a JSON object: the client's `auth`), if any.
        auth: Option<Bytes>,
    },
    /// A connected socket received an EVENT or BINARY_EVENT. If the packet
    /// has an ack id, the client waits for an ACK with that id. (Packets are
    /// boxed here so that an `Event`, which a connection keeps room for, is
    /// small.)
    Event(Box<Packet>),
    /// An ACK answered one of this connection's emits (see
    /// [`Connection::allocate_ack`](crate::Connection::allocate_ack)).
    Ack(Box<Packet>),
    /// No ACK came before the deadline of an emit.
    AckTimedOut {
        /// The socket's namespace.
        namespace: Namespace,
        /// The ack id that was not answered.
        ack: AckId,
    },
    /// A socket left its namespace. Its pending acks are dropped with it.
    Disconnected {
        /// The namespace.
        namespace: Namespace,
        /// The socket that left.
        socket: SocketId,
        /// Why.
        reason: DisconnectReason,
    },
}

/// Something to hand to the Engine.IO session, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transmit {
    /// Send this text message (a Socket.IO packet, without the Engine.IO `4`).
    Text(Bytes),
    /// Send this binary message (an attachment of the packet before it).
    Binary(Bytes),
    /// Close the Engine.IO session: the connection is over.
    CloseSession(CloseCause),
}

impl Transmit {
    /// The messages that carry a packet the default encoder wrote: its text, then each
    /// binary attachment as a binary message of its own, in order. This is what
    /// [`Connection::send`](crate::Connection::send) queues for a connection with the default
    /// parser; a runtime that writes a broadcast to an idle connection itself writes these.
    pub fn packet_messages<'a>(
        text: &'a Bytes,
        attachments: &'a [Bytes],
    ) -> impl Iterator<Item = Transmit> + 'a {
        std::iter::once(Transmit::Text(text.clone()))
            .chain(attachments.iter().cloned().map(Transmit::Binary))
    }
}

/// Why a socket disconnected, named as the reference server names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The client left the namespace (a DISCONNECT packet).
    ClientNamespaceDisconnect,
    /// The server made the socket leave the namespace.
    ServerNamespaceDisconnect,
    /// The server closed the whole connection.
    ForcedServerClose,
    /// The server is shutting down.
    ServerShuttingDown,
    /// The client closed the connection, or its transport ended.
    TransportClose,
    /// The transport failed.
    TransportError,
    /// The client stopped answering pings.
    PingTimeout,
    /// The client sent something that could not be decoded or broke the protocol.
    ParseError,
}

impl DisconnectReason {
    /// The reason's name in the reference server (`"client namespace disconnect"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::ForcedServerClose => "forced server close",
            DisconnectReason::ServerShuttingDown => "server shutting down",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ParseError => "parse error",
        }
    }

    /// Whether a socket that left for this reason is kept for connection state
    /// recovery: the connection was lost or closed under it (transport close or
    /// error, ping timeout, the server closing or shutting down), as in the reference
    /// server. A client or server that chose to leave the namespace, and a client
    /// that broke the protocol, are not kept.
    pub fn is_recoverable(self) -> bool {
        matches!(
            self,
            DisconnectReason::TransportClose
                | DisconnectReason::TransportError
                | DisconnectReason::PingTimeout
                | DisconnectReason::ServerShuttingDown
                | DisconnectReason::ForcedServerClose
        )
    }

    /// Maps the end of the Engine.IO session to the reason its sockets get.
    pub fn from_engine(reason: engineio::CloseReason) -> Self {
        match reason {
            engineio::CloseReason::TransportClose => DisconnectReason::TransportClose,
            engineio::CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            engineio::CloseReason::ParseError(_) => DisconnectReason::ParseError,
            engineio::CloseReason::ServerClose => DisconnectReason::ForcedServerClose,
            _ => DisconnectReason::TransportError,
        }
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the connection asks for its Engine.IO session to be closed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseCause {
    /// The client's packets could not be decoded.
    Decode(DecodeError),
    /// The client broke a rule of the protocol.
    Violation(Violation),
    /// No namespace was joined within the connect timeout.
    ConnectTimeout,
    /// The application closed the connection (with the reason its sockets got).
    Server(DisconnectReason),
}

/// Protocol rules a client can break; each ends the connection, as in the
/// reference server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    /// A CONNECT for a namespace the connection already joined or is joining.
    #[error("CONNECT for a namespace already joined")]
    DuplicateConnect,
    /// A packet other than CONNECT for a namespace not joined.
    #[error("packet for a namespace not joined")]
    NotConnected,
    /// A CONNECT_ERROR from the client (only servers send those).
    #[error("CONNECT_ERROR from the client")]
    ClientConnectError,
    /// A text message on a connection whose parser sends only binary messages (MessagePack).
    #[error("text message on a connection that uses the MessagePack parser")]
    TextWithBinaryParser,
}

impl CloseCause {
    /// The reason the connection's sockets get for this close.
    pub fn reason(&self) -> DisconnectReason {
        match self {
            CloseCause::Decode(_) | CloseCause::Violation(_) => DisconnectReason::ParseError,
            CloseCause::ConnectTimeout => DisconnectReason::ForcedServerClose,
            CloseCause::Server(reason) => *reason,
        }
    }
}
