//! The Redis adapter: the [`Adapter`] operations as Redis messages, and the messages of
//! other nodes applied to this server through its [`LocalNode`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;
use server_adapter::socketio::{
    Adapter, AdapterError, BoxFuture, BroadcastOptions, EncodedPacket, LocalNode, RemoteAcks,
    ServerAck, SocketSnapshot,
};
use socketio_parser::{DecoderConfig, Namespace, Packet};
use tokio::sync::{mpsc, oneshot};

use crate::io::{start_subscriber, Incoming, Publisher, Subscriptions};
use crate::wire::{self, Channels, Flags, Opts, Request, Response};

/// Options of the adapter, the Node adapter's defaults.
#[derive(Debug, Clone)]
pub struct RedisAdapterConfig {
    /// The channel prefix (`key`, default `socket.io`).
    pub key: String,
    /// How long a request to other servers waits for their answers (default 5 s).
    pub requests_timeout: Duration,
    /// Answer on the requesting node's own channel `socket.io-response#<nsp>#<uid>#`
    /// (`publishOnSpecificResponseChannel`, default false).
    pub publish_on_specific_response_channel: bool,
    /// Most messages waiting to be published; past it, new ones are dropped.
    pub max_queued: usize,
    /// Time between reconnection attempts while Redis is unreachable.
    pub reconnect_delay: Duration,
}

impl Default for RedisAdapterConfig {
    fn default() -> Self {
        RedisAdapterConfig {
            key: "socket.io".to_owned(),
            requests_timeout: Duration::from_millis(5000),
            publish_on_specific_response_channel: false,
            max_queued: 4096,
            reconnect_delay: Duration::from_millis(500),
        }
    }
}

/// What an ack broadcast hears from other nodes.
enum AckEvent {
    Count(u64),
    Ack(Bytes),
}

/// A request waiting for other nodes' answers.
enum Pending {
    Fetch {
        expected: usize,
        got: usize,
        sockets: Vec<SocketSnapshot>,
        done: Option<oneshot::Sender<Vec<SocketSnapshot>>>,
    },
    Rooms {
        expected: usize,
        got: usize,
        rooms: Vec<String>,
        done: Option<oneshot::Sender<Vec<String>>>,
    },
    ServerSideEmit {
        expected: usize,
        answers: Vec<Value>,
        done: Option<oneshot::Sender<Vec<Value>>>,
    },
    Acks(mpsc::UnboundedSender<AckEvent>),
}

struct Shared {
    uid: String,
    config: RedisAdapterConfig,
    local: OnceLock<LocalNode>,
    publisher: Publisher,
    subscriptions: Arc<Subscriptions>,
    namespaces: Mutex<HashMap<String, Channels>>,
    pending: Mutex<HashMap<String, Pending>>,
    decoder: DecoderConfig,
}

/// The Redis adapter ([`SocketIoBuilder::adapter`](server_adapter::socketio::SocketIoBuilder::adapter)).
/// Cheap to clone; all clones are one node.
#[derive(Clone)]
pub struct RedisAdapter {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAdapter")
            .field("uid", &self.shared.uid)
            .finish_non_exhaustive()
    }
}

impl RedisAdapter {
    /// An adapter on the Redis server at `url` (`redis://host:port`). Must be called
    /// inside a tokio runtime: the connections are made by its tasks, which retry while
    /// Redis is unreachable (only the URL is checked here).
    pub fn new(url: &str, config: RedisAdapterConfig) -> Result<Self, crate::Error> {
        let client = redis::Client::open(url)?;
        let publisher = Publisher::start(client.clone(), config.max_queued, config.reconnect_delay);
        let subscriptions = Arc::new(Subscriptions::default());
        let shared = Arc::new(Shared {
            uid: crate::uid(6),
            config,
            local: OnceLock::new(),
            publisher,
            subscriptions: subscriptions.clone(),
            namespaces: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            decoder: DecoderConfig::default(),
        });
        let weak = Arc::downgrade(&shared);
        start_subscriber(
            client,
            subscriptions,
            shared.config.reconnect_delay,
            move |msg| {
                if let Some(shared) = weak.upgrade() {
                    shared.on_message(msg);
                }
            },
        );
        Ok(RedisAdapter { shared })
    }

    /// Same as [`new`](Self::new), from async code.
    pub async fn connect(url: &str, config: RedisAdapterConfig) -> Result<Self, crate::Error> {
        Self::new(url, config)
    }

    /// This node's uid on the wire.
    pub fn uid(&self) -> &str {
        &self.shared.uid
    }
}

