//! The write lane: a session's TCP stream, shared with the tasks that emit to it.
//!
//! A broadcast to a room of a thousand idle connections would wake a thousand session
//! tasks, each to write one frame: most of what a delivery costs would be the wake-up and
//! the turn, not the write. So while a session task waits with nothing of its own to write,
//! and its Engine.IO session would send a message at once and unchanged on its WebSocket
//! ([`engineio::Session::direct_websocket`]), the task *opens its lane* to the application
//! layer ([`SessionApp::open_lane`](super::SessionApp::open_lane)). An emitter that finds
//! the lane open appends the message's frames to the lane's *pending* bytes, and the
//! server's [`Flusher`] task writes every lane that has pending bytes, each with one
//! `send`: a member that got several broadcasts meanwhile gets them in one write, and no
//! session task is woken. The session task closes the lane as soon as it wakes.
//!
//! What keeps the stream whole:
//! - every write to the stream, the task's and the flusher's, happens under the lane's
//!   lock, and the pending bytes go before any other;
//! - an emitter queues only while the lane is open, which the application layer checks
//!   under the lock of the connection's command queue, with nothing queued there: a message
//!   can never overtake one queued before it;
//! - any write of the task's own closes the lane first: the task may write while it waits
//!   (the WebSocket layer answers a ping, or echoes a close frame and shuts the stream), and
//!   no emitter's frame may follow a close frame;
//! - the pending bytes are bounded ([`MAX_PENDING`]); past that, or when the socket does not
//!   take them, the lane closes and the session task is woken: it writes them as part of
//!   its own writes, within the heartbeat like those, and what comes next waits in the
//!   connection's queue under its usual bounds.
//!
//! Only a plain TCP stream is shared this way ([`SessionStream::new`] finds it by type):
//! other streams (TLS, a stream behind hyper's `Upgraded`) keep their state in the object
//! that owns them, so their sessions go on waking for every message.

use std::any::Any;
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use engineio::WsFrame;
use tokio::io::Interest;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::app::Signal;
use crate::ws::{FrameHeader, OpCode, MAX_HEADER_LEN};

/// Most messages one emit queues on a lane (a packet and its attachments); a packet with
/// more attachments goes through the session task.
const MAX_MESSAGES: usize = 8;

/// Most bytes a lane holds for the flusher.
pub(crate) const MAX_PENDING: usize = 256 * 1024;

/// Payloads up to this size are copied next to their header (one buffer for many small
/// frames); larger ones are referenced.
const COPY_LIMIT: usize = 512;

/// Most buffers one vectored write takes.
const MAX_IOV: usize = 64;

/// The stream a session's WebSockets run on: owned by the session task, or a TCP stream
/// whose writes go through a [`WriteLane`].
#[derive(Debug)]
pub(crate) enum SessionStream<Io> {
    /// A stream the session task alone reads and writes.
    Owned(Io),
    /// A TCP stream, read by the session task and written through the lane (which holds
    /// it: one allocation for both).
    Shared(Arc<WriteLane>),
}

impl<Io: 'static> SessionStream<Io> {
    /// The stream of a session's WebSocket: a [`TcpStream`] goes into a lane, so that its
    /// writes can be shared; any other stream stays as it is.
    pub(crate) fn new(io: Io) -> Self {
        let mut slot = Some(io);
        let tcp = (&mut slot as &mut dyn Any)
            .downcast_mut::<Option<TcpStream>>()
            .and_then(Option::take);
        match (tcp, slot) {
            (Some(stream), _) => SessionStream::Shared(Arc::new(WriteLane {
                stream,
                open: AtomicBool::new(false),
                dirty: AtomicBool::new(false),
                pending: Mutex::new(None),
            })),
            (None, Some(io)) => SessionStream::Owned(io),
            (None, None) => unreachable!("the stream is taken only when it is a TcpStream"),
        }
    }
}

impl<Io> SessionStream<Io> {
    /// The lane other tasks can write through, for a TCP stream.
    pub(crate) fn lane(&self) -> Option<&Arc<WriteLane>> {
        match self {
            SessionStream::Owned(_) => None,
            SessionStream::Shared(lane) => Some(lane),
        }
    }

