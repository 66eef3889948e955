//! A socket: one client in one namespace.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde::de::DeserializeOwned;
use serde::Serialize;
use socketio_core::recovery::Pid;
use socketio_core::{DisconnectReason, SocketId};
use socketio_parser::{Namespace, RawArgs};

use super::emit::{BroadcastOperator, SocketEmitter};
use super::error::{AckError, EmitError};
use super::handler::{DisconnectHandler, Erased, ErasedEventHandler, EventHandler};
use super::handshake::Handshake;
use super::namespace::{NamespaceInner, NamespaceRef};
use super::outbound::{Command, Outbound};
use super::rooms::Room;

/// The handlers a socket registered.
#[derive(Default)]
pub(crate) struct SocketHandlers {
    /// By event name. A list, not a map: a socket registers a handful, which
    /// a scan finds as fast as a hash would, and each socket holds its own
    /// (a map's table was the largest part of a socket's memory).
    pub(crate) events: Vec<(Cow<'static, str>, Arc<dyn ErasedEventHandler>)>,
    pub(crate) any: Option<Arc<dyn ErasedEventHandler>>,
    pub(crate) disconnect: Vec<Arc<dyn DisconnectHandler>>,
}

impl SocketHandlers {
    /// The handler of event `name`.
    pub(crate) fn event(&self, name: &str) -> Option<&Arc<dyn ErasedEventHandler>> {
        self.events
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, handler)| handler)
    }
}

/// What the application stored on a socket. Shared, not copied, by a socket restored
/// after a disconnection (as the reference server hands the same `socket.data` over).
#[derive(Default)]
pub(crate) struct SocketData {
    /// Typed data, by type: a list, as a socket holds a few types at most (and a map inline
    /// was 48 bytes of every socket, most of which store nothing).
    extensions: Mutex<Vec<(TypeId, Box<dyn Any + Send + Sync>)>>,
    /// The data other servers see (Node's `socket.data`).
    shared: Mutex<serde_json::Value>,
}

impl std::fmt::Debug for SocketData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SocketData")
    }
}

/// A socket's part in connection state recovery (when the server has it on).
pub(crate) struct SocketRecovery {
    pub(crate) pid: Pid,
    pub(crate) recovered: bool,
    /// The log's head when the socket was admitted (see `KeptSession::joined_at`).
    pub(crate) joined_at: AtomicU64,
}

pub(crate) struct SocketInner {
    pub(crate) id: SocketId,
    pub(crate) ns: Arc<NamespaceInner>,
    pub(crate) outbound: Arc<Outbound>,
    pub(crate) handshake: Handshake,
    pub(crate) handlers: Mutex<SocketHandlers>,
    /// Made when first used: most sockets store nothing, and an idle connection pays
    /// for every byte it holds.
    data: OnceLock<Arc<SocketData>>,
    pub(crate) connected: AtomicBool,
    /// Boxed: off by default, and then one pointer inline.
    pub(crate) recovery: Option<Box<SocketRecovery>>,
}

/// A handle on a socket: one client in one namespace. Cheap to clone; every
/// handler gets one.
#[derive(Clone)]
pub struct SocketRef(pub(crate) Arc<SocketInner>);

impl std::fmt::Debug for SocketRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketRef")
            .field("id", &self.0.id)
            .field("namespace", &self.0.ns.name)
            .finish_non_exhaustive()
    }
}

impl SocketRef {
    #[cfg(test)]
    pub(crate) fn new(
        id: SocketId,
        ns: Arc<NamespaceInner>,
        outbound: Arc<Outbound>,
        handshake: Handshake,
    ) -> Self {
        Self::with_state(id, ns, outbound, handshake, None, None)
    }

    /// A socket with data of its own or restored, and its recovery state.
    pub(crate) fn with_state(
        id: SocketId,
        ns: Arc<NamespaceInner>,
        outbound: Arc<Outbound>,
        handshake: Handshake,
        data: Option<Arc<SocketData>>,
        recovery: Option<SocketRecovery>,
    ) -> Self {
        SocketRef(Arc::new(SocketInner {
            id,
            ns,
            outbound,
            handshake,
            handlers: Mutex::new(SocketHandlers::default()),
            data: data.map(OnceLock::from).unwrap_or_default(),
            connected: AtomicBool::new(false),
            recovery: recovery.map(Box::new),
        }))
    }

