//! [`Decoder`]: the per-connection push decoder.

use bytes::Bytes;

use crate::args::scan_error;
use crate::config::DecoderConfig;
use crate::error::{DecodeError, JsonError};
use crate::header;
use crate::packet::{Json, NameSpan, Packet, PacketKind, Payload};
use crate::scan::{self, JsonType, Placeholders, Scan};

/// The names an EVENT must not use: they mean something to the Socket.IO and Node.js
/// libraries themselves.
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// The shortest placeholder there is.
const SHORTEST_PLACEHOLDER: &str = r#"{"_placeholder":true,"num":0}"#;

/// What the decoder has after a frame.
#[derive(Debug)]
#[must_use]
pub enum Status {
    /// A whole packet.
    Complete(Packet),
    /// A BINARY_EVENT / BINARY_ACK header is in; this many binary frames are still needed.
    NeedsAttachments(usize),
}

/// Decodes the Socket.IO packets of one connection, frame by frame.
///
/// Feed every text frame to [`push_text`](Decoder::push_text) and every binary frame to
/// [`push_binary`](Decoder::push_binary), in arrival order. Each call returns
/// [`Status::Complete`] with a packet, or [`Status::NeedsAttachments`] while a binary packet
/// waits for its attachments.
///
/// An error means the peer broke the protocol; the reference server then closes the
/// connection. After an error the decoder is back in its initial state (any partial packet is
/// dropped), so it can be reused, but a server should not.
#[derive(Debug)]
pub struct Decoder {
    config: DecoderConfig,
    /// Boxed: a connection keeps its decoder for life and is seldom between a binary
    /// packet's frames, so the packet's room is taken only while it is.
    pending: Option<Box<Pending>>,
}

#[derive(Debug)]
struct Pending {
    packet: Packet,
    expected: usize,
    size: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder with the default limits.
    pub fn new() -> Self {
        Self::with_config(DecoderConfig::default())
    }

