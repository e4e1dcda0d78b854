//! A TCP proxy a test puts between the worker and a real server, to give that one client
//! network faults the server itself is never touched by: connections reset and refused, or
//! stalled (bytes held, as from a frozen process), then healed.
//!
//! Bytes are copied in order and never lost while forwarding: a chunk that was read is always
//! written before the next read, and a stall holds it until the proxy forwards again.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bytes flow both ways.
    Forward,
    /// Live connections are reset and the port refuses new ones.
    Refuse,
    /// Connections stay open but no byte moves; new ones are accepted and held too.
    Stall,
}

pub struct TcpProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    /// A proxy on a free loopback port that forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (mode, watcher) = watch::channel(Mode::Forward);
        let accepted = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(serve(
            Some(listener),
            addr,
            upstream,
            watcher,
            accepted.clone(),
        ));
        TcpProxy {
            addr,
            mode,
            accepted,
            task,
        }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    /// How many client connections the proxy has accepted so far (a client retrying through
    /// a stall opens new ones).
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.set(Mode::Refuse);
        self.task.abort();
    }
}

async fn serve(
    mut listener: Option<TcpListener>,
    addr: SocketAddr,
    upstream: SocketAddr,
    mut mode: watch::Receiver<Mode>,
    accepted: Arc<AtomicUsize>,
) {
    loop {
        let current = *mode.borrow_and_update();
        if current == Mode::Refuse {
            // Closing the listener makes the port refuse connections.
            listener = None;
        } else if listener.is_none() {
            // Rebinding right after closing: retry while the port is briefly unavailable.
            while listener.is_none() {
                match TcpListener::bind(addr).await {
                    Ok(l) => listener = Some(l),
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        }
        let Some(open) = listener.as_ref() else {
            if mode.changed().await.is_err() {
                return;
            }
            continue;
        };
        tokio::select! {
            accepted_client = open.accept() => {
                if let Ok((client, _)) = accepted_client {
                    accepted.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(relay(client, upstream, mode.clone()));
                }
            }
            changed = mode.changed() => {
                if changed.is_err() {
                    return;
                }
                // Re-evaluated at the top of the loop.
                mode.mark_changed();
            }
        }
    }
}

async fn relay(client: TcpStream, upstream: SocketAddr, mode: watch::Receiver<Mode>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        reset(client);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = pump(client_read, server_write, mode.clone());
    let down = pump(server_read, client_write, mode);
    // Either direction ending (EOF, error or a reset) ends the pair.
    let halves = tokio::select! {
        (r, w) = up => (Some((r, w)), None),
        (r, w) = down => (None, Some((r, w))),
    };
    // Dropping every half closes both sockets; a reset is sent for Refuse by `pump`.
    drop(halves);
}

type Read = tokio::net::tcp::OwnedReadHalf;
type Write = tokio::net::tcp::OwnedWriteHalf;

/// Copies `from` to `to` until EOF, an error or `Refuse`; holds bytes while `Stall`.
async fn pump(mut from: Read, mut to: Write, mut mode: watch::Receiver<Mode>) -> (Read, Write) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if !forwarding(&mut mode, &from).await {
            return (from, to);
        }
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return (from, to),
                Ok(n) => n,
            },
            changed = mode.changed() => {
                if changed.is_err() {
                    return (from, to);
                }
                mode.mark_changed();
                continue;
            }
        };
        // Bytes in hand are written even if the mode changes: held while stalled.
        if !forwarding(&mut mode, &from).await || to.write_all(&buf[..n]).await.is_err() {
            return (from, to);
        }
    }
}

/// Waits while the proxy stalls; false when the connection must end (`Refuse`, which resets
/// it, or the proxy is gone).
async fn forwarding(mode: &mut watch::Receiver<Mode>, from: &Read) -> bool {
    loop {
        let current = *mode.borrow_and_update();
        match current {
            Mode::Forward => return true,
            Mode::Refuse => {
                abort(from);
                return false;
            }
            Mode::Stall => {
                if mode.changed().await.is_err() {
                    return false;
                }
            }
        }
    }
}

/// Makes the socket send a reset (not a FIN) when it is closed.
fn abort(half: &Read) {
    let _ = half.as_ref().set_zero_linger();
}

fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
}
