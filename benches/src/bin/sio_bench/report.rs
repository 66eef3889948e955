//! Results: one JSON line per scenario and server, and the markdown table that puts the
//! servers side by side with the ratios.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::scenarios::Outcome;

/// The servers, in table order; the first is the one under test. `ours-axum` is the same
/// server served by axum (the Socket.IO server as a tower layer), and `ours-recovery` the
/// same server with connection state recovery on, each compared with `ours`.
pub(crate) const SERVERS: [&str; 6] = [
    "ours",
    "node",
    "socketioxide",
    "ours-axum",
    "ours-recovery",
    "floor",
];

/// The scenarios, in table order: each scaling scenario after its base.
pub(crate) const SCENARIOS: [&str; 12] = [
    "ack",
    "ack-1k",
    "ack-10k",
    "fanout",
    "fanout-10k",
    "fanout-rooms",
    "binary",
    "polling",
    "idle",
    "connect",
    "connect-20k",
    "fanout-redis",
];

/// The JSON line of one run.
pub(crate) fn line(scenario: &str, server: &str, outcome: &Outcome) -> Value {
    let w = outcome.window;
    let messages = outcome.hist.count();
    let per_second = |n: f64| if w.seconds > 0.0 { n / w.seconds } else { 0.0 };
    let mut v = json!({
        "scenario": scenario,
        "server": server,
        "clients": outcome.clients,
        "seconds": round(w.seconds, 3),
        "messages": messages,
        "throughput": round(per_second(messages as f64), 1),
        "p50_us": round(outcome.hist.quantile(0.50) as f64 / 1000.0, 1),
        "p99_us": round(outcome.hist.quantile(0.99) as f64 / 1000.0, 1),
        "server_cpu_s": round(w.server_cpu, 3),
        "server_cpu_ms_per_1k": if messages > 0 { round(w.server_cpu * 1e6 / messages as f64, 3) } else { 0.0 },
        "messages_per_server_cpu_s": if w.server_cpu > 0.0 { round(messages as f64 / w.server_cpu, 0) } else { 0.0 },
        "client_cpu_s": round(w.client_cpu, 3),
        "client_cpu_util": round(per_second(w.client_cpu), 3),
        "peak_rss_kib": outcome.peak_kib,
        "errors": outcome.errors,
        "first_error": outcome.first_error,
    });
    if let Some(idle) = outcome.idle {
        let per = (idle.loaded_kib.saturating_sub(idle.base_kib) as f64 * 1024.0)
            / idle.connections.max(1) as f64;
        v["idle_connections"] = json!(idle.connections);
        v["rss_base_kib"] = json!(idle.base_kib);
        v["rss_loaded_kib"] = json!(idle.loaded_kib);
        v["bytes_per_connection"] = json!(round(per, 0));
    }
    if let Some(q) = outcome.quarters {
        let per_1k = |(n, cpu): (usize, f64)| {
            if n > 0 {
                round(cpu * 1e6 / n as f64, 3)
            } else {
                0.0
            }
        };
        v["first_quarter_connections"] = json!(q.first.0);
        v["first_quarter_cpu_ms_per_1k"] = json!(per_1k(q.first));
        v["last_quarter_connections"] = json!(q.last.0);
        v["last_quarter_cpu_ms_per_1k"] = json!(per_1k(q.last));
        v["quarters_cpu_from"] = json!(if q.per_thread { "schedstat" } else { "stat" });
    }
    v
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// Whether a larger value is better.
#[derive(Clone, Copy, PartialEq)]
enum Better {
    Higher,
    Lower,
    /// Shown, not compared.
    Neither,
}

struct Metric {
    key: &'static str,
    label: &'static str,
    better: Better,
    /// Divides the stored value for display (KiB → MiB...).
    scale: f64,
    places: usize,
}

const fn metric(
    key: &'static str,
    label: &'static str,
    better: Better,
    scale: f64,
    places: usize,
) -> Metric {
    Metric {
        key,
        label,
        better,
        scale,
        places,
    }
}

fn metrics(scenario: &str) -> Vec<Metric> {
    use Better::*;
    let unit = match scenario {
        s if s.starts_with("fanout") => "deliveries",
        s if s == "idle" || s.starts_with("connect") => "connections",
        _ => "round trips",
    };
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let mut m = Vec::new();
    if scenario == "idle" {
        m.push(metric(
            "idle_connections",
            "connections held",
            Neither,
            1.0,
            0,
        ));
        m.push(metric(
            "bytes_per_connection",
            "memory per idle connection (KiB)",
            Lower,
            1024.0,
            2,
        ));
        m.push(metric(
            "server_cpu_ms_per_1k",
            "server CPU ms per 1k connections opened",
            Lower,
            1.0,
            1,
        ));
        m.push(metric(
            "messages_per_server_cpu_s",
            "connections opened per server CPU s",
            Higher,
            1.0,
            0,
        ));
        m.push(metric("p50_us", "connect latency p50 (µs)", Lower, 1.0, 0));
        m.push(metric("p99_us", "connect latency p99 (µs)", Lower, 1.0, 0));
    } else {
        if scenario == "connect-20k" {
            m.push(metric("clients", "connections held", Neither, 1.0, 0));
        }
        m.push(metric(
            "throughput",
            leak(format!("{unit} per second")),
            Higher,
            1.0,
            0,
        ));
        m.push(metric("p50_us", "latency p50 (µs)", Lower, 1.0, 0));
        m.push(metric("p99_us", "latency p99 (µs)", Lower, 1.0, 0));
        m.push(metric(
            "server_cpu_ms_per_1k",
            leak(format!("server CPU ms per 1k {unit}")),
            Lower,
            1.0,
            2,
        ));
        m.push(metric(
            "messages_per_server_cpu_s",
            leak(format!("{unit} per server CPU s")),
            Higher,
            1.0,
            0,
        ));
        if scenario == "connect-20k" {
            m.push(metric(
                "first_quarter_cpu_ms_per_1k",
                "server CPU ms per 1k, first quarter",
                Lower,
                1.0,
                2,
            ));
            m.push(metric(
                "last_quarter_cpu_ms_per_1k",
                "server CPU ms per 1k, last quarter",
                Lower,
                1.0,
                2,
            ));
        }
    }
    m.push(metric(
        "peak_rss_kib",
        "server peak RSS (MiB)",
        Lower,
        1024.0,
        1,
    ));
    m.push(metric(
        "client_cpu_util",
        "load generator CPU (cores)",
        Neither,
        1.0,
        2,
    ));
    m
}

/// The markdown table of every scenario in `lines` (the last line of each scenario and
/// server wins), then the floors.
pub(crate) fn table(lines: &[Value], only: Option<&str>) -> String {
    let mut runs: BTreeMap<(usize, usize), &Value> = BTreeMap::new();
    for v in lines {
        let (Some(s), Some(sv)) = (v["scenario"].as_str(), v["server"].as_str()) else {
            continue;
        };
        let (Some(si), Some(svi)) = (
            SCENARIOS.iter().position(|x| *x == s),
            SERVERS.iter().position(|x| *x == sv),
        ) else {
            continue;
        };
        if only.is_some_and(|o| o != s) {
            continue;
        }
        runs.insert((si, svi), v);
    }
    let mut out = String::new();
    out.push_str("| scenario | metric | ours | node | socketioxide | floor | ours-axum | ours-recovery | ours vs node | ours vs socketioxide | ours vs floor | ours vs ours-axum | ours vs ours-recovery |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let mut floors = String::new();
    for (si, scenario) in SCENARIOS.iter().enumerate() {
        let get = |svi: usize| runs.get(&(si, svi)).copied();
        if (0..SERVERS.len()).all(|i| get(i).is_none()) {
            continue;
        }
        for (mi, m) in metrics(scenario).iter().enumerate() {
            let value = |svi: usize| -> Option<f64> {
                let v = get(svi)?;
                if v["errors"].as_u64().unwrap_or(0) > 0 {
                    return None;
                }
                v[m.key].as_f64()
            };
            let cell = |svi: usize| -> String {
                match get(svi) {
                    None => "-".into(),
                    Some(v) if v["errors"].as_u64().unwrap_or(0) > 0 => "error".into(),
                    Some(_) => {
                        value(svi).map_or("-".into(), |x| format!("{:.*}", m.places, x / m.scale))
                    }
                }
            };
            let ratio = |svi: usize| -> String {
                match (value(0), value(svi), m.better) {
                    (Some(a), Some(b), Better::Higher) if b > 0.0 => format!("{:.2}×", a / b),
                    (Some(a), Some(b), Better::Lower) if a > 0.0 => format!("{:.2}×", b / a),
                    _ => String::new(),
                }
            };
            let name = if mi == 0 { *scenario } else { "" };
            out.push_str(&format!(
                "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                m.label,
                cell(0),
                cell(1),
                cell(2),
                cell(5),
                cell(3),
                cell(4),
                ratio(1),
                ratio(2),
                ratio(5),
                ratio(3),
                ratio(4)
            ));
        }
        // The floors: CPU efficiency everywhere, memory per idle connection.
        let (key, need) = if *scenario == "idle" {
            ("bytes_per_connection", [4.0, 2.0])
        } else {
            ("messages_per_server_cpu_s", [3.0, 1.5])
        };
        let ours = get(0)
            .and_then(|v| v[key].as_f64())
            .filter(|_| get(0).is_some_and(|v| v["errors"].as_u64().unwrap_or(0) == 0));
        let mut parts = Vec::new();
        for (i, peer) in [(1, "node"), (2, "socketioxide")] {
            let theirs = get(i).and_then(|v| v[key].as_f64());
            let r = match (ours, theirs) {
                (Some(a), Some(b)) if *scenario == "idle" && a > 0.0 => Some(b / a),
                (Some(a), Some(b)) if *scenario != "idle" && b > 0.0 => Some(a / b),
                _ => None,
            };
            let need = need[i - 1];
            parts.push(match r {
                // Three decimals, so that a ratio just under its floor does not print as it.
                Some(r) => format!(
                    "{:.3}× {peer} (floor {need}×) {}",
                    r,
                    if r >= need { "met" } else { "NOT MET" }
                ),
                None => format!("{peer}: no figure"),
            });
        }
        // The same server through axum: its cost against ours, at most 1.15× the CPU per
        // message and 1.25× the memory per idle connection.
        let axum = get(3)
            .filter(|v| v["errors"].as_u64().unwrap_or(0) == 0)
            .and_then(|v| v[key].as_f64());
        let (cost, ceiling) = match (ours, axum) {
            (Some(a), Some(b)) if *scenario == "idle" && a > 0.0 => (Some(b / a), 1.25),
            (Some(a), Some(b)) if *scenario != "idle" && b > 0.0 => (Some(a / b), 1.15),
            _ => (None, 0.0),
        };
        if let Some(r) = cost {
            parts.push(format!(
                "ours-axum costs {r:.3}× ours (at most {ceiling}×) {}",
                if r <= ceiling { "met" } else { "NOT MET" }
            ));
        }
        // The floor server (`../shared/floor-server/`, WebSocket scenarios only): ours at most
        // 1.2x its CPU per message in ack and binary, 1.1x in fanout; at most 2.5 KiB per
        // idle connection whatever it holds.
        let floor = get(5)
            .filter(|v| v["errors"].as_u64().unwrap_or(0) == 0)
            .and_then(|v| v[key].as_f64());
        let floor_ceiling = match *scenario {
            "ack" | "binary" => Some(1.2),
            "fanout" => Some(1.1),
            _ => None,
        };
        match (ours, floor, floor_ceiling) {
            (Some(a), Some(b), Some(ceiling)) if a > 0.0 => {
                let r = b / a;
                parts.push(format!(
                    "ours costs {r:.3}× the floor server (at most {ceiling}×) {}",
                    if r <= ceiling { "met" } else { "NOT MET" }
                ));
            }
            (Some(a), Some(b), None) if *scenario == "idle" && b > 0.0 => {
                parts.push(format!("ours holds {:.3}× the floor server", a / b));
            }
            _ => {}
        }
        if *scenario == "idle" {
            if let Some(a) = ours {
                parts.push(format!(
                    "{:.2} KiB per connection (at most 2.5) {}",
                    a / 1024.0,
                    if a <= 2.5 * 1024.0 { "met" } else { "NOT MET" }
                ));
            }
        }
        // Long-polling: at most 0.67x socketioxide's CPU per message.
        if *scenario == "polling" {
            if let (Some(a), Some(b)) = (ours, get(2).and_then(|v| v[key].as_f64())) {
                if a > 0.0 {
                    let r = b / a;
                    parts.push(format!(
                        "ours costs {r:.3}× socketioxide (at most 0.67×) {}",
                        if r <= 0.67 { "met" } else { "NOT MET" }
                    ));
                }
            }
        }
        // Recovery on: what it costs, reported (no ceiling).
        let recovery = get(4)
            .filter(|v| v["errors"].as_u64().unwrap_or(0) == 0)
            .and_then(|v| v[key].as_f64());
        match (ours, recovery) {
            (Some(a), Some(b)) if *scenario == "idle" && a > 0.0 => parts.push(format!(
                "ours-recovery holds {:.3}× ours per idle connection ({:+.0} bytes)",
                b / a,
                b - a
            )),
            (Some(a), Some(b)) if *scenario != "idle" && b > 0.0 => parts.push(format!(
                "ours-recovery costs {:.3}× ours per message ({:+.2} µs CPU)",
                a / b,
                (1.0 / b - 1.0 / a) * 1e6
            )),
            _ => {}
        }
        let what = if *scenario == "idle" {
            "memory per idle connection"
        } else {
            "messages per server CPU second"
        };
        floors.push_str(&format!("- {scenario}, {what}: {}\n", parts.join("; ")));
    }
    out.push('\n');
    out.push_str("Floors (ours against each peer):\n\n");
    out.push_str(&floors);
    let errors: Vec<String> = runs
        .values()
        .filter(|v| v["errors"].as_u64().unwrap_or(0) > 0)
        .map(|v| {
            format!(
                "- {} on {}: {} errors, first: {}\n",
                v["scenario"].as_str().unwrap_or("?"),
                v["server"].as_str().unwrap_or("?"),
                v["errors"],
                v["first_error"].as_str().unwrap_or("?")
            )
        })
        .collect();
    if !errors.is_empty() {
        out.push_str("\nErrors (a run with errors shows no figures):\n\n");
        out.extend(errors);
    }
    out
}
