//! An Engine.IO v4 server as a sans-IO state machine.
//!
//! This crate decides every rule of the Engine.IO transport protocol (the
//! handshake, HTTP long-polling, WebSocket, the upgrade from one to the other,
//! heartbeats, payload limits, CORS) and does nothing else: it has no
//! networking code, reads no clock, draws no randomness of its own and spawns
//! nothing. Any runtime can drive it (tokio, a thread per connection, a test
//! harness on a virtual clock), feeding it what arrives and writing what it
//! returns.
//!
//! ```text
//!            HTTP request heads, POST bodies,            ┌──────────┐
//!   bytes ──> WebSocket messages, closes, `now` ───────> │  Server  │── errors, preflights
//!   in                                                   │ (router) │
//!                                                        └────┬─────┘
//!                                     handshake: new Session  │  sid: SessionRequest
//!                                                             v
//!                                                       ┌───────────┐ poll_transmit ─> HTTP answers,
//!            handle_request / handle_body /             │  Session  │                  WebSocket frames
//!            handle_ws_message / handle_timeout ──────> │ (one per  │ poll_event ────> Opened, Message,
//!            send / close (from the application)        │   sid)    │                  Upgraded, Closed
//!                                                       └───────────┘ poll_timeout ──> next deadline
//! ```
//!
//! # The drive loop
//!
//! 1. Give every HTTP request under the engine's path to
//!    [`Server::handle_request`]. It answers errors and CORS preflights itself
//!    ([`Routed::Respond`]), opens a [`Session`] for a handshake
//!    ([`Routed::Opened`]), or names the session a request belongs to
//!    ([`Routed::Session`]): pass that to the session you own under that sid.
//! 2. For a POST, once the session has the head, read the body and give it
//!    to [`Session::handle_body`]. Give WebSocket messages to
//!    [`Session::handle_ws_message`], and tell the session when a request's
//!    connection or a WebSocket goes away.
//! 3. After each input or command, drain [`Session::poll_transmit`] and write
//!    what it returns, then drain [`Session::poll_event`] and act on it;
//!    repeat until both are empty. Arm one timer at [`Session::poll_timeout`]
//!    and call [`Session::handle_timeout`] when it fires.
//! 4. When a session reports [`Event::Closed`], call
//!    [`Server::handle_session_closed`] with it, then drop it.
//!
//! Give requests [`RequestId`]s in the order they arrive: when requests of one
//! client race on separate connections, their order decides (see
//! [`Session::late_poll`]).
//!
//! # Example: a session over a fake transport
//!
//! No runtime, no sockets: a handshake, a message from the client, an echo, and
//! a heartbeat on a virtual clock.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use bytes::Bytes;
//! use engineio::*;
//!
//! let mut server = Server::new(Config::default(), CountingSidGenerator::new(1));
//! let t0 = Instant::now(); // the caller owns the clock
//!
//! // The handshake: GET /engine.io/?EIO=4&transport=polling
//! let head = RequestHead::new(Method::Get, "EIO=4&transport=polling");
//! let Routed::Opened(mut session) = server.handle_request(t0, RequestId(1), &head) else {
//!     panic!("handshake refused");
//! };
//! let Some(Transmit::Respond { request, response }) = session.poll_transmit() else { panic!() };
//! assert_eq!(request, RequestId(1));
//! assert!(response.body.starts_with(b"0{\"sid\":"));
//! assert!(matches!(session.poll_event(), Some(Event::Opened(_))));
//! let sid = session.sid();
//!
//! // The client posts a message, then polls.
//! let post = RequestHead::new(Method::Post, format!("EIO=4&transport=polling&sid={sid}"));
//! let Routed::Session(routed) = server.handle_request(t0, RequestId(2), &post) else { panic!() };
//! session.handle_request(t0, routed);
//! session.handle_body(t0, RequestId(2), Bytes::from_static(b"4hello"));
//! assert_eq!(session.poll_transmit(), None); // `ok` waits until the message is taken
//! let Some(Event::Message(Message::Text(text))) = session.poll_event() else { panic!() };
//! session.send_text(text).unwrap(); // echo
//! let Some(Transmit::Respond { response, .. }) = session.poll_transmit() else { panic!() };
//! assert_eq!(&response.body[..], b"ok");
//!
//! let get = RequestHead::new(Method::Get, format!("EIO=4&transport=polling&sid={sid}"));
//! let Routed::Session(routed) = server.handle_request(t0, RequestId(3), &get) else { panic!() };
//! session.handle_request(t0, routed);
//! let Some(Transmit::Respond { response, .. }) = session.poll_transmit() else { panic!() };
//! assert_eq!(&response.body[..], b"4hello");
//!
//! // Time passes: after pingInterval a ping is due; the next poll carries it.
//! let deadline = session.poll_timeout().unwrap();
//! assert_eq!(deadline, t0 + Duration::from_secs(25));
//! session.handle_timeout(deadline);
//! let Routed::Session(routed) = server.handle_request(deadline, RequestId(4), &get) else { panic!() };
//! session.handle_request(deadline, routed);
//! let Some(Transmit::Respond { response, .. }) = session.poll_transmit() else { panic!() };
//! assert_eq!(&response.body[..], b"2");
//!
//! // No pong within pingTimeout: the session closes.
//! session.handle_timeout(deadline + Duration::from_secs(20));
//! assert_eq!(session.poll_event(), Some(Event::Closed(CloseReason::PingTimeout)));
//! server.handle_session_closed(deadline + Duration::from_secs(20), &session);
//! ```
//!
//! # Errors and panics
//!
//! Whose fault it is decides the type: what a client does wrong is answered
//! with an HTTP status and error code, or ends the session with a
//! [`CloseReason`] naming it; what the embedding application does wrong
//! (sending on a closed session, or past the buffer bound) is a [`SendError`].
//! No input from a peer can make this crate panic: a panic is a bug, and the
//! fuzz target feeding arbitrary inputs and time jumps holds that line.
//!
//! # Bounds
//!
//! Each session's outbound buffer is bounded ([`OutboxLimits`]); a POST body
//! and a WebSocket message are bounded by `max_payload`; one GET and one POST
//! per session at a time; the number of sessions can be capped
//! ([`Config::max_sessions`]). The events a POST produces are bounded by its
//! size (at most one message per two bytes of body).

#![forbid(unsafe_code)]

mod config;
mod cors;
mod error;
mod event;
pub mod fifo;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod late;
mod packet;
mod payload;
mod request;
mod response;
mod server;
mod session;
mod sid;
pub mod sim;
mod transmit;

pub use config::{AllowRequest, Config, OutboxLimits, Transports};
pub use cors::{Cors, CorsOrigin};
pub use error::SendError;
pub use event::{CloseReason, Event, Handshake, TransportError};
pub use late::LatePoll;
pub use packet::{Message, PacketError};
pub use request::{query_value, Method, RequestHead, RequestId, TransportKind};
pub use response::{ErrorCode, HeaderValue, Response};
pub use server::{Routed, Server, SessionRequest};
pub use session::{Session, WsClosed};
pub use sid::{CountingSidGenerator, Sid, SidGenerator};
pub use transmit::{Transmit, WsFrame};
