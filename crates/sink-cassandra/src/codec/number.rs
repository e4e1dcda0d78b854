//! Exact numbers for numeric conversions: an integer, a decimal (`unscaled × 10^-scale`) or a
//! binary float. Floats are read through their shortest decimal form, so `1612891969.805`
//! stays `1612891969.805` and never becomes `1612891969.80499994...`.

use cassink_record::Value;
use num_bigint::BigInt;

/// How many digits an integer may grow to when a decimal exponent is applied.
const MAX_DIGITS: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
pub enum Num {
    Int(BigInt),
    Dec(BigInt, i64),
    Float(f64),
}

pub fn pow10(exp: usize) -> BigInt {
    BigInt::from(10u8).pow(exp as u32)
}

fn digits(n: &BigInt) -> usize {
    n.magnitude().to_string().len()
}

impl Num {
    /// A numeric [`Value`] (integers, floats, decimals) as a number.
    pub fn from_value(value: &Value) -> Option<Num> {
        Some(match value {
            Value::Int8(i) => Num::Int((*i).into()),
            Value::Int16(i) => Num::Int((*i).into()),
            Value::Int32(i) => Num::Int((*i).into()),
            Value::Int64(i) => Num::Int((*i).into()),
            Value::Float32(f) => Num::parse(&f.to_string()).unwrap_or(Num::Float(f64::from(*f))),
            Value::Float64(f) => Num::Float(*f),
            Value::Decimal { unscaled, scale } => {
                Num::Dec(BigInt::from_signed_bytes_be(unscaled), i64::from(*scale))
            }
            _ => return None,
        })
    }

    /// Parses `42`, `-1.5`, `1e-3`, `.5`, `NaN`, `Infinity`. `None` when it is not a number.
    pub fn parse(text: &str) -> Option<Num> {
        let s = text.trim();
        match s.to_ascii_lowercase().as_str() {
            "nan" => return Some(Num::Float(f64::NAN)),
            "infinity" | "+infinity" | "inf" => return Some(Num::Float(f64::INFINITY)),
            "-infinity" | "-inf" => return Some(Num::Float(f64::NEG_INFINITY)),
            _ => {}
        }
        let (mantissa, exp) = match s.find(['e', 'E']) {
            Some(at) => (&s[..at], Some(&s[at + 1..])),
            None => (s, None),
        };
        let (sign, unsigned) = match mantissa.as_bytes().first() {
            Some(b'-') => ("-", &mantissa[1..]),
            Some(b'+') => ("", &mantissa[1..]),
            _ => ("", mantissa),
        };
        let (int_part, frac) = match unsigned.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (unsigned, None),
        };
        let frac_digits = frac.unwrap_or("");
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int_part.len() + frac_digits.len() == 0
            || !all_digits(int_part)
            || !all_digits(frac_digits)
        {
            return None;
        }
        let unscaled: BigInt = format!("{sign}{int_part}{frac_digits}").parse().ok()?;
        let exp: i64 = match exp {
            Some(e) if e.len() <= 12 => e.parse().ok()?,
            Some(_) => return None,
            None => 0,
        };
        if frac.is_none() && exp == 0 {
            return Some(Num::Int(unscaled));
        }
        let scale = i64::try_from(frac_digits.len()).ok()?.checked_sub(exp)?;
        Some(Num::Dec(unscaled, scale))
    }

    /// The exact decimal of a finite float, through its shortest round-trip text.
    fn float_exact(f: f64) -> Result<Num, String> {
        if !f.is_finite() {
            return Err(format!("{f} is not a finite number"));
        }
        Num::parse(&f.to_string()).ok_or_else(|| format!("cannot read {f} as a decimal"))
    }

    /// The number as an exact integer; fractions and non-finite floats are errors.
    pub fn to_integer(&self) -> Result<BigInt, String> {
        match self {
            Num::Int(i) => Ok(i.clone()),
            Num::Float(f) => Num::float_exact(*f)?.to_integer(),
            Num::Dec(u, _) if u.sign() == num_bigint::Sign::NoSign => Ok(BigInt::from(0u8)),
            Num::Dec(u, scale) if *scale <= 0 => {
                let up = usize::try_from(scale.unsigned_abs()).unwrap_or(usize::MAX);
                if digits(u).saturating_add(up) > MAX_DIGITS {
                    return Err("it is too large".into());
                }
                Ok(u * pow10(up))
            }
            Num::Dec(u, scale) => {
                let down = usize::try_from(*scale).unwrap_or(usize::MAX);
                if down > digits(u) {
                    return Err("it has a fractional part".into());
                }
                let p = pow10(down);
                if (u % &p).sign() != num_bigint::Sign::NoSign {
                    return Err("it has a fractional part".into());
                }
                Ok(u / p)
            }
        }
    }

    /// The nearest double (may be infinite for huge values).
    pub fn to_f64(&self) -> f64 {
        match self {
            Num::Int(i) => i.to_string().parse().unwrap_or(f64::NAN),
            Num::Dec(u, scale) => format!("{u}e{}", -i128::from(*scale))
                .parse()
                .unwrap_or(f64::NAN),
            Num::Float(f) => *f,
        }
    }

    /// The number as an exact decimal (unscaled, scale).
    pub fn to_decimal(&self) -> Result<(BigInt, i32), String> {
        match self {
            Num::Int(i) => Ok((i.clone(), 0)),
            Num::Dec(u, scale) => {
                let scale = i32::try_from(*scale)
                    .map_err(|_| format!("its scale {scale} does not fit a CQL decimal"))?;
                Ok((u.clone(), scale))
            }
            Num::Float(f) => Num::float_exact(*f)?.to_decimal(),
        }
    }

    /// `self × factor`, truncated toward negative infinity after dividing by `divisor`:
    /// exact epoch arithmetic, `None` when the result does not fit an `i128`.
    pub fn scaled_floor(&self, factor: i64, divisor: i64) -> Result<i128, String> {
        let (unscaled, scale) = match self {
            Num::Int(i) => (i.clone(), 0i64),
            Num::Dec(u, s) => (u.clone(), *s),
            Num::Float(f) => match Num::float_exact(*f)? {
                Num::Int(i) => (i, 0),
                Num::Dec(u, s) => (u, s),
                Num::Float(_) => return Err("it is not a finite number".into()),
            },
        };
        let too_large = || "it is out of range".to_string();
        let mut n = unscaled * BigInt::from(factor);
        let mut d = BigInt::from(divisor);
        if scale < 0 {
            let up = usize::try_from(scale.unsigned_abs()).map_err(|_| too_large())?;
            if digits(&n).saturating_add(up) > 60 {
                return Err(too_large());
            }
            n *= pow10(up);
        } else if scale > 0 {
            let down = usize::try_from(scale).map_err(|_| too_large())?;
            if down > digits(&n) + 2 {
                // |n / 10^down| < 1: floor is 0 or -1.
                return Ok(if n.sign() == num_bigint::Sign::Minus {
                    -1
                } else {
                    0
                });
            }
            d *= pow10(down);
        }
        let q = floor_div(&n, &d);
        i128::try_from(&q).map_err(|_| too_large())
    }
}

