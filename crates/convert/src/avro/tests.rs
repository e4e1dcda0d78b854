//! The converter against a stub registry (axum on loopback): framing, header ids, caching
//! through outages, failover, basic auth, evolution, and the no-panic property.

use super::*;
use apache_avro::types::Value as Avro;
use apache_avro::writer::datum::GenericDatumWriter;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use proptest::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const METER: &str = include_str!("../../../../connectors/meter.avsc");
const GUID: uuid::Uuid = uuid::Uuid::from_u128(0xcc0e_0e0e_53c1_4a1a_8f1a_0000_0000_0001);

#[derive(Default)]
struct Stub {
    schemas: HashMap<u32, String>,
    guids: HashMap<uuid::Uuid, String>,
    hits: AtomicUsize,
    /// Answer 503 to everything.
    down: AtomicBool,
    /// Expected `Authorization` header.
    auth: Option<String>,
}

fn answer(stub: &Stub, headers: &HeaderMap, schema: Option<&String>, what: String) -> Response {
    stub.hits.fetch_add(1, Ordering::SeqCst);
    if stub.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if let Some(expected) = &stub.auth {
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected) {
            let body = serde_json::json!({"error_code": 401, "message": "Unauthorized"});
            return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
        }
    }
    match schema {
        Some(s) => Json(serde_json::json!({ "schema": s })).into_response(),
        None => {
            let body = serde_json::json!({"error_code": 40403, "message": format!("Schema {what} not found")});
            (StatusCode::NOT_FOUND, Json(body)).into_response()
        }
    }
}

/// Serves `stub` on a free loopback port; returns its URL.
async fn serve(stub: Arc<Stub>) -> String {
    let app = Router::new()
        .route(
            "/schemas/ids/{id}",
            get(|State(s): State<Arc<Stub>>, Path(id): Path<u32>, h: HeaderMap| async move {
                answer(&s, &h, s.schemas.get(&id), id.to_string())
            }),
        )
        .route(
            "/schemas/guids/{guid}",
            get(
                |State(s): State<Arc<Stub>>, Path(guid): Path<uuid::Uuid>, h: HeaderMap| async move {
                    answer(&s, &h, s.guids.get(&guid), guid.to_string())
                },
            ),
        )
        .with_state(stub);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A loopback URL nothing listens on.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

fn converter(urls: &str, extra: &[(&str, &str)]) -> AvroConverter {
    let mut config: ConfigMap = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    config.insert(
        "value.converter".into(),
        "io.confluent.connect.avro.AvroConverter".into(),
    );
    config.insert("value.converter.schema.registry.url".into(), urls.into());
    config.insert("value.converter.http.read.timeout.ms".into(), "3000".into());
    AvroConverter::from_config(Part::Value, &config).expect("converter")
}

fn meter_datum(q_3: f64) -> Avro {
    Avro::Record(vec![
        ("id".into(), Avro::Uuid(uuid::Uuid::from_u128(42))),
        ("timestamp".into(), Avro::TimestampMillis(1_612_891_980_000)),
        ("P_1".into(), Avro::Float(230.5)),
        ("P_2".into(), Avro::Float(231.0)),
        ("P_3".into(), Avro::Float(229.25)),
        ("Q_1".into(), Avro::Double(1.5)),
        ("Q_2".into(), Avro::Double(2.5)),
        ("Q_3".into(), Avro::Double(q_3)),
        (
            "HARM".into(),
            Avro::Array(vec![Avro::Int(1), Avro::Int(-7)]),
        ),
    ])
}

fn encode(schema: &str, datum: Avro) -> Vec<u8> {
    let schema = Schema::parse_str(schema).expect("schema");
    GenericDatumWriter::builder(&schema)
        .build()
        .expect("writer")
        .write_value_to_vec(datum)
        .expect("datum")
}

fn framed(id: u32, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8];
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(body);
    out
}

async fn run(
    c: &AvroConverter,
    headers: &[(String, Option<Bytes>)],
    data: &[u8],
) -> Result<Value, ConvertError> {
    c.to_connect("t", headers, Some(data))
        .await
        .map(|v| v.unwrap_or(Value::Null))
}

fn assert_meter(v: &Value, q_3: f64) {
    assert_eq!(v.field("id"), Some(&Value::Uuid(uuid::Uuid::from_u128(42))));
    assert_eq!(
        v.field("timestamp"),
        Some(&Value::Timestamp(1_612_891_980_000_000))
    );
    assert_eq!(v.field("P_3"), Some(&Value::Float32(229.25)));
    assert_eq!(v.field("Q_3"), Some(&Value::Float64(q_3)));
    assert_eq!(
        v.field("HARM"),
        Some(&Value::Array(vec![Value::Int32(1), Value::Int32(-7)]))
    );
}

