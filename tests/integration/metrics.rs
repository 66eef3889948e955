//! The metrics snapshot (`SocketIo::metrics`) over real loopback connections: official
//! `socket.io-client` connections over long-polling, WebSocket and the upgrade
//! (`tests/node/metrics-client.js`, driven one step at a time), and raw HTTP requests for
//! what no well-behaved client does. After each step the test checks the snapshot, once
//! an event says the server has done what the step asks: the client's answer to a
//! command, a server handler's report, or an emit's acknowledgement. Natively and through
//! axum: the counts are the engine's, whichever front door serves it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use server_adapter::metrics::Metrics;
use server_adapter::socketio::{
    AckError, AckSender, ConnectError, Data, DisconnectReason, SocketIo, SocketRef, Value,
};
use server_adapter::Server;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::mpsc;

use super::{serve_axum, Client, Stack, WAIT};

/// What the server's handlers tell the test. A socket is named by its client's `tag` query
/// parameter and its namespace (`P/`, `P/admin`).
#[derive(Debug)]
enum Seen {
    Joined(String, SocketRef),
    Left(String, DisconnectReason),
    /// A `fill` handler's emits: how many were queued and how many refused.
    Filled {
        queued: usize,
        refused: usize,
    },
}

#[derive(Deserialize)]
struct Token {
    token: String,
}

/// Most messages buffered per connection in this test's server.
const MAX_BUFFERED: usize = 8;

/// The server: `/` (`join` a room, `echo`, `fill`: emits to itself until refused, then
/// volatile emits) and `/admin` (a token required); a handshake with `deny=1` is refused,
/// CORS allows one origin, pings every 300 ms.
fn server() -> (SocketIo, mpsc::UnboundedReceiver<Seen>) {
    let config = engineio::Config {
        path: "/socket.io/".to_owned(),
        ping_interval: Duration::from_millis(300),
        // Long enough that no well-behaved client misses a pong on a loaded machine; the
        // ping-timeout step waits for it.
        ping_timeout: Duration::from_millis(2000),
        cors: Some(engineio::Cors::origins(["http://allowed.test"])),
        allow_request: Some(engineio::AllowRequest::new(|head| {
            if head.query.split('&').any(|p| p == "deny=1") {
                Err("denied".to_owned())
            } else {
                Ok(())
            }
        })),
        outbox: engineio::OutboxLimits {
            max_packets: MAX_BUFFERED,
            max_bytes: 1 << 20,
        },
        ..engineio::Config::default()
    };
    let io = SocketIo::builder().engine_config(config).build();
    let (seen, events) = mpsc::unbounded_channel();
    for namespace in ["/", "/admin"] {
        let seen = seen.clone();
        io.of(namespace).on_connection(move |socket: SocketRef| {
            let seen = seen.clone();
            async move {
                let tag = format!(
                    "{}{}",
                    socket.handshake().query("tag").unwrap_or_default(),
                    socket.namespace()
                );
                let _ = seen.send(Seen::Joined(tag.clone(), socket.clone()));
                socket.on(
                    "join",
                    |socket: SocketRef, Data(room): Data<String>, ack: AckSender| async move {
                        socket.join(room.clone());
                        let _ = ack.send(&room);
                    },
                );
                socket.on("echo", |Data(v): Data<Value>, ack: AckSender| async move {
                    let _ = ack.send(&v);
                });
                let filled = seen.clone();
                socket.on("fill", move |socket: SocketRef, Data(n): Data<usize>| {
                    let filled = filled.clone();
                    async move {
                        let (mut queued, mut refused) = (0, 0);
                        for i in 0..n {
                            match socket.emit("fill", &i) {
                                Ok(()) => queued += 1,
                                Err(_) => refused += 1,
                            }
                        }
                        for i in 0..5 {
                            let _ = socket.volatile().emit("volatile", &i);
                        }
                        let _ = filled.send(Seen::Filled { queued, refused });
                    }
                });
                let left = seen.clone();
                socket.on_disconnect(move |_: SocketRef, reason: DisconnectReason| {
                    let left = left.clone();
                    let tag = tag.clone();
                    async move {
                        let _ = left.send(Seen::Left(tag, reason));
                    }
                });
            }
        });
    }
    io.of("/admin")
        .use_middleware(|socket: SocketRef| async move {
            match socket.handshake().auth::<Token>() {
                Ok(t) if !t.token.is_empty() => Ok(()),
                _ => Err(ConnectError::new("no token")),
            }
        });
    (io, events)
}

