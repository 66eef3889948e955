//! The I/O tasks: one publishing connection, one subscribing connection. They move
//! bytes, bound their queue, and reconnect; every decision about the bytes is made by
//! the caller's handler and by [`crate::wire`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot, Notify};

/// Work for the publishing connection.
#[derive(Debug)]
pub(crate) enum Outgoing {
    Publish {
        channel: String,
        payload: Bytes,
    },
    NumSub {
        channel: String,
        reply: oneshot::Sender<Option<usize>>,
    },
}

/// The sending half: a bounded queue; full means dropped (see the crate docs).
#[derive(Debug, Clone)]
pub(crate) struct Publisher {
    tx: mpsc::Sender<Outgoing>,
}

impl Publisher {
    /// Starts the publishing task on `client`.
    pub(crate) fn start(client: redis::Client, max_queued: usize, retry: Duration) -> Self {
        let (tx, rx) = mpsc::channel(max_queued.max(1));
        tokio::spawn(publish_task(client, rx, retry));
        Publisher { tx }
    }

    /// Queues a PUBLISH; dropped (logged) when the queue is full.
    pub(crate) fn publish(&self, channel: String, payload: Bytes) {
        if let Err(e) = self.tx.try_send(Outgoing::Publish { channel, payload }) {
            tracing::warn!(error = %e, "redis publish queue full or closed: message dropped");
        }
    }

    /// The subscriber count of `channel` (`PUBSUB NUMSUB`), `None` when Redis cannot tell.
    pub(crate) async fn numsub(&self, channel: String) -> Option<usize> {
        let (reply, answer) = oneshot::channel();
        self.tx.try_send(Outgoing::NumSub { channel, reply }).ok()?;
        answer.await.ok().flatten()
    }
}

/// Most messages sent to Redis in one pipeline (one write, one read of the replies).
const BATCH: usize = 256;

async fn publish_task(client: redis::Client, mut rx: mpsc::Receiver<Outgoing>, retry: Duration) {
    let mut conn: Option<redis::aio::MultiplexedConnection> = None;
    let mut next_attempt = tokio::time::Instant::now();
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(retry.max(Duration::from_millis(100)))
        .set_response_timeout(Duration::from_secs(5));
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        if conn.is_none() && tokio::time::Instant::now() >= next_attempt {
            match client
                .get_multiplexed_async_connection_with_config(&config)
                .await
            {
                Ok(c) => {
                    tracing::info!("redis publisher connected");
                    conn = Some(c);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "redis publisher cannot connect");
                    next_attempt = tokio::time::Instant::now() + retry;
                }
            }
        }
        let Some(c) = conn.as_mut() else {
            // Down: the batch is dropped (a request then times out at its caller).
            batch.clear();
            continue;
        };
        if let Err(e) = send_batch(c, &mut batch).await {
            tracing::warn!(error = %e, "redis publisher lost its connection");
            conn = None;
            next_attempt = tokio::time::Instant::now() + retry;
        }
        batch.clear();
    }
}

/// Sends `batch` in order: runs of PUBLISH as one pipeline, each NUMSUB on its own.
async fn send_batch(
    conn: &mut redis::aio::MultiplexedConnection,
    batch: &mut Vec<Outgoing>,
) -> redis::RedisResult<()> {
    let mut pipe = redis::pipe();
    let mut queued = 0;
    for work in batch.drain(..) {
        match work {
            Outgoing::Publish { channel, payload } => {
                pipe.cmd("PUBLISH")
                    .arg(channel)
                    .arg(payload.as_ref())
                    .ignore();
                queued += 1;
            }
            Outgoing::NumSub { channel, reply } => {
                if queued > 0 {
                    pipe.query_async::<()>(conn).await?;
                    pipe = redis::pipe();
                    queued = 0;
                }
                let answer = redis::cmd("PUBSUB")
                    .arg("NUMSUB")
                    .arg(channel)
                    .query_async::<(String, usize)>(conn)
                    .await;
                match answer {
                    Ok((_, n)) => {
                        let _ = reply.send(Some(n));
                    }
                    Err(e) => {
                        let _ = reply.send(None);
                        return Err(e);
                    }
                }
            }
        }
    }
    if queued > 0 {
        pipe.query_async::<()>(conn).await?;
    }
    Ok(())
}

/// One message from a subscription: its channel and payload.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) channel: String,
    pub(crate) payload: Bytes,
}

/// What the subscriber subscribes to: patterns and channels, which can grow.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    pub(crate) patterns: Mutex<Vec<String>>,
    pub(crate) channels: Mutex<Vec<String>>,
    pub(crate) changed: Notify,
}

impl Subscriptions {
    pub(crate) fn add(&self, patterns: Vec<String>, channels: Vec<String>) {
        self.patterns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(patterns);
        self.channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(channels);
        self.changed.notify_one();
    }

    fn snapshot(&self) -> (Vec<String>, Vec<String>) {
        (
            self.patterns
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            self.channels
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        )
    }
}

/// Starts the subscribing task: connects, subscribes to everything in `subs` (again after
/// each reconnection, and when `subs` grows) and hands each message to `handle`.
pub(crate) fn start_subscriber(
    client: redis::Client,
    subs: Arc<Subscriptions>,
    retry: Duration,
    handle: impl Fn(Incoming) + Send + Sync + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match subscribe_once(&client, &subs, &handle).await {
                Ok(()) => tracing::warn!("redis subscriber connection closed; reconnecting"),
                Err(e) => tracing::warn!(error = %e, "redis subscriber failed; reconnecting"),
            }
            tokio::time::sleep(retry).await;
        }
    })
}

async fn subscribe_once(
    client: &redis::Client,
    subs: &Subscriptions,
    handle: &(impl Fn(Incoming) + Send + Sync),
) -> redis::RedisResult<()> {
    let pubsub = client.get_async_pubsub().await?;
    let (mut sink, mut stream) = pubsub.split();
    let mut done = (0, 0);
    tracing::info!("redis subscriber connected");
    loop {
        let (patterns, channels) = subs.snapshot();
        for p in &patterns[done.0..] {
            sink.psubscribe(p).await?;
        }
        for c in &channels[done.1..] {
            sink.subscribe(c).await?;
        }
        done = (patterns.len(), channels.len());
        tokio::select! {
            msg = stream.next() => {
                let Some(msg) = msg else { return Ok(()) };
                handle(Incoming {
                    channel: msg.get_channel_name().to_owned(),
                    payload: Bytes::copy_from_slice(msg.get_payload_bytes()),
                });
            }
            () = subs.changed.notified() => {}
        }
    }
}
