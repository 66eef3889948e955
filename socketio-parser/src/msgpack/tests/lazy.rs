//! The two ways `decode` runs its converter agree: checking only (the JSON written later,
//! on request) and writing the JSON while checking. Same packets, same JSON, same event
//! names, same errors, on the corpus and on every one-byte change and cut of it.

use bytes::Bytes;

use super::super::decode::{decode_into, Unwritten};
use crate::args::{self, EventName};
use crate::config::DecoderConfig;
use crate::error::DecodeError;
use crate::packet::Packet;

fn corpus() -> Vec<Vec<u8>> {
    let corpus: serde_json::Value =
        serde_json::from_str(include_str!("../../../tests/data/msgpack-corpus.json"))
            .expect("the corpus is JSON");
    let mut frames: Vec<Vec<u8>> = corpus["decode"]
        .as_array()
        .expect("a list of frames")
        .iter()
        .map(|case| {
            let hex = case["frame"].as_str().expect("a hex frame");
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect()
        })
        .collect();
    // Strings that JSON escapes, in keys and values, and numbers that print with digits.
    frames.push(
        b"\x83\xa4type\x02\xa4data\x93\xa3a\"b\x82\xa2\\k\xa2\x01\x02\x01\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a\
          \xa3nsp\xa1/"
            .to_vec(),
    );
    // Numeric event names: -0, beyond 2^53 both ways, float 32.
    for name in [
        &b"\xcb\x80\0\0\0\0\0\0\0"[..],
        b"\xcf\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\xd3\x80\0\0\0\0\0\0\x01",
        b"\xca\x3d\xcc\xcc\xcd",
    ] {
        let mut frame = b"\x83\xa4type\x02\xa4data\x91".to_vec();
        frame.extend_from_slice(name);
        frame.extend_from_slice(b"\xa3nsp\xa1/");
        frames.push(frame);
    }
    frames
}

/// The frame, each one-byte change of it to a few telling bytes, and each cut of it.
fn variants(frame: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![frame.to_vec()];
    for at in 0..frame.len() {
        for b in [
            0x00, 0x01, 0x22, 0x5c, 0x7f, 0x80, 0x91, 0xa1, 0xc0, 0xc3, 0xc4, 0xd4, 0xff,
        ] {
            let mut v = frame.to_vec();
            v[at] = b;
            out.push(v);
        }
        let mut v = frame.to_vec();
        v[at] = v[at].wrapping_add(1);
        out.push(v);
        out.push(frame[..at].to_vec());
    }
    out
}

fn same(frame: &[u8], config: &DecoderConfig) {
    let frame = Bytes::copy_from_slice(frame);
    let checked: Result<Packet, DecodeError> = decode_into(frame.clone(), config, Unwritten);
    let written = decode_into(frame.clone(), config, Vec::new());
    match (&checked, &written) {
        (Ok(c), Ok(w)) => {
            assert_eq!(c.payload(), w.payload(), "{frame:02x?}");
            assert_eq!(c, w, "{frame:02x?}");
            assert_eq!(c.attachments(), w.attachments());
            // One attachment per placeholder of the JSON, each a slice of the frame.
            let text: &[u8] = c.payload().map_or(&[], |p| &p[..]);
            let marker = br#"{"_placeholder":true,"num":"#;
            let placeholders = text.windows(marker.len()).filter(|w| w == marker).count();
            assert_eq!(c.attachments().len(), placeholders, "{frame:02x?}");
            let range = frame.as_ptr_range();
            for a in c.attachments() {
                assert!(range.contains(&a.as_ptr()) || a.is_empty(), "{frame:02x?}");
            }
            // The name read from the MessagePack is the name the JSON gives.
            let json = c.json();
            let from_json = json
                .name
                .zip(json.text.as_ref())
                .map(|(span, text)| args::event_name(&text[span.start..span.end], span.string));
            assert_eq!(
                c.event_name().as_ref().map(ToString::to_string),
                from_json.as_ref().map(ToString::to_string)
            );
            assert_eq!(c.event_name(), from_json, "{frame:02x?}");
            if let (Some(EventName::Number(a)), Some(EventName::Number(b))) =
                (c.event_name(), &from_json)
            {
                assert_eq!(a.to_bits(), b.to_bits(), "{frame:02x?}");
            }
            assert_eq!(c.raw_args(), w.raw_args());
        }
        (Err(c), Err(w)) => assert_eq!(c, w, "{frame:02x?}"),
        _ => panic!("{frame:02x?}: checking {checked:?}, writing {written:?}"),
    }
}

#[test]
fn checking_only_agrees_with_writing_the_json() {
    let configs = [
        DecoderConfig::default().with_max_packet_size(usize::MAX),
        DecoderConfig::default()
            .with_max_packet_size(usize::MAX)
            .with_max_attachments(1)
            .with_max_depth(3),
    ];
    for frame in corpus() {
        for v in variants(&frame) {
            for config in &configs {
                same(&v, config);
            }
        }
    }
}

#[test]
fn the_size_limit_is_met_either_way() {
    // A frame whose JSON is several times its size: numeric keys and nulls.
    let mut frame = b"\x83\xa4type\x02\xa4data\x92\xa1e\xde\x00\x64".to_vec();
    for k in 0..100u8 {
        frame.push(k);
        frame.push(0xc0);
    }
    frame.extend_from_slice(b"\xa3nsp\xa1/");
    let frame = Bytes::from(frame);
    let p = super::decode(frame.clone(), &DecoderConfig::default()).expect("decodes");
    let size = p.payload().expect("a payload").len();
    // Exactly at the limit, and one byte under it, through `decode` (which picks the way).
    let at = DecoderConfig::default().with_max_packet_size(size);
    assert!(super::decode(frame.clone(), &at).is_ok());
    let under = DecoderConfig::default().with_max_packet_size(size - 1);
    assert!(matches!(
        super::decode(frame, &under),
        Err(DecodeError::PacketTooLarge { .. })
    ));
}
