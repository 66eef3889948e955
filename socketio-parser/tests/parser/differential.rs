//! Differential tests against the official npm `socket.io-parser` (tests/node/parser-diff.js):
//! both decode and encode the corpus `tests/data/diff-corpus.json`, and must accept, reject
//! and produce the same things, except for the cases the corpus marks as deliberate
//! divergences (where this crate is stricter; the crate docs list them).

use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use serde_json::Value;
use socketio_parser::{DecodeError, DecoderConfig, JsonError, PlaceholderError};

use crate::common::{
    decode_frames, encode_description, hex, js_normalize, packet_to_json, unhex, Frame, Tv,
};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate lives in the workspace root")
        .to_path_buf()
}

fn run_node(corpus: &Path) -> Value {
    run_node_on(corpus)
}

fn run_node_on(corpus: &Path) -> Value {
    let root = repo_root();
    let modules = root.join("tests/node/node_modules/socket.io-parser");
    assert!(
        modules.is_dir(),
        "{} is missing: the differential tests need the official npm packages. \
         Run `npm ci --prefix tests/node` in the repository root (./scripts/test-all.sh does it).",
        modules.display()
    );
    let output = Command::new("node")
        .arg(root.join("tests/node/parser-diff.js"))
        .arg(corpus)
        .output()
        .expect("`node` must be on the PATH (Node.js 20 or later) for the differential tests");
    assert!(
        output.status.success(),
        "parser-diff.js failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("parser-diff.js prints JSON")
}

fn config_of(case: &Value) -> DecoderConfig {
    let mut config = DecoderConfig::default();
    if let Some(c) = case.get("config") {
        if let Some(n) = c.get("max_packet_size").and_then(Value::as_u64) {
            config = config.with_max_packet_size(n as usize);
        }
        if let Some(n) = c.get("max_depth").and_then(Value::as_u64) {
            config = config.with_max_depth(n as usize);
        }
    }
    config
}

fn frames_of(case: &Value) -> Vec<Frame> {
    case["frames"]
        .as_array()
        .expect("frames")
        .iter()
        .map(|f| match f {
            Value::String(s) => Frame::Text(Bytes::copy_from_slice(s.as_bytes())),
            other => Frame::Binary(Bytes::from(unhex(other["bin"].as_str().expect("bin")))),
        })
        .collect()
}

#[test]
fn agrees_with_the_official_parser() {
    let corpus_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/diff-corpus.json");
    let text = std::fs::read_to_string(&corpus_path).expect("corpus");
    let corpus: Value = serde_json::from_str(&text).expect("corpus JSON");
    // The same corpus with object keys in file order, for the encode cases.
    let ordered: Tv = serde_json::from_str(&text).expect("corpus JSON");
    let npm = run_node(&corpus_path);
    let mut failures = Vec::new();
    let (mut agreed, mut diverged) = (0, 0);

    let cases = corpus["decode"].as_array().expect("decode cases");
    let results = npm["decode"].as_array().expect("decode results");
    assert_eq!(cases.len(), results.len());
    for (case, theirs) in cases.iter().zip(results) {
        let name = case["name"].as_str().unwrap_or("?");
        let expect = case["expect"].as_str().expect("expect");
        let npm_expect = case.get("npm").and_then(Value::as_str).unwrap_or(expect);
        let ours = decode_frames(frames_of(case), config_of(case));
        if theirs["outcome"] != npm_expect {
            failures.push(format!(
                "{name}: npm gave {} ({}), corpus says {npm_expect}",
                theirs["outcome"], theirs["error"]
            ));
        }
        if ours.outcome != expect {
            failures.push(format!(
                "{name}: we gave {} ({:?}), corpus says {expect}",
                ours.outcome, ours.error
            ));
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
        if ours.outcome == "error" || case.get("compare_data") == Some(&Value::Bool(false)) {
            continue;
        }
        let ours: Vec<Value> = ours
            .packets
            .iter()
            .map(|p| js_normalize(&packet_to_json(p)))
            .collect();
        let theirs: Vec<Value> = theirs["packets"]
            .as_array()
            .expect("packets")
            .iter()
            .map(js_normalize)
            .collect();
        if ours != theirs {
            failures.push(format!(
                "{name}: packets differ\n  ours: {ours:?}\n  npm:  {theirs:?}"
            ));
        }
    }

    let Some(Tv::Arr(cases)) = ordered.get("encode") else {
        panic!("encode cases")
    };
    let results = npm["encode"].as_array().expect("encode results");
    assert_eq!(cases.len(), results.len());
    for (case, theirs) in cases.iter().zip(results) {
        let name = match case.get("name") {
            Some(Tv::Str(s)) => s.as_str(),
            _ => "?",
        };
        let ours = encode_description(case.get("packet").expect("a packet"));
        let text = String::from_utf8(ours.text.to_vec()).expect("UTF-8 text");
        if Value::String(text.clone()) != theirs["text"] {
            failures.push(format!(
                "{name}: text differs\n  ours: {text}\n  npm:  {}",
                theirs["text"]
            ));
        }
        let attachments: Vec<Value> = ours
            .attachments
            .iter()
            .map(|a| Value::String(hex(a)))
            .collect();
        if Value::Array(attachments) != theirs["attachments"] {
            failures.push(format!("{name}: attachments differ"));
        }
    }

    assert!(
        failures.is_empty(),
        "{} disagreement(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        agreed > 100 && diverged > 20,
        "corpus too small: {agreed} agreed, {diverged} diverged"
    );
}

/// A deterministic generator (xorshift64*), so that a failure can be reproduced.
struct Rng(u64);

impl Rng {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let n = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33;
        items[n as usize % items.len()]
    }
}

/// Whether `error` belongs to one of the deliberate divergences the crate docs list.
fn documented_divergence(error: &DecodeError) -> bool {
    match error {
        DecodeError::MissingPlaceholder { .. }
        | DecodeError::EmptyFrame
        | DecodeError::AckIdOverflow { .. }
        | DecodeError::TooDeep { .. }
        | DecodeError::PacketTooLarge { .. } => true,
        DecodeError::UnknownType { found } => found.is_ascii_whitespace(),
        DecodeError::IllegalAttachments { reason, .. } => {
            reason.contains("room") || reason.contains("decimal digits")
        }
        DecodeError::BadPlaceholder { error, .. } => matches!(
            error,
            PlaceholderError::Repeated { .. }
                | PlaceholderError::NotAnInteger
                | PlaceholderError::Malformed
        ),
        DecodeError::InvalidJson { error, .. } => *error == JsonError::LeadingWhitespace,
        DecodeError::InvalidPayload { found, .. } => *found == "no payload",
        _ => false,
    }
}

/// Thousands of inputs built from the grammar's pieces, good and bad: wherever the two decoders
/// disagree, this crate must be the one refusing, for a documented reason; wherever both
/// accept, they must decode the same packets.
#[test]
fn grammar_built_inputs_differ_only_as_documented() {
    const TYPES: &[&str] = &["0", "1", "2", "3", "4", "5", "6", "7", "", " "];
    const ATTACHMENTS: &[&str] = &["", "", "1-", "2-", "0-", "01-", " 1-", "1", "-"];
    const NAMESPACES: &[&str] = &["", "", "/", "/a,", "/a", "/a/b,", "/\u{e9},", "/a,b,", ","];
    const ACKS: &[&str] = &["", "", "0", "12", "007", " ", "1 "];
    const PAYLOADS: &[&str] = &[
        "",
        "[]",
        "[\"a\"]",
        "[\"a\",1]",
        "[1]",
        "[1.5]",
        "[null]",
        "[\"connect\"]",
        "{}",
        "{\"a\":1}",
        "\"s\"",
        "null",
        "1",
        "[\"a\",{\"_placeholder\":true,\"num\":0}]",
        "[{\"_placeholder\":true,\"num\":0}]",
        "[\"a\",{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0}]",
        "[\"a\",{\"num\":0,\"_placeholder\":true}]",
        "[\"a\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":0}]",
        "[\"a\",{\"_placeholder\":true,\"num\":0.5}]",
        "[\"a\"",
        "[\"a\"]]",
        "[,]",
        "[\"a\" ]",
        "[ \"a\"]",
        "[\"\\u0061\"]",
        "[\"a\"]\n",
        "[\"a\",]",
        "{\"a\":[1,2,{\"b\":null}]}",
        "[[[\"x\"]]]",
        "[\"a\",{\"x\":{\"_placeholder\":true,\"num\":0}}]",
    ];
    const BINARIES: &[&str] = &["", "", "00", "00,01"];

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut cases = Vec::new();
    for _ in 0..3000 {
        let text: String = [TYPES, ATTACHMENTS, NAMESPACES, ACKS, PAYLOADS]
            .iter()
            .map(|pieces| rng.pick(pieces))
            .collect();
        let mut frames = vec![Value::String(text.clone())];
        let binaries = rng.pick(BINARIES);
        frames.extend(
            binaries
                .split(',')
                .filter(|b| !b.is_empty())
                .map(|b| serde_json::json!({ "bin": b })),
        );
        cases.push(serde_json::json!({ "name": text, "frames": frames, "expect": "ok" }));
    }
    let corpus = serde_json::json!({ "decode": cases, "encode": [] });
    let path = std::env::temp_dir().join(format!(
        "socketio-parser-grammar-{}.json",
        std::process::id()
    ));
    std::fs::write(&path, corpus.to_string()).expect("the temporary directory is writable");
    let npm = run_node_on(&path);
    let _ = std::fs::remove_file(&path);

    let mut failures = Vec::new();
    let mut diverged = 0;
    for (case, theirs) in corpus["decode"]
        .as_array()
        .expect("cases")
        .iter()
        .zip(npm["decode"].as_array().expect("results"))
    {
        let name = case["name"].as_str().unwrap_or("?");
        let ours = decode_frames(frames_of(case), DecoderConfig::default());
        match (ours.outcome, theirs["outcome"].as_str().unwrap_or("?")) {
            ("error", "error") => {}
            ("error", theirs_outcome) => {
                let error = ours.error.expect("an error outcome has an error");
                // Placeholders are checked when the text frame arrives; the reference decoder
                // checks them once the last attachment is in, so it is still waiting here.
                let early = theirs_outcome == "pending"
                    && matches!(error, DecodeError::BadPlaceholder { .. });
                if early || documented_divergence(&error) {
                    diverged += 1;
                } else {
                    failures.push(format!("{name:?}: we refuse ({error}), npm accepts"));
                }
            }
            (ours_outcome, "error") => {
                failures.push(format!(
                    "{name:?}: we accept ({ours_outcome}), npm refuses ({})",
                    theirs["error"]
                ));
            }
            (ours_outcome, theirs_outcome) => {
                let ours_packets: Vec<Value> = ours
                    .packets
                    .iter()
                    .map(|p| js_normalize(&packet_to_json(p)))
                    .collect();
                let theirs_packets: Vec<Value> = theirs["packets"]
                    .as_array()
                    .expect("packets")
                    .iter()
                    .map(js_normalize)
                    .collect();
                if ours_outcome != theirs_outcome || ours_packets != theirs_packets {
                    failures.push(format!("{name:?}: ours {ours_outcome} {ours_packets:?}, npm {theirs_outcome} {theirs_packets:?}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} unexplained difference(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        diverged > 0,
        "the generator should reach the documented divergences"
    );
}
