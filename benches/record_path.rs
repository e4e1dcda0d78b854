//! The per-record path of the three reference pipelines (tweets, weather, meter), without
//! the network: `convert` (the key and value converters of the shipped connector configs,
//! bytes to a `SinkRecord`), `bind` (mapping and CQL encoding against the shipped
//! `connectors/schema.cql` tables) and both in a row. One element is one record.
//!
//! `cargo bench --bench record_path`; criterion writes its estimates as JSON under
//! `target/criterion/<pipeline>/*/new/estimates.json`. For instruction counts, which are
//! stable on a busy machine, run the bench binary (`target/release/deps/record_path-*`) with
//! `RECORD_PATH_COUNT=2000` and then `=12000` (and `RECORD_PATH=weather|tweets|meter`) under
//! `valgrind --tool=callgrind`: the difference of the totals over 10,000 is one record.

use cassink::config::ConfigMap;
use cassink::connector::Framework;
use cassink::convert::{Converter, JsonConverter, StringConverter};
use cassink::produce::{record, Rng, Workload};
use cassink::record::{Position, SinkRecord, Value};
use cassink::sink::cassandra::clock::Now;
use cassink::sink::cassandra::codec::{CodecSettings, CqlType};
use cassink::sink::cassandra::config::{SinkConfig, TableConfig};
use cassink::sink::cassandra::schema::{Column, Kind, TableSchema};
use cassink::sink::cassandra::statement::{bind, plan, Plan, Write};
use criterion::{criterion_group, Criterion, Throughput};
use std::hint::black_box;

/// The worker's allocator, so allocation costs what it costs in the worker.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RECORDS: u64 = 1_000;

fn repo_file(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// The `config` of a shipped connector file.
fn connector_config(file: &str) -> ConfigMap {
    let json: serde_json::Value =
        serde_json::from_str(&repo_file(&format!("connectors/{file}"))).expect("connector JSON");
    json["config"]
        .as_object()
        .expect("a config object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string values").to_string()))
        .collect()
}

/// `table` of `connectors/schema.cql`, read as Cassandra's system_schema would give it.
fn table_schema(table: &str) -> TableSchema {
    let cql = repo_file("connectors/schema.cql");
    let start = cql
        .find(&format!("kafkapipeline.{table} ("))
        .expect("the table in schema.cql");
    let body = &cql[start..];
    let body = &body[body.find('(').expect("(") + 1..body.find(");").expect(");")];
    let mut columns = Vec::new();
    let mut key: Vec<String> = Vec::new();
    for line in body.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("--") {
            continue;
        }
        if let Some(pk) = line.strip_prefix("PRIMARY KEY (") {
            key = pk
                .trim_end_matches(')')
                .split(',')
                .map(|c| c.trim().to_string())
                .collect();
            continue;
        }
        let (name, ty) = line
            .trim_end_matches(',')
            .split_once(' ')
            .expect("name type");
        columns.push((
            name.to_string(),
            CqlType::parse_builtin(ty.trim()).expect("CQL type"),
        ));
    }
    let columns = columns
        .into_iter()
        .map(|(name, ty)| {
            let (kind, position) = match key.iter().position(|k| *k == name) {
                Some(0) => (Kind::PartitionKey, 0),
                Some(i) => (Kind::Clustering, i as i32 - 1),
                None => (Kind::Regular, -1),
            };
            Column {
                name,
                kind,
                position,
                ty,
            }
        })
        .collect();
    TableSchema {
        keyspace: "kafkapipeline".into(),
        table: table.into(),
        columns,
    }
}

struct Pipeline {
    name: &'static str,
    records: Vec<(Vec<u8>, Vec<u8>)>,
    table: TableConfig,
    plan: Plan,
    codecs: CodecSettings,
    topic: &'static str,
    /// The topic's name as a task shares it between its records.
    shared_topic: std::sync::Arc<str>,
}

