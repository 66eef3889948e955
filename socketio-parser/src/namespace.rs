//! [`Namespace`]: the multiplexing channel a packet belongs to.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};

use bytes::Bytes;

use crate::error::EncodeError;

/// A Socket.IO namespace such as `/` (the main one) or `/admin`.
///
/// Always valid UTF-8, starts with `/` and holds no `,` (a comma ends the namespace on the wire,
/// so one inside could not be decoded back). Cloning is cheap: the main namespace is static and
/// any other one is a shared [`Bytes`]. A decoded namespace is copied out of the frame (a few
/// bytes) so that keeping it does not keep the whole frame alive.
///
/// `Hash`, `Eq` and `Borrow<str>` agree with `str`, so a `HashMap<Namespace, _>` can be looked
/// up with a `&str`.
#[derive(Clone)]
pub struct Namespace(Repr);

#[derive(Clone)]
enum Repr {
    Main,
    Other(Bytes),
}

impl Namespace {
    /// The main namespace, `/`.
    pub fn main() -> Self {
        Namespace(Repr::Main)
    }

    /// Checks and copies `name`.
    ///
    /// # Errors
    /// [`EncodeError::InvalidNamespace`] unless `name` starts with `/` and holds no `,`.
    pub fn new(name: &str) -> Result<Self, EncodeError> {
        Self::check(name)?;
        Ok(Self::from_checked(Bytes::copy_from_slice(name.as_bytes())))
    }

    /// Like [`Namespace::new`] for a `'static` name, without copying it.
    ///
    /// # Errors
    /// [`EncodeError::InvalidNamespace`] unless `name` starts with `/` and holds no `,`.
    pub fn from_static(name: &'static str) -> Result<Self, EncodeError> {
        Self::check(name)?;
        Ok(Self::from_checked(Bytes::from_static(name.as_bytes())))
    }

    fn check(name: &str) -> Result<(), EncodeError> {
        let reason = if !name.starts_with('/') {
            "a namespace starts with '/'"
        } else if name.contains(',') {
            "a namespace cannot contain ','"
        } else {
            return Ok(());
        };
        Err(EncodeError::InvalidNamespace {
            namespace: name.to_owned(),
            reason,
        })
    }

    /// `bytes` must be UTF-8, start with `/` and hold no `,`: the decoder checked it.
    pub(crate) fn from_checked(bytes: Bytes) -> Self {
        debug_assert!(std::str::from_utf8(&bytes).is_ok() && bytes.first() == Some(&b'/'));
        if &bytes[..] == b"/" {
            Namespace(Repr::Main)
        } else {
            Namespace(Repr::Other(bytes))
        }
    }

    /// Whether this is the main namespace `/`.
    pub fn is_main(&self) -> bool {
        matches!(self.0, Repr::Main)
    }

    /// The namespace as text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Main => "/",
            Repr::Other(b) => {
                std::str::from_utf8(b).expect("a Namespace is checked to be UTF-8 when it is made")
            }
        }
    }

    /// The namespace as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Main => b"/",
            Repr::Other(b) => b,
        }
    }
}

impl Default for Namespace {
    fn default() -> Self {
        Self::main()
    }
}

impl PartialEq for Namespace {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Namespace {}

impl PartialEq<str> for Namespace {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Namespace {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Hash for Namespace {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Borrow<str> for Namespace {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Namespace {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl TryFrom<&str> for Namespace {
    type Error = EncodeError;
    fn try_from(name: &str) -> Result<Self, EncodeError> {
        Self::new(name)
    }
}

impl TryFrom<String> for Namespace {
    type Error = EncodeError;
    fn try_from(name: String) -> Result<Self, EncodeError> {
        Self::check(&name)?;
        Ok(Self::from_checked(Bytes::from(name)))
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Namespace({:?})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn accepts_slash_names_and_rejects_others() {
        assert!(Namespace::new("/").unwrap().is_main());
        assert_eq!(Namespace::new("/admin").unwrap().as_str(), "/admin");
        assert!(Namespace::new("admin").is_err());
        assert!(Namespace::new("").is_err());
        assert!(Namespace::new("/a,b").is_err());
        assert!(Namespace::try_from(String::from("/é")).is_ok());
    }

    #[test]
    fn looks_up_by_str() {
        let mut map = HashMap::new();
        map.insert(Namespace::from_static("/chat").unwrap(), 1);
        map.insert(Namespace::main(), 0);
        assert_eq!(map.get("/chat"), Some(&1));
        assert_eq!(map.get("/"), Some(&0));
        assert_eq!(Namespace::new("/chat").unwrap(), "/chat");
    }
}
