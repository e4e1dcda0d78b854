//! Debezium's `io.debezium.transforms.ExtractNewRecordState`: a change event envelope
//! (`before`, `after`, `source`, `op`, `ts_ms`, `transaction`) becomes the row state, so that
//! Debezium change events can be written to Cassandra tables, deletes included.
//!
//! * `delete.tombstone.handling.mode` (default `tombstone`): for an `op=d` event and for the
//!   Kafka tombstone that follows it: `drop` drops both; `tombstone` / `delete-to-tombstone`
//!   make the delete event a tombstone (a Cassandra delete with `deletesEnabled`) and drop the
//!   Kafka tombstone; `rewrite` gives the `before` state with `__deleted` = `"true"` (and
//!   `"false"` on other events) and drops the tombstone; `rewrite-with-tombstone` also keeps
//!   the tombstone. The legacy `delete.handling.mode` + `drop.tombstones` pairs that have an
//!   equivalent are read as it; the others are refused.
//! * `add.fields` / `add.headers` (`op`, `ts_ms`, `source.<f>` or a bare `source` field name,
//!   `transaction` fields, `x:NewName`), named with `add.fields.prefix` / `add.headers.prefix`
//!   (default `__`); `route.by.field` sets the topic from a field of the new (or, for deletes,
//!   the old) state.
//! * Records that are not envelopes pass through unchanged: envelopes are read from records
//!   with schemas (structs), as Debezium reads only schemas named `….Envelope`; an event with
//!   neither `before` nor `after` (a truncate) is dropped.

use super::fields::Object;
use super::{Settings, Transform, TransformConfigError};
use cassink_record::{Header, SinkRecord, Value};

pub const CLASS: &str = "io.debezium.transforms.ExtractNewRecordState";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Drop,
    Tombstone,
    Rewrite,
    RewriteWithTombstone,
}

struct Added {
    /// Where: `(None, name)` = envelope field, else source, or `(Some(struct), field)`.
    from: (Option<String>, String),
    name: String,
}

struct ExtractNewRecordState {
    mode: Mode,
    fields: Vec<Added>,
    headers: Vec<Added>,
    route_by: Option<String>,
}

fn added(specs: Vec<String>, prefix: &str) -> Vec<Added> {
    specs
        .into_iter()
        .map(|spec| {
            let (path, rename) = match spec.split_once(':') {
                Some((p, r)) => (p.to_string(), Some(r.to_string())),
                None => (spec.clone(), None),
            };
            let from = match path.split_once('.') {
                Some((s, f)) => (Some(s.to_string()), f.to_string()),
                None => (None, path.clone()),
            };
            let name = match rename {
                Some(r) => format!("{prefix}{r}"),
                None => format!("{prefix}{}", path.replace('.', "_")),
            };
            Added { from, name }
        })
        .collect()
}

pub fn build(s: &Settings) -> Result<Box<dyn Transform>, TransformConfigError> {
    let mode = match s.get("delete.tombstone.handling.mode") {
        Some(raw) => match raw {
            "drop" => Mode::Drop,
            "tombstone" | "delete-to-tombstone" => Mode::Tombstone,
            "rewrite" => Mode::Rewrite,
            "rewrite-with-tombstone" => Mode::RewriteWithTombstone,
            other => {
                return Err(s.error(
                    "delete.tombstone.handling.mode",
                    &format!(
                        "invalid value {other:?}: expected drop, tombstone, delete-to-tombstone, \
                         rewrite or rewrite-with-tombstone"
                    ),
                ))
            }
        },
        None => legacy_mode(s)?,
    };
    let prefix = |key: &str| s.get(key).unwrap_or("__").to_string();
    Ok(Box::new(ExtractNewRecordState {
        mode,
        fields: added(s.list("add.fields"), &prefix("add.fields.prefix")),
        headers: added(s.list("add.headers"), &prefix("add.headers.prefix")),
        route_by: s.get("route.by.field").map(String::from),
    }))
}

