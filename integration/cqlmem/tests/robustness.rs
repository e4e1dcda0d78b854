//! Property tests: arbitrary bytes never panic the frame/body decoders or the CQL parser.

use cqlmem::frame;
use cqlmem::protocol::Request;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn request_bodies_never_panic(op in 0u8..0x20, body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = Request::parse(op, &body);
    }

    #[test]
    fn headers_never_panic(h in proptest::array::uniform9(any::<u8>())) {
        let _ = frame::parse_header(&h);
    }

    #[test]
    fn decompression_never_panics(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = frame::Compression::Lz4.decompress(&body);
        let _ = frame::Compression::Snappy.decompress(&body);
    }

    #[test]
    fn parser_never_panics(src in "\\PC{0,120}") {
        let _ = cqlmem::cql::parse(&src);
    }

    #[test]
    fn cql_like_input_never_panics(parts in proptest::collection::vec(prop_oneof![
        Just("SELECT"), Just("*"), Just("FROM"), Just("t"), Just("WHERE"), Just("k"), Just("="), Just("?"),
        Just("("), Just(")"), Just("{"), Just("}"), Just("["), Just("]"), Just(","), Just(":"), Just("'x'"),
        Just("INSERT"), Just("INTO"), Just("VALUES"), Just("USING"), Just("TTL"), Just("1"), Just("-"),
        Just("BEGIN"), Just("BATCH"), Just("APPLY"), Just("CREATE"), Just("TABLE"), Just("PRIMARY"), Just("KEY"),
        Just("0x"), Just("0xab"), Just("123e4567-e89b-12d3-a456-426614174000"), Just("<"), Just(">"), Just("IN"),
    ], 0..30)) {
        let _ = cqlmem::cql::parse(&parts.join(" "));
    }

    #[test]
    fn value_validation_never_panics(b in proptest::collection::vec(any::<u8>(), 0..64)) {
        use cqlmem::types::{validate, CqlType};
        let tys = [
            CqlType::List(Box::new(CqlType::Int)),
            CqlType::Map(Box::new(CqlType::Text), Box::new(CqlType::Duration)),
            CqlType::Tuple(vec![CqlType::Int, CqlType::Text]),
            CqlType::Duration, CqlType::Decimal, CqlType::Varint,
        ];
        for t in &tys {
            let _ = validate(t, &b);
            let _ = cqlmem::json::to_json(t, Some(&b));
        }
    }
}

#[test]
fn oversized_frame_is_a_protocol_error() {
    let mut h = [0x04, 0, 0, 1, 0x07, 0, 0, 0, 0];
    h[5..9].copy_from_slice(&(300u32 * 1024 * 1024).to_be_bytes());
    assert!(frame::parse_header(&h).is_err());
}

#[test]
fn v5_is_refused_with_unsupported_protocol_version() {
    let h = [0x05, 0, 0, 0, 0x05, 0, 0, 0, 0];
    match frame::parse_header(&h) {
        Err(frame::FrameError::Fatal { error, .. }) => {
            assert!(error
                .to_string()
                .to_lowercase()
                .contains("unsupported protocol version"));
            assert_eq!(error.code(), 0x000A);
        }
        other => panic!("{other:?}"),
    }
}
