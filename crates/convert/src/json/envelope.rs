//! The `JsonConverter` envelope (`schemas.enable=true`): `{"schema": {...}, "payload": ...}`
//! with Connect's JSON schema (`type` int8/16/32/64, float, double, boolean, string, bytes,
//! array `items`, map `keys`/`values`, struct `fields`; `optional`, `name`, `parameters`,
//! `default`) and the logical types Decimal, Date, Time and Timestamp.
//!
//! Connect itself reads a mismatched payload leniently (`intValue()` of a string is 0); we
//! reject it with an error naming the path, the expected type and what was found instead.
//! Maps whose key schema is not `string` are encoded as arrays of `[key, value]` pairs.

use super::Json;
use base64::Engine;
use cassink_record::Value;
use num_bigint::BigInt;

pub const ENVELOPE_ERROR: &str = "JsonConverter with schemas.enable requires \"schema\" and \
\"payload\" fields and may not contain additional fields. If you are trying to deserialize plain \
JSON data, set schemas.enable=false in your converter configuration.";

pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
pub const DATE: &str = "org.apache.kafka.connect.data.Date";
pub const TIME: &str = "org.apache.kafka.connect.data.Time";
pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";

/// `decimal.format`: how Decimal payloads are written. Reading accepts both, as Connect does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalFormat {
    Base64,
    Numeric,
}

