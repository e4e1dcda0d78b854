//! The sink task: binds records to prepared statements, groups them by table and partition
//! key into UNLOGGED batches of at most `maxNumberOfRecordsInBatch`, writes them with at
//! most `maxConcurrentRequests` requests in flight (each bounded by `queryExecutionTimeout`), and
//! keeps per-key order: a batch never holds two writes to the same row, and the batches of a
//! group in which a row repeats (or of a counter table) run one after the other; the batches
//! of a group of distinct rows run side by side.

use super::clock::Now;
use super::codec::{CodecSettings, CqlType};
use super::config::{SinkConfig, TableConfig};
use super::custom_query;
use super::mapping::Source;
use super::schema;
use super::session::{classify, connect, CqlSession};
use super::statement::{bind, plan, Plan, Write};
use async_trait::async_trait;
use cassink_connector::{ErrorDomain, RecordFailure, SinkError, SinkTask, TaskContext};
use cassink_record::SinkRecord;
use cdrs_tokio::consistency::Consistency;
use cdrs_tokio::error::Error as CdrsError;
use cdrs_tokio::frame::message_batch::BatchType;
use cdrs_tokio::frame::message_error::ErrorType;
use cdrs_tokio::query::{BatchQueryBuilder, PreparedQuery, QueryValues};
use cdrs_tokio::statement::StatementParamsBuilder;
use cdrs_tokio::types::value::Value as Bound;
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

struct Table {
    config: TableConfig,
    plan: Plan,
    insert: PreparedQuery,
    delete: Option<PreparedQuery>,
    consistency: Consistency,
    codecs: Arc<CodecSettings>,
}

pub struct CassandraSinkTask {
    ctx: TaskContext,
    session: Arc<CqlSession>,
    config: SinkConfig,
    tables: Vec<Arc<Table>>,
    by_topic: HashMap<String, Vec<usize>>,
    /// A write failed below the CQL level (connection lost, no node left in the driver's query
    /// plan): the driver may never bring its node back up, so the next put starts a new session.
    reconnect: bool,
    /// Some table maps a column to `now()`.
    maps_now: bool,
}

impl CassandraSinkTask {
    /// Connects, reads every mapped table from `system_schema`, checks the mappings against
    /// them and prepares the statements.
    pub async fn start(
        ctx: TaskContext,
        config: SinkConfig,
    ) -> Result<CassandraSinkTask, SinkError> {
        let session = Arc::new(connect(&config).await?);
        let mut tables = Vec::new();
        let mut by_topic: HashMap<String, Vec<usize>> = HashMap::new();
        let mut codecs: HashMap<String, Arc<CodecSettings>> = HashMap::new();
        for table in &config.tables {
            let plan = match &table.query {
                Some(query) => {
                    let raw = session
                        .prepare_raw(query)
                        .await
                        .map_err(|e| classify(&e, &format!("preparing {query}")))?;
                    custom_query::plan(table, query, &raw.metadata)
                        .map_err(|e| SinkError::misconfigured("ConfigException", e))?
                }
                None => {
                    let schema =
                        schema::read_table(&session, &table.keyspace, &table.table).await?;
                    plan(table, &schema)
                        .map_err(|e| SinkError::misconfigured("ConfigException", e))?
                }
            };
            let (insert, delete) = prepare(&session, &plan).await?;
            let codec = match codecs.get(&table.topic) {
                Some(c) => c.clone(),
                None => {
                    let c = Arc::new(
                        CodecSettings::from_topic_config(&table.topic, &config.raw).map_err(
                            |e| {
                                SinkError::misconfigured(
                                    "ConfigException",
                                    format!("topic.{}.codec: {e}", table.topic),
                                )
                            },
                        )?,
                    );
                    codecs.insert(table.topic.clone(), c.clone());
                    c
                }
            };
            by_topic
                .entry(table.topic.clone())
                .or_default()
                .push(tables.len());
            tables.push(Arc::new(Table {
                consistency: table.consistency.0,
                config: table.clone(),
                plan,
                insert,
                delete,
                codecs: codec,
            }));
            tracing::info!(connector = %ctx.connector, table = %table.name(), "mapping checked and statements prepared");
        }
        let maps_now = tables
            .iter()
            .any(|t| t.plan.columns.iter().any(|c| c.source == Source::Now));
        Ok(CassandraSinkTask {
            ctx,
            session,
            config,
            tables,
            by_topic,
            reconnect: false,
            maps_now,
        })
    }
}

