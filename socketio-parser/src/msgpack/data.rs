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

/// The data value of a decoded frame, and its JSON and attachments once something asked for
/// them.
///
/// The arguments are read from the MessagePack (`de`), and so is the event name; only
/// [`Packet::payload`](crate::Packet::payload), [`Packet::raw_args`](crate::Packet::raw_args)
/// and comparing or printing the packet need the JSON. Writing it costs about as much as
/// decoding the frame did, so it is written on the first such call and kept. The
/// attachments, slices of the frame, are listed on the first call that needs them
/// ([`Packet::attachments`](crate::Packet::attachments), the JSON's users): reading
/// arguments takes the binary values from the frame itself.
///
/// `OnceLock` rather than `OnceCell`: a `Packet` stays `Sync`, so that a handler may hold
/// `&Packet` across an `.await` on a multi-threaded runtime. It is a cache of a value the
/// packet already determines, not state shared between tasks.
#[derive(Clone)]
pub(crate) struct Data {
    /// The frame that [`decode`](super::decode) accepted; the data value is
    /// `frame[start..end]`. Offsets rather than a narrowed `Bytes`: narrowing a `Bytes` that
    /// owns a `Vec` can allocate, and positions stay the frame's.
    frame: Bytes,
    start: usize,
    end: usize,
    /// No string or key of the value is one that JSON escapes: the JSON path would borrow
    /// every string.
    plain: bool,
    /// How many binary values (attachments) the value holds.
    binary: usize,
    // Boxed, as they are rarely asked for: a `Packet` stays small to move.
    json: OnceLock<Box<Json>>,
    attachments: OnceLock<Box<[Bytes]>>,
}

impl Data {
    /// The data value `frame[start..end]` as `decode` accepted it, holding `binary` binary
    /// values, with its JSON if that is already written.
    pub(super) fn new(
        frame: Bytes,
        (start, end): (usize, usize),
        json: Option<Json>,
        plain: bool,
        binary: usize,
    ) -> Self {
        Data {
            frame,
            start,
            end,
            plain,
            binary,
            json: json
                .map(Box::new)
                .map_or_else(OnceLock::new, OnceLock::from),
            attachments: OnceLock::new(),
        }
    }

    /// Reads the elements of the data array into `T` (see [`de`](super::de)), skipping the
    /// event name when `skip_name`.
    pub(crate) fn args<'de, T: Deserialize<'de>>(
        &'de self,
        skip_name: bool,
    ) -> Result<T, ArgsError> {
        deserialize_args(
            self.reader(),
            &self.frame,
            self.plain,
            skip_name,
            self.binary > 0,
        )
    }

    /// Reads the whole data value into `T`.
    pub(crate) fn payload_as<'de, T: Deserialize<'de>>(&'de self) -> Result<T, ArgsError> {
        deserialize_value(self.reader(), &self.frame, self.plain, self.binary > 0)
    }

    /// The attachments: the binary values, depth first, left to right (the order of the
    /// JSON's placeholders), as slices of the frame.
    pub(crate) fn attachments(&self) -> &[Bytes] {
        if self.binary == 0 {
            return &[];
        }
        self.attachments
            .get_or_init(|| list_binary(&self.frame, self.reader(), self.binary).into_boxed_slice())
    }

    /// The attachments, taken out (the data is not read again after this).
    pub(crate) fn take_attachments(&mut self) -> Vec<Bytes> {
        self.attachments();
        self.attachments.take().map(Vec::from).unwrap_or_default()
    }

    /// A reader at the data value, reading no further.
    fn reader(&self) -> Reader<'_> {
        Reader {
            buf: &self.frame[..self.end],
            pos: self.start,
        }
    }

    /// The JSON of the data, as the text decoder would hold it for a packet of kind `kind`
    /// (the kind the data was decoded with).
    pub(crate) fn json(&self, kind: PacketKind) -> &Json {
        self.json
            .get_or_init(|| Box::new(data_json(&self.frame, self.reader(), kind)))
    }

    /// The event name, read from the MessagePack: the same name the JSON gives.
    pub(crate) fn event_name(&self, kind: PacketKind) -> Option<EventName<'_>> {
        if !kind.is_event() {
            return None;
        }
        // `decode` checked that an event's data is an array whose first element is a
        // UTF-8 string or a finite number.
        let mut r = self.reader();
        let Ok(Head::Array(1..)) = r.head() else {
            return None;
        };
        let f = match r.head().ok()? {
            Head::Str { start, len } => {
                let name = std::str::from_utf8(&self.frame[start..start + len]).ok()?;
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

/// The `count` binary values of the value at `r` (`bin`, and extensions other than
/// `undefined` and `Date`), in the order of their heads, as slices of `frame`.
fn list_binary(frame: &Bytes, mut r: Reader<'_>, count: usize) -> Vec<Bytes> {
    let mut out = Vec::with_capacity(count);
    // Values whose heads are still to read: containers add their elements.
    let mut pending = 1u64;
    while pending > 0 && out.len() < count {
        pending -= 1;
        // `decode` accepted the value: every head reads.
        let Ok(head) = r.head() else { break };
        match head {
            Head::Array(n) => pending += u64::from(n),
            Head::Map(n) => pending += 2 * u64::from(n),
            Head::Bin { start, len } | Head::Ext { start, len, .. } => {
                out.push(frame.slice(start..start + len));
            }
            _ => {}
        }
    }
    out
}
