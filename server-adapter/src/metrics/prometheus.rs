//! The snapshots in the Prometheus text exposition format (version 0.0.4): what a
//! `GET /metrics` answers.
//!
//! Every series of a family is written, zeros included (a counter that appears only once it
//! moves breaks `rate()` over its first increase). Label values are escaped as the format
//! says (`\\`, `\"`, `\n`): namespace names come from clients when dynamic namespaces accept
//! them.

use std::fmt::Write;

use super::{EngineMetrics, Metrics};

/// The `Content-Type` of the text [`Metrics::to_prometheus`] and
/// [`EngineMetrics::to_prometheus`] write.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Writes families of samples, each name after `prefix_`.
struct Exposition<'a> {
    out: &'a mut String,
    prefix: &'a str,
}

impl Exposition<'_> {
    /// The `# HELP` and `# TYPE` lines of a family (`kind`: `counter` or `gauge`).
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let prefix = self.prefix;
        let _ = writeln!(self.out, "# HELP {prefix}_{name} {help}");
        let _ = writeln!(self.out, "# TYPE {prefix}_{name} {kind}");
    }

    /// One sample, with its labels.
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        let _ = write!(self.out, "{}_{name}", self.prefix);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (label, text)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(label);
                self.out.push_str("=\"");
                push_escaped(self.out, text);
                self.out.push('"');
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// A family with one sample and no label.
    fn single(&mut self, name: &str, kind: &str, help: &str, value: u64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }

    /// A family with one sample per value of one label.
    fn by(&mut self, name: &str, kind: &str, help: &str, label: &str, values: &[(&str, u64)]) {
        self.family(name, kind, help);
        for (text, value) in values {
            self.sample(name, &[(label, text)], *value);
        }
    }
}

