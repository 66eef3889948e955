//! The messages of `@socket.io/redis-adapter` 8.3, as bytes: pure functions, no I/O.
//!
//! Channels (prefix `socket.io`, namespace `nsp`, node uid `uid`):
//!
//! | channel | what |
//! |---|---|
//! | `socket.io#<nsp>#` | broadcasts (MessagePack `[uid, packet, {rooms, except, flags}]`) |
//! | `socket.io#<nsp>#<room>#` | broadcasts to exactly one room |
//! | `socket.io-request#<nsp>#` | requests (JSON, MessagePack for `BROADCAST`) |
//! | `socket.io-response#<nsp>#` | responses (JSON, MessagePack for `BROADCAST_ACK`) |
//! | `socket.io-response#<nsp>#<uid>#` | responses to one node (`publishOnSpecificResponseChannel`) |
//!
//! A request or response whose first byte is `{` is JSON, anything else MessagePack (as
//! the Node adapter reads them). The Socket.IO packet inside a broadcast is the packet
//! object `{type, data, nsp}` as notepack writes it, which
//! [`socketio_parser::msgpack`] transcodes; this module only handles the envelope.
//!
//! Every decoder returns an error for any input it does not understand, never panics.

use bytes::{BufMut, Bytes, BytesMut};
use rmpv::Value as Mp;
use serde_json::{json, Map, Value};
use server_adapter::socketio::SocketSnapshot;
use socketio_parser::{msgpack, DecoderConfig, Namespace, Packet};

/// The request types of the Node adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum RequestType {
    Sockets = 0,
    AllRooms = 1,
    RemoteJoin = 2,
    RemoteLeave = 3,
    RemoteDisconnect = 4,
    RemoteFetch = 5,
    ServerSideEmit = 6,
    Broadcast = 7,
    BroadcastClientCount = 8,
    BroadcastAck = 9,
}

impl RequestType {
    fn from_u64(n: u64) -> Option<Self> {
        use RequestType::*;
        Some(match n {
            0 => Sockets,
            1 => AllRooms,
            2 => RemoteJoin,
            3 => RemoteLeave,
            4 => RemoteDisconnect,
            5 => RemoteFetch,
            6 => ServerSideEmit,
            7 => Broadcast,
            8 => BroadcastClientCount,
            9 => BroadcastAck,
            _ => return None,
        })
    }
}

/// Why bytes from Redis are not a message this module understands.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// Not valid JSON or MessagePack.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A field is missing or of the wrong type.
    #[error("field {0} missing or invalid")]
    Field(&'static str),
    /// A request type this adapter does not know.
    #[error("unknown request type")]
    UnknownType,
    /// The Socket.IO packet inside is invalid.
    #[error("invalid packet: {0}")]
    Packet(String),
}

/// The channels of one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channels {
    /// `socket.io#<nsp>#`
    pub broadcast: String,
    /// `socket.io-request#<nsp>#`
    pub request: String,
    /// `socket.io-response#<nsp>#`
    pub response: String,
    /// `socket.io-response#<nsp>#<uid>#`
    pub specific_response: String,
}

impl Channels {
    /// The channels of namespace `nsp` for node `uid` under `prefix` (default `socket.io`).
    pub fn new(prefix: &str, nsp: &str, uid: &str) -> Self {
        let response = format!("{prefix}-response#{nsp}#");
        Channels {
            broadcast: format!("{prefix}#{nsp}#"),
            request: format!("{prefix}-request#{nsp}#"),
            specific_response: format!("{response}{uid}#"),
            response,
        }
    }

    /// The pattern that receives every broadcast of the namespace.
    pub fn broadcast_pattern(&self) -> String {
        format!("{}*", self.broadcast)
    }

    /// Where a broadcast to `rooms` is published: the room's own channel for exactly one.
    pub fn broadcast_channel(&self, rooms: &[String]) -> String {
        match rooms {
            [room] => format!("{}{room}#", self.broadcast),
            _ => self.broadcast.clone(),
        }
    }

    /// The room a broadcast channel of this namespace names: `Some(None)` for the
    /// namespace-wide channel, `None` for a channel that is not this namespace's.
    pub fn room_of<'a>(&self, channel: &'a str) -> Option<Option<&'a str>> {
        let rest = channel.strip_prefix(self.broadcast.as_str())?;
        if rest.is_empty() {
            return Some(None);
        }
        rest.strip_suffix('#').map(Some)
    }
}

