//! HTTP long-polling: a parked GET carries packets to the client, POSTs carry
//! payloads from it.
//!
//! * At most one GET is parked. A second one is answered 400 and closes the
//!   session; the parked one gets a close packet.
//! * At most one POST is in progress (head accepted, body awaited). A second
//!   one is answered 400 and closes the session.
//! * A POST body is a payload of packets separated by 0x1E. It is answered
//!   `ok` once the messages it carried have been drained as events; a bad
//!   packet answers it 400 and closes the session (`parse error`).

use std::time::Instant;

use bytes::Bytes;

use super::{Lifecycle, MainSocket, Parked, Session, Transport};
use crate::cors::CorsHeaders;
use crate::event::{CloseReason, Event, TransportError};
use crate::late::LatePoll;
use crate::packet::{Incoming, Outgoing};
use crate::payload;
use crate::request::RequestId;
use crate::response::{ErrorCode, Response};

/// The long-polling requests a session has accepted and not yet answered.
#[derive(Debug, Default)]
pub(super) struct PollRequests {
    /// The GET waiting for something to carry.
    get: Option<Parked>,
    /// A POST whose head was accepted and whose body is awaited.
    post: Option<Parked>,
    /// A POST whose messages were delivered as events; answered `ok` once
    /// those events are drained.
    post_awaiting_drain: Option<Parked>,
    /// Once a request closed the session without releasing a GET: the answer
    /// owed to a GET that arrived before that request (see [`crate::late`]).
    pub(super) late: Option<LatePoll>,
}

impl PollRequests {
    fn is_empty(&self) -> bool {
        self.get.is_none() && self.post.is_none() && self.post_awaiting_drain.is_none()
    }
}

impl Session {
    pub(super) fn polls_mut(&mut self) -> &mut PollRequests {
        self.polls.get_or_insert_with(Box::default)
    }

    /// Frees the polling state once the session has moved to a WebSocket and
    /// every polling request has its answer.
    pub(super) fn drop_idle_polls(&mut self) {
        if matches!(self.transport, Transport::WebSocket { .. })
            && self.polls.as_ref().is_some_and(|p| p.is_empty())
        {
            self.polls = None;
        }
    }

    pub(super) fn parked_get(&self) -> Option<&Parked> {
        self.polls.as_ref()?.get.as_ref()
    }

    pub(super) fn take_parked_get(&mut self) -> Option<Parked> {
        self.polls.as_mut()?.get.take()
    }

    pub(super) fn pending_post(&self) -> Option<&Parked> {
        self.polls.as_ref()?.post.as_ref()
    }

    pub(super) fn take_pending_post(&mut self) -> Option<Parked> {
        self.polls.as_mut()?.post.take()
    }

    pub(super) fn take_post_awaiting_drain(&mut self) -> Option<Parked> {
        self.polls.as_mut()?.post_awaiting_drain.take()
    }

    /// A long-poll GET.
    pub(super) fn handle_poll_get(&mut self, now: Instant, request: RequestId, cors: CorsHeaders) {
        if self.parked_get().is_some() {
            self.respond(request, Response::status(400, &cors));
            self.close_now(
                now,
                CloseReason::TransportError(TransportError::PollOverlap),
                MainSocket::Close,
            );
            return;
        }
        if self.upgrade.holds_packets() {
            // The client is switching to its WebSocket: end this poll at once;
            // queued packets wait for the WebSocket.
            self.answer_with(request, &cors, &Outgoing::Noop);
            return;
        }
        if let Transport::Polling = self.transport {
            self.polls_mut().get = Some(Parked { request, cors });
        }
    }

    /// Answers the parked GET with everything queued. When that includes the
    /// server's close packet, the session is now closed.
    ///
    /// The close packet never shares a payload with messages queued before
    /// it: they go now and the close in the next GET's answer, as the
    /// reference server (which sends the close once its buffer has drained).
    /// A client hands messages to its application a tick later but acts on a
    /// close at once, so in one payload a socket told to disconnect would see
    /// the transport close first, and try to reconnect.
    pub(super) fn answer_parked_get_with_outbox(&mut self) {
        let Some(parked) = self.take_parked_get() else {
            return;
        };
        let mut packets = self.outbox.take_all();
        let close_at = packets.iter().position(|p| matches!(p, Outgoing::Close));
        if let Some(at) = close_at {
            let messages_first = packets
                .iter()
                .take(at)
                .any(|p| matches!(p, Outgoing::Message(_)));
            if messages_first {
                // Nothing is queued after the close packet.
                for later in packets.split_off(at) {
                    self.outbox.push_control(later);
                }
            }
        }
        let body = payload::encode(packets.iter());
        self.respond(parked.request, Response::payload(body, &parked.cors));
        if packets.iter().any(|p| matches!(p, Outgoing::Close)) {
            let now = self.clock;
            self.close_now(now, CloseReason::ServerClose, MainSocket::Close);
        }
    }

