//! The registry converters' sub-keys (Avro, Protobuf, JSON Schema), as Confluent's
//! `AbstractKafkaSchemaSerDeConfig` names them (each under `key.converter.` / `value.converter.`):
//!
//! * `schema.registry.url` (required): comma-separated URLs, tried in order on each lookup
//!   (the next one when one is unreachable).
//! * `basic.auth.credentials.source`: `URL` (default: `user:password@` in the URLs),
//!   `USER_INFO` (`basic.auth.user.info` = `user:password`, also read as
//!   `schema.registry.basic.auth.user.info`). A `basic.auth.user.info` without a source is used
//!   too. `SASL_INHERIT` is not supported.
//! * `key.subject.name.strategy` / `value.subject.name.strategy`: `TopicNameStrategy`
//!   (default), `RecordNameStrategy`, `TopicRecordNameStrategy`, short or fully qualified
//!   (`io.confluent.kafka.serializers.subject.…`). Decoding reads the schema id of each record,
//!   so the strategy is validated but does not change what is read.
//! * `http.read.timeout.ms` / `http.connect.timeout.ms`: the registry request timeout (the
//!   larger of the two; default 30000).
//! * `proxy.host` / `proxy.port`: an HTTP proxy for registry calls (none by default; proxy
//!   environment variables are not used, as with the Java client).
//!
//! Other Confluent keys (`auto.register.schemas`, `use.latest.version`, …) concern serializers
//! and are ignored.

use super::super::{ConverterConfigError, Part};
use cassink_config::ConfigMap;
use std::time::Duration;

const STRATEGY_PACKAGE: &str = "io.confluent.kafka.serializers.subject.";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How subjects are named (validated for compatibility with Connect configs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectStrategy {
    TopicName,
    RecordName,
    TopicRecordName,
}

impl SubjectStrategy {
    pub fn parse(raw: &str) -> Option<Self> {
        let short = raw.trim();
        let short = short.strip_prefix(STRATEGY_PACKAGE).unwrap_or(short);
        match short {
            "TopicNameStrategy" => Some(SubjectStrategy::TopicName),
            "RecordNameStrategy" => Some(SubjectStrategy::RecordName),
            "TopicRecordNameStrategy" => Some(SubjectStrategy::TopicRecordName),
            _ => None,
        }
    }
}

/// Registry credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}:***)", self.user)
    }
}

/// Everything the converter needs from its config.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistrySettings {
    /// Registry base URLs without credentials or trailing slash.
    pub urls: Vec<String>,
    pub credentials: Option<Credentials>,
    pub key_strategy: SubjectStrategy,
    pub value_strategy: SubjectStrategy,
    pub timeout: Duration,
    /// `http://proxy.host:proxy.port`.
    pub proxy: Option<String>,
}

impl RegistrySettings {
    /// `converter` (e.g. `AvroConverter`) names the converter in messages.
    pub fn parse(
        part: Part,
        converter: &str,
        config: &ConfigMap,
    ) -> Result<Self, ConverterConfigError> {
        let prefix = part.prefix();
        let key = |name: &str| format!("{prefix}.{name}");
        let get = |name: &str| {
            config
                .get(&key(name))
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        let error = |name: &str, message: String| ConverterConfigError {
            key: key(name),
            message,
        };

        let raw_urls = get("schema.registry.url").ok_or_else(|| {
            error(
                "schema.registry.url",
                format!(
                    "the {converter} needs the schema registry URL(s), e.g. http://127.0.0.1:8081"
                ),
            )
        })?;
        let mut urls = Vec::new();
        let mut url_credentials = None;
        for raw in raw_urls.split(',').map(str::trim).filter(|u| !u.is_empty()) {
            let (url, creds) =
                split_user_info(raw).map_err(|message| error("schema.registry.url", message))?;
            urls.push(url);
            url_credentials = url_credentials.or(creds);
        }
        if urls.is_empty() {
            return Err(error("schema.registry.url", "no URL is given".into()));
        }

        let user_info =
            get("basic.auth.user.info").or_else(|| get("schema.registry.basic.auth.user.info"));
        let credentials = match get("basic.auth.credentials.source")
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            None | Some("URL") => url_credentials.or(user_info.map(parse_user_info)),
            Some("USER_INFO") => Some(parse_user_info(user_info.ok_or_else(|| {
                error(
                    "basic.auth.user.info",
                    "basic.auth.credentials.source=USER_INFO needs basic.auth.user.info=user:password"
                        .into(),
                )
            })?)),
            Some(other) => {
                return Err(error(
                    "basic.auth.credentials.source",
                    format!("unsupported value {other:?}: expected URL or USER_INFO"),
                ))
            }
        };

        let strategy = |name: &str| -> Result<SubjectStrategy, ConverterConfigError> {
            match get(name) {
                None => Ok(SubjectStrategy::TopicName),
                Some(raw) => SubjectStrategy::parse(raw).ok_or_else(|| {
                    error(
                        name,
                        format!(
                            "unknown subject name strategy {raw:?}; expected TopicNameStrategy, \
                             RecordNameStrategy or TopicRecordNameStrategy"
                        ),
                    )
                }),
            }
        };
        let mut timeout = None;
        for name in ["http.read.timeout.ms", "http.connect.timeout.ms"] {
            if let Some(raw) = get(name) {
                let ms: u64 = raw.parse().map_err(|_| {
                    error(
                        name,
                        format!("invalid value {raw:?}: expected milliseconds"),
                    )
                })?;
                timeout = Some(
                    timeout
                        .unwrap_or(Duration::ZERO)
                        .max(Duration::from_millis(ms)),
                );
            }
        }
        let proxy = match (get("proxy.host"), get("proxy.port")) {
            (None, _) => None,
            (Some(host), port) => {
                let port: u16 = port.unwrap_or("80").parse().map_err(|_| {
                    error(
                        "proxy.port",
                        format!("invalid port {:?}", port.unwrap_or_default()),
                    )
                })?;
                let host = host.split_once("://").map_or(host, |(_, h)| h);
                Some(format!("http://{host}:{port}"))
            }
        };
        Ok(RegistrySettings {
            urls,
            proxy,
            credentials,
            key_strategy: strategy("key.subject.name.strategy")?,
            value_strategy: strategy("value.subject.name.strategy")?,
            timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
        })
    }
}

