//! The header transforms: `DropHeaders` (`headers`), `InsertHeader` (`header`,
//! `value.literal`), `HeaderFrom$Key`/`$Value` (`fields`, `headers`, `operation` move|copy).

use super::fields::Object;
use super::{Settings, Side, Transform, TransformConfigError};
use cassink_record::{Header, SinkRecord, Value};

pub const CLASSES: &[(&str, bool)] = &[
    ("DropHeaders", false),
    ("InsertHeader", false),
    ("HeaderFrom", true),
];

type Built = Option<Result<Box<dyn Transform>, TransformConfigError>>;

pub fn build(name: &str, side: Option<Side>, s: &Settings) -> Built {
    Some(match (name, side) {
        ("DropHeaders", None) => {
            let headers = s.list("headers");
            if headers.is_empty() {
                return Some(Err(
                    s.error("headers", "is required: the header names to drop")
                ));
            }
            Ok(Box::new(DropHeaders { headers }))
        }
        ("InsertHeader", None) => (|| {
            let header = s.required("header")?.to_string();
            let literal = s
                .config
                .get(&s.key("value.literal"))
                .cloned()
                .ok_or_else(|| s.error("value.literal", "is required"))?;
            Ok(Box::new(InsertHeader { header, literal }) as Box<dyn Transform>)
        })(),
        ("HeaderFrom", Some(side)) => header_from(side, s),
        _ => return None,
    })
}

struct DropHeaders {
    headers: Vec<String>,
}

impl Transform for DropHeaders {
    fn apply(&self, mut record: SinkRecord) -> Result<Option<SinkRecord>, String> {
        record.headers.retain(|h| !self.headers.contains(&h.key));
        Ok(Some(record))
    }
}

struct InsertHeader {
    header: String,
    literal: String,
}

impl Transform for InsertHeader {
    fn apply(&self, mut record: SinkRecord) -> Result<Option<SinkRecord>, String> {
        record.headers.push(Header {
            key: self.header.clone(),
            raw: Some(self.literal.clone().into_bytes().into()),
            value: Value::String(self.literal.clone()),
        });
        Ok(Some(record))
    }
}

struct HeaderFrom {
    side: Side,
    pairs: Vec<(String, String)>,
    moving: bool,
}

fn header_from(side: Side, s: &Settings) -> Result<Box<dyn Transform>, TransformConfigError> {
    let (fields, headers) = (s.list("fields"), s.list("headers"));
    if fields.is_empty() {
        return Err(s.error("fields", "is required"));
    }
    if fields.len() != headers.len() {
        return Err(s.error(
            "headers",
            &format!(
                "must name as many headers as fields: {} fields, {} headers",
                fields.len(),
                headers.len()
            ),
        ));
    }
    let moving = match s.required("operation")?.to_ascii_lowercase().as_str() {
        "move" => true,
        "copy" => false,
        other => {
            return Err(s.error(
                "operation",
                &format!("invalid value {other:?}: expected move or copy"),
            ))
        }
    };
    Ok(Box::new(HeaderFrom {
        side,
        pairs: fields.into_iter().zip(headers).collect(),
        moving,
    }))
}

impl Transform for HeaderFrom {
    fn apply(&self, mut record: SinkRecord) -> Result<Option<SinkRecord>, String> {
        let slot = match self.side {
            Side::Key => &mut record.key,
            Side::Value => &mut record.value,
        };
        let purpose = if self.moving {
            "header move"
        } else {
            "header copy"
        };
        let Some(value) = slot.take().filter(|v| !v.is_null()) else {
            return Err(super::fields::null_error(purpose));
        };
        let mut object = Object::open(value, purpose)?;
        for (field, header) in &self.pairs {
            let value = if self.moving {
                object.take(field)
            } else {
                object.get(field).cloned()
            };
            let value = value.unwrap_or(Value::Null);
            record.headers.push(Header {
                key: header.clone(),
                raw: None,
                value,
            });
        }
        *match self.side {
            Side::Key => &mut record.key,
            Side::Value => &mut record.value,
        } = Some(object.close());
        Ok(Some(record))
    }
}
