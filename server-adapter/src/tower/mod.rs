//! Serving an engine from inside a hyper 1.x application (axum's included): a tower
//! [`Service`](tower_service::Service) and [`Layer`](tower_layer::Layer) for a
//! [`SocketIo`](crate::socketio::SocketIo) or an [`EngineIo`](crate::EngineIo).
//!
//! ```no_run
//! use server_adapter::socketio::{SocketIo, SocketRef};
//!
//! # async fn run() -> std::io::Result<()> {
//! let io = SocketIo::builder().build();
//! io.of("/").on_connection(|socket: SocketRef| async move {
//!     let _ = socket.emit("hello", "world");
//! });
//! let app = axum::Router::new()
//!     .route("/health", axum::routing::get(|| async { "ok" }))
//!     .layer(io.layer());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! This is a translation, not a second server: each request under the engine's path is turned
//! into the values this crate's own HTTP layer makes of a request it reads (a
//! [`RequestHead`] and its body), given to the same engine, and its
//! answer turned back into an `http::Response`. A WebSocket's `101` is answered through
//! hyper, and the connection hyper hands over afterwards (`hyper::upgrade::on`) goes to the
//! same [`WebSocket`](crate::ws::WebSocket) and session task as a connection accepted
//! natively: same limits, close codes, heartbeats. What differs is only what hyper does
//! itself: parsing the head and its limits, timeouts, keep-alive.
//!
//! - A request's body is read up to the engine's `max_payload`: a `Content-Length` over it is
//!   answered `413` before any of the body is read, and a body that grows past it is answered
//!   `413` as soon as it does, the rest unread; the status and body are the native ones.
//! - The handshake sees the headers and query as sent, and the peer's address from a
//!   [`SocketAddr`] request extension, or from axum's `ConnectInfo<SocketAddr>` with the
//!   `axum` feature (serve with `into_make_service_with_connect_info::<SocketAddr>()`).
//! - The engine's sessions run on the stream hyper was given, taken back out of hyper's
//!   box: see [`UpgradedStream`] for which engine takes which server's connections.
//! - Requests of one long-polling session racing each other on two connections are taken in
//!   the order they arrived when the connections are served from an
//!   `ArrivalListener` (axum, with the `axum` feature) or as [`ArrivalStream`]s (hyper); otherwise in the order hyper
//!   hands them over, which under load may be the other way round. See [`ArrivalStream`].
//! - Graceful shutdown: call [`SocketIo::shutdown`](crate::socketio::SocketIo::shutdown) (or
//!   [`EngineIo::shutdown`](crate::EngineIo::shutdown)) in the future given to axum's
//!   `with_graceful_shutdown`: every session gets its close packet after what was queued for
//!   it, while the server still answers the long-polls that fetch it.

mod arrival;
mod body;
mod io;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use http_body::Body;

pub use arrival::{ArrivalClock, ArrivalStream};
#[cfg(feature = "axum")]
pub use arrival::{ArrivalListener, Peer};
pub use body::{EngineBody, ResponseBody};
pub use io::UpgradedStream;

use crate::http::{self, Reply, RequestHead, Upgraded, Version};
use crate::server::Mount;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An engine as a tower `Service`: requests under its path go to the engine, every other
/// request to the inner service `S` untouched. Made by [`EngineLayer`], or with a `404` as the
/// inner service by `SocketIo::service` / `EngineIo::service`.
pub struct EngineService<S, Io = tokio::net::TcpStream> {
    mount: Arc<dyn Mount<Io>>,
    inner: S,
}

impl<S: Clone, Io> Clone for EngineService<S, Io> {
    fn clone(&self) -> Self {
        EngineService {
            mount: self.mount.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<S, Io: 'static> fmt::Debug for EngineService<S, Io> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineService")
            .field("path", &self.mount.path())
            .finish_non_exhaustive()
    }
}

/// Wraps a service in an [`EngineService`]: the layer an axum `Router` (or any tower stack)
/// takes with `.layer(io.layer())`.
pub struct EngineLayer<Io = tokio::net::TcpStream> {
    mount: Arc<dyn Mount<Io>>,
}

impl<Io> Clone for EngineLayer<Io> {
    fn clone(&self) -> Self {
        EngineLayer {
            mount: self.mount.clone(),
        }
    }
}

impl<Io: 'static> fmt::Debug for EngineLayer<Io> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineLayer")
            .field("path", &self.mount.path())
            .finish()
    }
}

