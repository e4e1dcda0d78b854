//! The routing transforms: `RegexRouter` (`regex` matched against the whole topic,
//! `replacement` with Java's `$1` group references), `TimestampRouter` (`topic.format`,
//! default `${topic}-${timestamp}`; `timestamp.format`, a Java `SimpleDateFormat` pattern,
//! default `yyyyMMdd`, in UTC) and `Filter` (drops every record it is applied to: use it with a
//! predicate). The topic they set is the one the connector's `topic.<topic>.…` mapping is
//! looked up by.

use super::time::JavaFormat;
use super::{Settings, Side, Transform, TransformConfigError};
use cassink_record::SinkRecord;

pub const CLASSES: &[(&str, bool)] = &[
    ("RegexRouter", false),
    ("TimestampRouter", false),
    ("Filter", false),
];

type Built = Option<Result<Box<dyn Transform>, TransformConfigError>>;

pub fn build(name: &str, side: Option<Side>, s: &Settings) -> Built {
    if side.is_some() {
        return None;
    }
    Some(match name {
        "RegexRouter" => regex_router(s),
        "TimestampRouter" => timestamp_router(s),
        "Filter" => Ok(Box::new(Filter)),
        _ => return None,
    })
}

struct Filter;
impl Transform for Filter {
    fn apply(&self, _record: SinkRecord) -> Result<Option<SinkRecord>, String> {
        Ok(None)
    }
}

struct RegexRouter {
    regex: regex::Regex,
    replacement: String,
}

/// Java's replacement syntax (`$1`, `\$`) in the regex crate's (`${1}`, `$$`).
fn java_replacement(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 4);
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => {}
            },
            '$' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    out.push_str("$$");
                } else {
                    out.push_str(&format!("${{{digits}}}"));
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn regex_router(s: &Settings) -> Result<Box<dyn Transform>, TransformConfigError> {
    let pattern = s.required("regex")?;
    let regex = regex::Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|e| s.error("regex", &format!("invalid regex: {e}")))?;
    let replacement = s
        .config
        .get(&s.key("replacement"))
        .ok_or_else(|| s.error("replacement", "is required"))?;
    Ok(Box::new(RegexRouter {
        regex,
        replacement: java_replacement(replacement),
    }))
}

impl Transform for RegexRouter {
    fn apply(&self, mut record: SinkRecord) -> Result<Option<SinkRecord>, String> {
        if self.regex.is_match(&record.topic) {
            record.topic = self
                .regex
                .replace(&record.topic, self.replacement.as_str())
                .into();
        }
        Ok(Some(record))
    }
}

struct TimestampRouter {
    topic_format: String,
    timestamp_format: JavaFormat,
}

fn timestamp_router(s: &Settings) -> Result<Box<dyn Transform>, TransformConfigError> {
    let topic_format = s
        .get("topic.format")
        .unwrap_or("${topic}-${timestamp}")
        .to_string();
    let pattern = s.get("timestamp.format").unwrap_or("yyyyMMdd");
    let timestamp_format =
        JavaFormat::parse(pattern).map_err(|e| s.error("timestamp.format", &e))?;
    Ok(Box::new(TimestampRouter {
        topic_format,
        timestamp_format,
    }))
}

impl Transform for TimestampRouter {
    fn apply(&self, mut record: SinkRecord) -> Result<Option<SinkRecord>, String> {
        let ms = record
            .timestamp_ms
            .ok_or_else(|| format!("Timestamp missing on record: {}", record.position))?;
        let stamp = self.timestamp_format.format_millis(ms)?;
        record.topic = self
            .topic_format
            .replace("${topic}", &record.topic)
            .replace("${timestamp}", &stamp)
            .into();
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::java_replacement;

    #[test]
    fn java_group_references_become_regex_crate_ones() {
        assert_eq!(java_replacement("$1-x"), "${1}-x");
        assert_eq!(java_replacement("$12a"), "${12}a");
        assert_eq!(java_replacement(r"cost\$1"), "cost$$1");
        assert_eq!(java_replacement("plain"), "plain");
    }
}
