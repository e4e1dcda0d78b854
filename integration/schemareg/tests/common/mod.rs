//! Shared setup: a registry to talk to and a small JSON-over-HTTP client.
//!
//! With `SCHEMA_REGISTRY_URL` set the tests use that registry (a real Confluent one, say);
//! otherwise each test starts its own in-process registry on an ephemeral port.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::task::JoinHandle;

pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// A registry under test.
pub struct TestRegistry {
    pub url: String,
    /// Whether the registry is this test's own (so it may change global config, restart, ...).
    pub own: bool,
    server: Option<JoinHandle<()>>,
    client: reqwest::Client,
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// The registry named by `SCHEMA_REGISTRY_URL`, or a fresh in-memory one.
pub async fn registry() -> TestRegistry {
    match std::env::var("SCHEMA_REGISTRY_URL") {
        Ok(url) if !url.is_empty() => TestRegistry {
            url: url.trim_end_matches('/').to_owned(),
            own: false,
            server: None,
            client: client(),
        },
        _ => start(None).await,
    }
}

/// Whether the tests run against an external registry.
pub fn external() -> bool {
    std::env::var("SCHEMA_REGISTRY_URL").is_ok_and(|u| !u.is_empty())
}

/// Starts an in-process registry, persistent when `data_dir` is given.
pub async fn start(data_dir: Option<&Path>) -> TestRegistry {
    let config = schemareg::Config {
        listen: "127.0.0.1:0".parse().expect("literal address"),
        data_dir: data_dir.map(Path::to_path_buf),
    };
    let (addr, serve) = schemareg::bind(config).await.expect("registry starts");
    let server = tokio::spawn(async move {
        serve.await.expect("registry serves");
    });
    TestRegistry {
        url: format!("http://{addr}"),
        own: true,
        server: Some(server),
        client: client(),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("http client")
}

impl TestRegistry {
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.client.get(self.at(path))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.client.post(self.at(path)).body(body.to_string()))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.client.put(self.at(path)).body(body.to_string()))
            .await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.client.delete(self.at(path))).await
    }

    /// A raw request, for content-type and body edge cases.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.at(path))
    }

    fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request
            .header("content-type", CONTENT_TYPE)
            .header("accept", CONTENT_TYPE)
            .send()
            .await
            .expect("request reaches the registry");
        let status = response.status().as_u16();
        let text = response.text().await.expect("response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// Registers `schema` (Avro) under `subject` and returns its id.
    pub async fn register(&self, subject: &str, schema: &str) -> u64 {
        let (status, body) = self
            .post(
                &format!("/subjects/{subject}/versions"),
                &serde_json::json!({ "schema": schema }),
            )
            .await;
        assert_eq!(status, 200, "register {subject}: {body}");
        body["id"].as_u64().expect("id in register response")
    }
}

/// A subject name no other test (or earlier run against an external registry) uses.
pub fn unique(name: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{name}-{}-{nanos}-{n}", std::process::id())
}

/// A valid Avro name no earlier run used, so ids are not shared with earlier runs' schemas.
pub fn avro_name() -> String {
    unique("R").replace('-', "_")
}

/// An Avro record schema `cassink.test.{name}` with `fields` (JSON objects, comma-separated).
pub fn record(name: &str, fields: &str) -> String {
    format!(r#"{{"type":"record","name":"{name}","namespace":"cassink.test","fields":[{fields}]}}"#)
}

/// Asserts a Confluent error body and status.
pub fn assert_error(status: u16, body: &Value, error_code: u64) {
    assert_eq!(
        body["error_code"].as_u64(),
        Some(error_code),
        "expected error {error_code}, got {status} {body}"
    );
    let http = if error_code >= 1000 {
        error_code / 100
    } else {
        error_code
    };
    assert_eq!(u64::from(status), http, "status for {body}");
    assert!(body["message"].is_string(), "message in {body}");
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(unique(&format!("schemareg-{name}")));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
