//! `/connector-plugins/...` handlers.

use super::{ApiError, ApiResult, AppState, Body};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cassink_worker::plugins::{self, PluginError};
use serde_json::{Map, Value};

#[derive(serde::Deserialize)]
pub struct ListQuery {
    #[serde(rename = "connectorsOnly")]
    connectors_only: Option<String>,
}

/// `GET /connector-plugins[?connectorsOnly=false]`.
pub async fn list(Query(q): Query<ListQuery>) -> Response {
    let connectors_only = !q
        .connectors_only
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"));
    Json(plugins::catalog(connectors_only)).into_response()
}

impl From<PluginError> for ApiError {
    fn from(e: PluginError) -> Self {
        match e {
            PluginError::Unknown(_) => ApiError::not_found(e.to_string()),
            PluginError::Mismatch { .. } => ApiError::bad_request(e.to_string()),
        }
    }
}

/// `GET /connector-plugins/{p}/config`: the plugin's key definitions.
pub async fn config(Path(name): Path<String>) -> ApiResult<Response> {
    Ok(Json(plugins::keys(&name)?).into_response())
}

/// `PUT /connector-plugins/{p}/config/validate`: framework and plugin keys, every error.
pub async fn validate(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(body): Body<Map<String, Value>>,
) -> ApiResult<Response> {
    // An unknown plugin is a 404 before a bad body is a 400, as in Connect.
    if plugins::find_plugin(&name).is_none() {
        return Err(PluginError::Unknown(name).into());
    }
    let config =
        cassink_config::from_json(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let policy = &s.herder.worker().override_policy;
    Ok(Json(plugins::validate_for(&name, config, policy)?).into_response())
}