impl Shared {
    fn channels(&self, nsp: &str) -> Channels {
        Channels::new(&self.config.key, nsp, &self.uid)
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn on_message(self: &Arc<Self>, msg: Incoming) {
        let namespaces: Vec<(String, Channels)> = self
            .namespaces
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(n, c)| (n.clone(), c.clone()))
            .collect();
        for (nsp, channels) in namespaces {
            if msg.channel.starts_with(&channels.response) {
                self.on_response(&nsp, &msg.payload);
                return;
            }
            if msg.channel == channels.request {
                self.on_request(&nsp, &channels, &msg.payload);
                return;
            }
            if let Some(room) = channels.room_of(&msg.channel) {
                self.on_broadcast(&nsp, room, &msg.payload);
                return;
            }
        }
    }

    fn on_broadcast(&self, nsp: &str, room: Option<&str>, payload: &Bytes) {
        let Some(local) = self.local.get() else {
            return;
        };
        if let Some(room) = room {
            if !local.has_room(nsp, room) {
                return;
            }
        }
        let message = match wire::decode_broadcast(payload) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "ignoring a malformed broadcast from redis");
                return;
            }
        };
        if message.uid == self.uid {
            return;
        }
        let packet = match wire::decode_packet(message.packet, &self.decoder) {
            Ok(p) if p.namespace() == nsp => p,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, "ignoring a broadcast with an invalid packet");
                return;
            }
        };
        local.broadcast(nsp, &packet, &options(message.opts, message.flags));
    }

    fn publish_response(&self, channels: &Channels, uid: &str, response: &Response) {
        let channel = if self.config.publish_on_specific_response_channel {
            format!("{}{uid}#", channels.response)
        } else {
            channels.response.clone()
        };
        self.publisher
            .publish(channel, wire::encode_response(response));
    }

    fn on_request(self: &Arc<Self>, nsp: &str, channels: &Channels, payload: &Bytes) {
        let Some(local) = self.local.get() else {
            return;
        };
        let request = match wire::decode_request(payload) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "ignoring a malformed request from redis");
                return;
            }
        };
        match request {
            Request::Sockets {
                uid,
                request_id,
                rooms,
            } if uid != self.uid => {
                let sockets = local
                    .socket_ids(nsp, &rooms)
                    .into_iter()
                    .map(Value::String)
                    .collect();
                self.publish_response(
                    channels,
                    &uid,
                    &Response::Sockets {
                        request_id,
                        sockets,
                    },
                );
            }
            Request::AllRooms { uid, request_id } if uid != self.uid => {
                let rooms = local.rooms(nsp);
                self.publish_response(channels, &uid, &Response::Rooms { request_id, rooms });
            }
            Request::RemoteJoin {
                uid,
                request_id,
                opts,
                rooms,
            } if uid != self.uid => {
                local.add_sockets(nsp, &options(opts, Flags::default()), &rooms);
                if let Some(request_id) = request_id {
                    self.publish_response(channels, &uid, &Response::Done { request_id });
                }
            }
            Request::RemoteLeave {
                uid,
                request_id,
                opts,
                rooms,
            } if uid != self.uid => {
                local.del_sockets(nsp, &options(opts, Flags::default()), &rooms);
                if let Some(request_id) = request_id {
                    self.publish_response(channels, &uid, &Response::Done { request_id });
                }
            }
            Request::RemoteDisconnect {
                uid,
                request_id,
                opts,
                close,
            } if uid != self.uid => {
                local.disconnect_sockets(nsp, &options(opts, Flags::default()), close);
                if let Some(request_id) = request_id {
                    self.publish_response(channels, &uid, &Response::Done { request_id });
                }
            }
            Request::RemoteFetch {
                uid,
                request_id,
                opts,
            } if uid != self.uid => {
                let sockets = local
                    .fetch_sockets(nsp, &options(opts, Flags::default()))
                    .iter()
                    .map(wire::socket_json)
                    .collect();
                self.publish_response(
                    channels,
                    &uid,
                    &Response::Sockets {
                        request_id,
                        sockets,
                    },
                );
            }
            Request::ServerSideEmit {
                uid,
                request_id,
                mut data,
            } if uid != self.uid => {
                let Value::String(event) = data.remove(0) else {
                    tracing::warn!("ignoring a server-side event without a name");
                    return;
                };
                let ack = request_id.map(|request_id| {
                    let publisher = self.publisher.clone();
                    // The Node adapter answers these on the shared response channel.
                    let channel = channels.response.clone();
                    ServerAck::new(move |value| {
                        let response = Response::ServerSideEmit {
                            request_id,
                            data: value,
                        };
                        publisher.publish(channel, wire::encode_response(&response));
                    })
                });
                local.server_side_emit(nsp, &event, data, ack);
            }
            Request::Broadcast {
                uid,
                request_id,
                packet,
                opts,
                flags,
            } if uid != self.uid => {
                let packet = match wire::decode_packet(packet, &self.decoder) {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(error = %e, "ignoring a broadcast request with an invalid packet");
                        return;
                    }
                };
                let timeout = flags
                    .timeout_ms
                    .map_or(self.config.requests_timeout, Duration::from_millis);
                let acks = local.broadcast_with_ack(nsp, &packet, &options(opts, flags), timeout);
                self.publish_response(
                    channels,
                    &uid,
                    &Response::ClientCount {
                        request_id: request_id.clone(),
                        count: acks.len() as u64,
                    },
                );
                if acks.is_empty() {
                    return;
                }
                let shared = self.clone();
                let channels = channels.clone();
                tokio::spawn(async move {
                    let mut acks: FuturesUnordered<_> = acks.into_iter().collect();
                    while let Some(answer) = acks.next().await {
                        let Some(ack) = answer else { continue };
                        match wire::ack_value(&ack) {
                            Ok(value) => shared.publish_response(
                                &channels,
                                &uid,
                                &Response::Ack {
                                    request_id: request_id.clone(),
                                    value,
                                },
                            ),
                            Err(e) => tracing::warn!(error = %e, "cannot forward an ack"),
                        }
                    }
                });
            }
            // Our own request, heard back.
            _ => {}
        }
    }

    fn on_response(&self, nsp: &str, payload: &Bytes) {
        let response = match wire::decode_response(payload) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "ignoring a malformed response from redis");
                return;
            }
        };
        let mut pending = self.pending();
        let id = response.request_id().to_owned();
        let Some(waiting) = pending.get_mut(&id) else {
            return;
        };
        let finished = match (waiting, response) {
            (Pending::Acks(tx), Response::ClientCount { count, .. }) => {
                let _ = tx.send(AckEvent::Count(count));
                false
            }
            (Pending::Acks(tx), Response::Ack { value, .. }) => {
                let _ = tx.send(AckEvent::Ack(value));
                false
            }
            (
                Pending::Fetch {
                    expected,
                    got,
                    sockets,
                    done,
                },
                Response::Sockets { sockets: s, .. },
            ) => {
                *got += 1;
                sockets.extend(s.iter().filter_map(|v| wire::socket_from_json(v).ok()));
                finish(*got >= *expected, done, sockets)
            }
            (
                Pending::Rooms {
                    expected,
                    got,
                    rooms,
                    done,
                },
                Response::Rooms { rooms: r, .. },
            ) => {
                *got += 1;
                rooms.extend(r);
                finish(*got >= *expected, done, rooms)
            }
            (
                Pending::ServerSideEmit {
                    expected,
                    answers,
                    done,
                },
                Response::ServerSideEmit { data, .. },
            ) => {
                answers.push(data);
                finish(answers.len() >= *expected, done, answers)
            }
            _ => {
                tracing::debug!(namespace = nsp, "a response that does not fit its request");
                false
            }
        };
        if finished {
            pending.remove(&id);
        }
    }

    /// How many other nodes serve `nsp`.
    async fn others(&self, channels: &Channels) -> Result<usize, AdapterError> {
        let count = tokio::time::timeout(
            self.config.requests_timeout,
            self.publisher.numsub(channels.request.clone()),
        )
        .await
        .ok()
        .flatten()
        .ok_or_else(|| AdapterError::Unavailable("redis did not answer PUBSUB NUMSUB".into()))?;
        Ok(count.saturating_sub(1))
    }

    /// Publishes `request` and waits for `expected` answers.
    async fn ask<T>(
        self: Arc<Self>,
        operation: &'static str,
        channels: Channels,
        request_id: String,
        pending: Pending,
        request: Request,
        answer: oneshot::Receiver<T>,
    ) -> Result<T, AdapterError> {
        self.pending().insert(request_id.clone(), pending);
        self.publisher
            .publish(channels.request.clone(), wire::encode_request(&request));
        let result = tokio::time::timeout(self.config.requests_timeout, answer).await;
        let left = self.pending().remove(&request_id);
        match result {
            Ok(Ok(value)) => Ok(value),
            _ => {
                let (received, expected) = match left {
                    Some(Pending::Fetch { got, expected, .. })
                    | Some(Pending::Rooms { got, expected, .. }) => (got, expected),
                    Some(Pending::ServerSideEmit {
                        answers, expected, ..
                    }) => (answers.len(), expected),
                    _ => (0, 0),
                };
                Err(AdapterError::Timeout {
                    operation,
                    received,
                    expected,
                })
            }
        }
    }
}

