//! The Socket.IO side of one session's task: a [`socketio_core::Connection`]
//! making the protocol decisions, and the handlers of its sockets.
//!
//! Handlers run inside the session's task. Each socket runs one piece of work
//! at a time, in arrival order (its connect handler, then its events, then its
//! disconnect handlers): a handler that completes without waiting costs no
//! task switch, and one that waits holds up only its own socket's later
//! events, while the session keeps reading, pinging and running the handlers
//! of its other sockets.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use engineio::fifo::Fifo;
use engineio::Message;
use socketio_core::recovery::{Offset, Pid};
use socketio_core::{Connection, DisconnectReason, Event, SocketId, Transmit};
use socketio_parser::{Encoder, Namespace, Packet};

use super::error::{AckError, ConnectError};
use super::handler::{BoxFuture, EventContext};
use super::handshake::Handshake;
use super::namespace::NamespaceInner;
use super::outbound::{AckReply, Command, Outbound};
use super::recovery::{self, Restore};
use super::socket::{SocketRecovery, SocketRef};
use super::ServerInner;
use crate::engine::{
    random_id_bytes, AppFactory, Engine, HandshakeRequest, SessionApp, Signal, WriteLane,
};
use crate::trace::SpanBox;

/// What a socket still has to run, in order.
enum Work {
    Connected,
    /// Boxed: a slot keeps room for one piece of work inline for its whole life.
    Event(Box<Packet>),
    Disconnected(DisconnectReason),
}

/// A joined (or joining) namespace of this connection.
struct Slot {
    socket: SocketRef,
    /// The middleware, while it decides.
    joining: Option<BoxFuture<Result<(), ConnectError>>>,
    running: Option<BoxFuture<()>>,
    /// Nearly always one item or none: a [`Fifo`] holds that without the heap.
    backlog: Fifo<Work>,
    /// The socket left; the slot goes once its work is done.
    left: bool,
    /// A restored session waiting for its admission: its rooms and what it missed.
    restoring: Option<Box<Restore>>,
    /// The socket's span: its middleware and handlers run inside it.
    span: SpanBox,
}

/// The span of a socket (see [`crate::trace`]), inside its session's (the current one).
fn socket_span(socket: &SocketRef) -> SpanBox {
    SpanBox::new(tracing::info_span!(
        "socket",
        id = %socket.id(),
        namespace = %socket.namespace()
    ))
}

impl Slot {
    /// The socket joined: it is counted in its namespace (by the caller), and logged.
    fn connected(&mut self) {
        let _entered = self.span.enter();
        if self.socket.recovered() {
            tracing::info!(recovered = true, "socket connected");
        } else {
            tracing::info!("socket connected");
        }
        self.backlog.push_back(Work::Connected);
    }

    fn ns(&self) -> &Arc<NamespaceInner> {
        &self.socket.0.ns
    }

    /// Whether anything of the socket's is still to run. A disconnect with no
    /// disconnect handler runs nothing: every session ends with one, and
    /// spawning a task for it was a twentieth of a connection's cost.
    fn has_work_left(&self) -> bool {
        self.running.is_some()
            || self.backlog.iter().any(|work| match work {
                Work::Disconnected(_) => !self
                    .socket
                    .0
                    .handlers
                    .lock()
                    .expect("never poisoned")
                    .disconnect
                    .is_empty(),
                _ => true,
            })
    }

    fn is_done(&self) -> bool {
        self.left && self.running.is_none() && self.backlog.is_empty() && self.joining.is_none()
    }
}

