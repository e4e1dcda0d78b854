//! Schemaless JSON with many keys (bad input: 1 MB objects of 50,000 keys, once all distinct
//! and once every key twice): conversion must cost linear time. The meter reading is the
//! baseline.
//!
//! `cargo bench --bench json_keys`; criterion writes its estimates as JSON under
//! `target/criterion/json_keys/*/new/estimates.json`.

use cassink::convert::{Converter, JsonConverter};
use cassink::produce::{record, Rng, Workload};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

fn object(keys: usize, rounds: usize) -> Vec<u8> {
    let mut text = String::from("{");
    for round in 0..rounds {
        for i in 0..keys {
            text.push_str(&format!("\"field_{i:06}\":{},", i + round));
        }
    }
    text.push_str("\"end\":0}");
    text.into_bytes()
}

fn bench(c: &mut Criterion) {
    let converter = JsonConverter {
        schemas_enable: false,
        ..JsonConverter::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let (_, meter) = record(Workload::Meter, 0, &mut Rng::new(1));
    let cases = [
        ("meter_reading", meter.to_string().into_bytes()),
        // Linear time: each doubling of the keys doubles the time.
        ("12k_distinct_keys", object(12_500, 1)),
        ("25k_distinct_keys", object(25_000, 1)),
        ("50k_distinct_keys", object(50_000, 1)),
        ("50k_keys_twice", object(25_000, 2)),
    ];
    let mut group = c.benchmark_group("json_keys");
    for (name, payload) in &cases {
        group.throughput(Throughput::Bytes(payload.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| {
                runtime
                    .block_on(converter.to_connect("t", &[], Some(black_box(payload))))
                    .expect("converts")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