/// Hands the gathered values over when `complete`; true when the request is finished.
fn finish<T: Default>(
    complete: bool,
    done: &mut Option<oneshot::Sender<T>>,
    values: &mut T,
) -> bool {
    if complete {
        if let Some(done) = done.take() {
            let _ = done.send(std::mem::take(values));
        }
    }
    complete
}

fn options(opts: Opts, flags: Flags) -> BroadcastOptions {
    let mut options = BroadcastOptions {
        rooms: opts.rooms,
        except: opts.except,
        ..BroadcastOptions::default()
    };
    options.flags.volatile = flags.volatile;
    options.flags.timeout = flags.timeout_ms.map(Duration::from_millis);
    options
}

fn wire_opts(opts: &BroadcastOptions) -> (Opts, Flags) {
    (
        Opts {
            rooms: opts.rooms.clone(),
            except: opts.except.clone(),
        },
        Flags {
            volatile: opts.flags.volatile,
            local: opts.flags.local,
            timeout_ms: opts.flags.timeout.map(|t| t.as_millis() as u64),
        },
    )
}

impl Adapter for RedisAdapter {
    fn init(&self, local: LocalNode) {
        let _ = self.shared.local.set(local);
    }

    fn add_namespace(&self, nsp: &str) {
        let channels = self.shared.channels(nsp);
        let new = self
            .shared
            .namespaces
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(nsp.to_owned(), channels.clone())
            .is_none();
        if new {
            self.shared.subscriptions.add(
                vec![channels.broadcast_pattern()],
                vec![
                    channels.request.clone(),
                    channels.response.clone(),
                    channels.specific_response.clone(),
                ],
            );
        }
    }

