//! The Socket.IO load generator: the same client, written here from the protocol documents,
//! for every server the benchmark compares (run `scripts/bench-sio.sh` for all of them and
//! the table; see `benches/README.md`).
//!
//! ```text
//! sio_bench run --scenario <name> --server <label> --url http://127.0.0.1:<port> --pid <pid>
//!               [--short] [--threads N] [--out results.jsonl] [--idle-connections N]
//!               [--held-connections N]
//! sio_bench table results.jsonl [--scenario <name>]
//! sio_bench soak-churn --url http://127.0.0.1:<port> --pid <pid> [--cycles N] [--rate R]
//!                      [--warmup-seconds W] [--rounds N] [--concurrency C]
//! sio_bench soak-slow --url http://127.0.0.1:<port> --pid <pid> [--members M] [--rate R]
//!                     [--seconds S] [--max-buffered-kib K]
//! ```
//!
//! The soaks (`soak.rs`, run by `scripts/soak.sh`) read the server's `GET /metrics`.
//!
//! `run` measures one scenario against one running server (its process id gives its CPU
//! time and memory) and prints one JSON line, also appended to `--out`. `table` prints the
//! markdown table of a results file, with the ratios and the floors. Scenarios: `ack`,
//! `fanout`, `binary`, `polling`, `idle`, `connect` (see `scenarios.rs`); the scaling
//! scenarios `ack-1k`, `ack-10k`, `fanout-10k`, `fanout-rooms`, `connect-20k`, each compared
//! with its base scenario on the same server; and `fanout-redis`: `fanout` over two servers
//! of one Redis cluster (`--url2`, `--pid2` name the second; half the room is on each, the
//! sender on the first; CPU is both servers').
//!
//! Every load loop ends by itself: each run lasts its warm-up plus its measured window, and
//! setting up is bounded too.

mod harness;
mod hist;
mod http;
mod procfs;
mod report;
mod scenarios;
mod sio;
mod soak;
mod ws;

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use scenarios::Plan;

fn usage() -> ExitCode {
    eprintln!(
        "usage: sio_bench run --scenario <{}> --server <label> --url http://127.0.0.1:<port> --pid <pid> \
         [--short] [--threads N] [--out FILE]\n       sio_bench table FILE [--scenario <name>]\n       \
         sio_bench soak-churn --url URL --pid PID [--cycles N] [--rate R] [--warmup-seconds W] \
         [--rounds N] [--concurrency C]\n       \
         sio_bench soak-slow --url URL --pid PID [--members M] [--rate R] [--seconds S] \
         [--max-buffered-kib K]",
        report::SCENARIOS.join("|")
    );
    ExitCode::from(2)
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("table") => table(&args[1..]),
        Some("soak-churn") => soak(&args[1..], true),
        Some("soak-slow") => soak(&args[1..], false),
        Some("machine") => {
            println!("{}", procfs::machine());
            ExitCode::SUCCESS
        }
        _ => usage(),
    }
}

/// The loopback address of `--url http://127.0.0.1:<port>`.
fn loopback(url: &str) -> Option<SocketAddr> {
    url.strip_prefix("http://")
        .map(|rest| rest.split('/').next().unwrap_or(rest))
        .and_then(|host| host.parse::<SocketAddr>().ok())
        .filter(|a| a.ip().is_loopback())
}

