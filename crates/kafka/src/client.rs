//! The settings of every Kafka client the worker makes (task consumers, the dead-letter queue
//! producer, topic and offset administration, distributed mode's config store) and of
//! `cassink produce`, built in one place: `bootstrap.servers`, then the worker-level security
//! keys (`security.protocol`, `ssl.*`, `sasl.*`), then the keys of the client's role
//! (`consumer.*`, `producer.*`, `admin.*`, prefix stripped).
//!
//! Kafka Connect's Java names are translated where librdkafka differs:
//! - `sasl.jaas.config` with `PlainLoginModule` or `ScramLoginModule` gives `sasl.username` and
//!   `sasl.password` (explicit `sasl.username`/`sasl.password` win);
//! - a PEM `ssl.truststore.location` (or `ssl.truststore.certificates`) gives `ssl.ca.location`
//!   (`ssl.ca.pem`); a PEM `ssl.keystore.location` gives `ssl.certificate.location` and
//!   `ssl.key.location`, a PKCS#12 one stays `ssl.keystore.location` (librdkafka reads PKCS#12);
//! - JKS stores are refused at start-up with a message naming the key (librdkafka cannot
//!   read them);
//! - `ssl.endpoint.identification.algorithm=` (empty: no host name check) becomes `none`;
//! - Java-only keys (`ssl.protocol`, `ssl.enabled.protocols`, `*.type`, ...) are left out and
//!   listed in [`KafkaClients::ignored`].
//!
//! Every other key goes to librdkafka as written, so librdkafka's own names work too.

use cassink_config::ConfigMap;
use cassink_config::{jaas, secrets};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::BaseConsumer;
use rdkafka::ClientConfig;
use std::path::Path;

/// Which kind of client a config is for (picks the worker's `<role>.*` keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Consumer,
    Producer,
    Admin,
}

impl Role {
    const ALL: [Role; 3] = [Role::Consumer, Role::Producer, Role::Admin];

    /// The worker key prefix of this role's settings.
    pub fn prefix(self) -> &'static str {
        match self {
            Role::Consumer => "consumer.",
            Role::Producer => "producer.",
            Role::Admin => "admin.",
        }
    }
}

/// Worker key prefixes that configure every client.
pub const SECURITY_PREFIXES: &[&str] = &["security.", "ssl.", "sasl."];

/// Kafka (Java) client keys librdkafka has no equivalent of; left out.
const JAVA_ONLY: &[&str] = &[
    "ssl.protocol",
    "ssl.enabled.protocols",
    "ssl.keymanager.algorithm",
    "ssl.trustmanager.algorithm",
    "ssl.secure.random.implementation",
    "ssl.provider",
    "ssl.engine.factory.class",
    "ssl.truststore.type",
    "ssl.truststore.password",
    "ssl.keystore.type",
    "sasl.login.class",
    "sasl.login.callback.handler.class",
    "sasl.client.callback.handler.class",
    "sasl.login.refresh.window.factor",
    "sasl.login.refresh.window.jitter",
    "sasl.login.refresh.min.period.seconds",
    "sasl.login.refresh.buffer.seconds",
    "sasl.login.connect.timeout.ms",
    "sasl.login.read.timeout.ms",
    "sasl.login.retry.backoff.ms",
    "sasl.login.retry.backoff.max.ms",
    "sasl.kerberos.ticket.renew.window.factor",
    "sasl.kerberos.ticket.renew.jitter",
    "security.providers",
    // Server side: the worker's https REST listener reads it (as in Connect).
    "ssl.client.auth",
    // Read by the worker itself (records per batch), not a librdkafka property.
    "max.poll.records",
];

/// A client setting the worker cannot use; the message never holds a secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Kafka client setting {key}: {reason}")]
pub struct ClientConfigError {
    pub key: String,
    pub reason: String,
}

fn bad(key: &str, reason: impl Into<String>) -> ClientConfigError {
    ClientConfigError {
        key: key.to_string(),
        reason: reason.into(),
    }
}

/// The translated client settings of a worker (everything but `bootstrap.servers`).
#[derive(Debug, Clone, Default)]
pub struct KafkaClients {
    /// Worker-level `security.*`, `ssl.*`, `sasl.*`: every client gets them.
    common: ConfigMap,
    consumer: ConfigMap,
    producer: ConfigMap,
    admin: ConfigMap,
    /// Keys left out because librdkafka has no equivalent (as written in the worker config).
    pub ignored: Vec<String>,
}

