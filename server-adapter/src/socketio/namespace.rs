//! Namespaces: static ones by name, dynamic ones by a predicate on the name.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::Serialize;
use socketio_parser::Namespace;

use super::adapter::{Adapter, AdapterError, ServerSideHandler};
use super::emit::{BroadcastOperator, RemoteSocket};
use super::error::EmitError;
use super::handler::{ConnectHandler, Middleware};
use super::recovery::Recovery;
use super::rooms::{Members, Room};
use super::socket::SocketRef;

/// What runs when a socket asks to join: middleware in order, then the connect handler.
#[derive(Default)]
pub(crate) struct Handlers {
    pub(crate) on_connection: Option<Arc<dyn ConnectHandler>>,
    pub(crate) middleware: Vec<Arc<dyn Middleware>>,
}

/// Handlers shared by a dynamic namespace and its children; replaced whole
/// (copy on write), so a connecting socket reads them without holding a lock.
type SharedHandlers = Arc<RwLock<Arc<Handlers>>>;

pub(crate) struct NamespaceInner {
    pub(crate) name: Namespace,
    handlers: SharedHandlers,
    members: RwLock<Members>,
    /// The dynamic namespace this one was made for, if any.
    parent: Option<Arc<DynamicNamespace>>,
    /// The cross-process part, when the server has an adapter.
    pub(crate) cluster: Option<Arc<dyn Adapter>>,
    /// The server's connection state recovery, when it has it on.
    pub(crate) recovery: Option<Arc<Recovery>>,
    /// Handlers of server-side events, by event name.
    server_handlers: RwLock<Vec<(String, ServerSideHandler)>>,
}

impl std::fmt::Debug for NamespaceInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl NamespaceInner {
    fn new(
        name: Namespace,
        handlers: SharedHandlers,
        parent: Option<Arc<DynamicNamespace>>,
        cluster: Option<Arc<dyn Adapter>>,
        recovery: Option<Arc<Recovery>>,
    ) -> Arc<Self> {
        if let Some(cluster) = &cluster {
            cluster.add_namespace(name.as_str());
        }
        Arc::new(NamespaceInner {
            name,
            handlers,
            members: RwLock::new(Members::default()),
            parent,
            cluster,
            recovery,
            server_handlers: RwLock::new(Vec::new()),
        })
    }

    /// The handler of the server-side event `event`.
    pub(crate) fn server_handler(&self, event: &str) -> Option<ServerSideHandler> {
        read(&self.server_handlers)
            .iter()
            .find(|(name, _)| name == event)
            .map(|(_, h)| h.clone())
    }

    pub(crate) fn handlers(&self) -> Arc<Handlers> {
        read(&self.handlers).clone()
    }

