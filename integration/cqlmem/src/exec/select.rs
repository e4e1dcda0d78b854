//! SELECT: partition selection, clustering order, filtering, selectors and paging.

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::atomic::Ordering as AtomicOrdering;

use serde::{Deserialize, Serialize};

use crate::cql::ast::*;
use crate::error::{invalid, Error, Result};
use crate::literal::{eval, Binds, Val};
use crate::protocol::{ColSpec, QueryResult, Rows};
use crate::storage::*;
use crate::types::{self, CqlType};

use super::write::{key_candidates, product, relation_values};
use super::{now_secs, Engine, ExecOptions};

/// What one output column computes.
#[derive(Debug, Clone)]
pub enum Out {
    Col(usize),
    WriteTime(usize),
    Ttl(usize),
    ToJson(Box<Out>, CqlType),
    Count,
    Const(Option<Vec<u8>>),
}

#[derive(Serialize, Deserialize)]
struct PagingState {
    p: Key,
    c: Option<Key>,
    n: u64,
}

fn spec(schema: &TableSchema, name: String, ty: CqlType) -> ColSpec {
    ColSpec {
        keyspace: schema.keyspace.clone(),
        table: schema.name.clone(),
        name,
        ty,
    }
}

fn col_idx(schema: &TableSchema, name: &str) -> Result<usize> {
    schema.column(name).map(|(i, _)| i).ok_or_else(|| {
        Error::Invalid(format!(
            "Undefined column name {name} in table {}.{}",
            schema.keyspace, schema.name
        ))
    })
}

fn plan_one(schema: &TableSchema, s: &Selector) -> Result<(String, CqlType, Out)> {
    Ok(match s {
        Selector::Column(c) => {
            let i = col_idx(schema, c)?;
            (c.clone(), schema.columns[i].ty.clone(), Out::Col(i))
        }
        Selector::CountStar => ("count".into(), CqlType::Bigint, Out::Count),
        Selector::WriteTime(c) | Selector::Ttl(c) => {
            let i = col_idx(schema, c)?;
            let col = &schema.columns[i];
            if matches!(col.kind, Kind::PartitionKey | Kind::Clustering) {
                return invalid(format!(
                    "Cannot use selection function {} on PRIMARY KEY part {c}",
                    if matches!(s, Selector::Ttl(_)) {
                        "ttl"
                    } else {
                        "writeTime"
                    }
                ));
            }
            if matches!(s, Selector::Ttl(_)) {
                (format!("ttl({c})"), CqlType::Int, Out::Ttl(i))
            } else {
                (
                    format!("writetime({c})"),
                    CqlType::Bigint,
                    Out::WriteTime(i),
                )
            }
        }
        Selector::Call(f, args) if f == "tojson" && args.len() == 1 => {
            let (n, ty, o) = plan_one(schema, &args[0])?;
            (
                format!("system.tojson({n})"),
                CqlType::Text,
                Out::ToJson(Box::new(o), ty),
            )
        }
        Selector::Call(f, args) if f == "count" && args.len() == 1 => {
            ("count".into(), CqlType::Bigint, Out::Count)
        }
        Selector::Call(f, _) => return invalid(format!("Unknown function '{f}'")),
        Selector::Term(t) => {
            let (ty, v) = match t {
                Term::Str(s) => (CqlType::Text, Some(s.as_bytes().to_vec())),
                Term::Bool(b) => (CqlType::Boolean, Some(vec![*b as u8])),
                Term::Number(n) => (
                    CqlType::Int,
                    n.parse::<i32>().ok().map(|x| x.to_be_bytes().to_vec()),
                ),
                _ => (CqlType::Blob, None),
            };
            (format!("{t:?}"), ty, Out::Const(v))
        }
    })
}

