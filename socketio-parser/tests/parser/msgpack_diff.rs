//! Differential tests of `socketio_parser::msgpack` against the official npm
//! `socket.io-msgpack-parser` (tests/node/msgpack-diff.js), both ways:
//!
//! * decoding: both decoders take the same frames and must accept, reject and produce the same
//!   packets, except where the corpus marks a deliberate divergence (the module docs list
//!   them);
//! * encoding: for a packet, our frame must be byte-identical to what the npm Encoder writes
//!   for the object the Node server builds, npm must decode our frame to the packet, and we
//!   must decode npm's frame to the packet.
//!
//! The corpus is `tests/data/msgpack-corpus.json`, plus generated packets and mutated frames.

use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use serde_json::{json, Value};
use socketio_parser::{msgpack, Binary, DecodeError, DecoderConfig, MsgpackError};

use crate::common::{encode_description, hex, js_normalize, packet_to_json, tv_to_json, unhex, Tv};

/// A description as JSON text, object keys in their order, binary as `{"$bin": hex}`.
fn ordered_json(v: &Tv, out: &mut String) {
    match v {
        Tv::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ordered_json(item, out);
            }
            out.push(']');
        }
        Tv::Obj(entries) => {
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                ordered_json(item, out);
            }
            out.push('}');
        }
        other => out.push_str(&tv_to_json(other).to_string()),
    }
}

fn run_node(corpus: &Value) -> Value {
    run_node_text(&corpus.to_string())
}

