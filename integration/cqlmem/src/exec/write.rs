//! INSERT, UPDATE and DELETE: turning statements into cell writes and tombstones.

use std::sync::atomic::Ordering;

use crate::cql::ast::*;
use crate::error::{invalid, Error, Result};
use crate::literal::{eval, now_micros, Binds, Val};
use crate::protocol::QueryResult;
use crate::storage::*;
use crate::types::CqlType;

use super::conditions::{applied, check_condition, existing_row};
use super::{now_secs, Engine, SYSTEM_KEYSPACES};

/// Candidate values of each of `cols` from `=`/`IN` relations (None if unrestricted).
pub fn key_candidates(
    schema: &TableSchema,
    cols: &[usize],
    wheres: &[Relation],
    binds: &Binds,
) -> Result<Vec<Option<Vec<Vec<u8>>>>> {
    let mut out = Vec::new();
    for &ci in cols {
        let col = &schema.columns[ci];
        let rel = wheres.iter().find(|r| {
            r.columns.len() == 1 && r.columns[0] == col.name && matches!(r.op, Op::Eq | Op::In)
        });
        let vals = match rel {
            None => None,
            Some(r) => Some(relation_values(r, col, binds)?),
        };
        out.push(vals);
    }
    Ok(out)
}

/// The values an `=` or `IN` relation names for `col`.
pub fn relation_values(r: &Relation, col: &Column, binds: &Binds) -> Result<Vec<Vec<u8>>> {
    let one = |t: &Term, ty: &CqlType| -> Result<Vec<u8>> {
        match eval(t, ty, binds)? {
            Val::Value(v) => Ok(v),
            Val::Null => invalid(format!(
                "Invalid null value in condition for column {}",
                col.name
            )),
            Val::Unset => invalid(format!("Invalid unset value for column {}", col.name)),
        }
    };
    match (&r.op, &r.value) {
        (Op::In, RelValue::List(ts)) => ts.iter().map(|t| one(t, &col.ty)).collect(),
        (Op::In, RelValue::One(t)) => {
            let lt = CqlType::List(Box::new(col.ty.clone()));
            let b = one(t, &lt)?;
            Ok(crate::types::split_elements(&b, None)?
                .into_iter()
                .flatten()
                .map(|e| e.to_vec())
                .collect())
        }
        (_, RelValue::One(t)) => Ok(vec![one(t, &col.ty)?]),
        (_, RelValue::List(_)) => invalid("Invalid relation"),
    }
}

pub fn make_key(schema: &TableSchema, cols: &[usize], vals: &[Vec<u8>]) -> Key {
    Key(cols
        .iter()
        .zip(vals)
        .map(|(&ci, v)| {
            let c = &schema.columns[ci];
            KeyPart {
                code: key_code(&c.ty),
                desc: c.desc,
                bytes: v.clone(),
            }
        })
        .collect())
}

/// Cartesian product of per-column candidates, as keys.
pub fn product(schema: &TableSchema, cols: &[usize], cands: &[Vec<Vec<u8>>]) -> Vec<Key> {
    let mut acc: Vec<Vec<Vec<u8>>> = vec![vec![]];
    for c in cands {
        let mut next = Vec::with_capacity(acc.len() * c.len());
        for a in &acc {
            for v in c {
                let mut n = a.clone();
                n.push(v.clone());
                next.push(n);
            }
        }
        acc = next;
    }
    let mut keys: Vec<Key> = acc.iter().map(|v| make_key(schema, cols, v)).collect();
    keys.sort();
    keys.dedup();
    keys
}

fn full_keys(
    schema: &TableSchema,
    cols: &[usize],
    wheres: &[Relation],
    binds: &Binds,
    what: &str,
) -> Result<Vec<Key>> {
    let cands = key_candidates(schema, cols, wheres, binds)?;
    let mut missing = Vec::new();
    let mut full = Vec::new();
    for (i, c) in cands.into_iter().enumerate() {
        match c {
            Some(v) => full.push(v),
            None => missing.push(schema.columns[cols[i]].name.clone()),
        }
    }
    if !missing.is_empty() {
        return invalid(format!("Some {what} are missing: {}", missing.join(", ")));
    }
    Ok(product(schema, cols, &full))
}

fn int_term(t: &Option<Term>, ty: CqlType, binds: &Binds) -> Result<Option<i64>> {
    match t {
        None => Ok(None),
        Some(t) => match eval(t, &ty, binds)? {
            Val::Value(v) => Ok(Some(crate::types::int_of(&v))),
            Val::Unset => Ok(None),
            Val::Null => invalid("Invalid null value of timestamp or TTL"),
        },
    }
}

