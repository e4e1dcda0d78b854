//! The admin HTTP endpoint: health, fault controls and counters.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::exec::Engine;
use crate::faults::{FaultRequest, Faults};

#[derive(Clone)]
pub struct AdminState {
    pub engine: Arc<Engine>,
    pub faults: Arc<Faults>,
}

pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route(
            "/faults",
            get(get_faults).post(post_faults).delete(delete_faults),
        )
        .route("/stats", get(stats))
        .with_state(state)
}

async fn get_faults(State(s): State<AdminState>) -> Json<Value> {
    Json(json!(s.faults.status()))
}

async fn post_faults(
    State(s): State<AdminState>,
    body: Result<Json<FaultRequest>, axum::extract::rejection::JsonRejection>,
) -> (StatusCode, Json<Value>) {
    match body {
        Ok(Json(req)) => {
            tracing::info!(mode = ?req.mode, duration_ms = ?req.duration_ms, "fault set");
            s.faults.set(&req);
            (StatusCode::OK, Json(json!(s.faults.status())))
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"error": format!("{e}; expected {{\"mode\": \"refuse|drop|unavailable|write_timeout|read_timeout|overloaded\", \"duration_ms\": N}}")}),
            ),
        ),
    }
}

async fn delete_faults(State(s): State<AdminState>) -> Json<Value> {
    tracing::info!("faults cleared");
    s.faults.clear();
    Json(json!(s.faults.status()))
}

async fn stats(State(s): State<AdminState>) -> Json<Value> {
    let st = &s.engine.stats;
    Json(json!({
        "connections": st.connections.load(Ordering::Relaxed),
        "open_connections": st.open_connections.load(Ordering::Relaxed),
        "requests": st.requests.load(Ordering::Relaxed),
        "writes": st.writes.load(Ordering::Relaxed),
        "reads": st.reads.load(Ordering::Relaxed),
    }))
}
