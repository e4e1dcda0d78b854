//! Why the brokers refuse a client: connects once with a client config and reads the
//! authentication and TLS failures librdkafka reports (its error and log events), so that a
//! wrong password or CA can be named instead of "broker transport failure".

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::ClientConfig;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a connection attempt with a client config found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// The brokers answered a metadata request.
    Reachable,
    /// Authentication or TLS failed: retrying does not help (the message is librdkafka's,
    /// e.g. `SASL authentication error: ... invalid-proof` or `SSL handshake failed: ...
    /// certificate verify failed`).
    Refused(String),
    /// The brokers did not answer in time (down, wrong address, ...).
    Unreachable(String),
}

/// Collects the authentication and TLS failures librdkafka reports: the first error event
/// with an authentication or SSL code (the most telling: "SSL handshake failed: ...
/// certificate verify failed: ... verify that ssl.ca.location is correctly configured"), and
/// the first error log line about SASL or SSL.
#[derive(Default)]
struct Witness {
    coded: Mutex<Option<String>>,
    logged: Mutex<Option<String>>,
}

impl Witness {
    fn note(slot: &Mutex<Option<String>>, message: &str) {
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            // Drop librdkafka's "(after 2ms in state SSL_HANDSHAKE, ...)" tail.
            let message = message.split(" (after ").next().unwrap_or(message);
            *slot = Some(message.trim().to_string());
        }
    }

    fn coded(&self) -> Option<String> {
        self.coded.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn failure(&self) -> Option<String> {
        self.coded().or_else(|| {
            self.logged
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
        })
    }
}

impl ClientContext for Witness {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        if (level as i32) <= (RDKafkaLogLevel::Error as i32)
            && (message.contains("SASL") || message.contains("SSL"))
        {
            Self::note(&self.logged, message);
        }
        tracing::debug!(target: "librdkafka", "{fac} {message}");
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if matches!(
            error.rdkafka_error_code(),
            Some(RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SSL)
        ) {
            Self::note(&self.coded, reason);
        }
    }
}

impl ConsumerContext for Witness {}

/// Connects with `config` (a metadata request of at most `timeout`) and says what happened.
/// Blocking: call it from a blocking section.
pub fn probe(config: &ClientConfig, timeout: Duration) -> Probe {
    let mut cfg = config.clone();
    // No group: a plain metadata client; its own statistics are not wanted.
    cfg.remove("group.id");
    cfg.remove("statistics.interval.ms");
    let consumer: BaseConsumer<Witness> = match cfg.create_with_context(Witness::default()) {
        Ok(c) => c,
        Err(e) => return Probe::Refused(e.to_string()),
    };
    let error = match consumer.fetch_metadata(None, timeout) {
        Ok(_) => return Probe::Reachable,
        Err(e) => e,
    };
    // Serve the queued log and error events so that the witness sees them (`poll` answers
    // `None` for a served log event as for an empty queue: poll for a while).
    let witness = consumer.context().clone();
    let served = Instant::now();
    while witness.coded().is_none() && served.elapsed() < Duration::from_secs(1) {
        let _ = consumer.poll(Duration::from_millis(10));
    }
    match witness.failure() {
        Some(failure) => Probe::Refused(failure),
        None => Probe::Unreachable(error.to_string()),
    }
}

/// How long [`refusal`] waits for the brokers.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why `config` is refused by the brokers, when a Kafka operation failed because of
/// authentication or TLS (`None` when the probe connects, or the brokers are just down).
pub fn refusal(config: &ClientConfig) -> Option<String> {
    match probe(config, PROBE_TIMEOUT) {
        Probe::Refused(reason) => Some(reason),
        Probe::Reachable | Probe::Unreachable(_) => None,
    }
}
