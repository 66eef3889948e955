//! The HTTP front: one listener serving engines under their paths and a
//! fallback for everything else, with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::engine::{AppFactory, EngineCore};
use crate::http::{self, Reply, Request, RequestHead, Service};
use crate::trace::{InSpan, SpanBox};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Something served under a path prefix: an Engine.IO or Socket.IO engine.
pub trait Mount<Io>: Send + Sync + 'static {
    /// The path prefix (e.g. `/socket.io/`).
    fn path(&self) -> &str;
    /// The largest request body accepted.
    fn body_limit(&self) -> usize;
    /// Answers a request under the path.
    fn handle(&self, request: Request, address: Option<SocketAddr>) -> BoxFuture<Reply<Io>>;
    /// Asks every session to end (graceful shutdown).
    fn shutdown(&self) -> BoxFuture<()>;
    /// How many sessions are open.
    fn open_sessions(&self) -> usize;
}

impl<F, Io> Mount<Io> for Arc<EngineCore<F, Io>>
where
    F: AppFactory,
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    fn path(&self) -> &str {
        EngineCore::path(self)
    }

    fn body_limit(&self) -> usize {
        self.max_payload()
    }

    fn handle(&self, request: Request, address: Option<SocketAddr>) -> BoxFuture<Reply<Io>> {
        let core = self.clone();
        Box::pin(async move { core.handle(request, address).await })
    }

    fn shutdown(&self) -> BoxFuture<()> {
        let core = self.clone();
        Box::pin(async move { core.shutdown_sessions().await })
    }

    fn open_sessions(&self) -> usize {
        EngineCore::open_sessions(self)
    }
}

/// Things that can be mounted on a [`Server`].
pub trait IntoMount<Io> {
    /// The mount.
    fn into_mount(self) -> Arc<dyn Mount<Io>>;
}

impl<Io> IntoMount<Io> for Arc<dyn Mount<Io>> {
    fn into_mount(self) -> Arc<dyn Mount<Io>> {
        self
    }
}

impl<H, Io> IntoMount<Io> for crate::EngineIo<H, Io>
where
    H: crate::EngineHandler,
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    fn into_mount(self) -> Arc<dyn Mount<Io>> {
        Arc::new(self.core)
    }
}

type DynFallback<Io> = dyn Fn(Request) -> BoxFuture<Reply<Io>> + Send + Sync;

/// An HTTP/1.1 server: each mounted engine gets the requests under its path,
/// the fallback (404 by default) everything else.
///
/// ```no_run
/// # use server_adapter::{Server, http::{service_fn, Request, Response}};
/// # async fn run(io: server_adapter::socketio::SocketIo) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// Server::new()
///     .mount(io)
///     .fallback(|_req: Request| async { Response::text(200, "hello") })
///     .serve(listener)
///     .await
/// # }
/// ```
pub struct Server<Io = TcpStream> {
    mounts: Vec<Arc<dyn Mount<Io>>>,
    fallback: Arc<DynFallback<Io>>,
    http: http::Config,
    shutdown: watch::Sender<Option<Duration>>,
}

impl<Io: 'static> std::fmt::Debug for Server<Io> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let paths: Vec<&str> = self.mounts.iter().map(|m| m.path()).collect();
        f.debug_struct("Server")
            .field("mounts", &paths)
            .finish_non_exhaustive()
    }
}

impl<Io> Default for Server<Io>
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    fn default() -> Self {
        Server::new()
    }
}

impl<Io> Server<Io>
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// A server with nothing mounted and a 404 fallback.
    pub fn new() -> Self {
        Server {
            mounts: Vec::new(),
            fallback: Arc::new(|_req| {
                Box::pin(async { Reply::Response(http::Response::not_found()) })
            }),
            http: http::Config::default(),
            shutdown: watch::channel(None).0,
        }
    }

    /// Serves an engine under its path.
    #[must_use]
    pub fn mount(mut self, engine: impl IntoMount<Io>) -> Self {
        self.mounts.push(engine.into_mount());
        self
    }

    /// Answers every request no engine takes (default: 404).
    #[must_use]
    pub fn fallback<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: Into<Reply<Io>>,
    {
        self.fallback = Arc::new(move |req| {
            let fut = f(req);
            Box::pin(async move { fut.await.into() })
        });
        self
    }

    /// The HTTP limits and timeouts (body limits come from each engine's `max_payload`).
    #[must_use]
    pub fn http_config(mut self, config: http::Config) -> Self {
        self.http = config;
        self
    }

    /// A handle to stop the server later.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown.clone())
    }

    /// Serves one connection another server accepted (e.g. handed over by a
    /// proxy or another framework); returns when it ends, or when an engine
    /// hands it to a session: an Engine.IO WebSocket lives on in its session's
    /// own task (the server's shutdown closes it). A protocol a fallback
    /// service upgrades to runs here, to its end.
    pub async fn serve_connection(&self, io: Io, address: Option<SocketAddr>) {
        self.serve_watched(http::Watched::new(io), address).await;
    }

    /// [`serve_connection`](Self::serve_connection) for a connection watched since it was
    /// accepted.
    async fn serve_watched(&self, io: http::Watched<Io>, address: Option<SocketAddr>) {
        // The HTTP part in a box of its own, so that an upgraded connection's task holds
        // only the upgraded future (a WebSocket session lives long and idle).
        let http = Box::pin(async move {
            let conn = Connection {
                mounts: &self.mounts,
                fallback: &self.fallback,
                address,
            };
            http::serve_until_upgrade_watched(io, &self.http, &conn).await
        });
        match http.await {
            Ok(Some(upgraded)) => upgraded.await,
            Ok(None) => {}
            Err(e) => tracing::debug!(error = %e, "connection ended with an error"),
        }
    }
}

