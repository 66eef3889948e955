//! The chat of `examples/chat.rs` (the same Socket.IO handlers, from
//! `examples/chat/app.rs`, and the same page) inside an axum application that
//! also answers `GET /health` with `ok` and `GET /metrics` with the server's counts in the
//! Prometheus text format; on 127.0.0.1, port `PORT` (default 3000).
//!
//! ```sh
//! npm ci --prefix examples/chat           # the browser client, once
//! PORT=8080 cargo run --example axum_chat
//! TLS_CERT=cert.pem TLS_KEY=key.pem cargo run --example axum_chat   # over HTTPS and WSS
//! PARSER=msgpack cargo run --example axum_chat # the official socket.io-msgpack-parser
//! ```
//!
//! Ctrl-C shuts it down gracefully: every client gets its close packet first. Over TLS,
//! tokio-rustls accepts each connection and hyper serves it, with the same `Router`.

use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use server_adapter::socketio::SocketIo;
use server_adapter::tls::{self, TlsAcceptor, TlsStream};
use server_adapter::tower::{ArrivalListener, Peer, UpgradedStream};
use tokio::net::{TcpListener, TcpStream};
use tower_service::Service;

#[path = "chat/app.rs"]
mod app;

/// The chat's page, its browser client, `/health` and `/metrics` as axum routes, with
/// the Socket.IO server as a layer in front of them (it takes `/socket.io/`).
pub fn chat<Io: UpgradedStream>(io: &SocketIo<Io>) -> Router {
    let client = app::browser_client(io.parser());
    let counted = io.clone();
    Router::new()
        .route("/", get(|| async { Html(app::PAGE) }))
        .route(
            "/socket.io.min.js",
            get(move || async move {
                if client.is_empty() {
                    return StatusCode::NOT_FOUND.into_response();
                }
                let javascript = [(CONTENT_TYPE, "text/javascript; charset=utf-8")];
                (javascript, client).into_response()
            }),
        )
        .route("/health", get(|| async { "ok" }))
        .route(
            "/metrics",
            get(move || async move {
                let (content_type, text) = app::metrics(&counted);
                ([(CONTENT_TYPE, content_type)], text)
            }),
        )
        .layer(io.layer())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let parser = app::parser()?;
    let listener = TcpListener::bind(("127.0.0.1", app::port()?)).await?;
    let address = listener.local_addr()?;
    if let Some(acceptor) = app::tls_acceptor()? {
        println!("axum chat listening on https://{address}");
        let io = app::builder(parser).build_for::<TlsStream<TcpStream>>();
        app::handlers(io.of("/"));
        return serve_tls(listener, acceptor, chat(&io)).await;
    }
    println!("axum chat listening on http://{address}");
    let io = app::socket_io(parser);
    let service = chat(&io).into_make_service_with_connect_info::<Peer>();
    // The crate's listener: requests taken in the order they arrived, TCP_NODELAY set.
    axum::serve(ArrivalListener::new(listener), service)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            io.shutdown(Duration::from_secs(5)).await;
        })
        .await
}

/// Serves `router` over TLS: tokio-rustls accepts each connection, hyper serves it (with
/// upgrades, for the WebSockets), and the peer's address goes in as axum's `ConnectInfo`.
pub async fn serve_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let (acceptor, router) = (acceptor.clone(), router.clone());
        tokio::spawn(async move {
            // A client that is not speaking TLS ends here, alone.
            let Ok(stream) = tls::handshake(&acceptor, stream).await else {
                return;
            };
            let service = hyper::service::service_fn(move |mut request| {
                request.extensions_mut().insert(ConnectInfo(peer));
                router.clone().call(request)
            });
            let connection = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let _ = connection.await;
        });
    }
}
