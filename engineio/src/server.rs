//! The router: checks every request, opens sessions for handshakes, and names
//! the session that must handle the rest.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use crate::config::{normalize_path, Config, SessionTiming};
use crate::cors::CorsHeaders;
use crate::late::LatePolls;
use crate::packet::Outgoing;
use crate::request::{EngineQuery, Method, RequestHead, RequestId, TransportKind};
use crate::response::{push_json_string, ErrorCode, Response};
use crate::session::{Opening, Session};
use crate::sid::{Sid, SidGenerator};
use crate::transmit::Transmit;

/// The Engine.IO server: the part shared by all sessions.
///
/// It holds the configuration, makes session ids and counts open sessions.
/// It does not hold the sessions: [`handle_request`](Server::handle_request)
/// hands a new [`Session`] to the caller, who owns it and routes later requests
/// to it by sid.
pub struct Server {
    config: Config,
    /// The timers and limits every session gets, shared rather than copied into each.
    timing: Arc<SessionTiming>,
    path: String,
    sids: Box<dyn SidGenerator>,
    open_sessions: usize,
    /// Closed sessions that owe a GET which arrived before their close an
    /// answer (see [`crate::late`]).
    late_polls: LatePolls,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.config)
            .field("open_sessions", &self.open_sessions)
            .finish_non_exhaustive()
    }
}

/// Where a request goes.
#[derive(Debug)]
#[non_exhaustive]
pub enum Routed {
    /// Answer at once: an error, or a CORS preflight.
    Respond(Transmit),
    /// A handshake opened a new session. Own it and drain it: its first
    /// transmit answers the request (the open packet, or the WebSocket accept).
    Opened(Box<Session>),
    /// The request names a session: give it to that session's
    /// [`Session::handle_request`]. If no session has this sid (it closed, or
    /// never existed), give it to [`Server::handle_unknown_session`] instead.
    Session(SessionRequest),
}

/// A request for an existing session, checked by the server.
#[derive(Debug)]
pub struct SessionRequest {
    pub(crate) id: RequestId,
    pub(crate) sid: Sid,
    pub(crate) kind: RequestKind,
    pub(crate) transport: TransportKind,
    pub(crate) cors: CorsHeaders,
}

impl SessionRequest {
    /// The session this request is for.
    pub fn sid(&self) -> Sid {
        self.sid
    }

    /// The request's id.
    pub fn id(&self) -> RequestId {
        self.id
    }

    /// Whether the request is a WebSocket upgrade.
    pub fn is_websocket(&self) -> bool {
        self.kind == RequestKind::WebSocket
    }

    /// The answer when no session has this sid: 400, code 1.
    pub fn unknown_session(self) -> Transmit {
        Transmit::Respond {
            request: self.id,
            response: Response::error(ErrorCode::UnknownSid, None, &self.cors),
        }
    }
}

/// What a routed request asks of its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    PollGet,
    PollPost {
        binary_content: bool,
        content_length: Option<u64>,
    },
    WebSocket,
    Other,
}

