//! Helpers for tests that run sink tasks in-process against the local stack (or real
//! Kafka/Cassandra named by KAFKA_BOOTSTRAP, CASSANDRA_CONTACT_POINTS, CASSANDRA_PORT) and
//! check the tables with an independent client (cdrs-tokio).
#![allow(dead_code)]

use cassink::config::ConfigMap;
use cassink::worker::config::WorkerConfig;
use cassink::worker::plugins::find_plugin;
use cassink::worker::security::overrides::{OverridePolicy, PolicyKind};
use cassink::worker::task::{State, TaskHandle, TaskSpec};
use cdrs_tokio::authenticators::NoneAuthenticatorProvider;
use cdrs_tokio::cluster::session::{Session, SessionBuilder, TcpSessionBuilder};
use cdrs_tokio::cluster::{NodeTcpConfigBuilder, TcpConnectionManager};
use cdrs_tokio::load_balancing::RoundRobinLoadBalancingStrategy;
use cdrs_tokio::transport::TransportTcp;
use cdrs_tokio::types::rows::Row;
use cdrs_tokio::types::IntoRustByName;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use super::{bootstrap, unique};

pub type Cql = Session<
    TransportTcp,
    TcpConnectionManager,
    RoundRobinLoadBalancingStrategy<TransportTcp, TcpConnectionManager>,
>;

pub fn cql_host() -> String {
    std::env::var("CASSANDRA_CONTACT_POINTS")
        .unwrap_or_else(|_| "127.0.0.1".into())
        .split(',')
        .next()
        .unwrap_or("127.0.0.1")
        .trim()
        .to_string()
}
pub fn cql_port() -> String {
    std::env::var("CASSANDRA_PORT").unwrap_or_else(|_| "9042".into())
}
pub async fn cql() -> Cql {
    let config = NodeTcpConfigBuilder::new()
        .with_contact_point(format!("{}:{}", cql_host(), cql_port()).into())
        .with_authenticator_provider(Arc::new(NoneAuthenticatorProvider))
        .build()
        .await
        .expect("a CQL server (run integration/stack.sh up, or set CASSANDRA_CONTACT_POINTS)");
    TcpSessionBuilder::new(RoundRobinLoadBalancingStrategy::new(), config)
        .build()
        .await
        .expect("CQL session")
}

pub async fn rows(session: &Cql, cql: &str) -> Vec<Row> {
    session
        .query(cql)
        .await
        .expect(cql)
        .response_body()
        .expect("body")
        .into_rows()
        .unwrap_or_default()
}

pub async fn count(session: &Cql, table: &str) -> i64 {
    let rows = rows(session, &format!("SELECT count(*) FROM {table}")).await;
    rows.first()
        .and_then(|r| {
            IntoRustByName::<i64>::get_by_name(r, "count")
                .ok()
                .flatten()
        })
        .unwrap_or(0)
}

/// A keyspace with the meter table of connectors/schema.cql.
pub async fn meter_table(session: &Cql) -> String {
    let ks = unique("e2e").replace('-', "_");
    session
        .query(format!("CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"))
        .await
        .expect("create keyspace");
    session
        .query(format!(
            "CREATE TABLE {ks}.meter_data (id uuid, timestamp timestamp, p_1 float, p_2 float, p_3 float, \
             q_1 float, q_2 float, q_3 float, harm frozen<list<int>>, PRIMARY KEY (id, timestamp))"
        ))
        .await
        .expect("create table");
    ks
}

/// The shipped meter connector config, pointed at `topic` and `keyspace`.
pub fn meter_config(topic: &str, keyspace: &str) -> ConfigMap {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/connectors/meter.json"
    ))
    .expect("connectors/meter.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("meter.json is JSON");
    let mut config: ConfigMap = json["config"]
        .as_object()
        .expect("config object")
        .iter()
        .filter(|(k, _)| !k.starts_with("topic."))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let mapping = json["config"]["topic.meter.kafkapipeline.meter_data.mapping"]
        .as_str()
        .expect("mapping")
        .to_string();
    config.insert("topics".into(), topic.into());
    config.insert("contactPoints".into(), cql_host());
    config.insert("port".into(), cql_port());
    config.insert(
        format!("topic.{topic}.{keyspace}.meter_data.mapping"),
        mapping,
    );
    config
}

