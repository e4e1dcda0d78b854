//! cassink's transforms diffed against Kafka Connect's own (`connect-transforms` 4.4.0,
//! `connect-json`) and Debezium's `ExtractNewRecordState`: the same corpus of records and
//! transform chains goes through `integration/transforms-oracle/Oracle.java` (the real
//! classes, resolved by Maven into `$CASSINK_CACHE/transforms-oracle/lib` by
//! `integration/install.sh`) and through cassink's JsonConverter + transform chain; the
//! outcomes (dropped, failed, topic, key, value, headers) must be equal.
//!
//! Values are compared as Connect's JsonConverter writes them (`payload`): cassink's records
//! carry values, not schemas, so schema names and optionality are not compared.

use base64::Engine;
use cassink::config::ConfigMap;
use cassink::convert::{ImmediateConverter, JsonConverter};
use cassink::record::{Header, Position, SinkRecord, Value};
use cassink::transform::Chain;
use serde_json::{json, Value as Json};
use std::io::Write;
use std::process::{Command, Stdio};

const T: &str = "org.apache.kafka.connect.transforms.";
const P: &str = "org.apache.kafka.connect.transforms.predicates.";

/// A value with a Connect schema, as the JsonConverter envelope.
fn with_schema(schema: Json, payload: Json) -> (Json, bool) {
    (json!({"schema": schema, "payload": payload}), true)
}

fn schemaless(payload: Json) -> (Json, bool) {
    (payload, false)
}

