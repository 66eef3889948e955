//! The Socket.IO server API: namespaces, sockets, events, acknowledgements,
//! rooms, broadcasts and middleware, on top of the Engine.IO driver.
//!
//! ```no_run
//! use server_adapter::socketio::{Data, SocketIo, SocketRef};
//! use server_adapter::Server;
//!
//! # async fn run() -> std::io::Result<()> {
//! let io = SocketIo::builder().build();
//! io.of("/").on_connection(|socket: SocketRef| async move {
//!     socket.on("chat message", |socket: SocketRef, Data(msg): Data<String>| async move {
//!         let _ = socket.broadcast().emit("chat message", &msg);
//!     });
//! });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! Server::new().mount(io).serve(listener).await
//! # }
//! ```
//!
//! The protocol's decisions (which namespace a client joined, ack ids and
//! their deadlines, disconnect reasons) are made by [`socketio_core`]; this
//! module runs handlers and moves bytes.
//!
//! # Connection state recovery
//!
//! Off by default; [`SocketIoBuilder::connection_state_recovery`] turns it on: a
//! client that drops for a moment comes back with its socket id, rooms and data, and
//! the events it missed, in order, before anything new ([`SocketRef::recovered`]).
//! The rules and the memory policy are in [`socketio_core::recovery`].
//!
//! # Buffers
//!
//! Each connection has one bounded queue for what other tasks send it
//! ([`SocketIoBuilder::max_buffered`]): an emit past it is refused with
//! [`EmitError::BufferFull`] (the sender decides: drop, retry, or
//! disconnect the slow client); a volatile emit is dropped instead, and also
//! whenever the client cannot take it at once.

mod ack;
mod adapter;
mod connection;
mod emit;
mod error;
mod handler;
mod handshake;
mod namespace;
mod outbound;
mod recovery;
mod rooms;
mod socket;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use socketio_parser::Namespace;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

pub use ack::AckSender;
pub use adapter::{
    Adapter, AdapterError, BoxFuture, BroadcastFlags, BroadcastOptions, EncodedPacket, LocalNode,
    PendingAck, RemoteAcks, ServerAck, ServerSideHandler, SocketSnapshot,
};
pub use emit::{BroadcastOperator, ClusterAcks, RemoteSocket, SocketEmitter};
pub use error::{AckError, ConnectError, EmitError};
pub use handler::{
    Args, Bin, ConnectHandler, Data, DisconnectHandler, EventContext, EventHandler, EventName,
    FromEvent, Middleware, TryData,
};
pub use handshake::Handshake;
pub use namespace::NamespaceRef;
pub use rooms::Room;
pub use socket::SocketRef;
pub use socketio_core::recovery::RecoveryConfig;
pub use socketio_core::{DisconnectReason, Parser, SocketId};
pub use socketio_parser::{Binary, Map, RawArgs, Spread, Value};

use crate::engine::EngineCore;
use connection::SioFactory;
use namespace::Registry;

/// Bounds of each connection's outbound queue.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_backlog: usize,
    pub(crate) max_backlog_bytes: usize,
}

/// What all connections of a Socket.IO server share.
pub(crate) struct ServerInner {
    pub(crate) registry: Registry,
    pub(crate) core: socketio_core::Config,
    pub(crate) limits: Limits,
    pub(crate) recovery: Option<Arc<recovery::Recovery>>,
    /// The counts of what happens once per socket (see [`crate::metrics`]).
    pub(crate) stats: crate::metrics::SioStats,
    /// Writes what emits queue on idle connections' write lanes (see `engine::lane`);
    /// started on the runtime of the first connection that opens one.
    pub(crate) flusher: std::sync::OnceLock<Arc<crate::engine::Flusher>>,
}

impl ServerInner {
    /// The flusher, started on the current runtime when first needed.
    pub(crate) fn flusher(&self) -> &Arc<crate::engine::Flusher> {
        self.flusher.get_or_init(crate::engine::Flusher::start)
    }
}

impl Drop for ServerInner {
    fn drop(&mut self) {
        if let Some(flusher) = self.flusher.get() {
            flusher.stop();
        }
    }
}

/// A Socket.IO server: its namespaces and the engine that carries them.
/// Cheap to clone; mount it on a [`Server`](crate::Server).
pub struct SocketIo<Io = TcpStream> {
    inner: Arc<ServerInner>,
    engine: Arc<EngineCore<SioFactory, Io>>,
}

