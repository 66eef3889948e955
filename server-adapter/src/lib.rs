//! The tokio runtime of the server: the network layers that own the sockets and the clock.
//!
//! - [`http`]: HTTP/1.1 on `httparse` — keep-alive, pipelining, `Content-Length` and chunked
//!   bodies, limits and timeouts against slow or hostile peers, a [`Router`](http::Router) that
//!   sends one path prefix to the engine and everything else to a fallback, and the hand-over of
//!   a connection on a protocol upgrade.
//!
//! The layer is a sans-IO core (pure functions and push parsers, tested without sockets) plus a
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
//!                                  the upgrade's future, in the same task
//! ```
//!
//! # Memory and cost
//!
//! An idle connection holds no read buffer: reads land in a buffer on the stack of the `poll`
//! call and only the bytes that arrived are moved to the heap; buffers are released whenever
//! they drain. Every buffer and queue has a bound, stated where it is defined.
//!
//! # Errors and panics
//!
//! Errors say whose fault they are: the peer's (a refused request answered with its status),
//! the transport's (I/O), or the caller's (an invalid response header). A panic is a bug: no
//! peer input can cause one. The one documented panic is [`Response::header`](http::Response::header) given
//! an invalid constant; `try_header` is its fallible form.

pub mod http;
mod io;