/// A label value as the format writes it.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Whether `prefix` can start a metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
fn is_metric_name(prefix: &str) -> bool {
    let mut chars = prefix.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

impl EngineMetrics {
    /// The snapshot in the Prometheus text format, every name starting `engineio_`.
    pub fn to_prometheus(&self) -> String {
        let mut out = String::with_capacity(2048);
        self.write_prometheus("engineio", &mut out);
        out
    }

    /// Appends the snapshot in the Prometheus text format to `out`, every name starting
    /// `prefix_`; what [`to_prometheus`](Self::to_prometheus) does with `engineio`.
    ///
    /// # Panics
    /// If `prefix` is not a metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`): a programming error.
    pub fn write_prometheus(&self, prefix: &str, out: &mut String) {
        assert!(is_metric_name(prefix), "{prefix:?} is not a metric name");
        self.write_families(&mut Exposition { out, prefix }, &[]);
    }

    /// The engine's families; `more_refusals` are added to its refusals family (the
    /// Socket.IO server's own).
    fn write_families(&self, e: &mut Exposition<'_>, more_refusals: &[(&str, u64)]) {
        e.by(
            "connections",
            "gauge",
            "Connections (Engine.IO sessions) open now, by transport.",
            "transport",
            &[("polling", self.polling), ("websocket", self.websocket)],
        );
        e.single(
            "connections_opened_total",
            "counter",
            "Connections (Engine.IO sessions) opened: handshakes accepted.",
            self.opened,
        );
        e.single(
            "upgrades_total",
            "counter",
            "Connections that moved from long-polling to WebSocket.",
            self.upgrades,
        );
        e.single(
            "messages_received_total",
            "counter",
            "Messages received from clients (Engine.IO messages: each binary attachment is one).",
            self.messages_in,
        );
        e.single(
            "messages_sent_total",
            "counter",
            "Messages queued for clients (Engine.IO messages: each binary attachment is one).",
            self.messages_out,
        );
        e.single(
            "received_bytes_total",
            "counter",
            "Bytes of the messages received, without framing.",
            self.bytes_in,
        );
        e.single(
            "sent_bytes_total",
            "counter",
            "Bytes of the messages queued for clients, without framing.",
            self.bytes_out,
        );
        e.single(
            "buffer_full_total",
            "counter",
            "Sends refused because the connection's buffer was full.",
            self.buffer_full,
        );
        let r = &self.refused;
        let mut refusals = vec![
            ("forbidden", r.forbidden),
            ("server full", r.server_full),
            ("unknown sid", r.unknown_sid),
            ("bad request", r.bad_request),
            ("cors", r.cors),
        ];
        refusals.extend_from_slice(more_refusals);
        e.by(
            "refusals_total",
            "counter",
            "Requests and connects refused, by reason.",
            "reason",
            &refusals,
        );
        let c = &self.closes;
        e.by(
            "closes_total",
            "counter",
            "Connections (Engine.IO sessions) closed, by reason.",
            "reason",
            &[
                ("transport close", c.transport_close),
                ("transport error", c.transport_error),
                ("ping timeout", c.ping_timeout),
                ("parse error", c.parse_error),
                ("forced close", c.server_close),
            ],
        );
    }
}

impl Metrics {
    /// The snapshot in the Prometheus text format, every name starting `socketio_`: serve it
    /// with `Content-Type:` [`PROMETHEUS_CONTENT_TYPE`].
    ///
    /// The families: `connections{transport}`, `sockets{namespace}`, `rooms{namespace}` and
    /// `acks_waiting` (gauges); `connections_opened_total`, `upgrades_total`,
    /// `messages_received_total`, `messages_sent_total`, `received_bytes_total`,
    /// `sent_bytes_total`, `buffer_full_total`, `volatile_dropped_total`,
    /// `acks_timed_out_total`, `refusals_total{reason}`, `closes_total{reason}` and
    /// `disconnects_total{reason}` (counters). The fields of [`Metrics`] say what each
    /// counts.
    pub fn to_prometheus(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.write_prometheus("socketio", &mut out);
        out
    }

    /// Appends the snapshot in the Prometheus text format to `out`, every name starting
    /// `prefix_`; what [`to_prometheus`](Self::to_prometheus) does with `socketio`.
    ///
    /// # Panics
    /// If `prefix` is not a metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`): a programming error.
    pub fn write_prometheus(&self, prefix: &str, out: &mut String) {
        assert!(is_metric_name(prefix), "{prefix:?} is not a metric name");
        let e = &mut Exposition { out, prefix };
        let connect = &self.connect_refused;
        self.engine.write_families(
            e,
            &[
                ("middleware", connect.middleware),
                ("unknown namespace", connect.unknown_namespace),
            ],
        );
        e.family("sockets", "gauge", "Sockets connected now, by namespace.");
        for ns in &self.namespaces {
            e.sample("sockets", &[("namespace", &ns.name)], ns.sockets);
        }
        e.family(
            "rooms",
            "gauge",
            "Rooms with at least one socket now, by namespace.",
        );
        for ns in &self.namespaces {
            e.sample("rooms", &[("namespace", &ns.name)], ns.rooms);
        }
        e.single(
            "acks_waiting",
            "gauge",
            "Emits of the server waiting for a client's acknowledgement now.",
            self.acks_waiting,
        );
        e.single(
            "acks_timed_out_total",
            "counter",
            "Emits whose acknowledgement did not come within their timeout.",
            self.acks_timed_out,
        );
        e.single(
            "volatile_dropped_total",
            "counter",
            "Volatile emits dropped because the client could not take them at once.",
            self.volatile_dropped,
        );
        let d = &self.disconnects;
        e.by(
            "disconnects_total",
            "counter",
            "Sockets that left their namespace, by reason.",
            "reason",
            &[
                ("client namespace disconnect", d.client_namespace_disconnect),
                ("server namespace disconnect", d.server_namespace_disconnect),
                ("forced server close", d.forced_server_close),
                ("server shutting down", d.server_shutting_down),
                ("transport close", d.transport_close),
                ("transport error", d.transport_error),
                ("ping timeout", d.ping_timeout),
                ("parse error", d.parse_error),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Closes, ConnectRefusals, Disconnects, NamespaceMetrics, Refusals};

    fn sample() -> Metrics {
        Metrics {
            engine: EngineMetrics {
                polling: 1,
                websocket: 2,
                opened: 5,
                upgrades: 1,
                messages_in: 10,
                messages_out: 12,
                bytes_in: 300,
                bytes_out: 400,
                buffer_full: 3,
                refused: Refusals {
                    unknown_sid: 4,
                    cors: 1,
                    ..Refusals::default()
                },
                closes: Closes {
                    transport_close: 2,
                    ..Closes::default()
                },
            },
            namespaces: vec![
                NamespaceMetrics {
                    name: "/".to_owned(),
                    sockets: 3,
                    rooms: 2,
                },
                NamespaceMetrics {
                    name: "/a\"b\\c\nd".to_owned(),
                    sockets: 0,
                    rooms: 0,
                },
            ],
            acks_waiting: 1,
            acks_timed_out: 2,
            volatile_dropped: 7,
            connect_refused: ConnectRefusals {
                middleware: 1,
                unknown_namespace: 0,
            },
            disconnects: Disconnects {
                ping_timeout: 1,
                ..Disconnects::default()
            },
        }
    }

    #[test]
    fn the_text_has_help_and_type_before_each_family() {
        let text = sample().to_prometheus();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap();
                assert_eq!(lines[i + 1].split(' ').nth(2), Some(name), "{line}");
                assert!(lines[i + 1].starts_with("# TYPE "), "{line}");
                let kind = lines[i + 1].rsplit(' ').next().unwrap();
                assert_eq!(
                    kind == "counter",
                    name.ends_with("_total"),
                    "{name} is a {kind}"
                );
            }
        }
        let samples: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| !l.starts_with('#'))
            .collect();
        for line in &samples {
            let name = line.split(['{', ' ']).next().unwrap();
            assert!(
                text.contains(&format!("# TYPE {name} ")),
                "{name} has no TYPE line"
            );
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<u64>().is_ok(), "{line}");
        }
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn each_figure_is_its_series() {
        let text = sample().to_prometheus();
        for expected in [
            "socketio_connections{transport=\"polling\"} 1",
            "socketio_connections{transport=\"websocket\"} 2",
            "socketio_connections_opened_total 5",
            "socketio_upgrades_total 1",
            "socketio_messages_received_total 10",
            "socketio_messages_sent_total 12",
            "socketio_received_bytes_total 300",
            "socketio_sent_bytes_total 400",
            "socketio_buffer_full_total 3",
            "socketio_refusals_total{reason=\"unknown sid\"} 4",
            "socketio_refusals_total{reason=\"cors\"} 1",
            "socketio_refusals_total{reason=\"forbidden\"} 0",
            "socketio_refusals_total{reason=\"middleware\"} 1",
            "socketio_refusals_total{reason=\"unknown namespace\"} 0",
            "socketio_closes_total{reason=\"transport close\"} 2",
            "socketio_closes_total{reason=\"forced close\"} 0",
            "socketio_sockets{namespace=\"/\"} 3",
            "socketio_rooms{namespace=\"/\"} 2",
            "socketio_acks_waiting 1",
            "socketio_acks_timed_out_total 2",
            "socketio_volatile_dropped_total 7",
            "socketio_disconnects_total{reason=\"ping timeout\"} 1",
            "socketio_disconnects_total{reason=\"transport close\"} 0",
        ] {
            assert!(
                text.lines().any(|l| l == expected),
                "no line {expected:?} in\n{text}"
            );
        }
    }

    #[test]
    fn label_values_are_escaped() {
        let text = sample().to_prometheus();
        assert!(
            text.contains("socketio_sockets{namespace=\"/a\\\"b\\\\c\\nd\"} 0\n"),
            "{text}"
        );
    }

    #[test]
    fn a_plain_engine_has_its_own_prefix_and_no_socket_families() {
        let text = sample().engine.to_prometheus();
        assert!(text.contains("engineio_connections{transport=\"websocket\"} 2\n"));
        assert!(text.contains("engineio_refusals_total{reason=\"cors\"} 1\n"));
        assert!(!text.contains("socketio_"));
        assert!(!text.contains("middleware"));
        assert!(!text.contains("_sockets"));
        let mut custom = String::new();
        sample().write_prometheus("chat", &mut custom);
        assert!(custom.contains("chat_sockets{namespace=\"/\"} 3\n"));
    }

    #[test]
    fn a_prefix_must_be_a_metric_name() {
        assert!(is_metric_name("socketio"));
        assert!(is_metric_name("_a:b9"));
        assert!(!is_metric_name(""));
        assert!(!is_metric_name("9a"));
        assert!(!is_metric_name("a-b"));
        let refused = std::panic::catch_unwind(|| {
            EngineMetrics::default().write_prometheus("a b", &mut String::new())
        });
        assert!(refused.is_err());
    }
}
