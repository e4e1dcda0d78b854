//! Avro datum -> the Connect-like [`Value`], walking the writer schema beside the datum (the
//! decimal scale lives in the schema, not in the datum).
//!
//! | Avro | Value |
//! |---|---|
//! | record | `Struct` (field order kept) |
//! | `["null", T]` and any other union | the branch's value (`Null` for the null branch) |
//! | array / map | `Array` / `Map` with string keys, sorted |
//! | enum | `String` (the symbol) |
//! | bytes / fixed | `Bytes` |
//! | int / long / float / double | `Int32` / `Int64` / `Float32` / `Float64` |
//! | timestamp-{millis,micros,nanos}, local-timestamp-* | `Timestamp` (µs; local ones read as UTC) |
//! | date | `Date` (days) |
//! | time-millis / time-micros | `Time` (µs) |
//! | uuid | `Uuid` |
//! | decimal / big-decimal | `Decimal { unscaled, scale }` |
//! | duration | `String` such as `1mo2d3004ms` (the duration codec reads it) |

use apache_avro::schema::NamesRef;
use apache_avro::types::Value as Avro;
use apache_avro::Schema;
use cassink_record::Value;

/// Converts a datum decoded with `schema` (named types looked up in `names`).
pub fn to_value(datum: &Avro, schema: &Schema, names: &NamesRef<'_>) -> Result<Value, String> {
    let schema = resolve(schema, names)?;
    Ok(match datum {
        Avro::Null => Value::Null,
        Avro::Boolean(b) => Value::Boolean(*b),
        Avro::Int(i) => Value::Int32(*i),
        Avro::Long(i) => Value::Int64(*i),
        Avro::Float(f) => Value::Float32(*f),
        Avro::Double(f) => Value::Float64(*f),
        Avro::String(s) => Value::String(s.clone()),
        Avro::Bytes(b) | Avro::Fixed(_, b) => Value::Bytes(b.clone().into()),
        Avro::Enum(_, symbol) => Value::String(symbol.clone()),
        Avro::Union(index, inner) => {
            let branch = match schema {
                Schema::Union(u) => usize::try_from(*index)
                    .ok()
                    .and_then(|i| u.variants().get(i)),
                _ => None,
            }
            .ok_or_else(|| format!("union branch {index} is not in the schema"))?;
            to_value(inner, branch, names)?
        }
        Avro::Array(items) => {
            let item_schema = match schema {
                Schema::Array(a) => &*a.items,
                other => return Err(mismatch("array", other)),
            };
            Value::Array(
                items
                    .iter()
                    .map(|item| to_value(item, item_schema, names))
                    .collect::<Result<_, _>>()?,
            )
        }
        Avro::Map(entries) => {
            let value_schema = match schema {
                Schema::Map(m) => &*m.types,
                other => return Err(mismatch("map", other)),
            };
            let mut out = entries
                .iter()
                .map(|(k, v)| Ok((Value::String(k.clone()), to_value(v, value_schema, names)?)))
                .collect::<Result<Vec<_>, String>>()?;
            out.sort_by(|(a, _), (b, _)| match (a, b) {
                (Value::String(a), Value::String(b)) => a.cmp(b),
                _ => std::cmp::Ordering::Equal,
            });
            Value::Map(out)
        }
        Avro::Record(fields) => {
            let record = match schema {
                Schema::Record(r) => r,
                other => return Err(mismatch("record", other)),
            };
            let mut out = Vec::with_capacity(fields.len());
            for (name, v) in fields {
                let field_schema = record
                    .lookup
                    .get(name)
                    .and_then(|i| record.fields.get(*i))
                    .map(|f| &f.schema)
                    .ok_or_else(|| format!("field {name} is not in record {}", record.name))?;
                let converted =
                    to_value(v, field_schema, names).map_err(|e| format!("field {name}: {e}"))?;
                out.push((name.clone(), converted));
            }
            Value::Struct(out)
        }
        Avro::Date(days) => Value::Date(*days),
        Avro::TimeMillis(ms) => Value::Time(i64::from(*ms) * 1000),
        Avro::TimeMicros(us) => Value::Time(*us),
        Avro::TimestampMillis(ms) | Avro::LocalTimestampMillis(ms) => Value::Timestamp(
            ms.checked_mul(1000)
                .ok_or_else(|| format!("timestamp {ms} ms is out of range"))?,
        ),
        Avro::TimestampMicros(us) | Avro::LocalTimestampMicros(us) => Value::Timestamp(*us),
        Avro::TimestampNanos(ns) | Avro::LocalTimestampNanos(ns) => {
            Value::Timestamp(ns.div_euclid(1000))
        }
        Avro::Uuid(u) => Value::Uuid(*u),
        Avro::Decimal(d) => {
            let scale = match schema {
                Schema::Decimal(ds) => ds.scale,
                other => return Err(mismatch("decimal", other)),
            };
            Value::Decimal {
                unscaled: Vec::<u8>::try_from(d).map_err(|e| e.to_string())?,
                scale: i32::try_from(scale).map_err(|_| format!("decimal scale {scale}"))?,
            }
        }
        Avro::BigDecimal(d) => {
            let (unscaled, exponent) = d.as_bigint_and_exponent();
            Value::Decimal {
                unscaled: unscaled.to_signed_bytes_be(),
                scale: i32::try_from(exponent)
                    .map_err(|_| format!("big-decimal scale {exponent} is out of range"))?,
            }
        }
        Avro::Duration(d) => Value::String(duration_text(
            u32::from(d.months()),
            u32::from(d.days()),
            u32::from(d.millis()),
        )),
    })
}

