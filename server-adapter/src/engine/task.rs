//! The task that owns one Engine.IO session.
//!
//! It holds the [`engineio::Session`], the session's WebSockets, the HTTP
//! requests waiting for an answer (a parked long-poll GET), one timer, and the
//! application layer. Each turn it feeds one input to the session, then
//! drains it in the documented order (transmits, then events, repeated until
//! both are empty), writes what came out (all WebSocket frames of the turn in
//! one vectored write), and re-arms the timer from `poll_timeout`.
//!
//! It makes no protocol decision: every rule is the session's.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use engineio::{Event, RequestId, Session, Transmit, WsClosed, WsFrame};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;

use super::app::{Engine, SessionApp};
use super::inbox::Inbox;
use super::lane::SessionStream;
use super::router::RouterHandle;
use crate::metrics::{EngineStats, SessionCounters, Transport};
use crate::ws::{self, CloseCode, Message, Outgoing, WebSocket};

/// A session's WebSocket, over its stream (shared with emitters when it is plain TCP).
pub(crate) type SessionWs<Io> = WebSocket<SessionStream<Io>>;

/// What other tasks hand a session task.
///
/// Kept small: inputs wait in the session's inbox by value.
pub(crate) enum SessionInput<Io> {
    /// An HTTP request routed to this session.
    Request(Box<RoutedRequest>),
    /// The stream of a WebSocket this session accepted, after its `101`.
    WebSocket {
        id: RequestId,
        ws: Box<SessionWs<Io>>,
    },
    /// The server is shutting down.
    Shutdown,
}

/// An HTTP request routed to a session, with its body (POST) and where to send
/// the answer.
pub(crate) struct RoutedRequest {
    pub(crate) request: engineio::SessionRequest,
    pub(crate) body: Option<Bytes>,
    pub(crate) reply: oneshot::Sender<Answer>,
}

/// The answer to a routed request.
#[derive(Debug)]
pub(crate) enum Answer {
    /// An HTTP response.
    Http(engineio::Response),
    /// Accept the WebSocket: write `101`, then hand the stream back as
    /// [`SessionInput::WebSocket`].
    Upgrade,
}

/// One of the session's WebSockets (the current transport, or one being
/// tried for an upgrade).
struct Socket<Io> {
    id: RequestId,
    /// `None` until the connection hands the stream over after its `101`.
    ws: Option<SessionWs<Io>>,
    /// Frames the session wrote before the stream arrived (then queued on it).
    frames: Vec<WsFrame>,
    /// The session closed this socket: send the frames, then this close.
    close: Option<(u16, &'static str)>,
}

/// Most messages already read that one turn hands the session after the one that woke it.
const MAX_BUFFERED_PER_TURN: usize = 16;

/// How many kinds of [`Wake`] there are.
const WAKE_SOURCES: u8 = 5;

/// What woke the task.
enum Wake {
    Socket(RequestId, Result<Message, ws::Error>),
    Commands,
    Aborted(RequestId),
    Work,
    Timer,
}

/// The one-byte Engine.IO type prefixes of text frames, as shared buffers.
const PREFIXES: [&[u8]; 7] = [b"0", b"1", b"2", b"3", b"4", b"5", b"6"];

fn prefix_bytes(prefix: u8) -> Bytes {
    match prefix
        .checked_sub(b'0')
        .and_then(|i| PREFIXES.get(usize::from(i)))
    {
        Some(p) => Bytes::from_static(p),
        None => Bytes::copy_from_slice(&[prefix]),
    }
}

/// Queues an Engine.IO frame on a socket; a socket already closing takes nothing more (its
/// end reaches the session through its receive side).
fn queue_frame<Io: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocket<Io>, frame: WsFrame) {
    let _ = match frame {
        WsFrame::Text { prefix, data } => ws.queue(&Outgoing::Text(&[prefix_bytes(prefix), data])),
        WsFrame::Binary(data) => ws.queue(&Outgoing::Binary(&[data])),
    };
}

