//! WebSocket tests over an in-memory stream with tokio's paused clock, the peer played by raw
//! frames.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;
use crate::ws::frame::{encode_frame, OpCode};

const MASK: [u8; 4] = [9, 8, 7, 6];

fn client_frame(fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(fin, opcode, Some(MASK), payload, &mut out);
    out
}

fn pair(config: &Config) -> (DuplexStream, WebSocket<DuplexStream>) {
    let (client, server) = tokio::io::duplex(4096);
    (client, WebSocket::new(server, BytesMut::new(), config))
}

/// The peer's side: reads server frames.
struct Peer {
    io: DuplexStream,
    buf: BytesMut,
    decoder: Decoder,
}

impl Peer {
    fn new(io: DuplexStream) -> Peer {
        Peer {
            io,
            buf: BytesMut::new(),
            decoder: Decoder::new(Role::Client, usize::MAX),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.io.write_all(bytes).await.unwrap();
    }

    /// The next frame from the server, or `None` at end of stream.
    async fn next(&mut self) -> Option<Incoming> {
        loop {
            if let Some(m) = self.decoder.decode(&mut self.buf).unwrap() {
                return Some(m);
            }
            if self.io.read_buf(&mut self.buf).await.unwrap() == 0 {
                return None;
            }
        }
    }
}

fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    client_frame(true, OpCode::Close, &p)
}

fn closed_with(code: CloseCode) -> Option<Incoming> {
    Some(Incoming::Close(Some(CloseFrame {
        code,
        reason: String::new(),
    })))
}

#[tokio::test(start_paused = true)]
async fn messages_arrive_whole_and_no_buffer_is_kept_afterwards() {
    let (client, mut ws) = pair(&Config::default());
    let mut peer = Peer::new(client);
    let mut input = client_frame(false, OpCode::Text, b"Hel");
    input.extend(client_frame(true, OpCode::Continuation, b"lo"));
    input.extend(client_frame(true, OpCode::Binary, &[1, 2, 3]));
    peer.send(&input).await;
    assert_eq!(
        ws.recv().await.unwrap(),
        Message::Text(Bytes::from_static(b"Hello"))
    );
    assert_eq!(
        ws.recv().await.unwrap(),
        Message::Binary(Bytes::from_static(&[1, 2, 3]))
    );
    // Everything buffered was used: the next wait for data holds no buffer.
    let pending = tokio::time::timeout(Duration::from_secs(1), ws.recv()).await;
    assert!(pending.is_err());
    assert_eq!(ws.read_buffer_capacity(), 0);
}

#[tokio::test(start_paused = true)]
async fn bytes_read_past_the_handshake_come_first() {
    let (client, server) = tokio::io::duplex(4096);
    let early = BytesMut::from(&client_frame(true, OpCode::Text, b"early")[..]);
    let mut ws = WebSocket::new(server, early, &Config::default());
    let mut peer = Peer::new(client);
    peer.send(&client_frame(true, OpCode::Text, b"late")).await;
    assert_eq!(
        ws.recv().await.unwrap(),
        Message::Text(Bytes::from_static(b"early"))
    );
    assert_eq!(
        ws.recv().await.unwrap(),
        Message::Text(Bytes::from_static(b"late"))
    );
}

#[tokio::test(start_paused = true)]
async fn pings_are_answered_and_pongs_surfaced() {
    let (client, mut ws) = pair(&Config::default());
    let mut peer = Peer::new(client);
    let mut input = client_frame(true, OpCode::Ping, b"p1");
    input.extend(client_frame(true, OpCode::Ping, b"p2"));
    input.extend(client_frame(true, OpCode::Pong, b"unsolicited"));
    peer.send(&input).await;
    assert_eq!(
        ws.recv().await.unwrap(),
        Message::Pong(Bytes::from_static(b"unsolicited"))
    );
    // The pongs go out while `recv` waits for more.
    let waiting = tokio::spawn(async move { (ws.recv().await, ws) });
    assert_eq!(
        peer.next().await,
        Some(Incoming::Pong(Bytes::from_static(b"p1")))
    );
    assert_eq!(
        peer.next().await,
        Some(Incoming::Pong(Bytes::from_static(b"p2")))
    );
    peer.send(&client_frame(true, OpCode::Text, b"x")).await;
    assert_eq!(
        waiting.await.unwrap().0.unwrap(),
        Message::Text(Bytes::from_static(b"x"))
    );
}

