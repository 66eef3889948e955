//! Fuzzes the Socket.IO connection state machine (`socketio_core::Connection`) with arbitrary
//! sequences of client messages (text and binary, from a vocabulary or raw), application
//! decisions and commands (accept, refuse, emits with and without acks, cancelled acks,
//! disconnects, closes), the end of the Engine.IO session, and time jumps on a virtual
//! clock, draining `poll_transmit` and `poll_event` after every step as the drive loop does.
//!
//! Input: three bytes of configuration (flags: bit 0 the MessagePack parser, bit 1 tight
//! decoder limits; the connect timeout in units of 10 ms; the most pending acks, modulo 8),
//! then steps: a byte picks the step (modulo 16), the bytes after it are its arguments.
//!
//! A model of what the application was told (namespaces asked for, sockets and their ids,
//! pending acks and their deadlines) is kept beside the connection. Checked after every
//! step besides "no panic":
//! * every transmit is a well-formed packet: the client's decoder (the default parser's or
//!   the MessagePack one) reads each, and a packet's attachments follow it; a CONNECT answer
//!   names the socket id it was accepted with;
//! * `CloseSession` comes once, last; after the connection closed (by itself, the
//!   application or the session's end) it transmits and reports nothing more, has no
//!   deadline, and refuses commands with `UsageError::Closed`; every socket it had got
//!   exactly one `Disconnected`;
//! * events fit the model: a CONNECT request for a namespace not already asked for, events
//!   and acks only on joined namespaces, an ack only for a pending id, a timeout only for a
//!   pending ack whose deadline has passed, a disconnection only of a joined socket;
//! * commands succeed exactly when the model says they can;
//! * deadlines are never in the past: after the clock reached `t`, `poll_timeout` is after
//!   `t`, no pending ack is past its deadline, and the connect timeout has closed a
//!   connection that joined nothing in time.

#![no_main]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use socketio_core::recovery::Pid;
use socketio_core::{
    CloseCause, Config, Connection, DisconnectReason, Event, Parser, SocketId, Transmit, UsageError,
};
use socketio_parser::{msgpack, AckId, Binary, Decoder, DecoderConfig, Encoder, Namespace};
use socketio_parser::{PacketKind, Status};

/// Text packets a client might send, valid and not.
const TEXTS: &[&str] = &[
    "0",
    "0/a,",
    r#"0/b,{"token":1}"#,
    r#"0{"x":1}"#,
    "1",
    "1/a,",
    r#"2["e",1]"#,
    r#"21["e"]"#,
    r#"2/a,3["e",{}]"#,
    "30[]",
    r#"31["x"]"#,
    "32[]",
    "3/a,0[1]",
    "3/a,1[]",
    r#"51-["e",{"_placeholder":true,"num":0}]"#,
    r#"61-0[{"_placeholder":true,"num":0}]"#,
    r#"52-/a,["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    "4{}",
    "9",
    r#"2["connect"]"#,
    "0/a",
    "",
    "0/é,",
];

/// MessagePack frames a client might send (`{type, nsp, data, id}`).
const FRAMES: &[&[u8]] = &[
    b"\x82\xa4type\x00\xa3nsp\xa1/",
    b"\x82\xa4type\x00\xa3nsp\xa2/a",
    b"\x83\xa4type\x02\xa4data\x92\xa1e\x01\xa3nsp\xa1/",
    b"\x84\xa4type\x02\xa4data\x91\xa1e\xa3nsp\xa1/\xa2id\x01",
    b"\x84\xa4type\x03\xa4data\x90\xa3nsp\xa1/\xa2id\x00",
    b"\x84\xa4type\x03\xa4data\x90\xa3nsp\xa1/\xa2id\x01",
    b"\x82\xa4type\x01\xa3nsp\xa1/",
    b"\x83\xa4type\x02\xa4data\x92\xa1e\xc4\x02\x01\x02\xa3nsp\xa1/",
    b"\x82\xa4type\x04\xa3nsp\xa1/",
    b"\x82\xa4type\x02\xa3nsp\xa2/a",
];

/// Namespaces the application names besides those it was asked for.
const NAMESPACES: &[&str] = &["/", "/a", "/b", "/nope"];