impl DecimalFormat {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_uppercase().as_str() {
            "BASE64" => Some(DecimalFormat::Base64),
            "NUMERIC" => Some(DecimalFormat::Numeric),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Type {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Bytes,
    Array(Box<Schema>),
    Map(Box<Schema>, Box<Schema>),
    Struct(Vec<(String, Schema)>),
}

#[derive(Debug, Clone, PartialEq)]
struct Schema {
    ty: Type,
    optional: bool,
    name: Option<String>,
    scale: Option<Result<i32, String>>,
    default: Option<Json>,
}

impl Type {
    fn name(&self) -> &'static str {
        match self {
            Type::Int8 => "int8",
            Type::Int16 => "int16",
            Type::Int32 => "int32",
            Type::Int64 => "int64",
            Type::Float32 => "float",
            Type::Float64 => "double",
            Type::Boolean => "boolean",
            Type::String => "string",
            Type::Bytes => "bytes",
            Type::Array(_) => "array",
            Type::Map(..) => "map",
            Type::Struct(_) => "struct",
        }
    }
}

/// Converts a parsed envelope. A `"schema": null` envelope reads the payload schemaless.
pub fn convert_envelope(json: Json) -> Result<Value, String> {
    let Json::Object(mut envelope) = json else {
        return Err(ENVELOPE_ERROR.into());
    };
    if envelope.len() != 2 {
        return Err(ENVELOPE_ERROR.into());
    }
    let (Some(schema), Some(payload)) = (
        envelope.swap_remove("schema"),
        envelope.swap_remove("payload"),
    ) else {
        return Err(ENVELOPE_ERROR.into());
    };
    if schema == Json::Null {
        return Ok(payload.into_value());
    }
    let schema = parse_schema(&schema, "schema")?;
    convert(&schema, payload, "payload")
}

fn parse_schema(json: &Json, path: &str) -> Result<Schema, String> {
    let Json::Object(obj) = json else {
        return Err(format!(
            "{path}: a schema must be a JSON object, found {}",
            json.kind()
        ));
    };
    let ty_name = match obj.get("type") {
        Some(Json::String(t)) => t.as_str(),
        Some(other) => {
            return Err(format!(
                "{path}: schema \"type\" must be a string, found {}",
                other.kind()
            ))
        }
        None => return Err(format!("{path}: schema must contain 'type' field")),
    };
    let child = |key: &str, what: &str| match obj.get(key) {
        Some(j) if *j != Json::Null => parse_schema(j, &format!("{path}.{key}")).map(Box::new),
        _ => Err(format!(
            "{path}: {what} schema did not specify the {key} type"
        )),
    };
    let ty = match ty_name {
        "int8" => Type::Int8,
        "int16" => Type::Int16,
        "int32" => Type::Int32,
        "int64" => Type::Int64,
        "float" | "float32" => Type::Float32,
        "double" | "float64" => Type::Float64,
        "boolean" => Type::Boolean,
        "string" => Type::String,
        "bytes" => Type::Bytes,
        "array" => Type::Array(child("items", "Array")?),
        "map" => Type::Map(child("keys", "Map")?, child("values", "Map")?),
        "struct" => {
            let Some(Json::Array(fields)) = obj.get("fields") else {
                return Err(format!(
                    "{path}: struct schema's \"fields\" argument is not an array"
                ));
            };
            let mut parsed = Vec::with_capacity(fields.len());
            for (i, field) in fields.iter().enumerate() {
                let name = match field {
                    Json::Object(f) => match f.get("field") {
                        Some(Json::String(n)) => n.clone(),
                        _ => {
                            return Err(format!(
                            "{path}.fields[{i}]: struct schema's field name not specified properly"
                        ))
                        }
                    },
                    _ => return Err(format!("{path}.fields[{i}]: a field must be an object")),
                };
                let schema = parse_schema(field, &format!("{path}.{name}"))?;
                parsed.push((name, schema));
            }
            Type::Struct(parsed)
        }
        other => return Err(format!("{path}: unknown schema type: {other}")),
    };
    let optional = match obj.get("optional") {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(other) => {
            return Err(format!(
                "{path}: \"optional\" must be a boolean, found {}",
                other.kind()
            ))
        }
    };
    let name = match obj.get("name") {
        Some(Json::String(n)) => Some(n.clone()),
        _ => None,
    };
    let scale = match obj.get("parameters") {
        Some(Json::Object(params)) => params.get("scale").map(|s| match s {
            Json::String(s) => s.trim().parse::<i32>().map_err(|e| e.to_string()),
            Json::Int(i) => i32::try_from(*i).map_err(|e| e.to_string()),
            other => Err(format!("found {}", other.kind())),
        }),
        _ => None,
    };
    let default = obj.get("default").filter(|d| **d != Json::Null).cloned();
    Ok(Schema {
        ty,
        optional,
        name,
        scale,
        default,
    })
}

fn mismatch(path: &str, expected: &str, found: &Json) -> String {
    format!(
        "{path}: schema type {expected} does not match the payload, found {}",
        found.kind()
    )
}

fn int_in<T: TryFrom<i64>>(json: &Json, path: &str, ty: &str) -> Result<T, String> {
    match json {
        Json::Int(i) => {
            T::try_from(*i).map_err(|_| format!("{path}: {i} is out of range for {ty}"))
        }
        other => Err(mismatch(path, ty, other)),
    }
}

fn convert(schema: &Schema, json: Json, path: &str) -> Result<Value, String> {
    if json == Json::Null {
        if let Some(default) = &schema.default {
            let fallback = Schema {
                default: None,
                ..schema.clone()
            };
            return convert(&fallback, default.clone(), &format!("{path} (default)"));
        }
        if schema.optional {
            return Ok(Value::Null);
        }
        return Err(format!(
            "{path}: invalid null value for required {} field",
            schema.ty.name()
        ));
    }
    match schema.name.as_deref() {
        Some(DECIMAL) if schema.ty == Type::Bytes => return decimal(schema, json, path),
        Some(DATE) if schema.ty == Type::Int32 => {
            return int_in::<i32>(&json, path, "int32 (Date)").map(Value::Date)
        }
        Some(TIME) if schema.ty == Type::Int32 => {
            let ms = int_in::<i32>(&json, path, "int32 (Time)")?;
            return Ok(Value::Time(i64::from(ms) * 1000));
        }
        Some(TIMESTAMP) if schema.ty == Type::Int64 => {
            let ms = int_in::<i64>(&json, path, "int64 (Timestamp)")?;
            return ms
                .checked_mul(1000)
                .map(Value::Timestamp)
                .ok_or_else(|| format!("{path}: timestamp {ms} ms is out of range"));
        }
        _ => {}
    }
    let ty = schema.ty.name();
    Ok(match (&schema.ty, json) {
        (Type::Int8, j) => Value::Int8(int_in(&j, path, ty)?),
        (Type::Int16, j) => Value::Int16(int_in(&j, path, ty)?),
        (Type::Int32, j) => Value::Int32(int_in(&j, path, ty)?),
        (Type::Int64, j) => Value::Int64(int_in(&j, path, ty)?),
        (Type::Float32, Json::Int(i)) => Value::Float32(i as f32),
        (Type::Float32, Json::Float(f)) => Value::Float32(f as f32),
        (Type::Float64, Json::Int(i)) => Value::Float64(i as f64),
        (Type::Float64, Json::Float(f)) => Value::Float64(f),
        (Type::Boolean, Json::Bool(b)) => Value::Boolean(b),
        (Type::String, Json::String(s)) => Value::String(s),
        (Type::Bytes, Json::String(s)) => Value::Bytes(base64_decode(&s, path)?.into()),
        (Type::Array(items), Json::Array(values)) => Value::Array(
            values
                .into_iter()
                .enumerate()
                .map(|(i, v)| convert(items, v, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Map(keys, values), Json::Object(entries)) if keys.ty == Type::String => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let value = convert(values, v, &format!("{path}.{k}"))?;
                    Ok((Value::String(k), value))
                })
                .collect::<Result<_, String>>()?,
        ),
        (Type::Map(keys, values), Json::Array(entries)) if keys.ty != Type::String => {
            let mut out = Vec::with_capacity(entries.len());
            for (i, entry) in entries.into_iter().enumerate() {
                let at = format!("{path}[{i}]");
                let Json::Array(pair) = entry else {
                    return Err(format!(
                        "{at}: found invalid map entry instead of array tuple"
                    ));
                };
                let Ok::<[Json; 2], _>([k, v]) = pair.try_into() else {
                    return Err(format!("{at}: found invalid map entry, expected length 2"));
                };
                out.push((convert(keys, k, &at)?, convert(values, v, &at)?));
            }
            Value::Map(out)
        }
        (Type::Struct(fields), Json::Object(mut values)) => Value::Struct(
            fields
                .iter()
                .map(|(name, field_schema)| {
                    let v = values.swap_remove(name).unwrap_or(Json::Null);
                    Ok((
                        name.clone(),
                        convert(field_schema, v, &format!("{path}.{name}"))?,
                    ))
                })
                .collect::<Result<_, String>>()?,
        ),
        (Type::Map(keys, _), other) => {
            let expected = if keys.ty == Type::String {
                "map (a JSON object, as its keys are strings)"
            } else {
                "map (a JSON array of [key, value] pairs, as its keys are not strings)"
            };
            return Err(mismatch(path, expected, &other));
        }
        (_, other) => return Err(mismatch(path, ty, &other)),
    })
}