fn row_schema() -> Json {
    json!({"type": "struct", "name": "row", "fields": [
        {"field": "id", "type": "int32"},
        {"field": "name", "type": "string", "optional": true},
        {"field": "amount", "type": "double", "optional": true},
        {"field": "at", "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1, "optional": true},
        {"field": "geo", "type": "struct", "optional": true, "fields": [
            {"field": "lat", "type": "double"}, {"field": "lon", "type": "double"}]}
    ]})
}

fn row(id: i32) -> (Json, bool) {
    with_schema(
        row_schema(),
        json!({"id": id, "name": "ann", "amount": 12.75, "at": 1_700_000_000_123i64,
               "geo": {"lat": 52.1, "lon": 4.3}}),
    )
}

fn plain() -> (Json, bool) {
    schemaless(json!({"id": 7, "name": "bob", "amount": 3.5, "flag": true,
                      "nested": {"a": 1, "b": {"c": "x"}}, "list": [1, 2]}))
}

fn envelope(op: &str, before: Json, after: Json) -> (Json, bool) {
    let state = json!({"type": "struct", "optional": true, "name": "db.inv.customers.Value",
                       "fields": [{"field": "id", "type": "int32"}, {"field": "email", "type": "string"}]});
    let mut before_field = state.clone();
    before_field["field"] = json!("before");
    let mut after_field = state;
    after_field["field"] = json!("after");
    with_schema(
        json!({"type": "struct", "name": "db.inv.customers.Envelope", "fields": [
            before_field, after_field,
            {"field": "source", "type": "struct", "fields": [
                {"field": "table", "type": "string"}, {"field": "ts_ms", "type": "int64"}]},
            {"field": "op", "type": "string"},
            {"field": "ts_ms", "type": "int64", "optional": true}]}),
        json!({"before": before, "after": after, "source": {"table": "customers", "ts_ms": 9},
               "op": op, "ts_ms": 11}),
    )
}

struct Case {
    name: String,
    config: Vec<(String, String)>,
    key: Option<(Json, bool)>,
    value: Option<(Json, bool)>,
    headers: Vec<(String, String)>,
}

fn case(name: &str, config: &[(&str, &str)], value: Option<(Json, bool)>) -> Case {
    Case {
        name: name.to_string(),
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        key: Some(schemaless(json!("k1"))),
        value,
        headers: vec![("trace".into(), "t-1".into())],
    }
}

/// One transform `type` with settings, as a config.
fn one(class: &str, settings: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut c = vec![
        ("transforms".to_string(), "t".to_string()),
        ("transforms.t.type".to_string(), class.to_string()),
    ];
    for (k, v) in settings {
        c.push((format!("transforms.t.{k}"), v.to_string()));
    }
    c
}

fn corpus() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut cases_extra = Vec::new();
    let mut add = |name: &str, config: Vec<(String, String)>, value: Option<(Json, bool)>| {
        let pairs: Vec<(&str, &str)> = config
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        cases.push(case(name, &pairs, value));
    };
    let inputs: [(&str, Option<(Json, bool)>); 4] = [
        ("struct", Some(row(1))),
        ("map", Some(plain())),
        ("tombstone", None),
        (
            "null-with-schema",
            Some(with_schema(
                json!({"type": "struct", "optional": true, "fields": [{"field": "id", "type": "int32"}]}),
                Json::Null,
            )),
        ),
    ];
    let transforms: Vec<(&str, Vec<(String, String)>)> = vec![
        (
            "insert",
            one(
                &format!("{T}InsertField$Value"),
                &[
                    ("topic.field", "topic"),
                    ("partition.field", "part"),
                    ("offset.field", "off!"),
                    ("timestamp.field", "ts"),
                    ("static.field", "origin"),
                    ("static.value", "eu"),
                ],
            ),
        ),
        (
            "replace-exclude-rename",
            one(
                &format!("{T}ReplaceField$Value"),
                &[("exclude", "amount"), ("renames", "name:full_name")],
            ),
        ),
        (
            "replace-include",
            one(&format!("{T}ReplaceField$Value"), &[("include", "id,name")]),
        ),
        (
            "extract",
            one(&format!("{T}ExtractField$Value"), &[("field", "name")]),
        ),
        (
            "extract-missing",
            one(&format!("{T}ExtractField$Value"), &[("field", "nope")]),
        ),
        (
            "hoist",
            one(&format!("{T}HoistField$Value"), &[("field", "wrapped")]),
        ),
        (
            "value-to-key",
            one(&format!("{T}ValueToKey"), &[("fields", "id,name")]),
        ),
        (
            "mask",
            one(&format!("{T}MaskField$Value"), &[("fields", "name,amount")]),
        ),
        (
            "mask-replacement",
            one(
                &format!("{T}MaskField$Value"),
                &[("fields", "name"), ("replacement", "***")],
            ),
        ),
        (
            "flatten",
            one(&format!("{T}Flatten$Value"), &[("delimiter", "_")]),
        ),
        (
            "cast-fields",
            one(
                &format!("{T}Cast$Value"),
                &[("spec", "amount:int32,id:string")],
            ),
        ),
        (
            "cast-float-string",
            one(&format!("{T}Cast$Value"), &[("spec", "amount:string")]),
        ),
        (
            "cast-boolean",
            one(&format!("{T}Cast$Value"), &[("spec", "id:boolean")]),
        ),
        (
            "timestamp-to-unix",
            one(
                &format!("{T}TimestampConverter$Value"),
                &[
                    ("field", "at"),
                    ("target.type", "unix"),
                    ("unix.precision", "seconds"),
                ],
            ),
        ),
        (
            "timestamp-to-string",
            one(
                &format!("{T}TimestampConverter$Value"),
                &[
                    ("field", "at"),
                    ("target.type", "string"),
                    ("format", "yyyy-MM-dd HH:mm:ss.SSS"),
                ],
            ),
        ),
        (
            "timestamp-to-date",
            one(
                &format!("{T}TimestampConverter$Value"),
                &[("field", "at"), ("target.type", "Date")],
            ),
        ),
        (
            "regex-router",
            one(
                &format!("{T}RegexRouter"),
                &[("regex", "(orders)-(.*)"), ("replacement", "$2.$1")],
            ),
        ),
        (
            "timestamp-router",
            one(
                &format!("{T}TimestampRouter"),
                &[
                    ("topic.format", "${topic}_${timestamp}"),
                    ("timestamp.format", "yyyy-MM-dd"),
                ],
            ),
        ),
        (
            "drop-headers",
            one(&format!("{T}DropHeaders"), &[("headers", "trace")]),
        ),
        (
            "insert-header",
            one(
                &format!("{T}InsertHeader"),
                &[("header", "origin"), ("value.literal", "eu")],
            ),
        ),
        (
            "header-from-copy",
            one(
                &format!("{T}HeaderFrom$Value"),
                &[
                    ("fields", "id,name"),
                    ("headers", "h_id,h_name"),
                    ("operation", "copy"),
                ],
            ),
        ),
        (
            "header-from-move",
            one(
                &format!("{T}HeaderFrom$Value"),
                &[
                    ("fields", "name"),
                    ("headers", "who"),
                    ("operation", "move"),
                ],
            ),
        ),
        (
            "set-schema-metadata",
            one(
                &format!("{T}SetSchemaMetadata$Value"),
                &[("schema.name", "renamed"), ("schema.version", "3")],
            ),
        ),
        ("filter", one(&format!("{T}Filter"), &[])),
    ];
    for (t, config) in &transforms {
        for (i, input) in &inputs {
            add(&format!("{t}/{i}"), config.clone(), input.clone());
        }
    }
    // Predicates, negated and not.
    for (p, settings) in [
        ("TopicNameMatches", vec![("pattern", "orders-.*")]),
        ("TopicNameMatches", vec![("pattern", "orders")]),
        ("HasHeaderKey", vec![("name", "trace")]),
        ("HasHeaderKey", vec![("name", "absent")]),
        ("RecordIsTombstone", vec![]),
    ] {
        for negate in ["false", "true"] {
            for (i, input) in [("map", Some(plain())), ("tombstone", None)] {
                let mut config = one(
                    &format!("{T}Filter"),
                    &[("predicate", "p"), ("negate", negate)],
                );
                config.push(("predicates".into(), "p".into()));
                config.push(("predicates.p.type".into(), format!("{P}{p}")));
                for (k, v) in &settings {
                    config.push((format!("predicates.p.{k}"), v.to_string()));
                }
                add(
                    &format!("predicate-{p}-{settings:?}-negate-{negate}/{i}"),
                    config,
                    input,
                );
            }
        }
    }
    // Logical types, keys, and values the transforms fail on.
    let logical = with_schema(
        json!({"type": "struct", "fields": [
            {"field": "day", "type": "int32", "name": "org.apache.kafka.connect.data.Date", "version": 1},
            {"field": "clock", "type": "int32", "name": "org.apache.kafka.connect.data.Time", "version": 1},
            {"field": "price", "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1,
             "parameters": {"scale": "2"}},
            {"field": "text", "type": "string"}]}),
        json!({"day": 19_000, "clock": 3_600_000, "price": "ATk=", "text": "2024-02-29"}),
    );
    for (t, config) in [
        ("logical-flatten", one(&format!("{T}Flatten$Value"), &[])),
        (
            "logical-replace",
            one(&format!("{T}ReplaceField$Value"), &[("exclude", "clock")]),
        ),
        (
            "logical-string-to-timestamp",
            one(
                &format!("{T}TimestampConverter$Value"),
                &[
                    ("field", "text"),
                    ("target.type", "Timestamp"),
                    ("format", "yyyy-MM-dd"),
                ],
            ),
        ),
        (
            "logical-date-to-unix",
            one(
                &format!("{T}TimestampConverter$Value"),
                &[("field", "day"), ("target.type", "unix")],
            ),
        ),
        (
            "cast-text-to-int-fails",
            one(&format!("{T}Cast$Value"), &[("spec", "text:int32")]),
        ),
        (
            "parse-with-the-wrong-format-fails",
            one(
                &format!("{T}TimestampConverter$Value"),
                &[
                    ("field", "text"),
                    ("target.type", "Timestamp"),
                    ("format", "dd/MM/yyyy"),
                ],
            ),
        ),
    ] {
        add(t, config, Some(logical.clone()));
    }
    let struct_key = with_schema(
        json!({"type": "struct", "fields": [{"field": "id", "type": "int64"}, {"field": "region", "type": "string"}]}),
        json!({"id": 5, "region": "eu"}),
    );
    for (t, config) in [
        (
            "key-extract",
            one(&format!("{T}ExtractField$Key"), &[("field", "id")]),
        ),
        (
            "key-replace",
            one(&format!("{T}ReplaceField$Key"), &[("exclude", "region")]),
        ),
        (
            "key-hoist",
            one(&format!("{T}HoistField$Key"), &[("field", "k")]),
        ),
        (
            "key-insert",
            one(
                &format!("{T}InsertField$Key"),
                &[("static.field", "src"), ("static.value", "x")],
            ),
        ),
    ] {
        let pairs: Vec<(&str, &str)> = config
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut c = case(t, &pairs, Some(plain()));
        c.key = Some(struct_key.clone());
        cases_extra.push(c);
    }
    // field.syntax.version=V2 nested paths (ExtractField).
    for (t, field) in [
        ("extract-v2-nested", "geo.lat"),
        ("extract-v2-missing-leaf", "geo.nope"),
        ("extract-v2-backticks", "`geo`.lon"),
        ("extract-v2-missing-parent", "nope.lat"),
    ] {
        for (i, input) in [
            ("struct", Some(row(1))),
            (
                "map",
                Some(schemaless(
                    json!({"geo": {"lat": 1.5, "lon": 2.5}, "a.b": 1}),
                )),
            ),
        ] {
            add(
                &format!("{t}/{i}"),
                one(
                    &format!("{T}ExtractField$Value"),
                    &[("field", field), ("field.syntax.version", "V2")],
                ),
                input,
            );
        }
    }
    for (t, fields) in [
        ("value-to-key-v2", "geo.lat,id"),
        ("value-to-key-v2-missing", "geo.nope,id"),
    ] {
        for (i, input) in [
            ("struct", Some(row(1))),
            (
                "map",
                Some(schemaless(json!({"id": 1, "geo": {"lat": 1.5}}))),
            ),
        ] {
            add(
                &format!("{t}/{i}"),
                one(
                    &format!("{T}ValueToKey"),
                    &[("fields", fields), ("field.syntax.version", "V2")],
                ),
                input,
            );
        }
    }
    add(
        "extract-v2-dotted-name/map",
        one(
            &format!("{T}ExtractField$Value"),
            &[("field", "`a.b`"), ("field.syntax.version", "V2")],
        ),
        Some(schemaless(json!({"a.b": 1}))),
    );
    // A chain: route, then reshape, then cast.
    let mut chain = vec![("transforms".to_string(), "route,rename,cast".to_string())];
    for (k, v) in [
        ("transforms.route.type", format!("{T}RegexRouter")),
        ("transforms.route.regex", "orders-(.*)".into()),
        ("transforms.route.replacement", "out-$1".into()),
        ("transforms.rename.type", format!("{T}ReplaceField$Value")),
        ("transforms.rename.renames", "amount:total".into()),
        ("transforms.cast.type", format!("{T}Cast$Value")),
        ("transforms.cast.spec", "total:float32".into()),
    ] {
        chain.push((k.to_string(), v));
    }
    for (i, input) in &inputs {
        add(&format!("chain/{i}"), chain.clone(), input.clone());
    }
    // Debezium.
    let state = |id: i32, email: &str| json!({"id": id, "email": email});
    let events: Vec<(&str, Option<(Json, bool)>)> = vec![
        ("create", Some(envelope("c", Json::Null, state(1, "a@x")))),
        (
            "update",
            Some(envelope("u", state(1, "a@x"), state(1, "a@y"))),
        ),
        ("delete", Some(envelope("d", state(1, "a@y"), Json::Null))),
        ("tombstone", None),
        ("not-an-envelope", Some(plain())),
    ];
    for mode in ["", "drop", "tombstone", "rewrite", "rewrite-with-tombstone"] {
        let mut settings = vec![
            ("add.fields", "op,table,source.ts_ms"),
            ("add.headers", "op"),
        ];
        if !mode.is_empty() {
            settings.push(("delete.tombstone.handling.mode", mode));
        }
        let config = one("io.debezium.transforms.ExtractNewRecordState", &settings);
        for (e, input) in &events {
            add(
                &format!("debezium-{mode}/{e}"),
                config.clone(),
                input.clone(),
            );
        }
    }
    cases.extend(cases_extra);
    // The JsonConverter alone (no transforms): schemaless JSON and envelopes, logical types,
    // maps with non-string keys, defaults, both decimal formats on input, and bad envelopes.
    let converter_inputs: Vec<(&str, (Json, bool))> = vec![
        (
            "numbers",
            schemaless(
                json!({"i": 1, "big": 9_007_199_254_740_993i64, "f": 1.5, "e": 1e300, "neg": -0.0}),
            ),
        ),
        (
            "nested",
            schemaless(json!([{"a": [1, {"b": null}]}, "s", true, null])),
        ),
        ("primitive-string", schemaless(json!("just text"))),
        (
            "int-types",
            with_schema(
                json!({"type": "struct", "fields": [
            {"field": "a", "type": "int8"}, {"field": "b", "type": "int16"},
            {"field": "c", "type": "int32"}, {"field": "d", "type": "int64"},
            {"field": "e", "type": "float"}, {"field": "f", "type": "boolean"},
            {"field": "g", "type": "bytes"}]}),
                json!({"a": -5, "b": 300, "c": 70000, "d": 1, "e": 0.5, "f": false, "g": "AAE="}),
            ),
        ),
        (
            "map-int-keys",
            with_schema(
                json!({"type": "map", "keys": {"type": "int32"}, "values": {"type": "string"}}),
                json!([[1, "one"], [2, "two"]]),
            ),
        ),
        (
            "map-string-keys",
            with_schema(
                json!({"type": "map", "keys": {"type": "string"}, "values": {"type": "int64"}}),
                json!({"x": 1}),
            ),
        ),
        (
            "array-of-structs",
            with_schema(
                json!({"type": "array", "items": {"type": "struct", "fields": [{"field": "v", "type": "int32"}]}}),
                json!([{"v": 1}, {"v": 2}]),
            ),
        ),
        (
            "optional-default",
            with_schema(
                json!({"type": "struct", "fields": [
            {"field": "a", "type": "string", "optional": true, "default": "dflt"},
            {"field": "b", "type": "int32", "optional": true}]}),
                json!({"a": null}),
            ),
        ),
        (
            "decimal-numeric-input",
            with_schema(
                json!({"type": "bytes", "name": "org.apache.kafka.connect.data.Decimal",
            "parameters": {"scale": "3"}}),
                json!(12.345),
            ),
        ),
        (
            "timestamp-before-epoch",
            with_schema(
                json!({"type": "int64", "name": "org.apache.kafka.connect.data.Timestamp"}),
                json!(-86_400_001),
            ),
        ),
        (
            "bad-envelope-extra-field",
            (
                json!({"schema": {"type": "string"}, "payload": "x", "extra": 1}),
                true,
            ),
        ),
        (
            "bad-envelope-missing-payload",
            (json!({"schema": {"type": "string"}}), true),
        ),
    ];
    for (name, input) in converter_inputs {
        cases.push(case(&format!("json-converter/{name}"), &[], Some(input)));
    }
    cases
}

