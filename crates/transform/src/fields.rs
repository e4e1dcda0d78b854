//! The transforms that reshape a key or value: `InsertField`, `ReplaceField`, `ExtractField`,
//! `HoistField`, `ValueToKey`, `MaskField`, `Flatten`, `Cast`, `SetSchemaMetadata`, with
//! Connect's config keys and defaults. Structs (records with schemas) and maps with string
//! keys (schemaless JSON) are both handled; what comes out has the shape that went in.

use super::{FieldSyntax, Settings, Side, Transform, TransformConfigError};
use cassink_record::{SinkRecord, Value};

pub const CLASSES: &[(&str, bool)] = &[
    ("InsertField", true),
    ("ReplaceField", true),
    ("ExtractField", true),
    ("HoistField", true),
    ("ValueToKey", false),
    ("MaskField", true),
    ("Flatten", true),
    ("Cast", true),
    ("SetSchemaMetadata", true),
];

type Built = Option<Result<Box<dyn Transform>, TransformConfigError>>;

pub fn build(name: &str, side: Option<Side>, s: &Settings) -> Built {
    let boxed = |t: Result<Box<dyn Transform>, TransformConfigError>| Some(t);
    match (name, side) {
        ("ValueToKey", None) => boxed(value_to_key(s)),
        (_, None) => None,
        ("InsertField", Some(side)) => boxed(insert_field(side, s)),
        ("ReplaceField", Some(side)) => boxed(replace_field(side, s)),
        ("ExtractField", Some(side)) => boxed(extract_field(side, s)),
        ("HoistField", Some(side)) => boxed(hoist_field(side, s)),
        ("MaskField", Some(side)) => boxed(mask_field(side, s)),
        ("Flatten", Some(side)) => boxed(flatten(side, s)),
        ("Cast", Some(side)) => boxed(cast(side, s)),
        ("SetSchemaMetadata", Some(side)) => {
            // Only the schema's name and version change; cassink's records carry values, which
            // stay as they are. A schemaless map has no schema to change, as Connect says.
            if s.get("schema.name").is_none() && s.get("schema.version").is_none() {
                return boxed(Err(
                    s.error("schema.name", "Neither schema name nor version configured")
                ));
            }
            if let Some(v) = s.get("schema.version") {
                if v.parse::<i32>().is_err() {
                    return boxed(Err(s.error("schema.version", "must be an integer")));
                }
            }
            boxed(on(side, |value, _| match value {
                Value::Map(_) => Err("Schema required for [updating schema metadata]".into()),
                other => Ok(other),
            }))
        }
        _ => None,
    }
}

/// A transform defined by a function over the key or value. A null key or value passes
/// through, unless `needs_value` names the purpose of a transform that Connect fails on null.
struct OnPart<F> {
    side: Side,
    f: F,
    needs_value: Option<&'static str>,
}

impl<F> Transform for OnPart<F>
where
    F: Fn(Value, &SinkRecord) -> Result<Value, String> + Send + Sync,
{
    fn apply(&self, mut record: SinkRecord) -> Result<Option<SinkRecord>, String> {
        let taken = match self.side {
            Side::Key => record.key.take(),
            Side::Value => record.value.take(),
        };
        let Some(value) = taken.filter(|v| !v.is_null()) else {
            if let Some(purpose) = self.needs_value {
                return Err(null_error(purpose));
            }
            return Ok(Some(record));
        };
        let out = (self.f)(value, &record)?;
        match self.side {
            Side::Key => record.key = Some(out),
            Side::Value => record.value = Some(out),
        }
        Ok(Some(record))
    }
}

pub(crate) fn on<F>(side: Side, f: F) -> Result<Box<dyn Transform>, TransformConfigError>
where
    F: Fn(Value, &SinkRecord) -> Result<Value, String> + Send + Sync + 'static,
{
    Ok(Box::new(OnPart {
        side,
        f,
        needs_value: None,
    }))
}

/// [`on`] for a transform that fails on a null key or value, as Connect's does.
fn on_value<F>(
    side: Side,
    purpose: &'static str,
    f: F,
) -> Result<Box<dyn Transform>, TransformConfigError>
where
    F: Fn(Value, &SinkRecord) -> Result<Value, String> + Send + Sync + 'static,
{
    Ok(Box::new(OnPart {
        side,
        f,
        needs_value: Some(purpose),
    }))
}