/// The future that runs one piece of a socket's work, if there is anything to run.
fn start(socket: &SocketRef, work: Work) -> Option<BoxFuture<()>> {
    match work {
        Work::Connected => {
            let handler = socket.0.ns.handlers().on_connection.clone()?;
            Some(handler.call(socket.clone()))
        }
        Work::Event(packet) => {
            let packet = *packet;
            let (any, specific) = {
                let handlers = socket.0.handlers.lock().expect("never poisoned");
                let name = packet.event_name()?;
                let specific = name.as_str().and_then(|n| handlers.event(n).cloned());
                (handlers.any.clone(), specific)
            };
            let any = any.and_then(|h| {
                h.call(EventContext {
                    socket: socket.clone(),
                    packet: packet.clone(),
                })
            });
            let specific = specific.and_then(|h| {
                h.call(EventContext {
                    socket: socket.clone(),
                    packet,
                })
            });
            match (any, specific) {
                (None, None) => None,
                (Some(f), None) | (None, Some(f)) => Some(f),
                (Some(a), Some(s)) => Some(Box::pin(async move {
                    a.await;
                    s.await;
                })),
            }
        }
        Work::Disconnected(reason) => {
            let handlers = socket
                .0
                .handlers
                .lock()
                .expect("never poisoned")
                .disconnect
                .clone();
            if handlers.is_empty() {
                return None;
            }
            let socket = socket.clone();
            Some(Box::pin(async move {
                for handler in handlers {
                    handler.call(socket.clone(), reason).await;
                }
            }))
        }
    }
}

/// Most events waiting for a socket's handlers (they run one at a time, in order). At this
/// many the connection stops taking the client's messages until the handlers catch up (see
/// `SessionApp::accepts_input`): a client that sends faster than its handlers finish is
/// slowed down instead of filling the server's memory.
const MAX_HANDLER_BACKLOG: usize = 1024;

/// The Socket.IO application of one session.
pub(crate) struct SioSession {
    server: Arc<ServerInner>,
    conn: Connection,
    request: Arc<HandshakeRequest>,
    outbound: Arc<Outbound>,
    slots: Vec<Slot>,
    /// Emits waiting for their acknowledgement, by namespace and ack id.
    /// Boxed when first needed: most connections never wait for a client's ack, and the map
    /// inline is 48 bytes of every connection.
    #[allow(clippy::box_collection)] // on purpose: one pointer inline
    acks: Option<Box<HashMap<(Namespace, u64), AckReply>>>,
}

impl SioSession {
    fn slot_mut(&mut self, namespace: &str) -> Option<&mut Slot> {
        self.slots
            .iter_mut()
            .find(|s| !s.left && s.socket.namespace() == namespace)
    }

    /// The reply waiting for the client's ack `key`, taken out (and no longer counted as
    /// waiting, before anyone hears of it).
    fn take_ack(&mut self, key: &(Namespace, u64)) -> Option<AckReply> {
        let reply = self.acks.as_mut()?.remove(key);
        self.count_acks();
        reply
    }

    /// Publishes how many acks this connection waits for.
    fn count_acks(&self) {
        let waiting = self.acks.as_ref().map_or(0, |acks| acks.len());
        self.outbound.counters().set_acks_waiting(waiting);
    }

    /// Moves the connection's outputs along until it has none.
    fn drive(&mut self, engine: &mut Engine<'_>) {
        loop {
            let mut progressed = false;
            while let Some(transmit) = self.conn.poll_transmit() {
                progressed = true;
                match transmit {
                    Transmit::Text(text) => self.send(engine, Message::Text(text)),
                    Transmit::Binary(data) => self.send(engine, Message::Binary(data)),
                    Transmit::CloseSession(cause) => {
                        tracing::debug!(?cause, "closing the connection");
                        engine.close();
                    }
                    _ => {}
                }
            }
            while let Some(event) = self.conn.poll_event() {
                progressed = true;
                self.on_event(event, engine);
            }
            if !progressed {
                break;
            }
        }
    }

    fn send(&self, engine: &mut Engine<'_>, message: Message) {
        if let Err(e) = engine.send(message) {
            tracing::debug!(error = %e, "message dropped by the engine");
        }
    }

    fn on_event(&mut self, event: Event, engine: &mut Engine<'_>) {
        match event {
            Event::ConnectRequest { namespace, auth } => {
                self.on_connect_request(namespace, auth, engine)
            }
            Event::Event(packet) => {
                if let Some(slot) = self.slot_mut(packet.namespace().as_str()) {
                    slot.backlog.push_back(Work::Event(packet));
                }
            }
            Event::Ack(packet) => {
                let key = (
                    packet.namespace().clone(),
                    packet.ack_id().map_or(0, |a| a.get()),
                );
                if let Some(reply) = self.take_ack(&key) {
                    let _ = reply.send(Ok(*packet));
                }
            }
            Event::AckTimedOut { namespace, ack } => {
                if let Some(reply) = self.take_ack(&(namespace.clone(), ack.get())) {
                    self.server.stats.ack_timed_out();
                    tracing::debug!(%namespace, ack = ack.get(), "acknowledgement timed out");
                    let _ = reply.send(Err(AckError::Timeout));
                }
            }
            Event::Disconnected {
                namespace,
                socket,
                reason,
            } => self.on_disconnected(&namespace, socket, reason, engine.now()),
            _ => {}
        }
    }