/// Rooms and exceptions of a request or broadcast.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opts {
    /// Rooms (none: all).
    pub rooms: Vec<String>,
    /// Rooms left out.
    pub except: Vec<String>,
}

/// Flags of a broadcast, as the JavaScript `BroadcastFlags` object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `volatile`
    pub volatile: bool,
    /// `local`
    pub local: bool,
    /// `timeout` in milliseconds.
    pub timeout_ms: Option<u64>,
}

/// A broadcast: the sender's uid, the Socket.IO packet (as a notepack packet map) and
/// who receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Broadcast {
    /// The sending node (`emitter` for `@socket.io/redis-emitter`).
    pub uid: String,
    /// The packet map `{type, data, nsp}`, MessagePack.
    pub packet: Bytes,
    /// Rooms and exceptions.
    pub opts: Opts,
    /// Flags.
    pub flags: Flags,
}

/// A request from one node to the others.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Request {
    /// `SOCKETS`: the ids of the sockets in `rooms`.
    Sockets {
        uid: String,
        request_id: String,
        rooms: Vec<String>,
    },
    /// `ALL_ROOMS`
    AllRooms { uid: String, request_id: String },
    /// `REMOTE_JOIN` (the selection form; the older `sid` + `room` form is read as a
    /// selection of that one socket, with a request id to answer)
    RemoteJoin {
        uid: String,
        request_id: Option<String>,
        opts: Opts,
        rooms: Vec<String>,
    },
    /// `REMOTE_LEAVE`
    RemoteLeave {
        uid: String,
        request_id: Option<String>,
        opts: Opts,
        rooms: Vec<String>,
    },
    /// `REMOTE_DISCONNECT`
    RemoteDisconnect {
        uid: String,
        request_id: Option<String>,
        opts: Opts,
        close: bool,
    },
    /// `REMOTE_FETCH`
    RemoteFetch {
        uid: String,
        request_id: String,
        opts: Opts,
    },
    /// `SERVER_SIDE_EMIT`: `data` is `[event, ...args]`; with a request id, one answer is
    /// expected.
    ServerSideEmit {
        uid: String,
        request_id: Option<String>,
        data: Vec<Value>,
    },
    /// `BROADCAST` with acknowledgements.
    Broadcast {
        uid: String,
        request_id: String,
        packet: Bytes,
        opts: Opts,
        flags: Flags,
    },
}

/// A response to a request, as far as the wire says (which request it answers is known
/// only to the node that asked).
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Response {
    /// `BROADCAST_CLIENT_COUNT`
    ClientCount { request_id: String, count: u64 },
    /// `BROADCAST_ACK`: the client's first ack argument, MessagePack.
    Ack { request_id: String, value: Bytes },
    /// The answer to a `SERVER_SIDE_EMIT`.
    ServerSideEmit { request_id: String, data: Value },
    /// `SOCKETS` (ids) or `REMOTE_FETCH` (objects) answers.
    Sockets {
        request_id: String,
        sockets: Vec<Value>,
    },
    /// `ALL_ROOMS` answer.
    Rooms {
        request_id: String,
        rooms: Vec<String>,
    },
    /// The answer to a `sid`-form join, leave or disconnect.
    Done { request_id: String },
}

impl Response {
    /// The request this answers.
    pub fn request_id(&self) -> &str {
        match self {
            Response::ClientCount { request_id, .. }
            | Response::Ack { request_id, .. }
            | Response::ServerSideEmit { request_id, .. }
            | Response::Sockets { request_id, .. }
            | Response::Rooms { request_id, .. }
            | Response::Done { request_id } => request_id,
        }
    }
}

// ----- MessagePack helpers ------------------------------------------------------------

/// Deepest nesting read from the wire.
const MAX_DEPTH: usize = 64;

/// Reads one MessagePack value at the start of `buf`; returns it and its length.
fn read_value(buf: &[u8]) -> Result<(Mp, usize), WireError> {
    let mut rest = buf;
    let value = rmpv::decode::read_value_with_max_depth(&mut rest, MAX_DEPTH)
        .map_err(|_| WireError::Malformed("MessagePack"))?;
    Ok((value, buf.len() - rest.len()))
}

