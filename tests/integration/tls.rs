//! The chat over HTTPS and WSS: a certificate authority and a certificate for 127.0.0.1
//! made with `rcgen`, the two chat servers (`examples/chat.rs` natively, `examples/axum_chat.rs`
//! through axum and hyper) serving it over TLS, and the official `socket.io-client` in Node
//! trusting that authority (`NODE_EXTRA_CA_CERTS`) over polling, WebSocket and the upgrade.
//! Plain HTTP to the TLS port fails on its own connection while the others chat.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use server_adapter::socketio::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::node::run_script_with_env;
use super::{Stack, WAIT};

#[path = "../../examples/chat.rs"]
#[allow(dead_code, unreachable_pub, clippy::duplicate_mod)]
mod example;

#[path = "../../examples/axum_chat.rs"]
#[allow(dead_code, unreachable_pub, clippy::duplicate_mod)]
mod axum_example;

#[path = "../../examples/chat/app.rs"]
#[allow(dead_code, unreachable_pub, clippy::duplicate_mod)]
mod app;

/// PEM files in a directory of their own: the authority's certificate, and the server's
/// certificate (for 127.0.0.1 and localhost, signed by the authority) and key.
struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("sio-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // Names of their own: with rcgen's one default name for both, the server's
        // certificate would read as self-signed.
        ca.distinguished_name
            .push(DnType::CommonName, "socketio-rs test authority");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let key = KeyPair::generate().unwrap();
        let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        leaf.subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        leaf.distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        let cert = leaf.signed_by(&key, &ca_cert, &ca_key).unwrap();
        std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
        std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the chat of `stack` over TLS, with the acceptor the examples make from
/// `TLS_CERT` and `TLS_KEY`.
async fn start_tls_chat(stack: Stack, pki: &Pki) -> SocketAddr {
    let acceptor =
        server_adapter::tls::acceptor_from_pem_files(pki.path("cert.pem"), pki.path("key.pem"))
            .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    match stack {
        Stack::Native => {
            tokio::spawn(example::chat_tls(Parser::Default).serve_tls(listener, acceptor));
        }
        Stack::Axum => {
            let io = app::builder(Parser::Default)
                .build_for::<server_adapter::tls::TlsStream<TcpStream>>();
            app::handlers(io.of("/"));
            let router = axum_example::chat(&io);
            tokio::spawn(axum_example::serve_tls(listener, acceptor, router));
        }
        Stack::Hyper => panic!("the TLS chat is served natively or through axum"),
    }
    addr
}

/// Sends a plain HTTP request to the TLS port: the connection ends without an HTTP answer.
async fn plain_http_is_refused(addr: SocketAddr) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let read = tokio::time::timeout(WAIT, stream.read_to_end(&mut got))
        .await
        .expect("the server ends the connection");
    assert!(
        !got.starts_with(b"HTTP/"),
        "an HTTP answer on the TLS port: {:?} ({read:?})",
        String::from_utf8_lossy(&got)
    );
}

async fn chat_over_tls(stack: Stack) {
    let pki = Pki::new(&format!("{stack:?}"));
    let addr = start_tls_chat(stack, &pki).await;
    // A client that connects and says nothing holds only its own handshake.
    let _silent = TcpStream::connect(addr).await.unwrap();
    plain_http_is_refused(addr).await;
    let ca = pki.path("ca.pem");
    for transport in ["polling", "websocket", "upgrade"] {
        let scenarios = ["join", "rooms", "ack"];
        let mut args = vec![
            format!("https://127.0.0.1:{}", addr.port()),
            transport.to_owned(),
        ];
        args.extend(scenarios.iter().map(|s| s.to_string()));
        let env = [("NODE_EXTRA_CA_CERTS", ca.as_path())];
        let script = run_script_with_env("chat-client.js", &args, &env, Duration::from_secs(60));
        let (out, ()) = tokio::join!(script, plain_http_is_refused(addr));
        for name in scenarios {
            assert!(
                out.lines()
                    .any(|l| l.starts_with(&format!("ok {name} {transport}"))),
                "{name} over {transport} (TLS, {stack:?}) did not pass:\n{out}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_over_https_and_wss() {
    chat_over_tls(Stack::Native).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_over_https_and_wss_through_axum() {
    chat_over_tls(Stack::Axum).await;
}
