//! WebSocket (RFC 6455), server side: a sans-IO core (handshake, frame headers, message
//! assembly with incremental UTF-8 validation) and [`WebSocket`], the tokio object a session
//! task drives.
//!
//! ```text
//!   bytes in ──► Decoder (assemble.rs) ──► Message::{Text, Binary, Pong, Close}
//!                   │ ping                         ▲ recv()
//!                   ▼                              │
//!               WriteQueue (write.rs) ◄── send(Outgoing) / send_batch / queue + flush / close
//!                   │ one write: headers + caller's chunks (small ones gathered first)
//!                   ▼
//!               bytes out
//! ```
//!
//! Decisions:
//! - No extension is negotiated: `permessage-deflate` offers are ignored, and a frame with a
//!   reserved bit set fails the connection (1002). No subprotocol is selected.
//! - Non-minimal payload length encodings from the peer are accepted (RFC 6455 asks senders for
//!   the minimal form; refusing buys nothing).
//! - The message size limit ([`Config::max_message_size`], Engine.IO's `maxPayload`) counts a
//!   whole message, every fragment included, and is checked from frame headers before any
//!   payload is kept: over it, the socket closes with 1009.
//! - Invalid UTF-8 closes with 1007 as soon as the offending byte arrives, even mid-frame; every
//!   other violation closes with 1002.
//! - The server closes the TCP connection first after a close handshake (RFC 6455 §7.1.1), then
//!   keeps reading until the peer closes, within [`Config::close_timeout`].
//!
//! A driver task owns one [`WebSocket`] and selects over it, its outbound queue and its timer:
//!
//! ```no_run
//! # use server_adapter::ws::{WebSocket, Message, Outgoing, Error};
//! # use bytes::Bytes;
//! # use tokio::time::Instant;
//! # async fn drive<Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
//! #     mut ws: WebSocket<Io>,
//! #     mut outbound: tokio::sync::mpsc::Receiver<Vec<(Bytes, Bytes)>>,
//! #     mut timer: Instant,
//! # ) -> Result<(), Error> {
//! loop {
//!     tokio::select! {
//!         // Cancel-safe: losing the race to another branch loses nothing.
//!         msg = ws.recv() => match msg? {
//!             Message::Text(_text) => { /* session.handle_ws_message(now, ...) */ }
//!             Message::Binary(_data) => { /* session.handle_ws_message(now, ...) */ }
//!             Message::Pong(_) => {}
//!             Message::Close(_frame) => return Ok(()), // handshake done, connection closed
//!         },
//!         Some(packets) = outbound.recv() => {
//!             // Each packet: a one-byte type prefix and a shared payload, not copied.
//!             let parts: Vec<[Bytes; 2]> = packets.into_iter().map(|(p, d)| [p, d]).collect();
//!             let batch: Vec<Outgoing<'_>> = parts.iter().map(|p| Outgoing::Text(p)).collect();
//!             // One vectored write. A peer that stops reading holds the send, so race it with
//!             // the timer; if the timer wins, the started rest stays queued and any later call
//!             // finishes it.
//!             tokio::select! {
//!                 sent = ws.send_batch(&batch) => sent?,
//!                 () = tokio::time::sleep_until(timer) => { /* session.handle_timeout(now) */ }
//!             }
//!         }
//!         () = tokio::time::sleep_until(timer) => {
//!             // session.handle_timeout(now); then re-arm from session.poll_timeout()
//!             timer = Instant::now() + std::time::Duration::from_secs(25);
//!         }
//!     }
//! }
//! # }
//! ```

mod assemble;
mod error;
mod frame;
pub mod handshake;
mod message;
mod socket;
mod utf8;
mod write;

use std::time::Duration;

pub use assemble::{Decoder, Incoming, Role};
pub use error::{Error, ProtocolError};
pub use frame::{
    apply_mask, encode_frame, FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN,
};
pub use handshake::{accept, accept_key, is_upgrade_request, Accept};
pub use message::{CloseCode, CloseFrame, Message, Outgoing};
pub use socket::WebSocket;
pub use utf8::{InvalidUtf8, Utf8Validator};
pub use write::MAX_QUEUED_PONGS;

/// Limits and timeouts of a WebSocket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Largest message (all fragments) accepted, in bytes; over it the socket closes with 1009.
    /// Engine.IO's `maxPayload`.
    pub max_message_size: usize,
    /// How long the close handshake may take (flushing, waiting for the peer's close frame and
    /// for it to close the connection) before the connection is dropped.
    pub close_timeout: Duration,
}

impl Default for Config {
    /// 1 000 000 bytes (Engine.IO's default `maxHttpBufferSize`) and 5 seconds.
    fn default() -> Self {
        Config {
            max_message_size: 1_000_000,
            close_timeout: Duration::from_secs(5),
        }
    }
}
