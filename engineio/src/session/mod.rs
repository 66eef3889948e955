//! One Engine.IO session: its transport, heartbeat, upgrade and outbound buffer.
//! [`Session`]'s docs give its inputs, outputs and drain order.

mod heartbeat;
mod outbox;
mod polling;
mod upgrade;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::config::SessionTiming;
use crate::cors::CorsHeaders;
use crate::error::SendError;
use crate::event::{CloseReason, Event, Handshake, TransportError};
use crate::fifo::Fifo;
use crate::late::LatePoll;
use crate::packet::{decode_text, Incoming, Message, Outgoing};
use crate::request::{RequestId, TransportKind};
use crate::response::{ErrorCode, Response};
use crate::server::{RequestKind, SessionRequest};
use crate::sid::Sid;
use crate::transmit::{Transmit, WsFrame};

use heartbeat::{Heartbeat, HeartbeatDue, PingLeaves};
use outbox::Outbox;
use polling::PollRequests;
use upgrade::UpgradeState;

/// How a WebSocket ended, as seen by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WsClosed {
    /// The peer closed it (close frame, or end of stream).
    ByPeer,
    /// A message exceeded `max_payload`; the caller closed it with 1009.
    MessageTooLarge,
    /// An I/O error or a frame-level protocol violation.
    Error,
}

/// Where the session's packets currently travel.
#[derive(Debug)]
enum Transport {
    /// Long-polling (its requests wait in the session's `polls`).
    Polling,
    /// A WebSocket, named by its upgrade request's id.
    WebSocket { socket: RequestId },
}

/// A request waiting for its answer, with the CORS headers it will carry.
#[derive(Debug)]
struct Parked {
    request: RequestId,
    cors: CorsHeaders,
}

/// The session's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lifecycle {
    Open,
    /// The application closed a polling session; the close packet waits in
    /// the outbox for a GET to carry it, until the deadline.
    ExpectCloseDelivery {
        deadline: Instant,
    },
    Closed,
}

/// An Engine.IO session.
///
/// A plain value created by [`Server::handle_request`](crate::Server::handle_request)
/// for a handshake. Whoever owns it (a task, a thread, a test) feeds it inputs
/// and drains its outputs:
///
/// * **Inputs**, each with the current time: [`handle_request`](Session::handle_request)
///   (a request routed to this session), [`handle_body`](Session::handle_body)
///   (the body of a POST), [`handle_ws_message`](Session::handle_ws_message),
///   [`handle_ws_closed`](Session::handle_ws_closed),
///   [`handle_request_aborted`](Session::handle_request_aborted) and
///   [`handle_timeout`](Session::handle_timeout).
/// * **Commands** from the application: [`send`](Session::send) and
///   [`close`](Session::close).
/// * **Outputs**: [`poll_transmit`](Session::poll_transmit) (what to write),
///   [`poll_event`](Session::poll_event) (what to tell the application) and
///   [`poll_timeout`](Session::poll_timeout) (when to call `handle_timeout`).
///
/// # Drain order
///
/// After every input or command, drain **transmits, then events**, and repeat
/// until both are empty (handling an event may send or close); then read
/// `poll_timeout` and re-arm the one timer. Sends are coalesced: everything
/// queued before the next `poll_transmit` goes out in one long-poll answer. The
/// answer to a POST is held back until the messages it carried have been taken
/// with `poll_event`, so replies the application queues while handling them
/// are buffered before the client hears `ok`.
#[derive(Debug)]
pub struct Session {
    sid: Sid,
    timing: Arc<SessionTiming>,
    lifecycle: Lifecycle,
    transport: Transport,
    upgrade: UpgradeState,
    heartbeat: Heartbeat,
    outbox: Outbox,
    /// The long-polling requests waiting for an answer. Boxed, and there only
    /// while the session polls or a request is still unanswered: a WebSocket
    /// session (most of the idle ones) has none.
    polls: Option<Box<PollRequests>>,
    /// Outputs: both usually hold one item or none between drains, which
    /// a [`Fifo`] keeps off the heap.
    transmits: Fifo<Transmit>,
    events: Fifo<Event>,
    /// The latest time seen; inputs with an earlier `now` are treated as now.
    clock: Instant,
    /// The driver does not read the client for now (see
    /// [`handle_input_paused`](Session::handle_input_paused)).
    input_paused: bool,
}

