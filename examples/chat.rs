//! The chat server: rooms and messages over Socket.IO, and the page that uses
//! them, on one port of 127.0.0.1 (`PORT`, default 3000).
//!
//! * `join` (a room name): the socket joins the room and gets `joined` with the name;
//! * `message` `{room, text}`: everyone in the room, the sender included, gets
//!   `message` `{from: <the sender's socket id>, text}`;
//! * `ping-ack` (msg, ack): acknowledged with `{ok: true, received: msg}`, `msg` as
//!   sent (its key order, and any binary inside it sent back as binary);
//! * connections and disconnect reasons are logged; CORS allows any origin;
//! * `GET /metrics`: the server's counts in the Prometheus text format.
//!
//! The handlers are in `examples/chat/app.rs`, shared with `examples/axum_chat.rs`, which
//! serves the same chat from inside an axum application.
//!
//! `GET /` is the page (`examples/chat/index.html`, built in). It loads the
//! official browser client from `/socket.io.min.js`: the file
//! `dist/socket.io.min.js` of the npm package `socket.io-client`, which
//! `./scripts/chat.sh` installs from `examples/chat/package-lock.json`.
//!
//! ```sh
//! ./scripts/chat.sh                       # installs the browser client, then runs this
//! PORT=8080 cargo run --example chat      # once it is installed; PORT=0 picks a free port
//! TLS_CERT=cert.pem TLS_KEY=key.pem cargo run --example chat   # over HTTPS and WSS
//! PARSER=msgpack cargo run --example chat # the official socket.io-msgpack-parser
//! REDIS_URL=redis://127.0.0.1:6379 PORT=3001 cargo run --example chat   # one of several servers
//! ```

use bytes::Bytes;
use server_adapter::http::{Request, Response};
use server_adapter::socketio::{Parser, SocketIo};
use server_adapter::tls::TlsStream;
use server_adapter::Server;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

#[path = "chat/app.rs"]
mod app;

/// The chat's Socket.IO server and its page, on one HTTP server, speaking
/// `parser` (the page loads the official client bundle built with it).
pub fn chat(parser: Parser) -> Server {
    with_page(app::socket_io(parser))
}

/// The same chat over TLS: the same handlers, on a server for TLS streams.
pub fn chat_tls(parser: Parser) -> Server<TlsStream<TcpStream>> {
    let io = app::builder(parser).build_for();
    app::handlers(io.of("/"));
    with_page(io)
}

/// `io` with the page, the browser client and the metrics, for the requests the engine
/// does not take.
fn with_page<Io>(io: SocketIo<Io>) -> Server<Io>
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let client = app::browser_client(io.parser());
    let server = Server::new().mount(io.clone());
    server.fallback(move |req: Request| {
        std::future::ready(match req.head.path() {
            "/" => file("text/html", app::PAGE),
            "/socket.io.min.js" if !client.is_empty() => file("text/javascript", client.clone()),
            "/metrics" => {
                let (content_type, text) = app::metrics(&io);
                Response::new(200)
                    .header("Content-Type", content_type)
                    .with_body(text)
            }
            _ => Response::not_found(),
        })
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let parser = app::parser()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", app::port()?)).await?;
    let address = listener.local_addr()?;
    match app::tls_acceptor()? {
        Some(acceptor) => {
            println!("chat listening on https://{address}");
            chat_tls(parser).serve_tls(listener, acceptor).await
        }
        None => {
            println!("chat listening on http://{address}");
            chat(parser).serve(listener).await
        }
    }
}

fn file(content_type: &str, body: impl Into<Bytes>) -> Response {
    Response::new(200)
        .header("Content-Type", format!("{content_type}; charset=utf-8"))
        .with_body(body)
}
