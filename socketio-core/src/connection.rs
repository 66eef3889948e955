//! One Socket.IO connection: the namespaces an Engine.IO session joined.

use std::collections::BTreeMap;

use engineio::fifo::Fifo;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use socketio_parser::{AckId, Decoder, Encoder, Namespace, Packet, PacketKind, Status};

use crate::config::{Config, Parser};
use crate::error::UsageError;
use crate::event::{CloseCause, DisconnectReason, Event, Transmit, Violation};
use crate::recovery::Pid;
use crate::socket_id::SocketId;

/// Where one namespace stands on this connection.
#[derive(Debug)]
enum Membership {
    /// A CONNECT arrived; waiting for the application to accept or refuse it.
    ExpectDecision,
    /// Joined as a socket.
    Connected(Socket),
}

#[derive(Debug)]
struct Socket {
    id: SocketId,
    next_ack: u64,
    /// Emits waiting for an ack, with their deadlines.
    pending_acks: BTreeMap<u64, Option<Instant>>,
}

/// The Socket.IO state of one Engine.IO session. See the crate docs for the
/// drive loop.
#[derive(Debug)]
pub struct Connection {
    decoder: Decoder,
    parser: Parser,
    connect_timeout: Duration,
    /// The limits of [`Config`], kept in 32 bits each: this struct is part of every
    /// connection's task, whose size the runtime rounds up to 128-byte steps.
    max_pending_acks: u32,
    max_namespaces: u32,
    /// Namespaces in the order they were asked for (a connection holds few).
    namespaces: Vec<(Namespace, Membership)>,
    /// Until this instant the connection must join a namespace.
    connect_deadline: Option<Instant>,
    closed: bool,
    /// Outputs; both hold at most one item between turns nearly always, and
    /// nothing while the connection is idle, when they take no heap memory.
    transmits: Fifo<Transmit>,
    events: Fifo<Event>,
    clock: Instant,
}

#[derive(Serialize)]
struct ConnectReply<'a> {
    sid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<&'a str>,
}

#[derive(Serialize)]
struct ConnectError<'a, D: Serialize> {
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a D>,
}

impl Connection {
    /// A connection for an Engine.IO session opened at `now`: it must join a
    /// namespace within the connect timeout.
    pub fn new(now: Instant, config: &Config) -> Self {
        Connection {
            decoder: Decoder::with_config(config.decoder.clone()),
            parser: config.parser,
            connect_timeout: config.connect_timeout,
            max_pending_acks: u32::try_from(config.max_pending_acks).unwrap_or(u32::MAX),
            max_namespaces: u32::try_from(config.max_namespaces).unwrap_or(u32::MAX),
            namespaces: Vec::new(),
            connect_deadline: Some(now + config.connect_timeout.max(Duration::from_millis(1))),
            closed: false,
            transmits: Fifo::new(),
            events: Fifo::new(),
            clock: now,
        }
    }

    /// The connect timeout this connection was given.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Whether the connection is over (its `CloseSession` was queued, or its
    /// Engine.IO session ended).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The socket joined to `namespace`, if any.
    pub fn socket_id(&self, namespace: &str) -> Option<SocketId> {
        match self.membership(namespace) {
            Some(Membership::Connected(s)) => Some(s.id),
            _ => None,
        }
    }

    /// The namespaces joined, with their sockets.
    pub fn sockets(&self) -> impl Iterator<Item = (&Namespace, SocketId)> {
        self.namespaces.iter().filter_map(|(nsp, m)| match m {
            Membership::Connected(s) => Some((nsp, s.id)),
            Membership::ExpectDecision => None,
        })
    }

    // ----- inputs -------------------------------------------------------------------

