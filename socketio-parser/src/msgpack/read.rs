//! Reading MessagePack value heads, as `notepack.io` 2.2 (the official parser's codec) reads
//! them on Node.js.

use crate::error::{DecodeError, MsgpackError};

/// The head of one MessagePack value: scalars complete, containers with their length, byte
/// runs as a range of the frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Head {
    Nil,
    Bool(bool),
    /// A non-negative integer (positive fixint, uint 8 to 64).
    UInt(u64),
    /// A negative integer (negative fixint, int 8 to 64; an int marker holding a
    /// non-negative value is a `UInt`).
    Int(i64),
    /// float 64, or float 32 widened as JavaScript widens it.
    Float(f64),
    /// str: `start..start + len` of the frame.
    Str {
        start: usize,
        len: usize,
    },
    /// bin, and ext 8/16/32 of type 0 (an `ArrayBuffer` for notepack on Node.js).
    Bin {
        start: usize,
        len: usize,
    },
    Array(u32),
    Map(u32),
    /// fixext 1 of type 0: JavaScript's `undefined`.
    Undefined,
    /// fixext 8 of type 0: a JavaScript `Date`, milliseconds since the epoch.
    Date(i64),
    /// Any other extension: notepack reads it as the array `[type, Buffer]`.
    Ext {
        ty: i8,
        start: usize,
        len: usize,
    },
}

/// A cursor over a frame.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) pos: usize,
}

