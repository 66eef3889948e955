//! The official `engine.io-client` 6.x against the real server over loopback:
//! polling, WebSocket, the upgrade, heartbeats, closes from both sides,
//! `maxPayload`, and many clients at once. See `tests/node/engineio-client.js`. The
//! transports, the upgrade and `maxPayload` also run against the same engine served as the
//! layer of an axum `Router` (the `_through_axum` tests).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use engineio::CloseReason;
use server_adapter::{EngineHandler, EngineIo, Server, SessionHandle};

use super::node::run_script;
use super::{serve_axum, Stack};

/// Echoes every message; closes the session on the text `please-close`; records
/// how sessions ended.
#[derive(Default)]
struct EchoAndClose {
    closes: Arc<Mutex<Vec<CloseReason>>>,
}

impl EngineHandler for EchoAndClose {
    fn on_message(&self, session: &SessionHandle, message: engineio::Message) {
        if matches!(&message, engineio::Message::Text(t) if &t[..] == b"please-close") {
            session.close();
        } else {
            session.send(message).expect("echo queued");
        }
    }

    fn on_close(&self, _session: &SessionHandle, reason: CloseReason) {
        self.closes.lock().unwrap().push(reason);
    }
}

async fn start(stack: Stack) -> (SocketAddr, Arc<Mutex<Vec<CloseReason>>>) {
    let handler = EchoAndClose::default();
    let closes = handler.closes.clone();
    let config = engineio::Config {
        ping_interval: Duration::from_millis(300),
        // No scenario here waits for a ping timeout (the simulation tests time those to the
        // millisecond); a short one would close sessions whose pong is merely late on a
        // loaded machine, and the heartbeat scenario would then wait for pings in vain.
        ping_timeout: Duration::from_secs(5),
        max_payload: 1_000_000,
        ..engineio::Config::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let engine = EngineIo::new(config, handler);
    match stack {
        Stack::Native => {
            tokio::spawn(Server::new().mount(engine).serve(listener));
        }
        Stack::Axum => {
            let router = axum::Router::new().layer(engine.layer());
            serve_axum(listener, router, move |grace| async move {
                engine.shutdown(grace).await
            });
        }
        Stack::Hyper => panic!("the Engine.IO tests run natively and through axum"),
    }
    (addr, closes)
}

async fn scenarios(names: &[&str]) -> (String, Arc<Mutex<Vec<CloseReason>>>) {
    scenarios_on(Stack::Native, names).await
}

async fn scenarios_on(stack: Stack, names: &[&str]) -> (String, Arc<Mutex<Vec<CloseReason>>>) {
    let (addr, closes) = start(stack).await;
    let mut args = vec![format!("http://{addr}")];
    args.extend(names.iter().map(|s| s.to_string()));
    let out = run_script("engineio-client.js", &args, Duration::from_secs(90)).await;
    for name in names {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("ok {name}"))),
            "{name} did not pass:\n{out}"
        );
    }
    (out, closes)
}

/// Waits until `n` sessions have closed (the server sees a close slightly
/// after the client does), bounded.
async fn wait_for_closes(closes: &Arc<Mutex<Vec<CloseReason>>>, n: usize) -> Vec<CloseReason> {
    for _ in 0..500 {
        let seen = closes.lock().unwrap().clone();
        if seen.len() >= n {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("only {:?} of {n} sessions closed", closes.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_only() {
    let (_, closes) = scenarios(&["polling"]).await;
    assert_eq!(
        wait_for_closes(&closes, 1).await,
        [CloseReason::TransportClose]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_only() {
    let (_, closes) = scenarios(&["websocket"]).await;
    assert_eq!(
        wait_for_closes(&closes, 1).await,
        [CloseReason::TransportClose]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_upgraded_to_websocket() {
    scenarios(&["upgrade"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_over_several_intervals() {
    let (_, closes) = scenarios(&["heartbeat"]).await;
    let seen = wait_for_closes(&closes, 2).await;
    assert!(!seen.contains(&CloseReason::PingTimeout), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_close_and_server_close() {
    let (_, closes) = scenarios(&["client-close", "server-close"]).await;
    let seen = wait_for_closes(&closes, 4).await;
    assert_eq!(
        seen.iter()
            .filter(|r| **r == CloseReason::ServerClose)
            .count(),
        2,
        "{seen:?}"
    );
    assert_eq!(
        seen.iter()
            .filter(|r| **r == CloseReason::TransportClose)
            .count(),
        2,
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_above_max_payload_closes_the_session() {
    scenarios(&["max-payload"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_clients_at_once() {
    let (_, closes) = scenarios(&["many-clients"]).await;
    wait_for_closes(&closes, 100).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_websocket_and_the_upgrade_through_axum() {
    let (_, closes) = scenarios_on(Stack::Axum, &["polling", "websocket", "upgrade"]).await;
    let seen = wait_for_closes(&closes, 2).await;
    assert!(
        seen.iter().all(|r| *r == CloseReason::TransportClose),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_above_max_payload_closes_the_session_through_axum() {
    scenarios_on(Stack::Axum, &["max-payload"]).await;
}
