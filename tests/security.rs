//! Issue 9 over HTTP against a real `cassink worker`: client override policy, secrets that
//! never leave (config providers, masking), request hardening and basic authentication.

mod common;

use argon2::password_hash::{PasswordHasher, SaltString};
use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

fn errors_of(validate: &Value, key: &str) -> Vec<String> {
    validate["configs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["value"]["name"] == key)
        .flat_map(|c| c["value"]["errors"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e.as_str().map(String::from))
        .collect()
}

fn validate_url(w: &Worker) -> String {
    w.url(&format!(
        "/connector-plugins/{CASSANDRA_CLASS}/config/validate"
    ))
}

#[tokio::test]
async fn client_overrides_follow_the_worker_policy() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("sec-ovr");
    create_topic(&topic, 1).await;

    // Default policy None: any override is refused, naming the key.
    let w = Worker::start(dir.path()).await;
    let mut cfg = sink_config(&unique("ovr-none"), &topic, 1);
    cfg["consumer.override.max.poll.records"] = json!("10");
    let r = call(
        Method::POST,
        &w.url("/connectors"),
        Some(&json!({"config": cfg})),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let msg = r.body["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("consumer.override.max.poll.records") && msg.contains("'None' policy"),
        "{msg}"
    );
    drop(w);

    // All: ordinary overrides pass; file/command/URL properties are refused unless allowlisted.
    let extra = "connector.client.config.override.policy=All\n\
                 connector.client.config.override.allowlist=ssl.ca.location";
    let w = Worker::start_props(
        dir.path(),
        &dir.path().join("state-all"),
        free_port(),
        extra,
    )
    .await;
    let name = unique("ovr-all");
    let mut cfg = sink_config(&name, &topic, 1);
    cfg["consumer.override.fetch.wait.max.ms"] = json!("50");
    cfg["producer.override.linger.ms"] = json!("5");
    cfg["consumer.override.ssl.ca.location"] = json!("/etc/ssl/certs/ca-certificates.crt");
    let r = call(
        Method::PUT,
        &w.url(&format!("/connectors/{name}/config")),
        Some(&cfg),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);

    for key in [
        "consumer.override.ssl.key.location",
        "consumer.override.sasl.kerberos.kinit.cmd",
        "producer.override.plugin.library.paths",
        "consumer.override.sasl.oauthbearer.token.endpoint.url",
    ] {
        let mut bad = cfg.clone();
        bad[key] = json!("/tmp/x");
        let r = call(
            Method::PUT,
            &w.url(&format!("/connectors/{name}/config")),
            Some(&bad),
        )
        .await;
        assert_eq!(r.status, 400, "{key}: {}", r.text);
        assert!(
            r.body["message"].as_str().unwrap_or_default().contains(key),
            "{}",
            r.text
        );
        let v = call(Method::PUT, &validate_url(&w), Some(&bad)).await;
        assert_eq!(v.status, 200, "{}", v.text);
        assert!(!errors_of(&v.body, key).is_empty(), "{key}: {}", v.text);
    }
    // The refused update left the stored config alone.
    let stored = call(
        Method::GET,
        &w.url(&format!("/connectors/{name}/config")),
        None,
    )
    .await;
    assert_eq!(stored.body, cfg);
}

#[tokio::test]
async fn provider_secrets_never_leave_the_worker() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let secrets_dir = dir.path().join("secrets");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&secrets_dir).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let secret = "Sup3r-S3cret-Passw0rd";
    let props = secrets_dir.join("cassandra.properties");
    std::fs::write(&props, format!("password={secret}\n")).unwrap();
    let stray = outside.join("cassandra.properties");
    std::fs::write(&stray, format!("password={secret}\n")).unwrap();

    let extra = format!(
        "config.providers=file\n\
         config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider\n\
         config.providers.file.param.allowed.paths={}",
        secrets_dir.display()
    );
    let state = dir.path().join("state");
    let w = Worker::start_props(dir.path(), &state, free_port(), &extra).await;
    let topic = unique("sec-prov");
    create_topic(&topic, 1).await;

    let name = unique("prov");
    let reference = format!("${{file:{}:password}}", props.display());
    let mut cfg = sink_config(&name, &topic, 1);
    cfg["auth.username"] = json!("cassandra");
    cfg["auth.password"] = json!(reference);
    let created = call(
        Method::POST,
        &w.url("/connectors"),
        Some(&json!({"config": cfg})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);

    // A reference outside the allowed paths fails the task, naming the key, not the secret.
    let denied = unique("prov-denied");
    let mut bad = sink_config(&denied, &topic, 1);
    bad["auth.password"] = json!(format!("${{file:{}:password}}", stray.display()));
    let r = call(
        Method::POST,
        &w.url("/connectors"),
        Some(&json!({"config": bad})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let trace = w.wait_failed(&denied, Duration::from_secs(10)).await;
    assert!(
        trace.contains("auth.password") && trace.contains("allowed.paths"),
        "{trace}"
    );

    // The allowed reference resolved: that task did not fail on it.
    let ok = call(
        Method::GET,
        &w.url(&format!("/connectors/{name}/status")),
        None,
    )
    .await;
    assert!(!ok.text.contains("ConfigException"), "{}", ok.text);

    // Validate echoes hide literal passwords.
    let mut literal = cfg.clone();
    literal["auth.password"] = json!(secret);
    let v = call(Method::PUT, &validate_url(&w), Some(&literal)).await;
    assert_eq!(v.status, 200, "{}", v.text);

    // GET config keeps the placeholder; nothing anywhere shows the resolved secret.
    let stored = call(
        Method::GET,
        &w.url(&format!("/connectors/{name}/config")),
        None,
    )
    .await;
    assert_eq!(stored.body["auth.password"], reference.as_str());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut seen = vec![v.text, created.text, stored.text];
    for path in [
        "/connectors?expand=status&expand=info".to_string(),
        format!("/connectors/{name}"),
        format!("/connectors/{name}/status"),
        format!("/connectors/{name}/tasks"),
        format!("/connectors/{denied}/status"),
    ] {
        seen.push(call(Method::GET, &w.url(&path), None).await.text);
    }
    for text in &seen {
        assert!(!text.contains(secret), "secret in a REST response: {text}");
    }
    assert!(seen[0].contains("[hidden]"), "{}", seen[0]);
    assert_no_secret_in_dir(&state, secret);
    let log = w.log_text();
    assert!(!log.contains(secret), "secret in the worker log:\n{log}");
}

#[tokio::test]
async fn oversized_deep_and_badly_named_requests_are_refused() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let w = Worker::start(dir.path()).await;
    let topic = unique("sec-req");

    let mut big = sink_config("big", &topic, 1);
    big["padding"] = json!("x".repeat(1024 * 1024 + 10));
    let r = call(Method::PUT, &w.url("/connectors/big/config"), Some(&big)).await;
    assert_eq!(r.status, 413, "{}", &r.text[..r.text.len().min(200)]);
    assert_eq!(r.body["error_code"], 413);

    let mut deep = json!("leaf");
    for _ in 0..100 {
        deep = json!([deep]);
    }
    let r = call(
        Method::POST,
        &w.url("/connectors"),
        Some(&json!({"config": deep})),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error_code"], 400);

    for name in ["a..b", "a\\b", &"n".repeat(256)] {
        let cfg = sink_config(name, &topic, 1);
        let r = call(
            Method::POST,
            &w.url("/connectors"),
            Some(&json!({"config": cfg})),
        )
        .await;
        assert_eq!(r.status, 400, "{name}: {}", r.text);
    }
}

fn argon(pw: &str) -> String {
    let salt = SaltString::encode_b64(b"integration-salt").unwrap();
    argon2::Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn basic_auth_guards_the_api() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users");
    let reader = bcrypt::hash("reader-pw", 4).unwrap();
    std::fs::write(
        &users,
        format!("admin:{}\nviewer:{reader}:read\n", argon("admin-pw")),
    )
    .unwrap();
    let extra = format!("rest.auth.credentials.file={}", users.display());
    let w = Worker::start_props(dir.path(), &dir.path().join("state"), free_port(), &extra).await;
    let client = reqwest::Client::new();

    let r = client.get(w.url("/connectors")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_code"], 401);
    let r = client
        .get(w.url("/connectors"))
        .basic_auth("admin", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client.get(w.url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    let r = client
        .get(w.url("/connectors"))
        .basic_auth("admin", Some("admin-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .get(w.url("/connectors"))
        .basic_auth("viewer", Some("reader-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cfg = sink_config(&unique("auth"), &unique("sec-auth"), 1);
    let r = client
        .post(w.url("/connectors"))
        .basic_auth("viewer", Some("reader-pw"))
        .json(&json!({"config": cfg}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}
