//! Request heads: a push parser with limits (sans-IO) and the parsed request values.
//!
//! [`HeadParser`] is fed the connection's read buffer after every read. It waits for the end of
//! the head (an empty line) while checking the request-line and head-size limits, then parses
//! the head once with `httparse` and splits its bytes off the buffer without copying them: a
//! [`RequestHead`] is one shared `Bytes` plus offsets. Bytes after the head (body, pipelined
//! requests) stay in the buffer.

use std::mem::MaybeUninit;
use std::ops::Range;

use bytes::{Buf, Bytes, BytesMut};

use super::config::{Config, MAX_HEADERS_CAP};
use super::error::RequestError;

/// The HTTP version of a request. Other versions are refused with `505`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Version {
    /// HTTP/1.0: the connection closes after the response unless the request asks for
    /// `Connection: keep-alive`.
    Http10,
    /// HTTP/1.1: the connection stays open unless the request says `Connection: close`.
    Http11,
}

/// The parsed head of a request: method, target, version and header fields.
///
/// It holds the head's bytes as received (one shared buffer) and offsets into them.
#[derive(Clone)]
pub struct RequestHead {
    raw: Bytes,
    method: Range<u32>,
    target: Range<u32>,
    /// The path within the target, found once at parsing (routing reads it several times);
    /// `None` for an absolute-form target with an empty path, which reads as `/`.
    path: Option<Range<u32>>,
    /// The query within the target, after its `?`.
    query: Option<Range<u32>>,
    version: Version,
    headers: Vec<(Range<u32>, Range<u32>)>,
}

impl std::fmt::Debug for RequestHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestHead")
            .field("method", &self.method())
            .field("target", &self.target())
            .field("version", &self.version)
            .field("headers", &self.headers.len())
            .finish()
    }
}

fn range_of(base: &[u8], part: &[u8]) -> Range<u32> {
    // `part` is a sub-slice of `base`; the head is at most `max_head` bytes, far below u32::MAX.
    let start = part.as_ptr() as usize - base.as_ptr() as usize;
    let end = start + part.len();
    (start as u32)..(end as u32)
}

fn index(r: &Range<u32>) -> Range<usize> {
    r.start as usize..r.end as usize
}

