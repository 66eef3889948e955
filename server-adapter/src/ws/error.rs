//! Errors of the WebSocket layer, split by whose fault they are.

use std::io;

use super::message::CloseCode;

/// What the peer did wrong. The socket answers each with a close frame carrying
/// [`ProtocolError::close_code`], then closes the connection ("fails" it, RFC 6455 §7.1.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A reserved bit is set; no extension that would give it a meaning is negotiated.
    #[error("reserved bit set")]
    ReservedBits,
    /// A client frame is not masked.
    #[error("client frame not masked")]
    UnmaskedFrame,
    /// A server frame is masked (seen only when decoding as a client).
    #[error("server frame masked")]
    MaskedFrame,
    /// The opcode is reserved.
    #[error("reserved opcode")]
    ReservedOpcode,
    /// The 64-bit payload length has its most significant bit set.
    #[error("invalid payload length")]
    InvalidLength,
    /// A control frame without FIN.
    #[error("fragmented control frame")]
    FragmentedControl,
    /// A control frame with more than 125 bytes of payload.
    #[error("control frame payload over 125 bytes")]
    ControlTooLong,
    /// A continuation frame with no message in progress.
    #[error("continuation frame without a message in progress")]
    UnexpectedContinuation,
    /// A new text or binary frame while a fragmented message is in progress.
    #[error("new message before the previous one was finished")]
    ExpectedContinuation,
    /// A text message (or close reason) that is not UTF-8; detected as soon as the bytes that
    /// make it so arrive.
    #[error("invalid UTF-8 in a text message or close reason")]
    InvalidUtf8,
    /// A close frame whose payload is one byte long.
    #[error("close frame with a one-byte payload")]
    InvalidClosePayload,
    /// A close frame with a status code that may not be sent (RFC 6455 §7.4).
    #[error("close frame with invalid status code {0}")]
    InvalidCloseCode(u16),
    /// A message larger than the configured limit (checked from frame headers, before any
    /// payload is buffered).
    #[error("message larger than the limit")]
    MessageTooBig,
}

impl ProtocolError {
    /// The status code of the close frame the socket sends for this error: 1007 for invalid
    /// UTF-8, 1009 for a message over the limit, 1002 otherwise.
    #[must_use]
    pub fn close_code(&self) -> CloseCode {
        match self {
            ProtocolError::InvalidUtf8 => CloseCode::INVALID_PAYLOAD,
            ProtocolError::MessageTooBig => CloseCode::TOO_BIG,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

/// Why a WebSocket operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke the protocol; the socket sent a close frame with the error's code and
    /// closed the connection. The peer's fault.
    #[error("peer broke the WebSocket protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// The peer closed the TCP connection without a close handshake (code 1006 in the
    /// browser's terms). The peer's or the network's fault.
    #[error("connection closed without a close handshake")]
    UnexpectedEof,
    /// Reading or writing the connection failed. The transport's fault.
    #[error("WebSocket I/O failed: {0}")]
    Io(#[from] io::Error),
    /// The WebSocket is already closed (the close handshake finished or the connection
    /// failed); nothing more can be sent or received.
    #[error("the WebSocket is closed")]
    Closed,
    /// [`WebSocket::close`](super::WebSocket::close) was given a code that may not be sent
    /// (1004-1006, 1015, or outside 1000-4999). The caller's fault.
    #[error("close code {0} may not be sent")]
    InvalidCloseCode(u16),
    /// [`WebSocket::close`](super::WebSocket::close) was given a reason over 123 bytes. The
    /// caller's fault.
    #[error("close reason longer than 123 bytes")]
    CloseReasonTooLong,
}
