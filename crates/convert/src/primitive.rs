//! Kafka's primitive converters (`org.apache.kafka.connect.converters.LongConverter`,
//! `IntegerConverter`, `ShortConverter`, `FloatConverter`, `DoubleConverter`,
//! `BooleanConverter`): the fixed-size big-endian encodings of Kafka's `LongSerializer`,
//! `IntegerSerializer`, ... (`BooleanSerializer`: one byte, 0x00 or 0x01). A null payload is a
//! null value; a payload of any other size is a permanent error, as in Kafka's deserializers.

use super::{ConvertError, ImmediateConverter};
use cassink_record::Value;

/// Which primitive a converter reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primitive {
    Long,
    Integer,
    Short,
    Float,
    Double,
    Boolean,
}

const PACKAGE: &str = "org.apache.kafka.connect.converters.";

impl Primitive {
    const ALL: [Primitive; 6] = [
        Primitive::Long,
        Primitive::Integer,
        Primitive::Short,
        Primitive::Float,
        Primitive::Double,
        Primitive::Boolean,
    ];

    /// The converter's short class name, e.g. `LongConverter`.
    pub fn class_name(self) -> &'static str {
        match self {
            Primitive::Long => "LongConverter",
            Primitive::Integer => "IntegerConverter",
            Primitive::Short => "ShortConverter",
            Primitive::Float => "FloatConverter",
            Primitive::Double => "DoubleConverter",
            Primitive::Boolean => "BooleanConverter",
        }
    }

    /// The primitive converter a class name (full or short) names.
    pub fn from_class(class: &str) -> Option<Self> {
        let short = class.strip_prefix(PACKAGE).unwrap_or(class);
        Self::ALL.into_iter().find(|p| p.class_name() == short)
    }

    /// Every full class name, for listings.
    pub fn class_names() -> impl Iterator<Item = String> {
        Self::ALL
            .into_iter()
            .map(|p| format!("{PACKAGE}{}", p.class_name()))
    }

    fn size(self) -> usize {
        match self {
            Primitive::Long | Primitive::Double => 8,
            Primitive::Integer | Primitive::Float => 4,
            Primitive::Short => 2,
            Primitive::Boolean => 1,
        }
    }

    fn deserializer(self) -> &'static str {
        match self {
            Primitive::Long => "LongDeserializer",
            Primitive::Integer => "IntegerDeserializer",
            Primitive::Short => "ShortDeserializer",
            Primitive::Float => "FloatDeserializer",
            Primitive::Double => "DoubleDeserializer",
            Primitive::Boolean => "BooleanDeserializer",
        }
    }
}

/// One primitive converter.
#[derive(Debug, Clone, Copy)]
pub struct PrimitiveConverter(pub Primitive);

impl ImmediateConverter for PrimitiveConverter {
    fn convert(&self, data: Option<&[u8]>) -> Result<Option<Value>, ConvertError> {
        let Some(data) = data else {
            return Ok(None);
        };
        let kind = self.0;
        let wrong_size = || {
            ConvertError::permanent(format!(
                "{}: size of data received by {} is not {} (got {} bytes)",
                kind.class_name(),
                kind.deserializer(),
                kind.size(),
                data.len()
            ))
        };
        let value = match kind {
            Primitive::Long => Value::Int64(i64::from_be_bytes(
                data.try_into().map_err(|_| wrong_size())?,
            )),
            Primitive::Integer => Value::Int32(i32::from_be_bytes(
                data.try_into().map_err(|_| wrong_size())?,
            )),
            Primitive::Short => Value::Int16(i16::from_be_bytes(
                data.try_into().map_err(|_| wrong_size())?,
            )),
            Primitive::Float => Value::Float32(f32::from_be_bytes(
                data.try_into().map_err(|_| wrong_size())?,
            )),
            Primitive::Double => Value::Float64(f64::from_be_bytes(
                data.try_into().map_err(|_| wrong_size())?,
            )),
            Primitive::Boolean => match data {
                [0] => Value::Boolean(false),
                [1] => Value::Boolean(true),
                [other] => {
                    return Err(ConvertError::permanent(format!(
                        "BooleanConverter: unexpected byte received by BooleanDeserializer: \
                         0x{other:02x} (expected 0x00 or 0x01)"
                    )))
                }
                _ => return Err(wrong_size()),
            },
        };
        Ok(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(kind: Primitive, data: &[u8]) -> Result<Option<Value>, ConvertError> {
        PrimitiveConverter(kind).convert(Some(data))
    }

    #[test]
    fn reads_kafka_serializer_encodings() {
        let long = read(Primitive::Long, &(-42i64).to_be_bytes()).unwrap();
        assert_eq!(long, Some(Value::Int64(-42)));
        let int = read(Primitive::Integer, &[0x7f, 0xff, 0xff, 0xff]).unwrap();
        assert_eq!(int, Some(Value::Int32(i32::MAX)));
        let short = read(Primitive::Short, &[0xff, 0xfe]).unwrap();
        assert_eq!(short, Some(Value::Int16(-2)));
        let float = read(Primitive::Float, &1.5f32.to_be_bytes()).unwrap();
        assert_eq!(float, Some(Value::Float32(1.5)));
        let double = read(Primitive::Double, &(-0.25f64).to_be_bytes()).unwrap();
        assert_eq!(double, Some(Value::Float64(-0.25)));
        assert_eq!(
            read(Primitive::Boolean, &[1]).unwrap(),
            Some(Value::Boolean(true))
        );
        assert_eq!(
            read(Primitive::Boolean, &[0]).unwrap(),
            Some(Value::Boolean(false))
        );
        assert_eq!(
            PrimitiveConverter(Primitive::Long).convert(None).unwrap(),
            None
        );
    }

    #[test]
    fn wrong_sizes_and_bytes_are_errors_that_say_so() {
        for kind in Primitive::ALL {
            let e = read(kind, &[0; 3]).unwrap_err();
            assert!(!e.retriable);
            assert!(e.message.contains(kind.class_name()), "{e}");
            assert!(e.message.contains("got 3 bytes"), "{e}");
            assert!(
                read(kind, &[]).is_err(),
                "{kind:?} accepted an empty payload"
            );
        }
        let e = read(Primitive::Boolean, &[2]).unwrap_err();
        assert!(e.message.contains("0x02"), "{e}");
    }

    #[test]
    fn class_names_full_and_short() {
        assert_eq!(
            Primitive::from_class("org.apache.kafka.connect.converters.LongConverter"),
            Some(Primitive::Long)
        );
        assert_eq!(
            Primitive::from_class("DoubleConverter"),
            Some(Primitive::Double)
        );
        assert_eq!(Primitive::from_class("org.example.LongConverter"), None);
        assert_eq!(Primitive::class_names().count(), 6);
    }
}
