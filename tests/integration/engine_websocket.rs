//! Sessions over a raw WebSocket (no npm client): the handshake's bytes on the wire, the
//! heartbeat of a client that never stops sending, and the bound on a socket's handler
//! backlog.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use server_adapter::ws::{self, Decoder, Incoming, OpCode, Role};
use server_adapter::{EngineHandler, EngineIo, Server, SessionHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::WAIT;

/// Takes every message and answers none.
struct Sink;

impl EngineHandler for Sink {
    fn on_message(&self, _: &SessionHandle, _: engineio::Message) {}
}

async fn start(ping_interval: Duration) -> SocketAddr {
    let config = engineio::Config {
        ping_interval,
        ping_timeout: Duration::from_secs(5),
        ..engineio::Config::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        Server::new()
            .mount(EngineIo::new(config, Sink))
            .serve(listener),
    );
    addr
}

/// A client frame, masked.
fn frame(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    ws::encode_frame(true, opcode, Some([1, 2, 3, 4]), payload, &mut out);
    out
}

/// Opens a WebSocket-only session at `path` (`/engine.io/` or `/socket.io/`); returns the
/// stream and what followed the `101` head.
async fn open_at(addr: SocketAddr, path: &str) -> (TcpStream, BytesMut) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path}?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Upgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
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

async fn open(addr: SocketAddr) -> (TcpStream, BytesMut) {
    open_at(addr, "/engine.io/").await
}

/// The next server frame: `buf` holds what was read and not yet decoded.
async fn next(
    stream: &mut tokio::net::tcp::ReadHalf<'_>,
    buf: &mut BytesMut,
    decoder: &mut Decoder,
) -> Incoming {
    loop {
        if let Some(frame) = decoder.decode(buf).expect("server frames are valid") {
            return frame;
        }
        let n = tokio::time::timeout(WAIT, stream.read_buf(buf))
            .await
            .expect("a frame in time")
            .unwrap();
        assert!(n > 0, "the server closed the connection");
    }
}

/// The `101` head and the open packet arrive in that order, the open packet first of all
/// frames (the server writes them together).
#[tokio::test]
async fn the_open_packet_follows_the_101_head() {
    let addr = start(Duration::from_secs(25)).await;
    let (mut stream, mut buf) = open(addr).await;
    let (mut read, _write) = stream.split();
    let mut decoder = Decoder::new(Role::Client, usize::MAX);
    match next(&mut read, &mut buf, &mut decoder).await {
        Incoming::Text(t) => assert!(t.starts_with(b"0{\"sid\":"), "{t:?}"),
        other => panic!("expected the open packet, got {other:?}"),
    }
}

