//! What a connection calls for each request: the [`Service`] trait, its [`Reply`], and the
//! hand-over of the connection on a protocol upgrade.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use bytes::{Bytes, BytesMut};

use super::request::{Request, RequestHead};
use super::response::Response;

/// A future that runs an upgraded connection to its end.
pub type UpgradeFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

pub(crate) type OnUpgrade<Io> = Box<dyn FnOnce(Upgraded<Io>) -> UpgradeFuture + Send + 'static>;

/// A request handler: called once per request, in order, with the complete request.
///
/// `Io` is the connection's stream type; only a service that upgrades connections cares about
/// it, since it receives the stream in [`Upgraded`].
///
/// If the peer closes the connection while the returned future is pending, the connection
/// drops the future: a long-poll can learn that its request was aborted from that drop.
pub trait Service<Io>: Send + Sync {
    /// The largest body accepted for this request, decided from its head before the body is
    /// read; `None` uses [`Config::max_body`](super::Config::max_body). A larger body is
    /// answered `413` and the connection is closed.
    fn body_limit(&self, head: &RequestHead) -> Option<usize> {
        let _ = head;
        None
    }

    /// Answers the request.
    fn call(&self, request: Request) -> impl Future<Output = Reply<Io>> + Send;
}

impl<Io, S: Service<Io>> Service<Io> for &S {
    fn body_limit(&self, head: &RequestHead) -> Option<usize> {
        (**self).body_limit(head)
    }

    fn call(&self, request: Request) -> impl Future<Output = Reply<Io>> + Send {
        (**self).call(request)
    }
}

impl<Io, S: Service<Io>> Service<Io> for std::sync::Arc<S> {
    fn body_limit(&self, head: &RequestHead) -> Option<usize> {
        (**self).body_limit(head)
    }

    fn call(&self, request: Request) -> impl Future<Output = Reply<Io>> + Send {
        (**self).call(request)
    }
}

/// What a service answers: a response, or a switch to another protocol on this connection.
pub enum Reply<Io> {
    /// A normal response; the connection then reads the next request (unless it closes).
    Response(Response),
    /// Switch protocols: the connection writes the `101` response, then hands its stream to
    /// the upgrade's function and runs the future it returns in the connection's task.
    Upgrade(Upgrade<Io>),
}

impl<Io> fmt::Debug for Reply<Io> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Response(r) => f.debug_tuple("Response").field(r).finish(),
            Reply::Upgrade(u) => f.debug_tuple("Upgrade").field(u).finish(),
        }
    }
}

impl<Io> From<Response> for Reply<Io> {
    fn from(r: Response) -> Self {
        Reply::Response(r)
    }
}

impl<Io> Reply<Io> {
    /// Switches protocols: `response` (status `101`, normally from
    /// [`ws::Accept::response`](crate::ws::Accept::response)) is written, then `run` gets the
    /// stream and the bytes read past the request, and its future runs in the connection's task.
    pub fn upgrade<F, Fut>(response: Response, run: F) -> Reply<Io>
    where
        F: FnOnce(Upgraded<Io>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Reply::upgrade_with(response, run, false)
    }

    /// As [`Reply::upgrade`], except that the `101` head is not written: `run` gets it in
    /// [`Upgraded::head`] and must write it before anything else.
    /// [`WebSocket::from_upgraded`](crate::ws::WebSocket::from_upgraded) does, in the same
    /// write as the first frames queued on the socket: a server that speaks first (as an
    /// Engine.IO server sends its open packet) answers the handshake with one write, one
    /// system call and one packet, instead of two.
    pub fn upgrade_deferring_head<F, Fut>(response: Response, run: F) -> Reply<Io>
    where
        F: FnOnce(Upgraded<Io>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Reply::upgrade_with(response, run, true)
    }

    fn upgrade_with<F, Fut>(response: Response, run: F, defer_head: bool) -> Reply<Io>
    where
        F: FnOnce(Upgraded<Io>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Reply::Upgrade(Upgrade {
            response,
            run: Box::new(move |u| Box::pin(run(u))),
            defer_head,
        })
    }
}

/// A protocol switch: the `101` response and the function that takes over the stream.
pub struct Upgrade<Io> {
    pub(crate) response: Response,
    pub(crate) run: OnUpgrade<Io>,
    /// The head goes to `run` in [`Upgraded::head`] instead of being written.
    pub(crate) defer_head: bool,
}

impl<Io> fmt::Debug for Upgrade<Io> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgrade")
            .field("response", &self.response)
            .finish_non_exhaustive()
    }
}

/// A connection handed over after a `101` response.
pub struct Upgraded<Io> {
    /// The stream.
    pub io: Io,
    /// Bytes the HTTP layer read past the upgrade request (the start of the new protocol);
    /// often empty, in which case it holds no allocation.
    pub read_buf: BytesMut,
    /// The `101` response's head, not yet written, when the upgrade deferred it (see
    /// [`Reply::upgrade_deferring_head`]): whoever takes the stream writes it first. Empty
    /// otherwise.
    pub head: Bytes,
}

impl<Io> Upgraded<Io> {
    /// The same upgrade over `f(io)`.
    pub(crate) fn map_io<T>(self, f: impl FnOnce(Io) -> T) -> Upgraded<T> {
        Upgraded {
            io: f(self.io),
            read_buf: self.read_buf,
            head: self.head,
        }
    }
}

impl<Io> fmt::Debug for Upgraded<Io> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgraded")
            .field("read_buf", &self.read_buf.len())
            .finish_non_exhaustive()
    }
}

/// A service made of an async function or closure returning a [`Response`] or [`Reply`]: see
/// [`service_fn`].
#[derive(Clone, Copy)]
pub struct ServiceFn<F>(F);

impl<F> fmt::Debug for ServiceFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServiceFn")
    }
}

/// Makes a [`Service`] of a function from [`Request`] to a future of a [`Response`] (or a
/// [`Reply`]).
///
/// ```
/// use server_adapter::http::{service_fn, Request, Response};
/// let hello = service_fn(|_req: Request| async { Response::text(200, "hello") });
/// # let _ = hello;
/// ```
pub fn service_fn<F>(f: F) -> ServiceFn<F> {
    ServiceFn(f)
}

impl<Io, F, Fut, R> Service<Io> for ServiceFn<F>
where
    F: Fn(Request) -> Fut + Send + Sync,
    Fut: Future<Output = R> + Send,
    R: Into<Reply<Io>>,
{
    fn call(&self, request: Request) -> impl Future<Output = Reply<Io>> + Send {
        let fut = (self.0)(request);
        async move { fut.await.into() }
    }
}

/// The default fallback service: answers every request `404 Not Found`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NotFound;

impl<Io> Service<Io> for NotFound {
    fn call(&self, _request: Request) -> impl Future<Output = Reply<Io>> + Send {
        std::future::ready(Reply::Response(Response::not_found()))
    }
}
