//! A session task's inbox: the requests, WebSocket streams and shutdown
//! notices other tasks hand it.
//!
//! Bounded at [`INBOX_CAPACITY`] inputs: a connection task routing a request
//! to a session whose inbox is full waits for room (backpressure, never a
//! drop). The inbox is also the session's [`Signal`]: inputs and the
//! application's queued commands ring it, and the session task waits on it
//! with [`Inbox::poll_signal`], a flag and a waker kept under the queue's
//! lock (a tokio `Notify` cost its own state here and a 64-byte `Notified`
//! in every waiting session's future). Its queue takes no heap memory while
//! at most one input waits: a WebSocket session, which seldom gets anything
//! here, pays only for the shared header. (A tokio `mpsc` channel allocated a
//! block of 32 slots for every session, a seventh of an idle connection.) The
//! session's [`SessionCounters`] live here too, in the same allocation.

use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use engineio::fifo::Fifo;
use tokio::sync::Semaphore;

use super::app::Signal;
use super::task::SessionInput;
use crate::metrics::{SessionCounters, Transport};

/// Most inputs waiting in one session's inbox.
pub(crate) const INBOX_CAPACITY: usize = 64;

struct State<Io> {
    queue: Fifo<SessionInput<Io>>,
    /// The session task has ended: nothing more is accepted.
    closed: bool,
    /// Rung since the session task last looked.
    rung: bool,
    /// The session task is in a turn: it looks at `rung` before it waits again, so a ring
    /// needs no wake-up (the task's own handlers ring while it runs them; waking a running
    /// task makes the runtime poll it once more, and may wake another worker to take it).
    awake: bool,
    /// The session task, while it waits.
    waker: Option<Waker>,
}

/// The inbox, shared by the session task (which receives) and the router
/// (through which other tasks send).
pub(crate) struct Inbox<Io> {
    state: Mutex<State<Io>>,
    /// One permit per free place; senders wait here for room.
    room: Semaphore,
    /// The session's counts, read by snapshots (see [`crate::metrics`]).
    pub(crate) counters: SessionCounters,
}

impl<Io> std::fmt::Debug for Inbox<Io> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox").finish_non_exhaustive()
    }
}

