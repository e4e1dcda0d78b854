//! The typing of JSON payloads by their schema (the registry path is tested end to end
//! against the real registry).

use super::value::{Document, Registered};
use crate::json::Json;
use cassink_record::Value;
use serde_json::{json, Value as Schema};

struct Doc {
    schema: Schema,
    url: String,
    references: Vec<Doc>,
}

impl Registered for Doc {
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn url(&self) -> &str {
        &self.url
    }
    fn references(&self) -> &[Self] {
        &self.references
    }
}

fn doc(schema: Schema) -> Doc {
    Doc {
        schema,
        url: "http://registry/schemas/ids/1".into(),
        references: vec![],
    }
}

fn read(schema: &Doc, payload: &str) -> Result<Value, String> {
    let document = Document {
        schema,
        optional_for_nonrequired: false,
    };
    document.read(Json::parse(payload.as_bytes())?)
}

fn meter() -> Doc {
    doc(json!({
        "type": "object",
        "title": "MeterReading",
        "properties": {
            "meter_id": {"type": "string"},
            "reading_ts": {"type": "integer", "title": "org.apache.kafka.connect.data.Timestamp"},
            "kwh": {"type": "number"},
            "phase": {"type": "integer", "connect.type": "int8"},
            "voltage": {"oneOf": [{"type": "null"}, {"type": "number", "connect.type": "float32"}]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "site": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "raw": {"type": "string", "connect.type": "bytes"},
            "note": {"type": "string", "default": "none"},
            "price": {"type": "number", "title": "org.apache.kafka.connect.data.Decimal",
                      "connect.parameters": {"scale": "2"}}
        },
        "required": ["meter_id"]
    }))
}

#[test]
fn types_values_by_the_schema() {
    let v = read(
        &meter(),
        r#"{"meter_id": "m-1", "reading_ts": 1700000000123, "kwh": 3, "phase": 2,
            "voltage": 229.5, "tags": ["a"], "site": {"id": 7, "extra": 1}, "raw": "AQI=",
            "price": 1.5, "unknown": true}"#,
    )
    .unwrap();
    let field = |name: &str| v.field(name).cloned();
    assert_eq!(field("meter_id"), Some(Value::String("m-1".into())));
    assert_eq!(
        field("reading_ts"),
        Some(Value::Timestamp(1_700_000_000_123_000))
    );
    // `number` is a double even when the JSON text is an integer.
    assert_eq!(field("kwh"), Some(Value::Float64(3.0)));
    assert_eq!(field("phase"), Some(Value::Int8(2)));
    assert_eq!(field("voltage"), Some(Value::Float32(229.5)));
    assert_eq!(
        field("tags"),
        Some(Value::Array(vec![Value::String("a".into())]))
    );
    // Properties the schema does not name are not read, as in Connect.
    assert_eq!(
        field("site"),
        Some(Value::Struct(vec![("id".into(), Value::Int64(7))]))
    );
    assert_eq!(field("raw"), Some(Value::Bytes(vec![1, 2].into())));
    assert_eq!(field("note"), Some(Value::String("none".into())));
    assert_eq!(
        field("price"),
        Some(Value::Decimal {
            unscaled: vec![0, 150],
            scale: 2
        })
    );
    assert_eq!(field("unknown"), None);
}

