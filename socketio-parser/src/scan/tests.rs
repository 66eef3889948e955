//! Unit tests of the JSON scanner.

use super::*;

fn ok(text: &str) -> Scan {
    scan(text.as_bytes(), 64, None).unwrap_or_else(|e| panic!("{text}: {e:?}"))
}

fn err(text: &str) -> ScanError {
    scan(text.as_bytes(), 64, None).expect_err(text)
}

#[test]
fn accepts_json_values() {
    for text in [
        "0",
        "-0",
        "1.5e+10",
        "-12.0E-3",
        "true",
        "false",
        "null",
        "\"\"",
        "\"a\\u00e9\\n\"",
        "[]",
        "{}",
        "[1,[2,[3]],{\"a\":{}}]",
        "{\"a\" : [ 1 , 2 ] }",
        "[\"\u{1F600}é\"]  \n",
        "\"\\ud800\"",
    ] {
        ok(text);
    }
}

#[test]
fn rejects_what_json_parse_rejects() {
    for text in [
        "",
        "01",
        "1.",
        ".5",
        "+1",
        "1e",
        "-",
        "[1,]",
        "[,1]",
        "{\"a\"}",
        "{\"a\":1,}",
        "{1:2}",
        "tru",
        "nul",
        "[1 2]",
        "\"abc",
        "\"\\x\"",
        "\"\\u12g4\"",
        "\"a\u{1}\"",
        "[1]]",
        "{]",
        "[}",
        "NaN",
        "'a'",
        "[1] x",
        "\u{a0}1",
    ] {
        err(text);
    }
}

#[test]
fn rejects_invalid_utf8_in_strings() {
    for bytes in [
        &b"\"\xff\""[..],
        b"\"\xc0\x80\"",
        b"\"\xed\xa0\x80\"",
        b"\"\xe2\x82\"",
    ] {
        assert!(matches!(
            scan(bytes, 8, None),
            Err(ScanError::Json {
                error: JsonError::InvalidUtf8 | JsonError::UnexpectedEnd,
                ..
            })
        ));
    }
}

#[test]
fn finds_first_element_and_rest() {
    let s = ok("[\"chat\",{\"a\":1},2]");
    assert_eq!(s.ty, JsonType::Array);
    let first = s.first.unwrap();
    assert_eq!(
        (first.start, first.end, first.ty, first.escaped),
        (1, 7, JsonType::String, false)
    );
    assert_eq!(s.rest, 8);
    let s = ok("[ \"a\\n\" ]  ");
    let first = s.first.unwrap();
    assert_eq!((first.start, first.end, first.escaped), (2, 7, true));
    assert_eq!((s.rest, s.end), (8, 9));
    let s = ok("[]");
    assert_eq!((s.first, s.rest), (None, 1));
    let s = ok("[[1,2],3]");
    assert_eq!(s.first.unwrap().ty, JsonType::Array);
    assert_eq!(s.rest, 7);
}

#[test]
fn bounds_depth() {
    assert!(scan(b"[[[1]]]", 3, None).is_ok());
    assert_eq!(
        scan(b"[[[[1]]]]", 3, None),
        Err(ScanError::TooDeep { offset: 3, max: 3 })
    );
    let deep = "[".repeat(100_000);
    assert!(matches!(
        scan(deep.as_bytes(), 10_000, None),
        Err(ScanError::TooDeep { max: 512, .. })
    ));
}

fn with_placeholders(text: &str, count: usize) -> Result<Option<usize>, ScanError> {
    let mut seen = [0u64; 2];
    let mut ph = Placeholders::new(count, &mut seen);
    scan(text.as_bytes(), 64, Some(&mut ph))?;
    Ok(ph.first_missing())
}

