//! The connection loop: reads requests, calls the service, writes responses, in order.
//!
//! One task runs one connection: [`serve_connection`] reads a head, reads its body, calls the
//! service and writes its response, then reads the next request (pipelined requests are thus
//! answered in order). While a response is pending, it keeps reading so that it notices the
//! peer closing the connection (end of stream or reset; a peer that half-closes its side is
//! taken as gone), and then drops the service's future; bytes of a pipelined next
//! request that arrive meanwhile are kept, up to [`Config::max_head`] bytes, after which it
//! stops reading until the response is written. An upgrade reply hands the stream, with the
//! bytes read past the request, to the upgrade's future, which then runs in the same task.
//!
//! Bounds and policies:
//! - the read buffer holds no allocation while the connection waits for a request; it holds at
//!   most one head (`max_head`) plus one read, or one body (`max_body` or the service's limit),
//!   and grows with the bytes that arrive, not with what a `Content-Length` announces;
//! - `idle_timeout` closes a connection where no request begins, quietly; `header_timeout` and
//!   `body_timeout` answer `408`; `write_timeout` bounds each response write;
//! - a refused request is answered with its status and `Connection: close`, then the connection
//!   is shut down after a short linger (see [`Config::linger`]);
//! - `Expect: 100-continue` gets `100 Continue` before the body is read, unless the body is
//!   over the limit (`413`) or some of it has already arrived.

use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::pin::pin;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout, timeout_at, Instant};

use super::arrival::Watched;
use super::chunked::ChunkedDecoder;
use super::config::Config;
use super::error::{Error, RequestError};
use super::request::{
    body_framing, expects_continue, BodyFraming, HeadParser, Request, RequestHead, Version,
};
use super::response::Response;
use super::service::{OnUpgrade, Reply, Service, UpgradeFuture, Upgraded};
use crate::io::{linger_close, poll_read_into, read_some, write_all_vectored};
use crate::trace::{InSpan, SpanBox};

/// Largest step by which a body buffer grows ahead of the bytes that arrive.
const BODY_GROWTH: usize = 64 * 1024;

/// What follows one exchange (a request and its answer).
enum Next<Io> {
    /// Read the next request.
    KeepAlive,
    /// The connection is closed, or closing is up to the peer.
    Close,
    /// The `101` was written, or its head is to be handed over with the stream (when not
    /// empty); hand the stream over to this.
    Upgrade(OnUpgrade<Io>, Bytes),
}

/// Serves HTTP/1.1 on one connection until it closes; see the module docs.
///
/// Returns `Ok(())` when the peer closes, the connection idles out, a response closes it, a
/// pending request is aborted by the peer, or an upgraded connection's future ends.
///
/// Its requests' [`Arrival`](super::Arrival)s count from this call; [`serve`] watches each
/// connection from its accept.
///
/// # Errors
/// A refused request (already answered), an I/O error, or a response write timeout.
pub async fn serve_connection<Io, S>(io: Io, config: &Config, service: &S) -> Result<(), Error>
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Io>,
{
    serve_watched(Watched::new(io), config, service).await
}

/// [`serve_connection`] for a connection watched since it was accepted.
pub(crate) async fn serve_watched<Io, S>(
    io: Watched<Io>,
    config: &Config,
    service: &S,
) -> Result<(), Error>
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Io>,
{
    // The HTTP part runs in a box freed before the upgraded connection runs: inline, its
    // state (the largest of a request's) would stay in the task for as long as a WebSocket
    // lives, most of what a task costs an idle connection.
    let upgraded = Box::pin(serve_until_upgrade_watched(io, config, service)).await?;
    if let Some(upgraded) = upgraded {
        upgraded.await;
    }
    Ok(())
}

/// [`serve_connection`] up to an upgrade: returns the upgraded connection's future, for the
/// caller to run, or `None` when the connection ended without one. A caller that keeps its
/// task for the upgraded connection does well to box this future, as `serve_connection`
/// does, so that the HTTP state is freed once the upgrade happened.
///
/// # Errors
/// As [`serve_connection`].
pub async fn serve_until_upgrade<Io, S>(
    io: Io,
    config: &Config,
    service: &S,
) -> Result<Option<UpgradeFuture>, Error>
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Io>,
{
    serve_until_upgrade_watched(Watched::new(io), config, service).await
}

