//! Errors of the Socket.IO server API: each says whose fault it is.

use socketio_parser::{ArgsError, EncodeError};

/// Why an emit did not go out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The caller's mistake: a reserved event name, or data that does not serialize.
    #[error("cannot encode the event: {0}")]
    Encode(#[from] EncodeError),
    /// The client is not reading fast enough and its outbound buffer is at its
    /// bound; nothing was queued.
    #[error("the socket's outbound buffer is full")]
    BufferFull,
    /// The socket is disconnected.
    #[error("the socket is disconnected")]
    Disconnected,
}

/// Why an emit with an acknowledgement got no usable answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// No answer within the timeout.
    #[error("no acknowledgement within the timeout")]
    Timeout,
    /// The socket disconnected before answering.
    #[error("the socket disconnected before acknowledging")]
    Disconnected,
    /// The answer does not fit the requested type: the client's data or the
    /// caller's type is wrong.
    #[error("the acknowledgement does not fit the expected type: {0}")]
    Decode(#[from] ArgsError),
    /// The event could not be sent.
    #[error(transparent)]
    Emit(#[from] EmitError),
}

/// A refusal by connect middleware, sent to the client as CONNECT_ERROR
/// `{"message": ..., "data": ...}`; the client sees it as `connect_error`
/// with `err.message` and `err.data`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    pub(crate) message: String,
    pub(crate) data: Option<serde_json::Value>,
}

impl ConnectError {
    /// A refusal with this message.
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Adds data the client receives as `err.data`.
    pub fn with_data(mut self, data: impl serde::Serialize) -> Self {
        self.data = serde_json::to_value(data).ok();
        self
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}
