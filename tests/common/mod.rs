//! Shared setup for tests that drive a real `cassink worker` process over HTTP.
#![allow(dead_code)]

pub mod cassandra;
pub mod kafka;
pub mod pki;
pub mod sink;
pub mod stores;
pub mod tcp_proxy;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::ClientConfig;
use serde_json::Value;
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
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

/// A `cassink worker` child process on a free port with its own `state.dir`.
pub struct Worker {
    child: Option<Child>,
    pub port: u16,
    pub base: String,
    pub state_dir: PathBuf,
    log: PathBuf,
    config: PathBuf,
}

impl Worker {
    /// Starts a worker with a fresh state dir under `dir`.
    pub async fn start(dir: &Path) -> Worker {
        Self::start_with(dir, &dir.join("state"), free_port()).await
    }

    pub async fn start_with(dir: &Path, state_dir: &Path, port: u16) -> Worker {
        Self::start_props(dir, state_dir, port, "").await
    }

    /// Like [`Worker::start_with`], with `extra` worker properties appended.
    pub async fn start_props(dir: &Path, state_dir: &Path, port: u16, extra: &str) -> Worker {
        let mut worker = Self::launch(dir, state_dir, port, &bootstrap(), extra);
        worker.wait_ready().await;
        worker
    }

    /// Starts a worker of `bootstrap` without waiting for it to be ready.
    pub fn launch(dir: &Path, state_dir: &Path, port: u16, bootstrap: &str, extra: &str) -> Worker {
        let config = dir.join(format!("worker-{port}.properties"));
        std::fs::write(
            &config,
            format!(
                "bootstrap.servers={bootstrap}\nlisteners=http://127.0.0.1:{port}\nstate.dir={}\n\
                 offset.flush.interval.ms=1000\n{extra}\n",
                state_dir.display()
            ),
        )
        .expect("write worker config");
        let log = dir.join(format!("worker-{port}.log"));
        let mut worker = Worker {
            child: None,
            port,
            base: format!("http://127.0.0.1:{port}"),
            state_dir: state_dir.to_path_buf(),
            log,
            config,
        };
        worker.spawn();
        worker
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open worker log");
        let child = Command::new(env!("CARGO_BIN_EXE_cassink"))
            .args(["worker", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("spawn cassink worker");
        self.child = Some(child);
    }

    pub async fn wait_ready(&mut self) {
        self.wait_ready_within(Duration::from_secs(30)).await
    }

    /// Waits until `/health` answers 200 (at most `within`).
    pub async fn wait_ready_within(&mut self, within: Duration) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + within;
        loop {
            if let Ok(r) = client.get(format!("{}/health", self.base)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("worker exited early ({status}):\n{}", self.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "worker not ready in {within:?}:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `POST /connectors` of `{name, config}`, which must answer 201.
    pub async fn create_connector(&self, name: &str, config: &Value) {
        let created = call(
            reqwest::Method::POST,
            &self.url("/connectors"),
            Some(&serde_json::json!({"name": name, "config": config})),
        )
        .await;
        assert_eq!(created.status, 201, "{}", created.text);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The whole worker log.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then waits up to `within` for the exit status.
    pub fn terminate(&mut self, within: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("worker not running");
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "worker did not exit within {within:?}:\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts the same worker again (same port, config and state dir).
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn();
        self.wait_ready().await;
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("CASSINK_TEST_SHOW_LOGS").is_some() {
            eprintln!(
                "--- worker log ({}) ---\n{}",
                self.log.display(),
                self.log_tail()
            );
        }
        self.kill();
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