/// Serves `io` on an ephemeral port of 127.0.0.1 through `stack`.
async fn serve(stack: Stack, io: &SocketIo) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    match stack {
        Stack::Native => {
            tokio::spawn(Server::new().mount(io.clone()).serve(listener));
        }
        Stack::Axum => {
            let router = axum::Router::new().layer(io.layer());
            let io = io.clone();
            serve_axum(listener, router, move |grace| async move {
                io.shutdown(grace).await
            });
        }
        Stack::Hyper => panic!("served natively or through axum"),
    }
    addr
}

/// The Node clients, a command at a time.
struct Clients {
    _child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    /// Lines read while waiting for another, in order.
    unread: VecDeque<String>,
    /// Everything the clients said, for failure messages.
    said: String,
}

impl Clients {
    async fn start(addr: SocketAddr) -> Clients {
        let dir = super::node::node_dir();
        assert!(
            dir.join("node_modules/socket.io-client").is_dir(),
            "the npm packages are not installed: run `npm ci --prefix tests/node` (the test command does)"
        );
        let mut child = tokio::process::Command::new("node")
            .arg("metrics-client.js")
            .arg(format!("http://{addr}"))
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("`node` (Node.js 20) must be on the PATH");
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        Clients {
            _child: child,
            stdin,
            lines: BufReader::new(stdout).lines(),
            unread: VecDeque::new(),
            said: String::new(),
        }
    }

    /// Sends `command` and returns the line that answers it (`ok`, or `refused` for a
    /// connect).
    async fn run(&mut self, command: &str) -> String {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .unwrap();
        let mut words = command.split(' ');
        let (verb, name) = (words.next().unwrap(), words.next().unwrap());
        let answer = self
            .line(|l| {
                let mut w = l.split(' ');
                let (first, second, third) = (w.next(), w.next(), w.next());
                (matches!(first, Some("ok" | "refused"))
                    && second == Some(verb)
                    && third == Some(name))
                    || first == Some("error")
            })
            .await;
        assert!(
            !answer.starts_with("error"),
            "{command}: {answer}\n{}",
            self.said
        );
        answer
    }

    /// The next line `wanted` accepts, from those already read or still to come.
    async fn line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        if let Some(at) = self.unread.iter().position(|l| wanted(l)) {
            return self.unread.remove(at).expect("found");
        }
        loop {
            let line = tokio::time::timeout(WAIT, self.lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("the clients said nothing more:\n{}", self.said))
                .unwrap()
                .unwrap_or_else(|| panic!("the clients ended:\n{}", self.said));
            self.said.push_str(&line);
            self.said.push('\n');
            if wanted(&line) {
                return line;
            }
            self.unread.push_back(line);
        }
    }
}

/// What the server's handlers said, in order.
struct Handlers {
    events: mpsc::UnboundedReceiver<Seen>,
    unread: Vec<Seen>,
}

impl Handlers {
    async fn next(&mut self, wanted: impl Fn(&Seen) -> bool) -> Seen {
        if let Some(at) = self.unread.iter().position(&wanted) {
            return self.unread.remove(at);
        }
        loop {
            let seen = tokio::time::timeout(WAIT, self.events.recv())
                .await
                .expect("the server's handlers said nothing more")
                .expect("the server lives");
            if wanted(&seen) {
                return seen;
            }
            self.unread.push(seen);
        }
    }

    async fn joined(&mut self, tag: &str) -> SocketRef {
        match self
            .next(|s| matches!(s, Seen::Joined(t, _) if t == tag))
            .await
        {
            Seen::Joined(_, socket) => socket,
            _ => unreachable!(),
        }
    }

    async fn left(&mut self, tag: &str) -> DisconnectReason {
        match self
            .next(|s| matches!(s, Seen::Left(t, _) if t == tag))
            .await
        {
            Seen::Left(_, reason) => reason,
            _ => unreachable!(),
        }
    }
}

/// The sockets and rooms of `namespace` in a snapshot.
fn namespace(m: &Metrics, name: &str) -> (u64, u64) {
    let ns = m
        .namespaces
        .iter()
        .find(|n| n.name == name)
        .unwrap_or_else(|| panic!("no namespace {name} in {m:?}"));
    (ns.sockets, ns.rooms)
}

