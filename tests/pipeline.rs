//! End to end through the real local stack (or real Kafka/Cassandra when the env points at
//! them): records produced to the broker are consumed by sink tasks, land in the tables with
//! the right values, and the group's committed offsets cover exactly what was written.
//!
//! Needs KAFKA_BOOTSTRAP (default 127.0.0.1:9092) and CASSANDRA_CONTACT_POINTS (default
//! 127.0.0.1, port CASSANDRA_PORT or 9042): `integration/stack.sh up` provides both.

mod common;

use cassink::produce::{self, Workload};
use cdrs_tokio::types::IntoRustByName;
use common::sink::*;
use rdkafka::ClientConfig;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn meter_readings_land_with_their_values_and_offsets_are_committed() {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let topic = unique("meter");
    produce::ensure_topic(&bootstrap(), &topic, 3)
        .await
        .expect("create topic");
    let records = 3_000;
    produce::produce(&bootstrap(), Workload::Meter, &topic, records, None, 42)
        .await
        .expect("produce");

    let name = unique("meter-sink");
    let config = meter_config(&topic, &keyspace);
    let tasks = spawn_tasks(&name, &config, 3);
    let table = format!("{keyspace}.meter_data");
    wait_for_rows(&session, &table, records as i64, &tasks).await;
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    assert_eq!(
        committed_total(&format!("connect-{name}"), &topic, 3),
        records as i64,
        "committed offsets cover every record"
    );

    // Values: the generator is deterministic, so compare one record field by field.
    let mut rng = produce::Rng::new(42);
    let mut sample = None;
    for i in 0..=1234u64 {
        let r = produce::record(Workload::Meter, i, &mut rng);
        if i == 1234 {
            sample = Some(r.1);
        }
    }
    let sample = sample.expect("sample record");
    let id = sample["id"].as_str().expect("id");
    let ts = sample["timestamp"].as_i64().expect("timestamp");
    let got = rows(
        &session,
        &format!("SELECT p_1, q_3, harm FROM {table} WHERE id = {id} AND timestamp = {ts}"),
    )
    .await;
    assert_eq!(got.len(), 1, "the sampled reading is stored once");
    let p_1: f32 = IntoRustByName::<f32>::get_by_name(&got[0], "p_1")
        .ok()
        .flatten()
        .expect("p_1");
    assert!(
        (p_1 as f64 - sample["P_1"].as_f64().unwrap_or(0.0)).abs() < 0.01,
        "p_1 {p_1} vs {}",
        sample["P_1"]
    );
    let harm: cdrs_tokio::types::list::List = IntoRustByName::get_by_name(&got[0], "harm")
        .ok()
        .flatten()
        .expect("harm");
    let harm: Vec<i32> = cdrs_tokio::types::AsRustType::as_r_type(&harm).expect("harm ints");
    let expected: Vec<i32> = sample["HARM"]
        .as_array()
        .expect("HARM")
        .iter()
        .map(|v| v.as_i64().unwrap_or(-1) as i32)
        .collect();
    assert_eq!(harm, expected);

    // A restarted connector resumes from the committed offsets: new records only.
    produce::produce(&bootstrap(), Workload::Meter, &topic, 3_500, None, 42)
        .await
        .expect("produce more");
    let tasks = spawn_tasks(&name, &config, 3);
    wait_for_rows(&session, &table, 3_500, &tasks).await;
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    assert_eq!(
        committed_total(&format!("connect-{name}"), &topic, 3),
        (records + 3_500) as i64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_record_the_table_cannot_take_fails_the_task_with_a_trace_and_no_commit_past_it() {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let topic = unique("meterbad");
    produce::ensure_topic(&bootstrap(), &topic, 1)
        .await
        .expect("create topic");
    produce::produce(&bootstrap(), Workload::Meter, &topic, 10, None, 1)
        .await
        .expect("produce");
    // Record 10: an id that is not a uuid.
    let producer: rdkafka::producer::FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("producer");
    let bad = r#"{"id":"not-a-uuid","timestamp":1612891980000,"P_1":1.0,"P_2":1.0,"P_3":1.0,"Q_1":1.0,"Q_2":1.0,"Q_3":1.0,"HARM":[1]}"#;
    producer
        .send(
            rdkafka::producer::FutureRecord::<str, str>::to(&topic).payload(bad),
            Duration::from_secs(10),
        )
        .await
        .expect("send bad record");

    let name = unique("bad-sink");
    let tasks = spawn_tasks(&name, &meter_config(&topic, &keyspace), 1);
    let status = wait_for_failure(&tasks[0], Duration::from_secs(60)).await;
    let trace = status.trace.expect("a trace");
    assert!(
        trace.contains(&format!("topic={topic} partition=0 offset=10")),
        "{trace}"
    );
    assert!(
        trace.contains("not-a-uuid") && trace.contains("meter_data"),
        "{trace}"
    );
    assert_eq!(
        count(&session, &format!("{keyspace}.meter_data")).await,
        10,
        "the good records before it are written"
    );
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    assert_eq!(
        committed_total(&format!("connect-{name}"), &topic, 1),
        10,
        "committed up to, not past, the bad record"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_custom_query_binds_mapped_fields_by_marker_name() {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    session
        .query(format!("CREATE TABLE {keyspace}.readings (meter uuid, at timestamp, power float, PRIMARY KEY (meter, at))"))
        .await
        .expect("create table");
    let topic = unique("meterq");
    produce::ensure_topic(&bootstrap(), &topic, 2)
        .await
        .expect("create topic");
    produce::produce(&bootstrap(), Workload::Meter, &topic, 200, None, 9)
        .await
        .expect("produce");

    let mut config = meter_config(&topic, &keyspace);
    let prefix = format!("topic.{topic}.{keyspace}.meter_data");
    config.insert(
        format!("{prefix}.mapping"),
        "id=value.id, timestamp=value.timestamp, p_1=value.P_1".into(),
    );
    config.insert(format!("{prefix}.deletesEnabled"), "false".into());
    config.insert(
        format!("{prefix}.query"),
        format!("INSERT INTO {keyspace}.readings (meter, at, power) VALUES (:id, :timestamp, :p_1) USING TTL 3600"),
    );
    let tasks = spawn_tasks(&unique("query-sink"), &config, 2);
    wait_for_rows(&session, &format!("{keyspace}.readings"), 200, &tasks).await;
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    assert_eq!(
        count(&session, &format!("{keyspace}.meter_data")).await,
        0,
        "the generated INSERT is not used"
    );
}

/// The tweets and weather pipelines with their shipped configs: every record becomes a row,
/// with epoch-seconds floats and "YYYY-mm-dd HH:MM:SS" strings turned into the right timestamps.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tweets_and_weather_land_with_their_shipped_configs() {
    let session = cql().await;
    let keyspace = pipeline_keyspace(&session).await;
    let records = 2_000u64;
    let mut tasks = Vec::new();
    let mut topics = Vec::new();
    for (workload, file) in [
        (Workload::Tweets, "tweets.json"),
        (Workload::Weather, "weather.json"),
    ] {
        let topic = unique(workload.topic());
        produce::ensure_topic(&bootstrap(), &topic, 3)
            .await
            .expect("create topic");
        produce::produce(&bootstrap(), workload, &topic, records, None, 11)
            .await
            .expect("produce");
        tasks.extend(spawn_tasks(
            &unique(workload.topic()),
            &shipped_config(file, &topic, &keyspace),
            2,
        ));
        topics.push(topic);
    }
    wait_for_rows(
        &session,
        &format!("{keyspace}.twitterdata"),
        records as i64,
        &tasks,
    )
    .await;
    wait_for_rows(
        &session,
        &format!("{keyspace}.weatherreport"),
        records as i64,
        &tasks,
    )
    .await;
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }

    let mut rng = produce::Rng::new(11);
    let tweets: Vec<_> = (0..records)
        .map(|i| produce::record(Workload::Tweets, i, &mut rng).1)
        .collect();
    for tweet in tweets.iter().step_by(397) {
        let ms = (tweet["datetime"].as_f64().expect("datetime") * 1000.0).round() as i64;
        let location = tweet["location"].as_str().expect("location");
        let got = rows(&session, &format!("SELECT tweet, classification FROM {keyspace}.twitterdata WHERE location = '{location}' AND tweet_date = {ms}")).await;
        assert_eq!(got.len(), 1, "tweet at {ms} in {location}");
        let text: String = IntoRustByName::<String>::get_by_name(&got[0], "tweet")
            .ok()
            .flatten()
            .expect("tweet");
        assert_eq!(text, tweet["tweet"].as_str().expect("tweet"));
    }
    let mut rng = produce::Rng::new(11);
    let reports: Vec<_> = (0..records)
        .map(|i| produce::record(Workload::Weather, i, &mut rng).1)
        .collect();
    for (i, report) in reports.iter().enumerate().step_by(331) {
        // report_time "YYYY-mm-dd HH:MM:SS" in UTC (topic.weather.codec.timeZone).
        let ms = (1_612_891_980 + (i as i64 / 10) * 3600) * 1000;
        let location = report["location"].as_str().expect("location");
        let got = rows(&session, &format!("SELECT temp, description, sunrise FROM {keyspace}.weatherreport WHERE location = '{location}' AND forecastdate = {ms}")).await;
        assert_eq!(
            got.len(),
            1,
            "report {i} ({}) in {location}",
            report["report_time"]
        );
        let temp: f32 = IntoRustByName::<f32>::get_by_name(&got[0], "temp")
            .ok()
            .flatten()
            .expect("temp");
        assert!((f64::from(temp) - report["temp"].as_f64().expect("temp")).abs() < 0.01);
        let sunrise: i64 = IntoRustByName::<i64>::get_by_name(&got[0], "sunrise")
            .ok()
            .flatten()
            .expect("sunrise");
        assert_eq!(sunrise, report["sunrise"].as_i64().expect("sunrise"));
    }
}

/// Per partition, a later record for a row is never written before an earlier one. The
/// table is written with a custom query without `USING TIMESTAMP`, so the server stamps each
/// write on arrival and the final value is the last *arriving* version (with the default
/// Kafka-timestamp write time, a reordering would be invisible). Versions are scrambled so
/// that a later version is not always the greater value: two versions in one batch (one
/// write time, greater value wins) would show too. Several versions of few rows, interleaved
/// over four partitions, small batches and many requests in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn later_records_for_a_row_are_never_written_before_earlier_ones() {
    const PARTITIONS: i32 = 4;
    const KEYS: usize = 5;
    const CLUSTERS: i32 = 3;
    const VERSIONS: i32 = 60;
    let scramble = |version: i32| (version * 40_503) % 65_536;

    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let table = format!("{keyspace}.versions");
    session
        .query(format!(
            "CREATE TABLE {table} (k text, c int, v int, PRIMARY KEY (k, c))"
        ))
        .await
        .expect("create table");
    let topic = unique("versions");
    produce::ensure_topic(&bootstrap(), &topic, PARTITIONS)
        .await
        .expect("create topic");

    // Each partition has its own rows; every round writes one more version of each of them,
    // in a shuffled order. The expected final version of a row is the one with the highest
    // offset, as the broker acknowledged it.
    let producer: rdkafka::producer::FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("linger.ms", "5")
        .create()
        .expect("producer");
    let mut rng = produce::Rng::new(7);
    let mut records = Vec::new();
    for version in 0..VERSIONS {
        for partition in 0..PARTITIONS {
            let mut rows: Vec<(String, i32)> = (0..KEYS)
                .flat_map(|k| (0..CLUSTERS).map(move |c| (format!("p{partition}-k{k}"), c)))
                .collect();
            for i in (1..rows.len()).rev() {
                rows.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
            }
            for (k, c) in rows {
                records.push((partition, k, c, version));
            }
        }
    }
    let mut last: std::collections::BTreeMap<(String, i32), (i64, i32)> = Default::default();
    for chunk in records.chunks(500) {
        let sends = chunk.iter().map(|(partition, k, c, version)| {
            let payload = serde_json::json!({"k": k, "c": c, "v": scramble(*version)}).to_string();
            let producer = &producer;
            let topic = &topic;
            async move {
                let record = rdkafka::producer::FutureRecord::<str, str>::to(topic)
                    .partition(*partition)
                    .key(k)
                    .payload(&payload);
                let delivery = producer
                    .send(record, Duration::from_secs(30))
                    .await
                    .map_err(|(e, _)| e)
                    .expect("send");
                ((k.clone(), *c), delivery.offset, *version)
            }
        });
        for (row, offset, version) in futures::future::join_all(sends).await {
            let newest = last.entry(row).or_insert((offset, version));
            if offset > newest.0 {
                *newest = (offset, version);
            }
        }
    }

    let mut config = meter_config(&topic, &keyspace);
    config.retain(|k, _| !k.starts_with("topic."));
    let prefix = format!("topic.{topic}.{keyspace}.versions");
    config.insert(
        format!("{prefix}.mapping"),
        "k=value.k, c=value.c, v=value.v".into(),
    );
    config.insert(format!("{prefix}.deletesEnabled"), "false".into());
    config.insert(
        format!("{prefix}.query"),
        format!("INSERT INTO {table} (k, c, v) VALUES (:k, :c, :v)"),
    );
    config.insert("maxNumberOfRecordsInBatch".into(), "4".into());
    config.insert("maxConcurrentRequests".into(), "64".into());
    let name = unique("versions-sink");
    let tasks = spawn_tasks(&name, &config, 2);
    wait_for_commit(
        &format!("connect-{name}"),
        &topic,
        PARTITIONS,
        records.len() as i64,
        &tasks,
    )
    .await;
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }

    let got = rows(&session, &format!("SELECT k, c, v FROM {table}")).await;
    assert_eq!(got.len(), last.len(), "one row per (k, c)");
    let mut out_of_order = Vec::new();
    for row in &got {
        let k: String = IntoRustByName::get_by_name(row, "k")
            .ok()
            .flatten()
            .expect("k");
        let c: i32 = IntoRustByName::get_by_name(row, "c")
            .ok()
            .flatten()
            .expect("c");
        let v: i32 = IntoRustByName::get_by_name(row, "v")
            .ok()
            .flatten()
            .expect("v");
        let (_, version) = last[&(k.clone(), c)];
        if v != scramble(version) {
            let seen = (0..VERSIONS).find(|x| scramble(*x) == v);
            out_of_order.push(format!("{k}/{c}: version {seen:?} instead of {version}"));
        }
    }
    assert!(
        out_of_order.is_empty(),
        "{} of {} rows do not hold their last version: {:?}",
        out_of_order.len(),
        got.len(),
        &out_of_order[..out_of_order.len().min(10)]
    );
}