    pub(crate) fn members(&self) -> RwLockReadGuard<'_, Members> {
        read(&self.members)
    }

    pub(crate) fn members_mut(&self) -> RwLockWriteGuard<'_, Members> {
        self.members.write().unwrap_or_else(|p| p.into_inner())
    }

    /// A socket left: a dynamic namespace left empty is forgotten (so clients
    /// naming ever new namespaces cannot grow the server without bound).
    pub(crate) fn remove_member(self: &Arc<Self>, socket: &SocketRef) {
        let now_empty = {
            let mut members = self.members_mut();
            members.remove(socket.id());
            members.len() == 0
        };
        if now_empty {
            if let Some(parent) = &self.parent {
                let mut children = parent.children.write().unwrap_or_else(|p| p.into_inner());
                if children
                    .get(self.name.as_str())
                    .is_some_and(|c| Arc::ptr_eq(c, self) && c.members().len() == 0)
                {
                    children.remove(self.name.as_str());
                }
            }
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn update(handlers: &SharedHandlers, change: impl FnOnce(&mut Handlers)) {
    let mut guard = handlers.write().unwrap_or_else(|p| p.into_inner());
    let mut next = Handlers {
        on_connection: guard.on_connection.clone(),
        middleware: guard.middleware.clone(),
    };
    change(&mut next);
    *guard = Arc::new(next);
}

/// Namespaces made on demand for names a predicate accepts.
pub(crate) struct DynamicNamespace {
    matcher: Box<dyn Fn(&str) -> bool + Send + Sync>,
    handlers: SharedHandlers,
    children: RwLock<HashMap<String, Arc<NamespaceInner>>>,
}

/// All namespaces of a server.
#[derive(Default)]
pub(crate) struct Registry {
    statics: RwLock<HashMap<String, Arc<NamespaceInner>>>,
    dynamics: RwLock<Vec<Arc<DynamicNamespace>>>,
    cluster: Option<Arc<dyn Adapter>>,
    recovery: Option<Arc<Recovery>>,
}

impl Registry {
    pub(crate) fn new(cluster: Option<Arc<dyn Adapter>>, recovery: Option<Arc<Recovery>>) -> Self {
        Registry {
            cluster,
            recovery,
            ..Registry::default()
        }
    }

    /// The namespace `name` if it exists (static, or a dynamic one's child), without
    /// creating one.
    pub(crate) fn find(&self, name: &Namespace) -> Option<Arc<NamespaceInner>> {
        if let Some(ns) = read(&self.statics).get(name.as_str()) {
            return Some(ns.clone());
        }
        read(&self.dynamics)
            .iter()
            .find_map(|d| read(&d.children).get(name.as_str()).cloned())
    }

    /// The static namespace `name`, created if needed.
    pub(crate) fn of(&self, name: Namespace) -> Arc<NamespaceInner> {
        if let Some(ns) = read(&self.statics).get(name.as_str()) {
            return ns.clone();
        }
        let mut statics = self.statics.write().unwrap_or_else(|p| p.into_inner());
        statics
            .entry(name.as_str().to_owned())
            .or_insert_with(|| {
                NamespaceInner::new(
                    name,
                    SharedHandlers::default(),
                    None,
                    self.cluster.clone(),
                    self.recovery.clone(),
                )
            })
            .clone()
    }

    /// A dynamic namespace for every name `matcher` accepts.
    pub(crate) fn of_dynamic(
        &self,
        matcher: Box<dyn Fn(&str) -> bool + Send + Sync>,
    ) -> Arc<DynamicNamespace> {
        let dynamic = Arc::new(DynamicNamespace {
            matcher,
            handlers: SharedHandlers::default(),
            children: RwLock::new(HashMap::new()),
        });
        self.dynamics
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(dynamic.clone());
        dynamic
    }

    /// Each namespace that exists now (static ones, and dynamic ones' children), by name,
    /// with its sockets and rooms on this server.
    pub(crate) fn metrics(&self) -> Vec<crate::metrics::NamespaceMetrics> {
        let mut all: Vec<Arc<NamespaceInner>> = read(&self.statics).values().cloned().collect();
        for dynamic in read(&self.dynamics).iter() {
            all.extend(read(&dynamic.children).values().cloned());
        }
        let mut metrics: Vec<crate::metrics::NamespaceMetrics> = all
            .iter()
            .map(|ns| {
                let members = ns.members();
                crate::metrics::NamespaceMetrics::new(
                    ns.name.as_str(),
                    members.len() as u64,
                    members.room_count() as u64,
                )
            })
            .collect();
        metrics.sort_by(|a, b| a.name.cmp(&b.name));
        metrics
    }

    /// The namespace a CONNECT for `name` joins: a static one, or a child of
    /// the first dynamic namespace whose predicate accepts the name.
    pub(crate) fn resolve(&self, name: &Namespace) -> Option<Arc<NamespaceInner>> {
        if let Some(ns) = read(&self.statics).get(name.as_str()) {
            return Some(ns.clone());
        }
        let dynamic = read(&self.dynamics)
            .iter()
            .find(|d| (d.matcher)(name.as_str()))
            .cloned()?;
        let mut children = dynamic.children.write().unwrap_or_else(|p| p.into_inner());
        let child = children.entry(name.as_str().to_owned()).or_insert_with(|| {
            NamespaceInner::new(
                name.clone(),
                dynamic.handlers.clone(),
                Some(dynamic.clone()),
                self.cluster.clone(),
                self.recovery.clone(),
            )
        });
        Some(child.clone())
    }
}

/// A namespace of the server (static, or dynamic with its children): set its
/// middleware and connect handler, and emit to its sockets.
#[derive(Clone)]
pub struct NamespaceRef {
    target: Target,
}

#[derive(Clone)]
enum Target {
    Static(Arc<NamespaceInner>),
    Dynamic(Arc<DynamicNamespace>),
}

impl std::fmt::Debug for NamespaceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.target {
            Target::Static(ns) => f.debug_tuple("NamespaceRef").field(&ns.name).finish(),
            Target::Dynamic(_) => f.write_str("NamespaceRef(dynamic)"),
        }
    }
}

