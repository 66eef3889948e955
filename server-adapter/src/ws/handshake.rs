//! The opening handshake (RFC 6455 §4.2), sans-IO: from a request head to either the `101`
//! response or a refusal.
//!
//! Refusals, each closing the connection:
//! - `405 Method Not Allowed` (with `Allow: GET`) for a method other than GET;
//! - `426 Upgrade Required` (with `Sec-WebSocket-Version: 13`) for a version other than 13;
//! - `400 Bad Request` for anything else wrong: HTTP/1.0, no `Upgrade: websocket` or
//!   `Connection: upgrade`, no `Sec-WebSocket-Version`, a key that is not 16 bytes in base64.
//!
//! Extensions (`permessage-deflate`) and subprotocols are not negotiated: their offers are
//! ignored, so the `101` names none and frames with reserved bits set are protocol errors.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sha1::{Digest, Sha1};

use crate::http::{RequestHead, Response, Version};

/// The GUID RFC 6455 appends to the client's key.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`: base64 of the SHA-1 of the key
/// followed by the RFC's GUID.
#[must_use]
pub fn accept_key(key: &[u8]) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key);
    sha1.update(GUID);
    BASE64.encode(sha1.finalize())
}

/// Whether the request asks for a WebSocket (`Upgrade: websocket`), valid or not: what an
/// engine checks to tell an upgrade attempt from a plain request.
#[must_use]
pub fn is_upgrade_request(head: &RequestHead) -> bool {
    head.has_token("upgrade", "websocket")
}

/// A valid handshake: what the `101 Switching Protocols` response needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accept {
    accept: String,
}

impl Accept {
    /// The `Sec-WebSocket-Accept` value.
    #[must_use]
    pub fn accept_key(&self) -> &str {
        &self.accept
    }

    /// The `101 Switching Protocols` response, for
    /// [`Reply::upgrade`](crate::http::Reply::upgrade).
    #[must_use]
    pub fn response(&self) -> Response {
        Response::new(101)
            .header("Upgrade", "websocket")
            .header("Sec-WebSocket-Accept", self.accept.clone())
    }
}

fn refuse(status: u16, why: &'static str) -> Response {
    Response::text(status, why).close()
}

/// Validates an opening handshake: the accept value, or the refusal to send (see the module
/// docs).
///
/// # Errors
/// The refusal response when the handshake is not a valid version-13 WebSocket handshake.
pub fn accept(head: &RequestHead) -> Result<Accept, Response> {
    if head.method() != "GET" {
        return Err(refuse(405, "WebSocket handshakes use GET").header("Allow", "GET"));
    }
    if head.version() == Version::Http10 {
        return Err(refuse(400, "WebSocket handshakes need HTTP/1.1"));
    }
    if !is_upgrade_request(head) || !head.has_token("connection", "upgrade") {
        return Err(refuse(
            400,
            "missing Upgrade: websocket or Connection: upgrade",
        ));
    }
    match head.header("sec-websocket-version").map(<[u8]>::trim_ascii) {
        Some(b"13") => {}
        Some(_) => {
            return Err(
                refuse(426, "unsupported WebSocket version").header("Sec-WebSocket-Version", "13")
            );
        }
        None => return Err(refuse(400, "missing Sec-WebSocket-Version")),
    }
    let mut keys = head.headers_named("sec-websocket-key");
    let (Some(key), None) = (keys.next(), keys.next()) else {
        return Err(refuse(400, "missing or repeated Sec-WebSocket-Key"));
    };
    let key = key.trim_ascii();
    match BASE64.decode(key) {
        Ok(raw) if raw.len() == 16 => Ok(Accept {
            accept: accept_key(key),
        }),
        _ => Err(refuse(400, "Sec-WebSocket-Key is not 16 bytes in base64")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Config, HeadParser};
    use bytes::BytesMut;

    fn head(s: &str) -> RequestHead {
        HeadParser::new()
            .parse(&mut BytesMut::from(s.as_bytes()), &Config::default())
            .unwrap()
            .unwrap()
    }

    const GOOD: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
        Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";

    #[test]
    fn rfc_example_key() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn accepts_the_rfc_handshake_and_negotiates_nothing() {
        let accept = accept(&head(GOOD)).unwrap();
        assert_eq!(accept.accept_key(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        let r = accept.response();
        assert_eq!(r.status(), 101);
        let names: Vec<&str> = r.headers().map(|(n, _)| n).collect();
        assert_eq!(names, ["Upgrade", "Sec-WebSocket-Accept"]);
    }

    #[test]
    fn refusals() {
        let status = |s: String| accept(&head(&s)).unwrap_err().status();
        assert_eq!(status(GOOD.replace("GET", "POST")), 405);
        assert_eq!(status(GOOD.replace("HTTP/1.1", "HTTP/1.0")), 400);
        assert_eq!(
            status(GOOD.replace("Upgrade: websocket", "Upgrade: h2c")),
            400
        );
        assert_eq!(
            status(GOOD.replace("Connection: Upgrade", "Connection: keep-alive")),
            400
        );
        assert_eq!(
            status(GOOD.replace("Sec-WebSocket-Version: 13\r\n", "")),
            400
        );
        assert_eq!(
            status(GOOD.replace("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZQ==")),
            400
        );
        assert_eq!(
            status(GOOD.replace("dGhlIHNhbXBsZSBub25jZQ==", "not base64!")),
            400
        );
        let two_keys = GOOD.replace(
            "Origin",
            "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nOrigin",
        );
        assert_eq!(status(two_keys), 400);
        let old = accept(&head(&GOOD.replace("Version: 13", "Version: 8"))).unwrap_err();
        assert_eq!(old.status(), 426);
        assert!(old
            .headers()
            .any(|(n, v)| n == "Sec-WebSocket-Version" && v == b"13"));
        assert!(old.closes());
    }

    #[test]
    fn tokens_are_case_insensitive_lists() {
        let h = GOOD
            .replace("Upgrade: websocket", "Upgrade: WebSocket")
            .replace("Connection: Upgrade", "Connection: keep-alive, upgrade");
        assert!(accept(&head(&h)).is_ok());
    }
}