pub fn worker() -> Arc<WorkerConfig> {
    Arc::new(WorkerConfig {
        bootstrap_servers: bootstrap(),
        offset_flush_interval: Duration::from_millis(500),
        // Tasks spawned here skip the REST validation that refuses overrides the policy does
        // not allow: let the tests' `consumer.override.*` keys through.
        override_policy: OverridePolicy {
            kind: PolicyKind::All,
            allowlist: Vec::new(),
        },
        ..WorkerConfig::default()
    })
}

pub fn spawn_tasks(name: &str, config: &ConfigMap, tasks: u32) -> Vec<TaskHandle> {
    let plugin = find_plugin("cassandra").expect("the cassandra plugin");
    (0..tasks)
        .map(|task_id| {
            TaskHandle::spawn(TaskSpec {
                connector: name.to_string(),
                task_id,
                tasks,
                config: config.clone(),
                worker: worker(),
                plugin: plugin.clone(),
                paused: false,
            })
        })
        .collect()
}

pub fn committed_total(group: &str, topic: &str, partitions: i32) -> i64 {
    committed_by_partition(group, topic, partitions)
        .values()
        .sum()
}

pub async fn wait_for_rows(session: &Cql, table: &str, expected: i64, tasks: &[TaskHandle]) {
    let what = format!("rows in {table}");
    wait_for_total(&what, expected, tasks, || count(session, table)).await;
}

