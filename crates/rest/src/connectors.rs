//! `/connectors/...` handlers.

use super::{encode_segment, ApiError, ApiResult, AppState, Body};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cassink_config::ConfigMap;
use cassink_worker::herder::{OffsetChange, TargetState};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn pairs(q: Pairs) -> ApiResult<Vec<(String, String)>> {
    q.map(|Query(p)| p)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

fn bool_param(pairs: &[(String, String)], key: &str) -> ApiResult<bool> {
    match pairs.iter().rev().find(|(k, _)| k == key) {
        None => Ok(false),
        Some((_, v)) => cassink_config::parse_bool(v).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid value {v:?} for query parameter {key}: expected true or false"
            ))
        }),
    }
}

fn config_map(obj: &Map<String, Value>) -> ApiResult<ConfigMap> {
    cassink_config::from_json(obj).map_err(|e| ApiError::bad_request(e.to_string()))
}

fn created(name: &str, body: impl serde::Serialize) -> Response {
    let location = format!("/connectors/{}", encode_segment(name));
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response()
}

pub async fn list(State(s): State<AppState>, q: Pairs) -> ApiResult<Response> {
    let params = pairs(q)?;
    let mut status = false;
    let mut info = false;
    for (k, v) in &params {
        if k == "expand" {
            match v.as_str() {
                "status" => status = true,
                "info" => info = true,
                _ => {}
            }
        }
    }
    let names = s.herder.names().await;
    if !status && !info {
        return Ok(Json(names).into_response());
    }
    let mut out = Map::new();
    for name in names {
        let mut entry = Map::new();
        // A connector deleted meanwhile is skipped.
        if status {
            match s.herder.status(&name).await {
                Ok(st) => entry.insert("status".into(), json!(st)),
                Err(_) => continue,
            };
        }
        if info {
            match s.herder.info(&name).await {
                Ok(i) => entry.insert("info".into(), json!(i)),
                Err(_) => continue,
            };
        }
        out.insert(name, Value::Object(entry));
    }
    Ok(Json(Value::Object(out)).into_response())
}

pub async fn create(State(s): State<AppState>, Body(body): Body<Value>) -> ApiResult<Response> {
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("Request body must be a JSON object"))?;
    let config = match obj.get("config") {
        Some(Value::Object(c)) => config_map(c)?,
        Some(Value::Null) | None => ConfigMap::new(),
        Some(_) => return Err(ApiError::bad_request("config must be a JSON object")),
    };
    let name = match obj.get("name") {
        Some(Value::String(n)) => n.clone(),
        Some(Value::Null) | None => config
            .get("name")
            .cloned()
            .ok_or_else(|| ApiError::bad_request("Connector name is required"))?,
        Some(_) => return Err(ApiError::bad_request("Connector name must be a string")),
    };
    let initial = match obj.get("initial_state") {
        Some(Value::String(st)) => TargetState::parse(st).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid initial state {st}; use one of RUNNING, PAUSED, STOPPED"
            ))
        })?,
        Some(Value::Null) | None => TargetState::Running,
        Some(_) => return Err(ApiError::bad_request("initial_state must be a string")),
    };
    let info = s.herder.create(&name, config, initial).await?;
    Ok(created(&name, info))
}

