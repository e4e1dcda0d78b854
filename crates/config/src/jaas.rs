//! Kafka's `sasl.jaas.config` value: one JAAS login module entry,
//! `<class> <flag> key=value ... ;`, e.g.
//! `org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";`.
//!
//! librdkafka has no JAAS; the worker reads the username and password of the
//! `PlainLoginModule` and `ScramLoginModule` entries from it. Errors name what is wrong but
//! never echo the text: it holds a password.

use std::collections::BTreeMap;

/// One parsed login module entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JaasEntry {
    /// The login module class as written.
    pub module: String,
    /// `required`, `requisite`, `sufficient` or `optional`.
    pub flag: String,
    pub options: BTreeMap<String, String>,
}

/// Why a JAAS text could not be read (no part of the text is quoted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JaasError {
    #[error(
        "is empty (expected `<LoginModule class> required username=\"...\" password=\"...\";`)"
    )]
    Empty,
    #[error("expected a control flag (required, requisite, sufficient or optional) after the login module class")]
    Flag,
    #[error("option {0} has no value (expected {0}=\"...\")")]
    NoValue(String),
    #[error("the quoted value of option {0} is not closed")]
    Unterminated(String),
    #[error("an option name is expected at character {0}")]
    OptionName(usize),
    #[error("has no terminating ';'")]
    NoSemicolon,
    #[error("holds more than one login module (Kafka allows exactly one)")]
    Several,
}

impl JaasEntry {
    /// The short class name (`ScramLoginModule` for `org.apache...scram.ScramLoginModule`).
    pub fn module_name(&self) -> &str {
        self.module.rsplit('.').next().unwrap_or(&self.module)
    }
}

struct Cursor {
    chars: Vec<char>,
    pos: usize,
}

impl Cursor {
    fn skip_space(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// A bare word: anything up to whitespace, `=` or `;`.
    fn word(&mut self) -> String {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| !c.is_whitespace() && c != '=' && c != ';')
        {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// A value: `"..."` or `'...'` (backslash escapes the next character), or a bare word.
    fn value(&mut self, option: &str) -> Result<String, JaasError> {
        let Some(quote) = self.peek().filter(|c| *c == '"' || *c == '\'') else {
            let word = self.word();
            return if word.is_empty() {
                Err(JaasError::NoValue(option.to_string()))
            } else {
                Ok(word)
            };
        };
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(JaasError::Unterminated(option.to_string())),
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) => out.push(c),
                        None => return Err(JaasError::Unterminated(option.to_string())),
                    }
                }
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(c) => out.push(c),
            }
            self.pos += 1;
        }
    }
}

/// Parses one login module entry.
pub fn parse(text: &str) -> Result<JaasEntry, JaasError> {
    let mut cur = Cursor {
        chars: text.chars().collect(),
        pos: 0,
    };
    cur.skip_space();
    let module = cur.word();
    if module.is_empty() {
        return Err(JaasError::Empty);
    }
    cur.skip_space();
    let flag = cur.word().to_ascii_lowercase();
    if !["required", "requisite", "sufficient", "optional"].contains(&flag.as_str()) {
        return Err(JaasError::Flag);
    }
    let mut options = BTreeMap::new();
    loop {
        cur.skip_space();
        match cur.peek() {
            None => return Err(JaasError::NoSemicolon),
            Some(';') => {
                cur.pos += 1;
                cur.skip_space();
                if cur.peek().is_some() {
                    return Err(JaasError::Several);
                }
                return Ok(JaasEntry {
                    module,
                    flag,
                    options,
                });
            }
            Some(_) => {
                let at = cur.pos;
                let name = cur.word();
                if name.is_empty() {
                    return Err(JaasError::OptionName(at));
                }
                cur.skip_space();
                if cur.peek() != Some('=') {
                    return Err(JaasError::NoValue(name));
                }
                cur.pos += 1;
                cur.skip_space();
                let value = cur.value(&name)?;
                options.insert(name, value);
            }
        }
    }
}

/// The `password` option of a JAAS text, when it parses (for masking).
pub fn password(text: &str) -> Option<String> {
    parse(text).ok()?.options.remove("password")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scram_and_plain_entries() {
        let e = parse(
            "org.apache.kafka.common.security.scram.ScramLoginModule required \
             username=\"alice\" password=\"p w;\\\"x\";",
        )
        .unwrap();
        assert_eq!(e.module_name(), "ScramLoginModule");
        assert_eq!(e.flag, "required");
        assert_eq!(e.options["username"], "alice");
        assert_eq!(e.options["password"], "p w;\"x");

        let e = parse(
            "  org.apache.kafka.common.security.plain.PlainLoginModule Required\n\
             username = bob  password='s3cret' ;  ",
        )
        .unwrap();
        assert_eq!(e.module_name(), "PlainLoginModule");
        assert_eq!(e.options["username"], "bob");
        assert_eq!(e.options["password"], "s3cret");
    }

    #[test]
    fn errors_never_show_the_text() {
        let secret = "hunter2-secret";
        for text in [
            format!("M required password=\"{secret}"),
            format!("M required password=\"{secret}\""),
            format!("M maybe password=\"{secret}\";"),
            format!("M required password \"{secret}\";"),
            format!("M required password=\"{secret}\"; N required;"),
            String::new(),
        ] {
            let err = parse(&text).unwrap_err().to_string();
            assert!(!err.contains(secret), "{err}");
        }
        assert_eq!(
            parse("M required password=\"x").unwrap_err(),
            JaasError::Unterminated("password".into())
        );
        assert_eq!(parse("M required a=1").unwrap_err(), JaasError::NoSemicolon);
        assert_eq!(
            parse("M required a=1; N required;").unwrap_err(),
            JaasError::Several
        );
        assert_eq!(
            password("M required password=\"pw\";").as_deref(),
            Some("pw")
        );
    }

    proptest! {
        /// Any quoted password survives the round trip, and no error quotes it.
        #[test]
        fn quoted_values_round_trip(user in "[a-z]{1,8}", pw in "[^\\x00]{0,24}") {
            let quoted = pw.replace('\\', "\\\\").replace('"', "\\\"");
            let text = format!("x.ScramLoginModule required username=\"{user}\" password=\"{quoted}\";");
            let e = parse(&text).unwrap();
            prop_assert_eq!(&e.options["password"], &pw);
            prop_assert_eq!(&e.options["username"], &user);
        }

        #[test]
        fn never_panics(text in ".{0,80}") {
            let _ = parse(&text);
        }
    }
}
