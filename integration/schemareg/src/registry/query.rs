//! Read-only questions about the state that several operations ask: which versions a request
//! sees, what a schema id holds, and how a submitted schema and its references resolve.

use std::collections::HashSet;

use super::{SchemaRequest, VersionSpec, VersionView};
use crate::compat::CompatibilityLevel;
use crate::error::{Error, Result};
use crate::schema::{self, ParsedSchema, Reference, SchemaContent};
use crate::store::{State, SubjectVersion};

pub(super) fn view(subject: &str, v: &SubjectVersion, content: SchemaContent) -> VersionView {
    VersionView {
        subject: subject.to_owned(),
        version: v.version,
        id: v.id,
        content,
    }
}

pub(super) fn effective_level(state: &State, subject: &str) -> CompatibilityLevel {
    state
        .subject_compatibility
        .get(subject)
        .copied()
        .unwrap_or(state.global_compatibility)
}

pub(super) fn content_of(state: &State, id: u32) -> Result<&SchemaContent> {
    state
        .schemas
        .get(&id)
        .ok_or(Error::SchemaNotFound(Some(id)))
}

/// The subject's versions a request may see; a subject with none is not found.
pub(super) fn visible_versions<'a>(
    state: &'a State,
    subject: &str,
    include_deleted: bool,
) -> Result<Vec<&'a SubjectVersion>> {
    let versions: Vec<&SubjectVersion> = state
        .subjects
        .get(subject)
        .map(|vs| {
            vs.iter()
                .filter(|v| include_deleted || !v.deleted)
                .collect()
        })
        .unwrap_or_default();
    if versions.is_empty() {
        return Err(Error::SubjectNotFound(subject.to_owned()));
    }
    Ok(versions)
}

pub(super) fn find_version<'a>(
    versions: &[&'a SubjectVersion],
    spec: VersionSpec,
) -> Result<&'a SubjectVersion> {
    match spec {
        VersionSpec::Latest => versions.last().copied().ok_or(Error::VersionNotFound(0)),
        VersionSpec::Number(n) => versions
            .iter()
            .find(|v| v.version == n)
            .copied()
            .ok_or(Error::VersionNotFound(n)),
    }
}

pub(super) fn id_usages(state: &State, id: u32) -> Vec<(&str, &SubjectVersion)> {
    state
        .subjects
        .iter()
        .flat_map(|(s, vs)| vs.iter().map(move |v| (s.as_str(), v)))
        .filter(|(_, v)| v.id == id)
        .collect()
}

/// The parsed live schemas of `subject`, oldest first (empty for an unknown subject).
pub(super) fn live_schemas(state: &State, subject: &str) -> Result<Vec<ParsedSchema>> {
    let Some(versions) = state.subjects.get(subject) else {
        return Ok(Vec::new());
    };
    versions
        .iter()
        .filter(|v| !v.deleted)
        .map(|v| parse_stored(state, content_of(state, v.id)?))
        .collect()
}

pub(super) fn parse_stored(state: &State, content: &SchemaContent) -> Result<ParsedSchema> {
    let texts = referenced_texts(state, &content.references)?;
    ParsedSchema::parse(content.schema_type, &content.schema, &texts)
}

/// Normalizes and parses a submitted schema, pinning its references to real versions.
pub(super) fn prepare(
    state: &State,
    request: SchemaRequest,
) -> Result<(SchemaContent, ParsedSchema)> {
    let schema = schema::normalize(&request.schema)?;
    let references = request
        .references
        .into_iter()
        .map(|r| {
            let found = resolve_reference(state, &r)?;
            Ok(Reference {
                version: i32::try_from(found.version).unwrap_or(i32::MAX),
                ..r
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let texts = referenced_texts(state, &references)?;
    let parsed = ParsedSchema::parse(request.schema_type, &schema, &texts)?;
    let content = SchemaContent {
        schema_type: request.schema_type,
        schema,
        references,
    };
    Ok((content, parsed))
}

fn resolve_reference<'a>(state: &'a State, r: &Reference) -> Result<&'a SubjectVersion> {
    let not_found = || {
        Error::InvalidSchema(format!(
            "reference {} to subject '{}' version {} not found",
            r.name, r.subject, r.version
        ))
    };
    let versions = visible_versions(state, &r.subject, false).map_err(|_| not_found())?;
    let spec = if r.version == -1 {
        VersionSpec::Latest
    } else {
        VersionSpec::Number(u32::try_from(r.version).map_err(|_| not_found())?)
    };
    find_version(&versions, spec).map_err(|_| not_found())
}

/// The texts of every schema `references` reaches, dependencies first.
fn referenced_texts(state: &State, references: &[Reference]) -> Result<Vec<String>> {
    fn visit(
        state: &State,
        references: &[Reference],
        seen: &mut HashSet<(String, i32)>,
        out: &mut Vec<String>,
    ) -> Result<()> {
        for r in references {
            if !seen.insert((r.subject.clone(), r.version)) {
                continue;
            }
            let found = resolve_reference(state, r)?;
            let content = content_of(state, found.id)?;
            visit(state, &content.references, seen, out)?;
            out.push(content.schema.clone());
        }
        Ok(())
    }
    let mut out = Vec::new();
    visit(state, references, &mut HashSet::new(), &mut out)?;
    Ok(out)
}
