//! CQL data types: parsing type names, protocol v4 type options, and validating,
//! comparing and rendering serialized values.

use serde::{Deserialize, Serialize};

pub use crate::codec::*;
use crate::error::{Error, Result};
use crate::protocol::wire::{put_short, put_string};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CqlType {
    Ascii,
    Bigint,
    Blob,
    Boolean,
    Counter,
    Decimal,
    Double,
    Float,
    Int,
    Timestamp,
    Uuid,
    Text,
    Varint,
    Timeuuid,
    Inet,
    Date,
    Time,
    Smallint,
    Tinyint,
    Duration,
    List(Box<CqlType>),
    Set(Box<CqlType>),
    Map(Box<CqlType>, Box<CqlType>),
    Tuple(Vec<CqlType>),
    Udt {
        keyspace: String,
        name: String,
        fields: Vec<(String, CqlType)>,
    },
    Frozen(Box<CqlType>),
}

/// A type as written in a statement, before user-defined type names are resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeExpr {
    Name(String),
    Generic(String, Vec<TypeExpr>),
}

impl CqlType {
    /// The type with any `frozen<>` wrapper removed.
    pub fn base(&self) -> &CqlType {
        match self {
            CqlType::Frozen(t) => t.base(),
            t => t,
        }
    }

    pub fn is_collection(&self) -> bool {
        matches!(
            self.base(),
            CqlType::List(_) | CqlType::Set(_) | CqlType::Map(..)
        )
    }

    pub fn is_frozen(&self) -> bool {
        matches!(self, CqlType::Frozen(_))
    }

    pub fn primitive(name: &str) -> Option<CqlType> {
        Some(match name {
            "ascii" => CqlType::Ascii,
            "bigint" => CqlType::Bigint,
            "blob" => CqlType::Blob,
            "boolean" => CqlType::Boolean,
            "counter" => CqlType::Counter,
            "decimal" => CqlType::Decimal,
            "double" => CqlType::Double,
            "float" => CqlType::Float,
            "int" => CqlType::Int,
            "timestamp" => CqlType::Timestamp,
            "uuid" => CqlType::Uuid,
            "text" | "varchar" => CqlType::Text,
            "varint" => CqlType::Varint,
            "timeuuid" => CqlType::Timeuuid,
            "inet" => CqlType::Inet,
            "date" => CqlType::Date,
            "time" => CqlType::Time,
            "smallint" => CqlType::Smallint,
            "tinyint" => CqlType::Tinyint,
            "duration" => CqlType::Duration,
            _ => return None,
        })
    }

    /// Resolves a written type; `udt` looks a user type up by name.
    pub fn resolve(expr: &TypeExpr, udt: &dyn Fn(&str) -> Option<CqlType>) -> Result<CqlType> {
        let bad = |n: &str| Error::Invalid(format!("Unknown type {n}"));
        match expr {
            TypeExpr::Name(n) => CqlType::primitive(n)
                .or_else(|| udt(n))
                .ok_or_else(|| bad(n)),
            TypeExpr::Generic(n, args) => {
                let r = |i: usize| -> Result<CqlType> {
                    let a = args.get(i).ok_or_else(|| bad(n))?;
                    CqlType::resolve(a, udt)
                };
                let want = |k: usize| -> Result<()> {
                    if args.len() == k {
                        Ok(())
                    } else {
                        Err(Error::Syntax(format!(
                            "Wrong number of type arguments for {n}"
                        )))
                    }
                };
                Ok(match n.as_str() {
                    "list" => {
                        want(1)?;
                        CqlType::List(Box::new(r(0)?))
                    }
                    "set" => {
                        want(1)?;
                        CqlType::Set(Box::new(r(0)?))
                    }
                    "map" => {
                        want(2)?;
                        CqlType::Map(Box::new(r(0)?), Box::new(r(1)?))
                    }
                    "frozen" => {
                        want(1)?;
                        CqlType::Frozen(Box::new(r(0)?))
                    }
                    "tuple" => {
                        let ts = (0..args.len()).map(r).collect::<Result<Vec<_>>>()?;
                        CqlType::Tuple(ts)
                    }
                    _ => return Err(bad(n)),
                })
            }
        }
    }

