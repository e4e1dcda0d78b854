//! A registered Protobuf schema made ready to decode with: its `.proto` text and the schemas it
//! references compiled by `protox` into descriptors, and the table from Confluent message
//! indexes to message descriptors. A schema text that is not `.proto` syntax but base64 of a
//! serialized `FileDescriptorProto` (what confluent-kafka-python registers, and what a registry
//! may hand back as it was given) is read as that descriptor, as Confluent's
//! `ProtobufSchema` does.
//!
//! Imports a registry schema may use without registering them as references: the
//! `google/protobuf/*` well-known types (shipped by `protox`) and the small set Confluent's
//! serializers treat as built in (`google/type/date.proto`, `google/type/timeofday.proto`,
//! `confluent/meta.proto`, `confluent/type/decimal.proto`), given here as `.proto` text.

use prost_reflect::{prost, prost_types, DescriptorPool, FileDescriptor, MessageDescriptor};
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};
use std::collections::HashMap;

/// The name the root schema is compiled under; the registry names only referenced schemas.
const ROOT_FILE: &str = "__cassink_registry_root__.proto";

/// The compiled schema of one schema id.
#[derive(Debug)]
pub struct CompiledSchema {
    /// Message index path -> message, as Confluent numbers them: the position among the
    /// messages declared at each nesting level.
    messages: HashMap<Vec<i32>, MessageDescriptor>,
}

impl CompiledSchema {
    /// Compiles `root` (`.proto` text) with `references` (import name -> `.proto` text).
    pub fn compile(root: &str, references: HashMap<String, String>) -> Result<Self, String> {
        // Confluent counts the map entry messages a descriptor lists among its nested types
        // (and confluent-kafka-python's indexes do), but not in `.proto` text, where they are
        // not declared.
        let count_map_entries = File::from_source(ROOT_FILE, root).is_err();
        let file = compile_file(root, references)?;
        let mut messages = HashMap::new();
        index_messages(
            &mut messages,
            &mut Vec::new(),
            file.messages(),
            count_map_entries,
        );
        Ok(CompiledSchema { messages })
    }

    /// The message `index` names.
    pub fn message(&self, index: &[i32]) -> Option<&MessageDescriptor> {
        self.messages.get(index)
    }

    /// The fully qualified names of the top-level messages, for messages.
    pub fn top_level(&self) -> Vec<String> {
        let mut names: Vec<_> = self
            .messages
            .iter()
            .filter(|(index, _)| index.len() == 1)
            .map(|(index, m)| (index[0], m.full_name().to_string()))
            .collect();
        names.sort();
        names.into_iter().map(|(_, n)| n).collect()
    }
}

fn index_messages(
    table: &mut HashMap<Vec<i32>, MessageDescriptor>,
    path: &mut Vec<i32>,
    messages: impl Iterator<Item = MessageDescriptor>,
    count_map_entries: bool,
) {
    let counted = messages.filter(|m| count_map_entries || !m.is_map_entry());
    for (position, message) in counted.enumerate() {
        path.push(position as i32);
        index_messages(table, path, message.child_messages(), count_map_entries);
        table.insert(path.clone(), message);
        path.pop();
    }
}

struct References(HashMap<String, String>);