/// Whether bytes wait to be written on a session's WebSocket: its frames, or the rest of a
/// message an emitter wrote through the lane.
fn has_writes<Io: AsyncRead + AsyncWrite + Unpin>(ws: &SessionWs<Io>) -> bool {
    ws.has_queued() || ws.io().has_pending()
}

/// The session task.
pub(crate) struct SessionTask<A, Io> {
    session: Box<Session>,
    app: A,
    /// Its signal is rung by inputs and by the app's command queue.
    inbox: Arc<Inbox<Io>>,
    router: RouterHandle<Io>,
    /// Requests waiting for the session's answer: at most a parked GET and a POST, so a
    /// list (half a map's size in every session, and a WebSocket session has none).
    responders: Vec<(RequestId, oneshot::Sender<Answer>)>,
    /// At most two WebSockets: the transport and one being tried.
    /// Boxed: the second is there only during an upgrade, and a polling session has none.
    sockets: [Option<Box<Socket<Io>>>; 2],
}

/// The size of the future of a session task running `A` over TCP, as spawned (inside its
/// span), for the tests that bound what an idle connection costs.
#[cfg(test)]
pub(crate) fn session_future_size<A: SessionApp>() -> usize {
    fn spawned_size<T, R>(_: fn(T) -> R) -> usize {
        std::mem::size_of::<crate::trace::InSpan<R>>()
    }
    spawned_size(SessionTask::<A, tokio::net::TcpStream>::run)
}

/// The current time on tokio's clock (which tests can pause and advance).
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