impl RequestHead {
    /// Parses a complete head (request line, header lines and the final empty line).
    fn parse(raw: Bytes, max_headers: usize) -> Result<RequestHead, RequestError> {
        // Left uninitialised: httparse writes only the entries it fills, and clearing the
        // whole table first was a fifth of the cost of a request head.
        let mut table = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS_CAP];
        let n = max_headers.min(MAX_HEADERS_CAP);
        let mut req = httparse::Request::new(&mut []);
        let len = match req.parse_with_uninit_headers(&raw, &mut table[..n]) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => {
                return Err(RequestError::Malformed("incomplete head"))
            }
            Err(e) => return Err(map_httparse(e)),
        };
        if len != raw.len() {
            return Err(RequestError::Malformed("head does not end where expected"));
        }
        let version = match req.version {
            Some(0) => Version::Http10,
            Some(1) => Version::Http11,
            _ => return Err(RequestError::VersionNotSupported),
        };
        let (Some(method), Some(target)) = (req.method, req.path) else {
            return Err(RequestError::Malformed("incomplete request line"));
        };
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(range_of(&raw, query.as_bytes()))),
            None => (target, None),
        };
        let path = strip_scheme_authority(path).map(|p| range_of(&raw, p.as_bytes()));
        let method = range_of(&raw, method.as_bytes());
        let target = range_of(&raw, target.as_bytes());
        let headers = req
            .headers
            .iter()
            .map(|h| (range_of(&raw, h.name.as_bytes()), range_of(&raw, h.value)))
            .collect();
        Ok(RequestHead {
            raw,
            method,
            target,
            path,
            query,
            version,
            headers,
        })
    }

    /// A head from the parts another HTTP stack parsed (hyper's `http::request::Parts`, say),
    /// so that what reads a head here (the engine's router, the WebSocket handshake, the
    /// handshake data handlers see) reads it the same whichever stack took the request.
    ///
    /// The parts are written out as an HTTP/1.1 head and parsed as one received, with
    /// [`MAX_HEADERS_CAP`] as the field limit: the head is then exactly what this layer would
    /// have made of the same request on its own connection.
    ///
    /// # Errors
    /// What parsing the same head would refuse: a method, target or field that HTTP/1.1 cannot
    /// carry (`400`), more fields than the cap (`431`).
    pub fn from_parts<'a>(
        method: &str,
        target: &str,
        version: Version,
        headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<RequestHead, RequestError> {
        // A line break inside a part would make the text parse as something else (or as
        // less): such a part cannot come from a parsed request, and is refused.
        let unbroken = |part: &[u8]| memchr::memchr2(b'\r', b'\n', part).is_none();
        let broken = || RequestError::Malformed("a part of the head holds a line break");
        if !unbroken(method.as_bytes()) || !unbroken(target.as_bytes()) {
            return Err(broken());
        }
        let mut raw = Vec::with_capacity(256);
        raw.extend_from_slice(method.as_bytes());
        raw.push(b' ');
        raw.extend_from_slice(target.as_bytes());
        raw.extend_from_slice(match version {
            Version::Http10 => b" HTTP/1.0\r\n",
            Version::Http11 => b" HTTP/1.1\r\n",
        });
        for (name, value) in headers {
            if !unbroken(name.as_bytes()) || !unbroken(value) {
                return Err(broken());
            }
            raw.extend_from_slice(name.as_bytes());
            raw.extend_from_slice(b": ");
            raw.extend_from_slice(value);
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"\r\n");
        if u32::try_from(raw.len()).is_err() {
            return Err(RequestError::HeadTooLarge);
        }
        RequestHead::parse(Bytes::from(raw), MAX_HEADERS_CAP)
    }

    fn str_at(&self, r: &Range<u32>) -> &str {
        // httparse handed these ranges out as `&str`, so they are UTF-8; the fallback is unreachable.
        std::str::from_utf8(&self.raw[index(r)]).unwrap_or("")
    }

    /// The method, e.g. `GET` (case-sensitive, as sent).
    #[must_use]
    pub fn method(&self) -> &str {
        self.str_at(&self.method)
    }

    /// The request target as sent: usually origin-form (`/path?query`), possibly
    /// absolute-form (`http://host/path?query`), authority-form (`CONNECT`) or `*`.
    #[must_use]
    pub fn target(&self) -> &str {
        self.str_at(&self.target)
    }

    /// The path of the target, without the query; for an absolute-form target, the part after
    /// the authority (`/` when empty).
    #[must_use]
    pub fn path(&self) -> &str {
        self.path.as_ref().map_or("/", |p| self.str_at(p))
    }

    /// The query string after the first `?`, without the `?`.
    #[must_use]
    pub fn query(&self) -> Option<&str> {
        self.query.as_ref().map(|q| self.str_at(q))
    }

    /// The HTTP version.
    #[must_use]
    pub fn version(&self) -> Version {
        self.version
    }

    /// The value of the first header field with this name (compared ASCII case-insensitively).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| self.name_is(n, name))
            .map(|(_, v)| &self.raw[index(v)])
    }

    /// Whether the header name at `n` is `name`, ASCII case-insensitively. Compared as bytes:
    /// going through [`headers`](Self::headers) would check every name's UTF-8 again on each
    /// lookup, and handling one request makes a dozen lookups.
    fn name_is(&self, n: &Range<u32>, name: &str) -> bool {
        self.raw[index(n)].eq_ignore_ascii_case(name.as_bytes())
    }

    /// Every value of the header fields with this name, in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| self.name_is(n, name))
            .map(|(_, v)| &self.raw[index(v)])
    }

    /// Every header field as (name, value), in order.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.headers
            .iter()
            .map(|(n, v)| (self.str_at(n), &self.raw[index(v)]))
    }

    /// Whether a comma-separated header (such as `Connection` or `Upgrade`) lists `token`,
    /// compared ASCII case-insensitively, across every field with that name.
    #[must_use]
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers_named(name)
            .any(|v| list_items(v).any(|t| t.eq_ignore_ascii_case(token.as_bytes())))
    }

    /// Whether the connection may carry another request after this one's response
    /// (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    #[must_use]
    pub fn keep_alive(&self) -> bool {
        match self.version {
            Version::Http11 => !self.has_token("connection", "close"),
            Version::Http10 => self.has_token("connection", "keep-alive"),
        }
    }
}

