//! Limits and timeouts of the HTTP layer.

use std::time::Duration;

/// The largest value [`Config::max_headers`] can take: the header table lives on the stack
/// while a head is parsed.
pub const MAX_HEADERS_CAP: usize = 256;

/// Limits and timeouts of one HTTP/1.1 connection.
///
/// Every field has a default (see [`Config::default`]) chosen for an Engine.IO endpoint behind
/// browsers: small heads, bodies up to Engine.IO's default `maxHttpBufferSize`, and timeouts that
/// release a silent or slow peer (slow-loris) within seconds to a minute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Longest request line (method, target, version and its line end), in bytes.
    /// Longer: `414 URI Too Long` and the connection is closed.
    pub max_request_line: usize,
    /// Largest request head (request line plus every header line), in bytes.
    /// Larger: `431 Request Header Fields Too Large` and the connection is closed.
    pub max_head: usize,
    /// Most header fields in one request (capped at [`MAX_HEADERS_CAP`]).
    /// More: `431 Request Header Fields Too Large` and the connection is closed.
    pub max_headers: usize,
    /// Largest request body, in bytes, unless the service sets another limit for a request
    /// ([`Service::body_limit`](super::Service::body_limit)). Larger: `413 Content Too Large`
    /// and the connection is closed. This is Engine.IO's `maxHttpBufferSize` / `maxPayload`.
    pub max_body: usize,
    /// Most chunk-extension and trailer bytes in one chunked body (they are read and dropped).
    /// More: `400 Bad Request`.
    pub max_chunked_overhead: usize,
    /// How long a connection may sit with no request begun: before the first request and
    /// between keep-alive requests. On expiry the connection is closed without an answer.
    pub idle_timeout: Duration,
    /// How long the head of a request may take to arrive, from its first byte.
    /// On expiry: `408 Request Timeout` and the connection is closed.
    pub header_timeout: Duration,
    /// How long the body of a request may take to arrive, from the end of its head.
    /// On expiry: `408 Request Timeout` and the connection is closed.
    pub body_timeout: Duration,
    /// How long writing one response may take. On expiry the connection is closed.
    pub write_timeout: Duration,
    /// After an answer that closes the connection, how long unread request bytes are still
    /// read and dropped, so that the peer's kernel does not answer with a reset that could
    /// destroy the response before the peer has read it.
    pub linger: Duration,
}

impl Default for Config {
    /// 8 KiB request line, 16 KiB head, 100 header fields, 1 000 000 bytes of body (Engine.IO's
    /// default `maxHttpBufferSize`), 4 KiB of chunked overhead; 60 s idle, 10 s for a head,
    /// 30 s for a body, 30 s to write a response, 2 s of linger.
    fn default() -> Self {
        Config {
            max_request_line: 8 * 1024,
            max_head: 16 * 1024,
            max_headers: 100,
            max_body: 1_000_000,
            max_chunked_overhead: 4 * 1024,
            idle_timeout: Duration::from_secs(60),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            linger: Duration::from_secs(2),
        }
    }
}
