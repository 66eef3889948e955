//! What the engine needs to know about an HTTP request, independent of any
//! HTTP library.

use std::borrow::Cow;
use std::fmt;

/// Names one HTTP request, chosen by the caller and unique among the requests
/// it has in flight. An accepted WebSocket upgrade keeps its request's id, which
/// then names that WebSocket.
///
/// Ids must grow in the order requests arrive, whatever order they are then
/// handled in: a session decides between racing requests of one client (a GET
/// and a POST closing the session, on separate connections) by their ids.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.0)
    }
}

/// The HTTP method, as far as the engine cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// `GET`: the handshake, a long-poll, or a WebSocket upgrade.
    Get,
    /// `POST`: a polling payload from the client.
    Post,
    /// `OPTIONS`: a CORS preflight.
    Options,
    /// Any other method.
    Other,
}

impl Method {
    /// Maps a method token (`GET`, `POST`, ...) to a [`Method`].
    pub fn from_token(token: &str) -> Method {
        match token {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }
}

/// The Engine.IO transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// HTTP long-polling: GET to receive, POST to send.
    Polling,
    /// One WebSocket carrying one packet per message.
    WebSocket,
}

impl TransportKind {
    /// The transport's name on the wire (`polling`, `websocket`).
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Polling => "polling",
            TransportKind::WebSocket => "websocket",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "polling" => Some(TransportKind::Polling),
            "websocket" => Some(TransportKind::WebSocket),
            _ => None,
        }
    }
}

/// The head of an HTTP request under the engine's path: the method, the query
/// string and the headers the engine reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The request method.
    pub method: Method,
    /// The raw query string, without the leading `?` (e.g. `EIO=4&transport=polling`).
    pub query: String,
    /// The `Origin` header, if any.
    pub origin: Option<String>,
    /// Whether this is a valid WebSocket upgrade request (`Upgrade: websocket`
    /// with a well-formed RFC 6455 handshake, checked by the caller).
    pub websocket_upgrade: bool,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The `Content-Length` header, if any.
    pub content_length: Option<u64>,
    /// The `Access-Control-Request-Headers` header of a CORS preflight, if any.
    pub access_control_request_headers: Option<String>,
}

impl RequestHead {
    /// A head with the given method and query and no headers.
    pub fn new(method: Method, query: impl Into<String>) -> Self {
        RequestHead {
            method,
            query: query.into(),
            origin: None,
            websocket_upgrade: false,
            content_type: None,
            content_length: None,
            access_control_request_headers: None,
        }
    }
}

/// The query parameters the engine reads.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct EngineQuery<'a> {
    /// `EIO`, the protocol version.
    pub(crate) eio: Option<Cow<'a, str>>,
    /// `transport`: `Some(Ok(kind))` when known, `Some(Err(()))` when unknown.
    pub(crate) transport: Option<Result<TransportKind, ()>>,
    /// `sid`, when present and not empty.
    pub(crate) sid: Option<Cow<'a, str>>,
    /// Whether `j` is present (the legacy JSONP variant of polling).
    pub(crate) jsonp: bool,
}

impl<'a> EngineQuery<'a> {
    /// Reads the engine's parameters out of a raw query string. The first
    /// occurrence of a parameter wins; values are percent-decoded, borrowed from
    /// the query unless they had escapes (every request is parsed, so the usual
    /// unescaped values cost no allocation).
    pub(crate) fn parse(query: &'a str) -> Self {
        let mut q = EngineQuery::default();
        for (key, value) in query_pairs(query) {
            match key {
                "EIO" if q.eio.is_none() => q.eio = Some(percent_decode(value)),
                "transport" if q.transport.is_none() => {
                    q.transport = Some(TransportKind::parse(&percent_decode(value)).ok_or(()))
                }
                "sid" if q.sid.is_none() => {
                    let sid = percent_decode(value);
                    if !sid.is_empty() {
                        q.sid = Some(sid);
                    }
                }
                "j" => q.jsonp = true,
                _ => {}
            }
        }
        q
    }
}

/// The value of parameter `name` in a raw query string, percent-decoded
/// (the first occurrence wins).
///
/// ```
/// assert_eq!(engineio::query_value("EIO=4&name=J%C3%A9+B", "name").as_deref(), Some("Jé B"));
/// assert_eq!(engineio::query_value("EIO=4", "sid"), None);
/// ```
pub fn query_value(query: &str, name: &str) -> Option<String> {
    query_pairs(query).find_map(|(key, value)| {
        (percent_decode(key) == name).then(|| percent_decode(value).into_owned())
    })
}

/// The `key=value` pairs of a raw query string, split on `&` and the first `=` (a pair
/// without `=` has an empty value). Searched byte by byte: the delimiters are ASCII, and for
/// strings this short a plain loop is cheaper than a `char` pattern's search.
fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut rest = Some(query);
    std::iter::from_fn(move || {
        let q = rest?;
        let pair = match q.bytes().position(|b| b == b'&') {
            Some(i) => {
                rest = Some(&q[i + 1..]);
                &q[..i]
            }
            None => {
                rest = None;
                q
            }
        };
        Some(match pair.bytes().position(|b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, ""),
        })
    })
}

/// Decodes `%XX` escapes and `+` (as a space), as browsers encode query
/// strings. Invalid escapes are kept literally; invalid UTF-8 is replaced.
/// Borrowed when there is nothing to decode.
pub(crate) fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_engine_parameters() {
        let q = EngineQuery::parse("EIO=4&transport=polling&t=NxyZ&sid=abc");
        assert_eq!(q.eio.as_deref(), Some("4"));
        assert_eq!(q.transport, Some(Ok(TransportKind::Polling)));
        assert_eq!(q.sid.as_deref(), Some("abc"));
        assert!(!q.jsonp);
    }

    #[test]
    fn unknown_and_missing_transport_are_told_apart() {
        assert_eq!(
            EngineQuery::parse("EIO=4&transport=abc").transport,
            Some(Err(()))
        );
        assert_eq!(EngineQuery::parse("EIO=4").transport, None);
        assert_eq!(EngineQuery::parse("").transport, None);
    }

    #[test]
    fn empty_sid_counts_as_absent_and_first_value_wins() {
        assert_eq!(EngineQuery::parse("sid=&EIO=4").sid, None);
        assert_eq!(EngineQuery::parse("EIO=4&EIO=3").eio.as_deref(), Some("4"));
        assert!(EngineQuery::parse("j=0").jsonp);
    }

    #[test]
    fn query_pairs_split_like_str_split() {
        for q in [
            "",
            "a",
            "a=",
            "=b",
            "a=b=c",
            "a&&b=1",
            "&",
            "EIO=4&transport=polling&t=x&sid=é",
        ] {
            let expected: Vec<(&str, &str)> = q
                .split('&')
                .map(|p| p.split_once('=').unwrap_or((p, "")))
                .collect();
            assert_eq!(query_pairs(q).collect::<Vec<_>>(), expected, "{q:?}");
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%E2%82%AC"), "€");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%41"), "A");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
    }
}