/// The path of an origin-form or absolute-form target without its query: `None` for an
/// absolute-form target with an empty path (which reads as `/`).
fn strip_scheme_authority(path: &str) -> Option<&str> {
    // Compared as bytes: the prefixes are ASCII, so a match ends on a character boundary.
    let after = |scheme: &str| {
        let matched = path
            .as_bytes()
            .get(..scheme.len())
            .is_some_and(|b| b.eq_ignore_ascii_case(scheme.as_bytes()));
        matched.then(|| &path[scheme.len()..])
    };
    let Some(rest) = after("http://").or_else(|| after("https://")) else {
        return Some(path);
    };
    rest.find('/').map(|i| &rest[i..])
}

/// The items of a comma-separated header value, trimmed of spaces and tabs, empty ones skipped.
pub(crate) fn list_items(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|s| !s.is_empty())
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn map_httparse(e: httparse::Error) -> RequestError {
    match e {
        httparse::Error::TooManyHeaders => RequestError::TooManyHeaders,
        httparse::Error::Version => RequestError::VersionNotSupported,
        httparse::Error::HeaderName => RequestError::Malformed("invalid header name"),
        httparse::Error::HeaderValue => RequestError::Malformed("invalid header value"),
        httparse::Error::NewLine => RequestError::Malformed("invalid line ending"),
        httparse::Error::Token => RequestError::Malformed("invalid token in the request line"),
        _ => RequestError::Malformed("invalid request line"),
    }
}

/// A push parser for request heads with the limits of [`Config`].
///
/// Call [`HeadParser::parse`] with the connection's buffer after each read: `Ok(None)` asks
/// for more bytes, `Ok(Some(head))` has split the head off the front of the buffer. The parser
/// scans each byte for the end of the head about once, and runs `httparse` once per request.
#[derive(Debug, Default)]
pub struct HeadParser {
    /// Bytes at the front of the buffer already searched for the end of the head.
    scanned: usize,
    /// The request line is complete and within its limit.
    line_done: bool,
}

impl HeadParser {
    /// A parser waiting for the first byte of a request.
    #[must_use]
    pub fn new() -> HeadParser {
        HeadParser::default()
    }

    /// Looks for a complete head at the front of `buf` (see the type's docs).
    ///
    /// Empty lines before the request line are dropped (RFC 9112 §2.2).
    ///
    /// # Errors
    /// The request line or head is over its limit, too many fields, or the head is malformed.
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        config: &Config,
    ) -> Result<Option<RequestHead>, RequestError> {
        if !self.line_done {
            if self.scanned == 0 {
                skip_empty_lines(buf);
            }
            // Searched from where the last read's search stopped: a request line that
            // arrives a byte at a time is scanned once, not once per byte.
            match memchr::memchr(b'\n', &buf[self.scanned..]).map(|i| i + self.scanned) {
                Some(i) if i >= config.max_request_line => {
                    return Err(RequestError::RequestLineTooLong)
                }
                Some(_) => self.line_done = true,
                None if buf.len() >= config.max_request_line => {
                    return Err(RequestError::RequestLineTooLong)
                }
                None => {
                    // A lone `\r` at the front may still become an empty line to drop.
                    if !buf.starts_with(b"\r") {
                        self.scanned = buf.len();
                    }
                    return Ok(None);
                }
            }
        }
        let Some(end) = find_head_end(buf, self.scanned) else {
            if buf.len() > config.max_head {
                return Err(RequestError::HeadTooLarge);
            }
            // A head end can only start at one of the last two bytes (a `\n` not yet followed).
            self.scanned = buf.len().saturating_sub(2);
            return Ok(None);
        };
        if end > config.max_head {
            return Err(RequestError::HeadTooLarge);
        }
        *self = HeadParser::default();
        let raw = if end == buf.len() {
            // The whole buffer (a request without a body, read at once): taken as it is,
            // since splitting it would first make its storage shared, an allocation.
            std::mem::take(buf).freeze()
        } else {
            buf.split_to(end).freeze()
        };
        RequestHead::parse(raw, config.max_headers).map(Some)
    }
}

