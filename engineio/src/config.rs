//! Server configuration. Defaults are the reference Node server's.

use std::fmt;
use std::time::Duration;

use crate::cors::Cors;
use crate::request::{RequestHead, TransportKind};

/// How the engine behaves. Set the fields you need and take the rest from
/// [`Config::default`] (always write `..Config::default()`: fields may be added):
///
/// ```
/// use std::time::Duration;
/// let config = engineio::Config {
///     ping_interval: Duration::from_millis(300),
///     ping_timeout: Duration::from_millis(200),
///     cors: Some(engineio::Cors::any_origin()),
///     ..engineio::Config::default()
/// };
/// # assert_eq!(config.max_payload, 1_000_000);
/// ```
///
/// Durations shorter than one millisecond are treated as one millisecond.
pub struct Config {
    /// Time between a pong and the next ping (default 25 s).
    pub ping_interval: Duration,
    /// How long to wait for a pong after a ping before closing (default 20 s).
    pub ping_timeout: Duration,
    /// How long a WebSocket may take from opening to the `5` that completes an
    /// upgrade before it is closed and the session stays on polling (default 10 s).
    pub upgrade_timeout: Duration,
    /// Largest POST body and WebSocket message, in bytes (default 1 000 000).
    /// Advertised to clients as `maxPayload`.
    pub max_payload: usize,
    /// The transports clients may use (default: both).
    pub transports: Transports,
    /// Whether a polling session may upgrade to WebSocket (default true).
    pub allow_upgrades: bool,
    /// Path prefix the engine serves (default `/engine.io/`; normalised to
    /// start and end with `/`).
    pub path: String,
    /// CORS policy; `None` adds no CORS headers and answers no preflight
    /// (default `None`, as the reference server).
    pub cors: Option<Cors>,
    /// A hook that can refuse handshakes: a refusal is answered 403 with code 4
    /// and the hook's message (default: none, every handshake allowed).
    pub allow_request: Option<AllowRequest>,
    /// Most sessions open at once; further handshakes are answered 503
    /// (default: no cap).
    pub max_sessions: Option<usize>,
    /// Bounds of each session's outbound buffer.
    pub outbox: OutboxLimits,
    /// How long a server-closed polling session waits for a GET to carry its
    /// close packet before it closes anyway (default 30 s).
    pub close_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_payload: 1_000_000,
            transports: Transports::default(),
            allow_upgrades: true,
            path: "/engine.io/".to_owned(),
            cors: None,
            allow_request: None,
            max_sessions: None,
            outbox: OutboxLimits::default(),
            close_timeout: Duration::from_millis(30_000),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("upgrade_timeout", &self.upgrade_timeout)
            .field("max_payload", &self.max_payload)
            .field("transports", &self.transports)
            .field("allow_upgrades", &self.allow_upgrades)
            .field("path", &self.path)
            .field("cors", &self.cors)
            .field("allow_request", &self.allow_request.as_ref().map(|_| ".."))
            .field("max_sessions", &self.max_sessions)
            .field("outbox", &self.outbox)
            .field("close_timeout", &self.close_timeout)
            .finish()
    }
}

impl Config {
    /// Whether `path` (the request target without its query) is served by the
    /// engine: the reference server matches by prefix.
    pub fn matches_path(&self, path: &str) -> bool {
        let prefix = normalize_path(&self.path);
        path.starts_with(&prefix) || path == prefix.trim_end_matches('/')
    }

    /// The list advertised in the handshake's `upgrades` for a session opened
    /// over `transport`.
    pub(crate) fn upgrades_from(&self, transport: TransportKind) -> &'static str {
        match transport {
            TransportKind::Polling if self.allow_upgrades && self.transports.websocket => {
                r#"["websocket"]"#
            }
            _ => "[]",
        }
    }

    pub(crate) fn session_timing(&self) -> SessionTiming {
        // A zero duration would make a deadline fall on the instant that set
        // it; one millisecond is the shortest timer a session runs.
        let at_least_1ms = |d: Duration| d.max(Duration::from_millis(1));
        SessionTiming {
            ping_interval: at_least_1ms(self.ping_interval),
            ping_timeout: at_least_1ms(self.ping_timeout),
            upgrade_timeout: at_least_1ms(self.upgrade_timeout),
            close_timeout: at_least_1ms(self.close_timeout),
            max_payload: self.max_payload,
            outbox: self.outbox,
            allow_upgrades: self.allow_upgrades && self.transports.websocket,
        }
    }
}