    fn on_connect_request(
        &mut self,
        namespace: Namespace,
        auth: Option<Bytes>,
        engine: &mut Engine<'_>,
    ) {
        let Some(ns) = self.server.registry.resolve(&namespace) else {
            self.server.stats.unknown_namespace();
            tracing::debug!(%namespace, "connect refused: no such namespace");
            let _ = self.conn.refuse_unknown_namespace(namespace.as_str());
            return;
        };
        let restoring = self.try_restore(&namespace, auth.as_deref(), engine.now());
        let handshake = Handshake::new(self.request.clone(), auth);
        let socket = match &restoring {
            Some(restored) => {
                let session = &restored.session;
                let recovery = SocketRecovery {
                    pid: session.pid,
                    recovered: true,
                    joined_at: AtomicU64::new(0),
                };
                SocketRef::with_state(
                    session.id,
                    ns.clone(),
                    self.outbound.clone(),
                    handshake,
                    Some(session.data.clone()),
                    Some(recovery),
                )
            }
            None => {
                let id = SocketId::from_random_bytes(random_id_bytes());
                let recovery = self.server.recovery.as_ref().map(|_| SocketRecovery {
                    pid: Pid::from_random_bytes(random_id_bytes()),
                    recovered: false,
                    joined_at: AtomicU64::new(0),
                });
                let outbound = self.outbound.clone();
                SocketRef::with_state(id, ns.clone(), outbound, handshake, None, recovery)
            }
        };
        let skip = restoring.is_some()
            && self
                .server
                .recovery
                .as_ref()
                .is_some_and(|r| r.config.skip_middlewares);
        let middleware = if skip {
            Vec::new()
        } else {
            ns.handlers().middleware.clone()
        };
        let joining: Option<BoxFuture<Result<(), ConnectError>>> = if middleware.is_empty() {
            None
        } else {
            let socket = socket.clone();
            Some(Box::pin(async move {
                for m in middleware {
                    m.call(socket.clone()).await?;
                }
                Ok(())
            }))
        };
        let decided = joining.is_none();
        // Most connections join one namespace: room for one, not four.
        self.slots.reserve_exact(1);
        self.slots.push(Slot {
            span: socket_span(&socket),
            socket,
            joining,
            running: None,
            backlog: Fifo::new(),
            left: false,
            restoring: restoring.map(Box::new),
        });
        if decided {
            let at = self.slots.len() - 1;
            self.admit(at, engine.now());
        }
    }

    /// The session a CONNECT's auth asks to restore (`pid`, `offset`), if the server
    /// keeps it; otherwise the socket starts afresh, quietly.
    fn try_restore(
        &self,
        namespace: &Namespace,
        auth: Option<&[u8]>,
        now: Instant,
    ) -> Option<Restore> {
        let recovery = self.server.recovery.as_ref()?;
        let (pid, offset) = recovery::presented(auth)?;
        let Ok(offset) = offset else {
            tracing::debug!("not recovered: the offset is not a string");
            return None;
        };
        match recovery.restore(now, namespace, &pid, offset.as_deref()) {
            Ok(restored) => Some(restored),
            Err(why) => {
                tracing::debug!(%why, "not recovered: a fresh socket");
                None
            }
        }
    }

    /// The middleware let the socket in: it joins.
    fn admit(&mut self, at: usize, now: Instant) {
        if let Some(restored) = self.slots[at].restoring.take() {
            return self.admit_restored(at, now, *restored);
        }
        let slot = &mut self.slots[at];
        let socket = slot.socket.clone();
        let accepted = match (&socket.0.recovery, &self.server.recovery) {
            (Some(own), Some(recovery)) => {
                own.joined_at
                    .store(recovery.head().get(), Ordering::Release);
                self.conn
                    .accept_with_pid(now, socket.namespace(), socket.id(), &own.pid, &[])
            }
            _ => self.conn.accept(now, socket.namespace(), socket.id()),
        };
        match accepted {
            Ok(()) => {
                socket.0.connected.store(true, Ordering::Release);
                slot.ns().members_mut().insert(socket);
                slot.connected();
            }
            // The connection closed meanwhile.
            Err(_) => slot.left = true,
        }
    }

