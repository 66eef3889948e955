//! One server of a Socket.IO cluster on Redis, with the handlers the Redis adapter's tests
//! drive from official clients (`tests/node/redis-cluster.js`): started several times, the
//! processes form a cluster through the Redis adapter.
//!
//! ```sh
//! REDIS_URL=redis://127.0.0.1:6379 PORT=3001 cargo run -p socketio-redis --example cluster_node
//! ```
//!
//! It prints `cluster_node listening on http://127.0.0.1:<port>` once it accepts.
//!
//! | event | what the server does |
//! |---|---|
//! | `join` (room) | joins the room |
//! | `join-other` (socket id, room) | makes that socket, on any server, join the room |
//! | `cast` (room, text) | emits `hello` to the room, on every server |
//! | `cast-except` (room, except, text) | emits `hello` to the room minus `except` and the sender |
//! | `rust-fetch` (room) | answers with the room's sockets on every server |
//! | `rust-sse` (arg) | server-side emits `ping` with an ack; answers with the other servers' answers |
//! | `rust-acks` (room) | emits `poll` with an ack to the room everywhere; answers with the answers |
//! | `rust-acks-all` (ms) | the same to everyone, with a timeout; answers with the count and completeness |
//! | `rust-rooms` | answers with every server's rooms |
//! | `rust-emitter` (room) | emits `from-rust-emitter` to the room through a `RedisEmitter` |
//!
//! Server-side event `ping` (arg) is answered with `pong-rust:<arg>`.

use std::time::Duration;

use serde_json::{json, Value};
use server_adapter::socketio::{AckSender, Args, Data, SocketIo, SocketRef};
use server_adapter::Server;
use socketio_redis::{RedisAdapter, RedisAdapterConfig, RedisEmitter};

/// The cluster node's Socket.IO server on the Redis at `redis` (inside a tokio runtime).
pub(crate) fn cluster_node(redis: &str, config: RedisAdapterConfig) -> SocketIo {
    let adapter = RedisAdapter::new(redis, config).expect("a redis:// URL");
    let io = SocketIo::builder().adapter(adapter).build();
    let i = io.clone();
    io.on_server_side_emit("ping", |args, ack| {
        if let Some(ack) = ack {
            let arg = args.first().and_then(Value::as_str).unwrap_or_default();
            ack.send(json!(format!("pong-rust:{arg}")));
        }
    });
    let url = redis.to_owned();
    io.of("/").on_connection(move |socket: SocketRef| {
        let io = i.clone();
        let url = url.clone();
        async move {
            let auth: Value = socket.handshake().auth().unwrap_or(Value::Null);
            socket.set_shared_data(json!({"name": auth["name"]}));
            handlers(&socket, &io);
            // Publishes through a RedisEmitter, as a process serving no clients would.
            socket.on(
                "rust-emitter",
                move |Data(room): Data<String>, ack: AckSender| {
                    let url = url.clone();
                    async move {
                        let emitter = RedisEmitter::connect(&url).await.unwrap();
                        emitter
                            .to(room)
                            .emit("from-rust-emitter", &json!({"n": 2}))
                            .await
                            .unwrap();
                        let _ = ack.send(&true);
                    }
                },
            );
        }
    });
    io
}

fn handlers(socket: &SocketRef, io: &SocketIo) {
    socket.on(
        "join",
        |s: SocketRef, Data(room): Data<String>, ack: AckSender| async move {
            s.join(room);
            let _ = ack.send(&"joined");
        },
    );
    let i = io.clone();
    socket.on(
        "join-other",
        move |Args((sid, room)): Args<(String, String)>, ack: AckSender| {
            let io = i.clone();
            async move {
                io.to(sid).sockets_join(room);
                let _ = ack.send(&true);
            }
        },
    );
    let i = io.clone();
    socket.on(
        "leave-other",
        move |Args((sid, room)): Args<(String, String)>, ack: AckSender| {
            let io = i.clone();
            async move {
                io.to(sid).sockets_leave(room);
                let _ = ack.send(&true);
            }
        },
    );
    let i = io.clone();
    socket.on(
        "disconnect-other",
        move |Data(sid): Data<String>, ack: AckSender| {
            let io = i.clone();
            async move {
                io.to(sid).disconnect_sockets(false);
                let _ = ack.send(&true);
            }
        },
    );
    socket.on(
        "cast",
        |s: SocketRef, Args((room, text)): Args<(String, String)>, ack: AckSender| async move {
            let _ = s.nsp().to(room).emit("hello", &text);
            let _ = ack.send(&true);
        },
    );
    socket.on(
        "cast-except",
        |s: SocketRef,
         Args((room, except, text)): Args<(String, String, String)>,
         ack: AckSender| async move {
            let _ = s.to(room).except(except).emit("hello", &text);
            let _ = ack.send(&true);
        },
    );
    let i = io.clone();
    socket.on("rust-fetch", move |Data(room): Data<String>, ack: AckSender| {
        let io = i.clone();
        async move {
            let list: Vec<Value> = match io.to(room).fetch_sockets().await {
                Ok(list) => list
                    .iter()
                    .map(|s| json!({"id": s.id(), "rooms": s.rooms(), "data": s.data(), "handshake": s.handshake()}))
                    .collect(),
                Err(e) => vec![json!(e.to_string())],
            };
            let _ = ack.send(&list);
        }
    });
    let i = io.clone();
    socket.on(
        "rust-sse",
        move |Data(arg): Data<String>, ack: AckSender| {
            let io = i.clone();
            async move {
                let answers = io
                    .server_side_emit_with_ack("ping", &[json!(arg)])
                    .await
                    .unwrap_or_else(|e| vec![json!(e.to_string())]);
                let _ = ack.send(&answers);
            }
        },
    );
    let i = io.clone();
    socket.on(
        "rust-acks",
        move |Data(room): Data<String>, ack: AckSender| {
            let io = i.clone();
            async move {
                let acks = io
                    .to(room)
                    .timeout(Duration::from_secs(3))
                    .emit_with_ack_cluster::<_, String>("poll", &"q")
                    .await
                    .unwrap();
                let _ = ack.send(&acks.answers());
            }
        },
    );
    let i = io.clone();
    socket.on(
        "rust-acks-all",
        move |Data(ms): Data<u64>, ack: AckSender| {
            let io = i.clone();
            async move {
                let acks = io
                    .of("/")
                    .broadcast()
                    .timeout(Duration::from_millis(ms))
                    .emit_with_ack_cluster::<_, String>("poll", &"q")
                    .await
                    .unwrap();
                let complete = acks.complete;
                let count = acks.answers().len();
                let _ = ack.send(&json!({"count": count, "complete": complete}));
            }
        },
    );
    let i = io.clone();
    socket.on("rust-rooms", move |ack: AckSender| {
        let io = i.clone();
        async move {
            let rooms = io.all_rooms().await.unwrap_or_default();
            let _ = ack.send(&rooms);
        }
    });
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let redis = std::env::var("REDIS_URL")
        .map_err(|_| std::io::Error::other("REDIS_URL=redis://host:port is needed"))?;
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| std::io::Error::other(format!("PORT={p} is not a port number")))?,
        Err(_) => 0,
    };
    let io = cluster_node(&redis, RedisAdapterConfig::default());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "cluster_node listening on http://{}",
        listener.local_addr()?
    );
    Server::new().mount(io).serve(listener).await
}
