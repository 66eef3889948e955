//! Handlers and the arguments they take.
//!
//! An event handler is an async closure whose parameters are *extractors*:
//! each says what it wants from the event, and the handler runs only if every
//! one of them can be had.
//!
//! | parameter | what it gets |
//! |---|---|
//! | [`SocketRef`] | the socket the event came from |
//! | [`Data<T>`] | the first argument, deserialized into `T` (the handler is skipped if it does not fit) |
//! | [`TryData<T>`] | the same as a `Result`, so the handler always runs |
//! | [`Args<T>`] | all the arguments as a tuple, e.g. `Args<(String, u32)>` |
//! | [`RawArgs`] | the arguments untouched (JSON and attachments), to forward or echo without parsing |
//! | [`Bin`] | the binary attachments |
//! | [`AckSender`] | answers the client's acknowledgement callback |
//! | [`EventName`] | the event's name (useful in [`SocketRef::on_any`]) |
//!
//! ```no_run
//! # use server_adapter::socketio::*;
//! # fn f(socket: SocketRef) {
//! #[derive(serde::Deserialize)]
//! struct Message { room: String, text: String }
//!
//! socket.on("message", |socket: SocketRef, Data(msg): Data<Message>| async move {
//!     let _ = socket.to(msg.room).emit("message", &msg.text);
//! });
//! socket.on("ping-ack", |Data(msg): Data<serde_json::Value>, ack: AckSender| async move {
//!     let _ = ack.send(&serde_json::json!({ "ok": true, "received": msg }));
//! });
//! # }
//! ```
//!
//! Binary data: take [`Binary`](socketio_parser::Binary) values inside `Data`
//! or `Args` (`Data<Binary>`, `Args<(String, Binary)>`); a `Vec<u8>` would
//! expect an array of numbers. To take whatever a client sends, binary
//! anywhere inside included, use [`Value`](socketio_parser::Value): objects
//! keep their key order, and emitting or acknowledging it sends the bytes back
//! as attachments. `serde_json::Value` cannot hold bytes: an event whose binary
//! would land in one (or in any other type that is not `Binary` or `Value`) does
//! not fit, so the handler is not called and a warning is logged
//! ([`ArgsError::UnreadBinary`]); binary that the handler's type skips (an
//! extra argument, an unknown struct field) is simply ignored.

use std::any::TypeId;
use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, RwLock};

use bytes::Bytes;
use serde::de::DeserializeOwned;
use socketio_core::DisconnectReason;
use socketio_parser::{ArgsError, Packet, RawArgs};

use super::ack::AckSender;
use super::error::ConnectError;
use super::socket::SocketRef;

/// A boxed future run by a session task.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An event as handlers see it.
#[derive(Debug)]
pub struct EventContext {
    pub(crate) socket: SocketRef,
    pub(crate) packet: Packet,
}

/// Something a handler can take from an event.
pub trait FromEvent: Sized {
    /// Extracts the value, or `None` to skip the handler.
    fn from_event(event: &EventContext) -> Option<Self>;
}

/// The first argument, deserialized. A handler with a `Data` parameter that
/// does not fit is not called.
#[derive(Debug, Clone)]
pub struct Data<T>(pub T);

/// The first argument, or why it did not fit.
#[derive(Debug)]
pub struct TryData<T>(pub Result<T, ArgsError>);

/// All the arguments, as a tuple (or `Vec`, or struct read in order).
#[derive(Debug, Clone)]
pub struct Args<T>(pub T);

/// The binary attachments of the event, in order.
#[derive(Debug, Clone)]
pub struct Bin(pub Vec<Bytes>);

/// The event's name.
#[derive(Debug, Clone)]
pub struct EventName(pub String);

impl FromEvent for SocketRef {
    fn from_event(event: &EventContext) -> Option<Self> {
        Some(event.socket.clone())
    }
}

