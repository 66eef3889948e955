//! Errors the embedding application gets back from commands.

/// Why a send was refused. The session is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The outbound buffer is at its bound (see
    /// [`OutboxLimits`](crate::OutboxLimits)): the client is not reading fast enough.
    #[error("the session's outbound buffer is full")]
    BufferFull,
    /// The session is closing or closed.
    #[error("the session is closed")]
    Closed,
}
