//! The sequences, maps and enums of a MessagePack value, as serde's access traits.

use serde::de::{
    Deserialize, DeserializeSeed, Deserializer, EnumAccess, Error as _, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use super::key::Key;
use super::{Error, Value, ValueReader};
use crate::msgpack::read::Head;

/// An array's elements.
pub(super) struct Seq<'a, 'de> {
    pub(super) de: &'a mut ValueReader<'de>,
    pub(super) left: u32,
}

impl<'de> SeqAccess<'de> for Seq<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left as usize)
    }
}

/// An extension other than binary, `undefined` and `Date`: the array `[type, bytes]`.
pub(super) struct Ext<'a, 'de> {
    pub(super) de: &'a mut ValueReader<'de>,
    pub(super) ty: i8,
    pub(super) bin: Head,
    pub(super) next: u8,
}

impl<'de> SeqAccess<'de> for Ext<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let head = match self.next {
            0 => match u64::try_from(self.ty) {
                Ok(n) => Head::UInt(n),
                Err(_) => Head::Int(i64::from(self.ty)),
            },
            1 => self.bin,
            _ => return Ok(None),
        };
        self.next += 1;
        seed.deserialize(Value {
            de: &mut *self.de,
            head,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(2 - usize::from(self.next))
    }
}

pub(super) struct Map<'a, 'de> {
    pub(super) de: &'a mut ValueReader<'de>,
    pub(super) left: u32,
}

impl<'de> Map<'_, 'de> {
    /// The next key whose value JSON keeps (not `undefined`).
    #[inline(always)]
    fn next_key(&mut self) -> Result<Option<Head>, Error> {
        while self.left > 0 {
            self.left -= 1;
            let key = self.de.head()?;
            if !self.de.at_undefined() {
                return Ok(Some(key));
            }
            self.de.head()?;
        }
        Ok(None)
    }
}

impl<'de> MapAccess<'de> for Map<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(head) = self.next_key()? else {
            return Ok(None);
        };
        let buf = self.de.r.buf;
        seed.deserialize(Key {
            head,
            buf,
            plain: self.de.plain,
            reached: Some(&mut self.de.reached),
        })
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(&mut *self.de)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left as usize)
    }
}

/// `{"Variant": value}`: an enum as serde_json reads one from an object.
pub(super) struct MapVariant<'a, 'de> {
    pub(super) de: &'a mut ValueReader<'de>,
    pub(super) left: u32,
}

impl<'de> EnumAccess<'de> for &mut MapVariant<'_, 'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<K: DeserializeSeed<'de>>(self, seed: K) -> Result<(K::Value, Self), Error> {
        let mut map = Map {
            de: &mut *self.de,
            left: self.left,
        };
        let head = map.next_key()?;
        self.left = map.left;
        let head = head.ok_or_else(|| Error::custom("expected an object with one member"))?;
        let key = Key {
            head,
            buf: self.de.r.buf,
            plain: self.de.plain,
            reached: None,
        };
        Ok((seed.deserialize(key)?, self))
    }
}

impl<'de> VariantAccess<'de> for &mut MapVariant<'_, 'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        <()>::deserialize(&mut *self.de)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(&mut *self.de)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        (&mut *self.de).deserialize_seq(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        (&mut *self.de).deserialize_struct("", fields, visitor)
    }
}