    /// The socket's data, made if it had none.
    pub(crate) fn data_handle(&self) -> &Arc<SocketData> {
        self.0.data.get_or_init(Arc::default)
    }

    /// The socket's id: public, unrelated to the Engine.IO session id.
    pub fn id(&self) -> SocketId {
        self.0.id
    }

    /// The namespace's name.
    pub fn namespace(&self) -> &str {
        self.0.ns.name.as_str()
    }

    pub(crate) fn namespace_name(&self) -> &Namespace {
        &self.0.ns.name
    }

    /// How the client connected: headers, query, address, and the `auth`
    /// payload of its CONNECT.
    pub fn handshake(&self) -> &Handshake {
        &self.0.handshake
    }

    /// Whether the socket is connected (middleware passed, not yet disconnected).
    pub fn connected(&self) -> bool {
        self.0.connected.load(Ordering::Acquire)
    }

    /// Whether this socket is one that dropped for a moment and came back with
    /// connection state recovery: the same id, rooms and data, and the packets it
    /// missed sent before anything new (as `socket.recovered` in the reference server).
    /// Always `false` when the server has recovery off.
    pub fn recovered(&self) -> bool {
        self.0.recovery.as_ref().is_some_and(|r| r.recovered)
    }

    // ----- handlers -----------------------------------------------------------------

