//! The machinery of the fault tests: the real Cassandra behind a TCP proxy of the test's own
//! (connections reset, refused or stalled), a keyspace made unavailable by its replication
//! factor, an in-process cqlmem for WriteTimeout only, a private Apache Kafka broker that can be
//! stopped and started again, the settings of the `cassink worker` child process (the process
//! itself is tests/common/worker.rs), and independent readers for rows (cdrs-tokio) and
//! committed offsets (rdkafka).
//!
//! Nothing here stops or freezes the shared servers: other tests run against them.

use crate::common::cassandra::{NodeOptions, PrivateCassandra};
use crate::common::sink::{cql_host, cql_port};
use cassink::produce::{self, Workload};
use cdrs_tokio::authenticators::NoneAuthenticatorProvider;
use cdrs_tokio::cluster::session::{SessionBuilder, TcpSessionBuilder};
use cdrs_tokio::cluster::NodeTcpConfigBuilder;
use cdrs_tokio::load_balancing::RoundRobinLoadBalancingStrategy;
use cdrs_tokio::types::rows::Row;
use cdrs_tokio::types::{AsRustType, IntoRustByName};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Number of meters the meter workload cycles through (see `produce::record`).
pub const METERS: u64 = 50;

pub use crate::common::kafka::Kafka;
pub use crate::common::tcp_proxy::{Mode as ProxyMode, TcpProxy};
pub use crate::common::{bootstrap, free_port, Worker};

/// A name no other test (or test run) uses; CQL-safe (lowercase, digits, underscores).
pub fn unique(prefix: &str) -> String {
    crate::common::unique(prefix).replace('-', "_")
}

/// The one-line JSON figures of a scenario, on stdout (`--nocapture` shows them).
pub fn report(test: &str, mut figures: Value) {
    figures["test"] = json!(test);
    println!("{figures}");
}

pub fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

// ---------------------------------------------------------------------------------------------
// Cassandra: the real one the stack (or CASSANDRA_CONTACT_POINTS) serves, seen through a TCP
// proxy of the test's own where connections must fail; cqlmem only for WriteTimeout.

pub use crate::common::sink::Cql;

/// The CQL server of one test: `host:port` is what the worker connects to; the test's own
/// readers connect to the server directly (`direct`), so they see rows during an outage.
pub struct Cassandra {
    pub host: String,
    pub port: u16,
    direct: SocketAddr,
    proxy: Option<TcpProxy>,
    /// `http://addr` of the cqlmem admin endpoint when the server is an in-process cqlmem.
    admin: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// A node of this test's own (`Cassandra::private`), stopped when dropped.
    node: Option<PrivateCassandra>,
}

/// The first of CASSANDRA_CONTACT_POINTS (default 127.0.0.1) at CASSANDRA_PORT (default 9042).
fn real_cassandra() -> SocketAddr {
    let (host, port) = (cql_host(), cql_port());
    let port: u16 = port.parse().unwrap_or(9042);
    (host.as_str(), port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| panic!("cannot resolve Cassandra at {host}:{port}"))
}

impl Cassandra {
    /// The real Cassandra, directly.
    pub async fn for_test() -> Cassandra {
        Cassandra::direct(real_cassandra(), None)
    }

    fn direct(direct: SocketAddr, node: Option<PrivateCassandra>) -> Cassandra {
        Cassandra {
            host: direct.ip().to_string(),
            port: direct.port(),
            direct,
            proxy: None,
            admin: None,
            stop: None,
            node,
        }
    }

    /// A real Cassandra node of this test's own (20-60 s to start), which it may pause: for
    /// faults that would stall the other tests on the shared node.
    pub async fn private(name: &str) -> Cassandra {
        let node =
            tokio::task::block_in_place(|| PrivateCassandra::start(name, NodeOptions::default()));
        Cassandra::direct(SocketAddr::from(([127, 0, 0, 1], node.port)), Some(node))
    }

