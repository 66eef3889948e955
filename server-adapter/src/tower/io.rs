//! Which stream a session gets when hyper hands over an upgraded connection.

use bytes::Bytes;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// A stream type an engine's sessions can run on when hyper serves the connection: how to get
/// it back from hyper's [`Upgraded`] after a `101`.
///
/// hyper hands an upgraded connection over as an [`Upgraded`], a box around the stream the
/// server was given. An engine built for that stream type (the default, [`TcpStream`], for
/// `axum::serve` on a `TcpListener` and for hyper on accepted `TcpStream`s) takes the
/// stream back out of the box: its sessions then run exactly as when this crate's own HTTP
/// layer accepted the connection, with no indirection per read or write. An engine built
/// for [`TokioIo<Upgraded>`] (with
/// [`SocketIoBuilder::build_for`](crate::socketio::SocketIoBuilder::build_for)) takes any
/// hyper connection, whatever its stream (TLS, a Unix socket, a test's in-memory pipe), as
/// the box it is.
pub trait UpgradedStream: AsyncRead + AsyncWrite + Unpin + Send + Sized + 'static {
    /// The stream and the bytes hyper read past the upgrade request; the [`Upgraded`] back
    /// when it does not hold a stream of this type.
    ///
    /// # Errors
    /// The connection's stream is of another type.
    fn from_upgraded(upgraded: Upgraded) -> Result<(Self, Bytes), Upgraded>;
}

/// The stream `T` out of an upgraded connection whose server was given `TokioIo<T>`: through
/// `hyper_util`'s automatic-version connection (as `axum::serve` runs), or hyper's own.
pub(crate) fn downcast_tokio<T>(upgraded: Upgraded) -> Result<(T, Bytes), Upgraded>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    match hyper_util::server::conn::auto::upgrade::downcast::<TokioIo<T>>(upgraded) {
        Ok(parts) => Ok((parts.io.into_inner(), parts.read_buf)),
        Err(upgraded) => upgraded
            .downcast::<TokioIo<T>>()
            .map(|parts| (parts.io.into_inner(), parts.read_buf)),
    }
}

impl UpgradedStream for TcpStream {
    /// Also sets `TCP_NODELAY`, as the native server does on every connection it accepts
    /// (`axum::serve` does not): a session's small packets leave at once instead of waiting
    /// behind Nagle's algorithm for the peer's acknowledgement.
    fn from_upgraded(upgraded: Upgraded) -> Result<(Self, Bytes), Upgraded> {
        let (stream, read) = match downcast_tokio::<TcpStream>(upgraded) {
            Ok(parts) => parts,
            // Served from an `ArrivalListener`: the watch is for requests, not sessions.
            Err(upgraded) => downcast_tokio::<super::ArrivalStream<TcpStream>>(upgraded)
                .map(|(stream, read)| (stream.into_inner(), read))?,
        };
        let _ = stream.set_nodelay(true);
        Ok((stream, read))
    }
}

impl UpgradedStream for TokioIo<Upgraded> {
    fn from_upgraded(upgraded: Upgraded) -> Result<(Self, Bytes), Upgraded> {
        Ok((TokioIo::new(upgraded), Bytes::new()))
    }
}

#[cfg(feature = "tls")]
impl UpgradedStream for crate::tls::TlsStream<TcpStream> {
    fn from_upgraded(upgraded: Upgraded) -> Result<(Self, Bytes), Upgraded> {
        downcast_tokio(upgraded)
    }
}