/// A MessagePack value as JSON, as `JSON.stringify` would write what notepack reads
/// (binary as Node's `Buffer.toJSON`, NaN and extensions as `null`).
pub fn mp_to_json(value: &Mp) -> Value {
    match value {
        Mp::Nil => Value::Null,
        Mp::Boolean(b) => Value::Bool(*b),
        Mp::Integer(i) => match (i.as_u64(), i.as_i64()) {
            (Some(u), _) => json!(u),
            (_, Some(s)) => json!(s),
            _ => Value::Null,
        },
        Mp::F32(f) => {
            serde_json::Number::from_f64(f64::from(*f)).map_or(Value::Null, Value::Number)
        }
        Mp::F64(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Mp::String(s) => Value::String(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        Mp::Binary(b) => json!({"type": "Buffer", "data": b}),
        Mp::Array(items) => Value::Array(items.iter().map(mp_to_json).collect()),
        Mp::Map(entries) => {
            let mut map = Map::new();
            for (k, v) in entries {
                let key = match k {
                    Mp::String(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
                    other => mp_to_json(other).to_string(),
                };
                map.insert(key, mp_to_json(v));
            }
            Value::Object(map)
        }
        Mp::Ext(..) => Value::Null,
    }
}

/// JSON as MessagePack, in notepack's encodings (smallest integer, float 64 otherwise).
pub fn json_to_mp(value: &Value) -> Mp {
    match value {
        Value::Null => Mp::Nil,
        Value::Bool(b) => Mp::Boolean(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Mp::from(u),
            (_, Some(i)) => Mp::from(i),
            _ => {
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    Mp::from(f as i64)
                } else {
                    Mp::F64(f)
                }
            }
        },
        Value::String(s) => Mp::from(s.as_str()),
        Value::Array(items) => Mp::Array(items.iter().map(json_to_mp).collect()),
        Value::Object(map) => Mp::Map(
            map.iter()
                .map(|(k, v)| (Mp::from(k.as_str()), json_to_mp(v)))
                .collect(),
        ),
    }
}

fn write_mp(out: &mut BytesMut, value: &Mp) {
    let mut w = out.writer();
    rmpv::encode::write_value(&mut w, value).expect("writing to memory cannot fail");
}

fn mp_str(out: &mut BytesMut, s: &str) {
    write_mp(out, &Mp::from(s));
}

/// A map header for a few entries (the envelopes have at most five).
fn mp_map_len(out: &mut BytesMut, len: u8) {
    debug_assert!(len < 16);
    out.put_u8(0x80 | len);
}

fn opts_json(opts: &Opts) -> Value {
    json!({"rooms": opts.rooms, "except": opts.except})
}

fn flags_mp(flags: &Flags) -> Mp {
    let mut entries = Vec::new();
    if flags.volatile {
        entries.push((Mp::from("volatile"), Mp::Boolean(true)));
    }
    if flags.local {
        entries.push((Mp::from("local"), Mp::Boolean(true)));
    }
    if let Some(ms) = flags.timeout_ms {
        entries.push((Mp::from("timeout"), Mp::from(ms)));
    }
    Mp::Map(entries)
}

fn opts_mp(opts: &Opts, flags: &Flags) -> Mp {
    let strings = |v: &[String]| Mp::Array(v.iter().map(|s| Mp::from(s.as_str())).collect());
    Mp::Map(vec![
        (Mp::from("rooms"), strings(&opts.rooms)),
        (Mp::from("except"), strings(&opts.except)),
        (Mp::from("flags"), flags_mp(flags)),
    ])
}

// ----- field access on decoded JSON ----------------------------------------------------

fn str_field(v: &Value, name: &'static str) -> Result<String, WireError> {
    v.get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(WireError::Field(name))
}

fn opt_str_field(v: &Value, name: &'static str) -> Result<Option<String>, WireError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(WireError::Field(name)),
    }
}

/// Room names: strings, and numbers as JavaScript prints them (Node allows numeric rooms).
fn rooms_field(v: Option<&Value>, name: &'static str) -> Result<Vec<String>, WireError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|r| match r {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(WireError::Field(name)),
            })
            .collect(),
        Some(_) => Err(WireError::Field(name)),
    }
}