/// Follows named references to the schema they name.
fn resolve<'a>(schema: &'a Schema, names: &'a NamesRef<'_>) -> Result<&'a Schema, String> {
    let mut current = schema;
    // A chain of references to references is not valid Avro; one hop is all there is.
    for _ in 0..8 {
        match current {
            Schema::Ref { name } => {
                current = names
                    .get(name)
                    .copied()
                    .ok_or_else(|| format!("named type {name} is not defined"))?;
            }
            other => return Ok(other),
        }
    }
    Err("too many nested type references".into())
}

fn mismatch(kind: &str, schema: &Schema) -> String {
    let name = serde_json::to_string(schema).unwrap_or_default();
    let short: String = name.chars().take(80).collect();
    format!("an Avro {kind} does not match its schema {short}")
}

/// An Avro duration as text the Cassandra duration codec reads: `1mo2d3004ms`.
fn duration_text(months: u32, days: u32, millis: u32) -> String {
    let mut out = String::new();
    if months > 0 {
        out.push_str(&format!("{months}mo"));
    }
    if days > 0 {
        out.push_str(&format!("{days}d"));
    }
    if millis > 0 || out.is_empty() {
        out.push_str(&format!("{millis}ms"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use apache_avro::schema::ResolvedSchema;

    fn convert(schema: &str, datum: Avro) -> Result<Value, String> {
        let schema = Schema::parse_str(schema).map_err(|e| e.to_string())?;
        let resolved = ResolvedSchema::try_from(&schema).map_err(|e| e.to_string())?;
        let datum = datum
            .resolve(&schema)
            .map_err(|e| format!("test datum: {e}"))?;
        to_value(&datum, &schema, resolved.get_names())
    }

    #[test]
    fn logical_types_map_to_connect_values() {
        let ts = r#"{"type":"long","logicalType":"timestamp-millis"}"#;
        assert_eq!(
            convert(ts, Avro::Long(1_612_891_980_123)),
            Ok(Value::Timestamp(1_612_891_980_123_000))
        );
        let ts = r#"{"type":"long","logicalType":"local-timestamp-micros"}"#;
        assert_eq!(convert(ts, Avro::Long(5)), Ok(Value::Timestamp(5)));
        let t = r#"{"type":"int","logicalType":"time-millis"}"#;
        assert_eq!(convert(t, Avro::Int(1500)), Ok(Value::Time(1_500_000)));
        let d = r#"{"type":"int","logicalType":"date"}"#;
        assert_eq!(convert(d, Avro::Int(19000)), Ok(Value::Date(19000)));
        let u = r#"{"type":"string","logicalType":"uuid"}"#;
        let id = uuid::Uuid::from_u128(7);
        assert_eq!(
            convert(u, Avro::String(id.to_string())),
            Ok(Value::Uuid(id))
        );
        let dec = r#"{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}"#;
        assert_eq!(
            convert(dec, Avro::Decimal(vec![0x30, 0x39].into())),
            Ok(Value::Decimal {
                unscaled: vec![0x30, 0x39],
                scale: 2
            })
        );
        let dur = r#"{"type":"fixed","name":"d","size":12,"logicalType":"duration"}"#;
        let value = Avro::Duration(apache_avro::Duration::new(
            apache_avro::Months::new(1),
            apache_avro::Days::new(2),
            apache_avro::Millis::new(3004),
        ));
        assert_eq!(convert(dur, value), Ok(Value::String("1mo2d3004ms".into())));
    }

    #[test]
    fn containers_unions_and_named_types() {
        let schema = r#"{"type":"record","name":"R","namespace":"n","fields":[
            {"name":"opt","type":["null","string"],"default":null},
            {"name":"either","type":["int","string"]},
            {"name":"color","type":{"type":"enum","name":"Color","symbols":["RED","GREEN"]}},
            {"name":"again","type":"Color"},
            {"name":"tags","type":{"type":"map","values":"long"}},
            {"name":"harm","type":{"type":"array","items":"int"}},
            {"name":"raw","type":{"type":"fixed","name":"F","size":2}}
        ]}"#;
        let datum = Avro::Record(vec![
            ("opt".into(), Avro::Union(0, Box::new(Avro::Null))),
            (
                "either".into(),
                Avro::Union(1, Box::new(Avro::String("x".into()))),
            ),
            ("color".into(), Avro::Enum(1, "GREEN".into())),
            ("again".into(), Avro::Enum(0, "RED".into())),
            (
                "tags".into(),
                Avro::Map(
                    [
                        ("b".to_string(), Avro::Long(2)),
                        ("a".to_string(), Avro::Long(1)),
                    ]
                    .into(),
                ),
            ),
            ("harm".into(), Avro::Array(vec![Avro::Int(1), Avro::Int(2)])),
            ("raw".into(), Avro::Fixed(2, vec![1, 2])),
        ]);
        let got = convert(schema, datum).unwrap();
        assert_eq!(
            got,
            Value::Struct(vec![
                ("opt".into(), Value::Null),
                ("either".into(), Value::String("x".into())),
                ("color".into(), Value::String("GREEN".into())),
                ("again".into(), Value::String("RED".into())),
                (
                    "tags".into(),
                    Value::Map(vec![
                        (Value::String("a".into()), Value::Int64(1)),
                        (Value::String("b".into()), Value::Int64(2)),
                    ])
                ),
                (
                    "harm".into(),
                    Value::Array(vec![Value::Int32(1), Value::Int32(2)])
                ),
                ("raw".into(), Value::Bytes(vec![1u8, 2].into())),
            ])
        );
    }
}
