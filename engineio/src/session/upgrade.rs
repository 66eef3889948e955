//! The upgrade from long-polling to WebSocket.
//!
//! ```text
//!  Idle ──(WebSocket with this sid accepted)──> ExpectProbe
//!  ExpectProbe ──(2probe: answer 3probe, release the parked GET with 6)──> ExpectUpgrade
//!  ExpectProbe / ExpectUpgrade ──(5)──> the session now uses the WebSocket ("Upgraded")
//!  ExpectProbe / ExpectUpgrade ──(other packet, WebSocket closed, upgrade_timeout)──> Idle
//! ```
//!
//! Once `3probe` is sent, packets the application queues are held for the
//! WebSocket and any GET is answered with a noop at once, so every message
//! travels exactly once, in order, on one transport. An upgrade given up
//! leaves the session on polling with the held packets for the next GET.

use std::time::Instant;

use super::{Lifecycle, Session, Transport};
use crate::cors::CorsHeaders;
use crate::event::Event;
use crate::packet::{decode_text, Incoming, Message, Outgoing};
use crate::request::{RequestId, TransportKind};
use crate::response::{ErrorCode, Response};
use crate::transmit::Transmit;

/// Where an upgrade stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UpgradeState {
    /// No WebSocket is being tried.
    Idle,
    /// A WebSocket was accepted; waiting for its `2probe`.
    ExpectProbe {
        socket: RequestId,
        deadline: Instant,
    },
    /// `3probe` was sent; waiting for `5`.
    ExpectUpgrade {
        socket: RequestId,
        deadline: Instant,
    },
}

impl UpgradeState {
    pub(super) fn socket(&self) -> Option<RequestId> {
        match *self {
            UpgradeState::Idle => None,
            UpgradeState::ExpectProbe { socket, .. }
            | UpgradeState::ExpectUpgrade { socket, .. } => Some(socket),
        }
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        match *self {
            UpgradeState::Idle => None,
            UpgradeState::ExpectProbe { deadline, .. }
            | UpgradeState::ExpectUpgrade { deadline, .. } => Some(deadline),
        }
    }

    /// Whether packets are held back for the WebSocket.
    pub(super) fn holds_packets(&self) -> bool {
        matches!(self, UpgradeState::ExpectUpgrade { .. })
    }
}

impl Session {
    /// A WebSocket upgrade request naming this session.
    pub(super) fn handle_websocket_request(
        &mut self,
        now: Instant,
        request: RequestId,
        transport: TransportKind,
        cors: CorsHeaders,
    ) {
        if transport != TransportKind::WebSocket
            || self.lifecycle != Lifecycle::Open
            || !self.timing.allow_upgrades
        {
            self.respond(request, Response::error(ErrorCode::BadRequest, None, &cors));
            return;
        }
        if matches!(self.transport, Transport::WebSocket { .. })
            || self.upgrade != UpgradeState::Idle
        {
            // The session already has, or is trying, a WebSocket: this one is
            // accepted and closed at once.
            self.transmits
                .push_back(Transmit::AcceptWebSocket { request });
            self.transmits.push_back(Transmit::CloseWebSocket {
                socket: request,
                code: 1008,
                reason: "session already has a WebSocket",
            });
            return;
        }
        self.transmits
            .push_back(Transmit::AcceptWebSocket { request });
        self.upgrade = UpgradeState::ExpectProbe {
            socket: request,
            deadline: now + self.timing.upgrade_timeout,
        };
    }

    /// A message on the WebSocket being tried.
    pub(super) fn handle_probe_message(
        &mut self,
        _now: Instant,
        socket: RequestId,
        message: Message,
    ) {
        let packet = match message {
            Message::Text(text) => decode_text(text).ok(),
            Message::Binary(_) => None,
        };
        match (packet, self.upgrade) {
            (Some(Incoming::Ping { probe: true }), UpgradeState::ExpectProbe { deadline, .. }) => {
                self.push_frame(socket, Outgoing::PongProbe);
                self.upgrade = UpgradeState::ExpectUpgrade { socket, deadline };
                self.release_parked_get();
            }
            (Some(Incoming::Upgrade), _) => self.complete_upgrade(socket),
            _ => self.abandon_upgrade(true),
        }
    }

    /// `5`: the WebSocket becomes the session's transport.
    fn complete_upgrade(&mut self, socket: RequestId) {
        self.release_parked_get();
        self.transport = Transport::WebSocket { socket };
        self.upgrade = UpgradeState::Idle;
        self.events.push_back(Event::Upgraded);
    }

    /// Ends a parked GET with a noop so the client can move on.
    fn release_parked_get(&mut self) {
        if let Some(parked) = self.take_parked_get() {
            self.answer_with(parked.request, &parked.cors, &Outgoing::Noop);
        }
    }

    /// Gives the upgrade up; the session stays on polling. `close_socket`
    /// says whether the WebSocket still needs closing.
    pub(super) fn abandon_upgrade(&mut self, close_socket: bool) {
        if let Some(socket) = self.upgrade.socket() {
            self.upgrade = UpgradeState::Idle;
            if close_socket {
                self.transmits.push_back(Transmit::CloseWebSocket {
                    socket,
                    code: 1000,
                    reason: "",
                });
            }
        }
    }
}
