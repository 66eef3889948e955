//! A plain WebSocket echo server on 127.0.0.1: text comes back as text, binary as binary.
//! Any other request gets `404`.
//!
//! ```sh
//! PORT=9001 cargo run --release --example ws_echo
//! ```
//!
//! `PORT=0` picks a free port; the first line printed names it.
//!
//! This is the server the Autobahn|Testsuite run in the README talks to; its message limit is
//! set above the 16 MiB of Autobahn's largest case.

use std::io;

use server_adapter::http::{self, service_fn, Reply, Request, Response};
use server_adapter::ws::{self, Message, Outgoing, WebSocket};
use tokio::net::{TcpListener, TcpStream};

async fn echo(mut socket: WebSocket<TcpStream>) {
    loop {
        let sent = match socket.recv().await {
            Ok(Message::Text(text)) => socket.send(Outgoing::Text(&[text])).await,
            Ok(Message::Binary(data)) => socket.send(Outgoing::Binary(&[data])).await,
            Ok(Message::Pong(_)) => Ok(()),
            Ok(Message::Close(_)) => return,
            Err(e) => {
                eprintln!("ws_echo: connection ended: {e}");
                return;
            }
        };
        if let Err(e) = sent {
            eprintln!("ws_echo: send failed: {e}");
            return;
        }
    }
}

#[tokio::main]
async fn main() -> io::Result<()> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| io::Error::other(format!("PORT={p} is not a port number")))?,
        Err(_) => 9001,
    };
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("ws_echo listening on ws://{}", listener.local_addr()?);

    let ws_config = ws::Config {
        max_message_size: 20 * 1024 * 1024,
        ..ws::Config::default()
    };
    let service = service_fn(move |request: Request| {
        let ws_config = ws_config.clone();
        async move {
            if !ws::is_upgrade_request(&request.head) {
                return Reply::Response(Response::not_found());
            }
            match ws::accept(&request.head) {
                Ok(accept) => Reply::upgrade(accept.response(), move |upgraded| {
                    echo(WebSocket::from_upgraded(upgraded, &ws_config))
                }),
                Err(refusal) => Reply::Response(refusal),
            }
        }
    });
    http::serve(listener, http::Config::default(), service).await
}