/// Where cassink answers differently on purpose, and why (the README's migration notes say
/// the same). These cases are run but not required to agree.
const DELIBERATE: &[(&str, &str)] = &[
    (
        "extract/null-with-schema",
        "a null value with a schema: Connect checks the field against the schema and fails;          cassink's records carry no schema for a null value and pass the null on",
    ),
    (
        "extract-missing/null-with-schema",
        "as above, for a field the schema does not have",
    ),
];

fn to_case_json(c: &Case) -> Json {
    let config: serde_json::Map<String, Json> = c
        .config
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let headers: serde_json::Map<String, Json> = c
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    json!({"name": c.name, "config": config, "record": {
        "topic": "orders-eu", "partition": 3, "offset": 42, "timestamp": 1_700_000_000_123i64,
        "key": c.key.as_ref().map(|k| k.0.clone()), "key_schemas": c.key.as_ref().is_some_and(|k| k.1),
        "value": c.value.as_ref().map(|v| v.0.clone()), "value_schemas": c.value.as_ref().is_some_and(|v| v.1),
        "headers": headers}})
}

fn lib_dir() -> std::path::PathBuf {
    let cache = std::env::var("CASSINK_CACHE").unwrap_or_else(|_| {
        format!(
            "{}/.cache/cassink",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let lib = std::path::Path::new(&cache).join("transforms-oracle/lib");
    assert!(
        lib.join("connect-transforms-4.4.0.jar").exists(),
        "no Connect transforms at {} (run integration/install.sh)",
        lib.display()
    );
    lib
}

fn oracle(lines: &str) -> Vec<Json> {
    let source = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/integration/transforms-oracle/Oracle.java"
    );
    let mut child = Command::new("java")
        .arg("-cp")
        .arg(format!("{}/*", lib_dir().display()))
        .arg(source)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("java");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(lines.as_bytes())
        .expect("corpus to the oracle");
    let out = child.wait_with_output().expect("oracle output");
    assert!(
        out.status.success(),
        "the oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("oracle JSON"))
        .collect()
}

/// A value as Connect's JsonConverter writes its payload.
fn payload(v: &Value) -> Json {
    let b64 = |b: &[u8]| json!(base64::engine::general_purpose::STANDARD.encode(b));
    match v {
        Value::Null => Json::Null,
        Value::Boolean(b) => json!(b),
        Value::Int8(i) => json!(i),
        Value::Int16(i) => json!(i),
        Value::Int32(i) => json!(i),
        Value::Int64(i) => json!(i),
        Value::Float32(f) => json!(f64::from(*f)),
        Value::Float64(f) => json!(f),
        Value::String(s) => json!(s),
        Value::Bytes(b) => b64(b),
        Value::Array(items) => Json::Array(items.iter().map(payload).collect()),
        Value::Map(entries) if entries.iter().all(|(k, _)| matches!(k, Value::String(_))) => {
            Json::Object(
                entries
                    .iter()
                    .filter_map(|(k, v)| match k {
                        Value::String(k) => Some((k.clone(), payload(v))),
                        _ => None,
                    })
                    .collect(),
            )
        }
        Value::Map(entries) => Json::Array(
            entries
                .iter()
                .map(|(k, v)| json!([payload(k), payload(v)]))
                .collect(),
        ),
        Value::Struct(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), payload(v)))
                .collect(),
        ),
        Value::Decimal { unscaled, .. } => b64(unscaled),
        Value::Date(d) => json!(d),
        Value::Time(us) | Value::Timestamp(us) => json!(us / 1000),
        Value::Uuid(u) => json!(u.to_string()),
    }
}

fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn ours(c: &Case) -> Json {
    let config: ConfigMap = c.config.iter().cloned().collect();
    let chain = Chain::from_config(&config).expect("cassink accepts the config");
    let convert = |part: &Option<(Json, bool)>| -> Option<Value> {
        let (json, schemas) = part.as_ref()?;
        let converter = JsonConverter {
            schemas_enable: *schemas,
            ..Default::default()
        };
        converter.convert(Some(json.to_string().as_bytes())).ok()?
    };
    let converter_fails = [&c.key, &c.value].iter().any(|part| {
        part.as_ref().is_some_and(|(json, schemas)| {
            let converter = JsonConverter {
                schemas_enable: *schemas,
                ..Default::default()
            };
            converter
                .convert(Some(json.to_string().as_bytes()))
                .is_err()
        })
    });
    if converter_fails {
        return json!({"error": "converter"});
    }
    let record = SinkRecord {
        position: Position {
            topic: "orders-eu".into(),
            partition: 3,
            offset: 42,
        },
        topic: "orders-eu".into(),
        timestamp_ms: Some(1_700_000_000_123),
        key: convert(&c.key),
        value: convert(&c.value),
        headers: c
            .headers
            .iter()
            .map(|(k, v)| Header {
                key: k.clone(),
                raw: Some(v.clone().into_bytes().into()),
                value: Value::String(v.clone()),
            })
            .collect(),
        raw_key: None,
        raw_value: None,
    };
    match chain.apply(record) {
        Err(e) => json!({"error": e.to_string()}),
        Ok(None) => json!({"dropped": true}),
        Ok(Some(r)) => {
            let part = |v: &Option<Value>| v.as_ref().map_or(Json::Null, payload);
            let header_text = |v: &Value| match v {
                Value::Null => Json::Null,
                Value::String(s) => json!(s),
                other => json!(payload(other).to_string()),
            };
            json!({"dropped": false, "topic": &*r.topic, "key": part(&r.key), "value": part(&r.value),
                   "headers": r.headers.iter().map(|h| json!([h.key, header_text(&h.value)])).collect::<Vec<_>>()})
        }
    }
}