#[tokio::test]
async fn decodes_prefixed_records_and_keeps_schemas_through_an_outage() {
    let stub = Arc::new(Stub {
        schemas: [(7, METER.to_string())].into(),
        ..Stub::default()
    });
    let url = serve(stub.clone()).await;
    let c = converter(&url, &[]);
    let body = encode(METER, meter_datum(3.5));
    let v = run(&c, &[], &framed(7, &body)).await.unwrap();
    assert_meter(&v, 3.5);
    assert_eq!(c.to_connect("t", &[], None).await.unwrap(), None);

    // The registry goes down: the cached schema still decodes, without calling it.
    stub.down.store(true, Ordering::SeqCst);
    let hits = stub.hits.load(Ordering::SeqCst);
    for _ in 0..3 {
        assert_meter(&run(&c, &[], &framed(7, &body)).await.unwrap(), 3.5);
    }
    assert_eq!(stub.hits.load(Ordering::SeqCst), hits);
    // An id not seen yet is a retriable outage, and is retried once the registry is back.
    let e = run(&c, &[], &framed(8, &body)).await.unwrap_err();
    assert!(e.retriable, "{e:?}");
    assert!(
        e.message.contains("unavailable") && e.message.contains("schema id 8"),
        "{e:?}"
    );
    stub.down.store(false, Ordering::SeqCst);
    let e = run(&c, &[], &framed(8, &body)).await.unwrap_err();
    assert!(!e.retriable, "{e:?}");
    assert!(e.message.contains("unknown schema id 8"), "{e:?}");
}

#[tokio::test]
async fn unreachable_registry_is_retriable_and_the_next_url_is_tried() {
    let body = encode(METER, meter_datum(1.0));
    let c = converter(&dead_url(), &[]);
    let e = run(&c, &[], &framed(1, &body)).await.unwrap_err();
    assert!(e.retriable, "{e:?}");

    let stub = Arc::new(Stub {
        schemas: [(1, METER.to_string())].into(),
        ..Stub::default()
    });
    let url = serve(stub).await;
    let c = converter(&format!("{}, {url}", dead_url()), &[]);
    assert_meter(&run(&c, &[], &framed(1, &body)).await.unwrap(), 1.0);
}

#[tokio::test]
async fn sends_basic_auth_credentials() {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode("key:secret");
    let stub = Arc::new(Stub {
        schemas: [(3, METER.to_string())].into(),
        auth: Some(format!("Basic {token}")),
        ..Stub::default()
    });
    let url = serve(stub).await;
    let body = framed(3, &encode(METER, meter_datum(2.0)));
    let wrong = converter(&url, &[]);
    let e = run(&wrong, &[], &body).await.unwrap_err();
    assert!(e.retriable && e.message.contains("401"), "{e:?}");
    let c = converter(
        &url,
        &[
            ("value.converter.basic.auth.credentials.source", "USER_INFO"),
            ("value.converter.basic.auth.user.info", "key:secret"),
        ],
    );
    assert_meter(&run(&c, &[], &body).await.unwrap(), 2.0);
    let authority = url.trim_start_matches("http://");
    let c = converter(&format!("http://key:secret@{authority}"), &[]);
    assert_meter(&run(&c, &[], &body).await.unwrap(), 2.0);
}

#[tokio::test]
async fn reads_schema_ids_and_guids_from_headers() {
    let stub = Arc::new(Stub {
        schemas: [(5, METER.to_string())].into(),
        guids: [(GUID, METER.to_string())].into(),
        ..Stub::default()
    });
    let url = serve(stub.clone()).await;
    let c = converter(&url, &[]);
    let body = encode(METER, meter_datum(4.0));
    let id_header = vec![(
        "__value_schema_id".to_string(),
        Some(Bytes::from(vec![0u8, 0, 0, 0, 5])),
    )];
    assert_meter(&run(&c, &id_header, &body).await.unwrap(), 4.0);
    let mut guid = vec![1u8];
    guid.extend_from_slice(GUID.as_bytes());
    let guid_header = vec![("__value_schema_id".to_string(), Some(Bytes::from(guid)))];
    assert_meter(&run(&c, &guid_header, &body).await.unwrap(), 4.0);
    let hits = stub.hits.load(Ordering::SeqCst);
    assert_meter(&run(&c, &guid_header, &body).await.unwrap(), 4.0);
    assert_eq!(stub.hits.load(Ordering::SeqCst), hits, "the guid is cached");
    // A key header does not apply to values; a bad header is named.
    let key_header = vec![(
        "__key_schema_id".to_string(),
        Some(Bytes::from(vec![0u8, 0, 0, 0, 5])),
    )];
    assert!(run(&c, &key_header, &body).await.is_err());
    let bad = vec![(
        "__value_schema_id".to_string(),
        Some(Bytes::from_static(b"5")),
    )];
    let e = run(&c, &bad, &body).await.unwrap_err();
    assert!(e.message.contains("header __value_schema_id"), "{e:?}");
}

