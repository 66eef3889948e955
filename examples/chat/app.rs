//! The chat's Socket.IO server and page, shared by the two chat servers: `examples/chat.rs`
//! (this crate's own HTTP server) and `examples/axum_chat.rs` (inside an axum application).
//! The handlers are the same code whichever server carries them.

use std::path::Path;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use server_adapter::metrics::PROMETHEUS_CONTENT_TYPE;
use server_adapter::socketio::{
    AckSender, Data, DisconnectReason, NamespaceRef, Parser, RecoveryConfig, SocketIo,
    SocketIoBuilder, SocketRef, Value,
};

/// The chat's Socket.IO server: its settings and the handlers of its namespace `/`.
pub(crate) fn socket_io(parser: Parser) -> SocketIo {
    let io = builder(parser).build();
    handlers(io.of("/"));
    io
}

/// The chat's settings: CORS allows any origin; packets in `parser`'s form; a page
/// that drops for a moment comes back with its rooms and the messages it missed; with
/// `REDIS_URL`, rooms shared with every chat server on that Redis.
pub(crate) fn builder(parser: Parser) -> SocketIoBuilder {
    with_redis(
        SocketIo::builder()
            .cors(engineio::Cors::any_origin())
            .parser(parser)
            .connection_state_recovery(RecoveryConfig::default()),
    )
}

/// The chat's handlers, on its namespace `/`.
pub(crate) fn handlers(root: NamespaceRef) {
    root.on_connection(|socket: SocketRef| async move {
        let how = if socket.recovered() {
            "reconnected"
        } else {
            "connected"
        };
        println!("{} {how}", socket.id());
        socket.on("join", join);
        socket.on("message", message);
        socket.on("ping-ack", ping_ack);
        socket.on_disconnect(disconnected);
    });
}

async fn join(socket: SocketRef, Data(room): Data<String>) {
    socket.join(room.clone());
    let _ = socket.emit("joined", &room);
}

#[derive(Deserialize)]
struct Message {
    room: String,
    text: String,
}

async fn message(socket: SocketRef, Data(msg): Data<Message>) {
    let said = json!({ "from": socket.id().as_str(), "text": msg.text });
    let _ = socket.nsp().to(msg.room).emit("message", &said);
}

/// Echoes anything a client sends, binary included, keys in their order.
async fn ping_ack(Data(msg): Data<Value>, ack: AckSender) {
    let _ = ack.send(&Value::object([("ok", true.into()), ("received", msg)]));
}

async fn disconnected(socket: SocketRef, reason: DisconnectReason) {
    println!("{} disconnected: {reason}", socket.id());
}

/// What `GET /metrics` answers: the server's counts in the Prometheus text format, and
/// its content type.
pub(crate) fn metrics<Io>(io: &SocketIo<Io>) -> (&'static str, String)
where
    Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    (PROMETHEUS_CONTENT_TYPE, io.metrics().to_prometheus())
}

/// The page: ours, built into the binary.
pub(crate) const PAGE: &str = include_str!("index.html");

/// Where the official browser client is looked for, from the repository's
/// root: where `./scripts/chat.sh` installs it, then where the tests do.
const BROWSER_CLIENT_DIRS: [&str; 2] = [
    "examples/chat/node_modules/socket.io-client/dist",
    "tests/node/node_modules/socket.io-client/dist",
];

/// Reads the official browser client once (the bundle built with `parser`);
/// empty (and said so) if it is not installed, in which case the page tells
/// how to install it.
pub(crate) fn browser_client(parser: Parser) -> Bytes {
    let bundle = if parser == Parser::Default {
        "socket.io.min.js"
    } else {
        "socket.io.msgpack.min.js"
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for dir in BROWSER_CLIENT_DIRS {
        if let Ok(js) = std::fs::read(root.join(dir).join(bundle)) {
            return Bytes::from(js);
        }
    }
    eprintln!(
        "chat: the browser client {bundle} is not installed; \
         run `npm ci --prefix examples/chat` (./scripts/chat.sh does)"
    );
    Bytes::new()
}

/// The parser named by `PARSER`: `msgpack` for the official
/// `socket.io-msgpack-parser`, unset or `default` for the default one.
pub(crate) fn parser() -> std::io::Result<Parser> {
    match std::env::var("PARSER").as_deref() {
        Err(_) | Ok("default") => Ok(Parser::Default),
        Ok("msgpack") => Ok(Parser::MsgPack),
        Ok(other) => Err(std::io::Error::other(format!(
            "PARSER={other}: expected msgpack or default"
        ))),
    }
}

/// A TLS acceptor for the PEM files named by `TLS_CERT` (the certificate chain) and
/// `TLS_KEY` (its private key), when both are set: the chat is then served over HTTPS and
/// WSS. `None` when neither is.
pub(crate) fn tls_acceptor() -> std::io::Result<Option<server_adapter::tls::TlsAcceptor>> {
    match (std::env::var_os("TLS_CERT"), std::env::var_os("TLS_KEY")) {
        (Some(cert), Some(key)) => {
            server_adapter::tls::acceptor_from_pem_files(cert, key).map(Some)
        }
        (None, None) => Ok(None),
        _ => Err(std::io::Error::other(
            "set both TLS_CERT and TLS_KEY, or neither",
        )),
    }
}

/// The port from `PORT` (default 3000).
pub(crate) fn port() -> std::io::Result<u16> {
    match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| std::io::Error::other(format!("PORT={p} is not a port number"))),
        Err(_) => Ok(3000),
    }
}

/// With `REDIS_URL` set (`redis://127.0.0.1:6379`), rooms span every chat server on that
/// Redis (the Redis adapter); without it, this server's rooms are all there is.
fn with_redis(builder: SocketIoBuilder) -> SocketIoBuilder {
    match std::env::var("REDIS_URL") {
        Ok(url) => {
            let adapter = socketio_redis::RedisAdapter::new(&url, Default::default())
                .unwrap_or_else(|e| panic!("REDIS_URL={url}: {e}"));
            println!("rooms shared through Redis at {url}");
            builder.adapter(adapter)
        }
        Err(_) => builder,
    }
}
