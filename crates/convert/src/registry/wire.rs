//! The Confluent wire format: where a record says which writer schema it was written with.
//!
//! * Payload prefix (every Confluent serializer by default): magic byte `0x00`, the 4-byte
//!   big-endian schema id, then the datum (Avro binary; Protobuf after its message indexes;
//!   JSON text).
//! * Header (newer serdes, `schema.id.serializer=header_schema_id_serializer`): a
//!   `__value_schema_id` / `__key_schema_id` header holding `0x01` + the 16-byte schema GUID
//!   (what confluent-kafka 2.12 writes) or `0x00` + the 4-byte id; the payload is then the bare
//!   datum. A header wins over the payload prefix, as in Confluent's
//!   `DualSchemaIdDeserializer`.

use super::RegistryError;

/// Header carrying the value's schema id/GUID (Confluent `SchemaId.VALUE_SCHEMA_ID_HEADER`).
pub const VALUE_SCHEMA_ID_HEADER: &str = "__value_schema_id";
/// Header carrying the key's schema id/GUID (Confluent `SchemaId.KEY_SCHEMA_ID_HEADER`).
pub const KEY_SCHEMA_ID_HEADER: &str = "__key_schema_id";

const MAGIC_ID: u8 = 0x00;
const MAGIC_GUID: u8 = 0x01;

/// Which registered schema wrote a datum.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SchemaRef {
    Id(u32),
    Guid(uuid::Uuid),
}

impl std::fmt::Display for SchemaRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SchemaRef::Id(id) => write!(f, "schema id {id}"),
            SchemaRef::Guid(guid) => write!(f, "schema guid {guid}"),
        }
    }
}

/// Splits a prefixed payload into its schema id and the datum.
pub fn split_prefixed(data: &[u8]) -> Result<(SchemaRef, &[u8]), RegistryError> {
    match data {
        [] => Err(RegistryError::Truncated { len: 0 }),
        [magic, ..] if *magic != MAGIC_ID => Err(RegistryError::WrongMagic { byte: *magic }),
        [_, a, b, c, d, body @ ..] => {
            Ok((SchemaRef::Id(u32::from_be_bytes([*a, *b, *c, *d])), body))
        }
        _ => Err(RegistryError::Truncated { len: data.len() }),
    }
}

/// Reads a `__value_schema_id`/`__key_schema_id` header value.
pub fn parse_header(header: &str, value: &[u8]) -> Result<SchemaRef, RegistryError> {
    parse_header_with_rest(header, value).map(|(schema, _)| schema)
}

/// Reads a schema-id header value; also returns what follows the id (Protobuf's message
/// indexes).
pub fn parse_header_with_rest<'a>(
    header: &str,
    value: &'a [u8],
) -> Result<(SchemaRef, &'a [u8]), RegistryError> {
    let bad = |reason: String| RegistryError::BadHeader {
        header: header.to_string(),
        reason,
    };
    match value {
        [MAGIC_ID, a, b, c, d, rest @ ..] => {
            Ok((SchemaRef::Id(u32::from_be_bytes([*a, *b, *c, *d])), rest))
        }
        [MAGIC_GUID, rest @ ..] if rest.len() >= 16 => {
            let guid = uuid::Uuid::from_slice(&rest[..16]).map_err(|e| bad(e.to_string()))?;
            Ok((SchemaRef::Guid(guid), &rest[16..]))
        }
        [MAGIC_ID, ..] => Err(bad(format!(
            "{} bytes, expected 5 (0x00 + 4-byte schema id)",
            value.len()
        ))),
        [MAGIC_GUID, ..] => Err(bad(format!(
            "{} bytes, expected 17 (0x01 + 16-byte schema guid)",
            value.len()
        ))),
        [] => Err(bad("it is empty".into())),
        [other, ..] => Err(bad(format!(
            "first byte is 0x{other:02x}, expected 0x00 (schema id) or 0x01 (schema guid)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_prefix() {
        let (id, body) = split_prefixed(&[0, 0, 0, 1, 2, 9, 8]).unwrap();
        assert_eq!(id, SchemaRef::Id(258));
        assert_eq!(body, &[9, 8]);
        let (_, body) = split_prefixed(&[0, 0, 0, 0, 7]).unwrap();
        assert!(body.is_empty());
        assert!(matches!(
            split_prefixed(&[]),
            Err(RegistryError::Truncated { len: 0 })
        ));
        assert!(matches!(
            split_prefixed(&[0, 0, 1]),
            Err(RegistryError::Truncated { len: 3 })
        ));
        assert!(matches!(
            split_prefixed(b"{\"a\":1}"),
            Err(RegistryError::WrongMagic { byte: b'{' })
        ));
    }

    #[test]
    fn reads_header_ids_and_guids() {
        assert_eq!(
            parse_header("h", &[0, 0, 0, 0, 42]).unwrap(),
            SchemaRef::Id(42)
        );
        let guid = uuid::Uuid::from_u128(0xcc0e_0e0e_53c1_4a1a_8f1a_0000_0000_0001);
        let mut v = vec![1u8];
        v.extend_from_slice(guid.as_bytes());
        assert_eq!(parse_header("h", &v).unwrap(), SchemaRef::Guid(guid));
        for bad in [&[][..], &[1, 2, 3], &[0, 1], &[7, 0, 0, 0, 1]] {
            let e = parse_header("__value_schema_id", bad).unwrap_err();
            assert!(e.to_string().contains("__value_schema_id"), "{e}");
        }
    }
}
