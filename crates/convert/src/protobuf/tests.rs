//! The mapping of decoded messages and the wire-format errors, with schemas given up front
//! (the registry path is tested end to end against the real registry).

use super::*;
use proptest::prelude::*;
use prost_reflect::prost::Message;
use prost_reflect::{Kind, ReflectMessage, Value as Proto};

const SCHEMA: &str = r#"
    syntax = "proto3";
    package t;
    import "google/protobuf/timestamp.proto";
    import "google/protobuf/wrappers.proto";
    import "google/type/date.proto";
    enum Phase { PHASE_UNKNOWN = 0; L1 = 1; L2 = 2; }
    message Reading {
      string meter_id = 1;
      int32 i32 = 2;
      uint32 u32 = 3;
      sint64 s64 = 4;
      uint64 u64 = 5;
      double kwh = 6;
      float volts = 7;
      bool ok = 8;
      bytes raw = 9;
      Phase phase = 10;
      google.protobuf.Timestamp at = 11;
      google.type.Date day = 12;
      google.protobuf.StringValue note = 13;
      map<string, int32> counts = 14;
      repeated string tags = 15;
      optional int32 maybe = 16;
      Inner inner = 17;
      oneof source { string manual = 18; int32 sensor = 19; }
      message Inner { int32 x = 1; }
    }
    message Other { int32 y = 1; }
"#;

fn schema() -> CompiledSchema {
    CompiledSchema::compile(SCHEMA, HashMap::new()).expect("schema")
}

fn converter(mapping: Mapping) -> ProtobufConverter {
    ProtobufConverter::with_schemas(Part::Value, mapping, [(SchemaRef::Id(7), SCHEMA.into())])
        .expect("converter")
}

/// A `t.Reading` with some fields set, framed as id 7, indexes `[0]`.
fn framed(set: impl FnOnce(&mut DynamicMessage)) -> Vec<u8> {
    let descriptor = schema().message(&[0]).expect("Reading").clone();
    let mut message = DynamicMessage::new(descriptor);
    set(&mut message);
    let mut out = vec![0, 0, 0, 0, 7, 0];
    out.extend(message.encode_to_vec());
    out
}

fn decode(c: &ProtobufConverter, data: &[u8]) -> Result<Value, RegistryError> {
    futures::executor::block_on(c.decode(&[], Some(data))).map(|v| v.expect("not null"))
}

fn field<'a>(v: &'a Value, name: &str) -> &'a Value {
    v.field(name)
        .unwrap_or_else(|| panic!("no field {name} in {v:?}"))
}

#[test]
fn maps_scalars_enums_and_well_known_types_as_protobuf_data() {
    let data = framed(|m| {
        m.set_field_by_name("meter_id", Proto::String("m-1".into()));
        m.set_field_by_name("i32", Proto::I32(-5));
        m.set_field_by_name("u32", Proto::U32(u32::MAX));
        m.set_field_by_name("s64", Proto::I64(-9));
        m.set_field_by_name("kwh", Proto::F64(1.25));
        m.set_field_by_name("phase", Proto::EnumNumber(2));
        let at = m.descriptor().get_field_by_name("at").unwrap();
        let Kind::Message(ts) = at.kind() else {
            unreachable!()
        };
        let mut t = DynamicMessage::new(ts);
        t.set_field_by_name("seconds", Proto::I64(1_700_000_000));
        t.set_field_by_name("nanos", Proto::I32(123_456_789));
        m.set_field_by_name("at", Proto::Message(t));
        let day = m.descriptor().get_field_by_name("day").unwrap();
        let Kind::Message(date) = day.kind() else {
            unreachable!()
        };
        let mut d = DynamicMessage::new(date);
        d.set_field_by_name("year", Proto::I32(1970));
        d.set_field_by_name("month", Proto::I32(1));
        d.set_field_by_name("day", Proto::I32(11));
        m.set_field_by_name("day", Proto::Message(d));
        m.set_field_by_name("sensor", Proto::I32(3));
    });
    let v = decode(&converter(Mapping::default()), &data).unwrap();
    assert_eq!(field(&v, "meter_id"), &Value::String("m-1".into()));
    assert_eq!(field(&v, "i32"), &Value::Int32(-5));
    assert_eq!(field(&v, "u32"), &Value::Int64(i64::from(u32::MAX)));
    assert_eq!(field(&v, "s64"), &Value::Int64(-9));
    assert_eq!(field(&v, "kwh"), &Value::Float64(1.25));
    assert_eq!(field(&v, "phase"), &Value::String("L2".into()));
    // Milliseconds, as Timestamps.toMillis: the sub-millisecond nanos are dropped.
    assert_eq!(field(&v, "at"), &Value::Timestamp(1_700_000_000_123 * 1000));
    assert_eq!(field(&v, "day"), &Value::Date(10));
    // Unset scalars read as their defaults; unset messages and `optional` scalars as null.
    assert_eq!(field(&v, "ok"), &Value::Boolean(false));
    assert_eq!(field(&v, "volts"), &Value::Float32(0.0));
    assert_eq!(field(&v, "maybe"), &Value::Null);
    assert_eq!(field(&v, "inner"), &Value::Null);
    assert_eq!(field(&v, "note"), &Value::Null);
    assert_eq!(field(&v, "tags"), &Value::Array(vec![]));
    // The oneof comes first, named `<oneof>_<index>`, with only its set member.
    let Value::Struct(fields) = &v else {
        panic!("{v:?}")
    };
    assert_eq!(fields[0].0, "source_0");
    assert_eq!(
        fields[0].1,
        Value::Struct(vec![
            ("manual".into(), Value::Null),
            ("sensor".into(), Value::Int32(3))
        ])
    );
}

