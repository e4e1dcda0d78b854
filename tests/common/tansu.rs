//! A tansu broker of a test's own: on a free port, with its sqlite file in a temp dir, so it
//! can be stopped, started again or restarted with other options (client authentication, an
//! advertised address in front of it) without touching the shared broker.

use super::free_port;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How the broker starts.
#[derive(Debug, Clone, Default)]
pub struct TansuOptions {
    /// `--authentication`: clients must authenticate (SASL SCRAM-SHA-256/512 in tansu 0.6.0).
    pub authentication: bool,
    /// The port advertised to clients (e.g. a TLS front's); default: the broker's own.
    pub advertised_port: Option<u16>,
}

pub struct Tansu {
    child: Option<Child>,
    pub port: u16,
    /// `127.0.0.1:<port>`: the broker itself (not the advertised address).
    pub bootstrap: String,
    options: TansuOptions,
    bin: PathBuf,
    dir: tempfile::TempDir,
    log: PathBuf,
}

impl Tansu {
    /// `TANSU_BIN`, or where integration/install.sh puts it.
    pub fn binary() -> PathBuf {
        if let Some(bin) = std::env::var_os("TANSU_BIN") {
            return PathBuf::from(bin);
        }
        let cache = std::env::var_os("CASSINK_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/cassink")
            });
        cache.join("tansu-0.6.0/bin/tansu")
    }

    pub async fn start() -> Tansu {
        Self::start_with(TansuOptions::default()).await
    }

    pub async fn start_with(options: TansuOptions) -> Tansu {
        let bin = Self::binary();
        assert!(
            bin.exists(),
            "no tansu broker at {} (set TANSU_BIN or run integration/install.sh)",
            bin.display()
        );
        let dir = tempfile::tempdir().expect("tansu dir");
        let port = free_port();
        let mut tansu = Tansu {
            child: None,
            port,
            bootstrap: format!("127.0.0.1:{port}"),
            options,
            bin,
            log: dir.path().join("tansu.log"),
            dir,
        };
        tansu.spawn().await;
        tansu
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open tansu log");
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let advertised = format!(
            "tcp://127.0.0.1:{}",
            self.options.advertised_port.unwrap_or(self.port)
        );
        let mut command = Command::new(&self.bin);
        command
            .args(["broker", "--listener-url", &url])
            .args(["--advertised-listener-url", &advertised])
            // tansu resolves the sqlite path against its working directory.
            .args(["--storage-engine", "sqlite://tansu.db"]);
        if self.options.authentication {
            command.arg("--authentication");
        }
        let child = command
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("spawn tansu");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("tansu exited ({status}):\n{}", self.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "tansu not listening in 30 s:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Adds a SCRAM user (`mechanism`: `scram256` or `scram512`) with `tansu user create`.
    /// The broker must not require authentication yet: tansu 0.6.0 refuses the request of
    /// an unauthenticated client then.
    pub fn create_user(&self, name: &str, password: &str, mechanism: &str) {
        let out = Command::new(&self.bin)
            .args(["user", "create", "--broker"])
            .arg(format!("tcp://{}", self.bootstrap))
            .args(["--mechanism", mechanism, name, password])
            .output()
            .expect("run tansu user create");
        assert!(
            out.status.success(),
            "tansu user create {name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// SIGTERM (SIGKILL after 10 s); returns how long it took to go away.
    pub fn stop(&mut self) -> Duration {
        let Some(mut child) = self.child.take() else {
            return Duration::ZERO;
        };
        let sent = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        while sent.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = child.try_wait() {
                return sent.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        sent.elapsed()
    }

    /// Starts the broker again on the same port and sqlite file.
    pub async fn start_again(&mut self) {
        assert!(self.child.is_none(), "tansu still running");
        self.spawn().await;
    }

    /// Stops the broker and starts it again with `options` (same port, same data).
    pub async fn restart_with(&mut self, options: TansuOptions) {
        self.stop();
        self.options = options;
        self.spawn().await;
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- tansu log ---\n{}", self.log_tail());
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
