//! A decoded Protobuf message -> [`Value`], with the mapping of Confluent's `ProtobufData`
//! (`toConnectData`) under its default settings, and the settings that change values:
//!
//! * int32/sint32/sfixed32 -> INT32; uint32/fixed32 -> INT64 (unsigned); int64, sint64,
//!   sfixed64, uint64, fixed64 -> INT64 (uint64 above 2^63 wraps, as in Java); float, double,
//!   bool, string, bytes as themselves.
//! * enums -> the value's name (`int.for.enums=true`: its number); a number the enum does not
//!   declare -> `UNKNOWN_ENUM_VALUE_<Enum>_<n>`, as protobuf-java names it.
//! * messages -> structs with the fields as named in the `.proto`; `repeated` -> arrays; `map`
//!   -> maps. A `oneof` becomes one struct field `<oneof>_<index>` (`generate.index.for.unions`,
//!   default true; false: `<oneof>`) holding a struct where only the member that is set has a
//!   value, placed before the other fields (`flatten.unions=true`: the members inline).
//! * presence: a scalar without presence that is not set reads as its default (0, "", false);
//!   an unset message field or `optional` scalar is null (`generate.struct.for.nulls=true`:
//!   an unset message other than the logical types below is its default instance).
//! * `google.protobuf.Timestamp` -> Timestamp (milliseconds, as `Timestamps.toMillis`),
//!   `google.type.Date` -> Date, `google.type.TimeOfDay` -> Time (milliseconds),
//!   `confluent.type.Decimal` -> Decimal. Wrappers (`google.protobuf.Int32Value`, ...) stay
//!   structs with a `value` field unless `wrapper.for.nullables=true`; a top-level wrapper
//!   message is unwrapped (`wrapper.for.raw.primitives`, default true).

use cassink_record::Value;
use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, ReflectMessage,
    Value as Proto,
};

/// The `ProtobufData` settings that change what a message reads as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    pub int_for_enums: bool,
    pub wrapper_for_nullables: bool,
    pub wrapper_for_raw_primitives: bool,
    pub generate_index_for_unions: bool,
    pub flatten_unions: bool,
    pub generate_struct_for_nulls: bool,
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping {
            int_for_enums: false,
            wrapper_for_nullables: false,
            wrapper_for_raw_primitives: true,
            generate_index_for_unions: true,
            flatten_unions: false,
            generate_struct_for_nulls: false,
        }
    }
}

const WRAPPERS: &[&str] = &[
    "google.protobuf.DoubleValue",
    "google.protobuf.FloatValue",
    "google.protobuf.Int64Value",
    "google.protobuf.UInt64Value",
    "google.protobuf.Int32Value",
    "google.protobuf.UInt32Value",
    "google.protobuf.BoolValue",
    "google.protobuf.StringValue",
    "google.protobuf.BytesValue",
];

/// Messages read as Connect logical types rather than structs.
fn is_logical(message: &MessageDescriptor) -> bool {
    matches!(
        message.full_name(),
        "google.protobuf.Timestamp"
            | "google.type.Date"
            | "google.type.TimeOfDay"
            | "confluent.type.Decimal"
    )
}

fn is_wrapper(message: &MessageDescriptor) -> bool {
    WRAPPERS.contains(&message.full_name())
}

impl Mapping {
    /// The record value of a top-level message.
    pub fn top_level(&self, message: &DynamicMessage) -> Result<Value, String> {
        let descriptor = message.descriptor();
        if self.wrapper_for_raw_primitives && is_wrapper(&descriptor) {
            return self.unwrap(message);
        }
        self.message(message)
    }

    fn unwrap(&self, message: &DynamicMessage) -> Result<Value, String> {
        let descriptor = message.descriptor();
        let field = descriptor
            .get_field_by_name("value")
            .ok_or_else(|| format!("wrapper {} has no value field", descriptor.full_name()))?;
        self.single(&field, &message.get_field(&field))
    }