#[tokio::test(start_paused = true)]
async fn peer_close_is_echoed_and_reported() {
    let (client, mut ws) = pair(&Config::default());
    let mut peer = Peer::new(client);
    peer.send(&close_frame(4000, "bye")).await;
    let frame = CloseFrame {
        code: CloseCode(4000),
        reason: "bye".into(),
    };
    // `recv` returns once the peer has the echo and the connection is closed; the peer closes
    // when it sees the echo, as clients do.
    let (got, echoed) = tokio::join!(ws.recv(), async {
        let echo = peer.next().await;
        assert_eq!(peer.next().await, None, "server closed first");
        drop(peer);
        echo
    });
    assert_eq!(got.unwrap(), Message::Close(Some(frame)));
    assert_eq!(echoed, closed_with(CloseCode(4000)));
    assert!(matches!(ws.recv().await, Err(Error::Closed)));
    assert!(matches!(
        ws.send(Outgoing::Text(&[])).await,
        Err(Error::Closed)
    ));
}

#[tokio::test(start_paused = true)]
async fn empty_close_is_echoed_empty() {
    let (client, mut ws) = pair(&Config::default());
    let mut peer = Peer::new(client);
    peer.send(&client_frame(true, OpCode::Close, b"")).await;
    let (got, echoed) = tokio::join!(ws.recv(), peer.next());
    assert_eq!(got.unwrap(), Message::Close(None));
    assert_eq!(echoed, Some(Incoming::Close(None)));
}

#[tokio::test(start_paused = true)]
async fn protocol_errors_close_with_their_codes() {
    let cases: Vec<(Vec<u8>, CloseCode)> = vec![
        (
            client_frame(true, OpCode::Text, b"\xff"),
            CloseCode::INVALID_PAYLOAD,
        ),
        (
            client_frame(true, OpCode::Continuation, b"x"),
            CloseCode::PROTOCOL_ERROR,
        ),
        (
            client_frame(false, OpCode::Ping, b""),
            CloseCode::PROTOCOL_ERROR,
        ),
        (close_frame(1005, ""), CloseCode::PROTOCOL_ERROR),
        (vec![0x81, 0x00], CloseCode::PROTOCOL_ERROR), // unmasked
        (
            client_frame(true, OpCode::Binary, &[0; 11]),
            CloseCode::TOO_BIG,
        ),
    ];
    for (input, code) in cases {
        let (client, mut ws) = pair(&Config {
            max_message_size: 10,
            ..Config::default()
        });
        let mut peer = Peer::new(client);
        peer.send(&input).await;
        let (got, sent) = tokio::join!(ws.recv(), peer.next());
        let Err(Error::Protocol(e)) = got else {
            panic!("{got:?}")
        };
        assert_eq!(e.close_code(), code);
        assert_eq!(sent, closed_with(code));
        assert_eq!(peer.next().await, None);
    }
}

#[tokio::test(start_paused = true)]
async fn eof_without_close_is_reported() {
    let (client, mut ws) = pair(&Config::default());
    let mut peer = Peer::new(client);
    peer.send(&client_frame(false, OpCode::Text, b"half")).await;
    drop(peer);
    assert!(matches!(ws.recv().await, Err(Error::UnexpectedEof)));
    assert!(matches!(ws.recv().await, Err(Error::Closed)));
}

#[tokio::test(start_paused = true)]
async fn server_close_waits_for_the_peer_close() {
    let (client, mut ws) = pair(&Config::default());
    let mut peer = Peer::new(client);
    let closing = tokio::spawn(async move {
        let r = ws.close(CloseCode::GOING_AWAY, "restart").await;
        (r, ws)
    });
    assert_eq!(
        peer.next().await,
        Some(Incoming::Close(Some(CloseFrame {
            code: CloseCode::GOING_AWAY,
            reason: "restart".into()
        })))
    );
    // A message still in flight from the peer is discarded; its close ends the handshake.
    peer.send(&client_frame(true, OpCode::Text, b"late")).await;
    peer.send(&close_frame(1001, "")).await;
    assert_eq!(peer.next().await, None);
    let (r, mut ws) = closing.await.unwrap();
    r.unwrap();
    assert!(!ws.is_open());
    assert!(matches!(ws.recv().await, Err(Error::Closed)));
}

#[tokio::test(start_paused = true)]
async fn close_gives_up_after_the_timeout() {
    let config = Config::default();
    let (client, mut ws) = pair(&config);
    let start = Instant::now();
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    assert_eq!(start.elapsed(), config.close_timeout);
    drop(client);
}

