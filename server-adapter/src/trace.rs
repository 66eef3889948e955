//! The spans a server opens, and how a task runs inside one.
//!
//! - `connection` (debug, field `peer`): one accepted TCP connection of this crate's HTTP
//!   server, while its task serves HTTP (an upgraded WebSocket moves on to its session's
//!   task). Inside axum or hyper the connection is theirs, and so is its span.
//! - `session` (info, fields `sid`, `transport`, `peer`): one Engine.IO session, whatever
//!   front door it came through; `transport` is recorded again on an upgrade. A root span:
//!   a long-polling session outlives the connections that carry its requests.
//! - `socket` (info, fields `id`, `namespace`): one Socket.IO socket, inside its session's
//!   span; the socket's middleware and handlers run inside it, so what they log carries the
//!   socket, its session and the peer.
//!
//! A span is kept boxed, and only when a subscriber wants it ([`SpanBox`]): a session's task
//! is most of what an idle connection costs, and a `tracing::Span` inline would add 40 bytes
//! to every one of them (8 this way, and no allocation while tracing is off).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tracing::Span;

/// A span, boxed when some subscriber is interested in it, absent otherwise.
#[derive(Debug, Default)]
pub(crate) struct SpanBox(Option<Box<Span>>);

impl SpanBox {
    pub(crate) fn new(span: Span) -> Self {
        if span.is_disabled() {
            SpanBox(None)
        } else {
            SpanBox(Some(Box::new(span)))
        }
    }

    /// Enters the span until the guard is dropped (never across an `.await`).
    #[inline]
    pub(crate) fn enter(&self) -> Option<tracing::span::Entered<'_>> {
        self.0.as_deref().map(Span::enter)
    }
}

pin_project_lite::pin_project! {
    /// A future polled inside a span: what `tracing::Instrument` does, with the span boxed.
    #[derive(Debug)]
    pub(crate) struct InSpan<F> {
        #[pin]
        inner: F,
        span: SpanBox,
    }
}

impl<F> InSpan<F> {
    pub(crate) fn new(inner: F, span: SpanBox) -> Self {
        InSpan { inner, span }
    }
}

impl<F: Future> Future for InSpan<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        this.inner.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_nobody_wants_takes_no_box() {
        // No subscriber in this test: every span is disabled.
        assert!(SpanBox::new(tracing::info_span!("session")).0.is_none());
        assert_eq!(std::mem::size_of::<SpanBox>(), 8);
    }
}
