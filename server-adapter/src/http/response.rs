//! Responses: the value a service returns, and its encoding on the wire.

use std::borrow::Cow;

use bytes::Bytes;

use super::date;
use super::error::InvalidHeader;

/// An HTTP response: status, header fields and a complete body.
///
/// The connection adds `Date`, `Content-Length` (except for `1xx`, `204` and `304`) and
/// `Connection` itself; a response cannot set those three (see [`InvalidHeader::Reserved`]).
/// To close the connection after the response, use [`Response::close`].
#[derive(Clone, Debug)]
pub struct Response {
    status: u16,
    headers: Vec<(Cow<'static, str>, Bytes)>,
    body: Bytes,
    close: bool,
}

/// Which bytes may appear in a token (RFC 9110 §5.6.2), as a table: header names are checked
/// on every response.
const TOKEN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    table
};

fn check_header(name: &str, value: &[u8]) -> Result<(), InvalidHeader> {
    if name.is_empty() || !name.bytes().all(|b| TOKEN_BYTES[usize::from(b)]) {
        return Err(InvalidHeader::Name);
    }
    if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(InvalidHeader::Value);
    }
    // Only a name of a reserved one's length needs comparing.
    let reserved = match name.len() {
        4 => "Date",
        10 => "Connection",
        14 => "Content-Length",
        17 => "Transfer-Encoding",
        _ => return Ok(()),
    };
    if name.eq_ignore_ascii_case(reserved) {
        return Err(InvalidHeader::Reserved(reserved));
    }
    Ok(())
}

impl Response {
    /// A response with this status (100..=999), no header fields and an empty body.
    ///
    /// A status outside 100..=999 is a caller bug: it is sent as `500`.
    #[must_use]
    pub fn new(status: u16) -> Response {
        debug_assert!(
            (100..=999).contains(&status),
            "status {status} is not three digits"
        );
        let status = if (100..=999).contains(&status) {
            status
        } else {
            500
        };
        Response {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            close: false,
        }
    }

    /// A `text/plain; charset=utf-8` response with this body.
    #[must_use]
    pub fn text(status: u16, body: impl Into<Bytes>) -> Response {
        Response::new(status)
            .header("Content-Type", "text/plain; charset=utf-8")
            .with_body(body)
    }

    /// `404 Not Found` with a short text body: what [`NotFound`](super::NotFound) answers.
    #[must_use]
    pub fn not_found() -> Response {
        Response::text(404, "Not Found")
    }

    /// Adds a header field.
    ///
    /// # Panics
    /// If the name or value is invalid or reserved (see [`Response::try_header`]): a caller bug,
    /// meant for constant names and values. For values from elsewhere use `try_header`.
    #[must_use]
    pub fn header(self, name: impl Into<Cow<'static, str>>, value: impl Into<Bytes>) -> Response {
        match self.try_header(name, value) {
            Ok(r) => r,
            Err(e) => panic!("invalid response header: {e}"),
        }
    }

