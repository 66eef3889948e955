//! [`Str`]: the strings and object keys of a [`Value`](super::Value).

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;

use compact_str::CompactString;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};

/// A string that keeps itself inline, without allocating, when it is at most 24 bytes long,
/// which most object keys and many string values are. Longer ones live on the heap, as a
/// `String` does.
///
/// It reads as a `&str` (it derefs to one), compares equal to `str` and `String`, and turns
/// into a `String` with [`into_string`](Self::into_string) or `String::from`.
///
/// ```
/// use socketio_parser::Str;
///
/// let key = Str::from("room");
/// assert_eq!(key, "room");
/// assert!(key.starts_with("ro"));
/// let owned: String = key.into_string();
/// assert_eq!(owned, "room");
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Str(CompactString);

impl Str {
    /// A copy of `s`.
    #[inline]
    pub fn new(s: &str) -> Self {
        Str(CompactString::from(s))
    }

    /// The string.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The string as a `String` (allocating when it was held inline).
    pub fn into_string(self) -> String {
        self.0.into_string()
    }
}

impl Deref for Str {
    type Target = str;

    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Self {
        Str::new(s)
    }
}

impl From<&String> for Str {
    fn from(s: &String) -> Self {
        Str::new(s)
    }
}

impl From<String> for Str {
    fn from(s: String) -> Self {
        Str(CompactString::from(s))
    }
}

impl From<Cow<'_, str>> for Str {
    fn from(s: Cow<'_, str>) -> Self {
        Str(CompactString::from(s))
    }
}

impl From<char> for Str {
    fn from(c: char) -> Self {
        Str(CompactString::from(c.encode_utf8(&mut [0; 4]) as &str))
    }
}

impl From<Str> for String {
    fn from(s: Str) -> Self {
        s.into_string()
    }
}

macro_rules! eq_with {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for Str {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }

        impl PartialEq<Str> for $other {
            fn eq(&self, other: &Str) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}

eq_with!(str, &str, String);

impl Serialize for Str {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(StrVisitor)
    }
}

struct StrVisitor;

impl Visitor<'_> for StrVisitor {
    type Value = Str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Str, E> {
        Ok(Str::new(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Str, E> {
        Ok(Str::from(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_compares_and_converts_like_a_string() {
        let short = Str::from("key");
        let long = Str::from("a string longer than the twenty-four inline bytes".to_owned());
        assert_eq!(short, "key");
        assert_eq!("key", short);
        assert_eq!(short, String::from("key"));
        assert_eq!(long.len(), 49);
        assert!(long < short);
        assert_eq!(format!("{short} {short:?}"), "key \"key\"");
        assert_eq!(Str::from('é'), "é");
        assert_eq!(String::from(long.clone()), long.as_str());
        let back: Str = serde_json::from_str(&serde_json::to_string(&long).unwrap()).unwrap();
        assert_eq!(back, long);
    }
}
