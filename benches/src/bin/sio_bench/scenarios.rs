//! The scenarios. Each one runs against one server process and returns an [`Outcome`].
//!
//! What counts as one *message* in each, for throughput and CPU per 1,000 messages:
//!
//! | scenario | message | latency |
//! |---|---|---|
//! | `ack` | one round trip: `42N["echo-ack",<64-byte string>]` in, `43N[...]` out | send to ack |
//! | `fanout` | one `broadcast` event delivered to one of the 1,000 room members | send to delivery |
//! | `binary` | one round trip carrying one 1 KiB attachment each way | send to ack + attachment |
//! | `polling` | one round trip over long-polling (a POST in, the ack on the parked GET) | POST to ack |
//! | `idle` | one connection opened and held (CPU per 1,000 is the cost of opening them) | connect to `40{sid}` |
//! | `connect` | one connection: WebSocket handshake, Engine.IO open, `40` → `40{sid}`, close | connect to `40{sid}` |
//!
//! The scaling scenarios repeat three of them with more of the thing that grows, to compare
//! each server's cost per message with its own in the base scenario:
//!
//! | scenario | as | what grows | message |
//! |---|---|---|---|
//! | `ack-1k`, `ack-10k` | `ack` | 900 or 9,900 more connections, idle (they answer pings, and the server must send them nothing else) beside the 100 active ones | one round trip |
//! | `fanout-10k` | `fanout` | the room: 10,000 members | one delivery |
//! | `fanout-rooms` | `fanout` | the rooms: 100 rooms of 100 members, one sender per room keeping 4 broadcasts of its room in flight (as many per member as `fanout`); each room's data carries its number, so a delivery from another room is an error | one delivery |
//! | `connect-20k` | `connect` | the connections held: 20,000 (fewer if the open-files limit says so) opened 50 at a time like `connect`'s, none closed; the server's CPU is also read after the first and before the last quarter of them, to compare the cost of a connection opened beside 15,000 others with one opened beside none | one connection opened |
//!
//! Connections of the scenarios that open many come from [`source_for`]'s loopback
//! addresses, at most [`OPENING`] being opened at a time, and are held by [`hold`].
//!
//! Every answer is compared byte for byte with what the reference server sends; anything
//! else is counted as an error and the client that got it stops.

use std::cell::RefCell;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{Notify, Semaphore};

use crate::harness::{self, Shared, Tally, Window, MEASURE};
use crate::hist::Hist;
use crate::procfs;
use crate::sio::{packets, Msg, SioPolling, SioWs};

/// The 64-byte string argument of `ack`, `polling` and `fanout` (plain ASCII: no escapes).
const PAYLOAD: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";

/// Size of the `binary` attachment.
const ATTACHMENT: usize = 1024;

/// The room of `fanout` (one room); with more, room `r` is `fanout-r`.
const ROOM: &str = "fanout";

/// Connections being opened at once while a scenario sets up many (every server's listen
/// backlog takes that many without dropping a SYN).
const OPENING: usize = 128;

/// Longest wait for one connection to be established.
const CONNECT_LIMIT: Duration = Duration::from_secs(20);

/// Longest wait for every client of a scenario to be connected.
const SETUP_LIMIT: Duration = Duration::from_secs(300);

/// How a scenario is run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) addr: SocketAddr,
    pub(crate) server_pid: u32,
    pub(crate) warmup: Duration,
    pub(crate) measure: Duration,
    /// Client threads (each a single-threaded runtime).
    pub(crate) threads: usize,
    /// Connections of `idle`.
    pub(crate) idle_connections: usize,
    /// Connections of `connect-20k`.
    pub(crate) held_connections: usize,
    /// Broadcasts `fanout` keeps in flight to each room.
    pub(crate) fanout_window: u64,
    /// A second server of the same cluster (`fanout-redis`): its address and process id.
    /// Half the room's members connect to it; CPU is the two servers' together.
    pub(crate) peer: Option<(SocketAddr, u32)>,
}

impl Plan {
    /// The process ids whose CPU time a run counts.
    pub(crate) fn pids(&self) -> Vec<u32> {
        std::iter::once(self.server_pid)
            .chain(self.peer.map(|(_, pid)| pid))
            .collect()
    }
}

/// What one scenario measured against one server.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) clients: usize,
    pub(crate) window: Window,
    pub(crate) hist: Hist,
    pub(crate) peak_kib: u64,
    pub(crate) idle: Option<IdleMemory>,
    /// `connect-20k`: the server's CPU over the first and the last quarter of the connections.
    pub(crate) quarters: Option<Quarters>,
    pub(crate) errors: u64,
    pub(crate) first_error: Option<String>,
}

/// Resident memory of the server before and after opening the idle connections.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdleMemory {
    pub(crate) connections: usize,
    pub(crate) base_kib: u64,
    pub(crate) loaded_kib: u64,
}

