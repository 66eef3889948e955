//! The client side of RFC 6455, as little of it as the benchmark needs: the opening
//! handshake, masked frames out, unmasked frames in (fragmented messages reassembled,
//! pings answered), and the close frame.
//!
//! One read buffer per connection, grown only while a frame is incomplete; writes go out
//! in one `write_all` of every frame queued since the last flush.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use base64::Engine as _;
use bytes::{Buf, Bytes, BytesMut};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The GUID of RFC 6455 section 1.3.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Largest message accepted from a server (the benchmark's are far smaller).
const MAX_MESSAGE: usize = 16 << 20;

/// Opens a TCP connection to `addr`, from `source` (port chosen by the kernel) if given, so
/// that many connections can spread over several loopback addresses.
pub(crate) async fn connect_tcp(
    addr: SocketAddr,
    source: Option<Ipv4Addr>,
) -> io::Result<TcpStream> {
    let stream = match source {
        Some(ip) => {
            let socket = TcpSocket::new_v4()?;
            socket.bind(SocketAddr::new(ip.into(), 0))?;
            socket.connect(addr).await?
        }
        None => TcpStream::connect(addr).await?,
    };
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A complete message from the server.
#[derive(Debug)]
pub(crate) enum Frame {
    Text(Bytes),
    Binary(Bytes),
}

/// A small, fast generator for masking keys and handshake nonces (xorshift64*).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// A WebSocket client connection.
#[derive(Debug)]
pub(crate) struct WsClient {
    stream: TcpStream,
    read: BytesMut,
    write: Vec<u8>,
    rng: Rng,
    /// A fragmented message being reassembled: its opcode and the bytes so far.
    partial: Option<(u8, BytesMut)>,
}

impl WsClient {
    /// Connects and performs the opening handshake for `path` (with its query).
    pub(crate) async fn connect(
        addr: SocketAddr,
        source: Option<Ipv4Addr>,
        path: &str,
        seed: u64,
    ) -> io::Result<WsClient> {
        let mut stream = connect_tcp(addr, source).await?;
        let mut rng = Rng::new(seed);
        let nonce = [rng.next_u64().to_le_bytes(), rng.next_u64().to_le_bytes()].concat();
        let key = base64::engine::general_purpose::STANDARD.encode(nonce);
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut read = BytesMut::with_capacity(1024);
        let head_len = loop {
            if let Some(end) = find(&read, b"\r\n\r\n") {
                break end + 4;
            }
            if read.len() > 16 * 1024 {
                return Err(io::Error::other("handshake response head too long"));
            }
            if stream.read_buf(&mut read).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        };
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        response
            .parse(&read[..head_len])
            .map_err(|e| io::Error::other(format!("bad handshake response: {e}")))?;
        if response.code != Some(101) {
            return Err(io::Error::other(format!(
                "handshake refused with status {:?}",
                response.code
            )));
        }
        let expected = {
            let mut sha = Sha1::new();
            sha.update(key.as_bytes());
            sha.update(GUID.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(sha.finalize())
        };
        let accepted = response.headers.iter().any(|h| {
            h.name.eq_ignore_ascii_case("sec-websocket-accept") && h.value == expected.as_bytes()
        });
        if !accepted {
            return Err(io::Error::other("wrong Sec-WebSocket-Accept"));
        }
        read.advance(head_len);
        Ok(WsClient {
            stream,
            read,
            write: Vec::new(),
            rng,
            partial: None,
        })
    }

    /// Queues a text frame; [`flush`](Self::flush) sends it.
    pub(crate) fn queue_text(&mut self, payload: &[u8]) {
        self.queue(0x1, payload);
    }

    /// Queues a binary frame; [`flush`](Self::flush) sends it.
    pub(crate) fn queue_binary(&mut self, payload: &[u8]) {
        self.queue(0x2, payload);
    }

    fn queue(&mut self, opcode: u8, payload: &[u8]) {
        let out = &mut self.write;
        out.push(0x80 | opcode);
        let len = payload.len();
        if len < 126 {
            out.push(0x80 | len as u8);
        } else if len <= usize::from(u16::MAX) {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        let key = (self.rng.next_u64() as u32).to_ne_bytes();
        out.extend_from_slice(&key);
        let start = out.len();
        out.extend_from_slice(payload);
        mask(&mut out[start..], key);
    }

    /// Sends every queued frame in one write.
    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        if !self.write.is_empty() {
            self.stream.write_all(&self.write).await?;
            self.write.clear();
        }
        Ok(())
    }

    /// Sends one text frame.
    pub(crate) async fn send_text(&mut self, payload: &[u8]) -> io::Result<()> {
        self.queue_text(payload);
        self.flush().await
    }

    /// The next data message. Pings are answered, pongs ignored; a close frame or the end
    /// of the stream is an `UnexpectedEof` error.
    pub(crate) async fn recv(&mut self) -> io::Result<Frame> {
        loop {
            while let Some((fin, opcode, payload)) = self.parse_frame()? {
                match opcode {
                    0x0 => {
                        let Some((_, buf)) = self.partial.as_mut() else {
                            return Err(io::Error::other("continuation without a first frame"));
                        };
                        if buf.len() + payload.len() > MAX_MESSAGE {
                            return Err(io::Error::other("message too large"));
                        }
                        buf.extend_from_slice(&payload);
                        if fin {
                            let (op, buf) = self.partial.take().expect("checked above");
                            return Ok(message(op, buf.freeze()));
                        }
                    }
                    0x1 | 0x2 if fin => return Ok(message(opcode, payload)),
                    0x1 | 0x2 => self.partial = Some((opcode, BytesMut::from(&payload[..]))),
                    0x8 => return Err(io::ErrorKind::UnexpectedEof.into()),
                    0x9 => {
                        self.queue(0xA, &payload);
                        self.flush().await?;
                    }
                    0xA => {}
                    _ => return Err(io::Error::other(format!("unknown opcode {opcode}"))),
                }
            }
            if self.read.capacity() - self.read.len() < 512 {
                self.read.reserve(4096);
            }
            if self.stream.read_buf(&mut self.read).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Splits one complete frame off the read buffer: (fin, opcode, payload).
    fn parse_frame(&mut self) -> io::Result<Option<(bool, u8, Bytes)>> {
        let buf = &self.read[..];
        if buf.len() < 2 {
            return Ok(None);
        }
        let fin = buf[0] & 0x80 != 0;
        let opcode = buf[0] & 0x0F;
        if buf[1] & 0x80 != 0 {
            return Err(io::Error::other("the server masked a frame"));
        }
        let (len, head) = match buf[1] & 0x7F {
            126 => {
                if buf.len() < 4 {
                    return Ok(None);
                }
                (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4)
            }
            127 => {
                if buf.len() < 10 {
                    return Ok(None);
                }
                let len = u64::from_be_bytes(buf[2..10].try_into().expect("8 bytes"));
                (usize::try_from(len).unwrap_or(usize::MAX), 10)
            }
            n => (usize::from(n), 2),
        };
        if len > MAX_MESSAGE {
            return Err(io::Error::other("frame too large"));
        }
        if buf.len() < head + len {
            self.read.reserve(head + len - buf.len());
            return Ok(None);
        }
        self.read.advance(head);
        let payload = self.read.split_to(len).freeze();
        Ok(Some((fin, opcode, payload)))
    }
}

fn message(opcode: u8, payload: Bytes) -> Frame {
    if opcode == 0x1 {
        Frame::Text(payload)
    } else {
        Frame::Binary(payload)
    }
}

/// XORs `data` with the repeating 4-byte `key`, eight bytes at a time.
fn mask(data: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let v = u64::from_ne_bytes((&*chunk).try_into().expect("8 bytes")) ^ wide;
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

/// The first position of `needle` in `haystack`.
pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_twice_restores_the_payload() {
        let original: Vec<u8> = (0..37u8).collect();
        let mut data = original.clone();
        mask(&mut data, [1, 2, 3, 4]);
        assert_eq!(data[0], 1);
        assert_eq!(data[5], 5 ^ 2);
        mask(&mut data, [1, 2, 3, 4]);
        assert_eq!(data, original);
    }
}
