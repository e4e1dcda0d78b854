//! `timestamp` (i64 ms since the epoch), `date` (u32 days, 2^31 = 1970-01-01) and `time`
//! (i64 ns since midnight) columns, from Connect temporals, epoch numbers in `codec.unit`
//! (fractions kept down to the unit of the column, then truncated toward the past) and text in
//! `codec.timestamp` / `codec.date` / `codec.time` (numeric text falls back to an epoch number).

use super::format::{self, TemporalFormat};
use super::number::Num;
use super::{CodecSettings, CqlType};
use cassink_record::Value;
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};

const NANOS_PER_DAY: i64 = 86_400_000_000_000;

pub fn encode(value: &Value, ty: &CqlType, settings: &CodecSettings) -> Result<Vec<u8>, String> {
    match ty {
        CqlType::Timestamp => Ok(timestamp_millis(value, settings)?.to_be_bytes().to_vec()),
        CqlType::Date => {
            let days = i64::from(date_days(value, settings)?);
            let encoded = u32::try_from(days + (1i64 << 31))
                .map_err(|_| "it is out of range for date".to_string())?;
            Ok(encoded.to_be_bytes().to_vec())
        }
        CqlType::Time => Ok(time_nanos(value, settings)?.to_be_bytes().to_vec()),
        other => Err(format!("{other} is not a temporal type")),
    }
}

fn format_name(format: &TemporalFormat, default: &str) -> String {
    match format {
        TemporalFormat::Cql => default.to_string(),
        TemporalFormat::Rfc1123 => "RFC_1123_DATE_TIME".to_string(),
        TemporalFormat::Pattern { source, .. } => format!("the pattern {source:?}"),
    }
}

/// An epoch number in `codec.unit`, in milliseconds.
fn epoch_millis(n: &Num, settings: &CodecSettings) -> Result<i64, String> {
    let millis = n.scaled_floor(settings.unit.nanos(), 1_000_000)?;
    i64::try_from(millis).map_err(|_| "it is out of range for timestamp".to_string())
}

fn number_of(value: &Value) -> Option<Num> {
    match value {
        Value::String(s) => Num::parse(s),
        other => Num::from_value(other),
    }
}

/// Reads `text` with `format`, falling back to an epoch number, and gives the parts.
fn parse_text(
    text: &str,
    format: &TemporalFormat,
    default_name: &str,
) -> Result<Result<format::Parts, Num>, String> {
    match format::parse(text, format) {
        Ok(parts) => Ok(Ok(parts)),
        Err(e) => match Num::parse(text) {
            Some(n) => Ok(Err(n)),
            None => Err(format!(
                "it does not match {}: {e}",
                format_name(format, default_name)
            )),
        },
    }
}

pub fn timestamp_millis(value: &Value, settings: &CodecSettings) -> Result<i64, String> {
    match value {
        Value::Timestamp(micros) => Ok(micros.div_euclid(1000)),
        Value::Date(days) => {
            let date = days_to_date(*days)?;
            settings
                .time_zone
                .to_utc(date.and_time(NaiveTime::MIN))
                .map(|t| t.timestamp_millis())
                .ok_or_else(|| "it is out of range".to_string())
        }
        Value::String(text) => match parse_text(text, &settings.timestamp, "CQL_TIMESTAMP")? {
            Ok(parts) => parts
                .instant(&settings.time_zone)
                .map(|t| t.timestamp_millis()),
            Err(n) => epoch_millis(&n, settings),
        },
        other => match Num::from_value(other) {
            Some(n) => epoch_millis(&n, settings),
            None => Err("only numbers, text and temporals convert to a timestamp".into()),
        },
    }
}

fn days_to_date(days: i32) -> Result<NaiveDate, String> {
    NaiveDate::from_num_days_from_ce_opt(days.saturating_add(719_163))
        .ok_or_else(|| format!("{days} days is out of range"))
}

fn instant_of_millis(ms: i64) -> Result<DateTime<Utc>, String> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| "it is out of range".to_string())
}

fn epoch_days(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - 719_163
}

pub fn date_days(value: &Value, settings: &CodecSettings) -> Result<i32, String> {
    let zone = &settings.time_zone;
    match value {
        Value::Date(days) => Ok(*days),
        Value::Timestamp(micros) => {
            let instant = instant_of_millis(micros.div_euclid(1000))?;
            Ok(epoch_days(zone.to_local(instant).date()))
        }
        Value::String(text) => match parse_text(text, &settings.date, "ISO_LOCAL_DATE")? {
            Ok(format::Parts {
                date: Some(date), ..
            }) => Ok(epoch_days(date)),
            Ok(_) => Err("it has no date".into()),
            Err(n) => {
                let instant = instant_of_millis(epoch_millis(&n, settings)?)?;
                Ok(epoch_days(zone.to_local(instant).date()))
            }
        },
        other => match number_of(other) {
            Some(n) => {
                let instant = instant_of_millis(epoch_millis(&n, settings)?)?;
                Ok(epoch_days(zone.to_local(instant).date()))
            }
            None => Err("only numbers, text and temporals convert to a date".into()),
        },
    }
}

fn nanos_of_day(time: NaiveTime) -> i64 {
    i64::from(time.num_seconds_from_midnight()) * 1_000_000_000 + i64::from(time.nanosecond())
}

fn checked_time(nanos: i128) -> Result<i64, String> {
    match i64::try_from(nanos) {
        Ok(n) if (0..NANOS_PER_DAY).contains(&n) => Ok(n),
        _ => Err("a time of day must be within 00:00 and 24:00".into()),
    }
}

pub fn time_nanos(value: &Value, settings: &CodecSettings) -> Result<i64, String> {
    match value {
        Value::Time(micros) => checked_time(i128::from(*micros) * 1000),
        Value::Timestamp(micros) => {
            let instant = instant_of_millis(micros.div_euclid(1000))?;
            let local = settings.time_zone.to_local(instant).time();
            Ok(nanos_of_day(local) / 1_000_000 * 1_000_000 + micros.rem_euclid(1000) * 1000)
        }
        Value::String(text) => match parse_text(text, &settings.time, "ISO_LOCAL_TIME")? {
            Ok(format::Parts {
                time: Some(time), ..
            }) => Ok(nanos_of_day(time)),
            Ok(_) => Err("it has no time of day".into()),
            Err(n) => checked_time(n.scaled_floor(settings.unit.nanos(), 1)?),
        },
        other => match number_of(other) {
            Some(n) => checked_time(n.scaled_floor(settings.unit.nanos(), 1)?),
            None => Err("only numbers, text and temporals convert to a time".into()),
        },
    }
}
