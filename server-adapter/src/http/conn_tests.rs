//! Connection-loop tests over an in-memory stream with tokio's paused clock: timeouts run in
//! virtual time, so none of these waits for real.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;
use crate::http::service::service_fn;

/// Reads one response (head and `Content-Length` body); `None` at end of stream.
async fn read_response(
    client: &mut DuplexStream,
    pending: &mut Vec<u8>,
) -> Option<(u16, Vec<(String, String)>, Vec<u8>)> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut res = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(n) = res.parse(pending).unwrap() {
            let status = res.code.unwrap();
            let headers: Vec<(String, String)> = res
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_ascii_lowercase(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect();
            let len = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .map_or(0, |(_, v)| v.parse().unwrap());
            if pending.len() >= n + len {
                let body = pending[n..n + len].to_vec();
                pending.drain(..n + len);
                return Some((status, headers, body));
            }
        }
        let mut chunk = [0u8; 4096];
        let got = client.read(&mut chunk).await.unwrap();
        if got == 0 {
            return None;
        }
        pending.extend_from_slice(&chunk[..got]);
    }
}

fn echo_service() -> impl Service<DuplexStream> {
    service_fn(|req: Request| async move {
        let text = format!(
            "{} {} {}",
            req.head.method(),
            req.head.target(),
            req.body.len()
        );
        Response::text(200, text)
    })
}

fn spawn_server<S: Service<DuplexStream> + 'static>(
    config: Config,
    service: S,
) -> (DuplexStream, tokio::task::JoinHandle<Result<(), Error>>) {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let handle = tokio::spawn(async move { serve_connection(server, &config, &service).await });
    (client, handle)
}

#[tokio::test(start_paused = true)]
async fn header_timeout_answers_408_and_closes() {
    let (mut client, server) = spawn_server(Config::default(), echo_service());
    let start = Instant::now();
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: x")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let (status, headers, _) = read_response(&mut client, &mut buf).await.unwrap();
    assert_eq!(status, 408);
    assert!(headers.contains(&("connection".into(), "close".into())));
    assert_eq!(start.elapsed(), Config::default().header_timeout);
    assert!(read_response(&mut client, &mut buf).await.is_none());
    assert!(matches!(
        server.await.unwrap(),
        Err(Error::Refused(RequestError::HeadTimeout))
    ));
}