pub fn batch_timestamp(using: &Using, binds: &Binds, default_ts: Option<i64>) -> Result<i64> {
    Ok(int_term(&using.timestamp, CqlType::Bigint, binds)?
        .or(default_ts)
        .unwrap_or_else(now_micros))
}

struct WriteCtx {
    ts: i64,
    ttl: i32,
    expire: Option<i64>,
}

fn write_ctx(using: &Using, binds: &Binds, default_ts: Option<i64>) -> Result<WriteCtx> {
    let ts = batch_timestamp(using, binds, default_ts)?;
    let ttl = int_term(&using.ttl, CqlType::Int, binds)?.unwrap_or(0);
    if ttl < 0 {
        return invalid(format!(
            "A TTL must be greater or equal to 0, but was {ttl}"
        ));
    }
    if ttl > 630_720_000 {
        return invalid(format!(
            "ttl is too large. requested ({ttl}) maximum (630720000)"
        ));
    }
    Ok(WriteCtx {
        ts,
        ttl: ttl as i32,
        expire: (ttl > 0).then(|| now_secs() + ttl),
    })
}

pub fn column<'a>(schema: &'a TableSchema, name: &str) -> Result<(usize, &'a Column)> {
    schema.column(name).ok_or_else(|| {
        Error::Invalid(format!(
            "Undefined column name {name} in table {}.{}",
            schema.keyspace, schema.name
        ))
    })
}

/// Whether a write is applied or only checked. A batch checks every statement before it
/// applies any, so a statement Cassandra rejects leaves the whole batch unapplied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Check,
    Apply,
}

