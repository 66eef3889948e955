//! An Engine.IO echo server on 127.0.0.1: every message comes back as the same
//! kind (text as text, binary as binary). Path `/engine.io/`, pingInterval
//! 300 ms, pingTimeout 200 ms, maxPayload 1 000 000, CORS for any origin.
//!
//! ```sh
//! PORT=3000 cargo run --example engineio_echo      # PORT=0 picks a free port
//! ```
//!
//! The echo runs inside the session's task, so the echoes of every packet of
//! one POST are queued before that POST is answered.

use std::time::Duration;

use server_adapter::{EngineHandler, EngineIo, Server, SessionHandle};

struct Echo;

impl EngineHandler for Echo {
    fn on_message(&self, session: &SessionHandle, message: engineio::Message) {
        if let Err(e) = session.send(message) {
            eprintln!("engineio_echo: {}: echo dropped: {e}", session.sid());
        }
    }
}

/// The configuration of the protocol test suites.
fn config() -> engineio::Config {
    engineio::Config {
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        max_payload: 1_000_000,
        cors: Some(engineio::Cors::any_origin()),
        ..engineio::Config::default()
    }
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
    println!(
        "engineio_echo listening on http://{}/engine.io/",
        listener.local_addr()?
    );
    Server::new()
        .mount(EngineIo::new(config(), Echo))
        .serve(listener)
        .await
}
