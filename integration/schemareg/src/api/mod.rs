//! The Confluent Schema Registry REST API: routes, request bodies and response encoding.
//! Handlers stay thin and call [`Registry`]; Confluent's wire details live here.

mod config;
mod schemas;
mod subjects;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::registry::{Registry, SchemaRequest};
use crate::schema::{Reference, SchemaContent, SchemaType};

/// The content type of every response.
pub const SCHEMA_REGISTRY_JSON: &str = "application/vnd.schemaregistry.v1+json";

/// Request content types accepted, as Confluent does (a missing one is accepted too).
const ACCEPTED_CONTENT_TYPES: [&str; 4] = [
    "application/vnd.schemaregistry.v1+json",
    "application/vnd.schemaregistry+json",
    "application/json",
    "application/octet-stream",
];

type Shared = Arc<Registry>;

/// The registry's routes.
pub fn router(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/", get(|| async { Reply(json!({})) }))
        .route("/subjects", get(subjects::list))
        .route(
            "/subjects/{subject}",
            post(subjects::lookup).delete(subjects::delete_subject),
        )
        .route(
            "/subjects/{subject}/versions",
            get(subjects::versions).post(subjects::register),
        )
        .route(
            "/subjects/{subject}/versions/{version}",
            get(subjects::version).delete(subjects::delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(subjects::version_schema),
        )
        .route("/schemas/types", get(schemas::types))
        .route("/schemas/ids/{id}", get(schemas::by_id))
        .route("/schemas/guids/{guid}", get(schemas::by_guid))
        .route("/schemas/ids/{id}/schema", get(schemas::raw_by_id))
        .route("/schemas/ids/{id}/versions", get(schemas::id_versions))
        .route("/schemas/ids/{id}/subjects", get(schemas::id_subjects))
        .route(
            "/config",
            get(config::get_global)
                .put(config::put_global)
                .delete(config::delete_global),
        )
        .route(
            "/config/{subject}",
            get(config::get_subject)
                .put(config::put_subject)
                .delete(config::delete_subject),
        )
        .route(
            "/compatibility/subjects/{subject}/versions",
            post(config::test_all),
        )
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(config::test_version),
        )
        .route("/mode", get(config::mode))
        .route("/mode/{subject}", get(config::mode))
        .fallback(|| async { Error::RouteNotFound })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(middleware::from_fn(log_request))
        .with_state(registry)
}

async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let response = next.run(request).await;
    tracing::debug!(%method, %uri, status = response.status().as_u16(), "request");
    response
}

/// A JSON response with the schema registry content type.
pub struct Reply<T>(pub T);

impl<T: Serialize> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(SCHEMA_REGISTRY_JSON),
                )],
                body,
            )
                .into_response(),
            Err(e) => Error::BadRequest(format!("response not serializable: {e}")).into_response(),
        }
    }
}

/// A schema's own text as the response body (the `/schema` endpoints).
pub struct RawSchema(pub String);

impl IntoResponse for RawSchema {
    fn into_response(self) -> Response {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(SCHEMA_REGISTRY_JSON),
            )],
            self.0,
        )
            .into_response()
    }
}

/// A JSON request body in any content type Confluent accepts; errors as Confluent bodies.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self> {
        if let Some(value) = request.headers().get(header::CONTENT_TYPE) {
            let essence = value
                .to_str()
                .unwrap_or_default()
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            if !ACCEPTED_CONTENT_TYPES.contains(&essence.as_str()) {
                return Err(Error::UnsupportedMediaType);
            }
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| Error::BadRequest(e.to_string()))?;
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|e| Error::BadRequest(e.to_string()))
    }
}

/// The body of register, lookup and compatibility requests. Fields Confluent added later
/// (`metadata`, `ruleSet`, ...) are accepted and ignored.
#[derive(Debug, Deserialize)]
pub struct SchemaBody {
    schema: Option<String>,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
    #[serde(default)]
    references: Option<Vec<Reference>>,
}

impl SchemaBody {
    fn into_request(self) -> Result<SchemaRequest> {
        let schema = self
            .schema
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Error::InvalidSchema("Empty schema".to_owned()))?;
        Ok(SchemaRequest {
            schema,
            schema_type: SchemaType::from_request(self.schema_type.as_deref())?,
            references: self.references.unwrap_or_default(),
        })
    }
}

/// Query parameters, read leniently: unknown ones are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// A boolean flag; `true` in any case (Python clients send `True`).
    fn flag(&self, name: &str) -> bool {
        self.0
            .get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// A schema's fields as Confluent prints them: `schemaType` only when not AVRO, `references`
/// only when there are some.
fn schema_fields(content: &SchemaContent) -> Map<String, Value> {
    let mut fields = Map::new();
    if content.schema_type != SchemaType::Avro {
        fields.insert("schemaType".into(), content.schema_type.as_str().into());
    }
    if !content.references.is_empty() {
        fields.insert("references".into(), json!(content.references));
    }
    fields.insert("schema".into(), content.schema.clone().into());
    fields
}