pub async fn info(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<Response> {
    Ok(Json(s.herder.info(&name).await?).into_response())
}

pub async fn delete(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    s.herder.delete(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn config(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<Response> {
    Ok(Json(s.herder.config(&name).await?).into_response())
}

pub async fn put_config(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(body): Body<Map<String, Value>>,
) -> ApiResult<Response> {
    let config = config_map(&body)?;
    let (was_created, info) = s.herder.put_config(&name, config).await?;
    if was_created {
        Ok(created(&name, info))
    } else {
        Ok(Json(info).into_response())
    }
}

pub async fn patch_config(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(body): Body<Map<String, Value>>,
) -> ApiResult<Response> {
    let mut patch = BTreeMap::new();
    for (k, v) in &body {
        patch.insert(
            k.clone(),
            cassink_config::scalar(k, v).map_err(|e| ApiError::bad_request(e.to_string()))?,
        );
    }
    Ok(Json(s.herder.patch_config(&name, patch).await?).into_response())
}

pub async fn status(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<Response> {
    Ok(Json(s.herder.status(&name).await?).into_response())
}

pub async fn restart(
    State(s): State<AppState>,
    Path(name): Path<String>,
    q: Pairs,
) -> ApiResult<Response> {
    let params = pairs(q)?;
    let include_tasks = bool_param(&params, "includeTasks")?;
    let only_failed = bool_param(&params, "onlyFailed")?;
    match s.herder.restart(&name, include_tasks, only_failed).await? {
        None => Ok(StatusCode::NO_CONTENT.into_response()),
        Some(status) => Ok((StatusCode::ACCEPTED, Json(status)).into_response()),
    }
}

pub async fn pause(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    s.herder.pause(&name).await?;
    Ok(StatusCode::ACCEPTED)
}

pub async fn resume(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    s.herder.resume(&name).await?;
    Ok(StatusCode::ACCEPTED)
}

pub async fn stop(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    s.herder.stop(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn tasks(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<Response> {
    Ok(Json(s.herder.task_configs(&name).await?).into_response())
}

fn task_id(name: &str, raw: &str) -> ApiResult<u32> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("Task {raw} of connector {name} not found")))
}

pub async fn task_status(
    State(s): State<AppState>,
    Path((name, task)): Path<(String, String)>,
) -> ApiResult<Response> {
    let task = task_id(&name, &task)?;
    Ok(Json(s.herder.task_status(&name, task).await?).into_response())
}

pub async fn restart_task(
    State(s): State<AppState>,
    Path((name, task)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let task = task_id(&name, &task)?;
    s.herder.restart_task(&name, task).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn topics(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<Response> {
    let topics = s.herder.topics(&name).await?;
    Ok(Json(json!({ name: { "topics": topics } })).into_response())
}

pub async fn reset_topics(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    s.herder.reset_topics(&name).await?;
    Ok(StatusCode::ACCEPTED)
}

pub async fn offsets(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<Response> {
    let offsets: Vec<Value> = s
        .herder
        .offsets(&name)
        .await?
        .into_iter()
        .map(|o| {
            json!({
                "partition": {"kafka_topic": o.topic, "kafka_partition": o.partition},
                "offset": {"kafka_offset": o.offset},
            })
        })
        .collect();
    Ok(Json(json!({ "offsets": offsets })).into_response())
}

/// Parses Connect's sink offsets body: `{"offsets":[{"partition":{"kafka_topic":..,
/// "kafka_partition":..},"offset":{"kafka_offset":..}|null}]}`.
pub fn parse_offsets(body: &Value) -> ApiResult<Vec<OffsetChange>> {
    let entries = body
        .get("offsets")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ApiError::bad_request(
                "The offsets to be altered must be specified as a JSON array under \"offsets\"",
            )
        })?;
    let mut changes = Vec::with_capacity(entries.len());
    for entry in entries {
        let partition = entry
            .get("partition")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                ApiError::bad_request("Every offset entry needs a \"partition\" object")
            })?;
        let topic = match partition.get("kafka_topic") {
            Some(Value::String(t)) if !t.is_empty() => t.clone(),
            Some(_) => return Err(ApiError::bad_request("Kafka topic names must be valid strings")),
            None => {
                return Err(ApiError::bad_request(
                    "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
                ))
            }
        };
        let partition = match partition.get("kafka_partition") {
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .and_then(|p| i32::try_from(p).ok())
                .filter(|p| *p >= 0)
                .ok_or_else(|| ApiError::bad_request("Kafka partitions must be valid numbers"))?,
            None => {
                return Err(ApiError::bad_request(
                    "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
                ))
            }
        };
        let offset = match entry.get("offset") {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => match o.get("kafka_offset") {
                Some(v) => Some(
                    v.as_i64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                        .filter(|o| *o >= 0)
                        .ok_or_else(|| {
                            ApiError::bad_request("Kafka offsets must be valid numbers")
                        })?,
                ),
                None => {
                    return Err(ApiError::bad_request(
                        "The offset for a sink connector must contain the key 'kafka_offset'",
                    ))
                }
            },
            Some(_) => {
                return Err(ApiError::bad_request(
                    "An offset must be a JSON object or null",
                ))
            }
        };
        changes.push(OffsetChange {
            topic,
            partition,
            offset,
        });
    }
    Ok(changes)
}

pub async fn alter_offsets(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Response> {
    let changes = parse_offsets(&body)?;
    s.herder.alter_offsets(&name, changes).await?;
    Ok(
        Json(json!({"message": "The offsets for this connector have been altered successfully"}))
            .into_response(),
    )
}

pub async fn reset_offsets(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    s.herder.reset_offsets(&name).await?;
    Ok(
        Json(json!({"message": "The offsets for this connector have been reset successfully"}))
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_body_parses_and_rejects_bad_entries() {
        let body = json!({"offsets": [
            {"partition": {"kafka_topic": "t", "kafka_partition": 1}, "offset": {"kafka_offset": 5}},
            {"partition": {"kafka_topic": "t", "kafka_partition": 2}, "offset": null},
        ]});
        let changes = parse_offsets(&body).unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].offset, Some(5));
        assert_eq!(changes[1].offset, None);
        for bad in [
            json!({}),
            json!({"offsets": [{"partition": {"kafka_topic": "t"}}]}),
            json!({"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": -1}}]}),
            json!({"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": {"kafka_offset": "x"}}]}),
        ] {
            assert!(parse_offsets(&bad).is_err(), "{bad}");
        }
    }
}
