//! The chat example (`examples/chat.rs`), compiled into this test binary and
//! run in-process: its page and client bundle over HTTP, and its protocol
//! driven by the official `socket.io-client` over each transport (see
//! `tests/node/chat-client.js`). The browser test is in `chat_browser.rs`.
//!
//! Each test runs against both chat servers: `examples/chat.rs` (this crate's HTTP server)
//! and `examples/axum_chat.rs` (the same Socket.IO server as a layer of an axum `Router`,
//! which also answers `GET /health`).

use std::net::SocketAddr;
use std::time::Duration;

use server_adapter::socketio::Parser;

use super::node::{run_python, run_script};
use super::{Client, Stack};

// The two examples and the test each load the chat's shared module: one copy each.
#[path = "../../examples/chat.rs"]
#[allow(dead_code, unreachable_pub, clippy::duplicate_mod)]
mod example;

#[path = "../../examples/axum_chat.rs"]
#[allow(dead_code, unreachable_pub, clippy::duplicate_mod)]
mod axum_example;

#[path = "../../examples/chat/app.rs"]
#[allow(dead_code, unreachable_pub, clippy::duplicate_mod)]
mod app;

/// Starts the chat server of `stack` on an ephemeral port of 127.0.0.1.
pub(crate) async fn start_chat(stack: Stack) -> SocketAddr {
    start_chat_with(stack, Parser::Default).await
}

/// Starts the chat server of `stack` speaking `parser`.
async fn start_chat_with(stack: Stack, parser: Parser) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    match stack {
        Stack::Native => {
            tokio::spawn(example::chat(parser).serve(listener));
        }
        Stack::Axum => {
            let io = app::socket_io(parser);
            let router = axum_example::chat(&io);
            super::serve_axum(listener, router, move |grace| async move {
                io.shutdown(grace).await
            });
        }
        Stack::Hyper => panic!("the chat is served natively or through axum"),
    }
    addr
}

