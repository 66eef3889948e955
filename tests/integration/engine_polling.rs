//! Long-polling requests of one session that race each other on separate connections: the
//! order they reach the server decides their answers, whichever worker reads them.

use std::net::SocketAddr;
use std::sync::{Arc, Barrier};

use std::future::IntoFuture;

use server_adapter::tower::{ArrivalListener, Peer};
use server_adapter::{EngineHandler, EngineIo, Server, SessionHandle};
use tokio::runtime::Runtime;

use super::{Client, Stack};

/// Takes every message and answers none.
struct Sink;

impl EngineHandler for Sink {
    fn on_message(&self, _: &SessionHandle, _: engineio::Message) {}
}

/// Serves the engine natively, or through axum on an `ArrivalListener` (which tells the
/// engine when each request arrived, as the native server knows).
async fn start(stack: Stack) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let engine = EngineIo::new(engineio::Config::default(), Sink);
    match stack {
        Stack::Native => {
            tokio::spawn(Server::new().mount(engine).serve(listener));
        }
        Stack::Axum => {
            let router = axum::Router::new().layer(engine.layer());
            let service = router.into_make_service_with_connect_info::<Peer>();
            tokio::spawn(axum::serve(ArrivalListener::new(listener), service).into_future());
        }
        Stack::Hyper => unreachable!("not among these tests' stacks"),
    }
    addr
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
}

fn post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Opens a polling session; returns its path (sid included).
async fn open(addr: SocketAddr) -> String {
    let mut client = Client::connect(addr).await;
    client
        .send(get("/engine.io/?EIO=4&transport=polling").as_bytes())
        .await;
    let open = client.response().await.expect("a handshake answer");
    let body = String::from_utf8(open.body).unwrap();
    let sid = body
        .split("\"sid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a sid in the open packet");
    format!("/engine.io/?EIO=4&transport=polling&sid={sid}")
}

/// Holds both workers of a server runtime (each blocked in a task) until dropped: the server
/// neither accepts nor reads meanwhile.
struct Hold(Arc<Barrier>);

fn hold(server: &Runtime) -> Hold {
    let entered = Arc::new(Barrier::new(3));
    let release = Arc::new(Barrier::new(3));
    for _ in 0..2 {
        let (entered, release) = (entered.clone(), release.clone());
        server.spawn(async move {
            entered.wait();
            release.wait();
        });
    }
    entered.wait();
    Hold(release)
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.0.wait();
    }
}

/// As the official test suite's "forcefully closes the session": a GET and a POST carrying
/// the close packet, each on a connection of its own (as `fetch` sends them), the GET's
/// connection first, both written before the server looks. The server finds both waiting, in
/// that order, as an event loop would; the GET is then the long-poll the close releases
/// (200, a noop), whichever of the two connection tasks runs first. A GET after that finds
/// the session gone.
#[test]
fn a_get_sent_just_before_the_close_packet_is_released_with_a_noop() {
    get_before_close(Stack::Native);
}

/// The same through axum, served on an `ArrivalListener`.
#[test]
fn a_get_sent_just_before_the_close_packet_is_released_with_a_noop_through_axum() {
    get_before_close(Stack::Axum);
}

fn get_before_close(stack: Stack) {
    const ROUNDS: usize = 200;
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = server.block_on(start(stack));
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let failures = client.block_on(async {
        let mut failures = Vec::new();
        for round in 0..ROUNDS {
            let path = open(addr).await;
            let held = hold(&server);
            let mut poll = Client::connect(addr).await;
            let mut close = Client::connect(addr).await;
            poll.send(get(&path).as_bytes()).await;
            close.send(post(&path, "1").as_bytes()).await;
            drop(held);
            let polled = poll.response().await.expect("an answer to the GET");
            let closed = close.response().await.expect("an answer to the POST");
            assert_eq!((closed.status, &closed.body[..]), (200, &b"ok"[..]));
            if (polled.status, &polled.body[..]) != (200, &b"6"[..]) {
                failures.push((
                    round,
                    polled.status,
                    String::from_utf8_lossy(&polled.body).into_owned(),
                ));
                continue;
            }
            let mut late = Client::connect(addr).await;
            late.send(get(&path).as_bytes()).await;
            let late = late.response().await.expect("an answer to the late GET");
            assert_eq!(late.status, 400, "round {round}: the session is gone");
        }
        failures
    });
    assert!(
        failures.is_empty(),
        "{stack:?}: {} of {ROUNDS} GETs sent before the close were not released with a noop: \
         {failures:?}",
        failures.len()
    );
}
