//! Avro decoding of meter readings with the schema already cached (no registry call): the
//! Confluent wire format -> apache-avro datum -> the record model, per record. The same
//! readings as schemaless JSON through the JsonConverter, for comparison.
//!
//! `cargo bench --bench avro_decode`; criterion writes its estimates as JSON under
//! `target/criterion/avro_decode/*/new/estimates.json`.

use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use cassink::convert::avro::{AvroConverter, SchemaRef};
use cassink::convert::{Converter, JsonConverter, Part};
use cassink::produce::avro::{normalize, to_avro, METER_SCHEMA};
use cassink::produce::{record, Rng, Workload};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

const RECORDS: u64 = 1_000;

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
    let mut group = c.benchmark_group("avro_decode");
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
