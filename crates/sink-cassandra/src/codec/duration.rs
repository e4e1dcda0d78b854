//! `duration` columns: months, days and nanoseconds as zigzag vints (Cassandra's `VIntCoding`),
//! read from CQL duration text: `1h30m`, `-2d10ms`, `1y2mo3w`, ISO-8601 `PT1H30M`, `P2W`,
//! and the ISO alternative `P0001-02-03T04:05:06`.

use cassink_record::Value;

#[derive(Debug, Default, PartialEq, Eq)]
struct Duration {
    months: i64,
    days: i64,
    nanos: i64,
}

pub fn encode(value: &Value) -> Result<Vec<u8>, String> {
    let Value::String(text) = value else {
        return Err("only text such as 1h30m or PT1H30M converts to a duration".into());
    };
    let d = parse(text.trim())?;
    let months = i32::try_from(d.months).map_err(|_| "too many months".to_string())?;
    let days = i32::try_from(d.days).map_err(|_| "too many days".to_string())?;
    let mut out = Vec::with_capacity(12);
    for v in [i64::from(months), i64::from(days), d.nanos] {
        write_unsigned_vint(((v << 1) ^ (v >> 63)) as u64, &mut out);
    }
    Ok(out)
}

/// Cassandra's unsigned vint: the count of leading one bits of the first byte is the number
/// of extra bytes.
fn write_unsigned_vint(value: u64, out: &mut Vec<u8>) {
    let size = (1..=8usize)
        .find(|&n| n * 7 >= 64 || value >> (n * 7) == 0)
        .unwrap_or(9);
    let extra = size - 1;
    if size == 9 {
        out.push(0xff);
        out.extend_from_slice(&value.to_be_bytes());
        return;
    }
    let bytes = value.to_be_bytes();
    let mut encoded = bytes[8 - size..].to_vec();
    encoded[0] |= !(0xffu8 >> extra);
    out.extend(encoded);
}

const NS: [(&str, i64); 7] = [
    ("h", 3_600_000_000_000),
    ("m", 60_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("µs", 1_000),
    ("ns", 1),
];

fn parse(text: &str) -> Result<Duration, String> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut d = if body.starts_with(['P', 'p']) {
        parse_iso(&body[1..])?
    } else {
        parse_standard(body)?
    };
    if negative {
        d = Duration {
            months: -d.months,
            days: -d.days,
            nanos: -d.nanos,
        };
    }
    Ok(d)
}

fn add(total: &mut i64, n: i64, factor: i64) -> Result<(), String> {
    *total = n
        .checked_mul(factor)
        .and_then(|v| total.checked_add(v))
        .ok_or("the duration is too long")?;
    Ok(())
}

fn parse_standard(text: &str) -> Result<Duration, String> {
    let mut d = Duration::default();
    let lower = text.to_lowercase();
    let mut rest = lower.as_str();
    if rest.is_empty() {
        return Err("an empty duration".into());
    }
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err(format!("expected a number at {rest:?} (e.g. 1h30m)"));
        }
        let n: i64 = rest[..digits]
            .parse()
            .map_err(|_| "the duration is too long")?;
        rest = &rest[digits..];
        let unit_len = rest.len() - rest.trim_start_matches(|c: char| c.is_alphabetic()).len();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        match unit {
            "y" => add(&mut d.months, n, 12)?,
            "mo" => add(&mut d.months, n, 1)?,
            "w" => add(&mut d.days, n, 7)?,
            "d" => add(&mut d.days, n, 1)?,
            other => match NS.iter().find(|(u, _)| *u == other) {
                Some((_, factor)) => add(&mut d.nanos, n, *factor)?,
                None => return Err(format!("unknown duration unit {other:?}")),
            },
        }
    }
    Ok(d)
}