    /// A restored socket joins: back in its rooms, with what it missed sent ahead of
    /// its CONNECT answer.
    fn admit_restored(&mut self, at: usize, now: Instant, restored: Restore) {
        let recovery = self
            .server
            .recovery
            .clone()
            .expect("only a server with recovery restores");
        let slot = &mut self.slots[at];
        let socket = slot.socket.clone();
        let own = socket
            .0
            .recovery
            .as_ref()
            .expect("a restored socket has its pid");
        let ns = slot.ns().clone();
        let replay = {
            // Joined and caught up under one hold of the members, as broadcasts are
            // recorded and delivered (see `emit::publish`): what was recorded since the
            // restore (while middleware ran) is in `later`, what comes after reaches the
            // socket as a member.
            let mut members = ns.members_mut();
            match recovery.replay_since(now, &restored.session, restored.head) {
                Ok(later) => {
                    socket.0.connected.store(true, Ordering::Release);
                    members.insert(socket.clone());
                    for room in &restored.session.rooms {
                        members.join(socket.id(), room);
                    }
                    own.joined_at
                        .store(recovery.head().get(), Ordering::Release);
                    Some(restored.replay.into_iter().chain(later).collect::<Vec<_>>())
                }
                Err(_) => None,
            }
        };
        let Some(replay) = replay else {
            // Packets it missed were dropped while its middleware ran: never a partial
            // replay. It joins as a fresh socket (its data, which the middleware saw, stays).
            tracing::debug!("not recovered: packets dropped during the middleware");
            let fresh = SocketRef::with_state(
                SocketId::from_random_bytes(random_id_bytes()),
                ns,
                self.outbound.clone(),
                socket.0.handshake.clone(),
                Some(socket.data_handle().clone()),
                Some(SocketRecovery {
                    pid: Pid::from_random_bytes(random_id_bytes()),
                    recovered: false,
                    joined_at: AtomicU64::new(0),
                }),
            );
            self.slots[at].span = socket_span(&fresh);
            self.slots[at].socket = fresh;
            return self.admit(at, now);
        };
        let frames: Vec<(Bytes, &[Bytes])> = replay
            .iter()
            .map(|frame| (frame.text.clone(), &frame.attachments[..]))
            .collect();
        match self
            .conn
            .accept_with_pid(now, socket.namespace(), socket.id(), &own.pid, &frames)
        {
            Ok(()) => slot.connected(),
            Err(_) => {
                // The connection closed meanwhile.
                socket.0.connected.store(false, Ordering::Release);
                ns.remove_member(&socket);
                slot.left = true;
            }
        }
    }

    /// The middleware refused: the client gets CONNECT_ERROR.
    fn refuse(&mut self, at: usize, error: ConnectError) {
        let slot = &mut self.slots[at];
        slot.left = true;
        self.server.stats.refused_by_middleware();
        {
            let _entered = slot.span.enter();
            tracing::debug!(message = %error.message, "connect refused by middleware");
        }
        let namespace = slot.socket.namespace().to_owned();
        let _ = self
            .conn
            .refuse(&namespace, &error.message, error.data.as_ref());
    }