const REASONS: &[DisconnectReason] = &[
    DisconnectReason::ServerNamespaceDisconnect,
    DisconnectReason::ForcedServerClose,
    DisconnectReason::ServerShuttingDown,
];

const ENGINE_REASONS: &[engineio::CloseReason] = &[
    engineio::CloseReason::TransportClose,
    engineio::CloseReason::PingTimeout,
    engineio::CloseReason::ServerClose,
    engineio::CloseReason::TransportError(engineio::TransportError::PollAborted),
];

struct Reader<'a> {
    data: &'a [u8],
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn bytes(&mut self, n: usize) -> &[u8] {
        let (taken, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        taken
    }
}

#[derive(Debug)]
struct Socket {
    id: SocketId,
    /// Pending acks and their deadlines.
    acks: BTreeMap<u64, Option<Instant>>,
}

/// What the application knows, and the client's side of the wire.
struct Model {
    conn: Connection,
    parser: Parser,
    max_pending_acks: usize,
    /// The latest time given to the connection.
    clock: Instant,
    connect_deadline: Option<Instant>,
    /// CONNECTs waiting for a decision, in order.
    asked: Vec<String>,
    sockets: BTreeMap<String, Socket>,
    /// Socket ids that got their `Disconnected`.
    gone: Vec<SocketId>,
    closed: bool,
    /// No `CloseSession` may come any more: it came, or the session ended.
    close_sent: bool,
    /// Socket ids given out so far (each id is this count, so none repeats).
    next_id: u64,
    /// The client's decoder, reading what the connection transmits.
    client: Decoder,
    /// The namespaces whose CONNECT answer or refusal is due, and the DISCONNECTs due.
    answers_due: Vec<(PacketKind, String)>,
}

fuzz_target!(|data: &[u8]| {
    let mut input = Reader { data };
    let flags = input.byte();
    let parser = if flags & 1 != 0 {
        Parser::MsgPack
    } else {
        Parser::Default
    };
    let decoder = if flags & 2 != 0 {
        DecoderConfig::default()
            .with_max_attachments(2)
            .with_max_packet_size(256)
            .with_max_depth(4)
    } else {
        DecoderConfig::default()
    };
    // Fields may be added to `Config`; they keep their defaults here.
    #[allow(clippy::needless_update)]
    let config = Config {
        connect_timeout: Duration::from_millis(u64::from(input.byte()) * 10),
        decoder,
        max_pending_acks: usize::from(input.byte() % 8),
        parser,
        ..Config::default()
    };
    let t0 = Instant::now();
    let mut m = Model {
        conn: Connection::new(t0, &config),
        parser,
        max_pending_acks: config.max_pending_acks,
        clock: t0,
        connect_deadline: Some(t0 + config.connect_timeout.max(Duration::from_millis(1))),
        asked: Vec::new(),
        sockets: BTreeMap::new(),
        gone: Vec::new(),
        closed: false,
        close_sent: false,
        next_id: 0,
        client: Decoder::with_config(
            DecoderConfig::default()
                .with_max_attachments(usize::MAX)
                .with_max_packet_size(usize::MAX),
        ),
        answers_due: Vec::new(),
    };
    while !input.data.is_empty() {
        let was_closed = m.closed;
        step(&mut m, &mut input, t0);
        m.drain(was_closed);
        m.check_time();
    }
    // The application closes what is left; every socket is told.
    let was_closed = m.closed;
    m.conn.close(DisconnectReason::ForcedServerClose);
    m.closed = true;
    m.drain(was_closed);
    assert!(
        m.sockets.is_empty(),
        "sockets not disconnected: {:?}",
        m.sockets
    );
    assert!(m.close_sent);
    assert!(m.conn.is_closed());
    assert_eq!(m.conn.poll_timeout(), None);
    let mut ids = m.gone.clone();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), m.gone.len(), "a socket disconnected twice");
});

