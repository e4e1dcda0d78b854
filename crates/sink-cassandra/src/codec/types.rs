//! CQL column types as Cassandra 4 writes them in `system_schema.columns.type`
//! (`text`, `list<int>`, `frozen<map<text, frozen<list<int>>>>`, `tuple<int, text>`, a user
//! type `address`, `frozen<"MixedCase">`), resolved against the keyspace's user types.

use std::fmt;

/// How nested a type may be (type parameters and user types within user types).
const MAX_DEPTH: usize = 32;

/// A CQL column type. `varchar` parses as [`CqlType::Text`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CqlType {
    Ascii,
    Text,
    Boolean,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    VarInt,
    Float,
    Double,
    Decimal,
    Blob,
    Uuid,
    TimeUuid,
    Timestamp,
    Date,
    Time,
    Inet,
    Duration,
    Counter,
    List(Box<CqlType>),
    Set(Box<CqlType>),
    Map(Box<CqlType>, Box<CqlType>),
    Tuple(Vec<CqlType>),
    /// A user-defined type; `keyspace` is empty unless the type string qualified it.
    Udt {
        keyspace: String,
        name: String,
        fields: Vec<(String, CqlType)>,
    },
    Frozen(Box<CqlType>),
}

/// A type string that cassink cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CQL type {input:?}: {reason}")]
pub struct TypeParseError {
    pub input: String,
    pub reason: String,
}

/// Resolves a user type name (as `system_schema.types.type_name`) to its fields
/// (`field_names` zipped with `field_types`, the latter as type strings).
pub type UdtLookup<'a> = &'a dyn Fn(&str) -> Option<Vec<(String, String)>>;

impl CqlType {
    /// Parses a `system_schema.columns.type` string; user types are resolved with `udts`.
    pub fn parse(text: &str, udts: UdtLookup<'_>) -> Result<CqlType, TypeParseError> {
        parse_at(text, udts, 0).map_err(|reason| TypeParseError {
            input: text.chars().take(200).collect(),
            reason,
        })
    }

    /// Parses a type string that names no user types.
    pub fn parse_builtin(text: &str) -> Result<CqlType, TypeParseError> {
        Self::parse(text, &|_| None)
    }

    /// The type without any `frozen<>` wrapper.
    pub fn unfrozen(&self) -> &CqlType {
        match self {
            CqlType::Frozen(inner) => inner.unfrozen(),
            other => other,
        }
    }
}

