//! Frame headers (RFC 6455 §5.2): parsing, encoding and masking, sans-IO.
//!
//! ```text
//!  0               1               2               3
//!  0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! ```

use super::error::ProtocolError;

/// Longest frame header: 2 bytes, 8 of extended length, 4 of mask.
pub const MAX_HEADER_LEN: usize = 14;

/// Longest payload of a control frame (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A frame's opcode. Reserved opcodes are refused when parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpCode {
    /// A continuation fragment of a data message.
    Continuation,
    /// The first frame of a text message.
    Text,
    /// The first frame of a binary message.
    Binary,
    /// Close.
    Close,
    /// Ping.
    Ping,
    /// Pong.
    Pong,
}

impl OpCode {
    /// Whether this is a control opcode (close, ping, pong).
    #[must_use]
    pub fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }

    fn from_bits(bits: u8) -> Option<OpCode> {
        Some(match bits {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }
}

/// A parsed frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Final fragment of its message.
    pub fin: bool,
    /// The three reserved bits (RSV1..RSV3, as `0b0000_0RRR`); no extension is negotiated, so
    /// the decoder requires zero.
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, present on every client-to-server frame.
    pub mask: Option<[u8; 4]>,
    /// Payload length in bytes.
    pub len: u64,
}

impl FrameHeader {
    /// Parses a header at the front of `buf`: `Ok(None)` if more bytes are needed, else the
    /// header and its length in bytes.
    ///
    /// Checks what the header alone decides: known opcode, a 64-bit length with its top bit
    /// clear, control frames unfragmented and at most 125 bytes.
    ///
    /// # Errors
    /// Any of those checks failing (all are close code 1002).
    pub fn parse(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        let [b0, b1, ..] = *buf else { return Ok(None) };
        let fin = b0 & 0x80 != 0;
        let rsv = (b0 >> 4) & 0x07;
        let opcode = OpCode::from_bits(b0 & 0x0F).ok_or(ProtocolError::ReservedOpcode)?;
        let masked = b1 & 0x80 != 0;
        let (len, mut at) = match b1 & 0x7F {
            126 => match buf.get(2..4) {
                Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
                None => return Ok(None),
            },
            127 => match buf.get(2..10) {
                Some(b) => {
                    let mut be = [0u8; 8];
                    be.copy_from_slice(b);
                    (u64::from_be_bytes(be), 10)
                }
                None => return Ok(None),
            },
            n => (u64::from(n), 2),
        };
        if len >> 63 != 0 {
            return Err(ProtocolError::InvalidLength);
        }
        if opcode.is_control() {
            if !fin {
                return Err(ProtocolError::FragmentedControl);
            }
            if len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(ProtocolError::ControlTooLong);
            }
        }
        let mask = if masked {
            let Some(m) = buf.get(at..at + 4) else {
                return Ok(None);
            };
            at += 4;
            Some([m[0], m[1], m[2], m[3]])
        } else {
            None
        };
        Ok(Some((
            FrameHeader {
                fin,
                rsv,
                opcode,
                mask,
                len,
            },
            at,
        )))
    }

    /// Encodes the header (with the shortest length form) into `out`; returns its length.
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        out[0] = u8::from(self.fin) << 7 | (self.rsv & 0x07) << 4 | self.opcode.bits();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut at = match self.len {
            0..=125 => {
                out[1] = mask_bit | self.len as u8;
                2
            }
            126..=0xFFFF => {
                out[1] = mask_bit | 126;
                out[2..4].copy_from_slice(&(self.len as u16).to_be_bytes());
                4
            }
            _ => {
                out[1] = mask_bit | 127;
                out[2..10].copy_from_slice(&self.len.to_be_bytes());
                10
            }
        };
        if let Some(m) = self.mask {
            out[at..at + 4].copy_from_slice(&m);
            at += 4;
        }
        at
    }
}

impl FrameHeader {
    /// The header of a whole, unmasked frame (as a server sends one) of `len` payload bytes:
    /// its bytes, and how many of them are used.
    pub(crate) fn server(opcode: OpCode, len: u64) -> ([u8; MAX_HEADER_LEN], usize) {
        let mut head = [0u8; MAX_HEADER_LEN];
        let n = FrameHeader {
            fin: true,
            rsv: 0,
            opcode,
            mask: None,
            len,
        }
        .encode(&mut head);
        (head, n)
    }
}

/// Appends a whole frame to `out`: its header, then the payload, masked when `mask` is given
/// (as a client sends). For tests, tools and peers; the socket writes its own frames without
/// copying payloads.
pub fn encode_frame(
    fin: bool,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    payload: &[u8],
    out: &mut Vec<u8>,
) {
    let header = FrameHeader {
        fin,
        rsv: 0,
        opcode,
        mask,
        len: payload.len() as u64,
    };
    let mut head = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut head);
    out.extend_from_slice(&head[..n]);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(mask) = mask {
        apply_mask(&mut out[start..], mask, 0);
    }
}

