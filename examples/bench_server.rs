//! The Socket.IO server the side-by-side benchmarks measure (`scripts/bench-sio.sh`), on
//! 127.0.0.1 with the reference server's defaults. Its peers in the benchmark,
//! `benches/node/bench-server.js` (the official Node `socket.io`) and
//! `benches/peers/socketioxide-server/` (the `socketioxide` crate), have the same handlers:
//!
//! | event | what the server does |
//! |---|---|
//! | `echo` | emits `echo` back to the sender with the same arguments |
//! | `echo-ack` | answers the acknowledgement with the same arguments |
//! | `join` | joins the room named by the first argument |
//! | `broadcast` | `{room, data}`: emits `broadcast` with `data` to everyone in `room`, the sender included |
//!
//! `GET /metrics` answers the server's counts in the Prometheus text format (the soaks of
//! `scripts/soak.sh` read its session count there).
//!
//! ```sh
//! PORT=3000 cargo run --release --example bench_server    # PORT=0 (the default) picks a free port
//! REDIS_URL=redis://127.0.0.1:6379 cargo run --release --example bench_server   # with the Redis adapter
//! ```
//!
//! It prints `bench_server listening on http://127.0.0.1:<port>/socket.io/` once it accepts.
//! With `STACK=axum` the same server is served by axum (`axum::serve` on an `ArrivalListener`,
//! the Socket.IO server as the layer of a `Router`), the benchmark's `ours-axum`; with
//! `RECOVERY=1`, connection state recovery is on (the reference defaults), the benchmark's
//! `ours-recovery`. `PING_INTERVAL_MS` and `PING_TIMEOUT_MS` set the heartbeat (the soaks
//! shorten it, so that abandoned long-polling sessions time out sooner).
//! Arguments are echoed as received ([`RawArgs`]): nothing is parsed that the handler does not
//! read, as an application that forwards data would do.

use serde::Deserialize;
use server_adapter::socketio::{AckSender, Data, RawArgs, RecoveryConfig, SocketIo, SocketRef};
use server_adapter::Server;

/// The argument of a `broadcast` event.
#[derive(Deserialize)]
struct Broadcast {
    room: String,
    data: serde_json::Value,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| std::io::Error::other(format!("PORT={p} is not a port number")))?,
        Err(_) => 0,
    };
    let mut builder = SocketIo::builder();
    // With REDIS_URL, one of several servers sharing rooms through Redis (the cross-node
    // fan-out scenario of scripts/bench-sio.sh).
    if let Ok(url) = std::env::var("REDIS_URL") {
        let adapter = socketio_redis::RedisAdapter::new(&url, Default::default())
            .map_err(|e| std::io::Error::other(format!("REDIS_URL={url}: {e}")))?;
        builder = builder.adapter(adapter);
    }
    // The heartbeat, for the soaks (scripts/soak.sh): sessions abandoned over long-polling
    // last ping interval + ping timeout, 45 s with the defaults kept otherwise.
    let millis = |name: &str| -> std::io::Result<Option<std::time::Duration>> {
        match std::env::var(name) {
            Ok(v) => v
                .parse()
                .map(|ms| Some(std::time::Duration::from_millis(ms)))
                .map_err(|_| std::io::Error::other(format!("{name}={v} is not milliseconds"))),
            Err(_) => Ok(None),
        }
    };
    if let Some(interval) = millis("PING_INTERVAL_MS")? {
        builder = builder.ping_interval(interval);
    }
    if let Some(timeout) = millis("PING_TIMEOUT_MS")? {
        builder = builder.ping_timeout(timeout);
    }
    if std::env::var_os("RECOVERY").is_some_and(|v| v == "1") {
        builder = builder.connection_state_recovery(RecoveryConfig::default());
    }
    let io = builder.build();
    let handle = io.clone();
    io.of("/").on_connection(move |socket: SocketRef| {
        let io = handle.clone();
        async move {
            socket.on("echo", |socket: SocketRef, args: RawArgs| async move {
                let _ = socket.emit_raw("echo", &args);
            });
            socket.on("echo-ack", |args: RawArgs, ack: AckSender| async move {
                let _ = ack.send_raw(&args);
            });
            socket.on(
                "join",
                |socket: SocketRef, Data(room): Data<String>| async move {
                    socket.join(room);
                },
            );
            socket.on("broadcast", move |Data(msg): Data<Broadcast>| {
                let io = io.clone();
                async move {
                    let _ = io.to(msg.room).emit("broadcast", &msg.data);
                }
            });
        }
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "bench_server listening on http://{}/socket.io/",
        listener.local_addr()?
    );
    match std::env::var("STACK").as_deref() {
        Ok("axum") => {
            // On the listener the crate gives axum: requests taken in the order they arrived,
            // TCP_NODELAY set, each response written with one plain `send`.
            use server_adapter::tower::{ArrivalListener, Peer};
            let counted = io.clone();
            let metrics = axum::routing::get(move || async move {
                let content_type = server_adapter::metrics::PROMETHEUS_CONTENT_TYPE;
                (
                    [("content-type", content_type)],
                    counted.metrics().to_prometheus(),
                )
            });
            let app = axum::Router::new()
                .route("/metrics", metrics)
                .layer(io.layer());
            let service = app.into_make_service_with_connect_info::<Peer>();
            axum::serve(ArrivalListener::new(listener), service).await
        }
        _ => {
            let counted = io.clone();
            Server::new()
                .mount(io)
                .fallback(move |req: server_adapter::http::Request| {
                    std::future::ready(match req.head.path() {
                        "/metrics" => server_adapter::http::Response::new(200)
                            .header(
                                "Content-Type",
                                server_adapter::metrics::PROMETHEUS_CONTENT_TYPE,
                            )
                            .with_body(counted.metrics().to_prometheus()),
                        _ => server_adapter::http::Response::not_found(),
                    })
                })
                .serve(listener)
                .await
        }
    }
}
