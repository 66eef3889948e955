//! The order requests arrive in, across connections.
//!
//! Each connection runs in a task of its own, and tasks run in whatever order the runtime
//! picks: tokio runs the task woken last first (its LIFO slot) and lets another worker steal
//! the rest. So two requests that arrive on two connections, one just after the other, are
//! read, and reach the engine, in either order. The order in which the runtime *woke* the
//! connections is the order the operating system reported their bytes readable, the order an
//! event loop such as Node's handles them in: that is what a request's [`Arrival`] records.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

static NEXT: AtomicU64 = AtomicU64::new(1);

/// When a request arrived, as a place in one order shared by every connection of the process:
/// a request that arrived later has a larger arrival, whichever task read it first. No two
/// requests have the same.
///
/// It is the moment the runtime woke the connection for the request's last bytes; or, when
/// they were there before the connection was watched for them, the moment it began watching
/// (its accept, or the end of the request before).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Arrival(u64);

impl Arrival {
    /// Now: later than every arrival taken before.
    pub fn now() -> Arrival {
        Arrival(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// Its place in the order.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// The waker a connection's reads register: it notes the moment of each wake, then wakes
/// the connection's task.
#[derive(Debug)]
struct Watch {
    /// The latest wake's [`Arrival`] (0: none yet).
    woken: AtomicU64,
    /// The task reading the connection.
    task: Mutex<Option<Waker>>,
}

impl Watch {
    /// Wakes `task` on the next wake.
    fn register(&self, task: &Waker) {
        let mut slot = self
            .task
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match slot.as_mut() {
            Some(slot) if slot.will_wake(task) => {}
            Some(slot) => slot.clone_from(task),
            None => *slot = Some(task.clone()),
        }
    }
}

impl Wake for Watch {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.fetch_max(Arrival::now().0, Ordering::AcqRel);
        let task = self
            .task
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(task) = task.as_ref() {
            task.wake_by_ref();
        }
    }
}

/// A connection's stream, noting when its reads are woken: reads register a waker of their
/// own that records the moment, writes pass through.
pub(crate) struct Watched<Io> {
    io: Io,
    watch: Arc<Watch>,
    /// `watch` as a waker, made once.
    waker: Waker,
    /// When the connection began watching for the request being read.
    since: Arrival,
}

impl<Io> Watched<Io> {
    /// `io`, watched for a request from now on.
    pub(crate) fn new(io: Io) -> Self {
        let watch = Arc::new(Watch {
            woken: AtomicU64::new(0),
            task: Mutex::new(None),
        });
        Watched {
            io,
            waker: Waker::from(watch.clone()),
            watch,
            since: Arrival::now(),
        }
    }

    /// The request being read is complete: what arrives from now on is the next one's.
    pub(crate) fn next_request(&mut self) {
        self.since = Arrival::now();
    }

    /// The arrival of the request read since [`next_request`](Self::next_request): the
    /// latest wake since then, or that moment if there was none.
    pub(crate) fn arrival(&self) -> Arrival {
        Arrival(self.since.0.max(self.watch.woken.load(Ordering::Acquire)))
    }

    pub(crate) fn into_inner(self) -> Io {
        self.io
    }

    /// A handle that tells, from another task, when this connection's latest request
    /// arrived; for a server that reads requests itself (hyper) and cannot say where one ends.
    #[cfg(feature = "tower")]
    pub(crate) fn clock(&self) -> ArrivalClock {
        ArrivalClock {
            watch: self.watch.clone(),
            since: self.since,
        }
    }
}

/// When a connection's latest request arrived, as seen from the task that answers it: the
/// latest wake of the connection's reads, or when it began watching if none came since.
///
/// Taken when a request's head has been read, it is that request's arrival, unless more
/// requests were already waiting behind it on the same connection (pipelined), which then
/// share the first one's.
#[derive(Clone, Debug)]
pub struct ArrivalClock {
    watch: Arc<Watch>,
    since: Arrival,
}

impl ArrivalClock {
    /// The latest request's arrival.
    pub fn arrival(&self) -> Arrival {
        Arrival(self.since.0.max(self.watch.woken.load(Ordering::Acquire)))
    }
}

impl Watched<tokio::net::TcpStream> {
    /// A connection just accepted, watched from now on.
    ///
    /// The runtime takes an accepted stream as readable and reads it before any report, so
    /// no wake would say when its first bytes came. An event loop handles them in the order
    /// the operating system reports readiness, where a socket registered with bytes waiting
    /// comes after every report pending before. So the stream is registered again, now, as
    /// a stream the runtime reads only once reported, and the watch waits for that report.
    ///
    /// # Errors
    /// The runtime could not register the stream (the connection is then dropped).
    pub(crate) fn accepted(stream: tokio::net::TcpStream) -> std::io::Result<Self> {
        let stream = tokio::net::TcpStream::from_std(stream.into_std()?)?;
        let mut watched = Watched::new(stream);
        if watched
            .io
            .poll_read_ready(&mut Context::from_waker(&watched.waker))
            .is_ready()
        {
            // Reported already, between the registration and now.
            watched.since = Arrival::now();
        }
        Ok(watched)
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for Watched<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        this.watch.register(cx.waker());
        Pin::new(&mut this.io).poll_read(&mut Context::from_waker(&this.waker), buf)
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Watched<Io> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[test]
    fn arrivals_grow() {
        let a = Arrival::now();
        let b = Arrival::now();
        assert!(a < b);
    }

    /// Bytes already there when the connection began waiting arrived then; bytes the
    /// connection waited for arrived when the read was woken.
    #[tokio::test]
    async fn a_request_arrives_when_its_read_is_woken() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut watched = Watched::new(server);
        client.write_all(b"ready").await.unwrap();
        let mut buf = [0u8; 8];
        let before = Arrival::now();
        assert_eq!(watched.read(&mut buf).await.unwrap(), 5);
        assert!(watched.arrival() < before, "it was there already");

        watched.next_request();
        let waiting = Arrival::now();
        let sent;
        {
            let mut read = std::pin::pin!(watched.read(&mut buf));
            let pending =
                std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx).is_pending())).await;
            assert!(pending, "nothing to read yet");
            sent = Arrival::now();
            client.write_all(b"later").await.unwrap();
            assert_eq!(read.await.unwrap(), 5);
        }
        let arrival = watched.arrival();
        assert!(arrival > waiting && arrival > sent, "woken after the write");
    }
}