fn floor_div(n: &BigInt, d: &BigInt) -> BigInt {
    let q = n / d;
    let r = n % d;
    if r.sign() != num_bigint::Sign::NoSign
        && (r.sign() == num_bigint::Sign::Minus) != (d.sign() == num_bigint::Sign::Minus)
    {
        q - 1
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_converts_exactly() {
        assert_eq!(Num::parse(" 42 "), Some(Num::Int(42.into())));
        assert_eq!(Num::parse("-1.50"), Some(Num::Dec((-150).into(), 2)));
        assert_eq!(Num::parse("1e3"), Some(Num::Dec(1.into(), -3)));
        assert_eq!(Num::parse(".5"), Some(Num::Dec(5.into(), 1)));
        for bad in [
            "",
            "-",
            ".",
            "1.2.3",
            "abc",
            "1e",
            "0x10",
            "1e99999999999999",
        ] {
            assert_eq!(Num::parse(bad), None, "{bad}");
        }
        assert_eq!(
            Num::parse("1e3").unwrap().to_integer().unwrap(),
            1000.into()
        );
        assert_eq!(Num::parse("2.000").unwrap().to_integer().unwrap(), 2.into());
        assert!(Num::parse("2.5").unwrap().to_integer().is_err());
        assert!(Num::parse("1e99999999").unwrap().to_integer().is_err());
        assert!(Num::parse("1e-99999999").unwrap().to_integer().is_err());
        assert!(Num::Float(f64::NAN).to_integer().is_err());
        assert_eq!(
            Num::Float(1e20).to_integer().unwrap(),
            "100000000000000000000".parse().unwrap()
        );
        assert_eq!(
            Num::Float(1612891969.805)
                .scaled_floor(1_000_000_000, 1_000_000)
                .unwrap(),
            1_612_891_969_805
        );
        assert_eq!(Num::Int((-1).into()).scaled_floor(1, 1000).unwrap(), -1);
        assert_eq!(
            Num::parse("1e-99999999")
                .unwrap()
                .scaled_floor(1, 1)
                .unwrap(),
            0
        );
        assert!(Num::parse("1e99999999")
            .unwrap()
            .scaled_floor(1, 1)
            .is_err());
        assert_eq!(Num::parse("-12.5").unwrap().to_f64(), -12.5);
    }
}
