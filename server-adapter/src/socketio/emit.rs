//! Emitting: to one socket with options, or to many (broadcast).

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use serde::de::DeserializeOwned;
use serde::Serialize;
use socketio_core::SocketId;
use socketio_parser::{Encoder, Namespace, Packet, RawArgs};
use tokio::sync::oneshot;

use super::error::{AckError, EmitError};
use super::namespace::NamespaceInner;
use super::outbound::{Command, Frame};
use super::rooms::{Room, Selection};
use super::socket::SocketRef;

/// Encodes an event once, for any number of recipients.
fn encode_event<T: Serialize + ?Sized>(
    nsp: &Namespace,
    event: &str,
    data: &T,
) -> Result<Arc<Frame>, EmitError> {
    let mut out = BytesMut::new();
    let attachments = Encoder::new().event_into(&mut out, nsp, event, None, data)?;
    Ok(Arc::new(Frame {
        text: out.freeze(),
        attachments,
    }))
}

fn encode_raw_event(nsp: &Namespace, event: &str, args: &RawArgs) -> Result<Arc<Frame>, EmitError> {
    let mut out = BytesMut::new();
    let attachments = Encoder::new().event_raw_into(&mut out, nsp, event, None, args)?;
    Ok(Arc::new(Frame {
        text: out.freeze(),
        attachments,
    }))
}

/// Reads an acknowledgement's first argument into `R` (`null` when it has none).
fn ack_value<R: DeserializeOwned>(packet: &Packet) -> Result<R, AckError> {
    let empty = packet.raw_args().is_none_or(|a| a.is_empty());
    if empty {
        return serde_json::from_slice(b"null").map_err(|_| {
            AckError::Decode(socketio_parser::ArgsError::NoArguments {
                kind: packet.kind(),
                what: "acknowledgement argument",
            })
        });
    }
    Ok(packet.args::<(R,)>()?.0)
}

/// Sends `packet` to `socket` and waits for the acknowledgement.
async fn ack_from<R: DeserializeOwned>(
    socket: &SocketRef,
    packet: Packet,
    timeout: Option<Duration>,
    volatile: bool,
) -> Result<R, AckError> {
    let (reply, answer) = oneshot::channel();
    socket.push(
        Command::EmitWithAck {
            packet,
            timeout,
            reply,
        },
        volatile,
    )?;
    let ack = answer.await.map_err(|_| AckError::Disconnected)??;
    ack_value(&ack)
}

/// An emit to one socket, with options (see [`SocketRef::timeout`] and
/// [`SocketRef::volatile`]).
#[derive(Debug, Clone)]
pub struct SocketEmitter {
    socket: SocketRef,
    volatile: bool,
    timeout: Option<Duration>,
}

impl SocketEmitter {
    pub(crate) fn new(socket: SocketRef) -> Self {
        SocketEmitter {
            socket,
            volatile: false,
            timeout: None,
        }
    }

    /// Drop the message instead of queueing it when the client cannot take it at once.
    #[must_use]
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// Give up waiting for an acknowledgement after `timeout`.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Emits `event` with `data` (one argument, or several as a tuple).
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        let frame = encode_event(self.socket.namespace_name(), event, data)?;
        self.send(frame)
    }

    /// Emits arguments received elsewhere without parsing them.
    pub fn emit_raw(&self, event: &str, args: &RawArgs) -> Result<(), EmitError> {
        let frame = encode_raw_event(self.socket.namespace_name(), event, args)?;
        self.send(frame)
    }

    fn send(&self, frame: Arc<Frame>) -> Result<(), EmitError> {
        let namespace = self.socket.namespace_name().clone();
        self.socket
            .push(Command::Send { namespace, frame }, self.volatile)
    }

    /// Emits and waits for the acknowledgement's first argument, as `R`
    /// (as `emitWithAck` resolves in the reference client and server).
    pub async fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<R, AckError> {
        let packet = Packet::event(self.socket.namespace_name().clone(), event, data)
            .map_err(EmitError::from)?;
        ack_from(&self.socket, packet, self.timeout, self.volatile).await
    }
}