impl<Io> EngineLayer<Io> {
    pub(crate) fn new(mount: Arc<dyn Mount<Io>>) -> Self {
        EngineLayer { mount }
    }
}

impl<S, Io> tower_layer::Layer<S> for EngineLayer<Io> {
    type Service = EngineService<S, Io>;

    fn layer(&self, inner: S) -> Self::Service {
        EngineService {
            mount: self.mount.clone(),
            inner,
        }
    }
}

/// The inner service of a standalone [`EngineService`]: answers `404 Not Found`, as the
/// native [`Server`](crate::Server)'s default fallback does.
#[derive(Clone, Copy, Debug, Default)]
pub struct NotFound;

impl<B> tower_service::Service<hyper::Request<B>> for NotFound {
    type Response = hyper::Response<EngineBody>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: hyper::Request<B>) -> Self::Future {
        std::future::ready(Ok(to_hyper(http::Response::not_found())))
    }
}

impl<S, Io: 'static> EngineService<S, Io> {
    pub(crate) fn new(mount: Arc<dyn Mount<Io>>, inner: S) -> Self {
        EngineService { mount, inner }
    }

    fn takes(&self, path: &str) -> bool {
        let prefix = self.mount.path();
        path.starts_with(prefix) || path == prefix.trim_end_matches('/')
    }
}

impl<S, Io, ReqBody, ResBody> tower_service::Service<hyper::Request<ReqBody>>
    for EngineService<S, Io>
where
    S: tower_service::Service<hyper::Request<ReqBody>, Response = hyper::Response<ResBody>>,
    S::Future: Send + 'static,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    Io: UpgradedStream,
{
    type Response = hyper::Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: hyper::Request<ReqBody>) -> Self::Future {
        if self.takes(request.uri().path()) {
            let answer = handle(self.mount.clone(), request);
            Box::pin(async move { Ok(answer.await.map(ResponseBody::Engine)) })
        } else {
            let inner = self.inner.call(request);
            Box::pin(async move { Ok(inner.await?.map(ResponseBody::Inner)) })
        }
    }
}

/// Answers one request under the engine's path.
async fn handle<Io, B>(
    mount: Arc<dyn Mount<Io>>,
    request: hyper::Request<B>,
) -> hyper::Response<EngineBody>
where
    Io: UpgradedStream,
    B: Body + Send + 'static,
    B::Data: Send,
{
    // When the request arrived, which orders it among the session's other requests: from the
    // connection's clock when it has one (see `arrival`), else now that hyper read the head.
    let arrival = arrival::arrival_of(request.extensions());
    let (mut parts, body) = request.into_parts();
    let on_upgrade = parts.extensions.remove::<hyper::upgrade::OnUpgrade>();
    let address = peer_address(&parts.extensions);
    let head = match head_of(&parts) {
        Ok(head) => head,
        Err(e) => return to_hyper(refusal(e.status())),
    };
    let body = match read_body(&parts.headers, body, mount.body_limit()).await {
        Ok(body) => body,
        Err(status) => return to_hyper(refusal(status)),
    };
    let request = http::Request {
        head,
        body,
        arrival,
    };
    match mount.handle(request, address).await {
        Reply::Response(response) => to_hyper(response),
        Reply::Upgrade(upgrade) => {
            let Some(on_upgrade) = on_upgrade else {
                // A connection hyper serves without upgrades (`with_upgrades` not called).
                tracing::warn!("a WebSocket upgrade through a hyper connection without upgrades");
                return to_hyper(http::Response::text(500, "upgrades are not enabled"));
            };
            let run = upgrade.run;
            tokio::spawn(async move {
                let upgraded = match on_upgrade.await {
                    Ok(upgraded) => upgraded,
                    Err(e) => {
                        tracing::debug!(error = %e, "the upgrade did not happen");
                        return;
                    }
                };
                match Io::from_upgraded(upgraded) {
                    Ok((io, read_buf)) => {
                        run(Upgraded {
                            io,
                            read_buf: BytesMut::from(read_buf),
                            // hyper wrote the `101` itself.
                            head: Bytes::new(),
                        })
                        .await
                    }
                    Err(_) => tracing::error!(
                        stream = std::any::type_name::<Io>(),
                        "the upgraded connection's stream is not the engine's stream type: \
                         build the engine for hyper_util::rt::TokioIo<hyper::upgrade::Upgraded> \
                         to take any hyper connection"
                    ),
                }
            });
            let mut response = to_hyper(upgrade.response);
            response.headers_mut().insert(
                hyper::header::CONNECTION,
                hyper::header::HeaderValue::from_static("Upgrade"),
            );
            response
        }
    }
}

