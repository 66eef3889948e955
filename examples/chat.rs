//! The chat server: rooms and messages over Socket.IO, and the page that uses
//! them, on one port of 127.0.0.1 (`PORT`, default 3000).
//!
//! * `join` (a room name): the socket joins the room and gets `joined` with the name;
//! * `message` `{room, text}`: everyone in the room, the sender included, gets
//!   `message` `{from: <the sender's socket id>, text}`;
//! * `ping-ack` (msg, ack): acknowledged with `{ok: true, received: msg}`, `msg` as
//!   sent (its key order, and any binary inside it sent back as binary);
//! * connections and disconnect reasons are logged; CORS allows any origin.
//!
//! `GET /` is the page (`examples/chat/index.html`, built in). It loads the
//! official browser client from `/socket.io.min.js`: the file
//! `dist/socket.io.min.js` of the npm package `socket.io-client`, which
//! `./scripts/chat.sh` installs from `examples/chat/package-lock.json`.
//!
//! ```sh
//! ./scripts/chat.sh                       # installs the browser client, then runs this
//! PORT=8080 cargo run --example chat      # once it is installed; PORT=0 picks a free port
//! REDIS_URL=redis://127.0.0.1:6379 PORT=3001 cargo run --example chat   # one of several servers
//! ```

use std::path::Path;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use server_adapter::http::{Request, Response};
use server_adapter::socketio::{
    AckSender, Data, DisconnectReason, SocketIo, SocketIoBuilder, SocketRef, Value,
};
use server_adapter::Server;

/// The chat's Socket.IO handlers and its page, on one HTTP server.
pub fn chat() -> Server {
    let io = with_redis(SocketIo::builder().cors(engineio::Cors::any_origin())).build();
    io.of("/").on_connection(|socket: SocketRef| async move {
        println!("{} connected", socket.id());
        socket.on("join", join);
        socket.on("message", message);
        socket.on("ping-ack", ping_ack);
        socket.on_disconnect(disconnected);
    });

    let client = browser_client();
    Server::new().mount(io).fallback(move |req: Request| {
        std::future::ready(match req.head.path() {
            "/" => file("text/html", PAGE),
            "/socket.io.min.js" if !client.is_empty() => file("text/javascript", client.clone()),
            _ => Response::not_found(),
        })
    })
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

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| std::io::Error::other(format!("PORT={p} is not a port number")))?,
        Err(_) => 3000,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("chat listening on http://{}", listener.local_addr()?);
    chat().serve(listener).await
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

/// The page: ours, built into the binary.
const PAGE: &str = include_str!("chat/index.html");

/// Where the official browser client is looked for, from the repository's
/// root: where `./scripts/chat.sh` installs it, then where the tests do.
const BROWSER_CLIENT: [&str; 2] = [
    "examples/chat/node_modules/socket.io-client/dist/socket.io.min.js",
    "tests/node/node_modules/socket.io-client/dist/socket.io.min.js",
];

/// Reads the official browser client once; empty (and said so) if it is not
/// installed, in which case the page tells how to install it.
fn browser_client() -> Bytes {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for path in BROWSER_CLIENT {
        if let Ok(js) = std::fs::read(root.join(path)) {
            return Bytes::from(js);
        }
    }
    eprintln!(
        "chat: the browser client socket.io.min.js is not installed; \
         run `npm ci --prefix examples/chat` (./scripts/chat.sh does)"
    );
    Bytes::new()
}

fn file(content_type: &str, body: impl Into<Bytes>) -> Response {
    Response::new(200)
        .header("Content-Type", format!("{content_type}; charset=utf-8"))
        .with_body(body)
}
