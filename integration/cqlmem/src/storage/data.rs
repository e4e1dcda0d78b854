//! Table contents: partitions, rows and cells with write timestamps, tombstones and TTLs.
//! Reads resolve last-write-wins and hide anything shadowed by a newer tombstone.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::types::{self, CqlType};

/// A component of a partition or clustering key, ordered like Cassandra orders its type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPart {
    pub code: u8,
    pub desc: bool,
    pub bytes: Vec<u8>,
}

/// Comparator family of a key column's type.
pub fn key_code(ty: &CqlType) -> u8 {
    match ty.base() {
        CqlType::Tinyint
        | CqlType::Smallint
        | CqlType::Int
        | CqlType::Bigint
        | CqlType::Counter
        | CqlType::Timestamp
        | CqlType::Time => 1,
        CqlType::Float => 2,
        CqlType::Double => 3,
        CqlType::Timeuuid => 4,
        CqlType::Uuid => 5,
        CqlType::Varint => 6,
        CqlType::Decimal => 7,
        _ => 0,
    }
}

fn code_type(code: u8) -> CqlType {
    match code {
        1 => CqlType::Bigint,
        2 => CqlType::Float,
        3 => CqlType::Double,
        4 => CqlType::Timeuuid,
        5 => CqlType::Uuid,
        6 => CqlType::Varint,
        7 => CqlType::Decimal,
        _ => CqlType::Blob,
    }
}

impl Ord for KeyPart {
    fn cmp(&self, other: &Self) -> Ordering {
        let o = types::compare(&code_type(self.code), &self.bytes, &other.bytes);
        if self.desc {
            o.reverse()
        } else {
            o
        }
    }
}

impl PartialOrd for KeyPart {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct Key(pub Vec<KeyPart>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub ts: i64,
    /// None = cell tombstone.
    pub value: Option<Vec<u8>>,
    /// Unix seconds at which the cell expires.
    pub expire: Option<i64>,
    pub ttl: i32,
}

impl Cell {
    pub fn live(&self, shadow: i64, now: i64) -> bool {
        self.ts > shadow && self.value.is_some() && self.expire.is_none_or(|e| e > now)
    }

