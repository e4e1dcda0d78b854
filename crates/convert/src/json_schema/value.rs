//! A JSON payload read by its JSON Schema -> [`Value`], with the mapping of Confluent's
//! `JsonSchemaData` (`toConnectData`) under its default settings:
//!
//! * `integer` -> INT64, `number` -> FLOAT64, `string`, `boolean`; a `connect.type` annotation
//!   picks int8/int16/int32/int64/float32/float64/bytes (base64 text) instead.
//! * `object` with `properties` -> a struct of those properties (in `connect.index` order when
//!   given); properties the schema does not name are not read, as in Connect. An absent
//!   property is its `default`, else null; an explicit `null` where the schema allows no null
//!   (`type` without `"null"`, no `{"type": "null"}` branch, no default) is an error, as in
//!   Connect (`use.optional.for.nonrequired=true`: allowed for properties not `required`).
//!   `connect.type: map` -> a map (of `additionalProperties`).
//! * `array` -> an array of `items`; with `connect.type: map`, an array of `{key, value}`
//!   objects -> a map with non-string keys.
//! * `oneOf`/`anyOf`: a `{"type": "null"}` branch makes the other optional; one other branch is
//!   that branch; several -> a struct `io.confluent.connect.json.OneOf` with fields
//!   `io.confluent.connect.json.OneOf.field.<i>` where only the branch that matches is set.
//!   `allOf` merges the properties of its branches. `$ref` resolves inside the schema
//!   (`#/...`) and against the schemas it references by their registered names.
//! * `title` naming a Connect logical type (`org.apache.kafka.connect.data.Timestamp`, `Date`,
//!   `Time`, `Decimal` with `connect.parameters.scale`) reads the value as that type.
//! * `{}` / `true`: the value as schemaless JSON. Deliberately unlike Connect (which reads an
//!   `object` with no `properties` as an empty struct, dropping its content), an object schema
//!   without `properties` reads as a map, so no data is dropped.

use crate::json::envelope::{base64_decode, decimal_value};
use crate::json::Json;
use cassink_record::Value;
use schema_registry_converter::async_impl::json::JsonSchema;
use serde_json::Value as Schema;

/// A registered JSON Schema with the schemas it references (the registry client's
/// [`JsonSchema`]; tests give their own).
pub trait Registered: Sized {
    fn schema(&self) -> &Schema;
    /// Where the registry client placed it; `$ref`s to it end with its name.
    fn url(&self) -> &str;
    fn references(&self) -> &[Self];
}

impl Registered for JsonSchema {
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn url(&self) -> &str {
        self.url.as_str()
    }
    fn references(&self) -> &[Self] {
        &self.references
    }
}

const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
const DATE: &str = "org.apache.kafka.connect.data.Date";
const TIME: &str = "org.apache.kafka.connect.data.Time";
const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
const ONE_OF_FIELD: &str = "io.confluent.connect.json.OneOf.field.";
const MAX_DEPTH: usize = 64;

/// Where in the payload a value is, for messages (`$.site.id`, `$.tags[2]`); built without
/// allocating, as a chain of borrowed parents.
#[derive(Debug, Clone, Copy)]
pub enum Path<'a> {
    Root,
    Field(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root => f.write_str("$"),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// A registered schema with the schemas it references, for resolving `$ref`s.
pub struct Document<'a, S: Registered> {
    pub schema: &'a S,
    /// `use.optional.for.nonrequired`: a property not in `required` may be an explicit null.
    pub optional_for_nonrequired: bool,
}

