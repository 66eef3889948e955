//! Noticing binary that lands where it cannot be held.
//!
//! A packet with attachments carries placeholders `{"_placeholder":true,"num":N}` in its JSON.
//! [`Binary`](crate::Binary) and [`Value`](crate::Value) turn a placeholder back into bytes.
//! Any other type that reads a placeholder (`serde_json::Value`, a `HashMap`, a struct with
//! `_placeholder` and `num` fields) would take it for an ordinary object, and the application
//! would never learn that bytes were sent.
//!
//! [`Guarded`] wraps a deserializer so that this cannot pass silently. Every map key it sees
//! that reads `_placeholder` counts one placeholder *reached*; every placeholder that
//! `Binary` or `Value` resolves counts one *claimed* (see `binary::claim`). When more were
//! reached than claimed, something other than a binary type took one, and
//! [`Packet::args`](crate::Packet::args) answers
//! [`ArgsError::UnreadBinary`](crate::ArgsError::UnreadBinary). Values skipped without being
//! read (extra arguments, unknown struct fields) go through `deserialize_ignored_any`, which is
//! not wrapped: ignoring binary is allowed, as a JavaScript handler may ignore an argument.
//!
//! The wrapper passes every call through to the inner deserializer and wraps what comes back
//! (visitors, sequences, maps, enums, seeds) so that nested values are watched too. It is only
//! used for packets that have attachments; others are read without it.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

use crate::binary::note_placeholder_reached;

/// A deserializer whose map keys are watched for `_placeholder`.
pub(crate) struct Guarded<D> {
    inner: D,
    /// Whether this deserializer reads a map key.
    key: bool,
}

impl<D> Guarded<D> {
    pub(crate) fn new(inner: D) -> Self {
        Guarded { inner, key: false }
    }
}

struct GuardedVisitor<V> {
    inner: V,
    key: bool,
}

struct GuardedSeed<S> {
    inner: S,
    key: bool,
}

struct GuardedSeq<A>(A);

struct GuardedMap<A>(A);

struct GuardedEnum<A>(A);

struct GuardedVariant<A>(A);

fn watch<V>(inner: V, key: bool) -> GuardedVisitor<V> {
    GuardedVisitor { inner, key }
}

/// Forwards `deserialize_*` methods that take only a visitor.
macro_rules! forward_plain {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method(watch(visitor, self.key))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Guarded<D> {
    type Error = D::Error;

    forward_plain! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32
        deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char
        deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_option deserialize_unit deserialize_seq deserialize_map
        deserialize_identifier
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_unit_struct(name, watch(visitor, self.key))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_newtype_struct(name, watch(visitor, self.key))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_tuple(len, watch(visitor, self.key))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_tuple_struct(name, len, watch(visitor, self.key))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_struct(name, fields, watch(visitor, self.key))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_enum(name, variants, watch(visitor, self.key))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        // Skipped, not read: nothing below is watched.
        self.inner.deserialize_ignored_any(visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// Forwards `visit_*` methods that take one plain value.
macro_rules! forward_visit {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<V> GuardedVisitor<V> {
    fn note_key(&self, key: &str) {
        if self.key && key == "_placeholder" {
            note_placeholder_reached();
        }
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for GuardedVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit! {
        visit_bool: bool, visit_i8: i8, visit_i16: i16, visit_i32: i32, visit_i64: i64,
        visit_i128: i128, visit_u8: u8, visit_u16: u16, visit_u32: u32, visit_u64: u64,
        visit_u128: u128, visit_f32: f32, visit_f64: f64, visit_char: char,
        visit_bytes: &[u8], visit_borrowed_bytes: &'de [u8], visit_byte_buf: Vec<u8>
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.note_key(v);
        self.inner.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.note_key(v);
        self.inner.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        self.note_key(&v);
        self.inner.visit_string(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(Guarded::new(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(Guarded::new(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(GuardedSeq(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(GuardedMap(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(GuardedEnum(data))
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for GuardedSeed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(Guarded {
            inner: d,
            key: self.key,
        })
    }
}

fn seed<S>(inner: S) -> GuardedSeed<S> {
    GuardedSeed { inner, key: false }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for GuardedSeq<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        s: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(seed(s))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for GuardedMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        s: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(GuardedSeed {
            inner: s,
            key: true,
        })
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, s: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(seed(s))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for GuardedEnum<A> {
    type Error = A::Error;
    type Variant = GuardedVariant<A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        s: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(s)?;
        Ok((value, GuardedVariant(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for GuardedVariant<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, s: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(seed(s))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, watch(visitor, false))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, watch(visitor, false))
    }
}