/// The server's CPU time over two stretches of the connections a run opened and held.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Quarters {
    /// Connections opened in the first stretch, and the server's CPU seconds meanwhile.
    pub(crate) first: (usize, f64),
    /// The same for the last stretch.
    pub(crate) last: (usize, f64),
    /// Whether both were read from the threads' nanoseconds (else from `/proc/PID/stat`'s
    /// ticks, when a thread of the server ended meanwhile).
    pub(crate) per_thread: bool,
}

/// What `connect-20k` reads at each mark: the CPU times, and each server thread's in
/// nanoseconds.
#[derive(Debug, Clone)]
struct Reading {
    snapshot: harness::Snapshot,
    threads: Vec<(u32, u64)>,
}

impl Reading {
    fn take(pids: &[u32]) -> std::io::Result<Reading> {
        let mut threads = Vec::new();
        for &pid in pids {
            // Thread ids are unique across processes.
            threads.extend(procfs::thread_cpu_ns(pid)?);
        }
        Ok(Reading {
            snapshot: harness::Snapshot::take(pids)?,
            threads,
        })
    }
}

type Result<T> = std::result::Result<T, String>;

fn io_err(e: std::io::Error) -> String {
    e.to_string()
}

fn finish(
    plan: &Plan,
    shared: &Shared,
    clients: usize,
    window: Window,
    tally: Tally,
    idle: Option<IdleMemory>,
) -> Result<Outcome> {
    let (errors, first_error) = shared.errors();
    let peak_kib = procfs::memory(plan.server_pid).map_err(io_err)?.peak_kib;
    Ok(Outcome {
        clients,
        window,
        hist: tally.hist,
        peak_kib,
        idle,
        quarters: None,
        errors,
        first_error,
    })
}

/// Splits `total` clients over `threads`: how many thread `i` runs.
fn share(total: usize, threads: usize, i: usize) -> usize {
    total / threads + usize::from(i < total % threads)
}

fn record(shared: &Shared, tally: &RefCell<Tally>, start: Instant) {
    if shared.measuring() {
        tally
            .borrow_mut()
            .hist
            .record(start.elapsed().as_nanos() as u64);
    }
}

async fn connect_ws(
    shared: &Shared,
    addr: SocketAddr,
    source: Option<Ipv4Addr>,
    seed: u64,
) -> Option<SioWs> {
    match tokio::time::timeout(CONNECT_LIMIT, SioWs::connect(addr, source, seed)).await {
        Ok(Ok(conn)) => Some(conn),
        Ok(Err(e)) => {
            shared.error(format!("connect: {e}"));
            None
        }
        Err(_) => {
            shared.error("connect: timed out");
            None
        }
    }
}

/// The next Socket.IO text packet; a binary message here is an error.
async fn next_text(conn: &mut SioWs) -> std::io::Result<Bytes> {
    match conn.recv().await? {
        Msg::Text(t) => Ok(t),
        Msg::Binary(_) => Err(std::io::Error::other("unexpected binary message")),
    }
}

/// The loopback source address of connection `i`: 1,000 connections per address, from
/// 127.0.0.2 on (127.0.0.2 to 127.0.0.251, then 127.0.1.2 ...), so that no address runs out
/// of ephemeral ports.
fn source_for(i: usize) -> Ipv4Addr {
    let n = i / 1000;
    Ipv4Addr::new(127, 0, (n / 250) as u8, 2 + (n % 250) as u8)
}

/// Opens connection number `i` of a scenario, from [`source_for`]`(i)`, once one of the
/// `opening` permits is free; records the time it took from then (counted only in a measured
/// phase).
async fn open(
    shared: &Shared,
    tally: &RefCell<Tally>,
    opening: &Semaphore,
    addr: SocketAddr,
    i: usize,
) -> Option<SioWs> {
    let _permit = opening.acquire().await.expect("never closed");
    let start = Instant::now();
    let conn = connect_ws(shared, addr, Some(source_for(i)), i as u64).await?;
    record(shared, tally, start);
    Some(conn)
}

/// Holds a connection that asked for nothing until the run stops: heartbeats are answered
/// inside `recv`; anything else the server sends, or the connection's end, is an error.
async fn hold(shared: &Shared, mut conn: SioWs) {
    let what = match conn.recv().await {
        Ok(Msg::Text(t)) => format!("an idle connection got {:?}", String::from_utf8_lossy(&t)),
        Ok(Msg::Binary(_)) => "an idle connection got a binary message".to_owned(),
        Err(e) => format!("idle connection lost: {e}"),
    };
    shared.error(what);
}

// ----- ack and binary: round trips over WebSocket ----------------------------------------

