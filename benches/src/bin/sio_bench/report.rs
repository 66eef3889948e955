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

/// Most a server may spend per message in a scaling scenario, against its own cost in the
/// base scenario; also the most the last quarter of `connect-20k`'s connections may cost
/// against its first quarter.
const SCALING_CEILING: f64 = 1.2;

/// The base scenario a scaling scenario is compared with, on the same server.
pub(crate) fn scaling_base(scenario: &str) -> Option<&'static str> {
    match scenario {
        "ack-1k" | "ack-10k" => Some("ack"),
        "fanout-10k" | "fanout-rooms" => Some("fanout"),
        "connect-20k" => Some("connect"),
        _ => None,
    }
}

/// The last line of each (scenario, server) in `lines`.
fn last_lines(lines: &[Value]) -> BTreeMap<(&str, &str), &Value> {
    let mut last = BTreeMap::new();
    for v in lines {
        if let (Some(s), Some(sv)) = (v["scenario"].as_str(), v["server"].as_str()) {
            last.insert((s, sv), v);
        }
    }
    last
}

/// A figure of a run without errors.
fn clean(v: &Value, key: &str) -> Option<f64> {
    (v["errors"].as_u64().unwrap_or(0) == 0)
        .then(|| v[key].as_f64())
        .flatten()
}

/// What `server` spends per message in `scenario` against what it spends in `base`, both
/// from the same results (`last`): the ratio of their messages per server CPU second, base
/// over scenario. None unless both ran without errors.
fn cost_against(
    last: &BTreeMap<(&str, &str), &Value>,
    scenario: &str,
    base: &str,
    server: &str,
) -> Option<f64> {
    let this = clean(last.get(&(scenario, server))?, "messages_per_server_cpu_s")?;
    let base = clean(last.get(&(base, server))?, "messages_per_server_cpu_s")?;
    (this > 0.0 && base > 0.0).then_some(base / this)
}

/// What a connection of the last quarter of a `connect-20k` run cost the server against one
/// of the first quarter.
fn last_quarter_against_first(v: &Value) -> Option<f64> {
    let first = clean(v, "first_quarter_cpu_ms_per_1k")?;
    let last = clean(v, "last_quarter_cpu_ms_per_1k")?;
    (first > 0.0).then_some(last / first)
}

/// The scaling floors of `scenario`: each server's cost per message against its own in the
/// base scenario (and for `connect-20k`, its last quarter against its first), in table order.
fn scaling_floors(last: &BTreeMap<(&str, &str), &Value>, scenario: &str) -> Vec<String> {
    let Some(base) = scaling_base(scenario) else {
        return Vec::new();
    };
    let verdict = |r: f64| {
        if r <= SCALING_CEILING {
            "met"
        } else {
            "NOT MET"
        }
    };
    let mut parts = Vec::new();
    for server in SERVERS {
        let Some(v) = last.get(&(scenario, server)) else {
            continue;
        };
        parts.push(match cost_against(last, scenario, base, server) {
            Some(r) => format!(
                "{server} costs {r:.3}× its {base} per message (at most {SCALING_CEILING}×) {}",
                verdict(r)
            ),
            None => format!("{server}: no {base} figure to compare with"),
        });
        if let Some(r) = last_quarter_against_first(v) {
            parts.push(format!(
                "{server}, last quarter of the connections: {r:.3}× the first's CPU each (at most {SCALING_CEILING}×) {}",
                verdict(r)
            ));
        }
    }
    parts
}

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

/// One line per scenario and server: the median of each figure over its runs (a results file
/// holds several when `bench-sio.sh --rounds N` ran; with an even count, the mean of the two
/// middle ones), with `runs` set to their count. Any run with errors stands for them all, as
/// a figure measured beside an error is not one.
pub(crate) fn medians(lines: &[Value]) -> Vec<Value> {
    let mut groups: Vec<((&str, &str), Vec<&Value>)> = Vec::new();
    for v in lines {
        let (Some(s), Some(sv)) = (v["scenario"].as_str(), v["server"].as_str()) else {
            continue;
        };
        match groups.iter_mut().find(|(key, _)| *key == (s, sv)) {
            Some((_, runs)) => runs.push(v),
            None => groups.push(((s, sv), vec![v])),
        }
    }
    groups
        .into_iter()
        .map(|(_, runs)| {
            let n = runs.len();
            let mut line = match runs.iter().find(|v| v["errors"].as_u64().unwrap_or(0) > 0) {
                Some(failed) => (*failed).clone(),
                None => {
                    let mut line = runs[0].clone();
                    if let Value::Object(fields) = &mut line {
                        for (key, value) in fields.iter_mut() {
                            if !value.is_number() {
                                continue;
                            }
                            let mut figures: Vec<f64> =
                                runs.iter().filter_map(|v| v[key].as_f64()).collect();
                            figures.sort_by(f64::total_cmp);
                            let m = figures.len();
                            if m == 0 {
                                continue;
                            }
                            let median = if m % 2 == 1 {
                                figures[m / 2]
                            } else {
                                (figures[m / 2 - 1] + figures[m / 2]) / 2.0
                            };
                            *value = json!(median);
                        }
                    }
                    line
                }
            };
            line["runs"] = json!(n);
            line
        })
        .collect()
}

