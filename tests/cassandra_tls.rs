//! Issue 4, `ssl.*`: the sink's Cassandra session over TLS, end to end against cqlmem behind
//! a TLS terminator (rustls, optionally requiring client certificates) in this process.

mod common;

use cassink::config::ConfigMap;
use cassink::sink::cassandra::config::SinkConfig;
use cassink::sink::cassandra::session::{connect, CqlSession};
use cdrs_tokio::query_values;
use cdrs_tokio::types::IntoRustByName;
use common::pki::Pki;
use common::stores;
use std::net::SocketAddr;
use std::path::Path;

/// cqlmem on an ephemeral port with a TLS front on `ip`; returns the TLS address.
async fn cqlmem_behind_tls(pki: &Pki, ip: &str, require_client_cert: bool) -> SocketAddr {
    let server = cqlmem::Server::bind(cqlmem::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin: None,
        data_dir: None,
    })
    .await
    .expect("bind cqlmem");
    let plain = server.local_addr().unwrap();
    let tls_addr = common::tls_front::start(pki, ip, plain, require_client_cert);
    // system.local names the address clients reach the node at.
    *server.engine.listen.lock().unwrap() = Some(tls_addr);
    tokio::spawn(async move {
        let _ = server.run_until(std::future::pending()).await;
    });
    tls_addr
}

fn sink_config(addr: SocketAddr, ssl: &[(&str, String)]) -> ConfigMap {
    let mut map = ConfigMap::new();
    for (k, v) in [
        ("connector.class", common::CASSANDRA_CLASS.to_string()),
        ("topics", "t".into()),
        ("contactPoints", addr.ip().to_string()),
        ("port", addr.port().to_string()),
        ("loadBalancing.localDc", "datacenter1".into()),
        ("connectionPoolLocalSize", "1".into()),
        ("topic.t.ks.tbl.mapping", "id=key".into()),
    ] {
        map.insert(k.into(), v);
    }
    for (k, v) in ssl {
        map.insert(k.to_string(), v.clone());
    }
    map
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

async fn session(map: &ConfigMap) -> Result<CqlSession, String> {
    let config = SinkConfig::parse(map)?;
    connect(&config).await.map_err(|e| e.to_string())
}

/// Writes and reads back a row through `session`.
async fn round_trip(session: &CqlSession) {
    let ks = common::unique("tls").replace('-', "_");
    for cql in [
        format!("CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"),
        format!("CREATE TABLE {ks}.tbl (id text PRIMARY KEY, v int)"),
    ] {
        session.query_with_values(&cql, query_values!()).await.expect(&cql);
    }
    session
        .query_with_values(
            &format!("INSERT INTO {ks}.tbl (id, v) VALUES (?, ?)"),
            query_values!("a".to_string(), 7i32),
        )
        .await
        .expect("insert over TLS");
    let rows = session
        .query_with_values(
            &format!("SELECT v FROM {ks}.tbl WHERE id = ?"),
            query_values!("a".to_string()),
        )
        .await
        .expect("select over TLS")
        .response_body()
        .unwrap()
        .into_rows()
        .unwrap_or_default();
    let v: Option<i32> = rows.first().and_then(|r| r.get_by_name("v").ok().flatten());
    assert_eq!(v, Some(7));
}

#[tokio::test]
async fn sink_session_over_tls_with_a_pem_truststore() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let addr = cqlmem_behind_tls(&pki, "127.0.0.1", false).await;
    let map = sink_config(
        addr,
        &[
            ("ssl.provider", "JDK".into()),
            ("ssl.truststore.path", path(&pki.ca)),
            ("ssl.truststore.password", "changeit".into()),
        ],
    );
    assert!(cassink::sink::cassandra::config::warnings(&map).is_empty());
    let s = session(&map).await.expect("TLS session");
    assert!(matches!(s, CqlSession::Tls(_)));
    round_trip(&s).await;

    // Plain CQL to the TLS port gets nowhere.
    let plain = sink_config(addr, &[("queryExecutionTimeout", "2".into())]);
    assert!(session(&plain).await.is_err());
}

