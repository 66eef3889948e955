//! Soaks: long runs that check a server gives back what a day of traffic took from it
//! (`scripts/soak.sh` starts the server and runs them; they are not part of the test command).
//!
//! - `soak-churn`: clients connect, join a room, emit and get their echo, then abandon the
//!   connection, half by closing TCP without a close packet (WebSocket), half by simply no
//!   longer polling (long-polling, which the server can only time out). After each round the
//!   server's session count must come back to zero, and its resident memory must stop
//!   growing: the last round ends within 5% of the first.
//! - `soak-slow`: a room's members get broadcasts at a fixed rate, first all reading, then
//!   with one more member that never reads. The server's memory must stay within what its
//!   `max_buffered` lets it keep for that member, and the others' p99 latency within 2x of
//!   the run without it.
//!
//! The server's counts come from its `GET /metrics` (Prometheus text), its memory from
//! `/proc/PID/status`. Every loop is bounded: a cycle count, a duration, a wait limit.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::hist::Hist;
use crate::http::HttpClient;
use crate::procfs;
use crate::sio::{packets, Msg, SioPolling, SioWs};

type Result<T> = std::result::Result<T, String>;

/// How long a cycle's steps may take before the cycle counts as failed.
const STEP_LIMIT: Duration = Duration::from_secs(10);

/// The sum of a metric's samples in the server's `GET /metrics` (every label).
async fn metric(addr: SocketAddr, name: &str) -> Result<u64> {
    let mut http = HttpClient::new(addr);
    let (status, body) = http
        .get("/metrics")
        .await
        .map_err(|e| format!("GET /metrics: {e}"))?;
    if status != 200 {
        return Err(format!("GET /metrics answered {status}"));
    }
    let text = String::from_utf8_lossy(&body);
    let mut sum = 0u64;
    let mut seen = false;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        if !(rest.starts_with(' ') || rest.starts_with('{')) {
            continue;
        }
        if let Some(value) = rest.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) {
            sum += value as u64;
            seen = true;
        }
    }
    if seen {
        Ok(sum)
    } else {
        Err(format!("no {name} in GET /metrics"))
    }
}

/// The server's open Engine.IO sessions (a Socket.IO server names its families
/// `socketio_*`, a plain Engine.IO one `engineio_*`).
async fn sessions(addr: SocketAddr) -> Result<u64> {
    match metric(addr, "socketio_connections").await {
        Ok(n) => Ok(n),
        Err(_) => metric(addr, "engineio_connections").await,
    }
}

fn rss_kib(pid: u32) -> Result<u64> {
    procfs::memory(pid)
        .map(|m| m.rss_kib)
        .map_err(|e| format!("/proc/{pid}/status: {e}"))
}

