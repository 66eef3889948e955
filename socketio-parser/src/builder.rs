//! Building outgoing [`Packet`]s.

use bytes::{Bytes, BytesMut};
use serde::Serialize;

use crate::ack_id::AckId;
use crate::args::RawArgs;
use crate::encoder::{check_event_name, write_raw_array};
use crate::error::EncodeError;
use crate::json_out::{write_array, write_value, ArrayLayout};
use crate::namespace::Namespace;
use crate::packet::{Json, NameSpan, Packet, PacketKind, Payload};

impl Packet {
    fn bare(kind: PacketKind, nsp: Namespace) -> Packet {
        Packet {
            kind,
            nsp,
            ack: None,
            payload: Payload::Json(Json::default()),
            attachments: Vec::new(),
        }
    }

    /// A CONNECT without payload (a client joining a namespace without auth).
    pub fn connect(nsp: Namespace) -> Packet {
        Packet::bare(PacketKind::Connect, nsp)
    }

    /// A CONNECT whose payload is `payload`, which must serialize to a JSON object: the
    /// client's auth, or the server's `{"sid": …}` answer.
    ///
    /// # Errors
    /// [`EncodeError::InvalidPayload`] when `payload` is not an object (or holds binary),
    /// [`EncodeError::Serialize`] when it fails to serialize.
    pub fn connect_with<P: ?Sized + Serialize>(
        nsp: Namespace,
        payload: &P,
    ) -> Result<Packet, EncodeError> {
        Packet::with_value(
            PacketKind::Connect,
            nsp,
            payload,
            b"{",
            "an object without binary",
        )
    }

    /// A DISCONNECT.
    pub fn disconnect(nsp: Namespace) -> Packet {
        Packet::bare(PacketKind::Disconnect, nsp)
    }

    /// A CONNECT_ERROR whose payload must serialize to an object (what Socket.IO v5 servers
    /// send: `{"message": …, "data": …}`) or a string.
    ///
    /// # Errors
    /// [`EncodeError::InvalidPayload`] when `payload` is neither (or holds binary),
    /// [`EncodeError::Serialize`] when it fails to serialize.
    pub fn connect_error<P: ?Sized + Serialize>(
        nsp: Namespace,
        payload: &P,
    ) -> Result<Packet, EncodeError> {
        Packet::with_value(
            PacketKind::ConnectError,
            nsp,
            payload,
            b"{\"",
            "a string or an object without binary",
        )
    }

    fn with_value<P: ?Sized + Serialize>(
        kind: PacketKind,
        nsp: Namespace,
        payload: &P,
        first_bytes: &[u8],
        expected: &'static str,
    ) -> Result<Packet, EncodeError> {
        let mut out = BytesMut::new();
        let mut attachments = Vec::new();
        write_value(&mut out, payload, &mut attachments)?;
        if !attachments.is_empty() || !out.first().is_some_and(|b| first_bytes.contains(b)) {
            return Err(EncodeError::InvalidPayload { kind, expected });
        }
        Ok(Packet {
            payload: Payload::Json(Json {
                text: Some(out.freeze()),
                ..Json::default()
            }),
            ..Packet::bare(kind, nsp)
        })
    }

    /// An event `[name, ...args]`; add an ack id with [`with_ack_id`](Packet::with_ack_id).
    ///
    /// `args` is spread when it serializes as a tuple: `("hi", 3)` is two arguments,
    /// `(vec![1, 2],)` one argument that is an array, `()` no argument. Anything else (a
    /// struct, a map, a `Vec`, a string...) is one argument. Fixed-size arrays serialize as
    /// tuples and are spread too. Binary values anywhere in the arguments ([`Binary`](crate::Binary), or
    /// anything serialized with `serialize_bytes`) become attachments and the packet a
    /// BINARY_EVENT.
    ///
    /// # Errors
    /// [`EncodeError::ReservedEventName`] for a reserved name, [`EncodeError::Serialize`]
    /// when `args` fails to serialize.
    pub fn event<A: ?Sized + Serialize>(
        nsp: Namespace,
        name: &str,
        args: &A,
    ) -> Result<Packet, EncodeError> {
        check_event_name(name)?;
        Packet::with_array(PacketKind::Event, nsp, Some(name), args)
    }

    /// An ack `[...args]` answering the event that carried `id`. Arguments are read as by
    /// [`Packet::event`]; with binary the packet is a BINARY_ACK.
    ///
    /// # Errors
    /// [`EncodeError::Serialize`] when `args` fails to serialize.
    pub fn ack<A: ?Sized + Serialize>(
        nsp: Namespace,
        id: AckId,
        args: &A,
    ) -> Result<Packet, EncodeError> {
        Ok(Packet::with_array(PacketKind::Ack, nsp, None, args)?.with_ack_id(id))
    }

    fn with_array<A: ?Sized + Serialize>(
        kind: PacketKind,
        nsp: Namespace,
        name: Option<&str>,
        args: &A,
    ) -> Result<Packet, EncodeError> {
        let mut out = BytesMut::new();
        let mut attachments = Vec::new();
        let ArrayLayout { name, rest } = write_array(&mut out, name, args, &mut attachments)?;
        Ok(Packet::array(
            kind,
            nsp,
            out.freeze(),
            name,
            rest,
            attachments,
        ))
    }

