//! The bounded buffer of packets waiting for a transport to carry them.

use crate::config::OutboxLimits;
use crate::error::SendError;
use crate::fifo::Fifo;
use crate::packet::{Message, Outgoing};

/// Packets the session has to send, in order. Application messages count
/// against [`OutboxLimits`]; control packets (ping, close, noop) do not, and
/// at most a handful of them can be waiting at once.
#[derive(Debug)]
pub(crate) struct Outbox {
    packets: Fifo<Outgoing>,
    app_packets: usize,
    app_bytes: usize,
    limits: OutboxLimits,
}

impl Outbox {
    pub(crate) fn new(limits: OutboxLimits) -> Self {
        Outbox {
            packets: Fifo::new(),
            app_packets: 0,
            app_bytes: 0,
            limits,
        }
    }

    /// Queues an application message, or refuses it when a bound would be
    /// exceeded (nothing is queued then).
    pub(crate) fn push_message(&mut self, message: Message) -> Result<(), SendError> {
        let len = message.len();
        if self.app_packets + 1 > self.limits.max_packets
            || self.app_bytes + len > self.limits.max_bytes
        {
            return Err(SendError::BufferFull);
        }
        self.app_packets += 1;
        self.app_bytes += len;
        self.packets.push_back(Outgoing::Message(message));
        Ok(())
    }

    /// Queues a control packet; never refused.
    pub(crate) fn push_control(&mut self, packet: Outgoing) {
        debug_assert!(!matches!(packet, Outgoing::Message(_)));
        self.packets.push_back(packet);
    }

    pub(crate) fn pop(&mut self) -> Option<Outgoing> {
        let packet = self.packets.pop_front()?;
        if let Outgoing::Message(m) = &packet {
            self.app_packets -= 1;
            self.app_bytes -= m.len();
        }
        Some(packet)
    }

    /// Takes every queued packet.
    pub(crate) fn take_all(&mut self) -> Vec<Outgoing> {
        self.app_packets = 0;
        self.app_bytes = 0;
        std::mem::take(&mut self.packets).into_iter().collect()
    }

    pub(crate) fn clear(&mut self) {
        self.packets.clear();
        self.app_packets = 0;
        self.app_bytes = 0;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.packets.len()
    }

    /// Bytes of application data waiting.
    pub(crate) fn buffered_bytes(&self) -> usize {
        self.app_bytes
    }

    /// Application messages waiting.
    pub(crate) fn buffered_messages(&self) -> usize {
        self.app_packets
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn text(s: &'static str) -> Message {
        Message::Text(Bytes::from_static(s.as_bytes()))
    }

    #[test]
    fn refuses_past_the_packet_bound_and_accepts_control_packets() {
        let mut outbox = Outbox::new(OutboxLimits {
            max_packets: 2,
            max_bytes: 100,
        });
        outbox.push_message(text("a")).unwrap();
        outbox.push_message(text("b")).unwrap();
        assert_eq!(outbox.push_message(text("c")), Err(SendError::BufferFull));
        outbox.push_control(Outgoing::Ping);
        assert_eq!(outbox.len(), 3);
        assert!(matches!(outbox.pop(), Some(Outgoing::Message(_))));
        outbox.push_message(text("c")).unwrap();
    }

    #[test]
    fn refuses_past_the_byte_bound() {
        let mut outbox = Outbox::new(OutboxLimits {
            max_packets: 10,
            max_bytes: 5,
        });
        outbox.push_message(text("abc")).unwrap();
        assert_eq!(outbox.push_message(text("abc")), Err(SendError::BufferFull));
        outbox.push_message(text("ab")).unwrap();
        assert_eq!(outbox.buffered_bytes(), 5);
        let all = outbox.take_all();
        assert_eq!(all.len(), 2);
        assert_eq!(outbox.buffered_bytes(), 0);
        outbox.push_message(text("abcde")).unwrap();
    }
}
