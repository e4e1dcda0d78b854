//! The `system` and `system_schema` tables drivers read, materialized from the catalog on
//! each query; server-side DESCRIBE lives in [`describe`].

mod describe;
pub use describe::describe;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use crate::error::{invalid, Error, Result};
use crate::exec::Engine;

use crate::storage::*;
use crate::types::{self, CqlType};

pub const HOST_ID: [u8; 16] = [
    0x5e, 0x1a, 0x7c, 0x3d, 0x21, 0x4b, 0x4f, 0x0e, 0x9a, 0x11, 0x6b, 0x2c, 0x8d, 0x3e, 0x4f, 0x50,
];

pub fn is_system(ks: &str) -> bool {
    crate::exec::SYSTEM_KEYSPACES.contains(&ks) || ks == "system_virtual_schema"
}

type Cols<'a> = &'a [(&'a str, CqlType)];

struct Builder {
    schema: TableSchema,
    data: TableData,
}

fn text() -> CqlType {
    CqlType::Text
}
fn frozen(t: CqlType) -> CqlType {
    CqlType::Frozen(Box::new(t))
}
fn map_tt() -> CqlType {
    frozen(CqlType::Map(Box::new(text()), Box::new(text())))
}
fn list_t() -> CqlType {
    frozen(CqlType::List(Box::new(text())))
}

impl Builder {
    fn new(ks: &str, name: &str, pk: Cols, ck: Cols, regular: Cols) -> Builder {
        let mut columns = Vec::new();
        for (i, (n, t)) in pk.iter().enumerate() {
            columns.push(Column {
                name: n.to_string(),
                ty: t.clone(),
                kind: Kind::PartitionKey,
                position: i as i32,
                desc: false,
            });
        }
        for (i, (n, t)) in ck.iter().enumerate() {
            columns.push(Column {
                name: n.to_string(),
                ty: t.clone(),
                kind: Kind::Clustering,
                position: i as i32,
                desc: false,
            });
        }
        let mut reg: Vec<_> = regular.to_vec();
        reg.sort_by(|a, b| a.0.cmp(b.0));
        for (n, t) in reg {
            columns.push(Column {
                name: n.to_string(),
                ty: t,
                kind: Kind::Regular,
                position: -1,
                desc: false,
            });
        }
        let mut id = [0u8; 16];
        for (i, b) in format!("{ks}.{name}").bytes().enumerate() {
            id[i % 16] ^= b;
        }
        Builder {
            schema: TableSchema {
                keyspace: ks.into(),
                name: name.into(),
                id,
                columns,
                pk: (0..pk.len()).collect(),
                ck: (pk.len()..pk.len() + ck.len()).collect(),
                options: BTreeMap::new(),
            },
            data: TableData::default(),
        }
    }

    fn row(&mut self, vals: &[(&str, Option<Vec<u8>>)]) {
        let get = |n: &str| {
            vals.iter()
                .find(|(k, _)| *k == n)
                .and_then(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let key = |idx: &[usize]| {
            Key(idx
                .iter()
                .map(|&i| {
                    let c = &self.schema.columns[i];
                    KeyPart {
                        code: key_code(&c.ty),
                        desc: false,
                        bytes: get(&c.name),
                    }
                })
                .collect())
        };
        let (pk, ck) = (key(&self.schema.pk), key(&self.schema.ck));
        let mut row = Row {
            marker: Some(Marker {
                ts: 0,
                expire: None,
                ttl: 0,
            }),
            tomb: None,
            cells: BTreeMap::new(),
        };
        for (i, c) in self.schema.columns.iter().enumerate() {
            if c.kind == Kind::Regular {
                if let Some((_, Some(v))) = vals.iter().find(|(k, _)| *k == c.name) {
                    row.cells.insert(
                        i as u16,
                        Cell {
                            ts: 0,
                            value: Some(v.clone()),
                            expire: None,
                            ttl: 0,
                        },
                    );
                }
            }
        }
        self.data
            .partitions
            .entry(pk)
            .or_default()
            .rows
            .insert(ck, row);
    }

    fn build(self) -> Arc<Table> {
        Arc::new(Table {
            schema: self.schema,
            data: RwLock::new(self.data),
        })
    }
}

fn t(s: &str) -> Option<Vec<u8>> {
    Some(s.as_bytes().to_vec())
}
fn b(v: bool) -> Option<Vec<u8>> {
    Some(vec![v as u8])
}
fn int(v: i32) -> Option<Vec<u8>> {
    Some(v.to_be_bytes().to_vec())
}
fn dbl(v: f64) -> Option<Vec<u8>> {
    Some(v.to_be_bytes().to_vec())
}
fn list(items: &[&str]) -> Option<Vec<u8>> {
    Some(types::join_elements(
        &items
            .iter()
            .map(|s| Some(s.as_bytes().to_vec()))
            .collect::<Vec<_>>(),
        true,
    ))
}
fn map(items: &[(&str, &str)]) -> Option<Vec<u8>> {
    Some(types::join_map(
        &items
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect::<Vec<_>>(),
    ))
}
fn inet(ip: IpAddr) -> Option<Vec<u8>> {
    Some(match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    })
}

fn local(engine: &Engine) -> Builder {
    let mut bd = Builder::new(
        "system",
        "local",
        &[("key", text())],
        &[],
        &[
            ("bootstrapped", text()),
            ("broadcast_address", CqlType::Inet),
            ("broadcast_port", CqlType::Int),
            ("cluster_name", text()),
            ("cql_version", text()),
            ("data_center", text()),
            ("gossip_generation", CqlType::Int),
            ("host_id", CqlType::Uuid),
            ("listen_address", CqlType::Inet),
            ("listen_port", CqlType::Int),
            ("native_protocol_version", text()),
            ("partitioner", text()),
            ("rack", text()),
            ("release_version", text()),
            ("rpc_address", CqlType::Inet),
            ("rpc_port", CqlType::Int),
            ("schema_version", CqlType::Uuid),
            ("tokens", frozen(CqlType::Set(Box::new(text())))),
        ],
    );
    let addr = engine.listen.lock().ok().and_then(|a| *a);
    let mut ip = addr.map(|a| a.ip()).unwrap_or(IpAddr::from([127, 0, 0, 1]));
    if ip.is_unspecified() {
        ip = IpAddr::from([127, 0, 0, 1]);
    }
    let port = addr.map(|a| a.port() as i32).unwrap_or(9042);
    let version = engine.catalog().schema_version;
    bd.row(&[
        ("key", t("local")),
        ("bootstrapped", t("COMPLETED")),
        ("broadcast_address", inet(ip)),
        ("broadcast_port", int(7000)),
        ("cluster_name", t("cqlmem")),
        ("cql_version", t("3.4.5")),
        ("data_center", t("datacenter1")),
        ("gossip_generation", int(1)),
        ("host_id", Some(HOST_ID.to_vec())),
        ("listen_address", inet(ip)),
        ("listen_port", int(7000)),
        ("native_protocol_version", t("4")),
        (
            "partitioner",
            t("org.apache.cassandra.dht.Murmur3Partitioner"),
        ),
        ("rack", t("rack1")),
        ("release_version", t("4.1.0")),
        ("rpc_address", inet(ip)),
        ("rpc_port", int(port)),
        ("schema_version", Some(version.to_vec())),
        ("tokens", list(&["0"])),
    ]);
    bd
}

fn peers() -> Builder {
    Builder::new(
        "system",
        "peers",
        &[("peer", CqlType::Inet)],
        &[],
        &[
            ("data_center", text()),
            ("host_id", CqlType::Uuid),
            ("preferred_ip", CqlType::Inet),
            ("rack", text()),
            ("release_version", text()),
            ("rpc_address", CqlType::Inet),
            ("schema_version", CqlType::Uuid),
            ("tokens", frozen(CqlType::Set(Box::new(text())))),
        ],
    )
}

fn ks_tables() -> Builder {
    Builder::new(
        "system_schema",
        "keyspaces",
        &[("keyspace_name", text())],
        &[],
        &[
            ("durable_writes", CqlType::Boolean),
            ("replication", map_tt()),
        ],
    )
}

fn tables_b(name: &str, key: &str) -> Builder {
    let set_t = frozen(CqlType::Set(Box::new(text())));
    let ext = frozen(CqlType::Map(Box::new(text()), Box::new(CqlType::Blob)));
    Builder::new(
        "system_schema",
        name,
        &[("keyspace_name", text())],
        &[(key, text())],
        &[
            ("additional_write_policy", text()),
            ("bloom_filter_fp_chance", CqlType::Double),
            ("caching", map_tt()),
            ("cdc", CqlType::Boolean),
            ("comment", text()),
            ("compaction", map_tt()),
            ("compression", map_tt()),
            ("crc_check_chance", CqlType::Double),
            ("default_time_to_live", CqlType::Int),
            ("extensions", ext),
            ("flags", set_t),
            ("gc_grace_seconds", CqlType::Int),
            ("id", CqlType::Uuid),
            ("max_index_interval", CqlType::Int),
            ("memtable_flush_period_in_ms", CqlType::Int),
            ("min_index_interval", CqlType::Int),
            ("read_repair", text()),
            ("speculative_retry", text()),
        ],
    )
}

fn columns_b() -> Builder {
    Builder::new(
        "system_schema",
        "columns",
        &[("keyspace_name", text())],
        &[("table_name", text()), ("column_name", text())],
        &[
            ("clustering_order", text()),
            ("column_name_bytes", CqlType::Blob),
            ("kind", text()),
            ("position", CqlType::Int),
            ("type", text()),
        ],
    )
}

fn empty_schema_tables() -> Vec<Builder> {
    vec![
        Builder::new(
            "system_schema",
            "types",
            &[("keyspace_name", text())],
            &[("type_name", text())],
            &[("field_names", list_t()), ("field_types", list_t())],
        ),
        Builder::new(
            "system_schema",
            "functions",
            &[("keyspace_name", text())],
            &[("function_name", text()), ("argument_types", list_t())],
            &[
                ("argument_names", list_t()),
                ("body", text()),
                ("called_on_null_input", CqlType::Boolean),
                ("language", text()),
                ("return_type", text()),
            ],
        ),
        Builder::new(
            "system_schema",
            "aggregates",
            &[("keyspace_name", text())],
            &[("aggregate_name", text()), ("argument_types", list_t())],
            &[
                ("final_func", text()),
                ("initcond", text()),
                ("return_type", text()),
                ("state_func", text()),
                ("state_type", text()),
            ],
        ),
        Builder::new(
            "system_schema",
            "triggers",
            &[("keyspace_name", text())],
            &[("table_name", text()), ("trigger_name", text())],
            &[("options", map_tt())],
        ),
        Builder::new(
            "system_schema",
            "indexes",
            &[("keyspace_name", text())],
            &[("table_name", text()), ("index_name", text())],
            &[("kind", text()), ("options", map_tt())],
        ),
    ]
}

/// Schemas of every system table we serve (for system_schema.tables/columns).
fn system_schemas(engine: &Engine) -> Vec<TableSchema> {
    let mut v = vec![
        local(engine).schema,
        peers().schema,
        ks_tables().schema,
        tables_b("tables", "table_name").schema,
        columns_b().schema,
    ];
    v.push(tables_b("views", "view_name").schema);
    v.extend(empty_schema_tables().into_iter().map(|b| b.schema));
    v
}

pub(crate) fn system_keyspaces() -> Vec<KeyspaceMeta> {
    let m = |n: &str, r: &[(&str, &str)]| KeyspaceMeta {
        name: n.into(),
        replication: r
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        durable_writes: true,
    };
    let local = [("class", "org.apache.cassandra.locator.LocalStrategy")];
    vec![
        m("system", &local),
        m("system_schema", &local),
        m(
            "system_auth",
            &[
                ("class", "org.apache.cassandra.locator.SimpleStrategy"),
                ("replication_factor", "1"),
            ],
        ),
        m(
            "system_distributed",
            &[
                ("class", "org.apache.cassandra.locator.SimpleStrategy"),
                ("replication_factor", "3"),
            ],
        ),
        m(
            "system_traces",
            &[
                ("class", "org.apache.cassandra.locator.SimpleStrategy"),
                ("replication_factor", "2"),
            ],
        ),
    ]
}

fn table_row(bd: &mut Builder, s: &TableSchema, key: &str) {
    let caching = map(&[("keys", "ALL"), ("rows_per_partition", "NONE")]);
    let compaction = map(&[
        (
            "class",
            "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy",
        ),
        ("max_threshold", "32"),
        ("min_threshold", "4"),
    ]);
    let compression = map(&[
        ("chunk_length_in_kb", "16"),
        ("class", "org.apache.cassandra.io.compress.LZ4Compressor"),
    ]);
    let ttl = s
        .options
        .get("default_time_to_live")
        .and_then(|v| {
            v.trim_start_matches("Number(\"")
                .trim_end_matches("\")")
                .parse()
                .ok()
        })
        .unwrap_or(0);
    bd.row(&[
        ("keyspace_name", t(&s.keyspace)),
        (key, t(&s.name)),
        ("additional_write_policy", t("99p")),
        ("bloom_filter_fp_chance", dbl(0.01)),
        ("caching", caching),
        ("cdc", b(false)),
        ("comment", t("")),
        ("compaction", compaction),
        ("compression", compression),
        ("crc_check_chance", dbl(1.0)),
        ("default_time_to_live", int(ttl)),
        ("extensions", map(&[])),
        ("flags", list(&["compound"])),
        ("gc_grace_seconds", int(864000)),
        ("id", Some(s.id.to_vec())),
        ("max_index_interval", int(2048)),
        ("memtable_flush_period_in_ms", int(0)),
        ("min_index_interval", int(128)),
        ("read_repair", t("BLOCKING")),
        ("speculative_retry", t("99p")),
    ]);
}

fn column_rows(bd: &mut Builder, s: &TableSchema) {
    for c in &s.columns {
        let order = match c.kind {
            Kind::Clustering if c.desc => "desc",
            Kind::Clustering => "asc",
            _ => "none",
        };
        bd.row(&[
            ("keyspace_name", t(&s.keyspace)),
            ("table_name", t(&s.name)),
            ("column_name", t(&c.name)),
            ("clustering_order", t(order)),
            ("column_name_bytes", Some(c.name.as_bytes().to_vec())),
            ("kind", t(c.kind.name())),
            ("position", int(c.position)),
            ("type", t(&c.ty.cql_name())),
        ]);
    }
}

/// A system table as a throwaway in-memory table, or None if `ks` is not a system keyspace.
pub fn table(engine: &Engine, ks: &str, name: &str) -> Result<Option<Arc<Table>>> {
    if !is_system(ks) {
        return Ok(None);
    }
    let unconfigured = || Err(Error::Invalid(format!("unconfigured table {name}")));
    let cat = || engine.catalog();
    let user_tables = || -> Vec<TableSchema> {
        cat()
            .keyspaces
            .values()
            .flat_map(|k| {
                k.tables
                    .values()
                    .map(|t| t.schema.clone())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let bd = match (ks, name) {
        ("system", "local") => local(engine),
        ("system", "peers") => peers(),
        ("system_schema", "keyspaces") => {
            let mut bd = ks_tables();
            let mut metas = system_keyspaces();
            metas.extend(cat().keyspaces.values().map(|k| k.meta.clone()));
            for m in metas {
                let repl: Vec<(&str, &str)> = m
                    .replication
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                bd.row(&[
                    ("keyspace_name", t(&m.name)),
                    ("durable_writes", b(m.durable_writes)),
                    ("replication", map(&repl)),
                ]);
            }
            bd
        }
        ("system_schema", "tables") => {
            let mut bd = tables_b("tables", "table_name");
            for s in system_schemas(engine).iter().chain(user_tables().iter()) {
                table_row(&mut bd, s, "table_name");
            }
            bd
        }
        ("system_schema", "views") => tables_b("views", "view_name"),
        ("system_schema", "columns") => {
            let mut bd = columns_b();
            for s in system_schemas(engine).iter().chain(user_tables().iter()) {
                column_rows(&mut bd, s);
            }
            bd
        }
        ("system_schema", "types") => {
            let mut bd = empty_schema_tables()
                .into_iter()
                .next()
                .ok_or_else(|| Error::Server("types".into()))?;
            for k in cat().keyspaces.values() {
                for ut in k.types.values() {
                    let names: Vec<&str> = ut.fields.iter().map(|f| f.0.as_str()).collect();
                    let tys: Vec<String> = ut.fields.iter().map(|f| f.1.cql_name()).collect();
                    let tys: Vec<&str> = tys.iter().map(|s| s.as_str()).collect();
                    bd.row(&[
                        ("keyspace_name", t(&k.meta.name)),
                        ("type_name", t(&ut.name)),
                        ("field_names", list(&names)),
                        ("field_types", list(&tys)),
                    ]);
                }
            }
            bd
        }
        ("system_schema", n) => match empty_schema_tables()
            .into_iter()
            .find(|b| b.schema.name == n)
        {
            Some(bd) => bd,
            None => return unconfigured(),
        },
        ("system_virtual_schema", _) => return invalid(format!("Keyspace {ks} does not exist")),
        ("system", n) | ("system_auth", n) | ("system_distributed", n) | ("system_traces", n) => {
            let _ = n;
            return unconfigured();
        }
        _ => return unconfigured(),
    };
    Ok(Some(bd.build()))
}
