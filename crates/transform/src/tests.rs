//! Chain building and the transforms on records, against the behaviour Connect's (and
//! Debezium's) implementations have.

use super::*;
use cassink_config::config_of;
use cassink_record::{Header, Position, Value};

fn record(value: Option<Value>) -> SinkRecord {
    SinkRecord {
        position: Position {
            topic: "orders".into(),
            partition: 2,
            offset: 41,
        },
        topic: "orders".into(),
        timestamp_ms: Some(1_700_000_000_123),
        key: Some(Value::String("k".into())),
        value,
        headers: vec![Header {
            key: "trace".into(),
            raw: Some(b"abc".to_vec().into()),
            value: Value::String("abc".into()),
        }],
        raw_key: None,
        raw_value: None,
    }
}

fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (Value::String(k.to_string()), v.clone()))
            .collect(),
    )
}

fn strukt(pairs: &[(&str, Value)]) -> Value {
    Value::Struct(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn chain(pairs: &[(&str, &str)]) -> Chain {
    Chain::from_config(&config_of(pairs)).expect("chain")
}

fn run(pairs: &[(&str, &str)], r: SinkRecord) -> Option<SinkRecord> {
    chain(pairs).apply(r).expect("applies")
}

#[test]
fn insert_replace_and_cast_in_order() {
    let out = run(
        &[
            ("transforms", "ins, rep, cast"),
            (
                "transforms.ins.type",
                "org.apache.kafka.connect.transforms.InsertField$Value",
            ),
            ("transforms.ins.topic.field", "src_topic"),
            ("transforms.ins.offset.field", "src_offset!"),
            ("transforms.ins.timestamp.field", "ts"),
            (
                "transforms.rep.type",
                "org.apache.kafka.connect.transforms.ReplaceField$Value",
            ),
            ("transforms.rep.exclude", "secret"),
            ("transforms.rep.renames", "amount:total"),
            (
                "transforms.cast.type",
                "org.apache.kafka.connect.transforms.Cast$Value",
            ),
            ("transforms.cast.spec", "total:int32, ok:string"),
        ],
        record(Some(map(&[
            ("amount", Value::Float64(12.9)),
            ("secret", Value::String("x".into())),
            ("ok", Value::Float64(1.0)),
        ]))),
    )
    .expect("kept");
    assert_eq!(
        out.value,
        Some(map(&[
            ("total", Value::Int32(12)),
            ("ok", Value::String("1.0".into())),
            ("src_topic", Value::String("orders".into())),
            ("src_offset", Value::Int64(41)),
            // Schemaless: the epoch milliseconds, as Connect inserts a Long.
            ("ts", Value::Int64(1_700_000_000_123)),
        ]))
    );
}

#[test]
fn extract_hoist_and_value_to_key() {
    let value = strukt(&[("id", Value::Int64(7)), ("name", Value::String("n".into()))]);
    let out = run(
        &[
            ("transforms", "key, hoist"),
            (
                "transforms.key.type",
                "org.apache.kafka.connect.transforms.ValueToKey",
            ),
            ("transforms.key.fields", "id"),
            (
                "transforms.hoist.type",
                "org.apache.kafka.connect.transforms.HoistField$Value",
            ),
            ("transforms.hoist.field", "row"),
        ],
        record(Some(value.clone())),
    )
    .expect("kept");
    assert_eq!(out.key, Some(strukt(&[("id", Value::Int64(7))])));
    assert_eq!(out.value, Some(strukt(&[("row", value.clone())])));
    let extract = [
        ("transforms", "x"),
        (
            "transforms.x.type",
            "org.apache.kafka.connect.transforms.ExtractField$Value",
        ),
        ("transforms.x.field", "name"),
    ];
    let out = run(&extract, record(Some(value.clone()))).expect("kept");
    assert_eq!(out.value, Some(Value::String("n".into())));
    // A struct without the field is an error naming it; a map gives null.
    let missing = [
        ("transforms", "x"),
        (
            "transforms.x.type",
            "org.apache.kafka.connect.transforms.ExtractField$Value",
        ),
        ("transforms.x.field", "nope"),
    ];
    let e = chain(&missing).apply(record(Some(value))).unwrap_err();
    assert_eq!(e.alias, "x");
    assert!(e.message.contains("Unknown field: nope"), "{e}");
    let out = run(&missing, record(Some(map(&[])))).expect("kept");
    assert_eq!(out.value, Some(Value::Null));
    // Tombstones pass through value transforms.
    let out = run(&extract, record(None)).expect("kept");
    assert_eq!(out.value, None);
}

#[test]
fn routers_rename_the_topic_but_not_the_position() {
    let out = run(
        &[
            ("transforms", "route, stamp"),
            (
                "transforms.route.type",
                "org.apache.kafka.connect.transforms.RegexRouter",
            ),
            ("transforms.route.regex", "(ord)ers"),
            ("transforms.route.replacement", "$1-v2"),
            (
                "transforms.stamp.type",
                "org.apache.kafka.connect.transforms.TimestampRouter",
            ),
            ("transforms.stamp.timestamp.format", "yyyy.MM.dd'T'HH"),
        ],
        record(Some(map(&[]))),
    )
    .expect("kept");
    assert_eq!(&*out.topic, "ord-v2-2023.11.14T22");
    assert_eq!(&*out.position.topic, "orders");
    // RegexRouter matches the whole topic, as Java's matches() does.
    let out = run(
        &[
            ("transforms", "route"),
            (
                "transforms.route.type",
                "org.apache.kafka.connect.transforms.RegexRouter",
            ),
            ("transforms.route.regex", "ord"),
            ("transforms.route.replacement", "x"),
        ],
        record(None),
    )
    .expect("kept");
    assert_eq!(&*out.topic, "orders");
}

#[test]
fn predicates_guard_transforms_and_negate_flips_them() {
    let filter_when = |negate: &'static str| {
        vec![
            ("transforms", "drop"),
            (
                "transforms.drop.type",
                "org.apache.kafka.connect.transforms.Filter",
            ),
            ("transforms.drop.predicate", "tomb"),
            ("transforms.drop.negate", negate),
            ("predicates", "tomb"),
            (
                "predicates.tomb.type",
                "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
            ),
        ]
    };
    let chain_plain = chain(&filter_when("false"));
    assert!(chain_plain.apply(record(None)).unwrap().is_none());
    assert!(chain_plain.apply(record(Some(map(&[])))).unwrap().is_some());
    let chain_negated = chain(&filter_when("true"));
    assert!(chain_negated.apply(record(None)).unwrap().is_some());
    assert!(chain_negated
        .apply(record(Some(map(&[]))))
        .unwrap()
        .is_none());

    let by_header = chain(&[
        ("transforms", "drop"),
        (
            "transforms.drop.type",
            "org.apache.kafka.connect.transforms.Filter",
        ),
        ("transforms.drop.predicate", "traced"),
        ("predicates", "traced, name"),
        (
            "predicates.traced.type",
            "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
        ),
        ("predicates.traced.name", "trace"),
        (
            "predicates.name.type",
            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        ),
        ("predicates.name.pattern", "ord.*"),
    ]);
    assert!(by_header.apply(record(None)).unwrap().is_none());
}

#[test]
fn headers_are_dropped_inserted_and_taken_from_fields() {
    let out = run(
        &[
            ("transforms", "drop, add, from"),
            (
                "transforms.drop.type",
                "org.apache.kafka.connect.transforms.DropHeaders",
            ),
            ("transforms.drop.headers", "trace"),
            (
                "transforms.add.type",
                "org.apache.kafka.connect.transforms.InsertHeader",
            ),
            ("transforms.add.header", "origin"),
            ("transforms.add.value.literal", "eu"),
            (
                "transforms.from.type",
                "org.apache.kafka.connect.transforms.HeaderFrom$Value",
            ),
            ("transforms.from.fields", "user"),
            ("transforms.from.headers", "who"),
            ("transforms.from.operation", "move"),
        ],
        record(Some(map(&[
            ("user", Value::String("ann".into())),
            ("n", Value::Int64(1)),
        ]))),
    )
    .expect("kept");
    let headers: Vec<(&str, &Value)> = out
        .headers
        .iter()
        .map(|h| (h.key.as_str(), &h.value))
        .collect();
    assert_eq!(
        headers,
        [
            ("origin", &Value::String("eu".into())),
            ("who", &Value::String("ann".into()))
        ]
    );
    assert_eq!(out.value, Some(map(&[("n", Value::Int64(1))])));
}

#[test]
fn mask_flatten_and_timestamps() {
    let out = run(
        &[
            ("transforms", "mask, flat, time"),
            (
                "transforms.mask.type",
                "org.apache.kafka.connect.transforms.MaskField$Value",
            ),
            ("transforms.mask.fields", "card, pin"),
            (
                "transforms.flat.type",
                "org.apache.kafka.connect.transforms.Flatten$Value",
            ),
            ("transforms.flat.delimiter", "_"),
            (
                "transforms.time.type",
                "org.apache.kafka.connect.transforms.TimestampConverter$Value",
            ),
            ("transforms.time.field", "at"),
            ("transforms.time.target.type", "Timestamp"),
            ("transforms.time.format", "yyyy-MM-dd HH:mm:ss"),
        ],
        record(Some(strukt(&[
            ("card", Value::String("4111".into())),
            ("pin", Value::Int32(1234)),
            ("at", Value::String("2024-02-29 12:30:00".into())),
            ("geo", strukt(&[("lat", Value::Float64(1.5))])),
        ]))),
    )
    .expect("kept");
    assert_eq!(
        out.value,
        Some(strukt(&[
            ("card", Value::String(String::new())),
            ("pin", Value::Int32(0)),
            ("at", Value::Timestamp(1_709_209_800_000_000)),
            ("geo_lat", Value::Float64(1.5)),
        ]))
    );
    let unix = run(
        &[
            ("transforms", "time"),
            (
                "transforms.time.type",
                "org.apache.kafka.connect.transforms.TimestampConverter$Value",
            ),
            ("transforms.time.target.type", "unix"),
            ("transforms.time.unix.precision", "seconds"),
        ],
        record(Some(Value::Timestamp(1_709_209_800_999_000))),
    )
    .expect("kept");
    assert_eq!(unix.value, Some(Value::Int64(1_709_209_800)));
}

#[test]
fn java_double_strings() {
    use super::fields::java_float;
    let j = |f: f64| java_float(f, &f.to_string());
    assert_eq!(j(1.0), "1.0");
    assert_eq!(j(0.001), "0.001");
    assert_eq!(j(1.0e7), "1.0E7");
    assert_eq!(j(12345678.9), "1.23456789E7");
    assert_eq!(j(0.0001), "1.0E-4");
    assert_eq!(j(-2.5e-5), "-2.5E-5");
    assert_eq!(j(f64::NAN), "NaN");
}

#[test]
fn debezium_events_become_rows_and_deletes_become_tombstones() {
    let envelope = |op: &str, before: Value, after: Value| {
        strukt(&[
            ("before", before),
            ("after", after),
            (
                "source",
                strukt(&[("table", Value::String("customers".into()))]),
            ),
            ("op", Value::String(op.into())),
            ("ts_ms", Value::Int64(5)),
        ])
    };
    let row = strukt(&[
        ("id", Value::Int32(1)),
        ("email", Value::String("a@b".into())),
    ]);
    let unwrap = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = vec![
            ("transforms", "unwrap"),
            (
                "transforms.unwrap.type",
                "io.debezium.transforms.ExtractNewRecordState",
            ),
            ("transforms.unwrap.add.fields", "op,table"),
        ];
        pairs.extend_from_slice(extra);
        chain(&pairs)
    };
    let c = unwrap(&[]);
    let out = c
        .apply(record(Some(envelope("c", Value::Null, row.clone()))))
        .unwrap()
        .expect("kept");
    assert_eq!(
        out.value,
        Some(strukt(&[
            ("id", Value::Int32(1)),
            ("email", Value::String("a@b".into())),
            ("__op", Value::String("c".into())),
            ("__table", Value::String("customers".into())),
        ]))
    );
    // Default `tombstone`: a delete becomes a tombstone, the Kafka tombstone is dropped.
    let deleted = c
        .apply(record(Some(envelope("d", row.clone(), Value::Null))))
        .unwrap()
        .expect("kept");
    assert_eq!(deleted.value, None);
    assert!(c.apply(record(None)).unwrap().is_none());
    // Schemaless (not an envelope) passes through.
    let plain = map(&[("op", Value::String("c".into()))]);
    let out = c.apply(record(Some(plain.clone()))).unwrap().expect("kept");
    assert_eq!(out.value, Some(plain));

    let rewrite = unwrap(&[(
        "transforms.unwrap.delete.tombstone.handling.mode",
        "rewrite",
    )]);
    let out = rewrite
        .apply(record(Some(envelope("d", row.clone(), Value::Null))))
        .unwrap()
        .expect("kept");
    assert_eq!(
        out.value.as_ref().and_then(|v| v.field("__deleted")),
        Some(&Value::String("true".into()))
    );
    let drop = unwrap(&[("transforms.unwrap.delete.handling.mode", "drop")]);
    assert!(drop
        .apply(record(Some(envelope("d", row, Value::Null))))
        .unwrap()
        .is_none());
}

