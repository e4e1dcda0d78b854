//! Turns statement terms (literals, collections, bind markers, a few functions) into
//! serialized values of a target type.

use std::cmp::Ordering;

use crate::cql::ast::Term;
use crate::error::{invalid, Error, Result};
use crate::protocol::wire::BoundValue;
use crate::types::{self, CqlType};

/// A term's value: serialized bytes, null, or (bind markers only) unset.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Value(Vec<u8>),
    Null,
    Unset,
}

/// The values bound to a statement's markers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Binds<'a> {
    pub values: &'a [BoundValue],
    pub names: Option<&'a [String]>,
}

impl Binds<'_> {
    fn get(&self, idx: usize, name: Option<&str>) -> Result<&BoundValue> {
        if let (Some(names), Some(name)) = (self.names, name) {
            let pos = names.iter().position(|n| n.eq_ignore_ascii_case(name));
            return pos.and_then(|p| self.values.get(p)).ok_or_else(|| {
                Error::Invalid(format!("Invalid null value for named bind marker {name}"))
            });
        }
        self.values.get(idx).ok_or_else(|| {
            Error::Invalid(format!(
                "There were more bind markers in the query than the {} bound variables",
                self.values.len()
            ))
        })
    }
}

pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

pub fn now_secs() -> i64 {
    now_micros() / 1_000_000
}

/// A version-1 (time-based) UUID for `now()`.
pub fn timeuuid_now() -> Vec<u8> {
    // 100ns intervals since 1582-10-15
    let t = (now_micros() as u64) * 10 + 0x01B2_1DD2_1381_4000;
    let r = uuid::Uuid::new_v4();
    let rb = r.as_bytes();
    let mut b = [0u8; 16];
    b[0..4].copy_from_slice(&((t & 0xFFFF_FFFF) as u32).to_be_bytes());
    b[4..6].copy_from_slice(&(((t >> 32) & 0xFFFF) as u16).to_be_bytes());
    b[6..8].copy_from_slice(&((((t >> 48) & 0x0FFF) as u16) | 0x1000).to_be_bytes());
    b[8] = (rb[8] & 0x3F) | 0x80;
    b[9..16].copy_from_slice(&rb[9..16]);
    b.to_vec()
}

fn type_err<T>(term: &Term, ty: &CqlType) -> Result<T> {
    invalid(format!(
        "Invalid {} constant for type {}",
        match term {
            Term::Str(s) => format!("STRING ({s})"),
            Term::Number(n) => format!("INTEGER ({n})"),
            Term::Bool(b) => format!("BOOLEAN ({b})"),
            Term::Uuid(u) => format!("UUID ({u})"),
            Term::Blob(_) => "HEX".into(),
            other => format!("{other:?}"),
        },
        ty.cql_name()
    ))
}

pub fn eval(term: &Term, ty: &CqlType, binds: &Binds) -> Result<Val> {
    match term {
        Term::Bind(i, name) => match binds.get(*i, name.as_deref())? {
            BoundValue::Null => Ok(Val::Null),
            BoundValue::Unset => Ok(Val::Unset),
            BoundValue::Value(v) => {
                types::validate(ty, v)?;
                Ok(Val::Value(normalize(ty, v)))
            }
        },
        Term::Null => Ok(Val::Null),
        Term::Hint(_, t) => eval(t, ty, binds),
        t => Ok(Val::Value(encode(t, ty, binds)?)),
    }
}

/// Sorts and dedups set elements and map keys as Cassandra stores them.
fn normalize(ty: &CqlType, v: &[u8]) -> Vec<u8> {
    match ty.base() {
        CqlType::Set(t) => match types::split_elements(v, None) {
            Ok(es) => {
                let mut es: Vec<&[u8]> = es.into_iter().flatten().collect();
                es.sort_by(|a, b| types::compare(t, a, b));
                es.dedup_by(|a, b| types::compare(t, a, b) == Ordering::Equal);
                types::join_elements(
                    &es.into_iter().map(|e| Some(e.to_vec())).collect::<Vec<_>>(),
                    true,
                )
            }
            Err(_) => v.to_vec(),
        },
        CqlType::Map(kt, _) => match types::map_entries(v) {
            Ok(es) => {
                let mut es: Vec<(Vec<u8>, Vec<u8>)> = es
                    .into_iter()
                    .map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .collect();
                es.sort_by(|a, b| types::compare(kt, &a.0, &b.0));
                es.dedup_by(|a, b| types::compare(kt, &a.0, &b.0) == Ordering::Equal);
                types::join_map(&es)
            }
            Err(_) => v.to_vec(),
        },
        _ => v.to_vec(),
    }
}

