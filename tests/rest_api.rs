//! The Connect REST API of a real `cassink worker` process, over HTTP, against the broker at
//! `KAFKA_BOOTSTRAP` (default 127.0.0.1:9092; `integration/stack.sh up` starts one).
//!
//! Tasks may fail to start while no Cassandra table exists: these tests assert connector
//! states and response shapes, not task RUNNING.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

async fn get(w: &Worker, path: &str) -> Reply {
    call(Method::GET, &w.url(path), None).await
}

fn connector_state(r: &Reply) -> &str {
    r.body["connector"]["state"].as_str().unwrap_or("<none>")
}

#[tokio::test]
async fn connector_lifecycle_over_rest() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let w = Worker::start(dir.path()).await;
    let topic = unique("rest-life");
    create_topic(&topic, 3).await;
    let name = unique("life");

    // Worker endpoints.
    let root = get(&w, "/").await;
    assert_eq!(root.status, 200);
    assert!(root.body["version"].is_string());
    // The commit the binary was built from, as Connect reports its own.
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        Some(head) => assert_eq!(root.body["commit"], head.as_str(), "{}", root.text),
        None => assert_eq!(root.body["commit"], "unknown", "{}", root.text),
    }
    assert!(root.body.get("kafka_cluster_id").is_some(), "{}", root.text);
    let health = get(&w, "/health").await;
    assert_eq!(
        health.body,
        json!({"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."})
    );
    let plugins = get(&w, "/connector-plugins").await;
    assert_eq!(plugins.body[0]["class"], CASSANDRA_CLASS);
    assert_eq!(plugins.body[0]["type"], "sink");

    // Create: 201 + Location + info; again: 409.
    let config = sink_config(&name, &topic, 2);
    let create_body = json!({"name": name, "config": config});
    let created = call(Method::POST, &w.url("/connectors"), Some(&create_body)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(
        created.location.as_deref(),
        Some(format!("/connectors/{name}").as_str())
    );
    assert_eq!(created.body["name"], name.as_str());
    assert_eq!(created.body["type"], "sink");
    assert_eq!(created.body["config"]["topics"], topic.as_str());
    assert_eq!(
        created.body["tasks"],
        json!([{"connector": name, "task": 0}, {"connector": name, "task": 1}])
    );
    let again = call(Method::POST, &w.url("/connectors"), Some(&create_body)).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.body["error_code"], 409);
    assert_eq!(
        again.body["message"],
        format!("Connector {name} already exists")
    );

    let list = get(&w, "/connectors").await;
    assert!(list.body.as_array().unwrap().contains(&json!(name)));
    let info = get(&w, &format!("/connectors/{name}")).await;
    assert_eq!(info.body, created.body);
    let cfg = get(&w, &format!("/connectors/{name}/config")).await;
    assert_eq!(cfg.body, config);

    // Status shape.
    let status = get(&w, &format!("/connectors/{name}/status")).await;
    assert_eq!(status.status, 200);
    assert_eq!(status.body["name"], name.as_str());
    assert_eq!(status.body["type"], "sink");
    assert_eq!(connector_state(&status), "RUNNING");
    assert_eq!(
        status.body["connector"]["worker_id"],
        format!("127.0.0.1:{}", w.port)
    );
    let tasks = status.body["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[1]["id"], 1);
    assert!(tasks[1]["state"].is_string() && tasks[1]["worker_id"].is_string());
    let t0 = get(&w, &format!("/connectors/{name}/tasks/0/status")).await;
    assert_eq!(t0.status, 200);
    assert_eq!(t0.body["id"], 0);
    let t9 = get(&w, &format!("/connectors/{name}/tasks/9/status")).await;
    assert_eq!(t9.status, 404);
    let task_list = get(&w, &format!("/connectors/{name}/tasks")).await;
    assert_eq!(
        task_list.body[0]["id"],
        json!({"connector": name, "task": 0})
    );
    assert_eq!(task_list.body[0]["config"]["topics"], topic.as_str());

    let expanded = get(&w, "/connectors?expand=status&expand=info").await;
    assert_eq!(
        expanded.body[&name]["status"]["connector"]["state"],
        "RUNNING"
    );
    assert_eq!(expanded.body[&name]["info"]["name"], name.as_str());

    // Active topics, as Connect reports them: none before a record was consumed.
    let topics = get(&w, &format!("/connectors/{name}/topics")).await;
    assert_eq!(topics.body, json!({ &name: {"topics": []} }));
    let reset = call(
        Method::PUT,
        &w.url(&format!("/connectors/{name}/topics/reset")),
        None,
    )
    .await;
    assert_eq!(reset.status, 202);

    // Pause / resume.
    let paused = call(
        Method::PUT,
        &w.url(&format!("/connectors/{name}/pause")),
        None,
    )
    .await;
    assert_eq!(paused.status, 202);
    assert_eq!(
        connector_state(&get(&w, &format!("/connectors/{name}/status")).await),
        "PAUSED"
    );
    let resumed = call(
        Method::PUT,
        &w.url(&format!("/connectors/{name}/resume")),
        None,
    )
    .await;
    assert_eq!(resumed.status, 202);
    assert_eq!(
        connector_state(&get(&w, &format!("/connectors/{name}/status")).await),
        "RUNNING"
    );

    // Restarts.
    let plain = call(
        Method::POST,
        &w.url(&format!("/connectors/{name}/restart")),
        None,
    )
    .await;
    assert_eq!(plain.status, 204);
    let with_tasks = call(
        Method::POST,
        &w.url(&format!(
            "/connectors/{name}/restart?includeTasks=true&onlyFailed=false"
        )),
        None,
    )
    .await;
    assert_eq!(with_tasks.status, 202, "{}", with_tasks.text);
    assert_eq!(connector_state(&with_tasks), "RESTARTING");
    assert_eq!(with_tasks.body["tasks"][0]["state"], "RESTARTING");
    let task_restart = call(
        Method::POST,
        &w.url(&format!("/connectors/{name}/tasks/1/restart")),
        None,
    )
    .await;
    assert_eq!(task_restart.status, 204);

    // Config update restarts tasks with the new config.
    let patched = call(
        Method::PATCH,
        &w.url(&format!("/connectors/{name}/config")),
        Some(&json!({"tasks.max": "1"})),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["tasks"].as_array().unwrap().len(), 1);
    let mut replaced = config.clone();
    replaced["tasks.max"] = json!("3");
    let put = call(
        Method::PUT,
        &w.url(&format!("/connectors/{name}/config")),
        Some(&replaced),
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(put.body["tasks"].as_array().unwrap().len(), 3);

    // Offsets: only when STOPPED.
    let alter = json!({"offsets": [
        {"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": 5}},
        {"partition": {"kafka_topic": topic, "kafka_partition": 2}, "offset": {"kafka_offset": 7}},
    ]});
    let refused = call(
        Method::PATCH,
        &w.url(&format!("/connectors/{name}/offsets")),
        Some(&alter),
    )
    .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("STOPPED state"),
        "{}",
        refused.text
    );

    let stopped = call(
        Method::PUT,
        &w.url(&format!("/connectors/{name}/stop")),
        None,
    )
    .await;
    assert_eq!(stopped.status, 204);
    let status = get(&w, &format!("/connectors/{name}/status")).await;
    assert_eq!(connector_state(&status), "STOPPED");
    assert_eq!(status.body["tasks"], json!([]));
    assert_eq!(
        get(&w, &format!("/connectors/{name}")).await.body["tasks"],
        json!([])
    );

    let altered = call(
        Method::PATCH,
        &w.url(&format!("/connectors/{name}/offsets")),
        Some(&alter),
    )
    .await;
    assert_eq!(altered.status, 200, "{}", altered.text);
    assert_eq!(
        altered.body,
        json!({"message": "The offsets for this connector have been altered successfully"})
    );
    let offsets = get(&w, &format!("/connectors/{name}/offsets")).await;
    assert_eq!(offsets.status, 200, "{}", offsets.text);
    assert_eq!(
        offsets.body,
        json!({"offsets": [
            {"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": 5}},
            {"partition": {"kafka_topic": topic, "kafka_partition": 2}, "offset": {"kafka_offset": 7}},
        ]})
    );
    let bad_partition = json!({"offsets": [
        {"partition": {"kafka_topic": topic, "kafka_partition": 9}, "offset": {"kafka_offset": 1}}]});
    let bad = call(
        Method::PATCH,
        &w.url(&format!("/connectors/{name}/offsets")),
        Some(&bad_partition),
    )
    .await;
    assert_eq!(bad.status, 400, "{}", bad.text);

    let reset = call(
        Method::DELETE,
        &w.url(&format!("/connectors/{name}/offsets")),
        None,
    )
    .await;
    assert_eq!(reset.status, 200, "{}", reset.text);
    assert_eq!(
        reset.body,
        json!({"message": "The offsets for this connector have been reset successfully"})
    );
    let offsets = get(&w, &format!("/connectors/{name}/offsets")).await;
    // Reset = no committed offset, or the low watermark (0 on a fresh topic).
    for entry in offsets.body["offsets"].as_array().unwrap() {
        assert_eq!(entry["offset"]["kafka_offset"], 0, "{}", offsets.text);
    }

    // Resume from STOPPED starts tasks again.
    let resumed = call(
        Method::PUT,
        &w.url(&format!("/connectors/{name}/resume")),
        None,
    )
    .await;
    assert_eq!(resumed.status, 202);
    let status = get(&w, &format!("/connectors/{name}/status")).await;
    assert_eq!(connector_state(&status), "RUNNING");
    assert_eq!(status.body["tasks"].as_array().unwrap().len(), 3);

    // Delete.
    let deleted = call(Method::DELETE, &w.url(&format!("/connectors/{name}")), None).await;
    assert_eq!(deleted.status, 204);
    let gone = get(&w, &format!("/connectors/{name}")).await;
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.body,
        json!({"error_code": 404, "message": format!("Connector {name} not found")})
    );
    assert!(!get(&w, "/connectors")
        .await
        .body
        .as_array()
        .unwrap()
        .contains(&json!(name)));
}