impl<T: DeserializeOwned> FromEvent for Data<T> {
    fn from_event(event: &EventContext) -> Option<Self> {
        first_arg(&event.packet)
            .map_err(|e| not_fitting(event, &e))
            .ok()
            .map(Data)
    }
}

/// Logs why an event's arguments do not fit the handler that is then skipped. Binary that
/// reached a type unable to hold it is the application's mistake, so it is a warning.
fn not_fitting(event: &EventContext, error: &ArgsError) {
    if matches!(error, ArgsError::UnreadBinary { .. }) {
        tracing::warn!(socket = %event.socket.id(), %error, "event data does not fit the handler");
    } else {
        tracing::debug!(socket = %event.socket.id(), %error, "event data does not fit the handler");
    }
}

impl<T: DeserializeOwned> FromEvent for TryData<T> {
    fn from_event(event: &EventContext) -> Option<Self> {
        Some(TryData(first_arg(&event.packet)))
    }
}

fn first_arg<T: DeserializeOwned>(packet: &Packet) -> Result<T, ArgsError> {
    packet.args::<(T,)>().map(|(t,)| t)
}

impl<T: DeserializeOwned> FromEvent for Args<T> {
    fn from_event(event: &EventContext) -> Option<Self> {
        event
            .packet
            .args::<T>()
            .map_err(|e| not_fitting(event, &e))
            .ok()
            .map(Args)
    }
}

impl FromEvent for RawArgs {
    fn from_event(event: &EventContext) -> Option<Self> {
        event.packet.raw_args()
    }
}

impl FromEvent for Bin {
    fn from_event(event: &EventContext) -> Option<Self> {
        Some(Bin(event.packet.attachments().to_vec()))
    }
}

impl FromEvent for EventName {
    fn from_event(event: &EventContext) -> Option<Self> {
        event.packet.event_name().map(|n| EventName(n.to_string()))
    }
}

impl FromEvent for AckSender {
    fn from_event(event: &EventContext) -> Option<Self> {
        Some(AckSender::new(event.socket.clone(), event.packet.ack_id()))
    }
}

/// An event handler: an async closure whose parameters are extractors
/// ([`FromEvent`]): [`SocketRef`], [`Data<T>`] (the first argument), [`TryData<T>`],
/// [`Args<T>`] (all arguments as a tuple), [`RawArgs`] (untouched, to forward),
/// [`Bin`] (the attachments), [`AckSender`] and [`EventName`]. The handler runs only
/// if every extractor can be had.
pub trait EventHandler<T>: Send + Sync + 'static {
    /// Runs the handler for an event, or `None` if an extractor refused.
    fn call(&self, event: EventContext) -> Option<BoxFuture<()>>;
}

macro_rules! event_handler {
    ($($ty:ident),*) => {
        impl<F, Fut, $($ty,)*> EventHandler<($($ty,)*)> for F
        where
            F: Fn($($ty,)*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = ()> + Send + 'static,
            $($ty: FromEvent,)*
        {
            #[allow(non_snake_case, unused_variables)]
            fn call(&self, event: EventContext) -> Option<BoxFuture<()>> {
                $(let $ty = $ty::from_event(&event)?;)*
                Some(Box::pin((self)($($ty,)*)))
            }
        }
    };
}

event_handler!();
event_handler!(A1);
event_handler!(A1, A2);
event_handler!(A1, A2, A3);
event_handler!(A1, A2, A3, A4);
event_handler!(A1, A2, A3, A4, A5);
event_handler!(A1, A2, A3, A4, A5, A6);

/// A type-erased event handler, as sockets store them.
pub(crate) trait ErasedEventHandler: Send + Sync {
    fn call(&self, event: EventContext) -> Option<BoxFuture<()>>;
}

pub(crate) struct Erased<H, T>(pub(crate) H, pub(crate) PhantomData<fn() -> T>);

impl<H: EventHandler<T>, T: 'static> Erased<H, T> {
    /// `handler`, ready to be called from any task.
    ///
    /// A handler that holds nothing (a closure that captures nothing, as most do) is the same
    /// value for every socket that registers it: all of them share one allocation of it, made
    /// by the first, instead of each keeping its own. With a few handlers per socket that was
    /// over a hundred bytes of every connection.
    pub(crate) fn shared(handler: H) -> Arc<dyn ErasedEventHandler> {
        if std::mem::size_of::<H>() != 0 || std::mem::needs_drop::<H>() {
            return Arc::new(Erased(handler, PhantomData));
        }
        type Shared = HashMap<TypeId, Arc<dyn ErasedEventHandler>>;
        static SHARED: OnceLock<RwLock<Shared>> = OnceLock::new();
        let shared = SHARED.get_or_init(RwLock::default);
        let key = TypeId::of::<Erased<H, T>>();
        let known = shared
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&key)
            .cloned();
        known.unwrap_or_else(|| {
            shared
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .entry(key)
                .or_insert_with(|| Arc::new(Erased(handler, PhantomData)))
                .clone()
        })
    }
}

