//! The Socket.IO server API over raw long-polling requests: the handshake, the
//! namespace CONNECT, and what runs when the client leaves.

use std::time::Duration;

use server_adapter::socketio::{Data, DisconnectReason, SocketIo, SocketRef};
use server_adapter::Server;
use tokio::sync::mpsc;

use super::{Client, WAIT};

/// Opens a polling session and joins `/`; returns the session's path (sid included).
pub(crate) async fn connect(client: &mut Client, host: &str) -> String {
    let get = |path: &str| format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    let post = |path: &str, body: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain;charset=UTF-8\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    client
        .send(get("/socket.io/?EIO=4&transport=polling").as_bytes())
        .await;
    let open = client.response().await.expect("a handshake answer");
    let body = String::from_utf8(open.body).unwrap();
    let sid = body
        .split("\"sid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a sid in the open packet")
        .to_owned();
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    client.send(post(&path, "40").as_bytes()).await;
    assert_eq!(client.response().await.unwrap().body, b"ok");
    client.send(get(&path).as_bytes()).await;
    let connected = client.response().await.unwrap();
    assert!(connected.body.starts_with(b"40{\"sid\":"), "{connected:?}");
    path
}

/// A disconnect handler runs when the client closes its connection: the
/// session's leftover work (the disconnect) is handed to a task of its own
/// after the session task ends.
#[tokio::test]
async fn the_disconnect_handler_runs_when_the_client_closes() {
    let (left, mut leaving) = mpsc::unbounded_channel();
    let io = SocketIo::builder().build();
    io.of("/").on_connection(move |socket: SocketRef| {
        let left = left.clone();
        async move {
            socket.on_disconnect(move |_: SocketRef, reason: DisconnectReason| {
                let left = left.clone();
                async move {
                    let _ = left.send(reason);
                }
            });
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(Server::new().mount(io).serve(listener));

    let mut client = Client::connect(addr).await;
    let path = connect(&mut client, &addr.to_string()).await;
    // The Engine.IO close packet, as a client's `socket.close()` sends it.
    let close = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain;charset=UTF-8\r\n\
         Content-Length: 1\r\n\r\n1"
    );
    client.send(close.as_bytes()).await;
    let reason = tokio::time::timeout(WAIT, leaving.recv())
        .await
        .expect("the disconnect handler ran")
        .expect("the sender lives in the handler");
    assert_eq!(reason, DisconnectReason::TransportClose);
    // Once, not again.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(leaving.try_recv().is_err());
}

/// `socket.nsp().to(room)` reaches everyone in the room, the sender included,
/// where `socket.to(room)` leaves the sender out.
#[tokio::test]
async fn a_room_emit_through_the_namespace_reaches_the_sender_too() {
    let io = SocketIo::builder().build();
    io.of("/").on_connection(|socket: SocketRef| async move {
        socket.join("lobby");
        socket.on(
            "say",
            |socket: SocketRef, Data(text): Data<String>| async move {
                socket.to("lobby").emit("others", &text).unwrap();
                let ns = socket.nsp();
                ns.to("lobby")
                    .emit("everyone", &(&text, ns.name()))
                    .unwrap();
            },
        );
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(Server::new().mount(io).serve(listener));

    let mut client = Client::connect(addr).await;
    let path = connect(&mut client, &addr.to_string()).await;
    let body = r#"42["say","hi"]"#;
    let say = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain;charset=UTF-8\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    client.send(say.as_bytes()).await;
    assert_eq!(client.response().await.unwrap().body, b"ok");
    client
        .send(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await;
    let got = client.response().await.expect("the room's message");
    assert_eq!(
        String::from_utf8(got.body).unwrap(),
        r#"42["everyone","hi","/"]"#
    );
}
