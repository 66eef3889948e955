//! Helpers shared by the integration tests: a JSON description of packets with binary values
//! written `{"$bin": "<hex>"}`, both ways.

use std::fmt;

use bytes::Bytes;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{json, Map, Value};
use socketio_parser::{
    AckId, Binary, DecodeError, Decoder, DecoderConfig, Encoded, Encoder, Namespace, Packet,
    PacketKind, Spread, Status,
};

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("test data holds valid hex"))
        .collect()
}

/// A JSON value that keeps its key order and may hold binary: what a JavaScript value is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tv {
    Null,
    Bool(bool),
    Num(serde_json::Number),
    Str(String),
    Arr(Vec<Tv>),
    Obj(Vec<(String, Tv)>),
    Bin(Binary),
}

impl Serialize for Tv {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Tv::Null => s.serialize_unit(),
            Tv::Bool(b) => s.serialize_bool(*b),
            Tv::Num(n) => n.serialize(s),
            Tv::Str(v) => s.serialize_str(v),
            Tv::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Tv::Obj(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Tv::Bin(b) => b.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Tv {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Tv, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tv;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Tv, E> {
                Ok(Tv::Null)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Tv, E> {
                Ok(Tv::Bool(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Tv, E> {
                Ok(Tv::Num(v.into()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Tv, E> {
                Ok(Tv::Num(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Tv, E> {
                serde_json::Number::from_f64(v)
                    .map(Tv::Num)
                    .ok_or_else(|| E::custom("not finite"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Tv, E> {
                Ok(Tv::Str(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tv, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Tv::Arr(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tv, A::Error> {
                let mut entries: Vec<(String, Tv)> = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                if let [(key, Tv::Str(h))] = &entries[..] {
                    if key == "$bin" {
                        return Ok(Tv::Bin(Binary::from(unhex(h))));
                    }
                }
                Ok(Tv::Obj(entries))
            }
        }
        d.deserialize_any(V)
    }
}

/// Replaces binary values by `{"$bin": hex}`, for comparisons.
pub(crate) fn tv_to_json(v: &Tv) -> Value {
    match v {
        Tv::Null => Value::Null,
        Tv::Bool(b) => Value::Bool(*b),
        Tv::Num(n) => Value::Number(n.clone()),
        Tv::Str(s) => Value::String(s.clone()),
        Tv::Arr(items) => Value::Array(items.iter().map(tv_to_json).collect()),
        Tv::Obj(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), tv_to_json(v)))
                .collect::<Map<_, _>>(),
        ),
        Tv::Bin(b) => json!({ "$bin": hex(b) }),
    }
}

/// Replaces placeholders by `{"$bin": hex}` of their attachment.
fn resolve(v: Value, attachments: &[Bytes]) -> Value {
    match v {
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|i| resolve(i, attachments)).collect())
        }
        Value::Object(map) => {
            if map.get("_placeholder") == Some(&Value::Bool(true)) {
                let num = map["num"]
                    .as_u64()
                    .expect("decoder checked the placeholder");
                return json!({ "$bin": hex(&attachments[num as usize]) });
            }
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, resolve(v, attachments)))
                    .collect(),
            )
        }
        other => other,
    }
}

/// A decoded packet as the reference decoder reports it: binary kinds become EVENT / ACK,
/// placeholders become the attachments.
pub(crate) fn packet_to_json(p: &Packet) -> Value {
    let kind = match p.kind() {
        PacketKind::BinaryEvent => PacketKind::Event,
        PacketKind::BinaryAck => PacketKind::Ack,
        k => k,
    };
    let mut out = json!({ "type": kind as u8, "nsp": p.namespace().as_str() });
    if let Some(id) = p.ack_id() {
        out["id"] = json!(id.get());
    }
    if p.payload().is_some() {
        // The payload as written, placeholders included: `resolve` puts the attachments in.
        let data: Value = serde_json::from_slice(p.payload().expect("checked above"))
            .expect("a decoded payload is JSON");
        out["data"] = if p.kind().is_binary() {
            resolve(data, p.attachments())
        } else {
            data
        };
    }
    out
}

/// Numbers compared as JavaScript sees them (all doubles).
pub(crate) fn js_normalize(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().expect("JSON numbers convert to f64")),
        Value::Array(items) => Value::Array(items.iter().map(js_normalize).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), js_normalize(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A frame of a test: text or binary.
pub(crate) enum Frame {
    Text(Bytes),
    Binary(Bytes),
}

/// What a decoder made of a sequence of frames.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// "ok", "pending" or "error".
    pub(crate) outcome: &'static str,
    pub(crate) error: Option<DecodeError>,
    pub(crate) packets: Vec<Packet>,
}

pub(crate) fn decode_frames(
    frames: impl IntoIterator<Item = Frame>,
    config: DecoderConfig,
) -> Outcome {
    let mut decoder = Decoder::with_config(config);
    let mut packets = Vec::new();
    let mut pending = false;
    for frame in frames {
        let status = match frame {
            Frame::Text(t) => decoder.push_text(t),
            Frame::Binary(b) => decoder.push_binary(b),
        };
        match status {
            Ok(Status::Complete(p)) => {
                packets.push(p);
                pending = false;
            }
            Ok(Status::NeedsAttachments(_)) => pending = true,
            Err(e) => {
                return Outcome {
                    outcome: "error",
                    error: Some(e),
                    packets,
                }
            }
        }
    }
    Outcome {
        outcome: if pending { "pending" } else { "ok" },
        error: None,
        packets,
    }
}

impl Tv {
    /// The member `key` of an object.
    pub(crate) fn get(&self, key: &str) -> Option<&Tv> {
        match self {
            Tv::Obj(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_u64(&self) -> Option<u64> {
        match self {
            Tv::Num(n) => n.as_u64(),
            _ => None,
        }
    }
}

/// Builds and encodes the packet `{type, nsp, id?, data?}` through the serde path. Objects
/// keep their key order, as JavaScript objects do.
pub(crate) fn encode_description(desc: &Tv) -> Encoded {
    let kind = desc.get("type").and_then(Tv::as_u64).expect("a type");
    let nsp = match desc.get("nsp") {
        Some(Tv::Str(s)) => Namespace::new(s).expect("a valid namespace"),
        _ => Namespace::main(),
    };
    let id = desc.get("id").and_then(Tv::as_u64).map(AckId::new);
    let data = desc.get("data").cloned();
    let packet = match (kind, data) {
        (0, None) => Packet::connect(nsp),
        (0, Some(d)) => Packet::connect_with(nsp, &d).expect("an object"),
        (1, _) => Packet::disconnect(nsp),
        (2, Some(Tv::Arr(items))) => {
            let Some((Tv::Str(name), args)) = items.split_first() else {
                panic!("test events have a string name")
            };
            let p = Packet::event(nsp, name, &Spread(args)).expect("a valid event");
            match id {
                Some(id) => p.with_ack_id(id),
                None => p,
            }
        }
        (3, Some(Tv::Arr(items))) => {
            Packet::ack(nsp, id.expect("acks have an id"), &Spread(&items)).expect("an ack")
        }
        (4, Some(d)) => Packet::connect_error(nsp, &d).expect("a string or object"),
        other => panic!("cannot build {other:?}"),
    };
    Encoder::new().encode(&packet)
}
