//! A [`ConfigDef`] as markdown tables, for the generated connector config reference
//! (`cassink config-reference`, see the worker's plugin registry).

use super::{ConfigDef, ConfigType};
use std::fmt::Write;

fn type_name(ty: ConfigType) -> &'static str {
    match ty {
        ConfigType::Boolean => "boolean",
        ConfigType::String => "string",
        ConfigType::Int => "int",
        ConfigType::Long => "long",
        ConfigType::Double => "double",
        ConfigType::List => "list",
        ConfigType::Class => "class",
        ConfigType::Password => "password",
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// One markdown table per group of `def`, under a `## title` heading.
pub fn markdown(title: &str, intro: &str, def: &ConfigDef) -> String {
    let mut out = format!("## {title}\n{intro}\n");
    for group in def.groups() {
        let _ = write!(
            out,
            "\n### {group}\n| key | type | default | description |\n|---|---|---|---|\n"
        );
        for key in def.keys.iter().filter(|k| k.group == group) {
            let default = match (key.required, key.default) {
                (true, None) => "*required*".to_string(),
                (_, Some("")) => "\"\"".to_string(),
                (_, Some(d)) => format!("`{d}`"),
                (false, None) => String::new(),
            };
            let allowed = if key.allowed.is_empty() {
                String::new()
            } else {
                format!(" One of: {}.", key.allowed.join(", "))
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {}{} |",
                key.name,
                type_name(key.ty),
                default,
                cell(key.documentation),
                allowed
            );
        }
    }
    out
}
