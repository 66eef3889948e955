//! The Engine.IO driver: runs [`engineio`] sessions over this crate's HTTP and
//! WebSocket layers.
//!
//! Each session lives in one task that owns the [`engineio::Session`], its
//! WebSocket(s), its parked long-poll GET and one timer; connection tasks
//! route requests to it by sid through a bounded inbox. A connection that
//! upgrades to a session's WebSocket hands its stream to the session's task
//! and ends. No lock is held across an await.
//!
//! For an Engine.IO application (no Socket.IO), implement [`EngineHandler`]
//! and mount an [`EngineIo`] on a [`Server`](crate::Server):
//!
//! ```no_run
//! use server_adapter::{EngineHandler, EngineIo, Server, SessionHandle};
//!
//! struct Echo;
//! impl EngineHandler for Echo {
//!     fn on_message(&self, session: &SessionHandle, message: engineio::Message) {
//!         let _ = session.send(message);
//!     }
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! Server::new().mount(EngineIo::new(engineio::Config::default(), Echo)).serve(listener).await
//! # }
//! ```

mod app;
mod handler;
mod inbox;
mod lane;
mod random;
mod router;
mod service;
mod task;

use std::sync::Arc;

use tokio::net::TcpStream;

#[cfg(test)]
pub(crate) use app::TestSignal;
pub(crate) use app::{AppFactory, Engine, SessionApp, Signal};
pub use app::{HandshakeHeaders, HandshakeRequest};
pub use handler::{EngineHandler, SessionHandle};
pub(crate) use lane::{Flusher, WriteLane};
pub(crate) use service::{random_id_bytes, EngineCore};
pub(crate) use task::now;
#[cfg(test)]
pub(crate) use task::session_future_size;

use handler::HandlerFactory;

/// An Engine.IO server with an [`EngineHandler`], ready to be mounted on a
/// [`Server`](crate::Server) under its path (`config.path`, default `/engine.io/`).
pub struct EngineIo<H: EngineHandler, Io = TcpStream> {
    pub(crate) core: Arc<EngineCore<HandlerFactory<H>, Io>>,
}

impl<H: EngineHandler, Io> std::fmt::Debug for EngineIo<H, Io> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineIo")
            .field("core", &self.core)
            .finish()
    }
}

impl<H, Io> EngineIo<H, Io>
where
    H: EngineHandler,
    Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    /// An Engine.IO server with this configuration and handler.
    pub fn new(config: engineio::Config, handler: H) -> Self {
        let max_backlog = config.outbox.max_packets;
        EngineIo {
            core: Arc::new(EngineCore::new(
                config,
                HandlerFactory {
                    handler: Arc::new(handler),
                    max_backlog,
                },
            )),
        }
    }

    /// How many sessions are open.
    pub fn open_sessions(&self) -> usize {
        self.core.open_sessions()
    }

    /// A snapshot of the engine's counts: open sessions by transport, messages and bytes
    /// each way, upgrades, refusals and closes by reason (see [`crate::metrics`]).
    /// `metrics().to_prometheus()` is the text a `GET /metrics` answers.
    pub fn metrics(&self) -> crate::metrics::EngineMetrics {
        self.core.metrics().0
    }

    /// Closes every session (each gets its close packet after what was queued for it) and
    /// waits until they are all gone or `grace` has passed: a graceful shutdown for a server
    /// this crate does not run (see [`SocketIo::shutdown`](crate::socketio::SocketIo::shutdown)).
    pub async fn shutdown(&self, grace: std::time::Duration) {
        self.core.shutdown_within(grace).await;
    }
}