/// `active` connections, each sending `echo-ack` and waiting for its answer, again and again,
/// beside `idle` connections held open doing nothing (`ack-1k`, `ack-10k`).
pub(crate) fn ack(plan: &Plan, active: usize, idle: usize, binary: bool) -> Result<Outcome> {
    let shared = Shared::new();
    let addr = plan.addr;
    let clients = active + idle;
    let threads = plan.threads.min(clients).max(1);
    let handles = harness::spawn_clients(threads, &shared, move |t, shared, tally| async move {
        let local = tokio::task::LocalSet::new();
        let opening = Rc::new(Semaphore::new(OPENING));
        // Connection i of all is on thread i % threads; the first `active` are the active ones.
        for i in (t..clients).step_by(threads) {
            let (shared, tally, opening) = (shared.clone(), tally.clone(), opening.clone());
            local.spawn_local(async move {
                let Some(conn) = open(&shared, &tally, &opening, addr, i).await else {
                    return;
                };
                shared.ready.fetch_add(1, Ordering::AcqRel);
                if i >= active {
                    hold(&shared, conn).await;
                } else if let Err(e) = ack_client(&shared, &tally, conn, i as u64, binary).await {
                    shared.error(e);
                }
            });
        }
        local.await;
    });
    let ready = harness::wait_ready(&shared, clients, SETUP_LIMIT);
    let window = if ready {
        harness::warm_and_measure(&shared, &plan.pids(), plan.warmup, plan.measure)
    } else {
        Err(std::io::Error::other("clients did not connect"))
    };
    let tally = harness::join_clients(&shared, handles);
    let window = window.map_err(|e| with_first_error(&shared, e))?;
    finish(plan, &shared, clients, window, tally, None)
}

fn with_first_error(shared: &Shared, e: std::io::Error) -> String {
    match shared.errors().1 {
        Some(first) => format!("{e} (first error: {first})"),
        None => e.to_string(),
    }
}

async fn ack_client(
    shared: &Shared,
    tally: &RefCell<Tally>,
    mut conn: SioWs,
    seed: u64,
    binary: bool,
) -> std::result::Result<(), String> {
    let mut text = Vec::with_capacity(128);
    let mut expect = Vec::with_capacity(128);
    let mut blob: Vec<u8> = (0..ATTACHMENT).map(|i| (i as u64 ^ seed) as u8).collect();
    for id in 1u64.. {
        text.clear();
        expect.clear();
        if binary {
            let _ = write!(
                text,
                "451-{id}[\"echo-ack\",{{\"_placeholder\":true,\"num\":0}}]"
            );
            let _ = write!(expect, "61-{id}[{{\"_placeholder\":true,\"num\":0}}]");
            blob[..8].copy_from_slice(&id.to_le_bytes());
        } else {
            let _ = write!(text, "42{id}[\"echo-ack\",\"{PAYLOAD}\"]");
            let _ = write!(expect, "3{id}[\"{PAYLOAD}\"]");
        }
        let start = Instant::now();
        conn.queue_text(&text);
        if binary {
            conn.queue_binary(&blob);
        }
        conn.flush().await.map_err(|e| format!("send: {e}"))?;
        let reply = next_text(&mut conn)
            .await
            .map_err(|e| format!("receive: {e}"))?;
        if reply[..] != expect[..] {
            return Err(format!(
                "expected {:?}, got {:?}",
                String::from_utf8_lossy(&expect),
                String::from_utf8_lossy(&reply)
            ));
        }
        if binary {
            match conn.recv().await.map_err(|e| format!("receive: {e}"))? {
                Msg::Binary(b) if b[..] == blob[..] => {}
                Msg::Binary(_) => return Err("the attachment came back changed".into()),
                Msg::Text(t) => {
                    return Err(format!(
                        "expected the attachment, got {:?}",
                        String::from_utf8_lossy(&t)
                    ))
                }
            }
        }
        record(shared, tally, start);
    }
    Ok(())
}

// ----- polling: round trips over long-polling ---------------------------------------------

/// `clients` long-polling sessions, each keeping one GET parked and POSTing `echo-ack`.
pub(crate) fn polling(plan: &Plan, clients: usize) -> Result<Outcome> {
    let shared = Shared::new();
    let addr = plan.addr;
    let threads = plan.threads.min(clients).max(1);
    let handles = harness::spawn_clients(threads, &shared, move |t, shared, tally| async move {
        let local = tokio::task::LocalSet::new();
        for _ in 0..share(clients, threads, t) {
            let (shared, tally) = (shared.clone(), tally.clone());
            local.spawn_local(async move {
                if let Err(e) = polling_client(&shared, &tally, addr).await {
                    shared.error(e);
                }
            });
        }
        local.await;
    });
    let ready = harness::wait_ready(&shared, clients, SETUP_LIMIT);
    let window = if ready {
        harness::warm_and_measure(&shared, &plan.pids(), plan.warmup, plan.measure)
    } else {
        Err(std::io::Error::other("clients did not connect"))
    };
    let tally = harness::join_clients(&shared, handles);
    let window = window.map_err(|e| with_first_error(&shared, e))?;
    finish(plan, &shared, clients, window, tally, None)
}

