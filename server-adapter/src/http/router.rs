//! The router: one path prefix to the engine, everything else to a fallback.

use std::future::Future;

use super::request::{Request, RequestHead};
use super::service::{NotFound, Reply, Service};

/// Sends requests whose path starts with `prefix` to the engine service, all others to the
/// fallback (by default [`NotFound`]), so that an application can serve its own pages from the
/// same port.
///
/// Matching is a plain byte prefix of [`RequestHead::path`], as the Node server does; the
/// prefix is used as given (Engine.IO normalises its path to end in `/`, so give it that way).
#[derive(Clone, Debug)]
pub struct Router<E, F = NotFound> {
    prefix: String,
    engine: E,
    fallback: F,
}

impl<E> Router<E, NotFound> {
    /// A router sending `prefix...` to `engine` and everything else to `404`.
    pub fn new(prefix: impl Into<String>, engine: E) -> Router<E, NotFound> {
        Router {
            prefix: prefix.into(),
            engine,
            fallback: NotFound,
        }
    }
}

impl<E, F> Router<E, F> {
    /// Replaces the fallback service.
    pub fn fallback<G>(self, fallback: G) -> Router<E, G> {
        Router {
            prefix: self.prefix,
            engine: self.engine,
            fallback,
        }
    }

    /// Whether a request goes to the engine.
    #[must_use]
    pub fn matches(&self, head: &RequestHead) -> bool {
        head.path().starts_with(&self.prefix)
    }
}

impl<Io, E, F> Service<Io> for Router<E, F>
where
    Io: Send,
    E: Service<Io>,
    F: Service<Io>,
{
    fn body_limit(&self, head: &RequestHead) -> Option<usize> {
        if self.matches(head) {
            self.engine.body_limit(head)
        } else {
            self.fallback.body_limit(head)
        }
    }

    fn call(&self, request: Request) -> impl Future<Output = Reply<Io>> + Send {
        let to_engine = self.matches(&request.head);
        async move {
            if to_engine {
                self.engine.call(request).await
            } else {
                self.fallback.call(request).await
            }
        }
    }
}
