//! A session task's inbox: the requests, WebSocket streams and shutdown
//! notices other tasks hand it.
//!
//! Bounded at [`INBOX_CAPACITY`] inputs: a connection task routing a request
//! to a session whose inbox is full waits for room (backpressure, never a
//! drop). The inbox wakes the session task through the same [`Notify`] that
//! announces queued commands, and its queue takes no heap memory while at
//! most one input waits: a WebSocket session, which seldom gets anything
//! here, pays only for the shared header. (A tokio `mpsc` channel allocated a
//! block of 32 slots for every session, a seventh of an idle connection.)

use std::sync::{Mutex, MutexGuard};

use engineio::fifo::Fifo;
use tokio::sync::{Notify, Semaphore};

use super::app::Signal;
use super::task::SessionInput;

/// Most inputs waiting in one session's inbox.
pub(crate) const INBOX_CAPACITY: usize = 64;

struct State<Io> {
    queue: Fifo<SessionInput<Io>>,
    /// The session task has ended: nothing more is accepted.
    closed: bool,
}

/// The inbox, shared by the session task (which receives) and the router
/// (through which other tasks send).
pub(crate) struct Inbox<Io> {
    state: Mutex<State<Io>>,
    /// Wakes the session task; also rung by the application's command queue
    /// (the inbox is the session's [`Signal`]).
    signal: Notify,
    /// One permit per free place; senders wait here for room.
    room: Semaphore,
}

impl<Io> std::fmt::Debug for Inbox<Io> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox").finish_non_exhaustive()
    }
}

impl<Io> Inbox<Io> {
    /// An empty inbox.
    pub(crate) fn new() -> Self {
        Inbox {
            state: Mutex::new(State {
                queue: Fifo::new(),
                closed: false,
            }),
            signal: Notify::new(),
            room: Semaphore::new(INBOX_CAPACITY),
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
        drop(state);
        self.signal.notify_one();
        Ok(())
    }

    /// What the session task waits on for inputs and commands.
    pub(crate) fn signal(&self) -> &Notify {
        &self.signal
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
        self.signal.notify_one();
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
        let inbox = Arc::new(TestInbox::new());
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
        let inbox = Arc::new(TestInbox::new());
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
        let inbox = TestInbox::new();
        assert!(inbox.send(SessionInput::Shutdown).await.is_ok());
        tokio::time::timeout(Duration::from_secs(5), inbox.signal().notified())
            .await
            .expect("the permit was stored");
        assert!(matches!(inbox.try_recv(), Some(SessionInput::Shutdown)));
        assert!(inbox.try_recv().is_none());
    }
}
