//! The tokio runtime of the server: the network layers that own the sockets and the clock.
//!
//! - [`http`]: HTTP/1.1 on `httparse` — keep-alive, pipelining, `Content-Length` and chunked
//!   bodies, limits and timeouts against slow or hostile peers, a [`Router`](http::Router) that
//!   sends one path prefix to the engine and everything else to a fallback, and the hand-over of
//!   a connection on a protocol upgrade.
//! - [`ws`]: WebSocket (RFC 6455) — the opening handshake, frames, message assembly with
//!   incremental UTF-8 validation, the close handshake, and [`WebSocket`](ws::WebSocket), the
//!   object a session task drives with `recv` / `send` / `close`.
//!
//! Each layer is a sans-IO core (pure functions and push parsers, tested without sockets) plus a
//! thin tokio part. Protocol rules of Engine.IO and Socket.IO live in the pure crates; this one
//! only moves bytes, applies limits and keeps time.
//!
//! ```text
//!  TcpListener ──► http::serve ──► task per connection: http::serve_connection
//!                                     │  request (head + whole body)
//!                                     ▼
//!                                  Service (Router: prefix → engine, else fallback)
//!                                     │  Reply::Response ──► written, next request
//!                                     │  Reply::Upgrade  ──► 101 written, stream handed over
//!                                     ▼
//!                                  WebSocket::from_upgraded ──► session loop in the same task
//! ```
//!
//! # Memory and cost
//!
//! An idle connection holds no read buffer: reads land in a buffer on the stack of the `poll`
//! call and only the bytes that arrived are moved to the heap; buffers are released whenever
//! they drain. A WebSocket message is split off the read buffer without a copy, and a sent
//! message is written with one vectored write of its frame header and the caller's buffers.
//! Every buffer and queue has a bound, stated where it is defined.
//!
//! # Errors and panics
//!
//! Errors say whose fault they are: the peer's (a refused request answered with its status, a
//! protocol violation answered with a close code), the transport's (I/O), or the caller's
//! (closing with an invalid code, an invalid response header). A panic is a bug: no peer input
//! can cause one. The one documented panic is [`Response::header`](http::Response::header) given
//! an invalid constant; `try_header` is its fallible form.
//!
//! # Example: a WebSocket echo server
//!
//! ```no_run
//! use server_adapter::http::{self, service_fn, Reply, Request, Response};
//! use server_adapter::ws::{self, Message, Outgoing, WebSocket};
//!
//! # async fn run() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//! let service = service_fn(|request: Request| async move {
//!     match ws::accept(&request.head) {
//!         Ok(accept) => Reply::upgrade(accept.response(), |upgraded| async move {
//!             let mut socket = WebSocket::from_upgraded(upgraded, &ws::Config::default());
//!             while let Ok(Message::Text(text)) = socket.recv().await {
//!                 if socket.send(Outgoing::Text(&[text])).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         }),
//!         Err(refusal) => Reply::Response(refusal),
//!     }
//! });
//! http::serve(listener, http::Config::default(), http::Router::new("/ws", service)).await
//! # }
//! ```

pub mod engine;
pub mod http;
mod io;
mod server;
pub mod socketio;
pub mod ws;

pub use engine::{EngineHandler, EngineIo, HandshakeRequest, SessionHandle};
pub use server::{IntoMount, Mount, Server, ShutdownHandle};
