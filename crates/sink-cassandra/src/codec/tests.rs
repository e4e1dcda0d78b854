//! Per-type and per-conversion tests, the three shipped workloads, and no-panic properties.

use super::*;
use cassink_config::ConfigMap;
use proptest::prelude::*;

fn ty(text: &str) -> CqlType {
    CqlType::parse(text, &|name: &str| {
        (name == "address").then(|| {
            vec![
                ("street".to_string(), "text".to_string()),
                ("zip".to_string(), "int".to_string()),
            ]
        })
    })
    .unwrap()
}

fn enc(value: Value, type_text: &str) -> Result<Vec<u8>, CodecError> {
    enc_with(value, type_text, &CodecSettings::default())
}

fn enc_with(value: Value, type_text: &str, s: &CodecSettings) -> Result<Vec<u8>, CodecError> {
    encode(&value, &ty(type_text), s).map(|b| b.expect("not null"))
}

fn text(s: &str) -> Value {
    Value::String(s.into())
}

fn settings(pairs: &[(&str, &str)]) -> CodecSettings {
    let config: ConfigMap = pairs
        .iter()
        .map(|(k, v)| (format!("topic.t.codec.{k}"), v.to_string()))
        .collect();
    CodecSettings::from_topic_config("t", &config).unwrap()
}

fn millis(bytes: Vec<u8>) -> i64 {
    i64::from_be_bytes(bytes.try_into().unwrap())
}

#[test]
fn null_is_none() {
    let s = CodecSettings::default();
    assert_eq!(encode(&Value::Null, &CqlType::Int, &s).unwrap(), None);
}

#[test]
fn integers_with_range_checks() {
    assert_eq!(enc(Value::Int64(42), "int").unwrap(), vec![0, 0, 0, 42]);
    assert_eq!(enc(text(" 42 "), "int").unwrap(), vec![0, 0, 0, 42]);
    assert_eq!(enc(Value::Float64(2.0), "smallint").unwrap(), vec![0, 2]);
    assert_eq!(enc(text("127"), "tinyint").unwrap(), vec![127]);
    assert_eq!(enc(Value::Int8(-1), "bigint").unwrap(), vec![0xff; 8]);
    assert_eq!(
        enc(Value::Int32(5), "counter").unwrap(),
        vec![0, 0, 0, 0, 0, 0, 0, 5]
    );
    assert_eq!(enc(text("1e2"), "int").unwrap(), vec![0, 0, 0, 100]);
    let e = enc(text("abc"), "int").unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot convert \"abc\" (string) to int: it is not a number"
    );
    let e = enc(Value::Int64(1 << 40), "int").unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot convert 1099511627776 (int64) to int: it is out of range for int"
    );
    let e = enc(Value::Float64(1.5), "bigint").unwrap_err();
    assert!(e.to_string().contains("fractional part"), "{e}");
    assert!(enc(text("128"), "tinyint").is_err());
    assert!(enc(Value::Float64(f64::NAN), "int").is_err());
    assert_eq!(enc(Value::Boolean(true), "int").unwrap(), vec![0, 0, 0, 1]);
}

#[test]
fn varint_float_double_decimal() {
    assert_eq!(enc(Value::Int64(-1), "varint").unwrap(), vec![0xff]);
    assert_eq!(enc(Value::Int64(128), "varint").unwrap(), vec![0x00, 0x80]);
    assert_eq!(enc(Value::Int64(0), "varint").unwrap(), vec![0x00]);
    let big = enc(text("1267650600228229401496703205376"), "varint").unwrap();
    assert_eq!(big, [vec![0x10], vec![0; 12]].concat()); // 2^100
    assert_eq!(
        enc(Value::Float64(0.1), "float").unwrap(),
        0.1f32.to_be_bytes().to_vec()
    );
    assert!(enc(Value::Float64(1e300), "float").is_err());
    assert_eq!(
        enc(text("1.5"), "double").unwrap(),
        1.5f64.to_be_bytes().to_vec()
    );
    assert_eq!(
        enc(Value::Int64(3), "double").unwrap(),
        3f64.to_be_bytes().to_vec()
    );
    assert_eq!(
        enc(text("12.34"), "decimal").unwrap(),
        vec![0, 0, 0, 2, 0x04, 0xd2]
    );
    assert_eq!(
        enc(Value::Float64(0.1), "decimal").unwrap(),
        vec![0, 0, 0, 1, 1]
    );
    assert_eq!(
        enc(Value::Int32(-2), "decimal").unwrap(),
        vec![0, 0, 0, 0, 0xfe]
    );
    let d = Value::Decimal {
        unscaled: vec![0x30, 0x39],
        scale: 2,
    };
    assert_eq!(enc(d, "decimal").unwrap(), vec![0, 0, 0, 2, 0x30, 0x39]);
    assert!(enc(Value::Float64(f64::INFINITY), "decimal").is_err());
}