/// Output columns of a SELECT; `bool` = is an aggregate (one row).
pub fn plan(schema: &TableSchema, s: &Select) -> Result<(Vec<ColSpec>, Vec<Out>, bool)> {
    let mut specs = Vec::new();
    let mut outs = Vec::new();
    match &s.selectors {
        None => {
            for (i, c) in schema.columns.iter().enumerate() {
                if s.distinct && !matches!(c.kind, Kind::PartitionKey | Kind::Static) {
                    continue;
                }
                specs.push(spec(schema, c.name.clone(), c.ty.clone()));
                outs.push(Out::Col(i));
            }
        }
        Some(sels) => {
            for (sel, alias) in sels {
                let (name, ty, out) = plan_one(schema, sel)?;
                specs.push(spec(schema, alias.clone().unwrap_or(name), ty));
                outs.push(out);
            }
        }
    }
    let agg = outs.iter().any(|o| matches!(o, Out::Count));
    if s.json {
        let names: Vec<String> = specs.iter().map(|c| c.name.clone()).collect();
        let tys: Vec<CqlType> = specs.iter().map(|c| c.ty.clone()).collect();
        let _ = (names, tys);
        return Ok((
            vec![spec(schema, "[json]".into(), CqlType::Text)],
            outs,
            agg,
        ));
    }
    Ok((specs, outs, agg))
}

pub fn op_matches(op: &Op, o: Ordering) -> bool {
    match op {
        Op::Eq | Op::In => o == Ordering::Equal,
        Op::Ne => o != Ordering::Equal,
        Op::Lt => o == Ordering::Less,
        Op::Le => o != Ordering::Greater,
        Op::Gt => o == Ordering::Greater,
        Op::Ge => o != Ordering::Less,
        Op::Contains | Op::ContainsKey => false,
    }
}

struct Pred {
    cols: Vec<usize>,
    op: Op,
    values: Vec<Vec<Option<Vec<u8>>>>,
}

fn build_preds(
    schema: &TableSchema,
    s: &Select,
    binds: &Binds,
    skip_pk: bool,
) -> Result<Vec<Pred>> {
    let mut preds = Vec::new();
    for r in &s.wheres {
        let cols = r
            .columns
            .iter()
            .map(|c| col_idx(schema, c))
            .collect::<Result<Vec<_>>>()?;
        if skip_pk && cols.len() == 1 && schema.columns[cols[0]].kind == Kind::PartitionKey {
            continue;
        }
        if cols.len() == 1 {
            let col = &schema.columns[cols[0]];
            if col.kind == Kind::Regular
                && !s.allow_filtering
                && !crate::system::is_system(&schema.keyspace)
            {
                return invalid("Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING");
            }
            let values = match r.op {
                Op::Contains | Op::ContainsKey => {
                    return invalid("CONTAINS relations are not supported by cqlmem")
                }
                _ => relation_values(r, col, binds)?
                    .into_iter()
                    .map(|v| vec![Some(v)])
                    .collect(),
            };
            preds.push(Pred {
                cols,
                op: r.op.clone(),
                values,
            });
        } else {
            let tuple_ty =
                CqlType::Tuple(cols.iter().map(|&c| schema.columns[c].ty.clone()).collect());
            let one = |t: &Term| -> Result<Vec<Option<Vec<u8>>>> {
                match eval(t, &tuple_ty, binds)? {
                    Val::Value(v) => Ok(types::split_elements(&v, Some(cols.len()))?
                        .into_iter()
                        .map(|e| e.map(|x| x.to_vec()))
                        .collect()),
                    _ => invalid("Invalid null value in tuple relation"),
                }
            };
            let values = match &r.value {
                RelValue::One(t) => vec![one(t)?],
                RelValue::List(ts) => ts.iter().map(one).collect::<Result<_>>()?,
            };
            preds.push(Pred {
                cols,
                op: r.op.clone(),
                values,
            });
        }
    }
    Ok(preds)
}

fn column_value(
    schema: &TableSchema,
    ci: usize,
    pk: &Key,
    ck: &Key,
    part: &Partition,
    row: &Row,
    now: i64,
) -> Option<Vec<u8>> {
    let c = &schema.columns[ci];
    match c.kind {
        Kind::PartitionKey => pk.0.get(c.position as usize).map(|p| p.bytes.clone()),
        Kind::Clustering => ck.0.get(c.position as usize).map(|p| p.bytes.clone()),
        Kind::Static => part
            .statics
            .live_cell(ci as u16, part.tomb, now)
            .and_then(|c| c.value.clone()),
        Kind::Regular => row
            .live_cell(ci as u16, part.tomb, now)
            .and_then(|c| c.value.clone()),
    }
}