#[test]
fn records_placeholders() {
    let text =
        r#"["a",{"_placeholder":true,"num":1},[{"x":{ "num" : 0 , "_placeholder" : true }}]]"#;
    assert_eq!(with_placeholders(text, 2), Ok(None));
    assert_eq!(with_placeholders(text, 3), Ok(Some(2)));
    let escaped = r#"["a",{"\u005fplaceholder":true,"n\u0075m":0}]"#;
    assert_eq!(with_placeholders(escaped, 1), Ok(None));
    // Lookalikes that are plain objects.
    for plain in [
        r#"["a",{"_placeholder":false,"num":0}]"#,
        r#"["a",{"num":0}]"#,
        r#"["a",{"_placeholder":"true","num":0}]"#,
        r#"["a",{"num":0,"other":1}]"#,
    ] {
        assert_eq!(with_placeholders(plain, 1), Ok(Some(0)), "{plain}");
    }
}

#[test]
fn rejects_bad_placeholders() {
    let cases = [
        (
            r#"["a",{"_placeholder":true,"num":1}]"#,
            PlaceholderError::OutOfRange { num: 1, count: 1 },
        ),
        (
            r#"["a",{"_placeholder":true,"num":99999999999999999999999}]"#,
            PlaceholderError::OutOfRange {
                num: u64::MAX,
                count: 1,
            },
        ),
        (
            r#"["a",{"_placeholder":true,"num":-0}]"#,
            PlaceholderError::NotAnInteger,
        ),
        (
            r#"["a",{"_placeholder":true,"num":0.5}]"#,
            PlaceholderError::NotAnInteger,
        ),
        (
            r#"["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]"#,
            PlaceholderError::Repeated { num: 0 },
        ),
        (
            r#"["a",{"_placeholder":true}]"#,
            PlaceholderError::Malformed,
        ),
        (
            r#"["a",{"_placeholder":true,"num":0,"x":1}]"#,
            PlaceholderError::Malformed,
        ),
        (
            r#"["a",{"x":1,"_placeholder":true,"num":0}]"#,
            PlaceholderError::Malformed,
        ),
        (
            r#"["a",{"_placeholder":true,"num":"0"}]"#,
            PlaceholderError::Malformed,
        ),
        (
            r#"["a",{"_placeholder":true,"_placeholder":true}]"#,
            PlaceholderError::Malformed,
        ),
    ];
    for (text, expected) in cases {
        match with_placeholders(text, 1) {
            Err(ScanError::Placeholder { error, .. }) => assert_eq!(error, expected, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    // Without tracking (a non-binary packet) the same objects are plain data.
    ok(r#"["a",{"_placeholder":true,"num":7,"x":1}]"#);
}

#[test]
fn compares_escaped_keys() {
    assert!(json_str_eq_ascii(b"num", b"num"));
    assert!(json_str_eq_ascii(br"n\u0075m", b"num"));
    assert!(json_str_eq_ascii(br"a\/b", b"a/b"));
    assert!(!json_str_eq_ascii(br"nu", b"num"));
    assert!(!json_str_eq_ascii(br"numm", b"num"));
    assert!(!json_str_eq_ascii(br"n\u00e9", b"n\xc3\xa9"));
}

#[test]
fn skip_plain_stops_at_the_first_special_byte() {
    let text = b"abcdefghijklmnop\"qrstuvwxyz";
    assert_eq!(skip_plain(text, 0), 16);
    assert_eq!(skip_plain(b"abcdefgh\\", 0), 8);
    assert_eq!(skip_plain(b"ab\x1fdefghij", 0), 2);
    assert_eq!(skip_plain("abcdefé".as_bytes(), 0), 6);
    assert_eq!(skip_plain(b"abc", 0), 3);
    assert_eq!(skip_plain(b" !#[]~\x7f.", 0), 8);
}

#[test]
fn is_plain_at_agrees_with_skip_plain_on_every_short_run() {
    // Runs of every length from 0 to 11 at every position of a buffer that mixes plain and
    // special bytes, so that a short run has special bytes right after it (masked out) or no
    // room for a whole word after it.
    let buf = b"ab\"cdefgh\\ij\x01klmn\xc3\xa9opqrst\x7fuvwxyz\"";
    for start in 0..buf.len() {
        for len in 0..12.min(buf.len() - start + 1) {
            let run = &buf[start..start + len];
            assert_eq!(
                is_plain_at(buf, start, len),
                skip_plain(run, 0) == len,
                "{start}..{}",
                start + len
            );
        }
    }
}