async fn polling_client(
    shared: &Arc<Shared>,
    tally: &RefCell<Tally>,
    addr: SocketAddr,
) -> std::result::Result<(), String> {
    let conn = match tokio::time::timeout(CONNECT_LIMIT, SioPolling::connect(addr)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => return Err(format!("connect: {e}")),
        Err(_) => return Err("connect: timed out".into()),
    };
    let SioPolling {
        mut get,
        mut post,
        path,
    } = conn;
    shared.ready.fetch_add(1, Ordering::AcqRel);
    // The GET loop: one request always parked, its packets handed to the sender.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
    let reader = {
        let path = path.clone();
        let shared = shared.clone();
        tokio::task::spawn_local(async move {
            loop {
                match get.get(&path).await {
                    Ok((200, body)) => {
                        for packet in packets(&body) {
                            if tx.send(packet).is_err() {
                                return;
                            }
                        }
                    }
                    Ok((status, body)) => {
                        shared.error(format!(
                            "GET answered {status} {:?}",
                            String::from_utf8_lossy(&body)
                        ));
                        return;
                    }
                    Err(e) => {
                        shared.error(format!("GET: {e}"));
                        return;
                    }
                }
            }
        })
    };
    let result = async {
        let mut text = Vec::with_capacity(128);
        let mut expect = Vec::with_capacity(128);
        for id in 1u64.. {
            text.clear();
            expect.clear();
            let _ = write!(text, "42{id}[\"echo-ack\",\"{PAYLOAD}\"]");
            let _ = write!(expect, "43{id}[\"{PAYLOAD}\"]");
            let start = Instant::now();
            post_ok(&mut post, &path, &text).await?;
            loop {
                let packet = rx.recv().await.ok_or("the GET loop ended")?;
                match packet.first() {
                    Some(b'4') if packet[..] == expect[..] => break,
                    Some(b'2') => post_ok(&mut post, &path, b"3").await?,
                    Some(b'6') => {}
                    _ => {
                        return Err(format!(
                            "expected {:?}, got {:?}",
                            String::from_utf8_lossy(&expect),
                            String::from_utf8_lossy(&packet)
                        ))
                    }
                }
            }
            record(shared, tally, start);
        }
        Ok(())
    }
    .await;
    reader.abort();
    result
}

async fn post_ok(
    post: &mut crate::http::HttpClient,
    path: &str,
    body: &[u8],
) -> std::result::Result<(), String> {
    match post.post(path, body).await {
        Ok((200, _)) => Ok(()),
        Ok((status, body)) => Err(format!(
            "POST answered {status} {:?}",
            String::from_utf8_lossy(&body)
        )),
        Err(e) => Err(format!("POST: {e}")),
    }
}

// ----- fanout: senders, rooms of receivers ---------------------------------------------------

/// One room of a fan-out: what its members and its sender share.
#[derive(Debug, Default)]
struct Room {
    /// Deliveries so far (every phase).
    delivered: AtomicU64,
    /// Members that got at least one broadcast.
    reached: AtomicUsize,
    /// Rung whenever deliveries complete another broadcast's worth.
    progress: Notify,
}

/// What the fan-out senders and receivers share.
#[derive(Debug)]
struct Fanout {
    rooms: Vec<Room>,
    /// Senders that saw every member of their room reached and send the measured load now.
    primed: AtomicUsize,
}

/// The name of room `r` of `rooms`.
fn room_name(rooms: usize, r: usize) -> String {
    if rooms == 1 {
        ROOM.to_owned()
    } else {
        format!("{ROOM}-{r}")
    }
}

/// The 64-byte padding broadcast to room `r` of `rooms`: [`PAYLOAD`] with one room, and
/// with more, its first three characters replaced by the room's number, so that a member
/// can tell its own room's broadcasts from another's by their bytes.
fn room_pad(rooms: usize, r: usize) -> String {
    if rooms == 1 {
        PAYLOAD.to_owned()
    } else {
        format!("{:03}{}", r % 1000, &PAYLOAD[3..])
    }
}