/// Polls `total` until it reaches `expected` (asserting it never passes it), failing early
/// when a task fails and after 120 s.
async fn wait_for_total<F, Fut>(what: &str, expected: i64, tasks: &[TaskHandle], mut total: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = i64>,
{
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n = total().await;
        if n >= expected {
            assert_eq!(n, expected, "more {what} than records");
            return;
        }
        for t in tasks {
            let s = t.status();
            assert_ne!(s.state, State::Failed, "task failed: {:?}", s.trace);
        }
        assert!(
            Instant::now() < deadline,
            "only {n} of {expected} {what}; task states: {:?}",
            tasks.iter().map(|t| t.status()).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Waits until `task` is FAILED (at most `within`) and returns its status.
pub async fn wait_for_failure(
    task: &TaskHandle,
    within: Duration,
) -> cassink::worker::task::TaskStatus {
    let deadline = Instant::now() + within;
    loop {
        let s = task.status();
        if s.state == State::Failed {
            return s;
        }
        assert!(Instant::now() < deadline, "the task did not fail: {s:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A fresh keyspace holding the three tables of `connectors/schema.cql`.
pub async fn pipeline_keyspace(session: &Cql) -> String {
    let ks = unique("pipe").replace('-', "_");
    let schema = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/connectors/schema.cql"
    ))
    .expect("connectors/schema.cql");
    let statements: String = schema
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    for statement in statements
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        session
            .query(statement.replace("kafkapipeline", &ks))
            .await
            .expect(statement);
    }
    ks
}

/// A shipped connector config (`connectors/<file>`), moved to `topic` and `keyspace` and
/// pointed at the test's CQL server; everything else as shipped.
pub fn shipped_config(file: &str, topic: &str, keyspace: &str) -> ConfigMap {
    let path = format!("{}/connectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("connector file"))
            .expect("connector JSON");
    let config = json["config"].as_object().expect("config object");
    let shipped_topic = config["topics"].as_str().expect("topics").to_string();
    let mut out = ConfigMap::new();
    for (k, v) in config {
        let v = v.as_str().unwrap_or_default().to_string();
        let k = k
            .replace(
                &format!("topic.{shipped_topic}.kafkapipeline."),
                &format!("topic.{topic}.{keyspace}."),
            )
            .replace(
                &format!("topic.{shipped_topic}.codec."),
                &format!("topic.{topic}.codec."),
            );
        out.insert(k, v);
    }
    out.insert("topics".into(), topic.into());
    out.insert("contactPoints".into(), cql_host());
    out.insert("port".into(), cql_port());
    out
}

/// Waits until the group's committed offsets on `topic` add up to `expected` (every record
/// written and acknowledged), failing early when a task fails.
pub async fn wait_for_commit(
    group: &str,
    topic: &str,
    partitions: i32,
    expected: i64,
    tasks: &[TaskHandle],
) {
    let what = format!("records committed on {topic}");
    let committed =
        || async { tokio::task::block_in_place(|| committed_total(group, topic, partitions)) };
    wait_for_total(&what, expected, tasks, committed).await;
}

/// The committed offset of `group` on each partition of `topic` (0 where none).
pub fn committed_by_partition(
    group: &str,
    topic: &str,
    partitions: i32,
) -> std::collections::BTreeMap<i32, i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("group.id", group)
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .expect("committed offsets")
        .elements()
        .iter()
        .map(|e| match e.offset() {
            Offset::Offset(o) => (e.partition(), o),
            _ => (e.partition(), 0),
        })
        .collect()
}

/// A record of a dead-letter queue: the source record it stands for, and why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub partition: i32,
    pub offset: i64,
    pub message: String,
}

/// The records of `dlq` (partition 0, with context headers), read until `expected` arrived
/// (or 30 s passed), then 2 s more so that a duplicate would be seen too; by source position.
pub fn dead_letters(dlq: &str, expected: usize) -> Vec<DeadLetter> {
    use rdkafka::message::{Headers, Message};
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("group.id", unique("dlq-reader"))
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(dlq, 0, Offset::Beginning)
        .expect("partition");
    consumer.assign(&tpl).expect("assign");
    let mut seen = Vec::new();
    let mut deadline = Instant::now() + Duration::from_secs(30);
    let mut settled = false;
    while Instant::now() < deadline {
        if !settled && seen.len() >= expected {
            settled = true;
            deadline = Instant::now() + Duration::from_secs(2);
        }
        let Some(Ok(msg)) = consumer.poll(Duration::from_millis(300)) else {
            continue;
        };
        let header = |name: &str| -> String {
            msg.headers()
                .and_then(|hs| hs.iter().find(|h| h.key == name))
                .and_then(|h| h.value)
                .map(|v| String::from_utf8_lossy(v).to_string())
                .unwrap_or_default()
        };
        seen.push(DeadLetter {
            partition: header("__connect.errors.partition")
                .parse()
                .expect("partition header"),
            offset: header("__connect.errors.offset")
                .parse()
                .expect("offset header"),
            message: header("__connect.errors.exception.message"),
        });
    }
    seen.sort_by_key(|d| (d.partition, d.offset));
    seen
}

/// Sends meter readings `from..from + count` to `topic` (to `partition`, else by key).
pub async fn send_meter(topic: &str, partition: Option<i32>, from: u64, count: u64) {
    use cassink::produce::{self, Workload};
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("producer");
    let mut rng = produce::Rng::new(from);
    for i in from..from + count {
        let (key, value) = produce::record(Workload::Meter, i, &mut rng);
        let payload = value.to_string();
        let mut record = FutureRecord::to(topic)
            .key(key.as_bytes())
            .payload(payload.as_bytes());
        if let Some(p) = partition {
            record = record.partition(p);
        }
        producer
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(e, _)| e)
            .expect("produce");
    }
}

/// A fresh keyspace (replication factor 1) holding the tables of `ddl`, in which `{ks}`
/// stands for the keyspace's name.
pub async fn keyspace_with(session: &Cql, prefix: &str, ddl: &[&str]) -> String {
    let ks = unique(prefix).replace('-', "_");
    session
        .query(format!("CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"))
        .await
        .expect("create keyspace");
    for table in ddl {
        session
            .query(table.replace("{ks}", &ks))
            .await
            .expect("create table");
    }
    ks
}

/// A connector config reading schemaless JSON values (string keys) from `topic` into
/// `ks.table` with `mapping`, plus `extra`.
pub fn json_config(
    topic: &str,
    ks: &str,
    table: &str,
    mapping: &str,
    extra: &[(&str, &str)],
) -> ConfigMap {
    let mut c = ConfigMap::new();
    for (k, v) in [
        (
            "connector.class",
            "com.datastax.oss.kafka.sink.CassandraSinkConnector",
        ),
        ("topics", topic),
        ("contactPoints", &cql_host()),
        ("port", &cql_port()),
        ("loadBalancing.localDc", "datacenter1"),
        (
            "key.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        ),
        (
            "value.converter",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
        ("value.converter.schemas.enable", "false"),
    ] {
        c.insert(k.into(), v.into());
    }
    c.insert(
        format!("topic.{topic}.{ks}.{table}.mapping"),
        mapping.into(),
    );
    for (k, v) in extra {
        c.insert(k.to_string(), v.to_string());
    }
    c
}