impl<H: EventHandler<T>, T: 'static> ErasedEventHandler for Erased<H, T> {
    fn call(&self, event: EventContext) -> Option<BoxFuture<()>> {
        self.0.call(event)
    }
}

/// Runs when a socket joins a namespace (after the middleware let it in).
pub trait ConnectHandler: Send + Sync + 'static {
    /// Runs the handler.
    fn call(&self, socket: SocketRef) -> BoxFuture<()>;
}

impl<F, Fut> ConnectHandler for F
where
    F: Fn(SocketRef) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(&self, socket: SocketRef) -> BoxFuture<()> {
        Box::pin(self(socket))
    }
}

/// Decides whether a socket may join a namespace; a refusal reaches the
/// client as `connect_error`. Middleware runs in the order added, before the
/// connect handler; the socket is not connected yet (emits are refused), but
/// its handshake can be read and its data set.
pub trait Middleware: Send + Sync + 'static {
    /// Runs the check.
    fn call(&self, socket: SocketRef) -> BoxFuture<Result<(), ConnectError>>;
}

impl<F, Fut> Middleware for F
where
    F: Fn(SocketRef) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
{
    fn call(&self, socket: SocketRef) -> BoxFuture<Result<(), ConnectError>> {
        Box::pin(self(socket))
    }
}

/// Runs when a socket leaves its namespace, with the reason.
pub trait DisconnectHandler: Send + Sync + 'static {
    /// Runs the handler.
    fn call(&self, socket: SocketRef, reason: DisconnectReason) -> BoxFuture<()>;
}

impl<F, Fut> DisconnectHandler for F
where
    F: Fn(SocketRef, DisconnectReason) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(&self, socket: SocketRef, reason: DisconnectReason) -> BoxFuture<()> {
        Box::pin(self(socket, reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register_plain() -> Arc<dyn ErasedEventHandler> {
        Erased::<_, (SocketRef,)>::shared(|_socket: SocketRef| async {})
    }

    fn register_capturing(n: u32) -> Arc<dyn ErasedEventHandler> {
        Erased::<_, (SocketRef,)>::shared(move |_socket: SocketRef| async move {
            std::hint::black_box(n);
        })
    }

    fn address(handler: &Arc<dyn ErasedEventHandler>) -> *const u8 {
        Arc::as_ptr(handler).cast()
    }

    /// Every socket that registers a closure capturing nothing shares one allocation of it;
    /// one that captures something keeps its own.
    #[test]
    fn handlers_that_hold_nothing_are_shared() {
        let (a, b) = (register_plain(), register_plain());
        assert_eq!(address(&a), address(&b));
        let (c, d) = (register_capturing(1), register_capturing(1));
        assert_ne!(address(&c), address(&d));
    }
}
