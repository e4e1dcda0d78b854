//! The config definitions of the transforms and predicates, as
//! `GET /connector-plugins/{plugin}/config` gives them (Connect's key names, types, defaults
//! and documentation).

use super::{split_class, PACKAGE};
use cassink_config::{ConfigDef, ConfigKey, ConfigType::*};

const FIELD_SYNTAX: ConfigKey = ConfigKey::new(
    "field.syntax.version",
    String,
    "How field names are read: V1 (the whole name is one top-level field; V2 is refused).",
)
.default("V1")
.allowed(&["V1", "V2"]);

fn keys(name: &str) -> Option<Vec<ConfigKey>> {
    Some(match name {
        "InsertField" => vec![
            ConfigKey::new("topic.field", String, "Field name for the Kafka topic. Suffix with ! to make it required, ? optional (the default)."),
            ConfigKey::new("partition.field", String, "Field name for the Kafka partition."),
            ConfigKey::new("offset.field", String, "Field name for the Kafka offset."),
            ConfigKey::new("timestamp.field", String, "Field name for the record timestamp."),
            ConfigKey::new("static.field", String, "Field name for a static data field."),
            ConfigKey::new("static.value", String, "Static field value, if a field name is configured."),
        ],
        "ReplaceField" => vec![
            ConfigKey::new("exclude", List, "Fields to exclude. This takes precedence over the fields to include.").default(""),
            ConfigKey::new("include", List, "Fields to include. If specified, only these fields will be used.").default(""),
            ConfigKey::new("renames", List, "Field rename mappings, as comma-separated old:new pairs.").default(""),
            FIELD_SYNTAX,
        ],
        "ExtractField" => vec![
            ConfigKey::new("field", String, "Field name to extract.").required(),
            FIELD_SYNTAX,
        ],
        "HoistField" => vec![ConfigKey::new("field", String, "Field name for the single field that will be created in the resulting Struct or Map.").required()],
        "ValueToKey" => vec![
            ConfigKey::new("fields", List, "Field names on the record value to extract as the record key.").required(),
            FIELD_SYNTAX,
        ],
        "MaskField" => vec![
            ConfigKey::new("fields", List, "Names of fields to mask.").required(),
            ConfigKey::new("replacement", String, "Custom value replacement, applied to all fields of number or string type."),
            FIELD_SYNTAX,
        ],
        "Flatten" => vec![ConfigKey::new("delimiter", String, "Delimiter to insert between field names from the input record when generating field names for the output record.").default(".")],
        "Cast" => vec![
            ConfigKey::new("spec", List, "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string.").required(),
            FIELD_SYNTAX,
        ],
        "SetSchemaMetadata" => vec![
            ConfigKey::new("schema.name", String, "Schema name to set."),
            ConfigKey::new("schema.version", Int, "Schema version to set."),
        ],
        "TimestampConverter" => vec![
            ConfigKey::new("target.type", String, "The desired timestamp representation: string, unix, Date, Time, or Timestamp.").required().allowed(&["string", "unix", "Date", "Time", "Timestamp"]),
            ConfigKey::new("field", String, "The field containing the timestamp, or empty if the entire value is a timestamp.").default(""),
            ConfigKey::new("format", String, "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string.").default(""),
            ConfigKey::new("unix.precision", String, "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds.").default("milliseconds").allowed(&["seconds", "milliseconds", "microseconds", "nanoseconds"]),
            FIELD_SYNTAX,
        ],
        "HeaderFrom" => vec![
            ConfigKey::new("fields", List, "Field names in the record whose values are to be copied or moved to headers.").required(),
            ConfigKey::new("headers", List, "Header names, in the same order as the field names listed in the fields configuration property.").required(),
            ConfigKey::new("operation", String, "Either move if the fields are to be moved to the headers (removed from the key/value), or copy if the fields are to be copied to the headers (retained in the key/value).").required().allowed(&["move", "copy"]),
            FIELD_SYNTAX,
        ],
        "InsertHeader" => vec![
            ConfigKey::new("header", String, "The name of the header.").required(),
            ConfigKey::new("value.literal", String, "The literal value that is to be set as the header value on all records.").required(),
        ],
        "DropHeaders" => vec![ConfigKey::new("headers", List, "The name of the headers to be removed.").required()],
        "RegexRouter" => vec![
            ConfigKey::new("regex", String, "Regular expression to use for matching.").required(),
            ConfigKey::new("replacement", String, "Replacement string.").required(),
        ],
        "TimestampRouter" => vec![
            ConfigKey::new("topic.format", String, "Format string which can contain ${topic} and ${timestamp} as placeholders for the topic and timestamp, respectively.").default("${topic}-${timestamp}"),
            ConfigKey::new("timestamp.format", String, "Format string for the timestamp that is compatible with java.text.SimpleDateFormat.").default("yyyyMMdd"),
        ],
        "Filter" => vec![],
        "predicates.TopicNameMatches" => vec![ConfigKey::new("pattern", String, "A Java regular expression for matching against the name of a record's topic.").required()],
        "predicates.HasHeaderKey" => vec![ConfigKey::new("name", String, "The header name.").required()],
        "predicates.RecordIsTombstone" => vec![],
        _ => return None,
    })
}

/// The definition of a transform or predicate class (full name, `$Key`/`$Value` variant, or
/// the short name), or `None` when it is not one.
pub fn config_def(class: &str) -> Option<ConfigDef> {
    if class == super::debezium::CLASS || class == "ExtractNewRecordState" {
        return Some(ConfigDef::new(vec![
            ConfigKey::new("delete.tombstone.handling.mode", String, "How delete events and the tombstones after them are handled: drop, tombstone, delete-to-tombstone, rewrite, rewrite-with-tombstone.").default("tombstone").allowed(&["drop", "tombstone", "delete-to-tombstone", "rewrite", "rewrite-with-tombstone"]),
            ConfigKey::new("add.fields", List, "Envelope or source fields to add to the row, e.g. op,table,source.ts_ms.").default(""),
            ConfigKey::new("add.fields.prefix", String, "Prefix of the added fields.").default("__"),
            ConfigKey::new("add.headers", List, "Envelope or source fields to add as headers.").default(""),
            ConfigKey::new("add.headers.prefix", String, "Prefix of the added headers.").default("__"),
            ConfigKey::new("route.by.field", String, "A field of the row state whose value becomes the record's topic.").default(""),
        ]));
    }
    let short = class.strip_prefix(PACKAGE).unwrap_or(class);
    if let Some(predicate) = short.strip_prefix("predicates.") {
        return keys(&format!("predicates.{predicate}")).map(ConfigDef::new);
    }
    if let Some(found) = keys(&format!("predicates.{short}")) {
        return Some(ConfigDef::new(found));
    }
    let (name, _) = split_class(short);
    keys(name).map(ConfigDef::new)
}
