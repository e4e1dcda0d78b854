//! The CQL listener: one task per connection reading frames, each request answered on its
//! own task so responses may go out of order by stream id.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::cql::ast::Statement;
use crate::error::Error;
use crate::exec::{prepare, write, Engine, ExecOptions, Prepared};
use crate::faults::Faults;
use crate::frame::{self, Compression, FrameError};
use crate::literal::Binds;
use crate::protocol::{opcode, BatchEntry, QueryResult, Request};

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub admin: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
}

pub struct Server {
    pub engine: Arc<Engine>,
    pub faults: Arc<Faults>,
    listener: TcpListener,
    admin: Option<TcpListener>,
    data_dir: Option<PathBuf>,
}

impl Server {
    /// Loads the snapshot (if any) and binds both listeners.
    pub async fn bind(config: Config) -> anyhow::Result<Server> {
        let catalog = match &config.data_dir {
            Some(d) => crate::snapshot::load(d)?,
            None => Default::default(),
        };
        let engine = Arc::new(Engine::new(catalog));
        let listener = TcpListener::bind(config.listen).await?;
        *engine.listen.lock().unwrap_or_else(|e| e.into_inner()) = Some(listener.local_addr()?);
        let admin = match config.admin {
            Some(a) => Some(TcpListener::bind(a).await?),
            None => None,
        };
        Ok(Server {
            engine,
            faults: Arc::new(Faults::default()),
            listener,
            admin,
            data_dir: config.data_dir,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().and_then(|a| a.local_addr().ok())
    }

    /// Saves a snapshot now (no-op without a data dir).
    pub fn snapshot(engine: &Engine, dir: Option<&PathBuf>) {
        if let Some(d) = dir {
            if let Err(e) = crate::snapshot::save(engine, d) {
                tracing::error!(error = %e, dir = %d.display(), "snapshot failed");
            }
        }
    }

    /// Serves until the future resolves; a final snapshot is written on the way out.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let Server {
            engine,
            faults,
            listener,
            admin,
            data_dir,
        } = self;
        if let Some(admin) = admin {
            let app = crate::admin::router(crate::admin::AdminState {
                engine: engine.clone(),
                faults: faults.clone(),
            });
            tokio::spawn(async move {
                if let Err(e) = axum::serve(admin, app).await {
                    tracing::error!(error = %e, "admin endpoint stopped");
                }
            });
        }
        if let Some(dir) = data_dir.clone() {
            let engine = engine.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                loop {
                    tick.tick().await;
                    if engine.dirty.load(Ordering::Relaxed) {
                        let (e, d) = (engine.clone(), dir.clone());
                        let _ = tokio::task::spawn_blocking(move || Server::snapshot(&e, Some(&d)))
                            .await;
                    }
                }
            });
        }
        tracing::info!(addr = %listener.local_addr()?, "cqlmem listening");
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                acc = listener.accept() => {
                    let (sock, peer) = match acc {
                        Ok(x) => x,
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed");
                            continue;
                        }
                    };
                    if faults.refuses_connections() {
                        drop(sock);
                        continue;
                    }
                    engine.stats.connections.fetch_add(1, Ordering::Relaxed);
                    let (engine, faults) = (engine.clone(), faults.clone());
                    tokio::spawn(async move {
                        engine.stats.open_connections.fetch_add(1, Ordering::Relaxed);
                        connection(sock, engine.clone(), faults).await;
                        engine.stats.open_connections.fetch_sub(1, Ordering::Relaxed);
                        tracing::debug!(%peer, "connection closed");
                    });
                }
            }
        }
        Server::snapshot(&engine, data_dir.as_ref());
        Ok(())
    }

    pub async fn run(self) -> anyhow::Result<()> {
        self.run_until(std::future::pending()).await
    }
}

async fn connection(sock: TcpStream, engine: Arc<Engine>, faults: Arc<Faults>) {
    let _ = sock.set_nodelay(true);
    let (mut rd, wr) = sock.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        let mut wr = BufWriter::new(wr);
        while let Some(f) = rx.recv().await {
            if wr.write_all(&f).await.is_err() {
                return;
            }
            while let Ok(f) = rx.try_recv() {
                if wr.write_all(&f).await.is_err() {
                    return;
                }
            }
            if wr.flush().await.is_err() {
                return;
            }
        }
    });
    let mut drop_rx = faults.drop_signal();
    let mut compression = Compression::None;
    let session = Arc::new(Mutex::new(None::<String>));
    loop {
        let read = tokio::select! {
            _ = drop_rx.changed() => break,
            r = frame::read_frame(&mut rd, compression) => r,
        };
        let (header, body) = match read {
            Ok(x) => x,
            Err(FrameError::Closed) => break,
            Err(FrameError::Fatal { stream, error }) => {
                tracing::debug!(%error, "protocol error, closing connection");
                let _ = tx.send(frame::encode_response(
                    stream,
                    opcode::ERROR,
                    &error.encode_body(),
                    Compression::None,
                ));
                break;
            }
        };
        engine.stats.requests.fetch_add(1, Ordering::Relaxed);
        let stream = header.stream;
        let req = match Request::parse(header.opcode, &body) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(frame::encode_response(
                    stream,
                    opcode::ERROR,
                    &e.encode_body(),
                    compression,
                ));
                continue;
            }
        };
        match req {
            Request::Options => {
                let _ = tx.send(frame::encode_response(
                    stream,
                    opcode::SUPPORTED,
                    &crate::protocol::supported_body(),
                    compression,
                ));
            }
            Request::Startup(opts) => {
                let mut err = None;
                for (k, v) in &opts {
                    if k.eq_ignore_ascii_case("COMPRESSION") {
                        match Compression::from_name(v) {
                            Some(c) => compression = c,
                            None => {
                                err = Some(Error::Protocol(format!(
                                    "Unknown compression algorithm: {v}"
                                )))
                            }
                        }
                    }
                }
                let f = match err {
                    Some(e) => frame::encode_response(
                        stream,
                        opcode::ERROR,
                        &e.encode_body(),
                        Compression::None,
                    ),
                    None => frame::encode_response(stream, opcode::READY, &[], Compression::None),
                };
                let _ = tx.send(f);
            }
            Request::Register | Request::AuthResponse => {
                let _ = tx.send(frame::encode_response(
                    stream,
                    opcode::READY,
                    &[],
                    compression,
                ));
            }
            req => {
                let (engine, faults, session, tx) =
                    (engine.clone(), faults.clone(), session.clone(), tx.clone());
                tokio::spawn(async move {
                    let res = handle(&engine, &faults, &session, req);
                    let f = match res {
                        Ok(r) => {
                            frame::encode_response(stream, opcode::RESULT, &r.encode(), compression)
                        }
                        Err(e) => frame::encode_response(
                            stream,
                            opcode::ERROR,
                            &e.encode_body(),
                            compression,
                        ),
                    };
                    let _ = tx.send(f);
                });
            }
        }
    }
    drop(tx);
    let _ = writer.await;
}

