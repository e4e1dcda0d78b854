//! Errors by what they are: a table that changes under a running task (dropped, or a mapped
//! column dropped) is a misconfiguration that fails the task with a reason, even under
//! `errors.tolerance=all`: it must not send the rest of the topic to the dead-letter queue
//! record by record. Runs against the local stack (`integration/stack.sh up`) or
//! KAFKA_BOOTSTRAP / CASSANDRA_CONTACT_POINTS / CASSANDRA_PORT.

mod common;

use common::sink::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use std::time::Duration;

/// How many records the topic holds (its high watermark; one partition).
fn records_in(topic: &str) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("consumer");
    match consumer.fetch_watermarks(topic, 0, Duration::from_secs(10)) {
        Ok((_, high)) => high,
        Err(_) => 0,
    }
}

async fn a_table_change_fails_the_task_instead_of_dead_lettering(change: &str) {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let table = format!("{keyspace}.meter_data");
    let topic = unique("domains");
    common::create_topic(&topic, 1).await;
    send_meter(&topic, None, 0, 20).await;
    let dlq = unique("domains_dlq");
    let mut config = meter_config(&topic, &keyspace);
    for (k, v) in [
        ("errors.tolerance", "all"),
        ("errors.deadletterqueue.topic.name", dlq.as_str()),
        ("errors.deadletterqueue.topic.replication.factor", "1"),
    ] {
        config.insert(k.into(), v.into());
    }
    let name = unique("domains-sink");
    let tasks = spawn_tasks(&name, &config, 1);
    wait_for_rows(&session, &table, 20, &tasks).await;

    session
        .query(change.replace("{table}", &table))
        .await
        .expect(change);
    send_meter(&topic, None, 100, 50).await;
    let status = wait_for_failure(&tasks[0], Duration::from_secs(60)).await;
    let trace = status.trace.unwrap_or_default();
    assert!(
        trace.contains(&format!("table {table} changed since the task started")),
        "{change}: {trace}"
    );
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    // Nothing past the first record that could not be written is committed, and the DLQ
    // holds none of them (it may not even exist).
    assert_eq!(
        committed_total(&format!("connect-{name}"), &topic, 1),
        20,
        "{change}"
    );
    assert_eq!(records_in(&dlq), 0, "{change}: records were dead-lettered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dropped_table_fails_the_task_under_tolerance_all() {
    a_table_change_fails_the_task_instead_of_dead_lettering("DROP TABLE {table}").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dropped_mapped_column_fails_the_task_under_tolerance_all() {
    a_table_change_fails_the_task_instead_of_dead_lettering("ALTER TABLE {table} DROP q_3").await;
}

/// A compatible change (a column added) invalidates the task's prepared statements in
/// Cassandra: the task prepares them again and goes on, every record lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_added_column_is_ridden_out_by_preparing_again() {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let table = format!("{keyspace}.meter_data");
    let topic = unique("domains_add");
    common::create_topic(&topic, 1).await;
    send_meter(&topic, None, 0, 20).await;
    let name = unique("domains-add-sink");
    let tasks = spawn_tasks(&name, &meter_config(&topic, &keyspace), 1);
    wait_for_rows(&session, &table, 20, &tasks).await;
    session
        .query(format!("ALTER TABLE {table} ADD note text"))
        .await
        .expect("add a column");
    send_meter(&topic, None, 100, 50).await;
    wait_for_rows(&session, &table, 70, &tasks).await;
    wait_for_commit(&format!("connect-{name}"), &topic, 1, 70, &tasks).await;
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
}
