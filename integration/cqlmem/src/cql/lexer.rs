//! Splits CQL text into tokens; never panics on any input.

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// Unquoted identifier or keyword, lowercased.
    Ident(String),
    /// `"Quoted"` identifier, case preserved.
    QIdent(String),
    Str(String),
    Number(String),
    Uuid(String),
    Blob(Vec<u8>),
    Sym(&'static str),
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub line: usize,
    pub col: usize,
    pub text: String,
}

const SYMS: [&str; 21] = [
    "<=", ">=", "!=", "(", ")", ",", ";", ".", "*", "=", "<", ">", "[", "]", "{", "}", ":", "?",
    "+", "-", "/",
];

fn is_uuid_at(s: &[u8]) -> bool {
    if s.len() < 36 {
        return false;
    }
    for (i, c) in s[..36].iter().enumerate() {
        let ok = match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        };
        if !ok {
            return false;
        }
    }
    !s.get(36)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

pub fn tokenize(src: &str) -> Result<Vec<Token>> {
    let s = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0usize;
    let (mut line, mut line_start) = (1usize, 0usize);
    let err =
        |line: usize, col: usize, msg: &str| Err(Error::Syntax(format!("line {line}:{col} {msg}")));
    while i < s.len() {
        let c = s[i];
        if c == b'\n' {
            line += 1;
            line_start = i + 1;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if (c == b'-' && s.get(i + 1) == Some(&b'-')) || (c == b'/' && s.get(i + 1) == Some(&b'/'))
        {
            while i < s.len() && s[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && s.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < s.len() && !(s[i] == b'*' && s.get(i + 1) == Some(&b'/')) {
                if s[i] == b'\n' {
                    line += 1;
                    line_start = i + 1;
                }
                i += 1;
            }
            i = (i + 2).min(s.len());
            continue;
        }
        let start = i;
        let col = i - line_start;
        let tok = if c == b'\'' || c == b'"' {
            let mut v = Vec::new();
            i += 1;
            loop {
                match s.get(i) {
                    None => return err(line, col, "mismatched input: unterminated string"),
                    Some(x) if *x == c => {
                        if s.get(i + 1) == Some(&c) {
                            v.push(c);
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(x) => {
                        v.push(*x);
                        i += 1;
                    }
                }
            }
            let v = String::from_utf8(v).map_err(|_| Error::Syntax("Invalid UTF-8".into()))?;
            if c == b'\'' {
                Tok::Str(v)
            } else {
                Tok::QIdent(v)
            }
        } else if c == b'$' && s.get(i + 1) == Some(&b'$') {
            i += 2;
            let b = i;
            while i + 1 < s.len() && !(s[i] == b'$' && s[i + 1] == b'$') {
                i += 1;
            }
            if i + 1 >= s.len() {
                return err(line, col, "unterminated $$ string");
            }
            let v = src.get(b..i).unwrap_or_default().to_string();
            i += 2;
            Tok::Str(v)
        } else if is_uuid_at(&s[i..]) {
            i += 36;
            Tok::Uuid(src[start..i].to_ascii_lowercase())
        } else if c == b'0' && matches!(s.get(i + 1), Some(b'x') | Some(b'X')) {
            i += 2;
            let b = i;
            while i < s.len() && s[i].is_ascii_hexdigit() {
                i += 1;
            }
            let hex = &src[b..i];
            if !hex.len().is_multiple_of(2) {
                return err(line, col, "blob literal has an odd number of hex digits");
            }
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|k| u8::from_str_radix(&hex[k..k + 2], 16).unwrap_or(0))
                .collect();
            Tok::Blob(bytes)
        } else if c.is_ascii_digit()
            || (c == b'.' && s.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            while i < s.len() && s[i].is_ascii_digit() {
                i += 1;
            }
            if s.get(i) == Some(&b'.') && s.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
                i += 1;
                while i < s.len() && s[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if matches!(s.get(i), Some(b'e') | Some(b'E')) {
                let mut j = i + 1;
                if matches!(s.get(j), Some(b'+') | Some(b'-')) {
                    j += 1;
                }
                if s.get(j).is_some_and(|d| d.is_ascii_digit()) {
                    i = j;
                    while i < s.len() && s[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            if s.get(i).is_some_and(|d| d.is_ascii_alphabetic()) {
                // duration literal like 1h30m
                while i < s.len() && s[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(src[start..i].to_ascii_lowercase()),
                    line,
                    col,
                    text: src[start..i].to_string(),
                });
                continue;
            }
            Tok::Number(src[start..i].to_string())
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'_') {
                i += 1;
            }
            Tok::Ident(src[start..i].to_ascii_lowercase())
        } else if let Some(sym) = SYMS.iter().find(|p| s[i..].starts_with(p.as_bytes())) {
            i += sym.len();
            Tok::Sym(sym)
        } else {
            let ch = src[i..].chars().next().unwrap_or('?');
            return err(line, col, &format!("token recognition error at: '{ch}'"));
        };
        out.push(Token {
            tok,
            line,
            col,
            text: src.get(start..i).unwrap_or_default().to_string(),
        });
    }
    Ok(out)
}
