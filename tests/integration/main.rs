//! Integration tests of `server-adapter` over loopback TCP (127.0.0.1 only).
//!
//! Each test starts its own server on an ephemeral port and talks to it with raw bytes, so
//! that the wire format itself is what is checked. Tests wait for events (a response, end of
//! stream, a drop notification), never for fixed sleeps; a bound on each wait turns a hang into
//! a failure.

mod chat;
mod chat_browser;
mod engine_polling;
mod engine_websocket;
mod engineio_interop;
mod http;
mod metrics;
mod node;
mod order;
mod recovery;
mod socketio;
mod socketio_interop;
mod stacks;
mod tls;
mod tracing_spans;
mod websocket;

use std::net::SocketAddr;
use std::time::Duration;

use server_adapter::http::{serve, Config, Service};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Which HTTP stack a test's server is served through: this crate's own, axum (hyper) with
/// the engine as a tower layer, or bare hyper with the engine as its service (the Socket.IO
/// fixtures only). The same test bodies run on each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stack {
    Native,
    Axum,
    Hyper,
}

/// Stops a server a test started, on either stack: stops accepting, closes every session
/// (close packets after what was queued) and lets the server's task end, within `grace`.
#[derive(Debug)]
pub(crate) enum Stop {
    Native(server_adapter::ShutdownHandle),
    /// axum or hyper: the grace period, sent to the server's task.
    Signal(tokio::sync::watch::Sender<Option<Duration>>),
}

impl Stop {
    pub(crate) fn shutdown(&self, grace: Duration) {
        match self {
            Stop::Native(handle) => handle.shutdown(grace),
            Stop::Signal(signal) => {
                signal.send_replace(Some(grace));
            }
        }
    }
}

/// Serves `router` with axum on `listener` (the peer's address as `ConnectInfo`), with a
/// graceful shutdown that closes `io`'s sessions first, as an application would.
pub(crate) fn serve_axum<Io>(
    listener: TcpListener,
    router: axum::Router,
    io: impl FnOnce(Duration) -> Io + Send + 'static,
) -> (Stop, tokio::task::JoinHandle<std::io::Result<()>>)
where
    Io: std::future::Future<Output = ()> + Send,
{
    let (stop, mut grace) = tokio::sync::watch::channel(None);
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                let Ok(grace) = grace
                    .wait_for(Option::is_some)
                    .await
                    .map(|g| g.unwrap_or_default())
                else {
                    return std::future::pending().await;
                };
                io(grace).await;
            })
            .await
    });
    (Stop::Signal(stop), task)
}

/// Serves `io` with bare hyper on `listener`, as `examples/hyper_echo.rs` does: hyper's
/// HTTP/1.1 connection with upgrades, the engine as its service, the peer's address as a
/// `SocketAddr` request extension. On stop, closes the sessions and stops accepting.
pub(crate) fn serve_hyper(
    listener: TcpListener,
    io: server_adapter::socketio::SocketIo,
) -> (Stop, tokio::task::JoinHandle<std::io::Result<()>>) {
    let (stop, mut grace) = tokio::sync::watch::channel(None::<Duration>);
    let task = tokio::spawn(async move {
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => accepted?,
                Ok(grace) = async { grace.wait_for(Option::is_some).await.map(|g| g.unwrap_or_default()) } => {
                    drop(listener);
                    io.shutdown(grace).await;
                    return Ok(());
                }
            };
            let service = io.service();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |mut request| {
                    request.extensions_mut().insert::<SocketAddr>(peer);
                    tower_service::Service::call(&mut service.clone(), request)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    (Stop::Signal(stop), task)
}

/// How long any single wait may take before the test fails.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// Starts `serve` on 127.0.0.1 with an ephemeral port.
pub(crate) async fn start<S: Service<TcpStream> + 'static>(
    config: Config,
    service: S,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, config, service));
    addr
}

/// A parsed response.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A raw client connection that keeps bytes read past the last response.
pub(crate) struct Client {
    pub(crate) stream: TcpStream,
    pub(crate) pending: Vec<u8>,
}

impl Client {
    pub(crate) async fn connect(addr: SocketAddr) -> Client {
        Client {
            stream: TcpStream::connect(addr).await.unwrap(),
            pending: Vec::new(),
        }
    }

    pub(crate) async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Reads more bytes into `pending`; false at end of stream (or a reset).
    pub(crate) async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        match tokio::time::timeout(WAIT, self.stream.read(&mut chunk))
            .await
            .expect("server did not answer")
        {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.pending.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Reads one response (its body delimited by `Content-Length`); `None` at end of stream.
    /// A `HEAD` response's body is not read.
    pub(crate) async fn response_to(&mut self, head_request: bool) -> Option<Answer> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut res = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(n) = res.parse(&self.pending).unwrap() {
                let status = res.code.unwrap();
                let headers: Vec<(String, String)> = res
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_owned(),
                            String::from_utf8(h.value.to_vec()).unwrap(),
                        )
                    })
                    .collect();
                let len = match headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                {
                    Some(_) if head_request => 0,
                    Some((_, v)) => v.parse().unwrap(),
                    None => 0,
                };
                if self.pending.len() >= n + len {
                    let body = self.pending[n..n + len].to_vec();
                    self.pending.drain(..n + len);
                    return Some(Answer {
                        status,
                        headers,
                        body,
                    });
                }
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    pub(crate) async fn response(&mut self) -> Option<Answer> {
        self.response_to(false).await
    }

    /// Whether the server closes the connection with nothing more to say.
    pub(crate) async fn closed(&mut self) -> bool {
        !self.fill().await && self.pending.is_empty()
    }
}
