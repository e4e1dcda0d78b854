//! Statement execution against the catalog: dispatch, DDL and USE.

pub mod conditions;
pub mod prepare;
pub mod select;
pub mod write;
use write::Phase;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::cql::ast::*;
use crate::error::{invalid, Error, Result};
use crate::literal::{self, Binds};
use crate::protocol::{ColSpec, QueryResult, SchemaChange};
use crate::storage::*;
use crate::types::CqlType;

/// Counters reported by `GET /stats`.
#[derive(Debug, Default)]
pub struct Stats {
    pub connections: AtomicU64,
    pub open_connections: AtomicU64,
    pub requests: AtomicU64,
    pub writes: AtomicU64,
    pub reads: AtomicU64,
}

#[derive(Debug)]
pub struct Prepared {
    pub statement: Statement,
    pub keyspace: Option<String>,
    pub variables: Vec<ColSpec>,
    pub pk_indexes: Vec<u16>,
    pub result: Vec<ColSpec>,
}

/// Shared server state.
#[derive(Debug)]
pub struct Engine {
    pub catalog: RwLock<Catalog>,
    pub prepared: RwLock<HashMap<Vec<u8>, Arc<Prepared>>>,
    pub stats: Stats,
    pub dirty: AtomicBool,
    pub listen: Mutex<Option<SocketAddr>>,
}

/// Per-request options from QUERY/EXECUTE/BATCH parameters.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub page_size: Option<i32>,
    pub paging_state: Option<Vec<u8>>,
    pub default_timestamp: Option<i64>,
}

pub const SYSTEM_KEYSPACES: [&str; 5] = [
    "system",
    "system_schema",
    "system_auth",
    "system_distributed",
    "system_traces",
];

impl Engine {
    pub fn new(catalog: Catalog) -> Engine {
        Engine {
            catalog: RwLock::new(catalog),
            prepared: RwLock::new(HashMap::new()),
            stats: Stats::default(),
            dirty: AtomicBool::new(false),
            listen: Mutex::new(None),
        }
    }

