//! Config providers, as Kafka's: connector values such as `${file:/etc/secrets.properties:pw}`
//! (a key of a Java properties file), `${dir:/run/secrets:db_password}` (the content of a file
//! in a directory) and `${env:CASSANDRA_PASSWORD}` are resolved when a task starts, never
//! stored resolved nor returned by the REST API.
//!
//! Worker keys: `config.providers=file,dir,env`, `config.providers.<name>.class` (Kafka's
//! class names are accepted and pick the kind), `config.providers.<name>.param.allowed.paths`
//! (comma-separated directories a file/dir provider may read; all when unset, as in Kafka)
//! and `config.providers.<name>.param.allowlist.pattern` (a regex the env variable names
//! must match; all when unset).

use crate::{parse_list, ConfigMap};
use regex::Regex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// Kafka's placeholder syntax: `${provider:[path:]key}`.
static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$\{([^}:]*?):(?:([^}]*?):)?([^}]*?)\}").expect("static regex"));

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Env,
}

#[derive(Debug, Clone)]
struct Provider {
    kind: Kind,
    /// Canonical directories reads are confined to (`None`: anywhere).
    allowed_paths: Option<Vec<PathBuf>>,
    /// Full-match pattern for env variable names (`None`: any).
    allowlist: Option<Regex>,
}

/// The providers a worker configured (empty: `${...}` values are left as written).
#[derive(Debug, Clone, Default)]
pub struct ConfigProviders {
    providers: BTreeMap<String, Provider>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("invalid worker config {key}: {reason}")]
    Worker { key: String, reason: String },
    #[error("cannot resolve connector config {key}: provider {provider} may not read {path} (not under config.providers.{provider}.param.allowed.paths)")]
    PathNotAllowed {
        key: String,
        provider: String,
        path: String,
    },
    #[error("cannot resolve connector config {key}: env variable {var} does not match config.providers.{provider}.param.allowlist.pattern")]
    VarNotAllowed {
        key: String,
        provider: String,
        var: String,
    },
    #[error("cannot resolve connector config {key}: cannot read {path}: {reason}")]
    Read {
        key: String,
        path: String,
        reason: String,
    },
    #[error("cannot resolve connector config {key}: {what} not found")]
    Missing { key: String, what: String },
}

fn worker_err(key: &str, reason: impl Into<String>) -> ProviderError {
    ProviderError::Worker {
        key: key.to_string(),
        reason: reason.into(),
    }
}

