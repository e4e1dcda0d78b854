//! An Apache Kafka broker of a test's own (the jars `integration/stack.sh fetch` resolved):
//! one combined broker + KRaft controller on free ports with its log dirs in a temp dir, so
//! it can be stopped, frozen and started again, or serve TLS / SASL on its client listener,
//! without touching the shared broker.
//!
//! Listeners: `CLIENT` (what tests and the worker use: plaintext, SSL, SASL_PLAINTEXT or
//! SASL_SSL), `INTERNAL` (plaintext, between the broker and itself, and the readiness probe)
//! and `CONTROLLER`.

use super::free_port;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// TLS on the client listener: the server's chain and key in one PEM file, the CA that
/// signs client certificates, and whether a client certificate is required.
#[derive(Debug, Clone)]
pub struct ListenerTls {
    pub server_bundle: PathBuf,
    pub ca: PathBuf,
    pub require_client_cert: bool,
}

/// How the client listener authenticates.
#[derive(Debug, Clone, Default)]
pub struct KafkaOptions {
    /// SCRAM users `(name, password, mechanism)` with mechanism `SCRAM-SHA-256` or
    /// `SCRAM-SHA-512`; when not empty, the client listener requires SASL.
    pub scram_users: Vec<(String, String, String)>,
    pub tls: Option<ListenerTls>,
    /// `connections.max.reauth.ms`: SASL sessions expire and must re-authenticate.
    pub reauthenticate_ms: Option<u64>,
}

pub struct Kafka {
    child: Option<Child>,
    /// The client listener's port.
    pub port: u16,
    /// `127.0.0.1:<port>` of the client listener.
    pub bootstrap: String,
    /// The KRaft cluster id its storage was formatted with.
    pub cluster_id: String,
    internal_port: u16,
    dir: tempfile::TempDir,
    log: PathBuf,
}

fn stack_jars() -> PathBuf {
    if let Some(dir) = std::env::var_os("STACK_JARS") {
        return PathBuf::from(dir);
    }
    std::env::var_os("CASSINK_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/cassink")
        })
        .join("stack")
}

fn java() -> PathBuf {
    std::env::var_os("JAVA_HOME")
        .map(|home| PathBuf::from(home).join("bin/java"))
        .unwrap_or_else(|| PathBuf::from("java"))
}

fn server_properties(options: &KafkaOptions, ports: (u16, u16, u16), data: &Path) -> String {
    let (client, internal, controller) = ports;
    let protocol = match (options.tls.is_some(), !options.scram_users.is_empty()) {
        (false, false) => "PLAINTEXT",
        (true, false) => "SSL",
        (false, true) => "SASL_PLAINTEXT",
        (true, true) => "SASL_SSL",
    };
    let mut p = format!(
        "process.roles=broker,controller\nnode.id=1\n\
         listeners=CLIENT://127.0.0.1:{client},INTERNAL://127.0.0.1:{internal},CONTROLLER://127.0.0.1:{controller}\n\
         advertised.listeners=CLIENT://127.0.0.1:{client},INTERNAL://127.0.0.1:{internal}\n\
         listener.security.protocol.map=CLIENT:{protocol},INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT\n\
         inter.broker.listener.name=INTERNAL\ncontroller.listener.names=CONTROLLER\n\
         controller.quorum.bootstrap.servers=127.0.0.1:{controller}\nlog.dirs={}\n\
         num.partitions=1\nauto.create.topics.enable=true\n\
         offsets.topic.replication.factor=1\noffsets.topic.num.partitions=4\n\
         transaction.state.log.replication.factor=1\ntransaction.state.log.min.isr=1\n\
         share.coordinator.state.topic.replication.factor=1\nshare.coordinator.state.topic.min.isr=1\n\
         group.initial.rebalance.delay.ms=0\n",
        data.display()
    );
    if !options.scram_users.is_empty() {
        p.push_str("sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512\n");
        for mechanism in ["scram-sha-256", "scram-sha-512"] {
            let _ = writeln!(
                p,
                "listener.name.client.{mechanism}.sasl.jaas.config=\
                 org.apache.kafka.common.security.scram.ScramLoginModule required;"
            );
        }
    }
    if let Some(ms) = options.reauthenticate_ms {
        let _ = writeln!(p, "listener.name.client.connections.max.reauth.ms={ms}");
    }
    if let Some(tls) = &options.tls {
        let auth = if tls.require_client_cert {
            "required"
        } else {
            "none"
        };
        let _ = write!(
            p,
            "listener.name.client.ssl.keystore.type=PEM\n\
             listener.name.client.ssl.keystore.location={}\n\
             listener.name.client.ssl.truststore.type=PEM\n\
             listener.name.client.ssl.truststore.location={}\n\
             listener.name.client.ssl.client.auth={auth}\n",
            tls.server_bundle.display(),
            tls.ca.display()
        );
    }
    p
}