    fn array(
        kind: PacketKind,
        nsp: Namespace,
        payload: Bytes,
        name: Option<(usize, usize)>,
        rest: usize,
        attachments: Vec<Bytes>,
    ) -> Packet {
        let kind = match (kind, attachments.is_empty()) {
            (PacketKind::Event, false) => PacketKind::BinaryEvent,
            (PacketKind::Ack, false) => PacketKind::BinaryAck,
            (kind, _) => kind,
        };
        let name = name.map(|(start, end)| NameSpan {
            start,
            end,
            string: Some(payload[start..end].contains(&b'\\')),
        });
        Packet {
            payload: Payload::Json(Json {
                text: Some(payload),
                name,
                rest,
            }),
            attachments,
            ..Packet::bare(kind, nsp)
        }
    }

    /// An event whose arguments are already JSON, e.g. taken from a received packet with
    /// [`Packet::raw_args`].
    ///
    /// # Errors
    /// [`EncodeError::ReservedEventName`] for a reserved name.
    pub fn event_raw(nsp: Namespace, name: &str, args: RawArgs) -> Result<Packet, EncodeError> {
        check_event_name(name)?;
        Ok(Packet::from_raw(PacketKind::Event, nsp, Some(name), args))
    }

    /// An ack whose arguments are already JSON.
    pub fn ack_raw(nsp: Namespace, id: AckId, args: RawArgs) -> Packet {
        Packet::from_raw(PacketKind::Ack, nsp, None, args).with_ack_id(id)
    }

    fn from_raw(kind: PacketKind, nsp: Namespace, name: Option<&str>, args: RawArgs) -> Packet {
        let mut out = BytesMut::new();
        let (span, rest) = write_raw_array(&mut out, name, &args);
        let attachments = args.attachments().to_vec();
        Packet::array(kind, nsp, out.freeze(), span, rest, attachments)
    }

    /// Sets the ack id: on an event, asks the receiver to answer; on an ack, says which
    /// event it answers.
    #[must_use]
    pub fn with_ack_id(mut self, id: AckId) -> Packet {
        self.ack = Some(id);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Binary, Encoder};
    use serde_json::json;

    fn text(p: &Packet) -> String {
        String::from_utf8(Encoder::new().encode(p).text.to_vec()).unwrap()
    }

    #[test]
    fn builds_every_kind() {
        let admin = Namespace::new("/admin").unwrap();
        assert_eq!(text(&Packet::connect(Namespace::main())), "0");
        assert_eq!(text(&Packet::connect(admin.clone())), "0/admin,");
        let sid = json!({"sid": "oSO0OpakMV_3jnilAAAA"});
        assert_eq!(
            text(&Packet::connect_with(admin.clone(), &sid).unwrap()),
            r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#
        );
        assert!(Packet::connect_with(admin.clone(), &[1]).is_err());
        assert_eq!(text(&Packet::disconnect(admin.clone())), "1/admin,");
        let err = json!({"message": "Not authorized"});
        assert_eq!(
            text(&Packet::connect_error(Namespace::main(), &err).unwrap()),
            r#"4{"message":"Not authorized"}"#
        );
        assert_eq!(
            text(&Packet::connect_error(Namespace::main(), "no").unwrap()),
            r#"4"no""#
        );
        assert!(Packet::connect_error(Namespace::main(), &3).is_err());
        let ev = Packet::event(admin.clone(), "bar", &())
            .unwrap()
            .with_ack_id(AckId::new(13));
        assert_eq!(text(&ev), r#"2/admin,13["bar"]"#);
        assert_eq!(ev.event_name().unwrap(), "bar");
        let ack = Packet::ack(
            Namespace::main(),
            AckId::new(15),
            &("bar", Binary::from(vec![1u8, 2, 3, 4])),
        )
        .unwrap();
        assert_eq!(ack.kind(), PacketKind::BinaryAck);
        assert_eq!(text(&ack), r#"61-15["bar",{"_placeholder":true,"num":0}]"#);
        assert!(matches!(
            Packet::event(admin, "connect", &()),
            Err(EncodeError::ReservedEventName { .. })
        ));
    }

    #[test]
    fn built_packets_read_back() {
        let p = Packet::event(
            Namespace::main(),
            "e\"q",
            &(1, "two", Binary::from(vec![3u8])),
        )
        .unwrap();
        assert_eq!(p.event_name().unwrap(), "e\"q");
        let (a, b, c): (u32, String, Binary) = p.args().unwrap();
        assert_eq!((a, b.as_str(), &c[..]), (1, "two", &[3u8][..]));
        let raw = p.raw_args().unwrap();
        let again = Packet::event_raw(Namespace::main(), "e\"q", raw).unwrap();
        assert_eq!(text(&again), text(&p));
        assert_eq!(again.event_name().unwrap(), "e\"q");
        let ack = Packet::ack_raw(Namespace::main(), AckId::new(1), p.raw_args().unwrap());
        assert_eq!(text(&ack), r#"61-1[1,"two",{"_placeholder":true,"num":0}]"#);
    }
}
