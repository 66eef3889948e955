//! The HTTP rows.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{exchange_until_closed, read_to_end, run, Answer, WAIT};

/// A refusal: the status, and that the server closed the connection after it.
fn refused(answer: &Answer, status: u16) -> String {
    assert_eq!(answer.status, Some(status), "{}", answer.text);
    assert!(
        answer
            .text
            .to_ascii_lowercase()
            .contains("connection: close"),
        "{}",
        answer.text
    );
    format!("{status}, closed")
}

#[test]
fn http_table() {
    run("HTTP", |mut t| async move {
        let addr = t.addr;
        t.row("an endless request line", async move {
            let mut line = b"GET /".to_vec();
            line.resize(1 << 20, b'a');
            refused(&exchange_until_closed(addr, &line).await, 414)
        })
        .await;
        t.row("10,000 header fields", async move {
            let mut head = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n".to_vec();
            for i in 0..10_000 {
                head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
            }
            head.extend_from_slice(b"\r\n");
            refused(&exchange_until_closed(addr, &head).await, 431)
        })
        .await;
        t.row("a head sent one byte a second", async move {
            // One byte per quarter second is enough to show it: the head's deadline is the
            // whole head's, not renewed by each byte.
            let head = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n";
            let mut stream = TcpStream::connect(addr).await.expect("connects");
            let mut got = Vec::new();
            let mut sent = 0;
            for &byte in head {
                if stream.write_all(&[byte]).await.is_err() {
                    break;
                }
                sent += 1;
                let mut chunk = [0u8; 1024];
                match tokio::time::timeout(Duration::from_millis(250), stream.read(&mut chunk))
                    .await
                {
                    Err(_) => continue,
                    Ok(Ok(0) | Err(_)) => break,
                    Ok(Ok(n)) => {
                        got.extend_from_slice(&chunk[..n]);
                        got.extend(read_to_end(&mut stream).await);
                        break;
                    }
                }
            }
            // Had each byte renewed the deadline, the whole head would have gone out (15 s at
            // this pace) and been answered as a request.
            assert!(
                sent < head.len(),
                "the whole head was sent before any answer"
            );
            format!(
                "{}, at the head timeout (a deadline for the whole head, not renewed by each \
                 byte; here a byte every 250 ms)",
                refused(&Answer::from_bytes(&got), 408)
            )
        })
        .await;
        t.row("a body that stops halfway", async move {
            let mut stream = TcpStream::connect(addr).await.expect("connects");
            let sid = crate::harness::polling_session(addr).await;
            let mut request = format!(
                "POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n\
                 Content-Length: 100\r\n\r\n"
            )
            .into_bytes();
            request.extend_from_slice(&[b'4'; 50]);
            stream.write_all(&request).await.expect("writes");
            let answer = Answer::from_bytes(&read_to_end(&mut stream).await);
            format!("{}, after the body timeout", refused(&answer, 408))
        })
        .await;
        t.row("a chunk size of 2^64", async move {
            let request = b"POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\n\
                Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\n";
            refused(&exchange_until_closed(addr, request).await, 400)
        })
        .await;
        t.row("chunk extensions that never end", async move {
            let mut request = b"POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\n\
                Host: x\r\nTransfer-Encoding: chunked\r\n\r\n5"
                .to_vec();
            for _ in 0..100_000 {
                request.extend_from_slice(b";ext=value");
            }
            let answer = exchange_until_closed(addr, &request).await;
            refused(&answer, answer.status.unwrap_or(0).max(400))
        })
        .await;
        t.row("`Content-Length` with `Transfer-Encoding`", async move {
            let request = b"POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\n\
                Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
            refused(&exchange_until_closed(addr, request).await, 400)
        })
        .await;
        t.row("two different `Content-Length`s", async move {
            let request = b"POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\n\
                Content-Length: 5\r\nContent-Length: 6\r\n\r\n123456";
            refused(&exchange_until_closed(addr, request).await, 400)
        })
        .await;
        t.row("a non-numeric length", async move {
            let request = b"POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\n\
                Content-Length: five\r\n\r\n12345";
            refused(&exchange_until_closed(addr, request).await, 400)
        })
        .await;
        t.row("a method of 1 MB", async move {
            let mut request = vec![b'G'; 1 << 20];
            request.extend_from_slice(b" / HTTP/1.1\r\n\r\n");
            let answer = exchange_until_closed(addr, &request).await;
            refused(&answer, 414)
        })
        .await;
        t.row(
            "1,000 pipelined requests without reading an answer",
            async move {
                let one = b"GET /not-socket-io HTTP/1.1\r\nHost: x\r\n\r\n";
                let mut stream = TcpStream::connect(addr).await.expect("connects");
                let requests: Vec<u8> = one.repeat(1000);
                let (mut read, mut write) = stream.split();
                // Everything is written before anything is read; the server reads ahead only as
                // far as its answers fit in the socket, then waits.
                let writing = async {
                    let _ = write.write_all(&requests).await;
                };
                tokio::time::timeout(WAIT, writing)
                    .await
                    .expect("the requests are taken");
                let mut got = Vec::new();
                let mut answered = 0;
                let mut chunk = vec![0u8; 64 * 1024];
                while answered < 1000 {
                    match tokio::time::timeout(WAIT, read.read(&mut chunk))
                        .await
                        .expect("answers in time")
                    {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            got.extend_from_slice(&chunk[..n]);
                            answered = got.windows(12).filter(|w| w == b"HTTP/1.1 404").count();
                        }
                    }
                }
                assert_eq!(answered, 1000);
                let rest = read_to_end(&mut stream).await;
                assert!(rest.is_empty());
                "each answered in order (404), then closed when idle".to_owned()
            },
        )
        .await;
        t.row(
            "5,000 idle TCP connections that never send a byte",
            async move {
                let mut idle = Vec::with_capacity(5000);
                for _ in 0..5000 {
                    idle.push(TcpStream::connect(addr).await.expect("connects"));
                }
                let started = Instant::now();
                let mut silent = 0;
                for mut stream in idle {
                    if read_to_end(&mut stream).await.is_empty() {
                        silent += 1;
                    }
                }
                assert_eq!(silent, 5000);
                format!(
                    "closed without an answer at the idle timeout (`http::Config::idle_timeout`, \
                 60 s by default; here all 5,000 within {:.1} s)",
                    started.elapsed().as_secs_f64()
                )
            },
        )
        .await;
        t
    });
}
