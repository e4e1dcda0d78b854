//! Protobuf through the real schema registry with the registry out of reach: records whose
//! schema the worker has not fetched yet wait (retried, never dropped or failed) while the
//! registry stalls, and all land once it answers again.
//!
//! The rows themselves, from confluent-kafka's ProtobufSerializer, are checked one by one in
//! `integration/conformance/test_registry_formats.py`. Needs KAFKA_BOOTSTRAP,
//! CASSANDRA_CONTACT_POINTS/CASSANDRA_PORT and SCHEMA_REGISTRY_URL (defaults: the local stack).

mod common;

use cassink::produce::{self, Workload};
use common::sink::*;
use common::tcp_proxy::{Mode, TcpProxy};
use std::time::{Duration, Instant};

fn registry() -> String {
    std::env::var("SCHEMA_REGISTRY_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:8081/apis/ccompat/v7".into())
}

/// `http://host:port/path` -> (host:port resolved, /path).
async fn split_url(url: &str) -> (std::net::SocketAddr, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let addr = tokio::net::lookup_host(authority)
        .await
        .expect("registry host")
        .next()
        .expect("registry address");
    (addr, path.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_registry_outage_holds_records_until_it_heals_and_loses_none() {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let table = format!("{keyspace}.meter_data");
    let topic = unique("meter-protobuf");
    produce::ensure_topic(&bootstrap(), &topic, 2)
        .await
        .expect("topic");
    let readings = 400u64;
    produce::produce_protobuf(
        &bootstrap(),
        &registry(),
        Workload::Meter,
        &topic,
        readings,
        None,
        11,
    )
    .await
    .expect("produce meter readings");

    let (upstream, path) = split_url(&registry()).await;
    let proxy = TcpProxy::start(upstream).await;
    proxy.set(Mode::Stall);
    let mut config = shipped_config("meter-protobuf.json", &topic, &keyspace);
    config.insert(
        "value.converter.schema.registry.url".into(),
        format!("http://{}{path}", proxy.addr),
    );
    config.insert("value.converter.http.read.timeout.ms".into(), "500".into());
    let name = unique("meter-protobuf-outage");
    let tasks = spawn_tasks(&name, &config, 1);

    // Each schema fetch times out against the stalled registry and is tried again.
    let deadline = Instant::now() + Duration::from_secs(90);
    while proxy.accepted() < 3 {
        for t in &tasks {
            let s = t.status();
            assert_ne!(
                s.state,
                cassink::worker::task::State::Failed,
                "{:?}",
                s.trace
            );
        }
        assert!(
            Instant::now() < deadline,
            "the registry was not asked again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(count(&session, &table).await, 0);
    let group = format!("connect-{name}");
    assert_eq!(
        committed_total(&group, &topic, 2),
        0,
        "nothing may be committed"
    );

    proxy.set(Mode::Forward);
    wait_for_rows(&session, &table, readings as i64, &tasks).await;
    wait_for_commit(&group, &topic, 2, readings as i64, &tasks).await;
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
}
