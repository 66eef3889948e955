//! Arguments read straight from a MessagePack frame equal what the JSON path reads from the
//! transcoded text: for every packet of the corpus, generated and mutated packets, the
//! property-test packets and hand-made frames with every kind of value, `args::<T>()` and
//! `payload_as::<T>()` give the same value (or both an error) for dynamic and typed `T`, and
//! binary shares the frame's memory.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use bytes::Bytes;
use proptest::prelude::*;
use serde::Deserialize;
use socketio_parser::{
    msgpack, ArgsError, Binary, Decoder, DecoderConfig, Encoder, Packet, Spread, Status, Value,
};

use crate::common::{encode_description, unhex, Tv};
use crate::msgpack_diff::{our_frame, Rng};
use crate::msgpack_roundtrip::{namespace, value};

#[derive(Debug, PartialEq, Deserialize)]
struct Upload {
    name: String,
    data: Binary,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Debug, PartialEq, Deserialize)]
struct Mixed {
    #[serde(default)]
    a: Option<f64>,
    #[serde(default)]
    b: Option<Binary>,
    #[serde(default)]
    c: Option<serde_json::Value>,
    #[serde(default)]
    d: Option<Vec<Value>>,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(untagged)]
enum Either {
    Bin(Binary),
    Num(f64),
    Text(String),
    List(Vec<Value>),
    Obj(HashMap<String, Value>),
}

#[derive(Debug, PartialEq, Deserialize)]
enum Command {
    Stop,
    Go(u32),
    Move { x: i64, y: Option<i64> },
    Pair(String, Binary),
}

#[derive(Debug, PartialEq, Deserialize)]
struct Wrapped(Binary);

fn unlimited() -> DecoderConfig {
    DecoderConfig::default()
        .with_max_packet_size(usize::MAX)
        .with_max_attachments(usize::MAX)
        .with_max_depth(DecoderConfig::MAX_DEPTH_LIMIT)
}

/// The packet the default text decoder makes from `packet`'s text form: its arguments go
/// through serde_json.
fn through_text(packet: &Packet) -> Packet {
    let text = Encoder::new().encode(packet);
    let mut decoder = Decoder::with_config(unlimited());
    let mut status = decoder.push_text(text.text).expect("the text form decodes");
    for a in text.attachments {
        status = decoder.push_binary(a).expect("attachments are accepted");
    }
    match status {
        Status::Complete(p) => p,
        Status::NeedsAttachments(n) => panic!("{n} attachments missing"),
    }
}

fn same<T: PartialEq + std::fmt::Debug>(
    what: &str,
    direct: Result<T, ArgsError>,
    json: Result<T, ArgsError>,
    context: &dyn std::fmt::Display,
) {
    match (&direct, &json) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{what}: {context}"),
        (Err(_), Err(_)) => {}
        _ => panic!("{what}: {context}\n  direct: {direct:?}\n  json:   {json:?}"),
    }
}

/// Binary inside `v` shares `frame`'s memory.
fn check_shared(v: &Value, frame: &Bytes) {
    match v {
        Value::Binary(b) if !b.is_empty() => assert!(
            frame.as_ptr_range().contains(&b.as_ptr()),
            "binary copied instead of shared"
        ),
        Value::Array(a) => a.iter().for_each(|v| check_shared(v, frame)),
        Value::Object(m) => m.values().for_each(|v| check_shared(v, frame)),
        _ => {}
    }
}

macro_rules! same_args {
    ($direct:expr, $json:expr, $context:expr, $($t:ty),* $(,)?) => {$(
        same(stringify!($t), $direct.args::<$t>(), $json.args::<$t>(), $context);
    )*};
}

macro_rules! same_payload {
    ($direct:expr, $json:expr, $context:expr, $($t:ty),* $(,)?) => {$(
        same(stringify!($t), $direct.payload_as::<$t>(), $json.payload_as::<$t>(), $context);
    )*};
}