/// The oracle's answer in the same shape (payloads only).
fn theirs(out: &Json) -> Json {
    if let Some(e) = out.get("error") {
        return json!({"error": e});
    }
    if out["dropped"] == json!(true) {
        return json!({"dropped": true});
    }
    let part = |p: &Json| p.get("payload").cloned().unwrap_or(Json::Null);
    json!({"dropped": false, "topic": out["topic"], "key": part(&out["key"]),
           "value": part(&out["value"]), "headers": out["headers"]})
}

#[test]
fn cassink_transforms_agree_with_connects_on_the_corpus() {
    let cases = corpus();
    let lines: String = cases
        .iter()
        .map(|c| to_case_json(c).to_string() + "\n")
        .collect();
    let _ = std::fs::write(
        concat!(env!("CARGO_TARGET_TMPDIR"), "/transforms-corpus.jsonl"),
        &lines,
    );
    let answers = oracle(&lines);
    assert_eq!(answers.len(), cases.len(), "one answer per case");
    for (name, _) in DELIBERATE {
        assert!(
            cases.iter().any(|c| c.name == *name),
            "deliberate difference {name} names no case"
        );
    }
    let mut differences = Vec::new();
    for (c, answer) in cases.iter().zip(&answers) {
        if DELIBERATE.iter().any(|(name, _)| *name == c.name) {
            continue;
        }
        let (want, got) = (theirs(answer), ours(c));
        let agree = match (want.get("error"), got.get("error")) {
            // Both fail on the record: messages differ in wording, the outcome is the same.
            (Some(_), Some(_)) => true,
            (None, None) => same(&want, &got),
            _ => false,
        };
        if !agree {
            differences.push(format!("{}:\n  connect: {want}\n  cassink: {got}", c.name));
        }
    }
    println!(
        "{} cases, {} deliberate differences, {} other differences",
        cases.len(),
        DELIBERATE.len(),
        differences.len()
    );
    assert!(
        differences.is_empty(),
        "{} of {} cases differ:\n{}",
        differences.len(),
        cases.len(),
        differences.join("\n")
    );
}