    /// A message of the Engine.IO session (text: a packet; binary: an attachment).
    pub fn handle_message(&mut self, now: Instant, message: engineio::Message) {
        self.advance(now);
        if self.closed {
            return;
        }
        let status = match (self.parser, message) {
            (Parser::Default, engineio::Message::Text(text)) => self.decoder.push_text(text),
            (Parser::Default, engineio::Message::Binary(data)) => self.decoder.push_binary(data),
            #[cfg(feature = "msgpack")]
            (Parser::MsgPack, engineio::Message::Binary(frame)) => {
                socketio_parser::msgpack::decode(frame, self.decoder.config()).map(Status::Complete)
            }
            #[cfg(feature = "msgpack")]
            (Parser::MsgPack, engineio::Message::Text(_)) => {
                return self.close_with(CloseCause::Violation(Violation::TextWithBinaryParser));
            }
        };
        match status {
            Err(e) => self.close_with(CloseCause::Decode(e)),
            Ok(Status::NeedsAttachments(_)) => {}
            Ok(Status::Complete(packet)) => self.dispatch(packet),
        }
    }

    /// The Engine.IO session ended: every socket disconnects with the
    /// matching reason.
    pub fn handle_session_closed(&mut self, now: Instant, reason: engineio::CloseReason) {
        self.advance(now);
        if self.closed {
            return;
        }
        self.closed = true;
        self.disconnect_all(DisconnectReason::from_engine(reason), false);
    }

