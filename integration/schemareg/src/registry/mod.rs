//! The registry's operations, one method per thing a client can ask, with Confluent's rules:
//! global ids shared across subjects, soft then hard deletes, compatibility before registration.
//!
//! The state sits behind a plain mutex: every operation is short and synchronous (a persistent
//! store writes a small JSON file under the lock), which is fine for a test registry.

mod query;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use crate::compat::CompatibilityLevel;
use crate::error::{Error, Result};
use crate::schema::{Reference, SchemaContent, SchemaType};
use crate::store::{Store, SubjectVersion};
use query::{
    content_of, effective_level, find_version, id_usages, live_schemas, parse_stored, prepare,
    view, visible_versions,
};

/// A version as a request names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionSpec {
    Latest,
    Number(u32),
}

impl VersionSpec {
    /// `latest` or `-1` for the latest version, else a version in `1..=2^31-1`.
    pub fn parse(s: &str) -> Result<Self> {
        if s.eq_ignore_ascii_case("latest") || s == "-1" {
            return Ok(VersionSpec::Latest);
        }
        match s.parse::<i32>() {
            Ok(v) if v >= 1 => Ok(VersionSpec::Number(v.unsigned_abs())),
            _ => Err(Error::InvalidVersion(s.to_owned())),
        }
    }
}

/// A schema as a client submits it.
#[derive(Clone, Debug)]
pub struct SchemaRequest {
    pub schema: String,
    pub schema_type: SchemaType,
    pub references: Vec<Reference>,
}

/// One subject version with its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionView {
    pub subject: String,
    pub version: u32,
    pub id: u32,
    pub content: SchemaContent,
}

/// Which subjects `GET /subjects` lists.
#[derive(Clone, Debug, Default)]
pub struct SubjectFilter {
    pub prefix: Option<String>,
    pub deleted: bool,
    pub deleted_only: bool,
}

/// The result of a compatibility test.
#[derive(Clone, Debug)]
pub struct CompatibilityReport {
    pub messages: Vec<String>,
}

impl CompatibilityReport {
    pub fn is_compatible(&self) -> bool {
        self.messages.is_empty()
    }
}

/// The schema registry.
#[derive(Debug)]
pub struct Registry {
    store: Mutex<Store>,
}

impl Registry {
    pub fn in_memory() -> Self {
        Registry {
            store: Mutex::new(Store::in_memory()),
        }
    }

