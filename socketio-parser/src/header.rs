//! Framing the header of a text frame: `type [count "-"] [nsp ","] [ack id] [json]`.
//!
//! This follows the reference decoder (`socket.io-parser` 4.2 `decodeString`) step by step:
//! type digit; for binary kinds the attachment count up to the first `-`; a namespace when the
//! next byte is `/`, running up to the first `,` or the end of the frame; an ack id when the
//! next byte is a digit, as the maximal run of digits; the rest is the payload.
//!
//! Where the reference decoder leans on JavaScript's `Number()` coercion, this one reads only
//! ASCII digits: whitespace, signs, fractions, exponents and `0x`/`0o`/`0b` prefixes in the
//! attachment count, and whitespace in the ack id (which `Number()` reads as 0), are refused.

use bytes::Bytes;

use crate::ack_id::AckId;
use crate::error::DecodeError;
use crate::namespace::Namespace;
use crate::packet::PacketKind;

/// The framed header of a text frame.
#[derive(Debug)]
pub(crate) struct Header {
    pub(crate) kind: PacketKind,
    /// Announced attachments (binary kinds only; at least 1).
    pub(crate) attachments: usize,
    pub(crate) nsp: Namespace,
    pub(crate) ack: Option<AckId>,
    /// Offset of the payload; equals the frame length when there is none.
    pub(crate) payload_start: usize,
}

pub(crate) fn parse(frame: &[u8], max_attachments: usize) -> Result<Header, DecodeError> {
    let buf = frame;
    let &first = buf.first().ok_or(DecodeError::EmptyFrame)?;
    let kind = PacketKind::from_digit(first).ok_or(DecodeError::UnknownType { found: first })?;
    let mut i = 1;

    let mut attachments = 0;
    if kind.is_binary() {
        let start = i;
        let dash = buf[start..].iter().position(|&b| b == b'-');
        let Some(dash) = dash.map(|d| start + d) else {
            return Err(DecodeError::IllegalAttachments {
                offset: start,
                reason: "missing '-' after the count",
            });
        };
        let digits = &buf[start..dash];
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(DecodeError::IllegalAttachments {
                offset: start,
                reason: "the count must be decimal digits",
            });
        }
        let count = digits.iter().fold(0u64, |acc, d| {
            acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        });
        if count == 0 {
            return Err(DecodeError::IllegalAttachments {
                offset: start,
                reason: "the count must be at least 1",
            });
        }
        attachments = match usize::try_from(count) {
            Ok(n) if n <= max_attachments => n,
            _ => {
                return Err(DecodeError::TooManyAttachments {
                    offset: start,
                    count,
                    max: max_attachments,
                })
            }
        };
        i = dash + 1;
    }

    let nsp = if buf.get(i) == Some(&b'/') {
        let start = i;
        let end = buf[start..]
            .iter()
            .position(|&b| b == b',')
            .map_or(buf.len(), |c| start + c);
        if std::str::from_utf8(&buf[start..end]).is_err() {
            return Err(DecodeError::NamespaceNotUtf8 { offset: start });
        }
        i = (end + 1).min(buf.len());
        if &buf[start..end] == b"/" {
            Namespace::main()
        } else {
            Namespace::from_checked(Bytes::copy_from_slice(&buf[start..end]))
        }
    } else {
        Namespace::main()
    };

    let mut ack = None;
    if buf.get(i).is_some_and(u8::is_ascii_digit) {
        let start = i;
        let mut id = 0u64;
        while let Some(&d) = buf.get(i).filter(|d| d.is_ascii_digit()) {
            id = id
                .checked_mul(10)
                .and_then(|id| id.checked_add(u64::from(d - b'0')))
                .ok_or(DecodeError::AckIdOverflow { offset: start })?;
            i += 1;
        }
        ack = Some(AckId::new(id));
    }

    Ok(Header {
        kind,
        attachments,
        nsp,
        ack,
        payload_start: i,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> Result<Header, DecodeError> {
        parse(&Bytes::copy_from_slice(text.as_bytes()), 10)
    }

    #[test]
    fn frames_every_part() {
        let h = header("52-/admin,13[\"x\"]").unwrap();
        assert_eq!(h.kind, PacketKind::BinaryEvent);
        assert_eq!(h.attachments, 2);
        assert_eq!(h.nsp, "/admin");
        assert_eq!(h.ack, Some(AckId::new(13)));
        assert_eq!(h.payload_start, 12);
        let h = header("0/admin").unwrap();
        assert_eq!((h.nsp.as_str(), h.payload_start), ("/admin", 7));
        let h = header("1/admin,").unwrap();
        assert_eq!((h.nsp.as_str(), h.payload_start), ("/admin", 8));
        let h = header("2/,[1]").unwrap();
        assert!(h.nsp.is_main());
        let h = header("3007[]").unwrap();
        assert_eq!(h.ack, Some(AckId::new(7)));
        assert_eq!(
            header("218446744073709551615[]").unwrap().ack,
            Some(AckId::new(u64::MAX))
        );
    }

    #[test]
    fn refuses_bad_headers() {
        assert_eq!(header("").unwrap_err(), DecodeError::EmptyFrame);
        assert_eq!(
            header("7").unwrap_err(),
            DecodeError::UnknownType { found: b'7' }
        );
        assert_eq!(
            header(" ").unwrap_err(),
            DecodeError::UnknownType { found: b' ' }
        );
        for bad in [
            "5", "5[]", "5-[]", "50-[]", "5x-[]", "5 1-[]", "50x1-[]", "51.0-[]", "50x1-",
        ] {
            assert!(
                matches!(header(bad), Err(DecodeError::IllegalAttachments { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            header("511-[]"),
            Err(DecodeError::TooManyAttachments { count: 11, .. })
        ));
        assert!(matches!(
            header("599999999999999999999999-[]"),
            Err(DecodeError::TooManyAttachments {
                count: u64::MAX,
                ..
            })
        ));
        assert_eq!(
            header("218446744073709551616[]").unwrap_err(),
            DecodeError::AckIdOverflow { offset: 1 }
        );
        assert_eq!(
            parse(&Bytes::from_static(b"0/\xff,"), 10).unwrap_err(),
            DecodeError::NamespaceNotUtf8 { offset: 1 }
        );
    }
}
