//! The catalog (keyspaces, user types, tables) and per-table data behind their own locks.

pub mod data;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use crate::types::CqlType;
pub use data::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    PartitionKey,
    Clustering,
    Static,
    Regular,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::PartitionKey => "partition_key",
            Kind::Clustering => "clustering",
            Kind::Static => "static",
            Kind::Regular => "regular",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub ty: CqlType,
    pub kind: Kind,
    /// Position within the partition key / clustering key, -1 otherwise.
    pub position: i32,
    pub desc: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableSchema {
    pub keyspace: String,
    pub name: String,
    pub id: [u8; 16],
    /// Ordered as `SELECT *` returns them: partition key, clustering, then the rest by name.
    pub columns: Vec<Column>,
    pub pk: Vec<usize>,
    pub ck: Vec<usize>,
    pub options: BTreeMap<String, String>,
}

impl TableSchema {
    pub fn column(&self, name: &str) -> Option<(usize, &Column)> {
        self.columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name)
    }

    pub fn is_counter(&self) -> bool {
        self.columns.iter().any(|c| c.ty == CqlType::Counter)
    }
}

#[derive(Debug)]
pub struct Table {
    pub schema: TableSchema,
    pub data: RwLock<TableData>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserType {
    pub name: String,
    pub fields: Vec<(String, CqlType)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyspaceMeta {
    pub name: String,
    pub replication: BTreeMap<String, String>,
    pub durable_writes: bool,
}

#[derive(Debug)]
pub struct Keyspace {
    pub meta: KeyspaceMeta,
    pub types: BTreeMap<String, UserType>,
    pub tables: BTreeMap<String, Arc<Table>>,
}

/// All user schema; `schema_version` changes on every DDL.
#[derive(Debug)]
pub struct Catalog {
    pub keyspaces: BTreeMap<String, Keyspace>,
    pub schema_version: [u8; 16],
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog {
            keyspaces: BTreeMap::new(),
            schema_version: *uuid::Uuid::new_v4().as_bytes(),
        }
    }
}

impl Catalog {
    pub fn bump_version(&mut self) {
        self.schema_version = *uuid::Uuid::new_v4().as_bytes();
    }

    pub fn table(&self, ks: &str, name: &str) -> Option<Arc<Table>> {
        self.keyspaces.get(ks)?.tables.get(name).cloned()
    }
}

/// What `--data-dir` persists.
#[derive(Debug, Serialize, Deserialize)]
pub struct Snapshot {
    pub keyspaces: Vec<SnapshotKeyspace>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SnapshotKeyspace {
    pub meta: KeyspaceMeta,
    pub types: Vec<UserType>,
    pub tables: Vec<(TableSchema, TableData)>,
}

impl Catalog {
    pub fn to_snapshot(&self) -> Snapshot {
        let keyspaces = self
            .keyspaces
            .values()
            .map(|ks| SnapshotKeyspace {
                meta: ks.meta.clone(),
                types: ks.types.values().cloned().collect(),
                tables: ks
                    .tables
                    .values()
                    .map(|t| {
                        let data = t.data.read().map(|d| d.clone()).unwrap_or_default();
                        (t.schema.clone(), data)
                    })
                    .collect(),
            })
            .collect();
        Snapshot { keyspaces }
    }

    pub fn from_snapshot(s: Snapshot) -> Catalog {
        let mut c = Catalog::default();
        for ks in s.keyspaces {
            let tables = ks
                .tables
                .into_iter()
                .map(|(schema, data)| {
                    (
                        schema.name.clone(),
                        Arc::new(Table {
                            schema,
                            data: RwLock::new(data),
                        }),
                    )
                })
                .collect();
            let types = ks.types.into_iter().map(|t| (t.name.clone(), t)).collect();
            c.keyspaces.insert(
                ks.meta.name.clone(),
                Keyspace {
                    meta: ks.meta,
                    types,
                    tables,
                },
            );
        }
        c
    }
}