#[test]
fn absent_is_null_but_a_null_the_schema_forbids_is_an_error() {
    let v = read(&meter(), r#"{"meter_id": "m-1", "voltage": null}"#).unwrap();
    assert_eq!(v.field("kwh"), Some(&Value::Null));
    assert_eq!(v.field("voltage"), Some(&Value::Null));
    let e = read(&meter(), r#"{"meter_id": "m-1", "kwh": null}"#).unwrap_err();
    assert!(e.contains("$.kwh") && e.contains("null"), "{e}");
    let lenient = Document {
        schema: &meter(),
        optional_for_nonrequired: true,
    };
    let v = lenient
        .read(Json::parse(br#"{"meter_id": "m-1", "kwh": null}"#).unwrap())
        .unwrap();
    assert_eq!(v.field("kwh"), Some(&Value::Null));
}

#[test]
fn mismatches_name_the_path_and_the_types() {
    let e = read(&meter(), r#"{"meter_id": "m-1", "kwh": "lots"}"#).unwrap_err();
    assert!(e.contains("$.kwh: expected number"), "{e}");
    let e = read(&meter(), r#"{"meter_id": "m-1", "phase": 300}"#).unwrap_err();
    assert!(e.contains("out of range for int8"), "{e}");
    let e = read(&meter(), r#"{"meter_id": "m-1", "site": {"id": 1.5}}"#).unwrap_err();
    assert!(e.contains("$.site.id: expected integer"), "{e}");
    let e = read(&meter(), r#"[1]"#).unwrap_err();
    assert!(e.contains("expected object"), "{e}");
}

#[test]
fn unions_refs_maps_and_all_of() {
    let schema = Doc {
        schema: json!({
            "type": "object",
            "definitions": {"point": {"type": "object", "properties": {"x": {"type": "integer"}}}},
            "properties": {
                "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "at": {"$ref": "#/definitions/point"},
                "lib": {"$ref": "lib.json"},
                "counts": {"type": "object", "connect.type": "map",
                           "additionalProperties": {"type": "integer", "connect.type": "int32"}},
                "pairs": {"type": "array", "connect.type": "map", "items": {"type": "object",
                          "properties": {"key": {"type": "integer"}, "value": {"type": "string"}}}},
                "both": {"allOf": [{"properties": {"a": {"type": "string"}}},
                                   {"properties": {"b": {"type": "boolean"}}}]},
                "free": {}
            }
        }),
        url: "http://registry/schemas/ids/2".into(),
        references: vec![Doc {
            schema: json!({"type": "object", "properties": {"name": {"type": "string"}}}),
            url: "http://registry/schemas/ids/lib.json".into(),
            references: vec![],
        }],
    };
    let v = read(
        &schema,
        r#"{"either": 5, "at": {"x": 1}, "lib": {"name": "n"}, "counts": {"a": 1},
            "pairs": [{"key": 2, "value": "two"}], "both": {"a": "x", "b": true},
            "free": {"k": [1]}}"#,
    )
    .unwrap();
    assert_eq!(
        v.field("either"),
        Some(&Value::Struct(vec![
            (
                "io.confluent.connect.json.OneOf.field.0".into(),
                Value::Null
            ),
            (
                "io.confluent.connect.json.OneOf.field.1".into(),
                Value::Int64(5)
            ),
        ]))
    );
    assert_eq!(
        v.field("at"),
        Some(&Value::Struct(vec![("x".into(), Value::Int64(1))]))
    );
    assert_eq!(
        v.field("lib"),
        Some(&Value::Struct(vec![(
            "name".into(),
            Value::String("n".into())
        )]))
    );
    assert_eq!(
        v.field("counts"),
        Some(&Value::Map(vec![(
            Value::String("a".into()),
            Value::Int32(1)
        )]))
    );
    assert_eq!(
        v.field("pairs"),
        Some(&Value::Map(vec![(
            Value::Int64(2),
            Value::String("two".into())
        )]))
    );
    let both = v.field("both").unwrap();
    assert_eq!(both.field("a"), Some(&Value::String("x".into())));
    assert_eq!(both.field("b"), Some(&Value::Boolean(true)));
    assert_eq!(
        v.field("free"),
        Some(&Value::Map(vec![(
            Value::String("k".into()),
            Value::Array(vec![Value::Int64(1)])
        )]))
    );
    let e = read(&schema, r#"{"lib": {"$ref": 1}, "at": {"x": "no"}}"#).unwrap_err();
    assert!(e.contains("$.at.x"), "{e}");
}
