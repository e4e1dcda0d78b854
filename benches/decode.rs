//! Decoding meter readings with each registry format, the schema already cached (no registry
//! call): the Confluent wire format -> the record model, per record, for Avro (apache-avro),
//! Protobuf (prost-reflect, `connectors/meter.proto`) and JSON Schema (the JSON text typed by
//! the meter's JSON Schema); and the same readings as schemaless JSON through the
//! JsonConverter, for comparison.
//!
//! `cargo bench --bench decode`; criterion writes its estimates as JSON under
//! `target/criterion/decode/*/new/estimates.json`.

use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use cassink::convert::avro::{AvroConverter, SchemaRef};
use cassink::convert::json::Json;
use cassink::convert::json_schema::value::{Document, Registered};
use cassink::convert::protobuf::{Mapping, ProtobufConverter};
use cassink::convert::{Converter, JsonConverter, Part};
use cassink::produce::avro::{normalize, to_avro, METER_SCHEMA};
use cassink::produce::protobuf::{ProtobufWriter, METER_PROTO};
use cassink::produce::{record, Rng, Workload};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

const RECORDS: u64 = 1_000;

/// The meter's JSON Schema, as a registry would hand it back.
struct MeterJsonSchema(serde_json::Value);

impl Registered for MeterJsonSchema {
    fn schema(&self) -> &serde_json::Value {
        &self.0
    }
    fn url(&self) -> &str {
        "http://registry/schemas/ids/1"
    }
    fn references(&self) -> &[Self] {
        &[]
    }
}

fn meter_json_schema() -> MeterJsonSchema {
    let number = serde_json::json!({"type": "number"});
    MeterJsonSchema(serde_json::json!({
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "timestamp": {"type": "integer", "title": "org.apache.kafka.connect.data.Timestamp"},
            "P_1": number, "P_2": number, "P_3": number,
            "Q_1": number, "Q_2": number, "Q_3": number,
            "HARM": {"type": "array", "items": {"type": "integer"}}
        }
    }))
}

fn protobuf_payloads() -> Vec<Vec<u8>> {
    let writer = ProtobufWriter::new(METER_PROTO, 1).expect("meter.proto");
    let mut rng = Rng::new(42);
    (0..RECORDS)
        .map(|i| {
            let (_, value) = record(Workload::Meter, i, &mut rng);
            writer.encode(i, &value).expect("encode")
        })
        .collect()
}

fn meter_payloads() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let schema = Schema::parse_str(METER_SCHEMA).expect("meter schema");
    let writer = GenericDatumWriter::builder(&schema)
        .build()
        .expect("writer");
    let mut rng = Rng::new(42);
    let mut avro = Vec::new();
    let mut json = Vec::new();
    for i in 0..RECORDS {
        let (_, value) = record(Workload::Meter, i, &mut rng);
        json.push(value.to_string().into_bytes());
        let datum = to_avro(&schema, &normalize(Workload::Meter, value)).expect("datum");
        let mut framed = vec![0u8, 0, 0, 0, 1];
        framed.extend(writer.write_value_to_vec(datum).expect("encode"));
        avro.push(framed);
    }
    (avro, json)
}

fn bench(c: &mut Criterion) {
    let (avro, json) = meter_payloads();
    let schema = Schema::parse_str(METER_SCHEMA).expect("meter schema");
    let converter =
        AvroConverter::with_schemas(Part::Value, [(SchemaRef::Id(1), schema)]).expect("converter");
    let json_converter = JsonConverter {
        schemas_enable: false,
        ..Default::default()
    };
    let protobuf = protobuf_payloads();
    let protobuf_converter = ProtobufConverter::with_schemas(
        Part::Value,
        Mapping::default(),
        [(SchemaRef::Id(1), METER_PROTO.to_string())],
    )
    .expect("converter");
    let json_schema = meter_json_schema();
    let document = Document {
        schema: &json_schema,
        optional_for_nonrequired: false,
    };
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(RECORDS));
    group.bench_function("meter_avro", |b| {
        b.iter(|| {
            futures::executor::block_on(async {
                for payload in &avro {
                    let v = converter.to_connect("meter", &[], Some(payload)).await;
                    black_box(v.expect("decodes"));
                }
            })
        })
    });
    group.bench_function("meter_protobuf", |b| {
        b.iter(|| {
            futures::executor::block_on(async {
                for payload in &protobuf {
                    let v = protobuf_converter
                        .to_connect("meter", &[], Some(payload))
                        .await;
                    black_box(v.expect("decodes"));
                }
            })
        })
    });
    group.bench_function("meter_json_schema", |b| {
        b.iter(|| {
            for payload in &json {
                // The wire prefix is 5 bytes the converter skips; the cost is parse + typing.
                let parsed = Json::parse(payload).expect("json");
                black_box(document.read(parsed).expect("typed"));
            }
        })
    });
    group.bench_function("meter_json", |b| {
        b.iter(|| {
            futures::executor::block_on(async {
                for payload in &json {
                    let v = json_converter.to_connect("meter", &[], Some(payload)).await;
                    black_box(v.expect("decodes"));
                }
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
