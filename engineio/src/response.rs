//! HTTP answers the engine gives, and the protocol's error codes.

use std::borrow::Cow;

use bytes::Bytes;

use crate::cors::CorsHeaders;

/// A header value: static text for the fixed headers, owned for echoed origins.
pub type HeaderValue = Cow<'static, str>;

/// An HTTP response decided by the engine.
///
/// The caller writes the status line, these headers, a `Content-Length` for the
/// body, and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(&'static str, HeaderValue)>,
    /// The body.
    pub body: Bytes,
    /// The protocol error this response reports, if it is one (see [`Response::error_code`]).
    error: Option<ErrorCode>,
}

impl Response {
    fn new(status: u16, cors: &CorsHeaders) -> Self {
        let mut headers = Vec::with_capacity(4);
        cors.apply(&mut headers);
        Response {
            status,
            headers,
            body: Bytes::new(),
            error: None,
        }
    }

    fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, Cow::Borrowed(value)));
        self
    }

    /// A protocol error: 403 for [`ErrorCode::Forbidden`], 400 for the others,
    /// with the JSON body `{"code":N,"message":"..."}`.
    pub(crate) fn error(code: ErrorCode, message: Option<&str>, cors: &CorsHeaders) -> Self {
        let status = if code == ErrorCode::Forbidden {
            403
        } else {
            400
        };
        let message = message.unwrap_or(code.message());
        let mut body = format!(r#"{{"code":{},"message":"#, code as u8);
        push_json_string(&mut body, message);
        body.push('}');
        let mut response = Response::new(status, cors).header("Content-Type", "application/json");
        response.body = Bytes::from(body);
        response.error = Some(code);
        response
    }

    /// A long-poll answer carrying an encoded payload.
    pub(crate) fn payload(body: Bytes, cors: &CorsHeaders) -> Self {
        let mut response = Response::new(200, cors)
            .header("Content-Type", "text/plain; charset=UTF-8")
            .header("Cache-Control", "no-store");
        response.body = body;
        response
    }

    /// The answer to an accepted POST: `ok`.
    pub(crate) fn ok(cors: &CorsHeaders) -> Self {
        let mut response = Response::new(200, cors)
            .header("Content-Type", "text/html")
            .header("Cache-Control", "no-store");
        response.body = Bytes::from_static(b"ok");
        response
    }

    /// A bare status with an empty body (400 for an overlapping GET, 413, 500).
    pub(crate) fn status(status: u16, cors: &CorsHeaders) -> Self {
        Response::new(status, cors)
    }

    /// The answer to a CORS preflight.
    pub(crate) fn preflight(
        cors: &CorsHeaders,
        request_headers: Option<&str>,
        max_age_secs: Option<u32>,
    ) -> Self {
        let mut response =
            Response::new(204, cors).header("Access-Control-Allow-Methods", "GET,POST,OPTIONS");
        if let Some(requested) = request_headers {
            response.headers.push((
                "Access-Control-Allow-Headers",
                Cow::Owned(requested.to_owned()),
            ));
            response
                .headers
                .push(("Vary", Cow::Borrowed("Access-Control-Request-Headers")));
        }
        if let Some(secs) = max_age_secs {
            response
                .headers
                .push(("Access-Control-Max-Age", Cow::Owned(secs.to_string())));
        }
        response
    }

    /// 503 when the session cap is reached.
    pub(crate) fn server_full(cors: &CorsHeaders) -> Self {
        let mut response = Response::new(503, cors).header("Content-Type", "application/json");
        response.body = Bytes::from_static(br#"{"code":3,"message":"Server full"}"#);
        response
    }

    /// The protocol error code this response carries in its body, if it is an error
    /// answer of the protocol (`{"code":N,...}`): what a runtime counts and logs when the
    /// engine refuses a request. `None` for every other answer, including the session cap's
    /// 503 and the bare statuses a session gives (an overlapping GET's 400, 413).
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.error
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

/// The Engine.IO protocol error codes sent in error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 0: the `transport` parameter is missing, unknown or disabled.
    UnknownTransport = 0,
    /// 1: no open session has this `sid`.
    UnknownSid = 1,
    /// 2: a handshake that is not a GET.
    BadHandshakeMethod = 2,
    /// 3: anything else the client got wrong.
    BadRequest = 3,
    /// 4: the allow-request hook refused the handshake.
    Forbidden = 4,
    /// 5: `EIO` is not `4`.
    UnsupportedProtocolVersion = 5,
}

impl ErrorCode {
    /// The message the reference server sends with this code.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::UnknownTransport => "Transport unknown",
            ErrorCode::UnknownSid => "Session ID unknown",
            ErrorCode::BadHandshakeMethod => "Bad handshake method",
            ErrorCode::BadRequest => "Bad request",
            ErrorCode::Forbidden => "Forbidden",
            ErrorCode::UnsupportedProtocolVersion => "Unsupported protocol version",
        }
    }
}

/// Appends `s` as a JSON string literal (quotes included).
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_match_the_reference_server() {
        let r = Response::error(ErrorCode::UnknownSid, None, &CorsHeaders::none());
        assert_eq!(r.status, 400);
        assert_eq!(r.header_value("content-type"), Some("application/json"));
        assert_eq!(&r.body[..], br#"{"code":1,"message":"Session ID unknown"}"#);
        assert_eq!(r.error_code(), Some(ErrorCode::UnknownSid));

        let r = Response::error(
            ErrorCode::Forbidden,
            Some(r#"no "token""#),
            &CorsHeaders::none(),
        );
        assert_eq!(r.status, 403);
        assert_eq!(&r.body[..], br#"{"code":4,"message":"no \"token\""}"#);
    }

    #[test]
    fn every_code_has_the_reference_message() {
        let all = [
            (ErrorCode::UnknownTransport, 0, "Transport unknown"),
            (ErrorCode::UnknownSid, 1, "Session ID unknown"),
            (ErrorCode::BadHandshakeMethod, 2, "Bad handshake method"),
            (ErrorCode::BadRequest, 3, "Bad request"),
            (ErrorCode::Forbidden, 4, "Forbidden"),
            (
                ErrorCode::UnsupportedProtocolVersion,
                5,
                "Unsupported protocol version",
            ),
        ];
        for (code, n, message) in all {
            assert_eq!(code as u8, n);
            assert_eq!(code.message(), message);
        }
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut s = String::new();
        push_json_string(&mut s, "a\"b\\c\n\u{1}é");
        assert_eq!(s, r#""a\"b\\c\n\u0001é""#);
    }

    #[test]
    fn ok_and_payload_answers() {
        let ok = Response::ok(&CorsHeaders::none());
        assert_eq!((ok.status, &ok.body[..]), (200, &b"ok"[..]));
        assert_eq!(ok.error_code(), None);
        assert_eq!(
            Response::server_full(&CorsHeaders::none()).error_code(),
            None
        );
        assert_eq!(ok.header_value("Content-Type"), Some("text/html"));
        let p = Response::payload(Bytes::from_static(b"4hi"), &CorsHeaders::none());
        assert_eq!(
            p.header_value("Content-Type"),
            Some("text/plain; charset=UTF-8")
        );
        assert_eq!(p.header_value("Cache-Control"), Some("no-store"));
    }
}