/// An emit to many sockets of a namespace: all of them, or those in some
/// rooms, minus others. The message is encoded once and the same bytes go to
/// every recipient.
#[derive(Debug, Clone)]
pub struct BroadcastOperator {
    ns: Arc<NamespaceInner>,
    selection: Selection,
    volatile: bool,
    timeout: Option<Duration>,
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Arc<NamespaceInner>) -> Self {
        BroadcastOperator {
            ns,
            selection: Selection::default(),
            volatile: false,
            timeout: None,
        }
    }

    /// Only sockets in `room` (several calls: in any of the rooms).
    #[must_use]
    pub fn to(mut self, room: impl Into<Room>) -> Self {
        self.selection.rooms.push(room.into());
        self
    }

    /// Same as [`to`](BroadcastOperator::to).
    #[must_use]
    pub fn within(self, room: impl Into<Room>) -> Self {
        self.to(room)
    }

    /// Not the sockets in `room`.
    #[must_use]
    pub fn except(mut self, room: impl Into<Room>) -> Self {
        self.selection.except_rooms.push(room.into());
        self
    }

    pub(crate) fn except_socket(mut self, id: SocketId) -> Self {
        self.selection.except_socket = Some(id);
        self
    }

    /// Drop the message for each recipient that cannot take it at once.
    #[must_use]
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// Give up waiting for acknowledgements after `timeout`.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The sockets this operator reaches.
    pub fn sockets(&self) -> Vec<SocketRef> {
        let mut out = Vec::new();
        self.ns
            .members()
            .for_each(&self.selection, |s| out.push(s.clone()));
        out
    }

    /// Emits `event` with `data` to every socket selected. A recipient whose
    /// buffer is full misses it (logged); the others are unaffected.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        let frame = encode_event(&self.ns.name, event, data)?;
        self.send(frame);
        Ok(())
    }

    /// Emits arguments received elsewhere without parsing them.
    pub fn emit_raw(&self, event: &str, args: &RawArgs) -> Result<(), EmitError> {
        let frame = encode_raw_event(&self.ns.name, event, args)?;
        self.send(frame);
        Ok(())
    }

    fn send(&self, frame: Arc<Frame>) {
        let volatile = self.volatile;
        self.ns.members().for_each(&self.selection, |socket| {
            let command = Command::Send {
                namespace: self.ns.name.clone(),
                frame: frame.clone(),
            };
            if let Err(e) = socket.push(command, volatile) {
                tracing::debug!(socket = %socket.id(), error = %e, "broadcast not delivered to one socket");
            }
        });
    }

    /// Emits to every socket selected and gathers each one's acknowledgement
    /// (its first argument, as `R`), or why it has none. Each recipient gets
    /// its own ack id, so this packet is encoded per recipient.
    pub async fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<Vec<(SocketId, Result<R, AckError>)>, EmitError> {
        let packet = Packet::event(self.ns.name.clone(), event, data)?;
        let mut waiting = Vec::new();
        for socket in self.sockets() {
            let (reply, answer) = oneshot::channel();
            let command = Command::EmitWithAck {
                packet: packet.clone(),
                timeout: self.timeout,
                reply,
            };
            match socket.push(command, self.volatile) {
                Ok(()) => waiting.push((socket.id(), Ok(answer))),
                Err(e) => waiting.push((socket.id(), Err(AckError::Emit(e)))),
            }
        }
        let mut replies = Vec::with_capacity(waiting.len());
        for (id, answer) in waiting {
            let result = match answer {
                Ok(answer) => match answer.await {
                    Ok(Ok(packet)) => ack_value(&packet),
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err(AckError::Disconnected),
                },
                Err(e) => Err(e),
            };
            replies.push((id, result));
        }
        Ok(replies)
    }

    /// Makes every selected socket leave the namespace.
    pub fn disconnect(&self) {
        for socket in self.sockets() {
            socket.disconnect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socketio::namespace::Registry;

    /// A broadcast is encoded once: every recipient's queue holds the same
    /// frame, and the frame is the event as the reference encoder writes it.
    #[test]
    fn a_broadcast_is_encoded_once_and_shared_by_every_recipient() {
        let ns = Registry::default().of(Namespace::main());
        let sockets: Vec<SocketRef> = (0..3u8)
            .map(|i| SocketRef::for_test(SocketId::from_random_bytes([i; 15]), ns.clone()))
            .collect();
        for socket in &sockets {
            socket
                .0
                .connected
                .store(true, std::sync::atomic::Ordering::Release);
            ns.members_mut().insert(socket.clone());
        }
        BroadcastOperator::new(ns.clone())
            .emit("news", &serde_json::json!({"n": 1}))
            .unwrap();
        let frames: Vec<Arc<Frame>> = sockets
            .iter()
            .map(|s| match s.0.outbound.drain().pop_front() {
                Some(Command::Send { frame, .. }) => frame,
                _ => panic!("each member got the broadcast"),
            })
            .collect();
        assert!(frames.windows(2).all(|w| Arc::ptr_eq(&w[0], &w[1])));
        assert_eq!(&frames[0].text[..], br#"2["news",{"n":1}]"#);
    }
}
