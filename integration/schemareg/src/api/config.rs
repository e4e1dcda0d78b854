//! `/config`, `/compatibility` and `/mode`: compatibility levels and tests.

use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Body, Params, Reply, SchemaBody, Shared};
use crate::compat::CompatibilityLevel;
use crate::error::{Error, Result};
use crate::registry::VersionSpec;

/// `PUT /config[/{subject}]` body; other config fields Confluent knows are ignored.
#[derive(Debug, Deserialize)]
pub struct ConfigBody {
    compatibility: Option<String>,
}

impl ConfigBody {
    fn level(&self) -> Result<CompatibilityLevel> {
        self.compatibility
            .as_deref()
            .ok_or(Error::InvalidCompatibilityLevel)?
            .parse()
    }
}

fn level_json(level: CompatibilityLevel) -> Reply<Value> {
    Reply(json!({ "compatibilityLevel": level.as_str() }))
}

/// `GET /config`
pub async fn get_global(State(registry): State<Shared>) -> Reply<Value> {
    level_json(registry.global_compatibility())
}

/// `PUT /config` -> `{"compatibility": LEVEL}`
pub async fn put_global(
    State(registry): State<Shared>,
    Body(body): Body<ConfigBody>,
) -> Result<Reply<Value>> {
    let level = body.level()?;
    registry.set_global_compatibility(level)?;
    Ok(Reply(json!({ "compatibility": level.as_str() })))
}

/// `DELETE /config` -> the level in force before the reset to BACKWARD.
pub async fn delete_global(State(registry): State<Shared>) -> Result<Reply<Value>> {
    Ok(level_json(registry.reset_global_compatibility()?))
}

/// `GET /config/{subject}[?defaultToGlobal=true]`
pub async fn get_subject(
    State(registry): State<Shared>,
    Path(subject): Path<String>,
    Query(params): Query<Params>,
) -> Result<Reply<Value>> {
    let level = registry.subject_compatibility(&subject, params.flag("defaultToGlobal"))?;
    Ok(level_json(level))
}

/// `PUT /config/{subject}` -> `{"compatibility": LEVEL}`
pub async fn put_subject(
    State(registry): State<Shared>,
    Path(subject): Path<String>,
    Body(body): Body<ConfigBody>,
) -> Result<Reply<Value>> {
    let level = body.level()?;
    registry.set_subject_compatibility(&subject, level)?;
    Ok(Reply(json!({ "compatibility": level.as_str() })))
}

/// `DELETE /config/{subject}` -> the subject's level before it was removed.
pub async fn delete_subject(
    State(registry): State<Shared>,
    Path(subject): Path<String>,
) -> Result<Reply<Value>> {
    Ok(level_json(registry.delete_subject_compatibility(&subject)?))
}

/// `POST /compatibility/subjects/{subject}/versions/{version}[?verbose=true]`
pub async fn test_version(
    State(registry): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Query<Params>,
    Body(body): Body<SchemaBody>,
) -> Result<Reply<Value>> {
    let spec = VersionSpec::parse(&version)?;
    test(&registry, &subject, Some(spec), body, &params)
}

/// `POST /compatibility/subjects/{subject}/versions[?verbose=true]`: against every version the
/// subject's level asks for.
pub async fn test_all(
    State(registry): State<Shared>,
    Path(subject): Path<String>,
    Query(params): Query<Params>,
    Body(body): Body<SchemaBody>,
) -> Result<Reply<Value>> {
    test(&registry, &subject, None, body, &params)
}

fn test(
    registry: &Shared,
    subject: &str,
    spec: Option<VersionSpec>,
    body: SchemaBody,
    params: &Params,
) -> Result<Reply<Value>> {
    let report = registry.test_compatibility(subject, spec, body.into_request()?)?;
    let mut reply = json!({ "is_compatible": report.is_compatible() });
    if params.flag("verbose") {
        reply["messages"] = json!(report.messages);
    }
    Ok(Reply(reply))
}

/// `GET /mode[/{subject}]`: this registry is always read-write.
pub async fn mode() -> Reply<Value> {
    Reply(json!({ "mode": "READWRITE" }))
}