impl Session {
    /// Opens a session for an accepted handshake request.
    pub(crate) fn open(now: Instant, opening: Opening, timing: Arc<SessionTiming>) -> Self {
        let Opening {
            sid,
            request,
            transport,
            cors,
            handshake_json,
            query,
        } = opening;
        let heartbeat = Heartbeat::start(now, &timing);
        let outbox = Outbox::new(timing.outbox);
        let mut session = Session {
            sid,
            timing,
            lifecycle: Lifecycle::Open,
            transport: match transport {
                TransportKind::Polling => Transport::Polling,
                TransportKind::WebSocket => Transport::WebSocket { socket: request },
            },
            upgrade: UpgradeState::Idle,
            heartbeat,
            outbox,
            polls: None,
            transmits: Fifo::new(),
            events: Fifo::new(),
            clock: now,
            input_paused: false,
        };
        let open = Outgoing::Open(handshake_json);
        match transport {
            TransportKind::Polling => {
                let body = crate::payload::encode(std::iter::once(&open));
                session.respond(request, Response::payload(body, &cors));
            }
            TransportKind::WebSocket => {
                session
                    .transmits
                    .push_back(Transmit::AcceptWebSocket { request });
                session.push_frame(request, open);
            }
        }
        session.events.push_back(Event::Opened(Handshake {
            sid,
            transport,
            query,
        }));
        session
    }

    /// The session id.
    pub fn sid(&self) -> Sid {
        self.sid
    }

    /// The transport packets currently travel over.
    pub fn transport(&self) -> TransportKind {
        match self.transport {
            Transport::Polling => TransportKind::Polling,
            Transport::WebSocket { .. } => TransportKind::WebSocket,
        }
    }

    /// Whether the session is closed (its `Closed` event has been queued).
    pub fn is_closed(&self) -> bool {
        self.lifecycle == Lifecycle::Closed
    }

    /// The answer this closed session still owes a long-poll GET that arrived
    /// before the request that closed it, if any. Requests can reach the
    /// session in another order than they arrived in (one connection's task
    /// runs later than another's); give this to
    /// [`Server::handle_session_closed`](crate::Server::handle_session_closed)
    /// so that the server answers such a GET after the session is gone.
    pub fn late_poll(&self) -> Option<LatePoll> {
        self.polls.as_ref()?.late
    }

    /// Whether a message sent now would go out at once rather than wait in
    /// the buffer: the session is open, no upgrade holds packets back, and
    /// either a WebSocket carries it or a long-poll GET is waiting with
    /// nothing else queued. Volatile messages are dropped when this is false.
    pub fn is_writable(&self) -> bool {
        if self.lifecycle != Lifecycle::Open || self.upgrade.holds_packets() {
            return false;
        }
        match &self.transport {
            Transport::WebSocket { .. } => true,
            Transport::Polling => self.parked_get().is_some() && self.outbox.is_empty(),
        }
    }

    /// The WebSocket on which a message sent now would go out at once and unchanged, framed
    /// by [`WsFrame::message`]: `Some` while the session is open over WebSocket, no upgrade
    /// is under way and nothing waits to be transmitted (call it after draining
    /// [`poll_transmit`](Session::poll_transmit)).
    ///
    /// While that holds and nothing else of the session is written, a runtime may write such
    /// messages on that socket itself, from outside the session (a broadcast written by the
    /// task that makes it, instead of waking the session's): the session would have written
    /// the same bytes, and it keeps no account of the messages it sends over WebSocket.
    pub fn direct_websocket(&self) -> Option<RequestId> {
        match self.transport {
            Transport::WebSocket { socket }
                if self.lifecycle == Lifecycle::Open
                    && !self.upgrade.holds_packets()
                    && self.outbox.is_empty()
                    && self.transmits.is_empty() =>
            {
                Some(socket)
            }
            _ => None,
        }
    }

    /// How long a client may go without a sign of life before the heartbeat
    /// gives up on it: the ping interval plus the ping timeout. Also a fair
    /// bound for the client to take a write the caller has started.
    pub fn heartbeat_span(&self) -> Duration {
        self.timing.ping_interval + self.timing.ping_timeout
    }