impl KafkaClients {
    /// Reads the client keys of a worker config (or of a `cassink produce --client-config`
    /// file): `security.*`, `ssl.*`, `sasl.*` and the `consumer.*`, `producer.*`, `admin.*`
    /// passthroughs.
    pub fn from_worker(raw: &ConfigMap) -> Result<Self, ClientConfigError> {
        let mut clients = KafkaClients::default();
        let common: ConfigMap = raw
            .iter()
            .filter(|(k, _)| SECURITY_PREFIXES.iter().any(|p| k.starts_with(p)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        clients.common = translate(&common, "", &mut clients.ignored)?;
        for role in Role::ALL {
            let own: ConfigMap = raw
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(role.prefix())?.to_string(), v.clone())))
                .collect();
            let translated = translate(&own, role.prefix(), &mut clients.ignored)?;
            *clients.role_mut(role) = translated;
        }
        Ok(clients)
    }

    fn role_mut(&mut self, role: Role) -> &mut ConfigMap {
        match role {
            Role::Consumer => &mut self.consumer,
            Role::Producer => &mut self.producer,
            Role::Admin => &mut self.admin,
        }
    }

    fn role(&self, role: Role) -> &ConfigMap {
        match role {
            Role::Consumer => &self.consumer,
            Role::Producer => &self.producer,
            Role::Admin => &self.admin,
        }
    }

    /// The base config of a `role` client: bootstrap servers, security, the role's keys.
    pub fn config(&self, bootstrap: &str, role: Role) -> ClientConfig {
        self.config_of(bootstrap, self.role(role))
    }

    fn config_of(&self, bootstrap: &str, own: &ConfigMap) -> ClientConfig {
        let mut cfg = ClientConfig::new();
        cfg.set("bootstrap.servers", bootstrap);
        for (k, v) in self.common.iter().chain(own) {
            cfg.set(k, v);
        }
        cfg
    }

    /// The values to mask wherever client errors are shown (passwords from `sasl.jaas.config`
    /// included, since translation made them `sasl.password`).
    pub fn secret_values(&self) -> Vec<&str> {
        let mut values: Vec<&str> = [&self.common, &self.consumer, &self.producer, &self.admin]
            .into_iter()
            .flat_map(secrets::secret_values)
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values
    }

    /// Has librdkafka build a client from the security keys and from each role's keys
    /// (reading the CA, certificate and key files), so that a mistake stops the worker at
    /// start-up rather than every task later. Nothing is sent: the clients are dropped at once.
    pub fn check(&self, bootstrap: &str) -> Result<(), ClientConfigError> {
        let mut layers = vec![(
            "security.protocol/ssl.*/sasl.*".to_string(),
            self.config_of(bootstrap, &ConfigMap::new()),
        )];
        for role in Role::ALL.into_iter().filter(|r| !self.role(*r).is_empty()) {
            layers.push((format!("{}*", role.prefix()), self.config(bootstrap, role)));
        }
        for (key, mut cfg) in layers {
            cfg.set_log_level(RDKafkaLogLevel::Emerg);
            if let Err(e) = cfg.create::<BaseConsumer>() {
                let reason = secrets::redact_values(&e.to_string(), &self.secret_values());
                return Err(bad(&key, reason));
            }
        }
        Ok(())
    }
}

