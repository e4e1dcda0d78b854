//! `GET /openapi.json`: the API description, built from one route table (kept beside
//! [`super::router`]; a test checks every routed path is described).

use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, PathsBuilder,
};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Info, OpenApi, OpenApiBuilder, Required, ResponseBuilder};

use HttpMethod::{Delete, Get, Patch, Post, Put};

/// (method, path, summary, success code, success description)
const ROUTES: &[(HttpMethod, &str, &str, &str, &str)] = &[
    (
        Get,
        "/",
        "Worker version, commit and Kafka cluster id",
        "200",
        "Worker info",
    ),
    (Get, "/health", "Worker health", "200", "Healthy"),
    (
        Get,
        "/metrics",
        "Prometheus metrics (OpenMetrics text)",
        "200",
        "Metrics",
    ),
    (
        Get,
        "/metrics/connectors",
        "Records read, written, skipped, failed, filtered and in flight, rates, write latency and partitions of every connector on this worker",
        "200",
        "Flows by connector",
    ),
    (
        Get,
        "/metrics/connectors/{name}",
        "One connector's flow on this worker",
        "200",
        "Flow",
    ),
    (Get, "/ui", "The web console (HTML)", "200", "Console"),
    (
        Get,
        "/openapi.json",
        "This document",
        "200",
        "OpenAPI document",
    ),
    (
        Get,
        "/admin/loggers",
        "Log levels set explicitly, plus root",
        "200",
        "Loggers",
    ),
    (
        Get,
        "/admin/loggers/{name}",
        "Level of one logger (a Rust target, or root)",
        "200",
        "Level",
    ),
    (
        Put,
        "/admin/loggers/{name}",
        "Change a log level live: {\"level\":\"DEBUG\"}",
        "200",
        "Affected loggers",
    ),
    (
        Get,
        "/connector-plugins",
        "Installed connector plugins",
        "200",
        "Plugins",
    ),
    (
        Get,
        "/connector-plugins/{plugin}/config",
        "Config definitions of a plugin",
        "200",
        "Definitions",
    ),
    (
        Put,
        "/connector-plugins/{plugin}/config/validate",
        "Validate a connector config (framework and plugin keys)",
        "200",
        "Validation result",
    ),
    (
        Get,
        "/connectors",
        "Connector names; ?expand=status and/or ?expand=info for details",
        "200",
        "Connectors",
    ),
    (
        Post,
        "/connectors",
        "Create a connector: {name, config, initial_state?}",
        "201",
        "Created",
    ),
    (Get, "/connectors/{name}", "Connector info", "200", "Info"),
    (
        Delete,
        "/connectors/{name}",
        "Stop and delete a connector",
        "204",
        "Deleted",
    ),
    (
        Get,
        "/connectors/{name}/config",
        "Connector config",
        "200",
        "Config",
    ),
    (
        Put,
        "/connectors/{name}/config",
        "Create or replace a connector config",
        "200",
        "Updated (201 when created)",
    ),
    (
        Patch,
        "/connectors/{name}/config",
        "Patch a connector config (null removes a key)",
        "200",
        "Updated",
    ),
    (
        Get,
        "/connectors/{name}/status",
        "Connector and task states",
        "200",
        "Status",
    ),
    (
        Post,
        "/connectors/{name}/restart",
        "Restart (?includeTasks=&onlyFailed=)",
        "204",
        "Restarted (202 with status when tasks are included)",
    ),
    (
        Put,
        "/connectors/{name}/pause",
        "Pause the connector",
        "202",
        "Pausing",
    ),
    (
        Put,
        "/connectors/{name}/resume",
        "Resume the connector",
        "202",
        "Resuming",
    ),
    (
        Put,
        "/connectors/{name}/stop",
        "Stop the connector (no tasks)",
        "204",
        "Stopped",
    ),
    (
        Get,
        "/connectors/{name}/tasks",
        "Task ids and configs",
        "200",
        "Tasks",
    ),
    (
        Get,
        "/connectors/{name}/tasks/{task}/status",
        "One task's state",
        "200",
        "Task status",
    ),
    (
        Post,
        "/connectors/{name}/tasks/{task}/restart",
        "Restart one task",
        "204",
        "Restarted",
    ),
    (
        Get,
        "/connectors/{name}/topics",
        "Topics the connector reads",
        "200",
        "Topics",
    ),
    (
        Put,
        "/connectors/{name}/topics/reset",
        "Reset the reported topics",
        "202",
        "Reset",
    ),
    (
        Get,
        "/connectors/{name}/offsets",
        "Committed offsets of group connect-<name>",
        "200",
        "Offsets",
    ),
    (
        Patch,
        "/connectors/{name}/offsets",
        "Alter committed offsets (connector must be STOPPED)",
        "200",
        "Altered",
    ),
    (
        Delete,
        "/connectors/{name}/offsets",
        "Reset committed offsets (connector must be STOPPED)",
        "200",
        "Reset",
    ),
];

/// The paths routed by [`super::router`], for the consistency test.
#[cfg(test)]
fn documented_paths() -> Vec<&'static str> {
    ROUTES.iter().map(|r| r.1).collect()
}

pub fn openapi() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for (method, path, summary, code, description) in ROUTES {
        let mut op = OperationBuilder::new()
            .summary(Some(*summary))
            .response(*code, ResponseBuilder::new().description(*description))
            .response(
                "default",
                ResponseBuilder::new()
                    .description("{\"error_code\": <http code>, \"message\": \"...\"}"),
            );
        for param in path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        {
            // Task ids are integers; every other path parameter is a string.
            let ty = if param == "task" {
                Type::Integer
            } else {
                Type::String
            };
            op = op.parameter(
                ParameterBuilder::new()
                    .name(param)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(ObjectBuilder::new().schema_type(ty))),
            );
        }
        paths = paths.path(*path, PathItem::new(method.clone(), op));
    }
    OpenApiBuilder::new()
        .info(Info::new(
            "cassink Kafka Connect REST API",
            env!("CARGO_PKG_VERSION"),
        ))
        .paths(paths)
        .build()
}

#[cfg(test)]
mod tests {
    #[test]
    fn document_lists_every_route() {
        let doc = serde_json::to_value(super::openapi()).unwrap();
        for path in super::documented_paths() {
            assert!(doc["paths"].get(path).is_some(), "{path}");
        }
        assert!(doc["paths"]["/connectors"]["post"].is_object());
        assert!(doc["paths"]["/connectors/{name}/offsets"]["delete"].is_object());
    }
}
