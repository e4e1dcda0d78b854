//! Table definitions read from the live cluster (`system_schema`), so a mapping is checked
//! against the real columns and types before the first record arrives.

use super::codec::CqlType;
use super::session::{classify, CqlSession};
use cassink_connector::SinkError;
use cdrs_tokio::query_values;
use cdrs_tokio::types::list::List;
use cdrs_tokio::types::{AsRustType, IntoRustByName};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    PartitionKey,
    Clustering,
    Regular,
    Static,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
    pub position: i32,
    pub ty: CqlType,
}

#[derive(Debug, Clone)]
pub struct TableSchema {
    pub keyspace: String,
    pub table: String,
    /// Partition key columns first (in key order), then clustering, then the rest.
    pub columns: Vec<Column>,
}

impl TableSchema {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
    pub fn primary_key(&self) -> impl Iterator<Item = &Column> {
        self.columns
            .iter()
            .filter(|c| matches!(c.kind, Kind::PartitionKey | Kind::Clustering))
    }
    pub fn is_counter_table(&self) -> bool {
        self.columns.iter().any(|c| c.ty == CqlType::Counter)
    }
}

fn read_err(e: impl std::fmt::Display, what: &str) -> SinkError {
    SinkError::misconfigured("DriverException", format!("cannot read {what}: {e}"))
}

/// Reads `keyspace.table` from `system_schema`. A missing table is a permanent error naming it.
pub async fn read_table(
    session: &CqlSession,
    keyspace: &str,
    table: &str,
) -> Result<TableSchema, SinkError> {
    let udts = read_udts(session, keyspace).await?;
    let envelope = session
        .query_with_values(
            "SELECT column_name, kind, position, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
            query_values!(keyspace.to_string(), table.to_string()),
        )
        .await
        .map_err(|e| classify(&e, &format!("reading the columns of {keyspace}.{table}")))?;
    let rows = envelope
        .response_body()
        .map_err(|e| read_err(e, "system_schema.columns"))?
        .into_rows()
        .unwrap_or_default();
    let mut columns = Vec::with_capacity(rows.len());
    for row in rows {
        let get = |name: &str| -> Result<String, SinkError> {
            IntoRustByName::<String>::get_by_name(&row, name)
                .map_err(|e| read_err(e, "system_schema.columns"))?
                .ok_or_else(|| read_err(format!("null {name}"), "system_schema.columns"))
        };
        let name = get("column_name")?;
        let type_text = get("type")?;
        let kind = match get("kind")?.as_str() {
            "partition_key" => Kind::PartitionKey,
            "clustering" => Kind::Clustering,
            "static" => Kind::Static,
            _ => Kind::Regular,
        };
        let position = IntoRustByName::<i32>::get_by_name(&row, "position")
            .ok()
            .flatten()
            .unwrap_or(-1);
        let ty = CqlType::parse(&type_text, &|name: &str| udts.get(name).cloned())
            .map_err(|e| SinkError::misconfigured("DriverException", format!("column {keyspace}.{table}.{name} has type {type_text}, which cassink cannot read: {e}")))?;
        columns.push(Column {
            name,
            kind,
            position,
            ty,
        });
    }
    if columns.is_empty() {
        return Err(SinkError::misconfigured(
            "InvalidQueryException",
            format!("table {keyspace}.{table} does not exist (create it first, e.g. with connectors/schema.cql)"),
        ));
    }
    columns.sort_by(|a, b| (a.kind, a.position, &a.name).cmp(&(b.kind, b.position, &b.name)));
    Ok(TableSchema {
        keyspace: keyspace.to_string(),
        table: table.to_string(),
        columns,
    })
}

/// User-defined types of a keyspace: name -> fields (name, type text).
async fn read_udts(
    session: &CqlSession,
    keyspace: &str,
) -> Result<HashMap<String, Vec<(String, String)>>, SinkError> {
    let envelope = session
        .query_with_values(
            "SELECT type_name, field_names, field_types FROM system_schema.types WHERE keyspace_name = ?",
            query_values!(keyspace.to_string()),
        )
        .await
        .map_err(|e| classify(&e, &format!("reading the types of keyspace {keyspace}")))?;
    let rows = envelope
        .response_body()
        .map_err(|e| read_err(e, "system_schema.types"))?
        .into_rows()
        .unwrap_or_default();
    let mut udts = HashMap::new();
    for row in rows {
        let name: Option<String> = row
            .get_by_name("type_name")
            .map_err(|e| read_err(e, "system_schema.types"))?;
        let names: Option<List> = row
            .get_by_name("field_names")
            .map_err(|e| read_err(e, "system_schema.types"))?;
        let types: Option<List> = row
            .get_by_name("field_types")
            .map_err(|e| read_err(e, "system_schema.types"))?;
        let (Some(name), Some(names), Some(types)) = (name, names, types) else {
            continue;
        };
        let names: Vec<String> = names
            .as_r_type()
            .map_err(|e| read_err(e, "system_schema.types"))?;
        let types: Vec<String> = types
            .as_r_type()
            .map_err(|e| read_err(e, "system_schema.types"))?;
        udts.insert(name, names.into_iter().zip(types).collect());
    }
    Ok(udts)
}