/// `rooms` rooms of `members` connections each; one more connection per room (not in it)
/// sends `broadcast` events to its room, keeping at most `fanout_window` broadcasts' worth of
/// deliveries outstanding. Each event carries its send time; every receiver records the
/// delay.
pub(crate) fn fanout(plan: &Plan, rooms: usize, members: usize) -> Result<Outcome> {
    let shared = Shared::new();
    let addr = plan.addr;
    let peer = plan.peer.map(|(peer, _)| peer);
    let receivers = rooms * members;
    let window = plan.fanout_window;
    let threads = plan.threads.max(1);
    let fan = Arc::new(Fanout {
        rooms: (0..rooms).map(|_| Room::default()).collect(),
        primed: AtomicUsize::new(0),
    });
    let handles = {
        let fan = fan.clone();
        harness::spawn_clients(threads, &shared, move |t, shared, tally| {
            let fan = fan.clone();
            async move {
                let local = tokio::task::LocalSet::new();
                let opening = Rc::new(Semaphore::new(OPENING));
                // Receiver i is a member of room i % rooms, on thread i % threads.
                for i in (t..receivers).step_by(threads) {
                    let (shared, tally, fan) = (shared.clone(), tally.clone(), fan.clone());
                    let opening = opening.clone();
                    // With a second server, every other member of a room connects to it.
                    let addr = match peer {
                        Some(peer) if (i / rooms) % 2 == 1 => peer,
                        _ => addr,
                    };
                    local.spawn_local(async move {
                        let Some(conn) = open(&shared, &tally, &opening, addr, i).await else {
                            return;
                        };
                        let room = i % rooms;
                        let result = receiver(&shared, &tally, &fan, conn, rooms, room, members);
                        if let Err(e) = result.await {
                            shared.error(e);
                        }
                    });
                }
                for r in (t..rooms).step_by(threads) {
                    let (shared, fan) = (shared.clone(), fan.clone());
                    local.spawn_local(async move {
                        let conn = connect_ws(
                            &shared,
                            addr,
                            Some(source_for(receivers + r)),
                            u64::MAX - r as u64,
                        )
                        .await;
                        let Some(conn) = conn else {
                            return;
                        };
                        let result = sender(&shared, &fan, conn, rooms, r, members, window);
                        if let Err(e) = result.await {
                            shared.error(e);
                        }
                    });
                }
                local.await;
            }
        })
    };
    let ready = harness::wait_ready(&shared, receivers + rooms, SETUP_LIMIT) && {
        let start = Instant::now();
        while fan.primed.load(Ordering::Acquire) < rooms
            && shared.errors().0 == 0
            && start.elapsed() < SETUP_LIMIT
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        fan.primed.load(Ordering::Acquire) == rooms
    };
    let measured = if ready {
        harness::warm_and_measure(&shared, &plan.pids(), plan.warmup, plan.measure)
    } else {
        Err(std::io::Error::other("the rooms were not set up"))
    };
    let tally = harness::join_clients(&shared, handles);
    let measured = measured.map_err(|e| with_first_error(&shared, e))?;
    finish(plan, &shared, receivers, measured, tally, None)
}

async fn receiver(
    shared: &Shared,
    tally: &RefCell<Tally>,
    fan: &Fanout,
    mut conn: SioWs,
    rooms: usize,
    room: usize,
    members: usize,
) -> std::result::Result<(), String> {
    let join = format!("42[\"join\",\"{}\"]", room_name(rooms, room));
    conn.queue_text(join.as_bytes());
    conn.flush().await.map_err(|e| format!("send: {e}"))?;
    shared.ready.fetch_add(1, Ordering::AcqRel);
    let state = &fan.rooms[room];
    let pad = format!("\"pad\":\"{}\"", room_pad(rooms, room));
    let mut reached = false;
    loop {
        // Until the first broadcast arrives, the join is repeated every half second: a
        // server may drop an event that arrives before its connect handler registered the
        // event's handler (socketioxide runs that handler after answering the CONNECT).
        let text = if reached {
            next_text(&mut conn).await
        } else {
            match tokio::time::timeout(Duration::from_millis(500), next_text(&mut conn)).await {
                Ok(text) => text,
                Err(_) => {
                    conn.queue_text(join.as_bytes());
                    conn.flush().await.map_err(|e| format!("send: {e}"))?;
                    continue;
                }
            }
        };
        let text = text.map_err(|e| format!("receive: {e}"))?;
        let now = shared.base.elapsed().as_nanos() as u64;
        // The data object comes back with its keys in either order: a server that parses
        // it into a map (serde_json's `Value`) writes them sorted.
        let sent = broadcast_time(&text, pad.as_bytes()).ok_or_else(|| {
            format!(
                "expected a broadcast to room {room}, got {:?}",
                String::from_utf8_lossy(&text)
            )
        })?;
        if !reached {
            reached = true;
            state.reached.fetch_add(1, Ordering::AcqRel);
        }
        if shared.measuring() {
            tally.borrow_mut().hist.record(now.saturating_sub(sent));
        }
        let delivered = state.delivered.fetch_add(1, Ordering::AcqRel) + 1;
        if delivered % members as u64 == 0 {
            state.progress.notify_one();
        }
    }
}