pub(crate) fn base64_decode(s: &str, path: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| format!("{path}: invalid base64 for bytes: {e}"))
}

/// Decimal payloads: base64 of the unscaled two's-complement integer, or a JSON number.
fn decimal(schema: &Schema, json: Json, path: &str) -> Result<Value, String> {
    let scale = match &schema.scale {
        Some(Ok(scale)) => *scale,
        Some(Err(e)) => return Err(format!("{path}: invalid Decimal scale parameter: {e}")),
        None => {
            return Err(format!(
                "{path}: invalid Decimal schema: scale parameter not found"
            ))
        }
    };
    decimal_value(json, scale, path)
}

/// A Decimal of `scale` from base64 of the unscaled integer, or from a JSON number.
pub(crate) fn decimal_value(json: Json, scale: i32, path: &str) -> Result<Value, String> {
    match json {
        Json::String(s) => Ok(Value::Decimal {
            unscaled: base64_decode(&s, path)?,
            scale,
        }),
        Json::Int(i) => rescale(BigInt::from(i), 0, scale),
        Json::Float(f) if f.is_finite() => {
            // Rust prints the shortest round-trip form without exponent, e.g. "0.0000001".
            let text = format!("{f}");
            let (int_part, frac) = text.split_once('.').unwrap_or((&text, ""));
            let digits = format!("{int_part}{frac}");
            let unscaled: BigInt = digits
                .parse()
                .map_err(|e| format!("{path}: invalid decimal {text}: {e}"))?;
            let own_scale = i32::try_from(frac.len()).map_err(|e| e.to_string())?;
            rescale(unscaled, own_scale, scale)
        }
        other => Err(mismatch(path, "bytes (Decimal)", &other)),
    }
}

