//! The values a WebSocket receives and sends: messages, close codes and close frames.

use bytes::Bytes;

/// A status code of a close frame (RFC 6455 §7.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED: CloseCode = CloseCode(1003);
    /// 1005: no status code was present (reported locally, never sent).
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: closed without a close frame (reported locally, never sent).
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: data inconsistent with the message type (invalid UTF-8 in a text message).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message that violates the endpoint's policy.
    pub const POLICY: CloseCode = CloseCode(1008);
    /// 1009: a message too big to process.
    pub const TOO_BIG: CloseCode = CloseCode(1009);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);

    /// Whether the code may appear in a close frame: 1000-1003, 1007-1014 (the IANA registry's
    /// codes; 1004-1006 and 1015 are reserved), and 3000-4999 (libraries and applications).
    #[must_use]
    pub fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

/// A close frame's status code and reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// The reason, UTF-8, at most 123 bytes.
    pub reason: String,
}

/// What [`WebSocket::recv`](super::WebSocket::recv) yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A complete text message; its bytes are valid UTF-8.
    Text(Bytes),
    /// A complete binary message.
    Binary(Bytes),
    /// A pong (an answer to a ping, or unsolicited); may be ignored.
    Pong(Bytes),
    /// The peer closed: its close frame (`None` when it carried no status code). The close
    /// handshake is complete and the connection closed when this is returned.
    Close(Option<CloseFrame>),
}

/// A message to send, its payload given as several buffers that are written as they are
/// (no copy) after the frame header, e.g. a one-byte type prefix and a shared payload.
#[derive(Clone, Copy, Debug)]
pub enum Outgoing<'a> {
    /// A text message. The caller guarantees that the concatenated chunks are UTF-8 (the socket
    /// does not check; a peer may close with 1007 otherwise).
    Text(&'a [Bytes]),
    /// A binary message.
    Binary(&'a [Bytes]),
}

impl<'a> Outgoing<'a> {
    pub(crate) fn chunks(&self) -> &'a [Bytes] {
        match *self {
            Outgoing::Text(c) | Outgoing::Binary(c) => c,
        }
    }

    pub(crate) fn payload_len(&self) -> u64 {
        self.chunks().iter().map(|c| c.len() as u64).sum()
    }
}
