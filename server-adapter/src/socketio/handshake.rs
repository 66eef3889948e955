//! What a socket's handlers know about how it connected.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::engine::{HandshakeHeaders, HandshakeRequest};

/// The handshake of a socket: the Engine.IO request that opened the
/// connection, and the `auth` payload of the namespace CONNECT.
#[derive(Debug, Clone)]
pub struct Handshake {
    request: Arc<HandshakeRequest>,
    auth: Option<Bytes>,
    /// When the socket asked to join, in milliseconds since the Unix epoch.
    issued: u64,
}

impl Handshake {
    pub(crate) fn new(request: Arc<HandshakeRequest>, auth: Option<Bytes>) -> Self {
        let issued = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Handshake {
            request,
            auth,
            issued,
        }
    }

    /// When the socket asked to join, in milliseconds since the Unix epoch.
    pub fn issued(&self) -> u64 {
        self.issued
    }

    /// The handshake as the Node server's `socket.handshake` object, which is what
    /// other servers get from `fetchSockets()`: `headers`, `time`, `address`,
    /// `xdomain`, `secure`, `issued`, `url`, `query` and `auth`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut headers = serde_json::Map::new();
        for (name, value) in self.request.headers.iter() {
            headers
                .entry(name.to_owned())
                .or_insert_with(|| serde_json::Value::String(value.to_owned()));
        }
        let mut query = serde_json::Map::new();
        for pair in self.request.query.split('&').filter(|p| !p.is_empty()) {
            let name = pair.split('=').next().unwrap_or_default();
            let decoded = engineio::query_value(&self.request.query, name).unwrap_or_default();
            query
                .entry(name.to_owned())
                .or_insert(serde_json::Value::String(decoded));
        }
        let auth = serde_json::from_slice(self.auth_json())
            .unwrap_or_else(|_| serde_json::Value::Object(Default::default()));
        serde_json::json!({
            "headers": headers,
            "time": js_date_string(self.issued),
            "address": self.request.address.map(|a| a.ip().to_string()),
            "xdomain": self.request.headers.get("origin").is_some(),
            "secure": false,
            "issued": self.issued,
            "url": format!("/socket.io/?{}", self.request.query),
            "query": query,
            "auth": auth,
        })
    }

    /// The CONNECT payload as JSON text (`{}` when the client sent none).
    pub fn auth_json(&self) -> &[u8] {
        self.auth.as_deref().unwrap_or(b"{}")
    }

    /// The CONNECT payload deserialized into `T`.
    pub fn auth<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(self.auth_json())
    }

    /// The handshake request's headers (names lowercase), in order.
    pub fn headers(&self) -> &HandshakeHeaders {
        &self.request.headers
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.request.headers.get(name)
    }

    /// The raw query string of the handshake request.
    pub fn query_string(&self) -> &str {
        &self.request.query
    }

    /// The value of query parameter `name` (percent-decoded), if present.
    pub fn query(&self, name: &str) -> Option<String> {
        engineio::query_value(&self.request.query, name)
    }

    /// The client's address.
    pub fn address(&self) -> Option<SocketAddr> {
        self.request.address
    }

    /// The Engine.IO transport the connection opened over.
    pub fn transport(&self) -> engineio::TransportKind {
        self.request.transport
    }
}

/// `ms` since the Unix epoch as JavaScript's `new Date(ms).toString()` writes it in UTC
/// (the Node server's `handshake.time`): `Mon Dec 07 2026 18:10:33 GMT+0000 (Coordinated
/// Universal Time)`.
fn js_date_string(ms: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{} {} {:02} {} {:02}:{:02}:{:02} GMT+0000 (Coordinated Universal Time)",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        year,
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake(query: &str, auth: Option<&'static str>) -> Handshake {
        let request = HandshakeRequest {
            sid: engineio::Sid::from_random_bytes([1; 15]),
            transport: engineio::TransportKind::Polling,
            query: query.to_owned(),
            headers: HandshakeHeaders::new([("User-Agent", "test")]),
            address: None,
        };
        Handshake::new(
            Arc::new(request),
            auth.map(|a| Bytes::from_static(a.as_bytes())),
        )
    }

    #[test]
    fn auth_defaults_to_an_empty_object() {
        let h = handshake("", None);
        assert_eq!(h.auth_json(), b"{}");
        let v: serde_json::Value = h.auth().unwrap();
        assert_eq!(v, serde_json::json!({}));
        let h = handshake("", Some(r#"{"token":"abc"}"#));
        let v: serde_json::Value = h.auth().unwrap();
        assert_eq!(v["token"], "abc");
    }

    #[test]
    fn the_time_reads_as_javascript_writes_it() {
        assert_eq!(
            js_date_string(0),
            "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(
            js_date_string(1_796_666_433_000),
            "Mon Dec 07 2026 18:00:33 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(
            js_date_string(951_782_400_000),
            "Tue Feb 29 2000 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
    }

    #[test]
    fn the_node_handshake_object() {
        let h = handshake(
            "EIO=4&transport=polling&name=a%20b",
            Some(r#"{"token":"t"}"#),
        );
        let v = h.to_json();
        assert_eq!(v["query"]["name"], "a b");
        assert_eq!(v["query"]["EIO"], "4");
        assert_eq!(v["auth"]["token"], "t");
        assert_eq!(v["headers"]["user-agent"], "test");
        assert_eq!(v["xdomain"], false);
        assert!(v["issued"].as_u64().unwrap() > 0);
    }

    #[test]
    fn query_and_headers() {
        let h = handshake("EIO=4&transport=polling&name=J%C3%A9r%C3%B4me+B&t=x", None);
        assert_eq!(h.query("name").as_deref(), Some("Jérôme B"));
        assert_eq!(h.query("EIO").as_deref(), Some("4"));
        assert_eq!(h.query("missing"), None);
        assert_eq!(h.header("User-Agent"), Some("test"));
    }
}