/// Executes (or with [`Phase::Check`], validates) one INSERT/UPDATE/DELETE; `default_ts` is
/// the batch's or request's timestamp.
pub fn write(
    engine: &Engine,
    st: &Statement,
    ks: Option<&str>,
    binds: &Binds,
    default_ts: Option<i64>,
    phase: Phase,
) -> Result<QueryResult> {
    let table_ref = match st {
        Statement::Insert { table, .. }
        | Statement::Update { table, .. }
        | Statement::Delete { table, .. } => table,
        _ => return invalid("not a write"),
    };
    let table = engine.table(table_ref, ks)?;
    let schema = &table.schema;
    if SYSTEM_KEYSPACES.contains(&schema.keyspace.as_str()) {
        return Err(Error::Unauthorized(format!(
            "{} keyspace is not user-modifiable.",
            schema.keyspace
        )));
    }
    let now = now_secs();
    let result = match st {
        Statement::Insert {
            columns,
            values,
            json,
            if_not_exists,
            using,
            ..
        } => {
            if json.is_some() {
                return invalid("INSERT JSON is not supported by cqlmem");
            }
            if schema.is_counter() {
                return invalid(
                    "INSERT statements are not allowed on counter tables, use UPDATE instead",
                );
            }
            let cx = write_ctx(using, binds, default_ts)?;
            let mut rels = Vec::new();
            let mut cells = Vec::new();
            for (name, term) in columns.iter().zip(values) {
                let (ci, col) = column(schema, name)?;
                match col.kind {
                    Kind::PartitionKey | Kind::Clustering => rels.push(Relation {
                        columns: vec![name.clone()],
                        op: Op::Eq,
                        value: RelValue::One(term.clone()),
                    }),
                    _ => {
                        let v = eval(term, &col.ty, binds)?;
                        if let Some(w) = put(v, &cx) {
                            cells.push((ci as u16, col.kind, w));
                        }
                    }
                }
            }
            let pks = full_keys(schema, &schema.pk, &rels, binds, "partition key parts")?;
            let cks = full_keys(schema, &schema.ck, &rels, binds, "clustering keys")?;
            let (Some(pk), Some(ck)) = (pks.into_iter().next(), cks.into_iter().next()) else {
                return invalid("Invalid primary key");
            };
            if phase == Phase::Check {
                return Ok(QueryResult::Void);
            }
            let mut data = table.data.write().unwrap_or_else(|e| e.into_inner());
            if *if_not_exists {
                if let Some(ex) = existing_row(schema, &data, &pk, &ck) {
                    return Ok(applied(schema, false, Some(ex)));
                }
            }
            let part = data.partitions.entry(pk).or_default();
            let ptomb = part.tomb;
            for (ci, kind, w) in cells.iter().filter(|c| c.1 == Kind::Static) {
                let _ = kind;
                part.statics.write(*ci, w.clone(), ptomb, now);
            }
            let row = part.rows.entry(ck).or_default();
            row.set_marker(Marker {
                ts: cx.ts,
                expire: cx.expire,
                ttl: cx.ttl,
            });
            for (ci, _, w) in cells.into_iter().filter(|c| c.1 != Kind::Static) {
                row.write(ci, w, ptomb, now);
            }
            if *if_not_exists {
                applied(schema, true, None)
            } else {
                QueryResult::Void
            }
        }
        Statement::Update {
            using,
            assignments,
            wheres,
            condition,
            ..
        } => {
            let cx = write_ctx(using, binds, default_ts)?;
            let mut cells = Vec::new();
            for a in assignments {
                let name = match a {
                    Assignment::Set(c, _)
                    | Assignment::Add(c, _)
                    | Assignment::Sub(c, _)
                    | Assignment::Prepend(c, _)
                    | Assignment::Index(c, _, _) => c,
                };
                let (ci, col) = column(schema, name)?;
                if matches!(col.kind, Kind::PartitionKey | Kind::Clustering) {
                    return invalid(format!("PRIMARY KEY part {name} found in SET part"));
                }
                if let Some(w) = assignment(a, col, binds, &cx)? {
                    cells.push((ci as u16, col.kind, w));
                }
            }
            let pks = full_keys(schema, &schema.pk, wheres, binds, "partition key parts")?;
            let only_static = cells.iter().all(|c| c.1 == Kind::Static) && !cells.is_empty();
            let cks = if only_static
                && schema.ck.iter().all(|&c| {
                    !wheres
                        .iter()
                        .any(|r| r.columns.contains(&schema.columns[c].name))
                }) {
                vec![]
            } else {
                full_keys(schema, &schema.ck, wheres, binds, "clustering keys")?
            };
            if phase == Phase::Check {
                return Ok(QueryResult::Void);
            }
            let mut data = table.data.write().unwrap_or_else(|e| e.into_inner());
            if let Some(res) = check_condition(schema, &data, condition, &pks, &cks, binds)? {
                return Ok(res);
            }
            for pk in &pks {
                let part = data.partitions.entry(pk.clone()).or_default();
                let ptomb = part.tomb;
                for (ci, _, w) in cells.iter().filter(|c| c.1 == Kind::Static) {
                    part.statics.write(*ci, w.clone(), ptomb, now);
                }
                for ck in &cks {
                    let row = part.rows.entry(ck.clone()).or_default();
                    for (ci, _, w) in cells.iter().filter(|c| c.1 != Kind::Static) {
                        row.write(*ci, w.clone(), ptomb, now);
                    }
                }
            }
            if matches!(condition, Condition::None) {
                QueryResult::Void
            } else {
                applied(schema, true, None)
            }
        }
        Statement::Delete {
            columns,
            using,
            wheres,
            condition,
            ..
        } => {
            if using.ttl.is_some() {
                return invalid("A DELETE statement cannot use a TTL");
            }
            let cx = write_ctx(using, binds, default_ts)?;
            let pks = full_keys(schema, &schema.pk, wheres, binds, "partition key parts")?;
            let ck_cands = key_candidates(schema, &schema.ck, wheres, binds)?;
            let prefix: Vec<Vec<Vec<u8>>> = ck_cands.iter().map_while(|c| c.clone()).collect();
            let full_ck = prefix.len() == schema.ck.len();
            let mut cols = Vec::new();
            for c in columns {
                let (ci, col) = column(schema, c)?;
                if matches!(col.kind, Kind::PartitionKey | Kind::Clustering) {
                    return invalid(format!(
                        "Invalid identifier {c} for deletion (should not be a PRIMARY KEY part)"
                    ));
                }
                cols.push((ci as u16, col.kind));
            }
            if phase == Phase::Check {
                return Ok(QueryResult::Void);
            }
            let mut data = table.data.write().unwrap_or_else(|e| e.into_inner());
            let cks = if full_ck {
                product(schema, &schema.ck, &prefix)
            } else {
                vec![]
            };
            if let Some(res) = check_condition(schema, &data, condition, &pks, &cks, binds)? {
                return Ok(res);
            }
            let tomb = || Cell {
                ts: cx.ts,
                value: None,
                expire: None,
                ttl: 0,
            };
            for pk in &pks {
                let part = data.partitions.entry(pk.clone()).or_default();
                let ptomb = part.tomb;
                if cols.is_empty() && prefix.is_empty() {
                    part.tomb = Some(opt_max(part.tomb, Some(cx.ts)));
                    continue;
                }
                for (ci, _) in cols.iter().filter(|c| c.1 == Kind::Static) {
                    part.statics.write(*ci, CellWrite::Put(tomb()), ptomb, now);
                }
                let targets: Vec<Key> = if full_ck {
                    for ck in &cks {
                        part.rows.entry(ck.clone()).or_default();
                    }
                    cks.clone()
                } else {
                    // Prefix delete: applies to the rows that exist now (no range tombstones).
                    let pfx = product(schema, &schema.ck[..prefix.len()], &prefix);
                    part.rows
                        .keys()
                        .filter(|k| pfx.iter().any(|p| k.0.starts_with(&p.0)))
                        .cloned()
                        .collect()
                };
                for ck in targets {
                    let Some(row) = part.rows.get_mut(&ck) else {
                        continue;
                    };
                    if cols.is_empty() {
                        row.delete(cx.ts);
                    } else {
                        for (ci, _) in cols.iter().filter(|c| c.1 != Kind::Static) {
                            row.write(*ci, CellWrite::Put(tomb()), ptomb, now);
                        }
                    }
                }
            }
            if matches!(condition, Condition::None) {
                QueryResult::Void
            } else {
                applied(schema, true, None)
            }
        }
        _ => return invalid("not a write"),
    };
    engine.dirty.store(true, Ordering::Relaxed);
    Ok(result)
}