impl<Io> Clone for SocketIo<Io> {
    fn clone(&self) -> Self {
        SocketIo {
            inner: self.inner.clone(),
            engine: self.engine.clone(),
        }
    }
}

impl<Io> std::fmt::Debug for SocketIo<Io> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIo")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl SocketIo<TcpStream> {
    /// A builder with the reference server's defaults (path `/socket.io/`).
    pub fn builder() -> SocketIoBuilder {
        SocketIoBuilder::default()
    }
}

impl<Io> SocketIo<Io>
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// The static namespace `name`, created if needed (`/` always exists).
    ///
    /// # Panics
    /// If `name` is not a valid namespace (it must start with `/` and hold no
    /// `,`): a programming error, as with a bad route in a web framework.
    pub fn of(&self, name: &str) -> NamespaceRef {
        let name =
            Namespace::new(name).unwrap_or_else(|e| panic!("invalid namespace {name:?}: {e}"));
        NamespaceRef::from_static(self.inner.registry.of(name))
    }

    /// A dynamic namespace: every name `matches` accepts gets a namespace of
    /// its own, sharing this one's middleware and connect handler. Static
    /// namespaces are tried first.
    pub fn of_dynamic(
        &self,
        matches: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> NamespaceRef {
        NamespaceRef::from_dynamic(self.inner.registry.of_dynamic(Box::new(matches)))
    }

    /// Emits to every socket of the main namespace `/`.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.of("/").emit(event, data)
    }

    /// The sockets of `/` in `room`.
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.of("/").to(room)
    }

    /// The sockets of `/` not in `room`.
    pub fn except(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.of("/").except(room)
    }

    /// The sockets of `/`.
    pub fn sockets(&self) -> Vec<SocketRef> {
        self.of("/").sockets()
    }

    /// The sockets of `/` on this server only (nothing goes to other servers).
    pub fn local(&self) -> BroadcastOperator {
        self.of("/").local()
    }

    /// The sockets of `/` on every server: id, handshake, rooms and data.
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, AdapterError> {
        self.of("/").fetch_sockets().await
    }

    /// Makes every socket of `/`, on every server, join `room`.
    pub fn sockets_join(&self, room: impl Into<Room>) {
        self.of("/").sockets_join(room);
    }

    /// Makes every socket of `/`, on every server, leave `room`.
    pub fn sockets_leave(&self, room: impl Into<Room>) {
        self.of("/").sockets_leave(room);
    }

    /// Disconnects every socket of `/`, on every server (`close`: the connections too).
    pub fn disconnect_sockets(&self, close: bool) {
        self.of("/").disconnect_sockets(close);
    }

    /// The rooms of `/` on every server, socket ids among them.
    pub async fn all_rooms(&self) -> Result<Vec<Room>, AdapterError> {
        self.of("/").all_rooms().await
    }

    /// Sends a server-side event to the other servers (of namespace `/`).
    pub fn server_side_emit(&self, event: &str, args: &[serde_json::Value]) {
        self.of("/").server_side_emit(event, args);
    }

    /// Sends a server-side event and gathers each other server's answer.
    pub async fn server_side_emit_with_ack(
        &self,
        event: &str,
        args: &[serde_json::Value],
    ) -> Result<Vec<serde_json::Value>, AdapterError> {
        self.of("/").server_side_emit_with_ack(event, args).await
    }

    /// Handles a server-side event from other servers (see
    /// [`NamespaceRef::on_server_side_emit`]).
    pub fn on_server_side_emit(
        &self,
        event: &str,
        handler: impl Fn(Vec<serde_json::Value>, Option<ServerAck>) + Send + Sync + 'static,
    ) {
        self.of("/").on_server_side_emit(event, handler);
    }

    /// The parser this server's packets travel in (see [`SocketIoBuilder::parser`]).
    pub fn parser(&self) -> Parser {
        self.inner.core.parser
    }

    /// How many Engine.IO connections are open.
    pub fn connections(&self) -> usize {
        self.engine.open_sessions()
    }

    /// A snapshot of the server's counts: connections by transport, sockets and rooms by
    /// namespace, messages and bytes each way, acks waiting and timed out, upgrades,
    /// refusals, closes and disconnects by reason, dropped volatile emits and buffer-full
    /// refusals (see [`crate::metrics`]). `metrics().to_prometheus()` is the text a
    /// `GET /metrics` answers. The counts are this process's, also with an adapter.
    pub fn metrics(&self) -> crate::metrics::Metrics {
        let (engine, sums) = self.engine.metrics();
        let stats = &self.inner.stats;
        crate::metrics::Metrics {
            engine,
            namespaces: self.inner.registry.metrics(),
            acks_waiting: sums.acks_waiting,
            acks_timed_out: stats.acks_timed_out(),
            volatile_dropped: sums.volatile_dropped,
            connect_refused: stats.connect_refusals(),
            disconnects: stats.disconnects(),
        }
    }

    /// Closes every connection (sockets get `server shutting down`, clients
    /// reconnect). [`ShutdownHandle::shutdown`](crate::ShutdownHandle) also
    /// stops accepting.
    pub async fn close(&self) {
        self.engine.shutdown_sessions().await;
    }

    /// Closes every connection as [`close`](Self::close) does, then waits until they are all
    /// gone (their close packets delivered) or `grace` has passed: what a graceful shutdown
    /// does for a server this crate does not run, e.g. in the future given to axum's
    /// `with_graceful_shutdown`, while the server still answers the long-polls that fetch
    /// their close packets.
    pub async fn shutdown(&self, grace: Duration) {
        self.engine.shutdown_within(grace).await;
    }
}

