//! Recursive-descent parser for the CQL subset Cassandra 4 drivers and tools send.

use super::ast::*;
use super::lexer::{tokenize, Tok, Token};
use crate::error::{Error, Result};
use crate::types::TypeExpr;

/// Parses one statement (an optional trailing `;` is allowed).
pub fn parse(src: &str) -> Result<Statement> {
    let mut p = Parser {
        toks: tokenize(src)?,
        pos: 0,
        binds: 0,
    };
    let st = p.statement()?;
    while p.eat_sym(";") {}
    if p.pos < p.toks.len() {
        return Err(p.unexpected("end of statement"));
    }
    Ok(st)
}

pub(super) struct Parser {
    pub(super) toks: Vec<Token>,
    pub(super) pos: usize,
    pub(super) binds: usize,
}

impl Parser {
    pub(super) fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    pub(super) fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.pos + k).map(|t| &t.tok)
    }

    pub(super) fn unexpected(&self, expecting: &str) -> Error {
        match self.toks.get(self.pos) {
            Some(t) => Error::Syntax(format!(
                "line {}:{} mismatched input '{}' expecting {expecting}",
                t.line, t.col, t.text
            )),
            None => Error::Syntax(format!(
                "line 1:{} mismatched input '<EOF>' expecting {expecting}",
                self.toks.last().map(|t| t.col + t.text.len()).unwrap_or(0)
            )),
        }
    }

    pub(super) fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s == kw)
    }

    pub(super) fn is_kw_at(&self, k: usize, kw: &str) -> bool {
        matches!(self.peek_at(k), Some(Tok::Ident(s)) if s == kw)
    }

    pub(super) fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn kw(&mut self, kw: &str) -> Result<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected(&kw.to_ascii_uppercase()))
        }
    }

    pub(super) fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(x)) if *x == s)
    }

    pub(super) fn eat_sym(&mut self, s: &str) -> bool {
        if self.is_sym(s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn sym(&mut self, s: &str) -> Result<()> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("'{s}'")))
        }
    }

    pub(super) fn ident(&mut self) -> Result<String> {
        match self.peek() {
            Some(Tok::Ident(s)) | Some(Tok::QIdent(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.unexpected("identifier")),
        }
    }

    pub(super) fn table_ref(&mut self) -> Result<TableRef> {
        let first = self.ident()?;
        if self.eat_sym(".") {
            Ok(TableRef {
                keyspace: Some(first),
                name: self.ident()?,
            })
        } else {
            Ok(TableRef {
                keyspace: None,
                name: first,
            })
        }
    }

    pub(super) fn if_not_exists(&mut self) -> Result<bool> {
        if self.is_kw("if") {
            self.pos += 1;
            self.kw("not")?;
            self.kw("exists")?;
            return Ok(true);
        }
        Ok(false)
    }

    pub(super) fn if_exists(&mut self) -> Result<bool> {
        if self.eat_kw("if") {
            self.kw("exists")?;
            return Ok(true);
        }
        Ok(false)
    }

    pub(super) fn statement(&mut self) -> Result<Statement> {
        let kw = match self.peek() {
            Some(Tok::Ident(s)) => s.clone(),
            _ => return Err(self.no_viable()),
        };
        self.pos += 1;
        match kw.as_str() {
            "use" => Ok(Statement::Use(self.ident()?)),
            "select" => Ok(Statement::Select(Box::new(self.select()?))),
            "insert" => self.insert(),
            "update" => self.update(),
            "delete" => self.delete(),
            "begin" => self.batch(),
            "create" => self.create(),
            "drop" => self.drop(),
            "alter" => self.alter(),
            "truncate" => {
                self.eat_kw("table");
                Ok(Statement::Truncate(self.table_ref()?))
            }
            "describe" | "desc" => self.describe(),
            _ => {
                self.pos -= 1;
                Err(self.no_viable())
            }
        }
    }

    pub(super) fn no_viable(&self) -> Error {
        match self.toks.get(self.pos) {
            Some(t) => Error::Syntax(format!(
                "line {}:{} no viable alternative at input '{}'",
                t.line, t.col, t.text
            )),
            None => Error::Syntax("line 1:0 no viable alternative at input '<EOF>'".into()),
        }
    }

    // ---- terms -------------------------------------------------------------

    pub(super) fn term(&mut self) -> Result<Term> {
        let t = match self.peek().cloned() {
            Some(Tok::Sym("?")) => {
                self.pos += 1;
                self.binds += 1;
                Term::Bind(self.binds - 1, None)
            }
            Some(Tok::Sym(":")) => {
                self.pos += 1;
                let name = self.ident()?;
                self.binds += 1;
                Term::Bind(self.binds - 1, Some(name))
            }
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Term::Str(s)
            }
            Some(Tok::Number(n)) => {
                self.pos += 1;
                Term::Number(n)
            }
            Some(Tok::Uuid(u)) => {
                self.pos += 1;
                Term::Uuid(u)
            }
            Some(Tok::Blob(b)) => {
                self.pos += 1;
                Term::Blob(b)
            }
            Some(Tok::Sym("-")) => {
                self.pos += 1;
                match self.peek().cloned() {
                    Some(Tok::Number(n)) => {
                        self.pos += 1;
                        Term::Number(format!("-{n}"))
                    }
                    Some(Tok::Ident(n)) if n == "infinity" || n == "nan" => {
                        self.pos += 1;
                        Term::Number(format!("-{n}"))
                    }
                    Some(Tok::Ident(d)) if d.starts_with(|c: char| c.is_ascii_digit()) => {
                        self.pos += 1;
                        Term::Duration(format!("-{d}"))
                    }
                    _ => return Err(self.unexpected("a number")),
                }
            }
            Some(Tok::Sym("[")) => {
                self.pos += 1;
                let items = self.term_list("]")?;
                Term::List(items)
            }
            Some(Tok::Sym("{")) => {
                self.pos += 1;
                if self.eat_sym("}") {
                    return Ok(Term::Map(vec![]));
                }
                let first = self.term()?;
                if self.eat_sym(":") {
                    let v = self.term()?;
                    let mut entries = vec![(first, v)];
                    while self.eat_sym(",") {
                        let k = self.term()?;
                        self.sym(":")?;
                        entries.push((k, self.term()?));
                    }
                    self.sym("}")?;
                    Term::Map(entries)
                } else {
                    let mut items = vec![first];
                    while self.eat_sym(",") {
                        items.push(self.term()?);
                    }
                    self.sym("}")?;
                    Term::Set(items)
                }
            }
            Some(Tok::Sym("(")) => {
                self.pos += 1;
                // `(type) term` hint, else a tuple
                let hint = matches!(self.peek(), Some(Tok::Ident(n)) if crate::types::CqlType::primitive(n).is_some())
                    && matches!(self.peek_at(1), Some(Tok::Sym(")")));
                if hint {
                    let ty = self.type_expr()?;
                    self.sym(")")?;
                    let inner = self.term()?;
                    return Ok(Term::Hint(ty, Box::new(inner)));
                }
                Term::Tuple(self.term_list(")")?)
            }
            Some(Tok::Ident(id)) => {
                self.pos += 1;
                if self.eat_sym("(") {
                    let args = self.term_list(")")?;
                    return Ok(Term::Call(id, args));
                }
                match id.as_str() {
                    "true" => Term::Bool(true),
                    "false" => Term::Bool(false),
                    "null" => Term::Null,
                    "nan" | "infinity" => Term::Number(id),
                    d if d.starts_with(|c: char| c.is_ascii_digit()) => Term::Duration(id),
                    _ => Term::Ident(id),
                }
            }
            Some(Tok::QIdent(id)) => {
                self.pos += 1;
                Term::Ident(id)
            }
            _ => return Err(self.unexpected("a value")),
        };
        Ok(t)
    }

    pub(super) fn term_list(&mut self, close: &str) -> Result<Vec<Term>> {
        let mut items = Vec::new();
        if self.eat_sym(close) {
            return Ok(items);
        }
        loop {
            items.push(self.term()?);
            if self.eat_sym(close) {
                return Ok(items);
            }
            self.sym(",")?;
        }
    }

    pub(super) fn type_expr(&mut self) -> Result<TypeExpr> {
        let mut name = self.ident()?;
        if self.eat_sym(".") {
            name = self.ident()?;
        }
        if self.eat_sym("<") {
            let mut args = vec![self.type_expr()?];
            while self.eat_sym(",") {
                args.push(self.type_expr()?);
            }
            self.sym(">")?;
            return Ok(TypeExpr::Generic(name, args));
        }
        Ok(TypeExpr::Name(name))
    }

    // ---- DML ---------------------------------------------------------------

    pub(super) fn using(&mut self, u: &mut Using) -> Result<()> {
        if !self.eat_kw("using") {
            return Ok(());
        }
        loop {
            if self.eat_kw("ttl") {
                u.ttl = Some(self.term()?);
            } else if self.eat_kw("timestamp") {
                u.timestamp = Some(self.term()?);
            } else {
                return Err(self.unexpected("TTL or TIMESTAMP"));
            }
            if !self.eat_kw("and") {
                return Ok(());
            }
        }
    }

    pub(super) fn wheres(&mut self) -> Result<Vec<Relation>> {
        let mut rels = Vec::new();
        if !self.eat_kw("where") {
            return Ok(rels);
        }
        loop {
            rels.push(self.relation()?);
            if !self.eat_kw("and") {
                return Ok(rels);
            }
        }
    }

    pub(super) fn op(&mut self) -> Result<Op> {
        let op = match self.peek() {
            Some(Tok::Sym("=")) => Op::Eq,
            Some(Tok::Sym("<")) => Op::Lt,
            Some(Tok::Sym("<=")) => Op::Le,
            Some(Tok::Sym(">")) => Op::Gt,
            Some(Tok::Sym(">=")) => Op::Ge,
            Some(Tok::Sym("!=")) => Op::Ne,
            Some(Tok::Ident(s)) if s == "in" => Op::In,
            Some(Tok::Ident(s)) if s == "contains" => {
                self.pos += 1;
                if self.eat_kw("key") {
                    return Ok(Op::ContainsKey);
                }
                return Ok(Op::Contains);
            }
            _ => return Err(self.unexpected("an operator")),
        };
        self.pos += 1;
        Ok(op)
    }

    pub(super) fn relation(&mut self) -> Result<Relation> {
        let columns = if self.eat_sym("(") {
            let mut cols = vec![self.ident()?];
            while self.eat_sym(",") {
                cols.push(self.ident()?);
            }
            self.sym(")")?;
            cols
        } else if self.is_kw("token") && matches!(self.peek_at(1), Some(Tok::Sym("("))) {
            return Err(Error::Invalid(
                "token() relations are not supported by cqlmem".into(),
            ));
        } else {
            vec![self.ident()?]
        };
        let op = self.op()?;
        let value = if op == Op::In && self.is_sym("(") {
            self.pos += 1;
            RelValue::List(self.term_list(")")?)
        } else {
            RelValue::One(self.term()?)
        };
        Ok(Relation { columns, op, value })
    }

    pub(super) fn condition(&mut self) -> Result<Condition> {
        if !self.eat_kw("if") {
            return Ok(Condition::None);
        }
        if self.eat_kw("exists") {
            return Ok(Condition::IfExists);
        }
        if self.is_kw("not") && self.is_kw_at(1, "exists") {
            self.pos += 2;
            return Ok(Condition::IfNotExists);
        }
        let mut rels = vec![self.relation()?];
        while self.eat_kw("and") {
            rels.push(self.relation()?);
        }
        Ok(Condition::Columns(rels))
    }

    pub(super) fn insert(&mut self) -> Result<Statement> {
        self.kw("into")?;
        let table = self.table_ref()?;
        let (mut columns, mut values, mut json) = (Vec::new(), Vec::new(), None);
        if self.eat_kw("json") {
            json = Some(self.term()?);
            if self.eat_kw("default") && !self.eat_kw("null") {
                self.kw("unset")?;
            }
        } else {
            self.sym("(")?;
            loop {
                columns.push(self.ident()?);
                if self.eat_sym(")") {
                    break;
                }
                self.sym(",")?;
            }
            self.kw("values")?;
            self.sym("(")?;
            values = self.term_list(")")?;
            if values.len() != columns.len() {
                return Err(Error::Invalid(format!(
                    "Unmatched column names/values: {} column names for {} values",
                    columns.len(),
                    values.len()
                )));
            }
        }
        let if_not_exists = self.if_not_exists()?;
        let mut using = Using::default();
        self.using(&mut using)?;
        Ok(Statement::Insert {
            table,
            columns,
            values,
            json,
            if_not_exists,
            using,
        })
    }

    pub(super) fn update(&mut self) -> Result<Statement> {
        let table = self.table_ref()?;
        let mut using = Using::default();
        self.using(&mut using)?;
        self.kw("set")?;
        let mut assignments = Vec::new();
        loop {
            let col = self.ident()?;
            if self.eat_sym("[") {
                let k = self.term()?;
                self.sym("]")?;
                self.sym("=")?;
                assignments.push(Assignment::Index(col, k, self.term()?));
            } else {
                self.sym("=")?;
                let same = matches!(self.peek(), Some(Tok::Ident(s)) | Some(Tok::QIdent(s)) if *s == col)
                    && matches!(self.peek_at(1), Some(Tok::Sym("+")) | Some(Tok::Sym("-")));
                if same {
                    self.pos += 1;
                    let plus = self.eat_sym("+");
                    if !plus {
                        self.sym("-")?;
                    }
                    let t = self.term()?;
                    assignments.push(if plus {
                        Assignment::Add(col, t)
                    } else {
                        Assignment::Sub(col, t)
                    });
                } else {
                    let t = self.term()?;
                    if self.eat_sym("+") {
                        let c2 = self.ident()?;
                        if c2 != col {
                            return Err(Error::Invalid(
                                "Only expressions of the form X = <value> + X are supported."
                                    .into(),
                            ));
                        }
                        assignments.push(Assignment::Prepend(col, t));
                    } else {
                        assignments.push(Assignment::Set(col, t));
                    }
                }
            }
            if !self.eat_sym(",") {
                break;
            }
        }
        let wheres = self.wheres()?;
        let condition = self.condition()?;
        Ok(Statement::Update {
            table,
            using,
            assignments,
            wheres,
            condition,
        })
    }

    pub(super) fn delete(&mut self) -> Result<Statement> {
        let mut columns = Vec::new();
        if !self.is_kw("from") {
            loop {
                columns.push(self.ident()?);
                if self.eat_sym("[") {
                    return Err(Error::Invalid(
                        "Deleting collection elements is not supported by cqlmem".into(),
                    ));
                }
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        self.kw("from")?;
        let table = self.table_ref()?;
        let mut using = Using::default();
        self.using(&mut using)?;
        let wheres = self.wheres()?;
        let condition = self.condition()?;
        Ok(Statement::Delete {
            table,
            columns,
            using,
            wheres,
            condition,
        })
    }

    pub(super) fn batch(&mut self) -> Result<Statement> {
        let kind = if self.eat_kw("unlogged") {
            BatchKind::Unlogged
        } else if self.eat_kw("counter") {
            BatchKind::Counter
        } else {
            self.eat_kw("logged");
            BatchKind::Logged
        };
        self.kw("batch")?;
        let mut using = Using::default();
        self.using(&mut using)?;
        let mut statements = Vec::new();
        loop {
            while self.eat_sym(";") {}
            if self.eat_kw("apply") {
                self.kw("batch")?;
                break;
            }
            if self.pos >= self.toks.len() {
                return Err(self.unexpected("APPLY BATCH"));
            }
            let st = self.statement()?;
            if !matches!(
                st,
                Statement::Insert { .. } | Statement::Update { .. } | Statement::Delete { .. }
            ) {
                return Err(Error::Invalid(
                    "Only INSERT, UPDATE and DELETE statements are allowed in a BATCH".into(),
                ));
            }
            statements.push(st);
        }
        Ok(Statement::Batch {
            kind,
            using,
            statements,
        })
    }

    pub(super) fn select(&mut self) -> Result<Select> {
        let json = self.is_kw("json") && !self.is_kw_at(1, "from") && self.eat_kw("json");
        let distinct =
            self.is_kw("distinct") && !self.is_kw_at(1, "from") && self.eat_kw("distinct");
        let selectors = if self.eat_sym("*") {
            None
        } else {
            let mut v = Vec::new();
            loop {
                let s = self.selector()?;
                let alias = if self.eat_kw("as") {
                    Some(self.ident()?)
                } else {
                    None
                };
                v.push((s, alias));
                if !self.eat_sym(",") {
                    break;
                }
            }
            Some(v)
        };
        self.kw("from")?;
        let table = self.table_ref()?;
        let wheres = self.wheres()?;
        let mut order = Vec::new();
        if self.eat_kw("group") {
            return Err(Error::Invalid("GROUP BY is not supported by cqlmem".into()));
        }
        if self.eat_kw("order") {
            self.kw("by")?;
            loop {
                let c = self.ident()?;
                let desc = if self.eat_kw("desc") {
                    true
                } else {
                    self.eat_kw("asc");
                    false
                };
                order.push((c, desc));
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        let mut per_partition_limit = None;
        if self.is_kw("per") {
            self.pos += 1;
            self.kw("partition")?;
            self.kw("limit")?;
            per_partition_limit = Some(self.term()?);
        }
        let limit = if self.eat_kw("limit") {
            Some(self.term()?)
        } else {
            None
        };
        let allow_filtering = if self.eat_kw("allow") {
            self.kw("filtering")?;
            true
        } else {
            false
        };
        Ok(Select {
            table,
            json,
            distinct,
            selectors,
            wheres,
            order,
            limit,
            per_partition_limit,
            allow_filtering,
        })
    }

    pub(super) fn selector(&mut self) -> Result<Selector> {
        match self.peek().cloned() {
            Some(Tok::Ident(name)) if matches!(self.peek_at(1), Some(Tok::Sym("("))) => {
                self.pos += 2;
                if name == "count"
                    && (self.eat_sym("*")
                        || matches!(self.peek(), Some(Tok::Number(n)) if n == "1")
                            && self.eat_num())
                {
                    self.sym(")")?;
                    return Ok(Selector::CountStar);
                }
                let mut args = Vec::new();
                if !self.eat_sym(")") {
                    loop {
                        args.push(self.selector()?);
                        if self.eat_sym(")") {
                            break;
                        }
                        self.sym(",")?;
                    }
                }
                let one_col = match args.as_slice() {
                    [Selector::Column(c)] => Some(c.clone()),
                    _ => None,
                };
                match (name.as_str(), one_col) {
                    ("writetime", Some(c)) => Ok(Selector::WriteTime(c)),
                    ("ttl", Some(c)) => Ok(Selector::Ttl(c)),
                    _ => Ok(Selector::Call(name, args)),
                }
            }
            Some(Tok::Ident(_)) | Some(Tok::QIdent(_)) => {
                let c = self.ident()?;
                if matches!(c.as_str(), "true" | "false" | "null") {
                    self.pos -= 1;
                    return Ok(Selector::Term(self.term()?));
                }
                Ok(Selector::Column(c))
            }
            _ => Ok(Selector::Term(self.term()?)),
        }
    }

    pub(super) fn eat_num(&mut self) -> bool {
        self.pos += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_insert_with_markers_and_using() {
        let st =
            parse("INSERT INTO ks.t (a, b) VALUES (?, :b) USING TTL ? AND TIMESTAMP 5;").unwrap();
        let Statement::Insert {
            table,
            values,
            using,
            ..
        } = st
        else {
            panic!()
        };
        assert_eq!(table.keyspace.as_deref(), Some("ks"));
        assert_eq!(
            values,
            vec![Term::Bind(0, None), Term::Bind(1, Some("b".into()))]
        );
        assert_eq!(using.ttl, Some(Term::Bind(2, None)));
        assert_eq!(using.timestamp, Some(Term::Number("5".into())));
    }

    #[test]
    fn parses_select_with_everything() {
        let st = parse(
            "select k, writetime(v) as w, count(*) FROM t WHERE k IN (1, 2) AND c >= 3 \
             ORDER BY c DESC LIMIT 10 ALLOW FILTERING",
        )
        .unwrap();
        let Statement::Select(s) = st else { panic!() };
        assert_eq!(s.wheres.len(), 2);
        assert_eq!(s.order, vec![("c".into(), true)]);
        assert!(s.allow_filtering);
    }

    #[test]
    fn parses_literals_and_batches() {
        let st = parse(
            "BEGIN UNLOGGED BATCH INSERT INTO t (a) VALUES ({'k': [1, -2.5e3], 'j': {x: 'it''s'}}); \
             UPDATE t SET n = n + 1, m['a'] = 0xff WHERE id = 123e4567-e89b-12d3-a456-426614174000; APPLY BATCH",
        )
        .unwrap();
        let Statement::Batch {
            kind, statements, ..
        } = st
        else {
            panic!()
        };
        assert_eq!((kind, statements.len()), (BatchKind::Unlogged, 2));
    }

    #[test]
    fn syntax_errors_are_syntax() {
        for bad in [
            "SELEKT * FROM t",
            "SELECT * FROM",
            "INSERT INTO t (a VALUES (1)",
            "'unterminated",
        ] {
            assert!(matches!(parse(bad), Err(Error::Syntax(_))), "{bad}");
        }
    }
}
