//! CQL text: lexer, recursive-descent parser and the statement tree.

pub mod ast;
mod ddl;
pub mod lexer;
pub mod parser;

pub use parser::parse;