impl Kafka {
    /// A plaintext broker.
    pub async fn start() -> Kafka {
        Self::start_with(KafkaOptions::default()).await
    }

    pub async fn start_with(options: KafkaOptions) -> Kafka {
        let lib = stack_jars().join("kafka/lib");
        assert!(
            lib.is_dir(),
            "no Kafka jars at {} (run integration/stack.sh fetch, or set STACK_JARS)",
            lib.display()
        );
        let dir = tempfile::tempdir().expect("kafka dir");
        let ports = (free_port(), free_port(), free_port());
        let config = dir.path().join("server.properties");
        std::fs::write(
            &config,
            server_properties(&options, ports, &dir.path().join("data")),
        )
        .expect("write server.properties");
        // A KRaft cluster id: 16 random bytes, URL-safe base64 without padding.
        let cluster_id = {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
        };
        let mut kafka = Kafka {
            child: None,
            port: ports.0,
            bootstrap: format!("127.0.0.1:{}", ports.0),
            cluster_id: cluster_id.clone(),
            internal_port: ports.1,
            log: dir.path().join("kafka.log"),
            dir,
        };
        let mut format = kafka.java_command("kafka.tools.StorageTool");
        format
            // `=`: an id may start with '-', which would read as an option.
            .args([
                "format",
                "--standalone",
                &format!("--cluster-id={cluster_id}"),
                "-c",
            ])
            .arg(&config);
        for (name, password, mechanism) in &options.scram_users {
            format
                .arg("--add-scram")
                .arg(format!("{mechanism}=[name={name},password={password}]"));
        }
        let status = format.status().expect("run kafka StorageTool");
        assert!(
            status.success(),
            "formatting the private broker's storage failed ({status}):\n{}",
            kafka.log_tail()
        );
        kafka.spawn().await;
        kafka
    }

    fn java_command(&self, main_class: &str) -> Command {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open kafka log");
        let log4j =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/stack/kafka/log4j2.properties");
        let mut command = Command::new(java());
        command
            .args([
                "-Xms256m",
                "-Xmx512m",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
            ])
            .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
            .arg("-cp")
            .arg(format!("{}/*", stack_jars().join("kafka/lib").display()))
            .arg(main_class)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log);
        command
    }

    async fn spawn(&mut self) {
        let child = self
            .java_command("kafka.Kafka")
            .arg(self.dir.path().join("server.properties"))
            .spawn()
            .expect("spawn kafka");
        self.child = Some(child);
        let internal = format!("127.0.0.1:{}", self.internal_port);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let probe = internal.clone();
            let answered = tokio::task::spawn_blocking(move || {
                let consumer: BaseConsumer = ClientConfig::new()
                    .set("bootstrap.servers", &probe)
                    .set("log_level", "0")
                    .create()
                    .expect("probe consumer");
                consumer
                    .fetch_metadata(None, Duration::from_secs(2))
                    .is_ok_and(|m| !m.brokers().is_empty())
            })
            .await
            .unwrap_or(false);
            if answered {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("the private Kafka exited ({status}):\n{}", self.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "the private Kafka did not serve within 120 s:\n{}",
                self.log_tail()
            );
        }
    }

    /// The broker's process id (to SIGSTOP / SIGCONT it).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGTERM (SIGKILL after 30 s); returns how long it took to go away.
    pub fn stop(&mut self) -> Duration {
        let Some(mut child) = self.child.take() else {
            return Duration::ZERO;
        };
        let sent = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        while sent.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = child.try_wait() {
                return sent.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        sent.elapsed()
    }

    /// Starts the broker again on the same ports and log dirs.
    pub async fn start_again(&mut self) {
        assert!(self.child.is_none(), "the private Kafka is still running");
        self.spawn().await;
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Kafka {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- private Kafka log ---\n{}", self.log_tail());
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