fn soak(args: &[String], churn: bool) -> ExitCode {
    let (Some(addr), Some(pid)) = (
        flag(args, "--url").and_then(loopback),
        flag(args, "--pid").and_then(|p| p.parse::<u32>().ok()),
    ) else {
        return usage();
    };
    let number = |name: &str, default: u64| {
        flag(args, name)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(default)
    };
    let result = if churn {
        soak::churn(
            addr,
            pid,
            number("--cycles", 100_000),
            number("--rate", 2_000),
            number("--warmup-seconds", 50),
            number("--rounds", 3),
            number("--concurrency", 64) as usize,
        )
    } else {
        soak::slow_consumer(
            addr,
            pid,
            number("--members", 50) as usize,
            number("--rate", 10_000),
            number("--seconds", 20),
            number("--max-buffered-kib", 8 * 1024),
        )
    };
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn table(args: &[String]) -> ExitCode {
    let Some(path) = args.first() else {
        return usage();
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("sio_bench: {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    print!("{}", report::table(&lines, flag(args, "--scenario")));
    ExitCode::SUCCESS
}

fn run(args: &[String]) -> ExitCode {
    let (Some(scenario), Some(server), Some(url), Some(pid)) = (
        flag(args, "--scenario"),
        flag(args, "--server"),
        flag(args, "--url"),
        flag(args, "--pid").and_then(|p| p.parse::<u32>().ok()),
    ) else {
        return usage();
    };
    let Some(addr) = url
        .strip_prefix("http://")
        .map(|rest| rest.split('/').next().unwrap_or(rest))
        .and_then(|host| host.parse::<SocketAddr>().ok())
        .filter(|a| a.ip().is_loopback())
    else {
        eprintln!("sio_bench: --url must be http://<loopback address>:<port>");
        return ExitCode::from(2);
    };
    let short = args.iter().any(|a| a == "--short");
    let threads = flag(args, "--threads")
        .and_then(|t| t.parse().ok())
        .unwrap_or(1usize)
        .clamp(1, 16);
    let (warmup, measure, idle_connections) = if short {
        (
            Duration::from_millis(500),
            Duration::from_millis(1500),
            2_000,
        )
    } else {
        (
            Duration::from_secs(2),
            Duration::from_secs(8),
            idle_target(),
        )
    };
    let plan = Plan {
        addr,
        server_pid: pid,
        warmup,
        measure,
        threads,
        idle_connections: flag(args, "--idle-connections")
            .and_then(|n| n.parse().ok())
            .unwrap_or(idle_connections),
        // As many in short runs: the count is what connect-20k measures.
        held_connections: flag(args, "--held-connections")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(idle_target),
        fanout_window: 4,
        peer: None,
    };
    let mut plan = plan;
    if scenario == "fanout-redis" {
        // The second server of the cluster: --url2 and --pid2.
        let peer_addr = flag(args, "--url2")
            .and_then(|u| u.strip_prefix("http://"))
            .map(|rest| rest.split('/').next().unwrap_or(rest))
            .and_then(|host| host.parse::<SocketAddr>().ok())
            .filter(|a| a.ip().is_loopback());
        let peer_pid = flag(args, "--pid2").and_then(|p| p.parse::<u32>().ok());
        let (Some(peer_addr), Some(peer_pid)) = (peer_addr, peer_pid) else {
            eprintln!("sio_bench: fanout-redis needs --url2 http://<loopback>:<port> and --pid2");
            return ExitCode::from(2);
        };
        plan.peer = Some((peer_addr, peer_pid));
    }
    let outcome = match scenario {
        "ack" => scenarios::ack(&plan, 100, 0, false),
        "ack-1k" => scenarios::ack(&plan, 100, 900, false),
        "ack-10k" => scenarios::ack(&plan, 100, 9_900, false),
        "binary" => scenarios::ack(&plan, 100, 0, true),
        "polling" => scenarios::polling(&plan, 20),
        "fanout" | "fanout-redis" => scenarios::fanout(&plan, 1, 1_000),
        "fanout-10k" => scenarios::fanout(&plan, 1, 10_000),
        "fanout-rooms" => scenarios::fanout(&plan, 100, 100),
        "idle" => scenarios::idle(&plan),
        "connect" => scenarios::connect(&plan, 50),
        "connect-20k" => scenarios::connect_held(&plan, 50),
        _ => return usage(),
    };
    let line = match &outcome {
        Ok(o) => report::line(scenario, server, o),
        Err(e) => serde_json::json!({
            "scenario": scenario, "server": server, "errors": 1, "first_error": e,
        }),
    };
    let text = line.to_string();
    println!("{text}");
    if let Some(path) = flag(args, "--out") {
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| writeln!(f, "{text}"));
        if let Err(e) = written {
            eprintln!("sio_bench: {path}: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// 20,000 held connections (`idle`, `connect-20k`), or fewer if this process may not open
/// that many files: each connection is a descriptor here and one in the server, and the hard
/// limit cannot be raised without privileges (the bench script raises the soft limit to it).
fn idle_target() -> usize {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|line| line.starts_with("Max open files"))
                .and_then(|line| line.split_whitespace().nth(3).map(str::to_owned))
        })
        .and_then(|soft| soft.parse::<usize>().ok())
        .unwrap_or(1024);
    20_000.min(limit.saturating_sub(250))
}