    pub fn catalog(&self) -> std::sync::RwLockReadGuard<'_, Catalog> {
        self.catalog.read().unwrap_or_else(|e| e.into_inner())
    }

    fn catalog_mut(&self) -> std::sync::RwLockWriteGuard<'_, Catalog> {
        self.dirty.store(true, Ordering::Relaxed);
        self.catalog.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Relaxed);
    }

    /// Resolves `[ks.]table` against the session keyspace; system tables are materialized.
    pub fn table(&self, t: &TableRef, session_ks: Option<&str>) -> Result<Arc<Table>> {
        let ks = keyspace_of(t, session_ks)?;
        if let Some(sys) = crate::system::table(self, &ks, &t.name)? {
            return Ok(sys);
        }
        let cat = self.catalog();
        let k = cat
            .keyspaces
            .get(&ks)
            .ok_or_else(|| Error::Invalid(format!("Keyspace {ks} does not exist")))?;
        k.tables
            .get(&t.name)
            .cloned()
            .ok_or_else(|| Error::Invalid(format!("unconfigured table {}", t.name)))
    }

    pub fn execute(
        &self,
        st: &Statement,
        session: &Mutex<Option<String>>,
        binds: &Binds,
        opts: &ExecOptions,
    ) -> Result<QueryResult> {
        let ks = session.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let ks = ks.as_deref();
        match st {
            Statement::Use(name) => {
                if !self.catalog().keyspaces.contains_key(name)
                    && !SYSTEM_KEYSPACES.contains(&name.as_str())
                {
                    return invalid(format!("Keyspace '{name}' does not exist"));
                }
                *session.lock().unwrap_or_else(|e| e.into_inner()) = Some(name.clone());
                Ok(QueryResult::SetKeyspace(name.clone()))
            }
            Statement::Select(s) => select::select(self, s, ks, binds, opts),
            Statement::Insert { .. } | Statement::Update { .. } | Statement::Delete { .. } => {
                self.stats.writes.fetch_add(1, Ordering::Relaxed);
                write::write(self, st, ks, binds, opts.default_timestamp, Phase::Apply)
            }
            Statement::Batch {
                using, statements, ..
            } => {
                self.stats.writes.fetch_add(1, Ordering::Relaxed);
                let ts = write::batch_timestamp(using, binds, opts.default_timestamp)?;
                for phase in [Phase::Check, Phase::Apply] {
                    for s in statements {
                        write::write(self, s, ks, binds, Some(ts), phase)?;
                    }
                }
                Ok(QueryResult::Void)
            }
            Statement::Describe(d) => crate::system::describe(self, d, ks),
            _ => self.ddl(st, ks),
        }
    }

    fn ddl(&self, st: &Statement, session_ks: Option<&str>) -> Result<QueryResult> {
        match st {
            Statement::CreateKeyspace {
                name,
                if_not_exists,
                options,
            } => {
                let meta = keyspace_meta(name, options)?;
                let mut cat = self.catalog_mut();
                if cat.keyspaces.contains_key(name) || SYSTEM_KEYSPACES.contains(&name.as_str()) {
                    if *if_not_exists {
                        return Ok(QueryResult::Void);
                    }
                    return Err(Error::AlreadyExists {
                        msg: format!("Keyspace {name} already exists"),
                        keyspace: name.clone(),
                        table: String::new(),
                    });
                }
                cat.keyspaces.insert(
                    name.clone(),
                    Keyspace {
                        meta,
                        types: BTreeMap::new(),
                        tables: BTreeMap::new(),
                    },
                );
                cat.bump_version();
                Ok(QueryResult::SchemaChange(SchemaChange::Keyspace(
                    "CREATED",
                    name.clone(),
                )))
            }
            Statement::AlterKeyspace { name, options } => {
                let meta = keyspace_meta(name, options)?;
                let mut cat = self.catalog_mut();
                let ks = cat
                    .keyspaces
                    .get_mut(name)
                    .ok_or_else(|| Error::Invalid(format!("Keyspace '{name}' does not exist")))?;
                ks.meta = meta;
                cat.bump_version();
                Ok(QueryResult::SchemaChange(SchemaChange::Keyspace(
                    "UPDATED",
                    name.clone(),
                )))
            }
            Statement::DropKeyspace { name, if_exists } => {
                let mut cat = self.catalog_mut();
                if cat.keyspaces.remove(name).is_none() {
                    if *if_exists {
                        return Ok(QueryResult::Void);
                    }
                    return invalid(format!("Cannot drop non existing keyspace '{name}'."));
                }
                cat.bump_version();
                Ok(QueryResult::SchemaChange(SchemaChange::Keyspace(
                    "DROPPED",
                    name.clone(),
                )))
            }
            Statement::CreateTable(ct) => self.create_table(ct, session_ks),
            Statement::DropTable { table, if_exists } => {
                let ks = keyspace_of(table, session_ks)?;
                let mut cat = self.catalog_mut();
                let k = cat
                    .keyspaces
                    .get_mut(&ks)
                    .ok_or_else(|| Error::Invalid(format!("Keyspace {ks} does not exist")))?;
                if k.tables.remove(&table.name).is_none() {
                    if *if_exists {
                        return Ok(QueryResult::Void);
                    }
                    return invalid(format!("Table '{ks}.{}' doesn't exist", table.name));
                }
                cat.bump_version();
                Ok(QueryResult::SchemaChange(SchemaChange::Table(
                    "DROPPED",
                    ks,
                    table.name.clone(),
                )))
            }
            Statement::Truncate(t) => {
                let table = self.table(t, session_ks)?;
                if SYSTEM_KEYSPACES.contains(&table.schema.keyspace.as_str()) {
                    return invalid("Cannot truncate a system table");
                }
                table
                    .data
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .partitions
                    .clear();
                self.mark_dirty();
                Ok(QueryResult::Void)
            }
            Statement::CreateType {
                name,
                if_not_exists,
                fields,
            } => {
                let ks = keyspace_of(name, session_ks)?;
                let mut cat = self.catalog_mut();
                let resolved = {
                    let k = cat
                        .keyspaces
                        .get(&ks)
                        .ok_or_else(|| Error::Invalid(format!("Keyspace {ks} does not exist")))?;
                    if k.types.contains_key(&name.name) {
                        if *if_not_exists {
                            return Ok(QueryResult::Void);
                        }
                        return Err(Error::AlreadyExists {
                            msg: format!("A user type with name '{}' already exists", name.name),
                            keyspace: ks,
                            table: name.name.clone(),
                        });
                    }
                    let lookup = udt_lookup(k, &ks);
                    fields
                        .iter()
                        .map(|(n, t)| Ok((n.clone(), CqlType::resolve(t, &lookup)?)))
                        .collect::<Result<Vec<_>>>()?
                };
                if let Some(k) = cat.keyspaces.get_mut(&ks) {
                    k.types.insert(
                        name.name.clone(),
                        UserType {
                            name: name.name.clone(),
                            fields: resolved,
                        },
                    );
                }
                cat.bump_version();
                Ok(QueryResult::SchemaChange(SchemaChange::Type(
                    "CREATED",
                    ks,
                    name.name.clone(),
                )))
            }
            Statement::DropType { name, if_exists } => {
                let ks = keyspace_of(name, session_ks)?;
                let mut cat = self.catalog_mut();
                let removed = cat
                    .keyspaces
                    .get_mut(&ks)
                    .and_then(|k| k.types.remove(&name.name));
                if removed.is_none() {
                    if *if_exists {
                        return Ok(QueryResult::Void);
                    }
                    return invalid(format!("No user type named {} exists.", name.name));
                }
                cat.bump_version();
                Ok(QueryResult::SchemaChange(SchemaChange::Type(
                    "DROPPED",
                    ks,
                    name.name.clone(),
                )))
            }
            Statement::CreateIndex => invalid("Secondary indexes are not supported by cqlmem"),
            Statement::AlterTable { .. } => invalid("ALTER TABLE is not supported by cqlmem"),
            _ => invalid("Unsupported statement"),
        }
    }

    fn create_table(&self, ct: &CreateTable, session_ks: Option<&str>) -> Result<QueryResult> {
        let ks = keyspace_of(&ct.table, session_ks)?;
        let mut cat = self.catalog_mut();
        let k = cat
            .keyspaces
            .get(&ks)
            .ok_or_else(|| Error::Invalid(format!("Keyspace {ks} does not exist")))?;
        if k.tables.contains_key(&ct.table.name) {
            if ct.if_not_exists {
                return Ok(QueryResult::Void);
            }
            return Err(Error::AlreadyExists {
                msg: format!("Table {ks}.{} already exists", ct.table.name),
                keyspace: ks,
                table: ct.table.name.clone(),
            });
        }
        let schema = build_schema(&ks, ct, &udt_lookup(k, &ks))?;
        let name = ct.table.name.clone();
        if let Some(k) = cat.keyspaces.get_mut(&ks) {
            k.tables.insert(
                name.clone(),
                Arc::new(Table {
                    schema,
                    data: RwLock::new(TableData::default()),
                }),
            );
        }
        cat.bump_version();
        Ok(QueryResult::SchemaChange(SchemaChange::Table(
            "CREATED", ks, name,
        )))
    }
}

