//! A Redis adapter for the Socket.IO server of `server-adapter`, wire-compatible with
//! the official `@socket.io/redis-adapter` 8.3 (default options), and an emitter that
//! publishes to a cluster from a process that serves no clients.
//!
//! ```no_run
//! use server_adapter::socketio::SocketIo;
//! use socketio_redis::{RedisAdapter, RedisAdapterConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let adapter = RedisAdapter::connect("redis://127.0.0.1:6379", RedisAdapterConfig::default()).await?;
//! let io = SocketIo::builder().adapter(adapter).build();
//! io.to("room").emit("news", &"reaches every server's sockets in room")?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! * [`wire`]: every message as bytes, pure functions (the Socket.IO packet inside is
//!   transcoded by `socketio_parser::msgpack`);
//! * the adapter's I/O task: one publishing connection and one subscribing connection;
//!   it moves bytes, keeps the request timeouts and reconnects.
//!
//! # Queues and failures
//!
//! Everything toward Redis goes through one bounded queue per adapter
//! ([`RedisAdapterConfig::max_queued`], default 4,096 messages). When it is full (Redis is
//! slow or down), new messages are **dropped** and counted in the log at `warn`: a
//! broadcast then reaches this server's sockets only, and a request waiting for other
//! servers ends with its timeout error. Nothing blocks the caller. While Redis is down the
//! subscriber reconnects every `reconnect_delay` (default 500 ms) and subscribes again;
//! a message that is not understood is logged and ignored. A request to other servers
//! (fetch_sockets, all_rooms, server-side emit with ack) ends after at most
//! `requests_timeout` (default 5 s).

pub mod wire;

mod adapter;
mod emitter;
mod io;

pub use adapter::{RedisAdapter, RedisAdapterConfig};
pub use emitter::RedisEmitter;

/// Why the adapter or the emitter could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Redis refused or could not be reached.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A value could not be encoded.
    #[error(transparent)]
    Wire(#[from] wire::WireError),
}

/// A random id of `n` characters, as `uid2` makes them (letters and digits).
pub(crate) fn uid(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}
