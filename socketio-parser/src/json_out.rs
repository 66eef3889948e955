//! Writing payload JSON: serde_json with a formatter that writes numbers as JavaScript does and
//! turns bytes into placeholders, plus the rule that spreads a tuple into several arguments.
//!
//! serde_json already escapes strings exactly as `JSON.stringify` does (`\"`, `\\`, `\b`,
//! `\f`, `\n`, `\r`, `\t`, other control characters as lowercase `\u00xx`, nothing else), so
//! only floats and bytes need a custom formatter.

use std::fmt::Display;
use std::io;

use bytes::{BufMut, Bytes, BytesMut};
use serde::ser::{self, Impossible, Serialize, SerializeTuple, Serializer};
use serde_json::ser::Formatter;

use crate::binary::take_lent;
use crate::jsnum;

/// `io::Write` into a `BytesMut`.
pub(crate) struct Sink<'a>(pub(crate) &'a mut BytesMut);

impl io::Write for Sink<'_> {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Compact JSON, JavaScript number layout, bytes as placeholders.
struct JsFormatter<'a> {
    attachments: &'a mut Vec<Bytes>,
}

impl Formatter for JsFormatter<'_> {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        jsnum::write_f64(writer, value)
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        jsnum::write_f32(writer, value)
    }

    fn write_byte_array<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        value: &[u8],
    ) -> io::Result<()> {
        let num = self.attachments.len();
        self.attachments.push(take_lent(value));
        writer.write_all(b"{\"_placeholder\":true,\"num\":")?;
        write!(writer, "{num}")?;
        writer.write_all(b"}")
    }
}

/// Serializes one JSON value at the end of `out`.
pub(crate) fn write_value<T: ?Sized + Serialize>(
    out: &mut BytesMut,
    value: &T,
    attachments: &mut Vec<Bytes>,
) -> Result<(), serde_json::Error> {
    let mut ser = serde_json::Serializer::with_formatter(Sink(out), JsFormatter { attachments });
    value.serialize(&mut ser)
}

/// Where the parts of an argument array landed, relative to its `[`.
pub(crate) struct ArrayLayout {
    /// The event name (quotes included), when one was written.
    pub(crate) name: Option<(usize, usize)>,
    /// The first argument, or the closing bracket when there is none.
    pub(crate) rest: usize,
}

/// Writes `[name, ...args]` (or `[...args]` without a name) at the end of `out`.
///
/// `args` is spread when it serializes as a tuple (Rust tuples and fixed-size arrays) and
/// gives no argument when it is `()`; anything else is one argument.
pub(crate) fn write_array<A: ?Sized + Serialize>(
    out: &mut BytesMut,
    name: Option<&str>,
    args: &A,
    attachments: &mut Vec<Bytes>,
) -> Result<ArrayLayout, serde_json::Error> {
    let base = out.len();
    out.put_u8(b'[');
    let name_span = match name {
        Some(name) => {
            let start = out.len() - base;
            write_value(out, name, attachments)?;
            Some((start, out.len() - base))
        }
        None => None,
    };
    let after_name = out.len() - base;
    let mut spread = Elements {
        out,
        attachments,
        count: usize::from(name.is_some()),
    };
    match args.serialize(&mut spread) {
        Ok(()) => {}
        Err(SpreadError::NotSpread) => spread.element(args)?,
        Err(SpreadError::Json(e)) => return Err(e),
    }
    let wrote_args = spread.count > usize::from(name.is_some());
    out.put_u8(b']');
    let rest = match (name_span, wrote_args) {
        (None, _) => 1,
        (Some(_), true) => after_name + 1,
        (Some(_), false) => after_name,
    };
    Ok(ArrayLayout {
        name: name_span,
        rest,
    })
}

/// Several arguments from a slice, for argument lists built at run time.
///
/// A `Vec` or slice on its own is one argument (a JSON array); wrapped in `Spread` each
/// element is one argument:
///
/// ```
/// use socketio_parser::{Encoder, Namespace, Spread};
///
/// let args = vec![serde_json::json!(1), serde_json::json!("two")];
/// let one = Encoder::new().event(&Namespace::main(), "e", None, &args).unwrap();
/// assert_eq!(&one.text[..], br#"2["e",[1,"two"]]"#);
/// let two = Encoder::new().event(&Namespace::main(), "e", None, &Spread(&args)).unwrap();
/// assert_eq!(&two.text[..], br#"2["e",1,"two"]"#);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Spread<'a, T>(pub &'a [T]);

impl<T: Serialize> Serialize for Spread<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for element in self.0 {
            tuple.serialize_element(element)?;
        }
        tuple.end()
    }
}

/// Writes array elements, a comma before all but the first.
struct Elements<'a> {
    out: &'a mut BytesMut,
    attachments: &'a mut Vec<Bytes>,
    count: usize,
}

impl Elements<'_> {
    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), serde_json::Error> {
        if self.count > 0 {
            self.out.put_u8(b',');
        }
        self.count += 1;
        write_value(self.out, value, self.attachments)
    }
}

#[derive(Debug)]
enum SpreadError {
    /// `args` is a compound value that is one argument: serialize it again as such.
    NotSpread,
    Json(serde_json::Error),
}

impl Display for SpreadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpreadError::NotSpread => f.write_str("not a tuple"),
            SpreadError::Json(e) => Display::fmt(e, f),
        }
    }
}

