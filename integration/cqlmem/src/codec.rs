//! Serialized values: collection framing, vints, varints, validation and ordering.

use std::cmp::Ordering;

use crate::error::{invalid, Error, Result};
use crate::types::CqlType;

/// Splits a serialized collection/tuple body into its `[int length][bytes]` elements.
/// `count` = None reads the leading element count (collections); Some(n) reads up to n
/// elements (tuples and UDTs, which may be truncated).
pub fn split_elements(b: &[u8], count: Option<usize>) -> Result<Vec<Option<&[u8]>>> {
    let mut pos = 0usize;
    let n = match count {
        Some(n) => n,
        None => {
            let n = read_i32(b, &mut pos)?;
            if n < 0 {
                return invalid("Invalid collection: negative element count");
            }
            n as usize
        }
    };
    let mut out = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        if count.is_some() && pos >= b.len() {
            break;
        }
        let len = read_i32(b, &mut pos)?;
        if len < 0 {
            out.push(None);
            continue;
        }
        let end = pos
            .checked_add(len as usize)
            .filter(|e| *e <= b.len())
            .ok_or_else(|| {
                Error::Invalid("Not enough bytes to read a collection element".into())
            })?;
        out.push(Some(&b[pos..end]));
        pos = end;
    }
    if pos != b.len() {
        return invalid("Unexpected extraneous bytes after collection value");
    }
    Ok(out)
}