impl<S: Registered> Document<'_, S> {
    /// Reads `json` as the document's root schema says.
    pub fn read(&self, json: Json) -> Result<Value, String> {
        self.convert(self.schema.schema(), self.schema, json, &Path::Root, 0)
    }

    /// Follows `$ref` (possibly through several hops) to the schema it names, and the
    /// document that holds it.
    fn resolve<'s>(
        &'s self,
        mut schema: &'s Schema,
        mut within: &'s S,
        path: &Path<'_>,
    ) -> Result<(&'s Schema, &'s S), String> {
        for _ in 0..MAX_DEPTH {
            let Some(reference) = schema.get("$ref").and_then(Schema::as_str) else {
                return Ok((schema, within));
            };
            let (target, fragment) = reference.split_once('#').unwrap_or((reference, ""));
            if !target.is_empty() {
                within = find_reference(within, target).ok_or_else(|| {
                    format!("{path}: $ref {reference:?} names no schema the registry gave")
                })?;
            }
            schema = if fragment.is_empty() {
                within.schema()
            } else {
                within.schema().pointer(fragment).ok_or_else(|| {
                    format!("{path}: $ref {reference:?} points at nothing in its schema")
                })?
            };
        }
        Err(format!("{path}: $ref chain is too long or circular"))
    }

    fn convert(
        &self,
        schema: &Schema,
        within: &S,
        json: Json,
        path: &Path<'_>,
        depth: usize,
    ) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(format!("{path}: nested deeper than {MAX_DEPTH} levels"));
        }
        let (schema, within) = self.resolve(schema, within, path)?;
        let Some(object) = schema.as_object() else {
            // `true` (anything) or `false` (nothing) schemas.
            return match schema {
                Schema::Bool(false) => Err(format!("{path}: the schema allows no value here")),
                _ => Ok(json.into_value()),
            };
        };
        if let Some(branches) = object
            .get("oneOf")
            .or_else(|| object.get("anyOf"))
            .and_then(Schema::as_array)
        {
            return self.union(branches, within, json, path, depth);
        }
        if let Some(branches) = object.get("allOf").and_then(Schema::as_array) {
            let merged = self.merge(branches, within, path)?;
            return self.convert(&merged, within, json, path, depth + 1);
        }
        let types = types(schema);
        if json == Json::Null {
            let (untyped, nullable) = (
                types.clone().next().is_none(),
                types.clone().any(|t| t == "null"),
            );
            if let Some(default) = object.get("default").filter(|d| !d.is_null()) {
                let default = Json::parse(default.to_string().as_bytes())?;
                return self.convert(schema, within, default, path, depth + 1);
            }
            if untyped || nullable {
                return Ok(Value::Null);
            }
            let types: Vec<&str> = types.collect();
            return Err(format!(
                "{path}: null, but the schema's type {types:?} does not allow null"
            ));
        }
        let connect_type = object.get("connect.type").and_then(Schema::as_str);
        let title = object.get("title").and_then(Schema::as_str);
        let kind = types.clone().find(|t| *t != "null");
        match (kind, json) {
            (Some("integer"), json) => integer(schema, connect_type, title, json, path),
            (Some("number"), json) => number(schema, connect_type, title, json, path),
            (Some("string"), Json::String(s)) => match (connect_type, title) {
                (Some("bytes"), _) => {
                    Ok(Value::Bytes(base64_decode(&s, &path.to_string())?.into()))
                }
                (_, Some(DECIMAL)) => {
                    decimal_value(Json::String(s), scale(schema)?, &path.to_string())
                }
                _ => Ok(Value::String(s)),
            },
            (Some("boolean"), Json::Bool(b)) => Ok(Value::Boolean(b)),
            (Some("object"), Json::Object(fields)) => {
                self.object(object, within, connect_type, fields, path, depth)
            }
            (Some("array"), Json::Array(items)) => {
                self.array(object, within, connect_type, items, path, depth)
            }
            (Some(expected), found) => Err(format!(
                "{path}: expected {expected} as the schema says, found {}",
                found.kind()
            )),
            (None, Json::Object(fields)) if object.contains_key("properties") => {
                self.object(object, within, connect_type, fields, path, depth)
            }
            // `enum`/`const` without a type, and `{}`: the value as it is.
            (None, json) => Ok(json.into_value()),
        }
    }

    fn object(
        &self,
        object: &serde_json::Map<String, Schema>,
        within: &S,
        connect_type: Option<&str>,
        mut fields: indexmap::IndexMap<String, Json>,
        path: &Path<'_>,
        depth: usize,
    ) -> Result<Value, String> {
        let properties = object.get("properties").and_then(Schema::as_object);
        let Some(properties) = properties.filter(|_| connect_type != Some("map")) else {
            let values = object
                .get("additionalProperties")
                .unwrap_or(&Schema::Bool(true));
            let mut entries = Vec::with_capacity(fields.len());
            for (key, json) in fields {
                let at = Path::Field(path, &key);
                let value = self.convert(values, within, json, &at, depth + 1)?;
                entries.push((Value::String(key), value));
            }
            return Ok(Value::Map(entries));
        };
        let index = |s: &Schema| s.get("connect.index").and_then(Schema::as_i64);
        let mut ordered: Vec<(&String, &Schema)> = properties.iter().collect();
        if properties.values().any(|p| index(p).is_some()) {
            ordered.sort_by_key(|(_, s)| index(s).unwrap_or(i64::MAX));
        }
        let required = |name: &str| {
            object
                .get("required")
                .and_then(Schema::as_array)
                .is_some_and(|r| r.iter().any(|n| n.as_str() == Some(name)))
        };
        let mut out = Vec::with_capacity(ordered.len());
        for (name, property) in ordered {
            let at = Path::Field(path, name);
            let value = match fields.swap_remove(name.as_str()) {
                Some(Json::Null) if self.optional_for_nonrequired && !required(name) => Value::Null,
                Some(json) => self.convert(property, within, json, &at, depth + 1)?,
                None => {
                    let (property, within) = self.resolve(property, within, &at)?;
                    match property.get("default").filter(|d| !d.is_null()) {
                        Some(default) => {
                            let default = Json::parse(default.to_string().as_bytes())?;
                            self.convert(property, within, default, &at, depth + 1)?
                        }
                        None => Value::Null,
                    }
                }
            };
            out.push((name.clone(), value));
        }
        Ok(Value::Struct(out))
    }

    fn array(
        &self,
        object: &serde_json::Map<String, Schema>,
        within: &S,
        connect_type: Option<&str>,
        items: Vec<Json>,
        path: &Path<'_>,
        depth: usize,
    ) -> Result<Value, String> {
        let item_schema = object.get("items").unwrap_or(&Schema::Bool(true));
        if connect_type == Some("map") {
            let (entry, entry_within) = self.resolve(item_schema, within, path)?;
            let part = |name: &str| {
                entry
                    .pointer(&format!("/properties/{name}"))
                    .unwrap_or(&Schema::Bool(true))
            };
            let mut entries = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let at = Path::Index(path, i);
                let Json::Object(mut pair) = item else {
                    return Err(format!(
                        "{at}: expected a {{key, value}} object for a map entry"
                    ));
                };
                let key = pair.swap_remove("key").unwrap_or(Json::Null);
                let value = pair.swap_remove("value").unwrap_or(Json::Null);
                entries.push((
                    self.convert(part("key"), entry_within, key, &at, depth + 1)?,
                    self.convert(part("value"), entry_within, value, &at, depth + 1)?,
                ));
            }
            return Ok(Value::Map(entries));
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            // `items` as an array (tuple validation) gives each position its own schema.
            let schema = match item_schema {
                Schema::Array(per_position) => per_position.get(i).unwrap_or(&Schema::Bool(true)),
                one => one,
            };
            let at = Path::Index(path, i);
            out.push(self.convert(schema, within, item, &at, depth + 1)?);
        }
        Ok(Value::Array(out))
    }

    fn union(
        &self,
        branches: &[Schema],
        within: &S,
        json: Json,
        path: &Path<'_>,
        depth: usize,
    ) -> Result<Value, String> {
        let mut others = Vec::new();
        let mut nullable = false;
        for branch in branches {
            let (resolved, _) = self.resolve(branch, within, path)?;
            let mut kinds = types(resolved);
            if kinds.next() == Some("null") && kinds.next().is_none() {
                nullable = true;
            } else {
                others.push(branch);
            }
        }
        if json == Json::Null {
            return match nullable || others.is_empty() {
                true => Ok(Value::Null),
                false => Err(format!(
                    "{path}: null, but no branch of the union allows null"
                )),
            };
        }
        if let [only] = others.as_slice() {
            return self.convert(only, within, json, path, depth + 1);
        }
        let mut chosen = None;
        for (i, branch) in others.iter().enumerate() {
            let (resolved, _) = self.resolve(branch, within, path)?;
            if accepts(resolved, &json) {
                chosen = Some(i);
                break;
            }
        }
        let Some(chosen) = chosen else {
            return Err(format!(
                "{path}: no branch of the union accepts a {}",
                json.kind()
            ));
        };
        let mut fields = Vec::with_capacity(others.len());
        let mut json = Some(json);
        for (i, branch) in others.iter().enumerate() {
            let value = match (i == chosen, json.take()) {
                (true, Some(json)) => self.convert(branch, within, json, path, depth + 1)?,
                (_, rest) => {
                    json = rest;
                    Value::Null
                }
            };
            fields.push((format!("{ONE_OF_FIELD}{i}"), value));
        }
        Ok(Value::Struct(fields))
    }

    /// `allOf`: the branches' `properties` and `required` together, and the first `type`.
    fn merge(&self, branches: &[Schema], within: &S, path: &Path<'_>) -> Result<Schema, String> {
        let mut merged = serde_json::Map::new();
        let mut properties = serde_json::Map::new();
        for branch in branches {
            let (resolved, _) = self.resolve(branch, within, path)?;
            let Some(object) = resolved.as_object() else {
                continue;
            };
            for (key, value) in object {
                match key.as_str() {
                    "properties" => {
                        if let Some(p) = value.as_object() {
                            properties.extend(p.clone());
                        }
                    }
                    _ => {
                        merged.entry(key.clone()).or_insert_with(|| value.clone());
                    }
                }
            }
        }
        if !properties.is_empty() {
            merged.insert("properties".into(), Schema::Object(properties));
            merged.entry("type").or_insert_with(|| "object".into());
        }
        Ok(Schema::Object(merged))
    }
}