fn opts_field(v: &Value) -> Result<Opts, WireError> {
    let opts = v.get("opts").ok_or(WireError::Field("opts"))?;
    Ok(Opts {
        rooms: rooms_field(opts.get("rooms"), "opts.rooms")?,
        except: rooms_field(opts.get("except"), "opts.except")?,
    })
}

fn flags_field(opts: Option<&Value>) -> Flags {
    let flags = opts.and_then(|o| o.get("flags"));
    let flag = |name: &str| flags.and_then(|f| f.get(name)).and_then(Value::as_bool) == Some(true);
    Flags {
        volatile: flag("volatile"),
        local: flag("local"),
        timeout_ms: flags
            .and_then(|f| f.get("timeout"))
            .and_then(Value::as_f64)
            .filter(|t| *t >= 0.0)
            .map(|t| t as u64),
    }
}

/// Reads a top-level MessagePack map into JSON, keeping the raw bytes of the entry named
/// `raw` (a packet, or an ack value) instead of converting it.
fn read_map_keeping(frame: &Bytes, raw: &str) -> Result<(Value, Option<Bytes>), WireError> {
    let mut rest: &[u8] = frame;
    let len = rmp_read_map_len(&mut rest)?;
    let mut map = Map::new();
    let mut kept = None;
    for _ in 0..len {
        let (key, n) = read_value(rest)?;
        rest = &rest[n..];
        let key = match key {
            Mp::String(s) => s.into_str().ok_or(WireError::Malformed("map key"))?,
            _ => return Err(WireError::Malformed("map key")),
        };
        let start = frame.len() - rest.len();
        let (value, n) = read_value(rest)?;
        rest = &rest[n..];
        if key == raw {
            kept = Some(frame.slice(start..start + n));
        } else {
            map.insert(key, mp_to_json(&value));
        }
    }
    if !rest.is_empty() {
        return Err(WireError::Malformed("trailing bytes"));
    }
    Ok((Value::Object(map), kept))
}

fn rmp_read_map_len(rest: &mut &[u8]) -> Result<u32, WireError> {
    let (&first, tail) = rest.split_first().ok_or(WireError::Malformed("empty"))?;
    let (len, used) = match first {
        0x80..=0x8f => (u32::from(first & 0x0f), 0),
        0xde if tail.len() >= 2 => (u32::from(u16::from_be_bytes([tail[0], tail[1]])), 2),
        0xdf if tail.len() >= 4 => (u32::from_be_bytes([tail[0], tail[1], tail[2], tail[3]]), 4),
        _ => return Err(WireError::Malformed("not a map")),
    };
    *rest = &tail[used..];
    Ok(len)
}

fn parse_any(frame: &Bytes, raw: &str) -> Result<(Value, Option<Bytes>), WireError> {
    if frame.first() == Some(&b'{') {
        let value: Value =
            serde_json::from_slice(frame).map_err(|_| WireError::Malformed("JSON"))?;
        if !value.is_object() {
            return Err(WireError::Malformed("JSON"));
        }
        Ok((value, None))
    } else {
        read_map_keeping(frame, raw)
    }
}

fn type_field(v: &Value) -> Result<RequestType, WireError> {
    let n = v
        .get("type")
        .and_then(Value::as_u64)
        .ok_or(WireError::Field("type"))?;
    RequestType::from_u64(n).ok_or(WireError::UnknownType)
}

// ----- broadcasts ---------------------------------------------------------------------

/// Encodes a broadcast: `[uid, packet, {rooms, except, flags}]`, MessagePack. `packet`
/// is the packet map ([`encode_packet`]).
pub fn encode_broadcast(uid: &str, packet: &[u8], opts: &Opts, flags: &Flags) -> Bytes {
    let mut out = BytesMut::with_capacity(packet.len() + 64);
    out.put_u8(0x93);
    mp_str(&mut out, uid);
    out.extend_from_slice(packet);
    write_mp(&mut out, &opts_mp(opts, flags));
    out.freeze()
}

