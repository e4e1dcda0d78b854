//! Distributed mode: three `cassink worker` processes share `group.id` and the config/status
//! topics. A connector created on one worker runs on all of them, the connector's consumer
//! group splits the partitions over every worker's tasks, and a worker stopping gracefully
//! hands its partitions to the others.
//!
//! Needs the local stack (Kafka at KAFKA_BOOTSTRAP, CQL at CASSANDRA_CONTACT_POINTS).

mod common;

use cassink::produce::{self, Workload};
use common::sink::{count, cql, meter_config, meter_table};
use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn names(w: &Worker) -> Vec<String> {
    let r = call(Method::GET, &w.url("/connectors"), None).await;
    serde_json::from_value(r.body).unwrap_or_default()
}

/// Produces meter records `from..to` (distinct rows from an earlier `0..from`).
async fn produce_range(topic: &str, from: u64, to: u64) {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("acks", "all")
        .create()
        .expect("producer");
    let mut rng = produce::Rng::new(8);
    let mut pending = Vec::new();
    for i in from..to {
        let (key, value) = produce::record(Workload::Meter, i, &mut rng);
        let payload = value.to_string();
        let record = FutureRecord::to(topic).key(&key).payload(&payload);
        let delivery = producer
            .send_result(record)
            .map_err(|(e, _)| e)
            .expect("enqueue");
        pending.push(delivery);
        if pending.len() >= 500 {
            for r in futures::future::join_all(pending.drain(..)).await {
                r.expect("delivery report")
                    .map_err(|(e, _)| e)
                    .expect("produce");
            }
        }
    }
    for r in futures::future::join_all(pending).await {
        r.expect("delivery report")
            .map_err(|(e, _)| e)
            .expect("produce");
    }
}

/// The worker log lines about group membership (for failure messages).
fn interesting(w: &Worker) -> String {
    let text = w.log_text();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            [
                "assign",
                "revok",
                "rebalanc",
                "joingroup",
                "syncgroup",
                "leave",
                "error",
                "warn",
            ]
            .iter()
            .any(|k| l.contains(k))
                && !l.contains("fetch")
        })
        .collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

async fn wait_until<F, Fut>(what: &str, within: Duration, mut check: F)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connectors_and_partitions_are_shared_by_three_workers() {
    require_broker();
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let table = format!("{keyspace}.meter_data");
    let topic = unique("dmeter");
    produce::ensure_topic(&bootstrap(), &topic, 6)
        .await
        .expect("create topic");
    let first = 3_000u64;
    produce::produce(&bootstrap(), Workload::Meter, &topic, first, None, 7)
        .await
        .expect("produce");

    let cluster = unique("dcluster");
    let extra = format!(
        "group.id={cluster}\nconfig.storage.topic={cluster}-configs\n\
         status.storage.topic={cluster}-status\noffset.storage.topic={cluster}-offsets\n\
         config.storage.replication.factor=3\n"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let mut workers = Vec::new();
    for i in 0..3 {
        let state = dir.path().join(format!("state-{i}"));
        workers.push(Worker::start_props(dir.path(), &state, free_port(), &extra).await);
    }

    // Created on worker 1, visible on every worker.
    let name = unique("dsink");
    let mut config: Value = serde_json::to_value(meter_config(&topic, &keyspace)).unwrap();
    config["tasks.max"] = json!("2");
    let created = call(
        Method::POST,
        &workers[0].url("/connectors"),
        Some(&json!({"name": name, "config": config})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(
        names(&workers[0]).await,
        vec![name.clone()],
        "read-your-writes"
    );
    for w in &workers[1..] {
        wait_until(
            "the connector reaches every worker",
            Duration::from_secs(20),
            || async { names(w).await == vec![name.clone()] },
        )
        .await;
    }

    wait_until(
        "the first records land",
        Duration::from_secs(180),
        || async { count(&session, &table).await >= first as i64 },
    )
    .await;
    assert_eq!(count(&session, &table).await, first as i64);

    // The status reports this worker's advertised host:port.
    let status = call(
        Method::GET,
        &workers[1].url(&format!("/connectors/{name}/status")),
        None,
    )
    .await;
    assert_eq!(
        status.body["connector"]["worker_id"],
        json!(format!("127.0.0.1:{}", workers[1].port)),
        "{}",
        status.text
    );

    // The group splits the partitions: every worker's tasks get some (the first task to
    // join may hold them all until the others' join completes a rebalance).
    for w in &workers {
        wait_until(
            &format!("worker {} gets partitions:\n{}", w.port, interesting(w)),
            Duration::from_secs(90),
            || async {
                let topic = topic.clone();
                w.log_text()
                    .lines()
                    .any(|l| l.contains("partitions assigned") && l.contains(&topic))
            },
        )
        .await;
    }

    // A graceful stop of worker 3: its partitions move to the others.
    let mut third = workers.pop().expect("three workers");
    let exit = third.terminate(Duration::from_secs(60));
    assert!(exit.success(), "worker 3 exit: {exit}");
    // Meter rows are keyed by the record index: the second batch continues the indices.
    let second = 3_000u64;
    produce_range(&topic, first, first + second).await;
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let n = count(&session, &table).await;
        if n >= (first + second) as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after worker 3 left only {n} of {} rows landed:\n{}\n{}",
            first + second,
            interesting(&workers[0]),
            interesting(&workers[1])
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(count(&session, &table).await, (first + second) as i64);

    // Paused on worker 2, paused on worker 1; resumed likewise.
    let connector_state = |w: &Worker| {
        let url = w.url(&format!("/connectors/{name}/status"));
        async move {
            let r = call(Method::GET, &url, None).await;
            r.body["connector"]["state"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
    };
    for (action, state) in [("pause", "PAUSED"), ("resume", "RUNNING")] {
        let r = call(
            Method::PUT,
            &workers[1].url(&format!("/connectors/{name}/{action}")),
            None,
        )
        .await;
        assert_eq!(r.status, 202, "{}", r.text);
        wait_until(
            &format!("{action} reaches worker 1"),
            Duration::from_secs(20),
            || async { connector_state(&workers[0]).await == state },
        )
        .await;
    }

    // Deleted on worker 2, gone from worker 1.
    let deleted = call(
        Method::DELETE,
        &workers[1].url(&format!("/connectors/{name}")),
        None,
    )
    .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    wait_until(
        "the delete reaches worker 1",
        Duration::from_secs(20),
        || async { names(&workers[0]).await.is_empty() },
    )
    .await;
}