    /// Bytes of application data waiting for the transport.
    pub fn buffered_bytes(&self) -> usize {
        self.outbox.buffered_bytes()
    }

    /// Application messages waiting for the transport.
    pub fn buffered_messages(&self) -> usize {
        self.outbox.buffered_messages()
    }

    // ----- inputs -------------------------------------------------------------------

    /// A request the server routed to this session (see
    /// [`Routed::Session`](crate::Routed::Session)).
    pub fn handle_request(&mut self, now: Instant, request: SessionRequest) {
        let now = self.advance(now);
        let SessionRequest {
            id,
            kind,
            transport,
            cors,
            ..
        } = request;
        if self.lifecycle == Lifecycle::Closed {
            let late = self.late_poll().filter(|late| {
                kind == RequestKind::PollGet
                    && transport == TransportKind::Polling
                    && late.arrived_before(id)
            });
            match late {
                Some(late) => {
                    // The GET arrived before the close: it gets what it would
                    // have got parked then, and no other GET gets it again.
                    self.polls_mut().late = None;
                    self.answer_with(id, &cors, &late.packet());
                }
                None => self.respond(id, Response::error(ErrorCode::UnknownSid, None, &cors)),
            }
            return;
        }
        if kind == RequestKind::WebSocket {
            self.handle_websocket_request(now, id, transport, cors);
            return;
        }
        if transport != self.transport() {
            // A polling request after the upgrade, or a WebSocket-only session
            // being polled (reference: TRANSPORT_MISMATCH).
            self.respond(id, Response::error(ErrorCode::BadRequest, None, &cors));
            return;
        }
        match kind {
            RequestKind::PollGet => self.handle_poll_get(now, id, cors),
            RequestKind::PollPost {
                binary_content,
                content_length,
            } => self.handle_post_head(now, id, cors, binary_content, content_length),
            RequestKind::Other => self.respond(id, Response::status(500, &cors)),
            RequestKind::WebSocket => unreachable!("handled above"),
        }
    }

    /// The body of a POST whose head this session accepted. Bodies of
    /// requests it already answered are ignored.
    pub fn handle_body(&mut self, now: Instant, request: RequestId, body: Bytes) {
        let now = self.advance(now);
        self.handle_post_body(now, request, body);
    }

    /// A message received on one of this session's WebSockets.
    pub fn handle_ws_message(&mut self, now: Instant, socket: RequestId, message: Message) {
        let now = self.advance(now);
        if self.lifecycle == Lifecycle::Closed {
            return;
        }
        match self.transport {
            Transport::WebSocket { socket: main } if main == socket => {
                self.handle_main_ws_message(now, message)
            }
            _ if self.upgrade.socket() == Some(socket) => {
                self.handle_probe_message(now, socket, message)
            }
            _ => {}
        }
    }

    /// One of this session's WebSockets ended.
    pub fn handle_ws_closed(&mut self, now: Instant, socket: RequestId, how: WsClosed) {
        let now = self.advance(now);
        if self.lifecycle == Lifecycle::Closed {
            return;
        }
        match self.transport {
            Transport::WebSocket { socket: main } if main == socket => {
                let reason = match how {
                    WsClosed::ByPeer => CloseReason::TransportClose,
                    WsClosed::MessageTooLarge => {
                        CloseReason::TransportError(TransportError::PayloadTooLarge)
                    }
                    WsClosed::Error => CloseReason::TransportError(TransportError::WebSocket),
                };
                self.close_now(now, reason, MainSocket::AlreadyClosed);
            }
            _ if self.upgrade.socket() == Some(socket) => self.abandon_upgrade(false),
            _ => {}
        }
    }

    /// The client went away before `request` was answered: a parked GET, a
    /// POST whose body never came, or a WebSocket upgrade that failed.
    pub fn handle_request_aborted(&mut self, now: Instant, request: RequestId) {
        let now = self.advance(now);
        if self.lifecycle == Lifecycle::Closed {
            return;
        }
        if self.parked_get().is_some_and(|p| p.request == request) {
            self.take_parked_get();
            self.close_now(
                now,
                CloseReason::TransportError(TransportError::PollAborted),
                MainSocket::Close,
            );
        } else if self.pending_post().is_some_and(|p| p.request == request) {
            self.take_pending_post();
            self.close_now(
                now,
                CloseReason::TransportError(TransportError::PostAborted),
                MainSocket::Close,
            );
        } else {
            self.handle_ws_closed(now, request, WsClosed::Error);
        }
    }

