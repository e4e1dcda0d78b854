//! `/config` and `/compatibility`: levels, and what each lets a new schema do.

mod common;

use common::{assert_error, avro_name, record, registry, unique, TestRegistry};
use serde_json::{json, Value};

const FIELD_A: &str = r#"{"name":"a","type":"string"}"#;
const FIELD_B_DEFAULT: &str = r#"{"name":"b","type":"int","default":0}"#;
const FIELD_B: &str = r#"{"name":"b","type":"int"}"#;

async fn try_register(r: &TestRegistry, subject: &str, schema: &str) -> (u16, Value) {
    r.post(
        &format!("/subjects/{subject}/versions"),
        &json!({ "schema": schema }),
    )
    .await
}

async fn set_level(r: &TestRegistry, subject: &str, level: &str) {
    let (status, body) = r
        .put(
            &format!("/config/{subject}"),
            &json!({ "compatibility": level }),
        )
        .await;
    assert_eq!((status, body), (200, json!({ "compatibility": level })));
}

#[tokio::test]
async fn backward_by_default_accepts_a_field_with_default_and_rejects_one_without() {
    let r = registry().await;
    let subject = unique("backward-value");
    let name = avro_name();
    r.register(&subject, &record(&name, FIELD_A)).await;

    let without_default = record(&name, &format!("{FIELD_A},{FIELD_B}"));
    let (status, body) = r
        .post(
            &format!("/compatibility/subjects/{subject}/versions/latest"),
            &json!({ "schema": without_default }),
        )
        .await;
    assert_eq!((status, body), (200, json!({ "is_compatible": false })));
    let (status, body) = try_register(&r, &subject, &without_default).await;
    assert_error(status, &body, 409);

    let with_default = record(&name, &format!("{FIELD_A},{FIELD_B_DEFAULT}"));
    let (status, body) = r
        .post(
            &format!("/compatibility/subjects/{subject}/versions/1"),
            &json!({ "schema": with_default }),
        )
        .await;
    assert_eq!((status, body), (200, json!({ "is_compatible": true })));
    let (status, body) = try_register(&r, &subject, &with_default).await;
    assert_eq!(status, 200, "{body}");

    // Verbose answers say why.
    let (status, body) = r
        .post(
            &format!("/compatibility/subjects/{subject}/versions/latest?verbose=true"),
            &json!({ "schema": record(&name, &format!("{FIELD_A},{FIELD_B_DEFAULT},{}", r#"{"name":"c","type":"long"}"#)) }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["is_compatible"], json!(false));
    assert!(!body["messages"].as_array().unwrap().is_empty(), "{body}");
}

#[tokio::test]
async fn none_accepts_anything() {
    let r = registry().await;
    let subject = unique("none-value");
    r.register(&subject, &record(&avro_name(), FIELD_A)).await;
    set_level(&r, &subject, "NONE").await;
    let (status, body) = try_register(&r, &subject, r#"{"type":"array","items":"long"}"#).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = r.get(&format!("/subjects/{subject}/versions")).await;
    assert_eq!(body, json!([1, 2]));
}

#[tokio::test]
async fn forward_and_full_levels() {
    let r = registry().await;
    let name = avro_name();
    let v1 = record(&name, FIELD_A);
    let without_default = record(&name, &format!("{FIELD_A},{FIELD_B}"));
    let dropped_a = record(&name, "");

    let forward = unique("forward-value");
    r.register(&forward, &v1).await;
    set_level(&r, &forward, "FORWARD").await;
    let (status, body) = try_register(&r, &forward, &dropped_a).await;
    assert_error(status, &body, 409);
    let (status, body) = try_register(&r, &forward, &without_default).await;
    assert_eq!(status, 200, "{body}");

    let full = unique("full-value");
    r.register(&full, &v1).await;
    set_level(&r, &full, "FULL").await;
    let (status, body) = try_register(&r, &full, &without_default).await;
    assert_error(status, &body, 409);
    let (status, body) = try_register(
        &r,
        &full,
        &record(&name, &format!("{FIELD_A},{FIELD_B_DEFAULT}")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn transitive_levels_check_every_version() {
    let r = registry().await;
    let name = avro_name();
    let v1 = record(&name, FIELD_A);
    let v2 = record(&name, "");
    let v3 = record(&name, r#"{"name":"a","type":"int","default":1}"#);

    let subject = unique("transitive-value");
    set_level(&r, &subject, "BACKWARD_TRANSITIVE").await;
    r.register(&subject, &v1).await;
    r.register(&subject, &v2).await;
    let (status, body) = try_register(&r, &subject, &v3).await;
    assert_error(status, &body, 409);

    let plain = unique("non-transitive-value");
    r.register(&plain, &v1).await;
    r.register(&plain, &v2).await;
    let (status, body) = try_register(&r, &plain, &v3).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn subject_config_can_be_read_and_removed() {
    let r = registry().await;
    let subject = unique("config-value");
    r.register(&subject, &record(&avro_name(), FIELD_A)).await;

    let (status, body) = r.get(&format!("/config/{subject}")).await;
    assert_error(status, &body, 40408);
    let (status, body) = r
        .get(&format!("/config/{subject}?defaultToGlobal=true"))
        .await;
    assert_eq!(status, 200);
    assert!(body["compatibilityLevel"].is_string(), "{body}");

    set_level(&r, &subject, "FULL_TRANSITIVE").await;
    let (status, body) = r.get(&format!("/config/{subject}")).await;
    assert_eq!(
        (status, body),
        (200, json!({ "compatibilityLevel": "FULL_TRANSITIVE" }))
    );
    let (status, body) = r.delete(&format!("/config/{subject}")).await;
    assert_eq!(
        (status, body),
        (200, json!({ "compatibilityLevel": "FULL_TRANSITIVE" }))
    );
    let (status, body) = r.get(&format!("/config/{subject}")).await;
    assert_error(status, &body, 40408);

    let (status, body) = r
        .put(
            &format!("/config/{subject}"),
            &json!({ "compatibility": "SIDEWAYS" }),
        )
        .await;
    assert_error(status, &body, 42203);
}

#[tokio::test]
async fn global_config_defaults_to_backward_and_can_change() {
    let r = registry().await;
    let (status, body) = r.get("/config").await;
    assert_eq!(status, 200);
    assert!(body["compatibilityLevel"].is_string(), "{body}");
    if !r.own {
        // Changing a shared registry's global level would disturb others.
        return;
    }
    assert_eq!(body, json!({ "compatibilityLevel": "BACKWARD" }));
    let (status, body) = r.put("/config", &json!({ "compatibility": "none" })).await;
    assert_eq!((status, body), (200, json!({ "compatibility": "NONE" })));

    // The global level governs subjects without their own.
    let subject = unique("global-value");
    let name = avro_name();
    r.register(&subject, &record(&name, FIELD_A)).await;
    r.register(&subject, &record(&name, FIELD_B)).await;

    let (status, body) = r.delete("/config").await;
    assert_eq!(
        (status, body),
        (200, json!({ "compatibilityLevel": "NONE" }))
    );
    let (_, body) = r.get("/config").await;
    assert_eq!(body, json!({ "compatibilityLevel": "BACKWARD" }));
}

#[tokio::test]
async fn compatibility_with_unknown_subject_or_version() {
    let r = registry().await;
    let schema = record(&avro_name(), FIELD_A);
    let missing = unique("missing");
    let (status, body) = r
        .post(
            &format!("/compatibility/subjects/{missing}/versions/latest"),
            &json!({ "schema": schema }),
        )
        .await;
    assert_eq!((status, body), (200, json!({ "is_compatible": true })));
    let (status, body) = r
        .post(
            &format!("/compatibility/subjects/{missing}/versions/1"),
            &json!({ "schema": schema }),
        )
        .await;
    assert_error(status, &body, 40401);

    let subject = unique("compat-value");
    r.register(&subject, &schema).await;
    let (status, body) = r
        .post(
            &format!("/compatibility/subjects/{subject}/versions/9"),
            &json!({ "schema": schema }),
        )
        .await;
    assert_error(status, &body, 40402);
    let (status, body) = r
        .post(
            &format!("/compatibility/subjects/{subject}/versions/zero"),
            &json!({ "schema": schema }),
        )
        .await;
    assert_error(status, &body, 42202);
    let (status, body) = r
        .post(
            &format!("/compatibility/subjects/{subject}/versions"),
            &json!({ "schema": schema }),
        )
        .await;
    assert_eq!((status, body), (200, json!({ "is_compatible": true })));
}
