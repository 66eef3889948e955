//! The Redis adapter against a real `redis-server` (started here on a free loopback
//! port, no persistence, stopped by its PID): a cluster of Rust servers with official
//! `socket.io-client` clients spread over them, a mixed cluster with the official Node
//! server and `@socket.io/redis-adapter` 8.3, and Redis going away mid-run.
//!
//! Needs `redis-server` on the PATH (Debian's `redis-server` package; the test command
//! installs it) and the npm packages of `tests/node` (`npm ci --prefix tests/node`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use server_adapter::socketio::SocketIo;
use server_adapter::Server;
use socketio_redis::RedisAdapterConfig;

/// The server of each node: the example `cluster_node`, compiled in.
#[path = "../../examples/cluster_node.rs"]
#[allow(dead_code)]
mod cluster_node;
use tokio::net::TcpListener;

/// A `redis-server` of this test, stopped (by its PID) when dropped.
struct Redis {
    child: std::process::Child,
    port: u16,
}

impl Redis {
    fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        Redis::start_on(port)
    }

    fn start_on(port: u16) -> Redis {
        let mut child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("redis-server is needed for these tests (apt-get install redis-server): {e}")
            });
        // Wait (bounded) until it accepts connections.
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Redis { child, port };
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server did not start on port {port}");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config() -> RedisAdapterConfig {
    RedisAdapterConfig {
        requests_timeout: Duration::from_millis(2000),
        reconnect_delay: Duration::from_millis(100),
        ..RedisAdapterConfig::default()
    }
}

/// One Rust server with the handlers the Node script calls, on a loopback port.
async fn rust_server(redis: &str) -> (SocketIo, SocketAddr) {
    rust_server_with(redis, config()).await
}

async fn rust_server_with(redis: &str, config: RedisAdapterConfig) -> (SocketIo, SocketAddr) {
    let io = cluster_node::cluster_node(redis, config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::new().mount(io.clone());
    tokio::spawn(async move { server.serve(listener).await });
    (io, addr)
}

fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/node")
}

/// Runs the Node script, bounded, and returns its output.
async fn node(args: &[String]) -> String {
    let dir = node_dir();
    assert!(
        dir.join("node_modules/@socket.io/redis-adapter").is_dir(),
        "the npm packages are not installed: run `npm ci --prefix tests/node`"
    );
    let child = tokio::process::Command::new("node")
        .arg("redis-cluster.js")
        .args(args)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("`node` (Node.js 20) must be on the PATH");
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the Node script finished in time")
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    println!("{text}");
    text
}

