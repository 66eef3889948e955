//! Connection state recovery with the official `socket.io-client` 4.8
//! (`tests/node/recovery-client.js`): a client in a room drops (its engine closed
//! under it, or its TCP connection cut abruptly by a loopback proxy), misses text
//! and binary messages, and comes back with the same id, rooms and data, every
//! missed message once and in order before the new ones; over WebSocket, polling
//! and after the upgrade. A deliberate disconnect, an expired session and forged
//! pids give fresh sessions. The same with clients of the MessagePack parser.
//!
//! The proxy is what makes a network drop deterministic: the client's messages are
//! all acknowledged while it cannot come back, and the client's script tells the
//! server (its `net` event) when the network is up again.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use server_adapter::socketio::{
    AckSender, Args, Data, DisconnectReason, Parser, RecoveryConfig, SocketIo, SocketRef,
    Value as SioValue,
};
use server_adapter::Server;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::node::run_script;
use super::WAIT;

/// What the proxy does with connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Net {
    /// Forwards them.
    Up,
    /// Refuses new ones (accepted, then closed at once); existing ones go on.
    Refuse,
    /// Severs every existing one abruptly and refuses new ones.
    Cut,
}

/// A loopback TCP proxy to `target` that the server's handlers can cut.
async fn proxy(target: SocketAddr) -> (SocketAddr, watch::Sender<Net>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (net, state) = watch::channel(Net::Up);
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            if *state.borrow() != Net::Up {
                abort(&inbound);
                continue;
            }
            let mut state = state.clone();
            tokio::spawn(async move {
                let Ok(mut outbound) = TcpStream::connect(target).await else {
                    return;
                };
                let _ = inbound.set_nodelay(true);
                let _ = outbound.set_nodelay(true);
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                    _ = state.wait_for(|n| *n == Net::Cut) => {
                        // A network drop: both ends reset, nothing more delivered.
                        abort(&inbound);
                        abort(&outbound);
                    }
                }
            });
        }
    });
    (addr, net)
}

/// Makes dropping `stream` reset the connection rather than close it in order.
fn abort(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
}

/// The sockets that left, by id.
type Left = Arc<Mutex<Vec<String>>>;

