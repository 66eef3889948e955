//! The official `socket.io-client` 4.8 against the real Socket.IO server over
//! loopback: each feature of the server API over WebSocket, over polling and
//! with the upgrade; the connect timeout; volatile emits; 200 clients in 10
//! rooms; reconnection after a restart. The scenarios are in
//! `tests/node/socketio-client.js`; the server and what it records are in
//! [`server`]. Each test starts its own server on an ephemeral port, runs the
//! script, then checks what the server saw, waiting for it with bounded loops.

mod server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use server_adapter::socketio::{DisconnectReason, Parser, SocketIo, SocketIoBuilder};
use tokio::sync::mpsc;

use super::node::run_script;
use super::{Stack, WAIT};
use server::{build, serve, wait_until, Observed};

/// The scenarios run on every transport.
const CORE: [&str; 10] = [
    "namespaces",
    "handshake",
    "middleware",
    "events",
    "binary",
    "payloads",
    "acks",
    "rooms",
    "ordering",
    "disconnects",
];

/// How long one run of the script may take.
const SCRIPT_LIMIT: Duration = Duration::from_secs(120);

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Runs the scenarios against `addr` and checks each printed `ok`.
async fn run(addr: SocketAddr, scenarios: &[String]) -> String {
    run_with(Parser::Default, addr, scenarios).await
}

/// [`run`], the clients built with `parser`.
async fn run_with(parser: Parser, addr: SocketAddr, scenarios: &[String]) -> String {
    let mut args = Vec::new();
    if parser != Parser::Default {
        args.push("--parser=msgpack".to_owned());
    }
    args.push(format!("http://{addr}"));
    args.extend(scenarios.iter().cloned());
    let out = run_script("socketio-client.js", &args, SCRIPT_LIMIT).await;
    // Shown with the test's output when it fails (or with `--nocapture`).
    println!("{out}");
    for name in scenarios {
        let label = if name.contains('@') {
            name.clone()
        } else {
            format!("{name}@websocket")
        };
        assert!(
            out.lines().any(|l| l.starts_with(&format!("ok {label} "))),
            "{label} did not pass:\n{out}"
        );
    }
    out
}