fn step(m: &mut Model, input: &mut Reader<'_>, t0: Instant) {
    let op = input.byte() % 16;
    let now = m.clock;
    match op {
        0 => {
            let text = TEXTS[usize::from(input.byte()) % TEXTS.len()];
            m.conn.handle_message(now, text_message(text.as_bytes()));
        }
        1 => {
            let n = usize::from(input.byte());
            let text = input.bytes(n).to_vec();
            m.conn.handle_message(now, text_message(&text));
        }
        2 => {
            let n = usize::from(input.byte());
            let data = Bytes::copy_from_slice(input.bytes(n));
            m.conn.handle_message(now, engineio::Message::Binary(data));
        }
        3 => {
            let frame = FRAMES[usize::from(input.byte()) % FRAMES.len()];
            m.conn
                .handle_message(now, engineio::Message::Binary(Bytes::from_static(frame)));
        }
        4 => {
            let later = now + Duration::from_millis(u64::from(input.byte()) * 7);
            m.clock = later;
            m.conn.handle_timeout(later);
        }
        5 => {
            // To the next deadline, or a little before or after it.
            if let Some(deadline) = m.conn.poll_timeout() {
                let at = match input.byte() % 3 {
                    0 => deadline,
                    1 => deadline
                        .checked_sub(Duration::from_millis(1))
                        .unwrap_or(deadline),
                    _ => deadline + Duration::from_millis(1),
                };
                let at = at.max(now);
                m.clock = at;
                m.conn.handle_timeout(at);
            }
        }
        6 => {
            let nsp = m.pick_namespace(input.byte());
            let recover = input.byte();
            m.next_id += 1;
            let mut bytes = [0; 15];
            bytes[..8].copy_from_slice(&m.next_id.to_le_bytes());
            let id = SocketId::from_random_bytes(bytes);
            let result = if recover & 1 == 0 {
                m.conn.accept(now, &nsp, id)
            } else {
                let pid = Pid::from_random_bytes([recover; 15]);
                let missed = Encoder::new()
                    .event(&namespace(&nsp), "missed", None, &(1, "x"))
                    .expect("a plain event encodes");
                m.conn
                    .accept_with_pid(now, &nsp, id, &pid, &[(missed.text, &[])])
            };
            let expected = if m.closed {
                Err(UsageError::Closed)
            } else if m.asked.contains(&nsp) {
                Ok(())
            } else {
                Err(UsageError::NoPendingConnect)
            };
            assert_eq!(result, expected, "accept {nsp}");
            if result.is_ok() {
                m.asked.retain(|n| *n != nsp);
                m.sockets.insert(
                    nsp.clone(),
                    Socket {
                        id,
                        acks: BTreeMap::new(),
                    },
                );
                m.connect_deadline = None;
                if recover & 1 != 0 {
                    m.answers_due.push((PacketKind::Event, nsp.clone()));
                }
                m.answers_due.push((PacketKind::Connect, nsp));
            }
        }
        7 => {
            let nsp = m.pick_namespace(input.byte());
            let result = match input.byte() % 3 {
                0 => m.conn.refuse_unknown_namespace(&nsp),
                1 => m.conn.refuse(
                    &nsp,
                    "not authorized",
                    Some(&serde_json::json!({"code": 401})),
                ),
                // Data that cannot be JSON (a map with keys that are not strings).
                _ => {
                    let data: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into_iter().collect();
                    m.conn.refuse(&nsp, "no", Some(&data))
                }
            };
            let expected = if m.closed {
                Err(UsageError::Closed)
            } else if m.asked.contains(&nsp) {
                Ok(())
            } else {
                Err(UsageError::NoPendingConnect)
            };
            assert_eq!(result, expected, "refuse {nsp}");
            if result.is_ok() {
                m.asked.retain(|n| *n != nsp);
                m.answers_due.push((PacketKind::ConnectError, nsp));
            }
        }
        8 => {
            let nsp = m.pick_namespace(input.byte());
            let t = input.byte();
            let timeout = (t != 0).then(|| Duration::from_millis(u64::from(t) * 5));
            let result = m.conn.allocate_ack(now, &nsp, timeout);
            let expected_err = if m.closed {
                Some(UsageError::Closed)
            } else {
                match m.sockets.get(&nsp) {
                    None => Some(UsageError::NotConnected),
                    Some(s) if s.acks.len() >= m.max_pending_acks => {
                        Some(UsageError::TooManyPendingAcks)
                    }
                    Some(_) => None,
                }
            };
            assert_eq!(result.err(), expected_err, "allocate_ack {nsp}");
            if let Ok(ack) = result {
                let socket = m.sockets.get_mut(&nsp).expect("checked above");
                let deadline = timeout.map(|t| now + t);
                assert!(
                    socket.acks.insert(ack.get(), deadline).is_none(),
                    "ack id {} given out twice",
                    ack.get()
                );
                m.send_event(&nsp, Some(ack), false);
            }
        }
        9 => {
            let nsp = m.pick_namespace(input.byte());
            let pick = usize::from(input.byte());
            if let Some(socket) = m.sockets.get_mut(&nsp) {
                let ids: Vec<u64> = socket.acks.keys().copied().collect();
                let id = ids
                    .get(pick % ids.len().max(1))
                    .copied()
                    .unwrap_or(pick as u64);
                socket.acks.remove(&id);
                m.conn.cancel_ack(&nsp, AckId::new(id));
            }
        }
        10 => {
            let nsp = m.pick_namespace(input.byte());
            let binary = input.byte() & 1 == 1;
            m.send_event(&nsp, None, binary);
        }
        11 => {
            let nsp = m.pick_namespace(input.byte());
            let result = m.conn.disconnect(&nsp);
            let expected = if m.closed {
                Err(UsageError::Closed)
            } else if m.sockets.contains_key(&nsp) {
                Ok(())
            } else {
                Err(UsageError::NotConnected)
            };
            assert_eq!(result, expected, "disconnect {nsp}");
            if result.is_ok() {
                m.answers_due.push((PacketKind::Disconnect, nsp));
            }
        }
        12 => {
            let reason = REASONS[usize::from(input.byte()) % REASONS.len()];
            if !m.closed && reason == DisconnectReason::ServerNamespaceDisconnect {
                for nsp in m.sockets.keys() {
                    m.answers_due.push((PacketKind::Disconnect, nsp.clone()));
                }
            }
            m.conn.close(reason);
            m.closed = true;
        }
        13 => {
            let reason = ENGINE_REASONS[usize::from(input.byte()) % ENGINE_REASONS.len()];
            m.conn.handle_session_closed(now, reason);
            if !m.closed {
                // Closed by the session's end: no CloseSession is due.
                m.closed = true;
                m.close_sent = true;
            }
        }
        14 => {
            // A message stamped before the latest time (read before a timer fired).
            let back = Duration::from_millis(u64::from(input.byte()) * 3);
            let then = now.checked_sub(back).unwrap_or(now).max(t0);
            let text = TEXTS[usize::from(input.byte()) % TEXTS.len()];
            m.conn.handle_message(then, text_message(text.as_bytes()));
        }
        _ => {
            // A broadcast transcoded once for every recipient.
            let nsp = m.pick_namespace(input.byte());
            let event = Encoder::new()
                .event(&namespace(&nsp), "b", None, &("x",))
                .expect("a plain event encodes");
            let frame = msgpack::encode_text_packet(&event.text, &event.attachments)
                .expect("a plain event transcodes");
            let result = m.conn.send_msgpack(&nsp, frame);
            let expected = if m.closed {
                Err(UsageError::Closed)
            } else if !m.sockets.contains_key(&nsp) {
                Err(UsageError::NotConnected)
            } else if m.parser != Parser::MsgPack {
                Err(UsageError::ParserMismatch)
            } else {
                Ok(())
            };
            assert_eq!(result, expected, "send_msgpack {nsp}");
            if result.is_ok() {
                m.answers_due.push((PacketKind::Event, nsp));
            }
        }
    }
}

