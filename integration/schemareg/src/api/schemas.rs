//! `/schemas/...`: schemas by global id, and the supported types.

use std::collections::BTreeSet;

use axum::extract::{Path, Query, State};
use serde_json::{json, Value};

use super::subjects::paginate;
use super::{schema_fields, Params, RawSchema, Reply, Shared};
use crate::error::{Error, Result};
use crate::schema::SchemaType;

/// `GET /schemas/types`
pub async fn types() -> Reply<Vec<&'static str>> {
    Reply(SchemaType::ALL.iter().map(|t| t.as_str()).collect())
}

/// `GET /schemas/ids/{id}` -> `{"schema"[,"schemaType"][,"references"]}`
pub async fn by_id(State(registry): State<Shared>, Path(id): Path<String>) -> Result<Reply<Value>> {
    let content = registry.schema_by_id(parse_id(&id)?)?;
    Ok(Reply(Value::Object(schema_fields(&content))))
}

/// `GET /schemas/ids/{id}/schema` -> the schema text itself.
pub async fn raw_by_id(
    State(registry): State<Shared>,
    Path(id): Path<String>,
) -> Result<RawSchema> {
    Ok(RawSchema(registry.schema_by_id(parse_id(&id)?)?.schema))
}

/// `GET /schemas/ids/{id}/versions` -> `[{"subject","version"}]`
pub async fn id_versions(
    State(registry): State<Shared>,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Reply<Vec<Value>>> {
    let usages = registry.id_versions(parse_id(&id)?, params.flag("deleted"))?;
    let usages = usages
        .into_iter()
        .filter(|(s, _)| params.get("subject").is_none_or(|want| want == s))
        .map(|(subject, version)| json!({ "subject": subject, "version": version }))
        .collect();
    Ok(Reply(paginate(usages, &params)))
}

/// `GET /schemas/ids/{id}/subjects` -> the subjects using the schema.
pub async fn id_subjects(
    State(registry): State<Shared>,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Reply<Vec<String>>> {
    let usages = registry.id_versions(parse_id(&id)?, params.flag("deleted"))?;
    let subjects: BTreeSet<String> = usages
        .into_iter()
        .map(|(s, _)| s)
        .filter(|s| params.get("subject").is_none_or(|want| want == s))
        .collect();
    Ok(Reply(paginate(subjects.into_iter().collect(), &params)))
}

/// A path id that is not a number names no resource, as in Confluent (HTTP 404).
fn parse_id(id: &str) -> Result<u32> {
    id.parse().map_err(|_| Error::RouteNotFound)
}