/// Ensures a leading and a trailing `/`.
pub(crate) fn normalize_path(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        format!("/{trimmed}/")
    }
}

/// The subset of the configuration each session keeps (small and `Copy`, so a
/// session holds no pointer back to the server).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionTiming {
    pub(crate) ping_interval: Duration,
    pub(crate) ping_timeout: Duration,
    pub(crate) upgrade_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) max_payload: usize,
    pub(crate) outbox: OutboxLimits,
    pub(crate) allow_upgrades: bool,
}

/// Which transports are enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transports {
    /// HTTP long-polling.
    pub polling: bool,
    /// WebSocket.
    pub websocket: bool,
}

impl Default for Transports {
    fn default() -> Self {
        Transports {
            polling: true,
            websocket: true,
        }
    }
}

impl Transports {
    pub(crate) fn allows(&self, kind: TransportKind) -> bool {
        match kind {
            TransportKind::Polling => self.polling,
            TransportKind::WebSocket => self.websocket,
        }
    }
}

/// Bounds of a session's outbound buffer: the packets the application sent
/// that the transport has not taken yet (a polling client that has not polled,
/// or an upgrade in progress).
///
/// Policy: when a send would exceed either bound it is refused with
/// [`SendError::BufferFull`](crate::SendError::BufferFull) and nothing is
/// queued; the session stays open and the caller decides (drop a volatile
/// message, retry later, or close a slow consumer). Control packets (pings,
/// the close packet) are never refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxLimits {
    /// Most application packets buffered (default 1024).
    pub max_packets: usize,
    /// Most application bytes buffered (default 8 MiB).
    pub max_bytes: usize,
}

impl Default for OutboxLimits {
    fn default() -> Self {
        OutboxLimits {
            max_packets: 1024,
            max_bytes: 8 * 1024 * 1024,
        }
    }
}

/// A handshake filter: `Ok(())` lets the handshake proceed, `Err(message)`
/// refuses it with 403, code 4 and that message.
pub struct AllowRequest(Box<AllowFn>);

type AllowFn = dyn Fn(&RequestHead) -> Result<(), String> + Send + Sync;

impl AllowRequest {
    /// Wraps a filter function.
    pub fn new(f: impl Fn(&RequestHead) -> Result<(), String> + Send + Sync + 'static) -> Self {
        AllowRequest(Box::new(f))
    }

    pub(crate) fn check(&self, head: &RequestHead) -> Result<(), String> {
        (self.0)(head)
    }
}

impl fmt::Debug for AllowRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AllowRequest(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_reference_servers() {
        let c = Config::default();
        assert_eq!(c.ping_interval, Duration::from_secs(25));
        assert_eq!(c.ping_timeout, Duration::from_secs(20));
        assert_eq!(c.upgrade_timeout, Duration::from_secs(10));
        assert_eq!(c.max_payload, 1_000_000);
        assert!(c.allow_upgrades);
        assert_eq!(c.path, "/engine.io/");
    }

    #[test]
    fn paths_are_normalised_and_matched_by_prefix() {
        assert_eq!(normalize_path("/socket.io"), "/socket.io/");
        assert_eq!(normalize_path("engine.io/"), "/engine.io/");
        assert_eq!(normalize_path(""), "/");
        let c = Config::default();
        assert!(c.matches_path("/engine.io/"));
        assert!(c.matches_path("/engine.io"));
        assert!(c.matches_path("/engine.io/anything"));
        assert!(!c.matches_path("/engine.iox"));
        assert!(!c.matches_path("/"));
    }

    #[test]
    fn upgrades_depend_on_the_opening_transport() {
        let mut c = Config::default();
        assert_eq!(c.upgrades_from(TransportKind::Polling), r#"["websocket"]"#);
        assert_eq!(c.upgrades_from(TransportKind::WebSocket), "[]");
        c.allow_upgrades = false;
        assert_eq!(c.upgrades_from(TransportKind::Polling), "[]");
    }
}