/// A client that sends without pause still gets the heartbeat's pings (the Engine.IO
/// session checks its heartbeat at every input, and the session task takes its wake-up
/// sources in turn).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_stops_sending_still_gets_pinged() {
    let addr = start(Duration::from_millis(50)).await;
    let (stream, mut buf) = open(addr).await;
    let (mut read, mut write) = stream.into_split();
    let stop = Arc::new(AtomicBool::new(false));
    let flooding = {
        let stop = stop.clone();
        tokio::spawn(async move {
            // Many small messages per write, so that the server always has one buffered.
            let mut burst = Vec::new();
            for _ in 0..64 {
                burst.extend(frame(OpCode::Text, b"4flood"));
            }
            // Bounded: stops itself after a few hundred thousand messages.
            for _ in 0..5_000 {
                if stop.load(Ordering::Relaxed) || write.write_all(&burst).await.is_err() {
                    break;
                }
            }
        })
    };
    let mut decoder = Decoder::new(Role::Client, usize::MAX);
    let mut pinged = false;
    let deadline = tokio::time::Instant::now() + WAIT;
    while !pinged && tokio::time::Instant::now() < deadline {
        let frame = loop {
            if let Some(frame) = decoder.decode(&mut buf).expect("server frames are valid") {
                break frame;
            }
            let n = tokio::time::timeout_at(deadline, read.read_buf(&mut buf))
                .await
                .expect("a frame in time")
                .unwrap();
            assert!(n > 0, "the server closed the connection");
        };
        match frame {
            Incoming::Text(t) if &t[..] == b"2" => pinged = true,
            Incoming::Text(t) if t.starts_with(b"0") => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    assert!(pinged, "no ping while the client was sending");
    let _ = flooding.await;
}

/// A Socket.IO client over a raw WebSocket, joined to `/`.
async fn socketio_client(addr: SocketAddr) -> (TcpStream, BytesMut, Decoder) {
    let (mut stream, mut buf) = open_at(addr, "/socket.io/").await;
    let mut decoder = Decoder::new(Role::Client, usize::MAX);
    {
        let (mut read, _) = stream.split();
        match next(&mut read, &mut buf, &mut decoder).await {
            Incoming::Text(t) => assert!(t.starts_with(b"0{"), "{t:?}"),
            other => panic!("expected the open packet, got {other:?}"),
        }
    }
    stream.write_all(&frame(OpCode::Text, b"40")).await.unwrap();
    {
        let (mut read, _) = stream.split();
        match next(&mut read, &mut buf, &mut decoder).await {
            Incoming::Text(t) => assert!(t.starts_with(b"40{\"sid\":"), "{t:?}"),
            other => panic!("expected the CONNECT answer, got {other:?}"),
        }
    }
    (stream, buf, decoder)
}

/// While a socket's handlers are behind (one waits), the server stops reading a client that
/// keeps sending, so its events do not pile up without bound; once the handlers catch up,
/// every event is handled, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_faster_than_its_handlers_is_held_back_and_nothing_is_lost() {
    use server_adapter::socketio::{RawArgs, SocketIo, SocketRef};
    use std::sync::atomic::AtomicUsize;
    use tokio::sync::Semaphore;

    // 8 KiB events, four times as many as the handler backlog holds, 32 MiB in all: more
    // than the backlog and the kernel's socket buffers together.
    const EVENTS: usize = 4 * 1024;
    let release = Arc::new(Semaphore::new(0));
    let handled = Arc::new(AtomicUsize::new(0));
    let out_of_order = Arc::new(AtomicBool::new(false));
    let all_handled = Arc::new(tokio::sync::Notify::new());
    let io = SocketIo::builder().build();
    {
        let (release, handled, out_of_order, all) = (
            release.clone(),
            handled.clone(),
            out_of_order.clone(),
            all_handled.clone(),
        );
        io.of("/").on_connection(move |socket: SocketRef| {
            let (release, handled, out_of_order, all) = (
                release.clone(),
                handled.clone(),
                out_of_order.clone(),
                all.clone(),
            );
            async move {
                socket.on("hold", move |_: RawArgs| {
                    let release = release.clone();
                    async move {
                        let _ = release.acquire().await;
                    }
                });
                socket.on("count", move |args: RawArgs| {
                    let (handled, out_of_order, all) =
                        (handled.clone(), out_of_order.clone(), all.clone());
                    async move {
                        // Each event carries its number first: `[n,"xxx..."]`.
                        let text = String::from_utf8_lossy(args.elements_json()).into_owned();
                        let n: usize = text.split(',').next().unwrap().parse().unwrap();
                        if handled.fetch_add(1, Ordering::SeqCst) != n {
                            out_of_order.store(true, Ordering::SeqCst);
                        }
                        if n + 1 == EVENTS {
                            all.notify_one();
                        }
                    }
                });
            }
        });
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(Server::new().mount(io).serve(listener));

    let (stream, _buf, _decoder) = socketio_client(addr).await;
    let (_read, mut write) = stream.into_split();
    write
        .write_all(&frame(OpCode::Text, b"42[\"hold\"]"))
        .await
        .unwrap();
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let written = written.clone();
        tokio::spawn(async move {
            let filler = "x".repeat(8 * 1024);
            for n in 0..EVENTS {
                let event = format!("42[\"count\",{n},\"{filler}\"]");
                write
                    .write_all(&frame(OpCode::Text, event.as_bytes()))
                    .await
                    .unwrap();
                written.fetch_add(1, Ordering::SeqCst);
            }
            write
        })
    };
    // Wait until the writer makes no more progress (the server has stopped reading), or
    // has written everything (which the server should not have let it do). Progress is
    // sampled, but a slow machine cannot fail this: a writer still moving is waited for,
    // and one wrongly seen as stalled only makes the check below easier.
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut last = usize::MAX;
    loop {
        let now_written = written.load(Ordering::SeqCst);
        if now_written == EVENTS || now_written == last || tokio::time::Instant::now() > deadline {
            break;
        }
        last = now_written;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        written.load(Ordering::SeqCst) < EVENTS,
        "the server read every event while its handler was held"
    );
    assert_eq!(handled.load(Ordering::SeqCst), 0);

    release.add_permits(1);
    let _write = tokio::time::timeout(WAIT, writer)
        .await
        .expect("the writer finishes once the handlers catch up")
        .unwrap();
    tokio::time::timeout(WAIT, all_handled.notified())
        .await
        .expect("every event handled");
    assert_eq!(handled.load(Ordering::SeqCst), EVENTS);
    assert!(
        !out_of_order.load(Ordering::SeqCst),
        "events handled out of order"
    );
}
