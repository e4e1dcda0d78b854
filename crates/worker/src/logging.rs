//! Logging setup (tracing, text or JSON) and the live log levels behind `/admin/loggers`.
//!
//! The filter starts from `RUST_LOG` (default `info`). `PUT /admin/loggers/{name}` sets a
//! per-target level (`root` is the default level) and the filter is rebuilt through a
//! reload handle, so levels change without a restart.

use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, reload, EnvFilter, Registry};

/// Connect's level names (log4j), mapped to tracing levels.
const LEVELS: &[&str] = &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("Invalid log level '{0}'. Use one of {levels}", levels = LEVELS.join(", "))]
    InvalidLevel(String),
    #[error("Invalid logger name '{0}'")]
    InvalidName(String),
    #[error("cannot apply log filter: {0}")]
    Apply(String),
}

/// One logger as `/admin/loggers` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggerLevel {
    pub level: String,
    /// When the level was last set through the API (ms since the epoch); null until then.
    pub last_modified: Option<i64>,
}

type Apply = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// The current levels and how to apply them. Built by [`init`] for the process, or by
/// [`LogControl::detached`] in tests (levels are tracked but no subscriber changes).
pub struct LogControl {
    levels: Mutex<Levels>,
    apply: Apply,
}

struct Levels {
    root: String,
    /// Directives from `RUST_LOG` other than the default level, kept as given.
    base: Vec<String>,
    loggers: BTreeMap<String, LoggerLevel>,
}

impl LogControl {
    fn new(spec: &str, apply: Apply) -> Self {
        let mut root = "INFO".to_string();
        let mut base = Vec::new();
        for directive in spec.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            if !directive.contains('=') && LEVELS.contains(&directive.to_ascii_uppercase().as_str())
            {
                root = directive.to_ascii_uppercase();
            } else {
                base.push(directive.to_string());
            }
        }
        Self {
            levels: Mutex::new(Levels {
                root,
                base,
                loggers: BTreeMap::new(),
            }),
            apply,
        }
    }

    /// A control that tracks levels without touching any subscriber.
    pub fn detached() -> Self {
        Self::new("info", Box::new(|_| Ok(())))
    }

    /// Every logger with an explicit level, plus `root`.
    pub fn loggers(&self) -> BTreeMap<String, LoggerLevel> {
        let levels = self.lock();
        let mut all = levels.loggers.clone();
        all.insert(
            "root".into(),
            LoggerLevel {
                level: levels.root.clone(),
                last_modified: None,
            },
        );
        all
    }

    /// The level of `name`: its own, or the root level it inherits.
    pub fn logger(&self, name: &str) -> LoggerLevel {
        let levels = self.lock();
        if name == "root" {
            return LoggerLevel {
                level: levels.root.clone(),
                last_modified: None,
            };
        }
        levels.loggers.get(name).cloned().unwrap_or(LoggerLevel {
            level: levels.root.clone(),
            last_modified: None,
        })
    }

    /// Sets `name` (a Rust target such as `cassink::sink`, or `root`) to `level` and
    /// applies it. Returns the affected logger names.
    pub fn set_level(&self, name: &str, level: &str) -> Result<Vec<String>, LoggingError> {
        let level = level.trim().to_ascii_uppercase();
        if !LEVELS.contains(&level.as_str()) {
            return Err(LoggingError::InvalidLevel(level));
        }
        let name = name.trim();
        if name.is_empty() || name.contains([',', '=', '[', ']', '{', '}', ' ']) {
            return Err(LoggingError::InvalidName(name.to_string()));
        }
        let mut levels = self.lock();
        let previous_root = levels.root.clone();
        let previous = levels.loggers.clone();
        if name == "root" {
            levels.root = level;
        } else {
            levels.loggers.insert(
                name.to_string(),
                LoggerLevel {
                    level,
                    last_modified: Some(chrono::Utc::now().timestamp_millis()),
                },
            );
        }
        let spec = levels.spec();
        if let Err(e) = (self.apply)(&spec) {
            levels.root = previous_root;
            levels.loggers = previous;
            return Err(LoggingError::Apply(e));
        }
        let mut affected: Vec<String> = vec![name.to_string()];
        if name != "root" {
            affected.extend(
                levels
                    .loggers
                    .keys()
                    .filter(|k| k.starts_with(&format!("{name}::")))
                    .cloned(),
            );
        }
        Ok(affected)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Levels> {
        self.levels.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Levels {
    fn spec(&self) -> String {
        let mut parts = vec![tracing_level(&self.root).to_string()];
        parts.extend(self.base.iter().cloned());
        for (name, l) in &self.loggers {
            parts.push(format!("{name}={}", tracing_level(&l.level)));
        }
        parts.join(",")
    }
}

fn tracing_level(level: &str) -> &'static str {
    match level {
        "TRACE" => "trace",
        "DEBUG" => "debug",
        "INFO" => "info",
        "WARN" => "warn",
        "ERROR" | "FATAL" => "error",
        _ => "off",
    }
}

/// Installs the global subscriber (text or JSON to stderr, filter from `RUST_LOG`, default
/// `info`) and returns the control for the loggers API.
pub fn init(format: LogFormat) -> LogControl {
    let spec = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let filter = EnvFilter::try_new(&spec).unwrap_or_else(|_| EnvFilter::new("info"));
    let (filter, handle) = reload::Layer::<EnvFilter, Registry>::new(filter);
    let text = (format == LogFormat::Text).then(|| fmt::layer().with_writer(std::io::stderr));
    let json = (format == LogFormat::Json).then(|| {
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(std::io::stderr)
    });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(text)
        .with(json)
        .try_init();
    LogControl::new(
        &spec,
        Box::new(move |spec| {
            let filter = EnvFilter::try_new(spec).map_err(|e| e.to_string())?;
            handle.reload(filter).map_err(|e| e.to_string())
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn set_level_rebuilds_the_filter_spec() {
        let applied = Arc::new(Mutex::new(String::new()));
        let sink = applied.clone();
        let control = LogControl::new(
            "warn,hyper=off",
            Box::new(move |s| {
                *sink.lock().unwrap() = s.to_string();
                Ok(())
            }),
        );
        assert_eq!(control.logger("root").level, "WARN");
        control.set_level("cassink::sink", "debug").unwrap();
        assert_eq!(
            *applied.lock().unwrap(),
            "warn,hyper=off,cassink::sink=debug"
        );
        assert_eq!(control.logger("cassink::sink").level, "DEBUG");
        assert_eq!(control.logger("other").level, "WARN");
        assert!(control.loggers().contains_key("root"));
        assert!(matches!(
            control.set_level("x", "LOUD"),
            Err(LoggingError::InvalidLevel(_))
        ));
    }
}