fn elem(term: &Term, ty: &CqlType, binds: &Binds) -> Result<Vec<u8>> {
    match eval(term, ty, binds)? {
        Val::Value(v) => Ok(v),
        _ => invalid("null is not supported inside collections"),
    }
}

fn encode(term: &Term, ty: &CqlType, binds: &Binds) -> Result<Vec<u8>> {
    let base = ty.base();
    if let Term::Call(f, args) = term {
        return call(f, args, base);
    }
    let int = |n: &str, bytes: usize| -> Result<Vec<u8>> {
        let v: i64 = n.parse().map_err(|_| {
            Error::Invalid(format!(
                "Invalid INTEGER constant ({n}) for type {}",
                base.cql_name()
            ))
        })?;
        let be = v.to_be_bytes();
        let out = be[8 - bytes..].to_vec();
        if types::int_of(&out) != v {
            return invalid(format!("Unable to make {} from '{n}'", base.cql_name()));
        }
        Ok(out)
    };
    match (term, base) {
        (Term::Str(s), CqlType::Text) => Ok(s.as_bytes().to_vec()),
        (Term::Str(s), CqlType::Ascii) if s.is_ascii() => Ok(s.as_bytes().to_vec()),
        (Term::Number(n), CqlType::Tinyint) => int(n, 1),
        (Term::Number(n), CqlType::Smallint) => int(n, 2),
        (Term::Number(n), CqlType::Int) => int(n, 4),
        (Term::Number(n), CqlType::Bigint | CqlType::Counter | CqlType::Timestamp) => int(n, 8),
        (Term::Number(n), CqlType::Time) => int(n, 8),
        (Term::Number(n), CqlType::Date) => {
            let v: u32 = n.parse().map_err(|_| {
                Error::Invalid(format!("Unable to coerce '{n}' to a formatted date"))
            })?;
            Ok(v.to_be_bytes().to_vec())
        }
        (Term::Number(n), CqlType::Varint) => types::varint_from_str(n)
            .ok_or_else(|| Error::Invalid(format!("Invalid INTEGER constant ({n})"))),
        (Term::Number(n), CqlType::Float) => Ok(parse_float(n)?
            .map(|f| (f as f32).to_be_bytes().to_vec())
            .unwrap_or_default()),
        (Term::Number(n), CqlType::Double) => Ok(parse_float(n)?
            .map(|f| f.to_be_bytes().to_vec())
            .unwrap_or_default()),
        (Term::Number(n), CqlType::Decimal) => decimal(n),
        (Term::Bool(b), CqlType::Boolean) => Ok(vec![*b as u8]),
        (Term::Uuid(u) | Term::Str(u), CqlType::Uuid | CqlType::Timeuuid) => {
            let id = uuid::Uuid::parse_str(u)
                .map_err(|_| Error::Invalid(format!("Unable to make UUID from '{u}'")))?;
            let b = id.as_bytes().to_vec();
            types::validate(base, &b)?;
            Ok(b)
        }
        (Term::Blob(b), CqlType::Blob) => Ok(b.clone()),
        (Term::Str(s), CqlType::Timestamp) => parse_timestamp(s)
            .map(|ms| ms.to_be_bytes().to_vec())
            .ok_or_else(|| Error::Invalid(format!("Unable to parse a date/time from '{s}'"))),
        (Term::Str(s), CqlType::Date) => parse_date(s)
            .map(|d| ((d + (1i64 << 31)) as u32).to_be_bytes().to_vec())
            .ok_or_else(|| {
                Error::Invalid(format!("Unable to coerce '{s}' to a formatted date (long)"))
            }),
        (Term::Str(s), CqlType::Time) => parse_time(s)
            .map(|n| n.to_be_bytes().to_vec())
            .ok_or_else(|| {
                Error::Invalid(format!("Unable to coerce '{s}' to a formatted time (long)"))
            }),
        (Term::Str(s), CqlType::Inet) => match s.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(a)) => Ok(a.octets().to_vec()),
            Ok(std::net::IpAddr::V6(a)) => Ok(a.octets().to_vec()),
            Err(_) => invalid(format!("Unable to make inet address from '{s}'")),
        },
        (Term::Duration(d) | Term::Str(d), CqlType::Duration) => parse_duration(d),
        (Term::List(items), CqlType::List(t))
        | (Term::List(items) | Term::Set(items), CqlType::Set(t)) => {
            let es = items
                .iter()
                .map(|i| elem(i, t, binds).map(Some))
                .collect::<Result<Vec<_>>>()?;
            Ok(normalize(ty, &types::join_elements(&es, true)))
        }
        (Term::Map(e), CqlType::Set(_) | CqlType::List(_)) if e.is_empty() => {
            Ok(types::join_elements(&[], true))
        }
        (Term::Map(entries), CqlType::Map(kt, vt)) => {
            let es = entries
                .iter()
                .map(|(k, v)| Ok((elem(k, kt, binds)?, elem(v, vt, binds)?)))
                .collect::<Result<Vec<_>>>()?;
            Ok(normalize(ty, &types::join_map(&es)))
        }
        (Term::Tuple(items), CqlType::Tuple(ts)) => {
            if items.len() > ts.len() {
                return invalid(format!(
                    "Invalid tuple literal: too many elements. Type {} expects {} but got {}",
                    ty.cql_name(),
                    ts.len(),
                    items.len()
                ));
            }
            let es = items
                .iter()
                .zip(ts)
                .map(|(i, t)| match eval(i, t, binds)? {
                    Val::Value(v) => Ok(Some(v)),
                    _ => Ok(None),
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(types::join_elements(&es, false))
        }
        (Term::Map(entries), CqlType::Udt { fields, name, .. }) => {
            let mut vals: Vec<Option<Vec<u8>>> = vec![None; fields.len()];
            for (k, v) in entries {
                let fname = match k {
                    Term::Ident(n) | Term::Str(n) => n,
                    _ => return invalid(format!("Invalid field name in literal for type {name}")),
                };
                let pos = fields.iter().position(|(f, _)| f == fname).ok_or_else(|| {
                    Error::Invalid(format!(
                        "Unknown field '{fname}' in value of user defined type {name}"
                    ))
                })?;
                vals[pos] = match eval(v, &fields[pos].1, binds)? {
                    Val::Value(v) => Some(v),
                    _ => None,
                };
            }
            Ok(types::join_elements(&vals, false))
        }
        _ => type_err(term, base),
    }
}

