//! Numbers written the way JavaScript's `JSON.stringify` writes them.
//!
//! JavaScript has one number type, and `Number.prototype.toString` lays out the shortest
//! round-trip digits in one of four shapes (ECMA-262 `Number::toString`): `100`, `1.5`,
//! `0.000001`, `1e+21` / `1.5e-7`. serde_json writes floats in Rust's own way (`1.0`, `1e21`),
//! so the encoder routes floats through here to be byte-identical with the reference encoder.
//! Rust's `{:e}` formatting yields the shortest round-trip digits, like JavaScript's.

use std::fmt::Write as _;
use std::io;

/// A fixed buffer for one formatted float (at most 24 bytes for an `f64`).
struct Digits {
    buf: [u8; 40],
    len: usize,
}

impl std::fmt::Write for Digits {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(std::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Writes `value` as JavaScript would; NaN and infinities as `null` (as `JSON.stringify`).
pub(crate) fn write_f64<W: ?Sized + io::Write>(out: &mut W, value: f64) -> io::Result<()> {
    if !value.is_finite() {
        return out.write_all(b"null");
    }
    let mut d = Digits {
        buf: [0; 40],
        len: 0,
    };
    write!(d, "{:e}", value.abs()).map_err(|_| io::Error::other("float formatting overflowed"))?;
    lay_out(
        out,
        value.is_sign_negative() && value != 0.0,
        &d.buf[..d.len],
    )
}

/// Writes an `f32` with its own shortest digits (the decimal the programmer wrote), laid out
/// as JavaScript lays out numbers.
pub(crate) fn write_f32<W: ?Sized + io::Write>(out: &mut W, value: f32) -> io::Result<()> {
    if !value.is_finite() {
        return out.write_all(b"null");
    }
    let mut d = Digits {
        buf: [0; 40],
        len: 0,
    };
    write!(d, "{:e}", value.abs()).map_err(|_| io::Error::other("float formatting overflowed"))?;
    lay_out(
        out,
        value.is_sign_negative() && value != 0.0,
        &d.buf[..d.len],
    )
}

/// `sci` is Rust's `{:e}` of a non-negative finite number: `D[.DDD]e[-]X`.
fn lay_out<W: ?Sized + io::Write>(out: &mut W, negative: bool, sci: &[u8]) -> io::Result<()> {
    let e_at = sci.iter().position(|&b| b == b'e').unwrap_or(sci.len());
    let (mantissa, exp) = sci.split_at(e_at);
    let exp: i32 = std::str::from_utf8(exp.get(1..).unwrap_or(b"0"))
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut digits = [0u8; 24];
    let mut k = 0;
    for &b in mantissa.iter().filter(|b| b.is_ascii_digit()) {
        if k < digits.len() {
            digits[k] = b;
            k += 1;
        }
    }
    let digits = &digits[..k];
    if digits == b"0" {
        return out.write_all(b"0");
    }
    if negative {
        out.write_all(b"-")?;
    }
    // value = 0.d1d2...dk * 10^n
    let n = exp + 1;
    let k = k as i32;
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

    #[test]
    fn f32_keeps_its_own_digits() {
        let mut out = Vec::new();
        write_f32(&mut out, 0.1f32).unwrap();
        assert_eq!(out, b"0.1");
    }
}
