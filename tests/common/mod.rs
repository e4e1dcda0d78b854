//! Shared setup of the integration tests: the `cassink worker` child process (worker.rs), the
//! REST calls and polls made to it, topics and names (here), sink tasks run in-process and the
//! tables and offsets they leave (sink.rs), private servers a test may stop or configure
//! (kafka.rs, cassandra.rs), a TCP proxy for network faults (tcp_proxy.rs) and test PKI and
//! key stores (pki.rs, stores.rs).
#![allow(dead_code)]

pub mod cassandra;
pub mod kafka;
pub mod pki;
pub mod sink;
pub mod stores;
pub mod tcp_proxy;
pub mod worker;

// Not every test binary starts a worker.
#[allow(unused_imports)]
pub use worker::Worker;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::ClientConfig;
use serde_json::Value;
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, Instant};

pub const CASSANDRA_CLASS: &str = "com.datastax.oss.kafka.sink.CassandraSinkConnector";

pub fn bootstrap() -> String {
    std::env::var("KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

/// Fails the test with a clear message when no broker listens at `KAFKA_BOOTSTRAP`.
pub fn require_broker() -> String {
    let bootstrap = bootstrap();
    let reachable = bootstrap
        .split(',')
        .filter_map(|b| b.trim().to_socket_addrs().ok())
        .flatten()
        .any(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok());
    assert!(
        reachable,
        "no Kafka broker reachable at KAFKA_BOOTSTRAP={bootstrap}: start the local stack \
         (integration/stack.sh up) or point KAFKA_BOOTSTRAP at a broker"
    );
    bootstrap
}

/// A name no other test run uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{prefix}-{}-{}", std::process::id(), nanos % 1_000_000_000)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

/// Creates a topic with one replica (the stack has one broker).
pub async fn create_topic(name: &str, partitions: i32) {
    create_topic_configured(name, partitions, &[]).await
}

/// Creates a topic with topic-level settings (e.g. `max.message.bytes`).
pub async fn create_topic_configured(name: &str, partitions: i32, settings: &[(&str, &str)]) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("admin client");
    let mut topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
    for (key, value) in settings {
        topic = topic.set(key, value);
    }
    let results = admin
        .create_topics(&[topic], &AdminOptions::new())
        .await
        .expect("create_topics request");
    for r in results {
        r.unwrap_or_else(|(t, e)| panic!("cannot create topic {t}: {e}"));
    }
}

/// Polls `check` every 250 ms until it holds; fails after `within`, naming `what`.
pub async fn wait_until<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Fails when any file under `dir` (recursively) contains `secret`.
pub fn assert_no_secret_in_dir(dir: &Path, secret: &str) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            assert_no_secret_in_dir(&path, secret);
        } else {
            let bytes = std::fs::read(&path).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(secret),
                "secret stored in {}",
                path.display()
            );
        }
    }
}

/// A JSON response: status code, headers of interest and body.
pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub content_type: Option<String>,
    pub body: Value,
    pub text: String,
}

pub async fn call(method: reqwest::Method, url: &str, body: Option<&Value>) -> Reply {
    let client = reqwest::Client::new();
    let mut req = client.request(method, url);
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.expect("HTTP request");
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let location = header("location");
    let content_type = header("content-type");
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        location,
        content_type,
        body,
        text,
    }
}

/// A Cassandra sink config that passes validation.
pub fn sink_config(name: &str, topic: &str, tasks: u32) -> Value {
    serde_json::json!({
        "name": name,
        "connector.class": CASSANDRA_CLASS,
        "tasks.max": tasks.to_string(),
        "topics": topic,
        "contactPoints": "127.0.0.1",
        "loadBalancing.localDc": "datacenter1",
        format!("topic.{topic}.ks.tbl.mapping"): "id=key",
    })
}
