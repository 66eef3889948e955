//! The HTTP side of an engine: turns requests under its path into engine
//! inputs, starts session tasks, and carries answers back.

use std::net::SocketAddr;
use std::sync::Arc;

use engineio::{Method, RequestHead, RequestId, Transmit};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;

use super::app::{AppFactory, HandshakeHeaders, HandshakeRequest};
use super::inbox::Inbox;
use super::lane::SessionStream;
use super::router::{Dispatch, RouterHandle};
use super::task::{now, Answer, RoutedRequest, SessionInput, SessionTask};
use crate::http::{self, Reply};
use crate::metrics::{Refusal, Sums};
use crate::trace::{InSpan, SpanBox};
use crate::ws::{self, WebSocket};

/// Session ids from the operating system's CSPRNG.
#[derive(Debug, Default)]
pub(crate) struct OsSids;

impl engineio::SidGenerator for OsSids {
    fn fill(&mut self, buf: &mut [u8; 15]) {
        super::random::fill(buf);
    }
}

/// Fresh random bytes for a socket id.
pub(crate) fn random_id_bytes() -> [u8; 15] {
    let mut buf = [0u8; 15];
    super::random::fill(&mut buf);
    buf
}

/// One engine: its routing table and how to make each session's app.
pub(crate) struct EngineCore<F, Io> {
    pub(crate) router: RouterHandle<Io>,
    factory: F,
    ws_config: ws::Config,
    path: String,
    max_payload: usize,
    /// The CORS policy, to count the requests it refuses (the engine decides the headers).
    cors: Option<engineio::Cors>,
}

