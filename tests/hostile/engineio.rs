//! The Engine.IO rows.

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::harness::{
    exchange, polling, polling_session, read_response, run, Answer, RawWs, MAX_PAYLOAD,
};

/// An Engine.IO error answer: the status and the JSON body.
fn error(answer: &Answer, status: u16, body: &str) -> String {
    assert_eq!(answer.status, Some(status), "{}", answer.text);
    assert_eq!(answer.body(), body, "{}", answer.text);
    format!("{status} `{body}`")
}

/// Whether the session `sid` is gone: a GET of it is refused as unknown.
async fn is_gone(addr: std::net::SocketAddr, sid: &str) -> bool {
    let answer = exchange(addr, &polling("GET", sid, b"", "")).await;
    answer.status == Some(400) && answer.body() == r#"{"code":1,"message":"Session ID unknown"}"#
}

const UNKNOWN_SID: &str = r#"{"code":1,"message":"Session ID unknown"}"#;
const BAD_REQUEST: &str = r#"{"code":3,"message":"Bad request"}"#;

#[test]
fn engineio_table() {
    run("Engine.IO", |mut t| async move {
        let addr = t.addr;
        t.row("an unknown sid", async move {
            error(
                &exchange(addr, &polling("GET", "nope", b"", "")).await,
                400,
                UNKNOWN_SID,
            )
        })
        .await;
        t.row("a closed sid", async move {
            let sid = polling_session(addr).await;
            let closed = exchange(addr, &polling("POST", &sid, b"1", "")).await;
            assert_eq!(closed.status, Some(200));
            error(
                &exchange(addr, &polling("GET", &sid, b"", "")).await,
                400,
                UNKNOWN_SID,
            )
        })
        .await;
        t.row("a wrong `EIO`", async move {
            let answer = exchange(
                addr,
                b"GET /socket.io/?EIO=3&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
            )
            .await;
            error(
                &answer,
                400,
                r#"{"code":5,"message":"Unsupported protocol version"}"#,
            )
        })
        .await;
        t.row("an unknown transport", async move {
            let answer = exchange(
                addr,
                b"GET /socket.io/?EIO=4&transport=flash HTTP/1.1\r\nHost: x\r\n\r\n",
            )
            .await;
            error(&answer, 400, r#"{"code":0,"message":"Transport unknown"}"#)
        })
        .await;
        t.row("a second concurrent GET", async move {
            let sid = polling_session(addr).await;
            // The first GET waits for something to send; the second overlaps it.
            let mut first = TcpStream::connect(addr).await.expect("connects");
            first
                .write_all(&polling("GET", &sid, b"", ""))
                .await
                .expect("writes");
            // Once the first is parked (the server took it: a POST answered after it shows
            // the session has seen it), the second comes.
            let noop = exchange(addr, &polling("POST", &sid, b"6", "")).await;
            assert_eq!(noop.status, Some(200));
            let second = exchange(addr, &polling("GET", &sid, b"", "")).await;
            // As the Node server: 400 with no body.
            let answer = error(&second, 400, "");
            let released = Answer::from_bytes(&read_response(&mut first).await);
            assert_eq!(released.status, Some(200));
            assert!(is_gone(addr, &sid).await);
            format!(
                "{answer}; the session closes, and the first GET gets `{}`",
                released.body()
            )
        })
        .await;
        t.row("a POST of garbage", async move {
            let sid = polling_session(addr).await;
            let answer = exchange(addr, &polling("POST", &sid, b"\x00\xffgarbage", "")).await;
            let answer = error(&answer, 400, BAD_REQUEST);
            assert!(is_gone(addr, &sid).await);
            format!("{answer}; the session closes")
        })
        .await;
        t.row("a binary content type", async move {
            let sid = polling_session(addr).await;
            let answer = exchange(
                addr,
                &polling(
                    "POST",
                    &sid,
                    b"4hello",
                    "Content-Type: application/octet-stream\r\n",
                ),
            )
            .await;
            let answer = error(&answer, 400, BAD_REQUEST);
            assert!(is_gone(addr, &sid).await);
            format!("{answer} (a v4 payload is text); the session closes")
        })
        .await;
        t.row("an upgrade probe for someone else's sid", async move {
            // The victim's session is on WebSocket; another connection asks to upgrade it.
            let mut victim = RawWs::open(addr, None).await.expect("the upgrade");
            let open = victim.next_text().await;
            let start = open.find("\"sid\":\"").expect("a sid") + 7;
            let sid = &open[start..start + open[start..].find('"').expect("ends")];
            victim.send_text(b"40").await;
            assert!(victim.next_text().await.starts_with("40"));
            let intruder = RawWs::open(addr, Some(sid)).await.expect("the 101");
            let (code, texts) = intruder.closed().await;
            assert_eq!(code, Some(1008));
            assert!(texts.is_empty(), "{texts:?}");
            let answer = "101, then close 1008 \"session already has a WebSocket\"";
            // The victim's session still works.
            victim.send_text(b"421[\"ping\"]").await;
            assert_eq!(victim.next_text().await, "431[\"pong\"]");
            format!("{answer}; the session is undisturbed")
        })
        .await;
        t.row("a payload of a million one-byte packets", async move {
            let sid = polling_session(addr).await;
            let mut body = b"6\x1e".repeat(1_000_000);
            body.pop();
            let answer = exchange(addr, &polling("POST", &sid, &body, "")).await;
            assert_eq!(answer.status, Some(413), "{}", answer.text);
            // Refused from the length alone; the session stays, as on the Node server (the
            // official client gives it up on the error; else its heartbeat ends it).
            assert!(!is_gone(addr, &sid).await);
            // Within the limit, as many packets as fit are taken.
            let sid = polling_session(addr).await;
            let mut body = b"6\x1e".repeat(MAX_PAYLOAD / 2);
            body.pop();
            let answer = exchange(addr, &polling("POST", &sid, &body, "")).await;
            assert_eq!(answer.status, Some(200), "{}", answer.text);
            assert!(!is_gone(addr, &sid).await);
            format!(
                "413 from the length alone, the session stays; {} one-byte packets within \
                 `max_payload` are taken",
                MAX_PAYLOAD / 2
            )
        })
        .await;
        t
    });
}