    /// Whether bytes emitters queued on the lane wait to be written.
    pub(crate) fn has_pending(&self) -> bool {
        self.lane().is_some_and(|lane| lane.has_pending())
    }
}

/// A lane with pending bytes, and what wakes its session task.
type DirtyLane = (Arc<WriteLane>, Arc<dyn Signal>);

/// The task that writes the lanes emitters queued bytes on (one per Socket.IO server).
#[derive(Debug)]
pub(crate) struct Flusher {
    /// Lanes with pending bytes, in the order they got them, each with what wakes its
    /// session task.
    dirty: Mutex<Vec<DirtyLane>>,
    wake: Notify,
    stopped: AtomicBool,
}

impl Flusher {
    /// Starts the flusher task on the current runtime.
    pub(crate) fn start() -> Arc<Flusher> {
        let flusher = Arc::new(Flusher {
            dirty: Mutex::new(Vec::new()),
            wake: Notify::new(),
            stopped: AtomicBool::new(false),
        });
        tokio::spawn(flusher.clone().run());
        flusher
    }

    /// Ends the task (its engine is gone).
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    async fn run(self: Arc<Self>) {
        let mut list = Vec::new();
        loop {
            self.wake.notified().await;
            if self.stopped.load(Ordering::Acquire) {
                return;
            }
            std::mem::swap(&mut list, &mut *lock(&self.dirty));
            for (lane, wake) in list.drain(..) {
                lane.flush_pending(&wake);
            }
        }
    }

    fn add(&self, lane: Arc<WriteLane>, wake: Arc<dyn Signal>) {
        let mut dirty = lock(&self.dirty);
        let first = dirty.is_empty();
        dirty.push((lane, wake));
        drop(dirty);
        if first {
            // A permit is kept if the task is busy: it looks again after its round.
            self.wake.notify_one();
        }
    }
}

/// A mutex whose data stays usable after a panic elsewhere: what it guards is updated in
/// single steps that leave it consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Bytes emitters queued on a lane, in order: `segments`, then `tail`.
#[derive(Debug, Default)]
struct Pending {
    /// Buffers written whole, the first from `offset`.
    segments: VecDeque<Bytes>,
    offset: usize,
    /// Headers and small payloads, copied together.
    tail: BytesMut,
    /// Bytes not written yet.
    len: usize,
}

impl Pending {
    fn push(&mut self, head: &[u8], data: &Bytes) {
        self.tail.extend_from_slice(head);
        if data.len() <= COPY_LIMIT {
            self.tail.extend_from_slice(data);
        } else {
            let copied = self.tail.split().freeze();
            self.segments.push_back(copied);
            self.segments.push_back(data.clone());
        }
        self.len += head.len() + data.len();
    }

    /// Fills `iov` with the unwritten bytes, in order; returns how many buffers.
    fn slices<'a>(&'a self, iov: &mut [IoSlice<'a>; MAX_IOV]) -> usize {
        let mut n = 0;
        for (i, segment) in self.segments.iter().enumerate().take(MAX_IOV) {
            let from = if i == 0 { self.offset } else { 0 };
            iov[n] = IoSlice::new(&segment[from..]);
            n += 1;
        }
        if n < MAX_IOV && !self.tail.is_empty() {
            iov[n] = IoSlice::new(&self.tail);
            n += 1;
        }
        n
    }

    fn advance(&mut self, mut n: usize) {
        self.len -= n;
        while n > 0 {
            match self.segments.front() {
                Some(front) => {
                    let left = front.len() - self.offset;
                    if n >= left {
                        n -= left;
                        self.segments.pop_front();
                        self.offset = 0;
                    } else {
                        self.offset += n;
                        n = 0;
                    }
                }
                None => {
                    self.tail.advance(n);
                    n = 0;
                }
            }
        }
    }
}