fn run_node_text(corpus: &str) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate lives in the workspace root")
        .to_path_buf();
    let modules = root.join("tests/node/node_modules/socket.io-msgpack-parser");
    assert!(
        modules.is_dir(),
        "{} is missing: the differential tests need the official npm packages. \
         Run `npm ci --prefix tests/node` in the repository root (./scripts/test-all.sh does it).",
        modules.display()
    );
    let path: PathBuf = std::env::temp_dir().join(format!(
        "socketio-msgpack-{}-{:?}.json",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, corpus).expect("the temporary directory is writable");
    let output = Command::new("node")
        .arg(root.join("tests/node/msgpack-diff.js"))
        .arg(&path)
        .output()
        .expect("`node` must be on the PATH (Node.js 20 or later) for the differential tests");
    let _ = std::fs::remove_file(&path);
    assert!(
        output.status.success(),
        "msgpack-diff.js failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("msgpack-diff.js prints JSON")
}

/// Our frame for a packet description `{type, nsp, id?, data?}`: the text encoder, then the
/// transcoder.
pub(crate) fn our_frame(desc: &Tv) -> Bytes {
    let encoded = encode_description(desc);
    let frame = msgpack::encode_text_packet(&encoded.text, &encoded.attachments)
        .expect("the encoder's text transcodes");
    assert_eq!(
        msgpack::encode(
            &msgpack::decode(
                frame.clone(),
                &DecoderConfig::default().with_max_packet_size(usize::MAX)
            )
            .expect("our frame decodes")
        )
        .expect("encodes"),
        frame,
        "encode(&Packet) and encode_text_packet agree"
    );
    frame
}

fn our_decode(frame: &[u8]) -> Result<Value, DecodeError> {
    let config = DecoderConfig::default();
    msgpack::decode(Bytes::copy_from_slice(frame), &config)
        .map(|p| js_normalize(&packet_to_json(&p)))
}

/// A description as the packet both decoders should produce.
fn expected(desc: &Tv) -> Value {
    js_normalize(&tv_to_json(desc))
}

/// Runs encode cases both ways; returns the failures.
fn check_encode_cases(cases: &[(String, Tv, bool)]) -> Vec<String> {
    let ours: Vec<Bytes> = cases.iter().map(|(_, d, _)| our_frame(d)).collect();
    let mut corpus = String::from(r#"{"decode":[],"encode":["#);
    for (i, ((_, desc, _), frame)) in cases.iter().zip(&ours).enumerate() {
        if i > 0 {
            corpus.push(',');
        }
        corpus.push_str(r#"{"packet":"#);
        ordered_json(desc, &mut corpus);
        corpus.push_str(&format!(r#","ours":"{}"}}"#, hex(frame)));
    }
    corpus.push_str("]}");
    let npm = run_node_text(&corpus);
    let results = npm["encode"].as_array().expect("encode results");
    let mut failures = Vec::new();
    for (((name, desc, same_bytes), ours), theirs) in cases.iter().zip(&ours).zip(results) {
        let want = expected(desc);
        let their_frame = unhex(theirs["frame"].as_str().expect("a frame"));
        if *same_bytes && their_frame != ours[..] {
            let at = ours
                .iter()
                .zip(&their_frame)
                .position(|(a, b)| a != b)
                .unwrap_or(ours.len().min(their_frame.len()));
            let from = at.saturating_sub(8);
            failures.push(format!(
                "{name}: bytes differ from offset {at}\n  ours: ..{}\n  npm:  ..{}",
                hex(&ours[from..(at + 24).min(ours.len())]),
                hex(&their_frame[from..(at + 24).min(their_frame.len())])
            ));
        }
        if js_normalize(&theirs["ours"]) != want {
            failures.push(format!(
                "{name}: npm decodes our frame as {}, expected {want}",
                theirs["ours"]
            ));
        }
        match our_decode(&their_frame) {
            Ok(p) if p == want => {}
            other => failures.push(format!(
                "{name}: we decode npm's frame as {other:?}, expected {want}"
            )),
        }
    }
    failures
}

fn decode_failures(cases: &[Value], results: &[Value]) -> (Vec<String>, usize, usize) {
    let mut failures = Vec::new();
    let (mut agreed, mut diverged) = (0, 0);
    for (case, theirs) in cases.iter().zip(results) {
        let name = case["name"].as_str().unwrap_or("?");
        let expect = case["expect"].as_str().expect("expect");
        let npm_expect = case.get("npm").and_then(Value::as_str).unwrap_or(expect);
        let ours = our_decode(&unhex(case["frame"].as_str().expect("frame")));
        let ours_outcome = if ours.is_ok() { "ok" } else { "error" };
        if theirs["outcome"] != npm_expect {
            failures.push(format!(
                "{name}: npm gave {} ({}), corpus says {npm_expect}",
                theirs["outcome"], theirs["error"]
            ));
        }
        if ours_outcome != expect {
            failures.push(format!("{name}: we gave {ours:?}, corpus says {expect}"));
        }
        if case.get("npm").is_some() {
            assert!(
                case.get("divergence").and_then(Value::as_str).is_some(),
                "{name}: a divergence says why"
            );
            diverged += 1;
            continue;
        }
        agreed += 1;
        if let Ok(ours) = ours {
            if ours != js_normalize(&theirs["packet"]) {
                failures.push(format!(
                    "{name}: packets differ\n  ours: {ours}\n  npm:  {}",
                    theirs["packet"]
                ));
            }
        }
    }
    (failures, agreed, diverged)
}

#[test]
fn agrees_with_the_official_msgpack_parser() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/msgpack-corpus.json");
    let text = std::fs::read_to_string(&path).expect("corpus");
    let corpus: Value = serde_json::from_str(&text).expect("corpus JSON");
    // The encode cases with object keys in file order.
    let ordered: Tv = serde_json::from_str(&text).expect("corpus JSON");
    let Some(Tv::Arr(encode_cases)) = ordered.get("encode") else {
        panic!("encode cases")
    };
    let cases: Vec<(String, Tv, bool)> = encode_cases
        .iter()
        .map(|c| {
            let name = match c.get("name") {
                Some(Tv::Str(s)) => s.clone(),
                _ => "?".into(),
            };
            let same = c.get("same_bytes") != Some(&Tv::Bool(false));
            (name, c.get("packet").expect("a packet").clone(), same)
        })
        .collect();
    let mut failures = check_encode_cases(&cases);

    let decode_cases = corpus["decode"].as_array().expect("decode cases");
    let npm = run_node(&json!({ "decode": decode_cases, "encode": [] }));
    let results = npm["decode"].as_array().expect("decode results");
    assert_eq!(decode_cases.len(), results.len());
    let (more, agreed, diverged) = decode_failures(decode_cases, results);
    failures.extend(more);
    assert!(
        failures.is_empty(),
        "{} disagreement(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        agreed > 60 && diverged > 15 && cases.len() > 20,
        "corpus too small: {agreed} agreed, {diverged} diverged, {} encoded",
        cases.len()
    );
}

/// A deterministic generator (xorshift64*), so that a failure can be reproduced.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        (self.next() >> 16) % n
    }

    fn string(&mut self) -> String {
        const PIECES: &[&str] = &[
            "a", "Z", "0", " ", "é", "😀", "\"", "\\", "\n", "\u{1}", "\u{7f}", "/", "ün",
        ];
        let len = match self.below(10) {
            0 => 31 + self.below(3) as usize,
            1 => 250 + self.below(10) as usize,
            _ => self.below(8) as usize,
        };
        (0..len)
            .map(|_| PIECES[self.below(PIECES.len() as u64) as usize])
            .collect()
    }

    fn number(&mut self) -> serde_json::Number {
        const EDGES: &[i64] = &[
            0,
            1,
            127,
            128,
            255,
            256,
            65535,
            65536,
            4294967295,
            4294967296,
            -1,
            -32,
            -33,
            -128,
            -129,
            -32768,
            -32769,
            -2147483648,
            -2147483649,
            9007199254740991,
            -9007199254740991,
        ];
        match self.below(4) {
            0 => EDGES[self.below(EDGES.len() as u64) as usize].into(),
            1 => (self.next() as i64 >> self.below(64))
                .clamp(-(1 << 53) + 1, (1 << 53) - 1)
                .into(),
            2 => serde_json::Number::from_f64((self.below(2_000_001) as f64 - 1e6) / 1000.0)
                .expect("finite"),
            _ => {
                // Integral doubles past 2^63 are left out: notepack wraps them (module docs).
                let f = f64::from_bits(self.next());
                let f = if !f.is_finite() || (f.fract() == 0.0 && f.abs() >= 9.2e18) {
                    0.5
                } else {
                    f
                };
                serde_json::Number::from_f64(f).expect("finite")
            }
        }
    }

    fn value(&mut self, depth: u32, binaries: &mut usize) -> Tv {
        let kinds = if depth >= 3 { 6 } else { 8 };
        match self.below(kinds) {
            0 => Tv::Null,
            1 => Tv::Bool(self.below(2) == 0),
            2 | 3 => Tv::Num(self.number()),
            4 => Tv::Str(self.string()),
            5 if *binaries < 10 => {
                *binaries += 1;
                let len = [0, 1, 3, 255, 256][self.below(5) as usize];
                Tv::Bin(Binary::from((0..len).map(|i| i as u8).collect::<Vec<u8>>()))
            }
            5 => Tv::Str(String::new()),
            6 => {
                let n = [0, 1, 2, 15, 16, 17][self.below(6) as usize];
                Tv::Arr((0..n).map(|_| self.value(depth + 1, binaries)).collect())
            }
            _ => {
                let n = [0, 1, 3, 15, 16][self.below(5) as usize];
                Tv::Obj(
                    (0..n)
                        .map(|i| {
                            (
                                format!("k{i}{}", self.string()),
                                self.value(depth + 1, binaries),
                            )
                        })
                        .collect(),
                )
            }
        }
    }

    pub(crate) fn packet(&mut self) -> Tv {
        const NSPS: &[&str] = &["/", "/", "/admin", "/ü/x"];
        let nsp = Tv::Str(NSPS[self.below(NSPS.len() as u64) as usize].into());
        let ty = self.below(5);
        let mut fields = vec![
            ("type".to_string(), Tv::Num(ty.into())),
            ("nsp".into(), nsp),
        ];
        let mut binaries = 0;
        let id = Tv::Num([0u64, 1, 127, 128, 70000, 4294967296][self.below(6) as usize].into());
        let args = |rng: &mut Self, binaries: &mut usize| {
            (0..rng.below(5))
                .map(|_| rng.value(1, binaries))
                .collect::<Vec<_>>()
        };
        match ty {
            0 if self.below(2) == 0 => {
                let Tv::Obj(o) = self.value(2, &mut 10) else {
                    return self.packet();
                };
                fields.push(("data".into(), Tv::Obj(o)));
            }
            2 => {
                let mut items = vec![Tv::Str(format!("ev{}", self.string()))];
                items.extend(args(self, &mut binaries));
                fields.push(("data".into(), Tv::Arr(items)));
                if self.below(2) == 0 {
                    fields.push(("id".into(), id));
                }
            }
            3 => {
                fields.push(("data".into(), Tv::Arr(args(self, &mut binaries))));
                fields.push(("id".into(), id));
            }
            4 => fields.push(("data".into(), Tv::Str(self.string()))),
            _ => {}
        }
        Tv::Obj(fields)
    }
}

/// Thousands of generated packets, both ways, byte for byte.
#[test]
fn generated_packets_agree_both_ways() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let cases: Vec<(String, Tv, bool)> = (0..1500)
        .map(|i| (format!("generated #{i}"), rng.packet(), true))
        .collect();
    let failures = check_encode_cases(&cases);
    assert!(
        failures.is_empty(),
        "{} disagreement(s):\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Whether `error` belongs to one of the deliberate divergences the module docs list.
fn documented_divergence(error: &DecodeError) -> bool {
    match error {
        DecodeError::InvalidMsgpack { error, .. } => matches!(
            error,
            MsgpackError::InvalidUtf8
                | MsgpackError::InvalidNamespace(_)
                | MsgpackError::InvalidAckId
                | MsgpackError::InvalidMapKey
                | MsgpackError::PlaceholderKey
                | MsgpackError::BinaryNotAllowed
                | MsgpackError::RepeatedKey
        ),
        DecodeError::InvalidPayload { found, .. } => {
            found.contains("event name")
                || *found == "an empty array"
                || *found == "an extension value"
        }
        DecodeError::ReservedEventName { .. }
        | DecodeError::TooDeep { .. }
        | DecodeError::TooManyAttachments { .. }
        | DecodeError::PacketTooLarge { .. } => true,
        _ => false,
    }
}

/// Frames from the corpus and generated packets, with bytes changed: wherever the decoders
/// disagree, this crate must be the one refusing, for a documented reason; wherever both
/// accept, they must decode the same packet.
#[test]
fn mutated_frames_differ_only_as_documented() {
    const BYTES: &[u8] = &[
        0x00, 0x01, 0x05, 0x7f, 0x80, 0x81, 0x90, 0x91, 0xa0, 0xa1, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4,
        0xc7, 0xca, 0xcb, 0xcc, 0xcf, 0xd0, 0xd3, 0xd4, 0xd7, 0xd9, 0xdc, 0xde, 0xe0, 0xff, b'/',
    ];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut seeds: Vec<Vec<u8>> = (0..200)
        .map(|_| our_frame(&rng.packet()).to_vec())
        .collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/msgpack-corpus.json");
    let corpus: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("corpus")).expect("JSON");
    seeds.extend(
        corpus["decode"]
            .as_array()
            .expect("cases")
            .iter()
            .map(|c| unhex(c["frame"].as_str().expect("frame"))),
    );
    let mut frames = Vec::new();
    for seed in &seeds {
        for _ in 0..8 {
            let mut frame = seed.clone();
            if frame.is_empty() {
                continue;
            }
            for _ in 0..=rng.below(2) {
                let at = rng.below(frame.len() as u64) as usize;
                match rng.below(3) {
                    0 => frame[at] = BYTES[rng.below(BYTES.len() as u64) as usize],
                    1 => frame[at] ^= 1 << rng.below(8),
                    _ => {
                        frame.remove(at);
                        if frame.is_empty() {
                            break;
                        }
                    }
                }
            }
            frames.push(frame);
        }
    }
    let cases: Vec<Value> = frames.iter().map(|f| json!({ "frame": hex(f) })).collect();
    let npm = run_node(&json!({ "decode": cases, "encode": [] }));
    let mut failures = Vec::new();
    let (mut both_ok, mut diverged) = (0, 0);
    for (frame, theirs) in frames
        .iter()
        .zip(npm["decode"].as_array().expect("results"))
    {
        match (our_decode(frame), theirs["outcome"].as_str()) {
            (Err(_), Some("error")) => {}
            (Err(error), _) if documented_divergence(&error) => diverged += 1,
            (Err(error), _) => {
                failures.push(format!("{}: we refuse ({error}), npm accepts", hex(frame)))
            }
            (Ok(ours), Some("ok")) => {
                both_ok += 1;
                if ours != js_normalize(&theirs["packet"]) {
                    failures.push(format!(
                        "{}: ours {ours}, npm {}",
                        hex(frame),
                        theirs["packet"]
                    ));
                }
            }
            (Ok(ours), _) => failures.push(format!(
                "{}: we accept ({ours}), npm refuses ({})",
                hex(frame),
                theirs["error"]
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} unexplained difference(s):\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        both_ok > 100 && diverged > 0,
        "{both_ok} accepted by both, {diverged} diverged"
    );
}

/// The packets the official Node server (socket.io 4.8 with socket.io-msgpack-parser, driven
/// by the official client over loopback, `tests/node/msgpack-server.js`) encodes: our frame for
/// each is the same bytes. Its CONNECT answers differ only by `pid: undefined`, which the Node
/// server adds when connection state recovery is off (module docs).
#[test]
fn frames_match_the_node_server() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate lives in the workspace root")
        .to_path_buf();
    assert!(
        root.join("tests/node/node_modules/socket.io").is_dir(),
        "the official npm packages are missing: run `npm ci --prefix tests/node`"
    );
    let output = Command::new("node")
        .arg(root.join("tests/node/msgpack-server.js"))
        .output()
        .expect("`node` must be on the PATH (Node.js 20 or later) for the differential tests");
    assert!(
        output.status.success(),
        "msgpack-server.js failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let recorded: Tv =
        serde_json::from_slice(&output.stdout).expect("msgpack-server.js prints JSON");
    let Tv::Arr(recorded) = recorded else {
        panic!("a list of packets")
    };
    let mut kinds = std::collections::BTreeSet::new();
    for entry in &recorded {
        let desc = entry.get("packet").expect("a packet");
        let Some(Tv::Str(frame)) = entry.get("frame") else {
            panic!("a frame")
        };
        let mut theirs = unhex(frame);
        let ours = our_frame(desc);
        if let Some(Tv::Num(n)) = desc.get("type") {
            kinds.insert(n.to_string());
            if n.as_u64() == Some(0) {
                let pid = b"\xa3pid\xd4\x00\x00";
                let at = theirs
                    .windows(pid.len())
                    .position(|w| w == pid)
                    .expect("the Node server's CONNECT has pid: undefined");
                theirs.drain(at..at + pid.len());
                let data = theirs
                    .windows(6)
                    .position(|w| w == b"\xa4data\x82")
                    .expect("a data map of two entries");
                theirs[data + 5] = 0x81;
            }
        }
        assert_eq!(hex(&ours), hex(&theirs), "{}", tv_to_json(desc));
        assert_eq!(
            our_decode(&unhex(frame)).expect("we decode the Node server's frame"),
            expected(desc)
        );
    }
    assert_eq!(kinds.len(), 5, "every packet type: {kinds:?}");
}
