//! The chat example (`examples/chat.rs`), compiled into this test binary and
//! run in-process: its page and client bundle over HTTP, and its protocol
//! driven by the official `socket.io-client` over each transport (see
//! `tests/node/chat-client.js`). The browser test is in `chat_browser.rs`.

use std::net::SocketAddr;
use std::time::Duration;

use server_adapter::socketio::Parser;

use super::node::{run_python, run_script};
use super::Client;

#[path = "../../examples/chat.rs"]
#[allow(dead_code, unreachable_pub)]
mod example;

/// Starts the chat server on an ephemeral port of 127.0.0.1.
pub(crate) async fn start_chat() -> SocketAddr {
    start_chat_with(Parser::Default).await
}

/// Starts the chat server speaking `parser`.
async fn start_chat_with(parser: Parser) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(example::chat(parser).serve(listener));
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
    let addr = start_chat().await;

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

async fn chat_protocol_over(transport: &str) {
    chat_protocol_with(Parser::Default, transport).await;
}

async fn chat_protocol_with(parser: Parser, transport: &str) {
    let addr = start_chat_with(parser).await;
    let scenarios = ["join", "rooms", "ack"];
    let mut args = Vec::new();
    if parser != Parser::Default {
        args.push("--parser=msgpack".to_owned());
    }
    args.extend([format!("http://{addr}"), transport.to_owned()]);
    args.extend(scenarios.iter().map(|s| s.to_string()));
    let out = run_script("chat-client.js", &args, Duration::from_secs(60)).await;
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
    chat_protocol_over("polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_protocol_over_websocket() {
    chat_protocol_over("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_protocol_over_polling_upgraded_to_websocket() {
    chat_protocol_over("upgrade").await;
}

/// The same with the official `socket.io-msgpack-parser` on both sides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_protocol_with_the_msgpack_parser() {
    for transport in ["polling", "websocket", "upgrade"] {
        chat_protocol_with(Parser::MsgPack, transport).await;
    }
}

/// With `PARSER=msgpack` the page gets the client bundle built with that parser.
#[tokio::test]
async fn the_msgpack_chat_serves_the_msgpack_browser_client() {
    let addr = start_chat_with(Parser::MsgPack).await;
    let client = get(addr, "/socket.io.min.js").await;
    assert_eq!(client.status, 200);
    let js = String::from_utf8(client.body).unwrap();
    assert!(
        js.contains("msgpack") || js.contains("notepack"),
        "{}",
        &js[..js.len().min(200)]
    );
    let default =
        String::from_utf8(get(start_chat().await, "/socket.io.min.js").await.body).unwrap();
    assert_ne!(js.len(), default.len(), "the same bundle for both parsers");
}

/// python-socketio sends binary nested in objects through `ping-ack` and gets the same bytes
/// back at the same places, keys in their order.
async fn python_ping_ack_over(transport: &str) {
    let addr = start_chat().await;
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

/// The README shows the chat server's code: it must be the example's code, as it is.
#[test]
fn the_readme_shows_the_example_as_it_is() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let example = std::fs::read_to_string(root.join("examples/chat.rs")).unwrap();
    let shown = readme
        .split("```rust\n")
        .skip(1)
        .filter_map(|block| block.split("\n```").next())
        .find(|code| code.contains("pub fn chat(parser: Parser) -> Server"))
        .expect("a rust block in README.md with the chat server");
    assert!(
        example.contains(shown),
        "README.md shows chat server code that is not in examples/chat.rs:\n{shown}"
    );
}