/// Connect's error for a transform that needs a struct or map and got null.
pub(crate) fn null_error(purpose: &str) -> String {
    format!("Only Struct objects or Maps are supported for [{purpose}], found: null")
}

/// A struct's fields or a string-keyed map's entries, to work on by name.
pub(crate) struct Object {
    pub fields: Vec<(String, Value)>,
    is_map: bool,
}

impl Object {
    /// Opens a struct or a map with string keys; `purpose` names the transform for messages.
    pub fn open(value: Value, purpose: &str) -> Result<Object, String> {
        match value {
            Value::Struct(fields) => Ok(Object {
                fields,
                is_map: false,
            }),
            Value::Map(entries) => {
                let mut fields = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    match k {
                        Value::String(k) => fields.push((k, v)),
                        other => {
                            return Err(format!(
                                "{purpose} needs string keys, found a {} key",
                                other.type_name()
                            ))
                        }
                    }
                }
                Ok(Object {
                    fields,
                    is_map: true,
                })
            }
            other => Err(format!(
                "Only Struct objects or Maps are supported for [{purpose}], found: {}",
                other.type_name()
            )),
        }
    }

    pub fn like(is_map: bool, fields: Vec<(String, Value)>) -> Object {
        Object { fields, is_map }
    }

    pub fn is_map(&self) -> bool {
        self.is_map
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub fn take(&mut self, name: &str) -> Option<Value> {
        let at = self.fields.iter().position(|(k, _)| k == name)?;
        Some(self.fields.remove(at).1)
    }

    pub fn put(&mut self, name: String, value: Value) {
        match self.fields.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name, value)),
        }
    }

    pub fn close(self) -> Value {
        if self.is_map {
            Value::Map(
                self.fields
                    .into_iter()
                    .map(|(k, v)| (Value::String(k), v))
                    .collect(),
            )
        } else {
            Value::Struct(self.fields)
        }
    }
}

/// A field spec with Connect's optional `!` (required) / `?` (optional) suffix stripped.
fn field_name(raw: &str) -> String {
    raw.trim_end_matches(['!', '?']).to_string()
}

fn insert_field(side: Side, s: &Settings) -> Result<Box<dyn Transform>, TransformConfigError> {
    let name = |key: &str| s.get(key).map(field_name);
    let (topic, partition, offset, timestamp) = (
        name("topic.field"),
        name("partition.field"),
        name("offset.field"),
        name("timestamp.field"),
    );
    let statik = name("static.field").map(|f| (f, s.get("static.value").unwrap_or("").to_string()));
    on(side, move |value, record| {
        let mut object = Object::open(value, "field insertion")?;
        let schemaless = object.is_map();
        if let Some(f) = &topic {
            object.put(f.clone(), Value::String(record.topic.to_string()));
        }
        if let Some(f) = &partition {
            object.put(f.clone(), Value::Int32(record.position.partition));
        }
        if let Some(f) = &offset {
            object.put(f.clone(), Value::Int64(record.position.offset));
        }
        if let (Some(f), Some(ms)) = (&timestamp, record.timestamp_ms) {
            // Schemaless: the epoch milliseconds; with a schema: a Timestamp.
            let v = if schemaless {
                Value::Int64(ms)
            } else {
                Value::Timestamp(ms.saturating_mul(1000))
            };
            object.put(f.clone(), v);
        }
        if let Some((f, v)) = &statik {
            object.put(f.clone(), Value::String(v.clone()));
        }
        Ok(object.close())
    })
}

fn replace_field(side: Side, s: &Settings) -> Result<Box<dyn Transform>, TransformConfigError> {
    let mut exclude = s.list("exclude");
    exclude.extend(s.list("blacklist"));
    let mut include = s.list("include");
    include.extend(s.list("whitelist"));
    let mut renames = Vec::new();
    for pair in s.list("renames") {
        let (from, to) = pair
            .split_once(':')
            .filter(|(a, b)| !a.is_empty() && !b.is_empty())
            .ok_or_else(|| {
                s.error(
                    "renames",
                    &format!("invalid rename {pair:?}: expected comma-separated old:new pairs"),
                )
            })?;
        renames.push((from.to_string(), to.to_string()));
    }
    on(side, move |value, _| {
        let object = Object::open(value, "field replacement")?;
        let is_map = object.is_map();
        let kept = object
            .fields
            .into_iter()
            .filter(|(k, _)| !exclude.contains(k) && (include.is_empty() || include.contains(k)))
            .map(|(k, v)| match renames.iter().find(|(from, _)| *from == k) {
                Some((_, to)) => (to.clone(), v),
                None => (k, v),
            })
            .collect();
        Ok(Object::like(is_map, kept).close())
    })
}