/// Decodes a broadcast.
pub fn decode_broadcast(frame: &Bytes) -> Result<Broadcast, WireError> {
    let (&first, _) = frame.split_first().ok_or(WireError::Malformed("empty"))?;
    if first != 0x93 {
        return Err(WireError::Malformed("not a 3-element array"));
    }
    let mut at = 1;
    let (uid, n) = read_value(&frame[at..])?;
    at += n;
    let uid = match uid {
        Mp::String(s) => s.into_str().ok_or(WireError::Field("uid"))?,
        _ => return Err(WireError::Field("uid")),
    };
    let (_, n) = read_value(&frame[at..])?;
    let packet = frame.slice(at..at + n);
    at += n;
    let (opts, n) = read_value(&frame[at..])?;
    if at + n != frame.len() {
        return Err(WireError::Malformed("trailing bytes"));
    }
    let opts = mp_to_json(&opts);
    Ok(Broadcast {
        uid,
        packet,
        opts: Opts {
            rooms: rooms_field(opts.get("rooms"), "rooms")?,
            except: rooms_field(opts.get("except"), "except")?,
        },
        flags: flags_field(Some(&opts)),
    })
}

/// The packet map of an encoded Socket.IO packet (text as the default parser writes it,
/// and its attachments), as notepack writes the Node server's packet object.
pub fn encode_packet(text: &[u8], attachments: &[Bytes]) -> Result<Bytes, WireError> {
    msgpack::encode_text_packet(text, attachments).map_err(|e| WireError::Packet(e.to_string()))
}

/// The Socket.IO packet of a packet map; its namespace must be `nsp`.
pub fn decode_packet(packet: Bytes, config: &DecoderConfig) -> Result<Packet, WireError> {
    msgpack::decode(packet, config).map_err(|e| WireError::Packet(e.to_string()))
}

// ----- requests -----------------------------------------------------------------------

/// Encodes a request as the Node adapter does: JSON, and MessagePack for `BROADCAST`.
pub fn encode_request(request: &Request) -> Bytes {
    let value = match request {
        Request::Sockets {
            uid,
            request_id,
            rooms,
        } => json!({"uid": uid, "requestId": request_id, "type": 0, "rooms": rooms}),
        Request::AllRooms { uid, request_id } => {
            json!({"uid": uid, "requestId": request_id, "type": 1})
        }
        Request::RemoteJoin {
            uid, opts, rooms, ..
        } => json!({"uid": uid, "type": 2, "opts": opts_json(opts), "rooms": rooms}),
        Request::RemoteLeave {
            uid, opts, rooms, ..
        } => json!({"uid": uid, "type": 3, "opts": opts_json(opts), "rooms": rooms}),
        Request::RemoteDisconnect {
            uid, opts, close, ..
        } => json!({"uid": uid, "type": 4, "opts": opts_json(opts), "close": close}),
        Request::RemoteFetch {
            uid,
            request_id,
            opts,
        } => json!({"uid": uid, "requestId": request_id, "type": 5, "opts": opts_json(opts)}),
        Request::ServerSideEmit {
            uid,
            request_id: Some(id),
            data,
        } => json!({"uid": uid, "requestId": id, "type": 6, "data": data}),
        Request::ServerSideEmit {
            uid,
            request_id: None,
            data,
        } => json!({"uid": uid, "type": 6, "data": data}),
        Request::Broadcast {
            uid,
            request_id,
            packet,
            opts,
            flags,
        } => {
            let mut out = BytesMut::with_capacity(packet.len() + 96);
            mp_map_len(&mut out, 5);
            mp_str(&mut out, "uid");
            mp_str(&mut out, uid);
            mp_str(&mut out, "requestId");
            mp_str(&mut out, request_id);
            mp_str(&mut out, "type");
            out.put_u8(RequestType::Broadcast as u8);
            mp_str(&mut out, "packet");
            out.extend_from_slice(packet);
            mp_str(&mut out, "opts");
            write_mp(&mut out, &opts_mp(opts, flags));
            return out.freeze();
        }
    };
    Bytes::from(value.to_string())
}

