//! The Cassandra session of a task (cdrs-tokio) and the classification of its errors into
//! an outage (retry), a misconfiguration (fail the task) or a record Cassandra rejects.

use super::config::SinkConfig;
use cassink_connector::SinkError;
use cdrs_tokio::authenticators::{
    NoneAuthenticatorProvider, SaslAuthenticatorProvider, StaticPasswordAuthenticatorProvider,
};
use cdrs_tokio::cluster::connection_pool::ConnectionPoolConfigBuilder;
use cdrs_tokio::cluster::session::{
    RustlsSessionBuilder, Session, SessionBuildError, SessionBuilder, TcpSessionBuilder,
};
use cdrs_tokio::cluster::{
    ConnectionManager, KeyspaceHolder, NodeAddress, NodeRustlsConfigBuilder, NodeTcpConfigBuilder,
    RustlsConnectionManager, TcpConnectionManager,
};
use cdrs_tokio::compression::Compression;
use cdrs_tokio::error::{Error as CdrsError, Result as CdrsResult};
use cdrs_tokio::frame::message_error::ErrorType;
use cdrs_tokio::frame::message_result::BodyResResultPrepared;
use cdrs_tokio::frame::{Envelope, Version};
use cdrs_tokio::frame_encoding::ProtocolFrameEncodingFactory;
use cdrs_tokio::load_balancing::node_distance_evaluator::TopologyAwareNodeDistanceEvaluator;
use cdrs_tokio::load_balancing::RoundRobinLoadBalancingStrategy;
use cdrs_tokio::query::{PreparedQuery, QueryBatch, QueryValues};
use cdrs_tokio::retry::FallthroughRetryPolicy;
use cdrs_tokio::statement::StatementParams;
use cdrs_tokio::transport::{TransportRustls, TransportTcp};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

type TcpSession = Session<
    TransportTcp,
    TcpConnectionManager,
    RoundRobinLoadBalancingStrategy<TransportTcp, TcpConnectionManager>,
>;
type TlsSession = Session<
    TransportRustls,
    RustlsConnectionManager,
    RoundRobinLoadBalancingStrategy<TransportRustls, RustlsConnectionManager>,
>;

/// A task's session, plain or TLS (`ssl.provider`); the writer sees one type.
pub enum CqlSession {
    Plain(TcpSession),
    Tls(TlsSession),
}

/// Runs `$body` with `$s` bound to the session, whichever the transport.
macro_rules! on_session {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            CqlSession::Plain($s) => $body,
            CqlSession::Tls($s) => $body,
        }
    };
}

impl CqlSession {
    pub async fn prepare_raw(&self, query: &str) -> CdrsResult<BodyResResultPrepared> {
        on_session!(self, s => s.prepare_raw(query).await)
    }

    pub async fn prepare(&self, query: &str) -> CdrsResult<PreparedQuery> {
        on_session!(self, s => s.prepare(query).await)
    }

    pub async fn exec_with_params(
        &self,
        prepared: &PreparedQuery,
        params: &StatementParams,
    ) -> CdrsResult<Envelope> {
        on_session!(self, s => s.exec_with_params(prepared, params).await)
    }

    pub async fn batch(&self, batch: QueryBatch) -> CdrsResult<Envelope> {
        on_session!(self, s => s.batch(batch).await)
    }

