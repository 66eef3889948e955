//! Fuzzes the HTTP/1.1 request head parser (`server_adapter::http::HeadParser`) with a stream
//! of bytes fed as a connection reads it: whole, in the pieces the input's cuts make, and
//! (when short) one byte at a time. The parser is called after every piece until it asks for
//! more, as the connection does, so pipelined heads are found one after the other.
//!
//! Input: see `socketio_fuzz::Split`; the config byte picks the limits (modulo 6).
//!
//! Checked besides "no panic":
//! * every feeding finds the same heads, ending at the same places in the stream, and ends
//!   the same way (the same error, or the same bytes left in the buffer);
//! * a head ends at the first empty line after its request line, within `max_head` bytes,
//!   its request line within `max_request_line`, with at most `max_headers` fields;
//! * what a head holds is what HTTP/1.1 allows there (a token method, a target without
//!   spaces or line breaks, the path and query inside the target, token field names, values
//!   without CR, LF or NUL), and it reads the same when written out again
//!   (`RequestHead::from_parts`);
//! * the readers of a head (`body_framing`, `expects_continue`, `keep_alive`, `has_token`)
//!   do not panic.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use server_adapter::http::{
    body_framing, expects_continue, BodyFraming, Config, HeadParser, RequestError, RequestHead,
    Version, MAX_HEADERS_CAP,
};
use socketio_fuzz::Split;

fuzz_target!(|data: &[u8]| {
    let Some(split) = Split::read(data) else {
        return;
    };
    let config = config(split.config);
    let mut first: Option<Outcome> = None;
    for pieces in split.feedings() {
        let outcome = drive(&pieces, &config, split.stream);
        match &first {
            None => first = Some(outcome),
            Some(whole) => assert_eq!(&outcome, whole, "a split changed the outcome"),
        }
    }
});

fn config(b: u8) -> Config {
    let limits = |max_request_line, max_head, max_headers| Config {
        max_request_line,
        max_head,
        max_headers,
        ..Config::default()
    };
    match b % 6 {
        0 => Config::default(),
        1 => limits(32, 64, 2),
        2 => limits(16, 16, 0),
        // A head limit below the request line's.
        3 => limits(64, 32, 4),
        4 => limits(0, 0, 0),
        // More fields than the parser's table holds.
        _ => limits(8 * 1024, 16 * 1024, 1000),
    }
}

/// A head as read, and where it ended in the stream.
#[derive(Debug, PartialEq)]
struct Head {
    end: usize,
    method: String,
    target: String,
    path: String,
    query: Option<String>,
    version: Version,
    headers: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, PartialEq)]
struct Outcome {
    heads: Vec<Head>,
    /// The error that ended the connection, or what was left in the buffer.
    end: Result<Vec<u8>, RequestError>,
}

fn drive(pieces: &[&[u8]], config: &Config, stream: &[u8]) -> Outcome {
    let mut parser = HeadParser::new();
    let mut buf = BytesMut::new();
    let mut fed = 0;
    let mut heads: Vec<Head> = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        fed += piece.len();
        loop {
            let before = buf.len();
            match parser.parse(&mut buf, config) {
                Ok(None) => {
                    // Only empty lines before a request line may be dropped.
                    assert!(buf.len() <= before);
                    break;
                }
                Ok(Some(head)) => {
                    assert!(buf.len() < before, "a head consumed nothing");
                    let end = fed - buf.len();
                    let start = heads.last().map_or(0, |h| h.end);
                    check_head(&head, &stream[start..end], config);
                    heads.push(read(&head, end));
                }
                Err(e) => return Outcome { heads, end: Err(e) },
            }
        }
        assert_eq!(&buf[..], &stream[fed - buf.len()..fed]);
    }
    Outcome {
        heads,
        end: Ok(buf.to_vec()),
    }
}

fn read(head: &RequestHead, end: usize) -> Head {
    Head {
        end,
        method: head.method().to_owned(),
        target: head.target().to_owned(),
        path: head.path().to_owned(),
        query: head.query().map(str::to_owned),
        version: head.version(),
        headers: head
            .headers()
            .map(|(n, v)| (n.to_owned(), v.to_vec()))
            .collect(),
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Checks a head against the bytes it was read from (empty lines before it included).
fn check_head(head: &RequestHead, consumed: &[u8], config: &Config) {
    let mut raw = consumed;
    loop {
        raw = match raw {
            [b'\r', b'\n', rest @ ..] | [b'\n', rest @ ..] => rest,
            _ => break,
        };
    }
    assert!(raw.len() <= config.max_head, "head over max_head");
    let line_end = raw
        .iter()
        .position(|&b| b == b'\n')
        .expect("a request line");
    assert!(
        line_end < config.max_request_line,
        "request line over its limit"
    );
    // The head ends at the first empty line after the request line.
    let first_empty = (line_end..raw.len()).find_map(|i| match &raw[i..] {
        [b'\n', b'\n', ..] => Some(i + 2),
        [b'\n', b'\r', b'\n', ..] => Some(i + 3),
        _ => None,
    });
    assert_eq!(
        first_empty,
        Some(raw.len()),
        "the head does not end at its first empty line"
    );
    assert!(head.headers().count() <= config.max_headers.min(MAX_HEADERS_CAP));

    let method = head.method();
    assert!(
        !method.is_empty() && method.bytes().all(is_tchar),
        "method {method:?}"
    );
    let target = head.target();
    assert!(!target.is_empty());
    assert!(!target
        .bytes()
        .any(|b| matches!(b, b' ' | b'\r' | b'\n' | 0)));
    let before_query = match head.query() {
        Some(query) => {
            let at = target.len() - query.len() - 1;
            assert_eq!(&target[at..], format!("?{query}"));
            assert!(!target[..at].contains('?'));
            &target[..at]
        }
        None => {
            assert!(!target.contains('?'));
            target
        }
    };
    let path = head.path();
    assert!(
        path == "/" || before_query.ends_with(path),
        "path {path:?} of {target:?}"
    );
    for (name, value) in head.headers() {
        assert!(
            !name.is_empty() && name.bytes().all(is_tchar),
            "field name {name:?}"
        );
        assert!(!value.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)));
    }

    let again = RequestHead::from_parts(method, target, head.version(), head.headers())
        .expect("a parsed head can be written out and parsed again");
    assert_eq!(read(&again, 0), read(head, 0));

    if let Ok(BodyFraming::Length(n)) = body_framing(head) {
        assert!(n > 0);
    }
    let _ = expects_continue(head);
    let _ = head.keep_alive();
    let _ = head.has_token("connection", "upgrade");
    let _ = head.header("host");
}