impl FileResolver for References {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.0.get(name) {
            Some(text) => open(name, text),
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

/// A schema file from its registry text: `.proto` source, or base64 of a `FileDescriptorProto`.
fn open(name: &str, text: &str) -> Result<File, protox::Error> {
    use base64::Engine;
    use prost::Message;
    let source_error = match File::from_source(name, text) {
        Ok(file) => return Ok(file),
        Err(e) => e,
    };
    let descriptor = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
        .and_then(|bytes| prost_types::FileDescriptorProto::decode(bytes.as_slice()).ok());
    match descriptor {
        Some(mut proto) => {
            proto.name = Some(name.to_string());
            Ok(File::from_file_descriptor_proto(proto))
        }
        None => Err(source_error),
    }
}

struct BuiltIn;

impl FileResolver for BuiltIn {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match built_in(name) {
            Some(text) => File::from_source(name, text),
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

fn compile_file(
    root: &str,
    mut references: HashMap<String, String>,
) -> Result<FileDescriptor, String> {
    references.insert(ROOT_FILE.to_string(), root.to_string());
    let mut resolver = ChainFileResolver::new();
    resolver.add(References(references));
    resolver.add(GoogleFileResolver::new());
    resolver.add(BuiltIn);
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true);
    compiler.open_file(ROOT_FILE).map_err(|e| e.to_string())?;
    let pool: DescriptorPool = compiler.descriptor_pool();
    pool.get_file_by_name(ROOT_FILE)
        .ok_or_else(|| "the compiled schema lost its root file".to_string())
}

/// The `.proto` text of an import Confluent's serializers do not register as a reference.
fn built_in(name: &str) -> Option<&'static str> {
    Some(match name {
        "google/type/date.proto" => {
            "syntax = \"proto3\";\npackage google.type;\n\
             message Date { int32 year = 1; int32 month = 2; int32 day = 3; }\n"
        }
        "google/type/timeofday.proto" => {
            "syntax = \"proto3\";\npackage google.type;\n\
             message TimeOfDay { int32 hours = 1; int32 minutes = 2; int32 seconds = 3; \
             int32 nanos = 4; }\n"
        }
        "confluent/type/decimal.proto" => {
            "syntax = \"proto3\";\npackage confluent.type;\n\
             message Decimal { bytes value = 1; uint32 precision = 2; int32 scale = 3; }\n"
        }
        "confluent/meta.proto" => {
            "syntax = \"proto3\";\npackage confluent;\n\
             import \"google/protobuf/descriptor.proto\";\n\
             message Meta { string doc = 1; map<string, string> params = 2; \
             repeated string tags = 3; }\n\
             extend google.protobuf.FileOptions { Meta file_meta = 1088; }\n\
             extend google.protobuf.MessageOptions { Meta message_meta = 1088; }\n\
             extend google.protobuf.FieldOptions { Meta field_meta = 1088; }\n\
             extend google.protobuf.EnumOptions { Meta enum_meta = 1088; }\n\
             extend google.protobuf.EnumValueOptions { Meta enum_value_meta = 1088; }\n"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"
        syntax = "proto3";
        package demo;
        import "google/protobuf/timestamp.proto";
        import "google/type/date.proto";
        message First { map<string, int32> counts = 1; message Inner { int32 x = 1; } }
        message Second {
          google.protobuf.Timestamp at = 1;
          google.type.Date day = 2;
          message A {} message B { message C {} }
        }
    "#;

    #[test]
    fn numbers_messages_as_confluent_does() {
        let schema = CompiledSchema::compile(SCHEMA, HashMap::new()).unwrap();
        let name = |i: &[i32]| schema.message(i).map(|m| m.full_name().to_string());
        assert_eq!(name(&[0]).as_deref(), Some("demo.First"));
        // The map entry message protobuf generates for `counts` is not counted.
        assert_eq!(name(&[0, 0]).as_deref(), Some("demo.First.Inner"));
        assert_eq!(name(&[1]).as_deref(), Some("demo.Second"));
        assert_eq!(name(&[1, 1, 0]).as_deref(), Some("demo.Second.B.C"));
        assert_eq!(name(&[2]), None);
        assert_eq!(schema.top_level(), ["demo.First", "demo.Second"]);
    }

    #[test]
    fn resolves_references_by_import_name() {
        let root = "syntax = \"proto3\"; import \"other.proto\"; \
                    message Outer { lib.Thing thing = 1; }";
        let references = HashMap::from([(
            "other.proto".to_string(),
            "syntax = \"proto3\"; package lib; message Thing { string id = 1; }".to_string(),
        )]);
        let schema = CompiledSchema::compile(root, references).unwrap();
        assert_eq!(schema.message(&[0]).unwrap().full_name(), "Outer");
        let e = CompiledSchema::compile(root, HashMap::new()).unwrap_err();
        assert!(e.contains("other.proto"), "{e}");
    }

    #[test]
    fn reads_a_base64_file_descriptor() {
        use base64::Engine;
        use prost::Message;
        let text = CompiledSchema::compile(SCHEMA, HashMap::new()).unwrap();
        let file = text.message(&[0]).unwrap().parent_file();
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(file.file_descriptor_proto().encode_to_vec());
        let schema = CompiledSchema::compile(&encoded, HashMap::new()).unwrap();
        assert_eq!(schema.top_level(), ["demo.First", "demo.Second"]);
        // From a descriptor, the map entry `CountsEntry` is counted, as Confluent counts it.
        assert_eq!(
            schema.message(&[0, 0]).unwrap().full_name(),
            "demo.First.CountsEntry"
        );
        assert_eq!(
            schema.message(&[0, 1]).unwrap().full_name(),
            "demo.First.Inner"
        );
        assert!(CompiledSchema::compile("bm90IGEgZGVzY3JpcHRvcg==", HashMap::new()).is_err());
    }
}
