//! Lightweight-transaction answers: `IF NOT EXISTS`, `IF EXISTS`, `IF col = v` and the
//! `[applied]` result rows.

use crate::cql::ast::*;
use crate::error::{invalid, Result};
use crate::literal::{eval, Binds, Val};
use crate::protocol::{ColSpec, QueryResult, Rows};
use crate::storage::*;
use crate::types::CqlType;

use super::now_secs;
use super::write::column;

pub fn applied(
    schema: &TableSchema,
    ok: bool,
    existing: Option<Vec<(ColSpec, Option<Vec<u8>>)>>,
) -> QueryResult {
    let mut columns = vec![ColSpec {
        keyspace: schema.keyspace.clone(),
        table: schema.name.clone(),
        name: "[applied]".into(),
        ty: CqlType::Boolean,
    }];
    let mut row = vec![Some(vec![ok as u8])];
    for (spec, v) in existing.unwrap_or_default() {
        columns.push(spec);
        row.push(v);
    }
    QueryResult::Rows(Rows {
        columns,
        rows: vec![row],
        paging_state: None,
    })
}

pub fn existing_row(
    schema: &TableSchema,
    data: &TableData,
    pk: &Key,
    ck: &Key,
) -> Option<Vec<(ColSpec, Option<Vec<u8>>)>> {
    let now = now_secs();
    let part = data.partitions.get(pk)?;
    let row = part.rows.get(ck)?;
    if !row.is_live(part.tomb, now) {
        return None;
    }
    Some(
        schema
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let v = match c.kind {
                    Kind::PartitionKey => pk.0.get(c.position as usize).map(|p| p.bytes.clone()),
                    Kind::Clustering => ck.0.get(c.position as usize).map(|p| p.bytes.clone()),
                    Kind::Static => part
                        .statics
                        .live_cell(i as u16, part.tomb, now)
                        .and_then(|c| c.value.clone()),
                    Kind::Regular => row
                        .live_cell(i as u16, part.tomb, now)
                        .and_then(|c| c.value.clone()),
                };
                (
                    ColSpec {
                        keyspace: schema.keyspace.clone(),
                        table: schema.name.clone(),
                        name: c.name.clone(),
                        ty: c.ty.clone(),
                    },
                    v,
                )
            })
            .collect(),
    )
}

/// Evaluates `IF EXISTS` / `IF col = v` for a single row; Some(result) when not applied.
pub fn check_condition(
    schema: &TableSchema,
    data: &TableData,
    cond: &Condition,
    pks: &[Key],
    cks: &[Key],
    binds: &Binds,
) -> Result<Option<QueryResult>> {
    if matches!(cond, Condition::None) {
        return Ok(None);
    }
    let (Some(pk), Some(ck)) = (pks.first(), cks.first()) else {
        return invalid("IN on the partition key is not supported with conditional updates");
    };
    let ex = existing_row(schema, data, pk, ck);
    let ok = match cond {
        Condition::IfExists => ex.is_some(),
        Condition::IfNotExists => ex.is_none(),
        Condition::Columns(rels) => {
            let mut ok = true;
            for r in rels {
                let (ci, col) = column(schema, &r.columns[0])?;
                let want = match &r.value {
                    RelValue::One(t) => match eval(t, &col.ty, binds)? {
                        Val::Value(v) => Some(v),
                        _ => None,
                    },
                    RelValue::List(_) => {
                        return invalid("IN conditions are not supported by cqlmem")
                    }
                };
                let have = ex.as_ref().and_then(|e| e[ci].1.clone());
                let hit = match (&have, &want, &r.op) {
                    (h, w, Op::Eq) => h == w,
                    (h, w, Op::Ne) => h != w,
                    (Some(h), Some(w), op) => {
                        let o = crate::types::compare(&col.ty, h, w);
                        super::select::op_matches(op, o)
                    }
                    _ => false,
                };
                ok &= hit;
            }
            ok
        }
        Condition::None => true,
    };
    if ok {
        Ok(None)
    } else {
        Ok(Some(applied(schema, false, ex)))
    }
}