impl Server {
    /// A server with `config`, taking session ids from `sids` (give it the
    /// operating system's CSPRNG; [`CountingSidGenerator`](crate::CountingSidGenerator)
    /// is for tests only).
    pub fn new(config: Config, sids: impl SidGenerator + 'static) -> Self {
        let path = normalize_path(&config.path);
        Server {
            timing: Arc::new(config.session_timing()),
            config,
            path,
            sids: Box::new(sids),
            open_sessions: 0,
            late_polls: LatePolls::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The normalised path prefix the engine serves (e.g. `/engine.io/`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Sessions opened and not yet reported closed.
    pub fn open_sessions(&self) -> usize {
        self.open_sessions
    }

    /// Tell the server a session it opened is closed, once, when it stops
    /// taking requests (after its `Closed` event): the session cap counts one
    /// less, and the server keeps the session's [`late_poll`](Session::late_poll)
    /// for a few seconds, to answer a GET that arrived before the close but is
    /// routed after it.
    pub fn handle_session_closed(&mut self, now: Instant, session: &Session) {
        self.open_sessions = self.open_sessions.saturating_sub(1);
        if let Some(late) = session.late_poll() {
            self.late_polls.insert(now, session.sid(), late);
        }
    }

    /// The answer to a request whose session the caller does not have (it
    /// closed, or never existed): 400, code 1, unless the request is a GET that
    /// arrived before the request that closed the session; that GET gets what
    /// it would have got parked at the close.
    pub fn handle_unknown_session(&mut self, now: Instant, request: SessionRequest) -> Transmit {
        let late = self.late_polls.get(now, request.sid).filter(|late| {
            request.kind == RequestKind::PollGet
                && request.transport == TransportKind::Polling
                && late.arrived_before(request.id)
        });
        let Some(late) = late else {
            return request.unknown_session();
        };
        self.late_polls.remove(request.sid);
        let packet: Outgoing = late.packet();
        let body = crate::payload::encode(std::iter::once(&packet));
        Transmit::Respond {
            request: request.id,
            response: Response::payload(body, &request.cors),
        }
    }

    /// Checks a request under the engine's path, in the reference server's
    /// order: CORS preflight; transport (code 0); `Origin` characters (3);
    /// then for a request with a sid, the session decides; for a handshake:
    /// method (2), WebSocket transport without an upgrade (3), the
    /// allow-request hook (4), protocol version (5), the session cap (503).
    pub fn handle_request(&mut self, now: Instant, id: RequestId, head: &RequestHead) -> Routed {
        let cors = match &self.config.cors {
            Some(cors) => cors.decide(head.origin.as_deref()),
            None => CorsHeaders::none(),
        };
        let refuse = |code: ErrorCode, message: Option<&str>| {
            Routed::Respond(Transmit::Respond {
                request: id,
                response: Response::error(code, message, &cors),
            })
        };
        if head.method == Method::Options {
            if let Some(config) = &self.config.cors {
                return Routed::Respond(Transmit::Respond {
                    request: id,
                    response: Response::preflight(
                        &cors,
                        head.access_control_request_headers.as_deref(),
                        config.max_age_secs,
                    ),
                });
            }
        }
        let query = EngineQuery::parse(&head.query);
        let transport = match query.transport {
            Some(Ok(kind)) if self.config.transports.allows(kind) => kind,
            _ => return refuse(ErrorCode::UnknownTransport, None),
        };
        if query.jsonp {
            // JSONP polling (the `j` parameter) is a legacy variant not served here.
            return refuse(ErrorCode::BadRequest, None);
        }
        if head.origin.as_deref().is_some_and(has_invalid_header_chars) {
            return refuse(ErrorCode::BadRequest, None);
        }

        if let Some(sid) = &query.sid {
            let Some(sid) = Sid::parse(sid) else {
                return refuse(ErrorCode::UnknownSid, None);
            };
            let kind = if head.websocket_upgrade {
                RequestKind::WebSocket
            } else {
                match head.method {
                    Method::Get => RequestKind::PollGet,
                    Method::Post => RequestKind::PollPost {
                        binary_content: head.content_type.as_deref().is_some_and(is_octet_stream),
                        content_length: head.content_length,
                    },
                    _ => RequestKind::Other,
                }
            };
            let request = SessionRequest {
                id,
                sid,
                kind,
                transport,
                cors,
            };
            if self.late_polls.get(now, sid).is_some() {
                // Known closed: no session has this sid any more.
                return Routed::Respond(self.handle_unknown_session(now, request));
            }
            return Routed::Session(request);
        }

        if head.method != Method::Get {
            return refuse(ErrorCode::BadHandshakeMethod, None);
        }
        if (transport == TransportKind::WebSocket) != head.websocket_upgrade {
            return refuse(ErrorCode::BadRequest, None);
        }
        if let Some(hook) = &self.config.allow_request {
            if let Err(message) = hook.check(head) {
                return refuse(ErrorCode::Forbidden, Some(&message));
            }
        }
        if query.eio.as_deref() != Some("4") {
            return refuse(ErrorCode::UnsupportedProtocolVersion, None);
        }
        if self
            .config
            .max_sessions
            .is_some_and(|max| self.open_sessions >= max)
        {
            return Routed::Respond(Transmit::Respond {
                request: id,
                response: Response::server_full(&cors),
            });
        }

        let sid = self.sids.generate();
        self.open_sessions += 1;
        let json = self.handshake_json(sid, transport);
        Routed::Opened(Box::new(Session::open(
            now,
            Opening {
                sid,
                request: id,
                transport,
                cors,
                handshake_json: json,
                query: head.query.clone(),
            },
            self.timing.clone(),
        )))
    }

    /// `{"sid":..,"upgrades":[..],"pingInterval":..,"pingTimeout":..,"maxPayload":..}`
    fn handshake_json(&self, sid: Sid, transport: TransportKind) -> Bytes {
        let mut json = String::with_capacity(128);
        json.push_str(r#"{"sid":"#);
        push_json_string(&mut json, sid.as_str());
        json.push_str(r#","upgrades":"#);
        json.push_str(self.config.upgrades_from(transport));
        json.push_str(&format!(
            r#","pingInterval":{},"pingTimeout":{},"maxPayload":{}}}"#,
            self.config.ping_interval.as_millis(),
            self.config.ping_timeout.as_millis(),
            self.config.max_payload
        ));
        Bytes::from(json)
    }
}

/// The reference server refuses an `Origin` with characters not allowed in a
/// header value (RFC 7230 field-vchar, SP and HTAB).
fn has_invalid_header_chars(value: &str) -> bool {
    value
        .chars()
        .any(|c| c != '\t' && ((c as u32) < 0x20 || c == '\u{7f}'))
}

fn is_octet_stream(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/octet-stream"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_character_check() {
        assert!(!has_invalid_header_chars("http://example.com"));
        assert!(!has_invalid_header_chars("http://exa\tmple.com"));
        assert!(has_invalid_header_chars("http://exa\nmple.com"));
        assert!(has_invalid_header_chars("\u{7f}"));
    }

    #[test]
    fn octet_stream_detection() {
        assert!(is_octet_stream("application/octet-stream"));
        assert!(is_octet_stream("Application/Octet-Stream; charset=x"));
        assert!(!is_octet_stream("text/plain;charset=UTF-8"));
    }
}
