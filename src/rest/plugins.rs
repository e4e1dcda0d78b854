//! `/connector-plugins/...` handlers.

use super::{ApiError, ApiResult, AppState, Body};
use crate::connector::SinkConnector;
use crate::worker::plugins::{find_plugin, plugins};
use crate::worker::validation::{self, ConfigKeyInfo};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use std::sync::Arc;

#[derive(serde::Deserialize)]
pub struct ListQuery {
    #[serde(rename = "connectorsOnly")]
    connectors_only: Option<String>,
}

/// `GET /connector-plugins[?connectorsOnly=false]`: the connectors, and with
/// `connectorsOnly=false` also the converters, header converters, transformations and
/// predicates, as Connect lists them.
pub async fn list(axum::extract::Query(q): axum::extract::Query<ListQuery>) -> Response {
    let mut list: Vec<Value> = plugins()
        .iter()
        .map(|p| json!({"class": p.class_name(), "type": "sink", "version": p.version()}))
        .collect();
    let connectors_only = !q
        .connectors_only
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"));
    if !connectors_only {
        let version = env!("CARGO_PKG_VERSION");
        let entry =
            |class: String, kind: &str| json!({"class": class, "type": kind, "version": version});
        list.extend(crate::convert::class_names().map(|c| entry(c, "converter")));
        list.push(entry(
            crate::convert::SIMPLE_HEADER_CLASS.to_string(),
            "header_converter",
        ));
        let (transforms, predicates) = crate::transform::class_names();
        list.extend(transforms.into_iter().map(|c| entry(c, "transformation")));
        list.extend(predicates.into_iter().map(|c| entry(c, "predicate")));
    }
    Json(list).into_response()
}

fn plugin(name: &str) -> ApiResult<Arc<dyn SinkConnector>> {
    find_plugin(name).ok_or_else(|| ApiError::not_found(format!("Unknown plugin {name}.")))
}

/// `GET /connector-plugins/{p}/config`: the plugin's key definitions.
pub async fn config(Path(name): Path<String>) -> ApiResult<Response> {
    // Transforms and predicates have definitions too, as in Connect.
    let def = match find_plugin(&name) {
        Some(p) => p.config_def().clone(),
        None => crate::transform::config_def(&name)
            .ok_or_else(|| ApiError::not_found(format!("Unknown plugin {name}.")))?,
    };
    let keys: Vec<ConfigKeyInfo> = def
        .keys
        .iter()
        .enumerate()
        .map(|(i, k)| ConfigKeyInfo::from_key(k, i as i32 + 1))
        .collect();
    Ok(Json(keys).into_response())
}

/// `PUT /connector-plugins/{p}/config/validate`: framework and plugin keys, every error.
pub async fn validate(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(body): Body<Map<String, Value>>,
) -> ApiResult<Response> {
    let p = plugin(&name)?;
    let mut config =
        crate::config::from_json(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    match config.get("connector.class") {
        Some(class) => {
            let matches = find_plugin(class).is_some_and(|q| q.class_name() == p.class_name());
            if !matches {
                return Err(ApiError::bad_request(format!(
                    "Included connector type {class} does not match request type {name}"
                )));
            }
        }
        None => {
            config.insert("connector.class".into(), p.class_name().to_string());
        }
    }
    let policy = &s.herder.worker().override_policy;
    Ok(Json(validation::validate_with(&config, policy)).into_response())
}
