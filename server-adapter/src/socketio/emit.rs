//! Emitting: to one socket with options, or to many (broadcast).

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use serde::de::DeserializeOwned;
use serde::Serialize;
use socketio_core::SocketId;
use socketio_parser::{Encoder, Namespace, Packet, RawArgs};
use tokio::sync::oneshot;

use super::adapter::{
    Adapter, AdapterError, BroadcastFlags, BroadcastOptions, EncodedPacket, RemoteAcks,
    SocketSnapshot,
};
use super::error::{AckError, EmitError};
use super::namespace::NamespaceInner;
use super::outbound::{Command, Frame};
use super::recovery::Encoded;
use super::rooms::{Members, Room, Selection};
use super::socket::SocketRef;

/// Encodes an event once, for any number of recipients.
fn encode_event<T: Serialize + ?Sized>(
    nsp: &Namespace,
    event: &str,
    data: &T,
) -> Result<Encoded, EmitError> {
    let mut text = BytesMut::new();
    let attachments = Encoder::new().event_into(&mut text, nsp, event, None, data)?;
    Ok(Encoded { text, attachments })
}

fn encode_raw_event(nsp: &Namespace, event: &str, args: &RawArgs) -> Result<Encoded, EmitError> {
    let mut text = BytesMut::new();
    let attachments = Encoder::new().event_raw_into(&mut text, nsp, event, None, args)?;
    Ok(Encoded { text, attachments })
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

    fn send(&self, encoded: Encoded) -> Result<(), EmitError> {
        let ns = &self.socket.0.ns;
        let frame = match &ns.recovery {
            // Recorded under the socket's own room, as the reference server does: it
            // is replayed if the socket comes back having missed it.
            Some(recovery) if !self.volatile => {
                let to_itself = Selection {
                    rooms: vec![self.socket.id().to_string()],
                    ..Selection::default()
                };
                recovery.record(crate::engine::now(), &ns.name, &to_itself, encoded)
            }
            _ => encoded.into_frame(),
        };
        let namespace = ns.name.clone();
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

/// Queues one shared frame on every socket of `ns` that `selection` names.
pub(crate) fn deliver(
    ns: &NamespaceInner,
    selection: &Selection,
    frame: &Arc<Frame>,
    volatile: bool,
) {
    deliver_to(&ns.members(), ns, selection, frame, volatile);
}

/// Queues an event on every socket of `ns` that `selection` names, recording it
/// first when the server has connection state recovery on (unless it is volatile).
/// Returns the frame that went out.
///
/// Recording and delivery happen under one hold of the namespace's members: a
/// socket being restored (which joins under the same lock, and takes its replay
/// there) either finds the event in its replay or gets it as a member, never both
/// and never neither.
pub(crate) fn publish(
    ns: &NamespaceInner,
    selection: &Selection,
    encoded: Encoded,
    volatile: bool,
) -> Arc<Frame> {
    match &ns.recovery {
        Some(recovery) if !volatile => {
            let members = ns.members();
            let frame = recovery.record(crate::engine::now(), &ns.name, selection, encoded);
            deliver_to(&members, ns, selection, &frame, volatile);
            frame
        }
        _ => {
            let frame = encoded.into_frame();
            deliver(ns, selection, &frame, volatile);
            frame
        }
    }
}

fn deliver_to(
    members: &Members,
    ns: &NamespaceInner,
    selection: &Selection,
    frame: &Arc<Frame>,
    volatile: bool,
) {
    members.for_each(selection, |socket| {
        let command = Command::Send {
            namespace: ns.name.clone(),
            frame: frame.clone(),
        };
        match socket.push(command, volatile) {
            // Logged by `push`, with the socket.
            Ok(()) | Err(EmitError::BufferFull) => {}
            Err(e) => {
                tracing::debug!(socket = %socket.id(), error = %e, "broadcast not delivered to one socket")
            }
        }
    });
}

/// The sockets of `ns` that `selection` names.
pub(crate) fn select(ns: &NamespaceInner, selection: &Selection) -> Vec<SocketRef> {
    let mut out = Vec::new();
    ns.members().for_each(selection, |s| out.push(s.clone()));
    out
}

/// Makes the sockets `selection` names join (or leave) `rooms`.
pub(crate) fn join_rooms(ns: &NamespaceInner, selection: &Selection, rooms: &[Room], join: bool) {
    let ids: Vec<SocketId> = select(ns, selection).iter().map(SocketRef::id).collect();
    let mut members = ns.members_mut();
    for id in ids {
        for room in rooms {
            if join {
                members.join(id, room);
            } else {
                members.leave(id, room);
            }
        }
    }
}

type AckAnswer = oneshot::Receiver<Result<Packet, AckError>>;

/// Sends `packet` to each socket `selection` names, each with an ack id of its own.
pub(crate) fn send_with_acks(
    ns: &NamespaceInner,
    selection: &Selection,
    packet: &Packet,
    timeout: Option<Duration>,
    flags: BroadcastFlags,
) -> Vec<(SocketId, Result<AckAnswer, AckError>)> {
    let mut waiting = Vec::new();
    for socket in select(ns, selection) {
        let (reply, answer) = oneshot::channel();
        let command = Command::EmitWithAck {
            packet: packet.clone(),
            timeout,
            reply,
        };
        match socket.push(command, flags.volatile) {
            Ok(()) => waiting.push((socket.id(), Ok(answer))),
            Err(e) => waiting.push((socket.id(), Err(AckError::Emit(e)))),
        }
    }
    waiting
}

/// How long a broadcast with acknowledgements waits for other servers when the emit
/// names no timeout (the Redis adapter's default request timeout).
const DEFAULT_CLUSTER_ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// An emit to many sockets of a namespace: all of them, or those in some
/// rooms, minus others. The message is encoded once and the same bytes go to
/// every recipient. With an [`Adapter`](super::Adapter), the sockets of the other
/// servers are reached too, unless the operator is [`local`](BroadcastOperator::local).
#[derive(Debug, Clone)]
pub struct BroadcastOperator {
    ns: Arc<NamespaceInner>,
    selection: Selection,
    flags: BroadcastFlags,
}

/// The answers to a broadcast with acknowledgements across servers
/// ([`BroadcastOperator::emit_with_ack_cluster`]).
#[derive(Debug)]
pub struct ClusterAcks<R> {
    /// This server's sockets, each with its answer or why it has none.
    pub local: Vec<(SocketId, Result<R, AckError>)>,
    /// The answers of other servers' sockets (their ids do not travel).
    pub remote: Vec<Result<R, AckError>>,
    /// How many sockets the other servers reached.
    pub remote_expected: usize,
    /// Whether every server reported and every socket answered in time.
    pub complete: bool,
}

impl<R> ClusterAcks<R> {
    /// The answers that arrived, from every server, in no particular order.
    pub fn answers(self) -> Vec<R> {
        self.local
            .into_iter()
            .map(|(_, r)| r)
            .chain(self.remote)
            .filter_map(Result::ok)
            .collect()
    }
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Arc<NamespaceInner>) -> Self {
        BroadcastOperator {
            ns,
            selection: Selection::default(),
            flags: BroadcastFlags::default(),
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
        self.flags.volatile = true;
        self
    }

    /// This server's sockets only: nothing goes to other servers.
    #[must_use]
    pub fn local(mut self) -> Self {
        self.flags.local = true;
        self
    }

    /// Give up waiting for acknowledgements after `timeout`.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.flags.timeout = Some(timeout);
        self
    }

    /// The adapter, unless this operator stays on this server.
    fn cluster(&self) -> Option<&Arc<dyn Adapter>> {
        if self.flags.local {
            None
        } else {
            self.ns.cluster.as_ref()
        }
    }

    /// The selection in the adapter's terms (the excepted socket as the room of its id).
    fn options(&self) -> BroadcastOptions {
        let mut except = self.selection.except_rooms.clone();
        if let Some(id) = self.selection.except_socket {
            except.push(id.to_string());
        }
        BroadcastOptions {
            rooms: self.selection.rooms.clone(),
            except,
            flags: self.flags,
        }
    }

    /// This server's sockets this operator reaches.
    pub fn sockets(&self) -> Vec<SocketRef> {
        select(&self.ns, &self.selection)
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

    fn send(&self, encoded: Encoded) {
        let cluster = self.cluster();
        // Other servers get the event without this server's offset (each records it
        // with an offset of its own): a copy, only when both are on.
        let plain = (cluster.is_some() && self.ns.recovery.is_some() && !self.flags.volatile)
            .then(|| Bytes::copy_from_slice(&encoded.text));
        let frame = publish(&self.ns, &self.selection, encoded, self.flags.volatile);
        if let Some(cluster) = cluster {
            let packet = EncodedPacket {
                text: plain.unwrap_or_else(|| frame.text.clone()),
                attachments: frame.attachments.clone(),
            };
            cluster.broadcast(self.ns.name.as_str(), &packet, &self.options());
        }
    }

    /// Emits to every socket selected on this server and gathers each one's
    /// acknowledgement (its first argument, as `R`), or why it has none. Each
    /// recipient gets its own ack id, so this packet is encoded per recipient.
    /// Other servers' sockets: [`emit_with_ack_cluster`](Self::emit_with_ack_cluster).
    pub async fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<Vec<(SocketId, Result<R, AckError>)>, EmitError> {
        let packet = Packet::event(self.ns.name.clone(), event, data)?;
        let waiting = send_with_acks(
            &self.ns,
            &self.selection,
            &packet,
            self.flags.timeout,
            self.flags,
        );
        Ok(gather(waiting).await)
    }

    /// Emits to every socket selected, on this server and on the others, and gathers
    /// the answers (as `emitWithAck` on a Node server with an adapter). Other servers'
    /// answers are awaited up to the [`timeout`](Self::timeout) (5 s when none is set).
    pub async fn emit_with_ack_cluster<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<ClusterAcks<R>, EmitError> {
        let packet = Packet::event(self.ns.name.clone(), event, data)?;
        let remote = self.cluster().map(|cluster| {
            let encoded = Encoder::new().encode(&packet);
            let packet = EncodedPacket {
                text: encoded.text,
                attachments: encoded.attachments,
            };
            let timeout = self.flags.timeout.unwrap_or(DEFAULT_CLUSTER_ACK_TIMEOUT);
            cluster.broadcast_with_ack(self.ns.name.as_str(), &packet, &self.options(), timeout)
        });
        let waiting = send_with_acks(
            &self.ns,
            &self.selection,
            &packet,
            self.flags.timeout,
            self.flags,
        );
        let (local, remote) = tokio::join!(gather(waiting), async move {
            match remote {
                Some(remote) => Some(remote.await),
                None => None,
            }
        });
        let remote = remote.unwrap_or(RemoteAcks {
            complete: true,
            ..RemoteAcks::default()
        });
        let local_complete = local.iter().all(|(_, r)| r.is_ok());
        Ok(ClusterAcks {
            local,
            remote: remote.acks.iter().map(ack_value).collect(),
            remote_expected: remote.expected,
            complete: local_complete && remote.complete,
        })
    }

    /// Makes every selected socket leave the namespace (on every server).
    pub fn disconnect(&self) {
        self.disconnect_sockets(false);
    }

    /// Makes every selected socket leave the namespace, on every server (`close`: its
    /// whole connection closes), as `disconnectSockets(close)` in Node.
    pub fn disconnect_sockets(&self, close: bool) {
        for socket in self.sockets() {
            socket.disconnect_or_close(close);
        }
        if let Some(cluster) = self.cluster() {
            cluster.disconnect_sockets(self.ns.name.as_str(), &self.options(), close);
        }
    }

    /// Makes every selected socket, on every server, join `room`.
    pub fn sockets_join(&self, room: impl Into<Room>) {
        let rooms = [room.into()];
        join_rooms(&self.ns, &self.selection, &rooms, true);
        if let Some(cluster) = self.cluster() {
            cluster.add_sockets(self.ns.name.as_str(), &self.options(), &rooms);
        }
    }

    /// Makes every selected socket, on every server, leave `room`.
    pub fn sockets_leave(&self, room: impl Into<Room>) {
        let rooms = [room.into()];
        join_rooms(&self.ns, &self.selection, &rooms, false);
        if let Some(cluster) = self.cluster() {
            cluster.del_sockets(self.ns.name.as_str(), &self.options(), &rooms);
        }
    }

    /// The selected sockets of every server: id, handshake, rooms and data, with a
    /// handle to emit to each, or make it join, leave or disconnect.
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, AdapterError> {
        let local: Vec<RemoteSocket> = self
            .sockets()
            .iter()
            .map(|s| RemoteSocket {
                snapshot: s.snapshot(),
                ns: self.ns.clone(),
                local: true,
            })
            .collect();
        let Some(cluster) = self.cluster() else {
            return Ok(local);
        };
        let remote = cluster
            .fetch_sockets(self.ns.name.as_str(), &self.options())
            .await?;
        let mut all = local;
        all.extend(remote.into_iter().map(|snapshot| RemoteSocket {
            snapshot,
            ns: self.ns.clone(),
            local: false,
        }));
        Ok(all)
    }
}

/// Waits for each answer of [`send_with_acks`].
async fn gather<R: DeserializeOwned>(
    waiting: Vec<(SocketId, Result<AckAnswer, AckError>)>,
) -> Vec<(SocketId, Result<R, AckError>)> {
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
    replies
}

/// A socket of this server or another, as [`BroadcastOperator::fetch_sockets`] returns
/// it (Node's `RemoteSocket`).
#[derive(Debug, Clone)]
pub struct RemoteSocket {
    snapshot: SocketSnapshot,
    ns: Arc<NamespaceInner>,
    local: bool,
}

impl RemoteSocket {
    /// The socket id.
    pub fn id(&self) -> &str {
        &self.snapshot.id
    }

    /// The handshake, as the Node server's `socket.handshake` object.
    pub fn handshake(&self) -> &serde_json::Value {
        &self.snapshot.handshake
    }

    /// The rooms the socket is in, its own id among them.
    pub fn rooms(&self) -> &[Room] {
        &self.snapshot.rooms
    }

    /// The socket's shared data (Node's `socket.data`).
    pub fn data(&self) -> &serde_json::Value {
        &self.snapshot.data
    }

    /// Whether this server holds the socket.
    pub fn is_local(&self) -> bool {
        self.local
    }

    /// Everything the snapshot holds.
    pub fn snapshot(&self) -> &SocketSnapshot {
        &self.snapshot
    }

    fn operator(&self) -> BroadcastOperator {
        let op = BroadcastOperator::new(self.ns.clone()).to(self.snapshot.id.clone());
        if self.local {
            op.local()
        } else {
            op
        }
    }

    /// Emits `event` to the socket, wherever it is.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.operator().emit(event, data)
    }

    /// Makes the socket join `room`.
    pub fn join(&self, room: impl Into<Room>) {
        self.operator().sockets_join(room);
    }

    /// Makes the socket leave `room`.
    pub fn leave(&self, room: impl Into<Room>) {
        self.operator().sockets_leave(room);
    }

    /// Disconnects the socket (`close`: its whole connection).
    pub fn disconnect(&self, close: bool) {
        self.operator().disconnect_sockets(close);
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
