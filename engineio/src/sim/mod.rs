//! A deterministic, in-memory driver: a [`Server`], the [`Session`]s it opened,
//! a virtual clock, and a record of everything written. For tests,
//! simulations and fuzzing: no sockets, no sleeps, no real time.
//!
//! It is also the smallest complete drive loop, written out: route each
//! request, drain transmits then events until both are empty, fire timers in
//! deadline order.
//!
//! Requests are written in the wire's own words (the packet DSL): a query
//! string, a body like `"4hello\x1e2"` (see [`payload`]), and answers read back
//! as packet lists with [`packets`].
//!
//! ```
//! use engineio::sim::Sim;
//! use engineio::Config;
//!
//! let mut sim = Sim::new(Config::default());
//! let sid = sim.open_polling();
//! let post = sim.post(sid, "4hello");
//! assert_eq!(sim.body(post).as_deref(), Some("ok"));
//! sim.send_text(sid, "hi").unwrap();
//! let get = sim.poll(sid);
//! assert_eq!(sim.packets(get), ["4hi"]);
//! ```

mod script;

pub use script::run_script;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::{
    Config, CountingSidGenerator, Event, Message, Method, RequestHead, RequestId, Response, Routed,
    SendError, Server, Session, Sid, Transmit, WsClosed, WsFrame,
};

/// What was written for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP response.
    Http(Response),
    /// The WebSocket handshake was completed (101).
    WebSocketAccepted,
}

/// The in-memory driver. See the [module documentation](self).
#[derive(Debug)]
pub struct Sim {
    server: Server,
    sessions: BTreeMap<Sid, Session>,
    /// Which session each routed request or WebSocket belongs to.
    owner: HashMap<RequestId, Sid>,
    t0: Instant,
    now: Instant,
    next_id: u64,
    answers: HashMap<RequestId, Answer>,
    frames: HashMap<RequestId, Vec<WsFrame>>,
    closes: HashMap<RequestId, u16>,
    events: Vec<(Sid, Event)>,
    /// Requests whose connection the client dropped before an answer.
    aborted: HashSet<RequestId>,
    /// Long-poll GETs routed to a session.
    poll_gets: Vec<RequestId>,
    violations: Vec<String>,
    /// When set, every message a session receives is sent straight back.
    pub echo: bool,
}

impl Sim {
    /// A driver for a server with `config` and deterministic session ids.
    pub fn new(config: Config) -> Self {
        Sim::with_seed(config, 1)
    }

    /// Like [`Sim::new`], with another seed for the session ids.
    pub fn with_seed(config: Config, seed: u64) -> Self {
        #[allow(clippy::disallowed_methods)] // the one real instant: the virtual clock's origin
        let t0 = Instant::now();
        Sim {
            server: Server::new(config, CountingSidGenerator::new(seed)),
            sessions: BTreeMap::new(),
            owner: HashMap::new(),
            t0,
            now: t0,
            next_id: 1,
            answers: HashMap::new(),
            frames: HashMap::new(),
            closes: HashMap::new(),
            events: Vec::new(),
            aborted: HashSet::new(),
            poll_gets: Vec::new(),
            violations: Vec::new(),
            echo: false,
        }
    }

    // ----- the clock ----------------------------------------------------------------

    /// Virtual time elapsed since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    /// Moves the clock forward by `by`, firing every deadline on the way in order.
    pub fn advance(&mut self, by: Duration) {
        let target = self.now + by;
        loop {
            let due = self
                .sessions
                .iter()
                .filter_map(|(sid, s)| s.poll_timeout().map(|t| (t, *sid)))
                .filter(|(t, _)| *t <= target)
                .min();
            let Some((at, sid)) = due else { break };
            self.now = self.now.max(at);
            if let Some(session) = self.sessions.get_mut(&sid) {
                session.handle_timeout(self.now);
            }
            self.drive(sid, true);
        }
        self.now = target;
    }

