//! The `Date` header value (IMF-fixdate, RFC 9110 §5.6.7), formatted without a calendar crate.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Length of an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) const DATE_LEN: usize = 29;

/// The current time as an IMF-fixdate.
///
/// Formatted at most once a second on each thread: every response carries the date, and
/// formatting it (about 3,000 instructions) was a tenth of a long-polling request's cost.
pub(crate) fn now() -> [u8; DATE_LEN] {
    thread_local! {
        static LAST: Cell<(u64, [u8; DATE_LEN])> = const { Cell::new((u64::MAX, [0; DATE_LEN])) };
    }
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    LAST.with(|last| {
        let (at, text) = last.get();
        if at == secs {
            return text;
        }
        let text = format(secs);
        last.set((secs, text));
        text
    })
}

/// Formats seconds since the Unix epoch as an IMF-fixdate.
pub(crate) fn format(unix_secs: u64) -> [u8; DATE_LEN] {
    let days = unix_secs / 86_400;
    let secs_of_day = unix_secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let text = format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year % 10_000,
        secs_of_day / 3600,
        secs_of_day / 60 % 60,
        secs_of_day % 60
    );
    let mut out = [b' '; DATE_LEN];
    out.copy_from_slice(&text.as_bytes()[..DATE_LEN]);
    out
}

/// Gregorian (year, month 1..=12, day 1..=31) of a count of days since 1970-01-01, by counting
/// 400-year eras of 146 097 days whose years start on 1 March (so that the leap day is last).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(&format(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(&format(784_111_777), b"Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(&format(951_782_400), b"Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(&format(4_107_542_399), b"Sun, 28 Feb 2100 23:59:59 GMT");
        assert_eq!(&format(4_107_542_400), b"Mon, 01 Mar 2100 00:00:00 GMT");
        assert_eq!(&format(4_133_980_799), b"Fri, 31 Dec 2100 23:59:59 GMT");
        assert_eq!(&format(1_709_164_800), b"Thu, 29 Feb 2024 00:00:00 GMT");
    }

    #[test]
    fn now_is_well_formed() {
        let d = now();
        assert!(d.ends_with(b" GMT"));
        assert_eq!(d[3], b',');
    }

    #[test]
    fn now_is_the_current_second() {
        // Twice in a row, the second from the cache; both agree with a fresh formatting of a
        // second read around them.
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let (a, b) = (now(), now());
        let after = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        for d in [a, b] {
            assert!(d == format(before) || d == format(after));
        }
    }
}