impl<Io> crate::server::IntoMount<Io> for SocketIo<Io>
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    fn into_mount(self) -> Arc<dyn crate::server::Mount<Io>> {
        Arc::new(self.engine)
    }
}

/// Settings of a [`SocketIo`] server.
pub struct SocketIoBuilder {
    engine: engineio::Config,
    core: socketio_core::Config,
    adapter: Option<Arc<dyn Adapter>>,
    recovery: Option<RecoveryConfig>,
}

impl std::fmt::Debug for SocketIoBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIoBuilder")
            .field("engine", &self.engine)
            .field("core", &self.core)
            .field("adapter", &self.adapter.is_some())
            .field("recovery", &self.recovery)
            .finish()
    }
}

impl Default for SocketIoBuilder {
    fn default() -> Self {
        SocketIoBuilder {
            engine: engineio::Config {
                path: "/socket.io/".to_owned(),
                ..engineio::Config::default()
            },
            core: socketio_core::Config::default(),
            adapter: None,
            recovery: None,
        }
    }
}

impl SocketIoBuilder {
    /// The path prefix (default `/socket.io/`).
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.engine.path = path.into();
        self
    }

    /// Time between heartbeats (default 25 s).
    #[must_use]
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.engine.ping_interval = interval;
        self
    }

    /// How long a pong may take (default 20 s).
    #[must_use]
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.engine.ping_timeout = timeout;
        self
    }

    /// How long an upgrade to WebSocket may take (default 10 s).
    #[must_use]
    pub fn upgrade_timeout(mut self, timeout: Duration) -> Self {
        self.engine.upgrade_timeout = timeout;
        self
    }

    /// Largest message and POST body in bytes (default 1 000 000).
    #[must_use]
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.engine.max_payload = bytes;
        self
    }

    /// How long a new connection may take to join a namespace (default 45 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.core.connect_timeout = timeout;
        self
    }

    /// How packets are written on the wire: [`Parser::Default`] (the official
    /// `socket.io-parser`), or `Parser::MsgPack` for clients built with
    /// `socket.io-msgpack-parser` (cargo feature `msgpack`, on by default). Every
    /// client of this server must use the same parser. Handlers do not change:
    /// arguments, [`Binary`] and [`Value`] read and write the same with either.
    #[must_use]
    pub fn parser(mut self, parser: Parser) -> Self {
        self.core.parser = parser;
        self
    }

    /// CORS for browser pages from other origins.
    #[must_use]
    pub fn cors(mut self, cors: engineio::Cors) -> Self {
        self.engine.cors = Some(cors);
        self
    }

    /// Which transports are allowed, and whether polling may upgrade.
    #[must_use]
    pub fn transports(mut self, transports: engineio::Transports, allow_upgrades: bool) -> Self {
        self.engine.transports = transports;
        self.engine.allow_upgrades = allow_upgrades;
        self
    }

    /// Most messages and bytes buffered per connection (default 1024 / 8 MiB).
    #[must_use]
    pub fn max_buffered(mut self, messages: usize, bytes: usize) -> Self {
        self.engine.outbox = engineio::OutboxLimits {
            max_packets: messages,
            max_bytes: bytes,
        };
        self
    }

    /// Most namespaces one connection may join at once (default 100); a CONNECT past it is
    /// refused with `{"message":"Too many namespaces"}` and the connection stays.
    #[must_use]
    pub fn max_namespaces_per_connection(mut self, namespaces: usize) -> Self {
        self.core.max_namespaces = namespaces;
        self
    }

    /// The whole Engine.IO configuration (the path and limits above included).
    #[must_use]
    pub fn engine_config(mut self, config: engineio::Config) -> Self {
        self.engine = config;
        self
    }

    /// Reaches the sockets of other server processes through `adapter` (e.g. the
    /// Redis adapter); without one, this server's rooms are all there is.
    #[must_use]
    pub fn adapter(mut self, adapter: impl Adapter) -> Self {
        self.adapter = Some(Arc::new(adapter));
        self
    }

    /// Same as [`adapter`](Self::adapter), for an adapter already shared.
    #[must_use]
    pub fn adapter_arc(mut self, adapter: Arc<dyn Adapter>) -> Self {
        self.adapter = Some(adapter);
        self
    }

    /// Turns on connection state recovery (off by default, as in the reference
    /// server): a client that drops for a moment (its transport closed or failed, a
    /// ping timeout, the server shutting down) and comes back within
    /// [`max_disconnection_duration`](RecoveryConfig::max_disconnection_duration) gets
    /// the same socket id, rooms and data, and every event it missed (each emit and
    /// broadcast without an acknowledgement and not volatile), in order, before
    /// anything new; [`SocketRef::recovered`] tells the handlers. Any other CONNECT gets
    /// a fresh socket. While it is on, those events carry their offset as their last
    /// argument, which is how the official client knows where it stands.
    ///
    /// ```
    /// use std::time::Duration;
    /// use server_adapter::socketio::{RecoveryConfig, SocketIo};
    ///
    /// let io = SocketIo::builder()
    ///     .connection_state_recovery(RecoveryConfig {
    ///         max_disconnection_duration: Duration::from_secs(30),
    ///         ..RecoveryConfig::default()
    ///     })
    ///     .build();
    /// # drop(io);
    /// ```
    ///
    /// Memory is bounded by the config's limits (kept sessions and recorded packets by
    /// count, bytes and age; the policy is on [`RecoveryConfig`]'s module,
    /// [`socketio_core::recovery`]): a recovery that would need something no longer
    /// kept gives a fresh socket, never a partial replay. With an
    /// [`adapter`](Self::adapter), recovery is local to each server: a client that comes
    /// back to another server starts afresh there.
    #[must_use]
    pub fn connection_state_recovery(mut self, config: RecoveryConfig) -> Self {
        self.recovery = Some(config);
        self
    }

    /// Builds the server.
    pub fn build(self) -> SocketIo<TcpStream> {
        self.build_for()
    }

    /// Builds the server for connections of another stream type.
    pub fn build_for<Io>(self) -> SocketIo<Io>
    where
        Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let mut core = self.core;
        // A packet is at most a text frame plus its attachments, each within max_payload.
        let parts = 1 + core.decoder.max_attachments;
        core.decoder = core
            .decoder
            .with_max_packet_size(self.engine.max_payload.saturating_mul(parts));
        let limits = Limits {
            max_backlog: self.engine.outbox.max_packets,
            max_backlog_bytes: self.engine.outbox.max_bytes,
        };
        let recovery = self
            .recovery
            .map(|config| Arc::new(recovery::Recovery::new(config)));
        let inner = Arc::new(ServerInner {
            registry: Registry::new(self.adapter.clone(), recovery.clone()),
            core,
            limits,
            recovery,
            stats: Default::default(),
            flusher: std::sync::OnceLock::new(),
        });
        if let Some(adapter) = &self.adapter {
            adapter.init(LocalNode::new(&inner));
        }
        inner.registry.of(Namespace::main());
        let engine = Arc::new(EngineCore::new(
            self.engine,
            SioFactory {
                server: inner.clone(),
            },
        ));
        SocketIo { inner, engine }
    }
}
