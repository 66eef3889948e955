//! The table runner: the server, the bystander, the heap check, and raw clients for offenders.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use server_adapter::socketio::{AckSender, SocketIo, SocketRef};
use server_adapter::ws::{encode_frame, Decoder, Incoming, OpCode, Role};
use server_adapter::{http, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// The bound on every wait: past it, a test fails rather than hangs.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// The server's timeouts in these tables: short, so that rows answered by a timeout end soon.
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
pub(crate) const BODY_TIMEOUT: Duration = Duration::from_secs(1);
pub(crate) const PING_INTERVAL: Duration = Duration::from_millis(1000);
pub(crate) const PING_TIMEOUT: Duration = Duration::from_millis(1000);
/// The engine's `max_payload` (its default).
pub(crate) const MAX_PAYLOAD: usize = 1_000_000;

/// How many `slow` events the server's handler has finished.
pub(crate) static SLOW_DONE: AtomicUsize = AtomicUsize::new(0);

/// The permits `slow` events wait for, one each.
pub(crate) static SLOW_GATE: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(0);

/// Tables take turns: the heap is counted for the whole process.
static TURN: Mutex<()> = Mutex::new(());

/// The heap's live bytes, for the whole process.
pub(crate) fn live_heap() -> i64 {
    let s = crate::HEAP.stats();
    // A reallocation's growth or shrinkage is already in these two.
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

/// One table: its server, its bystander, and the lines of its rows.
pub(crate) struct Table {
    pub(crate) addr: SocketAddr,
    #[allow(dead_code)] // kept alive for the whole table
    io: SocketIo,
    bystander: Bystander,
    lines: Vec<String>,
}

/// Runs one table: starts the server and the bystander, runs `rows`, prints their lines.
pub(crate) fn run<F, Fut>(title: &str, rows: F)
where
    F: FnOnce(Table) -> Fut,
    Fut: Future<Output = Table>,
{
    let _turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let (addr, io, stop) = start().await;
        let bystander = Bystander::connect(addr).await;
        let table = Table {
            addr,
            io,
            bystander,
            lines: Vec::new(),
        };
        let table = Box::pin(rows(table)).await;
        println!("\n{title}:");
        for line in &table.lines {
            println!("{line}");
        }
        drop(table.bystander);
        stop.shutdown(Duration::from_millis(100));
    });
}

/// The server every table attacks: a Socket.IO server with an acknowledging `ping`, a `slow`
/// event whose handler waits for a permit of [`SLOW_GATE`], and dynamic namespaces `/dyn-*`.
async fn start() -> (SocketAddr, SocketIo, server_adapter::ShutdownHandle) {
    let io = SocketIo::builder()
        .ping_interval(PING_INTERVAL)
        .ping_timeout(PING_TIMEOUT)
        .connect_timeout(Duration::from_secs(1))
        .upgrade_timeout(Duration::from_secs(1))
        .max_payload(MAX_PAYLOAD)
        .build();
    let handlers = |socket: SocketRef| async move {
        socket.on("ping", |ack: AckSender| async move {
            let _ = ack.send(&"pong");
        });
        socket.on("slow", || async move {
            // Each waits for a permit, so that the test decides when handlers may run.
            if let Ok(permit) = SLOW_GATE.acquire().await {
                permit.forget();
            }
            SLOW_DONE.fetch_add(1, Ordering::Relaxed);
        });
    };
    io.of("/").on_connection(handlers);
    io.of_dynamic(|name| name.starts_with("/dyn-"))
        .on_connection(|_socket: SocketRef| async move {});
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("bound");
    let server = Server::new()
        .http_config(http::Config {
            header_timeout: HEADER_TIMEOUT,
            body_timeout: BODY_TIMEOUT,
            idle_timeout: Duration::from_secs(2),
            write_timeout: Duration::from_secs(1),
            linger: Duration::from_millis(200),
            ..http::Config::default()
        })
        .mount(io.clone());
    let stop = server.shutdown_handle();
    tokio::spawn(server.serve(listener));
    (addr, io, stop)
}