async fn get(addr: SocketAddr, path: &str) -> super::Answer {
    let mut client = Client::connect(addr).await;
    client
        .send(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await;
    client.response().await.expect("an answer")
}

#[tokio::test]
async fn the_page_and_the_official_browser_client_are_served() {
    page_and_client_on(Stack::Native).await;
}

#[tokio::test]
async fn the_page_and_the_official_browser_client_are_served_through_axum() {
    page_and_client_on(Stack::Axum).await;
}

async fn page_and_client_on(stack: Stack) {
    let addr = start_chat(stack).await;

    let page = get(addr, "/").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = String::from_utf8(page.body).unwrap();
    assert!(
        html.contains(r#"<script src="/socket.io.min.js"></script>"#),
        "{html}"
    );

    let client = get(addr, "/socket.io.min.js").await;
    assert_eq!(
        client.status, 200,
        "the browser client is not installed: run `npm ci --prefix examples/chat` \
         (or `npm ci --prefix tests/node`, as the test command does)"
    );
    assert_eq!(
        client.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    let js = String::from_utf8(client.body).unwrap();
    assert!(
        js.starts_with("/*!\n * Socket.IO v4."),
        "not the official client bundle: {}",
        &js[..js.len().min(80)]
    );

    assert_eq!(get(addr, "/nothing-here").await.status, 404);
}

async fn chat_protocol_over(stack: Stack, transport: &str) {
    chat_protocol_with(stack, Parser::Default, transport).await;
}

async fn chat_protocol_with(stack: Stack, parser: Parser, transport: &str) {
    let addr = start_chat_with(stack, parser).await;
    let scenarios = ["join", "rooms", "ack"];
    let mut args = Vec::new();
    if parser != Parser::Default {
        args.push("--parser=msgpack".to_owned());
    }
    args.extend([format!("http://{addr}"), transport.to_owned()]);
    args.extend(scenarios.iter().map(|s| s.to_string()));
    let script = run_script("chat-client.js", &args, Duration::from_secs(60));
    let out = if stack == Stack::Axum {
        // The application's own route answers while clients chat.
        let health = async {
            for _ in 0..20 {
                let answer = get(addr, "/health").await;
                assert_eq!((answer.status, &answer.body[..]), (200, &b"ok"[..]));
                tokio::task::yield_now().await;
            }
        };
        tokio::join!(script, health).0
    } else {
        script.await
    };
    for name in scenarios {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("ok {name} {transport}"))),
            "{name} over {transport} did not pass:\n{out}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_protocol_over_polling() {
    chat_protocol_over(Stack::Native, "polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_protocol_over_polling_through_axum() {
    chat_protocol_over(Stack::Axum, "polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_protocol_over_websocket() {
    chat_protocol_over(Stack::Native, "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_protocol_over_websocket_through_axum() {
    chat_protocol_over(Stack::Axum, "websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_protocol_over_polling_upgraded_to_websocket() {
    chat_protocol_over(Stack::Native, "upgrade").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_protocol_over_polling_upgraded_to_websocket_through_axum() {
    chat_protocol_over(Stack::Axum, "upgrade").await;
}

/// The same with the official `socket.io-msgpack-parser` on both sides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_protocol_with_the_msgpack_parser() {
    for transport in ["polling", "websocket", "upgrade"] {
        chat_protocol_with(Stack::Native, Parser::MsgPack, transport).await;
    }
}

/// With the msgpack parser the page gets the client bundle built with that parser.
#[tokio::test]
async fn the_msgpack_chat_serves_the_msgpack_browser_client() {
    let addr = start_chat_with(Stack::Native, Parser::MsgPack).await;
    let client = get(addr, "/socket.io.min.js").await;
    assert_eq!(client.status, 200);
    let js = String::from_utf8(client.body).unwrap();
    assert!(
        js.contains("msgpack") || js.contains("notepack"),
        "{}",
        &js[..js.len().min(200)]
    );
    let default = get(start_chat(Stack::Native).await, "/socket.io.min.js").await;
    assert_ne!(
        js.len(),
        default.body.len(),
        "the same bundle for both parsers"
    );
}

/// python-socketio sends binary nested in objects through `ping-ack` and gets the same bytes
/// back at the same places, keys in their order.
async fn python_ping_ack_over(transport: &str) {
    let addr = start_chat(Stack::Native).await;
    let args = [format!("http://{addr}"), transport.to_owned()];
    let out = run_python("chat_ping_ack.py", &args, Duration::from_secs(60)).await;
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("ok ping-ack {transport} "))),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_gets_nested_binary_back_over_polling() {
    python_ping_ack_over("polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_gets_nested_binary_back_over_websocket() {
    python_ping_ack_over("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_gets_nested_binary_back_with_the_upgrade() {
    python_ping_ack_over("upgrade").await;
}

#[tokio::test]
async fn the_metrics_are_served_in_the_prometheus_format() {
    metrics_on(Stack::Native).await;
}

#[tokio::test]
async fn the_metrics_are_served_in_the_prometheus_format_through_axum() {
    metrics_on(Stack::Axum).await;
}

/// `GET /metrics` answers the server's counts as Prometheus text: before any client, and
/// with one socket joined over long-polling (a CONNECT each way).
async fn metrics_on(stack: Stack) {
    let addr = start_chat(stack).await;

    let idle = get(addr, "/metrics").await;
    assert_eq!(idle.status, 200);
    assert_eq!(
        idle.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = String::from_utf8(idle.body).unwrap();
    for line in [
        "# HELP socketio_connections Connections (Engine.IO sessions) open now, by transport.",
        "# TYPE socketio_connections gauge",
        "socketio_connections{transport=\"polling\"} 0",
        "socketio_connections{transport=\"websocket\"} 0",
        "# TYPE socketio_sockets gauge",
        "socketio_sockets{namespace=\"/\"} 0",
        "# TYPE socketio_messages_received_total counter",
        "socketio_messages_received_total 0",
        "# TYPE socketio_closes_total counter",
        "socketio_closes_total{reason=\"ping timeout\"} 0",
        "# TYPE socketio_disconnects_total counter",
        "socketio_disconnects_total{reason=\"client namespace disconnect\"} 0",
        "# TYPE socketio_refusals_total counter",
        "socketio_refusals_total{reason=\"middleware\"} 0",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    }

    let mut client = Client::connect(addr).await;
    super::socketio::connect(&mut client, &addr.to_string()).await;
    let text = String::from_utf8(get(addr, "/metrics").await.body).unwrap();
    for line in [
        "socketio_connections{transport=\"polling\"} 1",
        "socketio_connections_opened_total 1",
        "socketio_sockets{namespace=\"/\"} 1",
        "socketio_rooms{namespace=\"/\"} 0",
        // The CONNECT (`0` after the Engine.IO message type), and its answer.
        "socketio_messages_received_total 1",
        "socketio_messages_sent_total 1",
        "socketio_received_bytes_total 1",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    }
}

/// The rust blocks of README.md.
fn readme_blocks() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    readme
        .split("```rust\n")
        .skip(1)
        .filter_map(|block| block.split("\n```").next())
        .map(str::to_owned)
        .collect()
}

/// Checks that the README block holding `marker` is code of `file`, as it is.
fn shown_as_it_is(marker: &str, file: &str) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let example = std::fs::read_to_string(root.join(file)).unwrap();
    let shown = readme_blocks()
        .into_iter()
        .find(|code| code.contains(marker))
        .unwrap_or_else(|| panic!("a rust block in README.md with `{marker}`"));
    assert!(
        example.contains(&shown),
        "README.md shows code that is not in {file}:\n{shown}"
    );
}

/// The README shows the chat server's code: it must be the example's code, as it is.
#[test]
fn the_readme_shows_the_example_as_it_is() {
    shown_as_it_is("pub fn chat(parser: Parser) -> Server", "examples/chat.rs");
    shown_as_it_is(
        "pub(crate) fn socket_io(parser: Parser) -> SocketIo",
        "examples/chat/app.rs",
    );
}

/// The README's "Inside axum or hyper" shows the axum chat's code, as it is.
#[test]
fn the_readme_shows_the_axum_example_as_it_is() {
    shown_as_it_is(
        "pub fn chat<Io: UpgradedStream>(io: &SocketIo<Io>) -> Router",
        "examples/axum_chat.rs",
    );
}