    /// The name as `system_schema.columns.type` shows it.
    pub fn cql_name(&self) -> String {
        match self {
            CqlType::Ascii => "ascii".into(),
            CqlType::Bigint => "bigint".into(),
            CqlType::Blob => "blob".into(),
            CqlType::Boolean => "boolean".into(),
            CqlType::Counter => "counter".into(),
            CqlType::Decimal => "decimal".into(),
            CqlType::Double => "double".into(),
            CqlType::Float => "float".into(),
            CqlType::Int => "int".into(),
            CqlType::Timestamp => "timestamp".into(),
            CqlType::Uuid => "uuid".into(),
            CqlType::Text => "text".into(),
            CqlType::Varint => "varint".into(),
            CqlType::Timeuuid => "timeuuid".into(),
            CqlType::Inet => "inet".into(),
            CqlType::Date => "date".into(),
            CqlType::Time => "time".into(),
            CqlType::Smallint => "smallint".into(),
            CqlType::Tinyint => "tinyint".into(),
            CqlType::Duration => "duration".into(),
            CqlType::List(t) => format!("list<{}>", t.cql_name()),
            CqlType::Set(t) => format!("set<{}>", t.cql_name()),
            CqlType::Map(k, v) => format!("map<{}, {}>", k.cql_name(), v.cql_name()),
            CqlType::Tuple(ts) => {
                let v: Vec<String> = ts.iter().map(|t| t.cql_name()).collect();
                format!("frozen<tuple<{}>>", v.join(", "))
            }
            CqlType::Udt { name, .. } => name.clone(),
            CqlType::Frozen(t) => match t.as_ref() {
                CqlType::Tuple(_) => t.cql_name(),
                t => format!("frozen<{}>", t.cql_name()),
            },
        }
    }

    /// Appends the protocol v4 `[option]` describing this type.
    pub fn put_option(&self, b: &mut Vec<u8>) {
        let id: u16 = match self {
            CqlType::Ascii => 0x01,
            CqlType::Bigint => 0x02,
            CqlType::Blob => 0x03,
            CqlType::Boolean => 0x04,
            CqlType::Counter => 0x05,
            CqlType::Decimal => 0x06,
            CqlType::Double => 0x07,
            CqlType::Float => 0x08,
            CqlType::Int => 0x09,
            CqlType::Timestamp => 0x0B,
            CqlType::Uuid => 0x0C,
            CqlType::Text => 0x0D,
            CqlType::Varint => 0x0E,
            CqlType::Timeuuid => 0x0F,
            CqlType::Inet => 0x10,
            CqlType::Date => 0x11,
            CqlType::Time => 0x12,
            CqlType::Smallint => 0x13,
            CqlType::Tinyint => 0x14,
            CqlType::Duration => 0x15,
            CqlType::List(_) => 0x20,
            CqlType::Map(..) => 0x21,
            CqlType::Set(_) => 0x22,
            CqlType::Udt { .. } => 0x30,
            CqlType::Tuple(_) => 0x31,
            CqlType::Frozen(t) => return t.put_option(b),
        };
        put_short(b, id);
        match self {
            CqlType::List(t) | CqlType::Set(t) => t.put_option(b),
            CqlType::Map(k, v) => {
                k.put_option(b);
                v.put_option(b);
            }
            CqlType::Udt {
                keyspace,
                name,
                fields,
            } => {
                put_string(b, keyspace);
                put_string(b, name);
                put_short(b, fields.len() as u16);
                for (n, t) in fields {
                    put_string(b, n);
                    t.put_option(b);
                }
            }
            CqlType::Tuple(ts) => {
                put_short(b, ts.len() as u16);
                for t in ts {
                    t.put_option(b);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn varint_roundtrips_through_decimal_strings() {
        for s in [
            "0",
            "1",
            "-1",
            "127",
            "128",
            "-128",
            "-129",
            "255",
            "1000000000000000000000000000000",
        ] {
            let b = varint_from_str(s).unwrap();
            assert_eq!(varint_to_string(&b), s);
        }
        assert_eq!(varint_from_str("128").unwrap(), vec![0, 128]);
        assert_eq!(varint_from_str("-129").unwrap(), vec![0xff, 0x7f]);
    }

    #[test]
    fn vint_roundtrips() {
        for v in [
            0i64,
            1,
            -1,
            63,
            64,
            -65,
            1 << 20,
            i64::MAX,
            i64::MIN,
            5_400_000_000_000,
        ] {
            let mut b = Vec::new();
            put_vint(&mut b, v);
            let mut pos = 0;
            assert_eq!(read_vint(&b, &mut pos).unwrap(), v);
            assert_eq!(pos, b.len());
        }
    }

    #[test]
    fn wrong_sizes_are_invalid_with_cassandras_message() {
        let e = validate(&CqlType::Int, &[0; 8]).unwrap_err();
        assert_eq!(e.to_string(), "Expected 4 or 0 byte int (8)");
        assert!(validate(
            &CqlType::List(Box::new(CqlType::Int)),
            &[0, 0, 0, 1, 0, 0, 0, 4, 1]
        )
        .is_err());
    }

    #[test]
    fn compare_orders_signed_and_uuid_types() {
        assert_eq!(
            compare(&CqlType::Int, &(-1i32).to_be_bytes(), &1i32.to_be_bytes()),
            Ordering::Less
        );
        assert_eq!(
            compare(
                &CqlType::Double,
                &(-1.5f64).to_be_bytes(),
                &0.5f64.to_be_bytes()
            ),
            Ordering::Less
        );
    }
}