/// Prepares the INSERT (or counter UPDATE) and the DELETE of `plan`.
async fn prepare(
    session: &CqlSession,
    plan: &Plan,
) -> Result<(PreparedQuery, Option<PreparedQuery>), SinkError> {
    let insert = session
        .prepare(&plan.insert)
        .await
        .map_err(|e| classify(&e, &format!("preparing {}", plan.insert)))?;
    let delete = match &plan.delete {
        Some(cql) => Some(
            session
                .prepare(cql)
                .await
                .map_err(|e| classify(&e, &format!("preparing {cql}")))?,
        ),
        None => None,
    };
    Ok((insert, delete))
}

/// One bound statement and the record it came from.
struct Stmt {
    record: usize,
    table: usize,
    write: Write,
    /// Bytes of the full primary key, to keep two writes to one row out of one batch.
    row: Vec<u8>,
}

/// Splits a group (one table and partition key, in record order) into units that may be
/// written side by side, each written in order: the whole group when a row repeats in it or
/// it writes a counter table, else one unit per batch.
fn ordered_units(stmts: Vec<Stmt>, counter: bool, max_batch: usize) -> Vec<Vec<Stmt>> {
    // A group that fits in one batch needs no look at its rows.
    if counter || stmts.len() <= max_batch || repeats_a_row(&stmts) {
        return vec![stmts];
    }
    let mut units = Vec::with_capacity(stmts.len().div_ceil(max_batch));
    let mut pending = stmts.into_iter().peekable();
    while pending.peek().is_some() {
        units.push(pending.by_ref().take(max_batch).collect());
    }
    units
}

fn repeats_a_row(stmts: &[Stmt]) -> bool {
    let mut rows = HashSet::with_capacity(stmts.len());
    stmts.iter().any(|s| !rows.insert(s.row.as_slice()))
}

fn key_bytes(values: &[Bound], count: usize) -> Vec<u8> {
    let len = values
        .iter()
        .take(count)
        .map(|v| match v {
            Bound::Some(b) => 4 + b.len(),
            _ => 0,
        })
        .sum();
    let mut out = Vec::with_capacity(len);
    for v in values.iter().take(count) {
        if let Bound::Some(b) = v {
            out.extend_from_slice(&(b.len() as u32).to_be_bytes());
            out.extend_from_slice(b);
        }
    }
    out
}

/// The outcome of writing one group.
enum GroupResult {
    /// Written, but for `failures`; `rejected` says whether Cassandra refused any of them
    /// (then the task checks the table did not change under it).
    Done {
        failures: Vec<RecordFailure>,
        table: usize,
        rejected: bool,
    },
    /// Cassandra no longer knows a prepared statement of `table` (its schema changed, or the
    /// node restarted): prepare again, then put again.
    Unprepared {
        table: usize,
        error: SinkError,
    },
    Transient(SinkError),
}

