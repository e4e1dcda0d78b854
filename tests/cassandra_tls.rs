//! Issue 4, `ssl.*`: the sink's Cassandra session over TLS, end to end against Apache
//! Cassandra nodes of the tests' own whose native port only speaks TLS
//! (`client_encryption_options` with PEM files), one of them requiring client certificates.

mod common;

use cassink::config::ConfigMap;
use cassink::connector::Framework;
use cassink::sink::cassandra::config::SinkConfig;
use cassink::sink::cassandra::session::{connect, CqlSession};
use cdrs_tokio::query_values;
use cdrs_tokio::types::IntoRustByName;
use common::cassandra::{NodeOptions, NodeTls, PrivateCassandra};
use common::pki::Pki;
use common::stores;
use std::net::SocketAddr;
use std::path::Path;

/// A Cassandra node serving TLS with `pki`'s server certificate on every loopback address
/// (the certificate names 127.0.0.1 and localhost, not 127.0.0.2), requiring a client
/// certificate signed by `pki`'s CA when `require_client_cert`.
fn tls_node(pki: &Pki, name: &str, require_client_cert: bool) -> (PrivateCassandra, SocketAddr) {
    let node = tokio::task::block_in_place(|| {
        PrivateCassandra::start(
            name,
            NodeOptions {
                tls: Some(NodeTls {
                    server_bundle: pki.server_bundle.clone(),
                    ca: pki.ca.clone(),
                    client_cert: require_client_cert
                        .then(|| (pki.client_cert.clone(), pki.client_key.clone())),
                }),
                every_address: true,
                ..NodeOptions::default()
            },
        )
    });
    let addr = SocketAddr::from(([127, 0, 0, 1], node.port));
    (node, addr)
}

/// The same node at 127.0.0.2, a name its certificate does not hold.
fn misnamed(addr: SocketAddr) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 2], addr.port()))
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
    let config = SinkConfig::parse(map, Framework::default())?;
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

/// One node serving TLS, reached with a PEM, a JKS and a PKCS#12 truststore; refused when
/// the truststore holds another CA or the address is not in its certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_node_is_verified_by_pem_jks_and_pkcs12_truststores() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let (node, addr) = tls_node(&pki, "cassandra-tls", false);
    pem_truststore(&pki, addr).await;
    untrusted_or_misnamed(&pki, misnamed(addr)).await;
    java_truststores(&pki, dir.path(), addr).await;
    drop(node);
}

/// One node requiring client certificates: an OpenSSL key and chain, and a JKS keystore.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_requiring_client_certificates_takes_pem_and_jks_keys() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let (node, addr) = tls_node(&pki, "cassandra-mtls", true);
    openssl_key_cert_chain(&pki, addr).await;
    jks_keystore(&pki, dir.path(), addr).await;
    drop(node);
}

async fn pem_truststore(pki: &Pki, addr: SocketAddr) {
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

/// `addr` is the node at an address its certificate does not name (127.0.0.2).
async fn untrusted_or_misnamed(pki: &Pki, addr: SocketAddr) {
    let other = tempfile::tempdir().unwrap();
    let other_pki = Pki::create(other.path());

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

async fn openssl_key_cert_chain(pki: &Pki, addr: SocketAddr) {
    let base = [
        ("ssl.provider", "OpenSSL".to_string()),
        ("ssl.truststore.path", path(&pki.ca)),
    ];

    let err = session(&sink_config(addr, &base))
        .await
        .err()
        .expect("served without a client cert");
    // The node's OpenSSL engine sends the alert, or resets the connection before it arrives.
    assert!(
        err.contains("CertificateRequired") || err.contains("require a client certificate"),
        "{err}"
    );
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
        cassink::sink::cassandra::config::validate(&sink_config(addr, ssl), Framework::default())
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

async fn java_truststores(pki: &Pki, dir: &Path, addr: SocketAddr) {
    for store in [
        stores::jks_truststore(pki, dir, "changeit"),
        stores::p12_truststore(pki, dir, "changeit"),
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

async fn jks_keystore(pki: &Pki, dir: &Path, addr: SocketAddr) {
    let keystore = stores::jks_keystore(pki, dir, "keypass1");
    let ssl = [
        ("ssl.provider", "JDK".to_string()),
        (
            "ssl.truststore.path",
            path(&stores::jks_truststore(pki, dir, "changeit")),
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
    let errors: Vec<_> =
        cassink::sink::cassandra::config::validate(&sink_config(addr, &both), Framework::default())
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
    let e = cassink::sink::cassandra::config::validate(&map, Framework::default())
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