fn parse_at(text: &str, udts: UdtLookup<'_>, depth: usize) -> Result<CqlType, String> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        udts,
    };
    let ty = parser.parse_type(depth)?;
    match parser.tokens.get(parser.pos) {
        None => Ok(ty),
        Some(tok) => Err(format!("unexpected {tok} after the type")),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Quoted(String),
    Punct(char),
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Ident(s) => write!(f, "'{s}'"),
            Token::Quoted(s) => write!(f, "'\"{s}\"'"),
            Token::Punct(c) => write!(f, "'{c}'"),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '<' | '>' | ',' | '.' => tokens.push(Token::Punct(c)),
            '"' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            name.push('"');
                        }
                        Some('"') => break,
                        Some(c) => name.push(c),
                        None => return Err("unterminated quoted name".into()),
                    }
                }
                tokens.push(Token::Quoted(name));
            }
            '\'' => return Err("custom types ('class.Name') are not supported".into()),
            c if c.is_alphanumeric() || c == '_' => {
                let mut name = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_alphanumeric() || n == '_' {
                        name.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token::Ident(name));
            }
            other => return Err(format!("unexpected character {other:?}")),
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    udts: UdtLookup<'a>,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<Token> {
        let tok = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        tok
    }

    fn peek_punct(&self, c: char) -> bool {
        self.tokens.get(self.pos) == Some(&Token::Punct(c))
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.next() {
            Some(Token::Punct(p)) if p == c => Ok(()),
            Some(tok) => Err(format!("expected '{c}', found {tok}")),
            None => Err(format!("expected '{c}', found the end")),
        }
    }

    /// `<t>` (one parameter) after a collection or `frozen` keyword.
    fn one_param(&mut self, depth: usize) -> Result<Box<CqlType>, String> {
        self.expect('<')?;
        let ty = self.parse_type(depth + 1)?;
        self.expect('>')?;
        Ok(Box::new(ty))
    }

    fn parse_type(&mut self, depth: usize) -> Result<CqlType, String> {
        if depth > MAX_DEPTH {
            return Err(format!("types nested deeper than {MAX_DEPTH} levels"));
        }
        let (name, quoted) = match self.next() {
            Some(Token::Ident(n)) => (n, false),
            Some(Token::Quoted(n)) => (n, true),
            Some(tok) => return Err(format!("expected a type name, found {tok}")),
            None => return Err("expected a type name, found the end".into()),
        };
        if self.peek_punct('.') {
            self.pos += 1;
            let udt = match self.next() {
                Some(Token::Ident(n)) => n.to_ascii_lowercase(),
                Some(Token::Quoted(n)) => n,
                _ => return Err("expected a type name after the keyspace".into()),
            };
            let keyspace = if quoted {
                name
            } else {
                name.to_ascii_lowercase()
            };
            return self.udt(keyspace, udt, depth);
        }
        if quoted {
            return self.udt(String::new(), name, depth);
        }
        let lower = name.to_ascii_lowercase();
        Ok(match lower.as_str() {
            "ascii" => CqlType::Ascii,
            "text" | "varchar" => CqlType::Text,
            "boolean" => CqlType::Boolean,
            "tinyint" => CqlType::TinyInt,
            "smallint" => CqlType::SmallInt,
            "int" => CqlType::Int,
            "bigint" => CqlType::BigInt,
            "varint" => CqlType::VarInt,
            "float" => CqlType::Float,
            "double" => CqlType::Double,
            "decimal" => CqlType::Decimal,
            "blob" => CqlType::Blob,
            "uuid" => CqlType::Uuid,
            "timeuuid" => CqlType::TimeUuid,
            "timestamp" => CqlType::Timestamp,
            "date" => CqlType::Date,
            "time" => CqlType::Time,
            "inet" => CqlType::Inet,
            "duration" => CqlType::Duration,
            "counter" => CqlType::Counter,
            "list" => CqlType::List(self.one_param(depth)?),
            "set" => CqlType::Set(self.one_param(depth)?),
            "frozen" => CqlType::Frozen(self.one_param(depth)?),
            "map" => {
                self.expect('<')?;
                let key = self.parse_type(depth + 1)?;
                self.expect(',')?;
                let value = self.parse_type(depth + 1)?;
                self.expect('>')?;
                CqlType::Map(Box::new(key), Box::new(value))
            }
            "tuple" => {
                self.expect('<')?;
                let mut items = vec![self.parse_type(depth + 1)?];
                while self.peek_punct(',') {
                    self.pos += 1;
                    items.push(self.parse_type(depth + 1)?);
                }
                self.expect('>')?;
                CqlType::Tuple(items)
            }
            "vector" => return Err("vector types are not supported".into()),
            _ => self.udt(String::new(), name, depth)?,
        })
    }

    fn udt(&mut self, keyspace: String, name: String, depth: usize) -> Result<CqlType, String> {
        let fields = (self.udts)(&name)
            .or_else(|| (self.udts)(&name.to_ascii_lowercase()))
            .ok_or_else(|| {
                format!(
                    "unknown type {name:?} (neither a CQL type nor a user type of the keyspace)"
                )
            })?;
        let fields = fields
            .into_iter()
            .map(|(field, text)| {
                parse_at(&text, self.udts, depth + 1)
                    .map(|ty| (field.clone(), ty))
                    .map_err(|e| format!("field {field} of user type {name}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(CqlType::Udt {
            keyspace,
            name,
            fields,
        })
    }
}

/// Writes an identifier, quoting it when CQL would otherwise fold or misread it.
fn ident(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        f.write_str(name)
    } else {
        write!(f, "\"{}\"", name.replace('"', "\"\""))
    }
}

