//! Client config overrides (`consumer.override.*`, `producer.override.*`,
//! `admin.override.*`): what a connector may set on the Kafka clients the worker creates for
//! it. The worker key `connector.client.config.override.policy` decides (`None`, the
//! default, refuses every override; `Principal` allows the keys that pick the client's
//! identity; `All` allows any key), and a deny-list refuses, whatever the policy, the
//! librdkafka properties that read files, load code, run commands or reach URLs on the
//! worker host (CVE-2023-25194 class) unless the operator lists them in
//! `connector.client.config.override.allowlist`.

use cassink_config::{parse_list, ConfigMap};

pub const POLICY_KEY: &str = "connector.client.config.override.policy";
pub const ALLOWLIST_KEY: &str = "connector.client.config.override.allowlist";

/// Connector key prefixes and the client each configures.
pub const PREFIXES: &[&str] = &[
    "consumer.override.",
    "producer.override.",
    "admin.override.",
];

/// Keys naming the client's principal (Kafka's `Principal` policy, plus librdkafka's
/// spelling of the same settings).
const PRINCIPAL_KEYS: &[&str] = &[
    "sasl.jaas.config",
    "security.protocol",
    "sasl.mechanism",
    "sasl.mechanisms",
    "sasl.username",
    "sasl.password",
];

/// Properties refused whatever the policy (exact names).
const DENIED_KEYS: &[&str] = &[
    "plugin.library.paths",
    "ssl_engine_location",
    "ssl.engine.location",
    "ssl.engine.id",
    "sasl.kerberos.keytab",
    "sasl.kerberos.kinit.cmd",
    "sasl.kerberos.principal",
    "sasl.oauthbearer.token.endpoint.url",
    "sasl.oauthbearer.config",
    "interceptor.classes",
    "oauth_cb",
    "ssl.ca.certificate.stores",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PolicyKind {
    #[default]
    None,
    Principal,
    All,
}

impl PolicyKind {
    fn name(self) -> &'static str {
        match self {
            PolicyKind::None => "None",
            PolicyKind::Principal => "Principal",
            PolicyKind::All => "All",
        }
    }

    /// Parses `None`/`Principal`/`All` or Kafka's policy class names.
    pub fn parse(raw: &str) -> Option<Self> {
        let short = raw.trim().rsplit('.').next().unwrap_or_default();
        let short = short
            .strip_suffix("ConnectorClientConfigOverridePolicy")
            .unwrap_or(short);
        match short.to_ascii_lowercase().as_str() {
            "none" => Some(PolicyKind::None),
            "principal" => Some(PolicyKind::Principal),
            "all" => Some(PolicyKind::All),
            _ => None,
        }
    }
}

/// The worker's override policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OverridePolicy {
    pub kind: PolicyKind,
    /// Deny-listed client keys the operator allows anyway.
    pub allowlist: Vec<String>,
}

/// Why an override is refused (the message goes on the connector key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    #[error("The '{policy}' policy does not allow '{key}' to be overridden in the connector configuration.")]
    Policy { policy: &'static str, key: String },
    #[error("'{key}' may read files, load code, run commands or reach URLs on the worker host and cannot be overridden by a connector (an operator may allow it with the worker key {ALLOWLIST_KEY})")]
    Denied { key: String },
}

/// Whether a librdkafka property is dangerous to let a connector set.
pub fn is_dangerous(client_key: &str) -> bool {
    let k = client_key.trim().to_ascii_lowercase();
    DENIED_KEYS.contains(&k.as_str())
        || k.ends_with(".location")
        || k.ends_with(".url")
        || k.ends_with(".cmd")
        || k.contains("file")
        || k.contains("path")
        || k.contains("library")
        || k.contains("interceptor")
}

impl OverridePolicy {
    /// Reads the policy keys of the worker config.
    pub fn from_worker(raw: &ConfigMap) -> Result<Self, String> {
        let kind = match raw.get(POLICY_KEY).map(|v| v.trim()) {
            None | Some("") => PolicyKind::None,
            Some(v) => PolicyKind::parse(v)
                .ok_or_else(|| "expected one of None, Principal, All".to_string())?,
        };
        let allowlist = raw
            .get(ALLOWLIST_KEY)
            .map(|v| parse_list(v))
            .unwrap_or_default();
        Ok(Self { kind, allowlist })
    }