    pub async fn query_with_values(
        &self,
        query: &str,
        values: impl Into<QueryValues>,
    ) -> CdrsResult<Envelope> {
        on_session!(self, s => s.query_with_values(query, values).await)
    }
}

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
    let hosts: Vec<String> = config
        .contact_points
        .iter()
        .map(|p| {
            if p.contains(':') {
                p.clone()
            } else {
                format!("{p}:{}", config.port)
            }
        })
        .collect();
    let points: Vec<NodeAddress> = hosts.iter().map(Into::into).collect();
    let where_ = config.contact_points.join(",");
    let unreachable = |e: CdrsError| {
        SinkError::outage(
            "AllNodesFailedException",
            format!("cannot reach Cassandra at {where_}: {e}"),
        )
    };
    let compression = config.compression.frame();
    let pool = ConnectionPoolConfigBuilder::new()
        .with_local_size(config.pool_size)
        .with_connect_timeout(Some(CONNECT_TIMEOUT))
        .build();
    let keyspace = || Arc::new(KeyspaceHolder::new(tokio::sync::watch::channel(None).0));
    let session = match &config.ssl {
        None => {
            if config.username.is_some() {
                let manager = TcpConnectionManager::new(
                    auth.clone(),
                    keyspace(),
                    Box::new(ProtocolFrameEncodingFactory),
                    compression,
                    PROBE_BUFFER,
                    true,
                    Version::V4,
                );
                probe_login(&hosts[0], &manager).await?;
            }
            let node_config = NodeTcpConfigBuilder::new()
                .with_contact_points(points)
                .with_authenticator_provider(auth)
                .build()
                .await
                .map_err(unreachable)?;
            let builder =
                TcpSessionBuilder::new(RoundRobinLoadBalancingStrategy::new(), node_config);
            let builder = tuned(builder, config, compression, pool);
            build(&where_, builder.build()).await.map(CqlSession::Plain)
        }
        Some(ssl) => {
            let bad_config = |e: cassink_tls::TlsError| {
                SinkError::misconfigured("ConfigException", e.to_string())
            };
            let tls = ssl.client_config().map_err(bad_config)?;
            let name = super::tls::server_name(&config.contact_points[0]).map_err(bad_config)?;
            probe_tls(&hosts[0], tls.clone(), name.clone()).await?;
            if config.username.is_some() {
                let manager = RustlsConnectionManager::new(
                    name.clone(),
                    auth.clone(),
                    tls.clone(),
                    keyspace(),
                    Box::new(ProtocolFrameEncodingFactory),
                    compression,
                    PROBE_BUFFER,
                    true,
                    Version::V4,
                );
                probe_login(&hosts[0], &manager).await?;
            }
            let node_config = NodeRustlsConfigBuilder::new(name, tls)
                .with_contact_points(points)
                .with_authenticator_provider(auth)
                .build()
                .await
                .map_err(unreachable)?;
            let builder =
                RustlsSessionBuilder::new(RoundRobinLoadBalancingStrategy::new(), node_config);
            let builder = tuned(builder, config, compression, pool);
            build(&where_, builder.build()).await.map(CqlSession::Tls)
        }
    }?;
    Ok(session)
}

/// The session settings shared by plain and TLS sessions.
fn tuned<T, CM, LB, B>(
    builder: B,
    config: &SinkConfig,
    compression: Compression,
    pool: cdrs_tokio::cluster::connection_pool::ConnectionPoolConfig,
) -> B
where
    T: cdrs_tokio::transport::CdrsTransport + 'static,
    CM: cdrs_tokio::cluster::ConnectionManager<T>,
    LB: cdrs_tokio::load_balancing::LoadBalancingStrategy<T, CM> + Send + Sync + 'static,
    B: SessionBuilder<T, CM, LB>,
{
    let builder = builder
        .with_compression(compression)
        .with_connection_pool_config(pool)
        // The runner retries with backoff and needs the server's own error to classify it:
        // the default policy turns Unavailable into "No nodes available in query plan!".
        .with_retry_policy(Box::new(FallthroughRetryPolicy));
    match &config.local_dc {
        Some(dc) => builder.with_node_distance_evaluator(Box::new(
            TopologyAwareNodeDistanceEvaluator::new(dc.clone()),
        )),
        None => builder,
    }
}

/// One TLS connection to the first contact point and a CQL `OPTIONS` round trip before the
/// driver starts: a refused certificate (ours or the node's) is reported as such, where the
/// driver would only retry until its connect timeout.
async fn probe_tls(
    addr: &str,
    tls: Arc<rustls::ClientConfig>,
    name: rustls::pki_types::ServerName<'static>,
) -> Result<(), SinkError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let failed = |e: std::io::Error| {
        let rustls_error = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        let message = format!("TLS to Cassandra at {addr} failed: {e}");
        match rustls_error {
            Some(rustls::Error::InvalidCertificate(_) | rustls::Error::AlertReceived(_)) => {
                SinkError::misconfigured("SSLHandshakeException", message)
            }
            _ => SinkError::connection_lost("AllNodesFailedException", message),
        }
    };
    // After our side of the handshake, a node that refuses our certificate (or the lack of
    // one) resets the connection instead of answering: say what that usually means.
    let after_handshake = |e: std::io::Error| {
        use std::io::ErrorKind::{BrokenPipe, ConnectionReset, UnexpectedEof};
        if matches!(e.kind(), BrokenPipe | ConnectionReset | UnexpectedEof) {
            std::io::Error::new(
                e.kind(),
                format!(
                    "{e}: the node closed the connection after the TLS handshake (does it \
                     expect TLS, or require a client certificate? see ssl.keystore.path or \
                     ssl.openssl.keyCertChain)"
                ),
            )
        } else {
            e
        }
    };
    let attempt = async {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let mut stream = tokio_rustls::TlsConnector::from(tls)
            .connect(name, tcp)
            .await?;
        // Protocol v4 OPTIONS: version, flags, stream id, opcode, body length.
        let asked = async {
            stream.write_all(&[0x04, 0, 0, 0, 0x05, 0, 0, 0, 0]).await?;
            stream.flush().await?;
            let mut first = [0u8; 1];
            match stream.read(&mut first).await? {
                0 => Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof)),
                _ => Ok(()),
            }
        };
        asked.await.map_err(after_handshake)
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Ok(result) => result.map_err(failed),
        Err(_) => Err(SinkError::outage(
            "AllNodesFailedException",
            format!("timed out opening TLS to Cassandra at {addr}"),
        )),
    }
}