/// `delete.handling.mode` + `drop.tombstones` (Debezium before 3.2) as the mode they meant.
fn legacy_mode(s: &Settings) -> Result<Mode, TransformConfigError> {
    let handling = s.get("delete.handling.mode");
    let drop_tombstones = s.boolean("drop.tombstones", true)?;
    if handling.is_none() && s.get("drop.tombstones").is_none() {
        return Ok(Mode::Tombstone);
    }
    match (handling.unwrap_or("drop"), drop_tombstones) {
        ("drop", true) => Ok(Mode::Drop),
        ("none", true) => Ok(Mode::Tombstone),
        ("rewrite", true) => Ok(Mode::Rewrite),
        ("rewrite", false) => Ok(Mode::RewriteWithTombstone),
        (h @ ("drop" | "none"), false) => Err(s.error(
            "drop.tombstones",
            &format!(
                "delete.handling.mode={h} with drop.tombstones=false has no equivalent in \
                 delete.tombstone.handling.mode; set that instead"
            ),
        )),
        (other, _) => Err(s.error(
            "delete.handling.mode",
            &format!("invalid value {other:?}: expected drop, none or rewrite"),
        )),
    }
}

impl ExtractNewRecordState {
    fn lookup(&self, envelope: &Object, from: &(Option<String>, String)) -> Option<Value> {
        match from {
            (Some(parent), field) => envelope.get(parent)?.field(field).cloned(),
            (None, field) => match envelope.get(field) {
                Some(v) => Some(v.clone()),
                None => {
                    let in_transaction = matches!(
                        field.as_str(),
                        "id" | "total_order" | "data_collection_order"
                    );
                    let parent = if in_transaction {
                        "transaction"
                    } else {
                        "source"
                    };
                    envelope.get(parent)?.field(field).cloned()
                }
            },
        }
    }
}

impl Transform for ExtractNewRecordState {
    fn apply(&self, mut record: SinkRecord) -> Result<Option<SinkRecord>, String> {
        let Some(value) = record.value.take().filter(|v| !v.is_null()) else {
            // A Kafka tombstone.
            if self.mode != Mode::RewriteWithTombstone {
                return Ok(None);
            }
            for h in self
                .headers
                .iter()
                .filter(|h| h.from == (None, "op".into()))
            {
                record
                    .headers
                    .push(header(&h.name, Value::String("d".into())));
            }
            return Ok(Some(record));
        };
        let is_envelope = matches!(&value, Value::Struct(_))
            && value.field("op").is_some()
            && (value.field("after").is_some() || value.field("before").is_some());
        if !is_envelope {
            record.value = Some(value);
            return Ok(Some(record));
        }
        let envelope = Object::open(value, "ExtractNewRecordState")?;
        let state = |name: &str| envelope.get(name).filter(|v| !v.is_null()).cloned();
        let (before, after) = (state("before"), state("after"));
        let deleted = matches!(envelope.get("op"), Some(Value::String(op)) if op == "d");
        for h in &self.headers {
            if let Some(v) = self.lookup(&envelope, &h.from) {
                record.headers.push(header(&h.name, v));
            }
        }
        let route = |row: &Value| match (&self.route_by, row) {
            (Some(field), row) => match row.field(field) {
                Some(Value::String(t)) if !t.trim().is_empty() => Some(t.clone()),
                _ => None,
            },
            _ => None,
        };
        let row = if deleted {
            match self.mode {
                Mode::Drop => return Ok(None),
                Mode::Tombstone => {
                    if let Some(t) = before.as_ref().and_then(route) {
                        record.topic = t.into();
                    }
                    record.value = None;
                    return Ok(Some(record));
                }
                Mode::Rewrite | Mode::RewriteWithTombstone => match before {
                    Some(b) => (b, Some("true")),
                    None => return Ok(None),
                },
            }
        } else {
            match after {
                Some(a) => {
                    let flag = matches!(self.mode, Mode::Rewrite | Mode::RewriteWithTombstone)
                        .then_some("false");
                    (a, flag)
                }
                // Neither state: a truncate (or a delete without its old state).
                None => return Ok(None),
            }
        };
        let (row, flag) = row;
        if let Some(t) = route(&row) {
            record.topic = t.into();
        }
        let mut state = Object::open(row, "ExtractNewRecordState row state")?;
        for f in &self.fields {
            if let Some(v) = self.lookup(&envelope, &f.from) {
                state.put(f.name.clone(), v);
            }
        }
        if let Some(flag) = flag {
            state.put("__deleted".into(), Value::String(flag.into()));
        }
        record.value = Some(state.close());
        Ok(Some(record))
    }
}

fn header(key: &str, value: Value) -> Header {
    let raw = match &value {
        Value::String(s) => Some(s.clone().into_bytes().into()),
        _ => None,
    };
    Header {
        key: key.to_string(),
        raw,
        value,
    }
}