fn text_message(bytes: &[u8]) -> engineio::Message {
    // The Engine.IO layer hands over valid UTF-8 only.
    let text = String::from_utf8_lossy(bytes).into_owned();
    engineio::Message::Text(Bytes::from(text))
}

fn namespace(nsp: &str) -> Namespace {
    Namespace::new(nsp).unwrap_or_default()
}

impl Model {
    /// A namespace the application names: one asked for, one joined, or another.
    fn pick_namespace(&self, b: u8) -> String {
        let known: Vec<&String> = self.asked.iter().chain(self.sockets.keys()).collect();
        let b = usize::from(b);
        if b % 4 != 3 && !known.is_empty() {
            known[b / 4 % known.len()].clone()
        } else {
            NAMESPACES[b / 4 % NAMESPACES.len()].to_owned()
        }
    }

    /// Emits an event to `nsp` as the application does, and checks the answer.
    fn send_event(&mut self, nsp: &str, ack: Option<AckId>, binary: bool) {
        let encoder = Encoder::new();
        let encoded = if binary {
            encoder.event(
                &namespace(nsp),
                "e",
                ack,
                &("data", Binary::new(&b"\x01\x02\x03"[..])),
            )
        } else {
            encoder.event(&namespace(nsp), "e", ack, &(1, "two"))
        }
        .expect("a plain event encodes");
        let result = self.conn.send(nsp, encoded.text, &encoded.attachments);
        let expected = if self.closed {
            Err(UsageError::Closed)
        } else if self.sockets.contains_key(nsp) {
            Ok(())
        } else {
            Err(UsageError::NotConnected)
        };
        assert_eq!(result, expected, "send to {nsp}");
        if result.is_ok() {
            self.answers_due.push((PacketKind::Event, nsp.to_owned()));
        }
    }