#[async_trait]
impl SinkTask for CassandraSinkTask {
    async fn put(&mut self, records: &[SinkRecord]) -> Result<Vec<RecordFailure>, SinkError> {
        if self.reconnect {
            tracing::info!(connector = %self.ctx.connector, task = self.ctx.task, "reconnecting to Cassandra");
            *self = CassandraSinkTask::start(self.ctx.clone(), self.config.clone()).await?;
        }
        let now = chrono::Utc::now().timestamp_micros();
        // One now() per record (a fresh timeuuid each), kept for the put so that a record
        // bound again binds the same values.
        let nows: Vec<Now> = if self.maps_now {
            records.iter().map(|_| Now::at(now)).collect()
        } else {
            Vec::new()
        };
        let mut failures = Vec::new();
        // Group by (table, partition key), keeping record order inside a group.
        let mut groups: BTreeMap<(usize, Vec<u8>), Vec<Stmt>> = BTreeMap::new();
        for (i, record) in records.iter().enumerate() {
            let Some(targets) = self.by_topic.get(&*record.topic) else {
                failures.push(RecordFailure {
                    index: i,
                    error: SinkError::misconfigured(
                        "ConfigException",
                        format!(
                            "record {}: no table is mapped for topic {} (add \
                             topic.{}.<keyspace>.<table>.mapping)",
                            record.position, record.topic, record.topic
                        ),
                    ),
                });
                continue;
            };
            for &t in targets {
                let table = &self.tables[t];
                let record_now = nows.get(i).copied().unwrap_or(Now::time_only(now));
                match bind(
                    record,
                    &table.config,
                    &table.plan,
                    &table.codecs,
                    &record_now,
                ) {
                    Ok(write) => {
                        let pk_count = table
                            .plan
                            .columns
                            .iter()
                            .filter(|c| c.partition_key)
                            .count();
                        let key_count = table.plan.columns.iter().filter(|c| c.primary_key).count();
                        let (partition, row) = match &write {
                            Write::Upsert(v) if table.plan.counter => {
                                let non_pk = v.len() - key_count;
                                (
                                    key_bytes(&v[non_pk..], pk_count),
                                    key_bytes(&v[non_pk..], key_count),
                                )
                            }
                            Write::Upsert(v) => (key_bytes(v, pk_count), key_bytes(v, key_count)),
                            Write::Delete(v) => {
                                (key_bytes(&v[1..], pk_count), key_bytes(&v[1..], key_count))
                            }
                        };
                        groups.entry((t, partition)).or_default().push(Stmt {
                            record: i,
                            table: t,
                            write,
                            row,
                        });
                    }
                    Err(message) => failures.push(RecordFailure {
                        index: i,
                        error: SinkError::bad_record("DataException", message),
                    }),
                }
            }
        }
        let ctx = WriteContext {
            session: &self.session,
            tables: &self.tables,
            records,
            now,
            nows: &nows,
            max_batch: self.config.max_batch,
            timeout: self.config.query_timeout,
        };
        let units = groups.into_values().flat_map(|stmts| {
            let counter = stmts
                .first()
                .is_some_and(|s| self.tables[s.table].plan.counter);
            ordered_units(stmts, counter, self.config.max_batch)
        });
        let results: Vec<GroupResult> = futures::stream::iter(units)
            .map(|stmts| write_group(&ctx, stmts))
            .buffer_unordered(self.config.max_concurrent_requests)
            .collect()
            .await;
        let mut rejecting: Vec<usize> = Vec::new();
        for r in results {
            match r {
                GroupResult::Done {
                    failures: f,
                    table,
                    rejected,
                } => {
                    failures.extend(f);
                    if rejected && !rejecting.contains(&table) {
                        rejecting.push(table);
                    }
                }
                // Nothing of this put can be assumed written: the runtime puts it again.
                GroupResult::Unprepared { table, error } => {
                    self.prepare_again(table).await?;
                    return Err(SinkError::outage(
                        "UnpreparedException",
                        format!("{} (prepared again)", error.message),
                    ));
                }
                GroupResult::Transient(e) => {
                    self.reconnect = e.domain == ErrorDomain::ConnectionLost;
                    return Err(e);
                }
            }
        }
        // A wrong config or a changed table fails the task rather than every record.
        if let Some(f) = failures
            .iter()
            .find(|f| f.error.domain == ErrorDomain::Misconfigured)
        {
            return Err(f.error.clone());
        }
        for t in rejecting {
            self.check_table_unchanged(t).await?;
        }
        failures.sort_by_key(|f| f.index);
        Ok(failures)
    }

    async fn stop(&mut self) {
        tracing::info!(connector = %self.ctx.connector, task = self.ctx.task, "closing the Cassandra session");
    }
}

impl CassandraSinkTask {
    /// Prepares the statements of table `t` again, once its schema is checked: a table that
    /// gained a column goes on, one that lost a mapped column or was dropped fails the task.
    async fn prepare_again(&mut self, t: usize) -> Result<(), SinkError> {
        self.check_table_unchanged(t).await?;
        let Some(table) = self.tables.get(t) else {
            return Ok(());
        };
        let (insert, delete) = match prepare(&self.session, &table.plan).await {
            Ok(statements) => statements,
            Err(e) if e.is_retriable() => return Err(e),
            Err(e) => {
                return Err(SinkError::misconfigured(
                    "InvalidQueryException",
                    format!(
                        "table {} changed since the task started: {}; fix the table or the mapping, then restart the task",
                        table.config.name(),
                        e.message
                    ),
                ))
            }
        };
        tracing::info!(connector = %self.ctx.connector, table = %table.config.name(), "statements prepared again");
        let renewed = Table {
            config: table.config.clone(),
            plan: table.plan.clone(),
            insert,
            delete,
            consistency: table.consistency,
            codecs: table.codecs.clone(),
        };
        self.tables[t] = Arc::new(renewed);
        Ok(())
    }

