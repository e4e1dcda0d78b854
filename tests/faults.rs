//! "Nothing lost, nothing stuck" (issue 6): a real `cassink worker` process is killed, signalled
//! and starved of Cassandra and Kafka while it ingests meter readings, and the tables and the
//! committed offsets of group `connect-<name>` are checked record by record afterwards.
//!
//! The servers are the real ones (the local stack, or KAFKA_BOOTSTRAP and
//! CASSANDRA_CONTACT_POINTS / CASSANDRA_PORT), and faults only ever hit what the test owns: a
//! TCP proxy between the worker and Cassandra (connections reset and refused, or stalled), the
//! test's own keyspace (a replication factor no quorum can meet: Unavailable), a private Apache
//! Kafka for the broker restart, and an in-process cqlmem for the one fault a single real node
//! cannot be made to answer on demand, WriteTimeout.
//!
//! Each scenario prints one JSON line of figures (`cargo test --test faults -- --nocapture`).
//! `CASSINK_FAULTS_SEED` replays the random kill points of a run; `CASSINK_TEST_WORKER_LOG`
//! sets the worker's RUST_LOG (e.g. `info,cdrs_tokio=debug`); `CASSINK_TEST_SHOW_LOGS=1` prints
//! the tail of the worker log after each scenario.

mod common;

#[path = "faults/harness.rs"]
mod harness;

use cassink::produce::{self, Rng};
use harness::*;
use serde_json::json;
use std::collections::HashSet;
use std::time::{Duration, Instant};