fn matches(
    schema: &TableSchema,
    preds: &[Pred],
    pk: &Key,
    ck: &Key,
    part: &Partition,
    row: &Row,
    now: i64,
) -> bool {
    preds.iter().all(|p| {
        let have: Vec<Option<Vec<u8>>> = p
            .cols
            .iter()
            .map(|&c| column_value(schema, c, pk, ck, part, row, now))
            .collect();
        p.values.iter().any(|want| {
            let mut o = Ordering::Equal;
            for ((h, w), &ci) in have.iter().zip(want).zip(&p.cols) {
                o = match (h, w) {
                    (Some(h), Some(w)) => types::compare(&schema.columns[ci].ty, h, w),
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => {
                        if p.op == Op::Ne {
                            Ordering::Less
                        } else {
                            return false;
                        }
                    }
                    (Some(_), None) => Ordering::Greater,
                };
                if o != Ordering::Equal {
                    break;
                }
            }
            op_matches(&p.op, o)
        })
    })
}

fn render(
    out: &Out,
    schema: &TableSchema,
    pk: &Key,
    ck: &Key,
    part: &Partition,
    row: &Row,
    now: i64,
) -> Option<Vec<u8>> {
    match out {
        Out::Col(i) => column_value(schema, *i, pk, ck, part, row, now),
        Out::WriteTime(i) | Out::Ttl(i) => {
            let src = if schema.columns[*i].kind == Kind::Static {
                &part.statics
            } else {
                row
            };
            let cell = src.live_cell(*i as u16, part.tomb, now)?;
            if matches!(out, Out::WriteTime(_)) {
                Some(cell.ts.to_be_bytes().to_vec())
            } else {
                let e = cell.expire?;
                Some(((e - now).max(0) as i32).to_be_bytes().to_vec())
            }
        }
        Out::ToJson(inner, ty) => {
            let v = render(inner, schema, pk, ck, part, row, now);
            Some(crate::json::to_json(ty, v.as_deref()).into_bytes())
        }
        Out::Count => None,
        Out::Const(v) => v.clone(),
    }
}

fn limit_of(t: &Option<Term>, binds: &Binds) -> Result<Option<u64>> {
    match t {
        None => Ok(None),
        Some(t) => match eval(t, &CqlType::Int, binds)? {
            Val::Value(v) => {
                let n = types::int_of(&v);
                if n <= 0 {
                    return invalid("LIMIT must be strictly positive");
                }
                Ok(Some(n as u64))
            }
            _ => Ok(None),
        },
    }
}

