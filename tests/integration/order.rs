//! Message order on one connection, whichever way each message leaves the server.
//!
//! An emit to a connection whose session is idle on a plain TCP WebSocket is queued on the
//! connection's write lane and written by the engine's flusher; one to a busy connection
//! goes through its session task (see `server_adapter`'s `engine::lane`). The official
//! client must see every message of one emitter in the order it was emitted either way,
//! also while the connection goes from one to the other at every turn.

use std::time::Duration;

use server_adapter::socketio::{AckSender, Binary, Data, EmitError, SocketIo, SocketRef};
use server_adapter::Server;
use tokio::net::TcpListener;

use super::node::run_script;
use super::WAIT;

fn server() -> SocketIo {
    // Room for every message of a run: a broadcast skips a member that is full (the
    // client would report the gap), and this test is about order, not bounds.
    let io = SocketIo::builder()
        .max_buffered(100_000, 64 * 1024 * 1024)
        .build();
    io.of("/").on_connection(|socket: SocketRef| async move {
        socket.on("join", |socket: SocketRef, ack: AckSender| async move {
            socket.join("r");
            let _ = ack.send(&());
        });
        socket.on(
            "go",
            |socket: SocketRef, Data(count): Data<u32>| async move {
                // Not from the session's own task: its emits find the connection idle or busy
                // as the client's ticks come and go. In bursts, so that the clients keep up
                // within the connection's bounds.
                tokio::spawn(async move {
                    for i in 0..count {
                        emit_number(&socket, i).await;
                        if i % 200 == 199 {
                            tokio::task::yield_now().await;
                        }
                    }
                });
            },
        );
        socket.on("tick", |socket: SocketRef, Data(n): Data<u32>| async move {
            let _ = socket.emit("tock", &n);
        });
    });
    io
}

/// Emits message `i`: even numbers broadcast to the room, odd ones to the asking socket
/// alone, every 97th with a 300-byte attachment. A full connection is waited for, as an
/// application that must not lose a message does.
async fn emit_number(socket: &SocketRef, i: u32) {
    loop {
        let attachment = (i % 97 == 0).then(|| Binary::new(vec![(i % 256) as u8; 300]));
        let sent = match (i % 2 == 0, attachment) {
            (true, Some(a)) => socket.nsp().to("r").emit("n", &(i, a)),
            (true, None) => socket.nsp().to("r").emit("n", &i),
            (false, Some(a)) => socket.emit("n", &(i, a)),
            (false, None) => socket.emit("n", &i),
        };
        match sent {
            Ok(()) => return,
            Err(EmitError::BufferFull) if i % 2 == 1 => {
                tokio::time::sleep(Duration::from_millis(1)).await
            }
            Err(e) => panic!("emit {i}: {e}"),
        }
    }
}

async fn run(transport: &str, count: u32) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::new().mount(server());
    let stop = server.shutdown_handle();
    let task = tokio::spawn(server.serve(listener));
    let args = [
        format!("http://{addr}"),
        count.to_string(),
        transport.to_owned(),
    ];
    let out = run_script("order-client.js", &args, Duration::from_secs(90)).await;
    println!("{out}");
    assert!(out.lines().any(|l| l.starts_with("ok order ")), "{out}");
    stop.shutdown(Duration::from_secs(1));
    let _ = tokio::time::timeout(WAIT, task).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_arrives_once_and_in_order_over_websocket() {
    run("websocket", 20_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_arrives_once_and_in_order_over_polling() {
    run("polling", 2_000).await;
}