    /// Freezes the node (SIGSTOP; `private` only): connections stay open, nothing answers.
    pub fn pause(&self) {
        self.node
            .as_ref()
            .expect("pause needs Cassandra::private")
            .pause();
    }

    /// Thaws the paused node (SIGCONT).
    pub fn resume(&self) {
        self.node
            .as_ref()
            .expect("resume needs Cassandra::private")
            .resume();
    }

    /// The real Cassandra, which the worker reaches through a proxy this test controls.
    pub async fn behind_proxy() -> Cassandra {
        let direct = real_cassandra();
        let proxy = TcpProxy::start(direct).await;
        Cassandra {
            host: proxy.addr.ip().to_string(),
            port: proxy.addr.port(),
            direct,
            proxy: Some(proxy),
            admin: None,
            stop: None,
            node: None,
        }
    }

    /// A private in-process cqlmem on ephemeral ports, served by the test's runtime: only for
    /// the fault a single real node cannot be brought to answer on demand (WriteTimeout).
    pub async fn cqlmem() -> Cassandra {
        let server = cqlmem::Server::bind(cqlmem::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            admin: Some("127.0.0.1:0".parse().unwrap()),
            data_dir: None,
        })
        .await
        .expect("bind cqlmem");
        let addr = server.local_addr().expect("cqlmem address");
        let admin = server.admin_addr().expect("cqlmem admin address");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = server
                .run_until(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Cassandra {
            host: addr.ip().to_string(),
            port: addr.port(),
            direct: addr,
            proxy: None,
            admin: Some(format!("http://{admin}")),
            stop: Some(tx),
            node: None,
        }
    }

    /// Sets the network between the worker and Cassandra (`behind_proxy` only).
    pub fn network(&self, mode: ProxyMode) {
        self.proxy
            .as_ref()
            .expect("network faults need Cassandra::behind_proxy")
            .set(mode);
    }

    /// Makes every write to `keyspace` at LOCAL_QUORUM answer Unavailable (or heals it): its
    /// replication factor goes beyond the nodes of the data centre, so no quorum is alive.
    pub async fn set_unavailable(&self, session: &Cql, keyspace: &str, unavailable: bool) {
        let factor = if unavailable {
            let peers = session
                .query("SELECT peer FROM system.peers")
                .await
                .expect("read system.peers")
                .response_body()
                .expect("peers body")
                .into_rows()
                .map_or(0, |rows| rows.len());
            // Quorum of 2 * nodes + 1 replicas is nodes + 1: one more than can answer.
            2 * (peers + 1) + 1
        } else {
            1
        };
        exec(
            session,
            &format!(
                "ALTER KEYSPACE {keyspace} WITH replication = \
                 {{'class': 'SimpleStrategy', 'replication_factor': {factor}}}"
            ),
        )
        .await;
    }

    /// Sets a cqlmem fault (`write_timeout`, ...) for `duration` (`cqlmem` only).
    pub async fn cqlmem_fault(&self, mode: &str, duration: Duration) {
        let admin = self
            .admin
            .as_ref()
            .expect("cqlmem faults need Cassandra::cqlmem");
        let r = reqwest::Client::new()
            .post(format!("{admin}/faults"))
            .json(&json!({"mode": mode, "duration_ms": ms(duration)}))
            .send()
            .await
            .expect("POST /faults");
        assert!(
            r.status().is_success(),
            "POST /faults {mode}: {}",
            r.status()
        );
    }