    /// After Cassandra rejected records of table `t`: whether the table still is the one the
    /// statements were planned and prepared for. A dropped table, or a mapped column dropped
    /// or retyped, is a misconfiguration (the task fails and says so), not a bad record: it
    /// must not send every following record to the dead-letter queue.
    async fn check_table_unchanged(&self, t: usize) -> Result<(), SinkError> {
        let Some(table) = self.tables.get(t) else {
            return Ok(());
        };
        if table.config.query.is_some() {
            return Ok(());
        }
        let name = table.config.name();
        let changed = |why: String| {
            SinkError::misconfigured(
                "InvalidQueryException",
                format!("table {name} changed since the task started: {why}; fix the table or the mapping, then restart the task"),
            )
        };
        let schema =
            match schema::read_table(&self.session, &table.config.keyspace, &table.config.table)
                .await
            {
                Ok(schema) => schema,
                Err(e) if e.is_retriable() => return Err(e),
                Err(e) => return Err(changed(e.message)),
            };
        let now = plan(&table.config, &schema).map_err(changed)?;
        let columns = |p: &Plan| -> Vec<(String, CqlType)> {
            p.columns
                .iter()
                .map(|c| (c.name.clone(), c.ty.clone()))
                .collect()
        };
        if now.insert != table.plan.insert || columns(&now) != columns(&table.plan) {
            return Err(changed(
                "its columns no longer match the mapping the statements were prepared for".into(),
            ));
        }
        Ok(())
    }
}

/// What writing the groups of one put needs.
struct WriteContext<'a> {
    session: &'a CqlSession,
    tables: &'a [Arc<Table>],
    records: &'a [SinkRecord],
    /// The put's time and each record's `now()`, so a record bound again binds the same
    /// values.
    now: i64,
    nows: &'a [Now],
    max_batch: usize,
    timeout: std::time::Duration,
}

/// Splits a group into batches (at most `max_batch` statements, never two writes to one row)
/// and writes them one after the other.
async fn write_group(ctx: &WriteContext<'_>, stmts: Vec<Stmt>) -> GroupResult {
    let mut failures = Vec::new();
    let mut rejected = false;
    let table = stmts.first().map(|s| s.table).unwrap_or_default();
    let mut batch: Vec<Stmt> = Vec::new();
    let counter = stmts
        .first()
        .is_some_and(|s| ctx.tables[s.table].plan.counter);
    let mut pending = stmts.into_iter().peekable();
    while let Some(stmt) = pending.next() {
        batch.push(stmt);
        let full = batch.len() >= ctx.max_batch
            || counter
            || pending
                .peek()
                .is_none_or(|next| batch.iter().any(|s| s.row == next.row));
        if full {
            match write_batch(ctx, &mut batch).await {
                Ok(()) => {}
                Err(BatchError::Unprepared(error)) => {
                    return GroupResult::Unprepared { table, error }
                }
                Err(BatchError::Failed(e)) if e.is_retriable() => return GroupResult::Transient(e),
                Err(BatchError::Failed(e)) if batch.len() == 1 => {
                    rejected = true;
                    failures.push(RecordFailure {
                        index: batch[0].record,
                        error: e,
                    })
                }
                Err(_) => {
                    // Find which records Cassandra rejects: write them one by one. The batch
                    // took their values, so each is bound again (same record, same now()).
                    for one in batch.iter_mut() {
                        let table = &ctx.tables[one.table];
                        let record = &ctx.records[one.record];
                        let record_now = ctx
                            .nows
                            .get(one.record)
                            .copied()
                            .unwrap_or(Now::time_only(ctx.now));
                        let rebound = bind(
                            record,
                            &table.config,
                            &table.plan,
                            &table.codecs,
                            &record_now,
                        );
                        let written = match rebound {
                            Ok(write) => {
                                one.write = write;
                                let written = write_batch(ctx, std::slice::from_mut(one)).await;
                                rejected |= written.is_err();
                                written
                            }
                            Err(message) => Err(BatchError::Failed(SinkError::bad_record(
                                "DataException",
                                message,
                            ))),
                        };
                        let written = match written {
                            Err(BatchError::Unprepared(error)) => {
                                return GroupResult::Unprepared {
                                    table: one.table,
                                    error,
                                }
                            }
                            Err(BatchError::Failed(e)) => Err(e),
                            Ok(()) => Ok(()),
                        };
                        match written {
                            Ok(()) => {}
                            Err(e) if e.is_retriable() => return GroupResult::Transient(e),
                            Err(e) => failures.push(RecordFailure {
                                index: one.record,
                                error: e,
                            }),
                        }
                    }
                }
            }
            batch.clear();
        }
    }
    GroupResult::Done {
        failures,
        table,
        rejected,
    }
}

