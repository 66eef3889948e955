//! Two servers in one process, joined by a fake adapter that calls the other
//! server's [`LocalNode`] directly: every operation of the API crosses it.

use std::sync::Mutex;

use socketio_core::SocketId;
use socketio_parser::{Decoder, Status};

use super::*;
use crate::socketio::outbound::Command;
use crate::socketio::socket::SocketRef;
use crate::socketio::{SocketIo, SocketIoBuilder};

/// The nodes of a fake cluster.
#[derive(Default)]
struct Hub {
    nodes: Mutex<Vec<LocalNode>>,
}

/// One node's adapter: reaches every other node of the hub.
struct FakeAdapter {
    hub: Arc<Hub>,
    me: Mutex<Option<usize>>,
}

impl FakeAdapter {
    fn others(&self) -> Vec<LocalNode> {
        let me = self.me.lock().unwrap().expect("initialised");
        let nodes = self.hub.nodes.lock().unwrap();
        nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != me)
            .map(|(_, n)| n.clone())
            .collect()
    }
}

fn decode(packet: &EncodedPacket) -> Packet {
    let mut decoder = Decoder::new();
    let mut status = decoder.push_text(packet.text.clone()).unwrap();
    for attachment in &packet.attachments {
        status = decoder.push_binary(attachment.clone()).unwrap();
    }
    match status {
        Status::Complete(p) => p,
        Status::NeedsAttachments(_) => panic!("attachments missing"),
    }
}

impl Adapter for FakeAdapter {
    fn init(&self, local: LocalNode) {
        let mut nodes = self.hub.nodes.lock().unwrap();
        *self.me.lock().unwrap() = Some(nodes.len());
        nodes.push(local);
    }

    fn add_namespace(&self, _nsp: &str) {}

    fn broadcast(&self, nsp: &str, packet: &EncodedPacket, opts: &BroadcastOptions) {
        let packet = decode(packet);
        for node in self.others() {
            node.broadcast(nsp, &packet, opts);
        }
    }

    fn broadcast_with_ack(
        &self,
        nsp: &str,
        packet: &EncodedPacket,
        opts: &BroadcastOptions,
        timeout: Duration,
    ) -> BoxFuture<'static, RemoteAcks> {
        let packet = decode(packet);
        let pending: Vec<PendingAck> = self
            .others()
            .iter()
            .flat_map(|n| n.broadcast_with_ack(nsp, &packet, opts, timeout))
            .collect();
        Box::pin(async move {
            let expected = pending.len();
            let mut acks = Vec::new();
            for p in pending {
                if let Some(ack) = p.await {
                    acks.push(ack);
                }
            }
            RemoteAcks {
                complete: acks.len() == expected,
                acks,
                expected,
            }
        })
    }

    fn fetch_sockets(
        &self,
        nsp: &str,
        opts: &BroadcastOptions,
    ) -> BoxFuture<'static, Result<Vec<SocketSnapshot>, AdapterError>> {
        let all = self
            .others()
            .iter()
            .flat_map(|n| n.fetch_sockets(nsp, opts))
            .collect();
        Box::pin(async move { Ok(all) })
    }

    fn add_sockets(&self, nsp: &str, opts: &BroadcastOptions, rooms: &[Room]) {
        for node in self.others() {
            node.add_sockets(nsp, opts, rooms);
        }
    }

    fn del_sockets(&self, nsp: &str, opts: &BroadcastOptions, rooms: &[Room]) {
        for node in self.others() {
            node.del_sockets(nsp, opts, rooms);
        }
    }

    fn disconnect_sockets(&self, nsp: &str, opts: &BroadcastOptions, close: bool) {
        for node in self.others() {
            node.disconnect_sockets(nsp, opts, close);
        }
    }

    fn server_side_emit(&self, nsp: &str, event: &str, args: &[serde_json::Value]) {
        for node in self.others() {
            node.server_side_emit(nsp, event, args.to_vec(), None);
        }
    }

    fn server_side_emit_with_ack(
        &self,
        nsp: &str,
        event: &str,
        args: &[serde_json::Value],
    ) -> BoxFuture<'static, Result<Vec<serde_json::Value>, AdapterError>> {
        let mut answers = Vec::new();
        for node in self.others() {
            let (tx, rx) = oneshot::channel();
            node.server_side_emit(
                nsp,
                event,
                args.to_vec(),
                Some(ServerAck::new(move |v| {
                    let _ = tx.send(v);
                })),
            );
            answers.push(rx);
        }
        Box::pin(async move {
            let mut out = Vec::new();
            for a in answers {
                out.push(a.await.map_err(|_| AdapterError::Timeout {
                    operation: "serverSideEmit",
                    received: 0,
                    expected: 1,
                })?);
            }
            Ok(out)
        })
    }

    fn all_rooms(&self, nsp: &str) -> BoxFuture<'static, Result<Vec<Room>, AdapterError>> {
        let all = self.others().iter().flat_map(|n| n.rooms(nsp)).collect();
        Box::pin(async move { Ok(all) })
    }
}

