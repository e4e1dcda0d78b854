//! The DataStax mapping language: `col=value.field, "Col"=key, c=header.h, c=now(), __ttl=...`.
//! Unquoted column names are lower-cased, quoted ones kept as written; field names are taken
//! as written. Beyond DataStax: nested paths `value.a.b` and indices `value.list[0]`.

use cassink_record::{SinkRecord, Value};
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

/// One step into a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Field(String),
    Index(usize),
}

/// Where a column's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `key` (empty path) or `key.a.b`.
    Key(Vec<Segment>),
    /// `value` (empty path) or `value.a[0]`.
    Value(Vec<Segment>),
    /// `header.name`.
    Header(String),
    /// `now()`: the write's time (a timeuuid or timestamp column).
    Now,
}

/// Writes `root` followed by `segs` as the mapping language spells them (`value.a[0]`).
fn write_path(f: &mut impl fmt::Write, root: &str, segs: &[Segment]) -> fmt::Result {
    f.write_str(root)?;
    for s in segs {
        match s {
            Segment::Field(n) => write!(f, ".{n}")?,
            Segment::Index(i) => write!(f, "[{i}]")?,
        }
    }
    Ok(())
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Key(p) => write_path(f, "key", p),
            Source::Value(p) => write_path(f, "value", p),
            Source::Header(h) => write!(f, "header.{h}"),
            Source::Now => write!(f, "now()"),
        }
    }
}

/// The column `__ttl` and `__timestamp` pseudo-columns are mapped to.
pub const TTL_COLUMN: &str = "__ttl";
pub const TIMESTAMP_COLUMN: &str = "__timestamp";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub column: String,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mapping {
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid mapping at character {at}: {message}")]
pub struct MappingError {
    pub at: usize,
    pub message: String,
}

impl Mapping {
    pub fn parse(text: &str) -> Result<Mapping, MappingError> {
        let mut p = Parser {
            chars: text.char_indices().collect(),
            pos: 0,
        };
        let mut entries: Vec<Entry> = Vec::new();
        loop {
            p.skip_ws();
            if p.done() {
                break;
            }
            let column = p.identifier(true)?;
            p.skip_ws();
            p.expect('=')?;
            p.skip_ws();
            let source = p.source()?;
            if entries.iter().any(|e| e.column == column) {
                return Err(p.error(format!("column {column} is mapped twice")));
            }
            entries.push(Entry { column, source });
            p.skip_ws();
            if p.done() {
                break;
            }
            p.expect(',')?;
        }
        if entries.is_empty() {
            return Err(MappingError {
                at: 0,
                message: "the mapping is empty".into(),
            });
        }
        Ok(Mapping { entries })
    }

    /// Entries that name real columns (not `__ttl` / `__timestamp`).
    pub fn columns(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(|e| e.column != TTL_COLUMN && e.column != TIMESTAMP_COLUMN)
    }

    pub fn special(&self, name: &str) -> Option<&Source> {
        self.entries
            .iter()
            .find(|e| e.column == name)
            .map(|e| &e.source)
    }
}

/// What a source found in a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<'a> {
    Found(&'a Value),
    /// The record has no such field (not the same as a null field).
    Missing {
        at: String,
        available: Vec<String>,
    },
}

/// Where a column's top-level field was in the last record: looked at first in the next one,
/// so a lookup costs one comparison while a topic's records keep their field order.
#[derive(Debug, Default)]
pub struct FieldHint(AtomicU32);

impl Clone for FieldHint {
    fn clone(&self) -> Self {
        FieldHint(AtomicU32::new(self.0.load(Ordering::Relaxed)))
    }
}

impl Source {
    /// Finds this source's value in `record`. A null key/value gives `Found(Null)` for the
    /// whole key/value and `Missing` for a field of it.
    pub fn lookup<'a>(&self, record: &'a SinkRecord) -> Lookup<'a> {
        self.lookup_near(record, &FieldHint::default())
    }

    /// [`Source::lookup`], looking for the top-level field where `hint` says it was last.
    pub fn lookup_near<'a>(&self, record: &'a SinkRecord, hint: &FieldHint) -> Lookup<'a> {
        const NULL: &Value = &Value::Null;
        let (root, segs, name) = match self {
            Source::Key(s) => (record.key.as_ref(), s, "key"),
            Source::Value(s) => (record.value.as_ref(), s, "value"),
            Source::Header(h) => {
                return match record.headers.iter().rev().find(|x| &x.key == h) {
                    Some(x) => Lookup::Found(&x.value),
                    None => Lookup::Missing {
                        at: format!("header.{h}"),
                        available: record.headers.iter().map(|x| x.key.clone()).collect(),
                    },
                }
            }
            Source::Now => return Lookup::Found(NULL),
        };
        let mut current = root.unwrap_or(NULL);
        for (depth, seg) in segs.iter().enumerate() {
            let next = match seg {
                Segment::Field(f) if depth == 0 => {
                    let near = hint.0.load(Ordering::Relaxed) as usize;
                    current.field_near(f, near).map(|(at, v)| {
                        if at != near {
                            hint.0.store(at as u32, Ordering::Relaxed);
                        }
                        v
                    })
                }
                Segment::Field(f) => current.field(f),
                Segment::Index(i) => match current {
                    Value::Array(items) => items.get(*i),
                    _ => None,
                },
            };
            match next {
                Some(v) => current = v,
                None => {
                    // The path is only spelled out for the error: lookups run per record.
                    let mut at = String::new();
                    let _ = write_path(&mut at, name, &segs[..depth]);
                    return Lookup::Missing {
                        at,
                        available: current.field_names(),
                    };
                }
            }
        }
        Lookup::Found(current)
    }
}