    /// A cdrs-tokio session, retried for a while (the server may just have been faulted).
    pub async fn session(&self) -> Cql {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.try_session().await {
                Ok(s) => return s,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                Err(e) => panic!("no CQL session to {}: {e}", self.direct),
            }
        }
    }

    async fn try_session(&self) -> Result<Cql, String> {
        let config = NodeTcpConfigBuilder::new()
            .with_contact_point(self.direct.to_string().into())
            .with_authenticator_provider(Arc::new(NoneAuthenticatorProvider))
            .build()
            .await
            .map_err(|e| e.to_string())?;
        let session = TcpSessionBuilder::new(RoundRobinLoadBalancingStrategy::new(), config)
            .build()
            .await
            .map_err(|e| e.to_string())?;
        // Prove the session works before handing it out.
        session
            .query("SELECT release_version FROM system.local")
            .await
            .map_err(|e| e.to_string())?;
        Ok(session)
    }

    /// A keyspace holding the meter table of connectors/schema.cql.
    pub async fn meter_table(&self, session: &Cql, prefix: &str) -> String {
        let ks = unique(prefix);
        exec(session, &format!("CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}")).await;
        exec(
            session,
            &format!(
                "CREATE TABLE {ks}.meter_data (id uuid, timestamp timestamp, p_1 float, p_2 float, \
                 p_3 float, q_1 float, q_2 float, q_3 float, harm frozen<list<int>>, PRIMARY KEY (id, timestamp))"
            ),
        )
        .await;
        ks
    }
}

impl Drop for Cassandra {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn exec(session: &Cql, cql: &str) {
    session
        .query(cql)
        .await
        .unwrap_or_else(|e| panic!("{cql}: {e}"));
}

pub async fn rows(session: &Cql, cql: &str) -> Result<Vec<Row>, String> {
    let envelope = session.query(cql).await.map_err(|e| e.to_string())?;
    let body = envelope.response_body().map_err(|e| e.to_string())?;
    Ok(body.into_rows().unwrap_or_default())
}

pub async fn count(session: &Cql, table: &str) -> Result<i64, String> {
    let rows = rows(session, &format!("SELECT count(*) FROM {table}")).await?;
    Ok(rows
        .first()
        .and_then(|r| {
            IntoRustByName::<i64>::get_by_name(r, "count")
                .ok()
                .flatten()
        })
        .unwrap_or(0))
}

/// Counts rows with a session that is rebuilt whenever a query fails (faults close sockets).
pub struct Counter<'a> {
    cassandra: &'a Cassandra,
    session: Option<Cql>,
    table: String,
}

