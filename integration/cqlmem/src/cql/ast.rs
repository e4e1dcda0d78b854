//! The statement tree produced by the parser.

use crate::types::TypeExpr;

#[derive(Debug, Clone, PartialEq)]
pub struct TableRef {
    pub keyspace: Option<String>,
    pub name: String,
}

/// A value expression: literal, collection, bind marker or function call.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Str(String),
    /// Integer or decimal literal text, possibly signed, possibly NaN/Infinity.
    Number(String),
    Bool(bool),
    Null,
    Uuid(String),
    Blob(Vec<u8>),
    Duration(String),
    List(Vec<Term>),
    Set(Vec<Term>),
    /// `{k: v, ...}`: a map or, when the target is a UDT, a UDT literal (keys are `Ident`).
    Map(Vec<(Term, Term)>),
    Tuple(Vec<Term>),
    Ident(String),
    /// Bind marker: position among the statement's markers, and its name if `:name`.
    Bind(usize, Option<String>),
    Call(String, Vec<Term>),
    /// `CAST`-free type hint `(type) term`; kept only to tolerate it.
    Hint(TypeExpr, Box<Term>),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Using {
    pub ttl: Option<Term>,
    pub timestamp: Option<Term>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
    Ne,
    In,
    Contains,
    ContainsKey,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RelValue {
    One(Term),
    /// `IN (a, b)`
    List(Vec<Term>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    /// One column, or several for `(a, b) > (1, 2)` tuple relations.
    pub columns: Vec<String>,
    pub op: Op,
    pub value: RelValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Assignment {
    Set(String, Term),
    /// `c = c + t` (counters, list append, set/map union).
    Add(String, Term),
    /// `c = c - t`
    Sub(String, Term),
    /// `c = t + c` (list prepend)
    Prepend(String, Term),
    /// `c[k] = v`
    Index(String, Term, Term),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    Column(String),
    CountStar,
    WriteTime(String),
    Ttl(String),
    Call(String, Vec<Selector>),
    Term(Term),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    pub table: TableRef,
    pub json: bool,
    pub distinct: bool,
    /// None = `*`
    pub selectors: Option<Vec<(Selector, Option<String>)>>,
    pub wheres: Vec<Relation>,
    pub order: Vec<(String, bool)>,
    pub limit: Option<Term>,
    pub per_partition_limit: Option<Term>,
    pub allow_filtering: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDecl {
    pub name: String,
    pub ty: TypeExpr,
    pub is_static: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreateTable {
    pub table: TableRef,
    pub if_not_exists: bool,
    pub columns: Vec<ColumnDecl>,
    pub partition_key: Vec<String>,
    pub clustering: Vec<String>,
    pub order: Vec<(String, bool)>,
    pub options: Vec<(String, Term)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    None,
    IfNotExists,
    IfExists,
    /// `IF col = v AND ...`
    Columns(Vec<Relation>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Use(String),
    CreateKeyspace {
        name: String,
        if_not_exists: bool,
        options: Vec<(String, Term)>,
    },
    AlterKeyspace {
        name: String,
        options: Vec<(String, Term)>,
    },
    DropKeyspace {
        name: String,
        if_exists: bool,
    },
    CreateTable(CreateTable),
    DropTable {
        table: TableRef,
        if_exists: bool,
    },
    AlterTable {
        table: TableRef,
    },
    CreateType {
        name: TableRef,
        if_not_exists: bool,
        fields: Vec<(String, TypeExpr)>,
    },
    DropType {
        name: TableRef,
        if_exists: bool,
    },
    CreateIndex,
    Truncate(TableRef),
    Insert {
        table: TableRef,
        columns: Vec<String>,
        values: Vec<Term>,
        json: Option<Term>,
        if_not_exists: bool,
        using: Using,
    },
    Update {
        table: TableRef,
        using: Using,
        assignments: Vec<Assignment>,
        wheres: Vec<Relation>,
        condition: Condition,
    },
    Delete {
        table: TableRef,
        /// Empty = the whole row/partition.
        columns: Vec<String>,
        using: Using,
        wheres: Vec<Relation>,
        condition: Condition,
    },
    Select(Box<Select>),
    Batch {
        kind: BatchKind,
        using: Using,
        statements: Vec<Statement>,
    },
    Describe(Describe),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BatchKind {
    Logged,
    Unlogged,
    Counter,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Describe {
    Keyspaces,
    Tables,
    Keyspace(Option<String>),
    Table(TableRef),
    Types,
    Cluster,
}

impl Statement {
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Statement::Insert { .. }
                | Statement::Update { .. }
                | Statement::Delete { .. }
                | Statement::Batch { .. }
        )
    }
}
