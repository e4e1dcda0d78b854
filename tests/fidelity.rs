//! Rows as DataStax writes them, checked in the real Cassandra: `now()` is fresh for every
//! record, out-of-range write times fail their record with a reason, a TTL or a write
//! timestamp on a counter table is refused when the task starts. Runs against the local stack
//! (`integration/stack.sh up`) or KAFKA_BOOTSTRAP / CASSANDRA_CONTACT_POINTS / CASSANDRA_PORT.

mod common;

use cassink::config::ConfigMap;
use cassink::worker::task::State;
use cdrs_tokio::types::IntoRustByName;
use common::sink::*;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use std::collections::BTreeSet;
use std::time::Duration;

/// Sends `(timestamp ms, JSON value)` records to partition 0 of `topic`.
async fn send(topic: &str, records: &[(Option<i64>, serde_json::Value)]) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("producer");
    for (ts, value) in records {
        let payload = value.to_string();
        let mut record = FutureRecord::<str, str>::to(topic)
            .partition(0)
            .payload(&payload);
        if let Some(ts) = ts {
            record = record.timestamp(*ts);
        }
        producer
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(e, _)| e)
            .expect("produce");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn now_gives_every_record_its_own_time_based_uuid() {
    let session = cql().await;
    let ks = keyspace_with(
        &session,
        "fidelity",
        &["CREATE TABLE {ks}.readings (id timeuuid PRIMARY KEY, reading int)"],
    )
    .await;
    let topic = unique("fidelity_now");
    common::create_topic(&topic, 1).await;
    let records: Vec<_> = (0..200)
        .map(|i| (None, serde_json::json!({"reading": i})))
        .collect();
    send(&topic, &records).await;
    let started = chrono::Utc::now().timestamp();
    let name = unique("fidelity-now-sink");
    let config = json_config(
        &topic,
        &ks,
        "readings",
        "id=now(), reading=value.reading",
        &[],
    );
    let tasks = spawn_tasks(&name, &config, 1);
    wait_for_commit(&format!("connect-{name}"), &topic, 1, 200, &tasks).await;
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    let got = rows(&session, &format!("SELECT id, reading FROM {ks}.readings")).await;
    let readings: BTreeSet<i32> = got
        .iter()
        .filter_map(|r| {
            IntoRustByName::<i32>::get_by_name(r, "reading")
                .ok()
                .flatten()
        })
        .collect();
    assert_eq!(got.len(), 200, "one row per record, not one per batch");
    assert_eq!(readings, (0..200).collect(), "every reading has its row");
    for row in &got {
        let id: uuid::Uuid = IntoRustByName::<uuid::Uuid>::get_by_name(row, "id")
            .ok()
            .flatten()
            .expect("a timeuuid");
        assert_eq!(id.get_version_num(), 1, "{id}");
        let (secs, _) = id.get_timestamp().expect("a v1 timestamp").to_unix();
        assert!(
            (started - 5..=started + 120).contains(&(secs as i64)),
            "{id}: {secs} is not now"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_time_out_of_range_fails_its_record_with_a_reason() {
    let session = cql().await;
    let ks = keyspace_with(
        &session,
        "fidelity",
        &["CREATE TABLE {ks}.events (id int PRIMARY KEY, v int)"],
    )
    .await;
    let topic = unique("fidelity_time");
    // Kafka 4 refuses timestamps more than an hour ahead unless the topic allows them.
    common::create_topic_configured(
        &topic,
        1,
        &[("message.timestamp.after.max.ms", "9223372036854775807")],
    )
    .await;
    let huge_ms = i64::MAX / 10;
    send(
        &topic,
        &[
            (
                Some(1_700_000_000_000),
                serde_json::json!({"id": 1, "v": 1, "at": 1_700_000_000}),
            ),
            // __timestamp in SECONDS that does not fit a write time in microseconds.
            (
                Some(1_700_000_000_000),
                serde_json::json!({"id": 2, "v": 2, "at": i64::MAX / 100}),
            ),
            // A Kafka timestamp whose microseconds do not fit (no __timestamp in this table).
            (
                Some(huge_ms),
                serde_json::json!({"id": 3, "v": 3, "at": 1_700_000_000}),
            ),
            (
                Some(1_700_000_000_000),
                serde_json::json!({"id": 4, "v": 4, "at": 1_700_000_000}),
            ),
        ],
    )
    .await;
    let tolerant = |dlq: &str| -> ConfigMap {
        let mut config = json_config(
            &topic,
            &ks,
            "events",
            "id=value.id, v=value.v, __timestamp=value.at",
            &[
                ("errors.tolerance", "all"),
                ("errors.deadletterqueue.topic.name", dlq),
                ("errors.deadletterqueue.topic.replication.factor", "1"),
                ("errors.deadletterqueue.context.headers.enable", "true"),
            ],
        );
        config.insert(
            format!("topic.{topic}.{ks}.events.timestampTimeUnit"),
            "SECONDS".into(),
        );
        // A second table of the same topic without __timestamp: it uses the Kafka timestamp.
        config.insert(
            format!("topic.{topic}.{ks}.by_kafka_time.mapping"),
            "id=value.id, v=value.v".into(),
        );
        config
    };
    session
        .query(format!(
            "CREATE TABLE {ks}.by_kafka_time (id int PRIMARY KEY, v int)"
        ))
        .await
        .expect("create table");

    // A dead-letter topic that refuses record 3's timestamp (Kafka 4's default of one hour
    // ahead): the task fails saying why, instead of retrying for ever, and commits nothing
    // past record 3.
    let strict_dlq = unique("fidelity_time_strict_dlq");
    let name = unique("fidelity-time-strict-sink");
    let tasks = spawn_tasks(&name, &tolerant(&strict_dlq), 1);
    let status = wait_for_failure(&tasks[0], Duration::from_secs(60)).await;
    let trace = status.trace.unwrap_or_default();
    assert!(trace.contains("message.timestamp.after.max.ms"), "{trace}");
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    assert!(committed_total(&format!("connect-{name}"), &topic, 1) <= 2);

    // A dead-letter topic that takes any timestamp.
    let dlq = unique("fidelity_time_dlq");
    common::create_topic_configured(
        &dlq,
        1,
        &[("message.timestamp.after.max.ms", "9223372036854775807")],
    )
    .await;
    let name = unique("fidelity-time-sink");
    let tasks = spawn_tasks(&name, &tolerant(&dlq), 1);
    wait_for_commit(&format!("connect-{name}"), &topic, 1, 4, &tasks).await;
    for t in &tasks {
        assert_eq!(t.status().state, State::Running, "{:?}", t.status().trace);
    }
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    let ids = |table: &'static str| {
        let session = &session;
        let ks = &ks;
        async move {
            rows(session, &format!("SELECT id FROM {ks}.{table}"))
                .await
                .iter()
                .filter_map(|r| IntoRustByName::<i32>::get_by_name(r, "id").ok().flatten())
                .collect::<BTreeSet<i32>>()
        }
    };
    assert_eq!(
        ids("events").await,
        [1, 3, 4].into(),
        "record 2's __timestamp is out of range"
    );
    assert_eq!(
        ids("by_kafka_time").await,
        [1, 2, 4].into(),
        "record 3's Kafka timestamp is out of range"
    );
    let written = rows(
        &session,
        &format!("SELECT WRITETIME(v) AS w FROM {ks}.events WHERE id = 1"),
    )
    .await;
    let micros = IntoRustByName::<i64>::get_by_name(&written[0], "w")
        .ok()
        .flatten();
    assert_eq!(
        micros,
        Some(1_700_000_000_000_000),
        "__timestamp in SECONDS, as microseconds"
    );

    // Both failures of record 2 and 3 are one dead-letter record each, with the reason.
    let dead = dead_letters(&dlq, 2);
    assert_eq!(
        dead.iter().map(|d| d.offset).collect::<Vec<_>>(),
        vec![1, 2],
        "{dead:?}"
    );
    assert!(
        dead[0].message.contains("__timestamp") && dead[0].message.contains("out of range"),
        "{}",
        dead[0].message
    );
    assert!(
        dead[1]
            .message
            .contains(&format!("record timestamp {huge_ms} ms is out of range")),
        "{}",
        dead[1].message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ttl_or_a_write_timestamp_on_a_counter_table_fails_the_task_at_start() {
    let session = cql().await;
    let ks = keyspace_with(
        &session,
        "fidelity",
        &["CREATE TABLE {ks}.hits (page text PRIMARY KEY, n counter)"],
    )
    .await;
    let topic = unique("fidelity_counter");
    common::create_topic(&topic, 1).await;
    send(
        &topic,
        &[(None, serde_json::json!({"page": "a", "n": 1, "at": 5}))],
    )
    .await;
    let cases = [
        (
            "ttl",
            json_config(
                &topic,
                &ks,
                "hits",
                "page=value.page, n=value.n",
                &[(&format!("topic.{topic}.{ks}.hits.ttl"), "60")],
            ),
        ),
        (
            "__ttl",
            json_config(
                &topic,
                &ks,
                "hits",
                "page=value.page, n=value.n, __ttl=value.at",
                &[],
            ),
        ),
        (
            "__timestamp",
            json_config(
                &topic,
                &ks,
                "hits",
                "page=value.page, n=value.n, __timestamp=value.at",
                &[],
            ),
        ),
    ];
    for (what, config) in cases {
        let name = unique("fidelity-counter-sink");
        let tasks = spawn_tasks(&name, &config, 1);
        let status = wait_for_failure(&tasks[0], Duration::from_secs(60)).await;
        let trace = status.trace.unwrap_or_default();
        assert!(trace.contains("counter table"), "{what}: {trace}");
        assert!(trace.contains(what), "{what}: {trace}");
        for t in tasks {
            t.stop(Duration::from_secs(10)).await;
        }
    }
    assert!(
        rows(&session, &format!("SELECT n FROM {ks}.hits"))
            .await
            .is_empty(),
        "nothing counted"
    );
}

/// `header.converter` decodes header values before `header.<name>` mappings read them (here
/// JSON, as a Connect user would configure it); a header it cannot decode fails its record
/// in stage HEADER_CONVERTER.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn header_values_are_decoded_by_the_header_converter() {
    use rdkafka::message::{Header, OwnedHeaders};
    let session = cql().await;
    let ks = keyspace_with(
        &session,
        "fidelity",
        &["CREATE TABLE {ks}.tagged (id int PRIMARY KEY, origin text, n int)"],
    )
    .await;
    let topic = unique("fidelity_headers");
    common::create_topic(&topic, 1).await;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("producer");
    for (id, origin) in [(1, r#""meter-1""#), (2, "not json"), (3, r#""meter-3""#)] {
        let payload = serde_json::json!({"id": id}).to_string();
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "origin",
                value: Some(origin.as_bytes()),
            })
            .insert(Header {
                key: "n",
                value: Some(format!("{}", id * 10).as_bytes()),
            });
        producer
            .send(
                FutureRecord::<str, str>::to(&topic)
                    .payload(&payload)
                    .headers(headers),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .expect("produce");
    }
    let dlq = unique("fidelity_headers_dlq");
    let config = json_config(
        &topic,
        &ks,
        "tagged",
        "id=value.id, origin=header.origin, n=header.n",
        &[
            (
                "header.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            ("header.converter.schemas.enable", "false"),
            ("errors.tolerance", "all"),
            ("errors.deadletterqueue.topic.name", dlq.as_str()),
            ("errors.deadletterqueue.topic.replication.factor", "1"),
            ("errors.deadletterqueue.context.headers.enable", "true"),
        ],
    );
    let name = unique("fidelity-headers-sink");
    let tasks = spawn_tasks(&name, &config, 1);
    wait_for_commit(&format!("connect-{name}"), &topic, 1, 3, &tasks).await;
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    let got: BTreeSet<(i32, String, i32)> =
        rows(&session, &format!("SELECT id, origin, n FROM {ks}.tagged"))
            .await
            .iter()
            .filter_map(|r| {
                Some((
                    IntoRustByName::<i32>::get_by_name(r, "id").ok()??,
                    IntoRustByName::<String>::get_by_name(r, "origin").ok()??,
                    IntoRustByName::<i32>::get_by_name(r, "n").ok()??,
                ))
            })
            .collect();
    assert_eq!(
        got,
        [
            (1, "meter-1".to_string(), 10),
            (3, "meter-3".to_string(), 30)
        ]
        .into(),
        "JSON header values, decoded"
    );
    let dead = dead_letters(&dlq, 1);
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].offset, 1);
    assert!(
        dead[0].message.contains("header origin"),
        "{}",
        dead[0].message
    );
}
