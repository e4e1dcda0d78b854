//! `TimestampConverter$Key`/`$Value` (`field`, empty for the whole key/value; `target.type`
//! string|unix|Date|Time|Timestamp; `format`, a Java `SimpleDateFormat` pattern, for strings;
//! `unix.precision` milliseconds|seconds|microseconds|nanoseconds), and the subset of
//! `SimpleDateFormat` patterns cassink reads and writes (in UTC, as Connect does).

use super::fields::{on, Object};
use super::{Settings, Side, Transform, TransformConfigError};
use cassink_record::Value;

pub const CLASSES: &[(&str, bool)] = &[("TimestampConverter", true)];

const DAY_US: i64 = 86_400_000_000;

type Built = Option<Result<Box<dyn Transform>, TransformConfigError>>;

pub fn build(name: &str, side: Option<Side>, s: &Settings) -> Built {
    match (name, side) {
        ("TimestampConverter", Some(side)) => Some(timestamp_converter(side, s)),
        _ => None,
    }
}

/// A Java `SimpleDateFormat` pattern as a chrono format string.
#[derive(Debug, Clone)]
pub struct JavaFormat {
    chrono: String,
    has_time: bool,
    has_zone: bool,
}

impl JavaFormat {
    pub fn parse(pattern: &str) -> Result<JavaFormat, String> {
        let chrono = cassink_config::java_time::to_chrono(
            pattern,
            cassink_config::java_time::Dialect::SimpleDateFormat,
        )?;
        let has = |specs: &[&str]| specs.iter().any(|s| chrono.contains(s));
        Ok(JavaFormat {
            has_time: has(&[
                "%H", "%-H", "%I", "%-I", "%M", "%-M", "%S", "%-S", "%3f", "%6f", "%9f", "%p",
            ]),
            has_zone: has(&["%z", "%:z", "%Z"]),
            chrono,
        })
    }

    pub fn format_micros(&self, us: i64) -> Result<String, String> {
        let t = chrono::DateTime::from_timestamp_micros(us)
            .ok_or_else(|| format!("timestamp {us} µs is out of range"))?;
        Ok(t.format(&self.chrono).to_string())
    }

    pub fn format_millis(&self, ms: i64) -> Result<String, String> {
        self.format_micros(ms.saturating_mul(1000))
    }

    /// Parses `text` (UTC unless the pattern has a zone) into epoch microseconds.
    pub fn parse_micros(&self, text: &str) -> Result<i64, String> {
        let bad = |e: chrono::ParseError| format!("{text:?} does not match the format: {e}");
        if self.has_zone {
            let t = chrono::DateTime::parse_from_str(text, &self.chrono).map_err(bad)?;
            return Ok(t.timestamp_micros());
        }
        if self.has_time {
            let t = chrono::NaiveDateTime::parse_from_str(text, &self.chrono).map_err(bad)?;
            return Ok(t.and_utc().timestamp_micros());
        }
        let d = chrono::NaiveDate::parse_from_str(text, &self.chrono).map_err(bad)?;
        Ok(d.and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_micros())
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    String,
    Unix,
    Date,
    Time,
    Timestamp,
}

struct TimestampConverter {
    field: Option<String>,
    target: Target,
    format: Option<JavaFormat>,
    /// Microseconds per unix unit.
    unit_us: f64,
}

fn timestamp_converter(
    side: Side,
    s: &Settings,
) -> Result<Box<dyn Transform>, TransformConfigError> {
    let target = match s.required("target.type")? {
        "string" => Target::String,
        "unix" => Target::Unix,
        "Date" => Target::Date,
        "Time" => Target::Time,
        "Timestamp" => Target::Timestamp,
        other => {
            return Err(s.error(
                "target.type",
                &format!("invalid value {other:?}: expected string, unix, Date, Time or Timestamp"),
            ))
        }
    };
    let format = match s.get("format") {
        Some(p) => Some(JavaFormat::parse(p).map_err(|e| s.error("format", &e))?),
        None if target == Target::String => {
            return Err(s.error(
                "format",
                "TimestampConverter requires format option to be specified when using string timestamps",
            ))
        }
        None => None,
    };
    let unit_us = match s.get("unix.precision").unwrap_or("milliseconds") {
        "seconds" => 1e6,
        "milliseconds" => 1e3,
        "microseconds" => 1.0,
        "nanoseconds" => 1e-3,
        other => {
            return Err(s.error(
                "unix.precision",
                &format!("invalid value {other:?}: expected seconds, milliseconds, microseconds or nanoseconds"),
            ))
        }
    };
    let converter = TimestampConverter {
        field: s.get("field").map(String::from),
        target,
        format,
        unit_us,
    };
    on(side, move |value, _| converter.convert_part(value))
}

impl TimestampConverter {
    /// The key or value (not null) with its timestamp (the whole of it, or `field`) converted.
    fn convert_part(&self, value: Value) -> Result<Value, String> {
        let Some(field) = &self.field else {
            return self.convert(value);
        };
        let mut object = Object::open(value, "converting timestamp types")?;
        let is_map = object.is_map();
        match object.fields.iter_mut().find(|(k, _)| k == field) {
            Some((_, v)) if !v.is_null() => {
                let taken = std::mem::replace(v, Value::Null);
                *v = self.convert(taken)?;
            }
            Some(_) => {}
            // Schemaless, Connect puts the missing field in as null.
            None if is_map => object.put(field.clone(), Value::Null),
            None => return Err(format!("Unknown field: {field}")),
        }
        Ok(object.close())
    }

    fn convert(&self, value: Value) -> Result<Value, String> {
        let us = match &value {
            Value::Timestamp(us) | Value::Time(us) => *us,
            Value::Date(days) => i64::from(*days) * DAY_US,
            Value::Int64(n) => (*n as f64 * self.unit_us) as i64,
            Value::Int32(n) => (f64::from(*n) * self.unit_us) as i64,
            Value::String(text) => match &self.format {
                Some(f) => f.parse_micros(text)?,
                None => {
                    return Err("TimestampConverter requires format option to be specified \
                                when using string timestamps"
                        .into())
                }
            },
            other => {
                return Err(format!(
                    "cannot convert a {} to a timestamp",
                    other.type_name()
                ))
            }
        };
        Ok(match self.target {
            Target::Timestamp => Value::Timestamp(us),
            Target::Date => {
                Value::Date(i32::try_from(us.div_euclid(DAY_US)).map_err(|_| "date out of range")?)
            }
            Target::Time => Value::Time(us.rem_euclid(DAY_US)),
            Target::Unix => Value::Int64((us as f64 / self.unit_us).floor() as i64),
            Target::String => match &self.format {
                Some(f) => Value::String(f.format_micros(us)?),
                None => return Err("no format for the string target".into()),
            },
        })
    }
}