/// Decodes `frame` with `config`; when it decodes, compares both paths. Returns whether it
/// decoded.
fn check_frame(frame: &Bytes, config: &DecoderConfig) -> bool {
    let Ok(direct) = msgpack::decode(frame.clone(), config) else {
        return false;
    };
    let json = through_text(&direct);
    assert_eq!(direct, json);
    let context = format!(
        "{} = {:?}",
        frame.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        direct
    );
    let context: &dyn std::fmt::Display = &context;
    same_args!(
        direct,
        json,
        context,
        Vec<Value>,
        Vec<serde_json::Value>,
        (String, Binary),
        (Binary,),
        (Upload,),
        (Vec<Binary>,),
        (Option<Binary>, Option<Binary>),
        (Mixed,),
        (Vec<Either>,),
        (Command,),
        (Wrapped,),
        (HashMap<String, Value>,),
        (BTreeMap<u32, Value>,),
        (BTreeMap<i64, serde_json::Value>,),
        (Vec<u64>,),
        (Vec<i64>,),
        (Vec<f64>,),
        (Vec<Option<String>>,),
        (bytes::Bytes,),
        (String, String),
        (Vec<Vec<Value>>,),
    );
    same_args!(direct, json, context, (&str,), (&str, &str));
    same_payload!(direct, json, context, Value, serde_json::Value, Tv, Mixed);
    if let Ok(values) = direct.args::<Vec<Value>>() {
        values.iter().for_each(|v| check_shared(v, frame));
    }
    true
}

fn corpus() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/msgpack-corpus.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("corpus")).expect("corpus JSON")
}

#[test]
fn corpus_generated_and_mutated_frames_read_the_same_both_ways() {
    let corpus = corpus();
    let mut seeds: Vec<Bytes> = corpus["decode"]
        .as_array()
        .expect("decode cases")
        .iter()
        .map(|c| Bytes::from(unhex(c["frame"].as_str().expect("frame"))))
        .collect();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/msgpack-corpus.json"),
    )
    .expect("corpus");
    let ordered: Tv = serde_json::from_str(&text).expect("corpus JSON");
    let Some(Tv::Arr(encode_cases)) = ordered.get("encode") else {
        panic!("encode cases")
    };
    for case in encode_cases {
        let encoded = encode_description(case.get("packet").expect("a packet"));
        seeds.push(
            msgpack::encode_text_packet(&encoded.text, &encoded.attachments).expect("transcodes"),
        );
    }
    let mut rng = Rng(0x51f1_5eed_0dd5_eed5);
    seeds.extend((0..1000).map(|_| our_frame(&rng.packet())));
    seeds.extend(hand_made());

    const BYTES: &[u8] = &[
        0x00, 0x01, 0x7f, 0x80, 0x81, 0x90, 0x91, 0xa0, 0xa1, 0xc0, 0xc2, 0xc3, 0xc4, 0xc7, 0xca,
        0xcb, 0xcc, 0xcf, 0xd0, 0xd3, 0xd4, 0xd7, 0xd9, 0xdc, 0xde, 0xe0, 0xff, b'"', b'\\',
    ];
    let mut decoded = 0;
    let mut frames = seeds.clone();
    for seed in &seeds {
        for _ in 0..6 {
            let mut frame = seed.to_vec();
            let at = rng.below(frame.len().max(1) as u64) as usize;
            if let Some(b) = frame.get_mut(at) {
                *b = match rng.below(2) {
                    0 => BYTES[rng.below(BYTES.len() as u64) as usize],
                    _ => *b ^ (1 << rng.below(8)),
                };
            }
            frames.push(Bytes::from(frame));
        }
    }
    for frame in &frames {
        decoded += usize::from(check_frame(frame, &DecoderConfig::default()));
        check_frame(frame, &unlimited());
    }
    assert!(decoded > 2000, "only {decoded} frames decoded");
}

/// A frame `{type, nsp: "/", data}` around the MessagePack `data`.
fn frame(kind: u8, data: &[u8]) -> Bytes {
    let mut f = b"\x83\xa4type".to_vec();
    f.push(kind);
    f.extend_from_slice(b"\xa3nsp\xa1/\xa4data");
    f.extend_from_slice(data);
    Bytes::from(f)
}

/// An event `["e", ...args]`.
fn event(args: &[&[u8]]) -> Bytes {
    let mut data = vec![0x90 + args.len() as u8 + 1, 0xa1, b'e'];
    for a in args {
        data.extend_from_slice(a);
    }
    frame(2, &data)
}