#[tokio::test]
async fn an_untrusted_or_misnamed_node_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let other = tempfile::tempdir().unwrap();
    let other_pki = Pki::create(other.path());
    // The certificate names localhost and 127.0.0.1; the node listens on 127.0.0.2.
    let addr = cqlmem_behind_tls(&pki, "127.0.0.2", false).await;

    let wrong_ca = sink_config(
        addr,
        &[
            ("ssl.provider", "OpenSSL".into()),
            ("ssl.truststore.path", path(&other_pki.ca)),
        ],
    );
    let err = session(&wrong_ca)
        .await
        .err()
        .expect("untrusted node accepted");
    assert!(
        err.contains("TLS") && err.contains("invalid peer certificate"),
        "{err}"
    );

    let mut misnamed = sink_config(
        addr,
        &[
            ("ssl.provider", "JDK".into()),
            ("ssl.truststore.path", path(&pki.ca)),
        ],
    );
    let err = session(&misnamed)
        .await
        .err()
        .expect("hostname validation is on by default");
    assert!(err.contains("not valid for name \"127.0.0.2\""), "{err}");
    misnamed.insert("ssl.hostnameValidation".into(), "false".into());
    let s = session(&misnamed)
        .await
        .expect("name not checked, chain still is");
    round_trip(&s).await;
}

#[tokio::test]
async fn mutual_tls_with_openssl_key_cert_chain() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let addr = cqlmem_behind_tls(&pki, "127.0.0.1", true).await;
    let base = [
        ("ssl.provider", "OpenSSL".to_string()),
        ("ssl.truststore.path", path(&pki.ca)),
    ];

    let err = session(&sink_config(addr, &base))
        .await
        .err()
        .expect("served without a client cert");
    assert!(err.contains("CertificateRequired"), "{err}");
    let mut with_cert = base.to_vec();
    with_cert.push(("ssl.openssl.keyCertChain", path(&pki.client_cert)));
    with_cert.push(("ssl.openssl.privateKey", path(&pki.client_key)));
    let s = session(&sink_config(addr, &with_cert))
        .await
        .expect("mutual TLS session");
    round_trip(&s).await;
}

#[test]
fn bad_ssl_files_fail_validation_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let addr: SocketAddr = "127.0.0.1:9042".parse().unwrap();
    let errors = |ssl: &[(&str, String)]| {
        cassink::sink::cassandra::config::validate(&sink_config(addr, ssl))
            .into_iter()
            .flat_map(|v| v.errors)
            .collect::<Vec<_>>()
            .join("; ")
    };
    let missing = path(&dir.path().join("missing.pem"));
    let e = errors(&[
        ("ssl.provider", "JDK".into()),
        ("ssl.truststore.path", missing),
    ]);
    assert!(
        e.contains("ssl.truststore.path") && e.contains("missing.pem"),
        "{e}"
    );
    // A JKS (here: any non-PEM file) is named as such.
    let jks = dir.path().join("truststore.jks");
    std::fs::write(&jks, [0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]).unwrap();
    let e = errors(&[
        ("ssl.provider", "JDK".into()),
        ("ssl.truststore.path", path(&jks)),
    ]);
    assert!(e.contains("JKS"), "{e}");
    let e = errors(&[
        ("ssl.provider", "OpenSSL".into()),
        ("ssl.truststore.path", path(&pki.ca)),
        ("ssl.openssl.keyCertChain", path(&pki.client_cert)),
    ]);
    assert!(e.contains("ssl.openssl.privateKey"), "{e}");
    assert!(errors(&[("ssl.provider", "Netty".into())]).contains("ssl.provider"));
    // ssl.provider=None: the other keys are inert.
    assert!(errors(&[
        ("ssl.provider", "None".into()),
        ("ssl.truststore.path", "/nope".into())
    ])
    .is_empty());
    // Keys not implemented still warn; the keystore keys are implemented now.
    let mut map = sink_config(addr, &[]);
    map.insert("ssl.keystore.path".into(), "/ks.jks".into());
    map.insert("ssl.cipherSuites".into(), "TLS_AES_128_GCM_SHA256".into());
    map.insert("ssl.provider".into(), "None".into());
    let warnings = cassink::sink::cassandra::config::warnings(&map);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("ssl.cipherSuites"));
}

