//! What a session asks the caller to put on the wire.

use bytes::Bytes;

use crate::packet::Message;
use crate::request::RequestId;
use crate::response::Response;

/// Something to write, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transmit {
    /// Answer the HTTP request `request`.
    Respond {
        /// The request to answer.
        request: RequestId,
        /// The answer.
        response: Response,
    },
    /// Complete the WebSocket handshake of `request` (101 Switching
    /// Protocols). From now on `request` names that WebSocket.
    AcceptWebSocket {
        /// The upgrade request.
        request: RequestId,
    },
    /// Send one message on a WebSocket.
    WebSocket {
        /// The WebSocket (the id of its upgrade request).
        socket: RequestId,
        /// The message.
        frame: WsFrame,
    },
    /// Close a WebSocket with a close frame; no further frames will be sent on it.
    CloseWebSocket {
        /// The WebSocket.
        socket: RequestId,
        /// The close status code (RFC 6455 §7.4).
        code: u16,
        /// A short reason for the close frame.
        reason: &'static str,
    },
}

/// One WebSocket message carrying one Engine.IO packet.
///
/// A text packet is its type character followed by its data. The two are kept
/// apart so that a message shared by many sessions (a broadcast) is never
/// copied: write the prefix and the shared data with one vectored write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsFrame {
    /// A text message: `prefix` (the packet type, e.g. `b'4'`) then `data`.
    Text {
        /// The packet type character.
        prefix: u8,
        /// The rest of the packet.
        data: Bytes,
    },
    /// A binary message (an Engine.IO binary `message` packet, raw bytes).
    Binary(Bytes),
}

impl WsFrame {
    /// How a `message` packet travels over WebSocket: a text message after the type
    /// character `4`, a binary message as its raw bytes. A runtime that writes messages of a
    /// session itself (see [`Session::direct_websocket`](crate::Session::direct_websocket))
    /// frames them with this, as the session does.
    pub fn message(message: Message) -> WsFrame {
        match message {
            Message::Text(data) => WsFrame::Text { prefix: b'4', data },
            Message::Binary(data) => WsFrame::Binary(data),
        }
    }

    /// Length of the WebSocket message payload.
    pub fn len(&self) -> usize {
        match self {
            WsFrame::Text { data, .. } => 1 + data.len(),
            WsFrame::Binary(data) => data.len(),
        }
    }

    /// Whether the payload is empty (never for text messages).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The payload as one contiguous buffer (copies text messages).
    pub fn to_bytes(&self) -> Bytes {
        match self {
            WsFrame::Text { prefix, data } => {
                let mut out = Vec::with_capacity(1 + data.len());
                out.push(*prefix);
                out.extend_from_slice(data);
                Bytes::from(out)
            }
            WsFrame::Binary(data) => data.clone(),
        }
    }
}
