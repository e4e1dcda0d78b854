//! Connect's error-handling keys (`errors.*`, and DataStax `ignoreErrors` mapped onto them)
//! and the failed-record value the runtime routes: fail the task, log, or dead-letter it.

use bytes::Bytes;
use cassink_config::{parse_bool, ConfigMap};
use cassink_connector::Stage;
use cassink_record::Position;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Tolerance {
    /// Records failing in conversion are skipped (`errors.tolerance=all`, `ignoreErrors=All`).
    pub conversion: bool,
    /// Records the sink rejects are skipped (`errors.tolerance=all`, `ignoreErrors=Driver|All`).
    pub write: bool,
    /// `errors.retry.timeout`: how long transient failures are retried; `None` = until they end.
    pub retry_timeout: Option<Duration>,
    /// `errors.retry.delay.max.ms`.
    pub max_delay: Duration,
    pub log_enabled: bool,
    pub log_messages: bool,
    /// `errors.deadletterqueue.topic.name`.
    pub dlq_topic: Option<String>,
    pub dlq_replication: i32,
    pub dlq_context_headers: bool,
}

impl Tolerance {
    pub fn from_config(config: &ConfigMap) -> Tolerance {
        let get = |k: &str| {
            config
                .get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let all = get("errors.tolerance").is_some_and(|v| v.eq_ignore_ascii_case("all"));
        let ignore = get("ignoreErrors").unwrap_or_default().to_ascii_lowercase();
        let ignore_all = ignore == "all" || ignore == "true";
        // Unset or -1: retry outages until they end (a Cassandra restart must not kill tasks);
        // a value >= 0 bounds them, after which the task fails (never skips).
        let retry_timeout = match get("errors.retry.timeout").and_then(|v| v.parse::<i64>().ok()) {
            Some(ms) if ms >= 0 => Some(Duration::from_millis(ms as u64)),
            _ => None,
        };
        Tolerance {
            conversion: all || ignore_all,
            write: all || ignore_all || ignore == "driver",
            retry_timeout,
            max_delay: get("errors.retry.delay.max.ms")
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_millis)
                .unwrap_or(Duration::from_secs(10)),
            log_enabled: get("errors.log.enable")
                .and_then(|v| parse_bool(&v))
                .unwrap_or(false),
            log_messages: get("errors.log.include.messages")
                .and_then(|v| parse_bool(&v))
                .unwrap_or(false),
            dlq_topic: get("errors.deadletterqueue.topic.name"),
            dlq_replication: get("errors.deadletterqueue.topic.replication.factor")
                .and_then(|v| v.parse().ok())
                .unwrap_or(3),
            dlq_context_headers: get("errors.deadletterqueue.context.headers.enable")
                .and_then(|v| parse_bool(&v))
                .unwrap_or(false),
        }
    }

    /// Whether a failed record's original key and value bytes are ever used: dead-lettered, or
    /// logged (`errors.log.include.messages`). Otherwise the task does not keep a copy.
    pub fn keeps_raw_records(&self) -> bool {
        self.dlq_topic.is_some() || (self.log_enabled && self.log_messages)
    }

    /// Whether a failure at `stage` is skipped rather than failing the task.
    pub fn tolerates(&self, stage: Stage) -> bool {
        match stage {
            Stage::Task => self.write,
            _ => self.conversion,
        }
    }
}

/// The record exactly as it came from Kafka, for the dead-letter queue.
#[derive(Debug, Clone, Default)]
pub struct RawRecord {
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<(String, Option<Bytes>)>,
    pub timestamp_ms: Option<i64>,
}

/// A record that failed for good, with everything a trace or a DLQ header needs.
#[derive(Debug, Clone)]
pub struct Failure {
    pub position: Position,
    pub stage: Stage,
    /// A Java-like exception class for `__connect.errors.exception.class.name`.
    pub kind: String,
    pub message: String,
    pub raw: RawRecord,
}

impl Failure {
    /// The class that failed, as Connect names it in `__connect.errors.class.name`.
    pub fn class_name(&self) -> &'static str {
        match self.stage {
            Stage::KeyConverter | Stage::ValueConverter | Stage::HeaderConverter => {
                "cassink.convert.Converter"
            }
            Stage::Transformation => "cassink.transform.Transformation",
            Stage::Task => "com.datastax.oss.kafka.sink.CassandraSinkTask",
        }
    }

    /// The readable trace of a task that fails on this record.
    pub fn trace(&self, connector: &str, task: u32) -> String {
        format!(
            "org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler\n\
             \tconnector={connector} task={task} stage={} topic={} partition={} offset={}\n\
             Caused by: {}: {}",
            self.stage.as_connect_str(),
            self.position.topic,
            self.position.partition,
            self.position.offset,
            self.kind,
            self.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use cassink_config::config_of as config;

    #[test]
    fn record_bytes_are_kept_only_for_a_dead_letter_queue_or_message_logs() {
        let keeps =
            |pairs: &[(&str, &str)]| Tolerance::from_config(&config(pairs)).keeps_raw_records();
        assert!(!keeps(&[("errors.tolerance", "all")]));
        assert!(!keeps(&[("errors.log.include.messages", "true")]));
        assert!(keeps(&[("errors.deadletterqueue.topic.name", "dlq")]));
        assert!(keeps(&[
            ("errors.log.enable", "true"),
            ("errors.log.include.messages", "true")
        ]));
    }

    #[test]
    fn datastax_ignore_errors_maps_onto_connect_tolerance() {
        let none = Tolerance::from_config(&config(&[]));
        assert!(!none.tolerates(Stage::Task) && !none.tolerates(Stage::ValueConverter));
        assert_eq!(none.retry_timeout, None);
        let driver = Tolerance::from_config(&config(&[("ignoreErrors", "Driver")]));
        assert!(driver.tolerates(Stage::Task) && !driver.tolerates(Stage::ValueConverter));
        let all = Tolerance::from_config(&config(&[
            ("errors.tolerance", " all "),
            ("errors.retry.timeout", "5000"),
        ]));
        assert!(all.tolerates(Stage::Task) && all.tolerates(Stage::KeyConverter));
        assert_eq!(all.retry_timeout, Some(Duration::from_secs(5)));
    }
}
