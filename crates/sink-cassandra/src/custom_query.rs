//! `topic.<t>.<ks>.<table>.query`: a user's CQL statement with named bind markers
//! (`:column`) replacing the generated INSERT, as in the DataStax sink. Each marker takes the
//! value the mapping gives the column of the same name; the types come from the prepared
//! statement's metadata, so the statement may target any table or use any CQL it likes.

use super::codec::CqlType;
use super::config::TableConfig;
use super::statement::{BoundColumn, Plan};
use cdrs_tokio::frame::message_result::{
    ColSpec, ColType, ColTypeOption, ColTypeOptionValue, PreparedMetadata,
};

/// CQL type of a bind marker, from the protocol's type option.
pub fn cql_type(option: &ColTypeOption) -> Result<CqlType, String> {
    let inner = |value: &Option<ColTypeOptionValue>| -> Result<CqlType, String> {
        match value {
            Some(ColTypeOptionValue::CList(t)) | Some(ColTypeOptionValue::CSet(t)) => cql_type(t),
            _ => Err("a collection without its element type".into()),
        }
    };
    Ok(match option.id {
        ColType::Ascii => CqlType::Ascii,
        ColType::Bigint => CqlType::BigInt,
        ColType::Blob => CqlType::Blob,
        ColType::Boolean => CqlType::Boolean,
        ColType::Counter => CqlType::Counter,
        ColType::Decimal => CqlType::Decimal,
        ColType::Double => CqlType::Double,
        ColType::Float => CqlType::Float,
        ColType::Int => CqlType::Int,
        ColType::Timestamp => CqlType::Timestamp,
        ColType::Uuid => CqlType::Uuid,
        ColType::Varchar => CqlType::Text,
        ColType::Varint => CqlType::VarInt,
        ColType::Timeuuid => CqlType::TimeUuid,
        ColType::Inet => CqlType::Inet,
        ColType::Date => CqlType::Date,
        ColType::Time => CqlType::Time,
        ColType::Smallint => CqlType::SmallInt,
        ColType::Tinyint => CqlType::TinyInt,
        ColType::Duration => CqlType::Duration,
        ColType::List => CqlType::List(Box::new(inner(&option.value)?)),
        ColType::Set => CqlType::Set(Box::new(inner(&option.value)?)),
        ColType::Map => match &option.value {
            Some(ColTypeOptionValue::CMap(k, v)) => {
                CqlType::Map(Box::new(cql_type(k)?), Box::new(cql_type(v)?))
            }
            _ => return Err("a map without its key and value types".into()),
        },
        ColType::Tuple => match &option.value {
            Some(ColTypeOptionValue::TupleType(t)) => {
                CqlType::Tuple(t.types.iter().map(cql_type).collect::<Result<_, _>>()?)
            }
            _ => return Err("a tuple without its types".into()),
        },
        ColType::Udt => match &option.value {
            Some(ColTypeOptionValue::UdtType(u)) => CqlType::Udt {
                keyspace: u.ks.clone(),
                name: u.udt_name.clone(),
                fields: u
                    .descriptions
                    .iter()
                    .map(|(n, t)| Ok((n.clone(), cql_type(t)?)))
                    .collect::<Result<_, String>>()?,
            },
            _ => return Err("a user type without its fields".into()),
        },
        _ => return Err(format!("type {:?} is not supported", option.id)),
    })
}

/// The plan of a custom query: one bound column per marker, in marker order.
pub fn plan(table: &TableConfig, query: &str, metadata: &PreparedMetadata) -> Result<Plan, String> {
    let key = format!("topic.{}.{}.query", table.topic, table.name());
    let mut columns = Vec::with_capacity(metadata.col_specs.len());
    for (index, ColSpec { name, col_type, .. }) in metadata.col_specs.iter().enumerate() {
        let entry = table
            .mapping
            .columns()
            .find(|e| &e.column == name)
            .ok_or_else(|| {
                format!(
                    "{key} binds :{name}, but the mapping has no {name}=... entry (mapped: {})",
                    mapped(table)
                )
            })?;
        let ty = cql_type(col_type).map_err(|e| format!("{key}: bind marker :{name}: {e}"))?;
        let partition_key = metadata.pk_indexes.contains(&(index as i16));
        columns.push(BoundColumn {
            name: name.clone(),
            ty,
            source: entry.source.clone(),
            primary_key: partition_key,
            partition_key,
            hint: Default::default(),
        });
    }
    if columns.is_empty() {
        return Err(format!(
            "{key} has no bind markers: use :column markers for the mapped columns"
        ));
    }
    Ok(Plan {
        columns,
        insert: query.to_string(),
        delete: None,
        counter: false,
        custom: true,
        binds_ttl: false,
    })
}

fn mapped(table: &TableConfig) -> String {
    table
        .mapping
        .columns()
        .map(|e| e.column.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
