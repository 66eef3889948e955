//! Publishing to a cluster's sockets from a process that serves no clients, as
//! `@socket.io/redis-emitter` does.

use serde::Serialize;
use serde_json::Value;
use socketio_parser::{Encoder, Namespace};

use crate::wire::{self, Channels, Flags, Opts, Request};

/// The uid the Node emitter writes on its messages.
const EMITTER_UID: &str = "emitter";

/// An emitter: `RedisEmitter::connect(url).await?.of("/chat").to("room").emit(..)`.
/// Each call publishes one message; nothing is queued.
#[derive(Clone)]
pub struct RedisEmitter {
    conn: redis::aio::MultiplexedConnection,
    key: String,
    nsp: Namespace,
    opts: Opts,
    flags: Flags,
}

impl std::fmt::Debug for RedisEmitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisEmitter")
            .field("nsp", &self.nsp)
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl RedisEmitter {
    /// An emitter for namespace `/` on the Redis server at `url`, prefix `socket.io`.
    pub async fn connect(url: &str) -> Result<Self, crate::Error> {
        let client = redis::Client::open(url)?;
        let conn = client.get_multiplexed_async_connection().await?;
        Ok(RedisEmitter {
            conn,
            key: "socket.io".to_owned(),
            nsp: Namespace::main(),
            opts: Opts::default(),
            flags: Flags::default(),
        })
    }

    /// The same emitter for namespace `nsp` (rooms and flags cleared).
    ///
    /// # Panics
    /// If `nsp` is not a namespace name (it starts with `/` and holds no `,`).
    #[must_use]
    pub fn of(&self, nsp: &str) -> Self {
        RedisEmitter {
            nsp: Namespace::new(nsp).unwrap_or_else(|e| panic!("invalid namespace {nsp:?}: {e}")),
            opts: Opts::default(),
            flags: Flags::default(),
            ..self.clone()
        }
    }

    /// Only sockets in `room` (several calls: any of them).
    #[must_use]
    pub fn to(mut self, room: impl Into<String>) -> Self {
        self.opts.rooms.push(room.into());
        self
    }

    /// Not the sockets in `room`.
    #[must_use]
    pub fn except(mut self, room: impl Into<String>) -> Self {
        self.opts.except.push(room.into());
        self
    }

    /// Dropped for clients that cannot take it at once.
    #[must_use]
    pub fn volatile(mut self) -> Self {
        self.flags.volatile = true;
        self
    }

    fn channels(&self) -> Channels {
        Channels::new(&self.key, self.nsp.as_str(), EMITTER_UID)
    }

    async fn publish(&self, channel: String, payload: bytes::Bytes) -> Result<(), crate::Error> {
        let mut conn = self.conn.clone();
        redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload.as_ref())
            .query_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }

    /// Emits `event` with `data` (one argument, or several as a tuple) to the selected
    /// sockets of every server.
    pub async fn emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), crate::Error> {
        let encoded = Encoder::new()
            .event(&self.nsp, event, None, data)
            .map_err(|e| wire::WireError::Packet(e.to_string()))?;
        let packet = wire::encode_packet(&encoded.text, &encoded.attachments)?;
        let message = wire::encode_broadcast(EMITTER_UID, &packet, &self.opts, &self.flags);
        let channel = self.channels().broadcast_channel(&self.opts.rooms);
        self.publish(channel, message).await
    }

    /// Makes the selected sockets join `room`.
    pub async fn sockets_join(&self, room: impl Into<String>) -> Result<(), crate::Error> {
        self.request(Request::RemoteJoin {
            uid: EMITTER_UID.to_owned(),
            request_id: None,
            opts: self.opts.clone(),
            rooms: vec![room.into()],
        })
        .await
    }

    /// Makes the selected sockets leave `room`.
    pub async fn sockets_leave(&self, room: impl Into<String>) -> Result<(), crate::Error> {
        self.request(Request::RemoteLeave {
            uid: EMITTER_UID.to_owned(),
            request_id: None,
            opts: self.opts.clone(),
            rooms: vec![room.into()],
        })
        .await
    }

    /// Disconnects the selected sockets (`close`: their connections too).
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), crate::Error> {
        self.request(Request::RemoteDisconnect {
            uid: EMITTER_UID.to_owned(),
            request_id: None,
            opts: self.opts.clone(),
            close,
        })
        .await
    }

    /// Sends a server-side event to every server (no acknowledgement).
    pub async fn server_side_emit(&self, event: &str, args: &[Value]) -> Result<(), crate::Error> {
        let mut data = vec![Value::String(event.to_owned())];
        data.extend_from_slice(args);
        self.request(Request::ServerSideEmit {
            uid: EMITTER_UID.to_owned(),
            request_id: None,
            data,
        })
        .await
    }

    async fn request(&self, request: Request) -> Result<(), crate::Error> {
        self.publish(self.channels().request, wire::encode_request(&request))
            .await
    }
}
