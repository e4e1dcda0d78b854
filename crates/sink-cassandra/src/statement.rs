//! Turning one record into the bound values of one table's statement: the prepared INSERT
//! (`USING TIMESTAMP ?`, plus `AND TTL ?` when a TTL is configured or mapped), the DELETE used
//! for deletes, or the counter UPDATE.

use super::clock::Now;
use super::codec::{self, CodecSettings, CqlType};
use super::config::TableConfig;
use super::mapping::{FieldHint, Lookup, Source, TIMESTAMP_COLUMN, TTL_COLUMN};
use super::schema::{Kind, TableSchema};
use cassink_record::{SinkRecord, Value};
use cdrs_tokio::types::value::Value as Bound;

/// A mapped column in statement order.
#[derive(Debug, Clone)]
pub struct BoundColumn {
    pub name: String,
    pub ty: CqlType,
    pub source: Source,
    pub primary_key: bool,
    pub partition_key: bool,
    /// Where the column's field was in the last record bound.
    pub hint: FieldHint,
}

/// The statements of one table, as CQL text (prepared by the writer).
#[derive(Debug, Clone)]
pub struct Plan {
    pub columns: Vec<BoundColumn>,
    pub insert: String,
    /// `DELETE ... WHERE pk` when deletes are possible (mapping covers every column).
    pub delete: Option<String>,
    pub counter: bool,
    /// A user's `.query`: values are bound in marker order, nothing appended.
    pub custom: bool,
    /// The INSERT ends with `AND TTL ?` (a TTL is configured or `__ttl` mapped).
    pub binds_ttl: bool,
}