/// Frames with each kind of value the transcoder maps: numbers beyond 2^53, float 32,
/// NaN, the infinities, -0, integral floats, `undefined`, dates, extensions, numeric keys,
/// strings JSON escapes, binary in every position, deep nesting.
fn hand_made() -> Vec<Bytes> {
    let values: &[&[u8]] = &[
        b"\xcf\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\xcf\x00\x20\x00\x00\x00\x00\x00\x01",
        b"\xcf\x00\x20\x00\x00\x00\x00\x00\x02",
        b"\xcf\x80\x00\x00\x00\x00\x00\x00\x00",
        b"\xd3\x80\x00\x00\x00\x00\x00\x00\x00",
        b"\xd3\xff\xdf\xff\xff\xff\xff\xff\xff",
        b"\xca\x3f\x8c\xcc\xcd",
        b"\xca\x7f\xc0\x00\x00",
        b"\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00",
        b"\xcb\xff\xf0\x00\x00\x00\x00\x00\x00",
        b"\xcb\x80\x00\x00\x00\x00\x00\x00\x00",
        b"\xcb\x40\x00\x00\x00\x00\x00\x00\x00",
        b"\xcb\xc0\x08\x00\x00\x00\x00\x00\x00",
        b"\xcb\x44\x15\xaf\x1d\x78\xb5\x8c\x40",
        b"\xcb\x44\x36\x35\xc9\xad\xc5\xde\xa0",
        b"\xcb\x43\xf0\x00\x00\x00\x00\x00\x00",
        b"\xcb\xc3\xe0\x00\x00\x00\x00\x00\x00",
        b"\xcb\xc3\xe0\x00\x00\x00\x00\x00\x01",
        b"\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a",
        b"\xd4\x00\x00",
        b"\xd7\x00\x00\x00\x01\x8f\x4e\x0b\x1c\x52",
        b"\xd7\x00\x7f\xff\xff\xff\xff\xff\xff\xff",
        b"\xd4\x05\x01",
        b"\xc7\x03\xfe\x01\x02\x03",
        b"\xd5\x00\x01\x02",
        b"\xc4\x03\x01\x02\x03",
        b"\xc4\x00",
        b"\xa5a\"b\\c",
        b"\xa3a\nb",
        b"\xa2\xc3\xa9",
        b"\xc0",
        b"\xc3",
        b"\x92\xd4\x00\x00\xc4\x01\x07",
        b"\x83\xa1a\xd4\x00\x00\xa1b\x01\xa1c\xd4\x00\x00",
        b"\x84\x01\xa1x\xff\xa1y\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00\xa1z\xca\x7f\xc0\x00\x00\xa1w",
        b"\x81\xa4Stop\xc0",
        b"\xa4Stop",
        b"\x81\xa2Go\x05",
        b"\x82\xa2Go\x05\xa1x\xd4\x00\x00",
        b"\x81\xa4Move\x82\xa1x\xd0\xfb\xa1y\xd4\x00\x00",
        b"\x81\xa4Pair\x92\xa1p\xc4\x01\x09",
        b"\x82\xa4name\xa1n\xa4data\xc4\x02\x01\x02",
        b"\x83\xa4name\xa1n\xa4data\xc4\x02\x01\x02\xa4tags\x91\xa1t",
        b"\x82\xa1b\xc4\x01\x01\xa1c\xc4\x01\x02",
        b"\x82\xa1b\xc4\x01\x01\xa1d\x91\xc4\x01\x02",
        b"\x81\xac_placeholder\xc2",
        b"\x82\xac_placeholder\xc2\xa3num\x00",
        b"\x81\xa1a\xc4\x01\x01",
        b"\x91\xc4\x01\x01",
    ];
    let mut frames = Vec::new();
    for v in values {
        frames.push(event(&[v]));
        frames.push(event(&[v, v]));
        frames.push(event(&[b"\xa1n", v]));
        frames.push(event(&[b"\xc4\x01\x01", v]));
        frames.push(event(&[b"\x81\xac_placeholder\xc2", b"\xc4\x01\x02", v]));
        let mut arr = vec![0x92];
        arr.extend_from_slice(v);
        arr.extend_from_slice(b"\xc4\x01\x01");
        frames.push(event(&[&arr]));
        frames.push(frame(3, &[&[0x91][..], v].concat()));
        frames.push(frame(0, &[&b"\x81\xa1k"[..], v].concat()));
    }
    // Nesting around serde_json's limit of 128 levels.
    for depth in [125, 126, 127, 128, 129, 200] {
        let mut data = vec![0x92, 0xa1, b'e'];
        data.extend(std::iter::repeat_n(0x91, depth - 1));
        data.push(0x01);
        frames.push(frame(2, &data));
        let mut data = vec![0x92, 0xa1, b'e'];
        data.extend(std::iter::repeat_n([0x81, 0xa1, b'k'], depth - 1).flatten());
        data.push(0xc0);
        frames.push(frame(2, &data));
        // Binary is a placeholder object in the JSON: one level more.
        let mut data = vec![0x92, 0xa1, b'e'];
        data.extend(std::iter::repeat_n(0x91, depth - 1));
        data.extend_from_slice(b"\xc4\x01\x01");
        frames.push(frame(2, &data));
    }
    frames
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_events_read_the_same_both_ways(nsp in namespace(),
                                                args in proptest::collection::vec(value(), 0..5)) {
        let packet = Packet::event(nsp, "e", &Spread(&args)).expect("valid event");
        let frame = msgpack::encode(&packet).expect("encodes");
        prop_assert!(check_frame(&frame, &unlimited()));
    }
}