fn read_i32(b: &[u8], pos: &mut usize) -> Result<i32> {
    let s = b
        .get(*pos..*pos + 4)
        .ok_or_else(|| Error::Invalid("Not enough bytes to read a collection".into()))?;
    *pos += 4;
    Ok(i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Serializes collection/tuple elements (`Some` = value, `None` = null element).
pub fn join_elements(elems: &[Option<Vec<u8>>], with_count: bool) -> Vec<u8> {
    let mut b = Vec::new();
    if with_count {
        b.extend_from_slice(&(elems.len() as i32).to_be_bytes());
    }
    for e in elems {
        match e {
            Some(v) => {
                b.extend_from_slice(&(v.len() as i32).to_be_bytes());
                b.extend_from_slice(v);
            }
            None => b.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
    b
}

fn fixed(b: &[u8], n: usize, msg: &str) -> Result<()> {
    if b.is_empty() || b.len() == n {
        Ok(())
    } else {
        invalid(format!("{msg} ({})", b.len()))
    }
}

/// Checks that `b` is a valid serialization of `ty`, with Cassandra's messages.
pub fn validate(ty: &CqlType, b: &[u8]) -> Result<()> {
    match ty.base() {
        CqlType::Ascii => {
            if b.is_ascii() {
                Ok(())
            } else {
                invalid("Invalid byte for ascii")
            }
        }
        CqlType::Text => std::str::from_utf8(b)
            .map(|_| ())
            .map_err(|_| Error::Invalid("Invalid UTF-8 bytes".into())),
        CqlType::Boolean => fixed(b, 1, "Expected 1 or 0 byte value"),
        CqlType::Tinyint => fixed(b, 1, "Expected 1 byte for a tinyint"),
        CqlType::Smallint => fixed(b, 2, "Expected 2 bytes for a smallint"),
        CqlType::Int => fixed(b, 4, "Expected 4 or 0 byte int"),
        CqlType::Bigint | CqlType::Counter => fixed(b, 8, "Expected 8 or 0 byte long"),
        CqlType::Timestamp => fixed(b, 8, "Expected 8 or 0 byte long for date"),
        CqlType::Time => fixed(b, 8, "Expected 8 byte long for time"),
        CqlType::Date => fixed(b, 4, "Expected 4 byte long for date"),
        CqlType::Float => fixed(b, 4, "Expected 4 or 0 byte value for a float"),
        CqlType::Double => fixed(b, 8, "Expected 8 or 0 byte value for a double"),
        CqlType::Uuid => fixed(b, 16, "Expected 16 or 0 byte uuid"),
        CqlType::Timeuuid => {
            fixed(b, 16, "Expected 16 or 0 byte uuid")?;
            if b.len() == 16 && b[6] >> 4 != 1 {
                return invalid("Unsupported UUID version for timeuuid");
            }
            Ok(())
        }
        CqlType::Inet => {
            if b.is_empty() || b.len() == 4 || b.len() == 16 {
                Ok(())
            } else {
                invalid(format!("Invalid inet address of {} bytes", b.len()))
            }
        }
        CqlType::Decimal => {
            if b.is_empty() || b.len() >= 4 {
                Ok(())
            } else {
                invalid("Expected at least 4 bytes for a decimal")
            }
        }
        CqlType::Duration => {
            let mut pos = 0;
            for _ in 0..3 {
                read_vint(b, &mut pos)?;
            }
            if pos == b.len() {
                Ok(())
            } else {
                invalid("Invalid duration value")
            }
        }
        CqlType::Varint | CqlType::Blob => Ok(()),
        CqlType::List(t) | CqlType::Set(t) => {
            for e in split_elements(b, None)? {
                match e {
                    Some(e) => validate(t, e)?,
                    None => return invalid("null is not supported inside collections"),
                }
            }
            Ok(())
        }
        CqlType::Map(k, v) => {
            let pairs = map_entries(b)?;
            for (ke, ve) in pairs {
                validate(k, ke)?;
                validate(v, ve)?;
            }
            Ok(())
        }
        CqlType::Tuple(ts) => {
            for (t, e) in ts.iter().zip(split_elements(b, Some(ts.len()))?) {
                if let Some(e) = e {
                    validate(t, e)?;
                }
            }
            Ok(())
        }
        CqlType::Udt { fields, .. } => {
            for ((_, t), e) in fields.iter().zip(split_elements(b, Some(fields.len()))?) {
                if let Some(e) = e {
                    validate(t, e)?;
                }
            }
            Ok(())
        }
        CqlType::Frozen(_) => Ok(()),
    }
}

/// Reads a serialized map as (key, value) pairs.
pub fn map_entries(b: &[u8]) -> Result<Vec<(&[u8], &[u8])>> {
    let mut pos = 0usize;
    let n = read_i32(b, &mut pos)?;
    if n < 0 {
        return invalid("Invalid map: negative entry count");
    }
    let mut out = Vec::new();
    let next = |pos: &mut usize| -> Result<&[u8]> {
        let len = read_i32(b, pos)?;
        if len < 0 {
            return invalid("null is not supported inside collections");
        }
        let end = pos
            .checked_add(len as usize)
            .filter(|e| *e <= b.len())
            .ok_or_else(|| Error::Invalid("Not enough bytes to read a map".into()))?;
        let s = &b[*pos..end];
        *pos = end;
        Ok(s)
    };
    for _ in 0..n {
        let k = next(&mut pos)?;
        let v = next(&mut pos)?;
        out.push((k, v));
    }
    if pos != b.len() {
        return invalid("Unexpected extraneous bytes after map value");
    }
    Ok(out)
}

pub fn join_map(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&(entries.len() as i32).to_be_bytes());
    for (k, v) in entries {
        b.extend_from_slice(&(k.len() as i32).to_be_bytes());
        b.extend_from_slice(k);
        b.extend_from_slice(&(v.len() as i32).to_be_bytes());
        b.extend_from_slice(v);
    }
    b
}

pub fn read_vint(b: &[u8], pos: &mut usize) -> Result<i64> {
    let first = *b
        .get(*pos)
        .ok_or_else(|| Error::Invalid("Invalid duration value".into()))?;
    let extra = first.leading_ones() as usize;
    let mut v: u64 = (first as u64) & (0xFFu64 >> extra.min(8));
    *pos += 1;
    for _ in 0..extra {
        let x = *b
            .get(*pos)
            .ok_or_else(|| Error::Invalid("Invalid duration value".into()))?;
        v = (v << 8) | x as u64;
        *pos += 1;
    }
    Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
}

pub fn put_vint(b: &mut Vec<u8>, v: i64) {
    let z = ((v << 1) ^ (v >> 63)) as u64;
    let lz = (z | 1).leading_zeros() as usize;
    let size = (639 - lz * 9) >> 6;
    if size >= 9 {
        b.push(0xFF);
        b.extend_from_slice(&z.to_be_bytes());
        return;
    }
    let bytes = z.to_be_bytes();
    let mut out = bytes[8 - size..].to_vec();
    out[0] |= !(0xFFu8 >> (size - 1));
    b.extend_from_slice(&out);
}

/// Compares two serialized values of `ty` in Cassandra's sort order.
pub fn compare(ty: &CqlType, a: &[u8], b: &[u8]) -> Ordering {
    if a.is_empty() || b.is_empty() {
        return a.len().cmp(&b.len());
    }
    match ty.base() {
        CqlType::Tinyint
        | CqlType::Smallint
        | CqlType::Int
        | CqlType::Bigint
        | CqlType::Counter
        | CqlType::Timestamp
        | CqlType::Time => int_of(a).cmp(&int_of(b)),
        CqlType::Float | CqlType::Double | CqlType::Decimal => {
            float_of(ty, a).total_cmp(&float_of(ty, b))
        }
        CqlType::Varint => varint_cmp(a, b),
        CqlType::Timeuuid => uuid_time(a).cmp(&uuid_time(b)).then_with(|| a.cmp(b)),
        CqlType::Uuid => {
            let (va, vb) = (a.get(6).map(|x| x >> 4), b.get(6).map(|x| x >> 4));
            va.cmp(&vb).then_with(|| {
                if va == Some(1) {
                    uuid_time(a).cmp(&uuid_time(b)).then_with(|| a.cmp(b))
                } else {
                    a.cmp(b)
                }
            })
        }
        CqlType::List(t) | CqlType::Set(t) => {
            match (split_elements(a, None), split_elements(b, None)) {
                (Ok(x), Ok(y)) => seq_cmp(&x, &y, |_| t),
                _ => a.cmp(b),
            }
        }
        CqlType::Tuple(ts) => match (
            split_elements(a, Some(ts.len())),
            split_elements(b, Some(ts.len())),
        ) {
            (Ok(x), Ok(y)) => seq_cmp(&x, &y, |i| &ts[i]),
            _ => a.cmp(b),
        },
        CqlType::Udt { fields, .. } => match (
            split_elements(a, Some(fields.len())),
            split_elements(b, Some(fields.len())),
        ) {
            (Ok(x), Ok(y)) => seq_cmp(&x, &y, |i| &fields[i].1),
            _ => a.cmp(b),
        },
        _ => a.cmp(b),
    }
}

fn seq_cmp<'t>(
    x: &[Option<&[u8]>],
    y: &[Option<&[u8]>],
    ty: impl Fn(usize) -> &'t CqlType,
) -> Ordering {
    for (i, (p, q)) in x.iter().zip(y.iter()).enumerate() {
        let o = match (p, q) {
            (Some(p), Some(q)) => compare(ty(i), p, q),
            (p, q) => p.is_some().cmp(&q.is_some()),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    x.len().cmp(&y.len())
}

/// A fixed-width big-endian signed integer of 1..=8 bytes.
pub fn int_of(b: &[u8]) -> i64 {
    if b.is_empty() || b.len() > 8 {
        return 0;
    }
    let mut v: i64 = if b[0] & 0x80 != 0 { -1 } else { 0 };
    for x in b {
        v = (v << 8) | *x as i64;
    }
    v
}

pub fn float_of(ty: &CqlType, b: &[u8]) -> f64 {
    match ty.base() {
        CqlType::Float if b.len() == 4 => f32::from_be_bytes([b[0], b[1], b[2], b[3]]) as f64,
        CqlType::Double if b.len() == 8 => {
            f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        }
        CqlType::Decimal if b.len() >= 4 => {
            let scale = int_of(&b[..4]) as i32;
            let unscaled = varint_to_string(&b[4..]).parse::<f64>().unwrap_or(0.0);
            unscaled / 10f64.powi(scale)
        }
        _ => 0.0,
    }
}

fn varint_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let neg = |x: &[u8]| x[0] & 0x80 != 0;
    match (neg(a), neg(b)) {
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (n, _) => {
            let o = a.len().cmp(&b.len()).then_with(|| a.cmp(b));
            if n {
                match a.len().cmp(&b.len()) {
                    Ordering::Equal => a.cmp(b),
                    l => l.reverse(),
                }
            } else {
                o
            }
        }
    }
}

fn uuid_time(b: &[u8]) -> u64 {
    if b.len() != 16 {
        return 0;
    }
    let low = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as u64;
    let mid = u16::from_be_bytes([b[4], b[5]]) as u64;
    let hi = (u16::from_be_bytes([b[6], b[7]]) & 0x0FFF) as u64;
    (hi << 48) | (mid << 32) | low
}

/// Two's complement big-endian integer of any length, as a decimal string.
pub fn varint_to_string(b: &[u8]) -> String {
    if b.is_empty() {
        return "0".into();
    }
    let neg = b[0] & 0x80 != 0;
    // magnitude in base 256
    let mut mag: Vec<u8> = b.to_vec();
    if neg {
        for x in mag.iter_mut() {
            *x = !*x;
        }
        for x in mag.iter_mut().rev() {
            let (v, c) = x.overflowing_add(1);
            *x = v;
            if !c {
                break;
            }
        }
    }
    let mut digits = Vec::new();
    while mag.iter().any(|x| *x != 0) {
        let mut rem = 0u32;
        for x in mag.iter_mut() {
            let cur = (rem << 8) | *x as u32;
            *x = (cur / 10) as u8;
            rem = cur % 10;
        }
        digits.push(b'0' + rem as u8);
    }
    if digits.is_empty() {
        digits.push(b'0');
    }
    if neg {
        digits.push(b'-');
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// Decimal string (optionally signed) to minimal two's complement bytes.
pub fn varint_from_str(s: &str) -> Option<Vec<u8>> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut mag: Vec<u8> = vec![0];
    for c in digits.bytes() {
        let mut carry = (c - b'0') as u32;
        for x in mag.iter_mut().rev() {
            let cur = *x as u32 * 10 + carry;
            *x = cur as u8;
            carry = cur >> 8;
        }
        while carry > 0 {
            mag.insert(0, carry as u8);
            carry >>= 8;
        }
    }
    if neg {
        for x in mag.iter_mut() {
            *x = !*x;
        }
        for x in mag.iter_mut().rev() {
            let (v, c) = x.overflowing_add(1);
            *x = v;
            if !c {
                break;
            }
        }
        if mag[0] & 0x80 == 0 {
            mag.insert(0, 0xFF);
        }
    } else if mag[0] & 0x80 != 0 {
        mag.insert(0, 0);
    }
    // minimal form
    while mag.len() > 1
        && ((mag[0] == 0 && mag[1] & 0x80 == 0) || (mag[0] == 0xFF && mag[1] & 0x80 != 0))
    {
        mag.remove(0);
    }
    Some(mag)
}
