//! Cassandra authentication for real: a node of the test's own started with
//! `PasswordAuthenticator`. `auth.provider=PLAIN` with the right password writes every record;
//! a wrong password fails the task with Cassandra's own reason and sends nothing to the
//! dead-letter queue (an outage of credentials is not a bad record).

mod common;

use cassink::config::ConfigMap;
use cassink::produce::{self, Workload};
use cdrs_tokio::authenticators::StaticPasswordAuthenticatorProvider;
use cdrs_tokio::cluster::session::{SessionBuilder, TcpSessionBuilder};
use cdrs_tokio::cluster::NodeTcpConfigBuilder;
use cdrs_tokio::load_balancing::RoundRobinLoadBalancingStrategy;
use common::cassandra::{NodeOptions, PrivateCassandra};
use common::sink::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use std::sync::Arc;
use std::time::Duration;

const USER: &str = "cassandra";
const PASSWORD: &str = "cassandra";

async fn session_as(port: u16, user: &str, password: &str) -> Cql {
    let config = NodeTcpConfigBuilder::new()
        .with_contact_point(format!("127.0.0.1:{port}").into())
        .with_authenticator_provider(Arc::new(StaticPasswordAuthenticatorProvider::new(
            user, password,
        )))
        .build()
        .await
        .expect("a CQL session with the superuser's password");
    TcpSessionBuilder::new(RoundRobinLoadBalancingStrategy::new(), config)
        .build()
        .await
        .expect("CQL session")
}

/// Records in `topic` (0 when it does not exist).
fn records_in(topic: &str) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("allow.auto.create.topics", "false")
        .create()
        .expect("consumer");
    consumer
        .fetch_watermarks(topic, 0, Duration::from_secs(10))
        .map_or(0, |(low, high)| high - low)
}

fn sink_config(topic: &str, keyspace: &str, port: u16, password: &str) -> ConfigMap {
    let mut config = meter_config(topic, keyspace);
    config.insert("contactPoints".into(), "127.0.0.1".into());
    config.insert("port".into(), port.to_string());
    config.insert("auth.provider".into(), "PLAIN".into());
    config.insert("auth.username".into(), USER.into());
    config.insert("auth.password".into(), password.into());
    config.insert("errors.tolerance".into(), "all".into());
    config.insert(
        "errors.deadletterqueue.topic.name".into(),
        format!("{topic}-dlq"),
    );
    config.insert(
        "errors.deadletterqueue.topic.replication.factor".into(),
        "1".into(),
    );
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn plain_auth_writes_with_the_right_password_and_fails_clearly_with_a_wrong_one() {
    let node = tokio::task::block_in_place(|| {
        PrivateCassandra::start(
            "cassandra-auth",
            NodeOptions {
                authenticator: Some("PasswordAuthenticator".into()),
                ..NodeOptions::default()
            },
        )
    });
    let session = session_as(node.port, USER, PASSWORD).await;
    let keyspace = meter_table(&session).await;
    let table = format!("{keyspace}.meter_data");
    let records = 500;

    // The right password: every record lands.
    let topic = unique("auth-meter");
    produce::ensure_topic(&bootstrap(), &topic, 2)
        .await
        .expect("create topic");
    produce::produce(&bootstrap(), Workload::Meter, &topic, records, None, 7)
        .await
        .expect("produce");
    let name = unique("auth-sink");
    let tasks = spawn_tasks(
        &name,
        &sink_config(&topic, &keyspace, node.port, PASSWORD),
        2,
    );
    wait_for_rows(&session, &table, records as i64, &tasks).await;
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }

    // A wrong password: the task fails, says why, and nothing reaches the dead-letter queue.
    let wrong = "not-the-password";
    let topic = unique("auth-wrong");
    produce::ensure_topic(&bootstrap(), &topic, 1)
        .await
        .expect("create topic");
    produce::produce(&bootstrap(), Workload::Meter, &topic, 50, None, 8)
        .await
        .expect("produce");
    let name = unique("auth-wrong-sink");
    let tasks = spawn_tasks(&name, &sink_config(&topic, &keyspace, node.port, wrong), 1);
    let status = wait_for_failure(&tasks[0], Duration::from_secs(90)).await;
    let trace = status.trace.unwrap_or_default();
    assert!(
        trace.contains("password are incorrect") || trace.contains("Bad credentials"),
        "the trace does not give Cassandra's reason: {trace}"
    );
    assert!(
        !trace.contains(wrong),
        "the trace shows the password: {trace}"
    );
    assert_eq!(
        count(&session, &table).await,
        records as i64,
        "nothing written with the wrong password"
    );
    assert_eq!(
        records_in(&format!("{topic}-dlq")),
        0,
        "a refused login is not a bad record: nothing goes to the dead-letter queue"
    );
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    drop(node);
}
