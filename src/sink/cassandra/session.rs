//! The Cassandra session of a task (cdrs-tokio) and the classification of its errors into
//! transient (retry) and permanent (the record or the config is wrong).

use super::config::SinkConfig;
use crate::connector::SinkError;
use cdrs_tokio::authenticators::{
    NoneAuthenticatorProvider, SaslAuthenticatorProvider, StaticPasswordAuthenticatorProvider,
};
use cdrs_tokio::cluster::connection_pool::ConnectionPoolConfigBuilder;
use cdrs_tokio::cluster::session::{Session, SessionBuilder, TcpSessionBuilder};
use cdrs_tokio::cluster::{NodeTcpConfigBuilder, TcpConnectionManager};
use cdrs_tokio::compression::Compression;
use cdrs_tokio::error::Error as CdrsError;
use cdrs_tokio::frame::message_error::ErrorType;
use cdrs_tokio::load_balancing::node_distance_evaluator::TopologyAwareNodeDistanceEvaluator;
use cdrs_tokio::load_balancing::RoundRobinLoadBalancingStrategy;
use cdrs_tokio::retry::FallthroughRetryPolicy;
use cdrs_tokio::transport::TransportTcp;
use std::sync::Arc;
use std::time::Duration;

pub type CqlSession = Session<
    TransportTcp,
    TcpConnectionManager,
    RoundRobinLoadBalancingStrategy<TransportTcp, TcpConnectionManager>,
>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to the contact points of `config`.
pub async fn connect(config: &SinkConfig) -> Result<CqlSession, SinkError> {
    let auth: Arc<dyn SaslAuthenticatorProvider + Send + Sync> =
        match (&config.username, &config.password) {
            (Some(user), Some(password)) => {
                Arc::new(StaticPasswordAuthenticatorProvider::new(user, password))
            }
            _ => Arc::new(NoneAuthenticatorProvider),
        };
    let points: Vec<_> = config
        .contact_points
        .iter()
        .map(|p| {
            if p.contains(':') {
                p.clone()
            } else {
                format!("{p}:{}", config.port)
            }
        })
        .map(Into::into)
        .collect();
    let where_ = config.contact_points.join(",");
    let node_config = NodeTcpConfigBuilder::new()
        .with_contact_points(points)
        .with_authenticator_provider(auth)
        .build()
        .await
        .map_err(|e| {
            SinkError::transient(
                "AllNodesFailedException",
                format!("cannot reach Cassandra at {where_}: {e}"),
            )
        })?;
    let compression = match config.compression.as_str() {
        "lz4" => Compression::Lz4,
        "snappy" => Compression::Snappy,
        _ => Compression::None,
    };
    let pool = ConnectionPoolConfigBuilder::new()
        .with_local_size(config.pool_size)
        .with_connect_timeout(Some(CONNECT_TIMEOUT))
        .build();
    let mut builder = TcpSessionBuilder::new(RoundRobinLoadBalancingStrategy::new(), node_config)
        .with_compression(compression)
        .with_connection_pool_config(pool)
        // The runner retries with backoff and needs the server's own error to classify it:
        // the default policy turns Unavailable into "No nodes available in query plan!".
        .with_retry_policy(Box::new(FallthroughRetryPolicy));
    if let Some(dc) = &config.local_dc {
        builder = builder.with_node_distance_evaluator(Box::new(
            TopologyAwareNodeDistanceEvaluator::new(dc.clone()),
        ));
    }
    match tokio::time::timeout(CONNECT_TIMEOUT * 3, builder.build()).await {
        Ok(Ok(session)) => Ok(session),
        Ok(Err(e)) => Err(SinkError::transient(
            "AllNodesFailedException",
            format!("cannot connect to Cassandra at {where_}: {e}"),
        )),
        Err(_) => Err(SinkError::transient(
            "AllNodesFailedException",
            format!("timed out connecting to Cassandra at {where_}"),
        )),
    }
}

/// Tells outages (retry) from requests Cassandra will never accept.
pub fn classify(error: &CdrsError, what: &str) -> SinkError {
    match error {
        CdrsError::Server { body, addr } => {
            let message = format!("{what}: {} (from {addr})", body.message);
            match &body.ty {
                ErrorType::Unavailable(_) => SinkError::transient("UnavailableException", message),
                ErrorType::WriteTimeout(_) => {
                    SinkError::transient("WriteTimeoutException", message)
                }
                ErrorType::ReadTimeout(_) => SinkError::transient("ReadTimeoutException", message),
                ErrorType::Overloaded => SinkError::transient("OverloadedException", message),
                ErrorType::IsBootstrapping => {
                    SinkError::transient("BootstrappingException", message)
                }
                ErrorType::Truncate => SinkError::transient("TruncateException", message),
                ErrorType::Server => SinkError::transient("ServerError", message),
                ErrorType::WriteFailure(_) => {
                    SinkError::transient("WriteFailureException", message)
                }
                ErrorType::Unprepared(_) => SinkError::transient("UnpreparedException", message),
                ErrorType::Syntax => SinkError::permanent("SyntaxError", message),
                ErrorType::Invalid => SinkError::permanent("InvalidQueryException", message),
                ErrorType::AlreadyExists(_) => {
                    SinkError::permanent("AlreadyExistsException", message)
                }
                ErrorType::Unauthorized => SinkError::permanent("UnauthorizedException", message),
                ErrorType::Authentication => {
                    SinkError::permanent("AuthenticationException", message)
                }
                ErrorType::Config => {
                    SinkError::permanent("InvalidConfigurationInQueryException", message)
                }
                ErrorType::Protocol => SinkError::permanent("ProtocolError", message),
                _ => SinkError::permanent("ServerError", message),
            }
        }
        other => SinkError::transient("DriverException", format!("{what}: {other}")),
    }
}
