//! WebSocket over loopback, through the HTTP layer's upgrade: the handshake and its refusals,
//! fragmentation, control frames, close codes and bad frames, checked byte for byte.

use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use server_adapter::http::{service_fn, Config, Reply, Request};
use server_adapter::ws::{
    self, CloseCode, CloseFrame, Decoder, Incoming, Message, OpCode, Outgoing, Role, WebSocket,
};
use tokio::net::TcpStream;

use crate::{start, Client};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
const MASK: [u8; 4] = [0xA1, 0xB2, 0xC3, 0xD4];

/// The session under test: echoes messages; `close-me` makes it close with 4001; `batch`
/// makes it answer with three messages in one write.
async fn session(mut socket: WebSocket<TcpStream>) {
    loop {
        match socket.recv().await {
            Ok(Message::Text(t)) if &t[..] == b"close-me" => {
                socket.close(CloseCode(4001), "asked").await.unwrap();
                return;
            }
            Ok(Message::Text(t)) if &t[..] == b"batch" => {
                let prefix = Bytes::from_static(b"4");
                let shared = Bytes::from_static(b"shared");
                let two = [prefix, shared.clone()];
                let one = [shared];
                let batch = [
                    Outgoing::Text(&two),
                    Outgoing::Binary(&one),
                    Outgoing::Text(&two),
                ];
                socket.send_batch(&batch).await.unwrap();
            }
            Ok(Message::Text(t)) => socket.send(Outgoing::Text(&[t])).await.unwrap(),
            Ok(Message::Binary(b)) => socket.send(Outgoing::Binary(&[b])).await.unwrap(),
            Ok(Message::Pong(_)) => {}
            Ok(Message::Close(_)) | Err(_) => return,
        }
    }
}

async fn server(max_message_size: usize) -> SocketAddr {
    let config = ws::Config {
        max_message_size,
        ..ws::Config::default()
    };
    let service = service_fn(move |req: Request| {
        let config = config.clone();
        async move {
            match ws::accept(&req.head) {
                Ok(accept) => Reply::upgrade(accept.response(), move |up| {
                    session(WebSocket::from_upgraded(up, &config))
                }),
                Err(refusal) => Reply::Response(refusal),
            }
        }
    });
    start(Config::default(), service).await
}

fn handshake(extra: &str) -> String {
    format!(
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\n{extra}\r\n"
    )
}

/// A client frame, masked.
fn frame(fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    ws::encode_frame(fin, opcode, Some(MASK), payload, &mut out);
    out
}

fn close_frame(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    frame(true, OpCode::Close, &p)
}

/// A client after a successful handshake, reading server frames.
struct WsClient {
    http: Client,
    decoder: Decoder,
}

