//! The Socket.IO server the interop scenarios talk to, built with the public
//! API only, and what it records for the tests to check afterwards.
//!
//! Namespaces: `/`, `/admin` (static), `/secure` (static, behind middleware),
//! and every `/dyn-<digits>` (dynamic; its middleware refuses `/dyn-0`). Each
//! socket of any of them gets the same event handlers (see [`register`]); a
//! client names itself with a `tag` in its CONNECT auth, so the records below
//! say which scenario a socket belonged to.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use server_adapter::socketio::{
    AckError, AckSender, Args, Bin, Binary, ConnectError, Data, DisconnectReason, EventName,
    NamespaceRef, RawArgs, SocketIo, SocketIoBuilder, SocketRef, Spread, TryData,
};
use server_adapter::Server;
use sha1::{Digest, Sha1};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;

use crate::{serve_axum, serve_hyper, Stack, Stop, WAIT};

/// The key the test tokens are signed with (the Node script signs with it too).
const TOKEN_KEY: &str = "interop-secret";

/// A socket that joined a namespace, as its handlers saw it.
#[derive(Debug, Clone)]
pub(crate) struct Joined {
    pub(crate) tag: String,
    pub(crate) namespace: String,
    pub(crate) id: String,
    pub(crate) address: Option<SocketAddr>,
    pub(crate) header: Option<String>,
    pub(crate) query: Option<String>,
    pub(crate) transport: &'static str,
}

/// A socket that left, and why.
#[derive(Debug, Clone)]
pub(crate) struct Left {
    pub(crate) tag: String,
    pub(crate) namespace: String,
    pub(crate) reason: DisconnectReason,
}

/// What the server saw, for assertions after a script ran.
#[derive(Debug, Default)]
pub(crate) struct Observed {
    pub(crate) joined: Mutex<Vec<Joined>>,
    pub(crate) left: Mutex<Vec<Left>>,
    /// Outcomes of the server's emits with ack: (tag, outcome).
    pub(crate) asked: Mutex<Vec<(String, Value)>>,
    /// The order in which each socket's `seq` events were handled: (tag, numbers).
    pub(crate) sequences: Mutex<Vec<(String, Vec<u32>)>>,
}

impl Observed {
    pub(crate) fn left_with(&self, tag: &str) -> Vec<Left> {
        let left = self.left.lock().unwrap();
        left.iter().filter(|l| l.tag == tag).cloned().collect()
    }

    pub(crate) fn joined_with(&self, tag: &str) -> Vec<Joined> {
        let joined = self.joined.lock().unwrap();
        joined.iter().filter(|j| j.tag == tag).cloned().collect()
    }
}

/// Waits until `done` holds, polling every 10 ms, at most [`WAIT`].
pub(crate) async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let step = Duration::from_millis(10);
    let mut waited = Duration::ZERO;
    while !done() {
        assert!(waited < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(step).await;
        waited += step;
    }
}

/// What every handler shares.
struct Shared {
    observed: Arc<Observed>,
    io: SocketIo,
    /// The dynamic namespace, to broadcast to its children.
    dynamic: NamespaceRef,
    /// Lets a `block` handler go on.
    release: Notify,
    /// Asks the test to restart the server.
    restart: Option<mpsc::UnboundedSender<()>>,
}

/// The user a token names; middleware stores it on the socket.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct User {
    sub: String,
    role: String,
}

/// How many times this socket said `visit` (per-socket typed data).
#[derive(Debug, Clone, Copy, Default)]
struct Visits(u32);

/// The names of the events this socket received, as the catch-all saw them.
#[derive(Debug, Clone, Default)]
struct AnyLog(Arc<Mutex<Vec<String>>>);

/// The `seq` numbers this socket's handler ran for, in order.
#[derive(Debug, Clone, Default)]
struct SeqLog(Arc<Mutex<Vec<u32>>>);

/// The scenario a socket belongs to (its auth's `tag`).
#[derive(Debug, Clone, Default)]
struct Tag(String);

