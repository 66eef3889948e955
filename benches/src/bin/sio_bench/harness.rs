//! Running clients on a few threads and timing the phases of a run.
//!
//! Each client thread runs a single-threaded tokio runtime (a `LocalSet`), so a client's
//! tasks share counters without locks. The main thread is the conductor: it waits until every
//! client is connected, lets the load warm up, then reads the server's and its own CPU time
//! before and after the measured window, and finally tells every client to stop. A client
//! thread drops all of its tasks when told to stop, whatever they were waiting for, so a run
//! ends on time even against a server that stopped answering.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::hist::Hist;
use crate::procfs;

/// Clients connect; nothing is counted.
pub(crate) const SETUP: u8 = 0;
/// Load runs; nothing is counted.
pub(crate) const WARMUP: u8 = 1;
/// Load runs and is counted.
pub(crate) const MEASURE: u8 = 2;
/// Clients stop.
pub(crate) const STOP: u8 = 3;

/// What the conductor and the client threads share.
#[derive(Debug)]
pub(crate) struct Shared {
    phase: AtomicU8,
    /// Clients connected and ready for load.
    pub(crate) ready: AtomicUsize,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
    /// The origin of timestamps carried in messages (fan-out).
    pub(crate) base: Instant,
}

impl Shared {
    pub(crate) fn new() -> Arc<Shared> {
        Arc::new(Shared {
            phase: AtomicU8::new(SETUP),
            ready: AtomicUsize::new(0),
            errors: AtomicU64::new(0),
            first_error: Mutex::new(None),
            base: Instant::now(),
        })
    }

    pub(crate) fn phase(&self) -> u8 {
        self.phase.load(Ordering::Acquire)
    }

    pub(crate) fn set_phase(&self, phase: u8) {
        self.phase.store(phase, Ordering::Release);
    }

    pub(crate) fn measuring(&self) -> bool {
        self.phase() == MEASURE
    }

    pub(crate) fn stopped(&self) -> bool {
        self.phase() == STOP
    }

    /// Counts an error (a wrong answer, a lost connection), keeping the first one's text.
    /// Errors after the stop are the stop's own doing and are not counted.
    pub(crate) fn error(&self, what: impl std::fmt::Display) {
        if self.stopped() {
            return;
        }
        self.errors.fetch_add(1, Ordering::AcqRel);
        let mut first = self.first_error.lock().expect("never poisoned");
        if first.is_none() {
            *first = Some(what.to_string());
        }
    }

    pub(crate) fn errors(&self) -> (u64, Option<String>) {
        (
            self.errors.load(Ordering::Acquire),
            self.first_error.lock().expect("never poisoned").clone(),
        )
    }
}

/// What one client thread measured.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Latencies of the messages completed in the measured window.
    pub(crate) hist: Hist,
}

impl Tally {
    pub(crate) fn merge(mut tallies: Vec<Tally>) -> Tally {
        let mut all = tallies.pop().unwrap_or_default();
        for t in &tallies {
            all.hist.merge(&t.hist);
        }
        all
    }
}

/// Starts `threads` client threads; thread `i` runs `work(i, shared, tally)` until it ends or
/// the phase becomes [`STOP`].
pub(crate) fn spawn_clients<F, Fut>(
    threads: usize,
    shared: &Arc<Shared>,
    work: F,
) -> Vec<JoinHandle<Tally>>
where
    F: Fn(usize, Arc<Shared>, Rc<RefCell<Tally>>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let work = Arc::new(work);
    (0..threads)
        .map(|i| {
            let work = work.clone();
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("client-{i}"))
                .spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a current-thread runtime builds");
                    let local = tokio::task::LocalSet::new();
                    let tally = Rc::new(RefCell::new(Tally::default()));
                    let job = work(i, shared.clone(), tally.clone());
                    local.block_on(&runtime, async {
                        tokio::select! {
                            () = job => {}
                            () = until_stopped(&shared) => {}
                        }
                    });
                    drop(local);
                    tally.take()
                })
                .expect("a thread starts")
        })
        .collect()
}

async fn until_stopped(shared: &Shared) {
    while !shared.stopped() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Stops the clients and gathers what they measured.
pub(crate) fn join_clients(shared: &Shared, threads: Vec<JoinHandle<Tally>>) -> Tally {
    shared.set_phase(STOP);
    Tally::merge(
        threads
            .into_iter()
            .map(|t| t.join().expect("a client thread does not panic"))
            .collect(),
    )
}

/// Waits until `expected` clients are ready; false after `limit` or once an error was
/// counted during setup.
pub(crate) fn wait_ready(shared: &Shared, expected: usize, limit: Duration) -> bool {
    let start = Instant::now();
    loop {
        if shared.ready.load(Ordering::Acquire) >= expected {
            return true;
        }
        if shared.errors().0 > 0 || start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// As [`wait_ready`] for the last of `marks` (increasing counts of ready clients), calling
/// `read` (the CPU times, say) the first time the count reaches each mark; returns what it
/// read with the count then. None after `limit` or once an error was counted.
pub(crate) fn wait_ready_marking<T>(
    shared: &Shared,
    marks: &[usize],
    limit: Duration,
    mut read: impl FnMut() -> std::io::Result<T>,
) -> std::io::Result<Option<Vec<(usize, T)>>> {
    let start = Instant::now();
    let mut seen = Vec::with_capacity(marks.len());
    while seen.len() < marks.len() {
        let ready = shared.ready.load(Ordering::Acquire);
        if ready >= marks[seen.len()] {
            seen.push((ready, read()?));
            continue;
        }
        if shared.errors().0 > 0 || start.elapsed() > limit {
            return Ok(None);
        }
        // Short, so that a reading lands within a few connections of its mark.
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(Some(seen))
}

/// CPU seconds of the server and of this process at one instant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    at: Instant,
    server_cpu: f64,
    client_cpu: f64,
}

impl Snapshot {
    /// CPU time so far of the server processes (added up) and of this process.
    pub(crate) fn take(server_pids: &[u32]) -> std::io::Result<Snapshot> {
        let mut server_cpu = 0.0;
        for pid in server_pids {
            server_cpu += procfs::cpu_seconds(*pid)?;
        }
        Ok(Snapshot {
            at: Instant::now(),
            server_cpu,
            client_cpu: procfs::cpu_seconds(std::process::id())?,
        })
    }
}

/// What a measured window cost.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) seconds: f64,
    pub(crate) server_cpu: f64,
    pub(crate) client_cpu: f64,
}

impl Window {
    pub(crate) fn between(a: Snapshot, b: Snapshot) -> Window {
        Window {
            seconds: (b.at - a.at).as_secs_f64(),
            server_cpu: b.server_cpu - a.server_cpu,
            client_cpu: b.client_cpu - a.client_cpu,
        }
    }
}

/// The usual run: warm up, then measure for a while. Returns the measured window.
pub(crate) fn warm_and_measure(
    shared: &Shared,
    server_pids: &[u32],
    warmup: Duration,
    measure: Duration,
) -> std::io::Result<Window> {
    shared.set_phase(WARMUP);
    std::thread::sleep(warmup);
    let before = Snapshot::take(server_pids)?;
    shared.set_phase(MEASURE);
    std::thread::sleep(measure);
    // Back to uncounted load while the second reading is taken, then stop.
    shared.set_phase(WARMUP);
    let after = Snapshot::take(server_pids)?;
    shared.set_phase(STOP);
    Ok(Window::between(before, after))
}
