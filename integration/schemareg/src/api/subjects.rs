//! `/subjects/...`: register, look up, list and delete subject versions.

use axum::extract::{Path, Query, State};
use serde_json::{json, Value};

use super::{schema_fields, Body, Params, RawSchema, Reply, SchemaBody, Shared};
use crate::error::Result;
use crate::registry::{SubjectFilter, VersionSpec, VersionView};

/// `GET /subjects[?subjectPrefix=&deleted=&deleted_only=&offset=&limit=]`
pub async fn list(
    State(registry): State<Shared>,
    Query(params): Query<Params>,
) -> Reply<Vec<String>> {
    let filter = SubjectFilter {
        prefix: params.get("subjectPrefix").map(str::to_owned),
        deleted: params.flag("deleted"),
        deleted_only: params.flag("deleted_only") || params.flag("deletedOnly"),
    };
    Reply(paginate(registry.subjects(&filter), &params))
}

/// `POST /subjects/{subject}/versions` -> `{"id": N}`
pub async fn register(
    State(registry): State<Shared>,
    Path(subject): Path<String>,
    Body(body): Body<SchemaBody>,
) -> Result<Reply<Value>> {
    let id = registry.register(&subject, body.into_request()?)?;
    Ok(Reply(json!({ "id": id, "guid": super::schemas::guid(id) })))
}

/// `POST /subjects/{subject}[?deleted=]` -> the version holding the schema.
pub async fn lookup(
    State(registry): State<Shared>,
    Path(subject): Path<String>,
    Query(params): Query<Params>,
    Body(body): Body<SchemaBody>,
) -> Result<Reply<Value>> {
    let found = registry.lookup(&subject, body.into_request()?, params.flag("deleted"))?;
    Ok(Reply(version_json(&found)))
}

/// `GET /subjects/{subject}/versions[?deleted=]`
pub async fn versions(
    State(registry): State<Shared>,
    Path(subject): Path<String>,
    Query(params): Query<Params>,
) -> Result<Reply<Vec<u32>>> {
    let versions = registry.versions(&subject, params.flag("deleted"))?;
    Ok(Reply(paginate(versions, &params)))
}

/// `GET /subjects/{subject}/versions/{version}[?deleted=]`
pub async fn version(
    State(registry): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> Result<Reply<Value>> {
    let spec = VersionSpec::parse(&version)?;
    let found = registry.version(&subject, spec, params.flag("deleted"))?;
    Ok(Reply(version_json(&found)))
}

/// `GET /subjects/{subject}/versions/{version}/schema` -> the schema text itself.
pub async fn version_schema(
    State(registry): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> Result<RawSchema> {
    let spec = VersionSpec::parse(&version)?;
    let found = registry.version(&subject, spec, params.flag("deleted"))?;
    Ok(RawSchema(found.content.schema))
}

/// `DELETE /subjects/{subject}[?permanent=true]` -> the versions deleted.
pub async fn delete_subject(
    State(registry): State<Shared>,
    Path(subject): Path<String>,
    Query(params): Query<Params>,
) -> Result<Reply<Vec<u32>>> {
    Ok(Reply(
        registry.delete_subject(&subject, params.flag("permanent"))?,
    ))
}

/// `DELETE /subjects/{subject}/versions/{version}[?permanent=true]` -> the version deleted.
pub async fn delete_version(
    State(registry): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> Result<Reply<u32>> {
    let spec = VersionSpec::parse(&version)?;
    Ok(Reply(registry.delete_version(
        &subject,
        spec,
        params.flag("permanent"),
    )?))
}

fn version_json(found: &VersionView) -> Value {
    let mut fields = schema_fields(&found.content);
    fields.insert("subject".into(), found.subject.clone().into());
    fields.insert("version".into(), found.version.into());
    fields.insert("id".into(), found.id.into());
    fields.insert("guid".into(), super::schemas::guid(found.id).into());
    Value::Object(fields)
}

/// Applies Confluent's `offset`/`limit` (a negative or missing limit means all).
pub(super) fn paginate<T>(items: Vec<T>, params: &Params) -> Vec<T> {
    let offset = params
        .get("offset")
        .and_then(|o| o.parse().ok())
        .unwrap_or(0);
    let limit = params
        .get("limit")
        .and_then(|l| l.parse::<i64>().ok())
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(usize::MAX);
    items.into_iter().skip(offset).take(limit).collect()
}