    /// Drains the connection's outputs and checks each against the model.
    fn drain(&mut self, was_closed: bool) {
        let mut close_seen = false;
        while let Some(transmit) = self.conn.poll_transmit() {
            assert!(!was_closed, "transmitted after closing: {transmit:?}");
            assert!(!close_seen, "transmitted after CloseSession: {transmit:?}");
            match transmit {
                Transmit::Text(text) => {
                    assert_eq!(
                        self.parser,
                        Parser::Default,
                        "text with the MessagePack parser"
                    );
                    assert_eq!(
                        self.client.pending_attachments(),
                        0,
                        "a packet before the attachments of the last"
                    );
                    match self.client.push_text(text.clone()) {
                        Ok(Status::Complete(packet)) => self.received(&packet),
                        Ok(Status::NeedsAttachments(_)) => {}
                        Err(e) => {
                            panic!("transmitted {text:?}, which the client cannot read: {e:?}")
                        }
                    }
                }
                Transmit::Binary(data) => {
                    if self.parser == Parser::Default {
                        assert!(
                            self.client.pending_attachments() > 0,
                            "an attachment nobody announced"
                        );
                        match self.client.push_binary(data) {
                            Ok(Status::Complete(packet)) => self.received(&packet),
                            Ok(Status::NeedsAttachments(_)) => {}
                            Err(e) => panic!("an attachment the client refused: {e:?}"),
                        }
                    } else {
                        let config = DecoderConfig::default()
                            .with_max_attachments(usize::MAX)
                            .with_max_packet_size(usize::MAX);
                        match msgpack::decode(data.clone(), &config) {
                            Ok(packet) => self.received(&packet),
                            Err(e) => {
                                panic!("transmitted {data:?}, which the client cannot read: {e:?}")
                            }
                        }
                    }
                }
                Transmit::CloseSession(cause) => {
                    assert!(!self.close_sent, "a second CloseSession: {cause:?}");
                    close_seen = true;
                    self.close_sent = true;
                    self.closed = true;
                    if cause == CloseCause::ConnectTimeout {
                        assert!(self.connect_deadline.is_some_and(|d| self.clock >= d));
                    }
                }
                other => panic!("unknown transmit {other:?}"),
            }
        }
        assert_eq!(
            self.client.pending_attachments(),
            0,
            "attachments still due"
        );
        assert!(
            self.answers_due.is_empty(),
            "not transmitted: {:?}",
            self.answers_due
        );
        while let Some(event) = self.conn.poll_event() {
            self.event(event, was_closed);
        }
        if self.conn.is_closed() {
            self.closed = true;
            assert!(self.close_sent, "closed without CloseSession");
            assert!(
                self.sockets.is_empty(),
                "closed with sockets left: {:?}",
                self.sockets
            );
            self.asked.clear();
        } else {
            assert!(!self.closed, "the connection says it is open");
        }
        // The connection's sockets are the model's.
        let theirs: Vec<(String, SocketId)> = self
            .conn
            .sockets()
            .map(|(n, id)| (n.as_str().to_owned(), id))
            .collect();
        let ours: Vec<(String, SocketId)> = self
            .sockets
            .iter()
            .map(|(n, s)| (n.clone(), s.id))
            .collect();
        let mut theirs_sorted = theirs.clone();
        theirs_sorted.sort();
        assert_eq!(theirs_sorted, ours);
        for (nsp, id) in &theirs {
            assert_eq!(self.conn.socket_id(nsp), Some(*id));
        }
    }