/// The peer's address: a `SocketAddr` extension, or axum's `ConnectInfo<SocketAddr>` or
/// `ConnectInfo<Peer>`.
fn peer_address(extensions: &hyper::http::Extensions) -> Option<SocketAddr> {
    if let Some(address) = extensions.get::<SocketAddr>() {
        return Some(*address);
    }
    #[cfg(feature = "axum")]
    if let Some(info) = extensions.get::<axum::extract::ConnectInfo<SocketAddr>>() {
        return Some(info.0);
    }
    #[cfg(feature = "axum")]
    if let Some(info) = extensions.get::<axum::extract::ConnectInfo<Peer>>() {
        return Some(info.0.address());
    }
    None
}

/// The request's head as this crate's HTTP layer would have parsed it.
fn head_of(parts: &hyper::http::request::Parts) -> Result<RequestHead, http::RequestError> {
    let version = if parts.version == hyper::Version::HTTP_10 {
        Version::Http10
    } else {
        Version::Http11
    };
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |target| target.as_str());
    RequestHead::from_parts(
        parts.method.as_str(),
        target,
        version,
        parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes())),
    )
}

/// The answer to a request refused before the engine saw it, as the native HTTP layer
/// answers it: the status, its reason as the body, and the connection closed after.
fn refusal(status: u16) -> http::Response {
    http::Response::text(status, http::reason_phrase(status)).close()
}

/// Reads the whole body within `limit` bytes: `Err(413)` as soon as it is known to be
/// larger (from `Content-Length`, or from what arrived), without reading the rest.
async fn read_body<B>(headers: &hyper::HeaderMap, body: B, limit: usize) -> Result<Bytes, u16>
where
    B: Body,
{
    let announced = headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) || body.size_hint().lower() > limit as u64 {
        return Err(413);
    }
    let mut body = std::pin::pin!(body);
    let mut first: Option<Bytes> = None;
    let mut rest = BytesMut::new();
    let mut total = 0usize;
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let Ok(frame) = frame else {
            return Err(400);
        };
        let Ok(mut data) = frame.into_data() else {
            continue; // trailers
        };
        total = total.saturating_add(data.remaining());
        if total > limit {
            return Err(413);
        }
        // One frame (the usual case) is kept as it came, without a copy.
        match &first {
            None if rest.is_empty() => first = Some(data.copy_to_bytes(data.remaining())),
            _ => {
                if let Some(first) = first.take() {
                    rest.extend_from_slice(&first);
                }
                while data.has_remaining() {
                    let chunk = data.chunk();
                    rest.extend_from_slice(chunk);
                    let n = chunk.len();
                    data.advance(n);
                }
            }
        }
    }
    Ok(first.unwrap_or_else(|| rest.freeze()))
}

/// A native response as hyper's.
fn to_hyper(response: http::Response) -> hyper::Response<EngineBody> {
    let mut out = hyper::Response::new(EngineBody::new(response.body().clone()));
    *out.status_mut() = hyper::StatusCode::from_u16(response.status())
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = out.headers_mut();
    for (name, value) in response.headers() {
        // Checked as tokens and field values when the response was made.
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_bytes(value),
        ) {
            headers.append(name, value);
        }
    }
    if response.closes() {
        headers.insert(
            hyper::header::CONNECTION,
            hyper::header::HeaderValue::from_static("close"),
        );
    }
    out
}

impl<Io: UpgradedStream> crate::socketio::SocketIo<Io> {
    /// A tower [`Layer`](tower_layer::Layer) serving this Socket.IO server under its path in
    /// front of another service (an axum `Router`: `router.layer(io.layer())`); see
    /// [`crate::tower`].
    pub fn layer(&self) -> EngineLayer<Io> {
        EngineLayer::new(crate::server::IntoMount::into_mount(self.clone()))
    }