/// [`serve_until_upgrade`] for a connection watched since it was accepted (see
/// [`Watched::accepted`]).
pub(crate) async fn serve_until_upgrade_watched<Io, S>(
    io: Watched<Io>,
    config: &Config,
    service: &S,
) -> Result<Option<UpgradeFuture>, Error>
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Io>,
{
    Ok(serve_http(io, config, service)
        .await?
        .map(|(upgrade, upgraded)| upgrade(upgraded)))
}

/// Serves requests until the connection closes (`None`) or is upgraded.
async fn serve_http<Io, S>(
    io: Watched<Io>,
    config: &Config,
    service: &S,
) -> Result<Option<(OnUpgrade<Io>, Upgraded<Io>)>, Error>
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Io>,
{
    let mut conn = Conn {
        io,
        buf: BytesMut::new(),
        config,
    };
    let upgrade = loop {
        let head = match conn.read_head().await {
            Ok(Some(head)) => head,
            Ok(None) => return Ok(None),
            Err(Error::Refused(e)) => return Box::pin(conn.refuse(e)).await.map(|()| None),
            Err(e) => return Err(e),
        };
        // This future lives as long as the connection, an upgraded one too, so the larger
        // states of an exchange (body, the handler's future, the write) live in a box for the
        // length of the exchange rather than inline for the life of the connection.
        match Box::pin(conn.exchange(head, service)).await {
            Ok(Next::KeepAlive) => {}
            Ok(Next::Close) => return Ok(None),
            Ok(Next::Upgrade(upgrade, head)) => break (upgrade, head),
            Err(Error::Refused(e)) => return Box::pin(conn.refuse(e)).await.map(|()| None),
            Err(e) => return Err(e),
        }
    };
    let Conn { io, buf, .. } = conn;
    let (upgrade, head) = upgrade;
    Ok(Some((
        upgrade,
        Upgraded {
            io: io.into_inner(),
            read_buf: buf,
            head,
        },
    )))
}

struct Conn<'a, Io> {
    /// The stream, noting when each request arrives.
    io: Watched<Io>,
    /// Bytes read and not yet used: the start of the next request. No allocation when empty
    /// between requests.
    buf: BytesMut,
    config: &'a Config,
}

