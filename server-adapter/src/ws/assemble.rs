//! Message assembly, sans-IO: frames in, complete messages and control frames out.
//!
//! [`Decoder::decode`] works on the connection's read buffer. It parses a frame header as soon
//! as one is buffered and checks it against the connection's state (masking, reserved bits,
//! fragmentation order, the message size limit) before any of the payload is kept. It then
//! unmasks the payload in place as it arrives, and feeds text payload to an incremental UTF-8
//! validator, so that an invalid byte fails the connection when it arrives, even in the middle
//! of a frame. A complete unfragmented message is split off the read buffer without a copy; the
//! fragments of a fragmented message are gathered into one buffer. Control frames may come
//! between fragments and are returned at once.
//!
//! Bounds: a message (all its fragments) is at most `max_message` bytes; a control frame at
//! most 125.

use bytes::{Buf, Bytes, BytesMut};

use super::error::ProtocolError;
use super::frame::{apply_mask, FrameHeader, OpCode};
use super::message::{CloseCode, CloseFrame};
use super::utf8::Utf8Validator;

/// Which side of the connection the decoder is on: a server requires masked frames, a client
/// refuses them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Decoding frames from a client.
    Server,
    /// Decoding frames from a server.
    Client,
}

/// What the decoder produces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A complete text message (valid UTF-8).
    Text(Bytes),
    /// A complete binary message.
    Binary(Bytes),
    /// A ping and its payload.
    Ping(Bytes),
    /// A pong and its payload.
    Pong(Bytes),
    /// A close frame (`None` if it had no payload).
    Close(Option<CloseFrame>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    Binary,
}

/// The frame whose payload is arriving.
#[derive(Debug)]
struct InFrame {
    header: FrameHeader,
    /// Payload length.
    len: usize,
    /// Payload bytes at the front of the buffer already unmasked (and validated if text).
    done: usize,
    /// Whether the payload is text to validate.
    text: bool,
}

/// A fragmented message being gathered.
#[derive(Debug)]
struct Fragmented {
    kind: Kind,
    data: BytesMut,
}

/// Turns buffered bytes into messages; see the module docs.
#[derive(Debug)]
pub struct Decoder {
    role: Role,
    max_message: usize,
    frame: Option<InFrame>,
    /// Boxed: peers seldom fragment, and the gathering state inline would be 32 bytes of
    /// every idle socket.
    message: Option<Box<Fragmented>>,
    utf8: Utf8Validator,
}

impl Decoder {
    /// A decoder for `role` with a message size limit in bytes.
    #[must_use]
    pub fn new(role: Role, max_message: usize) -> Decoder {
        Decoder {
            role,
            max_message,
            frame: None,
            message: None,
            utf8: Utf8Validator::default(),
        }
    }

    /// How many more bytes the buffer needs to complete the frame in progress, if its header is
    /// known (the caller can reserve that much and read straight into the buffer).
    #[must_use]
    pub fn wanted(&self, buffered: usize) -> usize {
        self.frame
            .as_ref()
            .map_or(0, |f| f.len.saturating_sub(buffered))
    }

