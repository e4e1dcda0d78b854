//! Java date-time patterns as chrono format strings, for the two pattern languages configs
//! written for the JVM use: `java.time.format.DateTimeFormatter` (the DataStax codec settings)
//! and `java.text.SimpleDateFormat` (Connect's `TimestampConverter` and `TimestampRouter`).
//! Quoted text (`'T'`, `''` for a quote) and other non-letters are literals; letters outside
//! the supported set are an error naming them.

/// Which Java pattern language a pattern is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    DateTimeFormatter,
    SimpleDateFormat,
}

/// The chrono specifier of `count` repeats of `letter`, if the dialect supports it.
fn specifier(dialect: Dialect, letter: char, count: usize) -> Option<&'static str> {
    use Dialect::*;
    Some(match (dialect, letter, count) {
        (_, 'y', 2) => "%y",
        (_, 'y', _) => "%Y",
        (DateTimeFormatter, 'u', 2) => "%y",
        (DateTimeFormatter, 'u', _) => "%Y",
        (DateTimeFormatter, 'M' | 'L', 1 | 2) => "%m",
        (SimpleDateFormat, 'M', 1) => "%-m",
        (SimpleDateFormat, 'M', 2) => "%m",
        (_, 'M' | 'L', 3) => "%b",
        (_, 'M' | 'L', _) => "%B",
        (DateTimeFormatter, 'd', 1 | 2) => "%d",
        (SimpleDateFormat, 'd', 1) => "%-d",
        (SimpleDateFormat, 'd', _) => "%d",
        (_, 'D', 1..=3) => "%j",
        (DateTimeFormatter, 'H' | 'k', 1 | 2) => "%H",
        (SimpleDateFormat, 'H', 1) => "%-H",
        (SimpleDateFormat, 'H', _) => "%H",
        (DateTimeFormatter, 'h' | 'K', 1 | 2) => "%I",
        (SimpleDateFormat, 'h', 1) => "%-I",
        (SimpleDateFormat, 'h', _) => "%I",
        (DateTimeFormatter, 'm', 1 | 2) => "%M",
        (SimpleDateFormat, 'm', 1) => "%-M",
        (SimpleDateFormat, 'm', _) => "%M",
        (DateTimeFormatter, 's', 1 | 2) => "%S",
        (SimpleDateFormat, 's', 1) => "%-S",
        (SimpleDateFormat, 's', _) => "%S",
        (_, 'S', 3) => "%3f",
        (_, 'S', 6) => "%6f",
        (_, 'S', 9) => "%9f",
        (DateTimeFormatter, 'a', 1) => "%p",
        (SimpleDateFormat, 'a', _) => "%p",
        (_, 'E', 1..=3) => "%a",
        (_, 'E', _) => "%A",
        (DateTimeFormatter, 'X' | 'x' | 'Z', 1..=5) => "%#z",
        (SimpleDateFormat, 'z', _) => "%Z",
        (SimpleDateFormat, 'Z', _) => "%z",
        (SimpleDateFormat, 'X', 1 | 2) => "%z",
        (SimpleDateFormat, 'X', _) => "%:z",
        _ => return None,
    })
}

/// Translates `pattern` into a chrono format string.
pub fn to_chrono(pattern: &str, dialect: Dialect) -> Result<String, String> {
    let mut out = String::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut j = i + 1;
            if chars.get(j) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            // Inside quotes, '' is a quote too.
            while j < chars.len() {
                if chars[j] == '\'' {
                    if chars.get(j + 1) != Some(&'\'') {
                        break;
                    }
                    j += 1;
                }
                push_literal(&mut out, chars[j]);
                j += 1;
            }
            if j >= chars.len() {
                return Err(format!("pattern {pattern:?}: unterminated quote"));
            }
            i = j + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            if dialect == Dialect::DateTimeFormatter && matches!(c, '[' | ']' | '{' | '}' | '#') {
                return Err(format!("pattern {pattern:?}: {c:?} is not supported"));
            }
            push_literal(&mut out, c);
            i += 1;
            continue;
        }
        let mut n = 1;
        while chars.get(i + n) == Some(&c) {
            n += 1;
        }
        let spec = specifier(dialect, c, n).ok_or_else(|| {
            format!(
                "pattern {pattern:?}: the letters {:?} are not supported",
                c.to_string().repeat(n)
            )
        })?;
        out.push_str(spec);
        i += n;
    }
    Ok(out)
}

fn push_literal(out: &mut String, c: char) {
    if c == '%' {
        out.push_str("%%");
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects() {
        let dtf = |p| to_chrono(p, Dialect::DateTimeFormatter);
        let sdf = |p| to_chrono(p, Dialect::SimpleDateFormat);
        assert_eq!(
            dtf("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").unwrap(),
            "%Y-%m-%dT%H:%M:%S.%3f%#z"
        );
        assert_eq!(sdf("yyyyMMdd").unwrap(), "%Y%m%d");
        assert_eq!(sdf("d/M/yy H:m").unwrap(), "%-d/%-m/%y %-H:%-M");
        assert_eq!(
            sdf("'at' HH 'o''clock' 100%").unwrap(),
            "at %H o'clock 100%%"
        );
        assert!(sdf("yyyy-QQ").unwrap_err().contains("\"QQ\""));
        assert!(dtf("[yyyy]").is_err());
        assert!(sdf("'open").is_err());
    }
}
