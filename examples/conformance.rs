//! The server the Socket.IO and Engine.IO protocol test suites talk to, on one port:
//!
//! * under `/socket.io/`, a Socket.IO server (pingInterval 300 ms, pingTimeout
//!   200 ms, maxPayload 1 000 000, connect timeout 1000 ms, CORS for any
//!   origin): in namespace `/`, on connect it emits `auth` with the CONNECT
//!   payload (`{}` when there was none), answers `message` with
//!   `message-back` carrying the same arguments (binary kept), and answers
//!   `message-with-ack` by acknowledging with the same arguments; namespace
//!   `/custom` emits `auth` the same way; every other namespace is refused;
//! * under `/engine.io/`, the Engine.IO echo server (same timings).
//!
//! ```sh
//! PORT=3000 cargo run --example conformance      # PORT=0 picks a free port
//! STACK=axum cargo run --example conformance      # the same, served by axum
//! ```

use std::time::Duration;

use server_adapter::socketio::{AckSender, RawArgs, SocketIo, SocketRef};
use server_adapter::{EngineHandler, EngineIo, Server, SessionHandle};

/// Emits the CONNECT payload back as `auth`, without parsing it.
fn emit_auth(socket: &SocketRef) {
    let auth = socket.handshake().auth_json().to_vec();
    match serde_json::from_slice::<serde_json::Value>(&auth) {
        Ok(value) => {
            let _ = socket.emit("auth", &value);
        }
        Err(e) => eprintln!("conformance: unreadable auth payload: {e}"),
    }
}

struct Echo;

impl EngineHandler for Echo {
    fn on_message(&self, session: &SessionHandle, message: engineio::Message) {
        let _ = session.send(message);
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| std::io::Error::other(format!("PORT={p} is not a port number")))?,
        Err(_) => 3000,
    };
    let ping_interval = Duration::from_millis(300);
    let ping_timeout = Duration::from_millis(200);

    let io = SocketIo::builder()
        .ping_interval(ping_interval)
        .ping_timeout(ping_timeout)
        .max_payload(1_000_000)
        .connect_timeout(Duration::from_millis(1000))
        .cors(engineio::Cors::any_origin())
        .build();
    io.of("/").on_connection(|socket: SocketRef| async move {
        emit_auth(&socket);
        socket.on("message", |socket: SocketRef, args: RawArgs| async move {
            let _ = socket.emit_raw("message-back", &args);
        });
        socket.on(
            "message-with-ack",
            |args: RawArgs, ack: AckSender| async move {
                let _ = ack.send_raw(&args);
            },
        );
    });
    io.of("/custom")
        .on_connection(|socket: SocketRef| async move {
            emit_auth(&socket);
        });

    let engine = EngineIo::new(
        engineio::Config {
            ping_interval,
            ping_timeout,
            max_payload: 1_000_000,
            cors: Some(engineio::Cors::any_origin()),
            ..engineio::Config::default()
        },
        Echo,
    );

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("conformance listening on http://{}", listener.local_addr()?);
    match std::env::var("STACK").as_deref() {
        // The same two engines, as layers of an axum `Router` with no routes of its own, on a
        // listener that tells them when each request arrived (see `server_adapter::tower`).
        Ok("axum") => {
            use server_adapter::tower::{ArrivalListener, Peer};
            let router = axum::Router::new().layer(io.layer()).layer(engine.layer());
            let service = router.into_make_service_with_connect_info::<Peer>();
            axum::serve(ArrivalListener::new(listener), service).await
        }
        _ => Server::new().mount(io).mount(engine).serve(listener).await,
    }
}
