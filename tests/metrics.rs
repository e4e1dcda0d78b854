//! The metrics against what really happened on the real stack: after a run with bad records
//! (dead-lettered), records a transform drops and good ones, every record read is accounted
//! for (read = written + skipped + failed + filtered + in flight), the counts match the
//! records produced and the rows in Cassandra, and Connect's metric names carry the same
//! figures. A failing task counts what it did not write.
//!
//! Needs KAFKA_BOOTSTRAP and CASSANDRA_CONTACT_POINTS (`integration/stack.sh up`).

mod common;

use cassink::metrics::{self, RecordCounts};
use common::sink::*;
use common::wait_until;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use std::time::Duration;

/// Sends `payloads` to partition `partition` of `topic`, in order; those with `skip` set
/// carry a `skip` header.
async fn send(topic: &str, partition: i32, payloads: &[(String, bool)]) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("producer");
    for (payload, skip) in payloads {
        let mut record = FutureRecord::<str, str>::to(topic)
            .partition(partition)
            .payload(payload);
        if *skip {
            record = record.headers(OwnedHeaders::new().insert(Header {
                key: "skip",
                value: Some("yes"),
            }));
        }
        producer
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(e, _)| e)
            .expect("produce");
    }
}

fn reading(i: i64) -> String {
    format!(
        r#"{{"id":"6d657465-7200-0000-0000-{i:012}","timestamp":{},"P_1":1.0,"P_2":2.0,"P_3":3.0,"Q_1":1.0,"Q_2":2.0,"Q_3":3.0,"HARM":[1,2]}}"#,
        1_612_891_980_000 + i * 1000
    )
}