/// Decodes a request (JSON when it starts with `{`, MessagePack otherwise).
pub fn decode_request(frame: &Bytes) -> Result<Request, WireError> {
    let (v, packet) = parse_any(frame, "packet")?;
    let uid = str_field(&v, "uid").unwrap_or_default();
    let ty = type_field(&v)?;
    // The older form names one socket and one room, and waits for an answer.
    let sid_form = |v: &Value| -> Result<(Opts, Vec<String>, Option<String>), WireError> {
        let sid = str_field(v, "sid")?;
        let room = opt_str_field(v, "room")?;
        Ok((
            Opts {
                rooms: vec![sid],
                except: Vec::new(),
            },
            room.into_iter().collect(),
            opt_str_field(v, "requestId")?,
        ))
    };
    Ok(match ty {
        RequestType::Sockets => Request::Sockets {
            uid,
            request_id: str_field(&v, "requestId")?,
            rooms: rooms_field(v.get("rooms"), "rooms")?,
        },
        RequestType::AllRooms => Request::AllRooms {
            uid,
            request_id: str_field(&v, "requestId")?,
        },
        RequestType::RemoteJoin | RequestType::RemoteLeave => {
            let (opts, rooms, request_id) = if v.get("opts").is_some() {
                (opts_field(&v)?, rooms_field(v.get("rooms"), "rooms")?, None)
            } else {
                sid_form(&v)?
            };
            if ty == RequestType::RemoteJoin {
                Request::RemoteJoin {
                    uid,
                    request_id,
                    opts,
                    rooms,
                }
            } else {
                Request::RemoteLeave {
                    uid,
                    request_id,
                    opts,
                    rooms,
                }
            }
        }
        RequestType::RemoteDisconnect => {
            let close = v.get("close").and_then(Value::as_bool).unwrap_or(false);
            let (opts, request_id) = if v.get("opts").is_some() {
                (opts_field(&v)?, None)
            } else {
                let (opts, _, id) = sid_form(&v)?;
                (opts, id)
            };
            Request::RemoteDisconnect {
                uid,
                request_id,
                opts,
                close,
            }
        }
        RequestType::RemoteFetch => Request::RemoteFetch {
            uid,
            request_id: str_field(&v, "requestId")?,
            opts: opts_field(&v)?,
        },
        RequestType::ServerSideEmit => Request::ServerSideEmit {
            uid,
            request_id: opt_str_field(&v, "requestId")?,
            data: match v.get("data") {
                Some(Value::Array(items)) if !items.is_empty() => items.clone(),
                _ => return Err(WireError::Field("data")),
            },
        },
        RequestType::Broadcast => {
            let packet = packet.ok_or(WireError::Field("packet"))?;
            Request::Broadcast {
                uid,
                request_id: str_field(&v, "requestId")?,
                packet,
                opts: opts_field(&v)?,
                flags: flags_field(v.get("opts")),
            }
        }
        RequestType::BroadcastClientCount | RequestType::BroadcastAck => {
            return Err(WireError::UnknownType)
        }
    })
}

// ----- responses ----------------------------------------------------------------------

/// Encodes a response as the Node adapter does (MessagePack for `BROADCAST_ACK`, JSON
/// otherwise). For [`Response::Ack`], `value` is one MessagePack value.
pub fn encode_response(response: &Response) -> Bytes {
    let value = match response {
        Response::ClientCount { request_id, count } => {
            json!({"type": 8, "requestId": request_id, "clientCount": count})
        }
        Response::Ack { request_id, value } => {
            let mut out = BytesMut::with_capacity(value.len() + 32);
            mp_map_len(&mut out, 3);
            mp_str(&mut out, "type");
            out.put_u8(RequestType::BroadcastAck as u8);
            mp_str(&mut out, "requestId");
            mp_str(&mut out, request_id);
            mp_str(&mut out, "packet");
            out.extend_from_slice(value);
            return out.freeze();
        }
        Response::ServerSideEmit { request_id, data } => {
            json!({"type": 6, "requestId": request_id, "data": data})
        }
        Response::Sockets {
            request_id,
            sockets,
        } => json!({"requestId": request_id, "sockets": sockets}),
        Response::Rooms { request_id, rooms } => {
            json!({"requestId": request_id, "rooms": rooms})
        }
        Response::Done { request_id } => json!({"requestId": request_id}),
    };
    Bytes::from(value.to_string())
}