fn udt_lookup<'a>(k: &'a Keyspace, ks: &'a str) -> impl Fn(&str) -> Option<CqlType> + 'a {
    move |n: &str| {
        k.types.get(n).map(|t| CqlType::Udt {
            keyspace: ks.to_string(),
            name: t.name.clone(),
            fields: t.fields.clone(),
        })
    }
}

pub fn keyspace_of(t: &TableRef, session_ks: Option<&str>) -> Result<String> {
    match (&t.keyspace, session_ks) {
        (Some(k), _) => Ok(k.clone()),
        (None, Some(k)) => Ok(k.to_string()),
        (None, None) => invalid(
            "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename",
        ),
    }
}

fn keyspace_meta(name: &str, options: &[(String, Term)]) -> Result<KeyspaceMeta> {
    let mut replication = BTreeMap::new();
    let mut durable_writes = true;
    for (k, v) in options {
        match (k.as_str(), v) {
            ("replication", Term::Map(entries)) => {
                for (mk, mv) in entries {
                    let key = term_text(mk)?;
                    let val = term_text(mv)?;
                    replication.insert(key, val);
                }
            }
            ("durable_writes", Term::Bool(b)) => durable_writes = *b,
            (k, _) => return Err(Error::Syntax(format!("Unknown property '{k}'"))),
        }
    }
    let class = replication
        .get("class")
        .cloned()
        .ok_or_else(|| Error::Invalid("Missing replication strategy class".into()))?;
    let full = match class.as_str() {
        "SimpleStrategy" | "NetworkTopologyStrategy" | "LocalStrategy" | "EverywhereStrategy" => {
            format!("org.apache.cassandra.locator.{class}")
        }
        c if c.starts_with("org.apache.cassandra.locator.") => c.to_string(),
        c => {
            return Err(
                Error::Server(format!("Unable to find replication strategy class '{c}'"))
                    .into_config(),
            )
        }
    };
    if full.ends_with("SimpleStrategy") && !replication.contains_key("replication_factor") {
        return Err(Error::Server(
            "SimpleStrategy requires a replication_factor strategy option.".into(),
        )
        .into_config());
    }
    replication.insert("class".into(), full);
    Ok(KeyspaceMeta {
        name: name.to_string(),
        replication,
        durable_writes,
    })
}

