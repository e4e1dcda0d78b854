//! Request and response bodies of native protocol v4.

pub mod wire;

use crate::error::{Error, Result};
use crate::types::CqlType;
use wire::*;

pub mod opcode {
    pub const ERROR: u8 = 0x00;
    pub const STARTUP: u8 = 0x01;
    pub const READY: u8 = 0x02;
    pub const OPTIONS: u8 = 0x05;
    pub const SUPPORTED: u8 = 0x06;
    pub const QUERY: u8 = 0x07;
    pub const RESULT: u8 = 0x08;
    pub const PREPARE: u8 = 0x09;
    pub const EXECUTE: u8 = 0x0A;
    pub const REGISTER: u8 = 0x0B;
    pub const BATCH: u8 = 0x0D;
    pub const AUTH_RESPONSE: u8 = 0x0F;
}

/// The `<query_parameters>` of QUERY and EXECUTE.
#[derive(Debug, Clone, Default)]
pub struct QueryParams {
    pub consistency: u16,
    pub values: Vec<BoundValue>,
    pub names: Option<Vec<String>>,
    pub skip_metadata: bool,
    pub page_size: Option<i32>,
    pub paging_state: Option<Vec<u8>>,
    pub default_timestamp: Option<i64>,
}

impl QueryParams {
    pub fn read(r: &mut Reader) -> Result<Self> {
        let mut p = QueryParams {
            consistency: r.short()?,
            ..Default::default()
        };
        let flags = r.byte()?;
        if flags & 0x01 != 0 {
            let n = r.short()?;
            let mut names = Vec::new();
            for _ in 0..n {
                if flags & 0x40 != 0 {
                    names.push(r.string()?);
                }
                p.values.push(r.value()?);
            }
            if flags & 0x40 != 0 {
                p.names = Some(names);
            }
        }
        p.skip_metadata = flags & 0x02 != 0;
        if flags & 0x04 != 0 {
            p.page_size = Some(r.int()?);
        }
        if flags & 0x08 != 0 {
            p.paging_state = r.bytes()?;
        }
        if flags & 0x10 != 0 {
            r.short()?;
        }
        if flags & 0x20 != 0 {
            p.default_timestamp = Some(r.long()?);
        }
        Ok(p)
    }
}

#[derive(Debug, Clone)]
pub enum BatchEntry {
    Query(String),
    Prepared(Vec<u8>),
}

#[derive(Debug, Clone)]
pub struct BatchRequest {
    pub kind: u8,
    pub entries: Vec<(BatchEntry, Vec<BoundValue>)>,
    pub default_timestamp: Option<i64>,
}

#[derive(Debug, Clone)]
pub enum Request {
    Startup(Vec<(String, String)>),
    Options,
    Query(String, QueryParams),
    Prepare(String),
    Execute(Vec<u8>, QueryParams),
    Register,
    Batch(BatchRequest),
    AuthResponse,
}

impl Request {
    pub fn parse(op: u8, body: &[u8]) -> Result<Request> {
        let mut r = Reader::new(body);
        Ok(match op {
            opcode::STARTUP => Request::Startup(r.string_map()?),
            opcode::OPTIONS => Request::Options,
            opcode::QUERY => {
                let q = r.long_string()?;
                Request::Query(q, QueryParams::read(&mut r)?)
            }
            opcode::PREPARE => Request::Prepare(r.long_string()?),
            opcode::EXECUTE => {
                let id = r.short_bytes()?;
                Request::Execute(id, QueryParams::read(&mut r)?)
            }
            opcode::REGISTER => Request::Register,
            opcode::AUTH_RESPONSE => Request::AuthResponse,
            opcode::BATCH => {
                let kind = r.byte()?;
                let n = r.short()?;
                let mut entries = Vec::new();
                for _ in 0..n {
                    let e = match r.byte()? {
                        0 => BatchEntry::Query(r.long_string()?),
                        1 => BatchEntry::Prepared(r.short_bytes()?),
                        k => {
                            return Err(Error::Protocol(format!(
                                "Invalid query kind in BATCH messages. Must be 0 or 1 but got {k}"
                            )))
                        }
                    };
                    let nv = r.short()?;
                    let mut vals = Vec::new();
                    for _ in 0..nv {
                        vals.push(r.value()?);
                    }
                    entries.push((e, vals));
                }
                r.short()?;
                let flags = r.byte()?;
                if flags & 0x10 != 0 {
                    r.short()?;
                }
                let default_timestamp = if flags & 0x20 != 0 {
                    Some(r.long()?)
                } else {
                    None
                };
                Request::Batch(BatchRequest {
                    kind,
                    entries,
                    default_timestamp,
                })
            }
            op => return Err(Error::Protocol(format!("Unknown opcode {op}"))),
        })
    }
}

