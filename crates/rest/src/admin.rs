//! `/`, `/health`, `/metrics` (and the flows under it), `/openapi.json` and `/admin/loggers`.

use super::{ApiError, ApiResult, AppState, Body};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cassink_worker::logging::LoggingError;
use serde_json::{json, Value};

pub async fn root(State(s): State<AppState>) -> Response {
    let cluster_id = {
        let mut cached = s.cluster_id.lock().await;
        if cached.is_none() {
            *cached = s.herder.kafka_cluster_id().await;
        }
        cached.clone()
    };
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "commit": option_env!("CASSINK_GIT_COMMIT").unwrap_or("unknown"),
        "kafka_cluster_id": cluster_id,
    }))
    .into_response()
}

/// Connect's health check: 200 once started (503 comes from [`super::Front`] before), 500
/// while the worker cannot write to its storage.
pub async fn health(State(s): State<AppState>) -> Response {
    match s.herder.storage_problem() {
        None => Json(json!({
            "status": "healthy",
            "message": "Worker has completed startup and is ready to handle requests."
        }))
        .into_response(),
        Some(problem) => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"status": "unhealthy", "message": problem})),
        )
            .into_response(),
    }
}

/// `GET /metrics`: OpenMetrics text, with the statuses of what this worker runs.
pub async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.herder.openmetrics().await,
    )
        .into_response()
}

/// `GET /metrics/connectors`: the flow of every connector on this worker, by name.
pub async fn flows(State(s): State<AppState>) -> Response {
    Json(s.herder.flows().await).into_response()
}

/// `GET /metrics/connectors/{name}`: one connector's flow on this worker.
pub async fn flow(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<Response> {
    Ok(Json(s.herder.flow(&name).await?).into_response())
}

pub async fn openapi_json() -> Response {
    Json(super::openapi()).into_response()
}

pub async fn loggers(State(s): State<AppState>) -> Response {
    Json(s.logs.loggers()).into_response()
}

pub async fn logger(State(s): State<AppState>, Path(name): Path<String>) -> Response {
    Json(s.logs.logger(&name)).into_response()
}

pub async fn set_logger(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Response> {
    let level = body.get("level").and_then(Value::as_str).ok_or_else(|| {
        ApiError::bad_request("Desired 'level' parameter was not specified in the request.")
    })?;
    match s.logs.set_level(&name, level) {
        Ok(affected) => Ok(Json(affected).into_response()),
        // Connect answers an unknown level with a 404 (its NotFoundException).
        Err(e @ LoggingError::InvalidLevel(_)) => Err(ApiError::not_found(e.to_string())),
        Err(e @ LoggingError::InvalidName(_)) => Err(ApiError::bad_request(e.to_string())),
        Err(e) => Err(ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            e.to_string(),
        )),
    }
}
