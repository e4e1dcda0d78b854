//! cdrs-tokio 9 against cqlmem (or CASSANDRA_CONTACT_POINTS): connect, DDL, prepared
//! inserts with timestamps, batches, and reading every type back.

mod common;

use std::collections::HashMap;
use std::net::IpAddr;

use cdrs_tokio::query::{BatchQueryBuilder, QueryValues};
use cdrs_tokio::query_values;
use cdrs_tokio::statement::StatementParamsBuilder;
use cdrs_tokio::types::blob::Blob;
use cdrs_tokio::types::rows::Row;
use cdrs_tokio::types::{AsRustType, ByName, IntoRustByName};

async fn rows(s: &common::CdrsSession, q: &str) -> Vec<Row> {
    s.query(q)
        .await
        .expect(q)
        .response_body()
        .expect("body")
        .into_rows()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cdrs_roundtrip() {
    let (addr, server) = common::endpoint().await;
    let s = common::session(&addr).await;
    let ks = common::unique("cdrs");
    s.query(format!(
        "CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
    ))
    .await
    .expect("create keyspace");
    s.query(format!(
        "CREATE TABLE {ks}.t (id int, c bigint, txt text, b boolean, d double, f float, \
         ti tinyint, si smallint, bl blob, u uuid, ip inet, l list<int>, m map<text, int>, \
         PRIMARY KEY (id, c))"
    ))
    .await
    .expect("create table");

    let ins = s
        .prepare(format!(
            "INSERT INTO {ks}.t (id, c, txt, b, d, f, ti, si, bl, u, ip, l, m) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .await
        .expect("prepare");
    let uid = uuid::Uuid::new_v4();
    let ip: IpAddr = "192.168.1.7".parse().unwrap();
    let m: HashMap<String, i32> = [("a".to_string(), 1), ("b".to_string(), 2)].into();
    let values: QueryValues = query_values!(
        1i32,
        10i64,
        "hello",
        true,
        2.5f64,
        1.25f32,
        7i8,
        300i16,
        Blob::new(vec![1u8, 2, 3]),
        uid,
        ip,
        vec![3i32, 4],
        m.clone()
    );
    let params = StatementParamsBuilder::new()
        .with_values(values)
        .with_timestamp(1_000)
        .build();
    s.exec_with_params(&ins, &params)
        .await
        .expect("exec insert");

    // An older write to the same cell loses.
    let upd = s
        .prepare(format!(
            "UPDATE {ks}.t USING TIMESTAMP ? SET txt = ? WHERE id = ? AND c = ?"
        ))
        .await
        .expect("prepare update");
    s.exec_with_values(&upd, query_values!(500i64, "older", 1i32, 10i64))
        .await
        .expect("older update");

    let batch = BatchQueryBuilder::new()
        .add_query_prepared(
            &ins,
            query_values!(
                1i32,
                11i64,
                "b1",
                false,
                0.0f64,
                0.0f32,
                0i8,
                0i16,
                Blob::new(vec![]),
                uid,
                ip,
                vec![1i32],
                m.clone()
            ),
        )
        .add_query(
            format!("INSERT INTO {ks}.t (id, c, txt) VALUES (?, ?, ?)"),
            query_values!(2i32, 1i64, "b2"),
        )
        .build()
        .expect("batch");
    s.batch(batch).await.expect("batch");

    let r = rows(&s, &format!("SELECT * FROM {ks}.t WHERE id = 1 AND c = 10")).await;
    assert_eq!(r.len(), 1);
    let row = &r[0];
    let txt: String = row.get_r_by_name("txt").unwrap();
    assert_eq!(txt, "hello");
    let b: bool = row.get_r_by_name("b").unwrap();
    assert!(b);
    let d: f64 = row.get_r_by_name("d").unwrap();
    assert_eq!(d, 2.5);
    let f: f32 = row.get_r_by_name("f").unwrap();
    assert_eq!(f, 1.25);
    let ti: i8 = row.get_r_by_name("ti").unwrap();
    assert_eq!(ti, 7);
    let si: i16 = row.get_r_by_name("si").unwrap();
    assert_eq!(si, 300);
    let bl: Blob = row.get_r_by_name("bl").unwrap();
    assert_eq!(bl.into_vec(), vec![1, 2, 3]);
    let u: uuid::Uuid = row.get_r_by_name("u").unwrap();
    assert_eq!(u, uid);
    let got_ip: IpAddr = row.get_r_by_name("ip").unwrap();
    assert_eq!(got_ip, ip);
    let l: cdrs_tokio::types::list::List = row.get_r_by_name("l").unwrap();
    let l: Vec<i32> = l.as_r_type().unwrap();
    assert_eq!(l, vec![3, 4]);
    let gm: cdrs_tokio::types::map::Map = row.get_r_by_name("m").unwrap();
    let gm: HashMap<String, i32> = gm.as_r_type().unwrap();
    assert_eq!(gm, m);

    let r = rows(
        &s,
        &format!("SELECT id, c, txt, writetime(txt) AS wt FROM {ks}.t"),
    )
    .await;
    assert_eq!(r.len(), 3);
    let two: Vec<&Row> = r
        .iter()
        .filter(|row| row.r_by_name::<i32>("id").unwrap() == 2)
        .collect();
    assert_eq!(two[0].r_by_name::<String>("txt").unwrap(), "b2");
    let first: Vec<&Row> = r
        .iter()
        .filter(|row| row.r_by_name::<i64>("c").unwrap() == 10)
        .collect();
    assert_eq!(first[0].r_by_name::<i64>("wt").unwrap(), 1_000);

    s.query(format!("DROP KEYSPACE {ks}")).await.expect("drop");
    if let Some(server) = server {
        server.stop().await;
    }
}