    fn on_disconnected(
        &mut self,
        namespace: &Namespace,
        socket: SocketId,
        reason: DisconnectReason,
        now: Instant,
    ) {
        let Some(slot) = self
            .slots
            .iter_mut()
            .find(|s| !s.left && s.socket.id() == socket)
        else {
            return;
        };
        slot.left = true;
        slot.socket.0.connected.store(false, Ordering::Release);
        self.server.stats.disconnected(reason);
        {
            let _entered = slot.span.enter();
            tracing::info!(reason = reason.as_str(), "socket disconnected");
        }
        let ns = slot.ns().clone();
        let kept = match (&self.server.recovery, &slot.socket.0.recovery) {
            (Some(_), Some(own)) if reason.is_recoverable() => {
                // Its rooms as they are now, its own id (listed first) left out.
                let rooms = ns.members().rooms_of(socket).split_off(1);
                Some(recovery::Kept {
                    pid: own.pid,
                    id: socket,
                    namespace: namespace.clone(),
                    rooms,
                    data: slot.socket.data_handle().clone(),
                    joined_at: Offset::new(own.joined_at.load(Ordering::Acquire)),
                })
            }
            _ => None,
        };
        ns.remove_member(&slot.socket);
        if let (Some(kept), Some(recovery)) = (kept, &self.server.recovery) {
            recovery.persist(now, kept);
        }
        slot.backlog.push_back(Work::Disconnected(reason));
        if let Some(acks) = &mut self.acks {
            let waiting: Vec<(Namespace, u64)> = acks
                .keys()
                .filter(|(n, _)| n == namespace)
                .cloned()
                .collect();
            let replies: Vec<AckReply> =
                waiting.iter().filter_map(|key| acks.remove(key)).collect();
            self.count_acks();
            for reply in replies {
                let _ = reply.send(Err(AckError::Disconnected));
            }
        }
    }

    fn apply(&mut self, command: Command, engine: &mut Engine<'_>) {
        match command {
            Command::Send { namespace, frame } => {
                #[cfg(feature = "msgpack")]
                if self.conn.parser() == socketio_core::Parser::MsgPack {
                    // Transcoded once, by the first recipient, for all of them.
                    if let Some(msgpack) = frame.msgpack() {
                        let _ = self.conn.send_msgpack(namespace.as_str(), msgpack);
                    }
                    return;
                }
                let _ = self
                    .conn
                    .send(namespace.as_str(), frame.text.clone(), &frame.attachments);
            }
            Command::EmitWithAck {
                packet,
                timeout,
                reply,
            } => {
                let namespace = packet.namespace().clone();
                match self
                    .conn
                    .allocate_ack(engine.now(), namespace.as_str(), timeout)
                {
                    Ok(id) => {
                        let encoded = Encoder::new().encode(&packet.with_ack_id(id));
                        let _ =
                            self.conn
                                .send(namespace.as_str(), encoded.text, &encoded.attachments);
                        self.acks
                            .get_or_insert_with(Box::default)
                            .insert((namespace, id.get()), reply);
                        self.count_acks();
                    }
                    Err(_) => {
                        let _ = reply.send(Err(AckError::Disconnected));
                    }
                }
            }
            Command::Disconnect { namespace } => {
                let _ = self.conn.disconnect(namespace.as_str());
            }
            Command::Close { reason } => self.conn.close(reason),
        }
    }
}

impl SessionApp for SioSession {
    fn handle_event(&mut self, event: engineio::Event, engine: &mut Engine<'_>) {
        match event {
            engineio::Event::Message(message) => {
                self.conn.handle_message(engine.now(), message);
                self.drive(engine);
            }
            engineio::Event::Closed(reason) => {
                self.conn.handle_session_closed(engine.now(), reason);
                self.drive(engine);
                for command in self.outbound.close() {
                    if let Command::EmitWithAck { reply, .. } = command {
                        let _ = reply.send(Err(AckError::Disconnected));
                    }
                }
            }
            _ => {}
        }
    }

    fn handle_commands(&mut self, engine: &mut Engine<'_>) {
        let commands = self.outbound.drain();
        if commands.is_empty() {
            return;
        }
        for command in commands {
            self.apply(command, engine);
        }
        self.drive(engine);
    }

