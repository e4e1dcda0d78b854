//! Collections, tuples and user types. Protocol v4: a collection is an i32 count then each
//! element as i32 length + bytes (no nulls); a tuple or UDT is each field as i32 length + bytes,
//! or -1 for null. JSON text is accepted wherever a container is expected (DataStax does so).

use super::{encode, encode_non_null, CodecError, CodecSettings, CqlType};
use cassink_convert::json::Json;
use cassink_record::Value;
use std::borrow::Cow;
use std::collections::HashSet;

pub fn encode_collection(
    value: &Value,
    ty: &CqlType,
    settings: &CodecSettings,
) -> Result<Vec<u8>, String> {
    let value = from_json_text(value)?;
    match (ty, value.as_ref()) {
        (CqlType::List(item), Value::Array(items)) => elements(items, item, settings, false),
        (CqlType::Set(item), Value::Array(items)) => elements(items, item, settings, true),
        (CqlType::Map(k, v), Value::Map(entries)) => {
            let entries: Vec<(&Value, &Value)> = entries.iter().map(|(k, v)| (k, v)).collect();
            map(&entries, k, v, settings)
        }
        (CqlType::Map(k, v), Value::Struct(fields)) => {
            let keys: Vec<Value> = fields
                .iter()
                .map(|(n, _)| Value::String(n.clone()))
                .collect();
            let entries: Vec<(&Value, &Value)> =
                keys.iter().zip(fields.iter().map(|(_, v)| v)).collect();
            map(&entries, k, v, settings)
        }
        (CqlType::Tuple(types), Value::Array(items)) => {
            if items.len() != types.len() {
                return Err(format!(
                    "the tuple has {} components, the array {}",
                    types.len(),
                    items.len()
                ));
            }
            let mut out = Vec::new();
            for (i, (item, ty)) in items.iter().zip(types).enumerate() {
                let bytes =
                    encode(item, ty, settings).map_err(|e| at(&format!("component {i}"), e))?;
                write_field(&mut out, bytes.as_deref())?;
            }
            Ok(out)
        }
        (CqlType::Udt { name, fields, .. }, Value::Struct(_) | Value::Map(_)) => {
            udt(&value, name, fields, settings)
        }
        (ty, other) => Err(format!(
            "{} cannot hold {}",
            kind(ty),
            match other {
                Value::String(_) => "text that is not JSON of the right shape".to_string(),
                v => format!("a {}", v.type_name()),
            }
        )),
    }
}

fn kind(ty: &CqlType) -> &'static str {
    match ty {
        CqlType::List(_) => "a list (from an array)",
        CqlType::Set(_) => "a set (from an array)",
        CqlType::Map(..) => "a map (from a map or struct)",
        CqlType::Tuple(_) => "a tuple (from an array)",
        _ => "a user type (from a struct or map)",
    }
}

/// JSON text stands for the container it spells.
fn from_json_text(value: &Value) -> Result<Cow<'_, Value>, String> {
    match value {
        Value::String(text) if text.trim_start().starts_with(['[', '{']) => {
            let json = Json::parse(text.as_bytes()).map_err(|e| format!("invalid JSON: {e}"))?;
            Ok(Cow::Owned(json.into_value()))
        }
        other => Ok(Cow::Borrowed(other)),
    }
}

fn at(place: &str, e: CodecError) -> String {
    format!("{place}: {e}")
}

fn write_len(out: &mut Vec<u8>, len: usize) -> Result<(), String> {
    let len = i32::try_from(len).map_err(|_| "it is too large for a CQL value".to_string())?;
    out.extend_from_slice(&len.to_be_bytes());
    Ok(())
}

fn write_field(out: &mut Vec<u8>, bytes: Option<&[u8]>) -> Result<(), String> {
    match bytes {
        Some(b) => {
            write_len(out, b.len())?;
            out.extend_from_slice(b);
        }
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
    }
    Ok(())
}

fn element(
    value: &Value,
    ty: &CqlType,
    settings: &CodecSettings,
    place: &str,
) -> Result<Vec<u8>, String> {
    if value.is_null() {
        return Err(format!(
            "{place} is null, and collections cannot hold nulls"
        ));
    }
    encode_non_null(value, ty, settings).map_err(|e| at(place, e))
}

fn elements(
    items: &[Value],
    ty: &CqlType,
    settings: &CodecSettings,
    dedupe: bool,
) -> Result<Vec<u8>, String> {
    let mut encoded = Vec::with_capacity(items.len());
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let bytes = element(item, ty, settings, &format!("element {i}"))?;
        if !dedupe || seen.insert(bytes.clone()) {
            encoded.push(bytes);
        }
    }
    let mut out = Vec::new();
    write_len(&mut out, encoded.len())?;
    for bytes in &encoded {
        write_field(&mut out, Some(bytes))?;
    }
    Ok(out)
}

fn map(
    entries: &[(&Value, &Value)],
    key_ty: &CqlType,
    value_ty: &CqlType,
    settings: &CodecSettings,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    write_len(&mut out, entries.len())?;
    for (i, (k, v)) in entries.iter().enumerate() {
        let key = element(k, key_ty, settings, &format!("key {i}"))?;
        let value = element(v, value_ty, settings, &format!("value of key {i}"))?;
        write_field(&mut out, Some(&key))?;
        write_field(&mut out, Some(&value))?;
    }
    Ok(out)
}

/// A UDT from a struct or string-keyed map, by field name (exact, else case-insensitive).
/// Missing fields are null; a field the type does not have is an error, so that a misspelt
/// field never silently loses data.
fn udt(
    value: &Value,
    name: &str,
    fields: &[(String, CqlType)],
    settings: &CodecSettings,
) -> Result<Vec<u8>, String> {
    let given = value.field_names();
    if let Value::Map(entries) = value {
        if let Some((k, _)) = entries.iter().find(|(k, _)| !matches!(k, Value::String(_))) {
            return Err(format!(
                "user type fields are named by text, not by a {}",
                k.type_name()
            ));
        }
    }
    let matches = |field: &str, key: &str| field == key || field.eq_ignore_ascii_case(key);
    if let Some(unknown) = given
        .iter()
        .find(|g| !fields.iter().any(|(f, _)| matches(f, g)))
    {
        let names: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
        return Err(format!(
            "user type {name} has no field {unknown:?} (fields: {})",
            names.join(", ")
        ));
    }
    let mut out = Vec::new();
    for (field, ty) in fields {
        let found = value
            .field(field)
            .or_else(|| {
                given
                    .iter()
                    .find(|g| g.eq_ignore_ascii_case(field))
                    .and_then(|g| value.field(g))
            })
            .unwrap_or(&Value::Null);
        let bytes = encode(found, ty, settings).map_err(|e| at(&format!("field {field}"), e))?;
        write_field(&mut out, bytes.as_deref())?;
    }
    Ok(out)
}