fn seed() -> u64 {
    std::env::var("CASSINK_FAULTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
}

/// Waits until `table` holds `expected` rows (never more), failing early when a task fails.
async fn wait_rows(
    counter: &mut Counter<'_>,
    worker: &Worker,
    name: &str,
    expected: i64,
    within: Duration,
) -> Duration {
    let started = Instant::now();
    loop {
        let n = counter.count().await;
        assert!(n <= expected, "{n} rows for {expected} records");
        if n == expected {
            return started.elapsed();
        }
        let tasks = worker.tasks(name).await.unwrap_or_default();
        assert!(
            tasks.iter().all(|(s, _)| s != "FAILED"),
            "a task failed: {tasks:?}"
        );
        assert!(
            started.elapsed() < within,
            "only {n} of {expected} rows after {within:?}; tasks: {tasks:?}\n{}",
            worker.log_tail(30)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Scenario 1: the worker is killed with SIGKILL at random points (0.5-2 s after it came up)
/// at least ten times while it ingests 100k readings, and restarted on the same state dir each
/// time. At every kill, the committed offsets never exceed the rows written (a crash may replay,
/// never lose); at the end the table holds exactly the 100k readings with their values and the
/// group has committed exactly 100k offsets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_ten_times_during_ingest_loses_nothing() {
    const RECORDS: u64 = 100_000;
    const PARTITIONS: i32 = 6;
    const KILLS: usize = 10;
    /// Slow enough that the kills all land while records are still arriving.
    /// Each restart waits for the killed consumers' session to time out (6 s) before the group
    /// hands their partitions to the new ones.
    const RATE: u64 = 1_000;
    const DATA_SEED: u64 = 6;
    let kill_seed = seed();
    let kafka = bootstrap();
    let cql = Cassandra::for_test().await;
    let session = cql.session().await;
    let ks = cql.meter_table(&session, "flt_kill").await;
    let table = format!("{ks}.meter_data");
    let topic = unique("flt-kill");
    produce::ensure_topic(&kafka, &topic, PARTITIONS)
        .await
        .expect("create topic");
    let dir = tempfile::tempdir().unwrap();
    let mut worker = start_worker(dir.path(), &kafka).await;
    let name = unique("kill9");
    let group = format!("connect-{name}");
    worker
        .create_connector(&name, &meter_connector(&topic, &ks, &cql, 3, &[]))
        .await;
    let began = Instant::now();
    let producer = produce_in_background(&kafka, &topic, RECORDS, Some(RATE), DATA_SEED);

    let mut rng = Rng::new(kill_seed);
    let mut counter = Counter::new(&cql, &table);
    let mut kills = Vec::new();
    let mut replayed = 0i64;
    let mut progress_after_restart = Vec::new();
    let mut restarted_at = Instant::now();
    while kills.len() < KILLS {
        let window = Duration::from_millis(500 + rng.below(1500));
        let rows_before = counter.count().await;
        let up = Instant::now();
        let mut progressed = None;
        while up.elapsed() < window {
            tokio::time::sleep(Duration::from_millis(100).min(window - up.elapsed())).await;
            if progressed.is_none() && counter.count().await > rows_before {
                progressed = Some(restarted_at.elapsed());
            }
        }
        worker.kill9();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let rows = counter.count().await;
        let offsets = committed(&kafka, &group, &topic, PARTITIONS)
            .await
            .expect("committed offsets");
        let committed: i64 = offsets.iter().sum();
        assert!(
            committed <= rows,
            "kill {}: offsets {offsets:?} ({committed}) committed but only {rows} rows written: \
             records were skipped",
            kills.len() + 1
        );
        assert!(
            (rows as u64) < RECORDS,
            "kill {} came after the ingest finished ({rows} rows): lower RATE",
            kills.len() + 1
        );
        replayed += rows - committed;
        if let Some(p) = progressed {
            progress_after_restart.push(ms(p));
        }
        kills.push(json!({"after_ms": ms(window), "rows": rows, "committed": committed}));
        worker.spawn();
        restarted_at = Instant::now();
        worker.wait_ready().await;
    }
    let last_restart = Instant::now();
    let sent = producer.await.expect("producer");
    wait_rows(
        &mut counter,
        &worker,
        &name,
        RECORDS as i64,
        Duration::from_secs(180),
    )
    .await;
    let drained = last_restart.elapsed();
    let ingest = began.elapsed();
    let committed = wait_committed(&kafka, &group, &topic, PARTITIONS, RECORDS as i64).await;
    assert_eq!(
        committed, RECORDS as i64,
        "committed offsets after the last restart"
    );
    assert_eq!(records_in(&kafka, &topic, PARTITIONS).await, RECORDS as i64);

    let stored = meter_rows(&session, &table).await;
    let (missing, extra, wrong) = compare_meter(&stored, RECORDS, DATA_SEED);
    assert_eq!(
        (missing, extra, wrong),
        (0, 0, 0),
        "(missing, extra, wrong values) among {} stored rows",
        stored.len()
    );
    let tasks = worker.tasks(&name).await.unwrap_or_default();
    assert!(tasks.iter().all(|(s, _)| s == "RUNNING"), "{tasks:?}");
    // The worker bounds its shutdown: 30 s for the tasks, 5 s for the runtime.
    let (exit, _) = worker.terminate(Duration::from_secs(45));
    assert!(exit.success(), "exit status {exit}");

    progress_after_restart.sort_unstable();
    report(
        "sigkill_ten_times_during_ingest_loses_nothing",
        json!({
            "records_sent": sent,
            "rows_found": stored.len(),
            "committed": committed,
            "kills": kills.len(),
            "duplicates_replayed": replayed,
            "dlq": 0,
            "restart_to_first_write_ms_median": progress_after_restart.get(progress_after_restart.len() / 2),
            "restart_to_first_write_ms_max": progress_after_restart.last(),
            "all_rows_after_last_restart_ms": ms(drained),
            "ingest_ms": ms(ingest),
            "kill_seed": kill_seed,
            "kill_points": kills,
        }),
    );
}

/// One phase of a Cassandra outage, as the worker sees it.
#[derive(Debug, Clone, Copy)]
enum Outage {
    /// Real Cassandra: the keyspace's replication factor leaves no quorum alive.
    Unavailable,
    /// Real Cassandra behind the test's proxy: connections reset and refused, or stalled.
    Network(ProxyMode),
    /// cqlmem answers every write with WriteTimeout.
    WriteTimeout,
}

/// Scenarios 2a-2d: Cassandra fails writes (or its connections fail) for `phases` while
/// records keep arriving. Tasks stay RUNNING with a trace naming the retry, recover on their
/// own once the fault clears (same process, no task restart), nothing goes to the dead-letter
/// queue although `errors.tolerance=all`, and every record lands. `named` are the error kinds
/// the traces must name during the outage (the server's own error, not a driver paraphrase).
async fn cql_outage(test: &str, phases: &[(Outage, Duration)], named: &[&str]) {
    const PARTITIONS: i32 = 2;
    const TASKS: usize = 2;
    const RATE: u64 = 200;
    const LEAD: Duration = Duration::from_secs(5);
    // The runner's backoff doubles up to errors.retry.delay.max.ms (60 s by default): after a
    // 30 s outage the next attempt comes about 21 s after the fault cleared. Beyond this bound
    // the task is stuck, not backing off.
    const RECOVERY_BOUND: Duration = Duration::from_secs(90);
    let outage: Duration = phases.iter().map(|(_, d)| *d).sum();
    // Records keep coming before, during and after the outage.
    let records = RATE * (LEAD + outage + LEAD).as_secs();
    let kafka = bootstrap();
    let on_cqlmem = phases
        .iter()
        .any(|(o, _)| matches!(o, Outage::WriteTimeout));
    let cql = if on_cqlmem {
        Cassandra::cqlmem().await
    } else {
        Cassandra::behind_proxy().await
    };
    let session = cql.session().await;
    let ks = cql.meter_table(&session, "flt_cql").await;
    let table = format!("{ks}.meter_data");
    let topic = unique("flt-cql");
    let dlq = format!("{topic}-dlq");
    produce::ensure_topic(&kafka, &topic, PARTITIONS)
        .await
        .expect("create topic");
    let dir = tempfile::tempdir().unwrap();
    let mut worker = start_worker(dir.path(), &kafka).await;
    let pid = worker.pid();
    let name = unique("cqlout");
    let group = format!("connect-{name}");
    let quorum = format!("topic.{topic}.{ks}.meter_data.consistencyLevel");
    let config = meter_connector(
        &topic,
        &ks,
        &cql,
        TASKS as u32,
        &[
            ("errors.tolerance", "all"),
            ("errors.deadletterqueue.topic.name", &dlq),
            ("errors.deadletterqueue.topic.replication.factor", "1"),
            // Kafka Connect's default: it must not fail the task on a Cassandra outage.
            ("errors.retry.timeout", "0"),
            (&quorum, "LOCAL_QUORUM"),
            // A stalled write counts as failed (and is retried) after 5 s, not DataStax's 30.
            ("queryExecutionTimeout", "5"),
        ],
    );
    worker.create_connector(&name, &config).await;
    worker.wait_running(&name, TASKS).await;
    let producer = produce_in_background(&kafka, &topic, records, Some(RATE), 2);
    let mut counter = Counter::new(&cql, &table);
    let started = Instant::now();
    while counter.count().await < (RATE * 2) as i64 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no rows arrive"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rows_at_fault = counter.count().await;

    // The outage: each phase is set at the start of its slot and cleared at its end.
    let mut polls = 0;
    let mut retry_polls = 0;
    let mut kinds_seen = HashSet::new();
    let mut trace_sample = None;
    for (outage, d) in phases {
        let slot_start = Instant::now();
        match outage {
            Outage::Unavailable => cql.set_unavailable(&session, &ks, true).await,
            Outage::Network(mode) => cql.network(*mode),
            Outage::WriteTimeout => cql.cqlmem_fault("write_timeout", *d).await,
        }
        while slot_start.elapsed() < *d {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let Some(tasks) = worker.tasks(&name).await else {
                continue;
            };
            polls += 1;
            assert!(
                tasks.iter().all(|(s, _)| s == "RUNNING"),
                "during the outage ({outage:?}): {tasks:?}"
            );
            if !tasks.is_empty()
                && tasks
                    .iter()
                    .all(|(_, t)| t.as_deref().is_some_and(|t| t.contains("retrying")))
            {
                retry_polls += 1;
                for (_, t) in &tasks {
                    let t = t.as_deref().unwrap_or_default();
                    for kind in [
                        "UnavailableException",
                        "WriteTimeoutException",
                        "DriverException",
                        "DriverTimeoutException",
                        "AllNodesFailedException",
                    ] {
                        if t.contains(kind) {
                            kinds_seen.insert(kind);
                        }
                    }
                    trace_sample.get_or_insert_with(|| t.to_string());
                }
            }
        }
        match outage {
            Outage::Unavailable => cql.set_unavailable(&session, &ks, false).await,
            Outage::Network(_) => cql.network(ProxyMode::Forward),
            Outage::WriteTimeout => {} // expires by itself
        }
    }
    let fault_end = Instant::now();
    let rows_at_end = counter.try_count().await;
    assert!(
        retry_polls > 0,
        "no status during the {outage:?} outage showed every task retrying ({polls} polls)"
    );
    for kind in named {
        assert!(
            kinds_seen.contains(kind),
            "no task trace named {kind} during the outage; seen: {kinds_seen:?}, e.g. {trace_sample:?}"
        );
    }

    // Recovery: every task's trace clears (its first write after the outage succeeded).
    let recovered = loop {
        let tasks = worker.tasks(&name).await.unwrap_or_default();
        assert!(tasks.iter().all(|(s, _)| s == "RUNNING"), "{tasks:?}");
        if tasks.len() == TASKS && tasks.iter().all(|(_, t)| t.is_none()) {
            break fault_end.elapsed();
        }
        assert!(
            fault_end.elapsed() < RECOVERY_BOUND,
            "tasks still retrying {RECOVERY_BOUND:?} after the fault cleared: {tasks:?}\n{}",
            worker.log_tail(30)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let sent = producer.await.expect("producer");
    wait_rows(
        &mut counter,
        &worker,
        &name,
        records as i64,
        Duration::from_secs(120),
    )
    .await;
    let caught_up = fault_end.elapsed();
    let committed = wait_committed(&kafka, &group, &topic, PARTITIONS, records as i64).await;
    assert_eq!(committed, records as i64, "committed offsets");
    let dead_lettered = records_in(&kafka, &dlq, 1).await;
    assert_eq!(
        dead_lettered, 0,
        "an outage is retried, never dead-lettered"
    );
    assert!(worker.running(), "the worker process exited");
    assert_eq!(worker.pid(), pid);
    let log = worker.log_text();
    let subscriptions = log.lines().filter(|l| l.contains("subscribed")).count();
    assert_eq!(
        subscriptions,
        TASKS,
        "tasks were started again (log lines with 'subscribed'):\n{}",
        worker.log_tail(30)
    );
    let stored = meter_rows(&session, &table).await;
    assert_eq!(compare_meter(&stored, records, 2), (0, 0, 0));
    let (exit, _) = worker.terminate(Duration::from_secs(30));
    assert!(exit.success(), "exit status {exit}");

    let mut kinds: Vec<_> = kinds_seen.into_iter().collect();
    kinds.sort_unstable();
    report(
        test,
        json!({
            "records_sent": sent,
            "rows_found": stored.len(),
            "committed": committed,
            "dlq": dead_lettered,
            "faults": phases.iter().map(|(o, d)| json!({"fault": format!("{o:?}"), "ms": ms(*d)})).collect::<Vec<_>>(),
            "rows_at_fault": rows_at_fault,
            "rows_at_fault_end": rows_at_end,
            "status_polls_during_outage": polls,
            "polls_all_tasks_retrying": retry_polls,
            "trace_kinds": kinds,
            "trace_sample": trace_sample,
            "recover_ms": ms(recovered),
            "all_rows_after_fault_ms": ms(caught_up),
        }),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cql_unavailable_for_20s_is_retried_without_loss() {
    cql_outage(
        "cql_unavailable_for_20s_is_retried_without_loss",
        &[(Outage::Unavailable, Duration::from_secs(20))],
        &["UnavailableException"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cql_write_timeout_for_15s_is_retried_without_loss() {
    cql_outage(
        "cql_write_timeout_for_15s_is_retried_without_loss",
        &[(Outage::WriteTimeout, Duration::from_secs(15))],
        &["WriteTimeoutException"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cql_connections_reset_and_refused_for_30s_are_retried_without_loss() {
    cql_outage(
        "cql_connections_reset_and_refused_for_30s_are_retried_without_loss",
        &[(Outage::Network(ProxyMode::Refuse), Duration::from_secs(30))],
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cql_connections_stalled_for_20s_are_retried_without_loss() {
    cql_outage(
        "cql_connections_stalled_for_20s_are_retried_without_loss",
        &[(Outage::Network(ProxyMode::Stall), Duration::from_secs(20))],
        &["DriverTimeoutException"],
    )
    .await;
}

/// Scenario 3: the broker (a private Apache Kafka; its log dirs stay) goes down mid-stream for a
/// few seconds and comes back on the same port. The worker reconnects by itself and every
/// record lands; the group commits every offset of the topic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_mid_stream_loses_nothing() {
    const RECORDS: u64 = 12_000;
    const RATE: u64 = 1_000;
    const PARTITIONS: i32 = 3;
    const DOWN: Duration = Duration::from_secs(5);
    let mut broker = Kafka::start().await;
    let kafka = broker.bootstrap.clone();
    let cql = Cassandra::for_test().await;
    let session = cql.session().await;
    let ks = cql.meter_table(&session, "flt_broker").await;
    let table = format!("{ks}.meter_data");
    let topic = unique("flt-broker");
    produce::ensure_topic(&kafka, &topic, PARTITIONS)
        .await
        .expect("create topic");
    let dir = tempfile::tempdir().unwrap();
    let worker = start_worker(dir.path(), &kafka).await;
    let name = unique("brokerrestart");
    let group = format!("connect-{name}");
    worker
        .create_connector(&name, &meter_connector(&topic, &ks, &cql, 3, &[]))
        .await;
    let producer = produce_through_outages(&kafka, &topic, RECORDS, RATE, 3);
    let mut counter = Counter::new(&cql, &table);
    let started = Instant::now();
    while counter.count().await < 2_000 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no rows arrive"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let stop_took = broker.stop();
    let rows_at_stop = counter.count().await;
    let mut traces = HashSet::new();
    let down = Instant::now();
    while down.elapsed() < DOWN {
        tokio::time::sleep(Duration::from_millis(250)).await;
        for (state, trace) in worker.tasks(&name).await.unwrap_or_default() {
            assert_ne!(state, "FAILED", "{trace:?}");
            if let Some(t) = trace {
                traces.insert(t);
            }
        }
    }
    let rows_while_down = counter.count().await;
    broker.start_again().await;
    let up = Instant::now();
    let resumed = loop {
        if counter.count().await > rows_while_down {
            break up.elapsed();
        }
        let tasks = worker.tasks(&name).await.unwrap_or_default();
        assert!(tasks.iter().all(|(s, _)| s != "FAILED"), "{tasks:?}");
        assert!(
            up.elapsed() < Duration::from_secs(60),
            "no new rows 60 s after the broker came back: {tasks:?}\n{}",
            worker.log_tail(30)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let resent = producer.await.expect("producer");
    let drained = wait_rows(
        &mut counter,
        &worker,
        &name,
        RECORDS as i64,
        Duration::from_secs(120),
    )
    .await;
    // The producer may have resent a batch across the restart: the topic can hold duplicates
    // (same key and value, so the same row); the group must commit all of it.
    let in_topic = records_in(&kafka, &topic, PARTITIONS).await;
    assert!(in_topic >= RECORDS as i64);
    let committed = wait_committed(&kafka, &group, &topic, PARTITIONS, in_topic).await;
    if committed != in_topic {
        panic!(
            "committed {committed} of {in_topic} offsets 30 s after every row landed: per \
             partition {:?}; tasks {:?}\n{}",
            harness::committed(&kafka, &group, &topic, PARTITIONS).await,
            worker.tasks(&name).await,
            worker.log_of_commits(60)
        );
    }
    let stored = meter_rows(&session, &table).await;
    assert_eq!(compare_meter(&stored, RECORDS, 3), (0, 0, 0));
    let tasks = worker.tasks(&name).await.unwrap_or_default();
    assert!(
        tasks.iter().all(|(s, t)| s == "RUNNING" && t.is_none()),
        "{tasks:?}"
    );

    let mut traces: Vec<_> = traces.into_iter().collect();
    traces.sort();
    report(
        "broker_restart_mid_stream_loses_nothing",
        json!({
            "records_sent": RECORDS,
            "producer_failed_deliveries_resent": resent,
            "records_in_topic": in_topic,
            "rows_found": stored.len(),
            "committed": committed,
            "dlq": 0,
            "broker_stop_ms": ms(stop_took),
            "broker_down_ms": ms(DOWN),
            "rows_at_stop": rows_at_stop,
            "rows_while_down": rows_while_down,
            "traces_while_down": traces,
            "first_row_after_broker_up_ms": ms(resumed),
            "all_rows_after_broker_up_ms": ms(resumed + drained),
        }),
    );
}

/// Scenario 4: SIGTERM while the tasks work through a backlog. The worker exits 0 within 10 s,
/// having finished its in-flight writes and committed exactly what it wrote: every record below
/// the committed offsets has its row and no record at or past them does, so the restarted
/// worker replays nothing. Then it finishes the backlog.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_ingest_commits_exactly_what_was_written() {
    const RECORDS: u64 = 40_000;
    const PARTITIONS: i32 = 6;
    let kafka = bootstrap();
    let cql = Cassandra::for_test().await;
    let session = cql.session().await;
    let ks = cql.meter_table(&session, "flt_term").await;
    let table = format!("{ks}.meter_data");
    let topic = unique("flt-term");
    produce::ensure_topic(&kafka, &topic, PARTITIONS)
        .await
        .expect("create topic");
    produce::produce(&kafka, produce::Workload::Meter, &topic, RECORDS, None, 4)
        .await
        .expect("produce");
    let keys = topic_keys(&kafka, &topic, PARTITIONS).await;
    assert_eq!(
        keys.iter().map(Vec::len).sum::<usize>(),
        RECORDS as usize,
        "records in the topic"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut worker = start_worker(dir.path(), &kafka).await;
    let name = unique("sigterm");
    let group = format!("connect-{name}");
    worker
        .create_connector(&name, &meter_connector(&topic, &ks, &cql, 3, &[]))
        .await;
    let mut counter = Counter::new(&cql, &table);
    let started = Instant::now();
    let rows_at_signal = loop {
        let n = counter.count().await;
        if n >= (RECORDS / 5) as i64 {
            break n;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{n} rows");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (exit, took) = worker.terminate(Duration::from_secs(10));
    assert!(exit.success(), "exit status {exit}");

    let offsets = committed(&kafka, &group, &topic, PARTITIONS)
        .await
        .expect("committed offsets");
    let committed_at_exit: i64 = offsets.iter().sum();
    let stored = meter_rows(&session, &table).await;
    let rows_at_exit = stored.len() as i64;
    assert!(
        rows_at_exit < RECORDS as i64,
        "the backlog was done before SIGTERM: raise RECORDS"
    );
    // Every record below the committed offset has its row (nothing skipped); none at or past
    // it does (nothing written-but-uncommitted, so a restart replays nothing).
    let (mut lost, mut uncommitted) = (0, 0);
    for (p, records) in keys.iter().enumerate() {
        for (offset, key) in records.iter().enumerate() {
            let written = stored.contains_key(key);
            if (offset as i64) < offsets[p] && !written {
                lost += 1;
            }
            if (offset as i64) >= offsets[p] && written {
                uncommitted += 1;
            }
        }
    }
    assert_eq!(
        lost, 0,
        "records below committed offsets {offsets:?} without a row"
    );
    assert_eq!(
        uncommitted, 0,
        "rows written but not committed at exit (offsets {offsets:?}): a restart replays them"
    );
    assert_eq!(committed_at_exit, rows_at_exit);

    worker.spawn();
    worker.wait_ready().await;
    let restarted = Instant::now();
    wait_rows(
        &mut counter,
        &worker,
        &name,
        RECORDS as i64,
        Duration::from_secs(120),
    )
    .await;
    let finished = restarted.elapsed();
    let committed = wait_committed(&kafka, &group, &topic, PARTITIONS, RECORDS as i64).await;
    assert_eq!(committed, RECORDS as i64);
    let all = meter_rows(&session, &table).await;
    assert_eq!(compare_meter(&all, RECORDS, 4), (0, 0, 0));
    let (exit, took_idle) = worker.terminate(Duration::from_secs(10));
    assert!(exit.success(), "exit status {exit}");

    report(
        "sigterm_mid_ingest_commits_exactly_what_was_written",
        json!({
            "records_sent": RECORDS,
            "rows_found": all.len(),
            "committed": committed,
            "dlq": 0,
            "rows_at_signal": rows_at_signal,
            "rows_at_exit": rows_at_exit,
            "committed_at_exit": committed_at_exit,
            "written_not_committed_at_exit": uncommitted,
            "duplicates_replayed": uncommitted,
            "exit_ms": ms(took),
            "exit_idle_ms": ms(took_idle),
            "rest_after_restart_ms": ms(finished),
        }),
    );
}

/// The herder never holds its lock across a task drain (issue 18): connector `b` writes to a
/// Cassandra node of the test's own, which is then paused (SIGSTOP: connections stay open and
/// nothing comes back; the shared node keeps serving `a` and the other tests), so b's task
/// hangs in a write and a restart of `b` is stuck draining it for the stop timeout (30 s),
/// after which the task is aborted. All along, `GET /connectors` and the statuses of `a`
/// (healthy) and of `b` (its task RESTARTING) answer within 2 s each; once the node is
/// resumed (SIGCONT), every record of `b` lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_answer_while_a_restart_is_stuck_draining_a_task() {
    let kafka = bootstrap();
    let healthy = Cassandra::for_test().await;
    let stalled = Cassandra::private("faults-paused").await;
    let ks_a = healthy
        .meter_table(&healthy.session().await, "flt_reads_a")
        .await;
    let ks_b = stalled
        .meter_table(&stalled.session().await, "flt_reads_b")
        .await;
    let (topic_a, topic_b) = (unique("flt-reads-a"), unique("flt-reads-b"));
    for topic in [&topic_a, &topic_b] {
        produce::ensure_topic(&kafka, topic, 1)
            .await
            .expect("create topic");
    }
    let dir = tempfile::tempdir().unwrap();
    let worker = start_worker(dir.path(), &kafka).await;
    let (a, b) = (unique("reads-a"), unique("reads-b"));
    worker
        .create_connector(&a, &meter_connector(&topic_a, &ks_a, &healthy, 1, &[]))
        .await;
    // The hung write must outlast the drain: no driver timeout before the stop timeout.
    let b_config = meter_connector(
        &topic_b,
        &ks_b,
        &stalled,
        1,
        &[("queryExecutionTimeout", "120")],
    );
    worker.create_connector(&b, &b_config).await;
    worker.wait_running(&a, 1).await;
    worker.wait_running(&b, 1).await;
    // b writes through the proxy before it stalls.
    produce_in_background(&kafka, &topic_b, 50, None, 7)
        .await
        .expect("produce");
    let mut counter = Counter::new(&stalled, &format!("{ks_b}.meter_data"));
    wait_rows(&mut counter, &worker, &b, 50, Duration::from_secs(60)).await;

    // b's Cassandra freezes (SIGSTOP) with writes in flight.
    stalled.pause();
    produce_in_background(&kafka, &topic_b, 250, None, 7)
        .await
        .expect("produce");
    let http = reqwest::Client::new();
    let in_flight = |body: &serde_json::Value| body["records"]["in_flight"].as_u64().unwrap_or(0);
    let started = Instant::now();
    loop {
        let flow: serde_json::Value = http
            .get(worker.url(&format!("/metrics/connectors/{b}")))
            .send()
            .await
            .expect("GET flow")
            .json()
            .await
            .expect("flow JSON");
        if in_flight(&flow) > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "b never had records in flight: {flow}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let restart = {
        let url = worker.url(&format!("/connectors/{b}/restart?includeTasks=true"));
        let http = http.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let r = http.post(url).send().await.expect("POST restart");
            (r.status().as_u16(), started.elapsed())
        })
    };
    // The restart request is being served (stopping b's task) before the reads start.
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut saw_restarting = false;
    while !restart.is_finished() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the restart did not end with the stop timeout"
        );
        for path in [
            "/connectors".to_string(),
            format!("/connectors/{a}/status"),
            format!("/connectors/{b}/status"),
            format!("/connectors/{a}/config"),
        ] {
            let asked = Instant::now();
            let r =
                tokio::time::timeout(Duration::from_secs(2), http.get(worker.url(&path)).send())
                    .await
                    .unwrap_or_else(|_| panic!("GET {path} took more than 2 s during b's restart"))
                    .expect("GET");
            assert_eq!(r.status().as_u16(), 200, "GET {path}");
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            if path.ends_with(&format!("{b}/status")) {
                saw_restarting |= body["tasks"][0]["state"] == "RESTARTING";
            }
            slowest = slowest.max(asked.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, took) = restart.await.expect("restart task");
    assert!(status == 202 || status == 204, "restart answered {status}");
    assert!(
        took >= Duration::from_secs(25),
        "the restart took {took:?}: the drain was not stuck, so nothing was shown"
    );
    assert!(saw_restarting, "b's task was never reported RESTARTING");
    eprintln!("restart stuck for {took:?}; slowest read meanwhile: {slowest:?}");
    stalled.resume();
    worker.wait_running(&b, 1).await;
    // The same seed: the first 50 records again, then 200 new ones.
    wait_rows(&mut counter, &worker, &b, 250, Duration::from_secs(120)).await;
}
