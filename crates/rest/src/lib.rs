//! The Kafka Connect REST API (axum). Handlers stay thin: parse, call the
//! [`Herder`](cassink_worker::herder::Herder), shape the answer. Every error is
//! `{"error_code": <http code>, "message": "..."}`, including unknown paths (404), wrong
//! methods (405) and unreadable bodies (400/415/422).
//!
//! Crate `cassink-rest`. May depend on `cassink-worker` (everything it serves comes from the
//! herder), plus `cassink-config` for the config maps it parses and `cassink-tls` for its https
//! listeners; it cannot name Kafka, a store, a converter or a sink.

mod admin;
pub mod auth;
mod connectors;
mod openapi;
mod plugins;
mod server;
pub mod tls;

pub use server::{Server, ServerError};
mod ui;

use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use cassink_worker::herder::{Herder, HerderError, Refusal};
use cassink_worker::logging::LogControl;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// Largest request body accepted (413 beyond).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Deepest JSON nesting accepted in a request body (400 beyond).
pub const MAX_JSON_DEPTH: usize = 32;
/// How long one request may take (Connect's own REST timeout is 90 s).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(90);

pub use openapi::openapi;

/// The REST API from the moment the listeners are bound: until [`Front::ready`] hands it the
/// real router (the worker has read its connectors), `GET /health` answers 503 as Connect's
/// does while starting, and every other request 503 with Connect's error body.
#[derive(Clone, Default)]
pub struct Front {
    app: Arc<std::sync::OnceLock<Router>>,
}

impl Front {
    pub fn ready(&self, app: Router) {
        let _ = self.app.set(app);
    }

    pub fn router(&self) -> Router {
        let front = self.clone();
        Router::new().fallback(move |request: Request| {
            let front = front.clone();
            async move {
                match front.app.get() {
                    Some(app) => match tower::ServiceExt::oneshot(app.clone(), request).await {
                        Ok(response) => response.into_response(),
                        Err(never) => match never {},
                    },
                    None if request.uri().path() == "/health" => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        Json(serde_json::json!({
                            "status": "starting",
                            "message": "Worker is still starting up."
                        })),
                    )
                        .into_response(),
                    None => ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "The worker is still starting up; try again shortly.",
                    )
                    .into_response(),
                }
            }
        })
    }
}

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub herder: Arc<Herder>,
    pub logs: Arc<LogControl>,
    /// The Kafka cluster id once learned (retried while unknown).
    cluster_id: Arc<Mutex<Option<String>>>,
    /// Basic-auth users; `None`: the API is open.
    auth: Option<Arc<auth::Users>>,
}

impl AppState {
    pub fn new(herder: Arc<Herder>, logs: Arc<LogControl>) -> Self {
        Self {
            herder,
            logs,
            cluster_id: Arc::new(Mutex::new(None)),
            auth: None,
        }
    }

    /// Requires HTTP basic auth by `users` on every route but `/health`.
    pub fn with_auth(mut self, users: auth::Users) -> Self {
        self.auth = Some(Arc::new(users));
        self
    }
}

/// A Connect-style error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error_code: u16,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = self.status.as_u16(), "{}", self.message);
        }
        let body = ErrorBody {
            error_code: self.status.as_u16(),
            message: &self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<HerderError> for ApiError {
    fn from(e: HerderError) -> Self {
        let status = match e.refusal() {
            Refusal::NotFound => StatusCode::NOT_FOUND,
            Refusal::Conflict => StatusCode::CONFLICT,
            Refusal::BadRequest => StatusCode::BAD_REQUEST,
            Refusal::Failed => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, e.to_string())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// `Json` whose rejections are Connect-style JSON errors.
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/")
                    && ct.contains("json")
            });
        if !is_json {
            // Let `Json` produce its 415 for a missing or wrong content type.
            return match Json::<T>::from_request(req, state).await {
                Ok(Json(v)) => Ok(Body(v)),
                Err(rejection) => Err(ApiError::new(rejection.status(), rejection.body_text())),
            };
        }
        let bytes = bytes::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
        if json_depth(&bytes) > MAX_JSON_DEPTH {
            return Err(ApiError::bad_request(format!(
                "Request body is nested deeper than {MAX_JSON_DEPTH} levels"
            )));
        }
        match Json::<T>::from_bytes(&bytes) {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(ApiError::new(rejection.status(), rejection.body_text())),
        }
    }
}

/// The deepest nesting of `[`/`{` in a JSON text (strings skipped), without parsing it.
fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Fails requests that take longer than [`REQUEST_TIMEOUT`] with a JSON 500, as Connect does.
async fn timeout(req: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Request timed out after {} s", REQUEST_TIMEOUT.as_secs()),
        )
        .into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found("HTTP 404 Not Found")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "HTTP 405 Method Not Allowed",
    )
}

/// Every route of the API.
pub fn router(state: AppState) -> Router {
    let auth = state.auth.clone();
    let app = routes(state)
        .layer(middleware::from_fn(timeout))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    match auth {
        Some(users) => app.layer(middleware::from_fn_with_state(users, auth::require)),
        None => app,
    }
}

fn routes(state: AppState) -> Router {
    use connectors as c;
    Router::new()
        .route("/", get(admin::root))
        .route("/health", get(admin::health))
        .route("/metrics", get(admin::metrics))
        .route("/metrics/connectors", get(admin::flows))
        .route("/metrics/connectors/{name}", get(admin::flow))
        .route("/ui", get(ui::index))
        .route("/ui/", get(ui::index))
        .route("/ui/{*asset}", get(ui::file))
        .route("/openapi.json", get(admin::openapi_json))
        .route("/admin/loggers", get(admin::loggers))
        .route(
            "/admin/loggers/{name}",
            get(admin::logger).put(admin::set_logger),
        )
        .route("/connector-plugins", get(plugins::list))
        .route("/connector-plugins/{plugin}/config", get(plugins::config))
        .route(
            "/connector-plugins/{plugin}/config/validate",
            put(plugins::validate),
        )
        .route("/connectors", get(c::list).post(c::create))
        .route("/connectors/{name}", get(c::info).delete(c::delete))
        .route(
            "/connectors/{name}/config",
            get(c::config).put(c::put_config).patch(c::patch_config),
        )
        .route("/connectors/{name}/status", get(c::status))
        .route("/connectors/{name}/restart", post(c::restart))
        .route("/connectors/{name}/pause", put(c::pause))
        .route("/connectors/{name}/resume", put(c::resume))
        .route("/connectors/{name}/stop", put(c::stop))
        .route("/connectors/{name}/tasks", get(c::tasks))
        .route(
            "/connectors/{name}/tasks/{task}/status",
            get(c::task_status),
        )
        .route(
            "/connectors/{name}/tasks/{task}/restart",
            post(c::restart_task),
        )
        .route("/connectors/{name}/topics", get(c::topics))
        .route("/connectors/{name}/topics/reset", put(c::reset_topics))
        .route(
            "/connectors/{name}/offsets",
            get(c::offsets)
                .patch(c::alter_offsets)
                .delete(c::reset_offsets),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// Percent-encodes a connector name for a `Location` header path segment.
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_depth_skips_strings() {
        assert_eq!(json_depth(br#"{"a": "[[[{{{", "b": [1, {"c": 2}]}"#), 3);
        assert_eq!(json_depth(br#""\"[""#), 0);
        assert_eq!(json_depth(b"[[[[]]]]"), 4);
    }
}
