//! [`Data`]: what a packet decoded from a MessagePack frame keeps of its payload.

use std::borrow::Cow;
use std::sync::OnceLock;

use bytes::Bytes;
use serde::Deserialize;

use super::de::{deserialize_args, deserialize_value};
use super::decode::data_json;
use super::read::{Head, Reader};
use crate::args::EventName;
use crate::error::ArgsError;
use crate::packet::{Json, PacketKind};

/// The data value of a decoded frame, and its JSON once something asked for it.
///
/// The arguments are read from the MessagePack (`de`), and so is the event name; only
/// [`Packet::payload`](crate::Packet::payload), [`Packet::raw_args`](crate::Packet::raw_args)
/// and comparing or printing the packet need the JSON. Writing it costs about as much as
/// decoding the frame did, so it is written on the first such call and kept.
///
/// `OnceLock` rather than `OnceCell`: a `Packet` stays `Sync`, so that a handler may hold
/// `&Packet` across an `.await` on a multi-threaded runtime. It is a cache of a value the
/// packet already determines, not state shared between tasks.
#[derive(Clone)]
pub(crate) struct Data {
    /// The `data` value, a slice of the frame that [`decode`](super::decode) accepted.
    value: Bytes,
    /// No string or key of the value is one that JSON escapes: the JSON path would borrow
    /// every string.
    plain: bool,
    json: OnceLock<Json>,
}

impl Data {
    /// `value` as `decode` accepted it, with its JSON if that is already written.
    pub(super) fn new(value: Bytes, json: OnceLock<Json>, plain: bool) -> Self {
        Data { value, plain, json }
    }

    /// Reads the elements of the data array into `T` (see [`de`](super::de)), skipping the
    /// event name when `skip_name`. `has_binary`: the packet has attachments.
    pub(crate) fn args<'de, T: Deserialize<'de>>(
        &'de self,
        skip_name: bool,
        has_binary: bool,
    ) -> Result<T, ArgsError> {
        deserialize_args(&self.value, self.plain, skip_name, has_binary)
    }

    /// Reads the whole data value into `T`.
    pub(crate) fn payload_as<'de, T: Deserialize<'de>>(
        &'de self,
        has_binary: bool,
    ) -> Result<T, ArgsError> {
        deserialize_value(&self.value, self.plain, has_binary)
    }

    /// The JSON of the data, as the text decoder would hold it for a packet of kind `kind`
    /// (the kind the data was decoded with).
    pub(crate) fn json(&self, kind: PacketKind) -> &Json {
        self.json.get_or_init(|| data_json(&self.value, kind))
    }

    /// The event name, read from the MessagePack: the same name the JSON gives.
    pub(crate) fn event_name(&self, kind: PacketKind) -> Option<EventName<'_>> {
        if !kind.is_event() {
            return None;
        }
        // `decode` checked that an event's data is an array whose first element is a
        // UTF-8 string or a finite number.
        let mut r = Reader::new(&self.value);
        let Ok(Head::Array(1..)) = r.head() else {
            return None;
        };
        let f = match r.head().ok()? {
            Head::Str { start, len } => {
                let name = std::str::from_utf8(&self.value[start..start + len]).ok()?;
                return Some(EventName::Str(Cow::Borrowed(name)));
            }
            // As JavaScript reads the number, and the JSON text it prints reads back.
            Head::UInt(n) => n as f64,
            Head::Int(n) => n as f64,
            Head::Float(f) => f,
            _ => return None,
        };
        // JavaScript prints -0 as `0`.
        Some(EventName::Number(if f == 0.0 { 0.0 } else { f }))
    }
}