    fn broadcast(&self, nsp: &str, packet: &EncodedPacket, opts: &BroadcastOptions) {
        let channels = self.shared.channels(nsp);
        let map = match wire::encode_packet(&packet.text, &packet.attachments) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "cannot encode a broadcast for redis");
                return;
            }
        };
        let (wopts, flags) = wire_opts(opts);
        let message = wire::encode_broadcast(&self.shared.uid, &map, &wopts, &flags);
        self.shared
            .publisher
            .publish(channels.broadcast_channel(&opts.rooms), message);
    }

    fn broadcast_with_ack(
        &self,
        nsp: &str,
        packet: &EncodedPacket,
        opts: &BroadcastOptions,
        timeout: Duration,
    ) -> BoxFuture<'static, RemoteAcks> {
        let shared = self.shared.clone();
        let channels = shared.channels(nsp);
        let nsp = Namespace::new(nsp).unwrap_or_else(|_| Namespace::main());
        let map = wire::encode_packet(&packet.text, &packet.attachments);
        let (wopts, mut flags) = wire_opts(opts);
        flags.timeout_ms = Some(timeout.as_millis() as u64);
        Box::pin(async move {
            let deadline = tokio::time::Instant::now() + timeout;
            let Ok(map) = map else {
                return RemoteAcks::default();
            };
            let request_id = crate::uid(6);
            let (tx, mut rx) = mpsc::unbounded_channel();
            shared
                .pending()
                .insert(request_id.clone(), Pending::Acks(tx));
            let request = Request::Broadcast {
                uid: shared.uid.clone(),
                request_id: request_id.clone(),
                packet: map,
                opts: wopts,
                flags,
            };
            shared
                .publisher
                .publish(channels.request.clone(), wire::encode_request(&request));
            let servers = tokio::time::timeout_at(deadline, shared.others(&channels))
                .await
                .ok()
                .and_then(Result::ok);
            let mut out = RemoteAcks::default();
            let mut counts = 0;
            let mut acks: Vec<Packet> = Vec::new();
            loop {
                if servers.is_some_and(|s| counts >= s) && acks.len() as u64 >= out.expected as u64
                {
                    out.complete = true;
                    break;
                }
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(AckEvent::Count(n))) => {
                        counts += 1;
                        out.expected += n as usize;
                    }
                    Ok(Some(AckEvent::Ack(value))) => {
                        match wire::ack_packet(&nsp, &value, &shared.decoder) {
                            Ok(p) => acks.push(p),
                            Err(e) => tracing::warn!(error = %e, "ignoring an invalid remote ack"),
                        }
                    }
                    _ => break,
                }
            }
            shared.pending().remove(&request_id);
            out.acks = acks;
            out
        })
    }

    fn fetch_sockets(
        &self,
        nsp: &str,
        opts: &BroadcastOptions,
    ) -> BoxFuture<'static, Result<Vec<SocketSnapshot>, AdapterError>> {
        let shared = self.shared.clone();
        let channels = shared.channels(nsp);
        let (wopts, _) = wire_opts(opts);
        Box::pin(async move {
            let expected = shared.others(&channels).await?;
            if expected == 0 {
                return Ok(Vec::new());
            }
            let request_id = crate::uid(6);
            let (done, answer) = oneshot::channel();
            let request = Request::RemoteFetch {
                uid: shared.uid.clone(),
                request_id: request_id.clone(),
                opts: wopts,
            };
            let pending = Pending::Fetch {
                expected,
                got: 0,
                sockets: Vec::new(),
                done: Some(done),
            };
            shared
                .ask(
                    "fetchSockets",
                    channels,
                    request_id,
                    pending,
                    request,
                    answer,
                )
                .await
        })
    }

    fn add_sockets(&self, nsp: &str, opts: &BroadcastOptions, rooms: &[String]) {
        let (opts, _) = wire_opts(opts);
        let request = Request::RemoteJoin {
            uid: self.shared.uid.clone(),
            request_id: None,
            opts,
            rooms: rooms.to_vec(),
        };
        self.shared.publisher.publish(
            self.shared.channels(nsp).request,
            wire::encode_request(&request),
        );
    }

    fn del_sockets(&self, nsp: &str, opts: &BroadcastOptions, rooms: &[String]) {
        let (opts, _) = wire_opts(opts);
        let request = Request::RemoteLeave {
            uid: self.shared.uid.clone(),
            request_id: None,
            opts,
            rooms: rooms.to_vec(),
        };
        self.shared.publisher.publish(
            self.shared.channels(nsp).request,
            wire::encode_request(&request),
        );
    }

    fn disconnect_sockets(&self, nsp: &str, opts: &BroadcastOptions, close: bool) {
        let (opts, _) = wire_opts(opts);
        let request = Request::RemoteDisconnect {
            uid: self.shared.uid.clone(),
            request_id: None,
            opts,
            close,
        };
        self.shared.publisher.publish(
            self.shared.channels(nsp).request,
            wire::encode_request(&request),
        );
    }

    fn server_side_emit(&self, nsp: &str, event: &str, args: &[Value]) {
        let mut data = vec![Value::String(event.to_owned())];
        data.extend_from_slice(args);
        let request = Request::ServerSideEmit {
            uid: self.shared.uid.clone(),
            request_id: None,
            data,
        };
        self.shared.publisher.publish(
            self.shared.channels(nsp).request,
            wire::encode_request(&request),
        );
    }

    fn server_side_emit_with_ack(
        &self,
        nsp: &str,
        event: &str,
        args: &[Value],
    ) -> BoxFuture<'static, Result<Vec<Value>, AdapterError>> {
        let shared = self.shared.clone();
        let channels = shared.channels(nsp);
        let mut data = vec![Value::String(event.to_owned())];
        data.extend_from_slice(args);
        Box::pin(async move {
            let expected = shared.others(&channels).await?;
            if expected == 0 {
                return Ok(Vec::new());
            }
            let request_id = crate::uid(6);
            let (done, answer) = oneshot::channel();
            let request = Request::ServerSideEmit {
                uid: shared.uid.clone(),
                request_id: Some(request_id.clone()),
                data,
            };
            let pending = Pending::ServerSideEmit {
                expected,
                answers: Vec::new(),
                done: Some(done),
            };
            shared
                .ask(
                    "serverSideEmit",
                    channels,
                    request_id,
                    pending,
                    request,
                    answer,
                )
                .await
        })
    }

    fn all_rooms(&self, nsp: &str) -> BoxFuture<'static, Result<Vec<String>, AdapterError>> {
        let shared = self.shared.clone();
        let channels = shared.channels(nsp);
        Box::pin(async move {
            let expected = shared.others(&channels).await?;
            if expected == 0 {
                return Ok(Vec::new());
            }
            let request_id = crate::uid(6);
            let (done, answer) = oneshot::channel();
            let request = Request::AllRooms {
                uid: shared.uid.clone(),
                request_id: request_id.clone(),
            };
            let pending = Pending::Rooms {
                expected,
                got: 0,
                rooms: Vec::new(),
                done: Some(done),
            };
            shared
                .ask("allRooms", channels, request_id, pending, request, answer)
                .await
        })
    }
}
