//! The predicates: `TopicNameMatches` (`pattern`, a Java regex matched against the whole
//! topic), `HasHeaderKey` (`name`), `RecordIsTombstone`.

use super::{Predicate, Settings, TransformConfigError};
use cassink_record::SinkRecord;
use std::sync::Arc;

pub const CLASSES: &[&str] = &["TopicNameMatches", "HasHeaderKey", "RecordIsTombstone"];

pub fn build(class: &str, s: &Settings) -> Result<Arc<dyn Predicate>, TransformConfigError> {
    let short = class
        .strip_prefix("org.apache.kafka.connect.transforms.predicates.")
        .unwrap_or(class);
    match short {
        "TopicNameMatches" => {
            let pattern = s.required("pattern")?;
            let regex = regex::Regex::new(&format!("^(?:{pattern})$"))
                .map_err(|e| s.error("pattern", &format!("invalid regex: {e}")))?;
            Ok(Arc::new(TopicNameMatches(regex)))
        }
        "HasHeaderKey" => Ok(Arc::new(HasHeaderKey(s.required("name")?.to_string()))),
        "RecordIsTombstone" => Ok(Arc::new(RecordIsTombstone)),
        _ => Err(s.error(
            "type",
            &format!(
                "unknown predicate class {class:?}; known: {}",
                CLASSES
                    .iter()
                    .map(|c| format!("org.apache.kafka.connect.transforms.predicates.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

struct TopicNameMatches(regex::Regex);
impl Predicate for TopicNameMatches {
    fn test(&self, record: &SinkRecord) -> bool {
        self.0.is_match(&record.topic)
    }
}

struct HasHeaderKey(String);
impl Predicate for HasHeaderKey {
    fn test(&self, record: &SinkRecord) -> bool {
        record.headers.iter().any(|h| h.key == self.0)
    }
}

struct RecordIsTombstone;
impl Predicate for RecordIsTombstone {
    fn test(&self, record: &SinkRecord) -> bool {
        record.value.as_ref().is_none_or(|v| v.is_null())
    }
}