impl<A, Io> SessionTask<A, Io>
where
    A: SessionApp,
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    pub(crate) fn new(
        session: Box<Session>,
        app: A,
        inbox: Arc<Inbox<Io>>,
        router: RouterHandle<Io>,
    ) -> Self {
        SessionTask {
            session,
            app,
            inbox,
            router,
            responders: Vec::new(),
            sockets: [None, None],
        }
    }

    /// Registers where the answer to `request` goes (the handshake GET).
    pub(crate) fn expect_answer(&mut self, request: RequestId, reply: oneshot::Sender<Answer>) {
        self.responders.push((request, reply));
    }

    /// Gives the task the stream of the WebSocket that opened the session.
    pub(crate) fn attach(&mut self, id: RequestId, ws: SessionWs<Io>) {
        self.sockets[0] = Some(Box::new(Socket {
            id,
            ws: Some(ws),
            frames: Vec::new(),
            close: None,
        }));
    }

    /// Runs the session to its end.
    ///
    /// The future is most of what an idle connection costs, so it is kept small: this is a
    /// function returning an `async move` block because an `async fn` taking `self` by value
    /// stores the task twice (the argument and its binding), and the final `finish`, which
    /// holds the task again, is boxed (it runs once per session).
    ///
    /// Each wake reads the clock once, and that instant is the `now` of the whole turn. The
    /// one timer lives as long as the task and is re-armed only when the deadline moves (it
    /// rarely does: the next heartbeat), not registered anew on every wake.
    #[allow(clippy::manual_async_fn)] // on purpose: see above
    pub(crate) fn run(mut self) -> impl Future<Output = ()> {
        async move {
            let timer = tokio::time::sleep_until(tokio::time::Instant::now());
            tokio::pin!(timer);
            // Whether the timer is set to the current deadline (`timer.deadline()`).
            let mut armed = false;
            let mut rotation = 0;
            let mut turn = now();
            loop {
                if self.drain(turn, true) {
                    let this = &mut self;
                    if !poll_fn(move |cx| Poll::Ready(this.write_now(cx))).await {
                        // A peer that does not take everything at once: boxed for the length
                        // of the write, since its state (a timeout's timer) inline would
                        // enlarge every session's future for its whole life.
                        Box::pin(self.finish_writes()).await;
                    }
                }
                // The client is read only while the app takes input: while it does not, the
                // session knows, so that a pong waiting unread is not taken for a missing one.
                let accepts = self.app.accepts_input();
                if accepts == self.session.is_input_paused() {
                    // The clock read again rather than `turn` kept across the writes above,
                    // which would enlarge every session's future by an `Instant`.
                    if accepts {
                        self.session.handle_input_resumed(now());
                    } else {
                        self.session.handle_input_paused(now());
                    }
                }
                if self.session.is_closed() {
                    break;
                }
                // In a block of its own, so that it is not kept across the wait.
                {
                    let deadline = [self.session.poll_timeout(), self.app.poll_timeout()]
                        .into_iter()
                        .flatten()
                        .min()
                        .map(tokio::time::Instant::from_std);
                    match deadline {
                        Some(d) if !armed || timer.deadline() != d => {
                            timer.as_mut().reset(d);
                            armed = true;
                        }
                        Some(_) => {}
                        None => armed = false,
                    }
                }
                // The wait's state is two references and three small values: a `select!`
                // over the five sources would keep a future for each, in every idle
                // session's task.
                let this = &mut self;
                let mut wait_timer = timer.as_mut();
                let timer_armed = armed;
                let first = rotation;
                rotation = (rotation + 1) % WAKE_SOURCES;
                let wake =
                    poll_fn(move |cx| this.poll_wake(cx, wait_timer.as_mut(), timer_armed, first))
                        .await;
                turn = now();
                match wake {
                    Wake::Socket(id, result) => {
                        let data = matches!(result, Ok(Message::Text(_) | Message::Binary(_)));
                        self.handle_ws_result(id, result, turn);
                        if data {
                            self.take_buffered(id, turn);
                        }
                    }
                    Wake::Commands => {
                        let mut engine = Engine {
                            session: &mut self.session,
                            now: turn,
                            counters: &self.inbox.counters,
                        };
                        self.app.handle_commands(&mut engine);
                    }
                    Wake::Aborted(id) => {
                        self.take_responder(id);
                        self.session.handle_request_aborted(turn, id);
                    }
                    Wake::Work => {}
                    Wake::Timer => {
                        // Fired: re-armed on the next turn, whatever the deadline.
                        armed = false;
                        self.session.handle_timeout(turn);
                        let mut engine = Engine {
                            session: &mut self.session,
                            now: turn,
                            counters: &self.inbox.counters,
                        };
                        self.app.handle_timeout(&mut engine);
                    }
                }
            }
            Box::pin(self.finish()).await;
        }
    }

    /// Why the task wakes next. The sources are checked in turn from `first`, which the
    /// caller rotates so that a busy one (a client flooding its WebSocket) cannot starve the
    /// others (the heartbeat timer, the app's commands). When none is ready, each has been
    /// polled and will wake the task.
    fn poll_wake(
        &mut self,
        cx: &mut Context<'_>,
        mut timer: Pin<&mut tokio::time::Sleep>,
        timer_armed: bool,
        first: u8,
    ) -> Poll<Wake> {
        // Handlers run below (`poll_work`): what they emit goes through the task, not the
        // lane, which is open only while the task waits.
        self.close_lane();
        self.inbox.wake_up();
        for i in 0..WAKE_SOURCES {
            let ready = match (first + i) % WAKE_SOURCES {
                0 if self.app.accepts_input() => {
                    poll_recv(&mut self.sockets, cx).map(|(id, r)| Wake::Socket(id, r))
                }
                0 => Poll::Pending,
                1 => self.inbox.poll_signal(cx).map(|()| Wake::Commands),
                2 => self
                    .responders
                    .iter_mut()
                    .find_map(|(id, reply)| reply.poll_closed(cx).is_ready().then_some(*id))
                    .map_or(Poll::Pending, |id| Poll::Ready(Wake::Aborted(id))),
                3 => {
                    let mut engine = Engine {
                        session: &mut self.session,
                        now: now(),
                        counters: &self.inbox.counters,
                    };
                    self.app.poll_work(cx, &mut engine).map(|()| Wake::Work)
                }
                _ if timer_armed => timer.as_mut().poll(cx).map(|()| Wake::Timer),
                _ => Poll::Pending,
            };
            if ready.is_ready() {
                return ready;
            }
        }
        // Rung during this turn (a handler's answer, another task's command): those rings
        // woke no one, so the turn goes on instead of waiting.
        if !self.inbox.park() {
            return Poll::Ready(Wake::Commands);
        }
        self.open_lane();
        Poll::Pending
    }

    /// Opens the session's lane to the app, when its one WebSocket runs on a plain TCP
    /// stream, nothing waits to be written on it, and the session would write a message at
    /// once and unchanged there (see [`super::lane`]).
    fn open_lane(&mut self) {
        let mut sockets = self.sockets.iter().flatten();
        let (Some(socket), None) = (sockets.next(), sockets.next()) else {
            return;
        };
        let Some(ws) = socket.ws.as_ref() else {
            return;
        };
        let Some(lane) = ws.io().lane() else {
            return;
        };
        if socket.close.is_none()
            && ws.is_open()
            && !ws.has_queued()
            && !lane.has_pending()
            && self.session.direct_websocket() == Some(socket.id)
        {
            self.app.open_lane(lane);
        }
    }

    /// Closes the lane the task may have opened before it waited.
    fn close_lane(&self) {
        for socket in self.sockets.iter().flatten() {
            if let Some(lane) = socket.ws.as_ref().and_then(|ws| ws.io().lane()) {
                lane.close();
            }
        }
    }

    fn handle_input(&mut self, input: SessionInput<Io>, now: Instant) {
        match input {
            SessionInput::Request(routed) => {
                let RoutedRequest {
                    request,
                    body,
                    reply,
                } = *routed;
                let id = request.id();
                self.responders.push((id, reply));
                self.session.handle_request(now, request);
                if let Some(body) = body {
                    self.session.handle_body(now, id, body);
                }
            }
            SessionInput::WebSocket { id, ws } => self.attach_socket(id, *ws),
            SessionInput::Shutdown => {
                let mut engine = Engine {
                    session: &mut self.session,
                    now,
                    counters: &self.inbox.counters,
                };
                // What handlers queued before the shutdown (an ack, say) goes out before the
                // close: inputs are otherwise handled before the turn's commands.
                self.app.handle_commands(&mut engine);
                self.app.shutdown(&mut engine);
            }
        }
    }

    fn attach_socket(&mut self, id: RequestId, ws: SessionWs<Io>) {
        match self.sockets.iter_mut().flatten().find(|s| s.id == id) {
            Some(socket) => {
                let ws = socket.ws.insert(ws);
                for frame in std::mem::take(&mut socket.frames) {
                    queue_frame(ws, frame);
                }
            }
            // The session gave this socket up before the stream arrived.
            None => close_in_background(ws, CloseCode::NORMAL, ""),
        }
    }

    fn handle_ws_result(
        &mut self,
        id: RequestId,
        result: Result<Message, ws::Error>,
        now: Instant,
    ) {
        match result {
            Ok(Message::Text(text)) => {
                self.session
                    .handle_ws_message(now, id, engineio::Message::Text(text))
            }
            Ok(Message::Binary(data)) => {
                self.session
                    .handle_ws_message(now, id, engineio::Message::Binary(data))
            }
            Ok(Message::Pong(_)) => {}
            Ok(Message::Close(_)) | Err(ws::Error::UnexpectedEof) | Err(ws::Error::Closed) => {
                self.drop_socket(id);
                self.session.handle_ws_closed(now, id, WsClosed::ByPeer);
            }
            Err(ws::Error::Protocol(e)) => {
                self.drop_socket(id);
                let how = if e.close_code() == CloseCode::TOO_BIG {
                    WsClosed::MessageTooLarge
                } else {
                    WsClosed::Error
                };
                self.session.handle_ws_closed(now, id, how);
            }
            Err(_) => {
                self.drop_socket(id);
                self.session.handle_ws_closed(now, id, WsClosed::Error);
            }
        }
    }

    /// Hands the session the messages socket `id` already read behind the one just handled
    /// (a packet's binary attachments, a burst), up to [`MAX_BUFFERED_PER_TURN`], so that
    /// they cost one turn (one drain, one write) rather than one each. Stops as soon as the
    /// app takes no more input.
    fn take_buffered(&mut self, id: RequestId, now: Instant) {
        for _ in 0..MAX_BUFFERED_PER_TURN {
            if !self.app.accepts_input() {
                return;
            }
            let Some(ws) = self
                .sockets
                .iter_mut()
                .flatten()
                .find(|s| s.id == id)
                .and_then(|s| s.ws.as_mut())
            else {
                return;
            };
            let Some(message) = ws.try_recv_buffered() else {
                return;
            };
            self.handle_ws_result(id, Ok(message), now);
        }
    }

    fn drop_socket(&mut self, id: RequestId) {
        for slot in &mut self.sockets {
            if slot.as_ref().is_some_and(|s| s.id == id) {
                *slot = None;
            }
        }
    }

    /// Drains the session and the app until neither has anything more, then
    /// writes the WebSocket frames of the turn; `now` is the turn's instant.
    async fn pump(&mut self, now: Instant) {
        if self.drain(now, false) && !poll_fn(|cx| Poll::Ready(self.write_now(cx))).await {
            Box::pin(self.finish_writes()).await;
        }
    }

    /// The part of [`pump`](Self::pump) before the writes: returns whether WebSocket frames
    /// wait to be written. With `backpressure`, the engine's events wait while the app does
    /// not accept input (see [`SessionApp::accepts_input`]); the session's last turns take
    /// them all.
    fn drain(&mut self, now: Instant, backpressure: bool) -> bool {
        self.take_signal();
        while let Some(input) = self.inbox.try_recv() {
            self.handle_input(input, now);
        }
        loop {
            let mut progressed = false;
            {
                let mut engine = Engine {
                    session: &mut self.session,
                    now,
                    counters: &self.inbox.counters,
                };
                self.app.handle_commands(&mut engine);
            }
            while let Some(transmit) = self.session.poll_transmit() {
                progressed = true;
                self.route(transmit);
            }
            while !backpressure || self.app.accepts_input() {
                let Some(event) = self.session.poll_event() else {
                    break;
                };
                progressed = true;
                let closed = matches!(event, Event::Closed(_));
                observe(&event, &self.inbox.counters, self.router.stats());
                let mut engine = Engine {
                    session: &mut self.session,
                    now,
                    counters: &self.inbox.counters,
                };
                self.app.handle_event(event, &mut engine);
                if closed {
                    // No request may reach the session any more.
                    self.router.remove_closed(now, &self.session);
                }
            }
            if !progressed {
                break;
            }
        }
        let engine = Engine {
            session: &mut self.session,
            now,
            counters: &self.inbox.counters,
        };
        self.app.after_turn(&engine);
        self.sockets
            .iter()
            .flatten()
            .any(|s| s.ws.as_ref().is_some_and(has_writes) || s.close.is_some())
    }

    /// Clears a ring of the signal, since the commands it announced are about to be
    /// drained. Without this, a handler that answers from inside this task (an ack) rings
    /// the task's own signal, and the task wakes once more after the answer is written,
    /// to find nothing. Cleared before the drain, so a command queued after it rings anew.
    fn take_signal(&self) {
        self.inbox.take_signal();
    }

    fn take_responder(&mut self, request: RequestId) -> Option<oneshot::Sender<Answer>> {
        let at = self.responders.iter().position(|(id, _)| *id == request)?;
        // The list keeps its room (64 bytes) once used: long-polling refills it every request.
        Some(self.responders.swap_remove(at).1)
    }

    fn route(&mut self, transmit: Transmit) {
        match transmit {
            Transmit::Respond { request, response } => {
                if let Some(reply) = self.take_responder(request) {
                    let _ = reply.send(Answer::Http(response));
                }
            }
            Transmit::AcceptWebSocket { request } => {
                let known = self.sockets.iter().flatten().any(|s| s.id == request);
                if !known {
                    if let Some(slot) = self.sockets.iter_mut().find(|s| s.is_none()) {
                        *slot = Some(Box::new(Socket {
                            id: request,
                            ws: None,
                            frames: Vec::new(),
                            close: None,
                        }));
                    }
                    // With both places taken, this is a second WebSocket for the
                    // session, which the session closes at once: it needs no place.
                }
                if let Some(reply) = self.take_responder(request) {
                    let _ = reply.send(Answer::Upgrade);
                }
            }
            Transmit::WebSocket { socket, frame } => {
                if let Some(s) = self.sockets.iter_mut().flatten().find(|s| s.id == socket) {
                    match s.ws.as_mut() {
                        Some(ws) => queue_frame(ws, frame),
                        None => s.frames.push(frame),
                    }
                }
            }
            Transmit::CloseWebSocket {
                socket,
                code,
                reason,
            } => {
                if let Some(s) = self.sockets.iter_mut().flatten().find(|s| s.id == socket) {
                    s.close = Some((code, reason));
                }
            }
            _ => {}
        }
    }

    /// Writes what the turn queued on each socket as far as its stream takes it now (in
    /// one write, nearly always all of it), and closes the sockets the session
    /// closed once their frames are out (in the background, so a slow peer holds nobody).
    /// Returns whether everything is written; if not, [`finish_writes`](Self::finish_writes)
    /// does the rest.
    fn write_now(&mut self, cx: &mut Context<'_>) -> bool {
        let mut all_written = true;
        for i in 0..self.sockets.len() {
            let Some(socket) = self.sockets[i].as_mut() else {
                continue;
            };
            let written = match socket.ws.as_mut() {
                Some(ws) if has_writes(ws) => match ws.poll_flush(cx) {
                    Poll::Ready(result) => result.is_ok(),
                    Poll::Pending => {
                        all_written = false;
                        continue;
                    }
                },
                _ => true,
            };
            self.after_write(i, written);
        }
        all_written
    }

    /// Finishes the writes [`write_now`](Self::write_now) left, each within a heartbeat's
    /// span: a peer that does not read is given up.
    async fn finish_writes(&mut self) {
        let write_timeout = self.session.heartbeat_span().max(Duration::from_secs(1));
        for i in 0..self.sockets.len() {
            let Some(ws) = self.sockets[i].as_mut().and_then(|s| s.ws.as_mut()) else {
                continue;
            };
            if has_writes(ws) {
                let written = matches!(
                    tokio::time::timeout(write_timeout, ws.flush()).await,
                    Ok(Ok(()))
                );
                self.after_write(i, written);
            }
        }
    }

    /// After socket `i`'s frames are written (or failed to be): a failed socket is dropped
    /// and the session told; one the session closed is closed.
    fn after_write(&mut self, i: usize, written: bool) {
        let Some(socket) = self.sockets[i].as_mut() else {
            return;
        };
        let id = socket.id;
        if !written {
            self.sockets[i] = None;
            self.session.handle_ws_closed(now(), id, WsClosed::Error);
        } else if let Some((code, reason)) = socket.close {
            // One closed before its stream arrived keeps its place until the stream comes,
            // to be closed with its code then (1008 for a second WebSocket of a session).
            if socket.ws.is_some() {
                if let Some(ws) = self.sockets[i].take().and_then(|s| s.ws) {
                    close_in_background(ws, CloseCode(code), reason);
                }
            }
        }
    }

    /// After the session closed: answer what still waits, hand unfinished
    /// handler work over, and leave the router.
    async fn finish(mut self) {
        let now = now();
        self.router.remove_closed(now, &self.session);
        for input in self.inbox.close() {
            self.handle_input(input, now);
        }
        self.pump(now).await;
        for socket in self.sockets.iter_mut().filter_map(Option::take) {
            if let Some(ws) = socket.ws {
                let (code, reason) = socket.close.unwrap_or((1000, ""));
                close_in_background(ws, CloseCode(code), reason);
            }
        }
        for work in self.app.finish() {
            tokio::spawn(work);
        }
    }
}