fn expect_ok(out: &str, names: &[&str]) {
    for name in names {
        assert!(
            out.lines().any(|l| l == format!("ok {name}")),
            "{name} did not pass:\n{out}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_cluster_with_the_official_node_server_and_adapter() {
    let redis = Redis::start();
    let (_io, addr) = rust_server(&redis.url()).await;
    let out = node(&["mixed".into(), redis.url(), format!("http://{addr}")]).await;
    expect_ok(
        &out,
        &[
            "node-broadcast-reaches-rust-clients",
            "rust-broadcast-reaches-node-clients",
            "node-fetchSockets-sees-rust-sockets",
            "rust-fetchSockets-sees-node-sockets",
            "node-serverSideEmit-with-ack-reaches-rust",
            "rust-serverSideEmit-with-ack-reaches-node",
            "node-broadcast-acks-across-both",
            "rust-broadcast-acks-across-both",
            "node-remote-join-and-rooms",
            "redis-emitter-reaches-rust-clients",
            "rust-emitter-reaches-node-and-rust-clients",
            "rust-remote-join-and-leave-reach-node",
            "node-remote-leave-reaches-rust",
            "rust-disconnectSockets-reaches-node",
            "node-disconnectSockets-reaches-rust",
        ],
    );
}

/// A `cluster_node` process (the example, built beforehand: `cargo build -p socketio-redis
/// --example cluster_node`, as the test command does), stopped by its PID when
/// dropped.
struct NodeProcess {
    child: tokio::process::Child,
    url: String,
}

impl NodeProcess {
    async fn start(redis: &str) -> NodeProcess {
        // target/<profile>/deps/<this test> -> target/<profile>/examples/cluster_node
        let exe = std::env::current_exe().unwrap();
        let bin = exe
            .parent()
            .and_then(|deps| deps.parent())
            .map(|dir| dir.join("examples/cluster_node"))
            .filter(|p| p.is_file())
            .expect(
                "the cluster_node example is not built: run \
                 `cargo build -p socketio-redis --example cluster_node` first (the test \
                 command does)",
            );
        let mut child = tokio::process::Command::new(bin)
            .env("REDIS_URL", redis)
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("cluster_node printed its address in time")
            .unwrap()
            .expect("cluster_node printed its address");
        let url = line
            .split_whitespace()
            .last()
            .expect("cluster_node listening on <url>")
            .to_owned();
        // Keep reading (and discarding) its output so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        NodeProcess { child, url }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_server_processes_and_120_official_clients() {
    let redis = Redis::start();
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(NodeProcess::start(&redis.url()).await);
    }
    let urls: Vec<&str> = nodes.iter().map(|n| n.url.as_str()).collect();
    let out = node(&["cluster".into(), urls.join(","), "120".into()]).await;
    expect_ok(
        &out,
        &[
            "room-broadcast-exact-delivery-with-except",
            "fetchSockets-across-servers",
            "broadcast-acks-across-servers-and-timeout",
            "remote-join-and-all-rooms",
            "server-side-emit-with-ack-across-servers",
            "remote-leave",
            "remote-disconnect",
        ],
    );
}

/// Polls `f` every 50 ms until it is true, at most `limit`.
async fn eventually<F: std::future::Future<Output = bool>>(
    limit: Duration,
    mut f: impl FnMut() -> F,
) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_and_a_silent_node() {
    let redis = Redis::start();
    let port = redis.port;
    let (a, _) = rust_server(&redis.url()).await;
    let (_b, _) = rust_server(&redis.url()).await;
    let pong = |io: SocketIo| async move {
        io.server_side_emit_with_ack("ping", &[json!("a")])
            .await
            .ok()
            == Some(vec![json!("pong-rust:a")])
    };
    assert!(
        eventually(Duration::from_secs(10), || pong(a.clone())).await,
        "the two servers see each other"
    );

    // Garbage on every channel is logged and ignored.
    let client = redis::Client::open(redis.url()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    for channel in [
        "socket.io#/#",
        "socket.io#/#room#",
        "socket.io-request#/#",
        "socket.io-response#/#",
    ] {
        for junk in [&b"\x93\xa1x"[..], b"{\"type\":7}", b"\xc1\xc1", b"{", b""] {
            redis::cmd("PUBLISH")
                .arg(channel)
                .arg(junk)
                .query_async::<i64>(&mut raw)
                .await
                .unwrap();
        }
    }
    assert!(pong(a.clone()).await, "still answering after garbage");

    drop(redis);
    // Local traffic goes on; cross-node requests fail within the timeout, never hang.
    a.emit("local", &1).unwrap();
    let started = std::time::Instant::now();
    let result = a.fetch_sockets().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by the request timeout"
    );
    assert!(result.is_err() || result.is_ok_and(|s| s.is_empty()));

    let redis = Redis::start_on(port);
    assert!(
        eventually(Duration::from_secs(15), || pong(a.clone())).await,
        "cross-node traffic resumes after Redis comes back"
    );

    // A node that subscribes but never answers: the request ends with a timeout error.
    let client = redis::Client::open(redis.url()).unwrap();
    let mut silent = client.get_async_pubsub().await.unwrap();
    silent.subscribe("socket.io-request#/#").await.unwrap();
    let started = std::time::Instant::now();
    let result = a.all_rooms().await;
    assert!(
        matches!(
            result,
            Err(server_adapter::socketio::AdapterError::Timeout { .. })
        ),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_on_the_asking_node_s_own_response_channel() {
    let redis = Redis::start();
    let specific = RedisAdapterConfig {
        publish_on_specific_response_channel: true,
        ..config()
    };
    let (a, _) = rust_server_with(&redis.url(), specific.clone()).await;
    let (b, _) = rust_server_with(&redis.url(), specific).await;
    // A third node listens to the shared response channel: it must hear nothing.
    let client = redis::Client::open(redis.url()).unwrap();
    let mut shared = client.get_async_pubsub().await.unwrap();
    shared.subscribe("socket.io-response#/#").await.unwrap();
    let ready = eventually(Duration::from_secs(10), || {
        let b = b.clone();
        async move { b.all_rooms().await.is_ok() }
    })
    .await;
    assert!(ready, "the two servers see each other");
    let rooms = a.all_rooms().await.unwrap();
    assert!(rooms.is_empty(), "{rooms:?}");
    let mut messages = shared.on_message();
    let heard = tokio::time::timeout(
        Duration::from_millis(300),
        futures_util::StreamExt::next(&mut messages),
    )
    .await;
    assert!(
        heard.is_err(),
        "a response went to the shared channel: {heard:?}"
    );
}
