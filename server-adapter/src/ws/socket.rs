//! The WebSocket object a session task drives: [`WebSocket::recv`], [`WebSocket::send`],
//! [`WebSocket::send_batch`], [`WebSocket::close`]; or, for a writer that gathers a turn's
//! messages, [`WebSocket::queue`] then [`WebSocket::poll_flush`] / [`WebSocket::flush`].
//!
//! Every method keeps its progress in the object, not in its future, so each is cancel-safe
//! and can sit in a `tokio::select!` (`recv` directly; a send inside a branch, or raced against
//! a timer):
//! - `recv` returns complete messages; dropping its future loses nothing (bytes read stay
//!   buffered, a message half-assembled stays so);
//! - a send that is dropped before any byte was written sent nothing; once a byte was written
//!   the rest of its batch is queued and any later call (`recv` included) finishes it, so the
//!   stream never carries half a frame followed by another frame.
//!
//! `recv` also answers pings (pongs are written while it waits for data) and runs the close
//! handshake; `send` does not read, so a task that only sends does not answer pings meanwhile.

use std::future::poll_fn;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout_at, Instant};

use super::assemble::{Decoder, Incoming, Role};
use super::error::{Error, ProtocolError};
use super::message::{CloseCode, CloseFrame, Message, Outgoing};
use super::write::WriteQueue;
use super::Config;
use crate::http::Upgraded;
use crate::io::{drain, poll_read_into, poll_read_some, STACK_READ};

/// Largest step by which the read buffer grows ahead of the bytes of a large frame.
const READ_GROWTH: usize = 1024 * 1024;

/// How the connection ends, decided when closing starts.
#[derive(Debug)]
enum End {
    /// The peer sent a close frame, which was echoed.
    Peer(Option<CloseFrame>),
    /// The peer broke the protocol; a close frame with the error's code was sent.
    Failed(ProtocolError),
    /// [`WebSocket::close`] was called.
    Local,
}

#[derive(Debug)]
enum State {
    Open,
    /// A close frame is queued. Boxed: a socket closes once, and this state inline would
    /// be 48 bytes of every open socket.
    Closing(Box<Closing>),
    Closed,
}

/// The closing handshake in progress.
#[derive(Debug)]
struct Closing {
    /// The connection ends by then, whatever the peer does.
    deadline: Instant,
    end: End,
    /// This side closed first: the peer's close frame is still awaited.
    await_peer_close: bool,
}

/// A server-side WebSocket over a stream; see the module docs.
///
/// While no frame is arriving it holds no read buffer, and while nothing waits to be written
/// no write buffer: an idle socket is the stream plus about a hundred bytes of state.
#[derive(Debug)]
pub struct WebSocket<Io> {
    io: Io,
    /// Bytes read and not yet decoded; no allocation while empty.
    rbuf: BytesMut,
    decoder: Decoder,
    out: WriteQueue,
    state: State,
    close_timeout: Duration,
}

impl<Io: AsyncRead + AsyncWrite + Unpin> WebSocket<Io> {
    /// A WebSocket over `io` after a successful handshake; `read_buf` holds bytes already read
    /// past the handshake request (may be empty).
    pub fn new(io: Io, read_buf: BytesMut, config: &Config) -> WebSocket<Io> {
        WebSocket {
            io,
            rbuf: read_buf,
            decoder: Decoder::new(Role::Server, config.max_message_size),
            out: WriteQueue::default(),
            state: State::Open,
            close_timeout: config.close_timeout,
        }
    }

    /// A WebSocket over a connection the HTTP layer handed over after the `101` response.
    /// A `101` head the upgrade deferred ([`Upgraded::head`]) is queued first: it goes out
    /// with the first frames, at the next flush.
    pub fn from_upgraded(upgraded: Upgraded<Io>, config: &Config) -> WebSocket<Io> {
        let mut ws = WebSocket::new(upgraded.io, upgraded.read_buf, config);
        if !upgraded.head.is_empty() {
            ws.out.push_raw(upgraded.head);
        }
        ws
    }

    /// The stream.
    pub(crate) fn io(&self) -> &Io {
        &self.io
    }

    /// The capacity of the read buffer: zero while no frame is partly received.
    #[must_use]
    pub fn read_buffer_capacity(&self) -> usize {
        self.rbuf.capacity()
    }