/// The value of the series `name{labels}` in the worker's exposition.
fn series(text: &str, name: &str, labels: &str) -> Option<f64> {
    let start = format!("{name}{{{labels}}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&start))
        .and_then(|v| v.trim().parse().ok())
}

fn reconciled(r: &RecordCounts) -> bool {
    r.read == r.written + r.skipped + r.failed + r.filtered + r.in_flight
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_record_read_is_written_skipped_filtered_or_failed_and_connect_names_agree() {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let topic = unique("metrics-meter");
    cassink::produce::ensure_topic(&bootstrap(), &topic, 2)
        .await
        .expect("create topic");
    let dlq = unique("metrics-dlq");
    // Per partition: 30 good readings, 3 that are not JSON, 5 a transform drops.
    for partition in 0..2 {
        let mut payloads = Vec::new();
        for i in 0..38i64 {
            let n = partition as i64 * 100 + i;
            payloads.push(match i % 8 {
                3 if i < 24 => ("{not json".to_string(), false),
                5 => (reading(n), true),
                _ => (reading(n), false),
            });
        }
        let (bad, skip) = (
            payloads
                .iter()
                .filter(|(p, _)| p.starts_with("{not"))
                .count(),
            payloads.iter().filter(|(_, s)| *s).count(),
        );
        assert_eq!((bad, skip), (3, 5), "the test's own data");
        send(&topic, partition, &payloads).await;
    }

    let mut config = meter_config(&topic, &keyspace);
    for (k, v) in [
        ("errors.tolerance", "all"),
        ("errors.log.enable", "true"),
        ("errors.deadletterqueue.topic.name", dlq.as_str()),
        ("errors.deadletterqueue.topic.replication.factor", "1"),
        ("errors.deadletterqueue.context.headers.enable", "true"),
        ("transforms", "drop"),
        (
            "transforms.drop.type",
            "org.apache.kafka.connect.transforms.Filter",
        ),
        ("transforms.drop.predicate", "marked"),
        ("predicates", "marked"),
        (
            "predicates.marked.type",
            "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
        ),
        ("predicates.marked.name", "skip"),
    ] {
        config.insert(k.into(), v.into());
    }
    let name = unique("metrics-sink");
    let tasks = spawn_tasks(&name, &config, 1);
    wait_for_commit(&format!("connect-{name}"), &topic, 2, 76, &tasks).await;

    let flow = metrics::global().flow(&name);
    let expected = RecordCounts {
        read: 76,
        written: 60,
        skipped: 6,
        failed: 0,
        filtered: 10,
        in_flight: 0,
        dead_lettered: 6,
    };
    assert_eq!(flow.records, expected, "{flow:#?}");
    assert!(reconciled(&flow.records));
    assert_eq!(
        count(&session, &format!("{keyspace}.meter_data")).await,
        60,
        "the rows are the records counted as written"
    );
    assert_eq!(dead_letters(&dlq, 6).len(), 6, "the dead-lettered records");

    let labels = format!(r#"connector="{name}",task="0""#);
    let text = metrics::global().encode();
    for (metric, value) in [
        ("kafka_connect_sink_task_sink_record_read_total", 76.0),
        ("kafka_connect_sink_task_sink_record_send_total", 60.0),
        ("kafka_connect_sink_task_sink_record_active_count", 0.0),
        ("kafka_connect_task_error_total_record_errors", 6.0),
        ("kafka_connect_task_error_total_records_skipped", 6.0),
        ("kafka_connect_task_error_total_errors_logged", 6.0),
        (
            "kafka_connect_task_error_deadletterqueue_produce_requests",
            6.0,
        ),
        (
            "kafka_connect_task_error_deadletterqueue_produce_failures",
            0.0,
        ),
        ("kafka_connect_sink_task_partition_count", 2.0),
        ("cassink_records_filtered_total", 10.0),
        ("cassink_records_dead_lettered_total", 6.0),
    ] {
        assert_eq!(
            series(&text, metric, &labels),
            Some(value),
            "{metric}:\n{text}"
        );
    }
    assert!(
        series(
            &text,
            "kafka_connect_sink_task_put_batch_max_time_ms",
            &labels
        )
        .is_some_and(|ms| ms > 0.0),
        "{text}"
    );
    assert!(
        series(
            &text,
            "kafka_connect_sink_task_offset_commit_completion_total",
            &labels
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    // Both partitions are reported with the offset committed; the lag follows the broker's
    // view of the commit, reported every statistics interval.
    assert_eq!(flow.partitions.len(), 2, "{flow:#?}");
    assert!(flow
        .partitions
        .iter()
        .all(|p| p.committed_offset == Some(38)));
    wait_until("the lag reaches 0", Duration::from_secs(30), || async {
        let flow = metrics::global().flow(&name);
        flow.partitions.len() == 2
            && flow
                .partitions
                .iter()
                .all(|p| p.lag == Some(0) && p.end_offset == Some(38))
    })
    .await;

    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    assert!(
        metrics::global().flow(&name).partitions.is_empty(),
        "a stopped task no longer reports its partitions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_task_counts_what_it_did_not_write() {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let topic = unique("metrics-fail");
    cassink::produce::ensure_topic(&bootstrap(), &topic, 1)
        .await
        .expect("create topic");
    let mut payloads: Vec<(String, bool)> = (0..10).map(|i| (reading(i), false)).collect();
    payloads.push(("{not json".into(), false));
    payloads.extend((11..20).map(|i| (reading(i), false)));
    send(&topic, 0, &payloads).await;

    let name = unique("metrics-fail-sink");
    let tasks = spawn_tasks(&name, &meter_config(&topic, &keyspace), 1);
    wait_for_failure(&tasks[0], Duration::from_secs(60)).await;

    let r = metrics::global().flow(&name).records;
    assert_eq!(r.written, 10, "the records before the bad one: {r:?}");
    assert!(
        r.failed >= 1,
        "the bad record and what was read with it: {r:?}"
    );
    assert_eq!((r.skipped, r.filtered, r.in_flight), (0, 0, 0), "{r:?}");
    assert!(reconciled(&r), "{r:?}");
    assert_eq!(count(&session, &format!("{keyspace}.meter_data")).await, 10);
    let text = metrics::global().encode();
    let labels = format!(r#"connector="{name}",task="0""#);
    assert_eq!(
        series(
            &text,
            "kafka_connect_task_error_total_record_errors",
            &labels
        ),
        Some(1.0)
    );
    assert_eq!(
        series(
            &text,
            "kafka_connect_task_error_total_records_skipped",
            &labels
        ),
        Some(0.0)
    );
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
}
