//! Distributed mode: `cassink worker` processes share `group.id` and the config/status
//! topics. A connector created on one worker appears on all of them, its tasks are spread
//! over the live workers (and the partitions over the tasks by the connector's consumer
//! group), a worker stopping gracefully hands its tasks to the others, a worker joining takes
//! some over, and every worker reports the same status and offsets.
//!
//! Needs the local stack (Kafka at KAFKA_BOOTSTRAP, CQL at CASSANDRA_CONTACT_POINTS).

mod common;

use cassink::produce::{self, Workload};
use common::sink::{committed_total, count, cql, meter_config, meter_table};
use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
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

/// Worker properties of distributed cluster `cluster` (its group and storage topics, the
/// config topic's replication factor), with 6 s worker session timeouts.
fn cluster_properties(cluster: &str, config_replication: u32) -> String {
    format!(
        "group.id={cluster}\nconfig.storage.topic={cluster}-configs\n\
         status.storage.topic={cluster}-status\noffset.storage.topic={cluster}-offsets\n\
         config.storage.replication.factor={config_replication}\nheartbeat.interval.ms=1000\n\
         session.timeout.ms=6000\n"
    )
}

/// Creates, through `w`, the meter connector `name` reading `topic` into `keyspace` with
/// `tasks` tasks; returns its config.
async fn create_meter_connector(
    w: &Worker,
    name: &str,
    topic: &str,
    keyspace: &str,
    tasks: u32,
) -> Value {
    let mut config: Value = serde_json::to_value(meter_config(topic, keyspace)).unwrap();
    config["tasks.max"] = json!(tasks.to_string());
    w.create_connector(name, &config).await;
    config
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

/// `(connector state, connector worker, [(task id, task state, task worker)])` as `w` reports.
type StatusView = (String, String, Vec<(u64, String, String)>);

async fn status_view(w: &Worker, name: &str) -> StatusView {
    let r = call(
        Method::GET,
        &w.url(&format!("/connectors/{name}/status")),
        None,
    )
    .await;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let tasks = r.body["tasks"]
        .as_array()
        .map(|tasks| {
            tasks
                .iter()
                .map(|t| {
                    (
                        t["id"].as_u64().unwrap_or(u64::MAX),
                        text(&t["state"]),
                        text(&t["worker_id"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (
        text(&r.body["connector"]["state"]),
        text(&r.body["connector"]["worker_id"]),
        tasks,
    )
}

/// Waits until every worker in `ws` reports the same status, with `tasks` tasks in `state`,
/// run by exactly the workers in `ws` (one each when there are as many tasks as workers);
/// returns that status.
async fn consistent_status(ws: &[&Worker], name: &str, tasks: usize, state: &str) -> StatusView {
    let expected_workers: BTreeSet<String> =
        ws.iter().map(|w| format!("127.0.0.1:{}", w.port)).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut views = Vec::new();
        for w in ws {
            views.push(status_view(w, name).await);
        }
        let first = views[0].clone();
        let runners: BTreeSet<String> = first.2.iter().map(|t| t.2.clone()).collect();
        let ok = views.iter().all(|v| *v == first)
            && first.2.len() == tasks
            && first.2.iter().all(|t| t.1 == state)
            && runners == expected_workers
            && expected_workers.contains(&first.1);
        if ok {
            return first;
        }
        assert!(
            Instant::now() < deadline,
            "workers {expected_workers:?} do not agree on {tasks} {state} tasks of {name}: {views:#?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn offsets_sum(w: &Worker, name: &str) -> (i64, Value) {
    let r = call(
        Method::GET,
        &w.url(&format!("/connectors/{name}/offsets")),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let sum = r.body["offsets"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|o| o["offset"]["kafka_offset"].as_i64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0);
    (sum, r.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_share_connectors_tasks_status_and_offsets() {
    require_broker();
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let table = format!("{keyspace}.meter_data");
    let topic = unique("dmeter");
    let partitions = 6;
    produce::ensure_topic(&bootstrap(), &topic, partitions)
        .await
        .expect("create topic");

    let cluster = unique("dcluster");
    let extra = cluster_properties(&cluster, 3);
    let dir = tempfile::tempdir().expect("tempdir");
    let start = |i: usize| {
        let state = dir.path().join(format!("state-{i}"));
        let extra = extra.clone();
        let dir = dir.path().to_path_buf();
        async move { Worker::start_props(&dir, &state, free_port(), &extra).await }
    };
    let w1 = start(1).await;
    let w2 = start(2).await;
    let mut w3 = start(3).await;

    // Created on worker 1, visible on every worker.
    let name = unique("dsink");
    let config = create_meter_connector(&w1, &name, &topic, &keyspace, 3).await;
    assert_eq!(names(&w1).await, vec![name.clone()], "read-your-writes");
    let again = call(
        Method::POST,
        &w2.url("/connectors"),
        Some(&json!({"name": name, "config": config})),
    )
    .await;
    assert_eq!(again.status, 409, "created twice: {}", again.text);
    for w in [&w2, &w3] {
        wait_until(
            "the connector reaches every worker",
            Duration::from_secs(20),
            || async { names(w).await == vec![name.clone()] },
        )
        .await;
    }

    // One task per worker, and every worker says so.
    consistent_status(&[&w1, &w2, &w3], &name, 3, "RUNNING").await;

    // The meter workload streams in while worker 4 joins and worker 3 leaves.
    let total = 50_000u64;
    let producer = {
        let topic = topic.clone();
        tokio::spawn(async move {
            let step = 5_000;
            for from in (0..total).step_by(step as usize) {
                produce_range(&topic, from, from + step).await;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        })
    };
    wait_until("the first rows land", Duration::from_secs(120), || async {
        count(&session, &table).await > 0
    })
    .await;
    let w4 = start(4).await;
    // Four workers, three tasks: worker 4 may or may not get one; wait until it knows them.
    wait_until(
        "worker 4 reads the connector",
        Duration::from_secs(20),
        || async { names(&w4).await == vec![name.clone()] },
    )
    .await;
    let landed_at_leave = count(&session, &table).await;
    let (exit, _) = w3.terminate(Duration::from_secs(60));
    assert!(exit.success(), "worker 3 exit: {exit}");
    producer.await.expect("producer");
    assert!(
        landed_at_leave < total as i64,
        "worker 3 left after the stream ended ({landed_at_leave} rows): not mid-stream"
    );

    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let n = count(&session, &table).await;
        if n >= total as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {n} of {total} rows landed:\n{}\n{}\n{}",
            interesting(&w1),
            interesting(&w2),
            interesting(&w4)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Meter rows are keyed by record index: exactly one row per record, none lost.
    assert_eq!(count(&session, &table).await, total as i64);
    let status = consistent_status(&[&w1, &w2, &w4], &name, 3, "RUNNING").await;
    assert!(
        status
            .2
            .iter()
            .all(|t| t.2 != format!("127.0.0.1:{}", w3.port)),
        "a task still reported on the worker that left: {status:?}"
    );
    wait_until(
        "every record committed",
        Duration::from_secs(60),
        || async {
            committed_total(&format!("connect-{name}"), &topic, partitions) == total as i64
        },
    )
    .await;
    // The offsets API agrees on every worker.
    let (sum1, body1) = offsets_sum(&w1, &name).await;
    let (sum4, body4) = offsets_sum(&w4, &name).await;
    assert_eq!(
        (sum1, sum4),
        (total as i64, total as i64),
        "{body1}\n{body4}"
    );
    assert_eq!(body1, body4);

    // A restart issued on worker 2 restarts the tasks on every worker.
    let restarted = call(
        Method::POST,
        &w2.url(&format!("/connectors/{name}/restart?includeTasks=true")),
        None,
    )
    .await;
    assert_eq!(restarted.status, 202, "{}", restarted.text);
    assert!(
        restarted.body["tasks"]
            .as_array()
            .is_some_and(|t| t.len() == 3 && t.iter().all(|t| t["state"] == "RESTARTING")),
        "{}",
        restarted.text
    );
    for w in [&w1, &w4] {
        wait_until(
            "the restart reaches every worker",
            Duration::from_secs(30),
            || async { w.log_text().contains("restarting task") },
        )
        .await;
    }
    consistent_status(&[&w1, &w2, &w4], &name, 3, "RUNNING").await;

    // Paused on worker 2: every worker's tasks pause; resumed likewise.
    for (action, state) in [("pause", "PAUSED"), ("resume", "RUNNING")] {
        let r = call(
            Method::PUT,
            &w2.url(&format!("/connectors/{name}/{action}")),
            None,
        )
        .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let status = consistent_status(&[&w1, &w2, &w4], &name, 3, state).await;
        assert_eq!(status.0, state);
    }

    // Stopped on worker 1, offsets reset on worker 4, seen as reset on worker 2.
    let stopped = call(
        Method::PUT,
        &w1.url(&format!("/connectors/{name}/stop")),
        None,
    )
    .await;
    assert_eq!(stopped.status, 204, "{}", stopped.text);
    wait_until(
        "the stop reaches every worker",
        Duration::from_secs(30),
        || async {
            let mut all = true;
            for w in [&w1, &w2, &w4] {
                all &= status_view(w, &name).await.0 == "STOPPED";
            }
            all
        },
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // The group may still hold the stopped tasks' members for a moment.
        let reset = call(
            Method::DELETE,
            &w4.url(&format!("/connectors/{name}/offsets")),
            None,
        )
        .await;
        if reset.status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "offsets reset on worker 4: {} {}",
            reset.status,
            reset.text
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(offsets_sum(&w2, &name).await.0, 0);

    // Deleted on worker 2, gone from every worker.
    let deleted = call(
        Method::DELETE,
        &w2.url(&format!("/connectors/{name}")),
        None,
    )
    .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    for w in [&w1, &w4] {
        wait_until(
            "the delete reaches every worker",
            Duration::from_secs(20),
            || async { names(w).await.is_empty() },
        )
        .await;
    }
}

/// The rebalance callback: when a second member joins a task's group, the first commits what
/// it acknowledged of the partitions it gives up, so the newcomer starts right after them
/// instead of replaying from the last periodic commit (here: from the beginning).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_task_commits_what_it_acknowledged_of_partitions_taken_away() {
    use cassink::kafka::consumer as kc;
    use cassink::metrics::TaskMetrics;
    use futures::StreamExt;
    use rdkafka::Message;

    require_broker();
    let topic = unique("revoke");
    let partitions = 6;
    produce::ensure_topic(&bootstrap(), &topic, partitions)
        .await
        .expect("create topic");
    let total = 300i64;
    produce::produce(&bootstrap(), Workload::Meter, &topic, total as u64, None, 3)
        .await
        .expect("produce");
    let cluster = unique("rcluster");
    let worker = cassink::worker::config::WorkerConfig::from_map(
        [
            ("bootstrap.servers", bootstrap()),
            ("group.id", cluster.clone()),
            ("config.storage.topic", format!("{cluster}-configs")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
    )
    .expect("worker config");
    let group = unique("connect-revoke");
    let topics = vec![topic.clone()];
    let consumer = |task: u32, acked: kc::AckedOffsets| {
        let settings = worker
            .task_consumer(&Default::default())
            .expect("consumer settings");
        let c = kc::create(
            &settings,
            &group,
            TaskMetrics::for_task(&group, task),
            acked,
        )
        .expect("consumer");
        kc::subscribe(&c, &group, &topics).expect("subscribe");
        c
    };

    // The first member reads everything and acknowledges each record as it comes.
    let acked = kc::AckedOffsets::default();
    let first = consumer(0, acked.clone());
    let mut stream = first.stream();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = 0;
    while seen < total {
        assert!(Instant::now() < deadline, "read {seen} of {total}");
        if let Ok(Some(Ok(m))) =
            tokio::time::timeout(Duration::from_millis(200), stream.next()).await
        {
            let mut a = acked.lock().unwrap();
            a.insert((m.topic().to_string(), m.partition()), m.offset() + 1);
            seen += 1;
        }
    }

    // A second member joins: the group takes partitions from the first, which commits them.
    let second = consumer(1, kc::AckedOffsets::default());
    let mut second_stream = second.stream();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let _ = tokio::time::timeout(Duration::from_millis(100), stream.next()).await;
        let _ = tokio::time::timeout(Duration::from_millis(100), second_stream.next()).await;
        let moved = kc::current_assignment(&second);
        if !moved.is_empty() && kc::current_assignment(&first).len() < partitions as usize {
            let committed = common::sink::committed_total(&group, &topic, partitions);
            // Exactly the partitions given up were committed, each where it was acknowledged.
            let expected: i64 = {
                let a = acked.lock().unwrap();
                moved.iter().map(|tp| a.get(tp).copied().unwrap_or(0)).sum()
            };
            assert!(expected > 0, "nothing acknowledged of {moved:?}");
            assert_eq!(committed, expected, "partitions moved: {moved:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the second member got no partitions"
        );
    }
}

/// Crash failover: a worker killed with -9 mid-stream stops heartbeating; the herder moves its
/// tasks to the surviving worker and the connector's group moves their partitions once the
/// dead consumers' session times out (`consumer.session.timeout.ms`, 6 s here). Every record
/// lands exactly once in the table and the group commits every offset.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_killed_with_sigkill_hands_its_partitions_over_and_nothing_is_lost() {
    require_broker();
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let table = format!("{keyspace}.meter_data");
    let topic = unique("dkill");
    let partitions = 4;
    produce::ensure_topic(&bootstrap(), &topic, partitions)
        .await
        .expect("create topic");
    let cluster = unique("dkcluster");
    let extra = format!(
        "{}consumer.session.timeout.ms=6000\nconsumer.heartbeat.interval.ms=1000\n",
        cluster_properties(&cluster, 1)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let w1 =
        Worker::start_props(dir.path(), &dir.path().join("state-1"), free_port(), &extra).await;
    let mut w2 =
        Worker::start_props(dir.path(), &dir.path().join("state-2"), free_port(), &extra).await;
    let name = unique("dksink");
    create_meter_connector(&w1, &name, &topic, &keyspace, 2).await;
    let before = consistent_status(&[&w1, &w2], &name, 2, "RUNNING").await;
    let w2_id = format!("127.0.0.1:{}", w2.port);
    assert!(
        before.2.iter().any(|t| t.2 == w2_id),
        "worker 2 runs no task before the kill: {before:?}"
    );

    let total = 30_000u64;
    let producer = {
        let topic = topic.clone();
        tokio::spawn(async move {
            let step = 2_000;
            for from in (0..total).step_by(step as usize) {
                produce_range(&topic, from, from + step).await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    wait_until("rows land", Duration::from_secs(120), || async {
        count(&session, &table).await > 2_000
    })
    .await;
    w2.kill9();
    let killed = Instant::now();
    let landed_at_kill = count(&session, &table).await;
    producer.await.expect("producer");
    assert!(
        landed_at_kill < total as i64,
        "worker 2 was killed after the stream ended ({landed_at_kill} rows): not mid-stream"
    );

    // The survivor runs both tasks and writes every record; nothing twice (rows are keyed by
    // record index), nothing lost.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let n = count(&session, &table).await;
        assert!(n <= total as i64, "{n} rows for {total} records");
        if n == total as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {n} of {total} rows {:?} after the kill:\n{}",
            killed.elapsed(),
            interesting(&w1)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let took_over = killed.elapsed();
    let after = consistent_status(&[&w1], &name, 2, "RUNNING").await;
    assert!(
        after.2.iter().all(|t| t.2 != w2_id),
        "a task still placed on the killed worker: {after:?}"
    );
    wait_until(
        "every record committed",
        Duration::from_secs(60),
        || async {
            committed_total(&format!("connect-{name}"), &topic, partitions) == total as i64
        },
    )
    .await;
    println!(
        "{}",
        json!({"test": "sigkill_failover", "records": total, "rows_at_kill": landed_at_kill,
               "all_rows_after_kill_ms": took_over.as_millis() as u64})
    );
}

/// Connect's health check through start-up: while a distributed worker cannot yet read its
/// config topic (the broker's bootstrap connection stalls), `GET /health` answers 503
/// "starting" and the API 503 with Connect's error body; once it can, 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_503_while_the_worker_starts_and_200_once_it_serves() {
    use common::tcp_proxy::{Mode, TcpProxy};
    let broker: std::net::SocketAddr = bootstrap()
        .split(',')
        .next()
        .and_then(|b| std::net::ToSocketAddrs::to_socket_addrs(b).ok()?.next())
        .expect("a broker address");
    let proxy = TcpProxy::start(broker).await;
    proxy.set(Mode::Stall);
    let dir = tempfile::tempdir().unwrap();
    let cluster = unique("health");
    let port = free_port();
    let mut w = Worker::launch(
        dir.path(),
        &dir.path().join("state"),
        port,
        &proxy.addr.to_string(),
        &cluster_properties(&cluster, 1),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let starting = loop {
        if let Ok(r) = reqwest::get(w.url("/health")).await {
            let status = r.status().as_u16();
            break (status, r.json::<Value>().await.unwrap_or_default());
        }
        assert!(
            Instant::now() < deadline,
            "the worker never answered: {}",
            w.log_tail(40)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        starting,
        (
            503,
            json!({"status": "starting", "message": "Worker is still starting up."})
        ),
        "{}",
        w.log_tail(40)
    );
    let r = call(Method::GET, &w.url("/connectors"), None).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.body["error_code"], 503);

    proxy.set(Mode::Forward);
    w.wait_ready().await;
    let r = call(Method::GET, &w.url("/health"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "healthy");
    assert_eq!(
        call(Method::GET, &w.url("/connectors"), None).await.status,
        200
    );
}

/// `GET /health` answers 500 with the reason while a distributed worker cannot write its
/// heartbeats to the status topic (its broker is down), and 200 again once it can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_500_while_the_worker_cannot_write_to_its_storage() {
    let mut kafka = common::kafka::Kafka::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cluster = unique("health-down");
    let mut w = Worker::launch(
        dir.path(),
        &dir.path().join("state"),
        free_port(),
        &kafka.bootstrap,
        &cluster_properties(&cluster, 1),
    );
    // A broker that has just started creates the worker's topics slowly on a busy machine.
    w.wait_ready_within(Duration::from_secs(120)).await;
    kafka.stop();
    let health = |w: &Worker| {
        let url = w.url("/health");
        async move { call(Method::GET, &url, None).await }
    };
    // Heartbeats go out every second; one fails once the brokers have not acknowledged it
    // within the store's 30 s write timeout.
    let deadline = Instant::now() + Duration::from_secs(120);
    let down = loop {
        let r = health(&w).await;
        if r.status == 500 {
            break r;
        }
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(
            Instant::now() < deadline,
            "still healthy: {}",
            w.log_tail(40)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(down.body["status"], "unhealthy", "{}", down.text);
    assert!(
        down.body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("heartbeat"),
        "{}",
        down.text
    );
    kafka.start_again().await;
    let deadline = Instant::now() + Duration::from_secs(120);
    while health(&w).await.status != 200 {
        assert!(
            Instant::now() < deadline,
            "never healthy again: {}",
            w.log_tail(40)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The partitions `w` reports offsets and lag for, with the task that holds each, from
/// the console's JSON and from the OpenMetrics text (which must agree).
async fn reported_partitions(w: &Worker, name: &str) -> BTreeSet<(u64, i64)> {
    let flow = call(
        Method::GET,
        &w.url(&format!("/metrics/connectors/{name}")),
        None,
    )
    .await;
    let from_json: BTreeSet<(u64, i64)> = flow.body["partitions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["lag"].is_i64())
        .map(|p| {
            (
                p["task"].as_u64().unwrap_or(u64::MAX),
                p["partition"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    let text = call(Method::GET, &w.url("/metrics"), None).await.text;
    let lag_series = text
        .lines()
        .filter(|l| l.starts_with("cassink_lag{") && l.contains(&format!("connector=\"{name}\"")))
        .count();
    assert_eq!(lag_series, from_json.len(), "{text}");
    from_json
}

/// Per-partition gauges follow the partitions: with both tasks on one worker it reports all
/// four partitions; once a second worker takes a task over, each worker reports only the
/// partitions its own task holds, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn partition_gauges_move_with_the_partitions() {
    require_broker();
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let topic = unique("gmeter");
    let partitions = 4;
    produce::ensure_topic(&bootstrap(), &topic, partitions)
        .await
        .expect("create topic");
    produce_range(&topic, 0, 400).await;
    let cluster = unique("gcluster");
    let extra = cluster_properties(&cluster, 3);
    let dir = tempfile::tempdir().expect("tempdir");
    let w1 =
        Worker::start_props(dir.path(), &dir.path().join("state-1"), free_port(), &extra).await;
    let name = unique("gsink");
    create_meter_connector(&w1, &name, &topic, &keyspace, 2).await;
    let all: BTreeSet<i64> = (0..partitions as i64).collect();
    let parts = |s: &BTreeSet<(u64, i64)>| s.iter().map(|(_, p)| *p).collect::<BTreeSet<_>>();
    let tasks = |s: &BTreeSet<(u64, i64)>| s.iter().map(|(t, _)| *t).collect::<BTreeSet<_>>();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let on1 = reported_partitions(&w1, &name).await;
        if parts(&on1) == all {
            assert_eq!(on1.len(), 4, "each partition once: {on1:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "worker 1 does not report the lag of all four partitions: {on1:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let w2 =
        Worker::start_props(dir.path(), &dir.path().join("state-2"), free_port(), &extra).await;
    consistent_status(&[&w1, &w2], &name, 2, "RUNNING").await;
    produce_range(&topic, 400, 800).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let on1 = reported_partitions(&w1, &name).await;
        let on2 = reported_partitions(&w2, &name).await;
        let split = tasks(&on1).len() == 1
            && tasks(&on2).len() == 1
            && tasks(&on1) != tasks(&on2)
            && parts(&on1).is_disjoint(&parts(&on2))
            && parts(&on1)
                .union(&parts(&on2))
                .copied()
                .collect::<BTreeSet<_>>()
                == all;
        if split {
            assert_eq!(on1.len() + on2.len(), 4, "{on1:?} {on2:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the workers do not each report only their own task's partitions: {on1:?} {on2:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