impl<Io: AsyncRead + AsyncWrite + Unpin> Conn<'_, Io> {
    /// Reads the body of the request, calls the service, and writes its answer.
    async fn exchange<S: Service<Io>>(
        &mut self,
        head: RequestHead,
        service: &S,
    ) -> Result<Next<Io>, Error> {
        let Some(body) = self.read_body(&head, service).await? else {
            return Ok(Next::Close);
        };
        if self.buf.is_empty() {
            // Release the allocation; the head and body keep theirs for as long as they live.
            self.buf = BytesMut::new();
        }
        let head_request = head.method() == "HEAD";
        let keep_alive = head.keep_alive();
        let version = head.version();
        let arrival = self.io.arrival();
        self.io.next_request();
        let call = pin!(service.call(Request {
            head,
            body,
            arrival,
        }));
        let Some(reply) = self.await_reply(call).await else {
            tracing::debug!("peer closed the connection while a response was pending");
            return Ok(Next::Close);
        };
        match reply {
            Reply::Response(response) => {
                let close = !keep_alive || response.closes();
                let connection = match (close, version) {
                    (true, _) => Some("close"),
                    (false, Version::Http10) => Some("keep-alive"),
                    (false, _) => None,
                };
                self.write_response(&response, head_request, connection)
                    .await?;
                if !close {
                    return Ok(Next::KeepAlive);
                }
                linger_close(&mut self.io, self.config.linger).await;
                Ok(Next::Close)
            }
            Reply::Upgrade(upgrade) => {
                let head = if upgrade.defer_head {
                    let mut head = Vec::with_capacity(256);
                    upgrade.response.encode_head(Some("Upgrade"), &mut head);
                    Bytes::from(head)
                } else {
                    self.write_response(&upgrade.response, false, Some("Upgrade"))
                        .await?;
                    Bytes::new()
                };
                Ok(Next::Upgrade(upgrade.run, head))
            }
        }
    }

    /// Reads until a complete head is buffered. `Ok(None)`: the peer closed, or no request began
    /// within the idle timeout.
    async fn read_head(&mut self) -> Result<Option<RequestHead>, Error> {
        let mut parser = HeadParser::new();
        let idle_deadline = Instant::now() + self.config.idle_timeout;
        let mut head_deadline = None;
        loop {
            if let Some(head) = parser.parse(&mut self.buf, self.config)? {
                return Ok(Some(head));
            }
            if !self.buf.is_empty() && head_deadline.is_none() {
                head_deadline = Some(Instant::now() + self.config.header_timeout);
            }
            let deadline = head_deadline.unwrap_or(idle_deadline);
            match timeout_at(deadline, read_some(&mut self.io, &mut self.buf)).await {
                Err(_) if head_deadline.is_some() => return Err(RequestError::HeadTimeout.into()),
                Err(_) => {
                    tracing::debug!("idle timeout");
                    return Ok(None);
                }
                // The peer closed, maybe mid-head: there is no one left to answer.
                Ok(Ok(0)) => return Ok(None),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(e.into()),
            }
        }
    }

    /// Reads the body the head announces, under the service's limit. `Ok(None)`: the peer
    /// closed before the body was complete.
    async fn read_body<S: Service<Io>>(
        &mut self,
        head: &RequestHead,
        service: &S,
    ) -> Result<Option<Bytes>, Error> {
        let framing = body_framing(head)?;
        let expect = expects_continue(head)?;
        let limit = service.body_limit(head).unwrap_or(self.config.max_body);
        if let BodyFraming::Length(n) = framing {
            if n > limit as u64 {
                return Err(RequestError::BodyTooLarge.into());
            }
        }
        if framing != BodyFraming::Empty && expect && self.buf.is_empty() {
            self.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        }
        let deadline = Instant::now() + self.config.body_timeout;
        let read = async {
            match framing {
                BodyFraming::Empty => Ok(Some(Bytes::new())),
                // `n <= limit`, a usize, was checked above.
                BodyFraming::Length(n) => self.read_length(n as usize).await,
                BodyFraming::Chunked => self.read_chunked(limit).await,
            }
        };
        match timeout_at(deadline, read).await {
            Ok(result) => result,
            Err(_) => Err(RequestError::BodyTimeout.into()),
        }
    }

    async fn read_length(&mut self, n: usize) -> Result<Option<Bytes>, Error> {
        while self.buf.len() < n {
            let step = (n - self.buf.len()).min(BODY_GROWTH);
            if self.buf.capacity() - self.buf.len() < step {
                self.buf.reserve(step);
            }
            if poll_fn(|cx| poll_read_into(&mut self.io, cx, &mut self.buf)).await? == 0 {
                return Ok(None);
            }
        }
        Ok(Some(self.buf.split_to(n).freeze()))
    }

    async fn read_chunked(&mut self, limit: usize) -> Result<Option<Bytes>, Error> {
        let mut decoder = ChunkedDecoder::new(limit, self.config.max_chunked_overhead);
        let mut body = BytesMut::new();
        loop {
            let used = decoder.decode(&self.buf, &mut body)?;
            self.buf.advance(used);
            if decoder.is_done() {
                return Ok(Some(body.freeze()));
            }
            if read_some(&mut self.io, &mut self.buf).await? == 0 {
                return Ok(None);
            }
        }
    }

    /// Waits for the service's reply while watching the connection: `None` if the peer closed
    /// it (or it failed) first, in which case the reply future is dropped.
    async fn await_reply<F: Future + Unpin>(&mut self, mut call: F) -> Option<F::Output> {
        loop {
            if self.buf.len() >= self.config.max_head {
                // Enough of the next request is buffered: stop reading until this one is done.
                return Some(call.await);
            }
            tokio::select! {
                biased;
                reply = &mut call => return Some(reply),
                read = read_some(&mut self.io, &mut self.buf) => match read {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                },
            }
        }
    }

    async fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.write_slices(&mut [IoSlice::new(bytes)]).await
    }

    async fn write_response(
        &mut self,
        response: &Response,
        head_request: bool,
        connection: Option<&str>,
    ) -> Result<(), Error> {
        let body = response.wire_body(head_request);
        // A small body is copied behind the head, to go out in one plain write; a large one
        // is written from its own buffer, beside the head.
        let copy_body = body.len() <= SMALL_BODY;
        let mut head = Vec::with_capacity(256 + if copy_body { body.len() } else { 0 });
        response.encode_head(connection, &mut head);
        if copy_body {
            head.extend_from_slice(body);
            self.write_slices(&mut [IoSlice::new(&head)]).await
        } else {
            self.write_slices(&mut [IoSlice::new(&head), IoSlice::new(body)])
                .await
        }
    }

    /// Writes with one vectored write where the stream takes it, under the write timeout.
    async fn write_slices(&mut self, slices: &mut [IoSlice<'_>]) -> Result<(), Error> {
        let write = async {
            write_all_vectored(&mut self.io, slices).await?;
            self.io.flush().await
        };
        match timeout(self.config.write_timeout, write).await {
            Ok(result) => result.map_err(Error::Io),
            Err(_) => Err(Error::WriteTimeout),
        }
    }

    /// Answers a refused request with its status, closes the connection, and reports it.
    async fn refuse(mut self, error: RequestError) -> Result<(), Error> {
        tracing::debug!(%error, "refusing a request");
        let status = error.status();
        let response = Response::text(status, super::response::reason_phrase(status));
        if self
            .write_response(&response, false, Some("close"))
            .await
            .is_ok()
        {
            linger_close(&mut self.io, self.config.linger).await;
        }
        Err(Error::Refused(error))
    }
}