pub(crate) fn error(offset: usize, error: MsgpackError) -> DecodeError {
    DecodeError::InvalidMsgpack { offset, error }
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn end(&self) -> DecodeError {
        error(self.buf.len(), MsgpackError::UnexpectedEnd)
    }

    /// The next `n` bytes' start, moving past them.
    #[inline]
    fn skip(&mut self, n: usize) -> Result<usize, DecodeError> {
        let start = self.pos;
        match start.checked_add(n) {
            Some(end) if end <= self.buf.len() => {
                self.pos = end;
                Ok(start)
            }
            _ => Err(self.end()),
        }
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let start = self.skip(N)?;
        let mut out = [0; N];
        out.copy_from_slice(&self.buf[start..start + N]);
        Ok(out)
    }

    #[inline]
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    #[inline]
    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    #[inline]
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    #[inline]
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A run of `len` bytes: its start.
    #[inline]
    fn run(&mut self, len: usize) -> Result<usize, DecodeError> {
        self.skip(len)
    }

    fn signed(v: i64) -> Head {
        match u64::try_from(v) {
            Ok(u) => Head::UInt(u),
            Err(_) => Head::Int(v),
        }
    }

    /// Reads the head of the next value. A string's, binary's or extension's bytes are
    /// skipped over (the head says where they are); a container's elements are not.
    #[inline]
    pub(crate) fn head(&mut self) -> Result<Head, DecodeError> {
        // The one-byte heads, most of a typical frame, without a call.
        let Some(&marker) = self.buf.get(self.pos) else {
            return self.head_slow();
        };
        let head = match marker {
            0x00..=0x7f => Head::UInt(u64::from(marker)),
            0x80..=0x8f => Head::Map(u32::from(marker & 0x0f)),
            0x90..=0x9f => Head::Array(u32::from(marker & 0x0f)),
            0xa0..=0xbf if usize::from(marker & 0x1f) < self.buf.len() - self.pos => {
                let len = usize::from(marker & 0x1f);
                self.pos += 1 + len;
                return Ok(Head::Str {
                    start: self.pos - len,
                    len,
                });
            }
            0xc0 => Head::Nil,
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xe0..=0xff => Head::Int(i64::from(marker as i8)),
            _ => return self.head_slow(),
        };
        self.pos += 1;
        Ok(head)
    }

    #[inline(never)]
    fn head_slow(&mut self) -> Result<Head, DecodeError> {
        let at = self.pos;
        let marker = self.u8()?;
        Ok(match marker {
            0x00..=0x7f => Head::UInt(u64::from(marker)),
            0x80..=0x8f => Head::Map(u32::from(marker & 0x0f)),
            0x90..=0x9f => Head::Array(u32::from(marker & 0x0f)),
            0xa0..=0xbf => {
                let len = usize::from(marker & 0x1f);
                Head::Str {
                    start: self.run(len)?,
                    len,
                }
            }
            0xe0..=0xff => Head::Int(i64::from(marker as i8)),
            0xc0 => Head::Nil,
            0xc1 => return Err(error(at, MsgpackError::UnusedMarker)),
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4..=0xc6 => {
                let len = self.length(marker - 0xc4)?;
                Head::Bin {
                    start: self.run(len)?,
                    len,
                }
            }
            0xc7..=0xc9 => {
                let len = self.length(marker - 0xc7)?;
                let ty = self.u8()? as i8;
                let start = self.run(len)?;
                if ty == 0 {
                    Head::Bin { start, len }
                } else {
                    Head::Ext { ty, start, len }
                }
            }
            0xca => Head::Float(f64::from(f32::from_bits(self.u32()?))),
            0xcb => Head::Float(f64::from_bits(self.u64()?)),
            0xcc => Head::UInt(u64::from(self.u8()?)),
            0xcd => Head::UInt(u64::from(self.u16()?)),
            0xce => Head::UInt(u64::from(self.u32()?)),
            0xcf => Head::UInt(self.u64()?),
            0xd0 => Self::signed(i64::from(self.u8()? as i8)),
            0xd1 => Self::signed(i64::from(self.u16()? as i16)),
            0xd2 => Self::signed(i64::from(self.u32()? as i32)),
            0xd3 => Self::signed(self.u64()? as i64),
            0xd4..=0xd8 => {
                let len = 1usize << (marker - 0xd4);
                let ty = self.u8()? as i8;
                let start = self.run(len)?;
                match (ty, marker) {
                    (0, 0xd4) => Head::Undefined,
                    (0, 0xd7) => Head::Date(i64::from_be_bytes(
                        self.buf[start..start + 8]
                            .try_into()
                            .expect("a fixext 8 holds 8 bytes"),
                    )),
                    _ => Head::Ext { ty, start, len },
                }
            }
            0xd9 => {
                let len = usize::from(self.u8()?);
                Head::Str {
                    start: self.run(len)?,
                    len,
                }
            }
            0xda => {
                let len = usize::from(self.u16()?);
                Head::Str {
                    start: self.run(len)?,
                    len,
                }
            }
            0xdb => {
                let len = self.u32()? as usize;
                Head::Str {
                    start: self.run(len)?,
                    len,
                }
            }
            0xdc => Head::Array(u32::from(self.u16()?)),
            0xdd => Head::Array(self.u32()?),
            0xde => Head::Map(u32::from(self.u16()?)),
            0xdf => Head::Map(self.u32()?),
        })
    }

    /// A length of 1, 2 or 4 bytes (`size_log2` 0, 1, 2).
    #[inline]
    fn length(&mut self, size_log2: u8) -> Result<usize, DecodeError> {
        Ok(match size_log2 {
            0 => usize::from(self.u8()?),
            1 => usize::from(self.u16()?),
            _ => self.u32()? as usize,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(bytes: &[u8]) -> Result<(Head, usize), DecodeError> {
        let mut r = Reader::new(bytes);
        let h = r.head()?;
        Ok((h, r.pos))
    }

    #[test]
    fn reads_every_marker_as_notepack_does() {
        let cases: &[(&[u8], Head, usize)] = &[
            (&[0x05], Head::UInt(5), 1),
            (&[0xff], Head::Int(-1), 1),
            (&[0xe0], Head::Int(-32), 1),
            (&[0xcc, 0xc8], Head::UInt(200), 2),
            (&[0xcd, 1, 0], Head::UInt(256), 3),
            (&[0xce, 0, 1, 0, 0], Head::UInt(65536), 5),
            (
                &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                Head::UInt(u64::MAX),
                9,
            ),
            (&[0xd0, 0x80], Head::Int(-128), 2),
            (&[0xd0, 0x05], Head::UInt(5), 2),
            (&[0xd1, 0x80, 0], Head::Int(-32768), 3),
            (&[0xd2, 0xff, 0xff, 0xff, 0xff], Head::Int(-1), 5),
            (&[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], Head::Int(i64::MIN), 9),
            (&[0xca, 0x3f, 0xc0, 0, 0], Head::Float(1.5), 5),
            (&[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], Head::Float(1.5), 9),
            (&[0xc0], Head::Nil, 1),
            (&[0xc2], Head::Bool(false), 1),
            (&[0xc3], Head::Bool(true), 1),
            (&[0xa2, b'h', b'i'], Head::Str { start: 1, len: 2 }, 3),
            (&[0xd9, 1, b'x'], Head::Str { start: 2, len: 1 }, 3),
            (&[0xda, 0, 1, b'x'], Head::Str { start: 3, len: 1 }, 4),
            (&[0xdb, 0, 0, 0, 1, b'x'], Head::Str { start: 5, len: 1 }, 6),
            (&[0xc4, 2, 1, 2], Head::Bin { start: 2, len: 2 }, 4),
            (&[0xc5, 0, 1, 9], Head::Bin { start: 3, len: 1 }, 4),
            (&[0xc6, 0, 0, 0, 0], Head::Bin { start: 5, len: 0 }, 5),
            (&[0xc7, 1, 0, 7], Head::Bin { start: 3, len: 1 }, 4),
            (
                &[0xc7, 1, 5, 7],
                Head::Ext {
                    ty: 5,
                    start: 3,
                    len: 1,
                },
                4,
            ),
            (
                &[0xc8, 0, 1, 0xff, 7],
                Head::Ext {
                    ty: -1,
                    start: 4,
                    len: 1,
                },
                5,
            ),
            (&[0xd4, 0, 0], Head::Undefined, 3),
            (
                &[0xd4, 1, 9],
                Head::Ext {
                    ty: 1,
                    start: 2,
                    len: 1,
                },
                3,
            ),
            (
                &[0xd5, 0, 1, 2],
                Head::Ext {
                    ty: 0,
                    start: 2,
                    len: 2,
                },
                4,
            ),
            (&[0xd7, 0, 0, 0, 0, 0, 0, 0, 0, 10], Head::Date(10), 10),
            (
                &[0xd8, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                Head::Ext {
                    ty: 3,
                    start: 2,
                    len: 16,
                },
                18,
            ),
            (&[0x93], Head::Array(3), 1),
            (&[0xdc, 0, 20], Head::Array(20), 3),
            (&[0xdd, 0, 0, 1, 0], Head::Array(256), 5),
            (&[0x81], Head::Map(1), 1),
            (&[0xde, 0, 20], Head::Map(20), 3),
            (&[0xdf, 0, 0, 1, 0], Head::Map(256), 5),
        ];
        for (bytes, expected, len) in cases {
            assert_eq!(head(bytes).unwrap(), (*expected, *len), "{bytes:02x?}");
        }
    }

    #[test]
    fn refuses_short_and_unused_bytes() {
        for short in [
            &[][..],
            &[0xcd, 1],
            &[0xa3, b'a'],
            &[0xdb, 0xff, 0xff, 0xff, 0xff, b'a'],
            &[0xc6, 0xff, 0xff, 0xff],
            &[0xd4, 0],
            &[0xd7, 0, 1, 2],
            &[0xc7, 1],
        ] {
            assert_eq!(
                head(short).unwrap_err(),
                error(short.len(), MsgpackError::UnexpectedEnd),
                "{short:02x?}"
            );
        }
        assert_eq!(
            head(&[0xc1]).unwrap_err(),
            error(0, MsgpackError::UnusedMarker)
        );
    }
}