    /// Decodes from the front of `buf`, consuming what it uses: `Ok(None)` if more bytes are
    /// needed, or the next complete message or control frame.
    ///
    /// # Errors
    /// The peer broke the protocol; the decoder must not be used afterwards.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Incoming>, ProtocolError> {
        loop {
            if self.frame.is_none() {
                let Some((header, n)) = FrameHeader::parse(buf)? else {
                    return Ok(None);
                };
                let frame = self.start_frame(header)?;
                buf.advance(n);
                self.frame = Some(frame);
            }
            let Some(frame) = self.frame.as_mut() else {
                return Ok(None);
            };
            let available = buf.len().min(frame.len);
            if available > frame.done {
                let fresh = &mut buf[frame.done..available];
                if let Some(mask) = frame.header.mask {
                    apply_mask(fresh, mask, frame.done);
                }
                if frame.text {
                    self.utf8
                        .feed(fresh)
                        .map_err(|_| ProtocolError::InvalidUtf8)?;
                }
                frame.done = available;
            }
            if available < frame.len {
                return Ok(None);
            }
            let payload = if frame.len == buf.len() {
                // The frame ends the buffer (as it usually does): taken whole, since
                // splitting would first make the buffer's storage shared, an allocation.
                std::mem::take(buf)
            } else {
                buf.split_to(frame.len)
            };
            let header = frame.header;
            self.frame = None;
            if let Some(incoming) = self.finish_frame(header, payload)? {
                return Ok(Some(incoming));
            }
        }
    }

    /// Checks a new frame's header against the state; returns the frame to read.
    fn start_frame(&mut self, header: FrameHeader) -> Result<InFrame, ProtocolError> {
        if header.rsv != 0 {
            return Err(ProtocolError::ReservedBits);
        }
        match (self.role, header.mask.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        let so_far = match (header.opcode, &self.message) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation)
            }
            (OpCode::Continuation, Some(m)) => m.data.len(),
            _ => 0,
        };
        // Control frames are at most 125 bytes (checked by the parser).
        if !header.opcode.is_control() && header.len > (self.max_message - so_far) as u64 {
            return Err(ProtocolError::MessageTooBig);
        }
        let text = match header.opcode {
            OpCode::Text => true,
            OpCode::Continuation => self.message.as_ref().is_some_and(|m| m.kind == Kind::Text),
            _ => false,
        };
        // The length was just bounded by `max_message` or 125, so it fits in usize.
        let len = usize::try_from(header.len).map_err(|_| ProtocolError::MessageTooBig)?;
        Ok(InFrame {
            header,
            len,
            done: 0,
            text,
        })
    }

    /// Handles a complete frame whose payload is unmasked (and validated if text).
    fn finish_frame(
        &mut self,
        header: FrameHeader,
        payload: BytesMut,
    ) -> Result<Option<Incoming>, ProtocolError> {
        let kind = match header.opcode {
            OpCode::Ping => return Ok(Some(Incoming::Ping(payload.freeze()))),
            OpCode::Pong => return Ok(Some(Incoming::Pong(payload.freeze()))),
            OpCode::Close => return parse_close(&payload).map(|c| Some(Incoming::Close(c))),
            OpCode::Text => Kind::Text,
            OpCode::Binary => Kind::Binary,
            OpCode::Continuation => {
                // `start_frame` refused a continuation without a message.
                let Some(m) = self.message.as_mut() else {
                    return Err(ProtocolError::UnexpectedContinuation);
                };
                m.data.extend_from_slice(&payload);
                if !header.fin {
                    return Ok(None);
                }
                let Some(m) = self.message.take() else {
                    return Err(ProtocolError::UnexpectedContinuation);
                };
                return self.complete(m.kind, m.data.freeze()).map(Some);
            }
        };
        if header.fin {
            self.complete(kind, payload.freeze()).map(Some)
        } else {
            self.message = Some(Box::new(Fragmented {
                kind,
                data: payload,
            }));
            Ok(None)
        }
    }

    fn complete(&mut self, kind: Kind, data: Bytes) -> Result<Incoming, ProtocolError> {
        Ok(match kind {
            Kind::Text => {
                self.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
                Incoming::Text(data)
            }
            Kind::Binary => Incoming::Binary(data),
        })
    }
}

