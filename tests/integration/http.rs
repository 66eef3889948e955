//! HTTP/1.1 over loopback: keep-alive, pipelining, bodies, every limit, routing.

use std::sync::Arc;

use bytes::Bytes;
use server_adapter::http::{
    service_fn, Config, Reply, Request, RequestHead, Response, Router, Service,
};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, Mutex};

use crate::{start, Client, WAIT};

/// Answers with what it received: `METHOD TARGET BODY-LENGTH` then a newline and the body.
fn describe() -> impl Service<TcpStream> + Clone {
    service_fn(|req: Request| async move {
        let mut text = format!(
            "{} {} {}\n",
            req.head.method(),
            req.head.target(),
            req.body.len()
        )
        .into_bytes();
        text.extend_from_slice(&req.body);
        Response::text(200, text)
    })
}

async fn described() -> Client {
    Client::connect(start(Config::default(), describe()).await).await
}

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let mut c = described().await;
    for path in ["/a", "/b", "/c"] {
        c.send(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
            .await;
        let a = c.response().await.unwrap();
        assert_eq!(a.status, 200);
        assert_eq!(a.body, format!("GET {path} 0\n").as_bytes());
        assert_eq!(
            a.header("connection"),
            None,
            "HTTP/1.1 keeps the connection by default"
        );
        assert!(a.header("date").is_some_and(|d| d.ends_with(" GMT")));
    }
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let mut c = described().await;
    c.send(
        b"POST /1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\n\r\n\
          POST /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n\
          GET /4 HTTP/1.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    let bodies: Vec<Vec<u8>> = [0; 4].iter().map(|_| Vec::new()).collect();
    let mut got = bodies;
    for slot in got.iter_mut() {
        *slot = c.response().await.unwrap().body;
    }
    assert_eq!(
        got,
        [
            &b"POST /1 3\nabc"[..],
            b"GET /2 0\n",
            b"POST /3 2\nxy",
            b"GET /4 0\n"
        ]
    );
    assert!(c.closed().await);
}

#[tokio::test]
async fn chunked_bodies_with_extensions_and_trailers_split_across_writes() {
    let mut c = described().await;
    let request = b"POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
        5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
    for piece in request.chunks(7) {
        c.send(piece).await;
    }
    let a = c.response().await.unwrap();
    assert_eq!(a.body, b"POST /up 16\nhello 0123456789");
}

#[tokio::test]
async fn http_1_0_closes_unless_asked_to_keep_alive() {
    let mut c = described().await;
    c.send(b"GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .await;
    let a = c.response().await.unwrap();
    assert_eq!(a.header("connection"), Some("keep-alive"));
    c.send(b"GET /y HTTP/1.0\r\n\r\n").await;
    let a = c.response().await.unwrap();
    assert_eq!(a.status, 200);
    assert_eq!(a.header("connection"), Some("close"));
    assert!(c.closed().await);
}

#[tokio::test]
async fn connection_close_is_honoured() {
    let mut c = described().await;
    c.send(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").await;
    assert_eq!(
        c.response().await.unwrap().header("connection"),
        Some("close")
    );
    assert!(c.closed().await);
}

#[tokio::test]
async fn expect_100_continue_gets_an_interim_answer_before_the_body() {
    let mut c = described().await;
    c.send(b"POST /e HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        .await;
    let interim = c.response().await.unwrap();
    assert_eq!(interim.status, 100);
    c.send(b"body").await;
    assert_eq!(c.response().await.unwrap().body, b"POST /e 4\nbody");
}

#[tokio::test]
async fn head_requests_get_the_length_but_no_body() {
    let mut c = described().await;
    c.send(b"HEAD /h HTTP/1.1\r\n\r\nGET /g HTTP/1.1\r\n\r\n")
        .await;
    let a = c.response_to(true).await.unwrap();
    assert_eq!(a.header("content-length"), Some("10"));
    assert!(a.body.is_empty());
    assert_eq!(c.response().await.unwrap().body, b"GET /g 0\n");
}

/// Sends `request` on a fresh connection; expects `status` with `Connection: close`, then the
/// end of the connection.
async fn refused(config: Config, request: &[u8], status: u16) {
    let mut c = Client::connect(start(config, describe()).await).await;
    c.send(request).await;
    let a = c
        .response()
        .await
        .unwrap_or_else(|| panic!("no answer to {:?}", String::from_utf8_lossy(request)));
    assert_eq!(a.status, status, "{:?}", String::from_utf8_lossy(request));
    assert_eq!(a.header("connection"), Some("close"));
    assert!(c.closed().await);
}

#[tokio::test]
async fn every_limit_has_its_status_and_closes() {
    let small = Config {
        max_request_line: 64,
        max_head: 256,
        max_headers: 4,
        max_body: 10,
        ..Config::default()
    };
    let long_target = format!("GET /{} HTTP/1.1\r\n\r\n", "t".repeat(100));
    refused(small.clone(), long_target.as_bytes(), 414).await;
    let big_header = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "h".repeat(300));
    refused(small.clone(), big_header.as_bytes(), 431).await;
    refused(
        small.clone(),
        b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n",
        431,
    )
    .await;
    refused(
        small.clone(),
        b"POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n01234567890",
        413,
    )
    .await;
    refused(small.clone(), b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n6\r\n012345\r\n0\r\n\r\n", 413)
        .await;
}

#[tokio::test]
async fn malformed_and_unsupported_requests_are_refused() {
    let c = Config::default;
    refused(c(), b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400).await;
    refused(c(), b"GET /\x01 HTTP/1.1\r\n\r\n", 400).await;
    refused(c(), b"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400).await;
    refused(
        c(),
        b"POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
        400,
    )
    .await;
    refused(
        c(),
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        400,
    )
    .await;
    refused(
        c(),
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        501,
    )
    .await;
    refused(c(), b"POST / HTTP/1.1\r\nExpect: tea\r\n\r\n", 417).await;
    refused(c(), b"GET / HTTP/2.0\r\n\r\n", 505).await;
}

/// The engine stand-in: answers `engine` and accepts bodies up to 5 bytes.
struct Engine;

impl Service<TcpStream> for Engine {
    fn body_limit(&self, _head: &RequestHead) -> Option<usize> {
        Some(5)
    }

    async fn call(&self, req: Request) -> Reply<TcpStream> {
        Response::text(200, format!("engine {}", req.head.query().unwrap_or(""))).into()
    }
}

#[tokio::test]
async fn the_router_sends_the_prefix_to_the_engine_and_the_rest_to_the_fallback() {
    let addr = start(Config::default(), Router::new("/engine.io/", Engine)).await;
    let mut c = Client::connect(addr).await;
    c.send(
        b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\n\r\nGET /index.html HTTP/1.1\r\n\r\n",
    )
    .await;
    assert_eq!(
        c.response().await.unwrap().body,
        b"engine EIO=4&transport=polling"
    );
    let a = c.response().await.unwrap();
    assert_eq!((a.status, &a.body[..]), (404, &b"Not Found"[..]));

    let pages = service_fn(|req: Request| async move {
        Response::text(200, format!("page {}", req.head.path()))
    });
    let addr = start(
        Config::default(),
        Router::new("/engine.io/", Engine).fallback(pages),
    )
    .await;
    let mut c = Client::connect(addr).await;
    c.send(b"GET /index.html HTTP/1.1\r\n\r\nPOST /engine.io/ HTTP/1.1\r\nContent-Length: 6\r\n\r\n123456").await;
    assert_eq!(c.response().await.unwrap().body, b"page /index.html");
    // The engine's own body limit applies on its path.
    assert_eq!(c.response().await.unwrap().status, 413);
    assert!(c.closed().await);
}

#[tokio::test]
async fn a_client_aborting_a_pending_request_drops_the_handler_future() {
    /// Reports its drop.
    struct Parked(Option<oneshot::Sender<()>>);
    impl Drop for Parked {
        fn drop(&mut self) {
            if let Some(tx) = self.0.take() {
                let _ = tx.send(());
            }
        }
    }
    let (parked_tx, parked_rx) = oneshot::channel::<()>();
    let (dropped_tx, dropped_rx) = oneshot::channel::<()>();
    let slots = Arc::new(Mutex::new((Some(parked_tx), Some(dropped_tx))));
    let service = service_fn(move |_req: Request| {
        let slots = slots.clone();
        async move {
            let (parked, dropped) = {
                let mut s = slots.lock().await;
                (s.0.take(), s.1.take())
            };
            let _guard = Parked(dropped);
            if let Some(p) = parked {
                let _ = p.send(());
            }
            std::future::pending::<Response>().await
        }
    });
    let mut c = Client::connect(start(Config::default(), service).await).await;
    c.send(b"GET /engine.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\n\r\n")
        .await;
    tokio::time::timeout(WAIT, parked_rx)
        .await
        .unwrap()
        .unwrap();
    drop(c);
    tokio::time::timeout(WAIT, dropped_rx)
        .await
        .expect("the pending future was not dropped")
        .unwrap();
}

#[tokio::test]
async fn already_accepted_streams_can_be_handed_over() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        server_adapter::http::serve_connection(stream, &Config::default(), &describe()).await
    });
    let mut c = Client::connect(addr).await;
    c.send(b"GET /handed HTTP/1.1\r\nConnection: close\r\n\r\n")
        .await;
    assert_eq!(c.response().await.unwrap().body, b"GET /handed 0\n");
    assert!(c.closed().await);
    // The server lingers until the client closes its side too.
    drop(c);
    tokio::time::timeout(WAIT, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn large_bodies_arrive_whole_and_go_back_whole() {
    let service = service_fn(|req: Request| async move {
        let body: Bytes = req.body;
        Response::new(200).with_body(body)
    });
    let mut c = Client::connect(start(Config::default(), service).await).await;
    let payload = vec![b'p'; 300_000];
    let mut request = format!(
        "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
        payload.len()
    )
    .into_bytes();
    request.extend_from_slice(&payload);
    c.send(&request).await;
    assert_eq!(c.response().await.unwrap().body, payload);
}

#[tokio::test]
async fn timeouts_over_loopback() {
    use std::time::Duration;
    let quick = Config {
        idle_timeout: Duration::from_millis(100),
        header_timeout: Duration::from_millis(100),
        body_timeout: Duration::from_millis(100),
        ..Config::default()
    };
    // A silent connection is closed without an answer.
    let addr = start(quick.clone(), describe()).await;
    let mut c = Client::connect(addr).await;
    assert!(c.closed().await);
    // A head that never ends is answered 408, as is a body that never ends.
    let mut c = Client::connect(addr).await;
    c.send(b"GET / HTTP/1.1\r\nX-Partial: ").await;
    assert_eq!(c.response().await.unwrap().status, 408);
    assert!(c.closed().await);
    let mut c = Client::connect(addr).await;
    c.send(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab")
        .await;
    assert_eq!(c.response().await.unwrap().status, 408);
    assert!(c.closed().await);
}