/// The markdown table of every scenario in `lines` (each figure the median of a scenario's
/// and server's runs, see [`medians`]), then the floors.
pub(crate) fn table(lines: &[Value], only: Option<&str>) -> String {
    let lines = &medians(lines)[..];
    // Every line, whatever `only` says: a scaling scenario's floors need its base's lines.
    let last = last_lines(lines);
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
        parts.extend(scaling_floors(&last, scenario));
        let what = if *scenario == "idle" {
            "memory per idle connection"
        } else {
            "messages per server CPU second"
        };
        floors.push_str(&format!("- {scenario}, {what}: {}\n", parts.join("; ")));
    }
    out.push('\n');
    out.push_str(
        "Floors (ours against each peer; in the scaling scenarios, each server against itself \
         in the base scenario):\n\n",
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_runs_make_one_line_of_medians() {
        let run = |cpu: f64, rss: u64, errors: u64| {
            json!({"scenario": "ack", "server": "ours", "server_cpu_ms_per_1k": cpu,
                   "peak_rss_kib": rss, "errors": errors, "first_error": null})
        };
        let lines = [
            run(9.0, 4000, 0),
            run(7.0, 4200, 0),
            run(8.0, 4100, 0),
            json!({"scenario": "ack", "server": "floor", "server_cpu_ms_per_1k": 6.0,
                   "errors": 0}),
            json!({"scenario": "ack", "server": "floor", "server_cpu_ms_per_1k": 7.0,
                   "errors": 0}),
        ];
        let m = medians(&lines);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0]["server_cpu_ms_per_1k"], json!(8.0));
        assert_eq!(m[0]["peak_rss_kib"], json!(4100.0));
        assert_eq!(m[0]["runs"], json!(3));
        assert_eq!(
            m[1]["server_cpu_ms_per_1k"],
            json!(6.5),
            "even: the middle two's mean"
        );
        let failed = medians(&[run(9.0, 1, 0), run(1.0, 1, 2)]);
        assert_eq!(
            failed[0]["errors"],
            json!(2),
            "a run with errors stands for them all"
        );
    }

    fn run(scenario: &str, server: &str, per_cpu_s: f64) -> Value {
        json!({
            "scenario": scenario,
            "server": server,
            "messages_per_server_cpu_s": per_cpu_s,
            "server_cpu_ms_per_1k": 1e6 / per_cpu_s,
            "errors": 0,
        })
    }

    #[test]
    fn a_scaling_scenario_is_compared_with_its_base_on_the_same_server() {
        let lines = [
            run("ack", "ours", 100_000.0),
            run("ack", "floor", 150_000.0),
            run("ack-10k", "floor", 100_000.0),
            run("ack-10k", "ours", 90_000.0),
        ];
        let last = last_lines(&lines);
        let ours = cost_against(&last, "ack-10k", "ack", "ours").unwrap();
        assert!((ours - 100.0 / 90.0).abs() < 1e-9);
        let floor = cost_against(&last, "ack-10k", "ack", "floor").unwrap();
        assert!((floor - 1.5).abs() < 1e-9);
        assert_eq!(cost_against(&last, "ack-10k", "ack", "node"), None);
        // The table of the scaling scenario alone still finds the base lines.
        let table = table(&lines, Some("ack-10k"));
        assert!(
            table.contains("ours costs 1.111× its ack per message (at most 1.2×) met"),
            "{table}"
        );
        assert!(
            table.contains("floor costs 1.500× its ack per message (at most 1.2×) NOT MET"),
            "{table}"
        );
        assert!(!table.contains("| ack |"), "only ack-10k's rows: {table}");
    }

    #[test]
    fn the_last_line_of_a_run_wins_and_a_run_with_errors_gives_no_ratio() {
        let mut failed = run("fanout", "ours", 300_000.0);
        failed["errors"] = json!(2);
        let lines = [
            run("fanout", "ours", 100_000.0),
            run("fanout-rooms", "ours", 250_000.0),
            run("fanout", "ours", 300_000.0),
            run("fanout-10k", "ours", 300_000.0),
            run("fanout", "node", 50_000.0),
            failed,
        ];
        let last = last_lines(&lines);
        assert_eq!(cost_against(&last, "fanout-10k", "fanout", "ours"), None);
        assert_eq!(cost_against(&last, "fanout-rooms", "fanout", "node"), None);
        let table = table(&lines, None);
        assert!(
            table.contains("ours: no fanout figure to compare with"),
            "{table}"
        );
        let good = [
            run("fanout", "ours", 100_000.0),
            run("fanout", "ours", 300_000.0),
            run("fanout-rooms", "ours", 250_000.0),
        ];
        let last = last_lines(&good);
        let r = cost_against(&last, "fanout-rooms", "fanout", "ours").unwrap();
        assert!((r - 1.2).abs() < 1e-9, "the later fanout line: {r}");
    }

    #[test]
    fn connect_20k_compares_its_last_quarter_with_its_first() {
        let mut held = run("connect-20k", "ours", 25_000.0);
        held["first_quarter_cpu_ms_per_1k"] = json!(40.0);
        held["last_quarter_cpu_ms_per_1k"] = json!(50.0);
        let lines = [run("connect", "ours", 20_000.0), held];
        let table = table(&lines, None);
        assert!(
            table.contains("ours costs 0.800× its connect per message (at most 1.2×) met"),
            "{table}"
        );
        assert!(
            table.contains(
                "ours, last quarter of the connections: 1.250× the first's CPU each (at most 1.2×) NOT MET"
            ),
            "{table}"
        );
        assert!(
            table.contains("| server CPU ms per 1k, last quarter | 50.00 |"),
            "{table}"
        );
    }

    #[test]
    fn every_scaling_scenario_has_its_base_in_the_table() {
        for s in SCENARIOS {
            if let Some(base) = scaling_base(s) {
                assert!(SCENARIOS.contains(&base), "{s}");
                assert!(scaling_base(base).is_none(), "{s}");
            }
        }
        assert_eq!(scaling_base("ack"), None);
        assert_eq!(scaling_base("fanout-redis"), None);
    }
}