#[derive(Debug, Deserialize)]
struct Order {
    item: String,
    qty: u32,
    tags: Vec<String>,
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Upload {
    name: String,
    data: Binary,
    parts: Vec<Binary>,
}

#[derive(Debug, Deserialize)]
struct Ask {
    event: String,
    timeout_ms: u64,
    data: Value,
}

#[derive(Debug, Deserialize)]
struct Cast {
    /// `io` (the namespace), `socket` (everyone but the sender), `all` (`NamespaceRef::emit`).
    from: String,
    #[serde(default)]
    to: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
    event: String,
    data: Value,
}

#[derive(Debug, Deserialize)]
struct CastWithAck {
    room: String,
    timeout_ms: u64,
}

/// Checks a `header.payload.signature` token, each part base64url: the
/// signature is SHA-1 over the key, a dot and `header.payload`.
fn verify_token(token: &str) -> Result<User, ConnectError> {
    let invalid = |why: &str| {
        ConnectError::new("invalid token").with_data(json!({ "code": 401, "why": why }))
    };
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("malformed"));
    };
    let mut hash = Sha1::new();
    hash.update(TOKEN_KEY.as_bytes());
    hash.update(b".");
    hash.update(header.as_bytes());
    hash.update(b".");
    hash.update(payload.as_bytes());
    if URL_SAFE_NO_PAD.encode(hash.finalize()) != signature {
        return Err(invalid("signature"));
    }
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| invalid("payload"))?;
    serde_json::from_slice(&payload).map_err(|_| invalid("claims"))
}

/// The first middleware of `/secure`: a token in the CONNECT auth.
async fn check_token(socket: SocketRef) -> Result<(), ConnectError> {
    let auth: Value = socket.handshake().auth().unwrap_or(Value::Null);
    let Some(token) = auth.get("token").and_then(Value::as_str) else {
        return Err(ConnectError::new("no token"));
    };
    let user = verify_token(token)?;
    socket.insert_data(user);
    Ok(())
}

/// The second middleware of `/secure`: refuses banned clients, by the
/// handshake's query or headers; runs after the first (it sees its data).
async fn check_ban(socket: SocketRef) -> Result<(), ConnectError> {
    let hs = socket.handshake();
    if hs.query("banned").as_deref() == Some("1") {
        return Err(ConnectError::new("banned").with_data(json!({ "via": "query" })));
    }
    if hs.header("x-interop-ban").is_some() {
        return Err(ConnectError::new("banned").with_data(json!({ "via": "header" })));
    }
    if socket.data::<User>().is_none() {
        return Err(ConnectError::new("middleware ran out of order"));
    }
    Ok(())
}

/// Builds the test server from `builder`. `restart` receives a message when a
/// client asks for the server to be restarted.
pub(crate) fn build(
    builder: SocketIoBuilder,
    observed: Arc<Observed>,
    restart: Option<mpsc::UnboundedSender<()>>,
) -> SocketIo {
    let io = builder.build();
    let dynamic = io.of_dynamic(|name| {
        name.strip_prefix("/dyn-")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    });
    let shared = Arc::new(Shared {
        observed,
        io: io.clone(),
        dynamic: dynamic.clone(),
        release: Notify::new(),
        restart,
    });
    for ns in [
        io.of("/"),
        io.of("/admin"),
        io.of("/secure"),
        dynamic.clone(),
    ] {
        let shared = shared.clone();
        ns.on_connection(move |socket: SocketRef| {
            let shared = shared.clone();
            async move { register(&socket, &shared) }
        });
    }
    io.of("/secure")
        .use_middleware(check_token)
        .use_middleware(check_ban);
    dynamic.use_middleware(|socket: SocketRef| async move {
        if socket.namespace() == "/dyn-0" {
            Err(ConnectError::new("no zero").with_data(json!({ "namespace": "/dyn-0" })))
        } else {
            Ok(())
        }
    });
    io
}

/// A running server: where it listens, how to stop it, and its task.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) shutdown: Stop,
    pub(crate) task: JoinHandle<std::io::Result<()>>,
}

/// Serves `io` on `addr` (port 0: an ephemeral one) through `stack`: natively, or as the
/// layer of an axum `Router` with no routes of its own.
pub(crate) async fn serve(stack: Stack, io: SocketIo, addr: SocketAddr) -> Running {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (shutdown, task) = match stack {
        Stack::Native => {
            let server = Server::new().mount(io);
            let shutdown = Stop::Native(server.shutdown_handle());
            (shutdown, tokio::spawn(server.serve(listener)))
        }
        Stack::Axum => {
            let router = axum::Router::new().layer(io.layer());
            serve_axum(listener, router, move |grace| async move {
                io.shutdown(grace).await
            })
        }
        Stack::Hyper => serve_hyper(listener, io),
    };
    Running {
        addr,
        shutdown,
        task,
    }
}

/// The namespace a socket is in, for broadcasts that may include it.
fn namespace_of(socket: &SocketRef, shared: &Shared) -> NamespaceRef {
    if socket.namespace().starts_with("/dyn-") {
        let children = shared.dynamic.children();
        if let Some(child) = children
            .into_iter()
            .find(|c| c.name() == Some(socket.namespace()))
        {
            return child;
        }
    }
    shared.io.of(socket.namespace())
}