/// The test server: `join`, `set-data`, `say` (to a room, acknowledged once
/// broadcast), `whoami`, `net` (the proxy), `gone` (waits until a socket has left),
/// `expire` (waits until a socket that left is past the duration) and `shutdown`
/// (closes every connection, reason `server shutting down`).
fn server(
    config: RecoveryConfig,
    parser: Parser,
    net: Arc<Mutex<Option<watch::Sender<Net>>>>,
) -> SocketIo {
    let io = SocketIo::builder()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_secs(2))
        .parser(parser)
        .connection_state_recovery(config)
        .build();
    let left: Left = Arc::default();
    let duration = config.max_disconnection_duration;
    // For `shutdown`; the handlers hold the server they belong to (a test leaks it).
    let server = io.clone();
    io.of("/").on_connection(move |socket: SocketRef| {
        let net = net.clone();
        let left = left.clone();
        let server = server.clone();
        async move {
            // Closes every connection as a server shutting down does; clients reconnect.
            socket.on("shutdown", move |ack: AckSender| {
                let server = server.clone();
                async move {
                    let _ = ack.send(&());
                    tokio::spawn(async move { server.close().await });
                }
            });
            socket.on("join", |socket: SocketRef, Data(room): Data<String>, ack: AckSender| async move {
                socket.join(room);
                let _ = ack.send(&());
            });
            socket.on("set-data", |socket: SocketRef, Data(data): Data<serde_json::Value>, ack: AckSender| async move {
                socket.set_shared_data(data);
                let _ = ack.send(&());
            });
            socket.on(
                "say",
                |socket: SocketRef, Args((room, payload)): Args<(String, SioValue)>, ack: AckSender| async move {
                    let _ = socket.nsp().to(room).emit("said", &payload);
                    let _ = ack.send(&());
                },
            );
            socket.on("whoami", |socket: SocketRef, ack: AckSender| async move {
                let me = json!({
                    "id": socket.id().as_str(),
                    "rooms": socket.rooms(),
                    "recovered": socket.recovered(),
                    "data": socket.shared_data(),
                });
                let _ = ack.send(&me);
            });
            socket.on("net", move |Data(state): Data<String>, ack: AckSender| {
                let net = net.clone();
                async move {
                    let state = match state.as_str() {
                        "cut" => Net::Cut,
                        "refuse" => Net::Refuse,
                        _ => Net::Up,
                    };
                    if let Some(net) = &*net.lock().unwrap() {
                        net.send_replace(state);
                    }
                    let _ = ack.send(&());
                }
            });
            // `gone`: answers once the socket `id` has left (and was kept, which happens
            // before its disconnect handler runs) since it was last asked. `expire`: then waits until the
            // duration has passed since.
            for (event, wait) in [("gone", Duration::ZERO), ("expire", duration)] {
                let seen = left.clone();
                socket.on(event, move |Data(id): Data<String>, ack: AckSender| {
                    let seen = seen.clone();
                    async move {
                        let step = Duration::from_millis(10);
                        let mut waited = Duration::ZERO;
                        // Each departure answers one question: a client dropped twice
                        // is asked about twice.
                        loop {
                            {
                                let mut seen = seen.lock().unwrap();
                                if let Some(at) = seen.iter().position(|left| *left == id) {
                                    seen.remove(at);
                                    break;
                                }
                            }
                            assert!(waited < WAIT, "{id} never left");
                            tokio::time::sleep(step).await;
                            waited += step;
                        }
                        if !wait.is_zero() {
                            tokio::time::sleep(wait + Duration::from_millis(50)).await;
                        }
                        let _ = ack.send(&());
                    }
                });
            }
            socket.on_disconnect(move |socket: SocketRef, _: DisconnectReason| {
                let left = left.clone();
                async move { left.lock().unwrap().push(socket.id().to_string()) }
            });
        }
    });
    io
}

/// Runs the scenarios against a server with `config`; each must print `ok`.
async fn run(config: RecoveryConfig, scenarios: &[&str]) {
    run_with(config, Parser::Default, scenarios).await;
}

/// [`run`], server and clients speaking `parser`.
async fn run_with(config: RecoveryConfig, parser: Parser, scenarios: &[&str]) {
    let net = Arc::new(Mutex::new(None));
    let io = server(config, parser, net.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let direct = listener.local_addr().unwrap();
    let server = Server::new().mount(io);
    let stop = server.shutdown_handle();
    let task = tokio::spawn(server.serve(listener));
    let (proxied, control) = proxy(direct).await;
    *net.lock().unwrap() = Some(control);

    let mut args = Vec::new();
    if parser != Parser::Default {
        args.push("--parser=msgpack".to_owned());
    }
    args.extend([format!("http://{direct}"), format!("http://{proxied}")]);
    args.extend(scenarios.iter().map(|s| s.to_string()));
    let out = run_script("recovery-client.js", &args, Duration::from_secs(90)).await;
    println!("{out}");
    for name in scenarios {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("ok {name} "))),
            "{name} did not pass:\n{out}"
        );
    }
    stop.shutdown(Duration::from_secs(1));
    let _ = tokio::time::timeout(WAIT, task).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_client_comes_back_with_its_id_rooms_data_and_missed_messages() {
    run(
        RecoveryConfig::default(),
        &[
            "recover-websocket",
            "recover-cut",
            "recover-upgrade",
            "recover-polling",
            "recover-shutdown",
            "deliberate",
            "forged",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_duration_a_client_gets_a_fresh_session() {
    let config = RecoveryConfig {
        max_disconnection_duration: Duration::from_millis(300),
        ..RecoveryConfig::default()
    };
    run(config, &["expired"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_works_the_same_with_the_msgpack_parser() {
    run_with(
        RecoveryConfig::default(),
        Parser::MsgPack,
        &["recover-cut", "recover-upgrade"],
    )
    .await;
}
