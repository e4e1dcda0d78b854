//! The one `cassink worker` child process of the tests: started on a port and state dir of the
//! test's choosing, awaited until its REST API answers, killed, signalled and started again on
//! the same port, config and state dir (as a supervisor restarting a crashed worker would),
//! and asked for its connectors' tasks.
//!
//! `CASSINK_TEST_WORKER_LOG` sets the worker's RUST_LOG (default `info`, e.g.
//! `info,cdrs_tokio=debug`); `CASSINK_TEST_SHOW_LOGS=1` prints the tail of its log when it is
//! dropped (as a failing test always does).

use super::{bootstrap, call, free_port};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A `cassink worker` child process with its own port, state dir, config and log.
pub struct Worker {
    child: Option<Child>,
    pub port: u16,
    pub base: String,
    pub state_dir: PathBuf,
    log: PathBuf,
    config: PathBuf,
    /// For readiness probes and status polls: a worker that stops answering (frozen, its
    /// servers gone) fails the request in 10 s rather than hanging the test.
    http: reqwest::Client,
}

impl Worker {
    /// Starts a worker with a fresh state dir under `dir`.
    pub async fn start(dir: &Path) -> Worker {
        Self::start_with(dir, &dir.join("state"), free_port()).await
    }

    pub async fn start_with(dir: &Path, state_dir: &Path, port: u16) -> Worker {
        Self::start_props(dir, state_dir, port, "").await
    }

    /// Like [`Worker::start_with`], with `extra` worker properties appended (a key given again
    /// there wins over the defaults).
    pub async fn start_props(dir: &Path, state_dir: &Path, port: u16, extra: &str) -> Worker {
        Self::start_of(&bootstrap(), dir, state_dir, port, extra).await
    }

    /// Like [`Worker::start_props`], a worker of the broker(s) at `bootstrap`.
    pub async fn start_of(
        bootstrap: &str,
        dir: &Path,
        state_dir: &Path,
        port: u16,
        extra: &str,
    ) -> Worker {
        let mut worker = Self::launch(dir, state_dir, port, bootstrap, extra);
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
        let mut worker = Worker {
            child: None,
            port,
            base: format!("http://127.0.0.1:{port}"),
            state_dir: state_dir.to_path_buf(),
            log: dir.join(format!("worker-{port}.log")),
            config,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("http client"),
        };
        worker.spawn();
        worker
    }

    /// Starts the process (again: same port, config and state dir), without waiting for it.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "worker already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open worker log");
        let child = Command::new(env!("CARGO_BIN_EXE_cassink"))
            .args(["worker", "--config"])
            .arg(&self.config)
            .env(
                "RUST_LOG",
                std::env::var("CASSINK_TEST_WORKER_LOG").unwrap_or_else(|_| "info".into()),
            )
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

    /// Waits until `/health` answers 200 (at most `within`), failing at once when the
    /// process exits.
    pub async fn wait_ready_within(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(r) = self.http.get(self.url("/health")).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("worker exited early ({status}):\n{}", self.log_tail(40));
            }
            assert!(
                Instant::now() < deadline,
                "worker not ready in {within:?}:\n{}",
                self.log_tail(40)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Starts the same worker again after a SIGKILL (same port, config and state dir).
    pub async fn restart(&mut self) {
        self.kill9();
        self.spawn();
        self.wait_ready().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Whether the process is still running (it has not exited on its own).
    pub fn running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// SIGKILL: no chance to commit or clean up.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then waits up to `within` for the exit; returns the status and how long it took.
    pub fn terminate(&mut self, within: Duration) -> (ExitStatus, Duration) {
        let mut child = self.child.take().expect("worker not running");
        let sent = Instant::now();
        let signalled = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(signalled.success(), "kill -TERM {} failed", child.id());
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return (status, sent.elapsed());
            }
            if sent.elapsed() > within {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "worker did not exit within {within:?} of SIGTERM:\n{}",
                    self.log_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `POST /connectors` of `{name, config}`, which must answer 201.
    pub async fn create_connector(&self, name: &str, config: &Value) {
        let created = call(
            reqwest::Method::POST,
            &self.url("/connectors"),
            Some(&json!({"name": name, "config": config})),
        )
        .await;
        assert_eq!(created.status, 201, "POST /connectors: {}", created.text);
    }

    /// Task (state, trace) pairs of a connector, or `None` when the worker does not answer.
    pub async fn tasks(&self, name: &str) -> Option<Vec<(String, Option<String>)>> {
        let r = self
            .http
            .get(self.url(&format!("/connectors/{name}/status")))
            .send()
            .await
            .ok()?;
        let body: Value = r.json().await.ok()?;
        let tasks = body["tasks"].as_array()?;
        Some(
            tasks
                .iter()
                .map(|t| {
                    (
                        t["state"].as_str().unwrap_or("?").to_string(),
                        t["trace"].as_str().map(String::from),
                    )
                })
                .collect(),
        )
    }

    /// Waits until the connector has `n` tasks, all RUNNING.
    pub async fn wait_running(&self, name: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let tasks = self.tasks(name).await.unwrap_or_default();
            if tasks.len() == n && tasks.iter().all(|(s, _)| s == "RUNNING") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "tasks of {name} not RUNNING: {tasks:?}\n{}",
                self.log_tail(40)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until task 0 of the connector is FAILED (at most `within`); returns its trace.
    pub async fn wait_failed(&self, name: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let tasks = self.tasks(name).await.unwrap_or_default();
            if let Some((state, trace)) = tasks.first() {
                if state == "FAILED" {
                    return trace.clone().unwrap_or_default();
                }
            }
            assert!(
                Instant::now() < deadline,
                "task 0 of {name} not FAILED after {within:?}: {tasks:?}\n{}",
                self.log_tail(40)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The whole worker log.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last `n` lines of the worker log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// The last `n` lines of the worker log at WARN or ERROR, or naming commits and
    /// rebalances: what explains offsets that did not move.
    pub fn log_of_commits(&self, n: usize) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| {
                [
                    "WARN",
                    "ERROR",
                    "commit",
                    "assigned",
                    "revoked",
                    "rebalance",
                ]
                .iter()
                .any(|needle| l.contains(needle))
            })
            .collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("CASSINK_TEST_SHOW_LOGS").is_some() {
            eprintln!(
                "--- worker log ({}) ---\n{}",
                self.log.display(),
                self.log_tail(60)
            );
        }
        self.kill9();
    }
}