fn call(f: &str, args: &[Term], ty: &CqlType) -> Result<Vec<u8>> {
    match (f, ty) {
        ("now", CqlType::Timeuuid | CqlType::Uuid) => Ok(timeuuid_now()),
        ("uuid", CqlType::Uuid) => Ok(uuid::Uuid::new_v4().as_bytes().to_vec()),
        ("totimestamp", CqlType::Timestamp) | ("currenttimestamp", CqlType::Timestamp) => {
            let _ = args;
            Ok((now_micros() / 1000).to_be_bytes().to_vec())
        }
        ("currentdate" | "todate", CqlType::Date) => Ok(((now_secs() / 86400 + (1i64 << 31))
            as u32)
            .to_be_bytes()
            .to_vec()),
        ("currenttimeuuid", CqlType::Timeuuid) => Ok(timeuuid_now()),
        _ => invalid(format!("Unknown function {f} for type {}", ty.cql_name())),
    }
}

fn parse_float(n: &str) -> Result<Option<f64>> {
    let v = match n {
        "nan" | "-nan" => f64::NAN,
        "infinity" => f64::INFINITY,
        "-infinity" => f64::NEG_INFINITY,
        n => n
            .parse::<f64>()
            .map_err(|_| Error::Invalid(format!("Invalid FLOAT constant ({n})")))?,
    };
    Ok(Some(v))
}