/// Counts and logs a session's event, before its application sees it (so that whatever the
/// application does about it, a handler answering or a test reading a snapshot, finds it
/// counted).
#[inline]
fn observe(event: &Event, counters: &SessionCounters, stats: &EngineStats) {
    match event {
        Event::Message(message) => {
            counters.received(message.len());
            tracing::trace!(len = message.len(), "message received");
        }
        Event::Opened(_) => tracing::info!("session opened"),
        Event::Upgraded => {
            counters.set_transport(Transport::WebSocket);
            stats.upgraded();
            tracing::Span::current().record("transport", tracing::field::display("websocket"));
            tracing::debug!("upgraded to websocket");
        }
        Event::Closed(reason) => {
            counters.set_transport(Transport::Closed);
            stats.closed(reason);
            let why = reason.as_str();
            match reason {
                engineio::CloseReason::TransportError(e) => {
                    tracing::info!(reason = why, error = %e, "session closed")
                }
                engineio::CloseReason::ParseError(e) => {
                    tracing::info!(reason = why, error = %e, "session closed")
                }
                _ => tracing::info!(reason = why, "session closed"),
            }
        }
        _ => {}
    }
}

/// Receives from whichever socket has a message.
///
/// Each `recv` future lives only for one poll: `recv` keeps its progress in the socket (it
/// is cancel-safe), and two of them held across the task's wait would make every idle
/// session's future larger by their size.
fn poll_recv<Io: AsyncRead + AsyncWrite + Unpin>(
    sockets: &mut [Option<Box<Socket<Io>>>; 2],
    cx: &mut Context<'_>,
) -> Poll<(RequestId, Result<Message, ws::Error>)> {
    for socket in sockets.iter_mut().flatten() {
        let id = socket.id;
        if let Some(ws) = socket.ws.as_mut() {
            let recv = std::pin::pin!(ws.recv());
            if let Poll::Ready(result) = recv.poll(cx) {
                return Poll::Ready((id, result));
            }
        }
    }
    Poll::Pending
}

