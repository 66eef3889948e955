//! Reading and writing helpers shared by the HTTP and WebSocket layers.
//!
//! The read side is built so that an idle connection holds no read buffer: a read lands in a
//! buffer on the stack of the synchronous `poll` call (not in the future, which would keep it
//! for the connection's life), and only the bytes that arrived are copied into a heap buffer
//! sized for them. This works for any `AsyncRead`, `TcpStream` included (its `poll_read` is one
//! `recv` call), so no stream-specific path is needed. When a large frame or body is known to
//! be coming, the caller reserves room for it and reads straight into the heap buffer instead.

use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::{pin, Pin};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// Size of the on-stack read buffer.
pub(crate) const STACK_READ: usize = 8 * 1024;

/// Reads once into a stack buffer and appends what arrived to `buf`; `Ok(0)` is end of stream.
///
/// Completes within a single poll, so it is cancel-safe.
pub(crate) fn poll_read_some<R: AsyncRead + Unpin>(
    io: &mut R,
    cx: &mut Context<'_>,
    buf: &mut BytesMut,
) -> Poll<io::Result<usize>> {
    let mut stack = [MaybeUninit::<u8>::uninit(); STACK_READ];
    let mut rb = ReadBuf::uninit(&mut stack);
    ready!(Pin::new(io).poll_read(cx, &mut rb))?;
    buf.extend_from_slice(rb.filled());
    Poll::Ready(Ok(rb.filled().len()))
}

/// Reads once straight into the spare capacity of `buf` (reserve first); `Ok(0)` is end of
/// stream or no spare capacity. Cancel-safe.
pub(crate) fn poll_read_into<R: AsyncRead + Unpin>(
    io: &mut R,
    cx: &mut Context<'_>,
    buf: &mut BytesMut,
) -> Poll<io::Result<usize>> {
    // `read_buf` does one `poll_read` per poll and keeps no state of its own.
    pin!(io.read_buf(buf)).poll(cx)
}

/// [`poll_read_some`] as a future.
pub(crate) async fn read_some<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut BytesMut,
) -> io::Result<usize> {
    poll_fn(|cx| poll_read_some(io, cx, buf)).await
}

/// Writes every slice, with as few (vectored) writes as the stream takes.
pub(crate) async fn write_all_vectored<W: AsyncWrite + Unpin>(
    io: &mut W,
    mut bufs: &mut [IoSlice<'_>],
) -> io::Result<()> {
    IoSlice::advance_slices(&mut bufs, 0);
    while !bufs.is_empty() {
        // One buffer left: a plain write, which costs the kernel less than a vectored one.
        let n = match bufs {
            [first, rest @ ..] if rest.iter().all(|b| b.is_empty()) => io.write(first).await?,
            _ => io.write_vectored(bufs).await?,
        };
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut bufs, n);
    }
    Ok(())
}

/// Reads and drops whatever arrives until end of stream, into the stack buffer (no memory
/// held). Use under a timeout.
pub(crate) async fn drain<R: AsyncRead + Unpin>(io: &mut R) {
    poll_fn(|cx| loop {
        let mut stack = [MaybeUninit::<u8>::uninit(); STACK_READ];
        let mut rb = ReadBuf::uninit(&mut stack);
        match ready!(Pin::new(&mut *io).poll_read(cx, &mut rb)) {
            Ok(()) if rb.filled().is_empty() => return Poll::Ready(()),
            Ok(()) => continue,
            Err(_) => return Poll::Ready(()),
        }
    })
    .await;
}

/// Closes a connection gracefully: sends FIN, then reads and drops what the peer still sends
/// until it closes too or `linger` passes, so that unread bytes do not make the kernel answer
/// with a reset that could destroy the last response before the peer reads it.
pub(crate) async fn linger_close<Io: AsyncRead + AsyncWrite + Unpin>(
    io: &mut Io,
    linger: Duration,
) {
    let _ = tokio::time::timeout(linger, async {
        if io.shutdown().await.is_ok() {
            drain(io).await;
        }
    })
    .await;
}