    /// This Socket.IO server as a tower [`Service`](tower_service::Service) of its own (a
    /// `404` for requests outside its path), for a hyper server or a tower stack.
    pub fn service(&self) -> EngineService<NotFound, Io> {
        EngineService::new(crate::server::IntoMount::into_mount(self.clone()), NotFound)
    }
}

impl<H: crate::EngineHandler, Io: UpgradedStream> crate::EngineIo<H, Io> {
    /// A tower [`Layer`](tower_layer::Layer) serving this engine under its path in front of
    /// another service; see [`crate::tower`].
    pub fn layer(&self) -> EngineLayer<Io> {
        EngineLayer::new(Arc::new(self.core.clone()))
    }

    /// This engine as a tower [`Service`](tower_service::Service) of its own (a `404` for
    /// requests outside its path).
    pub fn service(&self) -> EngineService<NotFound, Io> {
        EngineService::new(Arc::new(self.core.clone()), NotFound)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use http_body::Frame;

    use super::*;

    /// A body of `count` frames of `size` bytes each, counting how often it is polled.
    struct Frames {
        size: usize,
        count: usize,
        polled: Arc<AtomicUsize>,
    }

    impl Body for Frames {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            self.polled.fetch_add(1, Ordering::Relaxed);
            if self.count == 0 {
                return Poll::Ready(None);
            }
            self.count -= 1;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'4'; self.size])))))
        }
    }

    fn frames(size: usize, count: usize) -> (Frames, Arc<AtomicUsize>) {
        let polled = Arc::new(AtomicUsize::new(0));
        let body = Frames {
            size,
            count,
            polled: polled.clone(),
        };
        (body, polled)
    }

    #[tokio::test]
    async fn a_body_growing_past_the_limit_is_refused_without_reading_the_rest() {
        let (body, polled) = frames(600, 1000);
        assert_eq!(
            read_body(&hyper::HeaderMap::new(), body, 1000).await,
            Err(413)
        );
        assert_eq!(polled.load(Ordering::Relaxed), 2, "read no further");
    }

    #[tokio::test]
    async fn an_announced_length_over_the_limit_is_refused_before_any_read() {
        let mut headers = hyper::HeaderMap::new();
        headers.insert(
            hyper::header::CONTENT_LENGTH,
            hyper::header::HeaderValue::from_static("1001"),
        );
        let (body, polled) = frames(1001, 1);
        assert_eq!(read_body(&headers, body, 1000).await, Err(413));
        assert_eq!(polled.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn frames_within_the_limit_make_one_body() {
        let (body, _) = frames(300, 3);
        let read = read_body(&hyper::HeaderMap::new(), body, 1000).await;
        assert_eq!(read.map(|b| b.len()), Ok(900));
        let (body, _) = frames(1000, 1);
        let read = read_body(&hyper::HeaderMap::new(), body, 1000).await;
        assert_eq!(
            read.map(|b| b.len()),
            Ok(1000),
            "exactly the limit is taken"
        );
        let (body, _) = frames(0, 0);
        assert_eq!(
            read_body(&hyper::HeaderMap::new(), body, 1000).await,
            Ok(Bytes::new())
        );
    }

    #[test]
    fn a_native_response_keeps_its_status_headers_body_and_close() {
        let native = http::Response::text(413, "Content Too Large").close();
        let out = to_hyper(native);
        assert_eq!(out.status(), 413);
        assert_eq!(
            out.headers()[hyper::header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        assert_eq!(out.headers()[hyper::header::CONNECTION], "close");
        assert_eq!(out.body().size_hint().exact(), Some(17));
    }

    /// A WebSocket handshake on a connection hyper serves without upgrades: refused, and the
    /// session it opened does not outlive the refusal (nor one whose upgrade fails later).
    #[tokio::test]
    async fn a_websocket_session_whose_connection_never_comes_is_closed() {
        let io = crate::socketio::SocketIo::builder().build();
        let mut service = io.service();
        let request = hyper::Request::get("/socket.io/?EIO=4&transport=websocket")
            .header("host", "a")
            .header("upgrade", "websocket")
            .header("connection", "Upgrade")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("sec-websocket-version", "13")
            .body(EngineBody::default())
            .unwrap();
        let response = tower_service::Service::call(&mut service, request)
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
        assert_eq!(io.connections(), 0);
    }
}