/// Waits until every socket tagged `tag` that joined has left, and returns
/// the reasons by namespace.
async fn reasons(
    observed: &Observed,
    tag: &str,
    sockets: usize,
) -> Vec<(String, DisconnectReason)> {
    wait_until(&format!("{sockets} sockets tagged {tag} to leave"), || {
        observed.left_with(tag).len() >= sockets
    })
    .await;
    let mut out: Vec<(String, DisconnectReason)> = observed
        .left_with(tag)
        .into_iter()
        .map(|l| (l.namespace, l.reason))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The core scenarios on one transport, then what the server saw.
async fn core_on(stack: Stack, transport: &str) {
    core_with(stack, Parser::Default, transport).await;
}

/// [`core_on`], server and clients using `parser`.
async fn core_with(stack: Stack, parser: Parser, transport: &str) {
    let observed = Arc::new(Observed::default());
    let builder = SocketIo::builder()
        .ping_interval(Duration::from_millis(500))
        // Long enough that a pong late on a loaded machine is not a ping timeout (the
        // disconnect-reason scenarios expect theirs exactly); the ping-timeout scenario
        // waits for it.
        .ping_timeout(Duration::from_secs(3))
        .parser(parser);
    let io = build(builder, observed.clone(), None);
    let running = serve(stack, io.clone(), loopback()).await;
    let scenarios: Vec<String> = CORE.iter().map(|s| format!("{s}@{transport}")).collect();
    run_with(parser, running.addr, &scenarios).await;

    // The handshake as handlers saw it, in both namespaces.
    let first = if transport == "websocket" {
        "websocket"
    } else {
        "polling"
    };
    let handshake = observed.joined_with("handshake");
    assert_eq!(handshake.len(), 2, "{handshake:?}");
    for j in &handshake {
        assert!(j.address.is_some_and(|a| a.ip().is_loopback()), "{j:?}");
        assert_eq!(j.header.as_deref(), Some("header-value"), "{j:?}");
        assert_eq!(j.query.as_deref(), Some("query value é"), "{j:?}");
        assert_eq!(j.transport, first, "{j:?}");
    }
    assert_ne!(handshake[0].id, handshake[1].id);

    // Namespaces: the refused ones never joined.
    let mut joined: Vec<String> = observed
        .joined_with("namespaces")
        .into_iter()
        .map(|j| j.namespace)
        .collect();
    joined.sort();
    assert_eq!(joined, ["/", "/admin", "/dyn-7", "/dyn-8"]);
    let mut joined: Vec<String> = observed
        .joined_with("middleware")
        .into_iter()
        .map(|j| j.namespace)
        .collect();
    joined.sort();
    assert_eq!(joined, ["/", "/secure"], "only the admitted attempt joined");

    // The order the handlers ran in.
    let sequences = observed.sequences.lock().unwrap().clone();
    let expected: Vec<u32> = (0..300).collect();
    assert_eq!(sequences, [("ordering".to_owned(), expected)]);

    // What the server's emits with ack got.
    let asked: Vec<String> = observed
        .asked
        .lock()
        .unwrap()
        .iter()
        .filter(|(tag, _)| tag == "acks")
        .map(|(_, outcome)| outcome.to_string())
        .collect();
    assert_eq!(
        asked,
        [
            r#"{"ok":{"answer":42}}"#,
            r#"{"err":"timeout"}"#,
            r#"{"err":"timeout"}"#
        ]
    );

    // Disconnect reasons, each scenario on `/` and `/admin`.
    use DisconnectReason::*;
    let both = |reason| vec![("/".to_owned(), reason), ("/admin".to_owned(), reason)];
    let kick = reasons(&observed, "kick", 2).await;
    assert_eq!(kick[0], ("/".to_owned(), ServerNamespaceDisconnect));
    assert_eq!(
        reasons(&observed, "close-all", 2).await,
        both(ServerNamespaceDisconnect)
    );
    assert_eq!(
        reasons(&observed, "client-leave", 2).await,
        both(ClientNamespaceDisconnect)
    );
    assert_eq!(
        reasons(&observed, "client-close", 2).await,
        both(TransportClose)
    );
    assert_eq!(reasons(&observed, "parse-error", 2).await, both(ParseError));
    assert_eq!(
        reasons(&observed, "ping-timeout", 2).await,
        both(PingTimeout)
    );
    assert_eq!(
        reasons(&observed, "transport-error", 2).await,
        both(TransportError)
    );
    let namespaces = reasons(&observed, "namespaces", 4).await;
    assert!(
        namespaces.contains(&("/admin".to_owned(), ClientNamespaceDisconnect)),
        "{namespaces:?}"
    );

    // Every client left: no socket, room or connection remains.
    wait_until("every connection to close", || {
        io.connections() == 0
            && io.sockets().is_empty()
            && io.of("/admin").sockets().is_empty()
            && io.to("r1").sockets().is_empty()
            && io.to("ack-room").sockets().is_empty()
    })
    .await;
    running.shutdown.shutdown(Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feature_over_websocket() {
    core_on(Stack::Native, "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feature_over_websocket_through_axum() {
    core_on(Stack::Axum, "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feature_over_polling() {
    core_on(Stack::Native, "polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feature_over_polling_through_axum() {
    core_on(Stack::Axum, "polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feature_with_the_upgrade() {
    core_on(Stack::Native, "upgrade").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feature_with_the_upgrade_through_axum() {
    core_on(Stack::Axum, "upgrade").await;
}

/// Every feature again with the official `socket.io-msgpack-parser` on both sides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feature_with_the_msgpack_parser_over_websocket() {
    core_with(Stack::Native, Parser::MsgPack, "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feature_with_the_msgpack_parser_over_polling() {
    core_with(Stack::Native, Parser::MsgPack, "polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feature_with_the_msgpack_parser_and_the_upgrade() {
    core_with(Stack::Native, Parser::MsgPack, "upgrade").await;
}

/// Bare hyper with the engine as its service (`io.service()`), as `examples/hyper_echo.rs`:
/// polling, and the upgrade to a WebSocket hyper hands over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feature_with_the_upgrade_through_hyper() {
    core_on(Stack::Hyper, "upgrade").await;
}

/// A connection that joins no namespace in time is closed; one that does stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connect_timeout_closes_idle_connections() {
    connect_timeout_on(Stack::Native).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connect_timeout_closes_idle_connections_through_axum() {
    connect_timeout_on(Stack::Axum).await;
}

async fn connect_timeout_on(stack: Stack) {
    let observed = Arc::new(Observed::default());
    let builder = SocketIo::builder().connect_timeout(Duration::from_millis(500));
    let io = build(builder, observed.clone(), None);
    let running = serve(stack, io.clone(), loopback()).await;
    let out = run(running.addr, &["connect-timeout".to_owned()]).await;
    assert_eq!(observed.joined.lock().unwrap().len(), 1, "{out}");
    wait_until("every connection to close", || io.connections() == 0).await;
    running.shutdown.shutdown(Duration::from_secs(1));
}

/// Volatile emits, and 200 clients in 10 rooms with exact deliveries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volatile_emits_and_two_hundred_clients_in_ten_rooms() {
    volatile_and_crowd_on(Stack::Native).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volatile_emits_and_two_hundred_clients_in_ten_rooms_through_axum() {
    volatile_and_crowd_on(Stack::Axum).await;
}

async fn volatile_and_crowd_on(stack: Stack) {
    let observed = Arc::new(Observed::default());
    let io = build(SocketIo::builder(), observed.clone(), None);
    let running = serve(stack, io.clone(), loopback()).await;
    run(running.addr, &["volatile".to_owned(), "crowd".to_owned()]).await;
    assert_eq!(observed.joined_with("crowd").len(), 200);
    let left = reasons(&observed, "crowd", 200).await;
    assert!(
        left.iter()
            .all(|(_, r)| *r == DisconnectReason::ClientNamespaceDisconnect),
        "{left:?}"
    );
    wait_until("every room to empty", || {
        io.sockets().is_empty()
            && (0..10).all(|r| io.to(format!("room-{r}")).sockets().is_empty())
            && io.to("parity-0").sockets().is_empty()
            && io.to("parity-1").sockets().is_empty()
    })
    .await;
    running.shutdown.shutdown(Duration::from_secs(1));
}

fn restart_builder() -> SocketIoBuilder {
    SocketIo::builder()
}

/// Graceful shutdown tells every socket why and lets `serve` return; a new
/// server on the same port gets the clients back without their help.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_reconnect_by_themselves_after_a_restart() {
    restart_on(Stack::Native).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_reconnect_by_themselves_after_a_restart_through_axum() {
    restart_on(Stack::Axum).await;
}

async fn restart_on(stack: Stack) {
    let (ask, mut asked) = mpsc::unbounded_channel();
    let before = Arc::new(Observed::default());
    let first = serve(
        stack,
        build(restart_builder(), before.clone(), Some(ask)),
        loopback(),
    )
    .await;
    let addr = first.addr;
    let script = tokio::spawn(async move { run(addr, &["restart".to_owned()]).await });

    tokio::time::timeout(SCRIPT_LIMIT, asked.recv())
        .await
        .expect("a client asks for the restart")
        .expect("the server holds the sender");
    first.shutdown.shutdown(Duration::from_secs(5));
    tokio::time::timeout(WAIT, first.task)
        .await
        .expect("serve returns after the shutdown")
        .expect("the server task ran")
        .expect("serve ended without an error");
    let tags = ["restart-websocket", "restart-polling", "restart-upgrade"];
    for tag in tags {
        assert_eq!(
            reasons(&before, tag, 1).await,
            [("/".to_owned(), DisconnectReason::ServerShuttingDown)],
            "{tag}"
        );
    }
    let joined_before = before.joined.lock().unwrap().len();

    let after = Arc::new(Observed::default());
    let second = serve(stack, build(restart_builder(), after.clone(), None), addr).await;
    tokio::time::timeout(SCRIPT_LIMIT, script)
        .await
        .expect("the script ends")
        .expect("the script passed");
    for tag in tags {
        assert_eq!(
            after.joined_with(tag).len(),
            1,
            "{tag} joined the new server"
        );
    }
    assert_eq!(
        before.joined.lock().unwrap().len(),
        joined_before,
        "a client joined the stopped server"
    );
    second.shutdown.shutdown(Duration::from_secs(1));
}
