//! The adapter: what a Socket.IO server does that can reach other server processes.
//!
//! Every operation that names sockets by room (a broadcast, with or without
//! acknowledgements, fetching sockets, making them join, leave or disconnect),
//! server-side events and the list of rooms go through here. A server built
//! without an adapter is the in-memory adapter: its rooms are the namespace's
//! [`Members`](super::rooms) and a broadcast is one encoded frame queued on each
//! member, exactly as before. With an [`Adapter`]
//! ([`SocketIoBuilder::adapter`](super::SocketIoBuilder::adapter)), each operation also
//! goes to the other servers through it, unless the operator is
//! [`local`](super::BroadcastOperator::local); the local part is unchanged.
//!
//! The adapter moves operations between processes; the other processes apply them
//! to their own sockets through the [`LocalNode`] each adapter is given at start.
//!
//! ```text
//!   io.to("r").emit(..) ──► local members (one shared frame)
//!                      └──► Adapter::broadcast ──► other servers ──► LocalNode::broadcast
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use socketio_parser::{Encoder, Namespace, Packet};
use tokio::sync::oneshot;

use super::error::AckError;
use super::namespace::NamespaceInner;
use super::outbound::Frame;
use super::rooms::{Room, Selection};
use super::ServerInner;

/// A boxed future, as the [`Adapter`] methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Which sockets an operation reaches: those in any of `rooms` (all when empty), minus
/// those in any of `except` (a socket id names the room of that one socket), with flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastOptions {
    /// Rooms to reach (none: every socket of the namespace).
    pub rooms: Vec<Room>,
    /// Rooms whose sockets are left out.
    pub except: Vec<Room>,
    /// How to deliver.
    pub flags: BroadcastFlags,
}

/// How a broadcast is delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BroadcastFlags {
    /// Dropped for each recipient that cannot take it at once.
    pub volatile: bool,
    /// This server's sockets only: nothing goes to the adapter.
    pub local: bool,
    /// How long to wait for acknowledgements.
    pub timeout: Option<Duration>,
}

impl BroadcastOptions {
    pub(crate) fn selection(&self) -> Selection {
        Selection {
            rooms: self.rooms.clone(),
            except_rooms: self.except.clone(),
            except_socket: None,
        }
    }
}

/// A packet as the default parser writes it: the text (no Engine.IO `4`) and its
/// attachments. The adapter transcodes it for the wire; it is shared, not copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPacket {
    /// The packet text, e.g. `2["news",1]` or `51-["file",{"_placeholder":true,"num":0}]`.
    pub text: Bytes,
    /// The binary attachments, in placeholder order.
    pub attachments: Vec<Bytes>,
}

/// What another server (or this one) tells about one of its sockets, as Node's
/// `fetchSockets()` gives it: id, handshake, rooms and data.
#[derive(Debug, Clone, PartialEq)]
pub struct SocketSnapshot {
    /// The socket id.
    pub id: String,
    /// The handshake, as the Node server's `socket.handshake` object (`headers`, `time`,
    /// `address`, `xdomain`, `secure`, `issued`, `url`, `query`, `auth`).
    pub handshake: serde_json::Value,
    /// The rooms the socket is in, its own id among them.
    pub rooms: Vec<Room>,
    /// The socket's shared data ([`SocketRef::set_shared_data`](super::SocketRef::set_shared_data)),
    /// Node's `socket.data`.
    pub data: serde_json::Value,
}

/// Acknowledgements gathered from other servers for one broadcast.
#[derive(Debug, Default)]
pub struct RemoteAcks {
    /// Each acknowledgement, as an ACK packet whose first argument is the client's answer.
    pub acks: Vec<Packet>,
    /// How many clients the other servers reached (as far as they reported).
    pub expected: usize,
    /// Whether every other server reported its count and every such client answered
    /// before the timeout.
    pub complete: bool,
}

/// Why a cross-server operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// Not every server answered within the adapter's request timeout.
    #[error("timeout reached: {received} of {expected} servers answered {operation}")]
    Timeout {
        /// The operation.
        operation: &'static str,
        /// Answers received.
        received: usize,
        /// Answers expected.
        expected: usize,
    },
    /// The adapter could not reach the other servers (e.g. the message broker is down).
    #[error("adapter unavailable: {0}")]
    Unavailable(String),
    /// A value could not be encoded for the wire.
    #[error("cannot encode for other servers: {0}")]
    Encode(String),
}

/// Answers a server-side event that another server sent with an acknowledgement.
pub struct ServerAck(Box<dyn FnOnce(serde_json::Value) + Send>);