    /// Time passed: call at [`poll_timeout`](Connection::poll_timeout).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
    }

    // ----- decisions and commands ---------------------------------------------------

    /// Lets the client join `namespace` as socket `id`: queues the CONNECT
    /// answer `{"sid": id}`. Anything the application sends next goes after it.
    pub fn accept(
        &mut self,
        now: Instant,
        namespace: &str,
        id: SocketId,
    ) -> Result<(), UsageError> {
        self.accept_inner(now, namespace, id, None, &[])
    }

    /// Lets the client join `namespace` as socket `id` with connection state
    /// recovery on: the CONNECT answer is `{"sid": id, "pid": pid}`. `replay` is
    /// what a restored socket missed (encoded EVENTs, each a text frame and its
    /// attachments, see [`send`](Self::send)); it goes out before the CONNECT answer,
    /// as the reference server sends it (the client holds those events until the
    /// answer, then delivers them before anything newer). A fresh socket has none.
    pub fn accept_with_pid(
        &mut self,
        now: Instant,
        namespace: &str,
        id: SocketId,
        pid: &Pid,
        replay: &[(Bytes, &[Bytes])],
    ) -> Result<(), UsageError> {
        self.accept_inner(now, namespace, id, Some(pid), replay)
    }

    fn accept_inner(
        &mut self,
        now: Instant,
        namespace: &str,
        id: SocketId,
        pid: Option<&Pid>,
        replay: &[(Bytes, &[Bytes])],
    ) -> Result<(), UsageError> {
        self.advance(now);
        self.check_open()?;
        let Some(slot) = self
            .namespaces
            .iter_mut()
            .find(|(n, _)| n.as_str() == namespace)
        else {
            return Err(UsageError::NoPendingConnect);
        };
        if !matches!(slot.1, Membership::ExpectDecision) {
            return Err(UsageError::NoPendingConnect);
        }
        slot.1 = Membership::Connected(Socket {
            id,
            next_ack: 0,
            pending_acks: BTreeMap::new(),
        });
        let nsp = slot.0.clone();
        // Joined once: the connect timeout no longer applies.
        self.connect_deadline = None;
        for (text, attachments) in replay {
            // A replayed packet too deep for this connection's parser is left out, as
            // it was when it first went out live.
            let _ = self.push_encoded(text.clone(), attachments);
        }
        let reply = ConnectReply {
            sid: id.as_str(),
            pid: pid.map(Pid::as_str),
        };
        let packet = Packet::connect_with(nsp, &reply)
            .expect("an object of strings is a valid CONNECT payload");
        self.push_packet(&packet);
        Ok(())
    }

    /// Refuses the CONNECT for `namespace` with a CONNECT_ERROR
    /// `{"message": message, "data": data}` (`data` left out when `None`).
    /// The connection stays open.
    pub fn refuse<D: Serialize>(
        &mut self,
        namespace: &str,
        message: &str,
        data: Option<&D>,
    ) -> Result<(), UsageError> {
        self.check_open()?;
        let Some(at) = self.pending_position(namespace) else {
            return Err(UsageError::NoPendingConnect);
        };
        let (nsp, _) = self.namespaces.remove(at);
        let payload = ConnectError { message, data };
        let packet = match Packet::connect_error(nsp.clone(), &payload) {
            Ok(packet) => packet,
            // Data that cannot be serialized: refuse with the message alone.
            Err(_) => Packet::connect_error(
                nsp,
                &ConnectError::<()> {
                    message,
                    data: None,
                },
            )
            .expect("an object of one string is a valid CONNECT_ERROR payload"),
        };
        self.push_packet(&packet);
        Ok(())
    }

    /// Refuses a CONNECT for a namespace the server does not have, as the
    /// reference server does: `{"message":"Invalid namespace"}`.
    pub fn refuse_unknown_namespace(&mut self, namespace: &str) -> Result<(), UsageError> {
        self.refuse::<()>(namespace, "Invalid namespace", None)
    }

    /// Queues an encoded EVENT or ACK (text frame without the Engine.IO `4`,
    /// then its attachments) for the socket joined to `namespace`.
    pub fn send(
        &mut self,
        namespace: &str,
        text: Bytes,
        attachments: &[Bytes],
    ) -> Result<(), UsageError> {
        self.check_open()?;
        if self.socket_id(namespace).is_none() {
            return Err(UsageError::NotConnected);
        }
        self.push_encoded(text, attachments)?;
        Ok(())
    }

    /// The parser this connection's packets travel in.
    pub fn parser(&self) -> Parser {
        self.parser
    }

    /// Sends a packet already transcoded to one MessagePack frame (e.g. a broadcast,
    /// transcoded once with `socketio_parser::msgpack::encode_text_packet` for every
    /// recipient), to the socket joined to `namespace` of a connection whose parser is
    /// [`Parser::MsgPack`].
    ///
    /// # Errors
    /// [`UsageError::NotConnected`] as [`send`](Self::send);
    /// [`UsageError::ParserMismatch`] when the connection uses another parser.
    #[cfg(feature = "msgpack")]
    pub fn send_msgpack(&mut self, namespace: &str, frame: Bytes) -> Result<(), UsageError> {
        self.check_open()?;
        if self.socket_id(namespace).is_none() {
            return Err(UsageError::NotConnected);
        }
        if self.parser != Parser::MsgPack {
            return Err(UsageError::ParserMismatch);
        }
        self.transmits.push_back(Transmit::Binary(frame));
        Ok(())
    }

    /// Queues a packet the default encoder wrote, in the connection's parser.
    fn push_encoded(&mut self, text: Bytes, attachments: &[Bytes]) -> Result<(), UsageError> {
        match self.parser {
            Parser::Default => {
                self.transmits
                    .extend(Transmit::packet_messages(&text, attachments));
            }
            #[cfg(feature = "msgpack")]
            Parser::MsgPack => {
                let frame = socketio_parser::msgpack::encode_text_packet(&text, attachments)
                    .map_err(|_| UsageError::TooDeepForParser)?;
                self.transmits.push_back(Transmit::Binary(frame));
            }
        }
        Ok(())
    }

    /// Reserves an ack id for an emit to the socket joined to `namespace`;
    /// encode the EVENT with it. The answer comes as [`Event::Ack`]; with a
    /// `timeout`, [`Event::AckTimedOut`] comes instead if it is late.
    pub fn allocate_ack(
        &mut self,
        now: Instant,
        namespace: &str,
        timeout: Option<Duration>,
    ) -> Result<AckId, UsageError> {
        self.advance(now);
        self.check_open()?;
        let max = self.max_pending_acks as usize;
        let socket = self
            .connected_mut(namespace)
            .ok_or(UsageError::NotConnected)?;
        if socket.pending_acks.len() >= max {
            return Err(UsageError::TooManyPendingAcks);
        }
        let id = socket.next_ack;
        socket.next_ack = socket.next_ack.wrapping_add(1);
        let deadline = timeout.map(|t| now + t.max(Duration::from_millis(1)));
        socket.pending_acks.insert(id, deadline);
        Ok(AckId::new(id))
    }

    /// Forgets an ack the application no longer waits for.
    pub fn cancel_ack(&mut self, namespace: &str, ack: AckId) {
        if let Some(socket) = self.connected_mut(namespace) {
            socket.pending_acks.remove(&ack.get());
        }
    }

    /// Makes the socket joined to `namespace` leave it: sends DISCONNECT; the
    /// connection and its other namespaces stay.
    pub fn disconnect(&mut self, namespace: &str) -> Result<(), UsageError> {
        self.check_open()?;
        let at = self
            .namespaces
            .iter()
            .position(|(n, m)| n.as_str() == namespace && matches!(m, Membership::Connected(_)))
            .ok_or(UsageError::NotConnected)?;
        let (nsp, membership) = self.namespaces.remove(at);
        self.push_packet(&Packet::disconnect(nsp.clone()));
        if let Membership::Connected(socket) = membership {
            self.events.push_back(Event::Disconnected {
                namespace: nsp,
                socket: socket.id,
                reason: DisconnectReason::ServerNamespaceDisconnect,
            });
        }
        Ok(())
    }

    /// Ends the whole connection. With
    /// [`ServerNamespaceDisconnect`](DisconnectReason::ServerNamespaceDisconnect)
    /// each socket is told with a DISCONNECT first (the client will not
    /// reconnect); with any other reason (e.g. the server shutting down) the
    /// session just closes and clients reconnect.
    pub fn close(&mut self, reason: DisconnectReason) {
        if self.closed {
            return;
        }
        self.close_with(CloseCause::Server(reason));
    }

    // ----- outputs ------------------------------------------------------------------

    /// The next message for the Engine.IO session, or the request to close it.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Connection::handle_timeout) must be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        let acks = self.namespaces.iter().filter_map(|(_, m)| match m {
            Membership::Connected(s) => s.pending_acks.values().flatten().min().copied(),
            Membership::ExpectDecision => None,
        });
        acks.chain(self.connect_deadline).min()
    }

    // ----- internals ----------------------------------------------------------------

    fn advance(&mut self, now: Instant) {
        let now = now.max(self.clock);
        self.clock = now;
        if self.closed {
            return;
        }
        if self.connect_deadline.is_some_and(|d| now >= d) {
            self.connect_deadline = None;
            if self.sockets().next().is_none() {
                self.close_with(CloseCause::ConnectTimeout);
                return;
            }
        }
        for (nsp, membership) in &mut self.namespaces {
            let Membership::Connected(socket) = membership else {
                continue;
            };
            let expired: Vec<u64> = socket
                .pending_acks
                .iter()
                .filter(|(_, d)| d.is_some_and(|d| now >= d))
                .map(|(id, _)| *id)
                .collect();
            for id in expired {
                socket.pending_acks.remove(&id);
                self.events.push_back(Event::AckTimedOut {
                    namespace: nsp.clone(),
                    ack: AckId::new(id),
                });
            }
        }
    }

    fn dispatch(&mut self, packet: Packet) {
        let at = self
            .namespaces
            .iter()
            .position(|(n, _)| n == packet.namespace());
        match (packet.kind(), at) {
            (PacketKind::Connect, None)
                if self.namespaces.len() >= self.max_namespaces as usize =>
            {
                let refusal = Packet::connect_error(
                    packet.namespace().clone(),
                    &ConnectError::<()> {
                        message: "Too many namespaces",
                        data: None,
                    },
                )
                .expect("an object of one string is a valid CONNECT_ERROR payload");
                self.push_packet(&refusal);
            }
            (PacketKind::Connect, None) => {
                let namespace = packet.namespace().clone();
                // Most connections join one namespace: room for exactly one
                // first (a plain push would make room for four).
                self.namespaces.reserve_exact(1);
                self.namespaces
                    .push((namespace.clone(), Membership::ExpectDecision));
                self.events.push_back(Event::ConnectRequest {
                    namespace,
                    auth: packet.payload().cloned(),
                });
            }
            (PacketKind::Connect, Some(_)) => {
                self.close_with(CloseCause::Violation(Violation::DuplicateConnect))
            }
            (PacketKind::ConnectError, _) => {
                self.close_with(CloseCause::Violation(Violation::ClientConnectError))
            }
            (_, Some(at)) if matches!(self.namespaces[at].1, Membership::Connected(_)) => {
                self.dispatch_to_socket(at, packet)
            }
            _ => self.close_with(CloseCause::Violation(Violation::NotConnected)),
        }
    }

    fn dispatch_to_socket(&mut self, at: usize, packet: Packet) {
        let kind = packet.kind();
        if kind.is_event() {
            self.events.push_back(Event::Event(Box::new(packet)));
        } else if kind.is_ack() {
            let Membership::Connected(socket) = &mut self.namespaces[at].1 else {
                unreachable!("dispatch_to_socket is called for connected namespaces")
            };
            // Answers to unknown or expired ids are ignored, as in the reference server.
            let known = packet
                .ack_id()
                .is_some_and(|id| socket.pending_acks.remove(&id.get()).is_some());
            if known {
                self.events.push_back(Event::Ack(Box::new(packet)));
            }
        } else if kind == PacketKind::Disconnect {
            let (namespace, membership) = self.namespaces.remove(at);
            if let Membership::Connected(socket) = membership {
                self.events.push_back(Event::Disconnected {
                    namespace,
                    socket: socket.id,
                    reason: DisconnectReason::ClientNamespaceDisconnect,
                });
            }
        }
    }

    fn close_with(&mut self, cause: CloseCause) {
        self.closed = true;
        let tell = matches!(
            cause,
            CloseCause::Server(DisconnectReason::ServerNamespaceDisconnect)
        );
        self.disconnect_all(cause.reason(), tell);
        self.transmits.push_back(Transmit::CloseSession(cause));
    }

    /// Every joined socket leaves with `reason`; `tell` sends each a DISCONNECT.
    fn disconnect_all(&mut self, reason: DisconnectReason, tell: bool) {
        for (namespace, membership) in std::mem::take(&mut self.namespaces) {
            if let Membership::Connected(socket) = membership {
                if tell {
                    self.push_packet(&Packet::disconnect(namespace.clone()));
                }
                self.events.push_back(Event::Disconnected {
                    namespace,
                    socket: socket.id,
                    reason,
                });
            }
        }
    }

    fn push_packet(&mut self, packet: &Packet) {
        let encoded = Encoder::new().encode(packet);
        // The connection's own packets (CONNECT answers, refusals, DISCONNECT) are shallow:
        // every parser can write them.
        let written = self.push_encoded(encoded.text, &encoded.attachments);
        debug_assert!(written.is_ok(), "{written:?}");
    }

    fn check_open(&self) -> Result<(), UsageError> {
        if self.closed {
            Err(UsageError::Closed)
        } else {
            Ok(())
        }
    }

    fn membership(&self, namespace: &str) -> Option<&Membership> {
        self.namespaces
            .iter()
            .find(|(n, _)| n.as_str() == namespace)
            .map(|(_, m)| m)
    }

    fn connected_mut(&mut self, namespace: &str) -> Option<&mut Socket> {
        self.namespaces.iter_mut().find_map(|(n, m)| match m {
            Membership::Connected(s) if n.as_str() == namespace => Some(s),
            _ => None,
        })
    }

    fn pending_position(&self, namespace: &str) -> Option<usize> {
        self.namespaces
            .iter()
            .position(|(n, m)| n.as_str() == namespace && matches!(m, Membership::ExpectDecision))
    }
}
