//! `org.apache.kafka.connect.storage.StringConverter`: bytes -> [`Value::String`] in the
//! configured `encoding` (UTF8 by default; also US-ASCII and ISO-8859-1). Bytes that are not
//! valid in the encoding are a permanent error, never a lossy replacement.

use super::{ConvertError, ImmediateConverter};
use cassink_record::Value;

pub const CLASS_NAMES: &[&str] = &[
    "org.apache.kafka.connect.storage.StringConverter",
    "StringConverter",
];

/// A character set `StringConverter` can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Ascii,
    Latin1,
}

impl Encoding {
    /// Parses a Java charset name (case-insensitive): `UTF8`, `UTF-8`, `US-ASCII`, `ASCII`,
    /// `ISO-8859-1`, `latin1`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_uppercase().replace('_', "-").as_str() {
            "UTF8" | "UTF-8" => Some(Encoding::Utf8),
            "US-ASCII" | "ASCII" => Some(Encoding::Ascii),
            "ISO-8859-1" | "ISO8859-1" | "LATIN1" => Some(Encoding::Latin1),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct StringConverter {
    pub encoding: Encoding,
}

impl Default for StringConverter {
    fn default() -> Self {
        Self {
            encoding: Encoding::Utf8,
        }
    }
}

impl ImmediateConverter for StringConverter {
    fn convert(&self, data: Option<&[u8]>) -> Result<Option<Value>, ConvertError> {
        let Some(data) = data else {
            return Ok(None);
        };
        let text = match self.encoding {
            Encoding::Utf8 => std::str::from_utf8(data)
                .map_err(|e| {
                    ConvertError::permanent(format!("StringConverter: invalid UTF-8: {e}"))
                })?
                .to_owned(),
            Encoding::Ascii => match data.iter().position(|b| !b.is_ascii()) {
                Some(at) => {
                    return Err(ConvertError::permanent(format!(
                        "StringConverter: byte 0x{:02x} at offset {at} is not US-ASCII",
                        data[at]
                    )))
                }
                None => data.iter().map(|&b| b as char).collect(),
            },
            Encoding::Latin1 => data.iter().map(|&b| b as char).collect(),
        };
        Ok(Some(Value::String(text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_each_encoding() {
        let utf8 = StringConverter::default();
        assert_eq!(utf8.convert(None).unwrap(), None);
        assert_eq!(
            utf8.convert(Some("héllo".as_bytes())).unwrap(),
            Some(Value::String("héllo".into()))
        );
        assert_eq!(
            utf8.convert(Some(b"")).unwrap(),
            Some(Value::String(String::new()))
        );
        let e = utf8.convert(Some(b"a\xffb")).unwrap_err();
        assert!(e.message.contains("invalid UTF-8"), "{e}");
        let latin1 = StringConverter {
            encoding: Encoding::Latin1,
        };
        assert_eq!(
            latin1.convert(Some(b"caf\xe9")).unwrap(),
            Some(Value::String("café".into()))
        );
        let ascii = StringConverter {
            encoding: Encoding::Ascii,
        };
        assert!(ascii
            .convert(Some(b"caf\xe9"))
            .unwrap_err()
            .message
            .contains("offset 3"));
        assert_eq!(Encoding::parse(" utf-8 "), Some(Encoding::Utf8));
        assert_eq!(Encoding::parse("EBCDIC"), None);
    }
}
