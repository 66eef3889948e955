//! The smallest bare hyper 1.x server with Socket.IO: each connection is served by hyper's
//! HTTP/1.1 connection with upgrades, and the Socket.IO server is its service. Every `echo`
//! event is emitted back to its sender, arguments as received. On 127.0.0.1, port `PORT`
//! (default 3000).
//!
//! ```sh
//! PORT=3000 cargo run --example hyper_echo
//! ```

use std::net::SocketAddr;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use server_adapter::socketio::{RawArgs, SocketIo, SocketRef};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let io = SocketIo::builder().build();
    io.of("/").on_connection(|socket: SocketRef| async move {
        socket.on("echo", |socket: SocketRef, args: RawArgs| async move {
            let _ = socket.emit_raw("echo", &args);
        });
    });

    let port =
        std::env::var("PORT").map_or(Ok(3000), |p| p.parse().map_err(std::io::Error::other))?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("hyper_echo listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, peer) = listener.accept().await?;
        let service = io.service();
        tokio::spawn(async move {
            // The peer's address, for the handshake: a `SocketAddr` request extension.
            let service = hyper::service::service_fn(move |mut request| {
                request.extensions_mut().insert::<SocketAddr>(peer);
                tower_service::Service::call(&mut service.clone(), request)
            });
            let connection = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(e) = connection.await {
                eprintln!("connection from {peer}: {e}");
            }
        });
    }
}