impl NamespaceRef {
    pub(crate) fn from_static(ns: Arc<NamespaceInner>) -> Self {
        NamespaceRef {
            target: Target::Static(ns),
        }
    }

    pub(crate) fn from_dynamic(dynamic: Arc<DynamicNamespace>) -> Self {
        NamespaceRef {
            target: Target::Dynamic(dynamic),
        }
    }

    fn handlers(&self) -> &SharedHandlers {
        match &self.target {
            Target::Static(ns) => &ns.handlers,
            Target::Dynamic(d) => &d.handlers,
        }
    }

    /// Runs `handler` for each socket that joins (after the middleware let it
    /// in); the place to register the socket's event handlers.
    pub fn on_connection(&self, handler: impl ConnectHandler) -> &Self {
        let handler: Arc<dyn ConnectHandler> = Arc::new(handler);
        update(self.handlers(), |h| h.on_connection = Some(handler));
        self
    }

    /// Adds connect middleware: runs in order before the connect handler and
    /// may refuse the socket (the client gets `connect_error`).
    ///
    /// Middleware sees the socket's handshake: the CONNECT `auth` payload,
    /// the headers, query and address of the request that opened the
    /// connection. The usual check is a signed token, a JWT: the client
    /// connects with `io(url, { auth: { token } })`, the middleware verifies
    /// it, keeps the claims on the socket for the handlers, and refuses with
    /// a message and data the client reads as `err.message` and `err.data`.
    /// The signature check itself belongs to a JWT library (`jsonwebtoken`'s
    /// `decode`, say); here a stand-in accepts one token.
    ///
    /// ```
    /// use serde::Deserialize;
    /// use server_adapter::socketio::{ConnectError, SocketIo, SocketRef};
    ///
    /// #[derive(Deserialize)]
    /// struct Auth {
    ///     token: String,
    /// }
    ///
    /// #[derive(Clone, Deserialize)]
    /// struct Claims {
    ///     sub: String,
    ///     exp: u64,
    /// }
    ///
    /// /// Verifies the token's signature and returns its claims.
    /// fn verify(token: &str) -> Result<Claims, &'static str> {
    ///     // Stand-in for a real JWT library's `decode` with the server's key.
    ///     match token {
    ///         "header.eyJzdWIiOiJhZGEifQ.signature" => Ok(Claims { sub: "ada".into(), exp: u64::MAX }),
    ///         _ => Err("bad signature"),
    ///     }
    /// }
    ///
    /// # fn now() -> u64 { 0 }
    /// let io = SocketIo::builder().build();
    /// io.of("/").use_middleware(|socket: SocketRef| async move {
    ///     let auth: Auth = socket
    ///         .handshake()
    ///         .auth()
    ///         .map_err(|_| ConnectError::new("unauthorized").with_data("no token"))?;
    ///     let claims = verify(&auth.token)
    ///         .map_err(|why| ConnectError::new("unauthorized").with_data(why))?;
    ///     if claims.exp < now() {
    ///         return Err(ConnectError::new("unauthorized").with_data("token expired"));
    ///     }
    ///     socket.insert_data(claims);
    ///     Ok(())
    /// });
    /// io.of("/").on_connection(|socket: SocketRef| async move {
    ///     let claims: Claims = socket.data().expect("the middleware stored the claims");
    ///     let _ = socket.emit("welcome", &claims.sub);
    /// });
    /// ```
    pub fn use_middleware(&self, middleware: impl Middleware) -> &Self {
        let middleware: Arc<dyn Middleware> = Arc::new(middleware);
        update(self.handlers(), |h| h.middleware.push(middleware));
        self
    }

    /// The namespaces this reference stands for (a dynamic one: its current children).
    fn namespaces(&self) -> Vec<Arc<NamespaceInner>> {
        match &self.target {
            Target::Static(ns) => vec![ns.clone()],
            Target::Dynamic(d) => read(&d.children).values().cloned().collect(),
        }
    }