fn close_in_background<Io>(mut ws: WebSocket<Io>, code: CloseCode, reason: &'static str)
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let _ = ws.close(code, reason).await;
    });
}

#[cfg(test)]
mod tests {
    use tokio::net::TcpStream;

    use super::super::handler::HandlerApp;
    use super::SessionTask;

    struct Ignore;

    impl crate::EngineHandler for Ignore {
        fn on_message(&self, _: &crate::SessionHandle, _: engineio::Message) {}
    }

    /// Every session's inbox allocates a block of 32 inputs when it opens: with
    /// 128-byte inputs that was 4.1 KiB of each idle connection's 13 KiB.
    #[test]
    fn session_inputs_are_small() {
        assert!(std::mem::size_of::<super::SessionInput<TcpStream>>() <= 32);
    }

    fn returned_size<A, R>(_: fn(A) -> R) -> usize {
        std::mem::size_of::<R>()
    }

    /// The session's future is most of an idle connection's memory (measured with 2,000 idle
    /// Socket.IO connections: 6.9 KiB of their 17 KiB each while it held the task three
    /// times). It holds the task once, plus the state of its wait: the timer (112 bytes) and
    /// a few references and flags (the signal is polled in the inbox, the receive futures
    /// live for one poll, the write is boxed).
    #[test]
    fn the_session_future_holds_the_task_once() {
        type Task = SessionTask<HandlerApp<Ignore>, TcpStream>;
        let task = std::mem::size_of::<Task>();
        let future = returned_size(Task::run);
        assert!(
            future <= task + 160,
            "the session future takes {future} bytes for a {task}-byte task"
        );
    }
}
