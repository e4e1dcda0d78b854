//! Java `.properties` files: the worker config, `connect-file-*.properties` style connector
//! files and the files `FileConfigProvider` reads.

use crate::ConfigMap;

/// Parses a Java `.properties` text: `key=value`, `key: value` or `key value`; `#`/`!`
/// comments; `\` line continuations; `\t \n \r \f \uXXXX` and escaped separators.
pub fn parse_properties(text: &str) -> ConfigMap {
    let mut map = ConfigMap::new();
    let mut logical = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if logical.is_empty() && (trimmed.is_empty() || trimmed.starts_with(['#', '!'])) {
            continue;
        }
        let trailing = trimmed.chars().rev().take_while(|c| *c == '\\').count();
        if trailing % 2 == 1 {
            logical.push_str(&trimmed[..trimmed.len() - 1]);
            continue;
        }
        logical.push_str(trimmed);
        let (k, v) = split_entry(&logical);
        map.insert(k, v);
        logical.clear();
    }
    if !logical.is_empty() {
        let (k, v) = split_entry(&logical);
        map.insert(k, v);
    }
    map
}

fn split_entry(line: &str) -> (String, String) {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '=' | ':' | ' ' | '\t' | '\u{c}' => break,
            _ => i += 1,
        }
    }
    let key: String = chars[..i.min(chars.len())].iter().collect();
    let mut j = i;
    while j < chars.len() && matches!(chars[j], ' ' | '\t' | '\u{c}') {
        j += 1;
    }
    if j < chars.len() && matches!(chars[j], '=' | ':') {
        j += 1;
        while j < chars.len() && matches!(chars[j], ' ' | '\t' | '\u{c}') {
            j += 1;
        }
    }
    let value: String = chars[j.min(chars.len())..].iter().collect();
    (unescape(&key), unescape(value.trim_end()))
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_forms_comments_and_continuations() {
        let text = "# comment\n! other\nbootstrap.servers=kafka:9092\nrest.port : 8084\n\
                    group.id connect-cluster\nplugin.path=/a,\\\n    /b\nkey\\=x=1\nu=caf\\u00e9\n";
        let map = parse_properties(text);
        assert_eq!(map["bootstrap.servers"], "kafka:9092");
        assert_eq!(map["rest.port"], "8084");
        assert_eq!(map["group.id"], "connect-cluster");
        assert_eq!(map["plugin.path"], "/a,/b");
        assert_eq!(map["key=x"], "1");
        assert_eq!(map["u"], "café");
    }
}
