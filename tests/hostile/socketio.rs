//! The Socket.IO rows, each on the WebSocket of a Socket.IO session.

use std::sync::atomic::Ordering;
use std::time::Duration;

use server_adapter::ws::{encode_frame, OpCode};

use crate::harness::{live_heap, run, RawWs, SLOW_DONE, SLOW_GATE, WAIT};

/// Masked text frames, one per message, as one batch of bytes.
fn frames<'a>(messages: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        encode_frame(true, OpCode::Text, Some([3, 1, 4, 1]), m, &mut out);
    }
    out
}

/// The session ends: the close code and the messages before it.
async fn ends(ws: RawWs) -> String {
    let (code, texts) = ws.closed().await;
    let code = code.expect("a close frame");
    assert!(texts.is_empty(), "{texts:?}");
    format!("the connection closes (WebSocket close {code})")
}

/// The socket still answers an acknowledged `ping`.
async fn still_answers(ws: &mut RawWs) {
    ws.send_text(b"42777[\"ping\"]").await;
    assert_eq!(ws.next_text().await, "43777[\"pong\"]");
}

#[test]
fn socketio_table() {
    run("Socket.IO", |mut t| async move {
        let addr = t.addr;
        t.row("CONNECT to 10,000 namespaces", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            let names: Vec<String> = (0..10_000).map(|i| format!("40/ns-{i},")).collect();
            ws.send_raw(&frames(names.iter().map(|n| n.as_bytes())))
                .await;
            for i in 0..10_000 {
                let answer = ws.next_text().await;
                assert_eq!(
                    answer,
                    format!("44/ns-{i},{{\"message\":\"Invalid namespace\"}}")
                );
            }
            still_answers(&mut ws).await;
            "each refused with `44` \"Invalid namespace\"; the socket stays".to_owned()
        })
        .await;
        t.row("CONNECT to 10,000 dynamic namespaces", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            let names: Vec<String> = (0..10_000).map(|i| format!("40/dyn-{i},")).collect();
            ws.send_raw(&frames(names.iter().map(|n| n.as_bytes())))
                .await;
            // With `/`, the connection holds at most 100 namespaces.
            for i in 0..10_000 {
                let answer = ws.next_text().await;
                if i < 99 {
                    assert!(
                        answer.starts_with(&format!("40/dyn-{i},{{\"sid\":")),
                        "{answer}"
                    );
                } else {
                    assert_eq!(
                        answer,
                        format!("44/dyn-{i},{{\"message\":\"Too many namespaces\"}}")
                    );
                }
            }
            still_answers(&mut ws).await;
            "the first 100 namespaces of a connection join (a child namespace each, gone with \
             its last socket); past them, `44` \"Too many namespaces\"; the socket stays"
                .to_owned()
        })
        .await;
        t.row("an ack id past 2^53", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            // Ids are read as unsigned 64-bit integers, exactly (the Node server reads a
            // double, rounding past 2^53); one past 2^64 - 1 does not parse.
            ws.send_text(b"429007199254740993[\"ping\"]").await;
            assert_eq!(ws.next_text().await, "439007199254740993[\"pong\"]");
            ws.send_text(b"4218446744073709551616[\"ping\"]").await;
            format!(
                "up to 2^64 - 1: acknowledged with the same id; past it: {}",
                ends(ws).await
            )
        })
        .await;
        t.row("a packet announcing a million attachments", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            ws.send_text(b"451000000-[\"ping\",{\"_placeholder\":true,\"num\":0}]")
                .await;
            ends(ws).await
        })
        .await;
        t.row("an attachment that never comes", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            ws.send_text(b"451-[\"ping\",{\"_placeholder\":true,\"num\":0}]")
                .await;
            // Held until the attachment; a text packet instead of it ends the session.
            ws.send_text(b"42[\"ping\"]").await;
            format!(
                "held until it comes (one packet, within `max_payload`); a text packet in its \
                 place: {}",
                ends(ws).await
            )
        })
        .await;
        t.row("JSON nested 100,000 deep", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            let mut packet = b"42[\"ping\",".to_vec();
            packet.extend(std::iter::repeat_n(b'[', 100_000));
            packet.extend(std::iter::repeat_n(b']', 100_000));
            packet.push(b']');
            ws.send_text(&packet).await;
            format!("{} (nesting over 64)", ends(ws).await)
        })
        .await;
        t.row("an event named like a reserved one", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            ws.send_text(b"42[\"disconnect\"]").await;
            ends(ws).await
        })
        .await;
        t.row("an ACK for an id never sent", async move {
            let mut ws = RawWs::socketio(addr, "/").await;
            ws.send_text(b"43999[\"forged\"]").await;
            still_answers(&mut ws).await;
            "ignored; the socket stays".to_owned()
        })
        .await;
        t.row("100,000 events to a slow handler", async move {
            let ws = RawWs::socketio(addr, "/").await;
            let before = SLOW_DONE.load(Ordering::Relaxed);
            let batch = frames(std::iter::repeat_n(&b"42[\"slow\"]"[..], 100_000));
            let baseline = live_heap();
            // Written from a task while this one watches the heap.
            let (read, mut write) = tokio::io::split(ws.stream);
            // The batch lives until the end, so that the heap's baseline holds it throughout.
            let writer = tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                write.write_all(&batch).await.expect("written");
                (write, batch)
            });
            // The handler waits at its first event: the rest queue, up to the bound, and then
            // stay in the socket. Wait for the heap to stop growing (20 samples in a row
            // within 1 KiB), then let the handlers run.
            let (mut peak, mut last) = (baseline, baseline);
            let mut steady = 0;
            let deadline = std::time::Instant::now() + WAIT;
            while steady < 20 {
                let now = live_heap();
                steady = if (now - last).abs() < 1024 {
                    steady + 1
                } else {
                    0
                };
                last = now;
                peak = peak.max(now);
                assert!(
                    std::time::Instant::now() < deadline,
                    "the heap kept growing"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            SLOW_GATE.add_permits(100_000);
            // Bounded by progress, not by the total: a debug build handles a few thousand of
            // these a second.
            let (mut done, mut progressed) = (0, std::time::Instant::now());
            while done < 100_000 {
                peak = peak.max(live_heap());
                let now = SLOW_DONE.load(Ordering::Relaxed) - before;
                if now > done {
                    (done, progressed) = (now, std::time::Instant::now());
                }
                assert!(
                    progressed.elapsed() < WAIT,
                    "the handler stopped at {done} of 100,000"
                );
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let (write, _batch) = writer.await.expect("the writer");
            drop(read.unsplit(write));
            let grew = (peak - baseline) / 1024;
            assert!(grew < 4096, "the heap grew by {grew} KiB");
            format!(
                "all handled; at most 1,024 wait per socket, then the server stops \
                 reading (TCP backpressure); the heap, sampled, grew by at most {grew} KiB"
            )
        })
        .await;
        t
    });
}
