//! Server-side DESCRIBE as Cassandra 4 answers it (cqlsh 6 prints these rows).

use crate::cql::ast::Describe;
use crate::error::{Error, Result};
use crate::exec::Engine;
use crate::protocol::{ColSpec, QueryResult, Rows};
use crate::storage::{Kind, TableSchema};
use crate::types::CqlType;

use super::system_keyspaces;

fn create_statement(s: &TableSchema) -> String {
    let mut lines: Vec<String> = s
        .columns
        .iter()
        .map(|c| {
            format!(
                "    {} {}{}",
                c.name,
                c.ty.cql_name(),
                if c.kind == Kind::Static {
                    " static"
                } else {
                    ""
                }
            )
        })
        .collect();
    let pk: Vec<&str> = s.pk.iter().map(|&i| s.columns[i].name.as_str()).collect();
    let ck: Vec<&str> = s.ck.iter().map(|&i| s.columns[i].name.as_str()).collect();
    let pk_s = if pk.len() == 1 {
        pk[0].to_string()
    } else {
        format!("({})", pk.join(", "))
    };
    let key = std::iter::once(pk_s)
        .chain(ck.iter().map(|c| c.to_string()))
        .collect::<Vec<_>>()
        .join(", ");
    lines.push(format!("    PRIMARY KEY ({key})"));
    let mut out = format!(
        "CREATE TABLE {}.{} (\n{}\n)",
        s.keyspace,
        s.name,
        lines.join(",\n")
    );
    if !ck.is_empty() {
        let ord: Vec<String> =
            s.ck.iter()
                .map(|&i| {
                    format!(
                        "{} {}",
                        s.columns[i].name,
                        if s.columns[i].desc { "DESC" } else { "ASC" }
                    )
                })
                .collect();
        out.push_str(&format!(" WITH CLUSTERING ORDER BY ({})", ord.join(", ")));
    }
    out.push(';');
    out
}

/// Server-side DESCRIBE as Cassandra 4 answers it (cqlsh prints these rows).
pub fn describe(engine: &Engine, d: &Describe, session_ks: Option<&str>) -> Result<QueryResult> {
    let spec = |n: &str| ColSpec {
        keyspace: "system".into(),
        table: "describe".into(),
        name: n.into(),
        ty: CqlType::Text,
    };
    let s = |v: &str| Some(v.as_bytes().to_vec());
    let mut columns = vec![spec("keyspace_name"), spec("type"), spec("name")];
    let mut rows = Vec::new();
    let cat = engine.catalog();
    match d {
        Describe::Keyspaces => {
            let mut names: Vec<String> = system_keyspaces().into_iter().map(|k| k.name).collect();
            names.extend(cat.keyspaces.keys().cloned());
            names.sort();
            for n in names {
                rows.push(vec![s(&n), s("keyspace"), s(&n)]);
            }
        }
        Describe::Tables => {
            for k in cat.keyspaces.values() {
                if session_ks.is_some_and(|x| x != k.meta.name) {
                    continue;
                }
                for tn in k.tables.keys() {
                    rows.push(vec![s(&k.meta.name), s("table"), s(tn)]);
                }
            }
        }
        Describe::Types => {
            for k in cat.keyspaces.values() {
                for tn in k.types.keys() {
                    rows.push(vec![s(&k.meta.name), s("type"), s(tn)]);
                }
            }
        }
        Describe::Table(tr) => {
            drop(cat);
            let table = engine.table(tr, session_ks)?;
            columns.push(spec("create_statement"));
            rows.push(vec![
                s(&table.schema.keyspace),
                s("table"),
                s(&table.schema.name),
                s(&create_statement(&table.schema)),
            ]);
        }
        Describe::Keyspace(name) => {
            let name = name
                .clone()
                .or(session_ks.map(String::from))
                .ok_or_else(|| {
                    Error::Invalid("No keyspace specified and no current keyspace".into())
                })?;
            let k = cat
                .keyspaces
                .get(&name)
                .ok_or_else(|| Error::Invalid(format!("'{name}' not found in keyspaces")))?;
            columns.push(spec("create_statement"));
            let repl: Vec<String> = k
                .meta
                .replication
                .iter()
                .map(|(a, b)| format!("'{a}': '{b}'"))
                .collect();
            rows.push(vec![
                s(&name),
                s("keyspace"),
                s(&name),
                s(&format!(
                    "CREATE KEYSPACE {name} WITH replication = {{{}}}  AND durable_writes = {};",
                    repl.join(", "),
                    k.meta.durable_writes
                )),
            ]);
            for t in k.tables.values() {
                rows.push(vec![
                    s(&name),
                    s("table"),
                    s(&t.schema.name),
                    s(&create_statement(&t.schema)),
                ]);
            }
        }
        Describe::Cluster => {
            columns = vec![spec("cluster"), spec("partitioner"), spec("snitch")];
            rows.push(vec![
                s("cqlmem"),
                s("org.apache.cassandra.dht.Murmur3Partitioner"),
                s("org.apache.cassandra.locator.SimpleSnitch"),
            ]);
        }
    }
    Ok(QueryResult::Rows(Rows {
        columns,
        rows,
        paging_state: None,
    }))
}
