//! Issue 9, Kafka TLS and SASL for the worker's own clients, end to end: each test starts its
//! own Apache Kafka broker whose client listener serves SSL, SASL_PLAINTEXT or SASL_SSL
//! (SCRAM users made when its storage is formatted). The real `cassink` binary then produces records
//! (`cassink produce --client-config` / `-X`), runs the Cassandra sink with worker-level
//! security settings and commits offsets, all over the secured listener; rows land in the CQL
//! server of the local stack (or the Cassandra that CASSANDRA_CONTACT_POINTS names).

mod common;

use common::kafka::{Kafka, KafkaOptions, ListenerTls};
use common::pki::Pki;
use common::sink::{count, cql, meter_config, meter_table, Cql};
use common::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const USER: &str = "connect";
/// Distinctive, so that a search of logs and files cannot match anything else.
const PASSWORD: &str = "Kq7-sasl-Pw-zX41";
const SCRAM_JAAS: &str = "org.apache.kafka.common.security.scram.ScramLoginModule required";

/// A private broker and the address clients bootstrap from (its client listener).
struct Broker {
    kafka: Kafka,
    bootstrap: String,
}

/// A broker with SCRAM `users` (`(name, password, scram256|scram512)`) whose client listener
/// requires SASL when `users` is not empty, and serves TLS (`Some(require_client_cert)`)
/// when `tls`. SASL sessions must re-authenticate every 10 s (`connections.max.reauth.ms`).
async fn broker(users: &[(&str, &str, &str)], tls: Option<(&Pki, bool)>) -> Broker {
    let scram_users = users
        .iter()
        .map(|(name, password, mechanism)| {
            let mechanism = match *mechanism {
                "scram256" => "SCRAM-SHA-256",
                _ => "SCRAM-SHA-512",
            };
            (
                name.to_string(),
                password.to_string(),
                mechanism.to_string(),
            )
        })
        .collect();
    let kafka = Kafka::start_with(KafkaOptions {
        scram_users,
        tls: tls.map(|(pki, require_client_cert)| ListenerTls {
            server_bundle: pki.server_bundle.clone(),
            ca: pki.ca.clone(),
            require_client_cert,
        }),
        reauthenticate_ms: Some(10_000),
    })
    .await;
    let bootstrap = kafka.bootstrap.clone();
    Broker { kafka, bootstrap }
}

/// librdkafka settings (its own names) for the test's independent clients.
fn client(bootstrap: &str, settings: &[(&str, &str)]) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap);
    for (k, v) in settings {
        c.set(*k, *v);
    }
    c
}