impl<F, Io> std::fmt::Debug for EngineCore<F, Io> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineCore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl<F, Io> EngineCore<F, Io>
where
    F: AppFactory,
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    pub(crate) fn new(config: engineio::Config, factory: F) -> Self {
        let max_payload = config.max_payload;
        let cors = config.cors.clone();
        let server = engineio::Server::new(config, OsSids);
        let path = server.path().to_owned();
        EngineCore {
            router: RouterHandle::new(server),
            factory,
            ws_config: ws::Config {
                max_message_size: max_payload,
                ..ws::Config::default()
            },
            path,
            max_payload,
            cors,
        }
    }

    /// The counts of every session this engine ran (see [`crate::metrics`]), and the
    /// snapshot of the engine made of them.
    pub(crate) fn metrics(&self) -> (crate::metrics::EngineMetrics, Sums) {
        let sums = self.router.sums();
        (self.router.stats().snapshot(&sums), sums)
    }

    /// Counts and logs a refused request.
    fn refused(&self, refusal: Refusal, address: Option<SocketAddr>) {
        self.router.stats().refused(refusal);
        tracing::debug!(peer = ?address, reason = refusal.as_str(), "request refused");
    }

    /// An answer the engine gave at once: counted if it refuses the request.
    fn answer_now(&self, transmit: Transmit, address: Option<SocketAddr>) -> Reply<Io> {
        if let Transmit::Respond { response, .. } = &transmit {
            if let Some(refusal) = Refusal::of(response) {
                self.refused(refusal, address);
            }
        }
        answer_now(transmit)
    }

    /// Counts a preflight or a long-polling handshake from an origin the CORS policy does
    /// not allow (the engine answers it without CORS headers; the browser refuses).
    fn check_origin(&self, head: &RequestHead, address: Option<SocketAddr>) {
        if let (Some(cors), Some(origin)) = (&self.cors, &head.origin) {
            if !cors.allows(origin) {
                self.refused(Refusal::Cors, address);
            }
        }
    }

    /// The path prefix this engine serves.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// The largest POST body (the engine's `max_payload`).
    pub(crate) fn max_payload(&self) -> usize {
        self.max_payload
    }

    /// Handles one request under the engine's path.
    pub(crate) async fn handle(
        self: &Arc<Self>,
        request: http::Request,
        address: Option<SocketAddr>,
    ) -> Reply<Io> {
        let http::Request {
            head,
            body,
            arrival,
        } = request;
        let accept = if ws::is_upgrade_request(&head) {
            match ws::accept(&head) {
                Ok(accept) => Some(accept),
                Err(refusal) => {
                    self.refused(Refusal::BadRequest, address);
                    return Reply::Response(refusal);
                }
            }
        } else {
            None
        };
        let engine_head = engine_head(&head, accept.is_some());
        // Ids in arrival order: the engine decides between racing requests by them.
        let id = RequestId(arrival.get());
        match self.router.route(now(), id, &engine_head) {
            Dispatch::Respond(transmit) => {
                if engine_head.method == Method::Options {
                    self.check_origin(&engine_head, address);
                }
                self.answer_now(transmit, address)
            }
            Dispatch::Opened(session) => {
                if session.transport() == engineio::TransportKind::Polling {
                    self.check_origin(&engine_head, address);
                }
                let handshake = HandshakeRequest {
                    sid: session.sid(),
                    transport: session.transport(),
                    query: engine_head.query,
                    headers: handshake_headers(&head),
                    address,
                };
                // Boxed: a session opens once, and its task inline would make the future of
                // every request (boxed by the mount) several times larger.
                Box::pin(self.open(session, id, handshake, accept)).await
            }
            Dispatch::Session(routed, inbox) => {
                let (reply, answer) = oneshot::channel();
                let body = (engine_head.method == Method::Post).then_some(body);
                let input = SessionInput::Request(Box::new(RoutedRequest {
                    request: routed,
                    body,
                    reply,
                }));
                if let Err(input) = inbox.send(input).await {
                    // The session ended between the routing and now.
                    return match input {
                        SessionInput::Request(routed) => self.answer_now(
                            self.router.unknown_session(now(), routed.request),
                            address,
                        ),
                        _ => Reply::Response(gone()),
                    };
                }
                match (answer.await, accept) {
                    (Ok(Answer::Http(response)), _) => Reply::Response(to_http(response)),
                    (Ok(Answer::Upgrade), Some(accept)) => {
                        let ws_config = self.ws_config.clone();
                        Reply::upgrade(accept.response(), move |upgraded| async move {
                            let stream = upgraded.map_io(SessionStream::new);
                            let ws = WebSocket::from_upgraded(stream, &ws_config);
                            let _ = inbox
                                .send(SessionInput::WebSocket {
                                    id,
                                    ws: Box::new(ws),
                                })
                                .await;
                        })
                    }
                    // The session ended before answering.
                    _ => Reply::Response(gone()),
                }
            }
            Dispatch::Unroutable => Reply::Response(http::Response::new(500)),
        }
    }

    /// Starts the task of a session a handshake just opened.
    async fn open(
        self: &Arc<Self>,
        session: Box<engineio::Session>,
        id: RequestId,
        handshake: HandshakeRequest,
        accept: Option<ws::Accept>,
    ) -> Reply<Io> {
        let sid = session.sid();
        let transport = session.transport();
        let span = tracing::info_span!(
            parent: None,
            "session",
            sid = %sid,
            transport = %transport.as_str(),
            peer = tracing::field::Empty,
        );
        if let Some(address) = handshake.address {
            span.record("peer", tracing::field::display(address));
        }
        let span = SpanBox::new(span);
        let inbox = Arc::new(Inbox::new(transport.into()));
        let app = self.factory.create(handshake, inbox.clone());
        let mut task = SessionTask::new(session, app, inbox.clone(), self.router.clone());
        self.router.insert(sid, inbox);
        self.router.stats().opened();
        match accept {
            // WebSocket-only: after the `101`, the session gets a task of its own and the
            // connection's task ends, as after an upgrade from polling. Running the session
            // in the connection's task instead would keep that task (and the session's future
            // in a box of its own) for the life of every idle WebSocket.
            Some(accept) => {
                let ws_config = self.ws_config.clone();
                // The `101` head waits on the socket for the open packet, which the session's
                // first turn queues: both go out in one write.
                let unstarted = Unstarted {
                    router: Some(self.router.clone()),
                    sid,
                };
                Reply::upgrade_deferring_head(accept.response(), move |upgraded| {
                    unstarted.started();
                    let stream = upgraded.map_io(SessionStream::new);
                    task.attach(id, WebSocket::from_upgraded(stream, &ws_config));
                    tokio::spawn(InSpan::new(task.run(), span));
                    std::future::ready(())
                })
            }
            None => {
                let (reply, answer) = oneshot::channel();
                task.expect_answer(id, reply);
                tokio::spawn(InSpan::new(task.run(), span));
                match answer.await {
                    Ok(Answer::Http(response)) => Reply::Response(to_http(response)),
                    _ => Reply::Response(gone()),
                }
            }
        }
    }

    /// Asks every open session to end (server shutdown).
    pub(crate) async fn shutdown_sessions(&self) {
        for inbox in self.router.all_sessions() {
            let _ = inbox.send(SessionInput::Shutdown).await;
        }
    }

    /// How many sessions are open.
    pub(crate) fn open_sessions(&self) -> usize {
        self.router.open_sessions()
    }

    /// Closes every session (each gets its close packet after what was queued for it) and
    /// waits until they are all gone or `grace` has passed.
    pub(crate) async fn shutdown_within(&self, grace: std::time::Duration) {
        self.shutdown_sessions().await;
        let deadline = tokio::time::Instant::now() + grace;
        while self.open_sessions() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

/// A session opened by a WebSocket handshake whose task starts only when the connection is
/// handed over. This crate's HTTP layer always hands it over; hyper may not (the client
/// leaves before the upgrade completes): then the session leaves the routing table instead
/// of holding its place there for ever.
struct Unstarted<Io> {
    /// `None` once started.
    router: Option<RouterHandle<Io>>,
    sid: engineio::Sid,
}

impl<Io> Unstarted<Io> {
    fn started(mut self) {
        self.router = None;
    }
}

impl<Io> Drop for Unstarted<Io> {
    fn drop(&mut self) {
        if let Some(router) = self.router.take() {
            tracing::debug!(sid = %self.sid, "a WebSocket session's connection never came");
            router.remove_unstarted(self.sid);
        }
    }
}

fn answer_now<Io>(transmit: Transmit) -> Reply<Io> {
    match transmit {
        Transmit::Respond { response, .. } => Reply::Response(to_http(response)),
        _ => Reply::Response(http::Response::new(500)),
    }
}

/// The answer when a session ended while a request for it was on its way.
fn gone() -> http::Response {
    http::Response::new(400)
        .header("Content-Type", "application/json")
        .with_body(&br#"{"code":1,"message":"Session ID unknown"}"#[..])
}

/// The request's headers as handlers see them.
fn handshake_headers(head: &http::RequestHead) -> HandshakeHeaders {
    let values: Vec<(&str, std::borrow::Cow<'_, str>)> = head
        .headers()
        .map(|(n, v)| (n, String::from_utf8_lossy(v)))
        .collect();
    HandshakeHeaders::new(values.iter().map(|(n, v)| (*n, v.as_ref())))
}

/// What the engine needs of the request head.
fn engine_head(head: &http::RequestHead, websocket_upgrade: bool) -> RequestHead {
    let text = |name: &str| {
        head.header(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    RequestHead {
        method: Method::from_token(head.method()),
        query: head.query().unwrap_or("").to_owned(),
        origin: text("origin"),
        websocket_upgrade,
        content_type: text("content-type"),
        content_length: head
            .header("content-length")
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.trim().parse().ok()),
        access_control_request_headers: text("access-control-request-headers"),
    }
}

/// An engine response as an HTTP response.
fn to_http(response: engineio::Response) -> http::Response {
    let mut out = http::Response::new(response.status);
    for (name, value) in response.headers {
        let value = match value {
            std::borrow::Cow::Borrowed(v) => bytes::Bytes::from_static(v.as_bytes()),
            std::borrow::Cow::Owned(v) => bytes::Bytes::from(v),
        };
        // Every engine header is valid (echoed values come from parsed request
        // headers); one that is not is left out rather than sent broken.
        if out.push_header(name.into(), value).is_err() {
            tracing::warn!(header = name, "engine header not representable; left out");
        }
    }
    out.with_body(response.body)
}
