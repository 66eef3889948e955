//! Fuzzes the chunked body decoder (`server_adapter::http::ChunkedDecoder`) with a stream fed
//! as a connection reads it: whole, in the pieces the input's cuts make, and (when short) one
//! byte at a time. As on a connection, the bytes a call leaves unconsumed are offered again
//! with the next piece.
//!
//! Input: see `socketio_fuzz::Split`; the config byte picks the body limit and the bound on
//! chunk extensions and trailers (modulo 6).
//!
//! Checked besides "no panic":
//! * every feeding decodes the same body and ends the same way (done after the same number
//!   of bytes, the same error, or waiting for more);
//! * the body never exceeds the limit, even before an error;
//! * until the body is done a call consumes everything it is given, and once it is done it
//!   consumes nothing;
//! * a second reading of the stream, written here from RFC 9112 §7.1 and the decoder's stated
//!   bounds (at most 16 hex digits of size, extensions and trailers together at most the
//!   bound, lines ended by CRLF), agrees: the same body, the same end, or an error with the
//!   same status at the same place.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use server_adapter::http::{ChunkedDecoder, RequestError};
use socketio_fuzz::Split;

fuzz_target!(|data: &[u8]| {
    let Some(split) = Split::read(data) else {
        return;
    };
    let (limit, max_overhead) = match split.config % 6 {
        0 => (1_000_000, 4096),
        1 => (10, 8),
        2 => (0, 0),
        3 => (100, 0),
        4 => (usize::MAX, 64),
        _ => (16, 1000),
    };
    let mut first: Option<Outcome> = None;
    for pieces in split.feedings() {
        let outcome = drive(&pieces, limit, max_overhead);
        match &first {
            None => first = Some(outcome),
            Some(whole) => assert_eq!(&outcome, whole, "a split changed the outcome"),
        }
    }
    let Some(outcome) = first else { return };
    let expected = reference(split.stream, limit as u64, max_overhead);
    match (&outcome.end, &expected) {
        (End::Done(n), Reference::Done { body, len }) => {
            assert_eq!(n, len);
            assert_eq!(&outcome.body, body);
        }
        (End::Waiting, Reference::Waiting { body }) => assert_eq!(&outcome.body, body),
        (End::Failed(e), Reference::Failed { status, body }) => {
            assert_eq!(e.status(), *status, "{e:?}");
            assert_eq!(&outcome.body, body);
        }
        _ => panic!("decoder {outcome:?}, reference {expected:?}"),
    }
});

#[derive(Debug, PartialEq)]
enum End {
    /// The body is complete after this many bytes of the stream.
    Done(usize),
    /// Every byte consumed, more needed.
    Waiting,
    Failed(RequestError),
}

#[derive(Debug, PartialEq)]
struct Outcome {
    body: Vec<u8>,
    end: End,
}

fn drive(pieces: &[&[u8]], limit: usize, max_overhead: usize) -> Outcome {
    let mut decoder = ChunkedDecoder::new(limit, max_overhead);
    let mut out = BytesMut::new();
    let mut unread: Vec<u8> = Vec::new();
    let mut consumed = 0;
    for piece in pieces {
        unread.extend_from_slice(piece);
        let was_done = decoder.is_done();
        let result = decoder.decode(&unread, &mut out);
        assert!(out.len() <= limit, "body over the limit");
        match result {
            Ok(n) => {
                assert!(n <= unread.len());
                if was_done {
                    assert_eq!(n, 0, "consumed after the end");
                } else if !decoder.is_done() {
                    assert_eq!(n, unread.len(), "left bytes unconsumed while not done");
                }
                consumed += n;
                unread.drain(..n);
            }
            Err(e) => {
                return Outcome {
                    body: out.to_vec(),
                    end: End::Failed(e),
                }
            }
        }
    }
    Outcome {
        body: out.to_vec(),
        end: if decoder.is_done() {
            End::Done(consumed)
        } else {
            End::Waiting
        },
    }
}

#[derive(Debug)]
enum Reference {
    Done {
        body: Vec<u8>,
        len: usize,
    },
    Waiting {
        body: Vec<u8>,
    },
    /// The status of the error, and the body decoded before it.
    Failed {
        status: u16,
        body: Vec<u8>,
    },
}

/// A second, independent reading of a chunked body: a loop over the grammar rather than a
/// byte-at-a-time state machine.
fn reference(input: &[u8], limit: u64, max_overhead: usize) -> Reference {
    let mut body = Vec::new();
    let mut at = 0;
    let mut overhead = 0usize;
    // Each step returns `Err(None)` when the input ends, `Err(Some(status))` on an error.
    let result = (|| -> Result<usize, Option<u16>> {
        let byte = |at: usize| input.get(at).copied().ok_or(None);
        let expect = |at: usize, b: u8| match input.get(at) {
            None => Err(None),
            Some(&x) if x == b => Ok(()),
            Some(_) => Err(Some(400)),
        };
        let mut total = 0u64;
        loop {
            // chunk-size: 1 to 16 hex digits
            let mut size = 0u64;
            let mut digits = 0;
            while let Some(d) = (byte(at)? as char).to_digit(16) {
                if digits == 16 {
                    return Err(Some(400));
                }
                size = size << 4 | u64::from(d);
                digits += 1;
                at += 1;
            }
            if digits == 0 {
                return Err(Some(400));
            }
            // chunk-ext: from a `;`, space or tab up to the CR; every byte counts
            if matches!(byte(at)?, b';' | b' ' | b'\t') {
                loop {
                    match byte(at)? {
                        b'\r' => break,
                        b'\n' => return Err(Some(400)),
                        _ => {
                            overhead += 1;
                            if overhead > max_overhead {
                                return Err(Some(400));
                            }
                            at += 1;
                        }
                    }
                }
            }
            expect(at, b'\r')?;
            expect(at + 1, b'\n')?;
            at += 2;
            if size == 0 {
                break;
            }
            total = match total.checked_add(size) {
                Some(total) if total <= limit => total,
                _ => return Err(Some(413)),
            };
            let available = (input.len() - at) as u64;
            if available < size {
                body.extend_from_slice(&input[at..]);
                return Err(None);
            }
            body.extend_from_slice(&input[at..at + size as usize]);
            at += size as usize;
            expect(at, b'\r')?;
            expect(at + 1, b'\n')?;
            at += 2;
        }
        // trailer-section, then the final CRLF
        loop {
            match byte(at)? {
                b'\r' => {
                    expect(at + 1, b'\n')?;
                    return Ok(at + 2);
                }
                b'\n' => return Err(Some(400)),
                _ => {}
            }
            loop {
                match byte(at)? {
                    b'\r' => break,
                    b'\n' => return Err(Some(400)),
                    _ => {
                        overhead += 1;
                        if overhead > max_overhead {
                            return Err(Some(400));
                        }
                        at += 1;
                    }
                }
            }
            expect(at + 1, b'\n')?;
            at += 2;
        }
    })();
    match result {
        Ok(len) => Reference::Done { body, len },
        Err(None) => Reference::Waiting { body },
        Err(Some(status)) => Reference::Failed { status, body },
    }
}
