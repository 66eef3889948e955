//! The tokio runtime: it owns the sockets and the clock, and drives the pure
//! protocol crates ([`engineio`], [`socketio_core`], [`socketio_parser`]).
//!
//! - [`socketio`]: the Socket.IO server API (namespaces, sockets, events,
//!   acknowledgements, rooms, broadcasts, middleware).
//! - [`engine`]: the Engine.IO driver (one task per session, owning its
//!   [`engineio::Session`], WebSockets, parked long-poll and timer) and a plain
//!   Engine.IO application API ([`EngineHandler`], [`SessionHandle`]).
//! - [`Server`]: one listener serving engines under their paths, a fallback for
//!   everything else, graceful shutdown, and [`Server::serve_connection`] for
//!   streams another server accepted.
//! - [`http`]: HTTP/1.1 on `httparse`: keep-alive, pipelining, `Content-Length`
//!   and chunked bodies, limits and timeouts against slow or hostile peers, and
//!   the hand-over of a connection on a protocol upgrade.
//! - `tower` (feature `tower`, on by default): the same engines served from inside a hyper
//!   application (axum's included), as a tower `Service` and `Layer`.
//! - `tls` (feature `tls`): HTTPS and WSS with rustls, natively (`Server::serve_tls`) and
//!   for the TLS stream a hyper server was given.
//! - [`metrics`]: counts for operators (connections by transport, sockets and rooms by
//!   namespace, messages and bytes, acks, upgrades, refusals, closes and disconnects by
//!   reason), as a snapshot and in the Prometheus text format.
//! - [`ws`]: WebSocket (RFC 6455): the opening handshake, frames, message
//!   assembly with incremental UTF-8 validation, the close handshake, and
//!   [`WebSocket`](ws::WebSocket), the object a session task drives.
//!
//! Each layer is a sans-IO core (pure functions and push parsers, tested
//! without sockets) plus a thin tokio part. Protocol rules live in the pure
//! crates; this one only moves bytes, applies limits, keeps time and runs
//! handlers.
//!
//! ```text
//!  TcpListener ─► Server ─► task per connection: http::serve_connection
//!                              │ request under an engine's path      │ anything else
//!                              ▼                                     ▼
//!                    engineio::Server (route, handshake)         fallback
//!                     │ new session            │ sid
//!                     ▼                        ▼
//!             session task: engineio::Session + app (Socket.IO or EngineHandler)
//!             ◄─ polling requests via its inbox; WebSockets owned directly
//! ```
//!
//! # Embedding the engine in another server
//!
//! A hyper 1.x application (axum's included) serves a `SocketIo` or an
//! `EngineIo` through the `tower` module (feature `tower`, on by default): `io.layer()`
//! and `io.service()` translate hyper's requests into this crate's and hand the
//! upgraded connections to the same WebSocket and session tasks.
//!
//! Another HTTP stack (actix, ...) does not need this crate's HTTP
//! layer: it can drive [`engineio`] itself. Give each request under the path
//! to [`engineio::Server::handle_request`], keep each [`engineio::Session`]
//! where its requests can reach it, feed it POST bodies and WebSocket
//! messages, and write what `poll_transmit` returns; the `engineio` crate docs
//! teach that loop, and [`engineio::sim`] is a complete in-memory driver to
//! read. A server that only wants to hand over raw connections can call
//! [`Server::serve_connection`] with any `AsyncRead + AsyncWrite` stream.
//!
//! # Memory and cost
//!
//! An idle connection holds no read buffer: reads land in a buffer on the stack of the `poll`
//! call and only the bytes that arrived are moved to the heap; buffers are released whenever
//! they drain. A WebSocket message is split off the read buffer without a copy, and a sent
//! message is written with one vectored write of its frame header and the caller's buffers.
//! Every buffer and queue has a bound, stated where it is defined.
//!
//! # Metrics and tracing
//!
//! `SocketIo::metrics()` and `EngineIo::metrics()` return a snapshot of what the server holds
//! and has done (see [`metrics`]); counting is always on and costs no shared atomic on the
//! per-message path.
//!
//! Logs go through `tracing`, in three spans: `connection` (debug; `peer`: an accepted TCP
//! connection of this crate's HTTP server), `session` (info; `sid`, `transport`, `peer`: one
//! Engine.IO session, whatever served it) and, inside it, `socket` (info; `id`, `namespace`:
//! one Socket.IO socket, whose middleware and handlers run inside it). The events, by level:
//!
//! - info: `session opened`, `session closed` (`reason`, and `error` for a transport or
//!   parse error), `socket connected` (`recovered` when restored), `socket disconnected`
//!   (`reason`);
//! - debug: `upgraded to websocket`, `request refused` (`reason`: forbidden, server full,
//!   unknown sid, bad request, cors; `peer`), `connect refused by middleware`,
//!   `connect refused: no such namespace`, `acknowledgement timed out`, sends refused
//!   because a connection's buffer is full, and the HTTP and WebSocket layers' own (a
//!   request refused with its status, a connection failed);
//! - trace: each message received and sent (`len`), each volatile emit dropped;
//! - warn: only what the operator should look at: accepting failed (out of descriptors),
//!   event data that cannot fit a handler's type.
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
pub mod metrics;
mod server;
pub mod socketio;
mod sparse;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "tower")]
pub mod tower;
mod trace;
pub mod ws;

pub use engine::{EngineHandler, EngineIo, HandshakeHeaders, HandshakeRequest, SessionHandle};
pub use server::{IntoMount, Mount, Server, ShutdownHandle};
