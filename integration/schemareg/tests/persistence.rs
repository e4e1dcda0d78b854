//! With a data directory, subjects, ids and config survive a restart.

mod common;

use common::{avro_name, record, start, unique, TempDir};
use serde_json::json;

#[tokio::test]
async fn ids_versions_and_config_survive_restart() {
    if common::external() {
        eprintln!("skipped: restarting needs the in-process registry");
        return;
    }
    let dir = TempDir::new("persist");
    let subject = unique("persist-value");
    let name = avro_name();
    let v1 = record(&name, r#"{"name":"a","type":"string"}"#);
    let v2 = record(
        &name,
        r#"{"name":"a","type":"string"},{"name":"b","type":"int","default":0}"#,
    );

    let (id1, id2) = {
        let r = start(Some(&dir.0)).await;
        let id1 = r.register(&subject, &v1).await;
        let id2 = r.register(&subject, &v2).await;
        let (status, _) = r
            .put(
                &format!("/config/{subject}"),
                &json!({ "compatibility": "FULL" }),
            )
            .await;
        assert_eq!(status, 200);
        let (status, _) = r.delete(&format!("/subjects/{subject}/versions/1")).await;
        assert_eq!(status, 200);
        (id1, id2)
    };
    assert!(dir.0.join("registry.json").exists());

    let r = start(Some(&dir.0)).await;
    let (_, body) = r.get(&format!("/subjects/{subject}/versions")).await;
    assert_eq!(body, json!([2]));
    let (_, body) = r.get(&format!("/subjects/{subject}/versions/latest")).await;
    assert_eq!(body["id"], json!(id2));
    let (status, _) = r.get(&format!("/schemas/ids/{id1}")).await;
    assert_eq!(
        status, 200,
        "soft-deleted version's id still resolves after restart"
    );
    let (_, body) = r.get(&format!("/config/{subject}")).await;
    assert_eq!(body, json!({ "compatibilityLevel": "FULL" }));

    // New schemas continue the id sequence instead of reusing ids.
    let other = record(&avro_name(), r#"{"name":"x","type":"long"}"#);
    let id3 = r.register(&unique("persist-other"), &other).await;
    assert!(id3 > id2, "{id3} > {id2}");
    assert_eq!(r.register(&unique("persist-again"), &v1).await, id1);
}

#[tokio::test]
async fn a_corrupt_state_file_stops_the_start() {
    let dir = TempDir::new("corrupt");
    std::fs::write(dir.0.join("registry.json"), "{ not json").unwrap();
    let config = schemareg::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: Some(dir.0.clone()),
    };
    let err = schemareg::bind(config)
        .await
        .err()
        .expect("refuses to start");
    assert!(err.to_string().contains("registry.json"), "{err}");
}