    /// A packet the client read.
    fn received(&mut self, packet: &socketio_parser::Packet) {
        let nsp = packet.namespace().as_str().to_owned();
        let kind = match packet.kind() {
            PacketKind::BinaryEvent => PacketKind::Event,
            k => k,
        };
        // In order for each namespace (a close tells the sockets in the order they joined).
        let at = self.answers_due.iter().position(|(_, n)| *n == nsp);
        match at {
            Some(at) if self.answers_due[at].0 == kind => {
                self.answers_due.remove(at);
            }
            _ => panic!("an unexpected {kind:?} for {nsp}: {:?}", self.answers_due),
        }
        if kind == PacketKind::Connect {
            let answer: serde_json::Value = packet
                .payload_as()
                .expect("a CONNECT answer is a JSON object");
            let id = self.sockets.get(&nsp).map(|s| s.id.to_string());
            assert_eq!(
                answer["sid"].as_str(),
                id.as_deref(),
                "CONNECT answer {answer}"
            );
        }
    }

    /// An event for the application.
    fn event(&mut self, event: Event, was_closed: bool) {
        assert!(!was_closed, "an event after closing: {event:?}");
        match event {
            Event::ConnectRequest { namespace, .. } => {
                let nsp = namespace.as_str().to_owned();
                assert!(!self.closed, "a CONNECT request on a closed connection");
                assert!(
                    !self.asked.contains(&nsp) && !self.sockets.contains_key(&nsp),
                    "{nsp} asked for twice"
                );
                self.asked.push(nsp);
            }
            Event::Event(packet) => {
                assert!(packet.kind().is_event());
                assert!(
                    self.sockets.contains_key(packet.namespace().as_str()),
                    "an event on a namespace not joined"
                );
            }
            Event::Ack(packet) => {
                assert!(packet.kind().is_ack());
                let socket = self
                    .sockets
                    .get_mut(packet.namespace().as_str())
                    .expect("an ack on a namespace not joined");
                let id = packet.ack_id().expect("an ack has an id").get();
                assert!(
                    socket.acks.remove(&id).is_some(),
                    "an ack for id {id}, not pending"
                );
            }
            Event::AckTimedOut { namespace, ack } => {
                let socket = self
                    .sockets
                    .get_mut(namespace.as_str())
                    .expect("an ack timeout on a namespace not joined");
                let deadline = socket.acks.remove(&ack.get());
                let Some(Some(deadline)) = deadline else {
                    panic!(
                        "a timeout for ack {}, pending with no deadline or not at all",
                        ack.get()
                    );
                };
                assert!(
                    deadline <= self.clock,
                    "an ack timed out before its deadline"
                );
            }
            Event::Disconnected {
                namespace, socket, ..
            } => {
                let ours = self
                    .sockets
                    .remove(namespace.as_str())
                    .expect("a disconnection of a namespace not joined");
                assert_eq!(ours.id, socket);
                self.gone.push(socket);
            }
            other => panic!("unknown event {other:?}"),
        }
    }

    /// Deadlines are never in the past.
    fn check_time(&self) {
        if let Some(deadline) = self.conn.poll_timeout() {
            assert!(deadline > self.clock, "a deadline in the past");
        }
        for (nsp, socket) in &self.sockets {
            for (id, deadline) in &socket.acks {
                assert!(
                    deadline.is_none_or(|d| d > self.clock),
                    "ack {id} of {nsp} is late"
                );
            }
        }
        if self.connect_deadline.is_some_and(|d| self.clock >= d) {
            assert!(self.conn.is_closed(), "the connect timeout passed");
        }
    }
}