    /// Adds a header field, or says why it cannot be sent.
    ///
    /// # Errors
    /// The name is not a token, the value has a control byte (which could split the response),
    /// or the name is one the connection sets itself.
    pub fn try_header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<Bytes>,
    ) -> Result<Response, InvalidHeader> {
        self.push_header(name.into(), value.into())?;
        Ok(self)
    }

    /// Adds a header field in place, or says why it cannot be sent (the response is kept
    /// either way).
    pub(crate) fn push_header(
        &mut self,
        name: Cow<'static, str>,
        value: Bytes,
    ) -> Result<(), InvalidHeader> {
        check_header(&name, &value)?;
        self.headers.push((name, value));
        Ok(())
    }

    /// Sets the body.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Response {
        self.body = body.into();
        self
    }

    /// Closes the connection after this response (`Connection: close`).
    #[must_use]
    pub fn close(mut self) -> Response {
        self.close = true;
        self
    }

    /// The status code.
    #[must_use]
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The header fields, in order.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers.iter().map(|(n, v)| (&**n, &v[..]))
    }

    /// The body.
    #[must_use]
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Whether the connection closes after this response.
    #[must_use]
    pub fn closes(&self) -> bool {
        self.close
    }

    /// Whether this status carries no body and no `Content-Length` (RFC 9110 §8.6).
    fn bodiless(&self) -> bool {
        self.status < 200 || self.status == 204 || self.status == 304
    }

    /// Writes the status line and header fields, ending with the empty line.
    ///
    /// `connection` is the `Connection` value to send, if any (`close`, `keep-alive` for an
    /// HTTP/1.0 peer, `Upgrade` for `101`).
    pub(crate) fn encode_head(&self, connection: Option<&str>, out: &mut Vec<u8>) {
        out.extend_from_slice(b"HTTP/1.1 ");
        push_decimal(out, u64::from(self.status));
        out.push(b' ');
        out.extend_from_slice(reason_phrase(self.status).as_bytes());
        out.extend_from_slice(b"\r\n");
        if self.status >= 200 {
            out.extend_from_slice(b"Date: ");
            out.extend_from_slice(&date::now());
            out.extend_from_slice(b"\r\n");
        }
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        if !self.bodiless() {
            out.extend_from_slice(b"Content-Length: ");
            push_decimal(out, self.body.len() as u64);
            out.extend_from_slice(b"\r\n");
        }
        if let Some(c) = connection {
            out.extend_from_slice(b"Connection: ");
            out.extend_from_slice(c.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }

    /// The body bytes to send after the head (none for bodiless statuses or `HEAD` requests).
    pub(crate) fn wire_body(&self, head_request: bool) -> &[u8] {
        if head_request || self.bodiless() {
            &[]
        } else {
            &self.body
        }
    }
}

/// Appends `n` in decimal. Every response writes two numbers (status, length), and `write!`
/// costs several times more through the formatting machinery.
fn push_decimal(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// The reason phrase of a status code (empty for codes without one here; the phrase is
/// informative only).
#[must_use]
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        414 => "URI Too Long",
        417 => "Expectation Failed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(r: &Response, connection: Option<&str>) -> String {
        let mut out = Vec::new();
        r.encode_head(connection, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn head_has_status_date_headers_length_and_connection() {
        let r = Response::text(200, "hello").header("Cache-Control", "no-store");
        let s = encode(&r, Some("close"));
        assert!(s.starts_with("HTTP/1.1 200 OK\r\nDate: "), "{s}");
        assert!(
            s.ends_with(
                " GMT\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n\
             Content-Length: 5\r\nConnection: close\r\n\r\n"
            ),
            "{s}"
        );
        assert_eq!(r.wire_body(false), b"hello");
        assert_eq!(r.wire_body(true), b"");
    }

    #[test]
    fn bodiless_statuses_have_no_length() {
        let s = encode(
            &Response::new(101).header("Upgrade", "websocket"),
            Some("Upgrade"),
        );
        assert_eq!(
            s,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        );
        let r = Response::new(204).with_body("ignored");
        assert!(!encode(&r, None).contains("Content-Length"));
        assert_eq!(r.wire_body(false), b"");
        assert!(encode(&Response::new(299), None).starts_with("HTTP/1.1 299 \r\n"));
    }

    #[test]
    fn invalid_headers_are_refused() {
        let r = || Response::new(200);
        assert_eq!(
            r().try_header("X-A", "a\r\nInjected: 1").unwrap_err(),
            InvalidHeader::Value
        );
        assert_eq!(r().try_header("X A", "a").unwrap_err(), InvalidHeader::Name);
        assert_eq!(r().try_header("", "a").unwrap_err(), InvalidHeader::Name);
        assert!(matches!(
            r().try_header("content-length", "1"),
            Err(InvalidHeader::Reserved(_))
        ));
        assert!(matches!(
            r().try_header("Connection", "close"),
            Err(InvalidHeader::Reserved(_))
        ));
        assert!(r().try_header("X-Tab", "a\tb").is_ok());
        for reserved in ["DATE", "connection", "Content-length", "TRANSFER-encoding"] {
            assert!(
                matches!(
                    r().try_header(reserved, "1"),
                    Err(InvalidHeader::Reserved(_))
                ),
                "{reserved}"
            );
        }
        // Same lengths as reserved names, other names.
        for name in ["Data", "Connectiom", "Content-Lengtx", "Transfer-Encodinx"] {
            assert!(r().try_header(name, "1").is_ok(), "{name}");
        }
    }

    /// The table holds exactly RFC 9110's `tchar`s.
    #[test]
    fn token_bytes_are_rfc_tchars() {
        let tchar = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
        for b in 0..=255u8 {
            assert_eq!(super::TOKEN_BYTES[usize::from(b)], tchar(b), "byte {b}");
        }
    }
}
