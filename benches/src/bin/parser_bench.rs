//! Decode and encode timings of socketio-parser, beside the same operations on the official
//! npm `socket.io-parser` (run `scripts/bench-parser.sh` for both and the table).
//!
//! Cases: `small` is the event `["chat",{"room":"r1","text":"hi"}]`; `json10k` an event with
//! about 10 KB of JSON; `binary` an event with two 1 KiB attachments.
//!
//! Operations:
//! * `decode`: text frame (and binary frames) in, complete packet out. This crate validates
//!   the JSON and keeps it as bytes; the npm decoder parses it into objects.
//! * `decode+args`: `decode`, then the event name and the arguments read into dynamic
//!   values (`Vec<socketio_parser::Value>`: objects with their keys in order, strings,
//!   numbers, bytes), the same work as the npm decoder, which hands a handler JavaScript
//!   objects: the Node figure is its `decode`, which already includes parsing.
//! * `decode+typed`: `decode`, then the event name and the arguments deserialized into the
//!   handler's Rust types (borrowed `&str` for `small`). Less work than building dynamic
//!   values (no keys to allocate), so it is not the like-for-like row; it shows what a
//!   handler with typed arguments pays. The Node figure is its `decode` again.
//! * `encode`: arguments in, text frame (and attachments) out.
//! * `msgpack decode`, `msgpack decode+args`, `msgpack decode+typed`, `msgpack encode`: the
//!   same through the MessagePack transcoder (`socketio_parser::msgpack`) beside the npm
//!   `socket.io-msgpack-parser`: one binary frame in, the packet out; arguments in, the text
//!   encoder then the transcoder, one frame out (the path of a server that encodes a
//!   broadcast once as text).
//!
//! Usage: `parser_bench [--node <results.json>] [--quick] [--cpu] [--only <case>/<op>]`.
//! `--cpu` times runs by the measuring thread's CPU time instead of the wall clock (both
//! sides, Linux only), for a machine that other work keeps busy. With `--node`, the Node figures
//! are read from that file (written by `benches/node/parser-bench.js`), the encoded texts and
//! MessagePack frames are checked to be identical, and the table shows both.

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use socketio_parser::{
    msgpack, Binary, Decoder, DecoderConfig, Encoded, Encoder, Namespace, Packet, Status, Value,
};

use benches::{measure, print_table, Plan, Row};

#[derive(Serialize, Deserialize)]
struct Chat<'a> {
    room: &'a str,
    text: &'a str,
}

#[derive(Serialize, Deserialize)]
struct Item {
    id: u32,
    name: String,
    tags: Vec<String>,
    score: f64,
    active: bool,
}

/// The same items as `items()` in `benches/node/parser-bench.js`.
fn items() -> Vec<Item> {
    (0..130)
        .map(|i| Item {
            id: i,
            name: format!("item-{i}"),
            tags: vec!["alpha".into(), "beta".into()],
            score: f64::from(i) * 1.5,
            active: i % 2 == 0,
        })
        .collect()
}