fn parse_user_info(raw: &str) -> Credentials {
    match raw.split_once(':') {
        Some((user, password)) => Credentials {
            user: user.to_string(),
            password: Some(password.to_string()),
        },
        None => Credentials {
            user: raw.to_string(),
            password: None,
        },
    }
}

/// `http://user:pw@host:8081/` -> (`http://host:8081`, credentials).
fn split_user_info(raw: &str) -> Result<(String, Option<Credentials>), String> {
    let (scheme, rest) = raw
        .split_once("://")
        .ok_or_else(|| format!("{raw:?} is not a URL (expected e.g. http://host:8081)"))?;
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        return Err(format!(
            "{raw:?}: only http and https registries are supported"
        ));
    }
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let (creds, host) = match authority.rsplit_once('@') {
        Some((info, host)) => (Some(parse_user_info(info)), host),
        None => (None, authority),
    };
    if host.is_empty() {
        return Err(format!("{raw:?} has no host"));
    }
    let url = format!("{scheme}://{host}{}", path.trim_end_matches('/'));
    Ok((url, creds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<RegistrySettings, ConverterConfigError> {
        let config: ConfigMap = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        RegistrySettings::parse(Part::Value, "AvroConverter", &config)
    }

    #[test]
    fn reads_urls_credentials_and_strategies() {
        let s = parse(&[
            (
                "value.converter.schema.registry.url",
                " http://a:1/ , https://bob:pw@b:2",
            ),
            (
                "value.converter.value.subject.name.strategy",
                "io.confluent.kafka.serializers.subject.RecordNameStrategy",
            ),
            ("value.converter.http.read.timeout.ms", "1500"),
        ])
        .unwrap();
        assert_eq!(s.urls, ["http://a:1", "https://b:2"]);
        assert_eq!(
            s.credentials,
            Some(Credentials {
                user: "bob".into(),
                password: Some("pw".into())
            })
        );
        assert_eq!(s.value_strategy, SubjectStrategy::RecordName);
        assert_eq!(s.key_strategy, SubjectStrategy::TopicName);
        assert_eq!(s.timeout, Duration::from_millis(1500));

        let s = parse(&[
            ("value.converter.schema.registry.url", "http://a:1"),
            ("value.converter.basic.auth.credentials.source", "USER_INFO"),
            (
                "value.converter.basic.auth.user.info",
                "key:secret:with:colons",
            ),
        ])
        .unwrap();
        assert_eq!(
            s.credentials,
            Some(Credentials {
                user: "key".into(),
                password: Some("secret:with:colons".into())
            })
        );
    }

    #[test]
    fn errors_name_the_key() {
        let e = parse(&[]).unwrap_err();
        assert_eq!(e.key, "value.converter.schema.registry.url");
        let e = parse(&[("value.converter.schema.registry.url", "ftp://x")]).unwrap_err();
        assert_eq!(e.key, "value.converter.schema.registry.url");
        let e = parse(&[
            ("value.converter.schema.registry.url", "http://a:1"),
            ("value.converter.key.subject.name.strategy", "ByMood"),
        ])
        .unwrap_err();
        assert_eq!(e.key, "value.converter.key.subject.name.strategy");
        assert!(e.message.contains("ByMood"), "{e}");
        let e = parse(&[
            ("value.converter.schema.registry.url", "http://a:1"),
            ("value.converter.basic.auth.credentials.source", "USER_INFO"),
        ])
        .unwrap_err();
        assert_eq!(e.key, "value.converter.basic.auth.user.info");
        let e = parse(&[
            ("value.converter.schema.registry.url", "http://a:1"),
            (
                "value.converter.basic.auth.credentials.source",
                "SASL_INHERIT",
            ),
        ])
        .unwrap_err();
        assert_eq!(e.key, "value.converter.basic.auth.credentials.source");
    }
}