#[test]
fn booleans_text_and_ascii() {
    assert_eq!(enc(text("TRUE"), "boolean").unwrap(), vec![1]);
    assert_eq!(enc(Value::Int64(0), "boolean").unwrap(), vec![0]);
    assert!(enc(text("maybe"), "boolean").is_err());
    assert!(enc(Value::Int64(2), "boolean").is_err());
    assert_eq!(enc(text("héllo"), "text").unwrap(), "héllo".as_bytes());
    assert_eq!(enc(Value::Int64(42), "varchar").unwrap(), b"42");
    assert_eq!(enc(Value::Float64(1.0), "text").unwrap(), b"1.0");
    assert_eq!(enc(Value::Float64(1.25), "text").unwrap(), b"1.25");
    assert_eq!(enc(Value::Boolean(false), "text").unwrap(), b"false");
    let decimal = Value::Decimal {
        unscaled: vec![0xfb, 0x2e],
        scale: 3,
    };
    assert_eq!(enc(decimal, "text").unwrap(), b"-1.234");
    let m = Value::Map(vec![(text("a"), Value::Array(vec![Value::Int64(1)]))]);
    assert_eq!(enc(m, "text").unwrap(), br#"{"a":[1]}"#);
    assert_eq!(
        enc(Value::Timestamp(1_612_891_969_805_000), "text").unwrap(),
        b"2021-02-09T17:32:49.805Z"
    );
    assert_eq!(enc(text("abc"), "ascii").unwrap(), b"abc");
    let e = enc(text("café"), "ascii").unwrap_err();
    assert!(
        e.to_string().contains("'é' is not an ASCII character"),
        "{e}"
    );
}

#[test]
fn blobs_uuids_and_inets() {
    assert_eq!(
        enc(Value::Bytes(vec![1u8, 2].into()), "blob").unwrap(),
        vec![1, 2]
    );
    assert_eq!(enc(text("AQI="), "blob").unwrap(), vec![1, 2]);
    assert_eq!(enc(text("0x0102"), "blob").unwrap(), vec![1, 2]);
    assert!(enc(text("0x012"), "blob").is_err());
    assert!(enc(Value::Int64(1), "blob").is_err());
    let id = "6a2b9f04-4b3c-4d1e-8f00-112233445566";
    let bytes = enc(text(id), "uuid").unwrap();
    assert_eq!(
        bytes,
        uuid::Uuid::parse_str(id).unwrap().as_bytes().to_vec()
    );
    let e = enc(text(id), "timeuuid").unwrap_err();
    assert!(e.to_string().contains("version 4 UUID"), "{e}");
    let v1 = "d2177dd0-eaa2-11de-a572-001b779c76e3";
    assert_eq!(enc(text(v1), "timeuuid").unwrap().len(), 16);
    assert!(enc(text("not-a-uuid"), "uuid").is_err());
    assert_eq!(enc(text("10.0.0.1"), "inet").unwrap(), vec![10, 0, 0, 1]);
    assert_eq!(enc(text("/127.0.0.1"), "inet").unwrap(), vec![127, 0, 0, 1]);
    assert_eq!(enc(text("::1"), "inet").unwrap().len(), 16);
    assert!(enc(text("example.com"), "inet").is_err());
}

#[test]
fn timestamps_from_numbers_and_text() {
    let seconds = settings(&[("unit", "SECONDS")]);
    // tweets: epoch seconds as a float.
    let ms = enc_with(Value::Float64(1612891969.805), "timestamp", &seconds).unwrap();
    assert_eq!(millis(ms), 1_612_891_969_805);
    // meter: epoch milliseconds.
    assert_eq!(
        millis(enc(Value::Int64(1_612_891_969_805), "timestamp").unwrap()),
        1_612_891_969_805
    );
    // weather: a pattern in UTC.
    let weather = settings(&[("timestamp", "yyyy-MM-dd HH:mm:ss"), ("timeZone", "UTC")]);
    let ms = enc_with(text("2021-02-09 17:33:00"), "timestamp", &weather).unwrap();
    assert_eq!(millis(ms), 1_612_891_980_000);
    assert!(enc_with(text("09/02/2021"), "timestamp", &weather).is_err());
    let paris = settings(&[
        ("timestamp", "yyyy-MM-dd HH:mm:ss"),
        ("timeZone", "Europe/Paris"),
    ]);
    let ms = enc_with(text("2021-02-09 17:33:00"), "timestamp", &paris).unwrap();
    assert_eq!(millis(ms), 1_612_891_980_000 - 3_600_000);
    // CQL_TIMESTAMP accepts CQL literals and ISO-8601.
    for (input, expected) in [
        ("2021-02-09T17:33:00Z", 1_612_891_980_000),
        ("2021-02-09 17:33:00", 1_612_891_980_000),
        (
            "2021-02-09 17:33:00.123+0100",
            1_612_891_980_123 - 3_600_000,
        ),
        (
            "2021-02-09T17:33:00+01:00[Europe/Paris]",
            1_612_891_980_000 - 3_600_000,
        ),
        ("2021-02-09T17:33", 1_612_891_980_000),
        ("2021-02-09", 1_612_828_800_000),
        ("1612891980000", 1_612_891_980_000),
    ] {
        assert_eq!(
            millis(enc(text(input), "timestamp").unwrap()),
            expected,
            "{input}"
        );
    }
    let e = enc(text("yesterday"), "timestamp").unwrap_err();
    assert!(
        e.to_string().contains("does not match CQL_TIMESTAMP"),
        "{e}"
    );
    assert_eq!(
        millis(enc(Value::Timestamp(1_612_891_969_805_999), "timestamp").unwrap()),
        1_612_891_969_805
    );
    assert_eq!(
        millis(enc(Value::Date(1), "timestamp").unwrap()),
        86_400_000
    );
    let micros = settings(&[("unit", "MICROSECONDS")]);
    assert_eq!(
        millis(enc_with(Value::Int64(-1), "timestamp", &micros).unwrap()),
        -1
    );
    let iso = settings(&[("timestamp", "ISO_ZONED_DATE_TIME")]);
    let ms = enc_with(
        text("2021-02-09T17:33:00+01:00[Europe/Paris]"),
        "timestamp",
        &iso,
    );
    assert_eq!(millis(ms.unwrap()), 1_612_891_980_000 - 3_600_000);
    let offset = settings(&[("timestamp", "dd/MM/yyyy HH:mm:ss.SSS XXX")]);
    let ms = enc_with(text("09/02/2021 17:33:00.250 +01:00"), "timestamp", &offset);
    assert_eq!(millis(ms.unwrap()), 1_612_891_980_250 - 3_600_000);
}

#[test]
fn dates_and_times() {
    let day = |b: Vec<u8>| i64::from(u32::from_be_bytes(b.try_into().unwrap())) - (1 << 31);
    assert_eq!(day(enc(text("2021-02-09"), "date").unwrap()), 18667);
    assert_eq!(day(enc(Value::Date(-1), "date").unwrap()), -1);
    assert_eq!(
        day(enc(Value::Timestamp(1_612_891_969_805_000), "date").unwrap()),
        18667
    );
    let pattern = settings(&[("date", "dd/MM/yyyy")]);
    assert_eq!(
        day(enc_with(text("09/02/2021"), "date", &pattern).unwrap()),
        18667
    );
    assert_eq!(
        day(enc(Value::Int64(1_612_891_969_805), "date").unwrap()),
        18667
    );
    assert!(enc(text("2021-02-30"), "date").is_err());
    let nanos = |b: Vec<u8>| i64::from_be_bytes(b.try_into().unwrap());
    assert_eq!(
        nanos(enc(text("17:33:00.5"), "time").unwrap()),
        63_180_500_000_000
    );
    assert_eq!(nanos(enc(Value::Time(1_000), "time").unwrap()), 1_000_000);
    assert_eq!(
        nanos(enc(Value::Int64(1_000), "time").unwrap()),
        1_000_000_000
    );
    let pattern = settings(&[("time", "hh:mm a")]);
    assert_eq!(
        nanos(enc_with(text("05:33 PM"), "time", &pattern).unwrap()),
        63_180_000_000_000
    );
    assert!(enc(Value::Int64(86_400_000), "time").is_err());
    assert!(enc(text("25:00"), "time").is_err());
}

#[test]
fn durations() {
    assert_eq!(enc(text("1mo2d3ns"), "duration").unwrap(), vec![2, 4, 6]);
    assert!(enc(Value::Int64(1), "duration").is_err());
}

fn list_bytes(items: &[&[u8]]) -> Vec<u8> {
    let mut out = (items.len() as i32).to_be_bytes().to_vec();
    for item in items {
        out.extend((item.len() as i32).to_be_bytes());
        out.extend(*item);
    }
    out
}

/// A map: the count of entries, then key and value as list items.
fn map_bytes(entries: &[&[u8]]) -> Vec<u8> {
    let mut out = list_bytes(entries);
    out[..4].copy_from_slice(&((entries.len() / 2) as i32).to_be_bytes());
    out
}

#[test]
fn collections() {
    // meter: HARM is an array of int64 into list<int>.
    let harm = Value::Array(vec![Value::Int64(1), Value::Int64(2)]);
    let expected = list_bytes(&[&[0, 0, 0, 1], &[0, 0, 0, 2]]);
    assert_eq!(enc(harm, "list<int>").unwrap(), expected);
    assert_eq!(
        enc(text(" [1, 2] "), "frozen<list<int>>").unwrap(),
        expected
    );
    let set = Value::Array(vec![Value::Int64(1), Value::Int64(1), Value::Int64(2)]);
    assert_eq!(enc(set, "set<int>").unwrap(), expected);
    let e = enc(
        Value::Array(vec![Value::Int64(1), Value::Null]),
        "list<int>",
    )
    .unwrap_err();
    assert!(e.to_string().contains("element 1 is null"), "{e}");
    let e = enc(Value::Array(vec![text("x")]), "list<int>").unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot convert [\"x\"] (array) to list<int>: element 0: cannot convert \"x\" (string) to int: it is not a number"
    );
    let m = Value::Map(vec![(text("1"), text("a"))]);
    assert_eq!(
        enc(m, "map<int, text>").unwrap(),
        map_bytes(&[&[0, 0, 0, 1], b"a"])
    );
    let s = Value::Struct(vec![("k".into(), Value::Int32(7))]);
    assert_eq!(
        enc(s, "map<text, bigint>").unwrap(),
        map_bytes(&[b"k", &[0, 0, 0, 0, 0, 0, 0, 7]])
    );
    assert_eq!(
        enc(text(r#"{"k": 7}"#), "map<text, int>").unwrap(),
        map_bytes(&[b"k", &[0, 0, 0, 7]])
    );
    let nested = Value::Array(vec![Value::Array(vec![Value::Int64(1)])]);
    let inner = list_bytes(&[&[0, 0, 0, 1]]);
    assert_eq!(
        enc(nested, "list<frozen<list<int>>>").unwrap(),
        list_bytes(&[&inner])
    );
    assert!(enc(text("[1,"), "list<int>")
        .unwrap_err()
        .to_string()
        .contains("invalid JSON"));
    assert!(enc(Value::Int64(1), "list<int>").is_err());
}

#[test]
fn tuples_and_user_types() {
    let t = Value::Array(vec![Value::Int64(1), Value::Null]);
    assert_eq!(
        enc(t, "tuple<int, text>").unwrap(),
        vec![0, 0, 0, 4, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]
    );
    assert!(enc(Value::Array(vec![Value::Int64(1)]), "tuple<int, text>").is_err());
    let addr = Value::Struct(vec![("ZIP".into(), text("75001"))]);
    assert_eq!(
        enc(addr, "frozen<address>").unwrap(),
        vec![0xff, 0xff, 0xff, 0xff, 0, 0, 0, 4, 0, 1, 0x24, 0xf9]
    );
    let addr = Value::Map(vec![(text("street"), text("x")), (text("city"), text("y"))]);
    let e = enc(addr, "address").unwrap_err();
    assert!(
        e.to_string()
            .contains("no field \"city\" (fields: street, zip)"),
        "{e}"
    );
    let json = text(r#"{"street": "s", "zip": 1}"#);
    assert_eq!(enc(json, "address").unwrap().len(), 4 + 1 + 4 + 4);
}

#[test]
fn long_values_are_truncated_in_errors() {
    let e = enc(text(&"x".repeat(500)), "int").unwrap_err();
    assert!(e.value.chars().count() <= 101, "{}", e.value);
    assert!(e.value.ends_with('…'));
}

const TYPES: &[&str] = &[
    "ascii",
    "text",
    "boolean",
    "tinyint",
    "smallint",
    "int",
    "bigint",
    "varint",
    "float",
    "double",
    "decimal",
    "blob",
    "uuid",
    "timeuuid",
    "timestamp",
    "date",
    "time",
    "inet",
    "duration",
    "counter",
    "list<int>",
    "set<text>",
    "map<int, timestamp>",
    "tuple<int, text>",
    "frozen<address>",
    "list<frozen<list<decimal>>>",
];

fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Boolean),
        any::<i8>().prop_map(Value::Int8),
        any::<i32>().prop_map(Value::Int32),
        any::<i64>().prop_map(Value::Int64),
        any::<f32>().prop_map(Value::Float32),
        any::<f64>().prop_map(Value::Float64),
        ".{0,40}".prop_map(Value::String),
        r"[0-9eE.:+\-TZ \[\]{},]{0,30}".prop_map(Value::String),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(|b| Value::Bytes(b.into())),
        (proptest::collection::vec(any::<u8>(), 0..20), any::<i32>())
            .prop_map(|(unscaled, scale)| Value::Decimal { unscaled, scale }),
        any::<i32>().prop_map(Value::Date),
        any::<i64>().prop_map(Value::Time),
        any::<i64>().prop_map(Value::Timestamp),
        any::<u128>().prop_map(|n| Value::Uuid(uuid::Uuid::from_u128(n))),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((inner.clone(), inner.clone()), 0..4).prop_map(Value::Map),
            proptest::collection::vec(("[a-z]{1,6}", inner), 0..4).prop_map(Value::Struct),
        ]
    })
}