    /// The driver stopped reading the client at `now`, because its application is behind
    /// (it takes input again with [`handle_input_resumed`](Session::handle_input_resumed)).
    ///
    /// A pong the client sent may then wait unread behind its messages, so the ping timeout
    /// stands still while reading is paused, and resumes with what was left of it: a client
    /// is not timed out for a wait that is the server's. Pings still go out. Over
    /// long-polling, whose pongs arrive with every POST, this only makes the heartbeat more
    /// lenient while the application catches up.
    pub fn handle_input_paused(&mut self, now: Instant) {
        let now = self.advance(now);
        self.input_paused = true;
        self.heartbeat.pause(now);
    }

    /// The driver reads the client again from `now` (see
    /// [`handle_input_paused`](Session::handle_input_paused)).
    pub fn handle_input_resumed(&mut self, now: Instant) {
        let now = self.advance(now);
        self.input_paused = false;
        self.heartbeat.resume(now);
    }

    /// Whether the driver said it does not read the client (see
    /// [`handle_input_paused`](Session::handle_input_paused)).
    #[must_use]
    pub fn is_input_paused(&self) -> bool {
        self.input_paused
    }

    /// Time passed: call when [`poll_timeout`](Session::poll_timeout) is reached.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
    }

    // ----- commands -----------------------------------------------------------------

    /// Queues a message for the client. Refused, with nothing queued, when the
    /// session is closing or the outbound buffer is full.
    pub fn send(&mut self, message: Message) -> Result<(), SendError> {
        if self.lifecycle != Lifecycle::Open {
            return Err(SendError::Closed);
        }
        self.outbox.push_message(message)
    }

    /// Queues a text message (`data` must be valid UTF-8).
    pub fn send_text(&mut self, data: Bytes) -> Result<(), SendError> {
        self.send(Message::Text(data))
    }

    /// Queues a binary message.
    pub fn send_binary(&mut self, data: Bytes) -> Result<(), SendError> {
        self.send(Message::Binary(data))
    }

    /// Closes the session from the server side. Messages already queued are
    /// delivered first: over WebSocket they precede the close frame; over
    /// long-polling they go in the next GET's answer and the close packet in
    /// the one after it (or are given up after `close_timeout`).
    pub fn close(&mut self, now: Instant) {
        let now = self.advance(now);
        if self.lifecycle != Lifecycle::Open {
            return;
        }
        match self.transport {
            Transport::WebSocket { socket } => {
                while let Some(packet) = self.outbox.pop() {
                    self.push_frame(socket, packet);
                }
                self.close_now(now, CloseReason::ServerClose, MainSocket::Close);
            }
            Transport::Polling => {
                self.abandon_upgrade(true);
                self.heartbeat.stop();
                self.outbox.push_control(Outgoing::Close);
                self.lifecycle = Lifecycle::ExpectCloseDelivery {
                    deadline: now + self.timing.close_timeout,
                };
            }
        }
    }

    // ----- outputs ------------------------------------------------------------------

    /// The next thing to write, if any.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if let Some(t) = self.transmits.pop_front() {
            return Some(t);
        }
        if self.events.is_empty() {
            if let Some(post) = self.take_post_awaiting_drain() {
                return Some(Transmit::Respond {
                    request: post.request,
                    response: Response::ok(&post.cors),
                });
            }
        }
        self.flush();
        let next = self.transmits.pop_front();
        if next.is_none() {
            // Every input's outputs end with this call: the place to let go
            // of polling state a WebSocket session no longer needs.
            self.drop_idle_polls();
        }
        next
    }

    /// The next thing to tell the application, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Session::handle_timeout) must be called next;
    /// `None` once the session is closed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let lifecycle = match self.lifecycle {
            Lifecycle::Closed => return None,
            Lifecycle::ExpectCloseDelivery { deadline } => Some(deadline),
            Lifecycle::Open => None,
        };
        [
            lifecycle,
            self.heartbeat.deadline(),
            self.upgrade.deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ----- internals ----------------------------------------------------------------

    /// Moves the clock to `now` (never backwards) and fires what is due.
    fn advance(&mut self, now: Instant) -> Instant {
        let now = now.max(self.clock);
        self.clock = now;
        if self.lifecycle == Lifecycle::Closed {
            return now;
        }
        if let Lifecycle::ExpectCloseDelivery { deadline } = self.lifecycle {
            if now >= deadline {
                self.close_now(now, CloseReason::ServerClose, MainSocket::Close);
                return now;
            }
        }
        let ping_leaves = match self.transport {
            Transport::WebSocket { .. } => PingLeaves::Now,
            Transport::Polling if self.parked_get().is_some() && !self.upgrade.holds_packets() => {
                PingLeaves::Now
            }
            Transport::Polling => PingLeaves::OnNextPoll,
        };
        match self.heartbeat.on_time(now, &self.timing, ping_leaves) {
            HeartbeatDue::Nothing => {}
            HeartbeatDue::SendPing => {
                self.outbox.push_control(Outgoing::Ping);
                if self.input_paused {
                    self.heartbeat.pause(now);
                }
            }
            HeartbeatDue::TimedOut => {
                self.close_now(now, CloseReason::PingTimeout, MainSocket::Close);
                return now;
            }
        }
        if self.upgrade.deadline().is_some_and(|d| now >= d) {
            self.abandon_upgrade(true);
        }
        now
    }

    /// Moves queued packets to a transport that can take them.
    fn flush(&mut self) {
        if self.lifecycle == Lifecycle::Closed || self.outbox.is_empty() {
            return;
        }
        match self.transport {
            Transport::WebSocket { socket } => {
                if let Some(packet) = self.outbox.pop() {
                    self.push_frame(socket, packet);
                }
            }
            Transport::Polling => {
                if !self.upgrade.holds_packets() && self.parked_get().is_some() {
                    self.answer_parked_get_with_outbox();
                }
            }
        }
    }

    /// A text packet received on the session's WebSocket.
    fn handle_main_ws_message(&mut self, now: Instant, message: Message) {
        let packet = match message {
            Message::Binary(data) => Incoming::Message(Message::Binary(data)),
            Message::Text(text) => match decode_text(text) {
                Ok(packet) => packet,
                Err(e) => {
                    self.close_now(now, CloseReason::ParseError(e), MainSocket::Close);
                    return;
                }
            },
        };
        if let Incoming::Close = packet {
            self.close_now(now, CloseReason::TransportClose, MainSocket::Close);
        } else {
            self.handle_packet(now, packet);
        }
    }

    /// A packet from the client on the current transport (not the close
    /// packet, which each transport handles itself).
    fn handle_packet(&mut self, now: Instant, packet: Incoming) {
        match packet {
            Incoming::Message(message) => {
                if self.lifecycle == Lifecycle::Open {
                    self.events.push_back(Event::Message(message));
                }
            }
            Incoming::Pong => self.heartbeat.on_pong(now, &self.timing),
            Incoming::Ping { .. } => self.close_now(
                now,
                CloseReason::TransportError(TransportError::ClientPing),
                MainSocket::Close,
            ),
            Incoming::Close => self.close_now(now, CloseReason::TransportClose, MainSocket::Close),
            // The reference server ignores these from a client.
            Incoming::Open | Incoming::Upgrade | Incoming::Noop => {}
        }
    }

    /// Closes the session at once because of `request` (a POST's head or
    /// body). When no GET was parked to hear of it, a GET that arrived before
    /// `request` and reaches the session later is owed the answer it would
    /// have had parked (see [`crate::late`]).
    fn close_by_request(&mut self, now: Instant, request: RequestId, reason: CloseReason) {
        if self.lifecycle == Lifecycle::Closed {
            return;
        }
        let owed = matches!(self.transport, Transport::Polling) && self.parked_get().is_none();
        let noop = reason == CloseReason::TransportClose;
        self.close_now(now, reason, MainSocket::Close);
        if owed {
            self.polls_mut().late = Some(LatePoll {
                closed_by: request,
                noop,
            });
        }
    }

    /// Closes the session at once, answering whatever is still waiting.
    fn close_now(&mut self, _now: Instant, reason: CloseReason, main: MainSocket) {
        if self.lifecycle == Lifecycle::Closed {
            return;
        }
        self.lifecycle = Lifecycle::Closed;
        self.heartbeat.stop();
        self.abandon_upgrade(true);
        if let Some(parked) = self.take_parked_get() {
            // The client's own close releases its GET with a noop; any other
            // end tells it with a close packet.
            let packet = match reason {
                CloseReason::TransportClose => Outgoing::Noop,
                _ => Outgoing::Close,
            };
            let body = crate::payload::encode(std::iter::once(&packet));
            self.respond(parked.request, Response::payload(body, &parked.cors));
        }
        if let Some(post) = self.take_post_awaiting_drain() {
            self.respond(post.request, Response::ok(&post.cors));
        }
        if let Some(post) = self.take_pending_post() {
            self.respond(
                post.request,
                Response::error(ErrorCode::UnknownSid, None, &post.cors),
            );
        }
        if let (Transport::WebSocket { socket }, MainSocket::Close) = (&self.transport, main) {
            let (code, why) = match reason {
                CloseReason::ParseError(_) | CloseReason::TransportError(_) => {
                    (1002, "protocol error")
                }
                _ => (1000, ""),
            };
            self.transmits.push_back(Transmit::CloseWebSocket {
                socket: *socket,
                code,
                reason: why,
            });
        }
        self.outbox.clear();
        self.events.push_back(Event::Closed(reason));
    }

    fn respond(&mut self, request: RequestId, response: Response) {
        self.transmits
            .push_back(Transmit::Respond { request, response });
    }

    fn push_frame(&mut self, socket: RequestId, packet: Outgoing) {
        let frame = match packet {
            Outgoing::Open(json) => WsFrame::Text {
                prefix: b'0',
                data: json,
            },
            Outgoing::Close => WsFrame::Text {
                prefix: b'1',
                data: Bytes::new(),
            },
            Outgoing::Ping => WsFrame::Text {
                prefix: b'2',
                data: Bytes::new(),
            },
            Outgoing::PongProbe => WsFrame::Text {
                prefix: b'3',
                data: Bytes::from_static(b"probe"),
            },
            Outgoing::Message(message) => WsFrame::message(message),
            Outgoing::Noop => WsFrame::Text {
                prefix: b'6',
                data: Bytes::new(),
            },
        };
        self.transmits
            .push_back(Transmit::WebSocket { socket, frame });
    }
}

