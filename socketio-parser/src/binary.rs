//! [`Binary`]: bytes that travel as an attachment.
//!
//! # How bytes become attachments, and back
//!
//! Serde has no notion of "attachment"; it has `serialize_bytes`. The encoder's JSON writer
//! turns every `serialize_bytes` call into a placeholder `{"_placeholder":true,"num":N}` and
//! appends the bytes to the attachment list, numbering them depth first, left to right. So
//! [`Binary`], `bytes::Bytes` (with the `serde` feature of `bytes`), `serde_bytes::ByteBuf`
//! and `#[serde(with = "serde_bytes")]` fields all become attachments.
//!
//! A plain `Vec<u8>` or `&[u8]` does **not**: serde serializes them as a sequence, and they
//! go out as a JSON array of numbers (`[1,2,3]`), exactly as a JavaScript array of numbers
//! would. Wrap them in [`Binary`] (or mark the field `serde_bytes`) to send binary.
//!
//! [`Binary`] also avoids the copy: while it is being serialized it lends its [`Bytes`]
//! handle to the encoder through a thread-local slot, so the attachment shares its memory.
//! Other `serialize_bytes` values are copied once.
//!
//! Reading back, [`Binary`] deserializes from a placeholder object: while
//! [`Packet::args`](crate::Packet::args) or [`Packet::payload_as`](crate::Packet::payload_as)
//! runs, the packet's attachments are reachable from a thread-local, and a placeholder hands
//! back the received [`Bytes`] without copying. Other byte types cannot read placeholders:
//! use [`Binary`] (or `Vec<Binary>`, `Option<Binary>`, a struct field of type [`Binary`]...).
//! Outside those calls (e.g. with plain `serde_json::from_str`) a placeholder does not
//! deserialize into [`Binary`]; a JSON array of numbers or a serde byte string does.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::ops::Deref;

use bytes::Bytes;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, Serializer};

/// Binary data that travels as a Socket.IO attachment. Wraps [`Bytes`]: cloning is cheap,
/// and a decoded `Binary` shares the memory of the received frame.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Binary(Bytes);

impl Binary {
    /// Wraps bytes.
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        Binary(bytes.into())
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Unwraps the bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Deref for Binary {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Binary {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Bytes> for Binary {
    fn from(b: Bytes) -> Self {
        Binary(b)
    }
}

impl From<Vec<u8>> for Binary {
    fn from(v: Vec<u8>) -> Self {
        Binary(Bytes::from(v))
    }
}

impl From<&'static [u8]> for Binary {
    fn from(s: &'static [u8]) -> Self {
        Binary(Bytes::from_static(s))
    }
}

impl From<Binary> for Bytes {
    fn from(b: Binary) -> Self {
        b.0
    }
}

impl fmt::Debug for Binary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Binary({} bytes)", self.0.len())
    }
}

thread_local! {
    /// The `Bytes` a `Binary` lends to the encoder during its `serialize_bytes` call.
    static LENT: Cell<Option<Bytes>> = const { Cell::new(None) };
    /// The attachments of the packet being deserialized, and the placeholders read so far.
    static REACH: RefCell<Reach> = const { RefCell::new(Reach::EMPTY) };
    /// An empty attachment list with room, left by the last `with_attachments` (at most as
    /// long as the longest list a decoder accepted on this thread).
    static SPARE: Cell<Vec<Bytes>> = const { Cell::new(Vec::new()) };
    /// The MessagePack data whose arguments are being read, and how many of its `bin`
    /// values a binary type took.
    static SHARED: RefCell<Shared> = const { RefCell::new(Shared { data: None, claimed: 0 }) };
}

#[derive(Default)]
struct Shared {
    data: Option<Bytes>,
    claimed: usize,
}

/// Runs `f` while `Binary` and `Value` take bytes that lie in `data` as slices of it
/// (`bin` values of a MessagePack packet, handed over by `msgpack::de`), restoring what
/// was there before even if `f` panics. Also returns how many they took.
#[cfg(feature = "msgpack")]
pub(crate) fn with_shared<R>(data: &Bytes, f: impl FnOnce() -> R) -> (R, usize) {
    struct Restore(Shared);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = std::mem::take(&mut self.0);
            SHARED.with(|s| *s.borrow_mut() = previous);
        }
    }
    let entered = Shared {
        data: Some(data.clone()),
        claimed: 0,
    };
    let previous = SHARED.with(|s| std::mem::replace(&mut *s.borrow_mut(), entered));
    let restore = Restore(previous);
    let value = f();
    let claimed = SHARED.with(|s| s.borrow().claimed);
    drop(restore);
    (value, claimed)
}

/// `v` as a slice of the shared data, counted as claimed, when it lies in that data.
pub(crate) fn take_shared(v: &[u8]) -> Option<Bytes> {
    SHARED.with(|s| {
        let mut s = s.borrow_mut();
        let data = s.data.as_ref()?;
        let base = data.as_ptr() as usize;
        let at = v.as_ptr() as usize;
        if at < base || at - base > data.len() || v.len() > data.len() - (at - base) {
            return None;
        }
        let shared = data.slice(at - base..at - base + v.len());
        s.claimed += 1;
        Some(shared)
    })
}

/// What deserialization can reach while a packet's arguments are read.
#[derive(Default)]
struct Reach {
    attachments: Vec<Bytes>,
    /// Placeholder objects that a watched deserializer reached (see `binary_guard`).
    reached: usize,
    /// Placeholders that `Binary` or `Value` turned back into bytes.
    claimed: usize,
}

impl Reach {
    const EMPTY: Reach = Reach {
        attachments: Vec::new(),
        reached: 0,
        claimed: 0,
    };
}