/// Bodies up to this size are sent in the same buffer as the head.
const SMALL_BODY: usize = 4096;

/// Whether an `accept` error concerns only the connection being accepted.
pub(crate) fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// Whether an `accept` error is the process running out of something that comes back
/// (descriptors, buffers, memory): EMFILE, ENFILE, ENOBUFS, ENOMEM on Linux.
pub(crate) fn is_resource_error(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(24 | 23 | 105 | 12))
}

/// Accepts connections on `listener` forever, serving each in its own task with
/// [`serve_connection`] (after setting `TCP_NODELAY`).
///
/// An accept error that concerns one connection is skipped; running out of descriptors or
/// memory pauses accepting for 100 ms (logged) instead of spinning.
///
/// # Errors
/// Any other accept error ends the loop.
pub async fn serve<S>(
    listener: tokio::net::TcpListener,
    config: Config,
    service: S,
) -> io::Result<()>
where
    S: Service<tokio::net::TcpStream> + 'static,
{
    let config = std::sync::Arc::new(config);
    let service = std::sync::Arc::new(service);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) if is_resource_error(&e) => {
                tracing::warn!(error = %e, "accept failed; pausing");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        // Small Engine.IO packets should leave at once, not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        // Here, in accept order: the tasks may run in another.
        let stream = match Watched::accepted(stream) {
            Ok(stream) => stream,
            Err(error) => {
                tracing::warn!(%peer, %error, "could not register an accepted connection");
                continue;
            }
        };
        let (config, service) = (config.clone(), service.clone());
        let serve = async move {
            if let Err(error) = serve_watched(stream, &config, &*service).await {
                tracing::debug!(%error, "connection ended");
            }
        };
        let span = tracing::debug_span!(parent: None, "connection", %peer);
        tokio::spawn(InSpan::new(serve, SpanBox::new(span)));
    }
}

#[cfg(test)]
#[path = "conn_tests.rs"]
mod tests;