impl Server<TcpStream> {
    /// Accepts connections until [`ShutdownHandle::shutdown`] is called, then
    /// closes every session (with a close packet) and waits for them, at most
    /// the grace period given.
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        self.accept(listener, |this, stream, address| {
            // Here, in accept order: the tasks may run in another.
            let stream = match http::Watched::accepted(stream) {
                Ok(stream) => stream,
                Err(error) => {
                    tracing::warn!(%error, "could not register an accepted connection");
                    return;
                }
            };
            let serve = async move { this.serve_watched(stream, Some(address)).await };
            tokio::spawn(InSpan::new(serve, connection_span(address)));
        })
        .await
    }
}

#[cfg(feature = "tls")]
impl Server<crate::tls::TlsStream<TcpStream>> {
    /// As [`Server::serve`], over TLS: each accepted connection first completes its TLS
    /// handshake (within [`tls::HANDSHAKE_TIMEOUT`](crate::tls::HANDSHAKE_TIMEOUT)), in its
    /// own task; one that fails (a client speaking plain HTTP to this port, say) is dropped
    /// and disturbs no other.
    pub async fn serve_tls(
        self,
        listener: TcpListener,
        acceptor: crate::tls::TlsAcceptor,
    ) -> std::io::Result<()> {
        self.accept(listener, move |this, stream, address| {
            let acceptor = acceptor.clone();
            let serve = async move {
                match crate::tls::handshake(&acceptor, stream).await {
                    Ok(stream) => this.serve_connection(stream, Some(address)).await,
                    Err(e) => tracing::debug!(error = %e, "TLS handshake failed"),
                }
            };
            tokio::spawn(InSpan::new(serve, connection_span(address)));
        })
        .await
    }
}

impl<Io> Server<Io>
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// Accepts connections, handing each to `start` (which spawns its task), until
    /// [`ShutdownHandle::shutdown`] is called; then drains the sessions.
    async fn accept(
        self,
        listener: TcpListener,
        start: impl Fn(Arc<Self>, TcpStream, SocketAddr),
    ) -> std::io::Result<()> {
        let mut stop = self.shutdown.subscribe();
        let this = Arc::new(self);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, address)) => {
                        let _ = stream.set_nodelay(true);
                        start(this.clone(), stream, address);
                    }
                    Err(e) => {
                        // Out of descriptors or memory: wait a moment rather than spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                changed = stop.changed() => {
                    if changed.is_err() {
                        continue;
                    }
                    let grace = (*stop.borrow()).unwrap_or_default();
                    drop(listener);
                    this.drain(grace).await;
                    return Ok(());
                }
            }
        }
    }
}

impl<Io> Server<Io>
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    async fn drain(&self, grace: Duration) {
        for mount in &self.mounts {
            mount.shutdown().await;
        }
        let deadline = tokio::time::Instant::now() + grace;
        while self.mounts.iter().any(|m| m.open_sessions() > 0)
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// The span of an accepted connection's task (see `crate::trace`).
fn connection_span(peer: SocketAddr) -> SpanBox {
    SpanBox::new(tracing::debug_span!(parent: None, "connection", %peer))
}

/// Stops a running [`Server`].
#[derive(Debug, Clone)]
pub struct ShutdownHandle(watch::Sender<Option<Duration>>);

impl ShutdownHandle {
    /// Stops accepting connections, closes every session, and lets
    /// [`Server::serve`] return once they are closed or `grace` has passed.
    pub fn shutdown(&self, grace: Duration) {
        self.0.send_replace(Some(grace));
    }
}

/// The service of one connection: knows the peer's address. Borrows the
/// server's tables rather than copying them for each connection.
struct Connection<'a, Io> {
    mounts: &'a [Arc<dyn Mount<Io>>],
    fallback: &'a Arc<DynFallback<Io>>,
    address: Option<SocketAddr>,
}

impl<Io: 'static> Connection<'_, Io> {
    fn mount_for(&self, head: &RequestHead) -> Option<&Arc<dyn Mount<Io>>> {
        let path = head.path();
        self.mounts
            .iter()
            .find(|m| path.starts_with(m.path()) || path == m.path().trim_end_matches('/'))
    }
}

impl<Io: Send + 'static> Service<Io> for Connection<'_, Io> {
    fn body_limit(&self, head: &RequestHead) -> Option<usize> {
        self.mount_for(head).map(|m| m.body_limit())
    }

    fn call(&self, request: Request) -> impl Future<Output = Reply<Io>> + Send {
        let fut = match self.mount_for(&request.head) {
            Some(mount) => mount.handle(request, self.address),
            None => (self.fallback)(request),
        };
        fut
    }
}