/// Two servers on one fake cluster.
fn cluster() -> (SocketIo, SocketIo) {
    cluster_with(SocketIoBuilder::default)
}

/// Two servers on one fake cluster, each built from `builder()`.
fn cluster_with(builder: impl Fn() -> SocketIoBuilder) -> (SocketIo, SocketIo) {
    let hub = Arc::new(Hub::default());
    let node = |hub: &Arc<Hub>| {
        builder()
            .adapter(FakeAdapter {
                hub: hub.clone(),
                me: Mutex::new(None),
            })
            .build()
    };
    (node(&hub), node(&hub))
}

/// A connected socket of `io`'s namespace `/`, with id bytes `n`.
fn socket(io: &SocketIo, n: u8) -> SocketRef {
    let ns = io.inner.registry.of(Namespace::main());
    let socket = SocketRef::for_test(SocketId::from_random_bytes([n; 15]), ns.clone());
    socket
        .0
        .connected
        .store(true, std::sync::atomic::Ordering::Release);
    ns.members_mut().insert(socket.clone());
    socket
}

/// The texts of the frames queued on `socket`.
fn received(socket: &SocketRef) -> Vec<String> {
    socket
        .0
        .outbound
        .drain()
        .into_iter()
        .filter_map(|c| match c {
            Command::Send { frame, .. } => Some(String::from_utf8_lossy(&frame.text).into_owned()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_broadcast_reaches_the_room_on_both_servers_minus_except_and_local_stays() {
    let (a, b) = cluster();
    let (a1, a2) = (socket(&a, 1), socket(&a, 2));
    let (b1, b2) = (socket(&b, 3), socket(&b, 4));
    for s in [&a1, &a2, &b1, &b2] {
        s.join("r");
    }
    b2.join("muted");
    a.to("r").except("muted").emit("news", &1).unwrap();
    for s in [&a1, &a2, &b1] {
        assert_eq!(received(s), vec![r#"2["news",1]"#.to_owned()]);
    }
    assert!(received(&b2).is_empty(), "excepted on the other server");

    // Sent by a socket: the sender is left out on every server.
    a1.to("r").emit("x", &()).unwrap();
    assert!(received(&a1).is_empty());
    assert_eq!(received(&b1), vec![r#"2["x"]"#.to_owned()]);
    assert_eq!(received(&a2), vec![r#"2["x"]"#.to_owned()]);
    assert_eq!(received(&b2), vec![r#"2["x"]"#.to_owned()]);

    a.to("r").local().emit("here", &()).unwrap();
    assert_eq!(received(&a2).len(), 1);
    assert!(received(&b1).is_empty(), "local stays on its server");

    // One socket by its id, on the other server.
    a.to(b2.id().to_string()).emit("direct", &()).unwrap();
    assert_eq!(received(&b2), vec![r#"2["direct"]"#.to_owned()]);
    assert!(received(&b1).is_empty());
}

#[test]
fn binary_crosses_as_attachments() {
    let (a, b) = cluster();
    let b1 = socket(&b, 1);
    a.emit("file", &socketio_parser::Binary::from(vec![1u8, 2]))
        .unwrap();
    let frames: Vec<_> = b1.0.outbound.drain().into_iter().collect();
    match &frames[..] {
        [Command::Send { frame, .. }] => {
            assert_eq!(
                &frame.text[..],
                br#"51-["file",{"_placeholder":true,"num":0}]"#
            );
            assert_eq!(&frame.attachments[0][..], &[1, 2]);
        }
        other => panic!("one frame expected: {other:?}"),
    }
}

#[test]
fn join_leave_disconnect_and_rooms_cross_servers() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (a, b) = cluster();
    let a1 = socket(&a, 1);
    let b1 = socket(&b, 2);
    b1.join("x");
    a.to("x").sockets_join("y");
    assert_eq!(
        b1.rooms(),
        vec![b1.id().to_string(), "x".into(), "y".into()]
    );
    a.sockets_join("all");
    assert!(a1.rooms().contains(&"all".to_owned()));
    assert!(b1.rooms().contains(&"all".to_owned()));
    a.to("y").sockets_leave("x");
    assert_eq!(
        b1.rooms(),
        vec![b1.id().to_string(), "all".into(), "y".into()]
    );

    let rooms = rt.block_on(a.all_rooms()).unwrap();
    let mut want = vec![
        a1.id().to_string(),
        b1.id().to_string(),
        "all".into(),
        "y".into(),
    ];
    want.sort();
    assert_eq!(rooms, want);

    b1.set_shared_data(serde_json::json!({"user": "bo"}));
    let sockets = rt.block_on(a.fetch_sockets()).unwrap();
    assert_eq!(sockets.len(), 2);
    let remote = sockets.iter().find(|s| !s.is_local()).unwrap();
    assert_eq!(remote.id(), b1.id().as_str());
    assert_eq!(remote.data(), &serde_json::json!({"user": "bo"}));
    assert_eq!(remote.handshake()["auth"], serde_json::json!({}));
    remote.join("z");
    assert!(b1.rooms().contains(&"z".to_owned()));
    remote.emit("hi", &()).unwrap();
    assert_eq!(received(&b1), vec![r#"2["hi"]"#.to_owned()]);
    remote.disconnect(false);
    assert!(matches!(
        b1.0.outbound.drain().pop_front(),
        Some(Command::Disconnect { .. })
    ));
    a.to("nobody").disconnect_sockets(true);
    assert!(b1.0.outbound.drain().is_empty());
    a.disconnect_sockets(true);
    assert!(matches!(
        b1.0.outbound.drain().pop_front(),
        Some(Command::Close { .. })
    ));
}

#[test]
fn broadcast_acks_and_server_side_events_cross_servers() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let (a, b) = cluster();
    let a1 = socket(&a, 1);
    let b1 = socket(&b, 2);
    let b2 = socket(&b, 3);
    // Each client answers with its own id; b2 never answers.
    let answer = |s: &SocketRef| {
        for c in s.0.outbound.drain() {
            if let Command::EmitWithAck { packet, reply, .. } = c {
                assert_eq!(packet.event_name().unwrap(), "poll");
                let ack = Packet::ack(
                    Namespace::main(),
                    socketio_parser::AckId::new(0),
                    &(s.id().as_str(),),
                )
                .unwrap();
                let _ = reply.send(Ok(ack));
            }
        }
    };
    let acks = rt.block_on(async {
        let op = a.of("/").broadcast().timeout(Duration::from_millis(50));
        let gather = op.emit_with_ack_cluster::<_, String>("poll", &());
        tokio::pin!(gather);
        // Let the emit queue its packets, then answer them.
        tokio::select! {
            _ = &mut gather => panic!("b2 never answers"),
            _ = tokio::task::yield_now() => {}
        }
        answer(&a1);
        answer(&b1);
        drop(b2.0.outbound.drain());
        gather.await.unwrap()
    });
    assert_eq!(acks.local.len(), 1);
    assert_eq!(acks.remote_expected, 2);
    assert!(!acks.complete, "b2 did not answer");
    let mut answers = acks.answers();
    answers.sort();
    let mut want = vec![a1.id().to_string(), b1.id().to_string()];
    want.sort();
    assert_eq!(answers, want);

    b.on_server_side_emit("hello", |args, ack| {
        assert_eq!(args, vec![serde_json::json!("world"), serde_json::json!(1)]);
        if let Some(ack) = ack {
            ack.send(serde_json::json!("from b"));
        }
    });
    a.server_side_emit("hello", &[serde_json::json!("world"), serde_json::json!(1)]);
    let answers = rt
        .block_on(a.server_side_emit_with_ack("hello", &["world".into(), 1.into()]))
        .unwrap();
    assert_eq!(answers, vec![serde_json::json!("from b")]);
}

/// With connection state recovery on, each server records a broadcast with an offset of
/// its own (so a client that comes back to it recovers what the others sent), and what
/// crosses to the other servers carries none.
#[test]
fn with_recovery_each_server_writes_its_own_offsets_and_none_cross() {
    let (a, b) = cluster_with(|| {
        SocketIoBuilder::default()
            .connection_state_recovery(crate::socketio::RecoveryConfig::default())
    });
    let (a1, b1) = (socket(&a, 1), socket(&b, 2));
    a1.join("r");
    b1.join("r");
    b.to("r").emit("warm-up", &()).unwrap();
    a.to("r").emit("news", &1).unwrap();
    assert_eq!(received(&a1), [r#"2["warm-up","1"]"#, r#"2["news",1,"2"]"#]);
    assert_eq!(received(&b1), [r#"2["warm-up","1"]"#, r#"2["news",1,"2"]"#]);
    // Volatile and local: no offset and nothing recorded for the volatile one.
    a.to("r").volatile().emit("v", &()).unwrap();
    a.local().emit("l", &()).unwrap();
    assert_eq!(received(&b1), Vec::<String>::new());
    let heads = |io: &SocketIo| io.inner.recovery.as_ref().unwrap().head().get();
    assert_eq!((heads(&a), heads(&b)), (3, 2));
}