fn welcome(socket: &SocketRef) -> Value {
    let hs = socket.handshake();
    json!({
        "id": socket.id().as_str(),
        "namespace": socket.namespace(),
        "auth": hs.auth::<Value>().unwrap_or(Value::Null),
        "query": hs.query("k"),
        "header": hs.header("x-interop"),
        "address": hs.address().map(|a| a.ip().to_string()),
        "transport": hs.transport().as_str(),
        "user": socket.data::<User>(),
    })
}

/// Records the socket and registers every handler the scenarios use.
fn register(socket: &SocketRef, shared: &Arc<Shared>) {
    let hs = socket.handshake();
    let tag = hs
        .auth::<Value>()
        .ok()
        .and_then(|a| a.get("tag").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    shared.observed.joined.lock().unwrap().push(Joined {
        tag: tag.clone(),
        namespace: socket.namespace().to_owned(),
        id: socket.id().to_string(),
        address: hs.address(),
        header: hs.header("x-interop").map(str::to_owned),
        query: hs.query("k"),
        transport: hs.transport().as_str(),
    });
    socket.insert_data(Tag(tag));
    socket.insert_data(AnyLog::default());
    socket.insert_data(SeqLog::default());
    let _ = socket.emit("welcome", &welcome(socket));

    let s = shared.clone();
    socket.on_disconnect(move |socket: SocketRef, reason: DisconnectReason| {
        let s = s.clone();
        async move {
            s.observed.left.lock().unwrap().push(Left {
                tag: socket.data::<Tag>().unwrap_or_default().0,
                namespace: socket.namespace().to_owned(),
                reason,
            });
        }
    });

    socket.on_any(|socket: SocketRef, EventName(name): EventName| async move {
        if let Some(log) = socket.data::<AnyLog>() {
            log.0.lock().unwrap().push(name);
        }
    });
    socket.on("any-log", |socket: SocketRef, ack: AckSender| async move {
        let log = socket.data::<AnyLog>().unwrap_or_default();
        let names = log.0.lock().unwrap().clone();
        let _ = ack.send(&names);
    });

    register_events(socket);
    register_acks(socket, shared);
    register_rooms(socket, shared);
    register_control(socket, shared);
}

/// Dynamic values parsed and written again: key order and binary as sent.
fn register_payloads(socket: &SocketRef) {
    // Every argument as a `Value`, sent back three ways: the ack, an event to the sender,
    // and a broadcast to a room it is in.
    socket.on(
        "value-echo",
        |socket: SocketRef,
         Args(args): Args<Vec<server_adapter::socketio::Value>>,
         ack: AckSender| async move {
            let _ = ack.send(&Spread(&args));
            let _ = socket.emit("value-echo", &Spread(&args));
            socket.join("payloads");
            let _ = socket
                .nsp()
                .to("payloads")
                .emit("value-cast", &Spread(&args));
            socket.leave("payloads");
        },
    );
    // Asks the client with an ack, and answers the call with what the client answered, as a
    // `Value`: an ack received keeps key order and binary too.
    socket.on(
        "value-ask",
        |socket: SocketRef, Data(data): Data<server_adapter::socketio::Value>, ack: AckSender| async move {
            let answer = socket
                .timeout(WAIT)
                .emit_with_ack::<_, server_adapter::socketio::Value>("value-question", &data)
                .await;
            let _ = match answer {
                Ok(value) => ack.send(&value),
                Err(e) => ack.send(&e.to_string()),
            };
        },
    );
    // The first argument as a `serde_json::Value`: fine for JSON, refused for binary (the
    // handler is skipped, so the client's ack never comes).
    socket.on(
        "json-echo",
        |Data(value): Data<serde_json::Value>, ack: AckSender| async move {
            let _ = ack.send(&value);
        },
    );
}

/// Echo, typed arguments, binary.
fn register_events(socket: &SocketRef) {
    register_payloads(socket);
    // Answers with the same arguments: as an ack if one is asked for, else as an event.
    socket.on(
        "echo",
        |socket: SocketRef, args: RawArgs, ack: AckSender| async move {
            if ack.is_requested() {
                let _ = ack.send_raw(&args);
            } else {
                let _ = socket.emit_raw("echo", &args);
            }
        },
    );
    socket.on(
        "typed",
        |Data(order): Data<Order>, ack: AckSender| async move {
            let _ = ack.send(&json!({
                "item": order.item.to_uppercase(),
                "total": order.qty * 3,
                "tags": order.tags.len(),
                "note": order.note,
            }));
        },
    );
    socket.on(
        "typed-args",
        |Args((name, n, flag)): Args<(String, u32, bool)>, ack: AckSender| async move {
            let _ = ack.send(&format!("{name}:{n}:{flag}"));
        },
    );
    socket.on(
        "try-typed",
        |TryData(order): TryData<Order>, ack: AckSender| async move {
            let _ = match order {
                Ok(order) => ack.send(&json!({ "ok": true, "item": order.item })),
                Err(e) => ack.send(&json!({ "ok": false, "error": e.to_string() })),
            };
        },
    );
    // Binary arguments: the typed way (`Binary` inside the struct) and the raw one (`Bin`).
    socket.on(
        "upload",
        |Data(up): Data<Upload>, Bin(all): Bin, ack: AckSender| async move {
            let mut reversed = up.data.to_vec();
            reversed.reverse();
            let joined: Vec<u8> = up.parts.iter().flat_map(|p| p.iter().copied()).collect();
            let meta = json!({
                "name": up.name,
                "size": up.data.len(),
                "parts": up.parts.len(),
                "attachments": all.len(),
            });
            let _ = ack.send(&(meta, Binary::new(reversed), Binary::new(joined)));
        },
    );
    socket.on("visit", |socket: SocketRef, ack: AckSender| async move {
        let Visits(n) = socket.data::<Visits>().unwrap_or_default();
        socket.insert_data(Visits(n + 1));
        let _ = ack.send(&(n + 1));
    });
    socket.on("whoami", |socket: SocketRef, ack: AckSender| async move {
        let _ = ack.send(&welcome(&socket));
    });
    // Some handlers wait a little, so that handling in order is not a given.
    socket.on("seq", |socket: SocketRef, Data(n): Data<u32>| async move {
        if n % 7 == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        } else if n % 3 == 0 {
            tokio::task::yield_now().await;
        }
        if let Some(log) = socket.data::<SeqLog>() {
            log.0.lock().unwrap().push(n);
        }
    });
}