impl Error {
    /// Cassandra reports bad replication options as ConfigurationException (0x2300);
    /// we map them to Invalid, which drivers treat alike.
    fn into_config(self) -> Error {
        Error::Invalid(self.to_string())
    }
}

fn term_text(t: &Term) -> Result<String> {
    match t {
        Term::Str(s) | Term::Number(s) | Term::Ident(s) => Ok(s.clone()),
        Term::Bool(b) => Ok(b.to_string()),
        _ => invalid("Invalid replication option value"),
    }
}

fn build_schema(
    ks: &str,
    ct: &CreateTable,
    udt: &dyn Fn(&str) -> Option<CqlType>,
) -> Result<TableSchema> {
    if ct.partition_key.is_empty() {
        return invalid(format!(
            "No PRIMARY KEY specifed for table '{}' (exactly one required)",
            ct.table.name
        ));
    }
    let decl = |n: &str| {
        ct.columns.iter().find(|c| c.name == n).ok_or_else(|| {
            Error::Invalid(format!("Unknown definition {n} referenced in PRIMARY KEY"))
        })
    };
    let mut columns = Vec::new();
    for (i, n) in ct.partition_key.iter().enumerate() {
        let d = decl(n)?;
        columns.push(Column {
            name: n.clone(),
            ty: freeze(CqlType::resolve(&d.ty, udt)?),
            kind: Kind::PartitionKey,
            position: i as i32,
            desc: false,
        });
    }
    for (i, n) in ct.clustering.iter().enumerate() {
        let d = decl(n)?;
        let desc = ct.order.iter().any(|(c, d)| c == n && *d);
        columns.push(Column {
            name: n.clone(),
            ty: freeze(CqlType::resolve(&d.ty, udt)?),
            kind: Kind::Clustering,
            position: i as i32,
            desc,
        });
    }
    for (c, _) in &ct.order {
        if !ct.clustering.contains(c) {
            return invalid(format!("Missing CLUSTERING ORDER for column {c}"));
        }
    }
    let mut rest: Vec<&ColumnDecl> = ct
        .columns
        .iter()
        .filter(|c| !ct.partition_key.contains(&c.name) && !ct.clustering.contains(&c.name))
        .collect();
    rest.sort_by(|a, b| (!a.is_static, &a.name).cmp(&(!b.is_static, &b.name)));
    for d in rest {
        if columns.iter().any(|c: &Column| c.name == d.name) {
            return invalid(format!("Multiple definition of identifier {}", d.name));
        }
        let mut ty = CqlType::resolve(&d.ty, udt)?;
        if matches!(ty, CqlType::Udt { .. } | CqlType::Tuple(_)) {
            ty = CqlType::Frozen(Box::new(ty));
        }
        columns.push(Column {
            name: d.name.clone(),
            ty,
            kind: if d.is_static {
                Kind::Static
            } else {
                Kind::Regular
            },
            position: -1,
            desc: false,
        });
    }
    let has_counter = columns.iter().any(|c| c.ty == CqlType::Counter);
    if has_counter
        && columns
            .iter()
            .any(|c| matches!(c.kind, Kind::Regular | Kind::Static) && c.ty != CqlType::Counter)
    {
        return invalid("Cannot mix counter and non counter columns in the same table");
    }
    let n_pk = ct.partition_key.len();
    let n_ck = ct.clustering.len();
    let mut options = BTreeMap::new();
    for (k, v) in &ct.options {
        options.insert(k.clone(), format!("{v:?}"));
    }
    Ok(TableSchema {
        keyspace: ks.to_string(),
        name: ct.table.name.clone(),
        id: *uuid::Uuid::new_v4().as_bytes(),
        columns,
        pk: (0..n_pk).collect(),
        ck: (n_pk..n_pk + n_ck).collect(),
        options,
    })
}

/// Key columns of collection/UDT/tuple type are implicitly frozen.
fn freeze(t: CqlType) -> CqlType {
    match t {
        CqlType::List(_)
        | CqlType::Set(_)
        | CqlType::Map(..)
        | CqlType::Udt { .. }
        | CqlType::Tuple(_) => CqlType::Frozen(Box::new(t)),
        t => t,
    }
}

pub fn now_secs() -> i64 {
    literal::now_secs()
}
