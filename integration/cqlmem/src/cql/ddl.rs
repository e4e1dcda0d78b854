//! DDL and DESCRIBE statements of the parser.

use super::ast::*;
use super::lexer::Tok;
use super::parser::Parser;
use crate::error::Result;

impl Parser {
    pub(super) fn describe(&mut self) -> Result<Statement> {
        let d = if self.eat_kw("keyspaces") {
            Describe::Keyspaces
        } else if self.eat_kw("tables") {
            Describe::Tables
        } else if self.eat_kw("types") {
            Describe::Types
        } else if self.eat_kw("cluster") {
            Describe::Cluster
        } else if self.eat_kw("keyspace") || self.eat_kw("schema") {
            match self.peek() {
                Some(Tok::Ident(_)) | Some(Tok::QIdent(_)) => {
                    Describe::Keyspace(Some(self.ident()?))
                }
                _ => Describe::Keyspace(None),
            }
        } else {
            let _ = self.eat_kw("table") || self.eat_kw("columnfamily");
            Describe::Table(self.table_ref()?)
        };
        Ok(Statement::Describe(d))
    }

    // ---- DDL ---------------------------------------------------------------

    pub(super) fn options(&mut self) -> Result<Vec<(String, Term)>> {
        let mut opts = Vec::new();
        if !self.eat_kw("with") {
            return Ok(opts);
        }
        loop {
            let name = self.ident()?;
            self.sym("=")?;
            opts.push((name, self.term()?));
            if !self.eat_kw("and") {
                return Ok(opts);
            }
        }
    }

    pub(super) fn create(&mut self) -> Result<Statement> {
        if self.eat_kw("keyspace") || self.eat_kw("schema") {
            let if_not_exists = self.if_not_exists()?;
            let name = self.ident()?;
            let options = self.options()?;
            return Ok(Statement::CreateKeyspace {
                name,
                if_not_exists,
                options,
            });
        }
        if self.eat_kw("table") || self.eat_kw("columnfamily") {
            return self.create_table();
        }
        if self.eat_kw("type") {
            let if_not_exists = self.if_not_exists()?;
            let name = self.table_ref()?;
            self.sym("(")?;
            let mut fields = Vec::new();
            loop {
                let f = self.ident()?;
                fields.push((f, self.type_expr()?));
                if self.eat_sym(")") {
                    break;
                }
                self.sym(",")?;
            }
            return Ok(Statement::CreateType {
                name,
                if_not_exists,
                fields,
            });
        }
        if self.eat_kw("custom") || self.is_kw("index") {
            self.pos = self.toks.len();
            return Ok(Statement::CreateIndex);
        }
        Err(self.unexpected("KEYSPACE, TABLE or TYPE"))
    }

    pub(super) fn create_table(&mut self) -> Result<Statement> {
        let if_not_exists = self.if_not_exists()?;
        let table = self.table_ref()?;
        self.sym("(")?;
        let (mut columns, mut partition_key, mut clustering) = (Vec::new(), Vec::new(), Vec::new());
        loop {
            if self.is_kw("primary") && self.is_kw_at(1, "key") {
                self.pos += 2;
                self.sym("(")?;
                if self.eat_sym("(") {
                    loop {
                        partition_key.push(self.ident()?);
                        if self.eat_sym(")") {
                            break;
                        }
                        self.sym(",")?;
                    }
                } else {
                    partition_key.push(self.ident()?);
                }
                while self.eat_sym(",") {
                    clustering.push(self.ident()?);
                }
                self.sym(")")?;
            } else {
                let name = self.ident()?;
                let ty = self.type_expr()?;
                let is_static = self.eat_kw("static");
                if self.eat_kw("primary") {
                    self.kw("key")?;
                    partition_key.push(name.clone());
                }
                columns.push(ColumnDecl {
                    name,
                    ty,
                    is_static,
                });
            }
            if self.eat_sym(")") {
                break;
            }
            self.sym(",")?;
            if self.eat_sym(")") {
                break;
            }
        }
        let mut order = Vec::new();
        let mut options = Vec::new();
        if self.eat_kw("with") {
            loop {
                if self.eat_kw("clustering") {
                    self.kw("order")?;
                    self.kw("by")?;
                    self.sym("(")?;
                    loop {
                        let c = self.ident()?;
                        let desc = if self.eat_kw("desc") {
                            true
                        } else {
                            self.eat_kw("asc");
                            false
                        };
                        order.push((c, desc));
                        if self.eat_sym(")") {
                            break;
                        }
                        self.sym(",")?;
                    }
                } else if self.eat_kw("compact") {
                    self.kw("storage")?;
                } else {
                    let name = self.ident()?;
                    self.sym("=")?;
                    options.push((name, self.term()?));
                }
                if !self.eat_kw("and") {
                    break;
                }
            }
        }
        Ok(Statement::CreateTable(CreateTable {
            table,
            if_not_exists,
            columns,
            partition_key,
            clustering,
            order,
            options,
        }))
    }

    pub(super) fn drop(&mut self) -> Result<Statement> {
        if self.eat_kw("keyspace") || self.eat_kw("schema") {
            let if_exists = self.if_exists()?;
            return Ok(Statement::DropKeyspace {
                if_exists,
                name: self.ident()?,
            });
        }
        if self.eat_kw("table") || self.eat_kw("columnfamily") {
            let if_exists = self.if_exists()?;
            return Ok(Statement::DropTable {
                if_exists,
                table: self.table_ref()?,
            });
        }
        if self.eat_kw("type") {
            let if_exists = self.if_exists()?;
            return Ok(Statement::DropType {
                if_exists,
                name: self.table_ref()?,
            });
        }
        if self.eat_kw("index") {
            self.pos = self.toks.len();
            return Ok(Statement::CreateIndex);
        }
        Err(self.unexpected("KEYSPACE, TABLE or TYPE"))
    }

    pub(super) fn alter(&mut self) -> Result<Statement> {
        if self.eat_kw("keyspace") {
            let name = self.ident()?;
            let options = self.options()?;
            return Ok(Statement::AlterKeyspace { name, options });
        }
        if self.eat_kw("table") {
            let table = self.table_ref()?;
            self.pos = self.toks.len();
            return Ok(Statement::AlterTable { table });
        }
        Err(self.unexpected("KEYSPACE or TABLE"))
    }
}
