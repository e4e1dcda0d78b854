//! A bad-input corpus mixed into good meter traffic. Under `errors.tolerance=all` every bad
//! record reaches the dead-letter queue, byte for byte with `__connect.errors.*` headers, and
//! every good record lands; under `none` the task fails on the first bad one with a trace.
//! Runs against the local stack (`integration/stack.sh up`) or the services named by
//! KAFKA_BOOTSTRAP / CASSANDRA_CONTACT_POINTS / CASSANDRA_PORT.

mod common;

use cassink::produce::{self, Workload};
use cassink::worker::task::State;
use common::sink::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// (name, key, value) of a record.
type Case = (&'static str, Option<Vec<u8>>, Option<Vec<u8>>);

/// Records no table can take, each for its own reason.
fn corpus() -> Vec<Case> {
    let good = |id: &str, extra: &str| {
        format!(
            r#"{{"id":"{id}","timestamp":1612891980000,"P_1":1.5,"P_2":2.5,"P_3":3.5,"Q_1":0.5,"Q_2":0.5,"Q_3":0.5,"HARM":[1,2]{extra}}}"#
        )
    };
    let id = "6d657465-7200-0000-0000-00000000ffff";
    vec![
        (
            "invalid json",
            Some(b"k1".to_vec()),
            Some(br#"{"id": "6d657465-7200"#.to_vec()),
        ),
        (
            "invalid utf-8",
            Some(b"k2".to_vec()),
            Some(vec![0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28]),
        ),
        (
            "wrong type",
            Some(b"k3".to_vec()),
            Some(
                good(id, "")
                    .replace("\"P_1\":1.5", "\"P_1\":\"heavy\"")
                    .into_bytes(),
            ),
        ),
        (
            "missing primary key",
            Some(b"k4".to_vec()),
            Some(
                good(id, "")
                    .replace(&format!("\"id\":\"{id}\","), "")
                    .into_bytes(),
            ),
        ),
        (
            "out of range",
            Some(b"k5".to_vec()),
            Some(
                good(id, "")
                    .replace("[1,2]", "[1,99999999999]")
                    .into_bytes(),
            ),
        ),
        ("empty value", Some(b"k6".to_vec()), Some(Vec::new())),
        ("tombstone without key", None, None),
        (
            "json bomb",
            Some(b"k8".to_vec()),
            Some(format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes()),
        ),
        (
            "not a uuid",
            Some(b"k9".to_vec()),
            Some(good("not-a-uuid", "").into_bytes()),
        ),
    ]
}

async fn send(
    producer: &FutureProducer,
    topic: &str,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: OwnedHeaders,
) {
    let mut record: FutureRecord<'_, [u8], [u8]> =
        FutureRecord::to(topic).partition(0).headers(headers);
    if let Some(k) = key {
        record = record.key(k);
    }
    if let Some(v) = value {
        record = record.payload(v);
    }
    producer
        .send(record, Duration::from_secs(10))
        .await
        .map_err(|(e, _)| e)
        .expect("produce");
}

/// Produces `good` meter records with the corpus spread among them (one partition, so the
/// offsets of the bad records are known). Returns the offsets of the bad records by name.
async fn mixed_topic(
    topic: &str,
    good: u64,
) -> BTreeMap<i64, (&'static str, Option<Vec<u8>>, Option<Vec<u8>>)> {
    // Kafka refuses records over 1 MB unless the topic (and producer) allow them.
    common::create_topic_configured(topic, 1, &[("max.message.bytes", "4000000")]).await;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("message.max.bytes", "2000000")
        .create()
        .expect("producer");
    let mut rng = produce::Rng::new(5);
    let bad = corpus();
    let every = good / bad.len() as u64;
    let mut offsets = BTreeMap::new();
    let mut offset = 0i64;
    let mut bad_iter = bad.into_iter();
    for i in 0..good {
        let (key, value) = produce::record(Workload::Meter, i, &mut rng);
        send(
            &producer,
            topic,
            Some(key.as_bytes()),
            Some(value.to_string().as_bytes()),
            OwnedHeaders::new(),
        )
        .await;
        offset += 1;
        if i % every == every / 2 {
            if let Some((name, key, value)) = bad_iter.next() {
                let headers = OwnedHeaders::new().insert(Header {
                    key: "origin",
                    value: Some(name.as_bytes()),
                });
                send(&producer, topic, key.as_deref(), value.as_deref(), headers).await;
                offsets.insert(offset, (name, key, value));
                offset += 1;
            }
        }
    }
    // An oversize (> 1 MB) but valid reading: it must land, not be lost or break the batch.
    let harm: Vec<String> = (0..300_000).map(|i| (i % 1000).to_string()).collect();
    let big = format!(
        r#"{{"id":"6d657465-7200-0000-0000-0000000b1b00","timestamp":1612891980000,"P_1":1.0,"P_2":1.0,"P_3":1.0,"Q_1":1.0,"Q_2":1.0,"Q_3":1.0,"HARM":[{}]}}"#,
        harm.join(",")
    );
    assert!(big.len() > 1_000_000);
    send(
        &producer,
        topic,
        Some(b"big"),
        Some(big.as_bytes()),
        OwnedHeaders::new(),
    )
    .await;
    offsets
}

fn config(topic: &str, keyspace: &str, extra: &[(&str, &str)]) -> cassink::config::ConfigMap {
    let mut c = meter_config(topic, keyspace);
    c.insert(
        "key.converter".into(),
        "org.apache.kafka.connect.converters.ByteArrayConverter".into(),
    );
    for (k, v) in extra {
        c.insert(k.to_string(), v.to_string());
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_tolerance_all_every_bad_record_reaches_the_dlq_byte_for_byte_and_every_good_record_lands(
) {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let topic = unique("corpus");
    let dlq = unique("corpus_dlq");
    let good = 900;
    let bad = mixed_topic(&topic, good).await;
    assert_eq!(bad.len(), corpus().len());

    let name = unique("corpus-sink");
    let extra = [
        ("errors.tolerance", "all"),
        ("errors.deadletterqueue.topic.name", dlq.as_str()),
        ("errors.deadletterqueue.topic.replication.factor", "1"),
        ("errors.deadletterqueue.context.headers.enable", "true"),
        ("errors.log.enable", "true"),
    ];
    let tasks = spawn_tasks(&name, &config(&topic, &keyspace, &extra), 1);
    // The good readings plus the oversize one.
    wait_for_rows(
        &session,
        &format!("{keyspace}.meter_data"),
        good as i64 + 1,
        &tasks,
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while committed_total(&format!("connect-{name}"), &topic, 1)
        < good as i64 + 1 + bad.len() as i64
    {
        assert!(
            Instant::now() < deadline,
            "offsets never covered the whole topic"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for t in tasks {
        assert_eq!(
            t.status().state,
            State::Running,
            "tolerance all keeps the task running"
        );
        t.stop(Duration::from_secs(30)).await;
    }

    // Read the DLQ back.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("group.id", unique("dlq-reader"))
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&dlq, 0, Offset::Beginning)
        .expect("partition");
    consumer.assign(&tpl).expect("assign");
    let mut seen = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < bad.len() && Instant::now() < deadline {
        let Some(Ok(msg)) = consumer.poll(Duration::from_millis(500)) else {
            continue;
        };
        let headers: BTreeMap<String, Vec<u8>> = msg
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| (h.key.to_string(), h.value.unwrap_or_default().to_vec()))
                    .collect()
            })
            .unwrap_or_default();
        let text = |k: &str| {
            String::from_utf8_lossy(headers.get(k).map(Vec::as_slice).unwrap_or_default())
                .to_string()
        };
        let offset: i64 = text("__connect.errors.offset")
            .parse()
            .expect("offset header");
        let (case, key, value) = bad
            .get(&offset)
            .unwrap_or_else(|| panic!("DLQ holds offset {offset}, which was a good record"))
            .clone();
        assert_eq!(
            msg.key().map(<[u8]>::to_vec),
            key,
            "{case}: key byte for byte"
        );
        assert_eq!(
            msg.payload().map(<[u8]>::to_vec),
            value,
            "{case}: value byte for byte"
        );
        assert_eq!(text("origin"), case, "{case}: original headers kept");
        assert_eq!(text("__connect.errors.topic"), topic);
        assert_eq!(text("__connect.errors.partition"), "0");
        assert_eq!(text("__connect.errors.connector.name"), name);
        assert_eq!(text("__connect.errors.task.id"), "0");
        assert!(
            !text("__connect.errors.exception.message").is_empty(),
            "{case}: has a message"
        );
        assert!(
            text("__connect.errors.exception.stacktrace").contains(&format!("offset={offset}")),
            "{case}: stacktrace names the offset"
        );
        let stage = text("__connect.errors.stage");
        assert!(
            stage == "VALUE_CONVERTER" || stage == "TASK_PUT",
            "{case}: stage {stage}"
        );
        seen.insert(
            offset,
            (case, stage, text("__connect.errors.exception.message")),
        );
    }
    let summary: Vec<String> = seen
        .values()
        .map(|(n, s, m)| format!("{n} [{s}]: {}", m.chars().take(90).collect::<String>()))
        .collect();
    assert_eq!(
        seen.len(),
        bad.len(),
        "every bad record is in the DLQ exactly once:\n{}",
        summary.join("\n")
    );
    println!("{{\"test\":\"bad_input_corpus\",\"good_sent\":{},\"bad_sent\":{},\"rows_found\":{},\"dlq_records\":{}}}", good + 1, bad.len(), count(&session, &format!("{keyspace}.meter_data")).await, seen.len());
    for line in summary {
        println!("  {line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_tolerance_none_the_task_fails_on_the_first_bad_record_with_a_trace() {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let topic = unique("corpus_none");
    let good = 90;
    let bad = mixed_topic(&topic, good).await;
    let (first_offset, (first_name, _, _)) = bad
        .iter()
        .next()
        .map(|(o, v)| (*o, v.clone()))
        .expect("a bad record");

    let name = unique("corpus-none-sink");
    let tasks = spawn_tasks(&name, &config(&topic, &keyspace, &[]), 1);
    let status = wait_for_failure(&tasks[0], Duration::from_secs(60)).await;
    let trace = status.trace.expect("a trace");
    assert!(
        trace.contains(&format!("topic={topic} partition=0 offset={first_offset}")),
        "{first_name}: {trace}"
    );
    assert!(trace.contains("stage=VALUE_CONVERTER"), "{trace}");
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    assert_eq!(
        count(&session, &format!("{keyspace}.meter_data")).await,
        first_offset,
        "the good records before it are written"
    );
    assert_eq!(
        committed_total(&format!("connect-{name}"), &topic, 1),
        first_offset,
        "committed up to, not past, the bad record"
    );
}