/// A batch Cassandra rejects is written again one record at a time, so that only the record
/// at fault is skipped (errors.tolerance=all) and the rest of its batch lands. The bad record
/// binds fine but asks for a TTL beyond Cassandra's 20-year maximum.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_cassandra_rejects_is_retried_record_by_record_and_only_the_bad_one_is_skipped() {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let topic = unique("meterttl");
    produce::ensure_topic(&bootstrap(), &topic, 1)
        .await
        .expect("create topic");
    let producer: rdkafka::producer::FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("linger.ms", "200")
        .create()
        .expect("producer");
    // One meter (one partition key), produced as one Kafka batch: the 20 readings reach the
    // sink together and go out as one CQL batch.
    let id = "6d657465-7200-0000-0000-0000000077a1";
    let bad = 13;
    let payloads: Vec<String> = (0..20i64)
        .map(|i| {
            let ttl = if i == bad { 700_000_000 } else { 3_600 };
            format!(
                r#"{{"id":"{id}","timestamp":{},"P_1":1.0,"P_2":1.0,"P_3":1.0,"Q_1":1.0,"Q_2":1.0,"Q_3":1.0,"HARM":[1],"ttl":{ttl}}}"#,
                1_612_891_980_000 + i * 1000
            )
        })
        .collect();
    let sends = payloads.iter().map(|payload| {
        producer.send(
            rdkafka::producer::FutureRecord::<str, str>::to(&topic).payload(payload),
            Duration::from_secs(10),
        )
    });
    for sent in futures::future::join_all(sends).await {
        sent.map_err(|(e, _)| e).expect("send");
    }

    let mut config = meter_config(&topic, &keyspace);
    let mapping = format!("topic.{topic}.{keyspace}.meter_data.mapping");
    let with_ttl = format!("{}, __ttl=value.ttl", config[&mapping]);
    config.insert(mapping, with_ttl);
    config.insert("errors.tolerance".into(), "all".into());
    let name = unique("ttl-sink");
    let tasks = spawn_tasks(&name, &config, 1);
    wait_for_commit(&format!("connect-{name}"), &topic, 1, 20, &tasks).await;
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    let table = format!("{keyspace}.meter_data");
    assert_eq!(count(&session, &table).await, 19, "all but the bad record");
    let bad_ts = 1_612_891_980_000 + bad * 1000;
    assert!(
        rows(
            &session,
            &format!("SELECT id FROM {table} WHERE id = {id} AND timestamp = {bad_ts}")
        )
        .await
        .is_empty(),
        "the record with the oversized TTL is skipped"
    );
}