    /// Cassandra's reconciliation: higher timestamp wins; on a tie a tombstone wins,
    /// then the greater value.
    fn supersedes(&self, old: &Cell) -> bool {
        if self.ts != old.ts {
            return self.ts > old.ts;
        }
        match (&self.value, &old.value) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => a >= b,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    pub ts: i64,
    pub expire: Option<i64>,
    pub ttl: i32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Row {
    pub marker: Option<Marker>,
    pub tomb: Option<i64>,
    pub cells: BTreeMap<u16, Cell>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Partition {
    pub tomb: Option<i64>,
    pub statics: Row,
    #[serde(with = "as_pairs")]
    pub rows: BTreeMap<Key, Row>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TableData {
    #[serde(with = "as_pairs")]
    pub partitions: BTreeMap<Key, Partition>,
}

/// What a write does to one cell.
#[derive(Debug, Clone)]
pub enum CellWrite {
    Put(Cell),
    CounterAdd(i64, i64),
    /// Read-modify-write on a non-frozen collection.
    Collection(CollectionOp, Cell),
}

#[derive(Debug, Clone)]
pub enum CollectionOp {
    Append(CqlType),
    Prepend(CqlType),
    Remove(CqlType),
    PutEntries(CqlType),
    RemoveKeys(CqlType),
}

pub fn opt_max(a: Option<i64>, b: Option<i64>) -> i64 {
    a.unwrap_or(i64::MIN).max(b.unwrap_or(i64::MIN))
}

impl Row {
    /// The newest tombstone covering this row's contents.
    pub fn shadow(&self, partition_tomb: Option<i64>) -> i64 {
        opt_max(self.tomb, partition_tomb)
    }

    pub fn is_live(&self, partition_tomb: Option<i64>, now: i64) -> bool {
        let sh = self.shadow(partition_tomb);
        self.marker
            .is_some_and(|m| m.ts > sh && m.expire.is_none_or(|e| e > now))
            || self.cells.values().any(|c| c.live(sh, now))
    }

    pub fn live_cell(&self, col: u16, partition_tomb: Option<i64>, now: i64) -> Option<&Cell> {
        let sh = self.shadow(partition_tomb);
        self.cells.get(&col).filter(|c| c.live(sh, now))
    }

    pub fn write(&mut self, col: u16, w: CellWrite, partition_tomb: Option<i64>, now: i64) {
        let new = match w {
            CellWrite::Put(c) => c,
            CellWrite::CounterAdd(n, ts) => {
                let cur = self
                    .live_cell(col, partition_tomb, now)
                    .and_then(|c| c.value.as_deref())
                    .map(types::int_of)
                    .unwrap_or(0);
                let ts = self.cells.get(&col).map(|c| c.ts.max(ts)).unwrap_or(ts);
                self.cells.insert(
                    col,
                    Cell {
                        ts,
                        value: Some(cur.wrapping_add(n).to_be_bytes().to_vec()),
                        expire: None,
                        ttl: 0,
                    },
                );
                return;
            }
            CellWrite::Collection(op, mut c) => {
                let cur = self
                    .live_cell(col, partition_tomb, now)
                    .and_then(|c| c.value.clone());
                c.value = apply_collection(&op, cur.as_deref(), c.value.as_deref());
                if c.value.is_none() {
                    c.value = Some(empty_collection());
                }
                c
            }
        };
        match self.cells.get_mut(&col) {
            Some(old) if !new.supersedes(old) => {}
            Some(old) => *old = new,
            None => {
                self.cells.insert(col, new);
            }
        }
    }

    pub fn set_marker(&mut self, m: Marker) {
        match &self.marker {
            Some(old) if old.ts > m.ts => {}
            _ => self.marker = Some(m),
        }
    }

    pub fn delete(&mut self, ts: i64) {
        self.tomb = Some(opt_max(self.tomb, Some(ts)));
    }
}

fn empty_collection() -> Vec<u8> {
    0i32.to_be_bytes().to_vec()
}

/// Combines a stored collection with the operand of `c = c + x` style updates.
fn apply_collection(op: &CollectionOp, cur: Option<&[u8]>, arg: Option<&[u8]>) -> Option<Vec<u8>> {
    let elems = |b: Option<&[u8]>| -> Vec<Vec<u8>> {
        b.and_then(|b| types::split_elements(b, None).ok())
            .map(|v| v.into_iter().flatten().map(|e| e.to_vec()).collect())
            .unwrap_or_default()
    };
    let entries = |b: Option<&[u8]>| -> Vec<(Vec<u8>, Vec<u8>)> {
        b.and_then(|b| types::map_entries(b).ok())
            .map(|v| {
                v.into_iter()
                    .map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let wrap = |v: Vec<Vec<u8>>| {
        Some(types::join_elements(
            &v.into_iter().map(Some).collect::<Vec<_>>(),
            true,
        ))
    };
    match op {
        CollectionOp::Append(ty) | CollectionOp::Prepend(ty) => {
            let (mut a, b) = (elems(cur), elems(arg));
            match ty.base() {
                CqlType::Set(t) => {
                    for e in b {
                        if !a
                            .iter()
                            .any(|x| types::compare(t, x, &e) == Ordering::Equal)
                        {
                            a.push(e);
                        }
                    }
                    a.sort_by(|x, y| types::compare(t, x, y));
                    wrap(a)
                }
                CqlType::Map(kt, _) => {
                    let mut m = entries(cur);
                    for (k, v) in entries(arg) {
                        m.retain(|(x, _)| types::compare(kt, x, &k) != Ordering::Equal);
                        m.push((k, v));
                    }
                    m.sort_by(|x, y| types::compare(kt, &x.0, &y.0));
                    Some(types::join_map(&m))
                }
                _ => {
                    if matches!(op, CollectionOp::Prepend(_)) {
                        let mut b = b;
                        b.extend(a);
                        wrap(b)
                    } else {
                        a.extend(b);
                        wrap(a)
                    }
                }
            }
        }
        CollectionOp::Remove(ty) | CollectionOp::RemoveKeys(ty) => match ty.base() {
            CqlType::Map(kt, _) => {
                let keys = elems(arg);
                let mut m = entries(cur);
                m.retain(|(k, _)| {
                    !keys
                        .iter()
                        .any(|x| types::compare(kt, x, k) == Ordering::Equal)
                });
                Some(types::join_map(&m))
            }
            _ => {
                let rm = elems(arg);
                let mut a = elems(cur);
                a.retain(|x| !rm.contains(x));
                wrap(a)
            }
        },
        CollectionOp::PutEntries(ty) => {
            apply_collection(&CollectionOp::Append(ty.clone()), cur, arg)
        }
    }
}

/// Serializes BTreeMaps with non-string keys as a list of pairs (JSON maps need string keys).
mod as_pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        m: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}
