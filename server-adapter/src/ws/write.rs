//! The write side of a WebSocket: frames go out with one vectored write (header and payload
//! buffers side by side, never copied), and whatever the stream does not take at once waits in
//! a queue of segments that survives a cancelled send.
//!
//! Policy and bounds:
//! - a send first finishes what is queued, then writes its batch straight from the caller's
//!   buffers; only if the stream takes part of it is the rest queued (as references to the same
//!   buffers), so the queue holds at most one batch, and the sender waits until it is written:
//!   backpressure is the socket's own buffer;
//! - a caller may instead queue messages (references again) and flush them, with one vectored
//!   write where the stream takes them at once; it bounds what it queues before a flush;
//! - pongs are queued behind whole frames, at most [`MAX_QUEUED_PONGS`] at a time; a ping past
//!   that replaces a single pending pong sent when the queue drains (RFC 6455 §5.5.3 allows
//!   answering only the latest ping);
//! - after a close frame is queued nothing more is, pongs included;
//! - the queue releases its allocation whenever it drains.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;

use super::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
use super::message::Outgoing;

/// Most buffers given to one vectored write (frame headers and payload chunks).
pub(crate) const MAX_IOV: usize = 64;

/// Queued bytes up to this size are copied into one buffer and written with a plain write
/// rather than a vectored one (small frames: a header, an Engine.IO prefix, a payload).
const GATHER_LIMIT: usize = 2048;

/// Most pongs queued and not yet written.
pub const MAX_QUEUED_PONGS: usize = 16;

#[derive(Debug)]
enum Segment {
    Header([u8; MAX_HEADER_LEN], u8),
    Payload(Bytes),
}

impl Segment {
    fn bytes(&self) -> &[u8] {
        match self {
            Segment::Header(h, n) => &h[..usize::from(*n)],
            Segment::Payload(b) => b,
        }
    }

    fn header(opcode: OpCode, len: u64) -> Segment {
        let (h, n) = FrameHeader::server(opcode, len);
        Segment::Header(h, n as u8)
    }
}

fn opcode_of(msg: &Outgoing<'_>) -> OpCode {
    match msg {
        Outgoing::Text(_) => OpCode::Text,
        Outgoing::Binary(_) => OpCode::Binary,
    }
}

/// Frames waiting to be written; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct WriteQueue {
    segments: Vec<Segment>,
    /// The first segment not fully written, and how much of it is.
    next: usize,
    offset: usize,
    /// Pongs among the queued segments.
    queued_pongs: usize,
    /// The pong for the latest ping that found the queue full of pongs.
    late_pong: Option<Bytes>,
    /// A close frame is queued.
    closed: bool,
}

impl WriteQueue {
    /// Whether nothing waits to be written.
    pub(crate) fn is_idle(&self) -> bool {
        self.next == self.segments.len() && self.late_pong.is_none()
    }

    fn push_frame(&mut self, opcode: OpCode, payload: Bytes) {
        self.segments
            .push(Segment::header(opcode, payload.len() as u64));
        if !payload.is_empty() {
            self.segments.push(Segment::Payload(payload));
        }
    }

    /// Queues bytes to write as they are, before anything queued later (the `101` head of an
    /// upgrade that deferred it).
    pub(crate) fn push_raw(&mut self, bytes: Bytes) {
        self.segments.push(Segment::Payload(bytes));
    }

    /// Queues a whole message (header and payload references) behind what is queued.
    pub(crate) fn push_message(&mut self, msg: &Outgoing<'_>) {
        if self.segments.capacity() == 0 {
            // Room for ten messages of three segments: a turn often queues several (a
            // broadcast burst), and growing from the smallest size reallocated two or three
            // times per write. Freed again when the queue drains.
            self.segments.reserve(32);
        }
        self.segments
            .push(Segment::header(opcode_of(msg), msg.payload_len()));
        let chunks = msg.chunks().iter().filter(|c| !c.is_empty());
        self.segments.extend(chunks.cloned().map(Segment::Payload));
    }

    /// Queues the answer to a ping.
    pub(crate) fn push_pong(&mut self, payload: Bytes) {
        if self.closed {
            return;
        }
        if self.queued_pongs < MAX_QUEUED_PONGS {
            self.queued_pongs += 1;
            self.push_frame(OpCode::Pong, payload);
        } else {
            self.late_pong = Some(payload);
        }
    }

    /// Queues a close frame (payload: status code and reason, or empty); the last frame queued.
    pub(crate) fn push_close(&mut self, payload: Bytes) {
        if !self.closed {
            self.late_pong = None;
            self.closed = true;
            self.push_frame(OpCode::Close, payload);
        }
    }

    fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let left = self.segments[self.next].bytes().len() - self.offset;
            if n < left {
                self.offset += n;
                return;
            }
            n -= left;
            self.next += 1;
            self.offset = 0;
        }
    }

    /// Writes what is queued; `Ready(Ok)` once nothing is.
    pub(crate) fn poll_flush<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if self.next == self.segments.len() {
                self.segments = Vec::new();
                self.next = 0;
                self.offset = 0;
                self.queued_pongs = 0;
                match self.late_pong.take() {
                    Some(payload) => self.push_frame(OpCode::Pong, payload),
                    None => return Poll::Ready(Ok(())),
                }
            }
            let mut iov = [IoSlice::new(&[]); MAX_IOV];
            let mut count = 0;
            for (slot, seg) in iov.iter_mut().zip(&self.segments[self.next..]) {
                let bytes = seg.bytes();
                *slot = IoSlice::new(if count == 0 {
                    &bytes[self.offset..]
                } else {
                    bytes
                });
                count += 1;
            }
            let iov = &iov[..count];
            let total: usize = iov.iter().map(|s| s.len()).sum();
            // A plain write costs the kernel less than a vectored one: one buffer goes out as
            // it is, a few small ones are gathered first, large ones stay zero-copy.
            let written = if count == 1 {
                ready!(Pin::new(&mut *io).poll_write(cx, &iov[0]))?
            } else if total <= GATHER_LIMIT {
                let mut gathered = [0u8; GATHER_LIMIT];
                let mut at = 0;
                for slice in iov {
                    gathered[at..at + slice.len()].copy_from_slice(slice);
                    at += slice.len();
                }
                ready!(Pin::new(&mut *io).poll_write(cx, &gathered[..total]))?
            } else {
                ready!(Pin::new(&mut *io).poll_write_vectored(cx, iov))?
            };
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.advance(written);
        }
    }

    /// Writes a batch of messages with one vectored write when the queue is idle, queueing what
    /// the stream does not take. `Pending` means nothing was written and nothing queued;
    /// `Ready(Ok)` means the batch is written or queued (flush to finish).
    pub(crate) fn poll_write_batch<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
        msgs: &[Outgoing<'_>],
    ) -> Poll<io::Result<()>> {
        debug_assert!(self.is_idle(), "flush before writing a batch");
        if self.closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let slices: usize = msgs
            .iter()
            .map(|m| 1 + m.chunks().iter().filter(|c| !c.is_empty()).count())
            .sum();
        if msgs.is_empty() {
            return Poll::Ready(Ok(()));
        }
        if slices > MAX_IOV {
            // More buffers than one write takes: queue them all and let `poll_flush` write them.
            msgs.iter().for_each(|m| self.push_message(m));
            return Poll::Ready(Ok(()));
        }
        // `msgs.len() <= slices <= MAX_IOV`: one header slot per message.
        let mut headers = [[0u8; MAX_HEADER_LEN]; MAX_IOV];
        let mut header_lens = [0usize; MAX_IOV];
        let mut total = 0;
        for (i, m) in msgs.iter().enumerate() {
            let len = m.payload_len();
            header_lens[i] = FrameHeader {
                fin: true,
                rsv: 0,
                opcode: opcode_of(m),
                mask: None,
                len,
            }
            .encode(&mut headers[i]);
            total += header_lens[i] + len as usize;
        }
        let mut iov = [IoSlice::new(&[]); MAX_IOV];
        let mut count = 0;
        for (i, m) in msgs.iter().enumerate() {
            iov[count] = IoSlice::new(&headers[i][..header_lens[i]]);
            count += 1;
            for chunk in m.chunks().iter().filter(|c| !c.is_empty()) {
                iov[count] = IoSlice::new(chunk);
                count += 1;
            }
        }
        let written = ready!(Pin::new(&mut *io).poll_write_vectored(cx, &iov[..count]))?;
        if written == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        if written < total {
            msgs.iter().for_each(|m| self.push_message(m));
            self.advance(written);
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    /// A writer that takes at most `step` bytes per write and records the writes.
    struct Trickle {
        step: usize,
        data: Vec<u8>,
        writes: usize,
        /// How many of `writes` were vectored.
        vectored: usize,
    }

    impl Trickle {
        fn new(step: usize) -> Trickle {
            Trickle {
                step,
                data: Vec::new(),
                writes: 0,
                vectored: 0,
            }
        }
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let n = buf.len().min(self.step);
            self.data.extend_from_slice(&buf[..n]);
            self.writes += 1;
            Poll::Ready(Ok(n))
        }
        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let mut n = 0;
            for b in bufs {
                let take = b.len().min(self.step - n);
                self.data.extend_from_slice(&b[..take]);
                n += take;
            }
            self.writes += 1;
            self.vectored += 1;
            Poll::Ready(Ok(n))
        }
        fn is_write_vectored(&self) -> bool {
            true
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    async fn send(q: &mut WriteQueue, w: &mut Trickle, msgs: &[Outgoing<'_>]) {
        poll_fn(|cx| q.poll_write_batch(w, cx, msgs)).await.unwrap();
        poll_fn(|cx| q.poll_flush(w, cx)).await.unwrap();
    }

    #[tokio::test]
    async fn one_write_for_a_batch_of_chunked_messages() {
        let mut q = WriteQueue::default();
        let mut w = Trickle::new(usize::MAX);
        let prefix = Bytes::from_static(b"4");
        let shared = Bytes::from_static(b"hello");
        let a = [prefix.clone(), shared.clone()];
        let b = [Bytes::new(), Bytes::from_static(&[1, 2])];
        send(&mut q, &mut w, &[Outgoing::Text(&a), Outgoing::Binary(&b)]).await;
        assert_eq!(w.writes, 1);
        assert_eq!(w.data, b"\x81\x064hello\x82\x02\x01\x02");
        assert!(q.is_idle());
        assert_eq!(
            q.segments.capacity(),
            0,
            "nothing queued, nothing allocated"
        );
    }

    #[tokio::test]
    async fn partial_writes_resume_where_they_stopped() {
        let payload = Bytes::from(vec![7u8; 300]);
        let chunks = [payload.clone()];
        for step in [1, 3, 4, 5, 299, 303, 304] {
            let mut q = WriteQueue::default();
            let mut w = Trickle::new(step);
            send(
                &mut q,
                &mut w,
                &[Outgoing::Binary(&chunks), Outgoing::Text(&[])],
            )
            .await;
            let mut expected = vec![0x82, 0x7E, 0x01, 0x2C];
            expected.extend_from_slice(&payload);
            expected.extend_from_slice(&[0x81, 0x00]);
            assert_eq!(w.data, expected, "step {step}");
        }
    }

    #[tokio::test]
    async fn batches_over_the_iov_limit_are_queued_and_written_whole() {
        let mut q = WriteQueue::default();
        let mut w = Trickle::new(usize::MAX);
        let one = [Bytes::from_static(b"x")];
        let msgs = vec![Outgoing::Text(&one); MAX_IOV];
        send(&mut q, &mut w, &msgs).await;
        assert_eq!(w.data, b"\x81\x01x".repeat(MAX_IOV));
        assert_eq!(w.writes, 2);
    }

    #[tokio::test]
    async fn pongs_are_bounded_and_the_latest_is_kept() {
        let mut q = WriteQueue::default();
        let mut w = Trickle::new(usize::MAX);
        for i in 0..MAX_QUEUED_PONGS + 5 {
            q.push_pong(Bytes::from(vec![i as u8]));
        }
        poll_fn(|cx| q.poll_flush(&mut w, cx)).await.unwrap();
        let mut expected = Vec::new();
        for i in (0..MAX_QUEUED_PONGS).chain([MAX_QUEUED_PONGS + 4]) {
            expected.extend_from_slice(&[0x8A, 0x01, i as u8]);
        }
        assert_eq!(w.data, expected);
        // Nothing follows a close frame.
        q.push_close(Bytes::from_static(&[0x03, 0xE8]));
        q.push_pong(Bytes::new());
        w.data.clear();
        poll_fn(|cx| q.poll_flush(&mut w, cx)).await.unwrap();
        assert_eq!(w.data, [0x88, 0x02, 0x03, 0xE8]);
    }

    #[tokio::test]
    async fn small_queued_frames_are_gathered_into_one_plain_write() {
        let mut q = WriteQueue::default();
        let mut w = Trickle::new(usize::MAX);
        let prefix = Bytes::from_static(b"4");
        let hello = [prefix.clone(), Bytes::from_static(b"hello")];
        q.push_message(&Outgoing::Text(&hello));
        q.push_message(&Outgoing::Binary(&[Bytes::from_static(&[7])]));
        poll_fn(|cx| q.poll_flush(&mut w, cx)).await.unwrap();
        assert_eq!(w.data, b"\x81\x064hello\x82\x01\x07");
        assert_eq!((w.writes, w.vectored), (1, 0));

        // Taken a few bytes at a time, the rest is gathered again from where it stopped.
        w = Trickle::new(3);
        q.push_message(&Outgoing::Text(&hello));
        poll_fn(|cx| q.poll_flush(&mut w, cx)).await.unwrap();
        assert_eq!(w.data, b"\x81\x064hello");
        assert_eq!((w.writes, w.vectored), (3, 0));

        // Past the limit, the buffers go out as they are.
        let big = Bytes::from(vec![b'x'; GATHER_LIMIT]);
        let mut w = Trickle::new(usize::MAX);
        q.push_message(&Outgoing::Text(&[prefix, big]));
        poll_fn(|cx| q.poll_flush(&mut w, cx)).await.unwrap();
        assert_eq!(w.data.len(), 4 + 1 + GATHER_LIMIT);
        assert_eq!((w.writes, w.vectored), (1, 1));
    }
}