fn pipeline(name: &'static str, workload: Workload, file: &str, table: &str) -> Pipeline {
    let config = connector_config(file);
    let sink = SinkConfig::parse(&config, Framework::default()).expect("the shipped config parses");
    let table_config = sink.tables[0].clone();
    let plan = plan(&table_config, &table_schema(table)).expect("the mapping fits the table");
    let topic = workload.topic();
    let mut rng = Rng::new(7);
    let records = (0..RECORDS)
        .map(|i| {
            let (key, value) = record(workload, i, &mut rng);
            (key.into_bytes(), value.to_string().into_bytes())
        })
        .collect();
    Pipeline {
        name,
        records,
        codecs: CodecSettings::from_topic_config(topic, &config).expect("codec settings"),
        table: table_config,
        plan,
        topic,
        shared_topic: topic.into(),
    }
}

/// As a task runs a converter: at once when it needs only the bytes.
async fn run(converter: &dyn Converter, topic: &str, data: &[u8]) -> Option<Value> {
    match converter.immediate() {
        Some(immediate) => immediate.convert(Some(data)),
        None => converter.to_connect(topic, &[], Some(data)).await,
    }
    .expect("converts")
}

/// What a task of these connectors runs on each record: the converters and the clock.
struct Stages {
    runtime: tokio::runtime::Runtime,
    key: StringConverter,
    value: JsonConverter,
    now: Now,
}

impl Stages {
    fn new() -> Stages {
        Stages {
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime"),
            key: StringConverter::default(),
            value: JsonConverter {
                schemas_enable: false,
                ..JsonConverter::default()
            },
            now: Now::at(1_700_000_000_000_000),
        }
    }

    /// Record `i` of `p` (modulo its records) as the converters give it.
    fn convert(&self, p: &Pipeline, i: usize) -> SinkRecord {
        let (k, v) = &p.records[i % p.records.len()];
        self.runtime.block_on(async {
            SinkRecord {
                position: Position {
                    topic: p.shared_topic.clone(),
                    partition: 0,
                    offset: i as i64,
                },
                topic: p.shared_topic.clone(),
                timestamp_ms: Some(1_700_000_000_000 + i as i64),
                key: run(&self.key, p.topic, black_box(k)).await,
                value: run(&self.value, p.topic, black_box(v)).await,
                headers: Vec::new(),
                raw_key: None,
                raw_value: None,
            }
        })
    }

    fn bind(&self, p: &Pipeline, record: &SinkRecord) -> Write {
        bind(black_box(record), &p.table, &p.plan, &p.codecs, &self.now).expect("binds")
    }
}

fn pipelines() -> [Pipeline; 3] {
    [
        pipeline("tweets", Workload::Tweets, "tweets.json", "twitterdata"),
        pipeline(
            "weather",
            Workload::Weather,
            "weather.json",
            "weatherreport",
        ),
        pipeline("meter", Workload::Meter, "meter.json", "meter_data"),
    ]
}

fn bench(c: &mut Criterion) {
    let stages = Stages::new();
    for p in &pipelines() {
        let converted: Vec<SinkRecord> =
            (0..p.records.len()).map(|i| stages.convert(p, i)).collect();
        let mut group = c.benchmark_group(p.name);
        group.throughput(Throughput::Elements(1));
        let mut i = 0;
        group.bench_function("convert", |b| {
            b.iter(|| {
                i += 1;
                stages.convert(p, i)
            })
        });
        group.bench_function("bind", |b| {
            b.iter(|| {
                i += 1;
                stages.bind(p, &converted[i % converted.len()])
            })
        });
        group.bench_function("convert_bind", |b| {
            b.iter(|| {
                i += 1;
                stages.bind(p, &stages.convert(p, i))
            })
        });
        group.finish();
    }
}

/// `RECORD_PATH_COUNT=n RECORD_PATH=weather`: converts and binds that pipeline's records `n`
/// times over and exits, for instruction counts that do not depend on time (run it under
/// `valgrind --tool=callgrind` with two counts; the difference divided by the difference of
/// the counts is the cost of one record).
fn counted(count: usize, name: &str) {
    let stages = Stages::new();
    let all = pipelines();
    let p = all.iter().find(|p| p.name == name).unwrap_or(&all[1]);
    for i in 0..count {
        black_box(stages.bind(p, &stages.convert(p, i)));
    }
}

criterion_group!(benches, bench);

fn main() {
    match std::env::var("RECORD_PATH_COUNT")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        Some(count) => counted(count, &std::env::var("RECORD_PATH").unwrap_or_default()),
        None => {
            benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
