//! The queue through which any task reaches one connection's session task.
//!
//! Emits, broadcasts, acks and disconnects are queued here and the session
//! task is woken; it applies them in order on its next turn. The queue is
//! bounded: it counts the messages waiting here plus those the Engine.IO
//! session still buffers (a polling client that has not polled yet), and an
//! emit past [`Limits::max_backlog`](super::Limits) is refused with
//! [`EmitError::BufferFull`]. Volatile emits are dropped instead of refused,
//! and are also dropped whenever the transport cannot take them at once.
//!
//! While the session task waits with nothing to write and its session would send at once
//! on a plain TCP WebSocket, its *lane* is open (see `engine::lane`): an encoded packet
//! that finds nothing queued here ahead of it is then queued on the lane, written by the
//! server's flusher, and the session task is not woken. While anything waits here, emits
//! wait behind it, so nothing overtakes it; the lane bounds what it holds itself.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use socketio_core::DisconnectReason;
use socketio_parser::{Namespace, Packet};
use tokio::sync::oneshot;

use super::error::{AckError, EmitError};
use crate::engine::{Flusher, Signal, WriteLane};
use crate::metrics::SessionCounters;

/// An encoded packet: its text frame (no Engine.IO prefix) and attachments.
/// A broadcast builds one and every recipient shares it.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) text: Bytes,
    pub(crate) attachments: Vec<Bytes>,
    /// The same packet as one MessagePack frame, made by the first recipient that speaks
    /// MessagePack and shared by the others (`None`: it nests too deep for MessagePack).
    #[cfg(feature = "msgpack")]
    msgpack: std::sync::OnceLock<Option<Bytes>>,
}

impl Frame {
    pub(crate) fn new(text: Bytes, attachments: Vec<Bytes>) -> Self {
        Frame {
            text,
            attachments,
            #[cfg(feature = "msgpack")]
            msgpack: std::sync::OnceLock::new(),
        }
    }

    /// The packet as one MessagePack frame, transcoded once for all the recipients.
    #[cfg(feature = "msgpack")]
    pub(crate) fn msgpack(&self) -> Option<Bytes> {
        self.msgpack
            .get_or_init(|| {
                socketio_parser::msgpack::encode_text_packet(&self.text, &self.attachments).ok()
            })
            .clone()
    }
}

/// The answer to an emit with ack: the ACK packet, or why there is none.
pub(crate) type AckReply = oneshot::Sender<Result<Packet, AckError>>;

/// Work for a session task.
#[derive(Debug)]
pub(crate) enum Command {
    /// Send an encoded EVENT or ACK to the socket in `namespace`.
    Send {
        namespace: Namespace,
        frame: Arc<Frame>,
    },
    /// Send an event that waits for an ack: the session task gives it an id.
    EmitWithAck {
        packet: Packet,
        timeout: Option<Duration>,
        reply: AckReply,
    },
    /// Make the socket in `namespace` leave it.
    Disconnect { namespace: Namespace },
    /// End the whole connection.
    Close { reason: DisconnectReason },
}

impl Command {
    fn bytes(&self) -> usize {
        match self {
            Command::Send { frame, .. } => {
                frame.text.len() + frame.attachments.iter().map(Bytes::len).sum::<usize>()
            }
            Command::EmitWithAck { packet, .. } => packet.payload().map_or(0, Bytes::len),
            _ => 0,
        }
    }
}

/// The commands waiting for the session task, and the connection's lane.
#[derive(Debug, Default)]
struct Queue {
    commands: VecDeque<Command>,
    lane: Option<Lane>,
}

/// A connection's lane: its stream, the flusher that writes it, and how its packets travel.
#[derive(Debug)]
struct Lane {
    writer: Arc<WriteLane>,
    flusher: Arc<Flusher>,
    /// The connection speaks MessagePack: a packet goes as its one MessagePack frame.
    msgpack: bool,
}

/// One connection's inbound queue of commands.
#[derive(Debug)]
pub(crate) struct Outbound {
    queue: Mutex<Queue>,
    /// Whether `queue.lane` is set, readable without the lock.
    lane_attached: AtomicBool,
    signal: Arc<dyn Signal>,
    /// Messages waiting here or in the engine's buffer.
    backlog: AtomicUsize,
    /// Bytes waiting here or in the engine's buffer.
    backlog_bytes: AtomicUsize,
    /// Whether the transport can take a message at once (for volatile emits).
    writable: AtomicBool,
    closed: AtomicBool,
    max_backlog: usize,
    max_backlog_bytes: usize,
}