    /// Whether the socket is open (no close frame sent or received).
    #[must_use]
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Open)
    }

    /// Receives the next message. Cancel-safe.
    ///
    /// Pings are answered and not returned; pongs are returned. When the peer closes, the close
    /// frame is echoed, the connection shut down, and `Message::Close` returned.
    ///
    /// # Errors
    /// - [`Error::Protocol`]: the peer broke the protocol; a close frame with the matching code
    ///   was sent and the connection shut down;
    /// - [`Error::UnexpectedEof`], [`Error::Io`]: the connection ended or failed;
    /// - [`Error::Closed`]: the socket was already closed.
    pub async fn recv(&mut self) -> Result<Message, Error> {
        loop {
            match self.state {
                State::Open => {}
                State::Closing(_) => {
                    // Boxed: closing is rare, and its state (a timer, shutdown) would otherwise
                    // enlarge every `recv` future.
                    return match Box::pin(self.finish_close()).await {
                        End::Peer(frame) => Ok(Message::Close(frame)),
                        End::Failed(e) => Err(Error::Protocol(e)),
                        End::Local => Err(Error::Closed),
                    };
                }
                State::Closed => return Err(Error::Closed),
            }
            if let Some(message) = self.decode_buffered() {
                return Ok(message);
            }
            if !self.is_open() {
                // A close frame or a protocol error began the closing handshake.
                continue;
            }
            let read = poll_fn(|cx| {
                if !self.out.is_idle() {
                    if let Poll::Ready(Err(e)) = self.out.poll_flush(&mut self.io, cx) {
                        return Poll::Ready(Err(e));
                    }
                }
                self.poll_read(cx)
            })
            .await;
            match read {
                Ok(0) => {
                    self.state = State::Closed;
                    return Err(Error::UnexpectedEof);
                }
                Ok(_) => {}
                Err(e) => {
                    self.state = State::Closed;
                    return Err(Error::Io(e));
                }
            }
        }
    }

    /// A message the socket already read, without reading or writing: `None` when no
    /// complete one is buffered (then [`recv`](Self::recv) waits for one). A ping found on
    /// the way is answered with the next write; a close frame or a protocol error begins the
    /// closing handshake, which the next `recv` finishes.
    pub fn try_recv_buffered(&mut self) -> Option<Message> {
        if self.is_open() {
            self.decode_buffered()
        } else {
            None
        }
    }

    /// Decodes the next data or pong message from the read buffer; pings are queued for an
    /// answer, and a close frame or an error begins closing (`None` then).
    fn decode_buffered(&mut self) -> Option<Message> {
        loop {
            let decoded = self.decoder.decode(&mut self.rbuf);
            if self.rbuf.is_empty() {
                // Drop the handle on the allocation: a returned message may keep it alive,
                // but the idle socket does not.
                self.rbuf = BytesMut::new();
            }
            match decoded {
                Ok(Some(Incoming::Text(t))) => return Some(Message::Text(t)),
                Ok(Some(Incoming::Binary(b))) => return Some(Message::Binary(b)),
                Ok(Some(Incoming::Pong(p))) => return Some(Message::Pong(p)),
                Ok(Some(Incoming::Ping(p))) => self.out.push_pong(p),
                Ok(Some(Incoming::Close(frame))) => {
                    // Echo the status code (RFC 6455 §5.5.1); an empty close is echoed empty.
                    let echo = frame
                        .as_ref()
                        .map_or_else(Bytes::new, |f| close_payload(f.code, ""));
                    self.begin_close(echo, End::Peer(frame), false);
                    return None;
                }
                Ok(None) => return None,
                Err(e) => {
                    tracing::debug!(error = %e, "failing the WebSocket connection");
                    self.begin_close(close_payload(e.close_code(), ""), End::Failed(e), false);
                    return None;
                }
            }
        }
    }

    /// Reads once: into the stack buffer, or, when a frame larger than it is arriving, straight
    /// into the read buffer grown for it.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        let wanted = self.decoder.wanted(self.rbuf.len());
        if wanted > STACK_READ {
            if self.rbuf.capacity() - self.rbuf.len() < STACK_READ {
                self.rbuf.reserve(wanted.min(READ_GROWTH));
            }
            poll_read_into(&mut self.io, cx, &mut self.rbuf)
        } else {
            poll_read_some(&mut self.io, cx, &mut self.rbuf)
        }
    }

    /// Sends one message; see [`WebSocket::send_batch`].
    ///
    /// # Errors
    /// As `send_batch`.
    pub async fn send(&mut self, msg: Outgoing<'_>) -> Result<(), Error> {
        self.send_batch(std::slice::from_ref(&msg)).await
    }

    /// Sends several messages with one vectored write (frame headers and the caller's buffers,
    /// not copied), after whatever is queued. Returns once everything is handed to the stream:
    /// it waits as long as the peer does not read (backpressure). Cancel-safe as the module docs
    /// say.
    ///
    /// # Errors
    /// [`Error::Closed`] once a close frame was sent or received; [`Error::Io`] if writing
    /// failed (the socket is then closed).
    pub async fn send_batch(&mut self, msgs: &[Outgoing<'_>]) -> Result<(), Error> {
        if !self.is_open() {
            return Err(Error::Closed);
        }
        let mut handed = false;
        let result = poll_fn(|cx| loop {
            std::task::ready!(self.out.poll_flush(&mut self.io, cx))?;
            if handed {
                return Poll::Ready(Ok(()));
            }
            std::task::ready!(self.out.poll_write_batch(&mut self.io, cx, msgs))?;
            handed = true;
        })
        .await;
        result.map_err(|e| {
            self.state = State::Closed;
            Error::Io(e)
        })
    }

    /// Writes whatever is queued (messages from [`queue`](Self::queue), the rest of a
    /// cancelled send, pongs). Cancel-safe.
    ///
    /// # Errors
    /// [`Error::Io`] if writing failed (the socket is then closed).
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll_flush(cx)).await
    }

    /// [`flush`](Self::flush) as a poll: `Ready` once nothing is queued. A writer that
    /// polls this once after queueing a turn's messages needs no future at all when the
    /// stream takes them at once, as it nearly always does.
    ///
    /// # Errors
    /// As `flush`.
    pub fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let result = match std::task::ready!(self.out.poll_flush(&mut self.io, cx)) {
            // And what the stream itself buffers (a TLS stream's records).
            Ok(()) => std::task::ready!(Pin::new(&mut self.io).poll_flush(cx)),
            Err(e) => Err(e),
        };
        Poll::Ready(result.map_err(|e| {
            self.state = State::Closed;
            Error::Io(e)
        }))
    }

    /// Queues a message behind what is queued, to be written by the next
    /// [`flush`](Self::flush) or [`poll_flush`](Self::poll_flush): the payload buffers are
    /// referenced, not copied (small ones are gathered into one buffer when written), and the
    /// messages queued between two flushes go out in one write. Nothing bounds the queue but the caller, who flushes before queueing
    /// more.
    ///
    /// # Errors
    /// [`Error::Closed`] once a close frame was sent or received (nothing is queued).
    pub fn queue(&mut self, msg: &Outgoing<'_>) -> Result<(), Error> {
        if !self.is_open() {
            return Err(Error::Closed);
        }
        self.out.push_message(msg);
        Ok(())
    }

    /// Whether bytes wait to be written (see [`flush`](Self::flush)).
    #[must_use]
    pub fn has_queued(&self) -> bool {
        !self.out.is_idle()
    }

    /// Closes the connection: sends a close frame with `code` and `reason`, waits for the
    /// peer's close frame (discarding messages that arrive first), then shuts the connection
    /// down, all within [`Config::close_timeout`]. If the socket is already closing, finishes
    /// that; if closed, does nothing. Cancel-safe: a later `close` or `recv` resumes it.
    ///
    /// # Errors
    /// Only the caller's: [`Error::InvalidCloseCode`] (see [`CloseCode::is_sendable`]) or
    /// [`Error::CloseReasonTooLong`] (over 123 bytes). A peer that does not answer or a broken
    /// connection still ends in a closed socket and `Ok`.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        if self.is_open() {
            if !code.is_sendable() {
                return Err(Error::InvalidCloseCode(code.0));
            }
            if reason.len() > 123 {
                return Err(Error::CloseReasonTooLong);
            }
            self.begin_close(close_payload(code, reason), End::Local, true);
        }
        if let State::Closing(_) = self.state {
            Box::pin(self.finish_close()).await;
        }
        Ok(())
    }

    fn begin_close(&mut self, payload: Bytes, end: End, await_peer_close: bool) {
        self.out.push_close(payload);
        let deadline = Instant::now() + self.close_timeout;
        self.state = State::Closing(Box::new(Closing {
            deadline,
            end,
            await_peer_close,
        }));
    }

    /// Runs the closing steps (flush with the close frame last; if this side closed first, read
    /// until the peer's close frame; shut down; read until the peer closes), each resumable,
    /// all bounded by the deadline. Returns how the connection ended.
    async fn finish_close(&mut self) -> End {
        let State::Closing(ref closing) = self.state else {
            return End::Local;
        };
        let deadline = closing.deadline;
        let _ = timeout_at(deadline, async {
            poll_fn(|cx| self.out.poll_flush(&mut self.io, cx)).await?;
            while matches!(&self.state, State::Closing(c) if c.await_peer_close) {
                match self.decoder.decode(&mut self.rbuf) {
                    Ok(Some(Incoming::Close(_))) | Err(_) => break,
                    Ok(Some(_)) => continue,
                    Ok(None) => {}
                }
                if poll_fn(|cx| self.poll_read(cx)).await? == 0 {
                    break;
                }
            }
            if let State::Closing(closing) = &mut self.state {
                closing.await_peer_close = false;
            }
            self.rbuf = BytesMut::new();
            self.io.shutdown().await?;
            drain(&mut self.io).await;
            Ok::<(), std::io::Error>(())
        })
        .await;
        self.rbuf = BytesMut::new();
        match mem::replace(&mut self.state, State::Closed) {
            State::Closing(closing) => closing.end,
            _ => End::Local,
        }
    }
}

/// A close frame's payload: the status code, then the reason.
fn close_payload(code: CloseCode, reason: &str) -> Bytes {
    let mut p = BytesMut::with_capacity(2 + reason.len());
    p.put_u16(code.0);
    p.put_slice(reason.as_bytes());
    p.freeze()
}

#[cfg(test)]
#[path = "socket_tests.rs"]
mod tests;