/// The schema's `type`s (one or a list), without allocating.
fn types(schema: &Schema) -> impl Iterator<Item = &str> + Clone {
    let (one, many) = match schema.get("type") {
        Some(Schema::String(t)) => (Some(t.as_str()), None),
        Some(Schema::Array(list)) => (None, Some(list.iter().filter_map(Schema::as_str))),
        _ => (None, None),
    };
    one.into_iter().chain(many.into_iter().flatten())
}

/// Whether a union branch takes a value of this JSON kind (the branch to read it with).
fn accepts(schema: &Schema, json: &Json) -> bool {
    let mut types = types(schema);
    if types.clone().next().is_none() {
        return true;
    }
    types.any(|t| match (t, json) {
        ("integer", Json::Int(_)) => true,
        ("integer", Json::Float(f)) => f.fract() == 0.0,
        ("number", Json::Int(_) | Json::Float(_)) => true,
        ("string", Json::String(_)) => true,
        ("boolean", Json::Bool(_)) => true,
        ("object", Json::Object(_)) => true,
        ("array", Json::Array(_)) => true,
        _ => false,
    })
}

/// The referenced schema a `$ref` target names: by registered name (the end of its URL) or
/// by its `$id`.
fn find_reference<'s, S: Registered>(within: &'s S, target: &str) -> Option<&'s S> {
    within.references().iter().find(|r| {
        r.url().ends_with(target.trim_start_matches("./"))
            || r.schema().get("$id").and_then(Schema::as_str) == Some(target)
    })
}

