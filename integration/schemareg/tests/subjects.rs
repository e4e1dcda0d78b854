//! `/subjects` and `/schemas`: register, look up, list, fetch by id, delete, and the errors.

mod common;

use common::{assert_error, avro_name, record, registry, unique};
use serde_json::{json, Value};

const FIELD_A: &str = r#"{"name":"a","type":"string"}"#;
const FIELD_B_DEFAULT: &str = r#"{"name":"b","type":"int","default":0}"#;

fn parsed(text: &Value) -> Value {
    serde_json::from_str(text.as_str().expect("schema is a string")).expect("schema is JSON")
}

#[tokio::test]
async fn root_and_schema_types() {
    let r = registry().await;
    let (status, body) = r.get("/").await;
    assert_eq!((status, body), (200, json!({})));
    let (status, body) = r.get("/schemas/types").await;
    assert_eq!(status, 200);
    let types: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(types.contains(&"AVRO") && types.contains(&"JSON"), "{body}");
}

#[tokio::test]
async fn register_then_read_back_every_way() {
    let r = registry().await;
    let subject = unique("orders-value");
    let name = avro_name();
    let v1 = record(&name, FIELD_A);
    let id = r.register(&subject, &v1).await;

    // Re-registering (even reformatted) returns the same id and adds no version.
    let pretty = v1.replace(',', ",\n    ");
    assert_eq!(r.register(&subject, &pretty).await, id);
    // The same schema under another subject shares the global id.
    let other = unique("other-value");
    assert_eq!(r.register(&other, &v1).await, id);

    let v2 = record(&name, &format!("{FIELD_A},{FIELD_B_DEFAULT}"));
    let id2 = r.register(&subject, &v2).await;
    assert_ne!(id2, id);

    let (status, body) = r.get(&format!("/subjects/{subject}/versions")).await;
    assert_eq!((status, body), (200, json!([1, 2])));

    let (status, body) = r.get(&format!("/subjects/{subject}/versions/1")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["subject"], json!(subject));
    assert_eq!(body["version"], json!(1));
    assert_eq!(body["id"], json!(id));
    assert_eq!(
        parsed(&body["schema"]),
        serde_json::from_str::<Value>(&v1).unwrap()
    );
    assert!(body.get("schemaType").is_none(), "AVRO is implied: {body}");

    for latest in ["latest", "-1"] {
        let (status, body) = r
            .get(&format!("/subjects/{subject}/versions/{latest}"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            (body["version"].clone(), body["id"].clone()),
            (json!(2), json!(id2))
        );
    }

    let (status, raw) = r
        .get(&format!("/subjects/{subject}/versions/2/schema"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(raw, serde_json::from_str::<Value>(&v2).unwrap());

    let (status, body) = r.get(&format!("/schemas/ids/{id2}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        parsed(&body["schema"]),
        serde_json::from_str::<Value>(&v2).unwrap()
    );

    let (status, raw) = r.get(&format!("/schemas/ids/{id}/schema")).await;
    assert_eq!(status, 200);
    assert_eq!(raw, serde_json::from_str::<Value>(&v1).unwrap());

    let (status, body) = r.get(&format!("/schemas/ids/{id}/versions")).await;
    assert_eq!(status, 200);
    let usages = body.as_array().unwrap();
    assert!(
        usages.contains(&json!({"subject": subject, "version": 1})),
        "{body}"
    );
    assert!(
        usages.contains(&json!({"subject": other, "version": 1})),
        "{body}"
    );

    let (status, body) = r.get("/subjects").await;
    assert_eq!(status, 200);
    let subjects = body.as_array().unwrap();
    assert!(subjects.contains(&json!(subject)) && subjects.contains(&json!(other)));
}

#[tokio::test]
async fn lookup_finds_the_version_or_says_schema_not_found() {
    let r = registry().await;
    let subject = unique("lookup-value");
    let name = avro_name();
    let v1 = record(&name, FIELD_A);
    let id = r.register(&subject, &v1).await;

    let (status, body) = r
        .post(&format!("/subjects/{subject}"), &json!({ "schema": v1 }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["subject"], json!(subject));
    assert_eq!(body["id"], json!(id));
    assert_eq!(body["version"], json!(1));
    assert!(body["schema"].is_string());

    let unknown = record(&name, &format!("{FIELD_A},{FIELD_B_DEFAULT}"));
    let (status, body) = r
        .post(
            &format!("/subjects/{subject}"),
            &json!({ "schema": unknown }),
        )
        .await;
    assert_error(status, &body, 40403);
    assert_eq!(body["message"], json!("Schema not found"));

    let missing = unique("missing");
    let (status, body) = r
        .post(&format!("/subjects/{missing}"), &json!({ "schema": v1 }))
        .await;
    assert_error(status, &body, 40401);
}

#[tokio::test]
async fn json_schemas_are_stored_and_served_with_their_type() {
    let r = registry().await;
    let subject = unique("json-value");
    let schema = format!(
        r#"{{"$schema":"http://json-schema.org/draft-07/schema#","title":"{}","type":"object","properties":{{"a":{{"type":"string"}}}}}}"#,
        avro_name()
    );
    let (status, body) = r
        .post(
            &format!("/subjects/{subject}/versions"),
            &json!({ "schema": schema, "schemaType": "JSON" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_u64().unwrap();

    let (_, body) = r.get(&format!("/subjects/{subject}/versions/latest")).await;
    assert_eq!(body["schemaType"], json!("JSON"));
    let (_, body) = r.get(&format!("/schemas/ids/{id}")).await;
    assert_eq!(body["schemaType"], json!("JSON"));
    assert_eq!(
        parsed(&body["schema"]),
        serde_json::from_str::<Value>(&schema).unwrap()
    );

    // The same text as JSON Schema and as Avro is two schemas, with two ids.
    let text = format!(
        r#"{{"type":"enum","name":"{}","symbols":["A"]}}"#,
        avro_name()
    );
    let (status, as_json) = r
        .post(
            &format!("/subjects/{}/versions", unique("as-json")),
            &json!({ "schema": text, "schemaType": "JSON" }),
        )
        .await;
    assert_eq!(status, 200, "{as_json}");
    let as_avro = r.register(&unique("as-avro"), &text).await;
    assert_ne!(as_json["id"].as_u64(), Some(as_avro));
}

#[tokio::test]
async fn references_let_one_schema_use_another() {
    let r = registry().await;
    let address_subject = unique("address");
    let address_name = avro_name();
    let address = format!(
        r#"{{"type":"record","name":"{address_name}","namespace":"cassink.test","fields":[{FIELD_A}]}}"#
    );
    r.register(&address_subject, &address).await;
    let person = record(
        &avro_name(),
        &format!(r#"{{"name":"home","type":"cassink.test.{address_name}"}}"#),
    );
    let subject = unique("person-value");
    let reference = json!([{ "name": format!("cassink.test.{address_name}"), "subject": address_subject, "version": 1 }]);
    let (status, body) = r
        .post(
            &format!("/subjects/{subject}/versions"),
            &json!({ "schema": person, "references": reference }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_u64().unwrap();
    let (_, body) = r.get(&format!("/schemas/ids/{id}")).await;
    assert_eq!(body["references"], reference);

    // Without the reference the named type is unknown.
    let (status, body) = r
        .post(
            &format!("/subjects/{subject}/versions"),
            &json!({ "schema": person }),
        )
        .await;
    assert_error(status, &body, 42201);
}

#[tokio::test]
async fn soft_delete_then_hard_delete() {
    let r = registry().await;
    let subject = unique("deleted-value");
    let name = avro_name();
    let v1 = record(&name, FIELD_A);
    let v2 = record(&name, &format!("{FIELD_A},{FIELD_B_DEFAULT}"));
    let id1 = r.register(&subject, &v1).await;
    r.register(&subject, &v2).await;

    // One version, soft then hard.
    let (status, body) = r
        .delete(&format!("/subjects/{subject}/versions/2?permanent=true"))
        .await;
    assert_error(status, &body, 40407);
    let (status, body) = r.delete(&format!("/subjects/{subject}/versions/2")).await;
    assert_eq!((status, body), (200, json!(2)));
    let (status, body) = r.get(&format!("/subjects/{subject}/versions/2")).await;
    assert_error(status, &body, 40402);
    let (status, body) = r
        .get(&format!("/subjects/{subject}/versions/2?deleted=true"))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = r.delete(&format!("/subjects/{subject}/versions/2")).await;
    assert_error(status, &body, 40406);
    let (status, body) = r
        .delete(&format!("/subjects/{subject}/versions/2?permanent=true"))
        .await;
    assert_eq!((status, body), (200, json!(2)));

    // The whole subject, soft then hard.
    let (status, body) = r
        .delete(&format!("/subjects/{subject}?permanent=true"))
        .await;
    assert_error(status, &body, 40405);
    let (status, body) = r.delete(&format!("/subjects/{subject}")).await;
    assert_eq!((status, body), (200, json!([1])));
    let (_, body) = r.get("/subjects").await;
    assert!(!body.as_array().unwrap().contains(&json!(subject)));
    let (_, body) = r.get("/subjects?deleted=true").await;
    assert!(body.as_array().unwrap().contains(&json!(subject)));
    let (status, body) = r.get(&format!("/subjects/{subject}/versions")).await;
    assert_error(status, &body, 40401);
    let (status, _) = r.get(&format!("/schemas/ids/{id1}")).await;
    assert_eq!(status, 200, "a soft-deleted schema's id still resolves");
    let (status, body) = r.delete(&format!("/subjects/{subject}")).await;
    assert_error(status, &body, 40404);
    let (status, body) = r
        .delete(&format!("/subjects/{subject}?permanent=true"))
        .await;
    assert_eq!((status, body), (200, json!([1])));
    let (status, body) = r.delete(&format!("/subjects/{subject}")).await;
    assert_error(status, &body, 40401);
}

#[tokio::test]
async fn errors_carry_confluent_codes() {
    let r = registry().await;
    let subject = unique("errors-value");
    let missing = unique("missing");

    let (status, body) = r.get(&format!("/subjects/{missing}/versions")).await;
    assert_error(status, &body, 40401);
    assert_eq!(
        body["message"],
        json!(format!("Subject '{missing}' not found."))
    );
    let (status, body) = r.get(&format!("/subjects/{missing}/versions/1")).await;
    assert_error(status, &body, 40401);

    r.register(&subject, &record(&avro_name(), FIELD_A)).await;
    let (status, body) = r.get(&format!("/subjects/{subject}/versions/7")).await;
    assert_error(status, &body, 40402);
    for bad in ["0", "-2", "abc", "2147483648"] {
        let (status, body) = r.get(&format!("/subjects/{subject}/versions/{bad}")).await;
        assert_error(status, &body, 42202);
    }

    let (status, body) = r.get("/schemas/ids/2147483000").await;
    assert_error(status, &body, 40403);

    for bad in [
        "{not json",
        r#"{"type":"record","name":"X","fields":[{"name":"a","type":"nope"}]}"#,
        r#"{"type":"wat"}"#,
    ] {
        let (status, body) = r
            .post(
                &format!("/subjects/{subject}/versions"),
                &json!({ "schema": bad }),
            )
            .await;
        assert_error(status, &body, 42201);
    }
    let (status, body) = r
        .post(&format!("/subjects/{subject}/versions"), &json!({}))
        .await;
    assert_error(status, &body, 42201);
}

#[tokio::test]
async fn accepts_confluent_content_types_and_answers_in_one() {
    let r = registry().await;
    let subject = unique("content-type-value");
    let name = avro_name();
    let body = json!({ "schema": record(&name, FIELD_A) }).to_string();
    for content_type in [
        "application/vnd.schemaregistry.v1+json",
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/json; charset=utf-8",
    ] {
        let response = r
            .request(
                reqwest::Method::POST,
                &format!("/subjects/{subject}/versions"),
            )
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{content_type}");
        let answered = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            answered.starts_with("application/vnd.schemaregistry.v1+json"),
            "{answered}"
        );
    }
    if !common::external() {
        let response = r
            .request(
                reqwest::Method::POST,
                &format!("/subjects/{subject}/versions"),
            )
            .header("content-type", "text/plain")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error_code"], json!(415));
    }
}
