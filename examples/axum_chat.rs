//! The chat of `examples/chat.rs` (the same Socket.IO handlers, from
//! `examples/chat/app.rs`, and the same page) inside an axum application that
//! also answers `GET /health` with `ok`; on 127.0.0.1, port `PORT` (default 3000).
//!
//! ```sh
//! npm ci --prefix examples/chat           # the browser client, once
//! PORT=8080 cargo run --example axum_chat
//! ```
//!
//! Ctrl-C shuts it down gracefully: every client gets its close packet first.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use server_adapter::socketio::SocketIo;

#[path = "chat/app.rs"]
mod app;

/// The chat's page, its browser client and `/health` as axum routes, with the
/// Socket.IO server as a layer in front of them (it takes `/socket.io/`).
pub fn chat(io: &SocketIo) -> Router {
    let client = app::browser_client();
    Router::new()
        .route("/", get(|| async { Html(app::PAGE) }))
        .route(
            "/socket.io.min.js",
            get(move || async move {
                match client.is_empty() {
                    true => StatusCode::NOT_FOUND.into_response(),
                    false => {
                        ([(CONTENT_TYPE, "text/javascript; charset=utf-8")], client).into_response()
                    }
                }
            }),
        )
        .route("/health", get(|| async { "ok" }))
        .layer(io.layer())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", app::port()?)).await?;
    println!("axum chat listening on http://{}", listener.local_addr()?);
    let io = app::socket_io();
    let service = chat(&io).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            io.shutdown(Duration::from_secs(5)).await;
        })
        .await
}