#[tokio::test]
async fn bad_requests_are_connect_json_errors() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let w = Worker::start(dir.path()).await;

    let bad = json!({"name": "bad/name", "config": {
        "connector.class": "com.example.Missing",
        "tasks.max": "0",
        "transforms": "route",
        "errors.tolerance": "sometimes",
    }});
    let r = call(Method::POST, &w.url("/connectors"), Some(&bad)).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error_code"], 400);
    let msg = r.body["message"].as_str().unwrap();
    for needle in [
        "Connector configuration is invalid and contains the following",
        "must not contain '/'",
        "Failed to find any class that implements Connector",
        "tasks.max: Value must be at least 1",
        "Must configure one of topics or topics.regex",
        "transforms.route.type: is required",
        "errors.tolerance",
    ] {
        assert!(msg.contains(needle), "missing {needle:?} in {msg}");
    }

    let mismatch = call(
        Method::PUT,
        &w.url("/connectors/a/config"),
        Some(&json!({"name": "b", "connector.class": CASSANDRA_CLASS, "topics": "t"})),
    )
    .await;
    assert_eq!(mismatch.status, 400);

    let bad_state =
        json!({"name": "x", "config": sink_config("x", "t", 1), "initial_state": "SLEEPING"});
    assert_eq!(
        call(Method::POST, &w.url("/connectors"), Some(&bad_state))
            .await
            .status,
        400
    );

    // Unknown path, wrong method, unreadable bodies: JSON errors too.
    let r = get(&w, "/nope").await;
    assert_eq!((r.status, r.body["error_code"].clone()), (404, json!(404)));
    let r = call(Method::DELETE, &w.url("/connectors"), None).await;
    assert_eq!((r.status, r.body["error_code"].clone()), (405, json!(405)));
    assert!(r
        .content_type
        .unwrap_or_default()
        .starts_with("application/json"));
    let client = reqwest::Client::new();
    let r = client
        .post(w.url("/connectors"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_code"], 400);
    let r = client
        .post(w.url("/connectors"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_code"], 415);
    for path in [
        "/connectors/none/status",
        "/connectors/none/offsets",
        "/connectors/none/tasks",
    ] {
        let r = get(&w, path).await;
        assert_eq!(
            r.body,
            json!({"error_code": 404, "message": "Connector none not found"})
        );
    }

    // Validate: framework and plugin keys, every error counted.
    let r = call(
        Method::PUT,
        &w.url("/connector-plugins/CassandraSinkConnector/config/validate"),
        Some(&json!({"name": "v", "topics": "t", "tasks.max": "x"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], CASSANDRA_CLASS);
    assert!(r.body["error_count"].as_u64().unwrap() >= 2, "{}", r.text);
    assert!(r.body["groups"]
        .as_array()
        .unwrap()
        .contains(&json!("Common")));
    let configs = r.body["configs"].as_array().unwrap();
    let tasks_max = configs
        .iter()
        .find(|c| c["value"]["name"] == "tasks.max")
        .unwrap();
    assert_eq!(tasks_max["definition"]["type"], "INT");
    assert_eq!(tasks_max["value"]["value"], "x");
    assert_eq!(tasks_max["value"]["errors"].as_array().unwrap().len(), 1);
    assert_eq!(tasks_max["value"]["visible"], true);
    let r = get(&w, "/connector-plugins/CassandraSinkConnector/config").await;
    assert!(r.body.is_array());
    assert_eq!(get(&w, "/connector-plugins/nope/config").await.status, 404);

    // Loggers, metrics, OpenAPI.
    let r = call(
        Method::PUT,
        &w.url("/admin/loggers/cassink"),
        Some(&json!({"level": "DEBUG"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        get(&w, "/admin/loggers/cassink").await.body["level"],
        "DEBUG"
    );
    assert_eq!(
        get(&w, "/admin/loggers").await.body["root"]["level"],
        "INFO"
    );
    let r = call(
        Method::PUT,
        &w.url("/admin/loggers/cassink"),
        Some(&json!({"level": "LOUD"})),
    )
    .await;
    // As Kafka Connect answers it (integration/conformance/test_rest_vs_connect.py).
    assert_eq!(r.status, 404);
    let r = get(&w, "/metrics").await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("# EOF"), "{}", r.text);
    let r = get(&w, "/openapi.json").await;
    assert!(r.body["paths"]["/connectors/{name}/offsets"].is_object());
}

#[tokio::test]
async fn a_restarted_worker_restores_connectors_in_their_target_states() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let mut w = Worker::start(dir.path()).await;
    let topic = unique("rest-restore");
    create_topic(&topic, 1).await;
    let names = [unique("run"), unique("paused"), unique("stopped")];
    for (name, state) in names.iter().zip(["RUNNING", "PAUSED", "STOPPED"]) {
        let body =
            json!({"name": name, "config": sink_config(name, &topic, 1), "initial_state": state});
        let r = call(Method::POST, &w.url("/connectors"), Some(&body)).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let expect = |w: &Worker| {
        let urls: Vec<String> = names
            .iter()
            .map(|n| w.url(&format!("/connectors/{n}/status")))
            .collect();
        async move {
            let mut states = Vec::new();
            for url in urls {
                let r = call(Method::GET, &url, None).await;
                states.push(connector_state(&r).to_string());
            }
            states
        }
    };
    assert_eq!(expect(&w).await, ["RUNNING", "PAUSED", "STOPPED"]);
    // Change the paused one to running before the crash: the change must survive.
    call(
        Method::PUT,
        &w.url(&format!("/connectors/{}/resume", names[1])),
        None,
    )
    .await;

    w.restart().await; // SIGKILL, then start on the same state dir
    assert_eq!(expect(&w).await, ["RUNNING", "RUNNING", "STOPPED"]);
    let cfg = get(&w, &format!("/connectors/{}/config", names[0])).await;
    assert_eq!(cfg.body, sink_config(&names[0], &topic, 1));

    // SIGTERM: tasks stop and the process exits 0 within the shutdown bound.
    let (status, _) = w.terminate(Duration::from_secs(40));
    assert!(status.success(), "exit status {status}");
}

/// Keys that would send the data somewhere other than the configured cluster, and converters
/// the task could not build, are a 400 naming the key at create, at `PUT .../config` and in
/// validate: never a 201 followed by a task writing elsewhere or FAILED.
#[tokio::test]
async fn keys_cassink_cannot_honour_and_bad_converters_are_refused_naming_the_key() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let w = Worker::start(dir.path()).await;
    let cases: [(&str, &str, &str); 6] = [
        (
            "cloud.secureConnectBundle",
            "/secure-connect-db.zip",
            "cloud.secureConnectBundle is not supported",
        ),
        (
            "datastax-java-driver.basic.contact-points",
            "10.0.0.1:9042",
            "use contactPoints",
        ),
        (
            "value.converter",
            "com.example.NoSuchConverter",
            "unknown converter class \"com.example.NoSuchConverter\"",
        ),
        (
            "key.converter.schemas.enable",
            "maybe",
            "key.converter.schemas.enable",
        ),
        ("value.converter.schema.registry.url", "", "value.converter"),
        (
            "header.converter",
            "com.example.NoSuchHeaderConverter",
            "header.converter",
        ),
    ];
    for (i, (key, value, needle)) in cases.iter().enumerate() {
        let name = format!("refused-{i}");
        let mut config = sink_config(&name, "t", 1);
        config[*key] = json!(value);
        if key.starts_with("key.converter.") {
            config["key.converter"] = json!("org.apache.kafka.connect.json.JsonConverter");
        }
        if key.starts_with("value.converter.schema.registry") {
            config["value.converter"] = json!("io.confluent.connect.avro.AvroConverter");
        }
        let created = call(
            Method::POST,
            &w.url("/connectors"),
            Some(&json!({"name": name, "config": config})),
        )
        .await;
        assert_eq!(created.status, 400, "{key}: {}", created.text);
        assert_eq!(created.body["error_code"], 400, "{key}");
        let message = created.body["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{key}: {message}");
        let put = call(
            Method::PUT,
            &w.url(&format!("/connectors/{name}/config")),
            Some(&config),
        )
        .await;
        assert_eq!(put.status, 400, "{key}: {}", put.text);
        assert!(
            put.body["message"]
                .as_str()
                .unwrap_or_default()
                .contains(needle),
            "{key}: {}",
            put.text
        );
        let validated = call(
            Method::PUT,
            &w.url("/connector-plugins/CassandraSinkConnector/config/validate"),
            Some(&config),
        )
        .await;
        assert_eq!(validated.status, 200, "{}", validated.text);
        assert!(
            validated.body["error_count"].as_u64().unwrap_or(0) >= 1,
            "{key}: {}",
            validated.text
        );
        assert!(
            validated
                .text
                .contains(needle.replace('"', "\\\"").as_str()),
            "{key}: {}",
            validated.text
        );
        assert_eq!(
            get(&w, &format!("/connectors/{name}")).await.status,
            404,
            "{key}: nothing was created"
        );
    }
}
