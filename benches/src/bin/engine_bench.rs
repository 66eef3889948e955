//! Engine.IO state machine throughput: handshakes per second, and polling
//! payload decode/encode and WebSocket message rates, on one core with no I/O.
//!
//! `./scripts/bench-engine.sh` (or `cargo run --release -p benches --bin engine_bench`)

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use engineio::{
    Config, CountingSidGenerator, Event, Message, Method, RequestHead, RequestId, Routed, Server,
    Session, Transmit,
};

/// Runs `op` in batches until `budget` has passed; returns the median
/// nanoseconds per operation over the batches.
fn measure(budget: Duration, batch: u64, mut op: impl FnMut()) -> f64 {
    for _ in 0..batch {
        op(); // warm up
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || samples.len() < 5 {
        let t = Instant::now();
        for _ in 0..batch {
            op();
        }
        samples.push(t.elapsed().as_nanos() as f64 / batch as f64);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).expect("timings are finite"));
    samples[samples.len() / 2]
}

fn open(server: &mut Server, now: Instant, id: u64) -> Box<Session> {
    let head = RequestHead::new(Method::Get, "EIO=4&transport=polling");
    let Routed::Opened(mut session) = server.handle_request(now, RequestId(id), &head) else {
        panic!("handshake refused")
    };
    while session.poll_transmit().is_some() {}
    while session.poll_event().is_some() {}
    session
}

fn route(
    server: &mut Server,
    now: Instant,
    id: u64,
    head: &RequestHead,
) -> engineio::SessionRequest {
    match server.handle_request(now, RequestId(id), head) {
        Routed::Session(r) => r,
        other => panic!("not routed to the session: {other:?}"),
    }
}

fn main() {
    let budget = Duration::from_millis(
        std::env::var("BENCH_MS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1500),
    );
    let now = Instant::now();
    let mut rows: Vec<(String, f64, Option<f64>)> = Vec::new();

    // Handshakes: route, open the session, encode the open packet.
    {
        let mut server = Server::new(Config::default(), CountingSidGenerator::new(1));
        let mut id = 0;
        let ns = measure(budget, 10_000, || {
            id += 1;
            let s = open(&mut server, now, id);
            server.handle_session_closed(now, &s);
            black_box(s);
        });
        rows.push(("polling handshake".into(), ns, None));
        let mut ws_head = RequestHead::new(Method::Get, "EIO=4&transport=websocket");
        ws_head.websocket_upgrade = true;
        let ns = measure(budget, 10_000, || {
            id += 1;
            let Routed::Opened(mut s) = server.handle_request(now, RequestId(id), &ws_head) else {
                panic!()
            };
            while let Some(t) = s.poll_transmit() {
                black_box(t);
            }
            server.handle_session_closed(now, &s);
        });
        rows.push(("websocket handshake".into(), ns, None));
    }

    // Polling POST decode: 100 text messages of 64 bytes and 10 binary of 1 KiB.
    {
        let mut server = Server::new(Config::default(), CountingSidGenerator::new(2));
        let mut session = open(&mut server, now, 1);
        let sid = session.sid();
        let mut packets: Vec<String> = (0..100).map(|i| format!("4{:063}", i)).collect();
        let b64 = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(vec![0xabu8; 1024])
        };
        packets.extend((0..10).map(|_| format!("b{b64}")));
        let body = Bytes::from(packets.join("\x1e"));
        let head = RequestHead::new(Method::Post, format!("EIO=4&transport=polling&sid={sid}"));
        let mut id = 1;
        let ns = measure(budget, 1_000, || {
            id += 1;
            let r = route(&mut server, now, id, &head);
            session.handle_request(now, r);
            session.handle_body(now, RequestId(id), body.clone());
            while let Some(e) = session.poll_event() {
                black_box(e);
            }
            while let Some(t) = session.poll_transmit() {
                black_box(t);
            }
        });
        let mb_s = body.len() as f64 / ns * 1e3;
        rows.push((
            format!("POST decode ({} B, 110 packets)", body.len()),
            ns,
            Some(mb_s),
        ));
    }

    // Polling GET encode: 100 queued text messages of 64 bytes and 10 binary of 1 KiB.
    {
        let mut server = Server::new(Config::default(), CountingSidGenerator::new(3));
        let mut session = open(&mut server, now, 1);
        let sid = session.sid();
        let text = Bytes::from(vec![b'x'; 64]);
        let bin = Bytes::from(vec![0xab; 1024]);
        let head = RequestHead::new(Method::Get, format!("EIO=4&transport=polling&sid={sid}"));
        let mut id = 1;
        let mut body_len = 0;
        let ns = measure(budget, 1_000, || {
            for _ in 0..100 {
                session.send_text(text.clone()).unwrap();
            }
            for _ in 0..10 {
                session.send_binary(bin.clone()).unwrap();
            }
            id += 1;
            let r = route(&mut server, now, id, &head);
            session.handle_request(now, r);
            while let Some(t) = session.poll_transmit() {
                if let Transmit::Respond { response, .. } = &t {
                    body_len = response.body.len();
                }
                black_box(t);
            }
        });
        let mb_s = body_len as f64 / ns * 1e3;
        rows.push((
            format!("GET encode ({body_len} B, 110 packets)"),
            ns,
            Some(mb_s),
        ));
    }

    // WebSocket: one text message in, one out.
    {
        let mut server = Server::new(Config::default(), CountingSidGenerator::new(4));
        let mut head = RequestHead::new(Method::Get, "EIO=4&transport=websocket");
        head.websocket_upgrade = true;
        let Routed::Opened(mut session) = server.handle_request(now, RequestId(1), &head) else {
            panic!()
        };
        while session.poll_transmit().is_some() {}
        while session.poll_event().is_some() {}
        let inbound = Bytes::from_static(b"4{\"room\":\"r1\",\"text\":\"hi\"}");
        let ns = measure(budget, 100_000, || {
            session.handle_ws_message(now, RequestId(1), Message::Text(inbound.clone()));
            while let Some(e) = session.poll_event() {
                if let Event::Message(Message::Text(t)) = e {
                    session.send_text(t).unwrap();
                }
            }
            while let Some(t) = session.poll_transmit() {
                black_box(t);
            }
        });
        rows.push(("websocket message in + echo out".into(), ns, None));
    }

    println!("| engineio operation | ns/op | ops/s | MB/s |");
    println!("|---|---:|---:|---:|");
    for (name, ns, mb) in rows {
        let mb = mb.map(|m| format!("{m:.0}")).unwrap_or_else(|| "-".into());
        println!("| {name} | {ns:.0} | {:.0} | {mb} |", 1e9 / ns);
    }
}