fn parse_iso(text: &str) -> Result<Duration, String> {
    let upper = text.to_ascii_uppercase();
    if upper.contains('-') || upper.contains(':') {
        return parse_iso_alternative(&upper);
    }
    let mut d = Duration::default();
    let mut in_time = false;
    let mut number = String::new();
    let mut seen_any = false;
    for c in upper.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' if number.is_empty() && !in_time => in_time = true,
            unit => {
                let n: i64 = number
                    .parse()
                    .map_err(|_| format!("expected a number before {unit:?}"))?;
                number.clear();
                seen_any = true;
                match (in_time, unit) {
                    (false, 'Y') => add(&mut d.months, n, 12)?,
                    (false, 'M') => add(&mut d.months, n, 1)?,
                    (false, 'W') => add(&mut d.days, n, 7)?,
                    (false, 'D') => add(&mut d.days, n, 1)?,
                    (true, 'H') => add(&mut d.nanos, n, 3_600_000_000_000)?,
                    (true, 'M') => add(&mut d.nanos, n, 60_000_000_000)?,
                    (true, 'S') => add(&mut d.nanos, n, 1_000_000_000)?,
                    _ => return Err(format!("unexpected {unit:?} in an ISO-8601 duration")),
                }
            }
        }
    }
    if !number.is_empty() || !seen_any {
        return Err("an incomplete ISO-8601 duration".into());
    }
    Ok(d)
}

/// `YYYY-MM-DDThh:mm:ss`.
fn parse_iso_alternative(text: &str) -> Result<Duration, String> {
    let bad = || format!("expected P[YYYY]-[MM]-[DD]T[hh]:[mm]:[ss], got P{text}");
    let (date, time) = text.split_once('T').ok_or_else(bad)?;
    let nums = |s: &str, sep: char| -> Result<Vec<i64>, String> {
        s.split(sep)
            .map(|p| p.parse::<i64>().map_err(|_| bad()))
            .collect()
    };
    let (date, time) = (nums(date, '-')?, nums(time, ':')?);
    let ([y, mo, dd], [h, mi, s]) = (
        <[i64; 3]>::try_from(date).map_err(|_| bad())?,
        <[i64; 3]>::try_from(time).map_err(|_| bad())?,
    );
    let mut d = Duration::default();
    add(&mut d.months, y, 12)?;
    add(&mut d.months, mo, 1)?;
    add(&mut d.days, dd, 1)?;
    add(&mut d.nanos, h, 3_600_000_000_000)?;
    add(&mut d.nanos, mi, 60_000_000_000)?;
    add(&mut d.nanos, s, 1_000_000_000)?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(months: i64, days: i64, nanos: i64) -> Duration {
        Duration {
            months,
            days,
            nanos,
        }
    }

    #[test]
    fn parses_each_syntax() {
        assert_eq!(parse("1h30m").unwrap(), d(0, 0, 5_400_000_000_000));
        assert_eq!(parse("1y2mo3w4d").unwrap(), d(14, 25, 0));
        assert_eq!(parse("-10ms5ns").unwrap(), d(0, 0, -10_000_005));
        assert_eq!(parse("PT1H30M").unwrap(), d(0, 0, 5_400_000_000_000));
        assert_eq!(parse("P1Y2M3DT4S").unwrap(), d(14, 3, 4_000_000_000));
        assert_eq!(parse("P2W").unwrap(), d(0, 14, 0));
        assert_eq!(
            parse("P0001-02-03T04:05:06").unwrap(),
            d(14, 3, 14_706_000_000_000)
        );
        for bad in [
            "",
            "h",
            "1x",
            "P",
            "PT",
            "P1H",
            "99999999999999999999h",
            "P1-2T3",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn encodes_zigzag_vints() {
        // 1 month, 2 days, 3 ns -> zigzag 2, 4, 6.
        let v = Value::String("1mo2d3ns".into());
        assert_eq!(encode(&v).unwrap(), vec![2, 4, 6]);
        // -1 ns -> zigzag 1; 1h = 3.6e12 ns -> zigzag 7.2e12 needs 7 bytes.
        assert_eq!(
            encode(&Value::String("-1ns".into())).unwrap(),
            vec![0, 0, 1]
        );
        let mut out = Vec::new();
        write_unsigned_vint(7_200_000_000_000, &mut out);
        assert_eq!(out.len(), 7);
        assert_eq!(out[0] & 0b1111_1100, 0b1111_1100);
        let mut out = Vec::new();
        write_unsigned_vint(u64::MAX, &mut out);
        assert_eq!(out, [vec![0xff], vec![0xff; 8]].concat());
        let mut out = Vec::new();
        write_unsigned_vint(200, &mut out);
        assert_eq!(out, vec![0x80, 200]);
    }
}