    fn poll_work(&mut self, cx: &mut Context<'_>, engine: &mut Engine<'_>) -> Poll<()> {
        let mut progressed = false;
        for at in 0..self.slots.len() {
            let slot = &mut self.slots[at];
            if let Some(joining) = slot.joining.as_mut() {
                let polled = {
                    let _entered = slot.span.enter();
                    joining.as_mut().poll(cx)
                };
                match polled {
                    Poll::Pending => continue,
                    Poll::Ready(result) => {
                        progressed = true;
                        self.slots[at].joining = None;
                        match result {
                            Ok(()) => self.admit(at, engine.now()),
                            Err(e) => self.refuse(at, e),
                        }
                    }
                }
            }
            let slot = &mut self.slots[at];
            let _entered = slot.span.enter();
            loop {
                if let Some(running) = slot.running.as_mut() {
                    match running.as_mut().poll(cx) {
                        Poll::Pending => break,
                        Poll::Ready(()) => {
                            progressed = true;
                            slot.running = None;
                        }
                    }
                }
                let Some(work) = slot.backlog.pop_front() else {
                    break;
                };
                slot.running = start(&slot.socket, work);
            }
        }
        self.slots.retain(|s| !s.is_done());
        self.drive(engine);
        if progressed {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    fn accepts_input(&self) -> bool {
        self.slots
            .iter()
            .all(|slot| slot.backlog.len() < MAX_HANDLER_BACKLOG)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.conn.poll_timeout()
    }

    fn handle_timeout(&mut self, engine: &mut Engine<'_>) {
        self.conn.handle_timeout(engine.now());
        self.drive(engine);
    }

    fn shutdown(&mut self, engine: &mut Engine<'_>) {
        self.conn.close(DisconnectReason::ServerShuttingDown);
        self.drive(engine);
    }

    fn open_lane(&mut self, lane: &Arc<WriteLane>) {
        if self.conn.is_closed() {
            return;
        }
        #[cfg(feature = "msgpack")]
        let msgpack = self.conn.parser() == socketio_core::Parser::MsgPack;
        #[cfg(not(feature = "msgpack"))]
        let msgpack = false;
        if self
            .outbound
            .attach_lane(lane, self.server.flusher(), msgpack)
        {
            lane.open();
        }
    }

    fn after_turn(&mut self, engine: &Engine<'_>) {
        self.outbound.publish(
            engine.session.buffered_messages(),
            engine.session.buffered_bytes(),
            engine.is_writable(),
        );
    }

    fn finish(&mut self) -> Vec<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>> {
        for command in self.outbound.close() {
            if let Command::EmitWithAck { reply, .. } = command {
                let _ = reply.send(Err(AckError::Disconnected));
            }
        }
        let acks = self.acks.take();
        self.count_acks();
        for (_, reply) in acks.into_iter().flat_map(|acks| *acks) {
            let _ = reply.send(Err(AckError::Disconnected));
        }
        let mut left = Vec::new();
        for slot in self.slots.drain(..) {
            if !slot.has_work_left() {
                continue;
            }
            let Slot {
                socket,
                running,
                backlog,
                span,
                ..
            } = slot;
            let rest = async move {
                if let Some(running) = running {
                    running.await;
                }
                for work in backlog {
                    if let Some(f) = start(&socket, work) {
                        f.await;
                    }
                }
            };
            left.push(Box::pin(crate::trace::InSpan::new(rest, span))
                as std::pin::Pin<Box<dyn Future<Output = ()> + Send>>);
        }
        left
    }
}

/// Makes the Socket.IO application of each new session.
pub(crate) struct SioFactory {
    pub(crate) server: Arc<ServerInner>,
}

impl AppFactory for SioFactory {
    type App = SioSession;

    fn create(&self, request: HandshakeRequest, signal: Arc<dyn Signal>) -> SioSession {
        let outbound = Arc::new(Outbound::new(
            signal,
            self.server.limits.max_backlog,
            self.server.limits.max_backlog_bytes,
        ));
        SioSession {
            conn: Connection::new(crate::engine::now(), &self.server.core),
            server: self.server.clone(),
            request: Arc::new(request),
            outbound,
            slots: Vec::new(),
            acks: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SioSession;

    /// tokio allocates each task as one block in steps of 128 bytes, and puts 104 bytes of
    /// its own around the future. A Socket.IO session's future of at most 536 bytes makes a
    /// 640-byte task; 8 bytes more would make it 768, the largest block of every idle
    /// connection a fifth larger. (Measured with tokio 1.54; the bound on the future holds
    /// whatever tokio does.) The future is measured as spawned, inside its span's box.
    #[test]
    fn a_socketio_session_task_takes_640_bytes() {
        let size = crate::engine::session_future_size::<SioSession>();
        assert!(
            size <= 536,
            "the Socket.IO session's future is {size} bytes"
        );
    }
}