pub fn select(
    engine: &Engine,
    s: &Select,
    ks: Option<&str>,
    binds: &Binds,
    opts: &ExecOptions,
) -> Result<QueryResult> {
    engine.stats.reads.fetch_add(1, AtomicOrdering::Relaxed);
    let table = engine.table(&s.table, ks)?;
    let schema = &table.schema;
    let (columns, outs, agg) = plan(schema, s)?;
    let pk_cands = key_candidates(schema, &schema.pk, &s.wheres, binds)?;
    let pk_list: Option<Vec<Key>> = if pk_cands.iter().all(|c| c.is_some()) {
        let c: Vec<Vec<Vec<u8>>> = pk_cands.into_iter().flatten().collect();
        Some(product(schema, &schema.pk, &c))
    } else {
        if pk_cands.iter().any(|c| c.is_some())
            && !s.allow_filtering
            && !crate::system::is_system(&schema.keyspace)
        {
            return invalid("Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING");
        }
        None
    };
    let preds = build_preds(schema, s, binds, pk_list.is_some())?;
    let reversed = match s.order.first() {
        None => false,
        Some((c, desc)) => {
            if pk_list.is_none() {
                return invalid("ORDER BY is only supported when the partition key is restricted by an EQ or an IN.");
            }
            let i = col_idx(schema, c)?;
            let col = &schema.columns[i];
            if col.kind != Kind::Clustering {
                return invalid(format!("Order by is currently only supported on the clustered columns of the PRIMARY KEY, got {c}"));
            }
            *desc != col.desc
        }
    };
    let limit = limit_of(&s.limit, binds)?;
    let per_partition = limit_of(&s.per_partition_limit, binds)?;
    let state: Option<PagingState> = match &opts.paging_state {
        Some(b) if !agg => Some(
            serde_json::from_slice(b)
                .map_err(|_| Error::Protocol("Invalid value for the paging state".into()))?,
        ),
        _ => None,
    };
    let already = state.as_ref().map(|s| s.n).unwrap_or(0);
    let page = match opts.page_size {
        Some(n) if n > 0 && !agg => n as u64,
        _ => u64::MAX,
    };
    let want = page.min(limit.map(|l| l.saturating_sub(already)).unwrap_or(u64::MAX));
    let now = now_secs();
    let data = table.data.read().unwrap_or_else(|e| e.into_inner());
    let start_pk = state.as_ref().map(|s| &s.p);
    let parts: Box<dyn Iterator<Item = (&Key, &Partition)>> = match &pk_list {
        Some(list) => Box::new(
            list.iter()
                .filter(move |k| start_pk.is_none_or(|s| *k >= s))
                .filter_map(|k| data.partitions.get_key_value(k)),
        ),
        None => match start_pk {
            Some(s) => Box::new(
                data.partitions
                    .range((Bound::Included(s.clone()), Bound::Unbounded)),
            ),
            None => Box::new(data.partitions.iter()),
        },
    };
    let mut rows: Vec<Vec<Option<Vec<u8>>>> = Vec::new();
    let mut count: i64 = 0;
    let mut last: Option<(Key, Key)> = None;
    let mut more = false;
    'outer: for (pk, part) in parts {
        let resume = state
            .as_ref()
            .filter(|s| &s.p == pk)
            .and_then(|s| s.c.clone());
        let iter: Box<dyn Iterator<Item = (&Key, &Row)>> = match (resume, reversed) {
            (None, false) => Box::new(part.rows.iter()),
            (None, true) => Box::new(part.rows.iter().rev()),
            (Some(c), false) => Box::new(part.rows.range((Bound::Excluded(c), Bound::Unbounded))),
            (Some(c), true) => Box::new(
                part.rows
                    .range((Bound::Unbounded, Bound::Excluded(c)))
                    .rev(),
            ),
        };
        let mut in_part = 0u64;
        for (ck, row) in iter {
            if !row.is_live(part.tomb, now) || !matches(schema, &preds, pk, ck, part, row, now) {
                continue;
            }
            if per_partition.is_some_and(|l| in_part >= l) || (s.distinct && in_part >= 1) {
                break;
            }
            if agg {
                count += 1;
                continue;
            }
            if rows.len() as u64 >= want {
                more = want == page;
                break 'outer;
            }
            in_part += 1;
            let vals: Vec<Option<Vec<u8>>> = outs
                .iter()
                .map(|o| render(o, schema, pk, ck, part, row, now))
                .collect();
            rows.push(if s.json {
                vec![Some(
                    json_row(&columns_for_json(schema, s)?, &vals).into_bytes(),
                )]
            } else {
                vals
            });
            last = Some((pk.clone(), ck.clone()));
        }
    }
    if agg {
        let row = outs
            .iter()
            .map(|o| match o {
                Out::Count => Some(count.to_be_bytes().to_vec()),
                _ => None,
            })
            .collect();
        return Ok(QueryResult::Rows(Rows {
            columns,
            rows: vec![row],
            paging_state: None,
        }));
    }
    let paging_state = match (more, last) {
        (true, Some((p, c))) => Some(
            serde_json::to_vec(&PagingState {
                p,
                c: Some(c),
                n: already + rows.len() as u64,
            })
            .map_err(|e| Error::Server(e.to_string()))?,
        ),
        _ => None,
    };
    Ok(QueryResult::Rows(Rows {
        columns,
        rows,
        paging_state,
    }))
}

fn columns_for_json(schema: &TableSchema, s: &Select) -> Result<Vec<(String, CqlType)>> {
    let (specs, _, _) = plan(
        schema,
        &Select {
            json: false,
            ..s.clone()
        },
    )?;
    Ok(specs.into_iter().map(|c| (c.name, c.ty)).collect())
}

fn json_row(cols: &[(String, CqlType)], vals: &[Option<Vec<u8>>]) -> String {
    let parts: Vec<String> = cols
        .iter()
        .zip(vals)
        .map(|((n, t), v)| {
            format!(
                "{}: {}",
                serde_json::Value::String(n.clone()),
                crate::json::to_json(t, v.as_deref())
            )
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}
