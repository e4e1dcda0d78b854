//! Per-record cost of a 3-transform chain (ReplaceField renames and drops, Cast, InsertField)
//! on the weather record, as schemaless JSON converted by the JsonConverter: the chain alone,
//! and the conversion alone for comparison.
//!
//! `cargo bench --bench transforms`; criterion writes its estimates as JSON under
//! `target/criterion/transforms/*/new/estimates.json`.

use cassink::config::ConfigMap;
use cassink::convert::{ImmediateConverter, JsonConverter};
use cassink::produce::{record, Rng, Workload};
use cassink::record::{Position, SinkRecord};
use cassink::transform::Chain;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

const RECORDS: u64 = 1_000;

fn chain() -> Chain {
    let config: ConfigMap = [
        ("transforms", "rename,cast,insert"),
        (
            "transforms.rename.type",
            "org.apache.kafka.connect.transforms.ReplaceField$Value",
        ),
        ("transforms.rename.exclude", "sunrise,sunset"),
        ("transforms.rename.renames", "report_time:forecastdate"),
        (
            "transforms.cast.type",
            "org.apache.kafka.connect.transforms.Cast$Value",
        ),
        ("transforms.cast.spec", "pressure:float32,humidity:float32"),
        (
            "transforms.insert.type",
            "org.apache.kafka.connect.transforms.InsertField$Value",
        ),
        ("transforms.insert.topic.field", "source_topic"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Chain::from_config(&config).expect("chain")
}

fn weather_records() -> Vec<SinkRecord> {
    let converter = JsonConverter {
        schemas_enable: false,
        ..Default::default()
    };
    let mut rng = Rng::new(42);
    (0..RECORDS)
        .map(|i| {
            let (key, value) = record(Workload::Weather, i, &mut rng);
            let value = converter
                .convert(Some(value.to_string().as_bytes()))
                .expect("converts");
            SinkRecord {
                position: Position {
                    topic: "weather".into(),
                    partition: 0,
                    offset: i as i64,
                },
                topic: "weather".into(),
                timestamp_ms: Some(1_700_000_000_000),
                key: Some(cassink::record::Value::String(key)),
                value,
                headers: Vec::new(),
                raw_key: None,
                raw_value: None,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let chain = chain();
    let records = weather_records();
    let mut group = c.benchmark_group("transforms");
    group.throughput(Throughput::Elements(RECORDS));
    group.bench_function("weather_3_transform_chain", |b| {
        b.iter_batched(
            || records.clone(),
            |batch| {
                for r in batch {
                    black_box(chain.apply(r).expect("applies"));
                }
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function("weather_clone_only", |b| {
        b.iter_batched(
            || records.clone(),
            |batch| {
                for r in batch {
                    black_box(r);
                }
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