/// XORs `data` with the masking key, `offset` being the position of `data[0]` in the payload
/// (so a payload can be unmasked in pieces as it arrives). Masking and unmasking are the same.
pub fn apply_mask(data: &mut [u8], mask: [u8; 4], offset: usize) {
    let mut key = mask;
    key.rotate_left(offset % 4);
    // Eight bytes at a time (the compiler vectorises this), then the tail.
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(b: &[u8]) -> (FrameHeader, usize) {
        FrameHeader::parse(b).unwrap().unwrap()
    }

    /// The examples of RFC 6455 §5.7.
    #[test]
    fn rfc_examples() {
        // A single-frame unmasked text message "Hello".
        let (h, n) = parse(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        assert_eq!(
            (h.fin, h.opcode, h.mask, h.len, n),
            (true, OpCode::Text, None, 5, 2)
        );

        // A single-frame masked text message "Hello".
        let mut frame = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let (h, n) = parse(&frame);
        assert_eq!((h.mask, h.len, n), (Some([0x37, 0xfa, 0x21, 0x3d]), 5, 6));
        apply_mask(&mut frame[6..], h.mask.unwrap(), 0);
        assert_eq!(&frame[6..], b"Hello");

        // A fragmented unmasked text message: "Hel" then "lo".
        let (h, _) = parse(&[0x01, 0x03, 0x48, 0x65, 0x6c]);
        assert_eq!((h.fin, h.opcode, h.len), (false, OpCode::Text, 3));
        let (h, _) = parse(&[0x80, 0x02, 0x6c, 0x6f]);
        assert_eq!((h.fin, h.opcode, h.len), (true, OpCode::Continuation, 2));

        // Unmasked ping with "Hello", masked pong with "Hello".
        assert_eq!(
            parse(&[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]).0.opcode,
            OpCode::Ping
        );
        let mut pong = [
            0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let (h, n) = parse(&pong);
        assert_eq!(h.opcode, OpCode::Pong);
        apply_mask(&mut pong[n..], h.mask.unwrap(), 0);
        assert_eq!(&pong[n..], b"Hello");

        // 256 bytes binary (16-bit length) and 64 KiB binary (64-bit length), unmasked.
        assert_eq!(parse(&[0x82, 0x7E, 0x01, 0x00]).0.len, 256);
        assert_eq!(parse(&[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]).0.len, 65536);
    }

    #[test]
    fn whole_frames_match_the_rfc_examples() {
        let mut out = Vec::new();
        encode_frame(
            true,
            OpCode::Text,
            Some([0x37, 0xfa, 0x21, 0x3d]),
            b"Hello",
            &mut out,
        );
        assert_eq!(
            out,
            [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
        out.clear();
        encode_frame(false, OpCode::Text, None, b"Hel", &mut out);
        encode_frame(true, OpCode::Continuation, None, b"lo", &mut out);
        assert_eq!(out, [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]);
    }

    #[test]
    fn partial_headers_ask_for_more() {
        let full = [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4];
        for cut in 0..full.len() {
            assert_eq!(FrameHeader::parse(&full[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(parse(&full).1, 14);
    }

    #[test]
    fn header_level_violations() {
        let err = |b: &[u8]| FrameHeader::parse(b).unwrap_err();
        assert_eq!(err(&[0x83, 0x00]), ProtocolError::ReservedOpcode);
        assert_eq!(err(&[0x8B, 0x00]), ProtocolError::ReservedOpcode);
        assert_eq!(err(&[0x09, 0x00]), ProtocolError::FragmentedControl);
        assert_eq!(
            err(&[0x89, 0x7E, 0x00, 0x7E]),
            ProtocolError::ControlTooLong
        );
        assert_eq!(
            err(&[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            ProtocolError::InvalidLength
        );
        // Reserved bits are reported, not refused, at this level.
        assert_eq!(parse(&[0xC1, 0x00]).0.rsv, 0b100);
    }

    #[test]
    fn mask_in_pieces_equals_mask_at_once() {
        let mask = [1, 2, 3, 4];
        let data: Vec<u8> = (0..=255).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, mask, 0);
        let mut pieces = data.clone();
        let (a, rest) = pieces.split_at_mut(7);
        let (b, c) = rest.split_at_mut(50);
        apply_mask(a, mask, 0);
        apply_mask(b, mask, 7);
        apply_mask(c, mask, 57);
        assert_eq!(whole, pieces);
        assert_eq!(whole[5], 5 ^ 2);
    }

    proptest! {
        #[test]
        fn encode_then_parse_round_trips(
            fin in any::<bool>(), rsv in 0u8..8, op in 0usize..6,
            mask in proptest::option::of(any::<[u8; 4]>()), len in any::<u64>(),
        ) {
            let opcode = [OpCode::Continuation, OpCode::Text, OpCode::Binary, OpCode::Close, OpCode::Ping, OpCode::Pong][op];
            let len = if opcode.is_control() { len % 126 } else { len >> 1 };
            let fin = fin || opcode.is_control();
            let h = FrameHeader { fin, rsv, opcode, mask, len };
            let mut out = [0u8; MAX_HEADER_LEN];
            let n = h.encode(&mut out);
            prop_assert_eq!(FrameHeader::parse(&out[..n]), Ok(Some((h, n))));
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..20)) {
            let _ = FrameHeader::parse(&bytes);
        }
    }
}
