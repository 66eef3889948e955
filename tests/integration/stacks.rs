//! The same bad input through every stack gets the same answers: each case runs against a
//! Socket.IO server served natively, the same server served as a layer of an axum `Router`,
//! and as the service of bare hyper; the statuses, bodies, CORS headers and WebSocket close
//! codes are compared.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use server_adapter::socketio::SocketIo;
use server_adapter::ws::{self, Decoder, Incoming, OpCode, Role};
use server_adapter::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{serve_axum, Client, Stack, Stop, WAIT};

/// The stacks compared; the first is the reference.
const STACKS: [Stack; 3] = [Stack::Native, Stack::Axum, Stack::Hyper];

/// The engine's `max_payload` in these tests.
const LIMIT: usize = 1000;

async fn start(stack: Stack) -> (SocketAddr, Stop) {
    let engine = engineio::Config {
        path: "/socket.io/".to_owned(),
        max_payload: LIMIT,
        ping_interval: Duration::from_secs(5),
        cors: Some(engineio::Cors::any_origin()),
        // Handshakes from this origin are refused.
        allow_request: Some(engineio::AllowRequest::new(|head| {
            match head.origin.as_deref() {
                Some("http://refused.example") => Err("not from there".to_owned()),
                _ => Ok(()),
            }
        })),
        ..engineio::Config::default()
    };
    let io = SocketIo::builder().engine_config(engine).build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = match stack {
        Stack::Native => {
            let server = Server::new().mount(io);
            let stop = Stop::Native(server.shutdown_handle());
            tokio::spawn(server.serve(listener));
            stop
        }
        Stack::Axum => {
            let router = axum::Router::new()
                .route("/health", axum::routing::get(|| async { "ok" }))
                .layer(io.layer());
            serve_axum(listener, router, move |grace| async move {
                io.shutdown(grace).await
            })
            .0
        }
        Stack::Hyper => crate::serve_hyper(listener, io).0,
    };
    (addr, stop)
}

/// Sends `request` on a new connection and returns the status and body of the answer, and
/// the CORS headers it had.
async fn exchange_with_cors(addr: SocketAddr, request: &[u8]) -> (u16, String, Vec<String>) {
    let mut client = Client::connect(addr).await;
    client.send(request).await;
    let answer = client.response().await.expect("an answer");
    let mut cors: Vec<String> = answer
        .headers
        .iter()
        .filter(|(n, _)| n.to_ascii_lowercase().starts_with("access-control-"))
        .map(|(n, v)| format!("{}: {v}", n.to_ascii_lowercase()))
        .collect();
    cors.sort();
    (answer.status, String::from_utf8(answer.body).unwrap(), cors)
}

/// Sends `request` on a new connection and returns the status and body of the answer.
async fn exchange(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let (status, body, _) = exchange_with_cors(addr, request).await;
    (status, body)
}

