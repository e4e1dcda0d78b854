//! The DataStax per-topic codec settings, `topic.<topic>.codec.{locale, timeZone, timestamp,
//! date, time, unit}`.

use super::format::{TemporalFormat, Zone};
use crate::units::TimeUnit;
use cassink_config::ConfigMap;

/// How one topic's values are read into temporal columns.
#[derive(Debug, Clone, PartialEq)]
pub struct CodecSettings {
    /// `codec.locale` (en_US). Month and day names are parsed in English whatever it says.
    pub locale: String,
    /// `codec.timeZone` (UTC): the zone of date-times without an offset.
    pub time_zone: Zone,
    /// `codec.timestamp` (CQL_TIMESTAMP).
    pub timestamp: TemporalFormat,
    /// `codec.date` (ISO_LOCAL_DATE).
    pub date: TemporalFormat,
    /// `codec.time` (ISO_LOCAL_TIME).
    pub time: TemporalFormat,
    /// `codec.unit` (MILLISECONDS): the unit of numeric timestamps and times.
    pub unit: TimeUnit,
}

impl Default for CodecSettings {
    fn default() -> Self {
        Self {
            locale: "en_US".into(),
            time_zone: Zone::utc(),
            timestamp: TemporalFormat::Cql,
            date: TemporalFormat::Cql,
            time: TemporalFormat::Cql,
            unit: TimeUnit::Milliseconds,
        }
    }
}

impl CodecSettings {
    /// Reads `topic.<topic>.codec.*` from a connector config; absent keys keep their defaults.
    /// The error names the key and the bad value.
    pub fn from_topic_config(topic: &str, config: &ConfigMap) -> Result<CodecSettings, String> {
        let mut settings = CodecSettings::default();
        let get = |name: &str| {
            let key = format!("topic.{topic}.codec.{name}");
            config.get(&key).map(|v| (key, v.trim().to_string()))
        };
        if let Some((_, locale)) = get("locale") {
            settings.locale = locale;
        }
        if let Some((key, raw)) = get("timeZone") {
            settings.time_zone = Zone::parse(&raw).ok_or_else(|| {
                format!("{key}: unknown time zone {raw:?} (use an IANA name such as Europe/Paris, UTC or an offset such as +01:00)")
            })?;
        }
        for (name, slot) in [
            ("timestamp", &mut settings.timestamp),
            ("date", &mut settings.date),
            ("time", &mut settings.time),
        ] {
            if let Some((key, raw)) = get(name) {
                *slot = TemporalFormat::parse(&raw).map_err(|e| format!("{key}: {e}"))?;
            }
        }
        if let Some((key, raw)) = get("unit") {
            settings.unit = TimeUnit::parse(&raw).ok_or_else(|| {
                format!(
                    "{key}: unknown unit {raw:?} (use {})",
                    TimeUnit::NAMES.join(", ")
                )
            })?;
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_topic_keys_and_reports_bad_ones() {
        let mut config = ConfigMap::new();
        config.insert("topic.w.codec.timeZone".into(), " Europe/Paris ".into());
        config.insert(
            "topic.w.codec.timestamp".into(),
            "yyyy-MM-dd HH:mm:ss".into(),
        );
        config.insert("topic.w.codec.unit".into(), "seconds".into());
        config.insert("topic.other.codec.unit".into(), "bogus".into());
        let s = CodecSettings::from_topic_config("w", &config).unwrap();
        assert_eq!(s.unit, TimeUnit::Seconds);
        assert_eq!(s.time_zone, Zone::parse("Europe/Paris").unwrap());
        assert!(matches!(s.timestamp, TemporalFormat::Pattern { .. }));
        assert_eq!(s.date, TemporalFormat::Cql);
        let e = CodecSettings::from_topic_config("other", &config).unwrap_err();
        assert!(
            e.starts_with("topic.other.codec.unit: unknown unit \"bogus\""),
            "{e}"
        );
        config.insert("topic.x.codec.timeZone".into(), "Mars/Olympus".into());
        let e = CodecSettings::from_topic_config("x", &config).unwrap_err();
        assert!(e.contains("Mars/Olympus"), "{e}");
        config.insert("topic.y.codec.date".into(), "yyyy-MM-dd G".into());
        let e = CodecSettings::from_topic_config("y", &config).unwrap_err();
        assert!(e.starts_with("topic.y.codec.date:"), "{e}");
    }
}