/// The send time in a `broadcast` event `2["broadcast",{"t":..,"pad":".."}]`, if it is one
/// and carries the expected padding. A server with connection state recovery on appends
/// the event's offset as a last argument (`...},"123"]`): it is skipped.
fn broadcast_time(text: &[u8], pad: &[u8]) -> Option<u64> {
    let rest = text.strip_prefix(&b"2[\"broadcast\",{"[..])?;
    let body = match rest.strip_suffix(&b"}]"[..]) {
        Some(body) => body,
        None => {
            let quoted = rest.strip_suffix(&b"\"]"[..])?;
            let open = quoted.iter().rposition(|&b| b == b'"')?;
            let digits = &quoted[open + 1..];
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            quoted[..open].strip_suffix(&b"},"[..])?
        }
    };
    let (t, other) = if let Some(rest) = body.strip_prefix(&b"\"t\":"[..]) {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        (&rest[..digits], rest[digits..].strip_prefix(b",")?)
    } else {
        let (other, rest) = body.split_at(crate::ws::find(body, b",\"t\":")?);
        (&rest[5..], other)
    };
    if other != pad || t.is_empty() || !t.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(t).ok()?.parse().ok()
}

async fn sender(
    shared: &Shared,
    fan: &Fanout,
    mut conn: SioWs,
    rooms: usize,
    room: usize,
    members: usize,
    window: u64,
) -> std::result::Result<(), String> {
    // A sender is not in a room and never reads: its session outlives a run because the
    // server waits pingInterval + pingTimeout (45 s by default) for a pong.
    shared.ready.fetch_add(1, Ordering::AcqRel);
    let state = &fan.rooms[room];
    let name = room_name(rooms, room);
    let pad = room_pad(rooms, room);
    let mut text = Vec::with_capacity(160);
    let mut send = |conn: &mut SioWs, shared: &Shared| {
        text.clear();
        let t = shared.base.elapsed().as_nanos() as u64;
        let _ = write!(
            text,
            "42[\"broadcast\",{{\"room\":\"{name}\",\"data\":{{\"t\":{t},\"pad\":\"{pad}\"}}}}]"
        );
        conn.queue_text(&text);
    };
    // Wait for every member and sender (joins are events like any other: a server may run
    // them in any order with the connects of others), then for the probes to drain.
    while shared.ready.load(Ordering::Acquire) < rooms * (members + 1) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let start = Instant::now();
    while state.reached.load(Ordering::Acquire) < members {
        if start.elapsed() > SETUP_LIMIT / 10 {
            return Err(format!(
                "only {} of the {members} members of room {room} got a broadcast",
                state.reached.load(Ordering::Acquire)
            ));
        }
        send(&mut conn, shared);
        conn.flush().await.map_err(|e| format!("send: {e}"))?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let base = state.delivered.load(Ordering::Acquire);
    fan.primed.fetch_add(1, Ordering::AcqRel);
    let members = members as u64;
    let mut sent = 0u64;
    loop {
        while sent * members
            > state.delivered.load(Ordering::Acquire) - base + (window - 1) * members
        {
            // The timeout only guards against a lost wake-up; progress normally rings.
            let _ = tokio::time::timeout(Duration::from_millis(5), state.progress.notified()).await;
        }
        send(&mut conn, shared);
        conn.flush().await.map_err(|e| format!("send: {e}"))?;
        sent += 1;
    }
}

// ----- idle and connect-20k: many connections held open ------------------------------------

/// Opens and closes a few connections, then rests a second: the code paths and lazily built
/// state of the server are warm before a run that reads its memory or CPU from its start.
fn warm_server(plan: &Plan) {
    let shared = Shared::new();
    let addr = plan.addr;
    let handles = harness::spawn_clients(1, &shared, move |_, shared, _| async move {
        for k in 0..50 {
            if let Some(conn) = connect_ws(&shared, addr, None, k).await {
                drop(conn);
            }
        }
        shared.ready.fetch_add(1, Ordering::AcqRel);
    });
    harness::wait_ready(&shared, 1, SETUP_LIMIT);
    harness::join_clients(&shared, handles);
    std::thread::sleep(Duration::from_secs(1));
}

/// Connections being opened and held: the client threads, and what the conductor saw.
struct Held {
    shared: Arc<Shared>,
    handles: Vec<std::thread::JoinHandle<Tally>>,
    /// The CPU times read when the count of open connections first reached each mark (the
    /// count then beside each), after the one read before the first was opened; None if not
    /// every connection opened in time.
    marks: Option<Vec<(usize, Reading)>>,
}

/// Opens `total` WebSocket connections, `in_flight` at a time, each from [`source_for`] its
/// number, and holds them until [`harness::join_clients`]. Every connect latency is
/// recorded. The CPU times are read as the count of open connections passes each of `marks`
/// and when all are open.
fn open_and_hold(plan: &Plan, total: usize, in_flight: usize, marks: &[usize]) -> Result<Held> {
    let shared = Shared::new();
    shared.set_phase(MEASURE);
    let addr = plan.addr;
    let threads = plan.threads.max(1);
    let pids = plan.pids();
    let before = Reading::take(&pids).map_err(io_err)?;
    let handles = harness::spawn_clients(threads, &shared, move |t, shared, tally| async move {
        let local = tokio::task::LocalSet::new();
        let opening = Rc::new(Semaphore::new(in_flight));
        for i in (t..total).step_by(threads) {
            let (shared, tally, opening) = (shared.clone(), tally.clone(), opening.clone());
            local.spawn_local(async move {
                let Some(conn) = open(&shared, &tally, &opening, addr, i).await else {
                    return;
                };
                shared.ready.fetch_add(1, Ordering::AcqRel);
                hold(&shared, conn).await;
            });
        }
        local.await;
    });
    let mut marks: Vec<usize> = marks.iter().copied().filter(|&m| m < total).collect();
    marks.push(total);
    let seen = harness::wait_ready_marking(&shared, &marks, SETUP_LIMIT, || Reading::take(&pids));
    let marks = match seen {
        Ok(Some(mut seen)) => {
            seen.insert(0, (0, before));
            Some(seen)
        }
        Ok(None) => None,
        Err(e) => {
            harness::join_clients(&shared, handles);
            return Err(io_err(e));
        }
    };
    Ok(Held {
        shared,
        handles,
        marks,
    })
}

/// The error of a run whose connections did not all open.
fn not_all_open(shared: &Shared, total: usize) -> String {
    format!(
        "only {} of {total} connections opened (first error: {})",
        shared.ready.load(Ordering::Acquire),
        shared.errors().1.unwrap_or_default()
    )
}

/// Opens `idle_connections` WebSocket connections and holds them; the server's resident
/// memory before and after gives the cost of one idle connection.
pub(crate) fn idle(plan: &Plan) -> Result<Outcome> {
    let total = plan.idle_connections;
    warm_server(plan);
    let base_kib = procfs::memory(plan.server_pid).map_err(io_err)?.rss_kib;
    let held = open_and_hold(plan, total, OPENING, &[])?;
    let result = match &held.marks {
        Some(marks) => {
            // Let the server settle (deferred frees, a garbage collector) before reading.
            std::thread::sleep(plan.warmup.max(Duration::from_secs(1)) * 2);
            let loaded_kib = procfs::memory(plan.server_pid).map_err(io_err)?.rss_kib;
            let (first, last) = (&marks[0].1, &marks[marks.len() - 1].1);
            Ok((loaded_kib, Window::between(first.snapshot, last.snapshot)))
        }
        None => Err(not_all_open(&held.shared, total)),
    };
    let tally = harness::join_clients(&held.shared, held.handles);
    let (loaded_kib, window) = result?;
    let memory = IdleMemory {
        connections: total,
        base_kib,
        loaded_kib,
    };
    finish(plan, &held.shared, total, window, tally, Some(memory))
}

/// `connect-20k`: `held_connections` connections opened `in_flight` at a time, as many as
/// `connect` has in flight, and held. Its figures are those of the whole opening; its
/// [`Quarters`] the server's CPU over the first quarter of the connections and over the last.
pub(crate) fn connect_held(plan: &Plan, in_flight: usize) -> Result<Outcome> {
    let total = plan.held_connections;
    warm_server(plan);
    let held = open_and_hold(plan, total, in_flight, &quarter_marks(total))?;
    let result = match &held.marks {
        Some(marks) => Ok(quarters(marks)),
        None => Err(not_all_open(&held.shared, total)),
    };
    let tally = harness::join_clients(&held.shared, held.handles);
    let (window, quarters) = result?;
    let mut outcome = finish(plan, &held.shared, total, window, tally, None)?;
    outcome.quarters = Some(quarters);
    Ok(outcome)
}

/// Where `connect-20k` reads the CPU time: after the first quarter of `total` connections,
/// and before the last.
fn quarter_marks(total: usize) -> [usize; 2] {
    [total / 4, total - total / 4]
}

/// The whole window and the two quarters from the four readings of `connect-20k` (before,
/// the two marks, after), each with the count of connections open then. A quarter is short
/// (a quarter of a second of CPU or so), so it is timed by the server threads' nanoseconds
/// where no thread ended meanwhile, rather than by 10 ms ticks.
fn quarters(marks: &[(usize, Reading)]) -> (Window, Quarters) {
    let stretch = |a: &(usize, Reading), b: &(usize, Reading)| {
        let precise = procfs::thread_cpu_between(&a.1.threads, &b.1.threads);
        let ticks = Window::between(a.1.snapshot, b.1.snapshot).server_cpu;
        (b.0 - a.0, precise.unwrap_or(ticks), precise.is_some())
    };
    let last = marks.len() - 1;
    let first = stretch(&marks[0], &marks[1.min(last)]);
    let end = stretch(&marks[last.saturating_sub(1)], &marks[last]);
    (
        Window::between(marks[0].1.snapshot, marks[last].1.snapshot),
        Quarters {
            first: (first.0, first.1),
            last: (end.0, end.1),
            per_thread: first.2 && end.2,
        },
    )
}

// ----- connect: connection rate --------------------------------------------------------------

/// `clients` loops, each opening a connection (WebSocket, Engine.IO open, `40` → `40{sid}`)
/// and closing it, again and again; source addresses rotate so that the closed connections'
/// TIME_WAIT never exhausts the ports.
pub(crate) fn connect(plan: &Plan, clients: usize) -> Result<Outcome> {
    let shared = Shared::new();
    let addr = plan.addr;
    let threads = plan.threads.min(clients).max(1);
    let handles = harness::spawn_clients(threads, &shared, move |t, shared, tally| async move {
        let local = tokio::task::LocalSet::new();
        for k in 0..share(clients, threads, t) {
            let lane = k * threads + t;
            let (shared, tally) = (shared.clone(), tally.clone());
            local.spawn_local(async move {
                shared.ready.fetch_add(1, Ordering::AcqRel);
                for round in 0u64.. {
                    let n = round as usize * clients + lane;
                    let source = source_for((n % 250) * 1000);
                    let start = Instant::now();
                    let Some(conn) = connect_ws(&shared, addr, Some(source), n as u64).await else {
                        return;
                    };
                    record(&shared, &tally, start);
                    drop(conn);
                }
            });
        }
        local.await;
    });
    let ready = harness::wait_ready(&shared, clients, SETUP_LIMIT);
    let window = if ready {
        harness::warm_and_measure(&shared, &plan.pids(), plan.warmup, plan.measure)
    } else {
        Err(std::io::Error::other("clients did not start"))
    };
    let tally = harness::join_clients(&shared, handles);
    let window = window.map_err(|e| with_first_error(&shared, e))?;
    finish(plan, &shared, clients, window, tally, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_broadcast_time_in_either_key_order() {
        let pad = br#""pad":"x""#;
        assert_eq!(
            broadcast_time(br#"2["broadcast",{"t":12,"pad":"x"}]"#, pad),
            Some(12)
        );
        assert_eq!(
            broadcast_time(br#"2["broadcast",{"pad":"x","t":34}]"#, pad),
            Some(34)
        );
        assert_eq!(
            broadcast_time(br#"2["broadcast",{"pad":"y","t":34}]"#, pad),
            None
        );
        assert_eq!(
            broadcast_time(br#"2["other",{"t":12,"pad":"x"}]"#, pad),
            None
        );
        assert_eq!(
            broadcast_time(br#"2["broadcast",{"t":,"pad":"x"}]"#, pad),
            None
        );
        assert_eq!(
            broadcast_time(br#"2["broadcast",{"t":56,"pad":"x"},"1234"]"#, pad),
            Some(56),
            "an offset after the data"
        );
        assert_eq!(
            broadcast_time(br#"2["broadcast",{"t":56,"pad":"x"},"12a"]"#, pad),
            None
        );
    }

    #[test]
    fn each_room_has_its_own_padding_of_the_same_length() {
        assert_eq!(room_name(1, 0), "fanout");
        assert_eq!(room_pad(1, 0), PAYLOAD);
        assert_eq!(room_name(100, 7), "fanout-7");
        let pads: std::collections::HashSet<String> = (0..100).map(|r| room_pad(100, r)).collect();
        assert_eq!(pads.len(), 100);
        assert!(pads.iter().all(|p| p.len() == PAYLOAD.len()));
        assert!(room_pad(100, 7).starts_with("007"));
        // A member of room 7 takes room 7's broadcasts and no other room's.
        let own = format!("\"pad\":\"{}\"", room_pad(100, 7));
        let text = |r| {
            format!(
                "2[\"broadcast\",{{\"t\":5,\"pad\":\"{}\"}}]",
                room_pad(100, r)
            )
        };
        assert_eq!(broadcast_time(text(7).as_bytes(), own.as_bytes()), Some(5));
        assert_eq!(broadcast_time(text(8).as_bytes(), own.as_bytes()), None);
    }

    #[test]
    fn quarter_marks_split_the_connections() {
        assert_eq!(quarter_marks(20_000), [5_000, 15_000]);
        assert_eq!(quarter_marks(19_750), [4_937, 14_813]);
        let [a, b] = quarter_marks(19_750);
        assert_eq!(a, 19_750 - b, "both quarters hold as many connections");
    }

    #[test]
    fn shares_add_up() {
        for (total, threads) in [(100, 1), (100, 3), (7, 2), (1, 4)] {
            let sum: usize = (0..threads).map(|i| share(total, threads, i)).sum();
            assert_eq!(sum, total);
        }
    }

    #[test]
    fn source_addresses_stay_in_loopback_and_skip_network_addresses() {
        assert_eq!(source_for(0), Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(source_for(999), Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(source_for(1000), Ipv4Addr::new(127, 0, 0, 3));
        for i in (0..300_000).step_by(1000) {
            let ip = source_for(i);
            assert!(ip.is_loopback());
            assert_ne!(ip.octets()[3], 0);
            assert_ne!(ip, Ipv4Addr::new(127, 0, 0, 1));
        }
    }
}
