//! HTTPS and WSS with rustls (feature `tls`): an acceptor from PEM files, the handshake of an
//! accepted connection, and [`Server::serve_tls`](crate::Server::serve_tls).
//!
//! TLS is only a stream under HTTP here: after the handshake the connection is a
//! [`TlsStream`], served by the same HTTP layer, engines and session tasks as a plain one.
//! A Socket.IO server for it is built with
//! [`build_for::<TlsStream<TcpStream>>()`](crate::socketio::SocketIoBuilder::build_for); the
//! same server also takes the connections of a hyper server given `TokioIo<TlsStream<_>>`
//! (an axum application accepting TLS itself).
//!
//! ```no_run
//! use server_adapter::socketio::SocketIo;
//! use server_adapter::tls::{self, TlsStream};
//! use server_adapter::Server;
//! use tokio::net::TcpStream;
//!
//! # async fn run() -> std::io::Result<()> {
//! let acceptor = tls::acceptor_from_pem_files("cert.pem", "key.pem")?;
//! let io = SocketIo::builder().build_for::<TlsStream<TcpStream>>();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3443").await?;
//! Server::new().mount(io).serve_tls(listener, acceptor).await
//! # }
//! ```

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub use tokio_rustls::rustls;
pub use tokio_rustls::server::TlsStream;
pub use tokio_rustls::TlsAcceptor;

/// How long a client may take to complete the TLS handshake. One that does not (or that
/// speaks plain HTTP to the TLS port) is dropped without disturbing any other connection.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// An acceptor for the certificate chain (leaf first) and the private key in these PEM
/// files, with rustls's safe defaults (TLS 1.2 and 1.3, ring's algorithms) and `http/1.1` as
/// the only ALPN protocol.
///
/// # Errors
/// A file cannot be read or holds no certificate or key, or the key does not fit the
/// certificate.
pub fn acceptor_from_pem_files(
    cert: impl AsRef<Path>,
    key: impl AsRef<Path>,
) -> io::Result<TlsAcceptor> {
    let (cert, key) = (cert.as_ref(), key.as_ref());
    let bad = |what: &Path, e: &dyn std::fmt::Display| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", what.display()),
        )
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| bad(cert, &e))?;
    if chain.is_empty() {
        return Err(bad(cert, &"no certificate"));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, &e))?;
    // ring, knowingly: rustls now marks it deprecated because it has no post-quantum key
    // exchange, but it builds with a C compiler alone, where aws-lc needs cmake.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| bad(key, &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The TLS handshake of an accepted connection, within [`HANDSHAKE_TIMEOUT`].
///
/// # Errors
/// The handshake failed (a client speaking something else than TLS, say) or timed out.
pub async fn handshake(
    acceptor: &TlsAcceptor,
    stream: TcpStream,
) -> io::Result<TlsStream<TcpStream>> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(result) => result,
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}