/// What a handshake accepted by the server hands to the new session.
#[derive(Debug)]
pub(crate) struct Opening {
    pub(crate) sid: Sid,
    pub(crate) request: RequestId,
    pub(crate) transport: TransportKind,
    pub(crate) cors: CorsHeaders,
    pub(crate) handshake_json: Bytes,
    pub(crate) query: String,
}

/// Whether closing the session should also close its WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MainSocket {
    Close,
    AlreadyClosed,
}
#[cfg(test)]
mod tests {
    use crate::sim::Sim;
    use crate::{Config, Method, RequestHead};

    /// A session is kept for as long as its connection is open, most of that time idle.
    #[test]
    fn a_session_is_small() {
        let size = std::mem::size_of::<super::Session>();
        assert!(size <= 368, "Session is {size} bytes");
    }

    #[test]
    fn a_websocket_session_holds_no_polling_state() {
        let mut sim = Sim::new(Config::default());
        let (sid, _) = sim.open_websocket();
        assert!(sim.session(sid).unwrap().polls.is_none());
    }

    #[test]
    fn the_polling_state_goes_once_the_upgrade_is_done_and_requests_answered() {
        let mut sim = Sim::new(Config::default());
        let sid = sim.open_polling();
        let get = sim.poll(sid);
        // A POST whose body comes after the upgrade completes.
        let mut head = RequestHead::new(Method::Post, format!("EIO=4&transport=polling&sid={sid}"));
        head.content_type = Some("text/plain;charset=UTF-8".to_owned());
        let post = sim.request(head);
        let ws = sim.upgrade_request(sid);
        sim.ws_text(ws, "2probe");
        sim.ws_text(ws, "5");
        assert_eq!(sim.packets(get), ["6"]);
        assert!(
            sim.session(sid).unwrap().polls.is_some(),
            "the POST still waits for its body"
        );
        sim.send_body(post, "4late");
        assert_eq!(sim.body(post).as_deref(), Some("ok"));
        assert!(sim.session(sid).unwrap().polls.is_none());
        assert_eq!(sim.received(sid), ["late"]);
    }
}
