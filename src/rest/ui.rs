//! The web console at `/ui`: static assets from `ui/`, embedded in the binary at build time.

use axum::response::{IntoResponse, Response};

pub async fn index() -> Response {
    axum::response::Html("<!doctype html><title>cassink</title>").into_response()
}