/// Acknowledgements the server asks for, and the answer-once rule.
fn register_acks(socket: &SocketRef, shared: &Arc<Shared>) {
    socket.on("twice", |ack: AckSender| async move {
        let _ = ack.send(&"first");
        let _ = ack.send(&"second");
    });
    let s = shared.clone();
    socket.on(
        "ask",
        move |socket: SocketRef, Data(ask): Data<Ask>, ack: AckSender| {
            let s = s.clone();
            async move {
                let answer = socket
                    .timeout(Duration::from_millis(ask.timeout_ms))
                    .emit_with_ack::<_, Value>(&ask.event, &ask.data)
                    .await;
                let outcome = match answer {
                    Ok(value) => json!({ "ok": value }),
                    Err(AckError::Timeout) => json!({ "err": "timeout" }),
                    Err(e) => json!({ "err": e.to_string() }),
                };
                let tag = socket.data::<Tag>().unwrap_or_default().0;
                s.observed
                    .asked
                    .lock()
                    .unwrap()
                    .push((tag, outcome.clone()));
                let _ = ack.send(&outcome);
            }
        },
    );
    // Sends bytes with an ack and expects them back reversed, as binary.
    socket.on(
        "ask-binary",
        |socket: SocketRef, ack: AckSender| async move {
            let sent = Binary::new(vec![1u8, 2, 3, 250]);
            let answer = socket
                .timeout(WAIT)
                .emit_with_ack::<_, Binary>("bytes-please", &("reverse me", sent))
                .await;
            let _ = match answer {
                Ok(bytes) => ack.send(&json!({ "ok": bytes.to_vec() })),
                Err(e) => ack.send(&json!({ "err": e.to_string() })),
            };
        },
    );
    let s = shared.clone();
    socket.on(
        "cast-with-ack",
        move |socket: SocketRef, Data(cast): Data<CastWithAck>, ack: AckSender| {
            let s = s.clone();
            async move {
                let replies = namespace_of(&socket, &s)
                    .to(cast.room)
                    .timeout(Duration::from_millis(cast.timeout_ms))
                    .emit_with_ack::<_, Value>("poll", &"answer me")
                    .await;
                let mut answers = Vec::new();
                let mut timeouts = 0;
                let mut other = Vec::new();
                for (_, reply) in replies.into_iter().flatten() {
                    match reply {
                        Ok(v) => answers.push(v),
                        Err(AckError::Timeout) => timeouts += 1,
                        Err(e) => other.push(e.to_string()),
                    }
                }
                answers.sort_by_key(|v| v.to_string());
                let _ = ack.send(&json!({
                    "answers": answers,
                    "timeouts": timeouts,
                    "errors": other,
                }));
            }
        },
    );
}