/// Waits until the server holds no session, up to `limit`; returns how long it took.
async fn drained(addr: SocketAddr, limit: Duration) -> Result<Duration> {
    let start = Instant::now();
    loop {
        let open = sessions(addr).await?;
        if open == 0 {
            return Ok(start.elapsed());
        }
        if start.elapsed() > limit {
            return Err(format!("{open} sessions still open after {limit:?}"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// One cycle: connect, join, emit and get the echo back, then abandon the connection.
async fn cycle(addr: SocketAddr, i: u64) -> Result<()> {
    let room = i % 100;
    let join = format!("42[\"join\",\"soak-{room}\"]");
    let echo = format!("42[\"echo\",\"cycle {i}\"]");
    let expect = format!("2[\"echo\",\"cycle {i}\"]");
    if i % 2 == 0 {
        let mut conn = SioWs::connect(addr, None, i)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        conn.queue_text(join.as_bytes());
        conn.queue_text(echo.as_bytes());
        conn.flush().await.map_err(|e| format!("send: {e}"))?;
        loop {
            match conn.recv().await.map_err(|e| format!("receive: {e}"))? {
                Msg::Text(t) if t[..] == *expect.as_bytes() => break,
                Msg::Text(_) => {}
                Msg::Binary(_) => return Err("unexpected binary".into()),
            }
        }
        // Dropped: the TCP connection closes with no Engine.IO close packet.
        drop(conn);
    } else {
        let SioPolling {
            mut get,
            mut post,
            path,
        } = SioPolling::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let body = format!("{join}\u{1e}{echo}");
        match post.post(&path, body.as_bytes()).await {
            Ok((200, _)) => {}
            Ok((status, _)) => return Err(format!("POST answered {status}")),
            Err(e) => return Err(format!("POST: {e}")),
        }
        'got: loop {
            let (status, body) = get.get(&path).await.map_err(|e| format!("GET: {e}"))?;
            if status != 200 {
                return Err(format!("GET answered {status}"));
            }
            for packet in packets(&body) {
                if packet.strip_prefix(b"4") == Some(expect.as_bytes()) {
                    break 'got;
                }
            }
        }
        // No further GET: the server finds out at its ping timeout.
        drop((get, post));
    }
    Ok(())
}

/// Runs `cycles` cycles starting `rate` a second (at most `concurrency` in flight); returns
/// the failures and the first.
async fn cycles(
    addr: SocketAddr,
    first: u64,
    cycles: u64,
    rate: u64,
    concurrency: usize,
) -> (u64, Option<String>) {
    let next = Rc::new(AtomicU64::new(first));
    let failed = Rc::new(AtomicU64::new(0));
    let first_error: Rc<RefCell<Option<String>>> = Rc::default();
    let end = first + cycles;
    let started = tokio::time::Instant::now();
    let done = Rc::new(AtomicU64::new(0));
    let local = tokio::task::LocalSet::new();
    for _ in 0..concurrency {
        let (next, failed, first_error, done) = (
            next.clone(),
            failed.clone(),
            first_error.clone(),
            done.clone(),
        );
        local.spawn_local(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    return;
                }
                // Cycle `i` starts at its place in the schedule.
                let at = Duration::from_secs_f64((i - first) as f64 / rate as f64);
                tokio::time::sleep_until(started + at).await;
                let result = match tokio::time::timeout(STEP_LIMIT, cycle(addr, i)).await {
                    Ok(result) => result,
                    Err(_) => Err("timed out".to_owned()),
                };
                if let Err(e) = result {
                    failed.fetch_add(1, Ordering::Relaxed);
                    first_error.borrow_mut().get_or_insert(e);
                }
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n % 20_000 == 0 {
                    eprintln!(
                        "soak-churn: {n} of {cycles} cycles, {:.0} a second",
                        n as f64 / started.elapsed().as_secs_f64()
                    );
                }
            }
        });
    }
    local.await;
    let error = first_error.borrow_mut().take();
    (failed.load(Ordering::Relaxed), error)
}

/// `soak-churn`: prints one JSON line; `Err` when the server did not give back.
///
/// A warm-up of `warmup_s` seconds at the same rate comes first, then the server drains to no
/// session: its resident memory then is the start. The warm-up lasts longer than an abandoned
/// session lives, so that it reaches the same number of open sessions as the run. Then
/// `rounds` rounds of `total` cycles, each followed by the drain to no session and a reading
/// of resident memory. The allocator keeps freed pages, and the first rounds may still spread
/// the same peak over more of them; what must not happen is growth that goes on: the last
/// round must end within 5% of the first.
pub(crate) fn churn(
    addr: SocketAddr,
    pid: u32,
    total: u64,
    rate: u64,
    warmup_s: u64,
    rounds: u64,
    concurrency: usize,
) -> Result<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    // Sessions abandoned over polling last the server's ping interval and timeout (45 s by
    // default): the wait for the count to come back is bounded well past that.
    let drain_limit = Duration::from_secs(180);
    runtime.block_on(async {
        let fresh_kib = rss_kib(pid)?;
        let warmup = rate * warmup_s;
        eprintln!("soak-churn: warming up, {warmup} cycles at {rate} a second");
        let (failed, error) = cycles(addr, 0, warmup, rate, concurrency).await;
        if failed > warmup / 1000 {
            return Err(format!("warm-up: {failed} cycles failed, first: {error:?}"));
        }
        let warm_sessions = sessions(addr).await?;
        drained(addr, drain_limit).await?;
        let start_kib = rss_kib(pid)?;
        let mut after = Vec::new();
        let mut failed_total = 0;
        let mut first_error = None;
        let mut peak_sessions = 0;
        let mut drain_s: f64 = 0.0;
        let began = Instant::now();
        for round in 0..rounds {
            eprintln!(
                "soak-churn: round {} of {rounds}, {total} cycles at {rate} a second \
                 (resident {} KiB)",
                round + 1,
                rss_kib(pid)?
            );
            let peak = Rc::new(AtomicU64::new(0));
            let local = tokio::task::LocalSet::new();
            let watch = {
                let peak = peak.clone();
                local.spawn_local(async move {
                    loop {
                        if let Ok(open) = sessions(addr).await {
                            peak.fetch_max(open, Ordering::Relaxed);
                        }
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                })
            };
            let first = warmup + round * total;
            let (failed, error) = local
                .run_until(cycles(addr, first, total, rate, concurrency))
                .await;
            watch.abort();
            failed_total += failed;
            if first_error.is_none() {
                first_error = error;
            }
            peak_sessions = peak_sessions.max(peak.load(Ordering::Relaxed));
            drain_s = drain_s.max(drained(addr, drain_limit).await?.as_secs_f64());
            after.push(rss_kib(pid)?);
        }
        let took = began.elapsed();
        let first_round = after.first().copied().unwrap_or(start_kib);
        let last_round = after.last().copied().unwrap_or(start_kib);
        let growth = last_round as f64 / first_round as f64;
        let list = after
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut line = String::new();
        let _ = write!(
            line,
            "{{\"soak\":\"churn\",\"cycles_per_round\":{total},\"rounds\":{rounds},\
             \"rate\":{rate},\"failed\":{failed_total},\"seconds\":{:.0},\
             \"warmup_cycles\":{warmup},\"open_sessions_after_warmup\":{warm_sessions},\
             \"peak_sessions\":{peak_sessions},\"longest_drain_s\":{drain_s:.1},\
             \"rss_fresh_kib\":{fresh_kib},\"rss_start_kib\":{start_kib},\
             \"rss_after_each_round_kib\":[{list}],\"last_round_over_first\":{growth:.3}}}",
            took.as_secs_f64(),
        );
        if failed_total > rounds * total / 1000 {
            return Err(format!(
                "{line}\n{failed_total} cycles failed, first: {first_error:?}"
            ));
        }
        if growth > 1.05 {
            return Err(format!(
                "{line}\nresident memory grew by more than 5% from the first round to the last"
            ));
        }
        Ok(line)
    })
}

/// What the slow-consumer soak's readers share.
#[derive(Debug, Default)]
struct Readers {
    joined: AtomicUsize,
    hist: std::sync::Mutex<Hist>,
}

/// A member of the room that reads every broadcast and records its delay.
async fn reader(addr: SocketAddr, seed: u64, base: Instant, readers: Arc<Readers>) -> Result<()> {
    let mut conn = SioWs::connect(addr, None, seed)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    conn.queue_text(b"42[\"join\",\"slow-room\"]");
    conn.flush().await.map_err(|e| format!("send: {e}"))?;
    readers.joined.fetch_add(1, Ordering::AcqRel);
    let mut local = Hist::default();
    loop {
        let text = match conn.recv().await {
            Ok(Msg::Text(t)) => t,
            Ok(Msg::Binary(_)) => return Err("unexpected binary".into()),
            // The run is over when the server goes or the task is stopped.
            Err(_) => break,
        };
        let now = base.elapsed().as_nanos() as u64;
        if let Some(sent) = sent_at(&text) {
            local.record(now.saturating_sub(sent));
            if local.count() % 256 == 0 {
                let mut hist = readers.hist.lock().expect("never poisoned");
                hist.merge(&local);
                local = Hist::default();
            }
        }
    }
    Ok(())
}

/// The send time of a broadcast `2["broadcast",{"t":N}]`.
fn sent_at(text: &[u8]) -> Option<u64> {
    let rest = text.strip_prefix(&b"2[\"broadcast\",{\"t\":"[..])?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// One phase of the slow-consumer soak: `rate` broadcasts a second for `seconds` to the room;
/// returns the readers' p99 in microseconds and the server's resident peak growth.
async fn broadcast_phase(
    addr: SocketAddr,
    pid: u32,
    base: Instant,
    rate: u64,
    seconds: u64,
    readers: &Readers,
) -> Result<(f64, u64)> {
    let mut sender = SioWs::connect(addr, None, u64::MAX)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    *readers.hist.lock().expect("never poisoned") = Hist::default();
    let start_kib = rss_kib(pid)?;
    let mut peak_kib = start_kib;
    let mut text = String::with_capacity(128);
    let per_ms = (rate / 1000).max(1);
    let began = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent = 0u64;
    while began.elapsed() < Duration::from_secs(seconds) {
        tick.tick().await;
        for _ in 0..per_ms {
            text.clear();
            let t = base.elapsed().as_nanos() as u64;
            let _ = write!(
                text,
                "42[\"broadcast\",{{\"room\":\"slow-room\",\"data\":{{\"t\":{t}}}}}]"
            );
            sender.queue_text(text.as_bytes());
            sent += 1;
        }
        sender.flush().await.map_err(|e| format!("send: {e}"))?;
        if sent % 5000 < per_ms {
            peak_kib = peak_kib.max(rss_kib(pid)?);
        }
    }
    // What is still on its way arrives.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let p99 = readers.hist.lock().expect("never poisoned").quantile(0.99) as f64 / 1000.0;
    Ok((p99, peak_kib.saturating_sub(start_kib)))
}

/// `soak-slow`: prints one JSON line; `Err` when a bound is broken.
pub(crate) fn slow_consumer(
    addr: SocketAddr,
    pid: u32,
    members: usize,
    rate: u64,
    seconds: u64,
    max_buffered_kib: u64,
) -> Result<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let base = Instant::now();
        let readers = Arc::new(Readers::default());
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let mut tasks = Vec::new();
                for k in 0..members {
                    let readers = readers.clone();
                    tasks.push(tokio::task::spawn_local(async move {
                        if let Err(e) = reader(addr, k as u64, base, readers).await {
                            eprintln!("soak-slow: a reader: {e}");
                        }
                    }));
                }
                while readers.joined.load(Ordering::Acquire) < members {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
                eprintln!("soak-slow: {members} readers, {rate} broadcasts a second, {seconds} s");
                let (p99_alone, grew_alone) =
                    broadcast_phase(addr, pid, base, rate, seconds, &readers).await?;
                // One more member that joins and never reads again.
                let mut slow = SioWs::connect(addr, None, 7_777_777)
                    .await
                    .map_err(|e| format!("connect: {e}"))?;
                slow.queue_text(b"42[\"join\",\"slow-room\"]");
                slow.flush().await.map_err(|e| format!("send: {e}"))?;
                tokio::time::sleep(Duration::from_millis(300)).await;
                let buffer_full_before = metric(addr, "socketio_buffer_full_total").await.ok();
                let (p99_slow, grew_slow) =
                    broadcast_phase(addr, pid, base, rate, seconds, &readers).await?;
                let buffer_full_after = metric(addr, "socketio_buffer_full_total").await.ok();
                drop(slow);
                for task in tasks {
                    task.abort();
                }
                let refused = match (buffer_full_before, buffer_full_after) {
                    (Some(a), Some(b)) => (b - a).to_string(),
                    _ => "null".to_owned(),
                };
                let line = format!(
                    "{{\"soak\":\"slow-consumer\",\"members\":{members},\"rate\":{rate},\
                     \"seconds\":{seconds},\"p99_us_all_reading\":{p99_alone:.0},\
                     \"p99_us_with_slow_member\":{p99_slow:.0},\
                     \"p99_ratio\":{:.2},\"rss_growth_kib_all_reading\":{grew_alone},\
                     \"rss_growth_kib_with_slow_member\":{grew_slow},\
                     \"max_buffered_kib\":{max_buffered_kib},\
                     \"buffer_full_refusals\":{refused}}}",
                    p99_slow / p99_alone.max(1.0),
                );
                if p99_slow > 2.0 * p99_alone.max(1.0) {
                    return Err(format!("{line}\nthe others' p99 more than doubled"));
                }
                if grew_slow > grew_alone + max_buffered_kib + max_buffered_kib / 4 {
                    return Err(format!(
                        "{line}\nthe server kept more than max_buffered for it"
                    ));
                }
                Ok(line)
            })
            .await
    })
}