    /// A registry persisted in `data_dir`, loading what an earlier run stored there.
    pub fn open(data_dir: &Path) -> Result<Self> {
        Ok(Registry {
            store: Mutex::new(Store::open(data_dir)?),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        // Updates are copy-then-swap, so a panic mid-update cannot leave a half-applied change.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers `request` under `subject` and returns its global id. A schema already live in
    /// the subject keeps its id; one registered under another subject reuses that id.
    pub fn register(&self, subject: &str, request: SchemaRequest) -> Result<u32> {
        self.lock().update(|state| {
            let (content, parsed) = prepare(state, request)?;
            let versions = state
                .subjects
                .get(subject)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let version = versions.iter().map(|v| v.version).max().unwrap_or(0) + 1;
            if let Some(existing) = versions
                .iter()
                .rev()
                .find(|v| !v.deleted && state.schemas.get(&v.id) == Some(&content))
            {
                return Ok(existing.id);
            }
            let level = effective_level(state, subject);
            let messages = level.check(&parsed, &live_schemas(state, subject)?);
            if !messages.is_empty() {
                return Err(Error::Incompatible {
                    subject: subject.to_owned(),
                    messages,
                });
            }
            let id = match state.schemas.iter().find(|(_, c)| **c == content) {
                Some((id, _)) => *id,
                None => {
                    let id = state.next_id;
                    state.next_id += 1;
                    state.schemas.insert(id, content);
                    id
                }
            };
            state
                .subjects
                .entry(subject.to_owned())
                .or_default()
                .push(SubjectVersion {
                    version,
                    id,
                    deleted: false,
                });
            tracing::info!(subject, version, id, "registered schema");
            Ok(id)
        })
    }

    /// Finds the version of `subject` holding `request`.
    pub fn lookup(
        &self,
        subject: &str,
        request: SchemaRequest,
        include_deleted: bool,
    ) -> Result<VersionView> {
        let store = self.lock();
        let state = store.state();
        let versions = visible_versions(state, subject, include_deleted)?;
        let (content, _) = prepare(state, request)?;
        versions
            .iter()
            .rev()
            .find(|v| state.schemas.get(&v.id) == Some(&content))
            .map(|v| view(subject, v, content.clone()))
            .ok_or(Error::SchemaNotFound(None))
    }

    pub fn subjects(&self, filter: &SubjectFilter) -> Vec<String> {
        let store = self.lock();
        store
            .state()
            .subjects
            .iter()
            .filter(|(name, _)| filter.prefix.as_deref().is_none_or(|p| name.starts_with(p)))
            .filter(|(_, versions)| {
                let live = versions.iter().any(|v| !v.deleted);
                let dead = versions.iter().any(|v| v.deleted);
                if filter.deleted_only {
                    dead
                } else {
                    live || (filter.deleted && dead)
                }
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    pub fn versions(&self, subject: &str, include_deleted: bool) -> Result<Vec<u32>> {
        let store = self.lock();
        let versions = visible_versions(store.state(), subject, include_deleted)?;
        Ok(versions.iter().map(|v| v.version).collect())
    }

    pub fn version(
        &self,
        subject: &str,
        spec: VersionSpec,
        include_deleted: bool,
    ) -> Result<VersionView> {
        let store = self.lock();
        let state = store.state();
        let versions = visible_versions(state, subject, include_deleted)?;
        let found = find_version(&versions, spec)?;
        Ok(view(subject, found, content_of(state, found.id)?.clone()))
    }

    /// The schema with global id `id`, as long as some subject version (even a soft-deleted
    /// one) still refers to it.
    pub fn schema_by_id(&self, id: u32) -> Result<SchemaContent> {
        let store = self.lock();
        let state = store.state();
        if id_usages(state, id).is_empty() {
            return Err(Error::SchemaNotFound(Some(id)));
        }
        content_of(state, id).cloned()
    }

    /// Every `(subject, version)` using schema `id`.
    pub fn id_versions(&self, id: u32, include_deleted: bool) -> Result<Vec<(String, u32)>> {
        let store = self.lock();
        let usages: Vec<(String, u32)> = id_usages(store.state(), id)
            .into_iter()
            .filter(|(_, v)| include_deleted || !v.deleted)
            .map(|(s, v)| (s.to_owned(), v.version))
            .collect();
        if usages.is_empty() {
            return Err(Error::SchemaNotFound(Some(id)));
        }
        Ok(usages)
    }

    /// Soft-deletes every live version of `subject`, or with `permanent` removes a subject that
    /// was soft-deleted first. Returns the versions deleted.
    pub fn delete_subject(&self, subject: &str, permanent: bool) -> Result<Vec<u32>> {
        self.lock().update(|state| {
            let versions = state
                .subjects
                .get_mut(subject)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Error::SubjectNotFound(subject.to_owned()))?;
            let deleted = if permanent {
                if versions.iter().any(|v| !v.deleted) {
                    return Err(Error::SubjectNotSoftDeleted(subject.to_owned()));
                }
                let all = versions.iter().map(|v| v.version).collect();
                state.subjects.remove(subject);
                all
            } else {
                let live: Vec<u32> = versions
                    .iter()
                    .filter(|v| !v.deleted)
                    .map(|v| v.version)
                    .collect();
                if live.is_empty() {
                    return Err(Error::SubjectSoftDeleted(subject.to_owned()));
                }
                versions.iter_mut().for_each(|v| v.deleted = true);
                live
            };
            state.subject_compatibility.remove(subject);
            tracing::info!(subject, permanent, versions = ?deleted, "deleted subject");
            Ok(deleted)
        })
    }

    /// Soft-deletes one version, or with `permanent` removes one that was soft-deleted first.
    pub fn delete_version(&self, subject: &str, spec: VersionSpec, permanent: bool) -> Result<u32> {
        self.lock().update(|state| {
            let versions = state
                .subjects
                .get_mut(subject)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Error::SubjectNotFound(subject.to_owned()))?;
            let index = match spec {
                VersionSpec::Latest => versions
                    .iter()
                    .rposition(|v| permanent || !v.deleted)
                    .ok_or(Error::VersionNotFound(0))?,
                VersionSpec::Number(n) => versions
                    .iter()
                    .position(|v| v.version == n)
                    .ok_or(Error::VersionNotFound(n))?,
            };
            let version = versions[index].version;
            let owned = || (subject.to_owned(), version);
            match (permanent, versions[index].deleted) {
                (false, true) => {
                    let (subject, version) = owned();
                    return Err(Error::VersionSoftDeleted { subject, version });
                }
                (true, false) => {
                    let (subject, version) = owned();
                    return Err(Error::VersionNotSoftDeleted { subject, version });
                }
                (false, false) => versions[index].deleted = true,
                (true, true) => {
                    versions.remove(index);
                    if versions.is_empty() {
                        state.subjects.remove(subject);
                    }
                }
            }
            tracing::info!(subject, version, permanent, "deleted version");
            Ok(version)
        })
    }

    /// Tests `request` against `subject` under its compatibility level: against one version
    /// (`Some(Number)`), against the latest (or all, for a transitive level) with
    /// `Some(Latest)`, or against every version the level asks for with `None`.
    pub fn test_compatibility(
        &self,
        subject: &str,
        spec: Option<VersionSpec>,
        request: SchemaRequest,
    ) -> Result<CompatibilityReport> {
        let store = self.lock();
        let state = store.state();
        let level = effective_level(state, subject);
        let (_, parsed) = prepare(state, request)?;
        let against = match spec {
            Some(number @ VersionSpec::Number(_)) => {
                let versions = visible_versions(state, subject, false)?;
                let found = find_version(&versions, number)?;
                vec![parse_stored(state, content_of(state, found.id)?)?]
            }
            Some(VersionSpec::Latest) | None => live_schemas(state, subject)?,
        };
        Ok(CompatibilityReport {
            messages: level.check(&parsed, &against),
        })
    }

    pub fn global_compatibility(&self) -> CompatibilityLevel {
        self.lock().state().global_compatibility
    }

    pub fn set_global_compatibility(&self, level: CompatibilityLevel) -> Result<()> {
        self.lock().update(|state| {
            state.global_compatibility = level;
            Ok(())
        })
    }

    /// Resets the global level to the default (BACKWARD) and returns the previous one.
    pub fn reset_global_compatibility(&self) -> Result<CompatibilityLevel> {
        self.lock()
            .update(|state| Ok(std::mem::take(&mut state.global_compatibility)))
    }

    /// The subject's own level; with `default_to_global`, the global level when it has none.
    pub fn subject_compatibility(
        &self,
        subject: &str,
        default_to_global: bool,
    ) -> Result<CompatibilityLevel> {
        let store = self.lock();
        let state = store.state();
        match state.subject_compatibility.get(subject) {
            Some(level) => Ok(*level),
            None if default_to_global => Ok(state.global_compatibility),
            None => Err(Error::SubjectLevelCompatibilityNotConfigured(
                subject.to_owned(),
            )),
        }
    }

    pub fn set_subject_compatibility(
        &self,
        subject: &str,
        level: CompatibilityLevel,
    ) -> Result<()> {
        self.lock().update(|state| {
            state
                .subject_compatibility
                .insert(subject.to_owned(), level);
            Ok(())
        })
    }

    /// Removes the subject's own level and returns it.
    pub fn delete_subject_compatibility(&self, subject: &str) -> Result<CompatibilityLevel> {
        self.lock()
            .update(|state| match state.subject_compatibility.remove(subject) {
                Some(level) => Ok(level),
                None if !state.subjects.contains_key(subject) => {
                    Err(Error::SubjectNotFound(subject.to_owned()))
                }
                None => Err(Error::SubjectLevelCompatibilityNotConfigured(
                    subject.to_owned(),
                )),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn avro(text: &str) -> SchemaRequest {
        SchemaRequest {
            schema: text.to_owned(),
            schema_type: SchemaType::Avro,
            references: vec![],
        }
    }

    const V1: &str = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}"#;

    #[test]
    fn version_spec_parses_like_confluent() {
        assert_eq!(VersionSpec::parse("latest").unwrap(), VersionSpec::Latest);
        assert_eq!(VersionSpec::parse("-1").unwrap(), VersionSpec::Latest);
        assert_eq!(VersionSpec::parse("3").unwrap(), VersionSpec::Number(3));
        for bad in ["0", "-2", "x", "2147483648"] {
            assert_eq!(
                VersionSpec::parse(bad).unwrap_err().error_code(),
                42202,
                "{bad}"
            );
        }
    }

    #[test]
    fn same_schema_same_id_across_subjects_and_whitespace() {
        let r = Registry::in_memory();
        let a = r.register("a", avro(V1)).unwrap();
        let pretty = V1.replace(',', ",\n  ");
        assert_eq!(r.register("a", avro(&pretty)).unwrap(), a);
        assert_eq!(r.register("b", avro(V1)).unwrap(), a);
        assert_eq!(r.versions("a", false).unwrap(), vec![1]);
    }

    #[test]
    fn soft_then_hard_delete() {
        let r = Registry::in_memory();
        let id = r.register("s", avro(V1)).unwrap();
        assert_eq!(r.delete_subject("s", true).unwrap_err().error_code(), 40405);
        assert_eq!(r.delete_subject("s", false).unwrap(), vec![1]);
        assert_eq!(
            r.delete_subject("s", false).unwrap_err().error_code(),
            40404
        );
        assert_eq!(r.versions("s", false).unwrap_err().error_code(), 40401);
        assert!(r.schema_by_id(id).is_ok(), "soft-deleted ids still resolve");
        assert_eq!(r.delete_subject("s", true).unwrap(), vec![1]);
        assert_eq!(r.schema_by_id(id).unwrap_err().error_code(), 40403);
        // Registering again reuses the id and restarts the versions.
        assert_eq!(r.register("s", avro(V1)).unwrap(), id);
        assert_eq!(r.versions("s", false).unwrap(), vec![1]);
    }

    #[test]
    fn references_resolve_and_pin_versions() {
        let r = Registry::in_memory();
        let address = r#"{"type":"record","name":"Address","namespace":"ns","fields":[{"name":"city","type":"string"}]}"#;
        r.register("address", avro(address)).unwrap();
        let person = r#"{"type":"record","name":"Person","namespace":"ns","fields":[{"name":"home","type":"ns.Address"}]}"#;
        let request = SchemaRequest {
            references: vec![Reference {
                name: "ns.Address".into(),
                subject: "address".into(),
                version: -1,
            }],
            ..avro(person)
        };
        let id = r.register("person", request).unwrap();
        let stored = r.schema_by_id(id).unwrap();
        assert_eq!(stored.references[0].version, 1);
        assert_eq!(
            r.register("bad", avro(person)).unwrap_err().error_code(),
            42201
        );
    }
}