fn put(v: Val, cx: &WriteCtx) -> Option<CellWrite> {
    match v {
        Val::Unset => None,
        Val::Null => Some(CellWrite::Put(Cell {
            ts: cx.ts,
            value: None,
            expire: None,
            ttl: 0,
        })),
        Val::Value(b) => Some(CellWrite::Put(Cell {
            ts: cx.ts,
            value: Some(b),
            expire: cx.expire,
            ttl: cx.ttl,
        })),
    }
}

fn assignment(
    a: &Assignment,
    col: &Column,
    binds: &Binds,
    cx: &WriteCtx,
) -> Result<Option<CellWrite>> {
    let cell = |v: Option<Vec<u8>>| Cell {
        ts: cx.ts,
        value: v,
        expire: cx.expire,
        ttl: cx.ttl,
    };
    let base = col.ty.base().clone();
    match a {
        Assignment::Set(_, t) => {
            if col.ty == CqlType::Counter {
                return invalid(format!("Cannot set the value of counter column {} (counters can only be incremented/decremented, not set)", col.name));
            }
            Ok(put(eval(t, &col.ty, binds)?, cx))
        }
        Assignment::Add(_, t) | Assignment::Sub(_, t) => {
            let sub = matches!(a, Assignment::Sub(..));
            if col.ty == CqlType::Counter {
                return match eval(t, &CqlType::Bigint, binds)? {
                    Val::Value(v) => {
                        let n = crate::types::int_of(&v);
                        Ok(Some(CellWrite::CounterAdd(
                            if sub { n.wrapping_neg() } else { n },
                            cx.ts,
                        )))
                    }
                    Val::Unset => Ok(None),
                    Val::Null => invalid("Invalid null value for counter increment"),
                };
            }
            if !col.ty.is_collection() || col.ty.is_frozen() {
                return invalid(format!(
                    "Invalid operation ({} = {} {} ?) for non counter column {}",
                    col.name,
                    col.name,
                    if sub { "-" } else { "+" },
                    col.name
                ));
            }
            let arg_ty = match (&base, sub) {
                (CqlType::Map(k, _), true) => CqlType::Set(k.clone()),
                _ => base.clone(),
            };
            let v = match eval(t, &arg_ty, binds)? {
                Val::Value(v) => v,
                Val::Unset => return Ok(None),
                Val::Null => return invalid("Invalid null value for collection operation"),
            };
            let op = if sub {
                CollectionOp::Remove(base)
            } else {
                CollectionOp::Append(base)
            };
            Ok(Some(CellWrite::Collection(op, cell(Some(v)))))
        }
        Assignment::Prepend(_, t) => {
            if !matches!(base, CqlType::List(_)) || col.ty.is_frozen() {
                return invalid(format!(
                    "Invalid operation for column {}: prepend needs a non-frozen list",
                    col.name
                ));
            }
            match eval(t, &col.ty, binds)? {
                Val::Value(v) => Ok(Some(CellWrite::Collection(
                    CollectionOp::Prepend(base),
                    cell(Some(v)),
                ))),
                _ => Ok(None),
            }
        }
        Assignment::Index(_, k, v) => {
            let CqlType::Map(kt, vt) = &base else {
                return invalid(format!("Invalid operation ({}[?] = ?) for column {}: only maps support element setting in cqlmem", col.name, col.name));
            };
            let (Val::Value(kb), vv) = (eval(k, kt, binds)?, eval(v, vt, binds)?) else {
                return invalid("Invalid null map key");
            };
            match vv {
                Val::Value(vb) => {
                    let m = crate::types::join_map(&[(kb, vb)]);
                    Ok(Some(CellWrite::Collection(
                        CollectionOp::PutEntries(base),
                        cell(Some(m)),
                    )))
                }
                Val::Null => {
                    let s = crate::types::join_elements(&[Some(kb)], true);
                    Ok(Some(CellWrite::Collection(
                        CollectionOp::RemoveKeys(base),
                        cell(Some(s)),
                    )))
                }
                Val::Unset => Ok(None),
            }
        }
    }
}