impl Outbound {
    pub(crate) fn new(
        signal: Arc<dyn Signal>,
        max_backlog: usize,
        max_backlog_bytes: usize,
    ) -> Self {
        Outbound {
            queue: Mutex::new(Queue::default()),
            lane_attached: AtomicBool::new(false),
            signal,
            backlog: AtomicUsize::new(0),
            backlog_bytes: AtomicUsize::new(0),
            writable: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            max_backlog,
            max_backlog_bytes,
        }
    }

    /// Queues a message-carrying command under the bound (`Ok(true)`), or writes it through
    /// the open lane when nothing waits ahead of it and the target socket is still
    /// `connected` (`Ok(true)` too); volatile ones are dropped (`Ok(false)`) when they could
    /// not go out at once. Refused and dropped ones are counted.
    pub(crate) fn push_message(
        &self,
        command: Command,
        volatile: bool,
        connected: &AtomicBool,
    ) -> Result<bool, EmitError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(EmitError::Disconnected);
        }
        if volatile && !self.writable.load(Ordering::Acquire) {
            self.counters().volatile_dropped();
            return Ok(false);
        }
        let bytes = command.bytes();
        let full = self.backlog.load(Ordering::Acquire) >= self.max_backlog
            || self.backlog_bytes.load(Ordering::Acquire) + bytes > self.max_backlog_bytes;
        if full {
            return if volatile {
                self.counters().volatile_dropped();
                Ok(false)
            } else {
                self.counters().buffer_full();
                Err(EmitError::BufferFull)
            };
        }
        let queue = self.lock();
        if let (Some(lane), Command::Send { frame, .. }) = (&queue.lane, &command) {
            // Checked under the lock: the session task marks a socket gone during a turn,
            // while the lane is closed.
            // The session task's own emits (an ack from a handler it runs) find the lane
            // closed: checked first, as it costs nothing.
            if lane.writer.is_open()
                && queue.commands.is_empty()
                && connected.load(Ordering::Acquire)
                && self.queue_through(lane, frame)
            {
                return Ok(true);
            }
        }
        self.backlog.fetch_add(1, Ordering::AcqRel);
        self.backlog_bytes.fetch_add(bytes, Ordering::AcqRel);
        self.push_locked(queue, command);
        Ok(true)
    }

    /// Queues an encoded packet's messages on the lane, counted as sent; `false` when the
    /// lane does not take them (nothing was queued).
    fn queue_through(&self, lane: &Lane, frame: &Frame) -> bool {
        self.try_queue_through(lane, frame).unwrap_or(false)
    }

    fn try_queue_through(&self, lane: &Lane, frame: &Frame) -> Option<bool> {
        let mut messages: [engineio::WsFrame; 8] =
            std::array::from_fn(|_| engineio::WsFrame::Binary(Bytes::new()));
        let mut count = 0;
        #[cfg(feature = "msgpack")]
        if lane.msgpack {
            // Transcoded once, by the first recipient, for all of them.
            messages[0] = engineio::WsFrame::message(engineio::Message::Binary(frame.msgpack()?));
            count = 1;
        }
        if !lane.msgpack {
            let transmits =
                socketio_core::Transmit::packet_messages(&frame.text, &frame.attachments);
            for transmit in transmits {
                let message = match transmit {
                    socketio_core::Transmit::Text(text) => engineio::Message::Text(text),
                    socketio_core::Transmit::Binary(data) => engineio::Message::Binary(data),
                    _ => return None,
                };
                *messages.get_mut(count)? = engineio::WsFrame::message(message);
                count += 1;
            }
        }
        let queued = lane
            .writer
            .queue_frames(&messages[..count], &lane.flusher, &self.signal);
        if queued {
            for message in &messages[..count] {
                // The Engine.IO message's length, as the session task counts it.
                let len = match message {
                    engineio::WsFrame::Text { data, .. } | engineio::WsFrame::Binary(data) => {
                        data.len()
                    }
                };
                self.counters().sent(len);
                tracing::trace!(len, "message sent through the lane");
            }
        }
        Some(queued)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .expect("the queue lock is never held across a panic")
    }

    /// Gives the connection its lane (session task only, the first time the lane opens):
    /// emits may then be queued on it while it is open. `false` once the connection is
    /// closed.
    pub(crate) fn attach_lane(
        &self,
        writer: &Arc<WriteLane>,
        flusher: &Arc<Flusher>,
        msgpack: bool,
    ) -> bool {
        if self.lane_attached.load(Ordering::Acquire) {
            return true;
        }
        let mut queue = self.lock();
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        queue.lane = Some(Lane {
            writer: writer.clone(),
            flusher: flusher.clone(),
            msgpack,
        });
        self.lane_attached.store(true, Ordering::Release);
        true
    }

    /// The connection's counts (see [`crate::metrics`]).
    pub(crate) fn counters(&self) -> &SessionCounters {
        self.signal.counters()
    }

    /// Queues a control command (disconnect, close): never refused.
    pub(crate) fn push_control(&self, command: Command) {
        if !self.closed.load(Ordering::Acquire) {
            self.push(command);
        }
    }

    fn push(&self, command: Command) {
        self.push_locked(self.lock(), command);
    }

    /// Queues a command and wakes the task. While a command waits, emits are queued behind
    /// it, not on the lane.
    fn push_locked(&self, mut queue: std::sync::MutexGuard<'_, Queue>, command: Command) {
        queue.commands.push_back(command);
        drop(queue);
        self.signal.ring();
    }

    /// Takes every queued command (session task only).
    pub(crate) fn drain(&self) -> VecDeque<Command> {
        std::mem::take(&mut self.lock().commands)
    }

    /// Publishes what the engine still buffers and whether it can send at
    /// once (session task only, after each turn).
    pub(crate) fn publish(&self, engine_messages: usize, engine_bytes: usize, writable: bool) {
        self.backlog.store(engine_messages, Ordering::Release);
        self.backlog_bytes.store(engine_bytes, Ordering::Release);
        self.writable.store(writable, Ordering::Release);
    }

    /// Marks the connection gone: later pushes fail. Returns what was left.
    pub(crate) fn close(&self) -> VecDeque<Command> {
        self.closed.store(true, Ordering::Release);
        self.writable.store(false, Ordering::Release);
        let mut queue = self.lock();
        // The stream's write side goes with the session, whoever still holds this queue.
        queue.lane = None;
        std::mem::take(&mut queue.commands)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::TestSignal;

    /// A broadcast is transcoded to MessagePack once: every recipient gets the same bytes.
    #[cfg(feature = "msgpack")]
    #[test]
    fn a_frame_is_transcoded_to_msgpack_once() {
        let frame = Frame::new(
            Bytes::from_static(br#"51-["file",{"_placeholder":true,"num":0}]"#),
            vec![Bytes::from_static(b"\x01\x02")],
        );
        let first = frame.msgpack().expect("a shallow packet transcodes");
        let second = frame.msgpack().expect("the same");
        assert_eq!(first.as_ptr(), second.as_ptr(), "made once, shared");
        assert_eq!(
            &first[..],
            b"\x83\xa4type\x02\xa4data\x92\xa4file\xc4\x02\x01\x02\xa3nsp\xa1/"
        );
    }

    /// The target socket of the tests' emits, connected.
    static CONNECTED: AtomicBool = AtomicBool::new(true);

    fn send(text: &'static str) -> Command {
        Command::Send {
            namespace: Namespace::main(),
            frame: Arc::new(Frame::new(Bytes::from_static(text.as_bytes()), Vec::new())),
        }
    }

    /// How many sends the queue's connection counts as refused and as dropped.
    fn refused_and_dropped(out: &Outbound) -> (u64, u64) {
        let mut sums = crate::metrics::Sums::default();
        sums.add(out.counters(), true);
        (sums.buffer_full, sums.volatile_dropped)
    }

    #[test]
    fn refuses_past_the_bound_and_drops_volatile() {
        let out = Outbound::new(TestSignal::new(), 2, 1000);
        out.publish(0, 0, true);
        assert!(out.push_message(send("a"), false, &CONNECTED).unwrap());
        assert!(out.push_message(send("b"), false, &CONNECTED).unwrap());
        assert!(matches!(
            out.push_message(send("c"), false, &CONNECTED),
            Err(EmitError::BufferFull)
        ));
        assert!(
            !out.push_message(send("v"), true, &CONNECTED).unwrap(),
            "dropped when full"
        );
        assert_eq!(refused_and_dropped(&out), (1, 1));
        assert_eq!(out.drain().len(), 2);
        out.publish(0, 0, false);
        assert!(!out.push_message(send("v"), true, &CONNECTED).unwrap());
        assert!(
            out.drain().is_empty(),
            "volatile dropped while not writable"
        );
        assert_eq!(refused_and_dropped(&out), (1, 2));
    }

    #[test]
    fn a_closed_queue_refuses() {
        let out = Outbound::new(TestSignal::new(), 10, 1000);
        out.push_message(send("a"), false, &CONNECTED).unwrap();
        assert_eq!(out.close().len(), 1);
        assert!(matches!(
            out.push_message(send("b"), false, &CONNECTED),
            Err(EmitError::Disconnected)
        ));
        out.push_control(Command::Disconnect {
            namespace: Namespace::main(),
        });
        assert!(out.drain().is_empty());
    }

    #[test]
    fn the_byte_bound_counts_the_frame() {
        let out = Outbound::new(TestSignal::new(), 10, 3);
        out.push_message(send("ab"), false, &CONNECTED).unwrap();
        assert!(matches!(
            out.push_message(send("cd"), false, &CONNECTED),
            Err(EmitError::BufferFull)
        ));
    }
}