impl WsClient {
    async fn connect(addr: SocketAddr) -> WsClient {
        let mut http = Client::connect(addr).await;
        http.send(
            handshake(
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
            )
            .as_bytes(),
        )
        .await;
        let a = http.response().await.unwrap();
        assert_eq!(a.status, 101);
        assert_eq!(a.header("upgrade"), Some("websocket"));
        assert_eq!(a.header("connection"), Some("Upgrade"));
        assert_eq!(a.header("sec-websocket-accept"), Some(ACCEPT));
        assert_eq!(
            a.header("sec-websocket-extensions"),
            None,
            "permessage-deflate is declined"
        );
        WsClient {
            http,
            decoder: Decoder::new(Role::Client, usize::MAX),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.http.send(bytes).await;
    }

    /// The next server frame (the server never masks), or `None` when the server closed.
    async fn next(&mut self) -> Option<Incoming> {
        loop {
            let mut buf = BytesMut::from(&self.http.pending[..]);
            let decoded = self
                .decoder
                .decode(&mut buf)
                .expect("server frames are valid");
            let used = self.http.pending.len() - buf.len();
            self.http.pending.drain(..used);
            if decoded.is_some() {
                return decoded;
            }
            if !self.http.fill().await {
                return None;
            }
        }
    }

    /// Expects a close frame with `code`, then the server closing the connection.
    async fn expect_close(&mut self, code: u16) {
        match self.next().await {
            Some(Incoming::Close(Some(CloseFrame { code: c, .. }))) => assert_eq!(c.0, code),
            other => panic!("expected close {code}, got {other:?}"),
        }
        assert_eq!(self.next().await, None);
    }
}

#[tokio::test]
async fn handshake_refusals() {
    let addr = server(1024).await;
    let ask = |request: String| async move {
        let mut c = Client::connect(addr).await;
        c.send(request.as_bytes()).await;
        let a = c.response().await.unwrap();
        assert!(c.closed().await);
        a
    };
    let old = ask(handshake("Sec-WebSocket-Version: 8\r\n")).await;
    assert_eq!(old.status, 426);
    assert_eq!(old.header("sec-websocket-version"), Some("13"));
    assert_eq!(ask(handshake("")).await.status, 400);
    assert_eq!(
        ask("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n".to_owned())
            .await
            .status,
        400
    );
    assert_eq!(
        ask(handshake("Sec-WebSocket-Version: 13\r\n").replace(KEY, "c2hvcnQ="))
            .await
            .status,
        400
    );
    let post = ask(handshake("Sec-WebSocket-Version: 13\r\n").replace("GET", "POST")).await;
    assert_eq!((post.status, post.header("allow")), (405, Some("GET")));
}

#[tokio::test]
async fn echo_text_and_binary() {
    let mut c = WsClient::connect(server(1024).await).await;
    c.send(&frame(true, OpCode::Text, "héllo".as_bytes())).await;
    assert_eq!(c.next().await, Some(Incoming::Text(Bytes::from("héllo"))));
    c.send(&frame(true, OpCode::Binary, &[0, 255, 7])).await;
    assert_eq!(
        c.next().await,
        Some(Incoming::Binary(Bytes::from_static(&[0, 255, 7])))
    );
    c.send(&frame(true, OpCode::Text, b"")).await;
    assert_eq!(c.next().await, Some(Incoming::Text(Bytes::new())));
}

#[tokio::test]
async fn a_frame_in_the_same_packet_as_the_handshake_is_not_lost() {
    let mut c = Client::connect(server(1024).await).await;
    let mut bytes = handshake("Sec-WebSocket-Version: 13\r\n").into_bytes();
    bytes.extend(frame(true, OpCode::Text, b"2probe"));
    c.send(&bytes).await;
    assert_eq!(c.response().await.unwrap().status, 101);
    let mut c = WsClient {
        http: c,
        decoder: Decoder::new(Role::Client, usize::MAX),
    };
    assert_eq!(
        c.next().await,
        Some(Incoming::Text(Bytes::from_static(b"2probe")))
    );
}

#[tokio::test]
async fn fragmented_messages_with_control_frames_between_fragments() {
    let mut c = WsClient::connect(server(1024).await).await;
    let text = "fragments → one message".as_bytes();
    // Cut inside the three-byte arrow, so that UTF-8 is checked across fragments.
    let (a, rest) = text.split_at(11);
    let (b, d) = rest.split_at(1);
    let mut bytes = frame(false, OpCode::Text, a);
    bytes.extend(frame(true, OpCode::Ping, b"between"));
    bytes.extend(frame(false, OpCode::Continuation, b));
    bytes.extend(frame(true, OpCode::Pong, b"ignored"));
    bytes.extend(frame(true, OpCode::Continuation, d));
    // Sent one byte at a time, so that frames also arrive in pieces.
    for byte in bytes {
        c.send(&[byte]).await;
    }
    assert_eq!(
        c.next().await,
        Some(Incoming::Pong(Bytes::from_static(b"between")))
    );
    assert_eq!(
        c.next().await,
        Some(Incoming::Text(Bytes::copy_from_slice(text)))
    );
}

#[tokio::test]
async fn ping_payloads_up_to_125_bytes_are_answered() {
    let mut c = WsClient::connect(server(1024).await).await;
    let payload = [b'p'; 125];
    c.send(&frame(true, OpCode::Ping, &payload)).await;
    assert_eq!(
        c.next().await,
        Some(Incoming::Pong(Bytes::copy_from_slice(&payload)))
    );
}

#[tokio::test]
async fn batches_and_multi_chunk_messages() {
    let mut c = WsClient::connect(server(1024).await).await;
    c.send(&frame(true, OpCode::Text, b"batch")).await;
    assert_eq!(
        c.next().await,
        Some(Incoming::Text(Bytes::from_static(b"4shared")))
    );
    assert_eq!(
        c.next().await,
        Some(Incoming::Binary(Bytes::from_static(b"shared")))
    );
    assert_eq!(
        c.next().await,
        Some(Incoming::Text(Bytes::from_static(b"4shared")))
    );
}

#[tokio::test]
async fn client_close_is_echoed_with_its_code() {
    for code in [1000u16, 1001, 3000, 4999] {
        let mut c = WsClient::connect(server(1024).await).await;
        c.send(&close_frame(code, b"bye")).await;
        c.expect_close(code).await;
    }
    // An empty close is echoed empty.
    let mut c = WsClient::connect(server(1024).await).await;
    c.send(&frame(true, OpCode::Close, b"")).await;
    assert_eq!(c.next().await, Some(Incoming::Close(None)));
    assert_eq!(c.next().await, None);
}

#[tokio::test]
async fn server_initiated_close() {
    let mut c = WsClient::connect(server(1024).await).await;
    c.send(&frame(true, OpCode::Text, b"close-me")).await;
    assert_eq!(
        c.next().await,
        Some(Incoming::Close(Some(CloseFrame {
            code: CloseCode(4001),
            reason: "asked".into()
        })))
    );
    c.send(&close_frame(4001, b"")).await;
    assert_eq!(c.next().await, None);
}

#[tokio::test]
async fn bad_frames_close_with_the_right_code() {
    let mut unmasked = vec![0x81, 0x02];
    unmasked.extend_from_slice(b"hi");
    let mut rsv = frame(true, OpCode::Text, b"x");
    rsv[0] |= 0x20;
    let mut reserved_opcode = frame(true, OpCode::Text, b"x");
    reserved_opcode[0] = 0x83;
    let mut split_utf8 = frame(false, OpCode::Text, "€".as_bytes().get(..2).unwrap());
    split_utf8.extend(frame(true, OpCode::Continuation, b"x"));
    let mut two_starts = frame(false, OpCode::Text, b"a");
    two_starts.extend(frame(true, OpCode::Text, b"b"));
    let mut too_big_in_fragments = frame(false, OpCode::Binary, &[0; 600]);
    too_big_in_fragments.extend(frame(true, OpCode::Continuation, &[0; 600]));
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("unmasked", unmasked, 1002),
        ("reserved bit", rsv, 1002),
        ("reserved opcode", reserved_opcode, 1002),
        ("fragmented ping", frame(false, OpCode::Ping, b""), 1002),
        ("ping over 125", frame(true, OpCode::Ping, &[0; 126]), 1002),
        (
            "stray continuation",
            frame(true, OpCode::Continuation, b"x"),
            1002,
        ),
        ("new message mid-fragments", two_starts, 1002),
        ("one-byte close", frame(true, OpCode::Close, b"\x03"), 1002),
        ("close code 1005", close_frame(1005, b""), 1002),
        ("close code 999", close_frame(999, b""), 1002),
        ("close code 5000", close_frame(5000, b""), 1002),
        (
            "invalid UTF-8",
            frame(true, OpCode::Text, b"\xce\xba\xe1\xbd"),
            1007,
        ),
        ("UTF-8 cut across fragments", split_utf8, 1007),
        ("invalid close reason", close_frame(1000, b"\xff"), 1007),
        (
            "over the size limit",
            frame(true, OpCode::Binary, &[0; 1025]),
            1009,
        ),
        ("over the limit in fragments", too_big_in_fragments, 1009),
    ];
    let addr = server(1024).await;
    for (what, bytes, code) in cases {
        let mut c = WsClient::connect(addr).await;
        c.send(&bytes).await;
        match c.next().await {
            Some(Incoming::Close(Some(f))) => assert_eq!(f.code.0, code, "{what}"),
            other => panic!("{what}: expected close {code}, got {other:?}"),
        }
        assert_eq!(
            c.next().await,
            None,
            "{what}: the server closes the connection"
        );
    }
}

#[tokio::test]
async fn a_message_at_the_limit_passes() {
    let mut c = WsClient::connect(server(70_000).await).await;
    let payload: Vec<u8> = (0..70_000u32).map(|i| (i % 256) as u8).collect();
    c.send(&frame(true, OpCode::Binary, &payload)).await;
    assert_eq!(c.next().await, Some(Incoming::Binary(Bytes::from(payload))));
}
