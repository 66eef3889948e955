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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            connect_timeout: Duration::from_secs(45),
            decoder: DecoderConfig::default(),
            max_pending_acks: 4096,
        }
    }
}