/// What a record becomes for one table.
#[derive(Debug, Clone)]
pub enum Write {
    /// Values of `Plan::columns`, then the write timestamp and TTL (insert) or nothing
    /// (counter update: values reordered by the plan).
    Upsert(Vec<Bound>),
    /// Primary key values then the write timestamp first.
    Delete(Vec<Bound>),
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Checks the mapping against the live table and builds the statements.
pub fn plan(table: &TableConfig, schema: &TableSchema) -> Result<Plan, String> {
    let name = table.name();
    let mut columns = Vec::new();
    for entry in table.mapping.columns() {
        let Some(col) = schema.column(&entry.column) else {
            let known: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
            return Err(format!(
                "mapping for table {name} maps column {}, which the table does not have (columns: {})",
                entry.column,
                known.join(", ")
            ));
        };
        columns.push(BoundColumn {
            name: col.name.clone(),
            ty: col.ty.clone(),
            source: entry.source.clone(),
            primary_key: matches!(col.kind, Kind::PartitionKey | Kind::Clustering),
            partition_key: col.kind == Kind::PartitionKey,
            hint: FieldHint::default(),
        });
    }
    for pk in schema.primary_key() {
        if !columns.iter().any(|c| c.name == pk.name) {
            return Err(format!("mapping for table {name} does not map primary key column {}: every primary key column must be mapped", pk.name));
        }
    }
    // Partition key columns first, in key order, so the writer can group by them.
    columns.sort_by_key(|c| {
        let col = schema.column(&c.name);
        (col.map(|x| x.kind), col.map(|x| x.position))
    });
    let table_ref = format!("{}.{}", quote(&schema.keyspace), quote(&schema.table));
    let counter = schema.is_counter_table();
    let where_pk: Vec<String> = columns
        .iter()
        .filter(|c| c.primary_key)
        .map(|c| format!("{} = ?", quote(&c.name)))
        .collect();
    // No TTL unless one is configured or mapped: binding one (even 0) would override the
    // table's default_time_to_live, which DataStax leaves to apply.
    let binds_ttl = binds_ttl(table);
    if counter {
        // Cassandra refuses both on counter updates; DataStax refuses them at start-up.
        if binds_ttl {
            return Err(format!("table {name} is a counter table, and counters cannot have a TTL: remove topic.{}.{}.{}.ttl and any __ttl mapping", table.topic, table.keyspace, table.table));
        }
        if table.mapping.special(TIMESTAMP_COLUMN).is_some() {
            return Err(format!("table {name} is a counter table, and counter updates cannot have a write timestamp: remove the __timestamp mapping of topic.{}.{}.{}.mapping", table.topic, table.keyspace, table.table));
        }
    }
    let insert = if counter {
        let sets: Vec<String> = columns
            .iter()
            .filter(|c| !c.primary_key)
            .map(|c| format!("{0} = {0} + ?", quote(&c.name)))
            .collect();
        format!(
            "UPDATE {table_ref} SET {} WHERE {}",
            sets.join(", "),
            where_pk.join(" AND ")
        )
    } else {
        let names: Vec<String> = columns.iter().map(|c| quote(&c.name)).collect();
        let marks = vec!["?"; columns.len()].join(", ");
        let ttl = if binds_ttl { " AND TTL ?" } else { "" };
        format!(
            "INSERT INTO {table_ref} ({}) VALUES ({marks}) USING TIMESTAMP ?{ttl}",
            names.join(", ")
        )
    };
    let covers_all = schema
        .columns
        .iter()
        .all(|c| columns.iter().any(|m| m.name == c.name));
    let delete = (table.deletes_enabled && covers_all && !counter).then(|| {
        format!(
            "DELETE FROM {table_ref} USING TIMESTAMP ? WHERE {}",
            where_pk.join(" AND ")
        )
    });
    Ok(Plan {
        columns,
        insert,
        delete,
        counter,
        custom: false,
        binds_ttl,
    })
}

/// Why a record cannot be written to a table (permanent: retrying will not help).
pub fn record_error(
    record: &SinkRecord,
    table: &TableConfig,
    message: impl std::fmt::Display,
) -> String {
    format!(
        "record {} cannot be written to {}: {message}",
        record.position,
        table.name()
    )
}

/// Binds `record` for `plan`. `now` is the record's `now()`, and its write time when the
/// record has no timestamp.
pub fn bind(
    record: &SinkRecord,
    table: &TableConfig,
    plan: &Plan,
    codecs: &CodecSettings,
    now: &Now,
) -> Result<Write, String> {
    let mut values = Vec::with_capacity(plan.columns.len() + 2);
    let mut only_pk_present = true;
    let tombstone = record.value.is_none();
    const NULL: &Value = &Value::Null;
    for col in &plan.columns {
        let now_value;
        let value = match &col.source {
            Source::Now => {
                now_value = match col.ty {
                    CqlType::TimeUuid => Value::Uuid(now.timeuuid),
                    _ => Value::Timestamp(now.micros),
                };
                &now_value
            }
            source => match source.lookup_near(record, &col.hint) {
                Lookup::Found(v) => v,
                // A tombstone has no value fields: they count as null for deletes.
                Lookup::Missing { .. } if tombstone && !col.primary_key => NULL,
                Lookup::Missing { at, available } => {
                    return Err(record_error(
                        record,
                        table,
                        format!(
                        "column {} is mapped to {source}, but the record has no {at} (fields: {})",
                        col.name,
                        available.join(", ")
                    ),
                    ))
                }
            },
        };
        if col.primary_key && value.is_null() {
            return Err(record_error(
                record,
                table,
                format!("primary key column {} is null ({})", col.name, col.source),
            ));
        }
        if !col.primary_key && !value.is_null() {
            only_pk_present = false;
        }
        let bytes = codec::encode(value, &col.ty, codecs).map_err(|e| {
            record_error(
                record,
                table,
                format!("column {} ({}): {e}", col.name, col.source),
            )
        })?;
        values.push(match bytes {
            Some(b) => Bound::Some(b),
            None if table.null_to_unset => Bound::NotSet,
            None => Bound::Null,
        });
    }
    let timestamp = write_timestamp(record, table, now.micros)?;
    if plan.delete.is_some() && only_pk_present {
        let mut pk: Vec<Bound> = vec![Bound::Some(timestamp.to_be_bytes().to_vec())];
        pk.extend(
            plan.columns
                .iter()
                .zip(&values)
                .filter(|(c, _)| c.primary_key)
                .map(|(_, v)| v.clone()),
        );
        return Ok(Write::Delete(pk));
    }
    if tombstone {
        return Err(record_error(
            record,
            table,
            "the record is a tombstone (null value) but deletes are not possible: set deletesEnabled=true and map every column of the table",
        ));
    }
    if plan.custom {
        return Ok(Write::Upsert(values));
    }
    if plan.counter {
        let mut ordered: Vec<Bound> = plan
            .columns
            .iter()
            .zip(&values)
            .filter(|(c, _)| !c.primary_key)
            .map(|(_, v)| v.clone())
            .collect();
        ordered.extend(
            plan.columns
                .iter()
                .zip(values)
                .filter(|(c, _)| c.primary_key)
                .map(|(_, v)| v),
        );
        return Ok(Write::Upsert(ordered));
    }
    values.push(Bound::Some(timestamp.to_be_bytes().to_vec()));
    if plan.binds_ttl {
        values.push(match ttl_seconds(record, table)? {
            Some(seconds) => Bound::Some(seconds.to_be_bytes().to_vec()),
            // Unset: the table's default_time_to_live applies to this record.
            None => Bound::NotSet,
        });
    }
    Ok(Write::Upsert(values))
}

fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Int8(x) => Some(*x as i64),
        Value::Int16(x) => Some(*x as i64),
        Value::Int32(x) => Some(*x as i64),
        Value::Int64(x) => Some(*x),
        Value::Float64(x) if x.fract() == 0.0 => Some(*x as i64),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The write time in µs: `__timestamp` in `timestampTimeUnit`, else the Kafka record timestamp
/// (DataStax behaviour), else now.
fn write_timestamp(
    record: &SinkRecord,
    table: &TableConfig,
    now_micros: i64,
) -> Result<i64, String> {
    if let Some(source) = table.mapping.special(TIMESTAMP_COLUMN) {
        return match source.lookup(record) {
            Lookup::Found(v) => {
                let n = integer(v).ok_or_else(|| {
                    record_error(
                        record,
                        table,
                        format!("__timestamp ({source}) is not an integer: {v:?}"),
                    )
                })?;
                table.timestamp_unit.to_micros(n).ok_or_else(|| {
                    record_error(
                        record,
                        table,
                        format!(
                            "__timestamp ({source}) {n} {} is out of range: a write time is at most {} microseconds",
                            table.timestamp_unit,
                            i64::MAX
                        ),
                    )
                })
            }
            Lookup::Missing { at, .. } => Err(record_error(
                record,
                table,
                format!("__timestamp is mapped to {source}, but the record has no {at}"),
            )),
        };
    }
    match record.timestamp_ms.filter(|t| *t >= 0) {
        None => Ok(now_micros),
        Some(ms) => ms.checked_mul(1000).ok_or_else(|| {
            record_error(
                record,
                table,
                format!(
                    "the record timestamp {ms} ms is out of range for a write time in microseconds"
                ),
            )
        }),
    }
}

/// The largest TTL CQL accepts: 20 years, in seconds.
pub const MAX_TTL_SECONDS: i64 = 630_720_000;

/// Whether the INSERT binds a TTL: `ttl` is configured or `__ttl` is mapped.
fn binds_ttl(table: &TableConfig) -> bool {
    table.ttl_seconds.is_some() || table.mapping.special(TTL_COLUMN).is_some()
}

/// The TTL of `record` in seconds: `__ttl` when mapped and present, else the configured
/// `ttl`; `None` leaves the table's default to apply. Negative values mean no TTL (0).
fn ttl_seconds(record: &SinkRecord, table: &TableConfig) -> Result<Option<i32>, String> {
    let mut seconds = table.ttl_seconds;
    if let Some(source) = table.mapping.special(TTL_COLUMN) {
        if let Lookup::Found(v) = source.lookup(record) {
            if !v.is_null() {
                let n = integer(v).ok_or_else(|| {
                    record_error(
                        record,
                        table,
                        format!("__ttl ({source}) is not an integer: {v:?}"),
                    )
                })?;
                seconds = Some(table.ttl_unit.to_seconds(n).ok_or_else(|| {
                    record_error(
                        record,
                        table,
                        format!(
                            "__ttl ({source}) {n} {} is beyond Cassandra's maximum TTL of {MAX_TTL_SECONDS} s (20 years)",
                            table.ttl_unit
                        ),
                    )
                })?);
            }
        }
    }
    match seconds {
        None => Ok(None),
        Some(s) if s > MAX_TTL_SECONDS => Err(record_error(
            record,
            table,
            format!("TTL of {s} s is beyond Cassandra's maximum of {MAX_TTL_SECONDS} s (20 years)"),
        )),
        Some(s) => Ok(Some(s.max(0) as i32)),
    }
}
