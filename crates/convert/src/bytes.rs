//! `org.apache.kafka.connect.converters.ByteArrayConverter`: bytes pass through unchanged as
//! [`Value::Bytes`].

use super::{ConvertError, ImmediateConverter};
use bytes::Bytes;
use cassink_record::Value;

pub const CLASS_NAMES: &[&str] = &[
    "org.apache.kafka.connect.converters.ByteArrayConverter",
    "ByteArrayConverter",
];

#[derive(Debug, Clone, Default)]
pub struct ByteArrayConverter;

impl ImmediateConverter for ByteArrayConverter {
    fn convert(&self, data: Option<&[u8]>) -> Result<Option<Value>, ConvertError> {
        Ok(data.map(|d| Value::Bytes(Bytes::copy_from_slice(d))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_bytes_through() {
        let c = ByteArrayConverter;
        assert_eq!(c.convert(None).ok(), Some(None));
        assert_eq!(
            c.convert(Some(b"\x00\xff")).ok().flatten(),
            Some(Value::Bytes(Bytes::from_static(b"\x00\xff")))
        );
        assert_eq!(
            c.convert(Some(b"")).ok().flatten(),
            Some(Value::Bytes(Bytes::new()))
        );
    }
}
