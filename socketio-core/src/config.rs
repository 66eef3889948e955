//! Connection settings.

use std::time::Duration;

use socketio_parser::DecoderConfig;

/// How a [`Connection`](crate::Connection) behaves. Take the defaults and
/// change what you need (`..Config::default()`: fields may be added).
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a new connection may take to join its first namespace before
    /// it is closed (default 45 s, as the reference server).
    pub connect_timeout: Duration,
    /// Limits of the packet decoder (attachments, packet size, nesting).
    pub decoder: DecoderConfig,
    /// Most emits waiting for an ack per socket (default 4096); more are
    /// refused with [`UsageError::TooManyPendingAcks`](crate::UsageError).
    pub max_pending_acks: usize,
    /// Most namespaces one connection may join or ask to join at once (default 100). A
    /// CONNECT past it is refused with a CONNECT_ERROR `{"message":"Too many namespaces"}`
    /// and the connection stays open: each namespace holds a socket and costs work on every
    /// packet of the connection, and the reference server sets no bound.
    pub max_namespaces: usize,
    /// How packets are written on the wire (default: the text parser).
    pub parser: Parser,
}

/// How packets travel: the official default parser, or another one a client can be built
/// with. Server and clients must use the same.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Parser {
    /// `socket.io-parser`: a text message per packet, then a binary message per attachment.
    #[default]
    Default,
    /// `socket.io-msgpack-parser` 3.x: one binary message per packet, the MessagePack
    /// encoding of `{type, data, nsp, id}` with bytes inline (feature `msgpack`).
    #[cfg(feature = "msgpack")]
    MsgPack,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            connect_timeout: Duration::from_secs(45),
            decoder: DecoderConfig::default(),
            max_pending_acks: 4096,
            max_namespaces: 100,
            parser: Parser::Default,
        }
    }
}
