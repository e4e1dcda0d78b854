//! An Apache Cassandra node of a test's own, for settings the shared node does not have
//! (`PasswordAuthenticator`, client TLS): `integration/stack.sh up` with its own STACK_DIR
//! and free ports, started from the same jars; `stack.sh down` when dropped. Its logs are
//! kept in target/stack-logs/<name>/.

use super::free_port;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Client TLS on the node's native port (`client_encryption_options`, PEM files).
#[derive(Debug, Clone)]
pub struct NodeTls {
    /// The server's certificate chain and key in one PEM file.
    pub server_bundle: PathBuf,
    pub ca: PathBuf,
    /// Client certificate and key the readiness probe presents when the node requires one.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

#[derive(Debug, Clone, Default)]
pub struct NodeOptions {
    /// e.g. `PasswordAuthenticator` (default: AllowAllAuthenticator).
    pub authenticator: Option<String>,
    pub tls: Option<NodeTls>,
    /// Serve CQL on every loopback address (`rpc_address: 0.0.0.0`), not only 127.0.0.1.
    pub every_address: bool,
}

pub struct PrivateCassandra {
    pub port: u16,
    storage_port: u16,
    options: NodeOptions,
    stack_dir: tempfile::TempDir,
    logs: PathBuf,
}

fn stack_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/stack.sh")
}

impl PrivateCassandra {
    /// Starts a node and waits until it serves CQL (as the default superuser
    /// `cassandra`/`cassandra` when it authenticates, over TLS when it has `tls`).
    /// Blocks for the 20-60 s a node takes to start.
    pub fn start(name: &str, options: NodeOptions) -> PrivateCassandra {
        let node = PrivateCassandra {
            port: free_port(),
            storage_port: free_port(),
            options,
            stack_dir: tempfile::tempdir().expect("stack dir"),
            logs: Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/stack-logs")
                .join(name),
        };
        let mut extra = String::new();
        if let Some(tls) = &node.options.tls {
            let _ = write!(
                extra,
                "client_encryption_options:\n  enabled: true\n  optional: false\n  \
                 require_client_auth: {}\n  ssl_context_factory:\n    \
                 class_name: org.apache.cassandra.security.PEMBasedSslContextFactory\n  \
                 keystore: {}\n  truststore: {}\n",
                tls.client_cert.is_some(),
                tls.server_bundle.display(),
                tls.ca.display()
            );
        }
        std::fs::write(node.yaml_extra(), extra).expect("write the yaml extra");
        let out = node
            .stack("up")
            .output()
            .expect("run integration/stack.sh up");
        assert!(
            out.status.success(),
            "a private Cassandra ({name}) did not start:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        node
    }

    /// Freezes the node (SIGSTOP): its connections stay open and nothing answers.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a paused node (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid_file = self.stack_dir.path().join("pids/cassandra");
        let pid = std::fs::read_to_string(&pid_file).expect("the node's pid file");
        let status = Command::new("kill")
            .args([signal, pid.trim()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} {pid} failed");
    }

    fn yaml_extra(&self) -> PathBuf {
        self.stack_dir.path().join("cassandra-extra.yaml")
    }

    fn stack(&self, action: &str) -> Command {
        let mut command = Command::new(stack_script());
        command
            .arg(action)
            .env("STACK_DIR", self.stack_dir.path())
            .env("STACK_SKIP", "kafka,registry")
            .env("STACK_LOGS_DIR", &self.logs)
            .env("CASSANDRA_CONTACT_POINTS", "127.0.0.1")
            .env("CASSANDRA_PORT", self.port.to_string())
            .env(
                "STACK_CASSANDRA_STORAGE_PORT",
                self.storage_port.to_string(),
            )
            .env("STACK_CASSANDRA_YAML_EXTRA", self.yaml_extra())
            .env("STACK_CASSANDRA_HEAP", "768m");
        if self.options.every_address {
            command.env("STACK_CASSANDRA_RPC_ADDRESS", "0.0.0.0");
        }
        if let Some(authenticator) = &self.options.authenticator {
            command
                .env("STACK_CASSANDRA_AUTHENTICATOR", authenticator)
                .env("CASSANDRA_USERNAME", "cassandra")
                .env("CASSANDRA_PASSWORD", "cassandra");
        }
        if let Some(tls) = &self.options.tls {
            command.env("CASSANDRA_SSL_CA", &tls.ca);
            if let Some((cert, key)) = &tls.client_cert {
                command
                    .env("CASSANDRA_SSL_CERT", cert)
                    .env("CASSANDRA_SSL_KEY", key);
            }
        }
        command
    }
}

impl Drop for PrivateCassandra {
    fn drop(&mut self) {
        let _ = self.stack("down").output();
    }
}
