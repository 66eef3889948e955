//! Map keys and unit variants: names, read as serde_json reads a quoted object key.

use serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, Error as _, Unexpected, VariantAccess, Visitor,
};

use super::{broken, needs_escape, utf8, Error};
use crate::msgpack::decode::write_key_name;
use crate::msgpack::read::Head;

/// `"Variant"`: a unit variant.
pub(super) struct UnitVariant<'a, 'de>(pub(super) Key<'a, 'de>);

impl<'a, 'de> EnumAccess<'de> for UnitVariant<'a, 'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<K: DeserializeSeed<'de>>(self, seed: K) -> Result<(K::Value, Self), Error> {
        let key = Key {
            head: self.0.head,
            buf: self.0.buf,
            plain: self.0.plain,
            reached: None,
        };
        Ok((seed.deserialize(key)?, self))
    }
}

impl<'de> VariantAccess<'de> for UnitVariant<'_, 'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, Error> {
        Err(Error::invalid_type(
            Unexpected::UnitVariant,
            &"newtype variant",
        ))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, Error> {
        Err(Error::invalid_type(
            Unexpected::UnitVariant,
            &"tuple variant",
        ))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Error> {
        Err(Error::invalid_type(
            Unexpected::UnitVariant,
            &"struct variant",
        ))
    }
}

/// A map key (a string or a number), read as serde_json reads the quoted name JavaScript
/// gives it.
pub(super) struct Key<'a, 'de> {
    pub(super) head: Head,
    pub(super) buf: &'de [u8],
    /// No string of the data is one that JSON escapes.
    pub(super) plain: bool,
    /// Counts a `_placeholder` key read, when reading map keys.
    pub(super) reached: Option<&'a mut usize>,
}

/// A key's name: borrowed from the frame when JSON would not escape it.
enum KeyName<'de> {
    Borrowed(&'de str),
    Escaped(&'de str),
    Number(String),
}

impl KeyName<'_> {
    fn as_str(&self) -> &str {
        match self {
            KeyName::Borrowed(s) | KeyName::Escaped(s) => s,
            KeyName::Number(s) => s,
        }
    }
}

impl<'de> Key<'_, 'de> {
    #[inline]
    fn name(&self) -> Result<KeyName<'de>, Error> {
        let f = match self.head {
            Head::Str { start, len } => {
                let raw = &self.buf[start..start + len];
                let s = utf8(raw)?;
                return Ok(if !self.plain && needs_escape(raw) {
                    KeyName::Escaped(s)
                } else {
                    KeyName::Borrowed(s)
                });
            }
            Head::UInt(n) => n as f64,
            Head::Int(n) => n as f64,
            Head::Float(f) => f,
            _ => return Err(broken("a map key that is neither a string nor a number")),
        };
        let mut out = Vec::with_capacity(24);
        write_key_name(&mut out, f);
        Ok(KeyName::Number(
            String::from_utf8(out).expect("a number is written in ASCII"),
        ))
    }

    /// A numeric key for a number type, as serde_json's map keys read: the whole name must
    /// be a JSON number.
    fn number<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let name = self.name()?;
        let s = name.as_str();
        if !s.starts_with(|c: char| c == '-' || c.is_ascii_digit())
            || s.ends_with(|c: char| c.is_ascii_whitespace())
        {
            return Err(Error::custom("expected a numeric key"));
        }
        let n: serde_json::Number = serde_json::from_str(s)?;
        if let Some(u) = n.as_u64() {
            visitor.visit_u64(u)
        } else if let Some(i) = n.as_i64() {
            visitor.visit_i64(i)
        } else {
            visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
        }
    }
}

/// `deserialize_*` methods for numeric map keys.
macro_rules! numeric_key {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.number(visitor)
        }
    )*};
}

impl<'de> Deserializer<'de> for Key<'_, 'de> {
    type Error = Error;

    #[inline]
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if let Head::Str { start, len } = self.head {
            // The usual key, read in place.
            let raw = &self.buf[start..start + len];
            let s = utf8(raw)?;
            if let Some(reached) = self.reached {
                if s == "_placeholder" {
                    *reached += 1;
                }
            }
            return if !self.plain && needs_escape(raw) {
                visitor.visit_str(s)
            } else {
                visitor.visit_borrowed_str(s)
            };
        }
        let name = self.name()?;
        if let Some(reached) = self.reached {
            if name.as_str() == "_placeholder" {
                *reached += 1;
            }
        }
        match name {
            KeyName::Borrowed(s) => visitor.visit_borrowed_str(s),
            KeyName::Escaped(s) => visitor.visit_str(s),
            KeyName::Number(s) => visitor.visit_str(&s),
        }
    }

    numeric_key! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.name()?.as_str() {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            other => Err(Error::invalid_type(Unexpected::Str(other), &visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(UnitVariant(self))
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.name()? {
            KeyName::Borrowed(s) => visitor.visit_borrowed_bytes(s.as_bytes()),
            KeyName::Escaped(s) => visitor.visit_bytes(s.as_bytes()),
            KeyName::Number(s) => visitor.visit_bytes(s.as_bytes()),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    serde::forward_to_deserialize_any! {
        char str string unit unit_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}
