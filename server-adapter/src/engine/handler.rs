//! The Engine.IO application API: a handler called for each session's events,
//! and a handle to send to or close a session from anywhere.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use engineio::{CloseReason, Message, SendError, Sid};

use super::app::{AppFactory, Engine, HandshakeRequest, SessionApp, Signal};

/// What an Engine.IO application does with its sessions' events.
///
/// The methods run in the session's own task, one event at a time and in
/// order; keep them short (hand long work to another task with a clone of the
/// [`SessionHandle`]). Messages sent from a handler are coalesced: everything
/// sent while handling one POST goes out in one long-poll answer, queued
/// before the POST itself is answered.
pub trait EngineHandler: Send + Sync + 'static {
    /// A session opened.
    fn on_open(&self, session: &SessionHandle, request: &HandshakeRequest) {
        let _ = (session, request);
    }

    /// The client sent a message.
    fn on_message(&self, session: &SessionHandle, message: Message);

    /// The session moved to WebSocket.
    fn on_upgrade(&self, session: &SessionHandle) {
        let _ = session;
    }

    /// The session closed.
    fn on_close(&self, session: &SessionHandle, reason: CloseReason) {
        let _ = (session, reason);
    }
}

enum Command {
    Send(Message),
    Close,
}

struct HandleShared {
    queue: Mutex<VecDeque<Command>>,
    signal: Arc<dyn Signal>,
    /// Messages waiting here or in the engine's buffer.
    backlog: AtomicUsize,
    max_backlog: usize,
    closed: AtomicBool,
}

/// A handle on one session: send to it or close it from any task. Cheap to clone.
///
/// Sends are queued for the session's task. The queue is bounded by the
/// engine's [`OutboxLimits::max_packets`](engineio::OutboxLimits): past it a
/// send is refused with [`SendError::BufferFull`] and nothing is queued.
#[derive(Clone)]
pub struct SessionHandle {
    sid: Sid,
    shared: Arc<HandleShared>,
}

impl std::fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionHandle")
            .field("sid", &self.sid)
            .finish_non_exhaustive()
    }
}

impl SessionHandle {
    /// The session id.
    pub fn sid(&self) -> Sid {
        self.sid
    }

    /// Whether the session is closed.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Sends a text message.
    pub fn send_text(&self, text: impl Into<String>) -> Result<(), SendError> {
        self.send(Message::Text(Bytes::from(text.into())))
    }

    /// Sends a binary message.
    pub fn send_binary(&self, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.send(Message::Binary(data.into()))
    }

    /// Sends a message (text must be UTF-8, as [`Message::Text`] says).
    pub fn send(&self, message: Message) -> Result<(), SendError> {
        if self.is_closed() {
            return Err(SendError::Closed);
        }
        if self.shared.backlog.fetch_add(1, Ordering::AcqRel) >= self.shared.max_backlog {
            self.shared.backlog.fetch_sub(1, Ordering::AcqRel);
            self.shared.signal.counters().buffer_full();
            tracing::debug!(sid = %self.sid, "send refused: the session's buffer is full");
            return Err(SendError::BufferFull);
        }
        self.push(Command::Send(message));
        Ok(())
    }

    /// Closes the session; messages already sent are delivered first.
    pub fn close(&self) {
        if !self.is_closed() {
            self.push(Command::Close);
        }
    }

    fn push(&self, command: Command) {
        self.shared
            .queue
            .lock()
            .expect("the queue lock is never held across a panic")
            .push_back(command);
        self.shared.signal.ring();
    }
}

/// Runs an [`EngineHandler`] inside each session's task.
pub(crate) struct HandlerApp<H> {
    handler: Arc<H>,
    handle: SessionHandle,
    request: HandshakeRequest,
}

impl<H: EngineHandler> SessionApp for HandlerApp<H> {
    fn handle_event(&mut self, event: engineio::Event, engine: &mut Engine<'_>) {
        match event {
            engineio::Event::Opened(_) => self.handler.on_open(&self.handle, &self.request),
            engineio::Event::Message(message) => {
                self.handler.on_message(&self.handle, message);
                // Apply what the handler sent right away, so that replies to a
                // POST's messages are queued before the POST is answered.
                self.handle_commands(engine);
            }
            engineio::Event::Upgraded => self.handler.on_upgrade(&self.handle),
            engineio::Event::Closed(reason) => {
                self.handle.shared.closed.store(true, Ordering::Release);
                self.handler.on_close(&self.handle, reason);
            }
            _ => {}
        }
    }

    fn handle_commands(&mut self, engine: &mut Engine<'_>) {
        let commands =
            std::mem::take(&mut *self.handle.shared.queue.lock().expect("never poisoned"));
        for command in commands {
            match command {
                Command::Send(message) => {
                    if let Err(e) = engine.send(message) {
                        tracing::debug!(error = %e, "message dropped");
                    }
                }
                Command::Close => engine.close(),
            }
        }
    }

    fn poll_work(&mut self, _cx: &mut Context<'_>, _engine: &mut Engine<'_>) -> Poll<()> {
        Poll::Pending
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn handle_timeout(&mut self, _engine: &mut Engine<'_>) {}

    fn shutdown(&mut self, engine: &mut Engine<'_>) {
        engine.close();
    }

    fn after_turn(&mut self, engine: &Engine<'_>) {
        let queued = self
            .handle
            .shared
            .queue
            .lock()
            .expect("never poisoned")
            .len();
        self.handle.shared.backlog.store(
            queued + engine.session.buffered_messages(),
            Ordering::Release,
        );
    }

    fn finish(&mut self) -> Vec<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>> {
        self.handle.shared.closed.store(true, Ordering::Release);
        Vec::new()
    }
}

/// Makes a [`HandlerApp`] for each session.
pub(crate) struct HandlerFactory<H> {
    pub(crate) handler: Arc<H>,
    pub(crate) max_backlog: usize,
}

impl<H: EngineHandler> AppFactory for HandlerFactory<H> {
    type App = HandlerApp<H>;

    fn create(&self, request: HandshakeRequest, signal: Arc<dyn Signal>) -> HandlerApp<H> {
        let handle = SessionHandle {
            sid: request.sid,
            shared: Arc::new(HandleShared {
                queue: Mutex::new(VecDeque::new()),
                signal,
                backlog: AtomicUsize::new(0),
                max_backlog: self.max_backlog,
                closed: AtomicBool::new(false),
            }),
        };
        HandlerApp {
            handler: self.handler.clone(),
            handle,
            request,
        }
    }
}
