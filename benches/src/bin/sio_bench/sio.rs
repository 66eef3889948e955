//! The Engine.IO v4 / Socket.IO v5 client side over the two transports, written from the
//! protocol documents: the handshake, the `40` CONNECT and its `40{"sid":..}` answer,
//! heartbeats answered (`2` → `3`), and Socket.IO packets in and out as text.
//!
//! Packets are handled as the bytes they are on the wire: a scenario builds the exact text
//! it sends and compares the exact text it gets back, so a server that answers anything but
//! what the reference server would is counted as an error.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use bytes::Bytes;

use crate::http::HttpClient;
use crate::ws::{Frame, WsClient};

/// The Engine.IO handshake path over WebSocket (no polling first, as a client with
/// `transports: ["websocket"]` does).
const WS_PATH: &str = "/socket.io/?EIO=4&transport=websocket";

/// The Engine.IO handshake path over long-polling.
const POLLING_PATH: &str = "/socket.io/?EIO=4&transport=polling";

/// A message the client got: a Socket.IO packet's text (after the Engine.IO `4`), or a
/// binary attachment.
#[derive(Debug)]
pub(crate) enum Msg {
    Text(Bytes),
    Binary(Bytes),
}

/// A Socket.IO client connected to the main namespace over WebSocket.
#[derive(Debug)]
pub(crate) struct SioWs {
    ws: WsClient,
}

impl SioWs {
    /// Opens the Engine.IO session and joins the namespace `/`.
    pub(crate) async fn connect(
        addr: SocketAddr,
        source: Option<Ipv4Addr>,
        seed: u64,
    ) -> io::Result<SioWs> {
        let mut ws = WsClient::connect(addr, source, WS_PATH, seed).await?;
        match ws.recv().await? {
            Frame::Text(open) if open.starts_with(b"0{") && contains(&open, b"\"sid\"") => {}
            other => return Err(unexpected("an Engine.IO open packet", &other)),
        }
        ws.send_text(b"40").await?;
        let mut conn = SioWs { ws };
        match conn.recv().await? {
            Msg::Text(t) if t.starts_with(b"0{") && contains(&t, b"\"sid\"") => Ok(conn),
            Msg::Text(t) => Err(io::Error::other(format!(
                "expected a Socket.IO CONNECT answer, got {:?}",
                String::from_utf8_lossy(&t)
            ))),
            Msg::Binary(_) => Err(io::Error::other(
                "expected a Socket.IO CONNECT answer, got binary",
            )),
        }
    }

    /// Queues an Engine.IO text packet (its type digit included, e.g. `42[...]`).
    pub(crate) fn queue_text(&mut self, text: &[u8]) {
        self.ws.queue_text(text);
    }

    /// Queues a binary attachment.
    pub(crate) fn queue_binary(&mut self, data: &[u8]) {
        self.ws.queue_binary(data);
    }

    /// Sends what was queued, in one write.
    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        self.ws.flush().await
    }

    /// The next Socket.IO message; answers pings on the way. An Engine.IO close is an
    /// `UnexpectedEof` error.
    pub(crate) async fn recv(&mut self) -> io::Result<Msg> {
        loop {
            match self.ws.recv().await? {
                Frame::Text(t) => match t.first() {
                    Some(b'4') => return Ok(Msg::Text(t.slice(1..))),
                    Some(b'2') => self.ws.send_text(b"3").await?,
                    Some(b'1') => return Err(io::ErrorKind::UnexpectedEof.into()),
                    _ => {}
                },
                Frame::Binary(b) => return Ok(Msg::Binary(b)),
            }
        }
    }
}

/// A Socket.IO client connected to `/` over long-polling only: one connection for the
/// GETs, one for the POSTs, as a browser's two concurrent requests would use.
#[derive(Debug)]
pub(crate) struct SioPolling {
    pub(crate) get: HttpClient,
    pub(crate) post: HttpClient,
    /// The session's path, `sid` included.
    pub(crate) path: String,
}

impl SioPolling {
    /// Opens the Engine.IO session and joins the namespace `/`.
    pub(crate) async fn connect(addr: SocketAddr) -> io::Result<SioPolling> {
        let mut get = HttpClient::new(addr);
        let (status, open) = get.get(POLLING_PATH).await?;
        if status != 200 || !open.starts_with(b"0{") {
            return Err(io::Error::other(format!(
                "handshake answered {status} {:?}",
                String::from_utf8_lossy(&open)
            )));
        }
        let sid = json_string_field(&open, "sid")
            .ok_or_else(|| io::Error::other("no sid in the open packet"))?;
        let path = format!("{POLLING_PATH}&sid={sid}");
        let mut post = HttpClient::new(addr);
        let (status, _) = post.post(&path, b"40").await?;
        if status != 200 {
            return Err(io::Error::other(format!("CONNECT POST answered {status}")));
        }
        loop {
            let (status, body) = get.get(&path).await?;
            if status != 200 {
                return Err(io::Error::other(format!("GET answered {status}")));
            }
            let mut connected = false;
            for packet in packets(&body) {
                match packet.first() {
                    Some(b'4') if packet.starts_with(b"40{") => connected = true,
                    Some(b'2') => {
                        post.post(&path, b"3").await?;
                    }
                    _ => {}
                }
            }
            if connected {
                return Ok(SioPolling { get, post, path });
            }
        }
    }
}

/// The Engine.IO packets of a polling payload (separated by the record separator 0x1e).
pub(crate) fn packets(payload: &Bytes) -> impl Iterator<Item = Bytes> + '_ {
    let mut start = 0;
    let mut done = payload.is_empty();
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let end = payload[start..]
            .iter()
            .position(|&b| b == 0x1e)
            .map_or(payload.len(), |p| start + p);
        let packet = payload.slice(start..end);
        if end == payload.len() {
            done = true;
        } else {
            start = end + 1;
        }
        Some(packet)
    })
}

/// The value of `"name":"..."` in a flat JSON object (no escapes in the value).
fn json_string_field(json: &[u8], name: &str) -> Option<String> {
    let key = format!("\"{name}\":\"");
    let start = crate::ws::find(json, key.as_bytes())? + key.len();
    let len = json[start..].iter().position(|&b| b == b'"')?;
    String::from_utf8(json[start..start + len].to_vec()).ok()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    crate::ws::find(haystack, needle).is_some()
}

fn unexpected(what: &str, got: &Frame) -> io::Error {
    io::Error::other(format!("expected {what}, got {got:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_polling_payload() {
        let payload = Bytes::from_static(b"2\x1e42[\"a\"]\x1e3");
        let all: Vec<Bytes> = packets(&payload).collect();
        assert_eq!(all, [&b"2"[..], &b"42[\"a\"]"[..], &b"3"[..]]);
        assert_eq!(packets(&Bytes::new()).count(), 0);
    }

    #[test]
    fn reads_the_sid() {
        let open = br#"0{"sid":"abc-_1","upgrades":[],"pingInterval":25000}"#;
        assert_eq!(json_string_field(open, "sid").as_deref(), Some("abc-_1"));
    }
}
