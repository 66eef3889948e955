//! Arbitrary bytes read as a script of client moves, application commands and
//! time jumps, run against a [`Sim`] while checking the engine's invariants.
//! The fuzz target and the property tests share it.

use std::time::Duration;

use bytes::Bytes;

use super::Sim;
use crate::{Config, Cors, Message, Method, OutboxLimits, RequestHead, RequestId, Sid, WsClosed};

/// Packets a client might send, valid and not.
const VOCABULARY: &[&str] = &[
    "2probe",
    "5",
    "3",
    "4hello",
    "1",
    "2",
    "6",
    "0",
    "bAQIDBA==",
    "b!!",
    "x",
    "",
    "4€",
    "3probe",
    "4",
];

/// Runs `script` and checks, after every step: no request answered twice, at
/// most one parked GET per session, no sid given out twice, and deadlines never
/// behind: after a session processes an input or a timeout at time `t`, its
/// next deadline is after `t`. At the end every session is
/// closed and every request must have been answered exactly once (those the
/// client aborted: at most once). Panics inside the engine propagate.
pub fn run_script(script: &[u8]) -> Result<(), String> {
    let mut bytes = Reader {
        data: script,
        at: 0,
    };
    let mut sim = Sim::with_seed(config_from(&mut bytes), u64::from(bytes.byte()));
    let mut sockets: Vec<RequestId> = Vec::new();
    let mut requests: Vec<RequestId> = Vec::new();

    while !bytes.is_done() {
        step(&mut sim, &mut bytes, &mut sockets, &mut requests);
        if let Some(v) = sim.violations().first() {
            return Err(v.clone());
        }
    }

    for sid in sim.open_sids() {
        sim.close(sid);
    }
    sim.advance(Duration::from_secs(3600));
    if !sim.open_sids().is_empty() {
        return Err(format!(
            "sessions still open after closing: {:?}",
            sim.open_sids()
        ));
    }
    if let Some(v) = sim.violations().first() {
        return Err(v.clone());
    }
    sim.check_all_answered()
}

fn config_from(bytes: &mut Reader<'_>) -> Config {
    let ms = |b: u8| Duration::from_millis(u64::from(b) * 10);
    let flags = bytes.byte();
    Config {
        ping_interval: ms(bytes.byte()),
        ping_timeout: ms(bytes.byte()),
        upgrade_timeout: ms(bytes.byte()),
        close_timeout: ms(bytes.byte()),
        max_payload: 16 + usize::from(bytes.byte()) * 4,
        allow_upgrades: flags & 1 == 0,
        cors: (flags & 2 != 0).then(Cors::any_origin),
        max_sessions: (flags & 4 != 0).then_some(3),
        outbox: OutboxLimits {
            max_packets: 1 + usize::from(bytes.byte() % 16),
            max_bytes: 64,
        },
        ..Config::default()
    }
}

fn step(
    sim: &mut Sim,
    bytes: &mut Reader<'_>,
    sockets: &mut Vec<RequestId>,
    requests: &mut Vec<RequestId>,
) {
    let pick_sid = |sim: &Sim, b: u8| -> Option<Sid> {
        let sids = sim.open_sids();
        (!sids.is_empty()).then(|| sids[usize::from(b) % sids.len()])
    };
    match bytes.byte() % 16 {
        0 => {
            let id = sim.request(RequestHead::new(Method::Get, "EIO=4&transport=polling"));
            requests.push(id);
        }
        1 => {
            let mut head = RequestHead::new(Method::Get, "EIO=4&transport=websocket");
            head.websocket_upgrade = true;
            let id = sim.request(head);
            requests.push(id);
            sockets.push(id);
        }
        2 => {
            if let Some(sid) = pick_sid(sim, bytes.byte()) {
                requests.push(sim.poll(sid));
            }
        }
        3 => {
            if let Some(sid) = pick_sid(sim, bytes.byte()) {
                let body = packets(bytes);
                requests.push(sim.post(sid, body));
            }
        }
        4 => {
            if let Some(sid) = pick_sid(sim, bytes.byte()) {
                let mut head =
                    RequestHead::new(Method::Post, format!("EIO=4&transport=polling&sid={sid}"));
                head.content_length = Some(u64::from(bytes.byte()) * 2);
                requests.push(sim.request(head));
            }
        }
        5 => {
            if let Some(&id) = pick(requests, bytes.byte()) {
                let body = packets(bytes);
                sim.send_body(id, body);
            }
        }
        6 => {
            if let Some(sid) = pick_sid(sim, bytes.byte()) {
                let id = sim.upgrade_request(sid);
                requests.push(id);
                sockets.push(id);
            }
        }
        7 => {
            if let Some(&socket) = pick(sockets, bytes.byte()) {
                let word = VOCABULARY[usize::from(bytes.byte()) % VOCABULARY.len()];
                sim.ws_text(socket, word);
            }
        }
        8 => {
            if let Some(&socket) = pick(sockets, bytes.byte()) {
                let len = usize::from(bytes.byte() % 8);
                sim.ws_message(socket, Message::Binary(Bytes::from(vec![7; len])));
            }
        }
        9 => {
            if let Some(&socket) = pick(sockets, bytes.byte()) {
                let how = [WsClosed::ByPeer, WsClosed::MessageTooLarge, WsClosed::Error]
                    [usize::from(bytes.byte()) % 3];
                sim.ws_closed(socket, how);
            }
        }
        10 => {
            if let Some(&id) = pick(requests, bytes.byte()) {
                sim.abort(id);
            }
        }
        11 => {
            if let Some(sid) = pick_sid(sim, bytes.byte()) {
                let len = usize::from(bytes.byte() % 24);
                let message = if len % 2 == 0 {
                    Message::Text(Bytes::from("x".repeat(len)))
                } else {
                    Message::Binary(Bytes::from(vec![1; len]))
                };
                let _ = sim.send(sid, message);
            }
        }
        12 => {
            if let Some(sid) = pick_sid(sim, bytes.byte()) {
                sim.close(sid);
            }
        }
        13 | 14 => {
            let ms = u64::from(bytes.byte()) * 8 + u64::from(bytes.byte() % 8);
            sim.advance(Duration::from_millis(ms));
        }
        _ => {
            let ms = u64::from(bytes.byte()) * 4;
            sim.advance_clock_only(Duration::from_millis(ms));
        }
    }
}

/// A payload of one to four packets from the vocabulary, or raw script bytes.
fn packets(bytes: &mut Reader<'_>) -> Bytes {
    let n = bytes.byte();
    if n & 0x80 != 0 {
        return Bytes::copy_from_slice(bytes.take(usize::from(n & 0x1f)));
    }
    let words: Vec<&str> = (0..=n % 4)
        .map(|_| VOCABULARY[usize::from(bytes.byte()) % VOCABULARY.len()])
        .collect();
    Bytes::from(words.join("\x1e"))
}

fn pick<T>(items: &[T], b: u8) -> Option<&T> {
    (!items.is_empty()).then(|| &items[usize::from(b) % items.len()])
}

/// Reads the script; past its end every byte is zero.
struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    fn take(&mut self, n: usize) -> &[u8] {
        let start = self.at.min(self.data.len());
        let end = (self.at + n).min(self.data.len());
        self.at += n;
        &self.data[start..end]
    }

    fn is_done(&self) -> bool {
        self.at >= self.data.len()
    }
}