/// Decodes a response (JSON when it starts with `{`, MessagePack otherwise).
pub fn decode_response(frame: &Bytes) -> Result<Response, WireError> {
    let (v, packet) = parse_any(frame, "packet")?;
    let request_id = str_field(&v, "requestId")?;
    let ty = v.get("type").and_then(Value::as_u64);
    Ok(match ty {
        Some(8) => Response::ClientCount {
            request_id,
            count: v
                .get("clientCount")
                .and_then(Value::as_u64)
                .ok_or(WireError::Field("clientCount"))?,
        },
        Some(9) => Response::Ack {
            request_id,
            value: match packet {
                Some(raw) => raw,
                // A JSON ack (a custom parser): its value as MessagePack.
                None => {
                    let mut out = BytesMut::new();
                    write_mp(
                        &mut out,
                        &json_to_mp(v.get("packet").unwrap_or(&Value::Null)),
                    );
                    out.freeze()
                }
            },
        },
        Some(6) => Response::ServerSideEmit {
            request_id,
            data: v.get("data").cloned().unwrap_or(Value::Null),
        },
        _ => match (v.get("sockets"), v.get("rooms")) {
            (Some(Value::Array(s)), _) => Response::Sockets {
                request_id,
                sockets: s.clone(),
            },
            (_, Some(r)) => Response::Rooms {
                request_id,
                rooms: rooms_field(Some(r), "rooms")?,
            },
            _ => Response::Done { request_id },
        },
    })
}

// ----- values inside packets ------------------------------------------------------------

/// The client's answer inside a `BROADCAST_ACK` (one MessagePack value), as the ACK
/// packet the local path produces (`[value]`, binary as attachments).
pub fn ack_packet(
    nsp: &Namespace,
    value: &[u8],
    config: &DecoderConfig,
) -> Result<Packet, WireError> {
    let mut frame = BytesMut::with_capacity(value.len() + 32 + nsp.as_str().len());
    frame.put_u8(0x84);
    mp_str(&mut frame, "type");
    frame.put_u8(3);
    mp_str(&mut frame, "nsp");
    mp_str(&mut frame, nsp.as_str());
    mp_str(&mut frame, "id");
    frame.put_u8(0);
    mp_str(&mut frame, "data");
    frame.put_u8(0x91);
    frame.extend_from_slice(value);
    decode_packet(frame.freeze(), config)
}

/// The first argument of an ACK packet as one MessagePack value (nil when it has none).
pub fn ack_value(packet: &Packet) -> Result<Bytes, WireError> {
    let map = msgpack::encode(packet).map_err(|e| WireError::Packet(e.to_string()))?;
    let (_, data) = read_map_keeping(&map, "data")?;
    let Some(data) = data else {
        return Ok(Bytes::from_static(&[0xc0]));
    };
    let mut rest: &[u8] = &data;
    let (&first, tail) = rest.split_first().ok_or(WireError::Malformed("empty"))?;
    let (len, used) = match first {
        0x90..=0x9f => (usize::from(first & 0x0f), 0),
        0xdc if tail.len() >= 2 => (usize::from(u16::from_be_bytes([tail[0], tail[1]])), 2),
        0xdd if tail.len() >= 4 => (
            u32::from_be_bytes([tail[0], tail[1], tail[2], tail[3]]) as usize,
            4,
        ),
        _ => return Err(WireError::Malformed("ack data is not an array")),
    };
    if len == 0 {
        return Ok(Bytes::from_static(&[0xc0]));
    }
    rest = &tail[used..];
    let start = data.len() - rest.len();
    let (_, n) = read_value(rest)?;
    Ok(data.slice(start..start + n))
}

/// A socket as a `REMOTE_FETCH` answer lists it.
pub fn socket_json(s: &SocketSnapshot) -> Value {
    json!({"id": s.id, "handshake": s.handshake, "rooms": s.rooms, "data": s.data})
}

/// A socket of a `REMOTE_FETCH` answer.
pub fn socket_from_json(v: &Value) -> Result<SocketSnapshot, WireError> {
    Ok(SocketSnapshot {
        id: str_field(v, "id")?,
        handshake: v.get("handshake").cloned().unwrap_or(Value::Null),
        rooms: rooms_field(v.get("rooms"), "rooms")?,
        data: v.get("data").cloned().unwrap_or(Value::Null),
    })
}

#[cfg(test)]
mod tests;
