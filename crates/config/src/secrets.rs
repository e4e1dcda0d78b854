//! Secrets never leave the worker: values of password-like keys are shown as
//! [`HIDDEN`] in validate echoes, error messages, status traces and logs.

use super::jaas;
use crate::{ConfigMap, ConfigType};

/// What a masked value reads as (Kafka Connect's own marker).
pub const HIDDEN: &str = "[hidden]";

/// Name suffixes that mark a value as secret whatever its declared type.
const SECRET_SUFFIXES: &[&str] = &[
    "password",
    "secret",
    "user.info",
    "jaas.config",
    "token",
    "credentials",
    // Inline PEM private keys: librdkafka's `ssl.key.pem`, Kafka's `ssl.keystore.key`.
    "key.pem",
    "keystore.key",
];

/// Whether the value of `key` is a secret (by name; see also [`is_secret_typed`]).
pub fn is_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_SUFFIXES.iter().any(|s| k.ends_with(s))
}

/// Whether `key` is a secret by name or because its definition says PASSWORD.
pub fn is_secret_typed(key: &str, ty: Option<ConfigType>) -> bool {
    ty == Some(ConfigType::Password) || is_secret(key)
}

/// The value to show for `key`.
pub fn shown<'a>(key: &str, value: &'a str) -> &'a str {
    if is_secret(key) && !value.is_empty() {
        HIDDEN
    } else {
        value
    }
}

/// A copy of `config` with every secret value replaced by [`HIDDEN`] (for logs).
pub fn masked(config: &ConfigMap) -> ConfigMap {
    config
        .iter()
        .map(|(k, v)| (k.clone(), shown(k, v).to_string()))
        .collect()
}

/// The non-empty secret values of `config`, longest first (so that a secret containing
/// another is replaced whole).
pub fn secret_values(config: &ConfigMap) -> Vec<&str> {
    let mut values: Vec<&str> = config
        .iter()
        .filter(|(k, v)| is_secret(k) && !v.trim().is_empty())
        .map(|(_, v)| v.as_str())
        .collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    values
}

/// `text` with every occurrence of a secret value of `config` replaced by [`HIDDEN`], including
/// the passwords inside `*sasl.jaas.config` values.
pub fn redact(text: &str, config: &ConfigMap) -> String {
    let embedded: Vec<String> = config
        .iter()
        .filter(|(k, _)| k.to_ascii_lowercase().ends_with("jaas.config"))
        .filter_map(|(_, v)| jaas::password(v))
        .filter(|p| !p.trim().is_empty())
        .collect();
    let mut values = secret_values(config);
    values.extend(embedded.iter().map(String::as_str));
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    redact_values(text, &values)
}

/// `text` with every occurrence of one of `values` replaced by [`HIDDEN`].
pub fn redact_values(text: &str, values: &[&str]) -> String {
    let mut out = text.to_string();
    for v in values.iter().filter(|v| !v.is_empty()) {
        if out.contains(*v) {
            out = out.replace(*v, HIDDEN);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_by_name() {
        for k in [
            "auth.password",
            "ssl.keystore.password",
            "value.converter.basic.auth.user.info",
            "sasl.password",
            "consumer.override.sasl.jaas.config",
            "client.secret",
            "ssl.key.pem",
            "producer.ssl.keystore.key",
        ] {
            assert!(is_secret(k), "{k}");
        }
        for k in [
            "auth.username",
            "topics",
            "contactPoints",
            "passwords.enabled",
        ] {
            assert!(!is_secret(k), "{k}");
        }
        assert!(is_secret_typed("anything", Some(ConfigType::Password)));
    }

    #[test]
    fn redacts_every_secret_value() {
        let mut c = ConfigMap::new();
        c.insert("auth.password".into(), "s3cr3t".into());
        c.insert("auth.username".into(), "cassandra".into());
        let text = "login as cassandra with s3cr3t failed (s3cr3t)";
        assert_eq!(
            redact(text, &c),
            "login as cassandra with [hidden] failed ([hidden])"
        );
        assert_eq!(masked(&c)["auth.password"], HIDDEN);
        assert_eq!(masked(&c)["auth.username"], "cassandra");
        assert_eq!(shown("auth.password", ""), "");
    }

    #[test]
    fn redacts_the_password_inside_a_jaas_config() {
        let mut c = ConfigMap::new();
        c.insert(
            "sasl.jaas.config".into(),
            "x.ScramLoginModule required username=\"u\" password=\"pw-123\";".into(),
        );
        assert_eq!(
            redact("auth failed for u with pw-123", &c),
            "auth failed for u with [hidden]"
        );
    }
}