/// Rooms and broadcasts.
fn register_rooms(socket: &SocketRef, shared: &Arc<Shared>) {
    socket.on(
        "join",
        |socket: SocketRef, Data(rooms): Data<Vec<String>>, ack: AckSender| async move {
            for room in rooms {
                socket.join(room);
            }
            let _ = ack.send(&socket.rooms());
        },
    );
    socket.on(
        "leave",
        |socket: SocketRef, Data(room): Data<String>, ack: AckSender| async move {
            socket.leave(&room);
            let _ = ack.send(&socket.rooms());
        },
    );
    let s = shared.clone();
    socket.on(
        "cast",
        move |socket: SocketRef, Data(cast): Data<Cast>, ack: AckSender| {
            let s = s.clone();
            async move {
                let result = match cast.from.as_str() {
                    "all" => namespace_of(&socket, &s).emit(&cast.event, &cast.data),
                    "io" | "socket" => {
                        let mut op = if cast.from == "io" {
                            namespace_of(&socket, &s).broadcast()
                        } else {
                            socket.broadcast()
                        };
                        for room in cast.to {
                            op = op.to(room);
                        }
                        for room in cast.except {
                            op = op.except(room);
                        }
                        op.emit(&cast.event, &cast.data)
                    }
                    "dynamic" => s.dynamic.emit(&cast.event, &cast.data),
                    other => {
                        let _ = ack.send(&format!("unknown sender {other}"));
                        return;
                    }
                };
                let _ = ack.send(&result.is_ok());
            }
        },
    );
    let s = shared.clone();
    socket.on(
        "room-size",
        move |socket: SocketRef, Data(room): Data<String>, ack: AckSender| {
            let s = s.clone();
            async move {
                let _ = ack.send(&namespace_of(&socket, &s).to(room).sockets().len());
            }
        },
    );
    let s = shared.clone();
    socket.on("count", move |socket: SocketRef, ack: AckSender| {
        let s = s.clone();
        async move {
            let _ = ack.send(&json!({
                "connections": s.io.connections(),
                "sockets": namespace_of(&socket, &s).sockets().len(),
            }));
        }
    });
    // A volatile and a normal emit to the socket named by `id`.
    let s = shared.clone();
    socket.on(
        "volatile-to",
        move |socket: SocketRef, Data(id): Data<String>, ack: AckSender| {
            let s = s.clone();
            async move {
                let ns = namespace_of(&socket, &s);
                let volatile = ns.to(id.clone()).volatile().emit("volatile", &"dropped");
                let kept = ns.to(id).emit("kept", &"queued");
                let _ = ack.send(&(volatile.is_ok() && kept.is_ok()));
            }
        },
    );
    socket.on(
        "volatile-self",
        |socket: SocketRef, Data(n): Data<u32>, ack: AckSender| async move {
            for i in 0..n {
                let _ = socket.volatile().emit("volatile", &i);
            }
            let _ = ack.send(&n);
        },
    );
}

/// Slow handlers, disconnects, restarts.
fn register_control(socket: &SocketRef, shared: &Arc<Shared>) {
    let s = shared.clone();
    socket.on("block", move |ack: AckSender| {
        let s = s.clone();
        async move {
            let released = tokio::time::timeout(WAIT, s.release.notified())
                .await
                .is_ok();
            let _ = ack.send(&released);
        }
    });
    let s = shared.clone();
    socket.on("release", move |ack: AckSender| {
        let s = s.clone();
        async move {
            s.release.notify_one();
            let _ = ack.send(&true);
        }
    });
    let s = shared.clone();
    socket.on("seq-done", move |socket: SocketRef, ack: AckSender| {
        let s = s.clone();
        async move {
            let log = socket.data::<SeqLog>().unwrap_or_default();
            let numbers = log.0.lock().unwrap().clone();
            let tag = socket.data::<Tag>().unwrap_or_default().0;
            s.observed
                .sequences
                .lock()
                .unwrap()
                .push((tag, numbers.clone()));
            let _ = ack.send(&numbers);
        }
    });
    socket.on("kick", |socket: SocketRef| async move {
        socket.disconnect();
    });
    socket.on("close-all", |socket: SocketRef| async move {
        socket.close_connection();
    });
    let s = shared.clone();
    socket.on("restart", move |ack: AckSender| {
        let s = s.clone();
        async move {
            let asked = s.restart.as_ref().is_some_and(|r| r.send(()).is_ok());
            let _ = ack.send(&asked);
        }
    });
}