    /// Emits to every socket of the namespace (of each child, for a dynamic one).
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        for ns in self.namespaces() {
            BroadcastOperator::new(ns).emit(event, data)?;
        }
        Ok(())
    }

    /// The sockets in `room`. For a dynamic namespace, use [`NamespaceRef::children`].
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// Every socket of the namespace except those in `room`.
    pub fn except(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.broadcast().except(room)
    }

    /// Every socket of the namespace, for an emit with options.
    pub fn broadcast(&self) -> BroadcastOperator {
        match &self.target {
            Target::Static(ns) => BroadcastOperator::new(ns.clone()),
            // A dynamic namespace has no sockets of its own: an empty selection.
            Target::Dynamic(_) => BroadcastOperator::new(NamespaceInner::new(
                Namespace::main(),
                SharedHandlers::default(),
                None,
                None,
                None,
            )),
        }
    }

    /// The namespaces a dynamic namespace made so far (a static one: itself).
    pub fn children(&self) -> Vec<NamespaceRef> {
        self.namespaces()
            .into_iter()
            .map(NamespaceRef::from_static)
            .collect()
    }

    /// The namespace's name (`None` for a dynamic namespace).
    pub fn name(&self) -> Option<&str> {
        match &self.target {
            Target::Static(ns) => Some(ns.name.as_str()),
            Target::Dynamic(_) => None,
        }
    }

    /// The sockets connected to the namespace.
    pub fn sockets(&self) -> Vec<SocketRef> {
        self.namespaces()
            .iter()
            .flat_map(|ns| BroadcastOperator::new(ns.clone()).sockets())
            .collect()
    }

    /// This server's sockets of the namespace only, for an operation that other
    /// servers must not see.
    pub fn local(&self) -> BroadcastOperator {
        self.broadcast().local()
    }

    /// The sockets of the namespace on every server (Node's `fetchSockets()`).
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, AdapterError> {
        self.broadcast().fetch_sockets().await
    }

    /// Makes every socket of the namespace, on every server, join `room`.
    pub fn sockets_join(&self, room: impl Into<Room>) {
        self.broadcast().sockets_join(room);
    }

    /// Makes every socket of the namespace, on every server, leave `room`.
    pub fn sockets_leave(&self, room: impl Into<Room>) {
        self.broadcast().sockets_leave(room);
    }

    /// Disconnects every socket of the namespace, on every server.
    pub fn disconnect_sockets(&self, close: bool) {
        self.broadcast().disconnect_sockets(close);
    }

    /// The rooms of the namespace on every server, each socket's own id among them
    /// (as the Node server's `allRooms()`), without repeats.
    pub async fn all_rooms(&self) -> Result<Vec<Room>, AdapterError> {
        let Target::Static(ns) = &self.target else {
            return Ok(Vec::new());
        };
        let mut rooms = ns.members().room_names();
        if let Some(cluster) = &ns.cluster {
            rooms.extend(cluster.all_rooms(ns.name.as_str()).await?);
        }
        rooms.sort();
        rooms.dedup();
        Ok(rooms)
    }

    /// Sends the event `event` with `args` to the other servers' handlers
    /// ([`on_server_side_emit`](Self::on_server_side_emit)); without an adapter,
    /// nothing happens.
    pub fn server_side_emit(&self, event: &str, args: &[serde_json::Value]) {
        if let Target::Static(ns) = &self.target {
            if let Some(cluster) = &ns.cluster {
                cluster.server_side_emit(ns.name.as_str(), event, args);
            }
        }
    }

    /// Sends a server-side event and waits for each other server's answer (an empty
    /// list without an adapter or other servers).
    pub async fn server_side_emit_with_ack(
        &self,
        event: &str,
        args: &[serde_json::Value],
    ) -> Result<Vec<serde_json::Value>, AdapterError> {
        match &self.target {
            Target::Static(ns) => match &ns.cluster {
                Some(cluster) => {
                    cluster
                        .server_side_emit_with_ack(ns.name.as_str(), event, args)
                        .await
                }
                None => Ok(Vec::new()),
            },
            Target::Dynamic(_) => Ok(Vec::new()),
        }
    }

    /// Handles the server-side event `event` that other servers send (replacing any
    /// earlier handler): the arguments, and the acknowledgement when the sender waits
    /// for an answer. The handler runs on the adapter's task: spawn for long work.
    pub fn on_server_side_emit(
        &self,
        event: &str,
        handler: impl Fn(Vec<serde_json::Value>, Option<super::adapter::ServerAck>)
            + Send
            + Sync
            + 'static,
    ) -> &Self {
        let handler: ServerSideHandler = Arc::new(handler);
        for ns in self.namespaces() {
            let mut handlers = ns
                .server_handlers
                .write()
                .unwrap_or_else(|p| p.into_inner());
            handlers.retain(|(name, _)| name != event);
            handlers.push((event.to_owned(), handler.clone()));
        }
        self
    }
}