    /// A decoder with the given limits.
    pub fn with_config(config: DecoderConfig) -> Self {
        Decoder {
            config,
            pending: None,
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// How many binary frames the decoder waits for (0 between packets).
    pub fn pending_attachments(&self) -> usize {
        self.pending
            .as_ref()
            .map_or(0, |p| p.expected - p.packet.attachments.len())
    }

    /// Drops any partial packet.
    pub fn reset(&mut self) {
        self.pending = None;
    }

    /// Decodes a text frame: the Socket.IO packet text without the Engine.IO `4` prefix.
    ///
    /// # Errors
    /// Any [`DecodeError`]: the frame breaks the protocol, or arrived while attachments were
    /// outstanding.
    pub fn push_text(&mut self, frame: Bytes) -> Result<Status, DecodeError> {
        if let Some(pending) = self.pending.take() {
            return Err(DecodeError::UnexpectedText {
                remaining: pending.expected - pending.packet.attachments.len(),
            });
        }
        if frame.len() > self.config.max_packet_size {
            return Err(DecodeError::PacketTooLarge {
                size: frame.len(),
                max: self.config.max_packet_size,
            });
        }
        let (packet, expected) = decode_text(&frame, &self.config)?;
        if expected == 0 {
            return Ok(Status::Complete(packet));
        }
        self.pending = Some(Box::new(Pending {
            packet,
            expected,
            size: frame.len(),
        }));
        Ok(Status::NeedsAttachments(expected))
    }

    /// Takes a binary frame as the next attachment of the pending packet.
    ///
    /// # Errors
    /// [`DecodeError::UnexpectedBinary`] when no attachment is expected,
    /// [`DecodeError::PacketTooLarge`] when it takes the packet over the size limit.
    pub fn push_binary(&mut self, frame: Bytes) -> Result<Status, DecodeError> {
        let Some(mut pending) = self.pending.take() else {
            return Err(DecodeError::UnexpectedBinary);
        };
        let size = pending.size.saturating_add(frame.len());
        if size > self.config.max_packet_size {
            return Err(DecodeError::PacketTooLarge {
                size,
                max: self.config.max_packet_size,
            });
        }
        pending.size = size;
        pending.packet.attachments.push(frame);
        let remaining = pending.expected - pending.packet.attachments.len();
        if remaining == 0 {
            return Ok(Status::Complete(pending.packet));
        }
        self.pending = Some(pending);
        Ok(Status::NeedsAttachments(remaining))
    }
}

/// Decodes one text frame into a packet (attachments not yet in) and its attachment count.
fn decode_text(frame: &Bytes, config: &DecoderConfig) -> Result<(Packet, usize), DecodeError> {
    let header = header::parse(frame, config.max_attachments)?;
    let start = header.payload_start;
    let count = header.attachments;

    let mut payload = None;
    let mut scanned: Option<Scan> = None;
    if start < frame.len() {
        if matches!(frame[start], b' ' | b'\t' | b'\n' | b'\r') {
            return Err(DecodeError::InvalidJson {
                offset: start,
                error: JsonError::LeadingWhitespace,
            });
        }
        let json = &frame[start..];
        let scan = if count > 0 {
            // Every attachment needs a placeholder of at least this many bytes. Checking it
            // first bounds the memory below by the frame's size, whatever the configured
            // `max_attachments`.
            if count > json.len() / SHORTEST_PLACEHOLDER.len() {
                return Err(DecodeError::IllegalAttachments {
                    offset: 1,
                    reason: "more attachments announced than the payload has room to refer to",
                });
            }
            let mut small = [0u64; 2];
            let mut large = Vec::new();
            let seen: &mut [u64] = if count <= 128 {
                &mut small
            } else {
                large.resize(count.div_ceil(64), 0);
                &mut large
            };
            let mut placeholders = Placeholders::new(count, seen);
            let scan = scan::scan(json, config.max_depth, Some(&mut placeholders))
                .map_err(|e| scan_error(e, start))?;
            if let Some(index) = placeholders.first_missing() {
                return Err(DecodeError::MissingPlaceholder { index });
            }
            scan
        } else {
            scan::scan(json, config.max_depth, None).map_err(|e| scan_error(e, start))?
        };
        payload = Some(frame.slice(start..start + scan.end));
        scanned = Some(scan);
    } else if count > 0 {
        // Announced attachments and nothing to put them in.
        return Err(DecodeError::MissingPlaceholder { index: 0 });
    }

    let (name, rest) = check_payload(header.kind, scanned.as_ref(), &frame[start..], start)?;
    let packet = Packet {
        kind: header.kind,
        nsp: header.nsp,
        ack: header.ack,
        payload: Payload::Json(Json {
            text: payload,
            name,
            rest,
        }),
        attachments: Vec::with_capacity(count),
    };
    Ok((packet, count))
}

/// The per-kind payload rules. Returns the event name span and the arguments offset.
fn check_payload(
    kind: PacketKind,
    scan: Option<&Scan>,
    json: &[u8],
    offset: usize,
) -> Result<(Option<NameSpan>, usize), DecodeError> {
    let found = scan.map_or("no payload", |s| s.ty.describe());
    let invalid = |expected| {
        Err(DecodeError::InvalidPayload {
            kind,
            offset,
            expected,
            found,
        })
    };
    let ty = scan.map(|s| s.ty);
    match kind {
        PacketKind::Connect => match ty {
            None | Some(JsonType::Object) => Ok((None, 0)),
            _ => invalid("an object or no payload"),
        },
        PacketKind::Disconnect => match ty {
            None => Ok((None, 0)),
            _ => invalid("no payload"),
        },
        PacketKind::ConnectError => match ty {
            Some(JsonType::Object | JsonType::String) => Ok((None, 0)),
            _ => invalid("a string or an object"),
        },
        PacketKind::Ack | PacketKind::BinaryAck => match scan {
            Some(s) if s.ty == JsonType::Array => Ok((None, s.first.map_or(s.rest, |f| f.start))),
            _ => invalid("an array"),
        },
        PacketKind::Event | PacketKind::BinaryEvent => {
            const EXPECTED: &str = "an array starting with a string or number event name";
            let Some(s) = scan.filter(|s| s.ty == JsonType::Array) else {
                return invalid(EXPECTED);
            };
            let Some(first) = s.first else {
                return Err(DecodeError::InvalidPayload {
                    kind,
                    offset,
                    expected: EXPECTED,
                    found: "an empty array",
                });
            };
            let string = match first.ty {
                JsonType::String => Some(first.escaped),
                JsonType::Number => None,
                other => {
                    return Err(DecodeError::InvalidPayload {
                        kind,
                        offset: offset + first.start,
                        expected: EXPECTED,
                        found: match other {
                            JsonType::Object => "an object as event name",
                            JsonType::Array => "an array as event name",
                            JsonType::Bool => "a boolean as event name",
                            _ => "null as event name",
                        },
                    })
                }
            };
            if string.is_some() {
                let raw = &json[first.start + 1..first.end - 1];
                let reserved = RESERVED_EVENTS.iter().find(|name| {
                    if first.escaped {
                        scan::json_str_eq_ascii(raw, name.as_bytes())
                    } else {
                        raw == name.as_bytes()
                    }
                });
                if let Some(name) = reserved {
                    return Err(DecodeError::ReservedEventName {
                        name,
                        offset: offset + first.start,
                    });
                }
            }
            Ok((
                Some(NameSpan {
                    start: first.start,
                    end: first.end,
                    string,
                }),
                s.rest,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PlaceholderError;

    fn text(d: &mut Decoder, s: &str) -> Result<Status, DecodeError> {
        d.push_text(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn complete(s: &str) -> Packet {
        match text(&mut Decoder::new(), s) {
            Ok(Status::Complete(p)) => p,
            other => panic!("{s}: {other:?}"),
        }
    }

    fn error(s: &str) -> DecodeError {
        text(&mut Decoder::new(), s).expect_err(s)
    }

    #[test]
    fn decodes_plain_packets() {
        let p = complete("2/admin,12[\"chat\",{\"a\":1}]");
        assert_eq!(p.kind(), PacketKind::Event);
        assert_eq!(p.namespace(), "/admin");
        assert_eq!(p.ack_id().map(|a| a.get()), Some(12));
        assert_eq!(p.event_name().unwrap(), "chat");
        assert_eq!(p.payload().unwrap().as_ref(), b"[\"chat\",{\"a\":1}]");
        let p = complete("0");
        assert_eq!((p.kind(), p.payload()), (PacketKind::Connect, None));
        let p = complete("4\"nope\"");
        assert_eq!(p.kind(), PacketKind::ConnectError);
        let p = complete("2[\"a\"]\n ");
        assert_eq!(p.payload().unwrap().as_ref(), b"[\"a\"]");
    }

    #[test]
    fn applies_the_payload_rules() {
        for bad in [
            "0[]",
            "0\"s\"",
            "0null",
            "1{}",
            "1/a,[]",
            "2{}",
            "2[]",
            "2[null]",
            "2[{}]",
            "2[[]]",
            "2[true]",
            "2",
            "3{}",
            "3",
            "4[]",
            "4",
            "41",
            "2abc[\"a\"]",
        ] {
            assert!(
                matches!(
                    error(bad),
                    DecodeError::InvalidPayload { .. } | DecodeError::InvalidJson { .. }
                ),
                "{bad}: {:?}",
                error(bad)
            );
        }
        for name in RESERVED_EVENTS {
            assert!(matches!(
                error(&format!("2[\"{name}\"]")),
                DecodeError::ReservedEventName { .. }
            ));
        }
        assert!(matches!(
            error(r#"2["conn\u0065ct"]"#),
            DecodeError::ReservedEventName {
                name: "connect",
                offset: 2
            }
        ));
        assert_eq!(
            error("2 [\"a\"]"),
            DecodeError::InvalidJson {
                offset: 1,
                error: JsonError::LeadingWhitespace
            }
        );
    }

    #[test]
    fn reassembles_binary_packets() {
        let mut d = Decoder::new();
        let st = text(
            &mut d,
            r#"52-["a",{"_placeholder":true,"num":1},{"x":[{"_placeholder":true,"num":0}]}]"#,
        )
        .unwrap();
        assert!(matches!(st, Status::NeedsAttachments(2)));
        assert_eq!(d.pending_attachments(), 2);
        assert!(matches!(
            d.push_binary(Bytes::from_static(b"A")).unwrap(),
            Status::NeedsAttachments(1)
        ));
        let Status::Complete(p) = d.push_binary(Bytes::from_static(b"B")).unwrap() else {
            panic!()
        };
        assert_eq!(p.kind(), PacketKind::BinaryEvent);
        assert_eq!(
            p.attachments(),
            &[Bytes::from_static(b"A"), Bytes::from_static(b"B")]
        );
        assert_eq!(d.pending_attachments(), 0);
    }

    #[test]
    fn enforces_frame_order() {
        let mut d = Decoder::new();
        assert_eq!(
            d.push_binary(Bytes::new()).unwrap_err(),
            DecodeError::UnexpectedBinary
        );
        let _ = text(&mut d, r#"51-["a",{"_placeholder":true,"num":0}]"#).unwrap();
        assert_eq!(
            text(&mut d, "2[\"a\"]").unwrap_err(),
            DecodeError::UnexpectedText { remaining: 1 }
        );
        // Back to the initial state after an error.
        assert!(matches!(
            text(&mut d, "2[\"a\"]").unwrap(),
            Status::Complete(_)
        ));
    }

    #[test]
    fn checks_placeholders_against_the_count() {
        assert_eq!(
            error(r#"52-["a",{"_placeholder":true,"num":0},{"num":1,"x":"padding"}]"#),
            DecodeError::MissingPlaceholder { index: 1 }
        );
        // Announcing more attachments than the payload can refer to fails before any
        // allocation, whatever the configured limit.
        let mut d = Decoder::with_config(DecoderConfig::default().with_max_attachments(usize::MAX));
        assert!(matches!(
            text(
                &mut d,
                r#"5999999999999999-["a",{"_placeholder":true,"num":0}]"#
            ),
            Err(DecodeError::IllegalAttachments { offset: 1, .. })
        ));
        assert!(matches!(
            text(&mut d, r#"52-["a",{"_placeholder":true,"num":0}]"#),
            Err(DecodeError::IllegalAttachments { offset: 1, .. })
        ));
        assert_eq!(error("51-"), DecodeError::MissingPlaceholder { index: 0 });
        assert_eq!(
            error(r#"51-["a",{"_placeholder":true,"num":1}]"#),
            DecodeError::BadPlaceholder {
                offset: 8,
                error: PlaceholderError::OutOfRange { num: 1, count: 1 }
            }
        );
    }

    #[test]
    fn enforces_size_limits() {
        let mut d = Decoder::with_config(DecoderConfig::default().with_max_packet_size(40));
        let head = r#"51-["a",{"_placeholder":true,"num":0}]"#;
        assert!(matches!(
            text(&mut d, head).unwrap(),
            Status::NeedsAttachments(1)
        ));
        assert!(matches!(
            d.push_binary(Bytes::from_static(b"abc")),
            Err(DecodeError::PacketTooLarge { size: 41, max: 40 })
        ));
        assert!(matches!(
            text(&mut d, &format!("2[\"{}\"]", "x".repeat(40))),
            Err(DecodeError::PacketTooLarge { .. })
        ));
        let mut d = Decoder::with_config(DecoderConfig::default().with_max_depth(2));
        assert!(text(&mut d, "2[\"a\",[1]]").is_ok());
        assert!(matches!(
            text(&mut d, "2[\"a\",[[1]]]"),
            Err(DecodeError::TooDeep { offset: 7, max: 2 })
        ));
    }

    #[test]
    fn many_attachments_use_a_bigger_bitmap() {
        let mut d = Decoder::with_config(DecoderConfig::default().with_max_attachments(200));
        let phs: Vec<String> = (0..200)
            .map(|n| format!("{{\"_placeholder\":true,\"num\":{n}}}"))
            .collect();
        let frame = format!("5200-[\"a\",{}]", phs.join(","));
        assert!(matches!(
            text(&mut d, &frame).unwrap(),
            Status::NeedsAttachments(200)
        ));
    }
}