/// Opens a polling session; its sid.
async fn handshake(addr: SocketAddr) -> String {
    let (status, body) = exchange(
        addr,
        b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: a\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let open: serde_json::Value = serde_json::from_str(&body[1..]).unwrap();
    open["sid"].as_str().unwrap().to_owned()
}

fn post(sid: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: a\r\n\
         Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn chunked_post(sid: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: a\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(300) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// One case: what it sends (given a fresh session's sid), on a new connection.
type Case = (&'static str, fn(&str) -> Vec<u8>);

const CASES: [Case; 10] = [
    ("oversized body, announced", |sid| {
        post(sid, &[b'4'; LIMIT + 1])
    }),
    ("oversized body, chunked", |sid| {
        chunked_post(sid, &[b'4'; LIMIT + 1])
    }),
    ("unknown sid", |_| {
        b"GET /socket.io/?EIO=4&transport=polling&sid=nope HTTP/1.1\r\nHost: a\r\n\r\n".to_vec()
    }),
    ("bad transport", |_| {
        b"GET /socket.io/?EIO=4&transport=pigeon HTTP/1.1\r\nHost: a\r\n\r\n".to_vec()
    }),
    ("bad protocol version", |_| {
        b"GET /socket.io/?EIO=3&transport=polling HTTP/1.1\r\nHost: a\r\n\r\n".to_vec()
    }),
    ("bad method", |sid| {
        format!("PUT /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
            .into_bytes()
    }),
    ("invalid packet", |sid| post(sid, b"9nonsense")),
    ("a body within the limit", |sid| post(sid, b"41")),
    ("CORS preflight", |sid| {
        format!(
            "OPTIONS /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: a\r\n\
             Origin: http://page.example\r\nAccess-Control-Request-Method: POST\r\n\
             Access-Control-Request-Headers: content-type\r\n\r\n"
        )
        .into_bytes()
    }),
    ("handshake refused by allow_request", |_| {
        b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: a\r\n\
          Origin: http://refused.example\r\n\r\n"
            .to_vec()
    }),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_the_same_answers_natively_and_through_axum_and_hyper() {
    let mut servers = Vec::new();
    for stack in STACKS {
        servers.push((stack, start(stack).await));
    }
    for (name, request) in CASES {
        let mut answers = Vec::new();
        for (stack, (addr, _)) in &servers {
            let sid = handshake(*addr).await;
            answers.push((*stack, exchange_with_cors(*addr, &request(&sid)).await));
        }
        println!("{name}: {:?}", answers[0].1);
        for (stack, answer) in &answers[1..] {
            assert_eq!(&answers[0].1, answer, "{name}: native, then {stack:?}");
        }
    }
    let axum = servers[1].1 .0;
    let (status, body) = exchange(axum, b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    for (_, (_, stop)) in servers {
        stop.shutdown(Duration::from_secs(1));
    }
}

/// A WebSocket-only session; the stream after the `101` head and what followed it.
async fn open_websocket(addr: SocketAddr) -> (TcpStream, BytesMut) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n\
              Upgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await
        .unwrap();
    let mut buf = BytesMut::new();
    let end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = tokio::time::timeout(WAIT, stream.read_buf(&mut buf))
            .await
            .expect("the 101 in time")
            .unwrap();
        assert!(n > 0, "closed before the 101");
    };
    let head = buf.split_to(end);
    assert!(head.starts_with(b"HTTP/1.1 101 "), "{head:?}");
    (stream, buf)
}

/// The close code the server answers a message over the limit with, and the text frames
/// before it.
async fn close_code_for_oversized_message(addr: SocketAddr) -> (Vec<String>, Option<u16>) {
    let (mut stream, mut buf) = open_websocket(addr).await;
    let mut frame = Vec::new();
    let payload = vec![b'4'; LIMIT + 1];
    ws::encode_frame(true, OpCode::Text, Some([1, 2, 3, 4]), &payload, &mut frame);
    stream.write_all(&frame).await.unwrap();
    let mut decoder = Decoder::new(Role::Client, usize::MAX);
    let mut texts = Vec::new();
    loop {
        match decoder.decode(&mut buf).expect("server frames are valid") {
            Some(Incoming::Text(t)) => texts.push(String::from_utf8_lossy(&t).into_owned()),
            Some(Incoming::Close(frame)) => return (texts, frame.map(|f| f.code.0)),
            Some(_) => {}
            None => {
                let n = tokio::time::timeout(WAIT, stream.read_buf(&mut buf))
                    .await
                    .expect("a frame in time")
                    .unwrap();
                if n == 0 {
                    return (texts, None);
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_websocket_message_closes_with_1009_on_every_stack() {
    let mut codes = Vec::new();
    for stack in STACKS {
        let (addr, stop) = start(stack).await;
        let (texts, code) = close_code_for_oversized_message(addr).await;
        assert!(texts[0].starts_with("0{\"sid\":"), "{stack:?}: {texts:?}");
        codes.push(code);
        stop.shutdown(Duration::from_secs(1));
    }
    assert_eq!(codes, [Some(1009); STACKS.len()]);
}
