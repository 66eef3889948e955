//! [`Value`]: whatever a JavaScript client can send, binary included.
//!
//! A JavaScript value is JSON plus one thing JSON lacks: a `Buffer` (or `ArrayBuffer`,
//! typed array) anywhere inside it. `serde_json::Value` cannot hold bytes, so a handler that
//! echoes what it received with it would turn the client's bytes into a placeholder object.
//! [`Value`] holds them as [`Binary`], wherever they were, and writes them back out as
//! attachments; its objects keep their keys in the order they arrived.
//!
//! ```
//! use bytes::Bytes;
//! use socketio_parser::{Binary, Decoder, Encoder, Namespace, Packet, Status, Value};
//!
//! let mut decoder = Decoder::new();
//! let text = Bytes::from_static(br#"51-["echo",{"z":1,"blob":{"_placeholder":true,"num":0}}]"#);
//! assert!(matches!(decoder.push_text(text), Ok(Status::NeedsAttachments(1))));
//! let Ok(Status::Complete(packet)) = decoder.push_binary(Bytes::from_static(b"\x01\x02")) else {
//!     unreachable!()
//! };
//!
//! let (msg,): (Value,) = packet.args().unwrap();
//! assert_eq!(msg["blob"].as_binary().map(|b| &b[..]), Some(&b"\x01\x02"[..]));
//! let keys: Vec<&str> = msg.as_object().unwrap().keys().map(|k| k.as_str()).collect();
//! assert_eq!(keys, ["z", "blob"]); // as sent, not sorted
//!
//! // Sent back, the bytes are an attachment again.
//! let reply = Packet::event(Namespace::main(), "echo", &(msg,)).unwrap();
//! let encoded = Encoder::new().encode(&reply);
//! assert_eq!(&encoded.text[..], br#"51-["echo",{"z":1,"blob":{"_placeholder":true,"num":0}}]"#);
//! assert_eq!(&encoded.attachments[0][..], b"\x01\x02");
//! ```
//!
//! # Key order
//!
//! Objects are [`Map`]s in arrival order (a repeated key keeps its first place and takes the
//! last value, as `JSON.parse` does). When a `Value` is written, keys that are array indices
//! (`"0"`, `"17"`: canonical integers below 2^32 - 1) come first in ascending order, then the
//! others in their order: the order in which a JavaScript engine enumerates an object's keys,
//! so that what a handler echoes is what the Node server would send back.
//!
//! # Placeholders
//!
//! While a packet's arguments are read ([`Packet::args`](crate::Packet::args),
//! [`Packet::payload_as`](crate::Packet::payload_as)), an object `{"_placeholder":true,"num":N}`
//! becomes [`Value::Binary`] holding attachment `N` (the same memory, not a copy). Read from
//! plain JSON elsewhere (e.g. `serde_json::from_str`), such an object stays an object.

use std::fmt;
use std::ops::Index;

use bytes::Bytes;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Number;

use crate::binary::{attachments_in_reach, claim, take_shared, unreachable_placeholder, Binary};

mod map;
mod str;

pub use map::{IntoIter, Iter, IterMut, Map};
pub use str::Str;

/// Any value a JavaScript client can send: JSON (objects in their key order) with bytes
/// anywhere. See the [module docs](self) for how it reads and writes placeholders.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null` (also what `undefined` becomes in an array, as in JSON).
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number: an integer, or a finite float.
    Number(Number),
    /// A string.
    String(Str),
    /// Bytes: an attachment on the wire (`Buffer`, `ArrayBuffer` or typed array in JavaScript).
    Binary(Binary),
    /// An array.
    Array(Vec<Value>),
    /// An object, in arrival order.
    Object(Map),
}

static NULL: Value = Value::Null;

