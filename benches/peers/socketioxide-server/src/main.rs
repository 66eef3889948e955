//! The benchmark's handlers on the `socketioxide` crate: the peer of
//! `examples/bench_server.rs` (see its docs for what each event does). Default options, as a
//! user would start it, served by hyper's HTTP/1.1 connection as socketioxide's own examples
//! do; 127.0.0.1, port from `PORT` (0, the default, picks a free one).

use std::fmt;

use bytes::Bytes;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::SocketIo;

/// One argument of an echoed event: binary (an attachment) or any JSON value.
///
/// `Data<serde_json::Value>` would turn an attachment into an array of numbers, so the echo
/// handlers take this instead: attachments stay bytes and go back as attachments.
enum Arg {
    Binary(Bytes),
    Json(serde_json::Value),
}

impl<'de> Deserialize<'de> for Arg {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ArgVisitor)
    }
}

struct ArgVisitor;

impl<'de> Visitor<'de> for ArgVisitor {
    type Value = Arg;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attachment or a JSON value")
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Arg, E> {
        Ok(Arg::Binary(Bytes::copy_from_slice(v)))
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Arg, E> {
        Ok(Arg::Binary(Bytes::from(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Arg, E> {
        Ok(Arg::Json(v.into()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Arg, E> {
        Ok(Arg::Json(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Arg, E> {
        Ok(Arg::Json(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Arg, E> {
        Ok(Arg::Json(v.into()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Arg, E> {
        Ok(Arg::Json(v.into()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Arg, E> {
        Ok(Arg::Json(v.into()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Arg, E> {
        Ok(Arg::Json(serde_json::Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Arg, A::Error> {
        serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Arg::Json)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Arg, A::Error> {
        serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Arg::Json)
    }
}

impl Serialize for Arg {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Arg::Binary(b) => serializer.serialize_bytes(b),
            Arg::Json(v) => v.serialize(serializer),
        }
    }
}

/// The argument of a `broadcast` event.
#[derive(Deserialize)]
struct Broadcast {
    room: String,
    data: serde_json::Value,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| std::io::Error::other(format!("PORT={p} is not a port number")))?,
        Err(_) => 0,
    };
    let (svc, io) = SocketIo::new_svc();
    io.ns("/", async |socket: SocketRef| {
        socket.on("echo", async |socket: SocketRef, Data(arg): Data<Arg>| {
            let _ = socket.emit("echo", &arg);
        });
        socket.on("echo-ack", async |Data(arg): Data<Arg>, ack: AckSender| {
            let _ = ack.send(&arg);
        });
        socket.on(
            "join",
            async |socket: SocketRef, Data(room): Data<String>| {
                socket.join(room);
            },
        );
        socket.on(
            "broadcast",
            async |io: SocketIo, Data(msg): Data<Broadcast>| {
                let _ = io.to(msg.room).emit("broadcast", &msg.data).await;
            },
        );
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "socketioxide-bench-server listening on http://{}/socket.io/",
        listener.local_addr()?
    );
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let svc = svc.clone();
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades()
                .await;
        });
    }
}