    /// Checks one client property (prefix stripped) against the policy and deny-list.
    pub fn check(&self, client_key: &str) -> Result<(), OverrideError> {
        let allowed_by_policy = match self.kind {
            PolicyKind::None => false,
            PolicyKind::Principal => PRINCIPAL_KEYS.contains(&client_key.trim()),
            PolicyKind::All => true,
        };
        if !allowed_by_policy {
            return Err(OverrideError::Policy {
                policy: self.kind.name(),
                key: client_key.to_string(),
            });
        }
        if is_dangerous(client_key) && !self.allowlist.iter().any(|a| a == client_key.trim()) {
            return Err(OverrideError::Denied {
                key: client_key.to_string(),
            });
        }
        Ok(())
    }

    /// Every refused override of a connector config: `(connector key, error)`.
    pub fn violations(&self, config: &ConfigMap) -> Vec<(String, OverrideError)> {
        config
            .keys()
            .filter_map(|key| {
                let client_key = PREFIXES.iter().find_map(|p| key.strip_prefix(p))?;
                self.check(client_key).err().map(|e| (key.clone(), e))
            })
            .collect()
    }
}

/// The allowed `<prefix>*` overrides of `config` with the prefix stripped (refused ones are
/// left out: validation reported them before the connector was stored).
pub fn client_overrides(policy: &OverridePolicy, config: &ConfigMap, prefix: &str) -> ConfigMap {
    config
        .iter()
        .filter_map(|(k, v)| {
            let client_key = k.strip_prefix(prefix)?;
            match policy.check(client_key) {
                Ok(()) => Some((client_key.to_string(), v.clone())),
                Err(e) => {
                    tracing::warn!(key = %k, "client override ignored: {e}");
                    None
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(kind: &str, allow: &str) -> OverridePolicy {
        let mut raw = ConfigMap::new();
        raw.insert(POLICY_KEY.into(), kind.into());
        raw.insert(ALLOWLIST_KEY.into(), allow.into());
        OverridePolicy::from_worker(&raw).expect("valid policy")
    }

    fn config(keys: &[&str]) -> ConfigMap {
        keys.iter().map(|k| (k.to_string(), "x".into())).collect()
    }

    #[test]
    fn none_refuses_every_override() {
        let p = OverridePolicy::default();
        let v = p.violations(&config(&[
            "consumer.override.max.poll.records",
            "producer.override.sasl.jaas.config",
            "topics",
        ]));
        assert_eq!(v.len(), 2);
        assert!(v[0].1.to_string().contains("'None' policy"), "{}", v[0].1);
    }

    #[test]
    fn principal_allows_identity_keys_only() {
        let p = policy("Principal", "");
        assert!(p.check("sasl.jaas.config").is_ok());
        assert!(p.check("security.protocol").is_ok());
        assert!(p.check("sasl.mechanism").is_ok());
        assert!(matches!(
            p.check("fetch.max.bytes"),
            Err(OverrideError::Policy { .. })
        ));
    }

    #[test]
    fn deny_list_applies_under_all_unless_allowlisted() {
        let p = policy("All", "");
        assert!(p.check("fetch.max.bytes").is_ok());
        assert!(p.check("sasl.jaas.config").is_ok());
        for k in [
            "plugin.library.paths",
            "ssl_engine_location",
            "ssl.engine.location",
            "ssl.key.location",
            "ssl.ca.location",
            "sasl.kerberos.keytab",
            "sasl.kerberos.kinit.cmd",
            "sasl.oauthbearer.token.endpoint.url",
            "sasl.oauthbearer.config",
            "interceptor.classes",
            "some.file.name",
        ] {
            assert!(
                matches!(p.check(k), Err(OverrideError::Denied { .. })),
                "{k}"
            );
        }
        let p = policy(
            "org.apache.kafka.connect.connector.policy.AllConnectorClientConfigOverridePolicy",
            "ssl.ca.location",
        );
        assert!(p.check("ssl.ca.location").is_ok());
        assert!(p.check("ssl.key.location").is_err());
    }

    #[test]
    fn bad_policy_is_an_error_and_overrides_are_stripped() {
        let mut raw = ConfigMap::new();
        raw.insert(POLICY_KEY.into(), "Some".into());
        assert!(OverridePolicy::from_worker(&raw).is_err());
        let p = policy("All", "");
        let c = config(&[
            "consumer.override.fetch.max.bytes",
            "consumer.override.ssl.key.location",
            "producer.override.acks",
        ]);
        let o = client_overrides(&p, &c, "consumer.override.");
        assert_eq!(o.keys().collect::<Vec<_>>(), vec!["fetch.max.bytes"]);
    }
}