impl Value {
    /// An object from `(key, value)` pairs, in their order.
    pub fn object<K: Into<Str>>(members: impl IntoIterator<Item = (K, Value)>) -> Self {
        Value::Object(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number as an `f64`, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// The number as an `i64`, if this is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The number as a `u64`, if this is a non-negative integer that fits.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The bytes, if this is binary.
    pub fn as_binary(&self) -> Option<&Binary> {
        match self {
            Value::Binary(b) => Some(b),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The members, if this is an object.
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// A member of an object, or an element of an array (`value.get(2)`).
    pub fn get<I: ValueIndex>(&self, index: I) -> Option<&Value> {
        index.get_in(self)
    }

    /// Whether any binary is inside (an emit of it then goes out with attachments).
    pub fn has_binary(&self) -> bool {
        match self {
            Value::Binary(_) => true,
            Value::Array(a) => a.iter().any(Value::has_binary),
            Value::Object(m) => m.values().any(Value::has_binary),
            _ => false,
        }
    }
}

/// What [`Value::get`] and indexing take: a `&str` key or a `usize` position.
pub trait ValueIndex: private::Sealed {
    /// The member or element, if there is one.
    fn get_in(self, value: &Value) -> Option<&Value>;
}

mod private {
    pub trait Sealed {}
    impl Sealed for &str {}
    impl Sealed for usize {}
}

impl ValueIndex for &str {
    fn get_in(self, value: &Value) -> Option<&Value> {
        value.as_object()?.get(self)
    }
}

impl ValueIndex for usize {
    fn get_in(self, value: &Value) -> Option<&Value> {
        value.as_array()?.get(self)
    }
}

impl<I: ValueIndex> Index<I> for Value {
    type Output = Value;

    /// The member or element, or `Null` when there is none (as JavaScript's `undefined`
    /// reads).
    fn index(&self, index: I) -> &Value {
        index.get_in(self).unwrap_or(&NULL)
    }
}

macro_rules! from_number {
    ($($ty:ty)*) => {$(
        impl From<$ty> for Value {
            fn from(n: $ty) -> Self {
                Value::Number(Number::from(n))
            }
        }
    )*};
}

from_number!(i8 i16 i32 i64 isize u8 u16 u32 u64 usize);

impl From<f64> for Value {
    /// A finite float; NaN and the infinities become `null`, as `JSON.stringify` writes them.
    fn from(n: f64) -> Self {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(Str::new(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(Str::from(s))
    }
}

impl From<Str> for Value {
    fn from(s: Str) -> Self {
        Value::String(s)
    }
}

impl From<Binary> for Value {
    fn from(b: Binary) -> Self {
        Value::Binary(b)
    }
}

impl From<Bytes> for Value {
    fn from(b: Bytes) -> Self {
        Value::Binary(Binary::from(b))
    }
}

impl From<Vec<Value>> for Value {
    fn from(a: Vec<Value>) -> Self {
        Value::Array(a)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Object(m)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}

impl From<serde_json::Value> for Value {
    /// The same JSON (its objects in `serde_json`'s map order).
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(n),
            serde_json::Value::String(s) => Value::String(Str::from(s)),
            serde_json::Value::Array(a) => Value::Array(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(m) => {
                Value::Object(m.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

impl FromIterator<Value> for Value {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Self {
        Value::Array(iter.into_iter().collect())
    }
}

/// The number a key names when it is an array index: a canonical decimal integer below
/// 2^32 - 1 (`"0"`, `"42"`; not `"01"`, `"-1"`, `"4294967295"`).
fn array_index(key: &str) -> Option<u32> {
    let b = key.as_bytes();
    if b.is_empty() || b.len() > 10 || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    if !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    key.parse::<u32>().ok().filter(|&n| n != u32::MAX)
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => n.serialize(serializer),
            Value::String(s) => serializer.serialize_str(s),
            Value::Binary(b) => b.serialize(serializer),
            Value::Array(a) => serializer.collect_seq(a),
            Value::Object(m) => serialize_object(m, serializer),
        }
    }
}

/// Writes an object's members in the order JavaScript enumerates them: array indices first,
/// ascending, then the other keys in their order.
fn serialize_object<S: Serializer>(m: &Map, serializer: S) -> Result<S::Ok, S::Error> {
    let mut out = serializer.serialize_map(Some(m.len()))?;
    let mut indices: Vec<(u32, usize)> = m
        .keys()
        .enumerate()
        .filter_map(|(at, k)| array_index(k).map(|n| (n, at)))
        .collect();
    if indices.is_empty() {
        for (k, v) in m {
            out.serialize_entry(k, v)?;
        }
        return out.end();
    }
    indices.sort_unstable();
    for &(_, at) in &indices {
        let (k, v) = m.get_index(at).expect("the position came from this map");
        out.serialize_entry(k, v)?;
    }
    for (k, v) in m.iter().filter(|(k, _)| array_index(k).is_none()) {
        out.serialize_entry(k, v)?;
    }
    out.end()
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value, or bytes")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        let bytes = take_shared(v).unwrap_or_else(|| Bytes::copy_from_slice(v));
        Ok(Value::Binary(Binary::from(bytes)))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Binary(Binary::from(v)))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // The hint comes from the peer's input: cap what it may make us reserve.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::with_capacity(map.size_hint().unwrap_or(0).min(1024));
        while let Some((k, v)) = map.next_entry::<Str, Value>()? {
            // A repeated key keeps its first place and takes the last value, as in JSON.parse.
            out.insert(k, v);
        }
        // Only two-member objects can be placeholders.
        if out.len() == 2 && attachments_in_reach() {
            if let Some(num) = placeholder_num(&out) {
                return claim(num)
                    .map(|b| Value::Binary(Binary::from(b)))
                    .map_err(unreachable_placeholder);
            }
        }
        Ok(Value::Object(out))
    }
}

/// `N` when `m` is exactly `{"_placeholder":true,"num":N}` (either order).
fn placeholder_num(m: &Map) -> Option<u64> {
    if m.len() != 2 || m.get("_placeholder") != Some(&Value::Bool(true)) {
        return None;
    }
    m.get("num")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::with_attachments;

    fn json(v: &Value) -> String {
        serde_json::to_string(v).unwrap()
    }

    #[test]
    fn stays_small_to_move() {
        // Tree building moves values around: a 40-byte value moves in a few instructions.
        assert!(std::mem::size_of::<Value>() <= 40);
    }

    #[test]
    fn keeps_key_order_and_repeats_like_json_parse() {
        let v: Value = serde_json::from_str(r#"{"b":1,"a":[true,null],"c":"x","b":2}"#).unwrap();
        assert_eq!(json(&v), r#"{"b":2,"a":[true,null],"c":"x"}"#);
    }

    #[test]
    fn writes_array_index_keys_first_as_javascript_enumerates_them() {
        let v: Value =
            serde_json::from_str(r#"{"b":1,"10":2,"a":3,"2":4,"01":5,"-1":6,"4294967295":7}"#)
                .unwrap();
        assert_eq!(
            json(&v),
            r#"{"2":4,"10":2,"b":1,"a":3,"01":5,"-1":6,"4294967295":7}"#
        );
        assert_eq!(array_index("4294967294"), Some(4_294_967_294));
        assert_eq!(array_index("0"), Some(0));
        assert_eq!(array_index(""), None);
        assert_eq!(array_index("1e3"), None);
    }

    #[test]
    fn placeholders_become_bytes_only_with_attachments_in_reach() {
        let text = r#"[{"_placeholder":true,"num":0},{"num":1,"_placeholder":true}]"#;
        let plain: Value = serde_json::from_str(text).unwrap();
        assert_eq!(plain[0]["num"].as_u64(), Some(0));
        let atts = [Bytes::from_static(b"a"), Bytes::from_static(b"bc")];
        let (v, unread) = with_attachments(&atts, || serde_json::from_str::<Value>(text));
        let v = v.unwrap();
        assert_eq!(unread, 0);
        assert_eq!(v[0].as_binary().unwrap().as_bytes(), &atts[0]);
        assert_eq!(
            v[1].as_binary().unwrap().as_bytes().as_ptr(),
            atts[1].as_ptr()
        );
        let (bad, _) = with_attachments(&atts, || {
            serde_json::from_str::<Value>(r#"{"_placeholder":true,"num":2}"#)
        });
        assert!(bad.is_err());
    }

    #[test]
    fn numbers_strings_and_accessors() {
        let v: Value =
            serde_json::from_str(r#"{"i":-3,"u":18446744073709551615,"f":1.5,"s":"é"}"#).unwrap();
        assert_eq!(v["i"].as_i64(), Some(-3));
        assert_eq!(v["u"].as_u64(), Some(u64::MAX));
        assert_eq!(v["f"].as_f64(), Some(1.5));
        assert_eq!(v["s"].as_str(), Some("é"));
        assert!(v["missing"].is_null());
        assert!(v[3].is_null());
        assert_eq!(Value::from(f64::NAN), Value::Null);
        assert_eq!(Value::from(Some("x")), Value::from("x"));
        let o = Value::object([("k", Value::from(1)), ("b", Value::from(Bytes::new()))]);
        assert!(o.has_binary());
        assert!(!Value::from(serde_json::json!({"a": [1, {"b": null}]})).has_binary());
    }
}