/// Open connections by transport, then messages in and out.
fn traffic(m: &Metrics) -> ((u64, u64), (u64, u64)) {
    (
        (m.engine.polling, m.engine.websocket),
        (m.engine.messages_in, m.engine.messages_out),
    )
}

/// A raw long-polling client: opens a session tagged `tag` and joins `/`; its path.
async fn raw_session(client: &mut Client, addr: SocketAddr, tag: &str) -> String {
    client
        .send(
            format!("GET /socket.io/?EIO=4&transport=polling&tag={tag} HTTP/1.1\r\nHost: {addr}\r\n\r\n")
                .as_bytes(),
        )
        .await;
    let open = String::from_utf8(client.response().await.unwrap().body).unwrap();
    let sid = open
        .split("\"sid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a sid in the open packet")
        .to_owned();
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    raw_post(client, addr, &path, "40").await;
    client
        .send(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await;
    let connected = client.response().await.unwrap();
    assert!(connected.body.starts_with(b"40{\"sid\":"), "{connected:?}");
    path
}

async fn raw_post(client: &mut Client, addr: SocketAddr, path: &str, body: &str) -> u16 {
    client
        .send(
            format!(
                "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain;charset=UTF-8\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await;
    client.response().await.unwrap().status
}

/// One request on a connection of its own; its status.
async fn status_of(addr: SocketAddr, request: &str) -> u16 {
    let mut client = Client::connect(addr).await;
    client.send(request.as_bytes()).await;
    client.response().await.expect("an answer").status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_follows_clients_over_every_transport() {
    snapshot_follows_clients(Stack::Native).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_follows_clients_over_every_transport_through_axum() {
    snapshot_follows_clients(Stack::Axum).await;
}

async fn snapshot_follows_clients(stack: Stack) {
    let (io, events) = server();
    let addr = serve(stack, &io).await;
    let mut server = Handlers {
        events,
        unread: Vec::new(),
    };
    let mut clients = Clients::start(addr).await;

    let m = io.metrics();
    assert_eq!(m.engine, Default::default(), "nothing yet");
    assert_eq!(
        (namespace(&m, "/"), namespace(&m, "/admin")),
        ((0, 0), (0, 0))
    );

    // P: long-polling, on `/` and on `/admin` with a token. Each CONNECT is a message in,
    // each answer a message out.
    clients.run("manager P polling").await;
    clients.run("connect P/ P /").await;
    clients.run("connect P/admin P /admin t0k3n").await;
    let p = server.joined("P/").await;
    let m = io.metrics();
    assert_eq!(traffic(&m), ((1, 0), (2, 2)));
    assert_eq!(m.engine.opened, 1);
    assert_eq!(
        (namespace(&m, "/"), namespace(&m, "/admin")),
        ((1, 0), (1, 0))
    );
    // The packets' bytes after the Engine.IO message type.
    let connects = "0".len() + r#"0/admin,{"token":"t0k3n"}"#.len();
    assert_eq!(m.engine.bytes_in, connects as u64);

    // W: WebSocket, the same two namespaces.
    clients.run("manager W websocket").await;
    clients.run("connect W/ W /").await;
    clients.run("connect W/admin W /admin t0k3n").await;
    let w = server.joined("W/").await;
    let m = io.metrics();
    assert_eq!(traffic(&m), ((1, 1), (4, 4)));
    assert_eq!((m.engine.opened, namespace(&m, "/").0), (2, 2));

    // Rooms: P in r1, W in r1 and r2; each emit and its ack a message each way.
    let before = io.metrics().engine;
    clients.run("emit P/ join r1").await;
    clients.run("emit W/ join r1").await;
    clients.run("emit W/ join r2").await;
    clients.run("emit P/ echo hello").await;
    let m = io.metrics();
    assert_eq!(namespace(&m, "/"), (2, 2));
    assert_eq!(traffic(&m).1, (8, 8));
    let echoed = r#"0["echo","hello"]"#.len() as u64;
    assert!(m.engine.bytes_in >= before.bytes_in + echoed);
    assert!(m.engine.bytes_out >= before.bytes_out + r#"0["hello"]"#.len() as u64);

    // The server waits for P's acknowledgement, then has it.
    let asking = tokio::spawn({
        let p = p.clone();
        async move { p.emit_with_ack::<_, String>("ask", &1).await }
    });
    clients.line(|l| l.starts_with("asked P/ ")).await;
    let m = io.metrics();
    assert_eq!((m.acks_waiting, traffic(&m).1), (1, (8, 9)));
    clients.run("answer P/").await;
    let answer = tokio::time::timeout(WAIT, asking).await.unwrap().unwrap();
    assert_eq!(answer.unwrap(), "answered");
    let m = io.metrics();
    assert_eq!(
        (m.acks_waiting, m.acks_timed_out, traffic(&m).1),
        (0, 0, (9, 9))
    );

    // W holds the acknowledgement past its timeout.
    let late = w
        .timeout(Duration::from_millis(200))
        .emit_with_ack::<_, String>("ask", &2)
        .await;
    assert!(matches!(late, Err(AckError::Timeout)), "{late:?}");
    let m = io.metrics();
    assert_eq!(
        (m.acks_waiting, m.acks_timed_out, traffic(&m).1),
        (0, 1, (9, 10))
    );

    // U: long-polling, then the upgrade to WebSocket (and an emit over it).
    clients.run("manager U upgrade").await;
    clients.run("connect U/ U /").await;
    clients.run("upgraded U").await;
    server.joined("U/").await;
    let m = io.metrics();
    assert_eq!(traffic(&m), ((1, 2), (11, 12)));
    assert_eq!((m.engine.opened, m.engine.upgrades), (3, 1));
    assert_eq!(namespace(&m, "/").0, 3);

    // X: WebSocket on `/`, then refused by `/admin`'s middleware and by a namespace that
    // does not exist (the connection stays for `/`).
    clients.run("manager X websocket").await;
    clients.run("connect X/ X /").await;
    let x = server.joined("X/").await;
    let refused = clients.run("connect X/admin X /admin").await;
    assert_eq!(refused, "refused connect X/admin no token");
    let refused = clients.run("connect X/nope X /nope").await;
    assert!(refused.starts_with("refused connect X/nope "), "{refused}");
    let m = io.metrics();
    assert_eq!(
        (
            m.connect_refused.middleware,
            m.connect_refused.unknown_namespace
        ),
        (1, 1)
    );
    assert_eq!(traffic(&m), ((1, 3), (14, 15)));
    assert_eq!((namespace(&m, "/").0, namespace(&m, "/admin").0), (4, 2));

    // Requests the engine refuses, each counted by why; none opens a session.
    let host = format!("Host: {addr}\r\n");
    let get = |query: &str| format!("GET /socket.io/?{query} HTTP/1.1\r\n{host}\r\n");
    assert_eq!(status_of(addr, &get("EIO=3&transport=polling")).await, 400);
    assert_eq!(
        status_of(
            addr,
            &get("EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA")
        )
        .await,
        400
    );
    assert_eq!(
        status_of(addr, &get("EIO=4&transport=polling&deny=1")).await,
        403
    );
    let preflight = |origin: &str| {
        format!("OPTIONS /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n{host}Origin: {origin}\r\n\r\n")
    };
    assert_eq!(
        status_of(addr, &preflight("http://allowed.test")).await,
        204
    );
    assert_eq!(
        status_of(addr, &preflight("http://elsewhere.test")).await,
        204
    );
    let no_key = format!(
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n{host}Connection: Upgrade\r\n\
         Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    assert_eq!(status_of(addr, &no_key).await, 400);
    let m = io.metrics();
    let r = &m.engine.refused;
    assert_eq!(
        (
            r.bad_request,
            r.unknown_sid,
            r.forbidden,
            r.cors,
            r.server_full
        ),
        (2, 1, 1, 1, 0)
    );
    assert_eq!(m.engine.opened, 4);

    // R: a raw long-polling client that stops polling. Its handler fills its buffer from
    // inside its session (so nothing drains it meanwhile): MAX_BUFFERED emits are queued,
    // the rest refused, and the volatile ones dropped (nothing could take them at once).
    let mut r = Client::connect(addr).await;
    let r_path = raw_session(&mut r, addr, "R").await;
    server.joined("R/").await;
    let m = io.metrics();
    assert_eq!(traffic(&m), ((2, 3), (15, 16)));
    assert_eq!(
        raw_post(&mut r, addr, &r_path, r#"42["fill",20]"#).await,
        200
    );
    let Seen::Filled { queued, refused } = server.next(|s| matches!(s, Seen::Filled { .. })).await
    else {
        unreachable!()
    };
    assert_eq!((queued, refused), (MAX_BUFFERED, 20 - MAX_BUFFERED));
    let m = io.metrics();
    assert_eq!(m.engine.buffer_full, refused as u64);
    assert_eq!(m.volatile_dropped, 5);
    assert_eq!(m.engine.messages_in, 16);
    // It never answers a ping.
    assert_eq!(server.left("R/").await, DisconnectReason::PingTimeout);
    let m = io.metrics();
    assert_eq!(traffic(&m), ((1, 3), (16, 16 + queued as u64)));
    assert_eq!(
        (m.engine.closes.ping_timeout, m.disconnects.ping_timeout),
        (1, 1)
    );
    assert_eq!(namespace(&m, "/").0, 4);

    // Q: a raw long-polling client that sends what is not an Engine.IO packet.
    let mut q = Client::connect(addr).await;
    let q_path = raw_session(&mut q, addr, "Q").await;
    server.joined("Q/").await;
    raw_post(&mut q, addr, &q_path, "9nonsense").await;
    assert_eq!(server.left("Q/").await, DisconnectReason::ParseError);
    let m = io.metrics();
    assert_eq!(
        (m.engine.closes.parse_error, m.disconnects.parse_error),
        (1, 1)
    );
    assert_eq!(traffic(&m), ((1, 3), (17, 25)));
    assert_eq!((m.engine.opened, namespace(&m, "/").0), (6, 4));

    // The server makes P leave `/`: a DISCONNECT out; P's connection stays for `/admin`.
    p.disconnect();
    assert_eq!(
        server.left("P/").await,
        DisconnectReason::ServerNamespaceDisconnect
    );
    let m = io.metrics();
    assert_eq!(namespace(&m, "/"), (3, 2), "W is still in r1 and r2");
    assert_eq!(traffic(&m), ((1, 3), (17, 26)));

    // W leaves `/`: a DISCONNECT in; its rooms go with it.
    clients.run("leave W/").await;
    assert_eq!(
        server.left("W/").await,
        DisconnectReason::ClientNamespaceDisconnect
    );
    let m = io.metrics();
    assert_eq!(namespace(&m, "/"), (2, 0));
    assert_eq!(traffic(&m), ((1, 3), (18, 26)));

    // The clients close P's and W's connections: their `/admin` sockets see it.
    clients.run("close P").await;
    assert_eq!(
        server.left("P/admin").await,
        DisconnectReason::TransportClose
    );
    clients.run("close W").await;
    assert_eq!(
        server.left("W/admin").await,
        DisconnectReason::TransportClose
    );
    let m = io.metrics();
    assert_eq!(traffic(&m).0, (0, 2));
    assert_eq!(m.engine.closes.transport_close, 2);
    assert_eq!((namespace(&m, "/").0, namespace(&m, "/admin").0), (2, 0));

    // The server closes X's connection (its socket gets a DISCONNECT first).
    x.close_connection();
    assert_eq!(
        server.left("X/").await,
        DisconnectReason::ServerNamespaceDisconnect
    );
    let m = io.metrics();
    assert_eq!(traffic(&m), ((0, 1), (18, 27)));
    assert_eq!(m.engine.closes.server_close, 1);

    // Shutdown closes the rest (U); once it returns, every count is final.
    io.shutdown(WAIT).await;
    assert_eq!(
        server.left("U/").await,
        DisconnectReason::ServerShuttingDown
    );
    let m = io.metrics();
    assert_eq!(traffic(&m), ((0, 0), (18, 27)));
    let c = &m.engine.closes;
    assert_eq!(
        (
            c.transport_close,
            c.transport_error,
            c.ping_timeout,
            c.parse_error,
            c.server_close
        ),
        (2, 0, 1, 1, 2)
    );
    assert_eq!(m.engine.closes.total(), m.engine.opened);
    let d = &m.disconnects;
    assert_eq!(
        (
            d.client_namespace_disconnect,
            d.server_namespace_disconnect,
            d.forced_server_close,
            d.server_shutting_down,
        ),
        (1, 2, 0, 1)
    );
    assert_eq!(
        (
            d.transport_close,
            d.transport_error,
            d.ping_timeout,
            d.parse_error
        ),
        (2, 0, 1, 1)
    );
    assert_eq!(d.total(), 8, "every socket that joined");
    assert_eq!((m.acks_waiting, m.acks_timed_out), (0, 1));
    assert_eq!(
        (namespace(&m, "/"), namespace(&m, "/admin")),
        ((0, 0), (0, 0))
    );
}
