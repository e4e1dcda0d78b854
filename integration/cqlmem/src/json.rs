//! `toJson()` / `SELECT JSON` rendering of serialized values.

use crate::literal::civil_from_days;
use crate::types::{self, CqlType};

fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

pub fn format_uuid(b: &[u8]) -> String {
    uuid::Uuid::from_slice(b)
        .map(|u| u.to_string())
        .unwrap_or_default()
}

pub fn format_timestamp(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

/// JSON text for one value (`None` = null).
pub fn to_json(ty: &CqlType, v: Option<&[u8]>) -> String {
    let b = match v {
        None => return "null".into(),
        Some(b) => b,
    };
    if b.is_empty() && !matches!(ty.base(), CqlType::Text | CqlType::Ascii | CqlType::Blob) {
        return "null".into();
    }
    match ty.base() {
        CqlType::Text | CqlType::Ascii => quote(&String::from_utf8_lossy(b)),
        CqlType::Boolean => (b[0] != 0).to_string(),
        CqlType::Tinyint
        | CqlType::Smallint
        | CqlType::Int
        | CqlType::Bigint
        | CqlType::Counter => types::int_of(b).to_string(),
        CqlType::Varint => types::varint_to_string(b),
        CqlType::Float | CqlType::Double => {
            let f = types::float_of(ty, b);
            if f.is_finite() {
                serde_json::Number::from_f64(f)
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "null".into())
            } else {
                quote(&f.to_string())
            }
        }
        CqlType::Decimal => {
            let scale = types::int_of(&b[..4.min(b.len())]);
            let digits = types::varint_to_string(b.get(4..).unwrap_or_default());
            let (neg, d) = match digits.strip_prefix('-') {
                Some(d) => (true, d.to_string()),
                None => (false, digits),
            };
            let s = if scale.abs() > 100 {
                format!("{d}E{}", -scale)
            } else if scale <= 0 {
                format!("{d}{}", "0".repeat((-scale) as usize))
            } else {
                let sc = scale as usize;
                let d = format!("{d:0>width$}", width = sc + 1);
                format!("{}.{}", &d[..d.len() - sc], &d[d.len() - sc..])
            };
            if neg {
                format!("-{s}")
            } else {
                s
            }
        }
        CqlType::Uuid | CqlType::Timeuuid => quote(&format_uuid(b)),
        CqlType::Blob => quote(&format!("0x{}", crate::error::hex(b))),
        CqlType::Timestamp => quote(&format_timestamp(types::int_of(b))),
        CqlType::Date if b.len() == 4 => {
            let days = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as i64 - (1i64 << 31);
            let (y, m, d) = civil_from_days(days);
            quote(&format!("{y:04}-{m:02}-{d:02}"))
        }
        CqlType::Time => {
            let n = types::int_of(b);
            let s = n / 1_000_000_000;
            quote(&format!(
                "{:02}:{:02}:{:02}.{:09}",
                s / 3600,
                s / 60 % 60,
                s % 60,
                n % 1_000_000_000
            ))
        }
        CqlType::Inet => {
            let ip: Option<std::net::IpAddr> = match b.len() {
                4 => Some(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).into()),
                16 => <[u8; 16]>::try_from(b)
                    .ok()
                    .map(|a| std::net::Ipv6Addr::from(a).into()),
                _ => None,
            };
            ip.map(|i| quote(&i.to_string()))
                .unwrap_or_else(|| "null".into())
        }
        CqlType::Duration => {
            let mut pos = 0;
            let mo = types::read_vint(b, &mut pos).unwrap_or(0);
            let d = types::read_vint(b, &mut pos).unwrap_or(0);
            let n = types::read_vint(b, &mut pos).unwrap_or(0);
            quote(&format!("{mo}mo{d}d{n}ns"))
        }
        CqlType::List(t) | CqlType::Set(t) => {
            let es = types::split_elements(b, None).unwrap_or_default();
            let v: Vec<String> = es.iter().map(|e| to_json(t, *e)).collect();
            format!("[{}]", v.join(", "))
        }
        CqlType::Map(kt, vt) => {
            let es = types::map_entries(b).unwrap_or_default();
            let v: Vec<String> = es
                .iter()
                .map(|(k, v)| {
                    let key = match kt.base() {
                        CqlType::Text | CqlType::Ascii => to_json(kt, Some(k)),
                        _ => quote(to_json(kt, Some(k)).trim_matches('"')),
                    };
                    format!("{key}: {}", to_json(vt, Some(v)))
                })
                .collect();
            format!("{{{}}}", v.join(", "))
        }
        CqlType::Tuple(ts) => {
            let es = types::split_elements(b, Some(ts.len())).unwrap_or_default();
            let v: Vec<String> = ts.iter().zip(es).map(|(t, e)| to_json(t, e)).collect();
            format!("[{}]", v.join(", "))
        }
        CqlType::Udt { fields, .. } => {
            let es = types::split_elements(b, Some(fields.len())).unwrap_or_default();
            let mut es = es.into_iter();
            let v: Vec<String> = fields
                .iter()
                .map(|(n, t)| format!("{}: {}", quote(n), to_json(t, es.next().flatten())))
                .collect();
            format!("{{{}}}", v.join(", "))
        }
        _ => "null".into(),
    }
}