/// One column of a result or of a prepared statement's variables.
#[derive(Debug, Clone)]
pub struct ColSpec {
    pub keyspace: String,
    pub table: String,
    pub name: String,
    pub ty: CqlType,
}

#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub columns: Vec<ColSpec>,
    pub rows: Vec<Vec<Option<Vec<u8>>>>,
    pub paging_state: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub enum SchemaChange {
    Keyspace(&'static str, String),
    Table(&'static str, String, String),
    Type(&'static str, String, String),
}

#[derive(Debug, Clone)]
pub enum QueryResult {
    Void,
    Rows(Rows),
    SetKeyspace(String),
    Prepared {
        id: Vec<u8>,
        variables: Vec<ColSpec>,
        pk_indexes: Vec<u16>,
        result: Vec<ColSpec>,
    },
    SchemaChange(SchemaChange),
}

fn put_specs(b: &mut Vec<u8>, flags: i32, cols: &[ColSpec], extra: impl FnOnce(&mut Vec<u8>)) {
    let global = !cols.is_empty();
    put_int(b, flags | if global { 0x0001 } else { 0 });
    put_int(b, cols.len() as i32);
    extra(b);
    if let Some(c) = cols.first() {
        put_string(b, &c.keyspace);
        put_string(b, &c.table);
    }
    for c in cols {
        put_string(b, &c.name);
        c.ty.put_option(b);
    }
}

impl QueryResult {
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        match self {
            QueryResult::Void => put_int(&mut b, 1),
            QueryResult::Rows(rows) => {
                put_int(&mut b, 2);
                let more = rows.paging_state.is_some();
                put_specs(&mut b, if more { 0x0002 } else { 0 }, &rows.columns, |b| {
                    if let Some(p) = &rows.paging_state {
                        put_bytes(b, Some(p));
                    }
                });
                put_int(&mut b, rows.rows.len() as i32);
                for row in &rows.rows {
                    for cell in row {
                        put_bytes(&mut b, cell.as_deref());
                    }
                }
            }
            QueryResult::SetKeyspace(ks) => {
                put_int(&mut b, 3);
                put_string(&mut b, ks);
            }
            QueryResult::Prepared {
                id,
                variables,
                pk_indexes,
                result,
            } => {
                put_int(&mut b, 4);
                put_short_bytes(&mut b, id);
                put_specs(&mut b, 0, variables, |b| {
                    put_int(b, pk_indexes.len() as i32);
                    for i in pk_indexes {
                        put_short(b, *i);
                    }
                });
                if result.is_empty() {
                    put_int(&mut b, 0x0004);
                    put_int(&mut b, 0);
                } else {
                    put_specs(&mut b, 0, result, |_| {});
                }
            }
            QueryResult::SchemaChange(c) => {
                put_int(&mut b, 5);
                match c {
                    SchemaChange::Keyspace(ch, ks) => {
                        put_string(&mut b, ch);
                        put_string(&mut b, "KEYSPACE");
                        put_string(&mut b, ks);
                    }
                    SchemaChange::Table(ch, ks, t) | SchemaChange::Type(ch, ks, t) => {
                        put_string(&mut b, ch);
                        let target = if matches!(c, SchemaChange::Table(..)) {
                            "TABLE"
                        } else {
                            "TYPE"
                        };
                        put_string(&mut b, target);
                        put_string(&mut b, ks);
                        put_string(&mut b, t);
                    }
                }
            }
        }
        b
    }
}

pub fn supported_body() -> Vec<u8> {
    let mut b = Vec::new();
    put_short(&mut b, 3);
    put_string(&mut b, "CQL_VERSION");
    put_string_list(&mut b, &["3.4.5"]);
    put_string(&mut b, "COMPRESSION");
    put_string_list(&mut b, &["lz4", "snappy"]);
    put_string(&mut b, "PROTOCOL_VERSIONS");
    put_string_list(&mut b, &["4/v4"]);
    b
}
