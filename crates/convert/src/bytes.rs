//! `org.apache.kafka.connect.converters.ByteArrayConverter`: bytes pass through unchanged as
//! [`Value::Bytes`].

use super::{ConvertError, Converter};
use async_trait::async_trait;
use bytes::Bytes;
use cassink_record::Value;

pub const CLASS_NAMES: &[&str] = &[
    "org.apache.kafka.connect.converters.ByteArrayConverter",
    "ByteArrayConverter",
];

#[derive(Debug, Clone, Default)]
pub struct ByteArrayConverter;

impl ByteArrayConverter {
    pub fn convert(&self, data: Option<&[u8]>) -> Option<Value> {
        data.map(|d| Value::Bytes(Bytes::copy_from_slice(d)))
    }
}

#[async_trait]
impl Converter for ByteArrayConverter {
    async fn to_connect(
        &self,
        _topic: &str,
        _headers: &[(String, Option<Bytes>)],
        data: Option<&[u8]>,
    ) -> Result<Option<Value>, ConvertError> {
        Ok(self.convert(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_bytes_through() {
        let c = ByteArrayConverter;
        assert_eq!(c.convert(None), None);
        assert_eq!(
            c.convert(Some(b"\x00\xff")),
            Some(Value::Bytes(Bytes::from_static(b"\x00\xff")))
        );
        assert_eq!(c.convert(Some(b"")), Some(Value::Bytes(Bytes::new())));
    }
}
