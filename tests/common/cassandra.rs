//! An Apache Cassandra node of a test's own, for settings the shared node does not have
//! (e.g. `PasswordAuthenticator`): `integration/stack.sh up` with its own STACK_DIR and free
//! ports, started from the same jars; `stack.sh down` when dropped. Its logs are kept in
//! target/stack-logs/<name>/.

use super::free_port;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PrivateCassandra {
    pub port: u16,
    storage_port: u16,
    authenticator: String,
    stack_dir: tempfile::TempDir,
    logs: PathBuf,
}

fn stack_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/stack.sh")
}

impl PrivateCassandra {
    /// Starts a node with `authenticator` (e.g. `PasswordAuthenticator`) and waits until it
    /// serves CQL (as the default superuser `cassandra`/`cassandra` when it authenticates).
    /// Blocks for the 20-60 s a node takes to start.
    pub fn start(name: &str, authenticator: &str) -> PrivateCassandra {
        let node = PrivateCassandra {
            port: free_port(),
            storage_port: free_port(),
            authenticator: authenticator.to_string(),
            stack_dir: tempfile::tempdir().expect("stack dir"),
            logs: Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/stack-logs")
                .join(name),
        };
        let out = node
            .stack("up")
            .output()
            .expect("run integration/stack.sh up");
        assert!(
            out.status.success(),
            "a private Cassandra ({authenticator}) did not start:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        node
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
            .env("STACK_CASSANDRA_AUTHENTICATOR", &self.authenticator)
            .env("STACK_CASSANDRA_HEAP", "768m");
        if self.authenticator.contains("Password") {
            command
                .env("CASSANDRA_USERNAME", "cassandra")
                .env("CASSANDRA_PASSWORD", "cassandra");
        }
        command
    }
}

impl Drop for PrivateCassandra {
    fn drop(&mut self) {
        let _ = self.stack("down").output();
    }
}
