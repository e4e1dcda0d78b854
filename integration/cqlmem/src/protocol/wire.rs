//! Primitive notations of the native protocol ([int], [string], [bytes], ...).

use crate::error::{Error, Result};

pub fn put_int(b: &mut Vec<u8>, v: i32) {
    b.extend_from_slice(&v.to_be_bytes());
}

pub fn put_long(b: &mut Vec<u8>, v: i64) {
    b.extend_from_slice(&v.to_be_bytes());
}

pub fn put_short(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_be_bytes());
}

pub fn put_string(b: &mut Vec<u8>, s: &str) {
    put_short(b, s.len().min(u16::MAX as usize) as u16);
    b.extend_from_slice(&s.as_bytes()[..s.len().min(u16::MAX as usize)]);
}

pub fn put_short_bytes(b: &mut Vec<u8>, v: &[u8]) {
    put_short(b, v.len() as u16);
    b.extend_from_slice(v);
}

pub fn put_bytes(b: &mut Vec<u8>, v: Option<&[u8]>) {
    match v {
        Some(v) => {
            put_int(b, v.len() as i32);
            b.extend_from_slice(v);
        }
        None => put_int(b, -1),
    }
}

pub fn put_string_list(b: &mut Vec<u8>, l: &[&str]) {
    put_short(b, l.len() as u16);
    for s in l {
        put_string(b, s);
    }
}

/// A bound value: protocol v4 distinguishes null (-1) from unset (-2).
#[derive(Debug, Clone, PartialEq)]
pub enum BoundValue {
    Value(Vec<u8>),
    Null,
    Unset,
}

/// A bounds-checked cursor over a request body; every read fails cleanly on short input.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn short() -> Error {
    Error::Protocol("Not enough bytes to read request body".into())
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or_else(short)?;
        let s = self.buf.get(self.pos..end).ok_or_else(short)?;
        self.pos = end;
        Ok(s)
    }

    pub fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn short(&mut self) -> Result<u16> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }

    pub fn int(&mut self) -> Result<i32> {
        let s = self.take(4)?;
        Ok(i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }

    pub fn long(&mut self) -> Result<i64> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(i64::from_be_bytes(a))
    }

    pub fn string(&mut self) -> Result<String> {
        let n = self.short()? as usize;
        let s = self.take(n)?;
        String::from_utf8(s.to_vec()).map_err(|_| Error::Protocol("Invalid UTF-8 string".into()))
    }

    pub fn long_string(&mut self) -> Result<String> {
        let n = self.int()?;
        if n < 0 {
            return Err(Error::Protocol("Negative long string length".into()));
        }
        let s = self.take(n as usize)?;
        String::from_utf8(s.to_vec()).map_err(|_| Error::Protocol("Invalid UTF-8 string".into()))
    }

    pub fn short_bytes(&mut self) -> Result<Vec<u8>> {
        let n = self.short()? as usize;
        Ok(self.take(n)?.to_vec())
    }

    pub fn bytes(&mut self) -> Result<Option<Vec<u8>>> {
        let n = self.int()?;
        if n < 0 {
            return Ok(None);
        }
        Ok(Some(self.take(n as usize)?.to_vec()))
    }

    pub fn value(&mut self) -> Result<BoundValue> {
        let n = self.int()?;
        match n {
            -2 => Ok(BoundValue::Unset),
            n if n < 0 => Ok(BoundValue::Null),
            n => Ok(BoundValue::Value(self.take(n as usize)?.to_vec())),
        }
    }

    pub fn string_map(&mut self) -> Result<Vec<(String, String)>> {
        let n = self.short()?;
        let mut out = Vec::new();
        for _ in 0..n {
            let k = self.string()?;
            let v = self.string()?;
            out.push((k, v));
        }
        Ok(out)
    }
}