/// Called by the encoder's `write_byte_array`: the lent handle when it is the same memory as
/// `value`, otherwise a copy.
pub(crate) fn take_lent(value: &[u8]) -> Bytes {
    match LENT.with(Cell::take) {
        Some(b) if b.as_ptr() == value.as_ptr() && b.len() == value.len() => b,
        _ => Bytes::copy_from_slice(value),
    }
}

impl Serialize for Binary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        LENT.with(|slot| slot.set(Some(self.0.clone())));
        let result = serializer.serialize_bytes(&self.0);
        // A serializer other than the encoder's leaves the handle in the slot.
        LENT.with(Cell::take);
        result
    }
}

/// Runs `f` with `attachments` reachable by [`Binary`]'s and [`Value`](crate::Value)'s
/// `Deserialize`, restoring whatever was there before (calls may nest) even if `f` panics.
///
/// Also returns how many placeholders were reached by a watched deserializer but not claimed
/// by a binary type: read by something that cannot hold bytes (see `binary_guard`).
pub(crate) fn with_attachments<R>(attachments: &[Bytes], f: impl FnOnce() -> R) -> (R, usize) {
    struct Restore(Reach);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = std::mem::take(&mut self.0);
            let ours = REACH.with(|r| std::mem::replace(&mut *r.borrow_mut(), previous));
            // Keep the list's memory for the next call on this thread.
            let mut list = ours.attachments;
            list.clear();
            SPARE.with(|s| s.set(list));
        }
    }
    let mut list = SPARE.with(Cell::take);
    list.extend_from_slice(attachments);
    let entered = Reach {
        attachments: list,
        reached: 0,
        claimed: 0,
    };
    let previous = REACH.with(|r| std::mem::replace(&mut *r.borrow_mut(), entered));
    let restore = Restore(previous);
    let value = f();
    let unread = REACH.with(|r| {
        let r = r.borrow();
        r.reached.saturating_sub(r.claimed)
    });
    drop(restore);
    (value, unread)
}

/// Whether a packet's attachments are in reach (placeholders then mean bytes).
pub(crate) fn attachments_in_reach() -> bool {
    REACH.with(|r| !r.borrow().attachments.is_empty())
}

/// Counts a placeholder object reached by a watched deserializer.
pub(crate) fn note_placeholder_reached() {
    REACH.with(|r| r.borrow_mut().reached += 1);
}

/// The attachment a placeholder names, counted as claimed; or `(num, attachments in reach)`.
pub(crate) fn claim(num: u64) -> Result<Bytes, (u64, usize)> {
    REACH.with(|r| {
        let mut r = r.borrow_mut();
        let found = usize::try_from(num)
            .ok()
            .and_then(|n| r.attachments.get(n).cloned())
            .ok_or((num, r.attachments.len()))?;
        r.claimed += 1;
        Ok(found)
    })
}

/// The error for a placeholder whose attachment is not in reach.
pub(crate) fn unreachable_placeholder<E: de::Error>((num, len): (u64, usize)) -> E {
    E::custom(format_args!(
        "placeholder {num} has no attachment: {len} in reach (only Packet::args and \
         Packet::payload_as put a packet's attachments in reach)"
    ))
}

impl<'de> Deserialize<'de> for Binary {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BinaryVisitor)
    }
}

struct BinaryVisitor;

#[derive(Clone, Copy)]
enum Field {
    Placeholder,
    Num,
    Other,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a placeholder key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                Ok(match v {
                    "_placeholder" => Field::Placeholder,
                    "num" => Field::Num,
                    _ => Field::Other,
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

impl<'de> Visitor<'de> for BinaryVisitor {
    type Value = Binary;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a binary placeholder {\"_placeholder\":true,\"num\":N} or bytes")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Binary, A::Error> {
        let mut flag = false;
        let mut num = None;
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Placeholder => flag = map.next_value::<bool>()?,
                Field::Num => num = Some(map.next_value::<u64>()?),
                Field::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let num = match (flag, num) {
            (true, Some(num)) => num,
            _ => return Err(de::Error::custom("expected a binary placeholder")),
        };
        claim(num).map(Binary).map_err(unreachable_placeholder)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Binary, E> {
        Ok(Binary(
            take_shared(v).unwrap_or_else(|| Bytes::copy_from_slice(v)),
        ))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Binary, E> {
        Ok(Binary(Bytes::from(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Binary, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(Binary(Bytes::from(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_resolve_only_in_reach() {
        let json = r#"{"_placeholder":true,"num":1}"#;
        assert!(serde_json::from_str::<Binary>(json).is_err());
        let atts = [Bytes::from_static(b"a"), Bytes::from_static(b"bc")];
        let (b, unread): (Binary, _) =
            with_attachments(&atts, || serde_json::from_str(json).unwrap());
        assert_eq!(unread, 0);
        assert_eq!(&b[..], b"bc");
        assert_eq!(b.as_bytes().as_ptr(), atts[1].as_ptr());
        // Nested calls restore the outer attachments.
        with_attachments(&atts, || {
            let (inner, _) = with_attachments(&[], || serde_json::from_str::<Binary>(json));
            assert!(inner.is_err());
            assert!(serde_json::from_str::<Binary>(json).is_ok());
        });
        assert!(serde_json::from_str::<Binary>(json).is_err());
    }

    #[test]
    fn plain_serializers_see_bytes() {
        let b = Binary::from(&b"\x01\x02"[..]);
        assert_eq!(serde_json::to_string(&b).unwrap(), "[1,2]");
        assert_eq!(serde_json::from_str::<Binary>("[1,2]").unwrap(), b);
        assert!(LENT.with(Cell::take).is_none());
    }
}
