//! Shared pieces of the project's benchmarks: a timing loop that reports medians, and the
//! table that puts Rust and Node.js figures side by side.
//!
//! Each benchmark binary lives in `src/bin/`; its Node.js counterpart in `node/`. Timings
//! are wall-clock medians of several runs after a warm-up, in nanoseconds per operation.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// How long to warm up, and how long and how often to measure.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Warm-up time before measuring.
    pub warmup: Duration,
    /// Target duration of one measured run.
    pub run: Duration,
    /// Number of measured runs; the median is reported.
    pub runs: usize,
    /// Time runs by the measuring thread's CPU time (`/proc/thread-self/schedstat`) rather
    /// than by the wall clock, so that other processes on a busy machine do not count.
    pub thread_cpu: bool,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            warmup: Duration::from_millis(300),
            run: Duration::from_millis(100),
            runs: 9,
            thread_cpu: false,
        }
    }
}

/// Nanoseconds the calling thread has run on a CPU, as Linux counts them.
///
/// # Panics
/// When `/proc/thread-self/schedstat` cannot be read (not Linux, or no `/proc`).
pub fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .expect("the thread CPU clock needs Linux's /proc/thread-self/schedstat")
}

/// Times `op` and returns the median nanoseconds per call.
pub fn measure<R>(plan: Plan, mut op: impl FnMut() -> R) -> f64 {
    // Warm up, and learn how many calls fill one run.
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < plan.warmup {
        for _ in 0..64 {
            black_box(op());
        }
        calls += 64;
    }
    let per_call = plan.warmup.as_secs_f64() / calls.max(1) as f64;
    let iterations = ((plan.run.as_secs_f64() / per_call) as u64).max(1);
    let mut samples: Vec<f64> = (0..plan.runs)
        .map(|_| {
            let start = Instant::now();
            let cpu_start = if plan.thread_cpu { thread_cpu_ns() } else { 0 };
            for _ in 0..iterations {
                black_box(op());
            }
            let ns = if plan.thread_cpu {
                (thread_cpu_ns() - cpu_start) as f64
            } else {
                start.elapsed().as_nanos() as f64
            };
            ns / iterations as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// One measured operation.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Row {
    /// The input, e.g. `small`.
    pub case: String,
    /// The operation, e.g. `decode`.
    pub op: String,
    /// Median nanoseconds per operation.
    pub ns: f64,
}

/// Prints `case, op, Rust ns/op, Node ns/op, ratio (Node / Rust)`.
pub fn print_table(rust: &[Row], node: &[Row]) {
    println!(
        "{:<10} {:<20} {:>14} {:>14} {:>10}",
        "case", "op", "Rust ns/op", "Node ns/op", "Node/Rust"
    );
    for row in rust {
        let other = node.iter().find(|n| n.case == row.case && n.op == row.op);
        match other {
            Some(n) => println!(
                "{:<10} {:<20} {:>14.0} {:>14.0} {:>9.1}x",
                row.case,
                row.op,
                row.ns,
                n.ns,
                n.ns / row.ns
            ),
            None => println!(
                "{:<10} {:<20} {:>14.0} {:>14} {:>10}",
                row.case, row.op, row.ns, "-", "-"
            ),
        }
    }
}
