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
            "time": format!("{} ms since 1970-01-01T00:00:00Z", self.issued),
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
    fn query_and_headers() {
        let h = handshake("EIO=4&transport=polling&name=J%C3%A9r%C3%B4me+B&t=x", None);
        assert_eq!(h.query("name").as_deref(), Some("Jérôme B"));
        assert_eq!(h.query("EIO").as_deref(), Some("4"));
        assert_eq!(h.query("missing"), None);
        assert_eq!(h.header("User-Agent"), Some("test"));
    }
}