/// Read buffer of the one probe connection.
const PROBE_BUFFER: usize = 64 * 1024;

/// One connection to the first contact point that logs in before the driver starts: a login
/// Cassandra refuses (wrong password, unknown user) fails the task with Cassandra's reason,
/// where the driver would only retry until its connect timeout. Anything else (the node is
/// down, slow) is left to the session build and its retries.
async fn probe_login<T, CM>(addr: &str, manager: &CM) -> Result<(), SinkError>
where
    T: cdrs_tokio::transport::CdrsTransport + 'static,
    CM: ConnectionManager<T>,
{
    let Some(socket) = tokio::net::lookup_host(addr)
        .await
        .ok()
        .and_then(|mut a| a.next())
    else {
        return Ok(());
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, manager.connection(None, None, socket)).await {
        Ok(Err(CdrsError::Server { body, .. })) if body.ty == ErrorType::Authentication => {
            Err(SinkError::misconfigured(
                "AuthenticationException",
                format!(
                    "Cassandra at {addr} refused the login (auth.username / auth.password): {}",
                    body.message
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// Awaits a session build, bounded by three connect timeouts.
async fn build<S>(
    where_: &str,
    session: impl Future<Output = Result<S, SessionBuildError>>,
) -> Result<S, SinkError> {
    match tokio::time::timeout(CONNECT_TIMEOUT * 3, session).await {
        Ok(Ok(session)) => Ok(session),
        Ok(Err(e)) => Err(SinkError::outage(
            "AllNodesFailedException",
            format!("cannot connect to Cassandra at {where_}: {e}"),
        )),
        Err(_) => Err(SinkError::outage(
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
                ErrorType::Unavailable(_) => SinkError::outage("UnavailableException", message),
                ErrorType::WriteTimeout(_) => SinkError::outage("WriteTimeoutException", message),
                ErrorType::ReadTimeout(_) => SinkError::outage("ReadTimeoutException", message),
                ErrorType::Overloaded => SinkError::outage("OverloadedException", message),
                ErrorType::IsBootstrapping => SinkError::outage("BootstrappingException", message),
                ErrorType::Truncate => SinkError::outage("TruncateException", message),
                ErrorType::Server => SinkError::outage("ServerError", message),
                ErrorType::WriteFailure(_) => SinkError::outage("WriteFailureException", message),
                ErrorType::Unprepared(_) => SinkError::outage("UnpreparedException", message),
                ErrorType::Syntax => SinkError::misconfigured("SyntaxError", message),
                ErrorType::Invalid => SinkError::bad_record("InvalidQueryException", message),
                ErrorType::AlreadyExists(_) => {
                    SinkError::misconfigured("AlreadyExistsException", message)
                }
                ErrorType::Unauthorized => {
                    SinkError::misconfigured("UnauthorizedException", message)
                }
                ErrorType::Authentication => {
                    SinkError::misconfigured("AuthenticationException", message)
                }
                ErrorType::Config => {
                    SinkError::misconfigured("InvalidConfigurationInQueryException", message)
                }
                ErrorType::Protocol => SinkError::misconfigured("ProtocolError", message),
                _ => SinkError::bad_record("ServerError", message),
            }
        }
        other => SinkError::connection_lost("DriverException", format!("{what}: {other}")),
    }
}
