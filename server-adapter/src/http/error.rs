//! Errors of the HTTP layer, split by whose fault they are.

use std::io;

/// What a peer did wrong in a request. Each has the status the connection answers with
/// ([`RequestError::status`]) before it closes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The request does not follow HTTP/1.1's syntax or framing rules (`400`).
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    /// The request line is longer than [`Config::max_request_line`](super::Config) (`414`).
    #[error("request line longer than the limit")]
    RequestLineTooLong,
    /// The head is larger than [`Config::max_head`](super::Config) (`431`).
    #[error("request head larger than the limit")]
    HeadTooLarge,
    /// The head has more fields than [`Config::max_headers`](super::Config) (`431`).
    #[error("more header fields than the limit")]
    TooManyHeaders,
    /// The body is larger than the limit of the request (`413`).
    #[error("request body larger than the limit")]
    BodyTooLarge,
    /// The request names a transfer coding other than `chunked` (`501`).
    #[error("unsupported transfer coding")]
    UnsupportedTransferCoding,
    /// The request has an `Expect` other than `100-continue` (`417`).
    #[error("unsupported expectation")]
    ExpectationFailed,
    /// The request is not HTTP/1.0 or HTTP/1.1 (`505`).
    #[error("unsupported HTTP version")]
    VersionNotSupported,
    /// The head did not arrive within [`Config::header_timeout`](super::Config) (`408`).
    #[error("timed out reading the request head")]
    HeadTimeout,
    /// The body did not arrive within [`Config::body_timeout`](super::Config) (`408`).
    #[error("timed out reading the request body")]
    BodyTimeout,
}

impl RequestError {
    /// The status code the connection answers this error with.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            RequestError::Malformed(_) => 400,
            RequestError::RequestLineTooLong => 414,
            RequestError::HeadTooLarge | RequestError::TooManyHeaders => 431,
            RequestError::BodyTooLarge => 413,
            RequestError::UnsupportedTransferCoding => 501,
            RequestError::ExpectationFailed => 417,
            RequestError::VersionNotSupported => 505,
            RequestError::HeadTimeout | RequestError::BodyTimeout => 408,
        }
    }
}

/// Why [`serve_connection`](super::serve_connection) ended other than by a normal close.
///
/// A connection that ends because the peer closed it, went idle, or aborted a pending request
/// ends with `Ok(())`: those are events, not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The peer sent a request the connection refused; it was answered with
    /// [`RequestError::status`] and the connection was closed. The peer's fault.
    #[error("refused a request: {0}")]
    Refused(#[from] RequestError),
    /// Reading from or writing to the connection failed. The transport's fault.
    #[error("connection I/O failed: {0}")]
    Io(#[from] io::Error),
    /// The peer did not read a response within [`Config::write_timeout`](super::Config).
    #[error("timed out writing a response")]
    WriteTimeout,
}

/// A response header the caller tried to set is not valid. The caller's fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidHeader {
    /// The name is empty or has a byte that is not a token character.
    #[error("invalid header name")]
    Name,
    /// The value has a control byte (CR, LF, NUL...) other than horizontal tab.
    #[error("invalid header value")]
    Value,
    /// The connection sets this header itself (`Content-Length`, `Transfer-Encoding`,
    /// `Connection`); use [`Response::close`](super::Response::close) to close the connection.
    #[error("header {0} is set by the connection")]
    Reserved(&'static str),
}