/// Why a batch was not written.
enum BatchError {
    /// Cassandra lost the prepared statement: prepare again (not a failure of the records).
    Unprepared(SinkError),
    Failed(SinkError),
}

/// Writes `batch` (a single statement alone, else an UNLOGGED batch). The statements' bound
/// values move into the request: they are spent afterwards, whatever the outcome.
async fn write_batch(ctx: &WriteContext<'_>, batch: &mut [Stmt]) -> Result<(), BatchError> {
    let tables = ctx.tables;
    let table = &tables[batch[0].table];
    let statement = |s: &mut Stmt| -> (&PreparedQuery, QueryValues) {
        let t = &tables[s.table];
        match &mut s.write {
            Write::Upsert(v) => (&t.insert, QueryValues::SimpleValues(std::mem::take(v))),
            Write::Delete(v) => (
                t.delete.as_ref().unwrap_or(&t.insert),
                QueryValues::SimpleValues(std::mem::take(v)),
            ),
        }
    };
    let request = async {
        if let [single] = batch {
            let (prepared, values) = statement(single);
            let params = StatementParamsBuilder::new()
                .with_consistency(table.consistency)
                .with_values(values)
                .idempotent(!table.plan.counter)
                .build();
            ctx.session
                .exec_with_params(prepared, &params)
                .await
                .map(|_| ())
        } else {
            let mut builder = BatchQueryBuilder::new()
                .with_batch_type(BatchType::Unlogged)
                .with_consistency(table.consistency);
            for s in batch.iter_mut() {
                let (prepared, values) = statement(s);
                builder = builder.add_query_prepared(prepared, values);
            }
            let query = builder.build()?;
            ctx.session.batch(query).await.map(|_| ())
        }
    };
    let timeout = ctx.timeout;
    match tokio::time::timeout(timeout, request).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            let error = classify(&e, &format!("writing to {}", table.config.name()));
            match e {
                CdrsError::Server { body, .. } if matches!(body.ty, ErrorType::Unprepared(_)) => {
                    Err(BatchError::Unprepared(error))
                }
                _ => Err(BatchError::Failed(error)),
            }
        }
        Err(_) => Err(BatchError::Failed(SinkError::outage(
            "DriverTimeoutException",
            format!(
                "writing to {}: no answer within queryExecutionTimeout ({timeout:?})",
                table.config.name()
            ),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Statements of one partition, in record order, writing the rows named.
    fn group(rows: &[u8]) -> Vec<Stmt> {
        rows.iter()
            .enumerate()
            .map(|(record, row)| Stmt {
                record,
                table: 0,
                write: Write::Upsert(Vec::new()),
                row: vec![*row],
            })
            .collect()
    }

    fn records(units: &[Vec<Stmt>]) -> Vec<Vec<usize>> {
        units
            .iter()
            .map(|u| u.iter().map(|s| s.record).collect())
            .collect()
    }

    #[test]
    fn distinct_rows_of_a_partition_are_written_side_by_side_a_batch_each() {
        let units = ordered_units(group(&[1, 2, 3, 4, 5]), false, 2);
        assert_eq!(records(&units), [vec![0, 1], vec![2, 3], vec![4]]);
    }

    #[test]
    fn a_partition_in_which_a_row_repeats_is_written_in_record_order() {
        let units = ordered_units(group(&[1, 2, 3, 1, 5]), false, 2);
        assert_eq!(records(&units), [vec![0, 1, 2, 3, 4]]);
    }

    #[test]
    fn counter_updates_of_a_partition_are_written_in_record_order() {
        let units = ordered_units(group(&[1, 2, 3]), true, 1);
        assert_eq!(records(&units), [vec![0, 1, 2]]);
    }
}