/// A session's TCP stream and the lock every write to it takes. Kept small: every idle
/// WebSocket connection has one (what the flusher needs comes with each emit).
pub(crate) struct WriteLane {
    stream: TcpStream,
    /// Emitters may queue. Read under the lock by emitters; cleared without it by the
    /// task, whose writes then take the lock and write what was queued first.
    open: AtomicBool,
    /// In the flusher's list (changed under the lock).
    dirty: AtomicBool,
    /// The bytes emitters queued; `None` while there are none (nearly always, for an idle
    /// connection). The lock every write takes.
    pending: Mutex<Option<Box<Pending>>>,
}

impl std::fmt::Debug for WriteLane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteLane")
            .field("open", &self.open)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl WriteLane {
    /// Lets emitters queue (the application layer, when the session task is about to wait
    /// with nothing to write). The task's next wake or write closes it.
    pub(crate) fn open(&self) {
        self.open.store(true, Ordering::Release);
    }

    /// Whether emitters may queue now (a hint: [`queue_frames`](Self::queue_frames) decides
    /// under the lock).
    pub(crate) fn is_open(&self) -> bool {
        self.open.load(Ordering::Relaxed)
    }

    /// Stops emitters from queueing (the session task, on waking).
    pub(crate) fn close(&self) {
        self.open.store(false, Ordering::Release);
    }

    /// Whether bytes emitters queued wait to be written.
    pub(crate) fn has_pending(&self) -> bool {
        lock(&self.pending).is_some()
    }

    /// Queues Engine.IO WebSocket frames (each one WebSocket message) for `flusher`, which
    /// rings `wake` (the session task) if the socket does not take them. `false` when the
    /// lane is closed, full, or the frames are more than one emit queues on a lane: nothing
    /// is queued, the caller hands them to the session task instead.
    pub(crate) fn queue_frames(
        self: &Arc<Self>,
        frames: &[WsFrame],
        flusher: &Flusher,
        wake: &Arc<dyn Signal>,
    ) -> bool {
        if frames.len() > MAX_MESSAGES {
            return false;
        }
        let mut guard = lock(&self.pending);
        if !self.open.load(Ordering::Acquire) {
            return false;
        }
        let size: usize = frames.iter().map(|f| MAX_HEADER_LEN + 1 + f.len()).sum();
        if guard.as_ref().map_or(0, |p| p.len) + size > MAX_PENDING {
            self.close();
            return false;
        }
        let pending = guard.get_or_insert_with(Box::default);
        for frame in frames {
            let (opcode, prefix, data) = match frame {
                WsFrame::Text { prefix, data } => (OpCode::Text, Some(*prefix), data),
                WsFrame::Binary(data) => (OpCode::Binary, None, data),
            };
            let mut head = [0u8; MAX_HEADER_LEN + 1];
            let (header, mut n) = FrameHeader::server(opcode, frame.len() as u64);
            head[..n].copy_from_slice(&header[..n]);
            if let Some(prefix) = prefix {
                head[n] = prefix;
                n += 1;
            }
            pending.push(&head[..n], data);
        }
        // Under the lock: the flusher clears it under the lock before it writes.
        let newly_dirty = !self.dirty.swap(true, Ordering::AcqRel);
        drop(guard);
        if newly_dirty {
            flusher.add(self.clone(), wake.clone());
        }
        true
    }

    /// Writes the pending bytes as far as the socket takes them now (the flusher). What it
    /// does not take closes the lane and wakes the session task, which finishes it.
    fn flush_pending(&self, wake: &Arc<dyn Signal>) {
        let mut pending = lock(&self.pending);
        self.dirty.store(false, Ordering::Release);
        if self.try_write_pending(&mut pending).is_err() {
            // Would block, or broken (the task finds out when it writes or reads).
            self.close();
            drop(pending);
            wake.ring();
        }
    }

    /// Writes the pending bytes; `WouldBlock` when the socket takes no more.
    fn try_write_pending(&self, pending: &mut Option<Box<Pending>>) -> io::Result<()> {
        let Some(p) = pending.as_mut() else {
            return Ok(());
        };
        while p.len > 0 {
            let mut iov = [IoSlice::new(&[]); MAX_IOV];
            let n = p.slices(&mut iov);
            let written = if n == 1 {
                self.stream.try_write(&iov[0])
            } else {
                self.stream.try_write_vectored(&iov[..n])
            };
            match written {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(k) => p.advance(k),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        *pending = None;
        Ok(())
    }

    /// The session task's write: closes the lane, writes the pending bytes, then `write`.
    fn poll_write_with(
        &self,
        cx: &mut Context<'_>,
        write: impl Fn(&TcpStream) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            self.close();
            ready!(self.stream.poll_write_ready(cx))?;
            let mut pending = lock(&self.pending);
            let result = self
                .try_write_pending(&mut pending)
                .and_then(|()| write(&self.stream));
            match result {
                // The readiness is cleared: the next poll registers the waker.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }

    /// The session task's read: one `recv`. A read that does not fill `buf` drained the
    /// socket, so its readiness is cleared at once, as tokio's own stream does (the next poll
    /// waits for the next report instead of trying a `recv` that would find nothing).
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.stream.poll_read_ready(cx))?;
            let wanted = buf.remaining();
            let mut got = 0;
            // The readiness is cleared by the tick it had before the read: a report that
            // came during the read is kept.
            let result = self.stream.try_io(Interest::READABLE, || {
                got = self.stream.try_read_buf(buf)?;
                if got > 0 && got < wanted {
                    Err(io::ErrorKind::WouldBlock.into())
                } else {
                    Ok(())
                }
            });
            match result {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && got > 0 => {
                    return Poll::Ready(Ok(()))
                }
                // Nothing to read: the next poll registers the waker.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// The session task's flush: closes the lane and writes the pending bytes.
    fn poll_write_pending(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            self.close();
            if lock(&self.pending).is_none() {
                return Poll::Ready(Ok(()));
            }
            ready!(self.stream.poll_write_ready(cx))?;
            match self.try_write_pending(&mut lock(&self.pending)) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for SessionStream<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            SessionStream::Owned(io) => Pin::new(io).poll_read(cx, buf),
            SessionStream::Shared(lane) => lane.poll_read(cx, buf),
        }
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for SessionStream<Io> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            SessionStream::Owned(io) => Pin::new(io).poll_write(cx, buf),
            SessionStream::Shared(lane) => lane.poll_write_with(cx, |w| w.try_write(buf)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            SessionStream::Owned(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            SessionStream::Shared(lane) => lane.poll_write_with(cx, |w| w.try_write_vectored(bufs)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            SessionStream::Owned(io) => io.is_write_vectored(),
            SessionStream::Shared(_) => true,
        }
    }

    /// Also writes what emitters queued on a shared stream.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            SessionStream::Owned(io) => Pin::new(io).poll_flush(cx),
            SessionStream::Shared(lane) => lane.poll_write_pending(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            SessionStream::Owned(io) => Pin::new(io).poll_shutdown(cx),
            SessionStream::Shared(lane) => {
                ready!(lane.poll_write_pending(cx))?;
                // The connection's queue and the flusher hold the lane too: shut the write
                // side through the socket itself, as the write half would.
                let socket = socket2::SockRef::from(&lane.stream);
                match socket.shutdown(std::net::Shutdown::Write) {
                    Err(e) if e.kind() != io::ErrorKind::NotConnected => Poll::Ready(Err(e)),
                    _ => Poll::Ready(Ok(())),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::engine::TestSignal;

    /// What an emitter hands a lane with its frames: the flusher, and the session's signal.
    struct Emitter {
        flusher: Arc<Flusher>,
        signal: Arc<TestSignal>,
    }

    impl Emitter {
        fn queue(&self, lane: &Arc<WriteLane>, frames: &[WsFrame]) -> bool {
            let wake: Arc<dyn Signal> = self.signal.clone();
            lane.queue_frames(frames, &self.flusher, &wake)
        }
    }

    /// A loopback pair: the session's side as a `SessionStream`, and the client's stream.
    async fn pair() -> (SessionStream<TcpStream>, TcpStream, Emitter) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let emitter = Emitter {
            flusher: Flusher::start(),
            signal: TestSignal::new(),
        };
        (SessionStream::new(server), client, emitter)
    }

    fn text(data: &'static str) -> WsFrame {
        WsFrame::Text {
            prefix: b'4',
            data: Bytes::from_static(data.as_bytes()),
        }
    }

    async fn read_exactly(client: &mut TcpStream, n: usize) -> Vec<u8> {
        let mut got = vec![0u8; n];
        tokio::time::timeout(Duration::from_secs(10), client.read_exact(&mut got))
            .await
            .expect("the bytes arrive")
            .unwrap();
        got
    }

    /// The unwritten bytes, and the buffers they are in.
    fn unwritten(p: &Pending) -> (Vec<u8>, Vec<usize>) {
        let mut iov = [IoSlice::new(&[]); MAX_IOV];
        let n = p.slices(&mut iov);
        let bytes = iov[..n].iter().flat_map(|s| s.iter().copied()).collect();
        (
            bytes,
            iov[..n].iter().map(|s| s.as_ptr() as usize).collect(),
        )
    }

    #[test]
    fn pending_bytes_keep_their_order_and_reference_large_payloads() {
        let mut p = Pending::default();
        let large = Bytes::from(vec![7u8; COPY_LIMIT + 1]);
        p.push(b"h1", &Bytes::from_static(b"small"));
        p.push(b"h2", &large);
        p.push(b"h3", &Bytes::from_static(b"x"));
        let mut expected = b"h1smallh2".to_vec();
        expected.extend_from_slice(&large);
        expected.extend_from_slice(b"h3x");
        let (bytes, buffers) = unwritten(&p);
        assert_eq!(bytes, expected);
        assert_eq!(p.len, expected.len());
        assert!(
            buffers.contains(&(large.as_ptr() as usize)),
            "the large payload is referenced, not copied"
        );
        // Written in pieces that cut through every kind of buffer.
        p.advance(4);
        p.advance(COPY_LIMIT);
        let (rest, _) = unwritten(&p);
        assert_eq!(rest, expected[4 + COPY_LIMIT..]);
        p.advance(rest.len());
        assert_eq!(p.len, 0);
        assert!(unwritten(&p).0.is_empty());
    }

    #[tokio::test]
    async fn a_closed_lane_takes_nothing_and_an_open_one_is_flushed() {
        let (stream, mut client, emitter) = pair().await;
        let lane = stream.lane().expect("a TCP stream is shared").clone();
        assert!(
            !emitter.queue(&lane, &[text("early")]),
            "closed until opened"
        );
        lane.open();
        assert!(emitter.queue(
            &lane,
            &[text("a"), WsFrame::Binary(Bytes::from_static(b"\x01"))]
        ));
        assert!(emitter.queue(&lane, &[text("b")]));
        // The flusher writes both emits; the client reads the frames in order.
        assert_eq!(
            read_exactly(&mut client, 11).await,
            b"\x81\x024a\x82\x01\x01\x81\x024b"
        );
        let frames = vec![text("x"); MAX_MESSAGES + 1];
        assert!(
            !emitter.queue(&lane, &frames),
            "more messages than one emit queues"
        );
    }

    #[tokio::test]
    async fn the_task_writes_after_the_pending_bytes_and_closes_the_lane() {
        let (mut stream, mut client, emitter) = pair().await;
        let lane = stream.lane().unwrap().clone();
        lane.open();
        // Queued, and the task writes before the flusher gets to run (same thread).
        assert!(emitter.queue(&lane, &[text("first")]));
        stream.write_all(b"then").await.unwrap();
        assert!(
            !emitter.queue(&lane, &[text("late")]),
            "the task's write closed the lane"
        );
        assert_eq!(read_exactly(&mut client, 12).await, b"\x81\x064firstthen");
    }

    /// A client that does not read: the flusher stops at what the socket takes, the lane
    /// closes and the task is woken; the task's flush finishes once the client reads.
    #[tokio::test]
    async fn a_client_that_does_not_read_hands_the_rest_to_the_task() {
        let (mut stream, mut client, emitter) = pair().await;
        let lane = stream.lane().unwrap().clone();
        let chunk = Bytes::from(vec![b'z'; 60 * 1024]);
        let mut queued = 0;
        let rung = emitter.signal.notify.notified();
        tokio::pin!(rung);
        rung.as_mut().enable();
        // Queue until the lane closes: the flusher found the socket full and gave up.
        for _ in 0..10_000 {
            lane.open();
            if !emitter.queue(&lane, &[WsFrame::Binary(chunk.clone())]) {
                break;
            }
            queued += 1;
            tokio::task::yield_now().await;
            if lane.has_pending() && !lane.open.load(Ordering::Acquire) {
                break;
            }
        }
        tokio::time::timeout(Duration::from_secs(10), rung)
            .await
            .expect("the session task is woken");
        assert!(lane.has_pending(), "the rest waits for the task");
        assert!(!emitter.queue(&lane, &[text("x")]), "closed");
        let expected = queued * (4 + chunk.len());
        let reader = tokio::spawn(async move {
            let mut total = 0usize;
            let mut buf = vec![0u8; 64 * 1024];
            while total < expected {
                let n = client.read(&mut buf).await.unwrap();
                assert_ne!(n, 0, "the stream ended early");
                total += n;
            }
            total
        });
        poll_fn(|cx| Pin::new(&mut stream).poll_flush(cx))
            .await
            .unwrap();
        assert!(!lane.has_pending());
        assert_eq!(reader.await.unwrap(), expected);
    }

    /// The connection's queue holds the lane for the session's life: shutting the stream
    /// down still ends the client's side of it (after what was pending).
    #[tokio::test]
    async fn shutdown_ends_the_stream_while_others_hold_the_lane() {
        let (mut stream, mut client, emitter) = pair().await;
        let held = stream.lane().unwrap().clone();
        held.open();
        assert!(emitter.queue(&held, &[text("last")]));
        stream.shutdown().await.unwrap();
        let mut got = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut got))
            .await
            .expect("the client sees the end")
            .unwrap();
        assert_eq!(got, b"\x81\x054last");
        assert!(
            !emitter.queue(&held, &[text("after")]),
            "closed by the shutdown"
        );
    }

    /// Reads through the lane's stream: what arrives in pieces is read as it comes, and the
    /// end of the stream reads as 0.
    #[tokio::test]
    async fn the_task_reads_what_arrives_and_the_end() {
        let (mut stream, mut client, _emitter) = pair().await;
        let mut buf = [0u8; 64];
        client.write_all(b"abc").await.unwrap();
        assert_eq!(stream.read(&mut buf).await.unwrap(), 3);
        assert_eq!(&buf[..3], b"abc");
        let later = tokio::spawn(async move {
            tokio::task::yield_now().await;
            client.write_all(b"defg").await.unwrap();
            client
        });
        assert_eq!(
            stream.read(&mut buf).await.unwrap(),
            4,
            "woken for the next bytes"
        );
        assert_eq!(&buf[..4], b"defg");
        drop(later.await.unwrap());
        assert_eq!(stream.read(&mut buf).await.unwrap(), 0);
    }

    /// A message larger than what a lane holds is not taken (it goes through the session
    /// task), leaves nothing pending, and closes the lane.
    #[tokio::test]
    async fn a_message_over_the_bound_is_left_to_the_task() {
        let (stream, _client, emitter) = pair().await;
        let lane = stream.lane().unwrap().clone();
        lane.open();
        let large = WsFrame::Binary(Bytes::from(vec![0u8; MAX_PENDING]));
        assert!(!emitter.queue(&lane, &[large]));
        assert!(!lane.has_pending(), "nothing left behind");
        assert!(!emitter.queue(&lane, &[text("small")]), "closed");
    }

    #[test]
    fn any_other_stream_stays_the_tasks_own() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let _guard = rt.enter();
        let (a, _b) = tokio::io::duplex(64);
        let stream = SessionStream::new(a);
        assert!(matches!(stream, SessionStream::Owned(_)));
        assert!(stream.lane().is_none() && !stream.has_pending());
    }
}
