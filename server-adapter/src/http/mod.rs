//! HTTP/1.1 on tokio: a sans-IO core (head parsing with limits, chunked decoding, response
//! encoding) and the connection loop ([`serve_connection`], [`serve`]) that drives it.
//!
//! Status codes the layer answers by itself, then closing the connection:
//!
//! | cause | status |
//! |---|---|
//! | malformed request line, header or framing; bad chunk syntax | `400 Bad Request` |
//! | head not complete within `header_timeout`, body within `body_timeout` | `408 Request Timeout` |
//! | body over the limit (announced or while de-chunking) | `413 Content Too Large` |
//! | request line over `max_request_line` (it is the target that makes it long) | `414 URI Too Long` |
//! | `Expect` other than `100-continue` | `417 Expectation Failed` |
//! | head over `max_head`, more than `max_headers` fields | `431 Request Header Fields Too Large` |
//! | transfer coding other than `chunked` | `501 Not Implemented` |
//! | version other than 1.0 / 1.1 | `505 HTTP Version Not Supported` |
//!
//! Everything else is the service's answer: [`Router`] sends a path prefix to the engine and
//! the rest to a fallback whose default is `404`. The WebSocket handshake's `400`, `405` and
//! `426` are in [`crate::ws::handshake`].

mod arrival;
mod chunked;
mod config;
mod conn;
mod date;
mod error;
mod request;
mod response;
mod router;
mod service;

pub(crate) use arrival::Watched;
pub use arrival::{Arrival, ArrivalClock};
pub use chunked::ChunkedDecoder;
pub use config::{Config, MAX_HEADERS_CAP};
pub(crate) use conn::serve_until_upgrade_watched;
#[cfg(feature = "axum")]
pub(crate) use conn::{is_connection_error, is_resource_error};
pub use conn::{serve, serve_connection, serve_until_upgrade};
pub use error::{Error, InvalidHeader, RequestError};
pub use request::{
    body_framing, expects_continue, BodyFraming, HeadParser, Request, RequestHead, Version,
};
pub use response::{reason_phrase, Response};
pub use router::Router;
pub use service::{
    service_fn, NotFound, Reply, Service, ServiceFn, Upgrade, UpgradeFuture, Upgraded,
};
