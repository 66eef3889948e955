//! A keep-alive HTTP/1.1 client connection, enough for Engine.IO long-polling: one request
//! at a time, bodies by `Content-Length` or chunked, and one reconnect when the server closed
//! an idle connection.

use std::io;
use std::net::SocketAddr;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::ws::{connect_tcp, find};

/// Largest response body accepted.
const MAX_BODY: usize = 16 << 20;

/// One HTTP/1.1 connection to the server.
#[derive(Debug)]
pub(crate) struct HttpClient {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    read: BytesMut,
    write: Vec<u8>,
}

impl HttpClient {
    pub(crate) fn new(addr: SocketAddr) -> Self {
        HttpClient {
            addr,
            stream: None,
            read: BytesMut::new(),
            write: Vec::new(),
        }
    }

    /// `GET path`; the status and the body.
    pub(crate) async fn get(&mut self, path: &str) -> io::Result<(u16, Bytes)> {
        self.request("GET", path, None).await
    }

    /// `POST path` with a text body; the status and the body.
    pub(crate) async fn post(&mut self, path: &str, body: &[u8]) -> io::Result<(u16, Bytes)> {
        self.request("POST", path, Some(body)).await
    }

    async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> io::Result<(u16, Bytes)> {
        self.write.clear();
        self.write.extend_from_slice(method.as_bytes());
        self.write.push(b' ');
        self.write.extend_from_slice(path.as_bytes());
        self.write.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        self.write
            .extend_from_slice(self.addr.to_string().as_bytes());
        self.write.extend_from_slice(b"\r\nAccept: */*\r\n");
        if let Some(body) = body {
            self.write
                .extend_from_slice(b"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ");
            self.write
                .extend_from_slice(body.len().to_string().as_bytes());
            self.write.extend_from_slice(b"\r\n\r\n");
            self.write.extend_from_slice(body);
        } else {
            self.write.extend_from_slice(b"\r\n");
        }
        // A kept-alive connection the server closed while idle fails on first use: the
        // request was not handled, so it is sent once more on a new connection.
        let reused = self.stream.is_some();
        match self.exchange().await {
            Ok(answer) => Ok(answer),
            Err(e) if reused && is_closed(&e) => {
                self.stream = None;
                self.exchange().await
            }
            Err(e) => Err(e),
        }
    }

    async fn exchange(&mut self) -> io::Result<(u16, Bytes)> {
        if self.stream.is_none() {
            self.stream = Some(connect_tcp(self.addr, None).await?);
            self.read.clear();
        }
        let result = self.exchange_on_stream().await;
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    async fn exchange_on_stream(&mut self) -> io::Result<(u16, Bytes)> {
        let stream = self.stream.as_mut().expect("connected above");
        stream.write_all(&self.write).await?;
        let (status, head_len, framing) = loop {
            if let Some(end) = find(&self.read, b"\r\n\r\n") {
                let mut headers = [httparse::EMPTY_HEADER; 32];
                let mut response = httparse::Response::new(&mut headers);
                response
                    .parse(&self.read[..end + 4])
                    .map_err(|e| io::Error::other(format!("bad response: {e}")))?;
                let status = response.code.unwrap_or(0);
                let mut framing = Framing::Length(0);
                for h in response.headers.iter() {
                    if h.name.eq_ignore_ascii_case("content-length") {
                        let len = std::str::from_utf8(h.value)
                            .ok()
                            .and_then(|v| v.trim().parse().ok())
                            .ok_or_else(|| io::Error::other("bad Content-Length"))?;
                        framing = Framing::Length(len);
                    } else if h.name.eq_ignore_ascii_case("transfer-encoding")
                        && h.value.eq_ignore_ascii_case(b"chunked")
                    {
                        framing = Framing::Chunked;
                    }
                }
                break (status, end + 4, framing);
            }
            fill(stream, &mut self.read).await?;
        };
        self.read.advance(head_len);
        let body = match framing {
            Framing::Length(len) => {
                if len > MAX_BODY {
                    return Err(io::Error::other("response body too large"));
                }
                while self.read.len() < len {
                    fill(stream, &mut self.read).await?;
                }
                self.read.split_to(len).freeze()
            }
            Framing::Chunked => {
                let mut body = BytesMut::new();
                loop {
                    let line_end = loop {
                        if let Some(end) = find(&self.read, b"\r\n") {
                            break end;
                        }
                        fill(stream, &mut self.read).await?;
                    };
                    let size_text = std::str::from_utf8(&self.read[..line_end])
                        .map_err(|_| io::Error::other("bad chunk size"))?;
                    let size_text = size_text.split(';').next().unwrap_or("").trim();
                    let size = usize::from_str_radix(size_text, 16)
                        .map_err(|_| io::Error::other("bad chunk size"))?;
                    if body.len() + size > MAX_BODY {
                        return Err(io::Error::other("response body too large"));
                    }
                    self.read.advance(line_end + 2);
                    while self.read.len() < size + 2 {
                        fill(stream, &mut self.read).await?;
                    }
                    body.extend_from_slice(&self.read[..size]);
                    self.read.advance(size + 2);
                    if size == 0 {
                        break;
                    }
                }
                body.freeze()
            }
        };
        Ok((status, body))
    }
}

enum Framing {
    Length(usize),
    Chunked,
}

async fn fill(stream: &mut TcpStream, read: &mut BytesMut) -> io::Result<()> {
    read.reserve(4096);
    if stream.read_buf(read).await? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

fn is_closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}