fn extract_field(side: Side, s: &Settings) -> Result<Box<dyn Transform>, TransformConfigError> {
    let field = s.required("field")?.to_string();
    let path = match s.field_syntax(true)? {
        FieldSyntax::V1 => vec![field.clone()],
        FieldSyntax::V2 => parse_path(&field).map_err(|e| s.error("field", &e))?,
    };
    on(side, move |value, _| {
        let (last, parents) = path.split_last().ok_or("empty field path")?;
        let mut current = value;
        for step in parents {
            let mut object = Object::open(current, "nested field access")?;
            match object.take(step) {
                Some(v) if !v.is_null() => current = v,
                Some(_) => return Ok(Value::Null),
                None if object.is_map() => return Ok(Value::Null),
                None => return Err(format!("Unknown field: {field}")),
            }
        }
        let mut object = Object::open(current, "field extraction")?;
        match object.take(last) {
            Some(v) => Ok(v),
            None if object.is_map() => Ok(Value::Null),
            None => Err(format!("Unknown field: {field}")),
        }
    })
}

/// A `field.syntax.version=V2` path: segments split on `.`; a segment in backticks may hold
/// dots, a backtick closing only before a `.` or the end, and `` \` `` is a literal backtick.
pub(crate) fn parse_path(raw: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = raw.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    loop {
        let mut step = String::new();
        if chars.get(i) == Some(&'`') {
            let open = i;
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(format!(
                            "Incomplete backtick pair in path: [{raw}], consider adding a \
                             backslash before backtick at position {open} to escape it"
                        ))
                    }
                    Some('\\') if chars.get(i + 1) == Some(&'`') => {
                        step.push('`');
                        i += 2;
                    }
                    Some('`') if matches!(chars.get(i + 1), None | Some('.')) => {
                        i += 1;
                        break;
                    }
                    Some(c) => {
                        step.push(*c);
                        i += 1;
                    }
                }
            }
        } else {
            while let Some(c) = chars.get(i).filter(|c| **c != '.') {
                step.push(*c);
                i += 1;
            }
        }
        steps.push(step);
        match chars.get(i) {
            Some('.') => i += 1,
            _ => return Ok(steps),
        }
    }
}

struct HoistField {
    side: Side,
    field: String,
}

impl Transform for HoistField {
    /// Wraps the key or value, a null one too (`{field: null}`), as Connect does.
    fn apply(&self, mut record: SinkRecord) -> Result<Option<SinkRecord>, String> {
        let slot = match self.side {
            Side::Key => &mut record.key,
            Side::Value => &mut record.value,
        };
        let value = slot.take().unwrap_or(Value::Null);
        // Schemaless (maps, and nulls without a schema) hoist into a map.
        let is_map = matches!(value, Value::Map(_) | Value::Null);
        *slot = Some(Object::like(is_map, vec![(self.field.clone(), value)]).close());
        Ok(Some(record))
    }
}

fn hoist_field(side: Side, s: &Settings) -> Result<Box<dyn Transform>, TransformConfigError> {
    let field = s.required("field")?.to_string();
    Ok(Box::new(HoistField { side, field }))
}

struct ValueToKey {
    /// (the key field's name as configured, its path in the value)
    fields: Vec<(String, Vec<String>)>,
}

/// The value at `path` in `value` (`Ok(None)` where a map lacks a step or a step is null; an
/// error where a struct lacks it or a step is not a struct or map).
fn lookup<'v>(value: &'v Value, path: &[String], name: &str) -> Result<Option<&'v Value>, String> {
    let mut current = value;
    for step in path {
        current = match current {
            Value::Null => return Ok(None),
            Value::Struct(_) => match current.field(step) {
                Some(v) => v,
                None => return Err(format!("Field does not exist: {name}")),
            },
            Value::Map(_) => match current.field(step) {
                Some(v) => v,
                None => return Ok(None),
            },
            other => {
                return Err(format!(
                    "Only Struct objects or Maps are supported for [copying fields from value \
                     to key], found: {}",
                    other.type_name()
                ))
            }
        };
    }
    Ok(Some(current))
}