impl std::error::Error for SpreadError {}

impl ser::Error for SpreadError {
    fn custom<T: Display>(msg: T) -> Self {
        SpreadError::Json(serde_json::Error::custom(msg))
    }
}

impl From<serde_json::Error> for SpreadError {
    fn from(e: serde_json::Error) -> Self {
        SpreadError::Json(e)
    }
}

/// Serializes `&[u8]` through `serialize_bytes`.
struct ByteSlice<'a>(&'a [u8]);

impl Serialize for ByteSlice<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

macro_rules! one_argument {
    ($($method:ident($ty:ty);)*) => {
        $(fn $method(self, v: $ty) -> Result<(), SpreadError> {
            Ok(self.element(&v)?)
        })*
    };
}

impl<'s, 'a> Serializer for &'s mut Elements<'a> {
    type Ok = ();
    type Error = SpreadError;
    type SerializeSeq = Impossible<(), SpreadError>;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Impossible<(), SpreadError>;
    type SerializeTupleVariant = Impossible<(), SpreadError>;
    type SerializeMap = Impossible<(), SpreadError>;
    type SerializeStruct = Impossible<(), SpreadError>;
    type SerializeStructVariant = Impossible<(), SpreadError>;

    one_argument! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), SpreadError> {
        Ok(self.element(&ByteSlice(v))?)
    }

    fn serialize_none(self) -> Result<(), SpreadError> {
        Ok(self.element(&())?)
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), SpreadError> {
        Ok(self.element(value)?)
    }

    fn serialize_unit(self) -> Result<(), SpreadError> {
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), SpreadError> {
        Ok(self.element(&())?)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), SpreadError> {
        Ok(self.element(variant)?)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), SpreadError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), SpreadError> {
        Err(SpreadError::NotSpread)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, SpreadError> {
        Err(SpreadError::NotSpread)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self, SpreadError> {
        Ok(self)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, SpreadError> {
        Err(SpreadError::NotSpread)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, SpreadError> {
        Err(SpreadError::NotSpread)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, SpreadError> {
        Err(SpreadError::NotSpread)
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, SpreadError> {
        Err(SpreadError::NotSpread)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, SpreadError> {
        Err(SpreadError::NotSpread)
    }
}

impl SerializeTuple for &mut Elements<'_> {
    type Ok = ();
    type Error = SpreadError;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), SpreadError> {
        Ok(self.element(value)?)
    }

    fn end(self) -> Result<(), SpreadError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Binary;
    use serde::Serialize;

    fn array<A: ?Sized + Serialize>(name: Option<&str>, args: &A) -> (String, usize, Vec<Bytes>) {
        let mut out = BytesMut::new();
        let mut atts = Vec::new();
        let layout = write_array(&mut out, name, args, &mut atts).unwrap();
        (String::from_utf8(out.to_vec()).unwrap(), layout.rest, atts)
    }

    #[derive(Serialize)]
    struct Msg<'a> {
        room: &'a str,
        text: &'a str,
    }

    #[test]
    fn spreads_tuples_only() {
        assert_eq!(array(Some("a"), &()).0, r#"["a"]"#);
        assert_eq!(array(Some("a"), &(1, "x")).0, r#"["a",1,"x"]"#);
        assert_eq!(array(Some("a"), &[1, 2]).0, r#"["a",1,2]"#);
        assert_eq!(array(Some("a"), &vec![1, 2]).0, r#"["a",[1,2]]"#);
        assert_eq!(array(Some("a"), &(vec![1, 2],)).0, r#"["a",[1,2]]"#);
        assert_eq!(
            array(
                Some("a"),
                &Msg {
                    room: "r",
                    text: "t"
                }
            )
            .0,
            r#"["a",{"room":"r","text":"t"}]"#
        );
        assert_eq!(array(Some("a"), &Some(3)).0, r#"["a",3]"#);
        assert_eq!(array(Some("a"), &None::<u8>).0, r#"["a",null]"#);
        assert_eq!(array(Some("a"), "s").0, r#"["a","s"]"#);
        assert_eq!(array(None, &()).0, "[]");
        assert_eq!(array(None, &(1.0, 2.5)).0, "[1,2.5]");
    }

    #[test]
    fn records_where_arguments_start() {
        assert_eq!(array(Some("ab"), &()).1, 5);
        assert_eq!(array(Some("ab"), &(1,)).1, 6);
        assert_eq!(array(None, &(1,)).1, 1);
    }

    #[test]
    fn bytes_become_placeholders_in_depth_first_order() {
        let b0 = Binary::from(&b"zero"[..]);
        let b1 = Binary::from(&b"one"[..]);
        let (text, _, atts) = array(
            Some("e"),
            &(
                vec![b0.clone()],
                Msg {
                    room: "r",
                    text: "t",
                },
                b1.clone(),
            ),
        );
        assert_eq!(
            text,
            r#"["e",[{"_placeholder":true,"num":0}],{"room":"r","text":"t"},{"_placeholder":true,"num":1}]"#
        );
        assert_eq!(atts, vec![b0.as_bytes().clone(), b1.as_bytes().clone()]);
        // Binary lends its memory; no copy.
        assert_eq!(atts[0].as_ptr(), b0.as_ptr());
        // Plain byte vectors are arrays of numbers.
        assert_eq!(array(Some("e"), &(vec![1u8, 2],)).0, r#"["e",[1,2]]"#);
    }
}
