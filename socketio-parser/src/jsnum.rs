//! Numbers written the way JavaScript's `JSON.stringify` writes them.
//!
//! JavaScript has one number type, and `Number.prototype.toString` lays out the shortest
//! round-trip digits in one of four shapes (ECMA-262 `Number::toString`): `100`, `1.5`,
//! `0.000001`, `1e+21` / `1.5e-7`. serde_json writes floats in its own layout (`1.0`, `1e21`),
//! so the encoder takes serde_json's shortest digits and lays them out again.

use std::io;

use serde_json::ser::{CompactFormatter, Formatter};

/// A fixed buffer for one formatted float (serde_json writes at most 24 bytes).
struct Digits {
    buf: [u8; 32],
    len: usize,
}

impl io::Write for Digits {
    fn write(&mut self, s: &[u8]) -> io::Result<usize> {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or_else(|| io::Error::other("a float takes at most 24 bytes"))?
            .copy_from_slice(s);
        self.len = end;
        Ok(s.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes `value` as JavaScript would; NaN and infinities as `null` (as `JSON.stringify`).
pub(crate) fn write_f64<W: ?Sized + io::Write>(out: &mut W, value: f64) -> io::Result<()> {
    if !value.is_finite() {
        return out.write_all(b"null");
    }
    // Integers below 2^53 print as integers in both languages; skip the digit search.
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        // Exact: |value| < 2^53 fits an i64 without rounding; -0 prints as 0.
        return CompactFormatter.write_i64(out, value as i64);
    }
    if write_short_decimal(out, value)? {
        return Ok(());
    }
    let negative = value.is_sign_negative() && value != 0.0;
    shortest(out, negative, |d| {
        CompactFormatter.write_f64(d, value.abs())
    })
}

/// Writes `value` in fixed notation when it is a decimal with at most four fractional digits
/// and `1e-6 <= |value| < 1e9` (prices, scores, coordinates...), the common case, without the
/// general shortest-digits search. Returns false, having written nothing, otherwise.
///
/// Why this is the shortest round-trip form: `n / 10^k` is computed with one correctly
/// rounded division of exact operands, so when it equals `value` the decimal `n * 10^-k`
/// parses back to `value`. Trying `k = 1, 2, ...` in turn finds the fewest fractional digits,
/// hence the fewest significant digits, and below 1e9 a double's spacing (at most 2^-23) is
/// far smaller than `10^-4`, so no other decimal with `k` digits rounds to `value`. In this
/// range JavaScript uses fixed notation.
fn write_short_decimal<W: ?Sized + io::Write>(out: &mut W, value: f64) -> io::Result<bool> {
    const SCALES: [(usize, f64, u64); 4] = [
        (1, 10.0, 10),
        (2, 100.0, 100),
        (3, 1000.0, 1000),
        (4, 10000.0, 10000),
    ];
    let a = value.abs();
    if !(1e-6..1e9).contains(&a) {
        return Ok(false);
    }
    for (k, scale, int_scale) in SCALES {
        let n = (a * scale).round();
        if n / scale != a {
            continue;
        }
        // n < 1e13: exact in a u64.
        let n = n as u64;
        if value < 0.0 {
            out.write_all(b"-")?;
        }
        CompactFormatter.write_u64(out, n / int_scale)?;
        let mut frac = [b'0'; 4];
        let mut rest = n % int_scale;
        for digit in frac[..k].iter_mut().rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        out.write_all(b".")?;
        out.write_all(&frac[..k])?;
        return Ok(true);
    }
    Ok(false)
}

/// Writes an `f32` with its own shortest digits (the decimal the programmer wrote), laid out
/// as JavaScript lays out numbers.
pub(crate) fn write_f32<W: ?Sized + io::Write>(out: &mut W, value: f32) -> io::Result<()> {
    if !value.is_finite() {
        return out.write_all(b"null");
    }
    let negative = value.is_sign_negative() && value != 0.0;
    shortest(out, negative, |d| {
        CompactFormatter.write_f32(d, value.abs())
    })
}

/// Lays out the shortest round-trip digits that `digits` (serde_json's float writer) yields.
fn shortest<W: ?Sized + io::Write>(
    out: &mut W,
    negative: bool,
    digits: impl FnOnce(&mut Digits) -> io::Result<()>,
) -> io::Result<()> {
    let mut d = Digits {
        buf: [0; 32],
        len: 0,
    };
    digits(&mut d)?;
    lay_out(out, negative, &d.buf[..d.len])
}

/// `text` is a non-negative finite number in decimal (`123.45`) or scientific (`1.5e-7`)
/// notation, with the shortest round-trip digits.
fn lay_out<W: ?Sized + io::Write>(out: &mut W, negative: bool, text: &[u8]) -> io::Result<()> {
    let e_at = text
        .iter()
        .position(|&b| b == b'e' || b == b'E')
        .unwrap_or(text.len());
    let (mantissa, exp) = text.split_at(e_at);
    let exp: i32 = std::str::from_utf8(exp.get(1..).unwrap_or(b"0"))
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // All the digits, and how many of them stand before the decimal point.
    let mut digits = [0u8; 32];
    let mut k = 0;
    let mut point = None;
    for &b in mantissa {
        if b == b'.' {
            point = Some(k);
        } else if b.is_ascii_digit() && k < digits.len() {
            digits[k] = b;
            k += 1;
        }
    }
    let mut point = point.unwrap_or(k) as i32;
    let mut digits = &digits[..k];
    while let [b'0', rest @ ..] = digits {
        digits = rest;
        point -= 1;
    }
    while let [rest @ .., b'0'] = digits {
        digits = rest;
    }
    if digits.is_empty() {
        return out.write_all(b"0");
    }
    if negative {
        out.write_all(b"-")?;
    }
    // value = 0.d1d2...dk * 10^n
    let n = point + exp;
    let k = digits.len() as i32;
    if k <= n && n <= 21 {
        out.write_all(digits)?;
        for _ in 0..(n - k) {
            out.write_all(b"0")?;
        }
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        out.write_all(int)?;
        out.write_all(b".")?;
        out.write_all(frac)?;
    } else if -6 < n && n <= 0 {
        out.write_all(b"0.")?;
        for _ in 0..(-n) {
            out.write_all(b"0")?;
        }
        out.write_all(digits)?;
    } else {
        out.write_all(&digits[..1])?;
        if k > 1 {
            out.write_all(b".")?;
            out.write_all(&digits[1..])?;
        }
        let e = n - 1;
        write!(
            out,
            "e{}{}",
            if e < 0 { '-' } else { '+' },
            e.unsigned_abs()
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn js(v: f64) -> String {
        let mut out = Vec::new();
        write_f64(&mut out, v).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn matches_javascript_number_to_string() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (1.5, "1.5"),
            (100.0, "100"),
            (0.1, "0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (123456789.125, "123456789.125"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1.5e21, "1.5e+21"),
            (0.000001, "0.000001"),
            (0.0000015, "0.0000015"),
            (1e-7, "1e-7"),
            (1.2345e-7, "1.2345e-7"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (-2.5e-10, "-2.5e-10"),
            (9007199254740993.0, "9007199254740992"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
        ];
        for &(v, expected) in cases {
            assert_eq!(js(v), expected, "{v:e}");
        }
    }

    fn general(v: f64) -> String {
        let mut d = Digits {
            buf: [0; 32],
            len: 0,
        };
        CompactFormatter.write_f64(&mut d, v.abs()).unwrap();
        let mut out = Vec::new();
        lay_out(&mut out, v.is_sign_negative() && v != 0.0, &d.buf[..d.len]).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn short_decimals_match_the_general_path() {
        for v in [
            0.5,
            -1.25,
            0.1,
            0.3,
            123.4567,
            999999999.9999,
            0.000001,
            0.0001,
            1e-5,
            7.0001,
            0.1 + 0.2,
            1.1 * 1.1,
        ] {
            assert_eq!(js(v), general(v), "{v:e}");
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_paths_match_the_general_path(m in proptest::prelude::any::<i64>(), k in 0u32..8, bits in proptest::prelude::any::<u64>()) {
            let decimal = (m % 10_000_000_000_000) as f64 / 10f64.powi(k as i32);
            proptest::prop_assert_eq!(js(decimal), general(decimal));
            let any = f64::from_bits(bits);
            if any.is_finite() {
                proptest::prop_assert_eq!(js(any), general(any));
            }
        }
    }

    #[test]
    fn lays_out_any_notation() {
        for (text, expected) in [
            (&b"100.0"[..], "100"),
            (b"0.00015", "0.00015"),
            (b"1.5e-7", "1.5e-7"),
            (b"1e21", "1e+21"),
            (b"12.5e1", "125"),
            (b"0.0", "0"),
        ] {
            let mut out = Vec::new();
            lay_out(&mut out, false, text).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
    }

    #[test]
    fn f32_keeps_its_own_digits() {
        let mut out = Vec::new();
        write_f32(&mut out, 0.1f32).unwrap();
        assert_eq!(out, b"0.1");
    }
}