proptest! {
    #[test]
    fn encode_never_panics(value in any_value(), t in 0..TYPES.len(), unit in 0..7usize) {
        let units = ["NANOSECONDS", "MICROSECONDS", "MILLISECONDS", "SECONDS", "MINUTES", "HOURS", "DAYS"];
        let s = settings(&[("unit", units[unit]), ("timeZone", "Europe/Paris")]);
        let _ = encode(&value, &ty(TYPES[t]), &s);
        let _ = describe(&value);
    }

    #[test]
    fn parse_never_panics(text in ".{0,60}", shaped in r"(frozen|list|map|set|tuple|int|text|address|[<>,. \x22])*") {
        let _ = CqlType::parse_builtin(&text);
        let _ = CqlType::parse(&shaped, &|_: &str| Some(vec![("a".to_string(), "int".to_string())]));
    }

    #[test]
    fn settings_never_panic(pattern in r"[yMdHhmsSaEXxZ'\- :.]{0,20}", input in r"[0-9A-Za-z\- :.+]{0,30}") {
        let mut config = ConfigMap::new();
        config.insert("topic.t.codec.timestamp".into(), pattern.clone());
        config.insert("topic.t.codec.date".into(), pattern.clone());
        config.insert("topic.t.codec.time".into(), pattern);
        if let Ok(s) = CodecSettings::from_topic_config("t", &config) {
            for t in ["timestamp", "date", "time"] {
                let _ = encode(&Value::String(input.clone()), &ty(t), &s);
            }
        }
    }
}
