//! Raw native-protocol behaviour: version refusal, UNPREPARED, compression, and many
//! requests in flight on one connection.

mod common;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn frame(version: u8, flags: u8, stream: i16, op: u8, body: &[u8]) -> Vec<u8> {
    let mut f = vec![version, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.push(op);
    f.extend_from_slice(&(body.len() as u32).to_be_bytes());
    f.extend_from_slice(body);
    f
}

fn string_map(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut b = (pairs.len() as u16).to_be_bytes().to_vec();
    for (k, v) in pairs {
        for s in [k, v] {
            b.extend_from_slice(&(s.len() as u16).to_be_bytes());
            b.extend_from_slice(s.as_bytes());
        }
    }
    b
}

fn query(q: &str) -> Vec<u8> {
    let mut b = (q.len() as u32).to_be_bytes().to_vec();
    b.extend_from_slice(q.as_bytes());
    b.extend_from_slice(&[0, 1, 0]);
    b
}

async fn read(s: &mut TcpStream) -> (u8, u8, i16, u8, Vec<u8>) {
    let mut h = [0u8; 9];
    s.read_exact(&mut h).await.unwrap();
    let len = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) as usize;
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.unwrap();
    (h[0], h[1], i16::from_be_bytes([h[2], h[3]]), h[4], body)
}

#[tokio::test]
async fn unsupported_version_gets_protocol_error() {
    let server = common::start(None).await;
    for v in [3u8, 5, 0x41, 0x42] {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(&frame(v, 0, 0, 0x05, &[])).await.unwrap();
        let (ver, _, _, op, body) = read(&mut s).await;
        assert_eq!((ver, op), (0x84, 0x00));
        assert_eq!(&body[..4], &0x000Ai32.to_be_bytes());
        assert!(String::from_utf8_lossy(&body).contains("unsupported protocol version"));
    }
    server.stop().await;
}

#[tokio::test]
async fn unknown_prepared_id_is_unprepared_with_id() {
    let server = common::start(None).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(&frame(
        4,
        0,
        1,
        0x01,
        &string_map(&[("CQL_VERSION", "3.0.0")]),
    ))
    .await
    .unwrap();
    assert_eq!(read(&mut s).await.3, 0x02);
    let mut body = vec![0, 4, 0xde, 0xad, 0xbe, 0xef];
    body.extend_from_slice(&[0, 1, 0]);
    s.write_all(&frame(4, 0, 2, 0x0A, &body)).await.unwrap();
    let (_, _, stream, op, body) = read(&mut s).await;
    assert_eq!((stream, op), (2, 0x00));
    assert_eq!(&body[..4], &0x2500i32.to_be_bytes());
    assert!(body.ends_with(&[0, 4, 0xde, 0xad, 0xbe, 0xef]));
    server.stop().await;
}

#[tokio::test]
async fn lz4_and_many_streams_in_flight() {
    let server = common::start(None).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(&frame(
        4,
        0,
        0,
        0x01,
        &string_map(&[("CQL_VERSION", "3.0.0"), ("COMPRESSION", "lz4")]),
    ))
    .await
    .unwrap();
    assert_eq!(read(&mut s).await.3, 0x02);
    let compress = |b: &[u8]| {
        let mut out = (b.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&lz4_flex::block::compress(b));
        out
    };
    let mut batch = Vec::new();
    for stream in 1..=100i16 {
        batch.extend(frame(
            4,
            1,
            stream,
            0x07,
            &compress(&query("SELECT key FROM system.local")),
        ));
    }
    s.write_all(&batch).await.unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..100 {
        let (_, flags, stream, op, body) = read(&mut s).await;
        assert_eq!((flags & 1, op), (1, 0x08));
        let n = u32::from_be_bytes([body[0], body[1], body[2], body[3]]) as usize;
        let plain = lz4_flex::block::decompress(&body[4..], n).unwrap();
        assert_eq!(&plain[..4], &2i32.to_be_bytes());
        seen.insert(stream);
    }
    assert_eq!(seen.len(), 100);
    server.stop().await;
}

#[tokio::test]
async fn garbage_closes_connection_without_killing_server() {
    let server = common::start(None).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(&[0x04, 0, 0, 1, 0x07, 0x7f, 0xff, 0xff, 0xff])
        .await
        .unwrap();
    let (_, _, _, op, _) = read(&mut s).await;
    assert_eq!(op, 0x00);
    let mut s2 = TcpStream::connect(server.addr).await.unwrap();
    s2.write_all(&frame(4, 0, 0, 0x05, &[])).await.unwrap();
    assert_eq!(read(&mut s2).await.3, 0x06);
    server.stop().await;
}