    fn message(&self, message: &DynamicMessage) -> Result<Value, String> {
        let descriptor = message.descriptor();
        match descriptor.full_name() {
            "google.protobuf.Timestamp" => {
                let (seconds, nanos) = (int64(message, "seconds"), int32(message, "nanos"));
                let millis = seconds
                    .checked_mul(1000)
                    .and_then(|ms| ms.checked_add(i64::from(nanos) / 1_000_000))
                    .and_then(|ms| ms.checked_mul(1000))
                    .ok_or_else(|| format!("timestamp {seconds}s is out of range"))?;
                return Ok(Value::Timestamp(millis));
            }
            "google.type.Date" => {
                let (y, m, d) = (
                    int32(message, "year"),
                    int32(message, "month"),
                    int32(message, "day"),
                );
                let date = u32::try_from(m)
                    .ok()
                    .zip(u32::try_from(d).ok())
                    .and_then(|(m, d)| chrono::NaiveDate::from_ymd_opt(y, m, d))
                    .ok_or_else(|| format!("google.type.Date {y}-{m}-{d} is not a date"))?;
                let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
                let days = i32::try_from((date - epoch).num_days())
                    .map_err(|_| format!("google.type.Date {y}-{m}-{d} is out of range"))?;
                return Ok(Value::Date(days));
            }
            "google.type.TimeOfDay" => {
                let millis = i64::from(int32(message, "hours")) * 3_600_000
                    + i64::from(int32(message, "minutes")) * 60_000
                    + i64::from(int32(message, "seconds")) * 1000
                    + i64::from(int32(message, "nanos")) / 1_000_000;
                return Ok(Value::Time(millis * 1000));
            }
            "confluent.type.Decimal" => {
                let unscaled = match message.get_field_by_name("value").as_deref() {
                    Some(Proto::Bytes(b)) => b.to_vec(),
                    _ => Vec::new(),
                };
                let unscaled = if unscaled.is_empty() {
                    vec![0]
                } else {
                    unscaled
                };
                return Ok(Value::Decimal {
                    unscaled,
                    scale: int32(message, "scale"),
                });
            }
            _ => {}
        }
        let mut fields = Vec::with_capacity(descriptor.fields().len());
        // Real oneofs first, as ProtobufData builds the struct.
        // The index is the oneof's position in its message (Java's `getIndex`).
        for (index, oneof) in descriptor.oneofs().enumerate() {
            if oneof.is_synthetic() {
                continue;
            }
            let set = oneof.fields().find(|f| message.has_field(f));
            if self.flatten_unions {
                for member in oneof.fields() {
                    let value = match &set {
                        Some(f) if f.number() == member.number() => self.field(message, &member)?,
                        _ => Value::Null,
                    };
                    fields.push((member.name().to_string(), value));
                }
                continue;
            }
            let value = match &set {
                None => Value::Null,
                Some(set) => {
                    let mut members = Vec::new();
                    for member in oneof.fields() {
                        let value = if member.number() == set.number() {
                            self.field(message, &member)?
                        } else {
                            Value::Null
                        };
                        members.push((member.name().to_string(), value));
                    }
                    Value::Struct(members)
                }
            };
            let name = if self.generate_index_for_unions {
                format!("{}_{index}", oneof.name())
            } else {
                oneof.name().to_string()
            };
            fields.push((name, value));
        }
        for field in descriptor.fields() {
            if field.containing_oneof().is_some_and(|o| !o.is_synthetic()) {
                continue;
            }
            fields.push((field.name().to_string(), self.field(message, &field)?));
        }
        Ok(Value::Struct(fields))
    }

    /// A field of `message`, honouring presence.
    fn field(&self, message: &DynamicMessage, field: &FieldDescriptor) -> Result<Value, String> {
        if field.is_list() || field.is_map() {
            return self.single(field, &message.get_field(field));
        }
        let is_message = matches!(field.kind(), Kind::Message(_));
        if field.supports_presence() && !message.has_field(field) {
            let logical = match field.kind() {
                Kind::Message(m) => is_logical(&m),
                _ => false,
            };
            if is_message && self.generate_struct_for_nulls && !logical {
                return self.single(field, &message.get_field(field));
            }
            return Ok(Value::Null);
        }
        self.single(field, &message.get_field(field))
    }

    fn single(&self, field: &FieldDescriptor, value: &Proto) -> Result<Value, String> {
        Ok(match value {
            Proto::Bool(b) => Value::Boolean(*b),
            Proto::I32(i) => Value::Int32(*i),
            Proto::I64(i) => Value::Int64(*i),
            Proto::U32(u) => Value::Int64(i64::from(*u)),
            // Java has no unsigned long: values above 2^63 read as negative, as in Connect.
            Proto::U64(u) => Value::Int64(*u as i64),
            Proto::F32(f) => Value::Float32(*f),
            Proto::F64(f) => Value::Float64(*f),
            Proto::String(s) => Value::String(s.clone()),
            Proto::Bytes(b) => Value::Bytes(b.clone()),
            Proto::EnumNumber(n) => self.enumeration(field, *n),
            Proto::Message(m) => {
                if self.wrapper_for_nullables && is_wrapper(&m.descriptor()) {
                    self.unwrap(m)?
                } else {
                    self.message(m)?
                }
            }
            Proto::List(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.single(field, item))
                    .collect::<Result<_, _>>()?,
            ),
            Proto::Map(entries) => {
                let value_field = match field.kind() {
                    Kind::Message(entry) => entry.map_entry_value_field(),
                    _ => return Err(format!("map field {} has no entry type", field.name())),
                };
                let mut pairs = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    pairs.push((map_key(key), self.single(&value_field, value)?));
                }
                Value::Map(pairs)
            }
        })
    }

    fn enumeration(&self, field: &FieldDescriptor, number: i32) -> Value {
        if self.int_for_enums {
            return Value::Int32(number);
        }
        match field.kind() {
            Kind::Enum(e) => match e.get_value(number) {
                Some(v) => Value::String(v.name().to_string()),
                None => Value::String(format!("UNKNOWN_ENUM_VALUE_{}_{number}", e.name())),
            },
            _ => Value::Int32(number),
        }
    }
}

fn map_key(key: &MapKey) -> Value {
    match key {
        MapKey::Bool(b) => Value::Boolean(*b),
        MapKey::I32(i) => Value::Int32(*i),
        MapKey::I64(i) => Value::Int64(*i),
        MapKey::U32(u) => Value::Int64(i64::from(*u)),
        MapKey::U64(u) => Value::Int64(*u as i64),
        MapKey::String(s) => Value::String(s.clone()),
    }
}

fn int64(message: &DynamicMessage, name: &str) -> i64 {
    match message.get_field_by_name(name).as_deref() {
        Some(Proto::I64(i)) => *i,
        _ => 0,
    }
}

fn int32(message: &DynamicMessage, name: &str) -> i32 {
    match message.get_field_by_name(name).as_deref() {
        Some(Proto::I32(i)) => *i,
        _ => 0,
    }
}
