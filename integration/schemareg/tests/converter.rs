//! A round trip through `schema_registry_converter`, a real Confluent client: register a schema
//! while encoding, encode with the latest registered schema, decode by the id in the bytes.

mod common;

use apache_avro::types::Value;
use schema_registry_converter::async_impl::avro::{AvroDecoder, AvroEncoder};
use schema_registry_converter::async_impl::schema_registry::{
    get_schema_by_subject_and_version, SrSettings,
};
use schema_registry_converter::schema_registry_common::{
    SchemaType, SubjectNameStrategy, SuppliedSchema,
};
use serde::Serialize;

#[derive(Serialize)]
struct Reading {
    station: String,
    temperature: f64,
    taken_at: i64,
}

fn settings(url: &str) -> SrSettings {
    SrSettings::new_builder(url.to_owned())
        .no_proxy()
        .build()
        .expect("schema registry settings")
}

#[tokio::test]
async fn encode_register_and_decode_round_trip() {
    let r = common::registry().await;
    let topic = common::unique("weather");
    let name = common::avro_name();
    let schema = format!(
        r#"{{"type":"record","name":"{name}","namespace":"cassink.test","fields":[
            {{"name":"station","type":"string"}},
            {{"name":"temperature","type":"double"}},
            {{"name":"taken_at","type":"long"}}]}}"#
    );
    let supplied = SuppliedSchema::new(
        Some(format!("cassink.test.{name}")),
        SchemaType::Avro,
        schema,
    );

    let encoder = AvroEncoder::new(settings(&r.url));
    let registering =
        SubjectNameStrategy::TopicNameStrategyWithSchema(topic.clone(), false, supplied);
    let reading = Reading {
        station: "Utrecht".into(),
        temperature: 21.5,
        taken_at: 1_700_000_000_000,
    };
    let bytes = encoder
        .encode_struct(reading, &registering)
        .await
        .expect("encode with registration");
    assert_eq!(bytes[0], 0, "Confluent magic byte");
    let id = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);

    // The registration is visible through the converter's own lookups.
    let sr = settings(&r.url);
    let latest = get_schema_by_subject_and_version(&sr, &format!("{topic}-value"), None)
        .await
        .expect("latest version");
    assert_eq!(latest.id, id);

    // Encoding with the subject's latest schema (no schema supplied) uses the same id.
    let by_topic = SubjectNameStrategy::TopicNameStrategy(topic.clone(), false);
    let fresh = AvroEncoder::new(settings(&r.url));
    let bytes2 = fresh
        .encode(
            vec![
                ("station", Value::String("De Bilt".into())),
                ("temperature", Value::Double(-3.25)),
                ("taken_at", Value::Long(42)),
            ],
            by_topic,
        )
        .await
        .expect("encode with the latest schema");
    assert_eq!(bytes2[1..5], bytes[1..5]);

    let decoder = AvroDecoder::new(settings(&r.url));
    let decoded = decoder.decode(Some(&bytes)).await.expect("decode");
    assert_eq!(
        decoded.value,
        Value::Record(vec![
            ("station".into(), Value::String("Utrecht".into())),
            ("temperature".into(), Value::Double(21.5)),
            ("taken_at".into(), Value::Long(1_700_000_000_000)),
        ])
    );
    assert_eq!(
        decoded.name.map(|n| n.fullname(None)),
        Some(format!("cassink.test.{name}"))
    );
    let decoded2 = decoder.decode(Some(&bytes2)).await.expect("decode");
    assert_eq!(
        decoded2.value,
        Value::Record(vec![
            ("station".into(), Value::String("De Bilt".into())),
            ("temperature".into(), Value::Double(-3.25)),
            ("taken_at".into(), Value::Long(42)),
        ])
    );
}

#[tokio::test]
async fn primitive_key_schema_round_trip() {
    let r = common::registry().await;
    let topic = common::unique("keys");
    let supplied = SuppliedSchema::new(None, SchemaType::Avro, r#""string""#.to_owned());
    let strategy = SubjectNameStrategy::TopicNameStrategyWithSchema(topic, true, supplied);
    let bytes = AvroEncoder::new(settings(&r.url))
        .encode_struct("station-7", &strategy)
        .await
        .expect("encode key");
    let decoded = AvroDecoder::new(settings(&r.url))
        .decode(Some(&bytes))
        .await
        .expect("decode key");
    assert_eq!(decoded.value, Value::String("station-7".into()));
}

#[tokio::test]
async fn decoding_an_unknown_id_fails() {
    let r = common::registry().await;
    let bytes = [0u8, 0x7f, 0xff, 0xff, 0x00, 0x02];
    let err = AvroDecoder::new(settings(&r.url))
        .decode(Some(&bytes))
        .await
        .expect_err("unknown id");
    assert!(!err.retriable, "{err:?}");
}