fn decode(decoder: &mut Decoder, text: &Bytes, attachments: &[Bytes]) -> Packet {
    let mut status = decoder
        .push_text(text.clone())
        .expect("bench input is valid");
    for a in attachments {
        status = decoder
            .push_binary(a.clone())
            .expect("bench input is valid");
    }
    match status {
        Status::Complete(p) => p,
        Status::NeedsAttachments(_) => unreachable!("every attachment was pushed"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let node_file = args
        .iter()
        .position(|a| a == "--node")
        .and_then(|i| args.get(i + 1));
    // `--only json10k/encode` measures one operation, e.g. under a profiler.
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1));
    let selected = |case: &str, op: &str| only.is_none_or(|o| *o == format!("{case}/{op}"));
    let plan = if quick {
        Plan {
            warmup: std::time::Duration::from_millis(20),
            run: std::time::Duration::from_millis(10),
            runs: 3,
            thread_cpu: false,
        }
    } else {
        Plan::default()
    };
    // `--cpu`: time by this thread's CPU time, for a machine busy with other work.
    let plan = Plan {
        thread_cpu: args.iter().any(|a| a == "--cpu"),
        ..plan
    };

    let mut rows = Vec::new();
    macro_rules! bench {
        ($case:expr, $op:expr, $body:expr) => {
            if selected($case, $op) {
                rows.push(row($case, $op, measure(plan, $body)));
            }
        };
    }
    let encoder = Encoder::new();
    let nsp = Namespace::main();
    let mut texts = Vec::new();
    let mut buf = BytesMut::with_capacity(64 * 1024);

    // (a) small event
    let chat = Chat {
        room: "r1",
        text: "hi",
    };
    let small = encoder
        .event(&nsp, "chat", None, &(&chat,))
        .expect("encodes");
    texts.push(("small", small.text.clone()));
    let mut decoder = Decoder::new();
    bench!("small", "decode", || decode(&mut decoder, &small.text, &[]));
    bench!("small", "decode+args", || {
        dynamic_args(&decode(&mut decoder, &small.text, &[]))
    });
    bench!("small", "decode+typed", || {
        let p = decode(&mut decoder, &small.text, &[]);
        let name_len = p.event_name().and_then(|n| n.as_str().map(str::len));
        let (c,): (Chat<'_>,) = p.args().expect("fits");
        (name_len, c.room.len() + c.text.len())
    });
    bench!("small", "encode", || {
        let atts = encoder
            .event_into(&mut buf, &nsp, "chat", None, &(&chat,))
            .expect("encodes");
        (buf.split().freeze(), atts)
    });

    // (b) about 10 KB of JSON
    let data = items();
    let big = encoder
        .event(&nsp, "data", None, &(&data,))
        .expect("encodes");
    texts.push(("json10k", big.text.clone()));
    bench!("json10k", "decode", || decode(&mut decoder, &big.text, &[]));
    bench!("json10k", "decode+args", || {
        dynamic_args(&decode(&mut decoder, &big.text, &[]))
    });
    bench!("json10k", "decode+typed", || {
        let p = decode(&mut decoder, &big.text, &[]);
        let name_len = p.event_name().and_then(|n| n.as_str().map(str::len));
        let (items,): (Vec<Item>,) = p.args().expect("fits");
        (name_len, items.len())
    });
    bench!("json10k", "encode", || {
        let atts = encoder
            .event_into(&mut buf, &nsp, "data", None, &(&data,))
            .expect("encodes");
        (buf.split().freeze(), atts)
    });

    // (c) two 1 KiB attachments
    let a = Binary::from(vec![1u8; 1024]);
    let b = Binary::from(vec![2u8; 1024]);
    let bin = encoder
        .event(&nsp, "upload", None, &(&a, &b))
        .expect("encodes");
    texts.push(("binary", bin.text.clone()));
    bench!("binary", "decode", || decode(
        &mut decoder,
        &bin.text,
        &bin.attachments
    ));
    bench!("binary", "decode+args", || {
        dynamic_args(&decode(&mut decoder, &bin.text, &bin.attachments))
    });
    bench!("binary", "decode+typed", || {
        let p = decode(&mut decoder, &bin.text, &bin.attachments);
        let name_len = p.event_name().and_then(|n| n.as_str().map(str::len));
        let (x, y): (Binary, Binary) = p.args().expect("fits");
        (name_len, x.len() + y.len())
    });
    bench!("binary", "encode", || {
        let atts = encoder
            .event_into(&mut buf, &nsp, "upload", None, &(&a, &b))
            .expect("encodes");
        (buf.split().freeze(), atts)
    });

    // The same cases through the MessagePack transcoder.
    let config = DecoderConfig::default();
    let mut frames = Vec::new();
    let cases: [(&str, &Encoded); 3] = [("small", &small), ("json10k", &big), ("binary", &bin)];
    for (case, encoded) in cases {
        let frame =
            msgpack::encode_text_packet(&encoded.text, &encoded.attachments).expect("transcodes");
        frames.push((case, frame.clone()));
        bench!(case, "msgpack decode", || msgpack::decode(
            frame.clone(),
            &config
        )
        .expect("bench input is valid"));
        bench!(case, "msgpack decode+args", || dynamic_args(
            &msgpack::decode(frame.clone(), &config).expect("bench input is valid")
        ));
        match case {
            "small" => bench!(case, "msgpack decode+typed", || {
                let p = msgpack::decode(frame.clone(), &config).expect("bench input is valid");
                let name_len = p.event_name().and_then(|n| n.as_str().map(str::len));
                let (c,): (Chat<'_>,) = p.args().expect("fits");
                (name_len, c.room.len() + c.text.len())
            }),
            "json10k" => bench!(case, "msgpack decode+typed", || {
                let p = msgpack::decode(frame.clone(), &config).expect("bench input is valid");
                let name_len = p.event_name().and_then(|n| n.as_str().map(str::len));
                let (items,): (Vec<Item>,) = p.args().expect("fits");
                (name_len, items.len())
            }),
            _ => bench!(case, "msgpack decode+typed", || {
                let p = msgpack::decode(frame.clone(), &config).expect("bench input is valid");
                let name_len = p.event_name().and_then(|n| n.as_str().map(str::len));
                let (x, y): (Binary, Binary) = p.args().expect("fits");
                (name_len, x.len() + y.len())
            }),
        }
    }
    bench!("small", "msgpack encode", || {
        let atts = encoder
            .event_into(&mut buf, &nsp, "chat", None, &(&chat,))
            .expect("encodes");
        msgpack::encode_text_packet(&buf.split(), &atts).expect("transcodes")
    });
    bench!("json10k", "msgpack encode", || {
        let atts = encoder
            .event_into(&mut buf, &nsp, "data", None, &(&data,))
            .expect("encodes");
        msgpack::encode_text_packet(&buf.split(), &atts).expect("transcodes")
    });
    bench!("binary", "msgpack encode", || {
        let atts = encoder
            .event_into(&mut buf, &nsp, "upload", None, &(&a, &b))
            .expect("encodes");
        msgpack::encode_text_packet(&buf.split(), &atts).expect("transcodes")
    });

    println!("json10k text frame: {} bytes", big.text.len());
    let Some(node_file) = node_file else {
        for r in &rows {
            println!("{:<10} {:<14} {:>10.0} ns/op", r.case, r.op, r.ns);
        }
        return;
    };
    let node: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(node_file).expect("the Node results file is readable"),
    )
    .expect("the Node results file is JSON");
    for (case, text) in &texts {
        let theirs = node["encoded"][case].as_str().unwrap_or_default();
        let same = theirs.as_bytes() == &text[..];
        println!(
            "{case}: encoded text identical to npm socket.io-parser: {}",
            if same { "yes" } else { "NO" }
        );
    }
    for (case, frame) in &frames {
        let theirs = node["msgpack"][case].as_str().unwrap_or_default();
        let same = theirs == frame.iter().map(|b| format!("{b:02x}")).collect::<String>();
        println!(
            "{case}: MessagePack frame identical to npm socket.io-msgpack-parser: {}",
            if same { "yes" } else { "NO" }
        );
    }
    let node_rows: Vec<Row> =
        serde_json::from_value(node["rows"].clone()).expect("the Node results hold rows");
    println!();
    print_table(&rows, &node_rows);
}

/// The event name and the arguments as dynamic values, as a handler that takes any
/// arguments reads them.
fn dynamic_args(p: &Packet) -> (Option<usize>, Vec<Value>) {
    let name_len = p.event_name().and_then(|n| n.as_str().map(str::len));
    (name_len, p.args().expect("any arguments are values"))
}

fn row(case: &str, op: &str, ns: f64) -> Row {
    Row {
        case: case.into(),
        op: op.into(),
        ns,
    }
}
