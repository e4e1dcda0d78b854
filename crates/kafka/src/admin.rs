//! Topic administration the worker needs because brokers may not auto-create topics
//! (the producers' topics, the dead-letter queue).

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::ClientConfig;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("cannot create an admin client for {bootstrap}: {source}")]
    Client {
        bootstrap: String,
        source: KafkaError,
    },
    #[error("cannot create topic {topic} ({partitions} partitions, replication factor {replication}): {source}")]
    Create {
        topic: String,
        partitions: i32,
        replication: i32,
        source: KafkaError,
    },
}

/// Creates `topic` unless it exists.
pub async fn ensure_topic(
    client: &ClientConfig,
    topic: &str,
    partitions: i32,
    replication: i32,
) -> Result<(), AdminError> {
    let bootstrap = client
        .get("bootstrap.servers")
        .unwrap_or_default()
        .to_string();
    let admin: AdminClient<DefaultClientContext> = client
        .create()
        .map_err(|source| AdminError::Client { bootstrap, source })?;
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(replication));
    let err = |source| AdminError::Create {
        topic: topic.to_string(),
        partitions,
        replication,
        source,
    };
    let results = admin
        .create_topics(
            [&new],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .map_err(err)?;
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(err(KafkaError::AdminOp(code))),
        }
    }
    Ok(())
}