impl std::fmt::Debug for ServerAck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerAck")
    }
}

impl ServerAck {
    /// An acknowledgement that calls `answer` with the value (for adapters).
    pub fn new(answer: impl FnOnce(serde_json::Value) + Send + 'static) -> Self {
        ServerAck(Box::new(answer))
    }

    /// Answers the sending server with `value`.
    pub fn send(self, value: serde_json::Value) {
        (self.0)(value)
    }
}

/// A handler of server-side events ([`SocketIo::on_server_side_emit`](super::SocketIo::on_server_side_emit)):
/// the event's arguments, and the acknowledgement when the sender waits for one.
pub type ServerSideHandler = Arc<dyn Fn(Vec<serde_json::Value>, Option<ServerAck>) + Send + Sync>;

/// The cross-process part of a Socket.IO server.
///
/// Each method is called after (or instead of, for answers) the local part, once per
/// operation, with the namespace's name. Methods that send return at once (they queue);
/// the futures of those that wait for other servers end after at most the adapter's
/// request timeout. The local side of operations coming from other servers goes through
/// the [`LocalNode`] given to [`init`](Adapter::init).
pub trait Adapter: Send + Sync + 'static {
    /// Called once, when the server is built: the handle through which operations from
    /// other servers reach this one's sockets.
    fn init(&self, local: LocalNode);

    /// A namespace now exists on this server (called for `/` and every namespace
    /// created after): start receiving its traffic.
    fn add_namespace(&self, nsp: &str);

    /// Sends a broadcast to the other servers.
    fn broadcast(&self, nsp: &str, packet: &EncodedPacket, opts: &BroadcastOptions);

    /// Sends a broadcast whose clients answer, and gathers the other servers' answers
    /// until all came or `timeout` passed.
    fn broadcast_with_ack(
        &self,
        nsp: &str,
        packet: &EncodedPacket,
        opts: &BroadcastOptions,
        timeout: Duration,
    ) -> BoxFuture<'static, RemoteAcks>;

    /// The sockets other servers hold that `opts` selects.
    fn fetch_sockets(
        &self,
        nsp: &str,
        opts: &BroadcastOptions,
    ) -> BoxFuture<'static, Result<Vec<SocketSnapshot>, AdapterError>>;

    /// Makes the sockets other servers hold that `opts` selects join `rooms`.
    fn add_sockets(&self, nsp: &str, opts: &BroadcastOptions, rooms: &[Room]);

    /// Makes the sockets other servers hold that `opts` selects leave `rooms`.
    fn del_sockets(&self, nsp: &str, opts: &BroadcastOptions, rooms: &[Room]);

    /// Disconnects the sockets other servers hold that `opts` selects (`close`: their
    /// whole connection).
    fn disconnect_sockets(&self, nsp: &str, opts: &BroadcastOptions, close: bool);

    /// Sends a server-side event to the other servers.
    fn server_side_emit(&self, nsp: &str, event: &str, args: &[serde_json::Value]);

    /// Sends a server-side event and gathers one answer from each other server.
    fn server_side_emit_with_ack(
        &self,
        nsp: &str,
        event: &str,
        args: &[serde_json::Value],
    ) -> BoxFuture<'static, Result<Vec<serde_json::Value>, AdapterError>>;

    /// The rooms of the namespace on the other servers.
    fn all_rooms(&self, nsp: &str) -> BoxFuture<'static, Result<Vec<Room>, AdapterError>>;
}

/// An acknowledgement a local socket owes: resolves to the ACK packet, or `None` when the
/// socket left, its timeout passed or it could not be sent.
#[derive(Debug)]
pub struct PendingAck(Option<oneshot::Receiver<Result<Packet, AckError>>>);

impl Future for PendingAck {
    type Output = Option<Packet>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Packet>> {
        match &mut self.0 {
            None => Poll::Ready(None),
            Some(rx) => Pin::new(rx).poll(cx).map(|r| r.ok().and_then(Result::ok)),
        }
    }
}

/// This server, as an adapter sees it: applies operations that came from other servers
/// to this server's sockets. Holds the server weakly; on a server that is gone, every
/// method does nothing.
#[derive(Clone)]
pub struct LocalNode {
    server: Weak<ServerInner>,
}

impl std::fmt::Debug for LocalNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalNode")
    }
}

impl LocalNode {
    pub(crate) fn new(server: &Arc<ServerInner>) -> Self {
        LocalNode {
            server: Arc::downgrade(server),
        }
    }

    fn namespace(&self, nsp: &str) -> Option<Arc<NamespaceInner>> {
        let server = self.server.upgrade()?;
        let name = Namespace::new(nsp).ok()?;
        server.registry.find(&name)
    }