/// TTLs as DataStax writes them, on a table with `default_time_to_live`: no `ttl` and no
/// `__ttl` binds none, so the table default applies; a configured `ttl` wins; a mapped
/// `__ttl` that is null leaves the default too, and one with a value sets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_tables_default_ttl_applies_unless_a_ttl_is_configured_or_mapped() {
    let session = cql().await;
    let keyspace = meter_table(&session).await;
    let table = format!("{keyspace}.meter_data");
    session
        .query(format!(
            "ALTER TABLE {table} WITH default_time_to_live = 3600"
        ))
        .await
        .expect("set default_time_to_live");
    let topic = unique("meter-ttl");
    produce::ensure_topic(&bootstrap(), &topic, 1)
        .await
        .expect("create topic");
    let producer: rdkafka::producer::FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .expect("producer");
    // Three readings of one meter: `ttl_s` (mapped to __ttl in one run) absent, null, 90.
    let meter = "6d657465-7200-0000-0000-00000000770a";
    let cases = [
        (1_000, None),
        (2_000, Some(serde_json::Value::Null)),
        (3_000, Some(serde_json::json!(90))),
    ];
    for (ts, ttl) in &cases {
        let mut v = serde_json::json!({"id": meter, "timestamp": ts, "P_1": 1.0, "P_2": 1.0,
            "P_3": 1.0, "Q_1": 1.0, "Q_2": 1.0, "Q_3": 1.0, "HARM": [1]});
        if let Some(ttl) = ttl {
            v["ttl_s"] = ttl.clone();
        }
        let payload = v.to_string();
        producer
            .send(
                rdkafka::producer::FutureRecord::<str, str>::to(&topic)
                    .key(meter)
                    .payload(&payload),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .expect("produce");
    }
    let ttl_of = |ts: i64| {
        let session = &session;
        let table = &table;
        async move {
            let got = rows(
                session,
                &format!(
                    "SELECT TTL(p_1) AS t FROM {table} WHERE id = {meter} AND timestamp = {ts}"
                ),
            )
            .await;
            IntoRustByName::<i32>::get_by_name(&got[0], "t")
                .ok()
                .flatten()
        }
    };

    // No ttl, no __ttl: the table's default applies to every record.
    let name = unique("ttl-default");
    let tasks = spawn_tasks(&name, &meter_config(&topic, &keyspace), 1);
    wait_for_rows(&session, &table, 3, &tasks).await;
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    for (ts, _) in &cases {
        let ttl = ttl_of(*ts).await.expect("the table default sets a TTL");
        assert!(
            (3_000..=3_600).contains(&ttl),
            "TTL {ttl} at {ts}: not the table default"
        );
    }

    // __ttl mapped: absent or null keeps the table default, a value sets it.
    let truncate = || async {
        session
            .query(format!("TRUNCATE {table}"))
            .await
            .expect("truncate");
    };
    truncate().await;
    let mut config = meter_config(&topic, &keyspace);
    let mapping_key = format!("topic.{topic}.{keyspace}.meter_data.mapping");
    let mapping = format!("{}, __ttl=value.ttl_s", config[&mapping_key]);
    config.insert(mapping_key, mapping);
    let name = unique("ttl-mapped");
    let tasks = spawn_tasks(&name, &config, 1);
    wait_for_rows(&session, &table, 3, &tasks).await;
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    for ts in [1_000, 2_000] {
        let ttl = ttl_of(ts).await.expect("a TTL");
        assert!(
            (3_000..=3_600).contains(&ttl),
            "__ttl absent/null at {ts}: the table default, got {ttl}"
        );
    }
    let mapped = ttl_of(3_000).await.expect("a TTL");
    assert!((30..=90).contains(&mapped), "__ttl 90: 90 s, got {mapped}");

    // A configured ttl wins over the table default.
    truncate().await;
    let mut config = meter_config(&topic, &keyspace);
    config.insert(
        format!("topic.{topic}.{keyspace}.meter_data.ttl"),
        "120".into(),
    );
    let name = unique("ttl-configured");
    let tasks = spawn_tasks(&name, &config, 1);
    wait_for_rows(&session, &table, 3, &tasks).await;
    for t in tasks {
        t.stop(Duration::from_secs(30)).await;
    }
    for (ts, _) in &cases {
        let ttl = ttl_of(*ts).await.expect("a TTL");
        assert!((60..=120).contains(&ttl), "ttl=120 at {ts}: got {ttl}");
    }
}