#[test]
fn settings_change_enums_unions_and_wrappers() {
    let data = framed(|m| {
        m.set_field_by_name("phase", Proto::EnumNumber(9));
        m.set_field_by_name("manual", Proto::String("hand".into()));
        let note = m.descriptor().get_field_by_name("note").unwrap();
        let Kind::Message(wrapper) = note.kind() else {
            unreachable!()
        };
        let mut w = DynamicMessage::new(wrapper);
        w.set_field_by_name("value", Proto::String("hi".into()));
        m.set_field_by_name("note", Proto::Message(w));
    });
    let v = decode(&converter(Mapping::default()), &data).unwrap();
    assert_eq!(
        field(&v, "phase"),
        &Value::String("UNKNOWN_ENUM_VALUE_Phase_9".into())
    );
    assert_eq!(
        field(&v, "note"),
        &Value::Struct(vec![("value".into(), Value::String("hi".into()))])
    );
    let mapping = Mapping {
        int_for_enums: true,
        wrapper_for_nullables: true,
        flatten_unions: true,
        generate_struct_for_nulls: true,
        ..Mapping::default()
    };
    let v = decode(&converter(mapping), &data).unwrap();
    assert_eq!(field(&v, "phase"), &Value::Int32(9));
    assert_eq!(field(&v, "note"), &Value::String("hi".into()));
    assert_eq!(field(&v, "manual"), &Value::String("hand".into()));
    assert_eq!(field(&v, "sensor"), &Value::Null);
    assert!(v.field("source_0").is_none());
    assert_eq!(
        field(&v, "inner"),
        &Value::Struct(vec![("x".into(), Value::Int32(0))])
    );
}

#[test]
fn message_indexes_pick_nested_and_later_messages() {
    let c = converter(Mapping::default());
    let other = schema().message(&[1]).unwrap().clone();
    let mut m = DynamicMessage::new(other);
    m.set_field_by_name("y", Proto::I32(4));
    // count 1, index 1 (zigzag: 2, 2)
    let mut data = vec![0, 0, 0, 0, 7, 2, 2];
    data.extend(m.encode_to_vec());
    let v = decode(&c, &data).unwrap();
    assert_eq!(v, Value::Struct(vec![("y".into(), Value::Int32(4))]));
    // [0, 0] is Reading.Inner
    let data = [0, 0, 0, 0, 7, 4, 0, 0, 8, 3];
    assert_eq!(
        decode(&c, &data).unwrap(),
        Value::Struct(vec![("x".into(), Value::Int32(3))])
    );
}

#[test]
fn bad_payloads_are_permanent_errors_that_say_what_is_wrong() {
    let c = converter(Mapping::default());
    let e = decode(&c, &[0, 0, 0, 0, 7, 2, 8]).unwrap_err();
    assert!(matches!(e, RegistryError::BadMessageIndex { .. }), "{e}");
    assert!(e.to_string().contains("[4]"), "{e}");
    assert!(e.to_string().contains("t.Reading, t.Other"), "{e}");
    let e = decode(&c, &[1, 0, 0, 0, 7, 0]).unwrap_err();
    assert!(matches!(e, RegistryError::WrongMagic { byte: 1 }), "{e}");
    let e = decode(&c, &[0, 0, 0]).unwrap_err();
    assert!(matches!(e, RegistryError::Truncated { .. }), "{e}");
    let e = decode(&c, &[0, 0, 0, 0, 7, 0, 0x0a, 0x05, b'a']).unwrap_err();
    assert!(matches!(e, RegistryError::Decode { .. }), "{e}");
    assert!(e.to_string().contains("t.Reading"), "{e}");
    let e = decode(&c, &[0, 0, 0, 0, 8, 0]).unwrap_err();
    assert!(matches!(e, RegistryError::UnknownSchema { .. }), "{e}");
    assert!(!e.is_retriable());
    let e = decode(&c, &[0, 0, 0, 0, 7, 0x80]).unwrap_err();
    assert!(matches!(e, RegistryError::BadMessageIndex { .. }), "{e}");
}

#[test]
fn a_header_carries_the_id_and_indexes() {
    let c = converter(Mapping::default());
    let header = Bytes::from_static(&[0, 0, 0, 0, 7, 2, 2]);
    let headers = [("__value_schema_id".to_string(), Some(header))];
    let v = futures::executor::block_on(c.decode(&headers, Some(&[8, 5])))
        .unwrap()
        .unwrap();
    assert_eq!(v, Value::Struct(vec![("y".into(), Value::Int32(5))]));
}

proptest! {
    #[test]
    fn never_panics_on_any_payload(tail in proptest::collection::vec(any::<u8>(), 0..64)) {
        let c = converter(Mapping::default());
        let mut data = vec![0, 0, 0, 0, 7];
        data.extend(tail);
        let _ = decode(&c, &data);
    }
}