#[test]
fn bad_configs_name_the_key() {
    let error = |pairs: &[(&str, &str)]| {
        Chain::from_config(&config_of(pairs))
            .err()
            .expect("refused")
    };
    let e = error(&[("transforms", "a")]);
    assert_eq!(e.key, "transforms.a.type");
    let e = error(&[
        ("transforms", "a"),
        ("transforms.a.type", "com.example.Nope"),
    ]);
    assert_eq!(e.key, "transforms.a.type");
    assert!(e.message.contains("com.example.Nope"), "{e}");
    let e = error(&[
        ("transforms", "a"),
        (
            "transforms.a.type",
            "org.apache.kafka.connect.transforms.Cast",
        ),
    ]);
    assert!(e.message.contains("Cast$Value"), "{e}");
    let e = error(&[
        ("transforms", "a"),
        (
            "transforms.a.type",
            "org.apache.kafka.connect.transforms.Cast$Value",
        ),
        ("transforms.a.spec", "f:uuid"),
    ]);
    assert_eq!(e.key, "transforms.a.spec");
    let e = error(&[
        ("transforms", "a"),
        (
            "transforms.a.type",
            "org.apache.kafka.connect.transforms.Filter",
        ),
        ("transforms.a.predicate", "p"),
    ]);
    assert_eq!(e.key, "transforms.a.predicate");
    let e = error(&[
        ("transforms", "a"),
        (
            "transforms.a.type",
            "org.apache.kafka.connect.transforms.Filter",
        ),
        ("transforms.a.negate", "true"),
    ]);
    assert_eq!(e.key, "transforms.a.negate");
    let e = error(&[
        ("transforms", "a"),
        (
            "transforms.a.type",
            "org.apache.kafka.connect.transforms.ValueToKey",
        ),
        ("transforms.a.fields", "a.b"),
        ("transforms.a.field.syntax.version", "V3"),
    ]);
    assert_eq!(e.key, "transforms.a.field.syntax.version");
    let e = error(&[
        ("transforms", "a"),
        (
            "transforms.a.type",
            "org.apache.kafka.connect.transforms.ExtractField$Value",
        ),
        ("transforms.a.field", "`a.b"),
        ("transforms.a.field.syntax.version", "V2"),
    ]);
    assert_eq!(e.key, "transforms.a.field");
    assert!(e.message.contains("Incomplete backtick pair"), "{e}");
    let e = error(&[
        ("transforms", "a"),
        (
            "transforms.a.type",
            "org.apache.kafka.connect.transforms.RegexRouter",
        ),
        ("transforms.a.regex", "(unclosed"),
        ("transforms.a.replacement", "x"),
    ]);
    assert_eq!(e.key, "transforms.a.regex");
    let e = error(&[("predicates", "p"), ("predicates.p.type", "Nope")]);
    assert_eq!(e.key, "predicates.p.type");
}

#[test]
fn v2_paths_split_on_dots_outside_backticks() {
    use super::fields::parse_path;
    assert_eq!(parse_path("a.b.c").unwrap(), ["a", "b", "c"]);
    assert_eq!(parse_path("`a.b`.c").unwrap(), ["a.b", "c"]);
    assert_eq!(parse_path("a.`b`").unwrap(), ["a", "b"]);
    assert_eq!(parse_path(r"`a\`b`").unwrap(), ["a`b"]);
    assert_eq!(parse_path("a.").unwrap(), ["a", ""]);
    assert!(parse_path("`open").is_err());
}