impl Transform for ValueToKey {
    fn apply(&self, mut record: SinkRecord) -> Result<Option<SinkRecord>, String> {
        let value = match record.value.as_ref().filter(|v| !v.is_null()) {
            Some(v @ (Value::Struct(_) | Value::Map(_))) => v,
            Some(other) => {
                return Err(format!(
                    "Only Struct objects or Maps are supported for [copying fields from value \
                     to key], found: {}",
                    other.type_name()
                ))
            }
            None => {
                return Err(super::fields::null_error(
                    "copying fields from value to key",
                ))
            }
        };
        let is_map = matches!(value, Value::Map(_));
        let mut key = Vec::with_capacity(self.fields.len());
        for (name, path) in &self.fields {
            let found = lookup(value, path, name)?.cloned().unwrap_or(Value::Null);
            key.push((name.clone(), found));
        }
        record.key = Some(Object::like(is_map, key).close());
        Ok(Some(record))
    }
}

fn value_to_key(s: &Settings) -> Result<Box<dyn Transform>, TransformConfigError> {
    let syntax = s.field_syntax(true)?;
    let names = s.list("fields");
    if names.is_empty() {
        return Err(s.error(
            "fields",
            "is required: the value fields to copy into the key",
        ));
    }
    let mut fields = Vec::with_capacity(names.len());
    for name in names {
        let path = match syntax {
            FieldSyntax::V1 => vec![name.clone()],
            FieldSyntax::V2 => parse_path(&name).map_err(|e| s.error("fields", &e))?,
        };
        fields.push((name, path));
    }
    Ok(Box::new(ValueToKey { fields }))
}

fn mask_field(side: Side, s: &Settings) -> Result<Box<dyn Transform>, TransformConfigError> {
    let fields = s.list("fields");
    if fields.is_empty() {
        return Err(s.error("fields", "is required: the fields to mask"));
    }
    let replacement = s.get("replacement").map(String::from);
    on_value(side, "mask fields", move |value, _| {
        let mut object = Object::open(value, "mask fields")?;
        for (k, v) in object.fields.iter_mut() {
            if fields.contains(k) {
                *v = masked(v, replacement.as_deref()).map_err(|e| format!("field {k}: {e}"))?;
            }
        }
        Ok(object.close())
    })
}

/// A field's masked value: its type's empty value, or the replacement read as that type.
fn masked(value: &Value, replacement: Option<&str>) -> Result<Value, String> {
    let Some(r) = replacement else {
        return Ok(match value {
            Value::Boolean(_) => Value::Boolean(false),
            Value::Int8(_) => Value::Int8(0),
            Value::Int16(_) => Value::Int16(0),
            Value::Int32(_) => Value::Int32(0),
            Value::Int64(_) => Value::Int64(0),
            Value::Float32(_) => Value::Float32(0.0),
            Value::Float64(_) => Value::Float64(0.0),
            Value::String(_) => Value::String(String::new()),
            Value::Bytes(_) => Value::Bytes(Default::default()),
            Value::Array(_) => Value::Array(vec![]),
            Value::Map(_) => Value::Map(vec![]),
            Value::Decimal { scale, .. } => Value::Decimal {
                unscaled: vec![0],
                scale: *scale,
            },
            Value::Date(_) => Value::Date(0),
            Value::Time(_) => Value::Time(0),
            Value::Timestamp(_) => Value::Timestamp(0),
            Value::Null => Value::Null,
            other => return Err(format!("cannot mask a {}", other.type_name())),
        });
    };
    let bad = || {
        format!(
            "cannot mask a {} with the replacement {r:?}",
            value.type_name()
        )
    };
    Ok(match value {
        Value::String(_) => Value::String(r.to_string()),
        Value::Int8(_) => Value::Int8(r.parse().map_err(|_| bad())?),
        Value::Int16(_) => Value::Int16(r.parse().map_err(|_| bad())?),
        Value::Int32(_) => Value::Int32(r.parse().map_err(|_| bad())?),
        Value::Int64(_) => Value::Int64(r.parse().map_err(|_| bad())?),
        Value::Float32(_) => Value::Float32(r.parse().map_err(|_| bad())?),
        Value::Float64(_) => Value::Float64(r.parse().map_err(|_| bad())?),
        Value::Null => Value::Null,
        _ => return Err(bad()),
    })
}

