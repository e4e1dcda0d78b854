//! Factory tests and the no-panic property for every converter.

use super::*;
use proptest::prelude::*;

use cassink_config::config_of as config;

fn run(c: &Arc<dyn Converter>, data: &[u8]) -> Result<Option<Value>, ConvertError> {
    futures::executor::block_on(c.to_connect("t", &[], Some(data)))
}

#[test]
fn builds_each_class_by_full_and_short_name() {
    let c = build(
        Part::Value,
        &config(&[
            (
                "value.converter",
                " org.apache.kafka.connect.json.JsonConverter ",
            ),
            ("value.converter.schemas.enable", " FALSE "),
        ]),
    )
    .unwrap();
    assert_eq!(
        run(&c, b"{\"a\": 1}").unwrap(),
        Some(Value::Map(vec![(
            Value::String("a".into()),
            Value::Int64(1)
        )]))
    );
    let c = build(Part::Key, &config(&[("key.converter", "JsonConverter")])).unwrap();
    assert!(
        run(&c, b"{\"a\": 1}").is_err(),
        "schemas.enable defaults to true"
    );
    let c = build(Part::Key, &config(&[("key.converter", "StringConverter")])).unwrap();
    assert_eq!(run(&c, b"k").unwrap(), Some(Value::String("k".into())));
    let c = build(
        Part::Key,
        &config(&[
            (
                "key.converter",
                "org.apache.kafka.connect.storage.StringConverter",
            ),
            ("key.converter.encoding", "ISO-8859-1"),
        ]),
    )
    .unwrap();
    assert_eq!(run(&c, b"\xe9").unwrap(), Some(Value::String("é".into())));
    let c = build(
        Part::Value,
        &config(&[(
            "value.converter",
            "org.apache.kafka.connect.converters.ByteArrayConverter",
        )]),
    )
    .unwrap();
    assert_eq!(
        run(&c, b"\x01").unwrap(),
        Some(Value::Bytes(vec![1u8].into()))
    );
    assert!(build(Part::Header, &ConfigMap::new()).is_ok());
}

#[test]
fn config_errors_name_the_key() {
    let e = build(
        Part::Value,
        &config(&[("value.converter", "com.acme.Nope")]),
    )
    .err()
    .unwrap();
    assert_eq!(e.key, "value.converter");
    assert!(e.message.contains("com.acme.Nope"), "{e}");
    let e = build(
        Part::Value,
        &config(&[("value.converter", "io.confluent.connect.avro.AvroConverter")]),
    )
    .err()
    .unwrap();
    assert_eq!(e.key, "value.converter.schema.registry.url");
    assert!(e.message.contains("schema registry URL"), "{e}");
    assert!(build(
        Part::Key,
        &config(&[
            ("key.converter", "AvroConverter"),
            ("key.converter.schema.registry.url", "http://127.0.0.1:1"),
        ]),
    )
    .is_ok());
    let e = build(
        Part::Key,
        &config(&[
            ("key.converter", "JsonConverter"),
            ("key.converter.schemas.enable", "yes"),
        ]),
    )
    .err()
    .unwrap();
    assert_eq!(e.key, "key.converter.schemas.enable");
    let e = build(
        Part::Key,
        &config(&[
            ("key.converter", "JsonConverter"),
            ("key.converter.decimal.format", "HEX"),
        ]),
    )
    .err()
    .unwrap();
    assert_eq!(e.key, "key.converter.decimal.format");
    let e = build(Part::Key, &ConfigMap::new()).err().unwrap();
    assert_eq!(e.key, "key.converter");
}

proptest! {
    #[test]
    fn converters_never_panic(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = JsonConverter::default().convert(Some(&data));
        let _ = JsonConverter { schemas_enable: false, ..Default::default() }.convert(Some(&data));
        let _ = StringConverter::default().convert(Some(&data));
        let _ = ByteArrayConverter.convert(Some(&data));
    }

    #[test]
    fn json_like_text_never_panics(text in r#"[\[\]{}":,0-9a-z.eE+\- ]{0,200}"#) {
        let _ = JsonConverter { schemas_enable: false, ..Default::default() }.convert(Some(text.as_bytes()));
        let envelope = format!(r#"{{"schema": {text}, "payload": {text}}}"#);
        let _ = JsonConverter::default().convert(Some(envelope.as_bytes()));
    }
}
