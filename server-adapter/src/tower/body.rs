//! Response bodies: the engine's (one complete buffer) and, behind a layer, the inner
//! service's, as one type.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// A body of one complete buffer: what the engine answers (its responses are never streamed).
#[derive(Debug, Default)]
pub struct EngineBody(Option<Bytes>);

impl EngineBody {
    pub(crate) fn new(bytes: Bytes) -> EngineBody {
        EngineBody((!bytes.is_empty()).then_some(bytes))
    }
}

impl Body for EngineBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.take().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.0.as_ref().map_or(0, |b| b.len() as u64))
    }
}

/// The body of a response from a [`EngineService`](super::EngineService): the engine's, or the
/// inner service's for a request outside the engine's path.
#[derive(Debug)]
pub enum ResponseBody<B> {
    /// The engine answered.
    Engine(EngineBody),
    /// The inner service answered.
    Inner(B),
}

impl<B> Body for ResponseBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.get_mut() {
            ResponseBody::Engine(body) => Pin::new(body)
                .poll_frame(cx)
                .map(|f| f.map(|f| f.map_err(|never| match never {}))),
            ResponseBody::Inner(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ResponseBody::Engine(body) => body.is_end_stream(),
            ResponseBody::Inner(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ResponseBody::Engine(body) => body.size_hint(),
            ResponseBody::Inner(body) => body.size_hint(),
        }
    }
}