fn decimal(n: &str) -> Result<Vec<u8>> {
    let bad = || Error::Invalid(format!("Invalid decimal constant ({n})"));
    let (mant, exp) = match n.find(['e', 'E']) {
        Some(p) => (&n[..p], n[p + 1..].parse::<i32>().map_err(|_| bad())?),
        None => (n, 0),
    };
    let (digits, scale) = match mant.find('.') {
        Some(p) => (
            format!("{}{}", &mant[..p], &mant[p + 1..]),
            (mant.len() - p - 1) as i32,
        ),
        None => (mant.to_string(), 0),
    };
    let unscaled = types::varint_from_str(&digits).ok_or_else(bad)?;
    let mut out = (scale - exp).to_be_bytes().to_vec();
    out.extend_from_slice(&unscaled);
    Ok(out)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    let neg = s.starts_with('-');
    let body = if neg { &s[1..] } else { s };
    let mut it = body.splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(if neg { -y } else { y }, m, d))
}

/// `hh:mm[:ss[.fffffffff]]` to nanoseconds since midnight.
fn parse_time(s: &str) -> Option<i64> {
    let (hms, frac) = match s.find('.') {
        Some(p) => (&s[..p], &s[p + 1..]),
        None => (s, ""),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let h: i64 = parts[0].trim().parse().ok()?;
    let m: i64 = parts[1].parse().ok()?;
    let sec: i64 = parts.get(2).map(|x| x.parse().ok()).unwrap_or(Some(0))?;
    if h > 23 || m > 59 || sec > 59 || frac.len() > 9 || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let nanos: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    Some(((h * 60 + m) * 60 + sec) * 1_000_000_000 + nanos)
}

/// Timestamps as cqlsh and drivers write them: date, optional time, optional zone.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = match s.find([' ', 'T']) {
        Some(p) => (&s[..p], s[p + 1..].trim()),
        None => (s, ""),
    };
    let days = parse_date(date)?;
    let (time, zone) = match rest.find(['Z', 'z', '+']).or_else(|| rest.rfind('-')) {
        Some(p) => (&rest[..p], &rest[p..]),
        None => (rest, ""),
    };
    let nanos = if time.is_empty() {
        0
    } else {
        parse_time(time.trim())?
    };
    let offset_min = match zone {
        "" | "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            if digits.len() != 4 {
                return None;
            }
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = digits[2..].parse().ok()?;
            sign * (h * 60 + m)
        }
    };
    Some(days * 86_400_000 + nanos / 1_000_000 - offset_min * 60_000)
}

fn parse_duration(s: &str) -> Result<Vec<u8>> {
    let bad = || Error::Invalid(format!("Unable to convert '{s}' to a duration"));
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (mut months, mut days, mut nanos) = (0i64, 0i64, 0i64);
    let b = body.to_ascii_lowercase();
    let mut i = 0;
    let bytes = b.as_bytes();
    if bytes.is_empty() {
        return Err(bad());
    }
    while i < bytes.len() {
        let st = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let n: i64 = b[st..i].parse().map_err(|_| bad())?;
        let us = i;
        while i < bytes.len() && !bytes[i].is_ascii_digit() {
            i += 1;
        }
        match &b[us..i] {
            "y" => months += 12 * n,
            "mo" => months += n,
            "w" => days += 7 * n,
            "d" => days += n,
            "h" => nanos += n * 3_600_000_000_000,
            "m" => nanos += n * 60_000_000_000,
            "s" => nanos += n * 1_000_000_000,
            "ms" => nanos += n * 1_000_000,
            "us" | "µs" => nanos += n * 1_000,
            "ns" => nanos += n,
            _ => return Err(bad()),
        }
    }
    let sign = if neg { -1 } else { 1 };
    let mut out = Vec::new();
    types::put_vint(&mut out, sign * months);
    types::put_vint(&mut out, sign * days);
    types::put_vint(&mut out, sign * nanos);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_like_cassandra() {
        assert_eq!(parse_timestamp("1970-01-01"), Some(0));
        assert_eq!(
            parse_timestamp("2020-01-02 03:04:05+0000"),
            Some(1_577_934_245_000)
        );
        assert_eq!(
            parse_timestamp("2020-01-02T03:04:05.250Z"),
            Some(1_577_934_245_250)
        );
        assert_eq!(
            parse_timestamp("2020-01-02 04:04:05+0100"),
            Some(1_577_934_245_000)
        );
        assert_eq!(parse_timestamp("nonsense"), None);
    }

    #[test]
    fn civil_dates_roundtrip() {
        for d in [-1000, 0, 18262, 100_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }
}
