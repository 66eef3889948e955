//! The Socket.IO v5 server protocol as a sans-IO state machine.
//!
//! One [`Connection`] per Engine.IO session decides the protocol's rules:
//! which namespaces the client joined (CONNECT, CONNECT_ERROR), the connect
//! timeout, ack ids and their deadlines, DISCONNECT from either side, and
//! which client packets end the connection. It has no networking code, reads
//! no clock and spawns nothing; it sits between the Engine.IO session
//! ([`engineio`]) and the application's handlers, exchanging values.
//!
//! ```text
//!   engineio::Event::Message ──> handle_message(now, msg) ┐            ┌─> poll_transmit: Text / Binary
//!   engineio::Event::Closed ───> handle_session_closed    ├ Connection ┤   messages for the session,
//!   the timer ─────────────────> handle_timeout(now)      │            │   or CloseSession
//!   the application ───────────> accept / refuse / send / ┘            └─> poll_event: ConnectRequest,
//!                                allocate_ack / disconnect / close         Event, Ack, AckTimedOut,
//!                                                                          Disconnected
//! ```
//!
//! # The drive loop
//!
//! Give the session's messages to [`Connection::handle_message`]. After each
//! input or command, drain [`Connection::poll_transmit`] into the Engine.IO
//! session (and close it on [`Transmit::CloseSession`]), then drain
//! [`Connection::poll_event`]: answer each [`Event::ConnectRequest`] with
//! [`accept`](Connection::accept) or [`refuse`](Connection::refuse) (after
//! checking the namespace exists and running middleware, which may take a
//! while), and run handlers for events. Keep one timer at
//! [`Connection::poll_timeout`].
//!
//! ```
//! use std::time::{Duration, Instant};
//! use bytes::Bytes;
//! use socketio_core::{Config, Connection, Event, SocketId, Transmit};
//!
//! let t0 = Instant::now();
//! let mut conn = Connection::new(t0, &Config::default());
//! let text = |s: &'static str| engineio::Message::Text(Bytes::from_static(s.as_bytes()));
//!
//! // The client joins "/" with an auth payload.
//! conn.handle_message(t0, text(r#"0{"token":"abc"}"#));
//! let Some(Event::ConnectRequest { namespace, auth }) = conn.poll_event() else { panic!() };
//! assert_eq!(auth.as_deref(), Some(&br#"{"token":"abc"}"#[..]));
//! let id = SocketId::from_random_bytes([7; 15]);
//! conn.accept(t0, namespace.as_str(), id).unwrap();
//! assert_eq!(
//!     conn.poll_transmit(),
//!     Some(Transmit::Text(Bytes::from(format!(r#"0{{"sid":"{id}"}}"#))))
//! );
//!
//! // An event with an ack id reaches the application, packet untouched.
//! conn.handle_message(t0, text(r#"21["hello","world"]"#));
//! let Some(Event::Event(packet)) = conn.poll_event() else { panic!() };
//! assert_eq!(packet.event_name().unwrap(), "hello");
//! assert_eq!(packet.ack_id().unwrap().get(), 1);
//!
//! // An unknown namespace is refused; the connection stays.
//! conn.handle_message(t0, text("0/admin,"));
//! let Some(Event::ConnectRequest { namespace, .. }) = conn.poll_event() else { panic!() };
//! conn.refuse_unknown_namespace(namespace.as_str()).unwrap();
//! assert_eq!(
//!     conn.poll_transmit(),
//!     Some(Transmit::Text(Bytes::from_static(br#"4/admin,{"message":"Invalid namespace"}"#)))
//! );
//! assert!(!conn.is_closed());
//! ```
//!
//! # Connection state recovery
//!
//! The rules that let a client which dropped for a moment come back as the same
//! socket, with what it missed, are in [`recovery`]: private session ids
//! ([`recovery::Pid`]), offsets, and the bounded [`recovery::SessionLog`] of kept
//! sessions and recorded packets, on the same virtual clock. A connection answers a
//! CONNECT with the pid, and a restored socket's replay ahead of it, through
//! [`Connection::accept_with_pid`]; [`DisconnectReason::is_recoverable`] says which
//! disconnections keep a socket.
//!
//! # Errors and panics
//!
//! What the client gets wrong ends the connection with a [`CloseCause`]
//! naming it (the reference server closes the connection for any decode error
//! or misplaced packet); what the caller gets wrong is a [`UsageError`]. No
//! input from a client can panic this crate; the fuzz target over the packet
//! decoder and the property tests here hold that line.

#![forbid(unsafe_code)]

mod config;
mod connection;
mod error;
mod event;
pub mod recovery;
mod socket_id;

pub use config::{Config, Parser};
pub use connection::Connection;
pub use error::UsageError;
pub use event::{CloseCause, DisconnectReason, Event, Transmit, Violation};
pub use socket_id::SocketId;

pub use socketio_parser;
