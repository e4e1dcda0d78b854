//! Temporal text formats: the lenient CQL/ISO parser behind `CQL_TIMESTAMP`, `ISO_LOCAL_DATE`,
//! `ISO_LOCAL_TIME`, `ISO_INSTANT`, `ISO_ZONED_DATE_TIME`...; Java `DateTimeFormatter`
//! patterns translated to chrono; and time zones (IANA names via chrono-tz, or offsets).

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::offset::LocalResult;
use chrono::{
    DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;

/// A time zone: an IANA region (with its daylight-saving rules) or a fixed offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Named(Tz),
    Fixed(FixedOffset),
}

impl Zone {
    pub fn utc() -> Self {
        Zone::Fixed(Utc.fix())
    }

    /// `Europe/Paris`, `UTC`, `Z`, `GMT`, `+01:00`, `-0530`, `UTC+01:00`, `GMT+1`.
    pub fn parse(raw: &str) -> Option<Zone> {
        let raw = raw.trim();
        if let Ok(tz) = raw.parse::<Tz>() {
            return Some(Zone::Named(tz));
        }
        let upper = raw.to_ascii_uppercase();
        let rest = ["UTC", "GMT", "UT", "Z"]
            .iter()
            .find_map(|p| upper.strip_prefix(p))
            .unwrap_or(&upper);
        if rest.is_empty() {
            return Some(Zone::utc());
        }
        let mut cur = Cursor::new(rest);
        let offset = cur.offset()?;
        cur.at_end().then_some(Zone::Fixed(offset))
    }

    /// The instant of a local date-time in this zone. In an overlap the earlier instant wins,
    /// in a gap the time moves later by the gap's length (as Java's `ZonedDateTime.of`).
    pub fn to_utc(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self {
            Zone::Fixed(offset) => offset
                .from_local_datetime(&local)
                .single()
                .map(|d| d.to_utc()),
            Zone::Named(tz) => match tz.from_local_datetime(&local) {
                LocalResult::Single(d) => Some(d.to_utc()),
                LocalResult::Ambiguous(earlier, _) => Some(earlier.to_utc()),
                LocalResult::None => {
                    let before = local.checked_sub_signed(TimeDelta::days(1))?;
                    let offset = tz.offset_from_utc_datetime(&before).fix();
                    let utc = local
                        .checked_sub_signed(TimeDelta::seconds(offset.local_minus_utc().into()))?;
                    Some(utc.and_utc())
                }
            },
        }
    }

    /// The local date-time of an instant in this zone.
    pub fn to_local(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        match self {
            Zone::Fixed(offset) => instant.with_timezone(offset).naive_local(),
            Zone::Named(tz) => instant.with_timezone(tz).naive_local(),
        }
    }
}

/// A `codec.timestamp` / `codec.date` / `codec.time` setting.
#[derive(Debug, Clone, PartialEq)]
pub enum TemporalFormat {
    /// `CQL_TIMESTAMP`, `ISO_LOCAL_DATE`, `ISO_LOCAL_TIME` and the other `ISO_*` names: one
    /// lenient parser for CQL literals and ISO-8601 (`2021-02-09`, `2021-02-09 17:33:00`,
    /// `2021-02-09T17:33:00.123Z`, `... +0100`, `...+01:00[Europe/Paris]`, `17:33:00.5`).
    Cql,
    /// `RFC_1123_DATE_TIME`: `Tue, 9 Feb 2021 17:33:00 GMT`.
    Rfc1123,
    /// A Java `DateTimeFormatter` pattern such as `yyyy-MM-dd HH:mm:ss`.
    Pattern {
        source: String,
        items: Vec<Item<'static>>,
    },
}

impl TemporalFormat {
    pub fn parse(raw: &str) -> Result<TemporalFormat, String> {
        let raw = raw.trim();
        let upper = raw.to_ascii_uppercase();
        match upper.as_str() {
            "CQL_TIMESTAMP" | "CQL_DATE" | "CQL_TIME" => return Ok(TemporalFormat::Cql),
            "RFC_1123_DATE_TIME" => return Ok(TemporalFormat::Rfc1123),
            u if u.starts_with("ISO_") => return Ok(TemporalFormat::Cql),
            _ => {}
        }
        if raw.len() > 3 && raw.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            return Err(format!("unknown format {raw:?} (use CQL_TIMESTAMP, an ISO_* name or a pattern such as yyyy-MM-dd HH:mm:ss)"));
        }
        let strftime = translate(raw)?;
        let items = StrftimeItems::new(&strftime)
            .parse_to_owned()
            .map_err(|e| format!("pattern {raw:?}: {e}"))?;
        Ok(TemporalFormat::Pattern {
            source: raw.to_string(),
            items,
        })
    }
}

/// What a text gave: any of a date, a time of day, an offset or a zone.
#[derive(Debug, Default)]
pub struct Parts {
    pub date: Option<NaiveDate>,
    pub time: Option<NaiveTime>,
    pub offset: Option<FixedOffset>,
    pub zone: Option<Zone>,
}

impl Parts {
    /// The instant these parts name: an offset wins, then a zone in the text, then `zone`.
    /// Date-only texts are midnight.
    pub fn instant(&self, zone: &Zone) -> Result<DateTime<Utc>, String> {
        let date = self.date.ok_or("it has no date")?;
        let local = date.and_time(self.time.unwrap_or_default());
        match (self.offset, self.zone.as_ref().unwrap_or(zone)) {
            (Some(offset), _) => Zone::Fixed(offset).to_utc(local),
            (None, zone) => zone.to_utc(local),
        }
        .ok_or_else(|| "it is out of range".to_string())
    }
}

