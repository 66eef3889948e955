//! Answering the client's acknowledgement callbacks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::BytesMut;
use serde::Serialize;
use socketio_parser::{AckId, Encoder, RawArgs};

use super::error::EmitError;
use super::outbound::{Command, Frame};
use super::socket::SocketRef;

/// Answers the acknowledgement callback the client passed with an event.
///
/// The first [`send`](AckSender::send) answers; later calls do nothing. If the
/// client asked for no acknowledgement, sending does nothing either
/// ([`is_requested`](AckSender::is_requested) tells).
#[derive(Debug)]
pub struct AckSender {
    socket: SocketRef,
    ack: Option<AckId>,
    sent: AtomicBool,
}

impl AckSender {
    pub(crate) fn new(socket: SocketRef, ack: Option<AckId>) -> Self {
        AckSender {
            socket,
            ack,
            sent: AtomicBool::new(false),
        }
    }

    /// Whether the client waits for an answer.
    pub fn is_requested(&self) -> bool {
        self.ack.is_some()
    }

    /// Answers with `data` (one argument, or several as a tuple).
    pub fn send<T: Serialize + ?Sized>(&self, data: &T) -> Result<(), EmitError> {
        self.answer(|out, id| Encoder::new().ack_into(out, self.socket.namespace_name(), id, data))
    }

    /// Answers with arguments received elsewhere, without parsing them.
    pub fn send_raw(&self, args: &RawArgs) -> Result<(), EmitError> {
        self.answer(|out, id| {
            Ok(Encoder::new().ack_raw_into(out, self.socket.namespace_name(), id, args))
        })
    }

    fn answer(
        &self,
        encode: impl FnOnce(
            &mut BytesMut,
            AckId,
        ) -> Result<Vec<bytes::Bytes>, socketio_parser::EncodeError>,
    ) -> Result<(), EmitError> {
        let Some(id) = self.ack else { return Ok(()) };
        if self.sent.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let mut out = BytesMut::new();
        let attachments = encode(&mut out, id)?;
        let frame = Arc::new(Frame::new(out.freeze(), attachments));
        self.socket.push(
            Command::Send {
                namespace: self.socket.namespace_name().clone(),
                frame,
            },
            false,
        )
    }
}