impl<'a> Counter<'a> {
    pub fn new(cassandra: &'a Cassandra, table: &str) -> Counter<'a> {
        Counter {
            cassandra,
            session: None,
            table: table.to_string(),
        }
    }

    /// The row count now, or `None` when the server does not answer at the moment.
    pub async fn try_count(&mut self) -> Option<i64> {
        if self.session.is_none() {
            self.session = self.cassandra.try_session().await.ok();
        }
        let session = self.session.as_ref()?;
        match tokio::time::timeout(Duration::from_secs(5), count(session, &self.table)).await {
            Ok(Ok(n)) => Some(n),
            _ => {
                self.session = None;
                None
            }
        }
    }

    pub async fn count(&mut self) -> i64 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(n) = self.try_count().await {
                return n;
            }
            assert!(
                Instant::now() < deadline,
                "cannot count rows of {}",
                self.table
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// One stored meter reading.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub values: [f32; 6],
    pub harm: Vec<i32>,
    pub writetime: i64,
}

fn meter_id(meter: u64) -> uuid::Uuid {
    uuid::Uuid::from_u64_pair(0x6d65_7465_7200_0000, meter)
}

/// Every row of a meter table, by (id, timestamp ms), read partition by partition.
pub async fn meter_rows(session: &Cql, table: &str) -> HashMap<(uuid::Uuid, i64), Reading> {
    let mut out = HashMap::new();
    for meter in 0..METERS {
        let id = meter_id(meter);
        let cql = format!(
            "SELECT id, timestamp, p_1, p_2, p_3, q_1, q_2, q_3, harm, writetime(p_1) AS wt \
             FROM {table} WHERE id = {id}"
        );
        for row in rows(session, &cql)
            .await
            .unwrap_or_else(|e| panic!("{cql}: {e}"))
        {
            let id: uuid::Uuid = IntoRustByName::get_by_name(&row, "id")
                .ok()
                .flatten()
                .expect("id");
            let ts: i64 = IntoRustByName::get_by_name(&row, "timestamp")
                .ok()
                .flatten()
                .expect("timestamp");
            let mut values = [0f32; 6];
            for (i, c) in ["p_1", "p_2", "p_3", "q_1", "q_2", "q_3"]
                .iter()
                .enumerate()
            {
                values[i] = IntoRustByName::<f32>::get_by_name(&row, c)
                    .ok()
                    .flatten()
                    .unwrap_or(f32::NAN);
            }
            let harm: Option<cdrs_tokio::types::list::List> =
                IntoRustByName::get_by_name(&row, "harm").ok().flatten();
            let harm: Vec<i32> = harm
                .and_then(|l| AsRustType::<Vec<i32>>::as_r_type(&l).ok())
                .unwrap_or_default();
            let writetime: i64 = IntoRustByName::get_by_name(&row, "wt")
                .ok()
                .flatten()
                .unwrap_or(-1);
            out.insert(
                (id, ts),
                Reading {
                    values,
                    harm,
                    writetime,
                },
            );
        }
    }
    out
}

/// Compares a meter table with the first `count` records the generator makes from `seed`.
/// Returns (missing, extra, wrong values).
pub fn compare_meter(
    stored: &HashMap<(uuid::Uuid, i64), Reading>,
    count: u64,
    seed: u64,
) -> (u64, u64, u64) {
    let mut rng = produce::Rng::new(seed);
    let (mut missing, mut wrong) = (0, 0);
    for i in 0..count {
        let (_, v) = produce::record(Workload::Meter, i, &mut rng);
        let id: uuid::Uuid = v["id"].as_str().and_then(|s| s.parse().ok()).expect("id");
        let ts = v["timestamp"].as_i64().expect("timestamp");
        let Some(got) = stored.get(&(id, ts)) else {
            missing += 1;
            continue;
        };
        let same_values = ["P_1", "P_2", "P_3", "Q_1", "Q_2", "Q_3"]
            .iter()
            .zip(got.values)
            .all(|(k, g)| (g as f64 - v[*k].as_f64().unwrap_or(f64::NAN)).abs() < 0.005);
        let harm: Vec<i32> = v["HARM"]
            .as_array()
            .expect("HARM")
            .iter()
            .map(|h| h.as_i64().unwrap_or(-1) as i32)
            .collect();
        if !same_values || got.harm != harm {
            wrong += 1;
        }
    }
    let extra = (stored.len() as u64).saturating_sub(count - missing);
    (missing, extra, wrong)
}

// ---------------------------------------------------------------------------------------------
// Kafka: committed offsets and high watermarks, read with a client of our own.

fn consumer(bootstrap: &str, group: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer")
}

/// The group's committed offset per partition (0 when none), or an error while the broker is
/// unreachable.
pub async fn committed(
    bootstrap: &str,
    group: &str,
    topic: &str,
    partitions: i32,
) -> Result<Vec<i64>, String> {
    let (bootstrap, group, topic) = (bootstrap.to_string(), group.to_string(), topic.to_string());
    tokio::task::spawn_blocking(move || {
        let c = consumer(&bootstrap, &group);
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition(&topic, p);
        }
        let got = c
            .committed_offsets(tpl, Duration::from_secs(10))
            .map_err(|e| e.to_string())?;
        got.elements()
            .iter()
            .map(|e| match (e.error(), e.offset()) {
                // A partition the broker could not answer for is not "nothing committed".
                (Err(error), _) => Err(format!("partition {}: {error}", e.partition())),
                (Ok(()), Offset::Offset(o)) => Ok(o),
                (Ok(()), _) => Ok(0),
            })
            .collect()
    })
    .await
    .expect("committed offsets task")
}

/// Polls until the group has committed `expected` records of `topic` in total.
pub async fn wait_committed(
    bootstrap: &str,
    group: &str,
    topic: &str,
    partitions: i32,
    expected: i64,
) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut total, mut error) = (None, None);
    loop {
        // The broker may not answer for a partition for a moment (after its restart): ask again.
        match committed(bootstrap, group, topic, partitions).await {
            Ok(offsets) => total = Some(offsets.iter().sum()),
            Err(e) => error = Some(e),
        }
        match total {
            Some(c) if c >= expected => return c,
            _ if Instant::now() > deadline => {
                return total.unwrap_or_else(|| panic!("committed offsets of {group}: {error:?}"))
            }
            _ => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// Records in `topic` (sum of high watermarks; the topics here are never truncated).
pub async fn records_in(bootstrap: &str, topic: &str, partitions: i32) -> i64 {
    let (bootstrap, topic) = (bootstrap.to_string(), topic.to_string());
    tokio::task::spawn_blocking(move || {
        let c = consumer(&bootstrap, "cassink-faults-watermarks");
        (0..partitions)
            .map(|p| {
                c.fetch_watermarks(&topic, p, Duration::from_secs(10))
                    .map(|(_, high)| high)
                    .unwrap_or_else(|e| panic!("watermarks of {topic}/{p}: {e}"))
            })
            .sum()
    })
    .await
    .expect("watermarks task")
}

/// The (id, timestamp) of every meter record in `topic`, per partition in offset order.
pub async fn topic_keys(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
) -> Vec<Vec<(uuid::Uuid, i64)>> {
    use rdkafka::Message;
    let (bootstrap, topic) = (bootstrap.to_string(), topic.to_string());
    tokio::task::spawn_blocking(move || {
        let c = consumer(&bootstrap, "cassink-faults-reader");
        let mut highs = Vec::new();
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            let (_, high) = c
                .fetch_watermarks(&topic, p, Duration::from_secs(10))
                .unwrap_or_else(|e| panic!("watermarks of {topic}/{p}: {e}"));
            highs.push(high);
            tpl.add_partition_offset(&topic, p, Offset::Beginning)
                .expect("partition");
        }
        c.assign(&tpl).expect("assign");
        let mut keys: Vec<Vec<(uuid::Uuid, i64)>> = highs
            .iter()
            .map(|h| Vec::with_capacity(*h as usize))
            .collect();
        let deadline = Instant::now() + Duration::from_secs(60);
        while keys.iter().zip(&highs).any(|(k, h)| (k.len() as i64) < *h) {
            assert!(Instant::now() < deadline, "cannot read back {topic}");
            let Some(msg) = c.poll(Duration::from_millis(200)) else {
                continue;
            };
            let msg = msg.unwrap_or_else(|e| panic!("reading {topic}: {e}"));
            let p = msg.partition() as usize;
            assert_eq!(msg.offset(), keys[p].len() as i64, "gap in {topic}/{p}");
            let v: Value = serde_json::from_slice(msg.payload().unwrap_or_default())
                .expect("a JSON meter record");
            let id = v["id"].as_str().and_then(|s| s.parse().ok()).expect("id");
            keys[p].push((id, v["timestamp"].as_i64().expect("timestamp")));
        }
        keys
    })
    .await
    .expect("topic reader task")
}

/// Produces `count` meter records at `rate` per second in the background.
pub fn produce_in_background(
    bootstrap: &str,
    topic: &str,
    count: u64,
    rate: Option<u64>,
    seed: u64,
) -> tokio::task::JoinHandle<u64> {
    let (bootstrap, topic) = (bootstrap.to_string(), topic.to_string());
    tokio::spawn(async move {
        produce::produce(&bootstrap, Workload::Meter, &topic, count, rate, seed)
            .await
            .unwrap_or_else(|e| panic!("producing to {topic}: {e}"))
    })
}

/// Like [`produce_in_background`], but riding out a broker restart: a record whose delivery
/// fails (the broker answers an error while it shuts down) is sent again until it is
/// acknowledged. The topic may then hold a record twice (same key and value, so the same row).
/// Returns how many sends were repeated.
pub fn produce_through_outages(
    bootstrap: &str,
    topic: &str,
    count: u64,
    rate: u64,
    seed: u64,
) -> tokio::task::JoinHandle<u64> {
    use futures::StreamExt;
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let (bootstrap, topic) = (bootstrap.to_string(), topic.to_string());
    tokio::spawn(async move {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("linger.ms", "20")
            .set("message.timeout.ms", "60000")
            .create()
            .expect("producer");
        let mut rng = produce::Rng::new(seed);
        let records: Vec<(String, String)> = (0..count)
            .map(|i| {
                let (k, v) = produce::record(Workload::Meter, i, &mut rng);
                (k, v.to_string())
            })
            .collect();
        // A resend waits a little: while the broker is down, deliveries fail at once.
        let send = |i: usize, pause: Duration| {
            let (k, v) = &records[i];
            let (producer, topic) = (&producer, &topic);
            async move {
                tokio::time::sleep(pause).await;
                let delivery = producer
                    .send(
                        FutureRecord::to(topic).key(k).payload(v),
                        Duration::from_secs(60),
                    )
                    .await;
                (i, delivery.is_ok())
            }
        };
        let pause = Duration::from_millis(200);
        let started = Instant::now();
        let deadline = started + Duration::from_secs(180);
        let mut inflight = futures::stream::FuturesUnordered::new();
        let mut resent = 0;
        for i in 0..records.len() {
            let due = Duration::from_secs_f64(i as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
            inflight.push(send(i, Duration::ZERO));
            while let Some(Some((i, ok))) = futures::FutureExt::now_or_never(inflight.next()) {
                if !ok {
                    resent += 1;
                    inflight.push(send(i, pause));
                }
            }
        }
        while let Some((i, ok)) = inflight.next().await {
            if !ok {
                assert!(
                    Instant::now() < deadline,
                    "cannot deliver record {i} to {topic}"
                );
                resent += 1;
                inflight.push(send(i, pause));
            }
        }
        resent
    })
}

// ---------------------------------------------------------------------------------------------
// The worker process.

/// Properties of the fault tests' workers: offsets committed every 500 ms, and a killed
/// worker's consumers given up by the group within 6 s.
const WORKER_PROPERTIES: &str = "offset.flush.interval.ms=500\n\
                                 consumer.session.timeout.ms=6000\nconsumer.heartbeat.interval.ms=1000";

/// A `cassink worker` of `bootstrap` with its state dir, config and log in `dir`, ready.
pub async fn start_worker(dir: &Path, bootstrap: &str) -> Worker {
    Worker::start_of(
        bootstrap,
        dir,
        &dir.join("state"),
        free_port(),
        WORKER_PROPERTIES,
    )
    .await
}

/// The meter connector of connectors/meter.json, pointed at `topic`, `keyspace` and `cql`,
/// with `extra` keys on top.
pub fn meter_connector(
    topic: &str,
    keyspace: &str,
    cql: &Cassandra,
    tasks: u32,
    extra: &[(&str, &str)],
) -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/connectors/meter.json"
    ))
    .expect("connectors/meter.json");
    let json: Value = serde_json::from_str(&text).expect("meter.json is JSON");
    let shipped = json["config"].as_object().expect("config object");
    let mapping = shipped["topic.meter.kafkapipeline.meter_data.mapping"].clone();
    let mut config: serde_json::Map<String, Value> = shipped
        .iter()
        .filter(|(k, _)| !k.starts_with("topic."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    config.insert("topics".into(), json!(topic));
    config.insert("tasks.max".into(), json!(tasks.to_string()));
    config.insert("contactPoints".into(), json!(cql.host));
    config.insert("port".into(), json!(cql.port.to_string()));
    config.insert(
        format!("topic.{topic}.{keyspace}.meter_data.mapping"),
        mapping,
    );
    for (k, v) in extra {
        config.insert(k.to_string(), json!(v));
    }
    Value::Object(config)
}
