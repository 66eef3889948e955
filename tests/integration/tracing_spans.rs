//! The spans and events an operator reads: a recording subscriber, set for the test's
//! thread (the server runs on the test's current-thread runtime, so every task it spawns is
//! recorded), sees a long-polling client join and leave over loopback.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use server_adapter::socketio::{DisconnectReason, SocketIo, SocketRef};
use server_adapter::Server;
use tokio::sync::mpsc;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use super::{Client, WAIT};

/// A span as recorded: its name, level, parent and fields.
#[derive(Debug, Clone)]
struct Span {
    name: &'static str,
    level: Level,
    parent: Option<u64>,
    fields: Vec<(String, String)>,
}

/// An event as recorded: its level, message, fields, and the spans it was in (innermost
/// first).
#[derive(Debug, Clone)]
struct Logged {
    level: Level,
    message: String,
    fields: Vec<(String, String)>,
    spans: Vec<Span>,
}

impl Logged {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn span(&self, name: &str) -> Option<&Span> {
        self.spans.iter().find(|s| s.name == name)
    }
}

impl Span {
    fn field(&self, name: &str) -> Option<&str> {
        // The last value recorded wins (a span field can be recorded again).
        self.fields
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

/// Records every span and event, at every level.
#[derive(Default, Clone)]
struct Recorder {
    spans: Arc<Mutex<HashMap<u64, Span>>>,
    /// The spans entered, innermost last (one thread: the test's).
    entered: Arc<Mutex<Vec<u64>>>,
    logged: Arc<Mutex<Vec<Logged>>>,
    next: Arc<AtomicU64>,
}

impl Recorder {
    fn current(&self) -> Option<u64> {
        self.entered.lock().unwrap().last().copied()
    }

    fn chain(&self, mut at: Option<u64>) -> Vec<Span> {
        let spans = self.spans.lock().unwrap();
        let mut chain = Vec::new();
        while let Some(id) = at {
            let Some(span) = spans.get(&id) else { break };
            chain.push(span.clone());
            at = span.parent;
        }
        chain
    }

    fn logged(&self) -> Vec<Logged> {
        self.logged.lock().unwrap().clone()
    }

    fn find(&self, message: &str) -> Logged {
        self.logged()
            .into_iter()
            .find(|l| l.message == message)
            .unwrap_or_else(|| panic!("no event {message:?} in {:#?}", self.logged()))
    }
}

/// The process's global default while these tests run: interested in nothing, but asked
/// every time (`sometimes`).
///
/// tracing caches each callsite's interest once, process-wide. With a single dispatcher
/// registered (the test's own, set for its thread only), tracing-core 0.1 computes that
/// interest from the default of whichever thread first reaches the callsite: a sibling test's
/// thread, with no subscriber, caches `never`, and the event is then dropped on this test's
/// thread too (tokio-rs/tracing#3611; it made this test fail about once in ten full runs).
/// With this one also registered, the interest is computed over both: `sometimes`, so each
/// event asks the current thread's subscriber.
struct AskEveryTime;

impl Subscriber for AskEveryTime {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, _: &Metadata<'_>) -> bool {
        false
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, _: &Event<'_>) {}

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let parent = if attrs.is_root() {
            None
        } else if attrs.is_contextual() {
            self.current()
        } else {
            attrs.parent().map(Id::into_u64)
        };
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        self.spans.lock().unwrap().insert(
            id,
            Span {
                name: attrs.metadata().name(),
                level: *attrs.metadata().level(),
                parent,
                fields: fields.0,
            },
        );
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut fields = Fields::default();
        values.record(&mut fields);
        if let Some(span) = self.spans.lock().unwrap().get_mut(&span.into_u64()) {
            span.fields.extend(fields.0);
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let parent = if event.is_root() {
            None
        } else if event.is_contextual() {
            self.current()
        } else {
            event.parent().map(Id::into_u64)
        };
        let message = fields
            .0
            .iter()
            .position(|(n, _)| n == "message")
            .map(|at| fields.0.remove(at).1)
            .unwrap_or_default();
        let logged = Logged {
            level: *event.metadata().level(),
            message,
            fields: fields.0,
            spans: self.chain(parent),
        };
        self.logged.lock().unwrap().push(logged);
    }

    fn enter(&self, span: &Id) {
        self.entered.lock().unwrap().push(span.into_u64());
    }

    fn exit(&self, span: &Id) {
        let mut entered = self.entered.lock().unwrap();
        if let Some(at) = entered.iter().rposition(|s| *s == span.into_u64()) {
            entered.remove(at);
        }
    }
}

/// A client joins `/` over long-polling and leaves: the session and socket spans carry
/// the sid, transport, peer, socket id and namespace; connect and disconnect are info
/// events inside them (the disconnect with its reason); the handler's own event is inside
/// the socket's span; a refused request is a debug event with its reason.
#[tokio::test]
async fn a_connection_is_traced_in_its_session_and_socket_spans() {
    // Set once per test binary; a second call (another test of this module) is refused,
    // which is fine: the first stays.
    let _ = tracing::subscriber::set_global_default(AskEveryTime);
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());

    let (left, mut leaving) = mpsc::unbounded_channel();
    let io = SocketIo::builder().build();
    io.of("/").on_connection(move |socket: SocketRef| {
        let left = left.clone();
        async move {
            tracing::info!("hello from the handler");
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
    tokio::spawn(Server::new().mount(io.clone()).serve(listener));

    let mut client = Client::connect(addr).await;
    let local = client.stream.local_addr().unwrap();
    let path = super::socketio::connect(&mut client, &addr.to_string()).await;
    let sid = path.rsplit('=').next().unwrap().to_owned();
    let close = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain;charset=UTF-8\r\n\
         Content-Length: 1\r\n\r\n1"
    );
    client.send(close.as_bytes()).await;
    let reason = tokio::time::timeout(WAIT, leaving.recv()).await.unwrap();
    assert_eq!(reason, Some(DisconnectReason::TransportClose));
    let mut refused = Client::connect(addr).await;
    refused
        .send(
            format!("GET /socket.io/?EIO=3&transport=polling HTTP/1.1\r\nHost: {addr}\r\n\r\n")
                .as_bytes(),
        )
        .await;
    assert_eq!(refused.response().await.unwrap().status, 400);

    let opened = recorder.find("session opened");
    assert_eq!(opened.level, Level::INFO);
    let session = opened.span("session").expect("inside the session span");
    assert_eq!(session.level, Level::INFO);
    assert_eq!(session.parent, None, "a root span");
    assert_eq!(session.field("sid"), Some(sid.as_str()));
    assert_eq!(session.field("transport"), Some("polling"));
    assert_eq!(session.field("peer"), Some(local.to_string().as_str()));

    let connected = recorder.find("socket connected");
    assert_eq!(connected.level, Level::INFO);
    let socket = connected.span("socket").expect("inside the socket span");
    assert_eq!(socket.field("namespace"), Some("/"));
    assert_eq!(
        connected.span("session").and_then(|s| s.field("sid")),
        Some(sid.as_str()),
        "the socket's span is inside its session's"
    );
    let socket_id = socket.field("id").expect("the socket id").to_owned();

    let handler = recorder.find("hello from the handler");
    assert_eq!(
        handler.span("socket").and_then(|s| s.field("id")),
        Some(socket_id.as_str()),
        "the handler runs inside its socket's span"
    );

    let disconnected = recorder.find("socket disconnected");
    assert_eq!(disconnected.level, Level::INFO);
    assert_eq!(disconnected.field("reason"), Some("transport close"));
    assert_eq!(
        disconnected.span("socket").and_then(|s| s.field("id")),
        Some(socket_id.as_str())
    );
    let closed = recorder.find("session closed");
    assert_eq!(closed.level, Level::INFO);
    assert_eq!(closed.field("reason"), Some("transport close"));
    assert!(closed.span("session").is_some());

    let refusal = recorder.find("request refused");
    assert_eq!(refusal.level, Level::DEBUG);
    assert_eq!(refusal.field("reason"), Some("bad request"));
    assert!(
        refusal.span("connection").is_some(),
        "inside the connection's span"
    );

    // Nothing above info per connection; nothing at warn or error at all.
    let loud: Vec<Logged> = recorder
        .logged()
        .into_iter()
        .filter(|l| l.level <= Level::WARN)
        .collect();
    assert!(loud.is_empty(), "{loud:#?}");
}