/// Parses `text` with `format`.
pub fn parse(text: &str, format: &TemporalFormat) -> Result<Parts, String> {
    let text = text.trim();
    match format {
        TemporalFormat::Cql => parse_cql(text),
        TemporalFormat::Rfc1123 => {
            let dt = DateTime::parse_from_rfc2822(text).map_err(|e| e.to_string())?;
            Ok(Parts {
                date: Some(dt.date_naive()),
                time: Some(dt.time()),
                offset: Some(*dt.offset()),
                zone: None,
            })
        }
        TemporalFormat::Pattern { source, items } => {
            let mut parsed = Parsed::new();
            chrono::format::parse(&mut parsed, text, items.iter())
                .map_err(|e| format!("does not match the pattern {source:?}: {e}"))?;
            let time = match (parsed.hour_div_12(), parsed.minute()) {
                (None, _) => None,
                (Some(_), None) => {
                    let _ = parsed.set_minute(0);
                    parsed.to_naive_time().ok()
                }
                (Some(_), Some(_)) => parsed.to_naive_time().ok(),
            };
            Ok(Parts {
                date: parsed.to_naive_date().ok(),
                time,
                offset: parsed.offset().and_then(FixedOffset::east_opt),
                zone: None,
            })
        }
    }
}

fn parse_cql(text: &str) -> Result<Parts, String> {
    let mut cur = Cursor::new(text);
    let mut parts = Parts::default();
    let looks_like_time = text.as_bytes().get(1..3).is_some_and(|b| b.contains(&b':'));
    if looks_like_time {
        parts.time = Some(
            cur.time()
                .ok_or("invalid time (expected HH:mm[:ss[.fffffffff]])")?,
        );
    } else {
        parts.date = Some(cur.date().ok_or("invalid date (expected yyyy-MM-dd)")?);
        if cur.eat(b'T') || cur.eat(b't') || (cur.peek() == Some(b' ') && cur.time_follows()) {
            cur.skip_spaces();
            parts.time = Some(
                cur.time()
                    .ok_or("invalid time (expected HH:mm[:ss[.fffffffff]])")?,
            );
        }
    }
    cur.skip_spaces();
    if cur.eat(b'Z') || cur.eat(b'z') {
        parts.offset = Some(Utc.fix());
    } else if matches!(cur.peek(), Some(b'+' | b'-')) {
        parts.offset = Some(cur.offset().ok_or("invalid offset (expected +HH:mm)")?);
    }
    cur.skip_spaces();
    let rest = cur.rest().trim();
    if !rest.is_empty() {
        let id = rest
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .unwrap_or(rest);
        let zone = Zone::parse(id).ok_or_else(|| format!("unexpected text {rest:?}"))?;
        parts.zone = Some(zone);
    }
    Ok(parts)
}

/// A byte cursor over ASCII temporal text.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Self { s, pos: 0 }
    }
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }
    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.pos += 1;
        }
        hit
    }
    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }
    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }
    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }
    fn time_follows(&self) -> bool {
        let rest = self.rest().trim_start().as_bytes();
        rest.len() >= 3 && rest[0].is_ascii_digit() && rest[1..3].contains(&b':')
    }
    /// Between `min` and `max` digits.
    fn number(&mut self, min: usize, max: usize) -> Option<(i64, usize)> {
        let start = self.pos;
        let mut value: i64 = 0;
        while self.pos - start < max {
            match self.peek() {
                Some(d @ b'0'..=b'9') => {
                    value = value * 10 + i64::from(d - b'0');
                    self.pos += 1;
                }
                _ => break,
            }
        }
        let n = self.pos - start;
        (n >= min).then_some((value, n))
    }
    fn date(&mut self) -> Option<NaiveDate> {
        let negative = self.eat(b'-');
        if !negative {
            self.eat(b'+');
        }
        let (year, _) = self.number(4, 9)?;
        let year = i32::try_from(if negative { -year } else { year }).ok()?;
        if !self.eat(b'-') {
            return None;
        }
        let (month, _) = self.number(1, 2)?;
        if !self.eat(b'-') {
            return None;
        }
        let (day, _) = self.number(1, 2)?;
        NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
    }
    fn time(&mut self) -> Option<NaiveTime> {
        let (hour, _) = self.number(1, 2)?;
        if !self.eat(b':') {
            return None;
        }
        let (minute, _) = self.number(2, 2)?;
        let (mut second, mut nanos) = (0, 0);
        if self.eat(b':') {
            second = self.number(2, 2)?.0;
            if self.eat(b'.') || self.eat(b',') {
                let (frac, digits) = self.number(1, 9)?;
                nanos = frac * 10i64.pow(9 - digits as u32);
            }
        }
        let u = |v: i64| u32::try_from(v).ok();
        NaiveTime::from_hms_nano_opt(u(hour)?, u(minute)?, u(second)?, u(nanos)?)
    }
    /// `+HH`, `+HHmm`, `+HH:mm`, `+H` (and `-`).
    fn offset(&mut self) -> Option<FixedOffset> {
        let sign = if self.eat(b'+') {
            1
        } else if self.eat(b'-') {
            -1
        } else {
            return None;
        };
        let (hours, _) = self.number(1, 2)?;
        self.eat(b':');
        let minutes = self.number(2, 2).map_or(0, |(m, _)| m);
        let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
        FixedOffset::east_opt(sign * seconds)
    }
}

/// Translates a Java `DateTimeFormatter` pattern to a chrono format string.
fn translate(pattern: &str) -> Result<String, String> {
    cassink_config::java_time::to_chrono(
        pattern,
        cassink_config::java_time::Dialect::DateTimeFormatter,
    )
}