#[tokio::test]
async fn jks_and_pkcs12_truststores_verify_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let addr = cqlmem_behind_tls(&pki, "127.0.0.1", false).await;
    for store in [
        stores::jks_truststore(&pki, dir.path(), "changeit"),
        stores::p12_truststore(&pki, dir.path(), "changeit"),
    ] {
        let map = sink_config(
            addr,
            &[
                ("ssl.provider", "JDK".into()),
                ("ssl.truststore.path", path(&store)),
                ("ssl.truststore.password", "changeit".into()),
            ],
        );
        assert!(cassink::sink::cassandra::config::warnings(&map).is_empty());
        let s = session(&map)
            .await
            .expect("TLS session with a Java truststore");
        round_trip(&s).await;
    }
    // A store holding another CA does not vouch for the node.
    let other = tempfile::tempdir().unwrap();
    let other_pki = Pki::create(other.path());
    let wrong = stores::jks_truststore(&other_pki, other.path(), "changeit");
    let err = session(&sink_config(
        addr,
        &[
            ("ssl.provider", "JDK".into()),
            ("ssl.truststore.path", path(&wrong)),
            ("ssl.truststore.password", "changeit".into()),
        ],
    ))
    .await
    .err()
    .expect("node trusted by a store without its CA");
    assert!(err.contains("invalid peer certificate"), "{err}");
}

#[tokio::test]
async fn mutual_tls_with_a_jks_keystore() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let addr = cqlmem_behind_tls(&pki, "127.0.0.1", true).await;
    let keystore = stores::jks_keystore(&pki, dir.path(), "keypass1");
    let ssl = [
        ("ssl.provider", "JDK".to_string()),
        (
            "ssl.truststore.path",
            path(&stores::jks_truststore(&pki, dir.path(), "changeit")),
        ),
        ("ssl.truststore.password", "changeit".into()),
        ("ssl.keystore.path", path(&keystore)),
        ("ssl.keystore.password", "keypass1".into()),
    ];
    let s = session(&sink_config(addr, &ssl))
        .await
        .expect("mutual TLS with a JKS keystore");
    round_trip(&s).await;

    // The keystore and the OpenSSL pair are two answers to one question: refused, naming both.
    let mut both = ssl.to_vec();
    both.push(("ssl.openssl.keyCertChain", path(&pki.client_cert)));
    both.push(("ssl.openssl.privateKey", path(&pki.client_key)));
    let errors: Vec<_> = cassink::sink::cassandra::config::validate(&sink_config(addr, &both))
        .into_iter()
        .filter(|v| !v.errors.is_empty())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].name, "ssl.keystore.path");
    let e = errors[0].errors.join("; ");
    assert!(
        e.contains("ssl.keystore.path") && e.contains("ssl.openssl.keyCertChain"),
        "{e}"
    );
}

#[tokio::test]
async fn a_wrong_truststore_password_fails_the_task_without_showing_it() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let store = stores::jks_truststore(&pki, dir.path(), "changeit");
    let mut map = sink_config(
        "127.0.0.1:9042".parse().unwrap(),
        &[
            ("ssl.provider", "JDK".into()),
            ("ssl.truststore.path", path(&store)),
            ("ssl.truststore.password", "Wr0ngPassw0rd".into()),
        ],
    );
    let e = cassink::sink::cassandra::config::validate(&map)
        .into_iter()
        .find(|v| !v.errors.is_empty())
        .expect("a validate error");
    assert_eq!(e.name, "ssl.truststore.path");
    map.insert("name".into(), "jks-wrong-password".into());
    for part in ["key.converter", "value.converter"] {
        map.insert(
            part.into(),
            "org.apache.kafka.connect.storage.StringConverter".into(),
        );
    }
    let tasks = common::sink::spawn_tasks("jks-wrong-password", &map, 1);
    let status =
        common::sink::wait_for_failure(&tasks[0], std::time::Duration::from_secs(30)).await;
    let trace = status.trace.unwrap_or_default();
    assert!(
        trace.contains(&format!("ssl.truststore.path {}", store.display()))
            && trace.contains("wrong ssl.truststore.password"),
        "{trace}"
    );
    assert!(!trace.contains("Wr0ngPassw0rd"), "{trace}");
}