    /// Answers a GET with a single packet.
    pub(super) fn answer_with(
        &mut self,
        request: RequestId,
        cors: &CorsHeaders,
        packet: &Outgoing,
    ) {
        let body = payload::encode(std::iter::once(packet));
        self.respond(request, Response::payload(body, cors));
    }

    /// The head of a POST: decides whether its body will be read.
    pub(super) fn handle_post_head(
        &mut self,
        now: Instant,
        request: RequestId,
        cors: CorsHeaders,
        binary_content: bool,
        content_length: Option<u64>,
    ) {
        if self
            .polls
            .as_ref()
            .is_some_and(|p| p.post.is_some() || p.post_awaiting_drain.is_some())
        {
            self.respond(request, Response::status(400, &cors));
            self.close_by_request(
                now,
                request,
                CloseReason::TransportError(TransportError::PostOverlap),
            );
            return;
        }
        if binary_content {
            self.respond(request, Response::error(ErrorCode::BadRequest, None, &cors));
            self.close_by_request(
                now,
                request,
                CloseReason::TransportError(TransportError::BinaryContent),
            );
            return;
        }
        if content_length.is_some_and(|n| n > self.timing.max_payload as u64) {
            self.respond(request, Response::status(413, &cors));
            self.close_by_request(
                now,
                request,
                CloseReason::TransportError(TransportError::PayloadTooLarge),
            );
            return;
        }
        self.polls_mut().post = Some(Parked { request, cors });
    }

    /// The body of the pending POST.
    pub(super) fn handle_post_body(&mut self, now: Instant, request: RequestId, body: Bytes) {
        if self.pending_post().is_none_or(|p| p.request != request) {
            return;
        }
        let Some(post) = self.take_pending_post() else {
            return;
        };
        if self.lifecycle == Lifecycle::Closed {
            self.respond(
                request,
                Response::error(ErrorCode::UnknownSid, None, &post.cors),
            );
            return;
        }
        if body.len() > self.timing.max_payload {
            self.respond(request, Response::status(413, &post.cors));
            self.close_by_request(
                now,
                request,
                CloseReason::TransportError(TransportError::PayloadTooLarge),
            );
            return;
        }
        let packets = match payload::decode(body) {
            Ok(packets) => packets,
            Err(e) => {
                self.respond(
                    request,
                    Response::error(ErrorCode::BadRequest, None, &post.cors),
                );
                self.close_by_request(now, request, CloseReason::ParseError(e));
                return;
            }
        };
        for packet in packets {
            match packet {
                Err(e) => {
                    self.respond(
                        request,
                        Response::error(ErrorCode::BadRequest, None, &post.cors),
                    );
                    self.close_by_request(now, request, CloseReason::ParseError(e));
                    return;
                }
                Ok(Incoming::Close) => {
                    // The client closes: its POST still gets `ok`, packets after
                    // the close packet are not read.
                    self.polls_mut().post_awaiting_drain = Some(post);
                    self.close_by_request(now, request, CloseReason::TransportClose);
                    return;
                }
                Ok(Incoming::Ping { .. }) => {
                    self.respond(
                        request,
                        Response::error(ErrorCode::BadRequest, None, &post.cors),
                    );
                    self.close_by_request(
                        now,
                        request,
                        CloseReason::TransportError(TransportError::ClientPing),
                    );
                    return;
                }
                Ok(packet) => self.handle_packet(now, packet),
            }
        }
        if self.lifecycle == Lifecycle::Closed {
            self.respond(
                request,
                Response::error(ErrorCode::UnknownSid, None, &post.cors),
            );
        } else if self.events.iter().any(|e| matches!(e, Event::Message(_))) {
            self.polls_mut().post_awaiting_drain = Some(post);
        } else {
            self.respond(request, Response::ok(&post.cors));
        }
    }
}