    /// Whether this server has the namespace `nsp` and, in it, the room `room` (a
    /// socket id is the room of that socket).
    pub fn has_room(&self, nsp: &str, room: &str) -> bool {
        self.namespace(nsp)
            .is_some_and(|ns| ns.members().has_room(room))
    }

    /// Delivers `packet` (an EVENT) to this server's sockets that `opts` selects.
    pub fn broadcast(&self, nsp: &str, packet: &Packet, opts: &BroadcastOptions) {
        let Some(ns) = self.namespace(nsp) else {
            return;
        };
        let encoded = Encoder::new().encode(packet);
        if ns.recovery.is_some() {
            // Recorded here too, with this server's offset: a client that comes back to
            // this server gets what other servers sent its rooms.
            let encoded = super::recovery::Encoded {
                text: bytes::BytesMut::from(&encoded.text[..]),
                attachments: encoded.attachments,
            };
            super::emit::publish(&ns, &opts.selection(), encoded, opts.flags.volatile);
            return;
        }
        let frame = Arc::new(Frame::new(encoded.text, encoded.attachments));
        super::emit::deliver(&ns, &opts.selection(), &frame, opts.flags.volatile);
    }

    /// Sends `packet` to this server's sockets that `opts` selects, each with an ack
    /// id of its own: one [`PendingAck`] per socket reached.
    pub fn broadcast_with_ack(
        &self,
        nsp: &str,
        packet: &Packet,
        opts: &BroadcastOptions,
        timeout: Duration,
    ) -> Vec<PendingAck> {
        let Some(ns) = self.namespace(nsp) else {
            return Vec::new();
        };
        super::emit::send_with_acks(&ns, &opts.selection(), packet, Some(timeout), opts.flags)
            .into_iter()
            .map(|(_, answer)| PendingAck(answer.ok()))
            .collect()
    }

    /// This server's sockets that `opts` selects.
    pub fn fetch_sockets(&self, nsp: &str, opts: &BroadcastOptions) -> Vec<SocketSnapshot> {
        let Some(ns) = self.namespace(nsp) else {
            return Vec::new();
        };
        super::emit::select(&ns, &opts.selection())
            .iter()
            .map(|s| s.snapshot())
            .collect()
    }

    /// The ids of this server's sockets in any of `rooms` (all when empty).
    pub fn socket_ids(&self, nsp: &str, rooms: &[Room]) -> Vec<String> {
        let Some(ns) = self.namespace(nsp) else {
            return Vec::new();
        };
        let selection = Selection {
            rooms: rooms.to_vec(),
            ..Selection::default()
        };
        super::emit::select(&ns, &selection)
            .iter()
            .map(|s| s.id().to_string())
            .collect()
    }

    /// Makes this server's sockets that `opts` selects join `rooms`.
    pub fn add_sockets(&self, nsp: &str, opts: &BroadcastOptions, rooms: &[Room]) {
        if let Some(ns) = self.namespace(nsp) {
            super::emit::join_rooms(&ns, &opts.selection(), rooms, true);
        }
    }

    /// Makes this server's sockets that `opts` selects leave `rooms`.
    pub fn del_sockets(&self, nsp: &str, opts: &BroadcastOptions, rooms: &[Room]) {
        if let Some(ns) = self.namespace(nsp) {
            super::emit::join_rooms(&ns, &opts.selection(), rooms, false);
        }
    }

    /// Disconnects this server's sockets that `opts` selects.
    pub fn disconnect_sockets(&self, nsp: &str, opts: &BroadcastOptions, close: bool) {
        if let Some(ns) = self.namespace(nsp) {
            for socket in super::emit::select(&ns, &opts.selection()) {
                socket.disconnect_or_close(close);
            }
        }
    }

    /// The rooms of the namespace on this server, each socket's own id among them (as
    /// the Node server counts them).
    pub fn rooms(&self, nsp: &str) -> Vec<Room> {
        self.namespace(nsp)
            .map(|ns| ns.members().room_names())
            .unwrap_or_default()
    }

    /// Runs this server's handler of the server-side event `event`, if any (with `ack`
    /// when the sender waits for an answer; a missing handler never answers).
    pub fn server_side_emit(
        &self,
        nsp: &str,
        event: &str,
        args: Vec<serde_json::Value>,
        ack: Option<ServerAck>,
    ) {
        if let Some(handler) = self.namespace(nsp).and_then(|ns| ns.server_handler(event)) {
            handler(args, ack);
        }
    }
}

#[cfg(test)]
#[path = "adapter_tests.rs"]
mod tests;
