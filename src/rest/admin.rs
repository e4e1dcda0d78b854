//! `/`, `/health`, `/metrics` (and the flows under it), `/openapi.json` and `/admin/loggers`.

use super::{ApiError, ApiResult, AppState, Body};
use crate::logging::LoggingError;
use crate::metrics;
use crate::worker::task;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

pub async fn root(State(s): State<AppState>) -> Response {
    let cluster_id = {
        let mut cached = s.cluster_id.lock().await;
        if cached.is_none() {
            *cached = s.herder.offsets_admin().cluster_id().await;
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
    let worker_id = &s.herder.worker().worker_id;
    let connectors = s
        .herder
        .local_statuses()
        .await
        .into_iter()
        .map(|c| metrics::ConnectorView {
            status: (&c.connector.worker_id == worker_id).then(|| status(c.connector.state)),
            tasks: c.tasks.iter().map(|t| (t.id, status(t.state))).collect(),
            name: c.name,
        })
        .collect();
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics::global().encode_with(metrics::WorkerView { connectors }),
    )
        .into_response()
}

fn status(state: task::State) -> metrics::Status {
    match state {
        task::State::Running => metrics::Status::Running,
        task::State::Paused => metrics::Status::Paused,
        task::State::Stopped => metrics::Status::Stopped,
        task::State::Failed => metrics::Status::Failed,
        task::State::Unassigned => metrics::Status::Unassigned,
        task::State::Restarting => metrics::Status::Restarting,
    }
}

/// `GET /metrics/connectors`: the flow of every connector on this worker, by name.
pub async fn flows(State(s): State<AppState>) -> Response {
    let flows: std::collections::BTreeMap<String, metrics::Flow> = s
        .herder
        .names()
        .await
        .into_iter()
        .map(|name| {
            let flow = metrics::global().flow(&name);
            (name, flow)
        })
        .collect();
    Json(flows).into_response()
}

/// `GET /metrics/connectors/{name}`: one connector's flow on this worker.
pub async fn flow(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<Response> {
    s.herder.info(&name).await?;
    Ok(Json(metrics::global().flow(&name)).into_response())
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