/// Brings `unscaled × 10^-from` to scale `to` when that loses nothing, else keeps `from`.
fn rescale(unscaled: BigInt, from: i32, to: i32) -> Result<Value, String> {
    let (unscaled, scale) = match to.checked_sub(from) {
        Some(up @ 0..=400) => (unscaled * BigInt::from(10u8).pow(up as u32), to),
        _ => (unscaled, from),
    };
    Ok(Value::Decimal {
        unscaled: unscaled.to_signed_bytes_be(),
        scale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(text: &str) -> Result<Value, String> {
        convert_envelope(Json::parse(text.as_bytes())?)
    }

    #[test]
    fn struct_with_logical_types() {
        let v = conv(
            r#"{"schema": {"type": "struct", "fields": [
                {"field": "id", "type": "int32"},
                {"field": "name", "type": "string", "optional": true},
                {"field": "ts", "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp"},
                {"field": "d", "type": "int32", "name": "org.apache.kafka.connect.data.Date"},
                {"field": "t", "type": "int32", "name": "org.apache.kafka.connect.data.Time"},
                {"field": "amount", "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal",
                 "parameters": {"scale": "2"}},
                {"field": "n", "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal",
                 "parameters": {"scale": "2"}},
                {"field": "blob", "type": "bytes"},
                {"field": "f", "type": "float"}
            ]}, "payload": {"id": 7, "ts": 1612891969805, "d": 18667, "t": 1000,
                 "amount": "MDk=", "n": 12.5, "blob": "AQI=", "f": 1}}"#,
        )
        .unwrap();
        assert_eq!(
            v,
            Value::Struct(vec![
                ("id".into(), Value::Int32(7)),
                ("name".into(), Value::Null),
                ("ts".into(), Value::Timestamp(1_612_891_969_805_000)),
                ("d".into(), Value::Date(18667)),
                ("t".into(), Value::Time(1_000_000)),
                (
                    "amount".into(),
                    Value::Decimal {
                        unscaled: vec![0x30, 0x39],
                        scale: 2
                    }
                ),
                (
                    "n".into(),
                    Value::Decimal {
                        unscaled: vec![0x04, 0xe2],
                        scale: 2
                    }
                ),
                ("blob".into(), Value::Bytes(vec![1u8, 2].into())),
                ("f".into(), Value::Float32(1.0)),
            ])
        );
    }

    #[test]
    fn maps_arrays_and_defaults() {
        let v = conv(
            r#"{"schema": {"type": "map", "keys": {"type": "int32"},
                 "values": {"type": "array", "items": {"type": "int64", "optional": true, "default": 5}}},
                "payload": [[1, [1, null]], [2, []]]}"#,
        )
        .unwrap();
        assert_eq!(
            v,
            Value::Map(vec![
                (
                    Value::Int32(1),
                    Value::Array(vec![Value::Int64(1), Value::Int64(5)])
                ),
                (Value::Int32(2), Value::Array(vec![])),
            ])
        );
        let v = conv(
            r#"{"schema": {"type": "map", "keys": {"type": "string"}, "values": {"type": "boolean"}},
                "payload": {"b": true, "a": false}}"#,
        )
        .unwrap();
        assert_eq!(
            v,
            Value::Map(vec![
                (Value::String("b".into()), Value::Boolean(true)),
                (Value::String("a".into()), Value::Boolean(false)),
            ])
        );
    }

    #[test]
    fn null_schema_reads_payload_schemaless() {
        assert_eq!(
            conv(r#"{"schema": null, "payload": {"a": 1}}"#).unwrap(),
            Value::Map(vec![(Value::String("a".into()), Value::Int64(1))])
        );
    }

    #[test]
    fn envelope_and_type_errors_are_clear() {
        for bad in [
            r#"{"a": 1}"#,
            r#"{"schema": {}, "payload": 1, "x": 2}"#,
            "[1]",
            "3",
        ] {
            assert_eq!(conv(bad).unwrap_err(), ENVELOPE_ERROR, "{bad}");
        }
        let e = conv(r#"{"schema": {"type": "int32"}, "payload": "abc"}"#).unwrap_err();
        assert_eq!(
            e,
            "payload: schema type int32 does not match the payload, found string"
        );
        let e = conv(r#"{"schema": {"type": "int8"}, "payload": 300}"#).unwrap_err();
        assert!(e.contains("out of range for int8"), "{e}");
        let e = conv(
            r#"{"schema": {"type": "struct", "fields": [{"field": "x", "type": "string"}]},
                         "payload": {}}"#,
        )
        .unwrap_err();
        assert_eq!(e, "payload.x: invalid null value for required string field");
        let e = conv(r#"{"schema": {"type": "uint"}, "payload": 1}"#).unwrap_err();
        assert!(e.contains("unknown schema type: uint"), "{e}");
        let e = conv(r#"{"schema": {"type": "array"}, "payload": []}"#).unwrap_err();
        assert!(e.contains("did not specify the items type"), "{e}");
    }
}
