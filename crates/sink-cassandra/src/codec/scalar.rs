//! Scalar columns: numbers, booleans, text, blobs, uuids and inet addresses.

use super::number::Num;
use super::{CodecSettings, CqlType};
use base64::Engine;
use cassink_record::Value;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta};
use num_bigint::BigInt;
use std::net::IpAddr;

pub fn encode(value: &Value, ty: &CqlType, settings: &CodecSettings) -> Result<Vec<u8>, String> {
    Ok(match ty {
        CqlType::Boolean => vec![u8::from(boolean(value)?)],
        CqlType::TinyInt => integer::<i8>(value, settings, "tinyint")?
            .to_be_bytes()
            .to_vec(),
        CqlType::SmallInt => integer::<i16>(value, settings, "smallint")?
            .to_be_bytes()
            .to_vec(),
        CqlType::Int => integer::<i32>(value, settings, "int")?
            .to_be_bytes()
            .to_vec(),
        CqlType::BigInt | CqlType::Counter => integer::<i64>(value, settings, "bigint")?
            .to_be_bytes()
            .to_vec(),
        CqlType::VarInt => number(value, settings)?.to_integer()?.to_signed_bytes_be(),
        CqlType::Float => float(value, settings)?.to_be_bytes().to_vec(),
        CqlType::Double => double(value, settings)?.to_be_bytes().to_vec(),
        CqlType::Decimal => {
            let (unscaled, scale) = number(value, settings)?.to_decimal()?;
            let mut out = scale.to_be_bytes().to_vec();
            out.extend(unscaled.to_signed_bytes_be());
            out
        }
        CqlType::Text => text_of(value).into_bytes(),
        CqlType::Ascii => {
            let text = text_of(value);
            if let Some(c) = text.chars().find(|c| !c.is_ascii()) {
                return Err(format!("{c:?} is not an ASCII character"));
            }
            text.into_bytes()
        }
        CqlType::Blob => blob(value)?,
        CqlType::Uuid => uuid(value)?.as_bytes().to_vec(),
        CqlType::TimeUuid => {
            let id = uuid(value)?;
            match id.get_version_num() {
                1 => id.as_bytes().to_vec(),
                v => {
                    return Err(format!(
                        "it is a version {v} UUID; timeuuid needs version 1"
                    ))
                }
            }
        }
        CqlType::Inet => match inet(value)? {
            IpAddr::V4(ip) => ip.octets().to_vec(),
            IpAddr::V6(ip) => ip.octets().to_vec(),
        },
        other => return Err(format!("{other} is not a scalar type")),
    })
}

/// Any numeric value, a numeric string, a boolean (1/0) or a timestamp (epoch in `unit`).
pub fn number(value: &Value, settings: &CodecSettings) -> Result<Num, String> {
    if let Some(n) = Num::from_value(value) {
        return Ok(n);
    }
    match value {
        Value::String(s) => Num::parse(s).ok_or_else(|| "it is not a number".into()),
        Value::Boolean(b) => Ok(Num::Int(BigInt::from(u8::from(*b)))),
        Value::Timestamp(micros) => {
            let nanos = i128::from(*micros) * 1000;
            let unit = i128::from(settings.unit.nanos());
            Ok(Num::Int(BigInt::from(nanos.div_euclid(unit))))
        }
        _ => Err("it is not a number".into()),
    }
}

fn integer<T: TryFrom<i128>>(
    value: &Value,
    settings: &CodecSettings,
    name: &str,
) -> Result<T, String> {
    let wide: i128 = match value {
        Value::Int8(i) => (*i).into(),
        Value::Int16(i) => (*i).into(),
        Value::Int32(i) => (*i).into(),
        Value::Int64(i) => (*i).into(),
        other => {
            let big = number(other, settings)?.to_integer()?;
            i128::try_from(&big).map_err(|_| format!("it is out of range for {name}"))?
        }
    };
    T::try_from(wide).map_err(|_| format!("it is out of range for {name}"))
}

/// A number as `f64`, without the general (big-number) path for the common shapes.
fn double(value: &Value, settings: &CodecSettings) -> Result<f64, String> {
    Ok(match value {
        Value::Float64(f) => *f,
        Value::Float32(f) => f64::from(*f),
        Value::Int64(i) => *i as f64,
        Value::Int32(i) => f64::from(*i),
        other => number(other, settings)?.to_f64(),
    })
}

fn float(value: &Value, settings: &CodecSettings) -> Result<f32, String> {
    if let Value::Float32(f) = value {
        return Ok(*f);
    }
    let wide = double(value, settings)?;
    let narrow = wide as f32;
    if wide.is_finite() && narrow.is_infinite() {
        return Err("it is out of range for float".into());
    }
    Ok(narrow)
}

/// Booleans from `true`/`false`, the DataStax boolean words (`yes`/`no`, `y`/`n`, `t`/`f`,
/// `1`/`0`, any case) and the numbers 1 and 0.
pub fn boolean(value: &Value) -> Result<bool, String> {
    match value {
        Value::Boolean(b) => Ok(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "t" | "1" => Ok(true),
            "false" | "no" | "n" | "f" | "0" => Ok(false),
            _ => Err("it is not a boolean (true/false)".into()),
        },
        other => match Num::from_value(other).map(|n| n.to_integer()) {
            Some(Ok(n)) if n == BigInt::from(1u8) => Ok(true),
            Some(Ok(n)) if n == BigInt::from(0u8) => Ok(false),
            _ => Err("only 1 and 0 convert to a boolean".into()),
        },
    }
}

