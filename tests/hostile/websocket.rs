//! The WebSocket rows, each on the WebSocket of a Socket.IO session.

use std::time::Instant;

use server_adapter::ws::{Incoming, OpCode};

use crate::harness::{read_to_end, run, RawWs, WAIT};

/// The close code the server ends the session with.
async fn closes_with(ws: RawWs, code: u16) -> String {
    let (got, _) = ws.closed().await;
    assert_eq!(got, Some(code));
    format!("close {code}")
}

/// A frame header with the mask bit set, for a payload length written as given.
fn header(first: u8, length: u64) -> Vec<u8> {
    let mut out = vec![first, 0x80 | 127];
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&[1, 2, 3, 4]);
    out
}

#[test]
fn websocket_table() {
    run("WebSocket", |mut t| async move {
        let addr = t.addr;
        t.row("an unmasked client frame", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            ws.send_raw(b"\x81\x024x").await;
            closes_with(ws, 1002).await
        })
        .await;
        t.row("reserved bits set", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            ws.send_raw(b"\xc1\x81\x01\x02\x03\x04\x35").await;
            closes_with(ws, 1002).await
        })
        .await;
        t.row("an unknown opcode", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            ws.send_raw(b"\x83\x80\x01\x02\x03\x04").await;
            closes_with(ws, 1002).await
        })
        .await;
        t.row("a fragmented control frame", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            ws.send_frame(false, OpCode::Ping, b"part").await;
            closes_with(ws, 1002).await
        })
        .await;
        t.row("a control frame over 125 bytes", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            ws.send_frame(true, OpCode::Ping, &[b'p'; 126]).await;
            closes_with(ws, 1002).await
        })
        .await;
        t.row("a continuation without a start", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            ws.send_frame(true, OpCode::Continuation, b"4x").await;
            closes_with(ws, 1002).await
        })
        .await;
        t.row("invalid UTF-8 split across fragments", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            // "42" then the first byte of a two-byte sequence; the next fragment does not
            // continue it.
            ws.send_frame(false, OpCode::Text, b"42\xc3").await;
            ws.send_frame(true, OpCode::Continuation, b"(").await;
            closes_with(ws, 1007).await
        })
        .await;
        t.row("a length of 2^63", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            ws.send_raw(&header(0x81, 1 << 63)).await;
            let answer = closes_with(ws, 1002).await;
            format!("{answer} (RFC 6455: the length's top bit is 0)")
        })
        .await;
        t.row("a length of 2^62", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            ws.send_raw(&header(0x81, 1 << 62)).await;
            let answer = closes_with(ws, 1009).await;
            format!("{answer} (over `max_payload`, from the header alone)")
        })
        .await;
        t.row("100,000 fragments of one byte each", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            // One EVENT for the acknowledging `ping`, its name padded with 100,000 - 18 spaces
            // of JSON whitespace, one byte a frame; written as one batch.
            let mut message = b"421[\"ping\"".to_vec();
            message.resize(100_000 - 1, b' ');
            message.push(b']');
            let mut frames = Vec::with_capacity(message.len() * 7);
            for (i, byte) in message.iter().enumerate() {
                let opcode = if i == 0 {
                    OpCode::Text
                } else {
                    OpCode::Continuation
                };
                server_adapter::ws::encode_frame(
                    i == message.len() - 1,
                    opcode,
                    Some([9, 8, 7, 6]),
                    &[*byte],
                    &mut frames,
                );
            }
            ws.send_raw(&frames).await;
            let ack = ws.next_text().await;
            assert_eq!(ack, "431[\"pong\"]");
            "assembled into one message (within `max_payload`) and handled".to_owned()
        })
        .await;
        t.row("a ping flood", async move {
            // 20,000 pings written without reading a pong; then the session still answers.
            let mut ws = RawWs::socketio(addr, "/").await;
            let mut frames = Vec::new();
            for _ in 0..20_000 {
                server_adapter::ws::encode_frame(
                    true,
                    OpCode::Ping,
                    Some([1, 1, 1, 1]),
                    &[b'p'; 125],
                    &mut frames,
                );
            }
            ws.send_raw(&frames).await;
            ws.send_text(b"422[\"ping\"]").await;
            let mut pongs = 0;
            loop {
                match tokio::time::timeout(WAIT, ws.next())
                    .await
                    .expect("in time")
                {
                    Some(Incoming::Pong(_)) => pongs += 1,
                    Some(Incoming::Text(t)) if &t[..] == b"432[\"pong\"]" => break,
                    Some(Incoming::Text(_)) => {}
                    other => panic!("{other:?}"),
                }
            }
            assert!(pongs > 0 && pongs <= 20_000);
            format!(
                "answered while the peer reads; the pongs a peer leaves unread are bounded \
                 (`ws::MAX_QUEUED_PONGS` = {}), the rest dropped; here {pongs} pongs",
                server_adapter::ws::MAX_QUEUED_PONGS
            )
        })
        .await;
        t.row("a close with an invalid code", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            ws.send_frame(true, OpCode::Close, &1005u16.to_be_bytes())
                .await;
            closes_with(ws, 1002).await
        })
        .await;
        t.row(
            "a peer that never answers the closing handshake",
            async move {
                let mut ws = RawWs::socketio(addr, "/").await;
                // The peer asks the session to end (an Engine.IO close packet): the server closes
                // the WebSocket with 1000, and this peer neither answers its close frame nor
                // closes the connection.
                ws.send_text(b"1").await;
                let started = Instant::now();
                loop {
                    match tokio::time::timeout(WAIT, ws.next())
                        .await
                        .expect("in time")
                    {
                        Some(Incoming::Close(_)) => break,
                        Some(_) => {}
                        None => panic!("closed before the close frame"),
                    }
                }
                let rest = read_to_end(&mut ws.stream).await;
                assert!(rest.is_empty());
                format!(
                    "close 1000, then the connection dropped after the close timeout \
                 (`ws::Config::close_timeout`, 5 s; here {:.1} s)",
                    started.elapsed().as_secs_f64()
                )
            },
        )
        .await;
        t
    });
}