struct Parser {
    chars: Vec<(usize, char)>,
    pos: usize,
}

impl Parser {
    fn done(&self) -> bool {
        self.pos >= self.chars.len()
    }
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|(_, c)| *c)
    }
    fn offset(&self) -> usize {
        self.chars
            .get(self.pos)
            .map(|(i, _)| *i)
            .unwrap_or_else(|| {
                self.chars
                    .last()
                    .map(|(i, c)| i + c.len_utf8())
                    .unwrap_or(0)
            })
    }
    fn error(&self, message: impl Into<String>) -> MappingError {
        MappingError {
            at: self.offset(),
            message: message.into(),
        }
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }
    fn expect(&mut self, c: char) -> Result<(), MappingError> {
        match self.peek() {
            Some(x) if x == c => {
                self.pos += 1;
                Ok(())
            }
            Some(x) => Err(self.error(format!("expected '{c}', found '{x}'"))),
            None => Err(self.error(format!("expected '{c}', found the end"))),
        }
    }

    /// A column or field name: `"Quoted ""name"""` as written, or a bare word
    /// (lower-cased when `fold` is set, as CQL does for column names).
    fn identifier(&mut self, fold: bool) -> Result<String, MappingError> {
        if self.peek() == Some('"') {
            self.pos += 1;
            let mut name = String::new();
            loop {
                match self.peek() {
                    None => return Err(self.error("unterminated quoted identifier")),
                    Some('"') if self.chars.get(self.pos + 1).map(|x| x.1) == Some('"') => {
                        name.push('"');
                        self.pos += 2;
                    }
                    Some('"') => {
                        self.pos += 1;
                        break;
                    }
                    Some(c) => {
                        name.push(c);
                        self.pos += 1;
                    }
                }
            }
            if name.is_empty() {
                return Err(self.error("empty quoted identifier"));
            }
            return Ok(name);
        }
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '$' || c == '@')
        {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(match self.peek() {
                Some(c) => self.error(format!("expected a name, found '{c}'")),
                None => self.error("expected a name, found the end"),
            });
        }
        let word: String = self.chars[start..self.pos]
            .iter()
            .map(|(_, c)| *c)
            .collect();
        Ok(if fold { word.to_lowercase() } else { word })
    }

    fn source(&mut self) -> Result<Source, MappingError> {
        let start = self.offset();
        let root = self.identifier(false)?;
        match root.as_str() {
            "now" => {
                self.skip_ws();
                self.expect('(')?;
                self.skip_ws();
                self.expect(')')?;
                Ok(Source::Now)
            }
            "key" | "value" => {
                let mut segs = Vec::new();
                loop {
                    match self.peek() {
                        Some('.') => {
                            self.pos += 1;
                            segs.push(Segment::Field(self.identifier(false)?));
                        }
                        Some('[') => {
                            self.pos += 1;
                            let begin = self.pos;
                            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                                self.pos += 1;
                            }
                            let digits: String = self.chars[begin..self.pos].iter().map(|(_, c)| *c).collect();
                            let index = digits.parse().map_err(|_| self.error("expected a list index"))?;
                            self.expect(']')?;
                            segs.push(Segment::Index(index));
                        }
                        _ => break,
                    }
                }
                Ok(if root == "key" { Source::Key(segs) } else { Source::Value(segs) })
            }
            "header" => {
                self.expect('.')?;
                Ok(Source::Header(self.identifier(false)?))
            }
            other => Err(MappingError {
                at: start,
                message: format!("unknown source '{other}': expected key, key.<field>, value, value.<field>, header.<name> or now()"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_meter_mapping_lowercasing_columns() {
        let m = Mapping::parse(
            "id=value.id, timestamp=value.timestamp, P_1=value.P_1, harm=value.HARM",
        )
        .unwrap();
        assert_eq!(
            m.entries[2],
            Entry {
                column: "p_1".into(),
                source: Source::Value(vec![Segment::Field("P_1".into())])
            }
        );
    }

    #[test]
    fn quoted_columns_keep_case_and_special_sources_parse() {
        let m = Mapping::parse(r#" "MyCol" = key , c2=header.trace-id, c3=now( ), __ttl=value.ttl, c4=value, c5=value.a.b[2]"#).unwrap();
        assert_eq!(m.entries[0].column, "MyCol");
        assert_eq!(m.entries[0].source, Source::Key(vec![]));
        assert_eq!(m.entries[1].source, Source::Header("trace-id".into()));
        assert_eq!(m.entries[2].source, Source::Now);
        assert_eq!(
            m.special(TTL_COLUMN),
            Some(&Source::Value(vec![Segment::Field("ttl".into())]))
        );
        assert_eq!(
            m.entries[5].source,
            Source::Value(vec![
                Segment::Field("a".into()),
                Segment::Field("b".into()),
                Segment::Index(2)
            ])
        );
        assert_eq!(m.columns().count(), 5);
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = Mapping::parse("a=value.x, b=valu.y").unwrap_err();
        assert!(e.message.contains("unknown source 'valu'"), "{e}");
        assert!(Mapping::parse("a=value.x, a=value.y")
            .unwrap_err()
            .message
            .contains("mapped twice"));
        assert!(Mapping::parse("a value.x").is_err());
        assert!(Mapping::parse("  ").is_err());
    }

    /// A record of topic `t` whose value is `value`.
    fn record_of(value: Value) -> SinkRecord {
        use cassink_record::Position;
        SinkRecord {
            topic: "t".into(),
            position: Position {
                topic: "t".into(),
                partition: 0,
                offset: 0,
            },
            timestamp_ms: None,
            key: None,
            value: Some(value),
            headers: Vec::new(),
            raw_key: None,
            raw_value: None,
        }
    }

    #[test]
    fn a_field_hint_finds_fields_whatever_their_order() {
        let record = |fields: &[(&str, i64)]| {
            record_of(Value::Map(
                fields
                    .iter()
                    .map(|(k, v)| (Value::String(k.to_string()), Value::Int64(*v)))
                    .collect(),
            ))
        };
        let source = Mapping::parse("c=value.b").unwrap().entries[0]
            .source
            .clone();
        let hint = FieldHint::default();
        for fields in [
            &[("a", 1), ("b", 2)][..],
            &[("a", 1), ("b", 2)],
            &[("b", 3), ("a", 1)],
            &[("a", 1), ("x", 0), ("b", 4)],
        ] {
            let want = fields.iter().find(|(k, _)| *k == "b").map(|(_, v)| *v);
            assert_eq!(
                source.lookup_near(&record(fields), &hint),
                Lookup::Found(&Value::Int64(want.unwrap_or_default()))
            );
        }
        assert!(matches!(
            source.lookup_near(&record(&[("a", 1)]), &hint),
            Lookup::Missing { .. }
        ));
    }

    #[test]
    fn a_missing_field_names_the_path_that_was_found() {
        let map = |entries: Vec<(&str, Value)>| {
            Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (Value::String(k.into()), v))
                    .collect(),
            )
        };
        // {"a": {"b": [1, {"c": 2}]}, "x": 1}
        let value = map(vec![
            (
                "a",
                map(vec![(
                    "b",
                    Value::Array(vec![Value::Int64(1), map(vec![("c", Value::Int64(2))])]),
                )]),
            ),
            ("x", Value::Int64(1)),
        ]);
        let record = record_of(value);
        let source = |text: &str| {
            Mapping::parse(&format!("c={text}")).unwrap().entries[0]
                .source
                .clone()
        };
        assert_eq!(
            source("value.a.b[1].c").lookup(&record),
            Lookup::Found(&Value::Int64(2))
        );
        match source("value.a.b[1].d").lookup(&record) {
            Lookup::Missing { at, available } => {
                assert_eq!(at, "value.a.b[1]");
                assert_eq!(available, vec!["c".to_string()]);
            }
            found => panic!("expected a missing field, got {found:?}"),
        }
        match source("value.y").lookup(&record) {
            Lookup::Missing { at, .. } => assert_eq!(at, "value"),
            found => panic!("expected a missing field, got {found:?}"),
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,64}") {
            let _ = Mapping::parse(&s);
        }
    }
}