    /// Moves the clock forward without firing any timer, as a runtime whose
    /// timer is late would: the next input arrives at the later time.
    pub fn advance_clock_only(&mut self, by: Duration) {
        self.now += by;
    }

    /// Fires, at the current time, every deadline already passed: a timer that woke late
    /// (after [`advance_clock_only`](Sim::advance_clock_only)).
    pub fn wake_late(&mut self) {
        let due: Vec<Sid> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.poll_timeout().is_some_and(|t| t <= self.now))
            .map(|(sid, _)| *sid)
            .collect();
        for sid in due {
            if let Some(session) = self.sessions.get_mut(&sid) {
                session.handle_timeout(self.now);
            }
            self.drive(sid, true);
        }
    }

    /// [`advance`](Sim::advance) by `ms` milliseconds.
    pub fn advance_ms(&mut self, ms: u64) {
        self.advance(Duration::from_millis(ms));
    }

    // ----- requests -----------------------------------------------------------------

    /// Sends a request with this head; returns its id. The answer, if any
    /// yet, is in [`answer`](Sim::answer).
    pub fn request(&mut self, head: RequestHead) -> RequestId {
        self.request_with_body(head, None)
    }

    /// Sends a request and, when it reaches a session, its body right after.
    pub fn request_with_body(&mut self, head: RequestHead, body: Option<Bytes>) -> RequestId {
        let id = self.arrive();
        self.deliver(id, head, body);
        id
    }

    /// A request arrives now and is given its id, but is routed only later,
    /// with [`deliver`](Sim::deliver): as when its connection's task runs
    /// after another's whose request came later.
    pub fn arrive(&mut self) -> RequestId {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Routes a request that arrived earlier (see [`arrive`](Sim::arrive)) and,
    /// when it reaches a session, its body right after.
    pub fn deliver(&mut self, id: RequestId, head: RequestHead, body: Option<Bytes>) {
        match self.server.handle_request(self.now, id, &head) {
            Routed::Respond(t) => self.record(None, t),
            Routed::Opened(session) => {
                let sid = session.sid();
                if self.sessions.insert(sid, *session).is_some() {
                    self.violations.push(format!("{sid}: sid given out twice"));
                }
                self.owner.insert(id, sid);
                self.drive(sid, true);
            }
            Routed::Session(request) => {
                let sid = request.sid();
                match self.sessions.get_mut(&sid) {
                    None => {
                        let t = self.server.handle_unknown_session(self.now, request);
                        self.record(None, t);
                    }
                    Some(session) => {
                        self.owner.insert(id, sid);
                        if head.method == Method::Get && !head.websocket_upgrade {
                            self.poll_gets.push(id);
                        }
                        session.handle_request(self.now, request);
                        if let Some(body) = body {
                            session.handle_body(self.now, id, body);
                        }
                        self.drive(sid, true);
                    }
                }
            }
        }
    }

    /// The head of a long-poll GET for `sid`, for [`deliver`](Sim::deliver).
    pub fn poll_head(sid: Sid) -> RequestHead {
        RequestHead::new(Method::Get, format!("EIO=4&transport=polling&sid={sid}"))
    }

    /// A handshake over polling; returns the new session's sid.
    pub fn open_polling(&mut self) -> Sid {
        let id = self.request(RequestHead::new(Method::Get, "EIO=4&transport=polling"));
        self.opened_sid(id)
    }

    /// A handshake over WebSocket; returns the sid and the WebSocket's id.
    pub fn open_websocket(&mut self) -> (Sid, RequestId) {
        let mut head = RequestHead::new(Method::Get, "EIO=4&transport=websocket");
        head.websocket_upgrade = true;
        let id = self.request(head);
        (self.opened_sid(id), id)
    }

    fn opened_sid(&mut self, id: RequestId) -> Sid {
        match self.owner.get(&id) {
            Some(sid) => *sid,
            None => panic!("handshake refused: {:?}", self.answers.get(&id)),
        }
    }

    /// A long-poll GET for `sid`.
    pub fn poll(&mut self, sid: Sid) -> RequestId {
        self.request(Sim::poll_head(sid))
    }

    /// A POST of `body` (a payload, e.g. `"4a\x1e4b"`) for `sid`.
    pub fn post(&mut self, sid: Sid, body: impl Into<Bytes>) -> RequestId {
        let body = body.into();
        let mut head = RequestHead::new(Method::Post, format!("EIO=4&transport=polling&sid={sid}"));
        head.content_type = Some("text/plain;charset=UTF-8".to_owned());
        head.content_length = Some(body.len() as u64);
        self.request_with_body(head, Some(body))
    }

    /// A WebSocket upgrade request for `sid`; returns the socket's id.
    pub fn upgrade_request(&mut self, sid: Sid) -> RequestId {
        let mut head =
            RequestHead::new(Method::Get, format!("EIO=4&transport=websocket&sid={sid}"));
        head.websocket_upgrade = true;
        self.request(head)
    }

    /// The body of a POST whose head was sent with [`request`](Sim::request).
    pub fn send_body(&mut self, id: RequestId, body: impl Into<Bytes>) {
        if let Some(&sid) = self.owner.get(&id) {
            if let Some(session) = self.sessions.get_mut(&sid) {
                session.handle_body(self.now, id, body.into());
                self.drive(sid, true);
            }
        }
    }

    /// The client drops the connection of `id` before its answer.
    pub fn abort(&mut self, id: RequestId) {
        if !self.answers.contains_key(&id) {
            self.aborted.insert(id);
        }
        if let Some(&sid) = self.owner.get(&id) {
            if let Some(session) = self.sessions.get_mut(&sid) {
                session.handle_request_aborted(self.now, id);
                self.drive(sid, true);
            }
        }
    }

    /// The client sends a text message (`"2probe"`, `"4hello"`) on WebSocket `socket`.
    pub fn ws_text(&mut self, socket: RequestId, text: &str) {
        self.ws_message(
            socket,
            Message::Text(Bytes::copy_from_slice(text.as_bytes())),
        );
    }

    /// The client sends a message on WebSocket `socket`.
    pub fn ws_message(&mut self, socket: RequestId, message: Message) {
        if self.closes.contains_key(&socket) {
            return; // the server closed it: nothing more is read
        }
        if let Some(&sid) = self.owner.get(&socket) {
            if let Some(session) = self.sessions.get_mut(&sid) {
                session.handle_ws_message(self.now, socket, message);
                self.drive(sid, true);
            }
        }
    }

    /// WebSocket `socket` ends.
    pub fn ws_closed(&mut self, socket: RequestId, how: WsClosed) {
        if let Some(&sid) = self.owner.get(&socket) {
            if let Some(session) = self.sessions.get_mut(&sid) {
                session.handle_ws_closed(self.now, socket, how);
                self.drive(sid, true);
            }
        }
    }

    // ----- the application ----------------------------------------------------------

    /// The application sends a text message to `sid`.
    pub fn send_text(&mut self, sid: Sid, text: &str) -> Result<(), SendError> {
        self.send(sid, Message::Text(Bytes::copy_from_slice(text.as_bytes())))
    }

    /// The application sends a message to `sid`.
    pub fn send(&mut self, sid: Sid, message: Message) -> Result<(), SendError> {
        let session = self.sessions.get_mut(&sid).ok_or(SendError::Closed)?;
        let result = session.send(message);
        self.drive(sid, false);
        result
    }

    /// The application closes `sid`.
    pub fn close(&mut self, sid: Sid) {
        if let Some(session) = self.sessions.get_mut(&sid) {
            session.close(self.now);
            self.drive(sid, true);
        }
    }

    /// The application acts on `sid` directly (several sends, then a close,
    /// say), and the session is drained only afterwards, as a runtime drains
    /// it once per turn.
    pub fn in_one_turn(&mut self, sid: Sid, act: impl FnOnce(&mut Session, Instant)) {
        if let Some(session) = self.sessions.get_mut(&sid) {
            act(session, self.now);
            self.drive(sid, true);
        }
    }

    // ----- what happened ------------------------------------------------------------

    /// The answer to `id`, if one was written.
    pub fn answer(&self, id: RequestId) -> Option<&Answer> {
        self.answers.get(&id)
    }

    /// The HTTP response to `id`, if one was written.
    pub fn response(&self, id: RequestId) -> Option<&Response> {
        match self.answers.get(&id) {
            Some(Answer::Http(r)) => Some(r),
            _ => None,
        }
    }

    /// The status of the response to `id`.
    pub fn status(&self, id: RequestId) -> Option<u16> {
        self.response(id).map(|r| r.status)
    }

    /// The body of the response to `id`, as text.
    pub fn body(&self, id: RequestId) -> Option<String> {
        self.response(id)
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
    }

    /// The packets of the long-poll answer to `id` (empty if unanswered).
    pub fn packets(&self, id: RequestId) -> Vec<String> {
        self.body(id).map(|b| packets(&b)).unwrap_or_default()
    }

    /// Every message written on WebSocket `socket`, as text (binary frames
    /// as `<binary 01 02>`).
    pub fn ws_frames(&self, socket: RequestId) -> Vec<String> {
        self.frames
            .get(&socket)
            .map(|f| f.iter().map(frame_text).collect())
            .unwrap_or_default()
    }

    /// The close code the server sent on `socket`, if it closed it.
    pub fn ws_close_code(&self, socket: RequestId) -> Option<u16> {
        self.closes.get(&socket).copied()
    }

    /// The events `sid` produced, in order.
    pub fn events(&self, sid: Sid) -> Vec<&Event> {
        self.events
            .iter()
            .filter(|(s, _)| *s == sid)
            .map(|(_, e)| e)
            .collect()
    }

    /// The messages `sid` received from its client.
    pub fn received(&self, sid: Sid) -> Vec<String> {
        self.events(sid)
            .into_iter()
            .filter_map(|e| match e {
                Event::Message(m) => Some(message_text(m)),
                _ => None,
            })
            .collect()
    }

    /// Whether `sid` is open (not yet closed).
    pub fn is_open(&self, sid: Sid) -> bool {
        self.sessions.contains_key(&sid)
    }

    /// The session `sid`, while open.
    pub fn session(&self, sid: Sid) -> Option<&Session> {
        self.sessions.get(&sid)
    }

    /// Sids of the open sessions.
    pub fn open_sids(&self) -> Vec<Sid> {
        self.sessions.keys().copied().collect()
    }

    /// The server.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// Ids of every request sent so far.
    pub fn request_ids(&self) -> impl Iterator<Item = RequestId> {
        (1..self.next_id).map(RequestId)
    }

    /// Broken invariants seen so far: a request answered twice, a sid given
    /// out twice, a deadline not after the timeout that fired it, more than
    /// one unanswered GET on a session. Empty when all is well.
    pub fn violations(&self) -> &[String] {
        &self.violations
    }

    /// Checks that every request was answered exactly once, except those the
    /// client aborted (at most once). Call when no session is open.
    pub fn check_all_answered(&self) -> Result<(), String> {
        for id in self.request_ids() {
            if !self.answers.contains_key(&id) && !self.aborted.contains(&id) {
                return Err(format!("{id:?} was never answered"));
            }
        }
        Ok(())
    }

    // ----- the drive loop -----------------------------------------------------------

    /// Drains `sid`'s transmits and events until both are empty. `timed`
    /// says the session just processed an input at the current time: its
    /// next deadline must then lie after it.
    fn drive(&mut self, sid: Sid, timed: bool) {
        loop {
            let Some(session) = self.sessions.get_mut(&sid) else {
                return;
            };
            let mut progressed = false;
            let mut batch = Vec::new();
            while let Some(t) = session.poll_transmit() {
                batch.push(t);
            }
            let mut events = Vec::new();
            while let Some(e) = session.poll_event() {
                events.push(e);
            }
            for t in batch {
                progressed = true;
                self.record(Some(sid), t);
            }
            for e in events {
                progressed = true;
                self.on_event(sid, e);
            }
            if !progressed {
                break;
            }
        }
        self.check_one_parked_get(sid);
        if timed {
            let next = self.sessions.get(&sid).and_then(Session::poll_timeout);
            if next.is_some_and(|next| next <= self.now) {
                self.violations.push(format!(
                    "{sid}: a deadline not after the time just processed"
                ));
            }
        }
    }

    fn on_event(&mut self, sid: Sid, event: Event) {
        match &event {
            Event::Message(m) if self.echo => {
                if let Some(session) = self.sessions.get_mut(&sid) {
                    let _ = session.send(m.clone());
                }
            }
            Event::Closed(_) => {
                if let Some(session) = self.sessions.remove(&sid) {
                    self.server.handle_session_closed(self.now, &session);
                }
            }
            _ => {}
        }
        self.events.push((sid, event));
    }

    fn record(&mut self, sid: Option<Sid>, transmit: Transmit) {
        match transmit {
            Transmit::Respond { request, response } => {
                self.answer_once(request, Answer::Http(response))
            }
            Transmit::AcceptWebSocket { request } => {
                if let Some(sid) = sid {
                    self.owner.insert(request, sid);
                }
                self.answer_once(request, Answer::WebSocketAccepted);
            }
            Transmit::WebSocket { socket, frame } => {
                if self.closes.contains_key(&socket) {
                    self.violations
                        .push(format!("{socket:?}: frame after close"));
                }
                self.frames.entry(socket).or_default().push(frame);
            }
            Transmit::CloseWebSocket { socket, code, .. } => {
                self.closes.entry(socket).or_insert(code);
            }
        }
    }

    fn answer_once(&mut self, request: RequestId, answer: Answer) {
        if self.answers.insert(request, answer).is_some() {
            self.violations.push(format!("{request:?} answered twice"));
        }
    }

    /// At most one GET per session may be waiting for its answer.
    fn check_one_parked_get(&mut self, sid: Sid) {
        if !self.sessions.contains_key(&sid) {
            return;
        }
        // Only GETs still waiting matter: forget the others so this stays cheap.
        let (answers, aborted) = (&self.answers, &self.aborted);
        self.poll_gets
            .retain(|id| !answers.contains_key(id) && !aborted.contains(id));
        let waiting = self
            .poll_gets
            .iter()
            .filter(|id| self.owner.get(id) == Some(&sid))
            .count();
        if waiting > 1 {
            self.violations
                .push(format!("{sid}: {waiting} GETs parked"));
        }
    }
}

/// Joins packets into a polling payload: `payload(["4a", "2"])` is `"4a\x1e2"`.
pub fn payload<'a>(packets: impl IntoIterator<Item = &'a str>) -> String {
    packets.into_iter().collect::<Vec<_>>().join("\x1e")
}

/// Splits a polling payload into its packets.
pub fn packets(body: &str) -> Vec<String> {
    if body.is_empty() {
        return Vec::new();
    }
    body.split('\x1e').map(str::to_owned).collect()
}

fn message_text(m: &Message) -> String {
    match m {
        Message::Text(t) => String::from_utf8_lossy(t).into_owned(),
        Message::Binary(b) => format!(
            "<binary{}>",
            b.iter().map(|x| format!(" {x:02x}")).collect::<String>()
        ),
    }
}

fn frame_text(frame: &WsFrame) -> String {
    match frame {
        WsFrame::Text { .. } => String::from_utf8_lossy(&frame.to_bytes()).into_owned(),
        WsFrame::Binary(b) => message_text(&Message::Binary(b.clone())),
    }
}