fn skip_empty_lines(buf: &mut BytesMut) {
    loop {
        if buf.starts_with(b"\r\n") {
            buf.advance(2);
        } else if buf.starts_with(b"\n") {
            buf.advance(1);
        } else {
            return;
        }
    }
}

/// The offset just past the empty line that ends a head (`\n\r\n` or `\n\n`), searching from
/// `from`.
fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(p) = memchr::memchr(b'\n', &buf[i..]) {
        let nl = i + p;
        match buf.get(nl + 1..) {
            Some([b'\n', ..]) => return Some(nl + 2),
            Some([b'\r', b'\n', ..]) => return Some(nl + 3),
            _ => i = nl + 1,
        }
    }
    None
}

/// How the body of a request is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body.
    Empty,
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// Decides how the request's body is delimited.
///
/// Refused: `Transfer-Encoding` in HTTP/1.0, a coding list not ending in a single `chunked`
/// (`400`), codings other than `chunked` (`501`), both `Transfer-Encoding` and `Content-Length`
/// (`400`: a request smuggling vector, which RFC 9112 §6.1 lets a server reject), and a
/// `Content-Length` that is not one decimal number (several equal values are accepted).
///
/// # Errors
/// The framing is faulty or unsupported, as above.
pub fn body_framing(head: &RequestHead) -> Result<BodyFraming, RequestError> {
    let mut te = head.headers_named("transfer-encoding").peekable();
    if te.peek().is_some() {
        if head.version() == Version::Http10 {
            return Err(RequestError::Malformed(
                "transfer-encoding in an HTTP/1.0 request",
            ));
        }
        if head.header("content-length").is_some() {
            return Err(RequestError::Malformed(
                "both transfer-encoding and content-length",
            ));
        }
        let codings: Vec<&[u8]> = te.flat_map(list_items).collect();
        let is_chunked = |c: &&[u8]| c.eq_ignore_ascii_case(b"chunked");
        return match codings.split_last() {
            None => Err(RequestError::Malformed("empty transfer-encoding")),
            Some((last, _)) if !is_chunked(last) => Err(RequestError::Malformed(
                "chunked is not the final transfer coding",
            )),
            Some((_, rest)) if rest.iter().any(is_chunked) => {
                Err(RequestError::Malformed("chunked applied more than once"))
            }
            Some((_, [])) => Ok(BodyFraming::Chunked),
            Some(_) => Err(RequestError::UnsupportedTransferCoding),
        };
    }
    let mut length = None;
    for item in head
        .headers_named("content-length")
        .flat_map(|v| v.split(|&b| b == b','))
    {
        let n = parse_decimal(trim_ows(item))
            .ok_or(RequestError::Malformed("invalid content-length"))?;
        if length.is_some_and(|l| l != n) {
            return Err(RequestError::Malformed("conflicting content-length values"));
        }
        length = Some(n);
    }
    Ok(match length {
        None | Some(0) => BodyFraming::Empty,
        Some(n) => BodyFraming::Length(n),
    })
}

fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
    })
}

/// Whether the client waits for `100 Continue` before it sends the body.
///
/// `Expect: 100-continue` in HTTP/1.1 yes; in HTTP/1.0 it is ignored (RFC 9110 §10.1.1).
///
/// # Errors
/// Any other expectation: `417 Expectation Failed`.
pub fn expects_continue(head: &RequestHead) -> Result<bool, RequestError> {
    let mut any = false;
    for item in head.headers_named("expect").flat_map(list_items) {
        if !item.eq_ignore_ascii_case(b"100-continue") {
            return Err(RequestError::ExpectationFailed);
        }
        any = true;
    }
    Ok(any && head.version() == Version::Http11)
}