    /// Handles the event `event` with `handler` (replacing any earlier one).
    /// See [`EventHandler`](super::EventHandler) for what a handler may take.
    /// Events of one socket are handled one after the other, in order.
    pub fn on<T: 'static>(
        &self,
        event: impl Into<Cow<'static, str>>,
        handler: impl EventHandler<T>,
    ) {
        let event = event.into();
        let handler = Erased::shared(handler);
        let mut handlers = self.handlers();
        match handlers.events.iter_mut().find(|(name, _)| *name == event) {
            Some((_, earlier)) => *earlier = handler,
            None => handlers.events.push((event, handler)),
        }
    }

    /// A catch-all: runs for every event, before the event's own handler (as
    /// `socket.onAny` in the reference server). Take [`EventName`](super::EventName) to
    /// know which event it is.
    pub fn on_any<T: 'static>(&self, handler: impl EventHandler<T>) {
        let handler = Erased::shared(handler);
        self.handlers().any = Some(handler);
    }

    /// Runs `handler` when the socket leaves its namespace, with the reason.
    pub fn on_disconnect(&self, handler: impl DisconnectHandler) {
        self.handlers().disconnect.push(Arc::new(handler));
    }

    fn handlers(&self) -> std::sync::MutexGuard<'_, SocketHandlers> {
        self.0
            .handlers
            .lock()
            .expect("handler registration never panics while locked")
    }

    // ----- emitting -----------------------------------------------------------------

    /// Emits `event` to this socket. `data` is one argument, or several as a
    /// tuple (`&("a", 1)`), or none (`&()`); binary travels as
    /// [`Binary`](socketio_parser::Binary) values.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.emitter().emit(event, data)
    }

    /// Emits arguments received elsewhere without parsing them (see [`RawArgs`]).
    pub fn emit_raw(&self, event: &str, args: &RawArgs) -> Result<(), EmitError> {
        self.emitter().emit_raw(event, args)
    }

    /// Emits `event` and waits for the client's acknowledgement, deserialized
    /// into `R` (the ack's arguments as a sequence: a tuple, a `Vec`...). Set
    /// a timeout with [`timeout`](SocketRef::timeout).
    pub async fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<R, AckError> {
        self.emitter().emit_with_ack(event, data).await
    }

    /// This socket, with a timeout for acknowledgements.
    pub fn timeout(&self, timeout: std::time::Duration) -> SocketEmitter {
        self.emitter().timeout(timeout)
    }

    /// This socket, for an emit that is dropped rather than queued when the
    /// client cannot take it at once.
    pub fn volatile(&self) -> SocketEmitter {
        self.emitter().volatile()
    }

    /// The namespace this socket is in, as `socket.nsp` in the reference
    /// server. `socket.nsp().to(room)` reaches everyone in `room`, this
    /// socket included, where [`to`](SocketRef::to) leaves it out: what a chat
    /// room wants, without keeping a clone of the [`SocketIo`](super::SocketIo)
    /// in every handler.
    pub fn nsp(&self) -> NamespaceRef {
        NamespaceRef::from_static(self.0.ns.clone())
    }

    /// Everyone in `room`, except this socket.
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// Everyone in the namespace, except this socket.
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.0.ns.clone()).except_socket(self.0.id)
    }

    fn emitter(&self) -> SocketEmitter {
        SocketEmitter::new(self.clone())
    }

    /// Queues a message for this socket (the emit path's last step).
    pub(crate) fn push(&self, command: Command, volatile: bool) -> Result<(), EmitError> {
        if !self.connected() {
            return Err(EmitError::Disconnected);
        }
        match self
            .0
            .outbound
            .push_message(command, volatile, &self.0.connected)
        {
            Ok(true) => Ok(()),
            Ok(false) => {
                tracing::trace!(socket = %self.0.id, namespace = %self.0.ns.name, "volatile emit dropped");
                Ok(())
            }
            Err(e) => {
                if matches!(e, EmitError::BufferFull) {
                    tracing::debug!(
                        socket = %self.0.id,
                        namespace = %self.0.ns.name,
                        "emit refused: the connection's buffer is full"
                    );
                }
                Err(e)
            }
        }
    }

    // ----- rooms --------------------------------------------------------------------

    /// Joins `room`.
    pub fn join(&self, room: impl Into<Room>) {
        self.0.ns.members_mut().join(self.0.id, &room.into());
    }

    /// Leaves `room`.
    pub fn leave(&self, room: &str) {
        self.0.ns.members_mut().leave(self.0.id, room);
    }

    /// The rooms this socket is in, its own id first.
    pub fn rooms(&self) -> Vec<Room> {
        self.0.ns.members().rooms_of(self.0.id)
    }

    // ----- leaving ------------------------------------------------------------------

    /// Makes the socket leave its namespace (the client gets a DISCONNECT and
    /// does not reconnect by itself); its connection stays for other namespaces.
    pub fn disconnect(&self) {
        self.0.outbound.push_control(Command::Disconnect {
            namespace: self.0.ns.name.clone(),
        });
    }

    /// Leaves the namespace, or (`close`) closes the whole connection.
    pub(crate) fn disconnect_or_close(&self, close: bool) {
        if close {
            self.close_connection();
        } else {
            self.disconnect();
        }
    }

    /// Closes the whole connection: every socket of this client, in every
    /// namespace, disconnects (reason `server namespace disconnect`).
    pub fn close_connection(&self) {
        self.0.outbound.push_control(Command::Close {
            reason: DisconnectReason::ServerNamespaceDisconnect,
        });
    }

    // ----- data ---------------------------------------------------------------------

    /// Stores a value of type `T` on the socket (replacing the previous one):
    /// per-socket typed data, e.g. the user a middleware authenticated.
    pub fn insert_data<T: Send + Sync + 'static>(&self, value: T) {
        let mut data = self.extensions();
        let value: Box<dyn Any + Send + Sync> = Box::new(value);
        match data.iter_mut().find(|(t, _)| *t == TypeId::of::<T>()) {
            Some((_, earlier)) => *earlier = value,
            None => data.push((TypeId::of::<T>(), value)),
        }
    }

    /// A clone of the stored value of type `T`, if any.
    pub fn data<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.extensions()
            .iter()
            .find(|(t, _)| *t == TypeId::of::<T>())
            .and_then(|(_, v)| v.downcast_ref::<T>())
            .cloned()
    }

    /// Removes and returns the stored value of type `T`.
    pub fn remove_data<T: Send + Sync + 'static>(&self) -> Option<T> {
        let mut data = self.extensions();
        let at = data.iter().position(|(t, _)| *t == TypeId::of::<T>())?;
        data.swap_remove(at).1.downcast::<T>().ok().map(|b| *b)
    }

    /// Sets the data other servers see when they fetch this socket (Node's
    /// `socket.data`; `null` until set). Typed data ([`insert_data`](Self::insert_data))
    /// stays on this server.
    pub fn set_shared_data(&self, value: serde_json::Value) {
        *self
            .data_handle()
            .shared
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = value;
    }

    /// The data set with [`set_shared_data`](Self::set_shared_data).
    pub fn shared_data(&self) -> serde_json::Value {
        self.data_handle()
            .shared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What other servers see of this socket.
    pub(crate) fn snapshot(&self) -> super::adapter::SocketSnapshot {
        super::adapter::SocketSnapshot {
            id: self.id().to_string(),
            handshake: self.0.handshake.to_json(),
            rooms: self.rooms(),
            data: self.shared_data(),
        }
    }

    fn extensions(&self) -> std::sync::MutexGuard<'_, Vec<(TypeId, Box<dyn Any + Send + Sync>)>> {
        // A panicking `Clone` of a stored value leaves the list itself whole.
        self.data_handle()
            .extensions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl PartialEq for SocketRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

#[cfg(test)]
impl SocketRef {
    /// A socket of `ns` with an empty handshake and a small queue, for unit tests.
    pub(crate) fn for_test(id: SocketId, ns: Arc<NamespaceInner>) -> SocketRef {
        let request = Arc::new(crate::engine::HandshakeRequest {
            sid: engineio::Sid::from_random_bytes([1; 15]),
            transport: engineio::TransportKind::WebSocket,
            query: String::new(),
            headers: Default::default(),
            address: None,
        });
        let outbound = Arc::new(Outbound::new(crate::engine::TestSignal::new(), 8, 1024));
        SocketRef::new(id, ns, outbound, Handshake::new(request, None))
    }
}

#[cfg(test)]
mod tests {
    use socketio_parser::Namespace;

    use super::*;
    use crate::socketio::namespace::Registry;

    fn socket() -> SocketRef {
        SocketRef::for_test(
            SocketId::from_random_bytes([2; 15]),
            Registry::default().of(Namespace::main()),
        )
    }

    #[test]
    fn a_second_handler_for_an_event_replaces_the_first() {
        let socket = socket();
        socket.on("a", || async {});
        socket.on(String::from("b"), || async {});
        let first = socket.handlers().event("a").cloned().unwrap();
        socket.on("a", || async {});
        let handlers = socket.handlers();
        assert_eq!(handlers.events.len(), 2);
        let second = handlers.event("a").unwrap();
        assert!(!Arc::ptr_eq(&first, second), "replaced");
        assert!(handlers.event("b").is_some());
        assert!(handlers.event("c").is_none());
    }

    #[test]
    fn data_is_kept_by_type() {
        #[derive(Clone, Debug, PartialEq)]
        struct User(&'static str);
        let socket = socket();
        assert_eq!(socket.data::<User>(), None);
        socket.insert_data(User("ann"));
        socket.insert_data(7u32);
        socket.insert_data(User("bob"));
        assert_eq!(socket.data::<User>(), Some(User("bob")), "replaced");
        assert_eq!(socket.data::<u32>(), Some(7));
        assert_eq!(socket.remove_data::<u32>(), Some(7));
        assert_eq!(socket.remove_data::<u32>(), None);
        assert_eq!(socket.data::<User>(), Some(User("bob")));
    }

    #[test]
    fn a_panicking_clone_leaves_the_data_usable() {
        struct Bad;
        impl Clone for Bad {
            fn clone(&self) -> Self {
                panic!("clone refused")
            }
        }
        let socket = socket();
        socket.insert_data(Bad);
        socket.insert_data(3u8);
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| socket.data::<Bad>()));
        assert!(
            caught.is_err(),
            "the clone panicked while the data was locked"
        );
        assert_eq!(socket.data::<u8>(), Some(3));
        assert!(socket.remove_data::<Bad>().is_some());
    }
}