/// Translates one layer of client keys (`origin` is their prefix in the worker config, for
/// messages). Keys librdkafka knows pass as written.
pub fn translate(
    props: &ConfigMap,
    origin: &str,
    ignored: &mut Vec<String>,
) -> Result<ConfigMap, ClientConfigError> {
    let name = |k: &str| format!("{origin}{k}");
    let get = |k: &str| props.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut out = ConfigMap::new();
    for (key, value) in props {
        match key.as_str() {
            "sasl.jaas.config" => {
                let (user, password) = jaas_credentials(&name(key), value)?;
                if !props.contains_key("sasl.username") {
                    out.insert("sasl.username".into(), user);
                }
                if !props.contains_key("sasl.password") {
                    out.insert("sasl.password".into(), password);
                }
            }
            "ssl.truststore.location" => {
                let path = value.trim();
                let kind = store_kind(&name(key), path, get("ssl.truststore.type"))?;
                if kind != StoreKind::Pem {
                    return Err(bad(
                        &name(key),
                        format!(
                            "{path} is not a PEM file: librdkafka reads only PEM trust stores \
                             (convert with `keytool -exportcert -rfc` or openssl and set \
                             {}=PEM)",
                            name("ssl.truststore.type")
                        ),
                    ));
                }
                if !props.contains_key("ssl.ca.location") {
                    out.insert("ssl.ca.location".into(), path.to_string());
                }
            }
            "ssl.truststore.certificates" => {
                out.insert("ssl.ca.pem".into(), value.clone());
            }
            "ssl.keystore.location" => {
                let path = value.trim();
                match store_kind(&name(key), path, get("ssl.keystore.type"))? {
                    StoreKind::Pem => {
                        out.insert("ssl.certificate.location".into(), path.to_string());
                        out.insert("ssl.key.location".into(), path.to_string());
                    }
                    StoreKind::Pkcs12 => {
                        out.insert(key.clone(), path.to_string());
                    }
                }
            }
            "ssl.keystore.password" => {
                // Kafka reads a PEM key with ssl.key.password; this one opens a PKCS#12 store.
                if !is_pem_keystore(props) {
                    out.insert(key.clone(), value.clone());
                }
            }
            "ssl.keystore.certificate.chain" => {
                out.insert("ssl.certificate.pem".into(), value.clone());
            }
            "ssl.keystore.key" => {
                out.insert("ssl.key.pem".into(), value.clone());
            }
            "ssl.endpoint.identification.algorithm" if value.trim().is_empty() => {
                out.insert(key.clone(), "none".into());
            }
            // The Java clients' forced metadata refresh (new topics and partitions) is
            // librdkafka's topic.metadata.refresh.interval.ms; librdkafka's own
            // metadata.max.age.ms is a cache lifetime.
            "metadata.max.age.ms" => {
                if !props.contains_key("topic.metadata.refresh.interval.ms") {
                    out.insert("topic.metadata.refresh.interval.ms".into(), value.clone());
                }
            }
            k if JAVA_ONLY.contains(&k) => ignored.push(name(k)),
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(out)
}

/// Sets a connector's allowed client overrides (`prefix` stripped, e.g. the
/// `consumer.override.*` keys) on `config`, translated like the worker's own keys.
pub fn apply_overrides(
    config: &mut ClientConfig,
    overrides: &ConfigMap,
    prefix: &str,
) -> Result<(), ClientConfigError> {
    let mut ignored = Vec::new();
    for (k, v) in translate(overrides, prefix, &mut ignored)? {
        config.set(k, v);
    }
    for key in ignored {
        tracing::warn!(key = %key, "client override has no librdkafka equivalent (ignored)");
    }
    Ok(())
}

/// `(username, password)` of a PLAIN or SCRAM login module entry.
fn jaas_credentials(key: &str, value: &str) -> Result<(String, String), ClientConfigError> {
    let entry = jaas::parse(value).map_err(|e| bad(key, e.to_string()))?;
    let module = entry.module_name();
    if module != "PlainLoginModule" && module != "ScramLoginModule" {
        return Err(bad(
            key,
            format!(
                "login module {module} is not supported: librdkafka takes only a username and \
                 password (PlainLoginModule or ScramLoginModule); for GSSAPI or OAUTHBEARER set \
                 librdkafka's sasl.kerberos.* or sasl.oauthbearer.* keys instead"
            ),
        ));
    }
    let option = |o: &str| {
        entry
            .options
            .get(o)
            .cloned()
            .ok_or_else(|| bad(key, format!("{module} has no {o} option")))
    };
    Ok((option("username")?, option("password")?))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoreKind {
    Pem,
    Pkcs12,
}

/// What kind of store `path` is: the declared type (Kafka's `*.type`), or for an undeclared
/// one what the file holds (PEM, else PKCS#12 as librdkafka assumes). JKS is refused.
fn store_kind(
    key: &str,
    path: &str,
    declared: Option<&str>,
) -> Result<StoreKind, ClientConfigError> {
    let type_key = key.replace(".location", ".type");
    match declared.map(str::to_ascii_uppercase).as_deref() {
        Some("PEM") => Ok(StoreKind::Pem),
        Some("PKCS12") => Ok(StoreKind::Pkcs12),
        Some("JKS") => Err(bad(
            key,
            format!(
                "{type_key}=JKS: librdkafka cannot read Java key stores; convert {path} to PEM \
                 (keytool -exportcert -rfc / openssl pkcs12) and set {type_key}=PEM"
            ),
        )),
        Some(other) => Err(bad(
            &type_key,
            format!("unsupported store type {other} (PEM or PKCS12)"),
        )),
        None if is_pem(
            &std::fs::read(Path::new(path))
                .map_err(|e| bad(key, format!("cannot read {path}: {e}")))?,
        ) =>
        {
            Ok(StoreKind::Pem)
        }
        None => Ok(StoreKind::Pkcs12),
    }
}

fn is_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

fn is_pem_keystore(props: &ConfigMap) -> bool {
    match props
        .get("ssl.keystore.type")
        .map(|t| t.trim().to_ascii_uppercase())
    {
        Some(t) => t == "PEM",
        None => props
            .get("ssl.keystore.location")
            .and_then(|p| std::fs::read(p.trim()).ok())
            .is_some_and(|b| is_pem(&b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use cassink_config::config_of as map;

    const JAAS: &str = "org.apache.kafka.common.security.scram.ScramLoginModule required \
                        username=\"connect\" password=\"pw-S3cret\";";

    #[test]
    fn connect_style_worker_keys_become_librdkafka_keys() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["ca".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        std::fs::write(&ca, cert.pem()).unwrap();
        let ca = ca.display().to_string();
        let raw = map(&[
            ("bootstrap.servers", "b:9093"),
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.jaas.config", JAAS),
            ("ssl.truststore.location", &ca),
            ("ssl.truststore.type", "PEM"),
            ("ssl.endpoint.identification.algorithm", ""),
            ("ssl.enabled.protocols", "TLSv1.2"),
            ("ssl.client.auth", "required"),
            ("consumer.security.protocol", "SASL_SSL"),
            ("consumer.max.poll.records", "10"),
            ("producer.linger.ms", "5"),
            (
                "admin.sasl.jaas.config",
                JAAS.replace("connect", "admin").as_str(),
            ),
            ("rest.port", "8083"),
        ]);
        let clients = KafkaClients::from_worker(&raw).unwrap();
        let consumer = clients.config("b:9093", Role::Consumer);
        assert_eq!(consumer.get("bootstrap.servers"), Some("b:9093"));
        assert_eq!(consumer.get("security.protocol"), Some("SASL_SSL"));
        assert_eq!(consumer.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(consumer.get("sasl.username"), Some("connect"));
        assert_eq!(consumer.get("sasl.password"), Some("pw-S3cret"));
        assert_eq!(consumer.get("ssl.ca.location"), Some(ca.as_str()));
        assert_eq!(
            consumer.get("ssl.endpoint.identification.algorithm"),
            Some("none")
        );
        for gone in [
            "sasl.jaas.config",
            "ssl.truststore.location",
            "ssl.truststore.type",
        ] {
            assert_eq!(consumer.get(gone), None, "{gone}");
        }
        assert_eq!(consumer.get("max.poll.records"), None);
        assert_eq!(consumer.get("linger.ms"), None);
        assert_eq!(
            clients.config("b", Role::Producer).get("linger.ms"),
            Some("5")
        );
        let admin = clients.config("b", Role::Admin);
        assert_eq!(admin.get("sasl.username"), Some("admin"));
        assert_eq!(admin.get("rest.port"), None);
        assert!(clients
            .ignored
            .contains(&"ssl.enabled.protocols".to_string()));
        assert!(clients
            .ignored
            .contains(&"consumer.max.poll.records".to_string()));
        assert!(clients.secret_values().contains(&"pw-S3cret"));
        clients
            .check("127.0.0.1:1")
            .expect("librdkafka accepts the translated keys");
    }

    #[test]
    fn explicit_librdkafka_credentials_win_over_jaas() {
        let raw = map(&[("sasl.jaas.config", JAAS), ("sasl.password", "other")]);
        let c = KafkaClients::from_worker(&raw)
            .unwrap()
            .config("b", Role::Consumer);
        assert_eq!(c.get("sasl.password"), Some("other"));
        assert_eq!(c.get("sasl.username"), Some("connect"));
    }

    #[test]
    fn jks_and_unusable_jaas_are_errors_naming_the_key_not_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let jks = dir.path().join("truststore.jks");
        std::fs::write(&jks, [0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]).unwrap();
        let jks = jks.display().to_string();
        for (pairs, key) in [
            (
                vec![
                    ("ssl.truststore.location", jks.as_str()),
                    ("ssl.truststore.type", "JKS"),
                ],
                "ssl.truststore.location",
            ),
            (
                vec![("ssl.truststore.location", jks.as_str())],
                "ssl.truststore.location",
            ),
            (
                vec![
                    ("consumer.ssl.keystore.location", jks.as_str()),
                    ("consumer.ssl.keystore.type", "JKS"),
                ],
                "consumer.ssl.keystore.location",
            ),
            (
                vec![("ssl.truststore.location", "/nonexistent/ca.pem")],
                "ssl.truststore.location",
            ),
        ] {
            let err = KafkaClients::from_worker(&map(&pairs)).unwrap_err();
            assert_eq!(err.key, key, "{err}");
            assert!(
                err.to_string().contains("PEM") || err.to_string().contains("cannot read"),
                "{err}"
            );
        }
        let kerberos =
            "com.sun.security.auth.module.Krb5LoginModule required password=\"pw-S3cret\";";
        for jaas in [
            kerberos,
            "x.PlainLoginModule required username=\"u\" password=\"pw-S3cret\"",
            "x.PlainLoginModule required username=\"u\";",
        ] {
            let err = KafkaClients::from_worker(&map(&[("producer.sasl.jaas.config", jaas)]))
                .unwrap_err();
            assert_eq!(err.key, "producer.sasl.jaas.config");
            assert!(!err.to_string().contains("pw-S3cret"), "{err}");
        }
    }

    #[test]
    fn pem_and_pkcs12_keystores() {
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("client.pem");
        std::fs::write(
            &pem,
            "-----BEGIN CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n",
        )
        .unwrap();
        let pem = pem.display().to_string();
        let raw = map(&[
            ("ssl.keystore.location", &pem),
            ("ssl.keystore.password", "ks-pw"),
            ("ssl.key.password", "key-pw"),
        ]);
        let c = KafkaClients::from_worker(&raw)
            .unwrap()
            .config("b", Role::Admin);
        assert_eq!(c.get("ssl.certificate.location"), Some(pem.as_str()));
        assert_eq!(c.get("ssl.key.location"), Some(pem.as_str()));
        assert_eq!(c.get("ssl.key.password"), Some("key-pw"));
        assert_eq!(c.get("ssl.keystore.location"), None);
        assert_eq!(c.get("ssl.keystore.password"), None);
        let raw = map(&[
            ("ssl.keystore.location", "/etc/client.p12"),
            ("ssl.keystore.type", "PKCS12"),
            ("ssl.keystore.password", "ks-pw"),
        ]);
        let c = KafkaClients::from_worker(&raw)
            .unwrap()
            .config("b", Role::Admin);
        assert_eq!(c.get("ssl.keystore.location"), Some("/etc/client.p12"));
        assert_eq!(c.get("ssl.keystore.password"), Some("ks-pw"));
    }

    #[test]
    fn check_reports_what_librdkafka_refuses() {
        let raw = map(&[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.username", "u"),
            ("sasl.password", "pw-S3cret"),
            ("ssl.ca.location", "/nonexistent/ca.pem"),
        ]);
        let err = KafkaClients::from_worker(&raw)
            .unwrap()
            .check("127.0.0.1:1")
            .unwrap_err();
        assert!(err.to_string().contains("ssl.ca.location"), "{err}");
        assert!(!err.to_string().contains("pw-S3cret"), "{err}");
        let raw = map(&[("sasl.no.such.key", "1")]);
        let err = KafkaClients::from_worker(&raw)
            .unwrap()
            .check("127.0.0.1:1")
            .unwrap_err();
        assert!(err.to_string().contains("sasl.no.such.key"), "{err}");
    }
}