/// A complete request: its head and its whole body.
#[derive(Clone, Debug)]
pub struct Request {
    /// The request line and header fields.
    pub head: RequestHead,
    /// The body, de-chunked; empty when the request has none.
    pub body: Bytes,
    /// When it arrived, in the order of every request the process serves.
    pub arrival: super::Arrival,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_all(input: &[u8], config: &Config) -> Result<Option<RequestHead>, RequestError> {
        HeadParser::new().parse(&mut BytesMut::from(input), config)
    }

    fn head(input: &str) -> RequestHead {
        parse_all(input.as_bytes(), &Config::default())
            .unwrap()
            .unwrap()
    }

    #[test]
    fn parses_a_head_and_leaves_the_rest() {
        let mut buf = BytesMut::from(
            &b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: a\r\nX-Two: 1\r\n\r\nNEXT"
                [..],
        );
        let h = HeadParser::new()
            .parse(&mut buf, &Config::default())
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..], b"NEXT");
        assert_eq!(h.method(), "GET");
        assert_eq!(h.path(), "/engine.io/");
        assert_eq!(h.query(), Some("EIO=4&transport=polling"));
        assert_eq!(h.version(), Version::Http11);
        assert_eq!(h.header("HOST"), Some(&b"a"[..]));
        assert_eq!(h.headers().count(), 2);
        assert!(h.keep_alive());
    }

    #[test]
    fn byte_by_byte_feeding_finds_the_same_head() {
        let input = b"\r\nPOST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
        let config = Config::default();
        let mut parser = HeadParser::new();
        let mut buf = BytesMut::new();
        let mut found = None;
        for &b in input.iter() {
            buf.extend_from_slice(&[b]);
            if let Some(h) = parser.parse(&mut buf, &config).unwrap() {
                found = Some(h);
                break;
            }
        }
        let h = found.expect("the head is complete before the body");
        assert_eq!(h.method(), "POST");
        assert_eq!(body_framing(&h), Ok(BodyFraming::Length(3)));
    }

    #[test]
    fn a_request_line_arriving_a_byte_at_a_time_is_scanned_once() {
        let config = Config::default();
        let mut parser = HeadParser::new();
        let mut buf = BytesMut::new();
        let line = format!("GET /{} HTTP/1.1", "a".repeat(config.max_request_line - 20));
        for (n, &b) in line.as_bytes().iter().enumerate() {
            buf.extend_from_slice(&[b]);
            assert!(parser.parse(&mut buf, &config).unwrap().is_none());
            // Each call searched only the byte it was given.
            assert_eq!(parser.scanned, n + 1);
        }
        buf.extend_from_slice(b"\r\n\r\n");
        let h = parser.parse(&mut buf, &config).unwrap().unwrap();
        assert_eq!(h.method(), "GET");
        // And past the limit, a byte at a time, it is refused at the limit.
        let mut parser = HeadParser::new();
        let mut buf = BytesMut::new();
        let mut refused_at = None;
        for n in 1..=config.max_request_line + 10 {
            buf.extend_from_slice(b"a");
            if parser.parse(&mut buf, &config).is_err() {
                refused_at = Some(n);
                break;
            }
        }
        assert_eq!(refused_at, Some(config.max_request_line));
    }

    #[test]
    fn a_head_from_parts_reads_as_the_same_head_received() {
        let h = RequestHead::from_parts(
            "POST",
            "/socket.io/?EIO=4&transport=polling&sid=abc",
            Version::Http11,
            [
                ("Host", &b"a"[..]),
                ("content-length", b"3"),
                ("X-Two", b"1"),
            ],
        )
        .unwrap();
        let received = head(
            "POST /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\nHost: a\r\n\
             content-length: 3\r\nX-Two: 1\r\n\r\n",
        );
        assert_eq!(h.method(), received.method());
        assert_eq!(h.path(), received.path());
        assert_eq!(h.query(), received.query());
        assert_eq!(
            h.headers().collect::<Vec<_>>(),
            received.headers().collect::<Vec<_>>()
        );
        assert_eq!(body_framing(&h), Ok(BodyFraming::Length(3)));
        let split =
            RequestHead::from_parts("GET", "/", Version::Http10, [("X", &b"a\r\nY: b"[..])]);
        assert_eq!(split.unwrap_err().status(), 400);
        // As the same bytes on a connection: the space ends the target.
        assert!(RequestHead::from_parts("GET", "/a b", Version::Http11, []).is_err());
    }

    #[test]
    fn bare_lf_heads_are_accepted() {
        let h = head("GET / HTTP/1.0\nConnection: keep-alive\n\n");
        assert_eq!(h.version(), Version::Http10);
        assert!(h.keep_alive());
        assert!(!head("GET / HTTP/1.0\r\n\r\n").keep_alive());
        assert!(!head("GET / HTTP/1.1\r\nConnection: foo, Close\r\n\r\n").keep_alive());
    }

    #[test]
    fn limits_give_their_statuses() {
        let config = Config {
            max_request_line: 32,
            max_head: 64,
            max_headers: 2,
            ..Config::default()
        };
        let long_line = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(40));
        assert_eq!(
            parse_all(long_line.as_bytes(), &config).err(),
            Some(RequestError::RequestLineTooLong)
        );
        // Still incomplete, but already over the line limit.
        assert_eq!(
            parse_all("a".repeat(40).as_bytes(), &config).err(),
            Some(RequestError::RequestLineTooLong)
        );
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "b".repeat(60));
        assert_eq!(
            parse_all(big.as_bytes(), &config).err(),
            Some(RequestError::HeadTooLarge)
        );
        let big_partial = format!("GET / HTTP/1.1\r\nX: {}", "b".repeat(60));
        assert_eq!(
            parse_all(big_partial.as_bytes(), &config).err(),
            Some(RequestError::HeadTooLarge)
        );
        let many = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        assert_eq!(
            parse_all(many.as_bytes(), &config).err(),
            Some(RequestError::TooManyHeaders)
        );
        assert_eq!(RequestError::HeadTooLarge.status(), 431);
        assert_eq!(RequestError::RequestLineTooLong.status(), 414);
    }

    #[test]
    fn malformed_heads_are_refused() {
        let c = Config::default();
        for bad in [
            &b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\n: x\r\n\r\n",
            b"G(T / HTTP/1.1\r\n\r\n",
            b"GET\r\n\r\n",
            b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\n\n",
        ] {
            let e = parse_all(bad, &c).unwrap_err();
            assert_eq!(e.status(), 400, "{:?}: {e:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(
            parse_all(b"GET / HTTP/2.0\r\n\r\n", &c).err(),
            Some(RequestError::VersionNotSupported)
        );
    }

    #[test]
    fn absolute_form_targets_route_by_path() {
        let h = head("GET http://example.com/socket.io/?EIO=4 HTTP/1.1\r\n\r\n");
        assert_eq!(h.path(), "/socket.io/");
        assert_eq!(h.query(), Some("EIO=4"));
        assert_eq!(head("GET HTTP://example.com HTTP/1.1\r\n\r\n").path(), "/");
        assert_eq!(head("OPTIONS * HTTP/1.1\r\n\r\n").path(), "*");
        // An authority without a path, followed by a query: the path reads as `/`.
        let h = head("GET http://example.com?a=1 HTTP/1.1\r\n\r\n");
        assert_eq!((h.path(), h.query()), ("/", Some("a=1")));
    }

    #[test]
    fn path_and_query_split_at_the_first_question_mark() {
        let h = head("GET /a?b=1?c HTTP/1.1\r\n\r\n");
        assert_eq!((h.path(), h.query()), ("/a", Some("b=1?c")));
        let h = head("GET /a? HTTP/1.1\r\n\r\n");
        assert_eq!((h.path(), h.query()), ("/a", Some("")));
        let h = head("GET /a HTTP/1.1\r\n\r\n");
        assert_eq!((h.path(), h.query()), ("/a", None));
        assert_eq!(h.target(), "/a");
    }

    #[test]
    fn non_ascii_targets_do_not_trip_the_scheme_check() {
        for target in ["/aééé", "/aé", "hé", "httpé://x/y", "http:/é"] {
            let input = format!("GET {target} HTTP/1.1\r\n\r\n");
            let h = parse_all(input.as_bytes(), &Config::default())
                .unwrap()
                .unwrap();
            assert_eq!(h.target(), target);
            let _ = (h.path(), h.query());
        }
        assert_eq!(strip_scheme_authority("/aééé"), Some("/aééé"));
        assert_eq!(strip_scheme_authority("https://é/p"), Some("/p"));
    }

    #[test]
    fn body_framing_rules() {
        let f = |s: &str| body_framing(&head(s));
        assert_eq!(f("GET / HTTP/1.1\r\n\r\n"), Ok(BodyFraming::Empty));
        assert_eq!(
            f("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
            Ok(BodyFraming::Empty)
        );
        assert_eq!(
            f("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\ncontent-length: 5\r\n\r\n"),
            Ok(BodyFraming::Length(5))
        );
        assert_eq!(
            f("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"),
            Ok(BodyFraming::Chunked)
        );
        let status = |s: &str| f(s).unwrap_err().status();
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n"),
            400
        );
        assert_eq!(status("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
        assert_eq!(status("POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n"), 400);
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"),
            400
        );
        assert_eq!(status("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n"), 400);
        assert_eq!(
            status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
            400
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
            400
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            501
        );
        assert_eq!(status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
        assert_eq!(
            status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            400
        );
    }

    #[test]
    fn expectations() {
        let e = |s: &str| expects_continue(&head(s));
        assert_eq!(
            e("POST / HTTP/1.1\r\nExpect: 100-Continue\r\n\r\n"),
            Ok(true)
        );
        assert_eq!(
            e("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"),
            Ok(false)
        );
        assert_eq!(e("POST / HTTP/1.1\r\n\r\n"), Ok(false));
        assert_eq!(
            e("POST / HTTP/1.1\r\nExpect: teapot\r\n\r\n"),
            Err(RequestError::ExpectationFailed)
        );
    }

    #[test]
    fn tokens_in_lists() {
        let h = head(
            "GET / HTTP/1.1\r\nConnection: keep-alive,  Upgrade\r\nUpgrade: WebSocket\r\n\r\n",
        );
        assert!(h.has_token("connection", "upgrade"));
        assert!(h.has_token("upgrade", "websocket"));
        assert!(!h.has_token("connection", "close"));
    }

    proptest! {
        /// However the bytes of two pipelined heads are split into reads, the parser finds the
        /// same two heads and leaves the same rest.
        #[test]
        fn any_split_finds_the_same_heads(cuts in proptest::collection::vec(0usize..200, 0..8)) {
            let input = b"\r\nGET /a?x=1 HTTP/1.1\r\nHost: h\r\nX-Long: abcdefghij\r\n\r\nPOST /b HTTP/1.0\nA: 1\n\nREST";
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % input.len()).collect();
            cuts.sort_unstable();
            let config = Config::default();
            let mut parser = HeadParser::new();
            let mut buf = BytesMut::new();
            let mut heads = Vec::new();
            let mut start = 0;
            for end in cuts.into_iter().chain([input.len()]) {
                buf.extend_from_slice(&input[start..end]);
                start = end;
                while let Some(h) = parser.parse(&mut buf, &config).unwrap() {
                    heads.push((h.method().to_owned(), h.target().to_owned(), h.headers().count()));
                }
            }
            prop_assert_eq!(heads, vec![("GET".into(), "/a?x=1".into(), 2), ("POST".into(), "/b".into(), 1)]);
            prop_assert_eq!(&buf[..], b"REST");
        }

        #[test]
        fn any_target_has_a_path(target in "\\PC{0,20}") {
            let _ = strip_scheme_authority(&target);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let config = Config { max_request_line: 100, max_head: 200, max_headers: 4, ..Config::default() };
            let mut buf = BytesMut::from(&bytes[..]);
            if let Ok(Some(h)) = HeadParser::new().parse(&mut buf, &config) {
                let _ = (body_framing(&h), expects_continue(&h), h.path(), h.query(), h.keep_alive());
            }
        }
    }
}
