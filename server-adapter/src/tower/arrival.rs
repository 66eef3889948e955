//! Requests handled in the order they arrived, when hyper reads them.
//!
//! hyper serves each connection in a task of its own, and the runtime runs tasks in whatever
//! order it picks (see [`Arrival`](crate::http::Arrival)). Two requests of one long-polling
//! session sent at once on two connections (a GET, and a POST carrying the close packet) then
//! reach the engine in either order, and their answers depend on it. The native server knows
//! when each request's bytes were reported readable; behind hyper, the engine only sees when
//! hyper called the service, which may be the other way round.
//!
//! [`ArrivalStream`] gives it back: a stream that notes when its reads are woken (and has hyper
//! write each response with one plain `send`, see its `AsyncWrite`), and an
//! [`ArrivalClock`] the engine finds among the request's extensions. With axum, serve on an
//! `ArrivalListener` and take `Peer` as the connection info:
//!
//! ```no_run
//! use server_adapter::socketio::SocketIo;
//! use server_adapter::tower::{ArrivalListener, Peer};
//!
//! # async fn run() -> std::io::Result<()> {
//! let io = SocketIo::builder().build();
//! let app = axum::Router::new().layer(io.layer());
//! let listener = ArrivalListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<Peer>()).await
//! # }
//! ```
//!
//! With bare hyper, serve an [`ArrivalStream`] and insert its [`ArrivalClock`] into each
//! request's extensions. Without either, a request's arrival is when hyper called the
//! service: every client works the same, only requests of one session racing each other on
//! two connections may be taken in the other order.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

pub use crate::http::ArrivalClock;
use crate::http::{Arrival, Watched};

/// A connection's stream that notes when its requests arrive: give it to hyper, and each
/// request's [`ArrivalClock`] (from [`clock`](Self::clock)) to the engine.
pub struct ArrivalStream<Io = TcpStream> {
    io: Watched<Io>,
}

impl<Io> std::fmt::Debug for ArrivalStream<Io> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrivalStream")
            .field("latest", &self.io.arrival())
            .finish_non_exhaustive()
    }
}

impl ArrivalStream<TcpStream> {
    /// A connection just accepted (`TCP_NODELAY` set, as the native server sets it), watched
    /// from now on.
    ///
    /// # Errors
    /// The runtime could not register the stream again (see why in
    /// [`Watched::accepted`](crate::http::Arrival)); drop the connection.
    pub fn accepted(stream: TcpStream) -> std::io::Result<Self> {
        let _ = stream.set_nodelay(true);
        Ok(ArrivalStream {
            io: Watched::accepted(stream)?,
        })
    }
}

impl<Io> ArrivalStream<Io> {
    /// Any stream, watched from now on. Prefer [`accepted`](ArrivalStream::accepted) for a
    /// `TcpStream`: bytes already waiting would otherwise count as arrived now.
    pub fn new(io: Io) -> Self {
        ArrivalStream {
            io: Watched::new(io),
        }
    }

    /// When this connection's latest request arrived, from any task.
    pub fn clock(&self) -> ArrivalClock {
        self.io.clock()
    }

    /// The stream, no longer watched.
    pub fn into_inner(self) -> Io {
        self.io.into_inner()
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for ArrivalStream<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for ArrivalStream<Io> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    /// No: hyper then copies a response's head and body into one buffer and writes it with
    /// one plain `send`, as the native server does for small responses; a vectored write
    /// costs more per call on Linux (measured: polling through axum, 1.30x the native
    /// server's CPU per round trip with vectored writes, 1.22x with plain ones).
    fn is_write_vectored(&self) -> bool {
        false
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// The arrival of a request: from its [`ArrivalClock`] (an extension of its own, or inside
/// axum's `ConnectInfo<Peer>`), else now.
pub(crate) fn arrival_of(extensions: &hyper::http::Extensions) -> Arrival {
    if let Some(clock) = extensions.get::<ArrivalClock>() {
        return clock.arrival();
    }
    #[cfg(feature = "axum")]
    if let Some(info) = extensions.get::<axum::extract::ConnectInfo<Peer>>() {
        return info.0.clock.arrival();
    }
    Arrival::now()
}

/// A `TcpListener` for `axum::serve` whose connections are [`ArrivalStream`]s: with
/// [`Peer`] as the connection info, the engine takes each session's requests in the order
/// they arrived.
#[cfg(feature = "axum")]
#[derive(Debug)]
pub struct ArrivalListener {
    listener: tokio::net::TcpListener,
}

#[cfg(feature = "axum")]
impl ArrivalListener {
    /// Binds a new listener.
    ///
    /// # Errors
    /// As [`TcpListener::bind`](tokio::net::TcpListener::bind).
    pub async fn bind(address: impl tokio::net::ToSocketAddrs) -> std::io::Result<Self> {
        Ok(ArrivalListener {
            listener: tokio::net::TcpListener::bind(address).await?,
        })
    }

    /// The connections of an already bound listener.
    pub fn new(listener: tokio::net::TcpListener) -> Self {
        ArrivalListener { listener }
    }
}

#[cfg(feature = "axum")]
impl axum::serve::Listener for ArrivalListener {
    type Io = ArrivalStream<TcpStream>;
    type Addr = std::net::SocketAddr;

    /// Skips an error that concerns one connection; pauses 100 ms (logged) when the process
    /// runs out of descriptors or memory, and 1 s on any other error, instead of spinning.
    async fn accept(&mut self) -> (Self::Io, std::net::SocketAddr) {
        loop {
            let (stream, address) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) if crate::http::is_connection_error(&e) => continue,
                Err(e) => {
                    let pause = if crate::http::is_resource_error(&e) {
                        100
                    } else {
                        1000
                    };
                    tracing::warn!(error = %e, pause_ms = pause, "accept failed; pausing");
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                    continue;
                }
            };
            match ArrivalStream::accepted(stream) {
                Ok(stream) => return (stream, address),
                Err(error) => {
                    tracing::warn!(peer = %address, %error, "could not register a connection")
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }
}

/// axum's connection info for an [`ArrivalListener`]: the peer's address, and the clock the
/// engine reads its requests' arrivals from. Serve with
/// `into_make_service_with_connect_info::<Peer>()`; handlers take `ConnectInfo<Peer>`.
#[cfg(feature = "axum")]
#[derive(Clone, Debug)]
pub struct Peer {
    address: std::net::SocketAddr,
    clock: ArrivalClock,
}

#[cfg(feature = "axum")]
impl Peer {
    /// The peer's address.
    pub fn address(&self) -> std::net::SocketAddr {
        self.address
    }
}

#[cfg(feature = "axum")]
impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, ArrivalListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, ArrivalListener>) -> Self {
        Peer {
            address: *stream.remote_addr(),
            clock: stream.io().clock(),
        }
    }
}
