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
    let id = parse_id(&id)?;
    let mut fields = schema_fields(&registry.schema_by_id(id)?);
    fields.insert("guid".into(), guid(id).into());
    Ok(Reply(Value::Object(fields)))
}

/// `GET /schemas/guids/{guid}` -> `{"schema"[,"schemaType"]}` (newer Confluent serdes put
/// the GUID of the writer schema in a record header).
pub async fn by_guid(
    State(registry): State<Shared>,
    Path(guid): Path<String>,
) -> Result<Reply<Value>> {
    let id = id_of_guid(&guid).ok_or(Error::RouteNotFound)?;
    let mut fields = schema_fields(&registry.schema_by_id(id)?);
    fields.insert("guid".into(), guid.into());
    Ok(Reply(Value::Object(fields)))
}

/// The GUID of a schema: derived from its global id (ids are per schema content and stable
/// across restarts, so the GUID is too).
pub fn guid(id: u32) -> String {
    uuid::Uuid::from_u64_pair(GUID_PREFIX, u64::from(id)).to_string()
}

const GUID_PREFIX: u64 = 0x7363_6865_6d61_7265; // "schemare"

fn id_of_guid(guid: &str) -> Option<u32> {
    let (prefix, id) = uuid::Uuid::parse_str(guid.trim()).ok()?.as_u64_pair();
    (prefix == GUID_PREFIX)
        .then(|| u32::try_from(id).ok())
        .flatten()
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