#[tokio::test(start_paused = true)]
async fn idle_timeout_closes_quietly_between_requests() {
    let (mut client, server) = spawn_server(Config::default(), echo_service());
    client.write_all(b"GET /a HTTP/1.1\r\n\r\n").await.unwrap();
    let mut buf = Vec::new();
    assert_eq!(read_response(&mut client, &mut buf).await.unwrap().0, 200);
    let start = Instant::now();
    assert!(
        read_response(&mut client, &mut buf).await.is_none(),
        "closed without an answer"
    );
    assert_eq!(start.elapsed(), Config::default().idle_timeout);
    assert!(buf.is_empty());
    server.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn slow_body_answers_408() {
    let (mut client, server) = spawn_server(Config::default(), echo_service());
    client
        .write_all(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345")
        .await
        .unwrap();
    let mut buf = Vec::new();
    assert_eq!(read_response(&mut client, &mut buf).await.unwrap().0, 408);
    assert!(matches!(
        server.await.unwrap(),
        Err(Error::Refused(RequestError::BodyTimeout))
    ));
}

#[tokio::test(start_paused = true)]
async fn dribbled_head_still_times_out_from_its_first_byte() {
    let (client, server) = spawn_server(Config::default(), echo_service());
    let (mut reader, mut writer) = tokio::io::split(client);
    let start = Instant::now();
    tokio::spawn(async move {
        for b in b"GET / HTTP/1.1\r\nX-Slow: yes".iter() {
            if writer.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let mut response = Vec::new();
    reader.read_to_end(&mut response).await.unwrap();
    assert!(response.starts_with(b"HTTP/1.1 408 "));
    let elapsed = start.elapsed();
    let timeout = Config::default().header_timeout;
    // Answered at the head timeout, then closed within the linger time.
    assert!(
        elapsed >= timeout && elapsed <= timeout + Config::default().linger,
        "{elapsed:?}"
    );
    assert!(server.await.unwrap().is_err());
}

/// Counts how many reply futures were dropped before completing.
struct DropFlag(Arc<AtomicUsize>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn peer_closing_drops_the_pending_reply() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let flag = dropped.clone();
    let service = service_fn(move |_req: Request| {
        let guard = DropFlag(flag.clone());
        async move {
            std::future::pending::<()>().await;
            drop(guard);
            Response::new(200)
        }
    });
    let (mut client, server) = spawn_server(Config::default(), service);
    client
        .write_all(b"GET /poll HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        0,
        "still pending while the peer is there"
    );
    drop(client);
    server.await.unwrap().unwrap();
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn pipelined_request_arriving_during_a_pending_reply_is_kept() {
    let (release_tx, release_rx) = tokio::sync::watch::channel(false);
    let service = service_fn(move |req: Request| {
        let mut release = release_rx.clone();
        async move {
            if req.head.path() == "/slow" {
                let _ = release.wait_for(|r| *r).await;
            }
            Response::text(200, req.head.path().to_owned())
        }
    });
    let (mut client, server) = spawn_server(Config::default(), service);
    client
        .write_all(b"GET /slow HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    client
        .write_all(b"GET /fast HTTP/1.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    release_tx.send(true).unwrap();
    let mut buf = Vec::new();
    assert_eq!(
        read_response(&mut client, &mut buf).await.unwrap().2,
        b"/slow"
    );
    assert_eq!(
        read_response(&mut client, &mut buf).await.unwrap().2,
        b"/fast"
    );
    assert!(read_response(&mut client, &mut buf).await.is_none());
    server.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_does_not_read_hits_the_write_timeout() {
    let big = Bytes::from(vec![b'x'; 1 << 20]);
    let service = service_fn(move |_req: Request| {
        let big = big.clone();
        async move { Response::new(200).with_body(big) }
    });
    let (mut client, server) = spawn_server(Config::default(), service);
    client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    assert!(matches!(server.await.unwrap(), Err(Error::WriteTimeout)));
}

#[tokio::test(start_paused = true)]
async fn body_limit_from_the_service_applies_before_the_body_is_read() {
    struct Small;
    impl Service<DuplexStream> for Small {
        fn body_limit(&self, _head: &RequestHead) -> Option<usize> {
            Some(4)
        }
        async fn call(&self, req: Request) -> Reply<DuplexStream> {
            Response::text(200, req.body).into()
        }
    }
    let (mut client, server) = spawn_server(Config::default(), Small);
    client
        .write_all(b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd")
        .await
        .unwrap();
    let mut buf = Vec::new();
    assert_eq!(
        read_response(&mut client, &mut buf).await.unwrap().2,
        b"abcd"
    );
    // Over the limit, with `Expect: 100-continue`: 413 at once, no 100, no body read.
    client
        .write_all(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut client, &mut buf).await.unwrap().0, 413);
    assert!(matches!(
        server.await.unwrap(),
        Err(Error::Refused(RequestError::BodyTooLarge))
    ));
}

/// Sends an `Upgrade: echo` request followed by `early`, and expects the `101`; returns the
/// bytes read past its head.
async fn request_upgrade(client: &mut DuplexStream, early: &[u8]) -> Vec<u8> {
    let mut request = b"GET / HTTP/1.1\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\n".to_vec();
    request.extend_from_slice(early);
    client.write_all(&request).await.unwrap();
    let mut buf = Vec::new();
    let (status, headers, _) = read_response(client, &mut buf).await.unwrap();
    assert_eq!(status, 101);
    assert!(headers.contains(&("connection".into(), "Upgrade".into())));
    buf
}

#[tokio::test(start_paused = true)]
async fn upgrade_hands_over_the_stream_and_the_bytes_read_past_the_request() {
    let service = service_fn(|_req: Request| async {
        Reply::upgrade(
            Response::new(101).header("Upgrade", "echo"),
            |mut up: Upgraded<DuplexStream>| async move {
                let early = up.read_buf.split().freeze();
                up.io.write_all(&early).await.unwrap();
                let mut rest = [0u8; 5];
                up.io.read_exact(&mut rest).await.unwrap();
                up.io.write_all(&rest).await.unwrap();
            },
        )
    });
    let (mut client, server) = spawn_server(Config::default(), service);
    let buf = request_upgrade(&mut client, b"early").await;
    client.write_all(b"later").await.unwrap();
    let mut echoed = [0u8; 10];
    let start = buf.len();
    echoed[..start].copy_from_slice(&buf);
    client.read_exact(&mut echoed[start..]).await.unwrap();
    assert_eq!(&echoed, b"earlylater");
    server.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_deferred_101_head_is_handed_over_unwritten() {
    let service = service_fn(|_req: Request| async {
        Reply::upgrade_deferring_head(
            Response::new(101).header("Upgrade", "echo"),
            |mut up: Upgraded<DuplexStream>| async move {
                assert!(up.head.starts_with(b"HTTP/1.1 101 "));
                // The head and the new protocol's first bytes, in one write.
                let mut first = up.head.to_vec();
                first.extend_from_slice(b"hello");
                up.io.write_all(&first).await.unwrap();
            },
        )
    });
    let (mut client, server) = spawn_server(Config::default(), service);
    let mut buf = request_upgrade(&mut client, b"").await;
    let mut rest = vec![0u8; 5 - buf.len()];
    client.read_exact(&mut rest).await.unwrap();
    buf.extend_from_slice(&rest);
    assert_eq!(buf, b"hello");
    server.await.unwrap().unwrap();
}

/// The connection's future lives as long as the connection (an upgraded one too); the larger
/// per-request states are boxed, and this bound guards against them moving back inline.
#[tokio::test]
async fn the_connection_future_stays_small() {
    let (_client, server) = tokio::io::duplex(64);
    let config = Config::default();
    let service = echo_service();
    let fut = serve_connection(server, &config, &service);
    let size = std::mem::size_of_val(&fut);
    assert!(size <= 640, "serve_connection's future is {size} bytes");
}
