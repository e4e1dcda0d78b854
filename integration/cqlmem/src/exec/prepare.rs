//! PREPARE: bind variable specs (names, types, partition key indexes) and result metadata.

use std::collections::BTreeMap;

use crate::cql::ast::*;
use crate::error::Result;
use crate::protocol::ColSpec;
use crate::storage::{Kind, TableSchema};
use crate::types::CqlType;

use super::Engine;

type Vars = BTreeMap<usize, (String, CqlType)>;

fn term(t: &Term, name: &str, ty: &CqlType, out: &mut Vars) {
    match t {
        Term::Bind(i, n) => {
            out.insert(
                *i,
                (n.clone().unwrap_or_else(|| name.to_string()), ty.clone()),
            );
        }
        Term::Hint(_, t) => term(t, name, ty, out),
        Term::List(items) | Term::Set(items) => {
            if let CqlType::List(e) | CqlType::Set(e) = ty.base() {
                for i in items {
                    term(i, name, e, out);
                }
            }
        }
        Term::Map(entries) => match ty.base() {
            CqlType::Map(k, v) => {
                for (a, b) in entries {
                    term(a, name, k, out);
                    term(b, name, v, out);
                }
            }
            CqlType::Udt { fields, .. } => {
                for (a, b) in entries {
                    if let Term::Ident(f) = a {
                        if let Some((_, ft)) = fields.iter().find(|(n, _)| n == f) {
                            term(b, f, ft, out);
                        }
                    }
                }
            }
            _ => {}
        },
        Term::Tuple(items) => {
            if let CqlType::Tuple(ts) = ty.base() {
                for (i, t) in items.iter().zip(ts) {
                    term(i, name, t, out);
                }
            }
        }
        _ => {}
    }
}

fn using(u: &Using, out: &mut Vars) {
    if let Some(t) = &u.ttl {
        term(t, "[ttl]", &CqlType::Int, out);
    }
    if let Some(t) = &u.timestamp {
        term(t, "[timestamp]", &CqlType::Bigint, out);
    }
}

fn relations(schema: &TableSchema, rels: &[Relation], out: &mut Vars) {
    for r in rels {
        let cols: Vec<_> = r.columns.iter().filter_map(|c| schema.column(c)).collect();
        if cols.len() != r.columns.len() {
            continue;
        }
        if cols.len() > 1 {
            let tt = CqlType::Tuple(cols.iter().map(|c| c.1.ty.clone()).collect());
            match &r.value {
                RelValue::One(t) => term(t, "tuple", &tt, out),
                RelValue::List(ts) => ts.iter().for_each(|t| term(t, "tuple", &tt, out)),
            }
            continue;
        }
        let col = cols[0].1;
        match (&r.op, &r.value) {
            (Op::In, RelValue::One(t)) => term(
                t,
                &format!("in({})", col.name),
                &CqlType::List(Box::new(col.ty.clone())),
                out,
            ),
            (_, RelValue::One(t)) => term(t, &col.name, &col.ty, out),
            (_, RelValue::List(ts)) => ts.iter().for_each(|t| term(t, &col.name, &col.ty, out)),
        }
    }
}

fn statement_vars(
    engine: &Engine,
    st: &Statement,
    ks: Option<&str>,
    out: &mut Vars,
) -> Result<Option<std::sync::Arc<crate::storage::Table>>> {
    Ok(match st {
        Statement::Insert {
            table,
            columns,
            values,
            using: u,
            ..
        } => {
            let t = engine.table(table, ks)?;
            for (c, v) in columns.iter().zip(values) {
                if let Some((_, col)) = t.schema.column(c) {
                    term(v, c, &col.ty, out);
                }
            }
            using(u, out);
            Some(t)
        }
        Statement::Update {
            table,
            using: u,
            assignments,
            wheres,
            condition,
        } => {
            let t = engine.table(table, ks)?;
            using(u, out);
            for a in assignments {
                match a {
                    Assignment::Set(c, v)
                    | Assignment::Add(c, v)
                    | Assignment::Sub(c, v)
                    | Assignment::Prepend(c, v) => {
                        if let Some((_, col)) = t.schema.column(c) {
                            let ty = match (a, col.ty.base()) {
                                (Assignment::Sub(..), CqlType::Map(k, _)) => {
                                    CqlType::Set(k.clone())
                                }
                                (_, CqlType::Counter) => CqlType::Counter,
                                _ => col.ty.clone(),
                            };
                            term(v, c, &ty, out);
                        }
                    }
                    Assignment::Index(c, k, v) => {
                        if let Some((_, col)) = t.schema.column(c) {
                            if let CqlType::Map(kt, vt) = col.ty.base() {
                                term(k, &format!("key({c})"), kt, out);
                                term(v, &format!("value({c})"), vt, out);
                            }
                        }
                    }
                }
            }
            relations(&t.schema, wheres, out);
            if let Condition::Columns(rels) = condition {
                relations(&t.schema, rels, out);
            }
            Some(t)
        }
        Statement::Delete {
            table,
            using: u,
            wheres,
            condition,
            ..
        } => {
            let t = engine.table(table, ks)?;
            using(u, out);
            relations(&t.schema, wheres, out);
            if let Condition::Columns(rels) = condition {
                relations(&t.schema, rels, out);
            }
            Some(t)
        }
        Statement::Select(s) => {
            let t = engine.table(&s.table, ks)?;
            relations(&t.schema, &s.wheres, out);
            if let Some(l) = &s.per_partition_limit {
                term(l, "[per_partition_limit]", &CqlType::Int, out);
            }
            if let Some(l) = &s.limit {
                term(l, "[limit]", &CqlType::Int, out);
            }
            Some(t)
        }
        Statement::Batch {
            using: u,
            statements,
            ..
        } => {
            using(u, out);
            let mut first = None;
            for s in statements {
                let t = statement_vars(engine, s, ks, out)?;
                first = first.or(t);
            }
            first
        }
        _ => None,
    })
}

/// Variables, partition-key indexes and result columns of a statement.
pub fn describe(
    engine: &Engine,
    st: &Statement,
    ks: Option<&str>,
) -> Result<(Vec<ColSpec>, Vec<u16>, Vec<ColSpec>)> {
    let mut vars = Vars::new();
    let table = statement_vars(engine, st, ks, &mut vars)?;
    let (ksn, tn) = table
        .as_ref()
        .map(|t| (t.schema.keyspace.clone(), t.schema.name.clone()))
        .unwrap_or_default();
    let specs: Vec<ColSpec> = vars
        .values()
        .map(|(n, ty)| ColSpec {
            keyspace: ksn.clone(),
            table: tn.clone(),
            name: n.clone(),
            ty: ty.clone(),
        })
        .collect();
    let mut pk_indexes = Vec::new();
    if let Some(t) = &table {
        for &pi in &t.schema.pk {
            let name = &t.schema.columns[pi].name;
            match specs.iter().position(|s| &s.name == name) {
                Some(p) if t.schema.columns[pi].kind == Kind::PartitionKey => {
                    pk_indexes.push(p as u16)
                }
                _ => {
                    pk_indexes.clear();
                    break;
                }
            }
        }
    }
    let result = match (st, &table) {
        (Statement::Select(s), Some(t)) => super::select::plan(&t.schema, s)?.0,
        _ => Vec::new(),
    };
    Ok((specs, pk_indexes, result))
}