fn properties(pairs: &[(&str, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// Runs `cassink produce meter` (`args` appended) and returns its output.
fn cassink_produce(topic: &str, count: u64, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cassink"))
        .args(["produce", "meter", "--topic", topic, "--create-topic"])
        .args(["--partitions", "2", "--count", &count.to_string()])
        .args(args)
        // The stack's broker must not win over the settings under test.
        .env_remove("KAFKA_BOOTSTRAP")
        .env_remove("CASSINK_CLIENT_CONFIG")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .expect("run cassink produce")
}

fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A meter connector on a worker, writing to a fresh table of the CQL server.
struct Sink {
    name: String,
    session: Cql,
    table: String,
}

/// Creates a fresh meter table and the meter connector (`tasks`, `extra` keys) on `w`.
async fn start_sink(w: &Worker, topic: &str, tasks: u32, extra: &[(&str, &str)]) -> Sink {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let name = unique("sec-sink");
    let config = meter_connector(topic, &keyspace, tasks, extra);
    w.create_connector(&name, &config).await;
    Sink {
        name,
        session,
        table: format!("{keyspace}.meter_data"),
    }
}

impl Sink {
    async fn wait_rows(&self, w: &Worker, expected: u64) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let n = count(&self.session, &self.table).await;
            if n == expected as i64 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{n} of {expected} rows in {}:\n{}",
                self.table,
                w.log_tail(40)
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Waits until the committed offsets the worker reports (GET /connectors/{c}/offsets:
    /// its offsets admin reads them from the broker) add up to `expected`.
    async fn wait_committed(&self, w: &Worker, expected: u64) {
        let url = w.url(&format!("/connectors/{}/offsets", self.name));
        let url = &url;
        wait_until(
            "offsets committed",
            Duration::from_secs(90),
            || async move {
                let r = call(Method::GET, url, None).await;
                let sum: i64 = r.body["offsets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|o| o["offset"]["kafka_offset"].as_i64())
                    .sum();
                sum == expected as i64
            },
        )
        .await;
    }
}

/// The meter connector of connectors/meter.json for `topic`, with `extra` keys.
fn meter_connector(topic: &str, keyspace: &str, tasks: u32, extra: &[(&str, &str)]) -> Value {
    let mut config: serde_json::Map<String, Value> = meter_config(topic, keyspace)
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    config.insert("tasks.max".into(), json!(tasks.to_string()));
    for (k, v) in extra {
        config.insert(k.to_string(), json!(v));
    }
    Value::Object(config)
}

/// Neither the REST responses about the worker and connector `name`, nor the worker log,
/// nor its state files show any of `secrets`.
async fn assert_secrets_absent(w: &Worker, name: &str, secrets: &[&str]) {
    let mut texts = Vec::new();
    for p in [
        "/".to_string(),
        "/connectors?expand=status&expand=info".to_string(),
        format!("/connectors/{name}"),
        format!("/connectors/{name}/config"),
        format!("/connectors/{name}/status"),
        format!("/connectors/{name}/tasks"),
        format!("/connectors/{name}/offsets"),
        format!("/connectors/{name}/topics"),
    ] {
        texts.push(call(Method::GET, &w.url(&p), None).await.text);
    }
    let log = w.log_text();
    for secret in secrets {
        for text in &texts {
            assert!(!text.contains(secret), "secret in a REST response: {text}");
        }
        assert!(!log.contains(secret), "secret in the worker log:\n{log}");
        assert_no_secret_in_dir(&w.state_dir, secret);
    }
}

/// A record's key and value.
type KeyValue = (Option<Vec<u8>>, Option<Vec<u8>>);

/// Reads every record of partition 0 of `topic` from the beginning (blocking).
fn read_all(config: &ClientConfig, topic: &str) -> Vec<KeyValue> {
    let consumer: BaseConsumer = config
        .clone()
        .set("group.id", unique("kafka-security-reader"))
        .set("enable.auto.commit", "false")
        .create()
        .expect("reader");
    let (_, high) = consumer
        .fetch_watermarks(topic, 0, Duration::from_secs(15))
        .expect("watermarks");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .expect("tpl");
    consumer.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while (out.len() as i64) < high && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(500)) {
            out.push((m.key().map(<[u8]>::to_vec), m.payload().map(<[u8]>::to_vec)));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sasl_ssl_scram_sha512_with_connect_style_settings_reaches_every_client() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let kafka = broker(&[(USER, PASSWORD, "scram512")], Some((&pki, false))).await;

    // A Connect worker.properties, Java names and all.
    let security = properties(&[
        ("bootstrap.servers", kafka.bootstrap.clone()),
        ("security.protocol", "SASL_SSL".into()),
        ("sasl.mechanism", "SCRAM-SHA-512".into()),
        (
            "sasl.jaas.config",
            format!("{SCRAM_JAAS} username=\"{USER}\" password=\"{PASSWORD}\";"),
        ),
        ("ssl.truststore.location", path(&pki.ca)),
        ("ssl.truststore.type", "PEM".into()),
        ("ssl.enabled.protocols", "TLSv1.2,TLSv1.3".into()),
    ]);
    let client_file = dir.path().join("client.properties");
    std::fs::write(&client_file, &security).unwrap();

    // `cassink produce` creates the topic (admin client) and produces over SASL_SSL.
    let topic = unique("sec-meter");
    let records = 300;
    let out = cassink_produce(&topic, records, &["--client-config", &path(&client_file)]);
    assert_success("cassink produce", &out);

    let w = Worker::start_props(
        dir.path(),
        &dir.path().join("state"),
        free_port(),
        &security,
    )
    .await;
    let dlq = format!("{topic}-dlq");
    let dlq_keys = [
        ("errors.tolerance", "all"),
        ("errors.deadletterqueue.topic.name", dlq.as_str()),
        ("errors.deadletterqueue.topic.replication.factor", "1"),
    ];
    let sink = start_sink(&w, &topic, 2, &dlq_keys).await;
    sink.wait_rows(&w, records).await;

    // A record the converter cannot read goes to the dead-letter queue (its producer and
    // topic admin use the worker's settings too).
    let ours = client(
        &kafka.bootstrap,
        &[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanisms", "SCRAM-SHA-512"),
            ("sasl.username", USER),
            ("sasl.password", PASSWORD),
            ("ssl.ca.location", &path(&pki.ca)),
        ],
    );
    let producer: FutureProducer = ours.create().expect("test producer");
    producer
        .send(
            FutureRecord::<str, str>::to(&topic)
                .key("poison")
                .payload("not json")
                .partition(0),
            Duration::from_secs(15),
        )
        .await
        .expect("send poison record");

    // Committed past every record, the skipped one included.
    sink.wait_committed(&w, records + 1).await;
    let dlq_records = tokio::task::block_in_place(|| read_all(&ours, &dlq));
    assert_eq!(dlq_records.len(), 1, "one record in {dlq}");
    assert_eq!(dlq_records[0].1.as_deref(), Some(&b"not json"[..]));
    assert_eq!(count(&sink.session, &sink.table).await, records as i64);

    let root = call(Method::GET, &w.url("/"), None).await;
    assert_eq!(
        root.body["kafka_cluster_id"], kafka.kafka.cluster_id,
        "the offsets admin reads the cluster id over SASL_SSL: {}",
        root.text
    );
    assert_secrets_absent(&w, &sink.name, &[PASSWORD]).await;
    for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !String::from_utf8_lossy(bytes).contains(PASSWORD),
            "secret in cassink produce {what}"
        );
    }
    drop(kafka.kafka);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sasl_plaintext_scram_sha256_in_distributed_mode_with_librdkafka_names() {
    let kafka = broker(&[(USER, PASSWORD, "scram256")], None).await;
    let dir = tempfile::tempdir().unwrap();
    let sasl = [
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanisms", "SCRAM-SHA-256"),
        ("sasl.username", USER),
        ("sasl.password", PASSWORD),
    ];
    let topic = unique("sec-dmeter");
    let records = 200;
    let mut args = vec!["--bootstrap".to_string(), kafka.bootstrap.clone()];
    for (k, v) in sasl {
        args.extend(["-X".to_string(), format!("{k}={v}")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_success("cassink produce", &cassink_produce(&topic, records, &args));

    // Distributed mode: the config store (admin, producer, follower) needs SASL as well.
    let cluster = unique("sec-cluster");
    let mut settings: Vec<(&str, String)> = sasl.iter().map(|(k, v)| (*k, v.to_string())).collect();
    settings.extend([
        ("bootstrap.servers", kafka.bootstrap.clone()),
        ("group.id", cluster.clone()),
        ("config.storage.topic", format!("{cluster}-configs")),
        ("status.storage.topic", format!("{cluster}-status")),
        ("offset.storage.topic", format!("{cluster}-offsets")),
        ("config.storage.replication.factor", "1".into()),
    ]);
    let started = Instant::now();
    let w = Worker::start_props(
        dir.path(),
        &dir.path().join("state"),
        free_port(),
        &properties(&settings),
    )
    .await;
    let sink = start_sink(&w, &topic, 2, &[]).await;
    sink.wait_rows(&w, records).await;
    sink.wait_committed(&w, records).await;
    let name = &sink.name;

    // The broker makes every SASL session re-authenticate after 10 s: once the first
    // sessions have expired, records sent still land and commits still go through.
    tokio::time::sleep(Duration::from_secs(12).saturating_sub(started.elapsed())).await;
    assert_success("cassink produce", &cassink_produce(&topic, records, &args));
    sink.wait_committed(&w, 2 * records).await;

    // The status topic holds the task statuses; it was written over SASL and holds no secret.
    let ours = client(&kafka.bootstrap, &sasl);
    let status_topic = format!("{cluster}-status");
    let statuses = tokio::task::block_in_place(|| read_all(&ours, &status_topic));
    let keys: Vec<String> = statuses
        .iter()
        .filter_map(|(k, _)| {
            k.as_deref()
                .map(|k| String::from_utf8_lossy(k).into_owned())
        })
        .collect();
    assert!(
        keys.iter().any(|k| k == &format!("status-task-{name}-0")),
        "{keys:?}"
    );
    for (_, value) in &statuses {
        let text = String::from_utf8_lossy(value.as_deref().unwrap_or_default());
        assert!(
            !text.contains(PASSWORD),
            "secret in the status topic: {text}"
        );
    }
    assert_secrets_absent(&w, name, &[PASSWORD]).await;
    drop(kafka.kafka);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mutual_tls_with_a_pem_keystore() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let kafka = broker(&[], Some((&pki, true))).await;
    let bundle = dir.path().join("client-bundle.pem");
    std::fs::write(&bundle, &pki.client_pem).unwrap();

    let topic = unique("sec-tls");
    let records = 100;
    let ca = format!("ssl.ca.location={}", path(&pki.ca));
    let cert = format!("ssl.certificate.location={}", path(&pki.client_cert));
    let key = format!("ssl.key.location={}", path(&pki.client_key));
    let out = cassink_produce(
        &topic,
        records,
        &[
            "--bootstrap",
            &kafka.bootstrap,
            "-X",
            "security.protocol=SSL",
            "-X",
            &ca,
            "-X",
            &cert,
            "-X",
            &key,
        ],
    );
    assert_success("cassink produce", &out);

    let settings = properties(&[
        ("bootstrap.servers", kafka.bootstrap.clone()),
        ("security.protocol", "SSL".into()),
        ("ssl.truststore.location", path(&pki.ca)),
        ("ssl.keystore.location", path(&bundle)),
        ("ssl.keystore.type", "PEM".into()),
    ]);
    let w = Worker::start_props(
        dir.path(),
        &dir.path().join("state"),
        free_port(),
        &settings,
    )
    .await;
    let sink = start_sink(&w, &topic, 1, &[]).await;
    sink.wait_rows(&w, records).await;
    sink.wait_committed(&w, records).await;
    drop(kafka.kafka);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_wrong_password_or_ca_fails_with_librdkafkas_reason_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let other_dir = dir.path().join("other-ca");
    std::fs::create_dir_all(&other_dir).unwrap();
    let other = Pki::create(&other_dir);
    let kafka = broker(&[(USER, PASSWORD, "scram512")], Some((&pki, false))).await;
    let topic = unique("sec-refused");
    let good = [
        ("security.protocol", "SASL_SSL"),
        ("sasl.mechanisms", "SCRAM-SHA-512"),
        ("sasl.username", USER),
        ("sasl.password", PASSWORD),
        ("ssl.ca.location", &path(&pki.ca)),
    ];
    create_topic_with(&client(&kafka.bootstrap, &good), &topic).await;

    let wrong_password = "Wrong-Pw-93jd-unique";
    let cases = [
        (
            "wrong password",
            vec![
                (
                    "sasl.jaas.config",
                    format!("{SCRAM_JAAS} username=\"{USER}\" password=\"{wrong_password}\";"),
                ),
                ("ssl.truststore.location", path(&pki.ca)),
            ],
            "SASL authentication error",
        ),
        (
            "wrong CA",
            vec![
                (
                    "sasl.jaas.config",
                    format!("{SCRAM_JAAS} username=\"{USER}\" password=\"{PASSWORD}\";"),
                ),
                ("ssl.truststore.location", path(&other.ca)),
            ],
            "certificate verify failed",
        ),
    ];
    for (case, keys, expected) in cases {
        let mut settings = vec![
            ("bootstrap.servers", kafka.bootstrap.clone()),
            ("security.protocol", "SASL_SSL".to_string()),
            ("sasl.mechanism", "SCRAM-SHA-512".to_string()),
        ];
        settings.extend(keys);
        let state = dir.path().join(format!("state-{}", case.replace(' ', "-")));
        let w = Worker::start_props(dir.path(), &state, free_port(), &properties(&settings)).await;
        let started = Instant::now();
        let name = start_sink(&w, &topic, 1, &[]).await.name;
        let trace = w.wait_failed(&name, Duration::from_secs(90)).await;
        assert!(trace.contains(expected), "{case}: {trace}");
        assert!(trace.contains("refuse"), "{case}: {trace}");
        assert_secrets_absent(&w, &name, &[wrong_password, PASSWORD]).await;
        eprintln!("{case}: task FAILED after {:?}: {trace}", started.elapsed());

        // `cassink produce` with the same settings stops with the same reason.
        let file = dir
            .path()
            .join(format!("{}.properties", case.replace(' ', "-")));
        std::fs::write(&file, properties(&settings)).unwrap();
        let started = Instant::now();
        let out = cassink_produce(&topic, 10, &["--client-config", &path(&file)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{case}: produce succeeded:\n{stderr}"
        );
        assert!(stderr.contains(expected), "{case}: {stderr}");
        assert!(
            !stderr.contains(wrong_password) && !stderr.contains(PASSWORD),
            "{stderr}"
        );
        eprintln!("{case}: cassink produce: {}", stderr.trim());
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{case}: produce took {:?}",
            started.elapsed()
        );
    }
    drop(kafka.kafka);
}

/// Creates `topic` (2 partitions) with a test admin client.
async fn create_topic_with(config: &ClientConfig, topic: &str) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<rdkafka::client::DefaultClientContext> =
        config.create().expect("admin client");
    let results = admin
        .create_topics(
            &[NewTopic::new(topic, 2, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .expect("create_topics");
    for r in results {
        r.unwrap_or_else(|(t, e)| panic!("cannot create topic {t}: {e}"));
    }
}

/// Runs `cassink worker` with `settings` and expects it to stop at start-up; returns its
/// output.
fn worker_start_failure(dir: &Path, settings: &str) -> String {
    let config: PathBuf = dir.join(format!("{}.properties", unique("bad-worker")));
    std::fs::write(
        &config,
        format!(
            "listeners=http://127.0.0.1:{}\nstate.dir={}\n{settings}",
            free_port(),
            path(&dir.join("state"))
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cassink"))
        .args(["worker", "--config"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cassink worker");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let out = child.wait_with_output().expect("worker output");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!status.success(), "the worker exited 0:\n{text}");
            return text;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the worker did not stop at start-up");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn unreadable_stores_and_bad_settings_stop_the_worker_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let jks = dir.path().join("truststore.jks");
    std::fs::write(&jks, [0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 1]).unwrap();
    let secret = "Jaas-Pw-start-up-77";
    for (settings, expected) in [
        (
            format!(
                "security.protocol=SSL\nssl.truststore.location={}\nssl.truststore.type=JKS\n",
                path(&jks)
            ),
            vec!["ssl.truststore.location", "PEM"],
        ),
        (
            format!(
                "security.protocol=SSL\nssl.truststore.location={}\n",
                path(&jks)
            ),
            vec!["ssl.truststore.location", "PEM"],
        ),
        (
            "security.protocol=SSL\nssl.ca.location=/nonexistent/ca.pem\n".to_string(),
            vec!["ssl.ca.location"],
        ),
        (
            format!(
                "security.protocol=SASL_SSL\nsasl.mechanism=GSSAPI\nsasl.jaas.config=\
                 com.sun.security.auth.module.Krb5LoginModule required password=\"{secret}\";\n"
            ),
            vec!["sasl.jaas.config", "Krb5LoginModule"],
        ),
        (
            format!(
                "consumer.sasl.jaas.config={SCRAM_JAAS} username=\"u\" password=\"{secret}\"\n"
            ),
            vec!["consumer.sasl.jaas.config", "';'"],
        ),
    ] {
        let text = worker_start_failure(dir.path(), &settings);
        for e in expected {
            assert!(text.contains(e), "{e} not in:\n{text}");
        }
        assert!(!text.contains(secret), "secret in:\n{text}");
    }
}