impl<Io> Inbox<Io> {
    /// An empty inbox, for a session opened over `transport`.
    pub(crate) fn new(transport: Transport) -> Self {
        Inbox {
            state: Mutex::new(State {
                queue: Fifo::new(),
                closed: false,
                rung: false,
                awake: true,
                waker: None,
            }),
            room: Semaphore::new(INBOX_CAPACITY),
            counters: SessionCounters::new(transport),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<Io>> {
        // Pushing and popping cannot leave the queue half-changed.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues `input` for the session task, waiting while the inbox is full.
    /// Gives the input back when the task has ended.
    pub(crate) async fn send(&self, input: SessionInput<Io>) -> Result<(), SessionInput<Io>> {
        // Closed only together with the queue, below.
        let Ok(place) = self.room.acquire().await else {
            return Err(input);
        };
        let mut state = self.lock();
        if state.closed {
            return Err(input);
        }
        // The place is given back by `try_recv` when the input leaves.
        place.forget();
        state.queue.push_back(input);
        let waker = Self::ring_locked(&mut state);
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Sets the flag and, unless the task is in a turn, takes the waiting task's waker, to
    /// be woken once the lock is let go.
    fn ring_locked(state: &mut State<Io>) -> Option<Waker> {
        state.rung = true;
        if state.awake {
            None
        } else {
            state.waker.take()
        }
    }

    /// The session task is in a turn (it is polling its wake sources, or handling what woke
    /// it): rings set the flag without waking it, until [`park`](Self::park).
    pub(crate) fn wake_up(&self) {
        self.lock().awake = true;
    }

    /// The session task is about to wait, having polled every wake source (so its waker is
    /// kept). `false` if it was rung during its turn: it must not wait, but look again.
    pub(crate) fn park(&self) -> bool {
        let mut state = self.lock();
        if state.rung {
            return false;
        }
        state.awake = false;
        true
    }

    /// Ready (and the flag cleared) if the inbox was rung since the last look; otherwise
    /// remembers `cx`'s waker for the next ring. Only the session task polls this.
    pub(crate) fn poll_signal(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.lock();
        if std::mem::take(&mut state.rung) {
            return Poll::Ready(());
        }
        match &mut state.waker {
            Some(waker) => waker.clone_from(cx.waker()),
            None => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Clears the flag: the session task is about to drain what rang it.
    pub(crate) fn take_signal(&self) {
        self.lock().rung = false;
    }

    /// The next input, if one waits.
    pub(crate) fn try_recv(&self) -> Option<SessionInput<Io>> {
        let input = self.lock().queue.pop_front()?;
        self.room.add_permits(1);
        Some(input)
    }

    /// Refuses every later input and returns those still waiting.
    pub(crate) fn close(&self) -> Fifo<SessionInput<Io>> {
        let mut state = self.lock();
        state.closed = true;
        let waiting = std::mem::take(&mut state.queue);
        drop(state);
        // Senders waiting for room find the inbox closed.
        self.room.close();
        waiting
    }
}

impl<Io: Send + 'static> Signal for Inbox<Io> {
    fn ring(&self) {
        let waker = Self::ring_locked(&mut self.lock());
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn counters(&self) -> &SessionCounters {
        &self.counters
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    type TestInbox = Inbox<tokio::io::DuplexStream>;

    #[tokio::test(start_paused = true)]
    async fn a_full_inbox_makes_the_sender_wait_for_room() {
        let inbox = Arc::new(TestInbox::new(Transport::Polling));
        for _ in 0..INBOX_CAPACITY {
            assert!(inbox.send(SessionInput::Shutdown).await.is_ok());
        }
        let waiting = tokio::spawn({
            let inbox = inbox.clone();
            async move { inbox.send(SessionInput::Shutdown).await.is_ok() }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "no room yet");
        assert!(inbox.try_recv().is_some());
        assert!(tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("room was made")
            .unwrap());
        let mut count = 0;
        while inbox.try_recv().is_some() {
            count += 1;
        }
        assert_eq!(count, INBOX_CAPACITY);
    }

    #[tokio::test(start_paused = true)]
    async fn a_closed_inbox_gives_inputs_back_and_releases_waiting_senders() {
        let inbox = Arc::new(TestInbox::new(Transport::Polling));
        for _ in 0..INBOX_CAPACITY {
            assert!(inbox.send(SessionInput::Shutdown).await.is_ok());
        }
        let waiting = tokio::spawn({
            let inbox = inbox.clone();
            async move { inbox.send(SessionInput::Shutdown).await.is_err() }
        });
        tokio::task::yield_now().await;
        assert_eq!(inbox.close().len(), INBOX_CAPACITY);
        assert!(tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("the sender was released")
            .unwrap());
        assert!(inbox.send(SessionInput::Shutdown).await.is_err());
    }

    #[tokio::test]
    async fn an_input_rings_the_session_signal() {
        let inbox = TestInbox::new(Transport::Polling);
        assert!(inbox.send(SessionInput::Shutdown).await.is_ok());
        tokio::time::timeout(
            Duration::from_secs(5),
            std::future::poll_fn(|cx| inbox.poll_signal(cx)),
        )
        .await
        .expect("the ring was kept");
        assert!(
            std::future::poll_fn(|cx| Poll::Ready(inbox.poll_signal(cx).is_pending())).await,
            "one ring wakes once"
        );
        assert!(matches!(inbox.try_recv(), Some(SessionInput::Shutdown)));
        assert!(inbox.try_recv().is_none());
    }

    /// A waker that counts its wakes.
    struct Count(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn rings_during_a_turn_wake_no_one_and_keep_the_task_from_waiting() {
        use std::sync::atomic::Ordering::SeqCst;
        let inbox = TestInbox::new(Transport::WebSocket);
        let count = Arc::new(Count(std::sync::atomic::AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        // A turn: the task polls the signal (keeping its waker), and its own handler rings.
        inbox.wake_up();
        assert!(inbox.poll_signal(&mut cx).is_pending());
        inbox.ring();
        assert_eq!(count.0.load(SeqCst), 0, "no wake-up while the task runs");
        assert!(
            !inbox.park(),
            "rung during the turn: it looks again instead of waiting"
        );
        // The next look takes the ring; then it waits, and a ring from elsewhere wakes it.
        inbox.wake_up();
        inbox.take_signal();
        assert!(inbox.poll_signal(&mut cx).is_pending());
        assert!(inbox.park());
        inbox.ring();
        assert_eq!(count.0.load(SeqCst), 1);
        inbox.ring();
        assert_eq!(
            count.0.load(SeqCst),
            1,
            "one wake for rings until the next wait"
        );
    }
}
