//! Admin fault controls and `--data-dir` persistence, with cdrs-tokio as the client.

mod common;

use std::time::Duration;

use cdrs_tokio::types::ByName;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_faults_fail_writes_but_keep_reads_and_data() {
    let server = common::start(None).await;
    let admin = server.admin.expect("admin addr");
    let (status, body) = common::http(admin, "GET", "/health", None).await;
    assert_eq!((status, body.contains("\"ok\"")), (200, true));

    let s = common::session(&server.addr.to_string()).await;
    s.query(
        "CREATE KEYSPACE f WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    )
    .await
    .unwrap();
    s.query("CREATE TABLE f.t (k int PRIMARY KEY, v text)")
        .await
        .unwrap();
    s.query("INSERT INTO f.t (k, v) VALUES (1, 'kept')")
        .await
        .unwrap();

    for mode in ["write_timeout", "unavailable", "overloaded"] {
        let (status, _) = common::http(
            admin,
            "POST",
            "/faults",
            Some(&format!("{{\"mode\": \"{mode}\"}}")),
        )
        .await;
        assert_eq!(status, 200);
        let (_, cur) = common::http(admin, "GET", "/faults", None).await;
        assert!(cur.contains(mode), "{cur}");
        let w = tokio::time::timeout(
            Duration::from_secs(10),
            s.query("INSERT INTO f.t (k, v) VALUES (2, 'no')"),
        )
        .await;
        assert!(matches!(w, Ok(Err(_))), "{mode}: write should fail");
        let r = s
            .query("SELECT v FROM f.t WHERE k = 1")
            .await
            .expect("reads still work");
        let rows = r.response_body().unwrap().into_rows().unwrap();
        assert_eq!(rows[0].r_by_name::<String>("v").unwrap(), "kept");
        let (status, _) = common::http(admin, "DELETE", "/faults", None).await;
        assert_eq!(status, 200);
    }
    s.query("INSERT INTO f.t (k, v) VALUES (3, 'after')")
        .await
        .expect("write after clear");

    // A fault with a duration clears itself.
    common::http(
        admin,
        "POST",
        "/faults",
        Some("{\"mode\": \"overloaded\", \"duration_ms\": 200}"),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    s.query("INSERT INTO f.t (k, v) VALUES (4, 'expired fault')")
        .await
        .expect("fault expired");

    // drop: open connections are closed, new ones refused until the duration ends.
    common::http(
        admin,
        "POST",
        "/faults",
        Some("{\"mode\": \"drop\", \"duration_ms\": 300}"),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut probe = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut buf = [0u8; 1];
    let n = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::io::AsyncReadExt::read(&mut probe, &mut buf),
    )
    .await
    .expect("refused socket is closed promptly")
    .unwrap_or(0);
    assert_eq!(n, 0);
    tokio::time::sleep(Duration::from_millis(400)).await;

    let (status, stats) = common::http(admin, "GET", "/stats", None).await;
    assert_eq!(status, 200);
    assert!(stats.contains("\"writes\""), "{stats}");
    let (status, _) =
        common::http(admin, "POST", "/faults", Some("{\"mode\": \"nonsense\"}")).await;
    assert_eq!(status, 400);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dir_snapshot_survives_restart() {
    let dir = std::env::temp_dir().join(common::unique("cqlmem-snap"));
    let server = common::start(Some(dir.clone())).await;
    let s = common::session(&server.addr.to_string()).await;
    s.query(
        "CREATE KEYSPACE p WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    )
    .await
    .unwrap();
    s.query("CREATE TABLE p.t (k int, c int, v text, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)")
        .await
        .unwrap();
    for c in 0..5 {
        s.query(format!(
            "INSERT INTO p.t (k, c, v) VALUES (1, {c}, 'v{c}') USING TIMESTAMP 100"
        ))
        .await
        .unwrap();
    }
    s.query("DELETE FROM p.t USING TIMESTAMP 200 WHERE k = 1 AND c = 0")
        .await
        .unwrap();
    drop(s);
    server.stop().await;
    assert!(dir.join("cqlmem-snapshot.json").exists());

    let server = common::start(Some(dir.clone())).await;
    let s = common::session(&server.addr.to_string()).await;
    // The row tombstone survived: an older write stays hidden.
    s.query("INSERT INTO p.t (k, c, v) VALUES (1, 0, 'old') USING TIMESTAMP 150")
        .await
        .unwrap();
    let r = s.query("SELECT c, v FROM p.t WHERE k = 1").await.unwrap();
    let rows = r.response_body().unwrap().into_rows().unwrap();
    let cs: Vec<i32> = rows
        .iter()
        .map(|r| r.r_by_name::<i32>("c").unwrap())
        .collect();
    assert_eq!(cs, vec![4, 3, 2, 1]);
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