impl fmt::Display for CqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let simple = match self {
            CqlType::Ascii => "ascii",
            CqlType::Text => "text",
            CqlType::Boolean => "boolean",
            CqlType::TinyInt => "tinyint",
            CqlType::SmallInt => "smallint",
            CqlType::Int => "int",
            CqlType::BigInt => "bigint",
            CqlType::VarInt => "varint",
            CqlType::Float => "float",
            CqlType::Double => "double",
            CqlType::Decimal => "decimal",
            CqlType::Blob => "blob",
            CqlType::Uuid => "uuid",
            CqlType::TimeUuid => "timeuuid",
            CqlType::Timestamp => "timestamp",
            CqlType::Date => "date",
            CqlType::Time => "time",
            CqlType::Inet => "inet",
            CqlType::Duration => "duration",
            CqlType::Counter => "counter",
            CqlType::List(t) => return write!(f, "list<{t}>"),
            CqlType::Set(t) => return write!(f, "set<{t}>"),
            CqlType::Frozen(t) => return write!(f, "frozen<{t}>"),
            CqlType::Map(k, v) => return write!(f, "map<{k}, {v}>"),
            CqlType::Tuple(items) => {
                f.write_str("tuple<")?;
                for (i, t) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                return f.write_str(">");
            }
            CqlType::Udt { keyspace, name, .. } => {
                if !keyspace.is_empty() {
                    ident(f, keyspace)?;
                    f.write_str(".")?;
                }
                return ident(f, name);
            }
        };
        f.write_str(simple)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn udts() -> HashMap<String, Vec<(String, String)>> {
        let mut m = HashMap::new();
        m.insert(
            "address".to_string(),
            vec![
                ("street".to_string(), "text".to_string()),
                ("zip".to_string(), "int".to_string()),
                ("geo".to_string(), "frozen<point>".to_string()),
            ],
        );
        m.insert(
            "point".to_string(),
            vec![
                ("x".to_string(), "double".to_string()),
                ("y".to_string(), "double".to_string()),
            ],
        );
        m.insert(
            "MixedCase".to_string(),
            vec![("a".to_string(), "int".to_string())],
        );
        m.insert(
            "loop".to_string(),
            vec![("l".to_string(), "loop".to_string())],
        );
        m
    }

    fn parse(text: &str) -> Result<CqlType, TypeParseError> {
        let m = udts();
        CqlType::parse(text, &|name: &str| m.get(name).cloned())
    }

    #[test]
    fn parses_builtins_and_collections() {
        use CqlType::*;
        assert_eq!(parse("varchar").unwrap(), Text);
        assert_eq!(parse(" list<int> ").unwrap(), List(Box::new(Int)));
        assert_eq!(
            parse("frozen<map<text, frozen<list<int>>>>").unwrap(),
            Frozen(Box::new(Map(
                Box::new(Text),
                Box::new(Frozen(Box::new(List(Box::new(Int)))))
            )))
        );
        assert_eq!(parse("tuple<int, text>").unwrap(), Tuple(vec![Int, Text]));
        for text in [
            "frozen<map<text, frozen<list<int>>>>",
            "tuple<int, text, set<timeuuid>>",
            "map<ascii, duration>",
        ] {
            assert_eq!(parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn resolves_user_types() {
        let ty = parse("frozen<address>").unwrap();
        let CqlType::Udt { name, fields, .. } = ty.unfrozen() else {
            panic!("{ty:?}")
        };
        assert_eq!(name, "address");
        assert_eq!(fields[1], ("zip".to_string(), CqlType::Int));
        assert!(matches!(fields[2].1.unfrozen(), CqlType::Udt { name, .. } if name == "point"));
        let ty = parse("frozen<\"MixedCase\">").unwrap();
        assert_eq!(ty.to_string(), "frozen<\"MixedCase\">");
        let ty = parse("ks.address").unwrap();
        assert!(matches!(ty, CqlType::Udt { keyspace, .. } if keyspace == "ks"));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = parse("list<int").unwrap_err();
        assert!(e.reason.contains("expected '>'"), "{e}");
        assert!(parse("nope").unwrap_err().reason.contains("unknown type"));
        assert!(parse("loop").unwrap_err().reason.contains("nested deeper"));
        assert!(parse("'org.apache.cassandra.db.marshal.BytesType'").is_err());
        assert!(parse("map<int>").is_err());
        assert!(parse("int int").is_err());
        assert!(parse("").is_err());
    }
}
