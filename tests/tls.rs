//! Issue 9, TLS on the REST API: https listeners (next to an http one), server certificates
//! from PEM files, and mutual TLS (`listeners.https.ssl.client.auth`).

mod common;

use common::pki::Pki;
use common::*;
use std::path::Path;

fn client(ca: Option<&[u8]>, identity: Option<&[u8]>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().use_rustls_tls();
    if let Some(ca) = ca {
        builder = builder.add_root_certificate(reqwest::Certificate::from_pem(ca).unwrap());
    }
    if let Some(id) = identity {
        builder = builder.identity(reqwest::Identity::from_pem(id).unwrap());
    }
    builder.build().unwrap()
}

/// A worker with an http listener (used for readiness) and an https one on `tls_port`.
async fn start(dir: &Path, tls_port: u16, tls: &str) -> Worker {
    let port = free_port();
    let extra = format!("listeners=http://127.0.0.1:{port},https://127.0.0.1:{tls_port}\n{tls}");
    Worker::start_props(dir, &dir.join(format!("state-{tls_port}")), port, &extra).await
}

async fn status(client: &reqwest::Client, url: &str) -> Result<u16, String> {
    match client.get(url).send().await {
        Ok(r) => Ok(r.status().as_u16()),
        Err(e) => Err(format!("{e:?}")),
    }
}

#[tokio::test]
async fn https_listener_serves_clients_that_trust_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let tls_port = free_port();
    let _w = start(
        dir.path(),
        tls_port,
        &format!(
            "listeners.https.ssl.certificate.location={}\nlisteners.https.ssl.key.location={}\n",
            pki.server_cert.display(),
            pki.server_key.display()
        ),
    )
    .await;
    let base = format!("https://127.0.0.1:{tls_port}");
    let trusting = client(Some(&pki.ca_pem), None);
    for path in ["/health", "/connectors"] {
        assert_eq!(
            status(&trusting, &format!("{base}{path}")).await,
            Ok(200),
            "{path}"
        );
    }
    // The name in the certificate is checked: localhost is in it too.
    assert_eq!(
        status(&trusting, &format!("https://localhost:{tls_port}/health")).await,
        Ok(200)
    );
    let untrusting = client(None, None);
    let err = status(&untrusting, &format!("{base}/health"))
        .await
        .unwrap_err();
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    // Plain HTTP to the https port gets no HTTP answer.
    assert!(status(
        &reqwest::Client::new(),
        &format!("http://127.0.0.1:{tls_port}/health")
    )
    .await
    .is_err());
}

#[tokio::test]
async fn keystore_location_may_be_a_pem_with_chain_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let tls_port = free_port();
    let _w = start(
        dir.path(),
        tls_port,
        &format!(
            "listeners.https.ssl.keystore.location={}\nlisteners.https.ssl.keystore.password=ignored\n",
            pki.server_bundle.display()
        ),
    )
    .await;
    let trusting = client(Some(&pki.ca_pem), None);
    let url = format!("https://127.0.0.1:{tls_port}/connectors");
    assert_eq!(status(&trusting, &url).await, Ok(200));
}

#[tokio::test]
async fn required_client_auth_refuses_clients_without_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let tls_port = free_port();
    let _w = start(
        dir.path(),
        tls_port,
        &format!(
            "listeners.https.ssl.certificate.location={}\nlisteners.https.ssl.key.location={}\n\
             listeners.https.ssl.client.auth=required\nlisteners.https.ssl.truststore.location={}\n",
            pki.server_cert.display(),
            pki.server_key.display(),
            pki.ca.display()
        ),
    )
    .await;
    let url = format!("https://127.0.0.1:{tls_port}/health");
    let anonymous = client(Some(&pki.ca_pem), None);
    assert!(
        status(&anonymous, &url).await.is_err(),
        "served without a client certificate"
    );
    let with_cert = client(Some(&pki.ca_pem), Some(&pki.client_pem));
    assert_eq!(status(&with_cert, &url).await, Ok(200));
    assert_eq!(
        status(
            &with_cert,
            &format!("https://127.0.0.1:{tls_port}/connectors")
        )
        .await,
        Ok(200)
    );
}

#[tokio::test]
async fn requested_client_auth_serves_both() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let tls_port = free_port();
    let _w = start(
        dir.path(),
        tls_port,
        &format!(
            "listeners.https.ssl.certificate.location={}\nlisteners.https.ssl.key.location={}\n\
             listeners.https.ssl.client.auth=requested\nlisteners.https.ssl.truststore.location={}\n",
            pki.server_cert.display(),
            pki.server_key.display(),
            pki.ca.display()
        ),
    )
    .await;
    let url = format!("https://127.0.0.1:{tls_port}/health");
    assert_eq!(
        status(&client(Some(&pki.ca_pem), None), &url).await,
        Ok(200)
    );
    let with_cert = client(Some(&pki.ca_pem), Some(&pki.client_pem));
    assert_eq!(status(&with_cert, &url).await, Ok(200));
}

#[test]
fn a_missing_certificate_file_stops_the_worker_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("worker.properties");
    std::fs::write(
        &config,
        format!(
            "listeners=https://127.0.0.1:{port}\nstate.dir={dir}\n\
             listeners.https.ssl.certificate.location={dir}/none.pem\n\
             listeners.https.ssl.key.location={dir}/none.key\n",
            port = free_port(),
            dir = dir.path().display()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cassink"))
        .args(["worker", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("none.pem") && log.contains("https"), "{log}");
}