impl ConfigProviders {
    /// Reads `config.providers*` of the worker config.
    pub fn from_worker(raw: &ConfigMap) -> Result<Self, ProviderError> {
        let mut providers = BTreeMap::new();
        let Some(names) = raw.get("config.providers") else {
            return Ok(Self { providers });
        };
        for name in parse_list(names) {
            let class_key = format!("config.providers.{name}.class");
            let kind = match raw.get(&class_key).map(|c| c.trim()) {
                Some(c) if c.ends_with("FileConfigProvider") && !c.ends_with("DirectoryConfigProvider") => Kind::File,
                Some(c) if c.ends_with("DirectoryConfigProvider") => Kind::Dir,
                Some(c) if c.ends_with("EnvVarConfigProvider") => Kind::Env,
                Some(c) => return Err(worker_err(&class_key, format!("unsupported provider class {c} (FileConfigProvider, DirectoryConfigProvider and EnvVarConfigProvider are)"))),
                None => match name.as_str() {
                    "file" => Kind::File,
                    "dir" | "directory" => Kind::Dir,
                    "env" => Kind::Env,
                    _ => return Err(worker_err(&class_key, format!("provider {name} needs a class"))),
                },
            };
            let paths_key = format!("config.providers.{name}.param.allowed.paths");
            let allowed_paths = match raw.get(&paths_key) {
                None => None,
                Some(v) => Some(
                    parse_list(v)
                        .iter()
                        .map(|p| {
                            std::fs::canonicalize(p)
                                .map_err(|e| worker_err(&paths_key, format!("{p}: {e}")))
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                ),
            };
            let pattern_key = format!("config.providers.{name}.param.allowlist.pattern");
            let allowlist = match raw.get(&pattern_key) {
                None => None,
                Some(p) => Some(
                    Regex::new(&format!("^(?:{p})$"))
                        .map_err(|e| worker_err(&pattern_key, e.to_string()))?,
                ),
            };
            providers.insert(
                name,
                Provider {
                    kind,
                    allowed_paths,
                    allowlist,
                },
            );
        }
        Ok(Self { providers })
    }

    /// Whether `value` references a configured provider.
    pub fn references(&self, value: &str) -> bool {
        PLACEHOLDER
            .captures_iter(value)
            .any(|c| self.providers.contains_key(&c[1]))
    }

    /// `config` with every reference to a configured provider resolved. References to
    /// unknown providers stay as written (as in Kafka).
    pub fn resolve(&self, config: &ConfigMap) -> Result<ConfigMap, ProviderError> {
        let mut out = ConfigMap::new();
        for (key, value) in config {
            out.insert(key.clone(), self.resolve_value(key, value)?);
        }
        Ok(out)
    }

    fn resolve_value(&self, key: &str, value: &str) -> Result<String, ProviderError> {
        if !value.contains("${") {
            return Ok(value.to_string());
        }
        let mut out = String::with_capacity(value.len());
        let mut last = 0;
        for caps in PLACEHOLDER.captures_iter(value) {
            let Some(whole) = caps.get(0) else { continue };
            let name = &caps[1];
            let Some(p) = self.providers.get(name) else {
                continue;
            };
            let path = caps.get(2).map(|m| m.as_str()).unwrap_or("");
            let item = &caps[3];
            out.push_str(&value[last..whole.start()]);
            out.push_str(&p.lookup(key, name, path, item)?);
            last = whole.end();
        }
        out.push_str(&value[last..]);
        Ok(out)
    }
}

impl Provider {
    fn lookup(
        &self,
        key: &str,
        name: &str,
        path: &str,
        item: &str,
    ) -> Result<String, ProviderError> {
        match self.kind {
            Kind::Env => {
                let var = if item.is_empty() { path } else { item };
                if self.allowlist.as_ref().is_some_and(|r| !r.is_match(var)) {
                    return Err(ProviderError::VarNotAllowed {
                        key: key.into(),
                        provider: name.into(),
                        var: var.into(),
                    });
                }
                std::env::var(var).map_err(|_| ProviderError::Missing {
                    key: key.into(),
                    what: format!("env variable {var}"),
                })
            }
            Kind::File => {
                let file = self.allowed(key, name, Path::new(path))?;
                let text = read(key, &file)?;
                crate::properties::parse_properties(&text)
                    .remove(item)
                    .ok_or_else(|| ProviderError::Missing {
                        key: key.into(),
                        what: format!("key {item} in {path}"),
                    })
            }
            Kind::Dir => {
                if item.contains('/') || item.contains('\\') || item == ".." {
                    return Err(ProviderError::PathNotAllowed {
                        key: key.into(),
                        provider: name.into(),
                        path: format!("{path}/{item}"),
                    });
                }
                let file = self.allowed(key, name, &Path::new(path).join(item))?;
                Ok(read(key, &file)?)
            }
        }
    }

    /// The canonical `path` when it lies under an allowed directory.
    fn allowed(&self, key: &str, name: &str, path: &Path) -> Result<PathBuf, ProviderError> {
        let canonical = std::fs::canonicalize(path).map_err(|e| ProviderError::Read {
            key: key.into(),
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        match &self.allowed_paths {
            Some(dirs) if !dirs.iter().any(|d| canonical.starts_with(d)) => {
                Err(ProviderError::PathNotAllowed {
                    key: key.into(),
                    provider: name.into(),
                    path: path.display().to_string(),
                })
            }
            _ => Ok(canonical),
        }
    }
}

fn read(key: &str, path: &Path) -> Result<String, ProviderError> {
    std::fs::read_to_string(path).map_err(|e| ProviderError::Read {
        key: key.into(),
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config_of as map;

    #[test]
    fn file_dir_and_env_references_resolve() {
        let dir = tempfile::tempdir().expect("tempdir");
        let props = dir.path().join("secrets.properties");
        std::fs::write(&props, "pw=s3cr3t\nuser = cass\n").expect("write");
        std::fs::write(dir.path().join("token"), "tok").expect("write");
        let d = dir.path().display().to_string();
        let providers = ConfigProviders::from_worker(&map(&[
            ("config.providers", "file,dir,env"),
            (
                "config.providers.file.class",
                "org.apache.kafka.common.config.provider.FileConfigProvider",
            ),
            ("config.providers.file.param.allowed.paths", &d),
            ("config.providers.dir.param.allowed.paths", &d),
            (
                "config.providers.env.param.allowlist.pattern",
                "CASSINK_T_.*",
            ),
        ]))
        .expect("providers");
        std::env::set_var("CASSINK_T_VAR", "fromenv");
        let config = map(&[
            (
                "auth.password",
                &format!("${{file:{}:pw}}", props.display()),
            ),
            (
                "auth.username",
                &format!("u-${{file:{}:user}}", props.display()),
            ),
            ("t", &format!("${{dir:{d}:token}}")),
            ("e", "${env:CASSINK_T_VAR}"),
            ("other", "${vault:x:y}"),
        ]);
        assert!(providers.references(&config["auth.password"]));
        let r = providers.resolve(&config).expect("resolved");
        assert_eq!(r["auth.password"], "s3cr3t");
        assert_eq!(r["auth.username"], "u-cass");
        assert_eq!(r["t"], "tok");
        assert_eq!(r["e"], "fromenv");
        assert_eq!(r["other"], "${vault:x:y}");
    }

    #[test]
    fn disallowed_or_missing_references_name_the_key_not_the_secret() {
        let allowed = tempfile::tempdir().expect("tempdir");
        let other = tempfile::tempdir().expect("tempdir");
        let props = other.path().join("s.properties");
        std::fs::write(&props, "pw=s3cr3t\n").expect("write");
        let providers = ConfigProviders::from_worker(&map(&[
            ("config.providers", "file,env"),
            (
                "config.providers.file.param.allowed.paths",
                &allowed.path().display().to_string(),
            ),
            ("config.providers.env.param.allowlist.pattern", "OK_.*"),
        ]))
        .expect("providers");
        let err = providers
            .resolve(&map(&[(
                "auth.password",
                &format!("${{file:{}:pw}}", props.display()),
            )]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("auth.password") && !err.contains("s3cr3t"),
            "{err}"
        );
        let err = providers
            .resolve(&map(&[("x", "${env:PATH}")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("allowlist.pattern"), "{err}");
        let inside = allowed.path().join("a.properties");
        std::fs::write(&inside, "a=1\n").expect("write");
        let err = providers
            .resolve(&map(&[(
                "k",
                &format!("${{file:{}:nope}}", inside.display()),
            )]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("key nope"), "{err}");
        assert!(ConfigProviders::from_worker(&map(&[("config.providers", "vault")])).is_err());
    }
}
