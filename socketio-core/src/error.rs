//! Errors the embedding application gets back from commands.

/// A command that does not fit the connection's state: the caller's mistake
/// or a race with the client (which may have left meanwhile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// No CONNECT for this namespace is waiting for a decision.
    #[error("no connect request is pending for this namespace")]
    NoPendingConnect,
    /// The namespace is not joined (never was, or the socket left).
    #[error("the namespace is not connected")]
    NotConnected,
    /// The connection is closed.
    #[error("the connection is closed")]
    Closed,
    /// Too many emits are waiting for their acks on this socket.
    #[error("too many acks pending on this socket")]
    TooManyPendingAcks,
    /// The packet cannot be written by the connection's parser: for MessagePack, a value
    /// nested deeper than 512 levels.
    #[error("the packet nests too deep for the connection's parser")]
    TooDeepForParser,
    /// A packet in one parser's form was given to a connection that uses another.
    #[error("the packet is not in the connection's parser's form")]
    ParserMismatch,
}