fn blob(value: &Value) -> Result<Vec<u8>, String> {
    match value {
        Value::Bytes(b) => Ok(b.to_vec()),
        Value::String(s) => {
            let s = s.trim();
            if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                return decode_hex(hex).ok_or_else(|| "it is not valid hex".into());
            }
            let engine = &base64::engine::general_purpose::STANDARD;
            engine
                .decode(s)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s))
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s))
                .map_err(|e| format!("it is neither base64 nor 0x-prefixed hex: {e}"))
        }
        _ => Err("only bytes and base64/hex strings convert to a blob".into()),
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

fn uuid(value: &Value) -> Result<uuid::Uuid, String> {
    match value {
        Value::Uuid(u) => Ok(*u),
        Value::String(s) => uuid::Uuid::parse_str(s.trim()).map_err(|e| e.to_string()),
        _ => Err("only uuids and strings convert to a uuid".into()),
    }
}

fn inet(value: &Value) -> Result<IpAddr, String> {
    match value {
        Value::String(s) => {
            let s = s.trim();
            // Java's InetAddress.toString() gives "host/1.2.3.4".
            let addr = s.rsplit_once('/').map_or(s, |(_, a)| a);
            addr.parse::<IpAddr>().map_err(|e| {
                format!("{e} (an IPv4 or IPv6 address is needed; host names are not resolved)")
            })
        }
        Value::Bytes(b) => match b.len() {
            4 => Ok(IpAddr::from(
                <[u8; 4]>::try_from(&b[..]).map_err(|e| e.to_string())?,
            )),
            16 => Ok(IpAddr::from(
                <[u8; 16]>::try_from(&b[..]).map_err(|e| e.to_string())?,
            )),
            n => Err(format!("an address has 4 or 16 bytes, not {n}")),
        },
        _ => Err("only strings and 4/16 bytes convert to an inet".into()),
    }
}

/// The text form of any value, as DataStax writes non-text values into text columns:
/// numbers and booleans as Java prints them, temporals in ISO-8601, bytes in base64 and
/// containers as JSON.
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Boolean(b) => b.to_string(),
        Value::Int8(i) => i.to_string(),
        Value::Int16(i) => i.to_string(),
        Value::Int32(i) => i.to_string(),
        Value::Int64(i) => i.to_string(),
        Value::Float32(f) => java_double(f64::from(*f), f.to_string()),
        Value::Float64(f) => java_double(*f, f.to_string()),
        Value::Decimal { unscaled, scale } => plain_decimal(unscaled, *scale),
        Value::Date(days) => NaiveDate::from_num_days_from_ce_opt(days.saturating_add(719_163))
            .map_or_else(
                || format!("{days} days"),
                |d| d.format("%Y-%m-%d").to_string(),
            ),
        Value::Time(micros) => NaiveTime::MIN
            .overflowing_add_signed(TimeDelta::microseconds(*micros))
            .0
            .format("%H:%M:%S%.f")
            .to_string(),
        Value::Timestamp(micros) => DateTime::from_timestamp_micros(*micros).map_or_else(
            || format!("{micros} µs"),
            |t| t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string(),
        ),
        Value::Uuid(u) => u.hyphenated().to_string(),
        Value::Bytes(_) | Value::Array(_) | Value::Map(_) | Value::Struct(_) => {
            match to_json(value) {
                serde_json::Value::String(s) => s,
                json => json.to_string(),
            }
        }
    }
}

fn java_double(f: f64, shortest: String) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if shortest.contains('.') || shortest.contains('e') {
        shortest
    } else {
        format!("{shortest}.0")
    }
}

fn plain_decimal(unscaled: &[u8], scale: i32) -> String {
    let n = BigInt::from_signed_bytes_be(unscaled);
    let (sign, digits) = match n.sign() {
        num_bigint::Sign::Minus => ("-", n.magnitude().to_string()),
        _ => ("", n.magnitude().to_string()),
    };
    match usize::try_from(scale) {
        Ok(0) => format!("{sign}{digits}"),
        Ok(s) if s < digits.len() => {
            let (i, f) = digits.split_at(digits.len() - s);
            format!("{sign}{i}.{f}")
        }
        Ok(s) if s <= 1000 => format!("{sign}0.{}{digits}", "0".repeat(s - digits.len())),
        _ => format!("{sign}{digits}E{}", -i64::from(scale)),
    }
}

/// A value as JSON: bytes in base64, temporals and decimals as their text.
pub fn to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(*b),
        Value::Int8(i) => (*i).into(),
        Value::Int16(i) => (*i).into(),
        Value::Int32(i) => (*i).into(),
        Value::Int64(i) => (*i).into(),
        Value::Float32(f) => serde_json::Number::from_f64(f64::from(*f)).map_or(J::Null, J::Number),
        Value::Float64(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Bytes(b) => J::String(base64::engine::general_purpose::STANDARD.encode(b)),
        Value::Array(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (text_of(k), to_json(v)))
                .collect(),
        ),
        Value::Struct(fields) => J::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        ),
        other => J::String(text_of(other)),
    }
}