#[tokio::test(start_paused = true)]
async fn close_refuses_caller_mistakes() {
    let (_client, mut ws) = pair(&Config::default());
    assert!(matches!(
        ws.close(CloseCode(1005), "").await,
        Err(Error::InvalidCloseCode(1005))
    ));
    assert!(matches!(
        ws.close(CloseCode::NORMAL, &"r".repeat(124)).await,
        Err(Error::CloseReasonTooLong)
    ));
    assert!(ws.is_open());
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_recv_loses_nothing() {
    let (client, mut ws) = pair(&Config::default());
    let mut peer = Peer::new(client);
    let frame = client_frame(true, OpCode::Text, "a text split across reads".as_bytes());
    peer.send(&frame[..9]).await;
    assert!(tokio::time::timeout(Duration::from_secs(1), ws.recv())
        .await
        .is_err());
    peer.send(&frame[9..]).await;
    assert_eq!(
        ws.recv().await.unwrap(),
        Message::Text(Bytes::from("a text split across reads"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_send_cancelled_midway_is_finished_by_the_next_call() {
    let (client, server) = tokio::io::duplex(1000);
    let mut ws = WebSocket::new(server, BytesMut::new(), &Config::default());
    let mut peer = Peer::new(client);
    let payload = Bytes::from(vec![b'a'; 5000]);
    // The peer does not read: the send writes what fits, then waits; the timer cancels it.
    let big = [payload.clone()];
    let sent = tokio::time::timeout(Duration::from_secs(1), ws.send(Outgoing::Binary(&big))).await;
    assert!(sent.is_err(), "the send waited for the peer");
    let next = [Bytes::from_static(b"next")];
    let (sent, first) = tokio::join!(ws.send(Outgoing::Text(&next)), peer.next());
    sent.unwrap();
    assert_eq!(
        first,
        Some(Incoming::Binary(payload)),
        "the cancelled message arrives whole"
    );
    assert_eq!(peer.next().await, Some(Incoming::Text(next[0].clone())));
}

#[tokio::test(start_paused = true)]
async fn a_send_that_wrote_nothing_sends_nothing_when_cancelled() {
    let (client, server) = tokio::io::duplex(16);
    let mut ws = WebSocket::new(server, BytesMut::new(), &Config::default());
    let mut peer = Peer::new(client);
    let fill = Bytes::from(vec![b'f'; 14]);
    ws.send(Outgoing::Binary(std::slice::from_ref(&fill)))
        .await
        .unwrap();
    // The stream is full: this send cannot write a byte, and is dropped.
    let dropped = [Bytes::from_static(b"dropped")];
    assert!(
        tokio::time::timeout(Duration::from_secs(1), ws.send(Outgoing::Text(&dropped)))
            .await
            .is_err()
    );
    let kept = [Bytes::from_static(b"kept")];
    let (sent, first) = tokio::join!(ws.send(Outgoing::Text(&kept)), peer.next());
    sent.unwrap();
    assert_eq!(first, Some(Incoming::Binary(fill)));
    assert_eq!(peer.next().await, Some(Incoming::Text(kept[0].clone())));
}

#[tokio::test(start_paused = true)]
async fn batches_and_chunked_payloads_arrive_as_separate_messages() {
    let (client, mut ws) = pair(&Config::default());
    let mut peer = Peer::new(client);
    let prefix = Bytes::from_static(b"4");
    let shared = Bytes::from_static(b"{\"event\":1}");
    let two = [prefix.clone(), shared.clone()];
    ws.send_batch(&[
        Outgoing::Text(&two),
        Outgoing::Binary(std::slice::from_ref(&shared)),
        Outgoing::Text(&two),
    ])
    .await
    .unwrap();
    assert_eq!(
        peer.next().await,
        Some(Incoming::Text(Bytes::from_static(b"4{\"event\":1}")))
    );
    assert_eq!(peer.next().await, Some(Incoming::Binary(shared)));
    assert_eq!(
        peer.next().await,
        Some(Incoming::Text(Bytes::from_static(b"4{\"event\":1}")))
    );
}

#[tokio::test(start_paused = true)]
async fn queued_messages_go_out_in_order_with_one_flush() {
    // A duplex of 64 bytes: the flush cannot finish in its first write.
    let (client, server) = tokio::io::duplex(64);
    let mut ws = WebSocket::new(server, BytesMut::new(), &Config::default());
    let mut peer = Peer::new(client);
    let prefix = Bytes::from_static(b"4");
    let data: Vec<Bytes> = (0..12u8).map(|i| Bytes::from(vec![b'a' + i; 20])).collect();
    for d in &data {
        ws.queue(&Outgoing::Text(&[prefix.clone(), d.clone()]))
            .unwrap();
    }
    ws.queue(&Outgoing::Binary(std::slice::from_ref(&data[0])))
        .unwrap();
    assert!(ws.has_queued());
    let (flushed, ()) = tokio::join!(ws.flush(), async {
        for d in &data {
            let mut text = b"4".to_vec();
            text.extend_from_slice(d);
            assert_eq!(peer.next().await, Some(Incoming::Text(Bytes::from(text))));
        }
        assert_eq!(peer.next().await, Some(Incoming::Binary(data[0].clone())));
    });
    flushed.unwrap();
    assert!(!ws.has_queued());
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(matches!(
        ws.queue(&Outgoing::Binary(&[])),
        Err(Error::Closed)
    ));
}

#[tokio::test(start_paused = true)]
async fn a_deferred_101_head_goes_out_first_with_the_first_frame() {
    let (mut client, server) = tokio::io::duplex(4096);
    let head = b"HTTP/1.1 101 Switching Protocols\r\n\r\n";
    let upgraded = Upgraded {
        io: server,
        read_buf: BytesMut::new(),
        head: Bytes::from_static(head),
    };
    let mut ws = WebSocket::from_upgraded(upgraded, &Config::default());
    assert!(ws.has_queued());
    ws.queue(&Outgoing::Text(&[Bytes::from_static(b"0{}")]))
        .unwrap();
    ws.flush().await.unwrap();
    let mut got = vec![0u8; head.len() + 5];
    client.read_exact(&mut got).await.unwrap();
    assert_eq!(&got[..head.len()], head);
    assert_eq!(&got[head.len()..], b"\x81\x030{}");
}

#[tokio::test(start_paused = true)]
async fn large_frames_are_read_straight_into_a_growing_buffer() {
    let (client, server) = tokio::io::duplex(1 << 16);
    let mut ws = WebSocket::new(
        server,
        BytesMut::new(),
        &Config {
            max_message_size: 4 << 20,
            ..Config::default()
        },
    );
    let mut peer = Peer::new(client);
    let payload: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let frame = client_frame(true, OpCode::Binary, &payload);
    let (got, ()) = tokio::join!(ws.recv(), peer.send(&frame));
    assert_eq!(got.unwrap(), Message::Binary(Bytes::from(payload)));
    assert_eq!(ws.read_buffer_capacity(), 0);
}

/// An idle socket costs its stream plus this state; the bound guards against growth.
#[test]
fn an_idle_socket_is_small() {
    let size = std::mem::size_of::<WebSocket<tokio::net::TcpStream>>();
    assert!(size <= 256, "WebSocket<TcpStream> is {size} bytes");
}

/// What one read brought behind the first message is taken without waiting: a ping on the
/// way is answered with the next write, and nothing more is returned once the buffer holds
/// no whole message.
#[tokio::test(start_paused = true)]
async fn buffered_messages_are_taken_without_reading() {
    let (client, mut ws) = pair(&Config::default());
    let mut peer = Peer::new(client);
    let mut burst = client_frame(true, OpCode::Text, b"one");
    burst.extend(client_frame(true, OpCode::Ping, b"p"));
    burst.extend(client_frame(true, OpCode::Binary, &[1, 2]));
    burst.extend(client_frame(false, OpCode::Text, b"half"));
    peer.send(&burst).await;
    assert!(matches!(ws.recv().await, Ok(Message::Text(t)) if t == "one"));
    assert!(matches!(ws.try_recv_buffered(), Some(Message::Binary(b)) if b[..] == [1, 2]));
    assert!(
        ws.try_recv_buffered().is_none(),
        "a message not complete yet"
    );
    assert!(ws.has_queued(), "the pong waits for the next write");
    ws.flush().await.unwrap();
    assert!(matches!(peer.next().await, Some(Incoming::Pong(p)) if p[..] == *b"p"));
    peer.send(&client_frame(true, OpCode::Continuation, b"!"))
        .await;
    assert!(matches!(ws.recv().await, Ok(Message::Text(t)) if t == "half!"));
}

/// A close frame found in the buffer begins the closing handshake; `recv` finishes it.
#[tokio::test(start_paused = true)]
async fn a_buffered_close_is_finished_by_recv() {
    let (client, mut ws) = pair(&Config::default());
    let mut peer = Peer::new(client);
    let mut burst = client_frame(true, OpCode::Text, b"last");
    burst.extend(close_frame(1000, "bye"));
    peer.send(&burst).await;
    assert!(matches!(ws.recv().await, Ok(Message::Text(_))));
    assert!(ws.try_recv_buffered().is_none());
    assert!(!ws.is_open(), "closing");
    assert!(matches!(ws.recv().await, Ok(Message::Close(Some(f))) if f.code.0 == 1000));
    assert!(matches!(peer.next().await, Some(Incoming::Close(Some(f))) if f.code.0 == 1000));
}