fn scale(schema: &Schema) -> Result<i32, String> {
    let raw = schema.pointer("/connect.parameters/scale");
    let parsed = match raw {
        Some(Schema::String(s)) => s.parse().ok(),
        Some(Schema::Number(n)) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
        _ => None,
    };
    parsed.ok_or_else(|| "Decimal schema without a connect.parameters.scale".to_string())
}

fn integer(
    schema: &Schema,
    connect_type: Option<&str>,
    title: Option<&str>,
    json: Json,
    path: &Path<'_>,
) -> Result<Value, String> {
    let n = match json {
        Json::Int(i) => i,
        Json::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => f as i64,
        other => {
            return Err(format!(
                "{path}: expected integer as the schema says, found {}",
                describe(&other)
            ))
        }
    };
    let range = |ty: &str| format!("{path}: {n} is out of range for {ty}");
    match (title, connect_type) {
        (Some(TIMESTAMP), _) => n
            .checked_mul(1000)
            .map(Value::Timestamp)
            .ok_or_else(|| range("Timestamp")),
        (Some(DATE), _) => i32::try_from(n).map(Value::Date).map_err(|_| range("Date")),
        (Some(TIME), _) => Ok(Value::Time(
            n.checked_mul(1000).ok_or_else(|| range("Time"))?,
        )),
        (Some(DECIMAL), _) => decimal_value(Json::Int(n), scale(schema)?, &path.to_string()),
        (_, Some("int8")) => i8::try_from(n).map(Value::Int8).map_err(|_| range("int8")),
        (_, Some("int16")) => i16::try_from(n)
            .map(Value::Int16)
            .map_err(|_| range("int16")),
        (_, Some("int32")) => i32::try_from(n)
            .map(Value::Int32)
            .map_err(|_| range("int32")),
        _ => Ok(Value::Int64(n)),
    }
}

fn number(
    schema: &Schema,
    connect_type: Option<&str>,
    title: Option<&str>,
    json: Json,
    path: &Path<'_>,
) -> Result<Value, String> {
    if title == Some(DECIMAL) {
        return decimal_value(json, scale(schema)?, &path.to_string());
    }
    let f = match json {
        Json::Int(i) => i as f64,
        Json::Float(f) => f,
        other => {
            return Err(format!(
                "{path}: expected number as the schema says, found {}",
                describe(&other)
            ))
        }
    };
    Ok(match connect_type {
        Some("float32") => Value::Float32(f as f32),
        Some("int8" | "int16" | "int32" | "int64") => {
            return integer(schema, connect_type, title, Json::Float(f), path)
        }
        _ => Value::Float64(f),
    })
}

fn describe(json: &Json) -> String {
    match json {
        Json::Float(f) => format!("the number {f}"),
        other => other.kind().to_string(),
    }
}