#[test]
fn binary_is_shared_and_refused_where_it_cannot_be_held() {
    let upload = event(&[b"\x82\xa4name\xa1n\xa4data\xc4\x02\x01\x02"]);
    let packet = msgpack::decode(upload.clone(), &DecoderConfig::default()).expect("decodes");
    let (u,): (Upload,) = packet.args().expect("fits");
    assert_eq!(&u.data[..], b"\x01\x02");
    assert!(upload.as_ptr_range().contains(&u.data.as_ptr()));
    assert!(matches!(
        packet.args::<Vec<serde_json::Value>>(),
        Err(ArgsError::UnreadBinary { .. })
    ));
    let bin = msgpack::decode(event(&[b"\xc4\x01\x07"]), &DecoderConfig::default()).unwrap();
    assert!(bin.args::<(String,)>().is_err());
    assert!(bin.args::<(bytes::Bytes,)>().is_err());
    assert!(bin.args::<(serde_json::Value,)>().is_err());
    // Skipped binary is fine, as with JSON.
    let extra = msgpack::decode(
        event(&[b"\x01", b"\xc4\x01\x07"]),
        &DecoderConfig::default(),
    );
    assert_eq!(extra.unwrap().args::<(u8,)>().unwrap(), (1,));
    let (b,): (Binary,) = bin.args().unwrap();
    assert_eq!(&b[..], b"\x07");
}

#[test]
fn numbers_read_as_javascript_prints_them() {
    // 2^63 and -2^63: JavaScript prints 9223372036854776000 and -9223372036854776000.
    let p = msgpack::decode(
        event(&[
            b"\xcf\x80\x00\x00\x00\x00\x00\x00\x00",
            b"\xd3\x80\x00\x00\x00\x00\x00\x00\x00",
            b"\xcb\x40\x00\x00\x00\x00\x00\x00\x00",
            b"\xca\x7f\xc0\x00\x00",
        ]),
        &DecoderConfig::default(),
    )
    .unwrap();
    let v: Vec<serde_json::Value> = p.args().unwrap();
    assert_eq!(v[0].as_u64(), Some(9_223_372_036_854_776_000));
    assert_eq!(v[1].as_f64(), Some(-9_223_372_036_854_775_808.0));
    assert!(v[1].as_i64().is_none());
    assert_eq!(v[2].as_u64(), Some(2));
    assert!(v[3].is_null());
}

#[test]
fn taking_the_attachments_leaves_the_json_path() {
    let frame = event(&[b"\xc4\x01\x07"]);
    let mut direct = msgpack::decode(frame, &DecoderConfig::default()).unwrap();
    let mut json = through_text(&direct);
    assert_eq!(direct.take_attachments(), json.take_attachments());
    same(
        "(Binary,) without attachments",
        direct.args::<(Binary,)>(),
        json.args::<(Binary,)>(),
        &"taken",
    );
    assert!(direct.args::<(Binary,)>().is_err());
    same(
        "Vec<Value> without attachments",
        direct.args::<Vec<Value>>(),
        json.args::<Vec<Value>>(),
        &"taken",
    );
}
