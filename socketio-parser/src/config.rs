//! [`DecoderConfig`]: the limits a decoder enforces.

use crate::scan::MAX_DEPTH_LIMIT;

/// Limits for one [`Decoder`](crate::Decoder). Every limit is checked before the memory it
/// guards is used.
///
/// ```
/// use socketio_parser::{Decoder, DecoderConfig};
///
/// let decoder = Decoder::with_config(DecoderConfig::default().with_max_attachments(20));
/// assert_eq!(decoder.config().max_attachments, 20);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecoderConfig {
    /// Most attachments one BINARY_EVENT / BINARY_ACK may announce. Default 10, as the
    /// reference decoder's `maxAttachments`.
    pub max_attachments: usize,
    /// Most bytes one packet may take: its text frame plus all its attachments. Default
    /// 11 000 000: a text frame and ten attachments of Engine.IO's default `maxPayload`
    /// (1 MB) each, so that nothing the reference server accepts by default is refused.
    pub max_packet_size: usize,
    /// Deepest nesting of arrays and objects in a payload; the outer array of an event counts
    /// as 1. Default 64. Values above 512 act as 512. (serde_json itself refuses to
    /// deserialize past 128 levels.)
    pub max_depth: usize,
}

impl DecoderConfig {
    /// The default limits.
    pub const DEFAULT: DecoderConfig = DecoderConfig {
        max_attachments: 10,
        max_packet_size: 11_000_000,
        max_depth: 64,
    };

    /// The deepest nesting `max_depth` can ask for.
    pub const MAX_DEPTH_LIMIT: usize = MAX_DEPTH_LIMIT;

    /// Sets [`max_attachments`](Self::max_attachments).
    #[must_use]
    pub const fn with_max_attachments(mut self, max: usize) -> Self {
        self.max_attachments = max;
        self
    }

    /// Sets [`max_packet_size`](Self::max_packet_size).
    #[must_use]
    pub const fn with_max_packet_size(mut self, max: usize) -> Self {
        self.max_packet_size = max;
        self
    }

    /// Sets [`max_depth`](Self::max_depth).
    #[must_use]
    pub const fn with_max_depth(mut self, max: usize) -> Self {
        self.max_depth = max;
        self
    }
}

impl Default for DecoderConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}
