//! A JavaScript `Date` as `JSON.stringify` writes it: `Date.prototype.toJSON`, that is
//! `toISOString()` for a valid date and `null` for an invalid one.

/// The largest time value a `Date` holds (ECMA-262 TimeClip): 100 000 000 days.
const MAX_TIME: i64 = 8_640_000_000_000_000;

/// Whether JavaScript's `Date` holds `ms` (otherwise the date is invalid, and JSON `null`).
pub(crate) fn in_range(ms: i64) -> bool {
    (-MAX_TIME..=MAX_TIME).contains(&ms)
}

/// Writes the date `ms` milliseconds after the epoch as a JSON string
/// (`"2024-05-06T07:08:09.010Z"`, years outside 0..=9999 as `+275760` / `-000001`), or
/// `null` when JavaScript's `Date` would be invalid.
pub(crate) fn write_json(out: &mut Vec<u8>, ms: i64) {
    if !in_range(ms) {
        out.extend_from_slice(b"null");
        return;
    }
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    out.push(b'"');
    if (0..=9999).contains(&year) {
        pad(out, year as u64, 4);
    } else {
        out.push(if year < 0 { b'-' } else { b'+' });
        pad(out, year.unsigned_abs(), 6);
    }
    out.push(b'-');
    pad(out, month, 2);
    out.push(b'-');
    pad(out, day, 2);
    out.push(b'T');
    pad(out, (in_day / 3_600_000) as u64, 2);
    out.push(b':');
    pad(out, (in_day / 60_000 % 60) as u64, 2);
    out.push(b':');
    pad(out, (in_day / 1000 % 60) as u64, 2);
    out.push(b'.');
    pad(out, (in_day % 1000) as u64, 3);
    out.extend_from_slice(b"Z\"");
}

fn pad(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(n).as_bytes();
    for _ in digits.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(digits);
}

/// Year, month (1-12) and day (1-31) of the proleptic Gregorian calendar for a day count
/// from 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u64, u64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u64, day as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(ms: i64) -> String {
        let mut out = Vec::new();
        write_json(&mut out, ms);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_what_to_iso_string_writes() {
        // Expected values from Node.js: JSON.stringify(new Date(ms)).
        for (ms, expected) in [
            (0, "\"1970-01-01T00:00:00.000Z\""),
            (1_715_000_889_010, "\"2024-05-06T13:08:09.010Z\""),
            (-1, "\"1969-12-31T23:59:59.999Z\""),
            (951_782_400_000, "\"2000-02-29T00:00:00.000Z\""),
            (-62_198_755_200_000, "\"-000001-01-01T00:00:00.000Z\""),
            (-62_167_219_200_000, "\"0000-01-01T00:00:00.000Z\""),
            (253_402_300_800_000, "\"+010000-01-01T00:00:00.000Z\""),
            (8_640_000_000_000_000, "\"+275760-09-13T00:00:00.000Z\""),
            (-8_640_000_000_000_000, "\"-271821-04-20T00:00:00.000Z\""),
            (8_640_000_000_000_001, "null"),
            (i64::MIN, "null"),
        ] {
            assert_eq!(json(ms), expected, "{ms}");
        }
    }
}