#[tokio::test]
async fn evolved_writer_schemas_decode_side_by_side() {
    let v2 = METER.replacen(
        r#"{"name": "HARM""#,
        r#"{"name": "voltage", "type": ["null", "double"], "default": null},
        {"name": "HARM""#,
        1,
    );
    let v3 = METER.replacen(r#"{"name": "Q_3", "type": "double"},"#, "", 1);
    assert_ne!(v2, METER);
    assert_ne!(v3, METER);
    let stub = Arc::new(Stub {
        schemas: [(1, METER.to_string()), (2, v2.clone()), (3, v3.clone())].into(),
        ..Stub::default()
    });
    let c = converter(&serve(stub).await, &[]);
    assert_meter(
        &run(&c, &[], &framed(1, &encode(METER, meter_datum(1.0))))
            .await
            .unwrap(),
        1.0,
    );
    let Avro::Record(mut fields) = meter_datum(2.0) else {
        unreachable!()
    };
    fields.insert(
        8,
        (
            "voltage".into(),
            Avro::Union(1, Box::new(Avro::Double(230.0))),
        ),
    );
    let v = run(
        &c,
        &[],
        &framed(2, &encode(&v2, Avro::Record(fields.clone()))),
    )
    .await
    .unwrap();
    assert_meter(&v, 2.0);
    assert_eq!(v.field("voltage"), Some(&Value::Float64(230.0)));
    fields.retain(|(k, _)| k != "Q_3" && k != "voltage");
    let v = run(&c, &[], &framed(3, &encode(&v3, Avro::Record(fields))))
        .await
        .unwrap();
    assert_eq!(v.field("Q_3"), None);
    assert_eq!(v.field("P_3"), Some(&Value::Float32(229.25)));
    // And back to v1: nothing sticks.
    assert_meter(
        &run(&c, &[], &framed(1, &encode(METER, meter_datum(9.0))))
            .await
            .unwrap(),
        9.0,
    );
}

fn seeded() -> AvroConverter {
    let schema = Schema::parse_str(METER).expect("meter schema");
    AvroConverter::with_schemas(Part::Value, [(SchemaRef::Id(1), schema)]).expect("converter")
}

#[tokio::test]
async fn malformed_payloads_give_clear_errors() {
    let c = seeded();
    let body = encode(METER, meter_datum(1.0));
    let e = run(&c, &[], b"{\"id\": 1}").await.unwrap_err();
    assert!(
        !e.retriable && e.message.contains("unknown magic byte 0x7b"),
        "{e:?}"
    );
    let e = run(&c, &[], &[0, 0, 1]).await.unwrap_err();
    assert!(e.message.contains("truncated payload: 3 bytes"), "{e:?}");
    let e = run(&c, &[], &framed(99, &body)).await.unwrap_err();
    assert!(
        !e.retriable && e.message.contains("unknown schema id 99"),
        "{e:?}"
    );
    let cut = framed(1, &body[..body.len() / 2]);
    let e = run(&c, &[], &cut).await.unwrap_err();
    assert!(
        !e.retriable
            && e.message
                .contains("AvroConverter: cannot decode the data written with schema id 1"),
        "{e:?}"
    );
    // A uuid field holding text that is not a uuid.
    let mut bad = framed(1, &[]);
    bad.extend_from_slice(&[6, b'a', b'b', b'c']);
    assert!(run(&c, &[], &bad).await.is_err());
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let c = seeded();
        let _ = futures::executor::block_on(c.decode(&[], Some(&data)));
        let _ = futures::executor::block_on(c.decode(&[], Some(&framed(1, &data))));
        let header = vec![("__value_schema_id".to_string(), Some(Bytes::from(data.clone())))];
        let _ = futures::executor::block_on(c.decode(&header, Some(&data)));
    }

    #[test]
    fn damaged_meter_records_never_panic(cut in 0usize..80, flip in 0usize..80, bit in 0u8..8) {
        let c = seeded();
        let mut data = framed(1, &encode(METER, meter_datum(1.0)));
        if let Some(b) = data.get_mut(flip) {
            *b ^= 1 << bit;
        }
        data.truncate(cut.max(1));
        let _ = futures::executor::block_on(c.decode(&[], Some(&data)));
    }
}