fn prepared_id(ks: Option<&str>, q: &str) -> Vec<u8> {
    use std::hash::{Hash, Hasher};
    let mut out = Vec::with_capacity(16);
    for seed in [0x9e37u64, 0x7f4a] {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        seed.hash(&mut h);
        ks.hash(&mut h);
        q.hash(&mut h);
        out.extend_from_slice(&h.finish().to_be_bytes());
    }
    out
}

fn check_faults(faults: &Faults, st: &Statement) -> Result<(), Error> {
    let e = if st.is_write() {
        faults.write_error()
    } else {
        faults.read_error()
    };
    match e {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Executes one QUERY/PREPARE/EXECUTE/BATCH request.
pub fn handle(
    engine: &Engine,
    faults: &Faults,
    session: &Mutex<Option<String>>,
    req: Request,
) -> Result<QueryResult, Error> {
    match req {
        Request::Query(q, p) => {
            let st = crate::cql::parse(&q)?;
            check_faults(faults, &st)?;
            let binds = Binds {
                values: &p.values,
                names: p.names.as_deref(),
            };
            let opts = ExecOptions {
                page_size: p.page_size,
                paging_state: p.paging_state,
                default_timestamp: p.default_timestamp,
            };
            engine.execute(&st, session, &binds, &opts)
        }
        Request::Prepare(q) => {
            let st = crate::cql::parse(&q)?;
            let ks = session.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let (variables, pk_indexes, result) = prepare::describe(engine, &st, ks.as_deref())?;
            let id = prepared_id(ks.as_deref(), &q);
            let p = Prepared {
                statement: st,
                keyspace: ks,
                variables: variables.clone(),
                pk_indexes: pk_indexes.clone(),
                result: result.clone(),
            };
            engine
                .prepared
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id.clone(), Arc::new(p));
            Ok(QueryResult::Prepared {
                id,
                variables,
                pk_indexes,
                result,
            })
        }
        Request::Execute(id, p) => {
            let prep = engine
                .prepared
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(&id)
                .cloned()
                .ok_or(Error::Unprepared(id))?;
            check_faults(faults, &prep.statement)?;
            let ks = match &prep.keyspace {
                Some(k) => Some(k.clone()),
                None => session.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            };
            let sess = Mutex::new(ks);
            let binds = Binds {
                values: &p.values,
                names: p.names.as_deref(),
            };
            let opts = ExecOptions {
                page_size: p.page_size,
                paging_state: p.paging_state,
                default_timestamp: p.default_timestamp,
            };
            let r = engine.execute(&prep.statement, &sess, &binds, &opts)?;
            if let (Statement::Use(_), Some(k)) = (
                &prep.statement,
                sess.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            ) {
                *session.lock().unwrap_or_else(|e| e.into_inner()) = Some(k);
            }
            Ok(r)
        }
        Request::Batch(b) => {
            if let Some(e) = faults.write_error() {
                return Err(e);
            }
            let ts = b
                .default_timestamp
                .unwrap_or_else(crate::literal::now_micros);
            let session_ks = session.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let mut stmts = Vec::new();
            for (entry, values) in b.entries {
                let (st, ks) = match entry {
                    BatchEntry::Query(q) => (Arc::new(crate::cql::parse(&q)?), session_ks.clone()),
                    BatchEntry::Prepared(id) => {
                        let prep = engine
                            .prepared
                            .read()
                            .unwrap_or_else(|e| e.into_inner())
                            .get(&id)
                            .cloned()
                            .ok_or(Error::Unprepared(id))?;
                        let ks = prep.keyspace.clone().or(session_ks.clone());
                        (Arc::new(prep.statement.clone()), ks)
                    }
                };
                if !matches!(
                    *st,
                    Statement::Insert { .. } | Statement::Update { .. } | Statement::Delete { .. }
                ) {
                    return Err(Error::Invalid("Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed.".into()));
                }
                stmts.push((st, ks, values));
            }
            engine.stats.writes.fetch_add(1, Ordering::Relaxed);
            // Every statement is checked before any is applied: Cassandra rejects a batch
            // with a bad statement as a whole.
            for phase in [write::Phase::Check, write::Phase::Apply] {
                for (st, ks, values) in &stmts {
                    let binds = Binds {
                        values,
                        names: None,
                    };
                    write::write(engine, st, ks.as_deref(), &binds, Some(ts), phase)?;
                }
            }
            Ok(QueryResult::Void)
        }
        _ => Err(Error::Protocol("Unexpected request".into())),
    }
}