/// Parses a close frame's payload: empty, or a sendable status code and a UTF-8 reason.
fn parse_close(payload: &[u8]) -> Result<Option<CloseFrame>, ProtocolError> {
    match payload {
        [] => Ok(None),
        [_] => Err(ProtocolError::InvalidClosePayload),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_sendable() {
                return Err(ProtocolError::InvalidCloseCode(code.0));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| ProtocolError::InvalidUtf8)?;
            Ok(Some(CloseFrame {
                code,
                reason: reason.to_owned(),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::frame::encode_frame;
    use proptest::prelude::*;

    const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    /// A masked client frame.
    fn frame(fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(fin, opcode, Some(MASK), payload, &mut out);
        out
    }

    fn decode_all(bytes: &[u8], max: usize) -> Result<Vec<Incoming>, ProtocolError> {
        let mut d = Decoder::new(Role::Server, max);
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Some(m) = d.decode(&mut buf)? {
            out.push(m);
        }
        assert!(buf.is_empty(), "bytes left over");
        Ok(out)
    }

    #[test]
    fn single_frame_messages() {
        let mut input = frame(true, OpCode::Text, b"Hello");
        input.extend(frame(true, OpCode::Binary, &[0, 1, 2]));
        input.extend(frame(true, OpCode::Text, b""));
        assert_eq!(
            decode_all(&input, 100),
            Ok(vec![
                Incoming::Text(Bytes::from_static(b"Hello")),
                Incoming::Binary(Bytes::from_static(&[0, 1, 2])),
                Incoming::Text(Bytes::new()),
            ])
        );
    }

    #[test]
    fn fragments_with_interleaved_control_frames() {
        let mut input = frame(false, OpCode::Text, "κό".as_bytes());
        input.extend(frame(true, OpCode::Ping, b"p"));
        input.extend(frame(false, OpCode::Continuation, b""));
        input.extend(frame(true, OpCode::Pong, b""));
        input.extend(frame(true, OpCode::Continuation, "σμε".as_bytes()));
        assert_eq!(
            decode_all(&input, 100),
            Ok(vec![
                Incoming::Ping(Bytes::from_static(b"p")),
                Incoming::Pong(Bytes::new()),
                Incoming::Text(Bytes::from("κόσμε")),
            ])
        );
    }

    #[test]
    fn utf8_across_fragment_boundaries() {
        let s = "a€b".as_bytes(); // € is E2 82 AC
        let mut input = frame(false, OpCode::Text, &s[..2]);
        input.extend(frame(false, OpCode::Continuation, &s[2..3]));
        input.extend(frame(true, OpCode::Continuation, &s[3..]));
        assert_eq!(
            decode_all(&input, 100),
            Ok(vec![Incoming::Text(Bytes::from("a€b"))])
        );

        // A character cut off by the end of the message.
        let mut input = frame(false, OpCode::Text, &s[..2]);
        input.extend(frame(true, OpCode::Continuation, &s[2..3]));
        assert_eq!(decode_all(&input, 100), Err(ProtocolError::InvalidUtf8));
    }

    #[test]
    fn invalid_utf8_fails_before_the_frame_is_complete() {
        let input = frame(true, OpCode::Text, b"valid then \xF4\x90\x80\x80 and more");
        let mut d = Decoder::new(Role::Server, 100);
        // Only the header and the first bytes, up to the invalid second byte, have arrived.
        let mut buf = BytesMut::from(&input[..6 + 13]);
        assert_eq!(d.decode(&mut buf), Err(ProtocolError::InvalidUtf8));
        // Binary data is not validated.
        let input = frame(true, OpCode::Binary, b"\xFF");
        assert!(decode_all(&input, 100).is_ok());
    }

    #[test]
    fn sequencing_errors() {
        assert_eq!(
            decode_all(&frame(true, OpCode::Continuation, b"x"), 100),
            Err(ProtocolError::UnexpectedContinuation)
        );
        let mut input = frame(false, OpCode::Text, b"x");
        input.extend(frame(true, OpCode::Binary, b"y"));
        assert_eq!(
            decode_all(&input, 100),
            Err(ProtocolError::ExpectedContinuation)
        );
        let mut unmasked = frame(true, OpCode::Text, b"");
        unmasked[1] &= 0x7F;
        unmasked.truncate(2);
        assert_eq!(
            decode_all(&unmasked, 100),
            Err(ProtocolError::UnmaskedFrame)
        );
        let mut rsv = frame(true, OpCode::Text, b"");
        rsv[0] |= 0x40;
        assert_eq!(decode_all(&rsv, 100), Err(ProtocolError::ReservedBits));
        let mut d = Decoder::new(Role::Client, 100);
        assert_eq!(
            d.decode(&mut BytesMut::from(&frame(true, OpCode::Text, b"")[..])),
            Err(ProtocolError::MaskedFrame)
        );
    }

    #[test]
    fn size_limit_counts_every_fragment_and_is_checked_from_headers() {
        assert!(decode_all(&frame(true, OpCode::Binary, &[0; 10]), 10).is_ok());
        // The header alone is enough to refuse.
        let big = frame(true, OpCode::Binary, &[0; 11]);
        let mut d = Decoder::new(Role::Server, 10);
        assert_eq!(
            d.decode(&mut BytesMut::from(&big[..6])),
            Err(ProtocolError::MessageTooBig)
        );
        let mut input = frame(false, OpCode::Binary, &[0; 6]);
        input.extend(frame(true, OpCode::Continuation, &[0; 5]));
        assert_eq!(decode_all(&input, 10), Err(ProtocolError::MessageTooBig));
        assert_eq!(
            ProtocolError::MessageTooBig.close_code(),
            CloseCode::TOO_BIG
        );
        // A huge announced length is refused from the header, or, under a limit that admits
        // it, waits for bytes without overflowing.
        let mut huge = vec![0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        huge.extend_from_slice(&MASK);
        assert_eq!(decode_all(&huge, 1000), Err(ProtocolError::MessageTooBig));
        let mut d = Decoder::new(Role::Server, usize::MAX);
        let mut buf = BytesMut::from(&huge[..]);
        assert_eq!(d.decode(&mut buf), Ok(None));
        assert_eq!(d.wanted(0), 0x7FFF_FFFF_FFFF_FFFF_u64 as usize);
    }

    #[test]
    fn close_frames() {
        let close = |p: &[u8]| decode_all(&frame(true, OpCode::Close, p), 100);
        assert_eq!(close(b""), Ok(vec![Incoming::Close(None)]));
        assert_eq!(
            close(b"\x03\xe8bye"),
            Ok(vec![Incoming::Close(Some(CloseFrame {
                code: CloseCode::NORMAL,
                reason: "bye".into()
            }))])
        );
        assert_eq!(close(b"\x03"), Err(ProtocolError::InvalidClosePayload));
        assert_eq!(
            close(b"\x03\xed"),
            Err(ProtocolError::InvalidCloseCode(1005))
        );
        assert_eq!(close(b"\x03\xe8\xff"), Err(ProtocolError::InvalidUtf8));
        for ok in [
            1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
        ] {
            assert!(close(&ok.to_be_bytes()).is_ok(), "{ok}");
        }
        for bad in [
            0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            assert_eq!(
                close(&bad.to_be_bytes()),
                Err(ProtocolError::InvalidCloseCode(bad)),
                "{bad}"
            );
        }
    }

    proptest! {
        /// Any split of a valid stream into reads yields the same messages.
        #[test]
        fn pieces_decode_like_the_whole(
            msgs in proptest::collection::vec(("\\PC{0,30}", 1usize..4), 1..6),
            cuts in proptest::collection::vec(0usize..600, 0..12),
        ) {
            let mut input = Vec::new();
            let mut expected = Vec::new();
            for (text, parts) in &msgs {
                let b = text.as_bytes();
                let step = b.len() / parts + 1;
                let pieces: Vec<&[u8]> = if b.is_empty() { vec![b] } else { b.chunks(step).collect() };
                for (i, p) in pieces.iter().enumerate() {
                    let op = if i == 0 { OpCode::Text } else { OpCode::Continuation };
                    input.extend(frame(i + 1 == pieces.len(), op, p));
                    input.extend(frame(true, OpCode::Ping, b"x"));
                    expected.push(Incoming::Ping(Bytes::from_static(b"x")));
                }
                expected.push(Incoming::Text(Bytes::copy_from_slice(b)));
            }
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (input.len() + 1)).collect();
            cuts.sort_unstable();
            let mut d = Decoder::new(Role::Server, 1000);
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            let mut start = 0;
            for end in cuts.into_iter().chain([input.len()]) {
                buf.extend_from_slice(&input[start..end]);
                start = end;
                while let Some(m) = d.decode(&mut buf).unwrap() {
                    got.push(m);
                }
            }
            // Pings were returned as soon as complete, possibly before the message they followed
            // a fragment of; compare the order of each kind.
            let texts = |v: &[Incoming]| v.iter().filter(|m| matches!(m, Incoming::Text(_))).cloned().collect::<Vec<_>>();
            prop_assert_eq!(texts(&got), texts(&expected));
            prop_assert_eq!(got.len(), expected.len());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut d = Decoder::new(Role::Server, 64);
            let mut buf = BytesMut::from(&bytes[..]);
            while let Ok(Some(_)) = d.decode(&mut buf) {}
        }
    }
}