impl Table {
    /// Runs one row: `offence` attacks and returns the answer it saw (checked inside it).
    /// Around it: the bystander's round trips, and the heap back within 5% afterwards.
    pub(crate) async fn row(&mut self, name: &str, offence: impl Future<Output = String>) {
        let baseline = live_heap();
        self.bystander.resume().await;
        // Boxed: the rows' futures are large, and a table's would not fit a thread's stack.
        let answer = tokio::time::timeout(Duration::from_secs(120), Box::pin(offence))
            .await
            .unwrap_or_else(|_| panic!("{name}: the offence did not end"));
        let during = self.bystander.pause().await;
        assert!(
            during.round_trips > 0,
            "{name}: the bystander got no ack while it ran"
        );
        let after = heap_back_to(baseline, name).await;
        let line = format!(
            "| {name} | {answer} | {} acks, median {:.1} ms, max {:.1} ms | {} KiB -> {} KiB |",
            during.round_trips,
            ms(during.median),
            ms(during.max),
            baseline / 1024,
            after / 1024,
        );
        eprintln!("{line}");
        self.lines.push(line);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Waits until the heap's live bytes are within 5% of `baseline`; returns them.
async fn heap_back_to(baseline: i64, name: &str) -> i64 {
    let limit = baseline + baseline / 20;
    let deadline = Instant::now() + WAIT;
    loop {
        let now = live_heap();
        if now <= limit {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "{name}: the heap stayed at {now} bytes, over 5% above the {baseline} before the row"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What the bystander saw while a row ran.
struct During {
    round_trips: usize,
    median: Duration,
    max: Duration,
}

/// How many round trips of a row the bystander records (the count goes on past it).
const RECORDED: usize = 4096;

/// A Socket.IO client over WebSocket that asks for acks one after the other while a row runs,
/// and answers the server's pings all along.
struct Bystander {
    running: watch::Sender<bool>,
    busy: watch::Receiver<bool>,
    /// Round-trip times of the current row; reserved up front, so that recording them does
    /// not move the heap.
    times: Arc<Mutex<Times>>,
}

/// A row's round trips: how many, and the times of the first [`RECORDED`].
#[derive(Default)]
struct Times {
    count: usize,
    times: Vec<Duration>,
}

impl Bystander {
    async fn connect(addr: SocketAddr) -> Bystander {
        let mut ws = RawWs::socketio(addr, "/").await;
        let (running, mut run) = watch::channel(false);
        let (busy_tx, busy) = watch::channel(false);
        let times = Arc::new(Mutex::new(Times {
            count: 0,
            times: Vec::with_capacity(RECORDED),
        }));
        let record = Arc::clone(&times);
        tokio::spawn(async move {
            let mut id = 0u64;
            let mut sent: Option<Instant> = None;
            loop {
                if sent.is_none() && *run.borrow_and_update() {
                    id += 1;
                    ws.send_text(format!("42{id}[\"ping\"]").as_bytes()).await;
                    sent = Some(Instant::now());
                    busy_tx.send_replace(true);
                }
                tokio::select! {
                    changed = run.changed(), if sent.is_none() => {
                        if changed.is_err() {
                            return;
                        }
                    }
                    incoming = ws.next() => match incoming {
                        Some(Incoming::Text(t)) if &t[..] == b"2" => ws.send_text(b"3").await,
                        Some(Incoming::Text(t)) if t.starts_with(format!("43{id}[").as_bytes()) => {
                            let took = sent.take().map_or(Duration::ZERO, |at| at.elapsed());
                            let mut row = record.lock().unwrap_or_else(PoisonError::into_inner);
                            row.count += 1;
                            if row.times.len() < RECORDED {
                                row.times.push(took);
                            }
                            drop(row);
                            busy_tx.send_replace(false);
                        }
                        Some(Incoming::Text(t)) => panic!("bystander: unexpected {t:?}"),
                        // The table is over and the server shutting down.
                        _ if run.has_changed().is_err() => return,
                        other => panic!("bystander: the server left it: {other:?}"),
                    },
                }
            }
        });
        Bystander {
            running,
            busy,
            times,
        }
    }

    /// Starts the round trips; returns once the first is on its way, so that every row sees
    /// at least one.
    async fn resume(&mut self) {
        {
            let mut row = self.times.lock().unwrap_or_else(PoisonError::into_inner);
            row.count = 0;
            row.times.clear();
        }
        self.running.send_replace(true);
        tokio::time::timeout(WAIT, self.busy.wait_for(|busy| *busy))
            .await
            .expect("the bystander's first ask in time")
            .expect("the bystander runs");
    }

    async fn pause(&mut self) -> During {
        self.running.send_replace(false);
        tokio::time::timeout(WAIT, self.busy.wait_for(|busy| !busy))
            .await
            .expect("the bystander's last ack in time")
            .expect("the bystander runs");
        let mut row = self.times.lock().unwrap_or_else(PoisonError::into_inner);
        let count = row.count;
        let times = &mut row.times;
        times.sort_unstable();
        During {
            round_trips: count,
            median: times.get(times.len() / 2).copied().unwrap_or_default(),
            max: times.last().copied().unwrap_or_default(),
        }
    }
}

/// A raw WebSocket client: masked frames out, whatever the server sends in.
pub(crate) struct RawWs {
    pub(crate) stream: TcpStream,
    buf: BytesMut,
    decoder: Decoder,
    out: Vec<u8>,
}

impl RawWs {
    /// The WebSocket of a new Engine.IO session (`sid` `None`) or of an upgrade of `sid`.
    /// `Err` holds the answer when the server refuses the upgrade.
    pub(crate) async fn open(addr: SocketAddr, sid: Option<&str>) -> Result<RawWs, String> {
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        let sid = sid.map(|s| format!("&sid={s}")).unwrap_or_default();
        let head = format!(
            "GET /socket.io/?EIO=4&transport=websocket{sid} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Upgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.expect("writes");
        let mut buf = BytesMut::with_capacity(64 * 1024);
        let end = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let n = tokio::time::timeout(WAIT, stream.read_buf(&mut buf))
                .await
                .expect("an answer to the upgrade in time")
                .unwrap_or(0);
            if n == 0 {
                return Err(format!("closed: {}", String::from_utf8_lossy(&buf)));
            }
        };
        let head = buf.split_to(end);
        if !head.starts_with(b"HTTP/1.1 101 ") {
            let rest = read_to_end(&mut stream).await;
            return Err(format!(
                "{}{}",
                String::from_utf8_lossy(&head),
                String::from_utf8_lossy(&rest)
            ));
        }
        Ok(RawWs {
            stream,
            buf,
            decoder: Decoder::new(Role::Client, usize::MAX),
            out: Vec::with_capacity(1024),
        })
    }

    /// A Socket.IO socket in `namespace` over a new WebSocket session.
    pub(crate) async fn socketio(addr: SocketAddr, namespace: &str) -> RawWs {
        let mut ws = RawWs::open(addr, None).await.expect("the upgrade");
        let open = ws.next_text().await;
        assert!(open.starts_with("0{"), "{open}");
        let connect = if namespace == "/" {
            "40".to_owned()
        } else {
            format!("40{namespace},")
        };
        ws.send_text(connect.as_bytes()).await;
        let answer = ws.next_text().await;
        assert!(answer.starts_with("40"), "{answer}");
        ws
    }

    /// Sends one masked frame.
    pub(crate) async fn send_frame(&mut self, fin: bool, opcode: OpCode, payload: &[u8]) {
        self.out.clear();
        encode_frame(fin, opcode, Some([7, 1, 3, 9]), payload, &mut self.out);
        // The server may have closed already: what it answered is what the row checks.
        let _ = self.stream.write_all(&self.out).await;
    }

    pub(crate) async fn send_text(&mut self, text: &[u8]) {
        self.send_frame(true, OpCode::Text, text).await;
    }

    /// Sends bytes as they are.
    pub(crate) async fn send_raw(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
    }

    /// The next message or control frame; `None` once the server closed the connection.
    /// Cancel-safe: what was read stays in the buffer.
    pub(crate) async fn next(&mut self) -> Option<Incoming> {
        loop {
            if let Some(incoming) = self.decoder.decode(&mut self.buf).expect("valid frames") {
                return Some(incoming);
            }
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// The next text message, answering the Engine.IO pings before it and skipping
    /// WebSocket pings; panics on anything else.
    pub(crate) async fn next_text(&mut self) -> String {
        loop {
            match tokio::time::timeout(WAIT, self.next())
                .await
                .expect("a frame in time")
            {
                Some(Incoming::Text(t)) if &t[..] == b"2" => self.send_text(b"3").await,
                Some(Incoming::Text(t)) => return String::from_utf8_lossy(&t).into_owned(),
                Some(Incoming::Ping(_) | Incoming::Pong(_)) => {}
                other => panic!("expected a text message, got {other:?}"),
            }
        }
    }

    /// Reads until the server's close frame and the end of the connection: the close code
    /// (`None`: closed without a close frame) and the text messages before it.
    pub(crate) async fn closed(mut self) -> (Option<u16>, Vec<String>) {
        let mut texts = Vec::new();
        loop {
            match tokio::time::timeout(WAIT, self.next())
                .await
                .expect("a close in time")
            {
                Some(Incoming::Text(t)) => texts.push(String::from_utf8_lossy(&t).into_owned()),
                Some(Incoming::Close(frame)) => {
                    let code = frame.map(|f| f.code.0);
                    // Answered, as a well-behaved peer does; then the server closes the TCP
                    // connection.
                    self.send_frame(true, OpCode::Close, &code.unwrap_or(1000).to_be_bytes())
                        .await;
                    let _ = tokio::time::timeout(WAIT, read_to_end(&mut self.stream)).await;
                    return (code, texts);
                }
                Some(_) => {}
                None => return (None, texts),
            }
        }
    }
}

/// Everything until the peer closes (or resets) the connection.
pub(crate) async fn read_to_end(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        match tokio::time::timeout(WAIT, stream.read(&mut chunk))
            .await
            .expect("the server closes in time")
        {
            Ok(0) | Err(_) => return all,
            Ok(n) => all.extend_from_slice(&chunk[..n]),
        }
    }
}

/// What an HTTP exchange got: the status line's code (if any answer came), the whole answer.
pub(crate) struct Answer {
    pub(crate) status: Option<u16>,
    pub(crate) text: String,
}

impl Answer {
    pub(crate) fn from_bytes(bytes: &[u8]) -> Answer {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let status = text
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok());
        Answer { status, text }
    }

    /// The body of the first response.
    pub(crate) fn body(&self) -> &str {
        self.text
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body)
    }
}

/// Sends `request` on a new connection (ignoring a write the server cut short), then reads
/// until the server closes it.
pub(crate) async fn exchange_until_closed(addr: SocketAddr, request: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let _ = stream.write_all(request).await;
    Answer::from_bytes(&read_to_end(&mut stream).await)
}

/// Sends `request` on a new connection and reads one response (by its `Content-Length`).
pub(crate) async fn exchange(addr: SocketAddr, request: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let _ = stream.write_all(request).await;
    Answer::from_bytes(&read_response(&mut stream).await)
}

/// One response from `stream`, head and body.
pub(crate) async fn read_response(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                got.truncate(end + 4 + length);
                return got;
            }
        }
        match tokio::time::timeout(WAIT, stream.read(&mut chunk))
            .await
            .expect("an answer in time")
        {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A new Engine.IO long-polling session: its sid.
pub(crate) async fn polling_session(addr: SocketAddr) -> String {
    let answer = exchange(
        addr,
        b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    assert_eq!(answer.status, Some(200), "{}", answer.text);
    let body = answer.body();
    let start = body.find("\"sid\":\"").expect("a sid") + 7;
    let end = start + body[start..].find('"').expect("the sid ends");
    body[start..end].to_owned()
}

/// A polling request of the session `sid`.
pub(crate) fn polling(method: &str, sid: &str, body: &[u8], extra: &str) -> Vec<u8> {
    let mut request = format!(
        "{method} /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n{extra}\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}