fn flatten(side: Side, s: &Settings) -> Result<Box<dyn Transform>, TransformConfigError> {
    let delimiter = s
        .config
        .get(&s.key("delimiter"))
        .cloned()
        .unwrap_or_else(|| ".".to_string());
    on(side, move |value, _| {
        let object = Object::open(value, "flattening")?;
        let is_map = object.is_map();
        let mut out = Vec::new();
        flatten_into(&mut out, "", object.fields, &delimiter);
        Ok(Object::like(is_map, out).close())
    })
}

fn flatten_into(
    out: &mut Vec<(String, Value)>,
    prefix: &str,
    fields: Vec<(String, Value)>,
    d: &str,
) {
    for (k, v) in fields {
        let name = if prefix.is_empty() {
            k
        } else {
            format!("{prefix}{d}{k}")
        };
        match v {
            Value::Struct(inner) => flatten_into(out, &name, inner, d),
            Value::Map(entries) if entries.iter().all(|(k, _)| matches!(k, Value::String(_))) => {
                let inner = entries
                    .into_iter()
                    .filter_map(|(k, v)| match k {
                        Value::String(k) => Some((k, v)),
                        _ => None,
                    })
                    .collect();
                flatten_into(out, &name, inner, d)
            }
            other => out.push((name, other)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CastType {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
}

impl CastType {
    fn parse(raw: &str) -> Option<CastType> {
        Some(match raw.trim() {
            "int8" => CastType::Int8,
            "int16" => CastType::Int16,
            "int32" => CastType::Int32,
            "int64" => CastType::Int64,
            "float32" => CastType::Float32,
            "float64" => CastType::Float64,
            "boolean" => CastType::Boolean,
            "string" => CastType::String,
            _ => return None,
        })
    }
}

fn cast(side: Side, s: &Settings) -> Result<Box<dyn Transform>, TransformConfigError> {
    let spec = s.list("spec");
    if spec.is_empty() {
        return Err(s.error("spec", "is required: a type, or field:type pairs"));
    }
    let bad = |item: &str| {
        s.error(
            "spec",
            &format!(
                "invalid cast {item:?}: expected a type or field:type with a type among int8, \
                 int16, int32, int64, float32, float64, boolean, string"
            ),
        )
    };
    let whole = match spec.as_slice() {
        [only] if !only.contains(':') => Some(CastType::parse(only).ok_or_else(|| bad(only))?),
        _ => None,
    };
    let mut per_field = Vec::new();
    if whole.is_none() {
        for item in &spec {
            let (field, ty) = item.split_once(':').ok_or_else(|| bad(item))?;
            per_field.push((
                field.trim().to_string(),
                CastType::parse(ty).ok_or_else(|| bad(item))?,
            ));
        }
    }
    on(side, move |value, _| {
        if let Some(ty) = whole {
            return cast_value(value, ty);
        }
        let mut object = Object::open(value, "cast types")?;
        for (k, v) in object.fields.iter_mut() {
            if let Some((_, ty)) = per_field.iter().find(|(f, _)| f == k) {
                let taken = std::mem::replace(v, Value::Null);
                *v = cast_value(taken, *ty).map_err(|e| format!("field {k}: {e}"))?;
            }
        }
        Ok(object.close())
    })
}

fn cast_value(value: Value, ty: CastType) -> Result<Value, String> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let as_i64 = |v: &Value| -> Option<i64> {
        Some(match v {
            Value::Int8(i) => i64::from(*i),
            Value::Int16(i) => i64::from(*i),
            Value::Int32(i) => i64::from(*i),
            Value::Int64(i) => *i,
            // Java's (long) of a double: truncation, saturating, NaN -> 0.
            Value::Float32(f) => *f as i64,
            Value::Float64(f) => *f as i64,
            Value::Boolean(b) => i64::from(*b),
            _ => return None,
        })
    };
    let as_f64 = |v: &Value| -> Option<f64> {
        Some(match v {
            Value::Float32(f) => f64::from(*f),
            Value::Float64(f) => *f,
            other => as_i64(other)? as f64,
        })
    };
    let bad = |v: &Value| format!("cannot cast a {} to {ty:?}", v.type_name());
    if let Value::String(s) = &value {
        let parse_err = |_: std::num::ParseIntError| {
            format!("Value ({s}) was out of range for requested data type {ty:?}")
        };
        let float_err = |_: std::num::ParseFloatError| {
            format!("Value ({s}) was out of range for requested data type {ty:?}")
        };
        return Ok(match ty {
            CastType::Int8 => Value::Int8(s.parse().map_err(parse_err)?),
            CastType::Int16 => Value::Int16(s.parse().map_err(parse_err)?),
            CastType::Int32 => Value::Int32(s.parse().map_err(parse_err)?),
            CastType::Int64 => Value::Int64(s.parse().map_err(parse_err)?),
            CastType::Float32 => Value::Float32(s.trim().parse().map_err(float_err)?),
            CastType::Float64 => Value::Float64(s.trim().parse().map_err(float_err)?),
            CastType::Boolean => Value::Boolean(s.eq_ignore_ascii_case("true")),
            CastType::String => value,
        });
    }
    Ok(match ty {
        // Narrowing wraps, as Java's byteValue()/shortValue()/intValue() of a long do.
        CastType::Int8 => Value::Int8(as_i64(&value).ok_or_else(|| bad(&value))? as i8),
        CastType::Int16 => Value::Int16(as_i64(&value).ok_or_else(|| bad(&value))? as i16),
        CastType::Int32 => Value::Int32(match &value {
            Value::Float32(f) => *f as i32,
            Value::Float64(f) => *f as i32,
            other => as_i64(other).ok_or_else(|| bad(other))? as i32,
        }),
        CastType::Int64 => Value::Int64(as_i64(&value).ok_or_else(|| bad(&value))?),
        CastType::Float32 => Value::Float32(as_f64(&value).ok_or_else(|| bad(&value))? as f32),
        CastType::Float64 => Value::Float64(match &value {
            Value::Float32(f) => f64::from(*f),
            other => as_f64(other).ok_or_else(|| bad(other))?,
        }),
        CastType::Boolean => Value::Boolean(match &value {
            Value::Boolean(b) => *b,
            other => as_i64(other).ok_or_else(|| bad(other))? != 0,
        }),
        CastType::String => Value::String(match &value {
            Value::Boolean(b) => b.to_string(),
            Value::Float32(f) => java_float(f64::from(*f), &f.to_string()),
            Value::Float64(f) => java_float(*f, &f.to_string()),
            Value::Bytes(b) => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(b)
            }
            Value::Timestamp(us) => chrono::DateTime::from_timestamp_micros(*us)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                .ok_or_else(|| bad(&value))?,
            other => match as_i64(other) {
                Some(i) => i.to_string(),
                None => return Err(bad(other)),
            },
        }),
    })
}

/// Java's `Double.toString`/`Float.toString` from the shortest round-trip digits (`digits`,
/// Rust's `Display`): plain between 10^-3 and 10^7 with at least one fraction digit, else
/// computerized scientific notation (`1.0E7`, `1.5E-4`).
pub(crate) fn java_float(value: f64, digits: &str) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let magnitude = value.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        return if digits.contains('.') {
            digits.to_string()
        } else {
            format!("{digits}.0")
        };
    }
    // Scientific: mantissa digits from the shortest form.
    let sign = if value < 0.0 { "-" } else { "" };
    let plain: String = digits.trim_start_matches('-').replace('.', "");
    let first_nonzero = plain.find(|c: char| c != '0').unwrap_or(0);
    let significant = plain[first_nonzero..].trim_end_matches('0');
    let significant = if significant.is_empty() {
        "0"
    } else {
        significant
    };
    let int_len = digits
        .trim_start_matches('-')
        .split('.')
        .next()
        .map_or(0, str::len) as i64;
    let exponent = int_len - 1 - first_nonzero as i64;
    let (head, tail) = significant.split_at(1);
    let tail = if tail.is_empty() { "0" } else { tail };
    format!("{sign}{head}.{tail}E{exponent}")
}
