//! Recursive-descent parser for the T-SQL subset the stand-in runs (see the crate README).

use std::collections::HashSet;

use super::lexer::{tokenize, Tok, Token};
use super::value::{Typed, SYSNAME};
use crate::types::{SqlType, SqlValue};

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Typed),
    Var(String),
    /// `@@NAME`, upper-cased without the at signs.
    Global(String),
    Column {
        qualifier: Option<String>,
        name: String,
    },
    /// Function name upper-cased.
    Func(String, Vec<Expr>),
    CountStar,
    Cast(Box<Expr>, SqlType),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        negated: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    And,
    Or,
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    Value(Expr),
    Default,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExecArg {
    /// `@name` as written, when the argument is named.
    pub name: Option<String>,
    pub value: ArgValue,
    pub output: bool,
}

/// A (possibly qualified) object name: the parts as written, brackets removed; omitted middle
/// parts (`master..sp_x`) are empty strings.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectName {
    pub parts: Vec<String>,
}

impl ObjectName {
    pub fn last(&self) -> &str {
        self.parts.last().map(String::as_str).unwrap_or("")
    }
    /// The server part of a four-part name (`server.database.schema.object`).
    pub fn server(&self) -> Option<&str> {
        (self.parts.len() == 4).then(|| self.parts[0].as_str())
    }
    /// The local part: the database unless omitted (`db..x` too), the schema ("" when
    /// omitted) and the object.
    pub fn local_parts(&self) -> (Option<&str>, &str, &str) {
        match &self.parts[self.parts.len().saturating_sub(3)..] {
            [db, schema, object] => (Some(db.as_str()).filter(|d| !d.is_empty()), schema, object),
            [schema, object] => (None, schema, object),
            [object] => (None, "", object),
            _ => (None, "", ""),
        }
    }
    /// The name as SQL Server shows it in messages (`dbo.x`, brackets dropped).
    pub fn display(&self) -> String {
        self.parts.join(".")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExecStmt {
    pub status_var: Option<String>,
    pub name: ObjectName,
    pub args: Vec<ExecArg>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    Star(Option<String>),
    Expr { expr: Expr, alias: Option<String> },
    Assign { var: String, expr: Expr },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableRef {
    pub name: ObjectName,
    pub alias: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub kind: JoinKind,
    pub table: TableRef,
    pub on: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    pub top: Option<i64>,
    pub items: Vec<SelectItem>,
    pub from: Option<(TableRef, Vec<Join>)>,
    pub filter: Option<Expr>,
    pub order_by: Vec<(Expr, bool)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Exec(ExecStmt),
    /// `EXEC ('text' + @v) [AT server]`.
    ExecText {
        text: Vec<Expr>,
        at: Option<String>,
    },
    Declare(Vec<(String, SqlType, Option<Expr>)>),
    SetVar(String, Expr),
    /// `SET NOCOUNT ON` and the other session options (names upper-cased).
    SetOption {
        options: Vec<String>,
        value: String,
    },
    Select(Select),
    BeginTran,
    Commit,
    Rollback,
    Use(String),
    Print(Expr),
    /// `IF [NOT] EXISTS (SELECT …) stmt [ELSE stmt]` and `IF expr stmt [ELSE stmt]`.
    If {
        cond: Cond,
        then: Box<Statement>,
        otherwise: Option<Box<Statement>>,
    },
    /// `BEGIN … END`.
    Block(Vec<Statement>),
    /// `BEGIN TRY … END TRY BEGIN CATCH … END CATCH`.
    TryCatch {
        body: Vec<Statement>,
        handler: Vec<Statement>,
    },
    /// `THROW number, message, state`, or `THROW` (re-raise, only inside CATCH) as `None`.
    Throw(Option<ThrowArgs>),
    /// `RAISERROR (msg_id | msg_str | @v, severity, state [, args]) [WITH options]`.
    RaisError(RaisError),
    /// `RETURN` without a value (a batch cannot return one: Msg 178).
    Return,
}

/// The arguments of `THROW`: each a constant or a variable, as the THROW reference allows.
#[derive(Debug, Clone, PartialEq)]
pub struct ThrowArgs {
    pub number: Expr,
    pub message: Expr,
    pub state: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RaisError {
    pub message: Expr,
    pub severity: Expr,
    pub state: Expr,
    pub args: Vec<Expr>,
    pub log: bool,
    pub set_error: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Exists { select: Box<Select>, negated: bool },
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub stmt: Stmt,
    pub line: i32,
}

impl Statement {
    /// Calls `visit` on this statement and every statement nested in it (blocks, IF branches,
    /// TRY and CATCH blocks).
    pub fn walk(&self, visit: &mut impl FnMut(&Stmt)) {
        visit(&self.stmt);
        let nested: Vec<&Statement> = match &self.stmt {
            Stmt::If {
                then, otherwise, ..
            } => std::iter::once(then.as_ref())
                .chain(otherwise.as_deref())
                .collect(),
            Stmt::Block(body) => body.iter().collect(),
            Stmt::TryCatch { body, handler } => body.iter().chain(handler).collect(),
            _ => Vec::new(),
        };
        for statement in nested {
            statement.walk(visit);
        }
    }
}

/// A compile error: Msg 102 (or 105/113/134/137/243) and where.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub number: i32,
    pub arg: String,
    pub line: i32,
}

impl From<super::lexer::LexError> for ParseError {
    fn from(e: super::lexer::LexError) -> Self {
        ParseError {
            number: e.number,
            arg: e.near,
            line: e.line,
        }
    }
}

// THROW, TRY and CATCH are not reserved in T-SQL (`SELECT 1 throw` names a column).
#[rustfmt::skip]
const RESERVED: [&str; 44] = [
    "SELECT", "FROM", "WHERE", "ORDER", "EXEC", "EXECUTE", "DECLARE", "SET", "BEGIN", "COMMIT",
    "ROLLBACK", "USE", "PRINT", "JOIN", "LEFT", "INNER", "OUTER", "ON", "AND", "OR", "NOT", "IS",
    "NULL", "AS", "BY", "ASC", "DESC", "IN", "OUTPUT", "OUT", "AT", "WITH", "DEFAULT", "IF",
    "ELSE", "UNION", "TOP", "INSERT", "UPDATE", "DELETE", "LIKE", "END", "RETURN", "RAISERROR",
];

fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

/// Parses a batch. `declared` are variables already bound (sp_executesql parameters).
pub fn parse_batch(text: &str, declared: &[String]) -> Result<Vec<Statement>, ParseError> {
    let tokens = tokenize(text).map_err(ParseError::from)?;
    let mut parser = Parser::new(tokens, declared.iter().map(|v| v.to_lowercase()).collect());
    parser.statement_list(false)
}

/// Parses a procedure name given as text (an RPC by name), e.g. `master.dbo.sp_x`.
pub fn parse_object_name(text: &str) -> Option<ObjectName> {
    let tokens = tokenize(text).ok()?;
    let mut parser = Parser::new(tokens, HashSet::new());
    let name = parser.object_name().ok()?;
    (parser.peek().tok == Tok::End).then_some(name)
}

/// Declared parameters of a parameterised statement: name, type, OUTPUT.
pub type ParamDeclarations = Vec<(String, SqlType, bool)>;

/// Parses an sp_executesql parameter declaration list: `@P1 nvarchar(4000), @o int OUTPUT`.
pub fn parse_param_declarations(text: &str) -> Result<ParamDeclarations, ParseError> {
    let tokens = tokenize(text).map_err(ParseError::from)?;
    let mut parser = Parser::new(tokens, HashSet::new());
    let mut out = Vec::new();
    if parser.peek().tok == Tok::End {
        return Ok(out);
    }
    loop {
        let name = match parser.next().tok {
            Tok::Var(v) if !v.starts_with("@@") => v,
            _ => return Err(parser.error_at(parser.pos - 1)),
        };
        if parser.peek().is_kw("AS") {
            parser.pos += 1;
        }
        let ty = parser.data_type()?;
        let output = parser.peek().is_kw("OUTPUT") || parser.peek().is_kw("OUT");
        if output {
            parser.pos += 1;
        }
        out.push((name, ty, output));
        if parser.peek().is_sym(",") {
            parser.pos += 1;
            continue;
        }
        if parser.peek().tok == Tok::End {
            return Ok(out);
        }
        return Err(parser.error_here());
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    declared: HashSet<String>,
    /// CATCH blocks around the current position: `THROW;` is only valid inside one (lexically).
    catch_depth: u32,
}

type PResult<T> = Result<T, ParseError>;

impl Parser {
    fn new(tokens: Vec<Token>, declared: HashSet<String>) -> Self {
        Parser {
            tokens,
            pos: 0,
            declared,
            catch_depth: 0,
        }
    }

    /// The statements of a batch (up to its end) or of a block (up to its `END`, not consumed).
    /// The first statement of a batch may name a procedure without EXEC.
    fn statement_list(&mut self, in_block: bool) -> PResult<Vec<Statement>> {
        let mut statements = Vec::new();
        loop {
            while self.eat_sym(";") {}
            if self.peek().tok == Tok::End {
                if in_block {
                    return Err(self.error_here());
                }
                break;
            }
            if in_block && self.peek().is_kw("END") {
                break;
            }
            let implicit_exec = !in_block && statements.is_empty() && self.starts_implicit_exec();
            let statement = if implicit_exec {
                let line = self.peek().line;
                Statement {
                    stmt: Stmt::Exec(self.exec_call(None)?),
                    line,
                }
            } else {
                // THROW needs the statement before it ended with `;` (or none before it).
                let terminated = statements.is_empty() || self.tokens[self.pos - 1].is_sym(";");
                self.statement(terminated)?
            };
            statements.push(statement);
        }
        Ok(statements)
    }
    fn peek(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }
    fn peek_at(&self, offset: usize) -> &Token {
        &self.tokens[(self.pos + offset).min(self.tokens.len() - 1)]
    }
    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        token
    }
    /// Msg 102 near the token at `index`; at the end of the batch SQL Server names the last token.
    fn error_at(&self, index: usize) -> ParseError {
        let index = index.min(self.tokens.len() - 1);
        let token = if self.tokens[index].tok == Tok::End && index > 0 {
            &self.tokens[index - 1]
        } else {
            &self.tokens[index]
        };
        let near = match &token.tok {
            Tok::Str(s) | Tok::NStr(s) | Tok::Quoted(s) => s.clone(),
            _ => token.text.clone(),
        };
        ParseError {
            number: 102,
            arg: near,
            line: token.line,
        }
    }
    fn error_here(&self) -> ParseError {
        self.error_at(self.pos)
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.peek().is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect_kw(&mut self, kw: &str) -> PResult<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.error_here())
        }
    }
    fn eat_sym(&mut self, sym: &str) -> bool {
        if self.peek().is_sym(sym) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect_sym(&mut self, sym: &str) -> PResult<()> {
        if self.eat_sym(sym) {
            Ok(())
        } else {
            Err(self.error_here())
        }
    }

    fn starts_implicit_exec(&self) -> bool {
        match &self.peek().tok {
            Tok::Quoted(_) => true,
            Tok::Word(w) => !is_reserved(w) && !w.eq_ignore_ascii_case("THROW"),
            _ => false,
        }
    }

    /// One statement; `terminated`: it starts the batch or block, an IF branch, or follows `;`.
    fn statement(&mut self, terminated: bool) -> PResult<Statement> {
        let line = self.peek().line;
        let token = self.next();
        let word = match &token.tok {
            Tok::Word(w) => w.to_ascii_uppercase(),
            _ => return Err(self.error_at(self.pos - 1)),
        };
        let stmt = match word.as_str() {
            "EXEC" | "EXECUTE" => self.exec_statement()?,
            "DECLARE" => self.declare()?,
            "SET" => self.set_statement()?,
            "SELECT" => Stmt::Select(self.select_body()?),
            "THROW" if terminated => self.throw_statement(line)?,
            "RAISERROR" => Stmt::RaisError(self.raiserror()?),
            "RETURN" => {
                if self.starts_value() {
                    return Err(ParseError {
                        number: 178,
                        arg: String::new(),
                        line,
                    });
                }
                Stmt::Return
            }
            "BEGIN" => self.begin_statement()?,
            "COMMIT" | "ROLLBACK" => {
                if !(self.eat_kw("TRAN") || self.eat_kw("TRANSACTION")) {
                    self.eat_kw("WORK");
                } else {
                    self.optional_transaction_name();
                }
                if word == "COMMIT" {
                    Stmt::Commit
                } else {
                    Stmt::Rollback
                }
            }
            "USE" => Stmt::Use(self.identifier()?),
            "PRINT" => Stmt::Print(self.expr()?),
            "IF" => self.if_statement()?,
            _ => return Err(self.error_at(self.pos - 1)),
        };
        Ok(Statement { stmt, line })
    }

    /// After `BEGIN`: a transaction, a TRY…CATCH or a block (`BEGIN … END`, not empty).
    fn begin_statement(&mut self) -> PResult<Stmt> {
        if self.eat_kw("TRY") {
            return self.try_catch();
        }
        let transaction = ["DISTRIBUTED", "TRAN", "TRANSACTION"]
            .iter()
            .any(|kw| self.peek().is_kw(kw));
        if transaction {
            self.eat_kw("DISTRIBUTED");
            if !(self.eat_kw("TRAN") || self.eat_kw("TRANSACTION")) {
                return Err(self.error_here());
            }
            self.optional_transaction_name();
            if self.eat_kw("WITH") {
                self.expect_kw("MARK")?;
                if matches!(self.peek().tok, Tok::Str(_) | Tok::NStr(_)) {
                    self.pos += 1;
                }
            }
            return Ok(Stmt::BeginTran);
        }
        // A CATCH block only follows a TRY block.
        if self.peek().is_kw("CATCH") {
            return Err(self.error_here());
        }
        let body = self.statement_list(true)?;
        if body.is_empty() {
            return Err(self.error_here());
        }
        self.expect_kw("END")?;
        Ok(Stmt::Block(body))
    }

    /// After `BEGIN TRY`: the TRY block (not empty), `END TRY`, then immediately `BEGIN CATCH`,
    /// the CATCH block (may be empty) and `END CATCH`.
    fn try_catch(&mut self) -> PResult<Stmt> {
        let body = self.statement_list(true)?;
        if body.is_empty() {
            return Err(self.error_here());
        }
        self.expect_kw("END")?;
        self.expect_kw("TRY")?;
        self.expect_kw("BEGIN")?;
        self.expect_kw("CATCH")?;
        self.catch_depth += 1;
        let handler = self.statement_list(true);
        self.catch_depth -= 1;
        let handler = handler?;
        self.expect_kw("END")?;
        self.expect_kw("CATCH")?;
        Ok(Stmt::TryCatch { body, handler })
    }

    /// True when the next token can start a value (a RETURN with a value).
    fn starts_value(&self) -> bool {
        match &self.peek().tok {
            Tok::Var(_) | Tok::NStr(_) | Tok::Str(_) | Tok::Number(_) => true,
            Tok::Sym(s) => matches!(*s, "(" | "-" | "+"),
            Tok::Word(w) => w.eq_ignore_ascii_case("NULL"),
            _ => false,
        }
    }

    /// After `THROW`: nothing (re-raise, Msg 10704 outside a CATCH block) or three arguments.
    fn throw_statement(&mut self, line: i32) -> PResult<Stmt> {
        let rethrow = matches!(self.peek().tok, Tok::End | Tok::Sym(";"))
            || self.peek().is_kw("END")
            || !self.starts_value() && !matches!(self.peek().tok, Tok::Sym(_));
        if rethrow {
            if self.catch_depth == 0 {
                return Err(ParseError {
                    number: 10704,
                    arg: String::new(),
                    line,
                });
            }
            return Ok(Stmt::Throw(None));
        }
        let number = self.constant_or_variable(false)?;
        self.expect_sym(",")?;
        let message = self.constant_or_variable(true)?;
        self.expect_sym(",")?;
        let state = self.constant_or_variable(false)?;
        Ok(Stmt::Throw(Some(ThrowArgs {
            number,
            message,
            state,
        })))
    }

    /// A THROW/RAISERROR argument: a variable, or a constant (a number, optionally negative, or
    /// with `string` a string literal); expressions are a syntax error.
    fn constant_or_variable(&mut self, string: bool) -> PResult<Expr> {
        let line = self.peek().line;
        match self.next().tok {
            Tok::Var(v) if !v.starts_with("@@") => {
                self.use_variable(&v, line)?;
                Ok(Expr::Var(v))
            }
            Tok::NStr(s) if string => Ok(Expr::Literal(Typed::nvarchar(&s))),
            Tok::Str(s) if string => Ok(Expr::Literal(varchar_literal(&s))),
            Tok::Number(n) if !string => Ok(Expr::Literal(self.number(&n)?)),
            Tok::Sym("-") if !string => match self.next().tok {
                Tok::Number(n) => Ok(Expr::Literal(negate(self.number(&n)?))),
                _ => Err(self.error_at(self.pos - 1)),
            },
            _ => Err(self.error_at(self.pos - 1)),
        }
    }

    /// After `RAISERROR`: `(msg, severity, state [, args]) [WITH LOG|NOWAIT|SETERROR, …]`.
    fn raiserror(&mut self) -> PResult<RaisError> {
        self.expect_sym("(")?;
        let message = match self.peek().tok {
            Tok::Number(_) => self.constant_or_variable(false)?,
            _ => self.constant_or_variable(true)?,
        };
        self.expect_sym(",")?;
        let severity = self.constant_or_variable(false)?;
        self.expect_sym(",")?;
        let state = self.constant_or_variable(false)?;
        let mut args = Vec::new();
        while self.eat_sym(",") {
            let string = matches!(self.peek().tok, Tok::Str(_) | Tok::NStr(_));
            args.push(self.constant_or_variable(string)?);
        }
        self.expect_sym(")")?;
        let (mut log, mut set_error) = (false, false);
        if self.eat_kw("WITH") {
            loop {
                if self.eat_kw("LOG") {
                    log = true;
                } else if self.eat_kw("SETERROR") {
                    set_error = true;
                } else {
                    self.expect_kw("NOWAIT")?;
                }
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        Ok(RaisError {
            message,
            severity,
            state,
            args,
            log,
            set_error,
        })
    }

    fn optional_transaction_name(&mut self) {
        let is_name = match &self.peek().tok {
            Tok::Quoted(_) | Tok::Var(_) => true,
            Tok::Word(w) => !is_reserved(w),
            _ => false,
        };
        if is_name {
            self.pos += 1;
        }
    }

    fn if_statement(&mut self) -> PResult<Stmt> {
        let cond = if self.peek().is_kw("EXISTS")
            || (self.peek().is_kw("NOT") && self.peek_at(1).is_kw("EXISTS"))
        {
            let negated = self.eat_kw("NOT");
            self.expect_kw("EXISTS")?;
            self.expect_sym("(")?;
            self.expect_kw("SELECT")?;
            let select = self.select_body()?;
            self.expect_sym(")")?;
            Cond::Exists {
                select: Box::new(select),
                negated,
            }
        } else {
            Cond::Expr(self.expr()?)
        };
        let then = Box::new(self.statement(true)?);
        self.eat_sym(";");
        let otherwise = if self.eat_kw("ELSE") {
            Some(Box::new(self.statement(true)?))
        } else {
            None
        };
        Ok(Stmt::If {
            cond,
            then,
            otherwise,
        })
    }

    fn identifier(&mut self) -> PResult<String> {
        match self.next().tok {
            Tok::Quoted(q) => Ok(q),
            Tok::Word(w) if !is_reserved(&w) => Ok(w),
            _ => Err(self.error_at(self.pos - 1)),
        }
    }

    fn object_name(&mut self) -> PResult<ObjectName> {
        let mut parts = Vec::new();
        // Leading empty parts are not T-SQL; middle ones are (`master..sp_x`).
        parts.push(self.identifier()?);
        while self.peek().is_sym(".") {
            self.pos += 1;
            if self.peek().is_sym(".") {
                parts.push(String::new());
                continue;
            }
            parts.push(self.identifier()?);
        }
        if parts.len() > 4 {
            return Err(self.error_here());
        }
        Ok(ObjectName { parts })
    }

    fn variable(&mut self) -> PResult<String> {
        match self.next().tok {
            Tok::Var(v) if !v.starts_with("@@") => Ok(v),
            _ => Err(self.error_at(self.pos - 1)),
        }
    }

    fn use_variable(&mut self, name: &str, line: i32) -> PResult<()> {
        if self.declared.contains(&name.to_lowercase()) {
            Ok(())
        } else {
            Err(ParseError {
                number: 137,
                arg: name.to_string(),
                line,
            })
        }
    }

    fn exec_statement(&mut self) -> PResult<Stmt> {
        if self.peek().is_sym("(") {
            self.pos += 1;
            let mut text = vec![self.expr()?];
            while self.eat_sym("+") {
                text.push(self.expr()?);
            }
            self.expect_sym(")")?;
            let at = if self.eat_kw("AT") {
                Some(self.identifier()?)
            } else {
                None
            };
            return Ok(Stmt::ExecText { text, at });
        }
        let status_var = if matches!(&self.peek().tok, Tok::Var(v) if !v.starts_with("@@"))
            && self.peek_at(1).is_sym("=")
        {
            let line = self.peek().line;
            let var = self.variable()?;
            self.use_variable(&var, line)?;
            self.pos += 1;
            Some(var)
        } else {
            None
        };
        Ok(Stmt::Exec(self.exec_call(status_var)?))
    }

    fn exec_call(&mut self, status_var: Option<String>) -> PResult<ExecStmt> {
        let name = self.object_name()?;
        let mut args: Vec<ExecArg> = Vec::new();
        if self.starts_argument() {
            loop {
                let line = self.peek().line;
                let arg = self.exec_arg()?;
                // SQL Server refuses this while compiling the batch, so nothing runs.
                if arg.name.is_none() && args.iter().any(|a| a.name.is_some()) {
                    return Err(ParseError {
                        number: 119,
                        arg: (args.len() + 1).to_string(),
                        line,
                    });
                }
                args.push(arg);
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        Ok(ExecStmt {
            status_var,
            name,
            args,
        })
    }

    fn starts_argument(&self) -> bool {
        match &self.peek().tok {
            Tok::Var(_) | Tok::NStr(_) | Tok::Str(_) | Tok::Number(_) | Tok::Quoted(_) => true,
            Tok::Sym(s) => *s == "-",
            Tok::Word(w) => {
                w.eq_ignore_ascii_case("NULL")
                    || w.eq_ignore_ascii_case("DEFAULT")
                    || !is_reserved(w)
            }
            Tok::End => false,
        }
    }

    fn exec_arg(&mut self) -> PResult<ExecArg> {
        let name = if matches!(&self.peek().tok, Tok::Var(v) if !v.starts_with("@@"))
            && self.peek_at(1).is_sym("=")
        {
            let name = self.variable()?;
            self.pos += 1;
            Some(name)
        } else {
            None
        };
        let line = self.peek().line;
        let value = match self.next().tok {
            Tok::Word(w) if w.eq_ignore_ascii_case("DEFAULT") => ArgValue::Default,
            Tok::Word(w) if w.eq_ignore_ascii_case("NULL") => {
                ArgValue::Value(Expr::Literal(Typed::null()))
            }
            // A bare word (or a delimited one) is an nvarchar string.
            Tok::Word(w) if !is_reserved(&w) => ArgValue::Value(Expr::Literal(Typed::nvarchar(&w))),
            Tok::Quoted(q) => ArgValue::Value(Expr::Literal(Typed::nvarchar(&q))),
            Tok::NStr(s) => ArgValue::Value(Expr::Literal(Typed::nvarchar(&s))),
            Tok::Str(s) => ArgValue::Value(Expr::Literal(varchar_literal(&s))),
            Tok::Number(n) => ArgValue::Value(Expr::Literal(self.number(&n)?)),
            Tok::Sym("-") => match self.next().tok {
                Tok::Number(n) => ArgValue::Value(Expr::Literal(negate(self.number(&n)?))),
                _ => return Err(self.error_at(self.pos - 1)),
            },
            Tok::Var(v) if v.starts_with("@@") => {
                ArgValue::Value(Expr::Global(v[2..].to_ascii_uppercase()))
            }
            Tok::Var(v) => {
                self.use_variable(&v, line)?;
                ArgValue::Value(Expr::Var(v))
            }
            _ => return Err(self.error_at(self.pos - 1)),
        };
        let output = self.eat_kw("OUTPUT") || self.eat_kw("OUT");
        Ok(ExecArg {
            name,
            value,
            output,
        })
    }

    fn number(&self, text: &str) -> PResult<Typed> {
        match text.parse::<i64>() {
            Ok(n) if n <= i32::MAX as i64 => Ok(Typed::int(n)),
            Ok(n) => Ok(Typed::new(SqlValue::Int(n), SqlType::BigInt)),
            // Decimal literals are outside the subset.
            Err(_) => Err(self.error_at(self.pos - 1)),
        }
    }

    fn data_type(&mut self) -> PResult<SqlType> {
        let line = self.peek().line;
        let name = match self.next().tok {
            Tok::Word(w) | Tok::Quoted(w) => w.to_ascii_lowercase(),
            _ => return Err(self.error_at(self.pos - 1)),
        };
        let length = if self.eat_sym("(") {
            let len = match self.next().tok {
                Tok::Word(w) if w.eq_ignore_ascii_case("max") => None,
                Tok::Number(n) => Some(n.parse::<u16>().map_err(|_| self.error_at(self.pos - 1))?),
                _ => return Err(self.error_at(self.pos - 1)),
            };
            self.expect_sym(")")?;
            Some(len)
        } else {
            None
        };
        let ty = match name.as_str() {
            "int" | "integer" => SqlType::Int,
            "bigint" => SqlType::BigInt,
            "smallint" => SqlType::SmallInt,
            "tinyint" => SqlType::TinyInt,
            "bit" => SqlType::Bit,
            "sysname" => SYSNAME,
            "datetime" => SqlType::DateTime,
            "ntext" => SqlType::NText,
            "nvarchar" | "nchar" => SqlType::NVarChar(length.unwrap_or(Some(1))),
            "varchar" | "char" => SqlType::VarChar(length.unwrap_or(Some(1))),
            _ => {
                return Err(ParseError {
                    number: 243,
                    arg: name,
                    line,
                })
            }
        };
        Ok(ty)
    }

    fn declare(&mut self) -> PResult<Stmt> {
        let mut vars = Vec::new();
        loop {
            let line = self.peek().line;
            let name = self.variable()?;
            if !self.declared.insert(name.to_lowercase()) {
                return Err(ParseError {
                    number: 134,
                    arg: name,
                    line,
                });
            }
            self.eat_kw("AS");
            let ty = self.data_type()?;
            let init = if self.eat_sym("=") {
                Some(self.expr()?)
            } else {
                None
            };
            vars.push((name, ty, init));
            if !self.eat_sym(",") {
                break;
            }
        }
        Ok(Stmt::Declare(vars))
    }

    fn set_statement(&mut self) -> PResult<Stmt> {
        if let Tok::Var(v) = &self.peek().tok {
            if !v.starts_with("@@") {
                let line = self.peek().line;
                let var = self.variable()?;
                self.use_variable(&var, line)?;
                self.expect_sym("=")?;
                return Ok(Stmt::SetVar(var, self.expr()?));
            }
        }
        if self.eat_kw("TRANSACTION") {
            // SET TRANSACTION ISOLATION LEVEL <words>: accepted, the stand-in has no locking.
            let mut words = Vec::new();
            while let Tok::Word(w) = &self.peek().tok {
                if is_reserved(w) {
                    break;
                }
                words.push(w.to_ascii_uppercase());
                self.pos += 1;
            }
            return Ok(Stmt::SetOption {
                options: vec!["TRANSACTION".into()],
                value: words.join(" "),
            });
        }
        let mut options = Vec::new();
        loop {
            match self.next().tok {
                Tok::Word(w) => options.push(w.to_ascii_uppercase()),
                _ => return Err(self.error_at(self.pos - 1)),
            }
            if !self.eat_sym(",") {
                break;
            }
        }
        let value = match self.next().tok {
            Tok::Word(w) => w.to_ascii_uppercase(),
            Tok::Number(n) => n,
            Tok::Str(s) | Tok::NStr(s) => s,
            Tok::Sym("-") => match self.next().tok {
                Tok::Number(n) => format!("-{n}"),
                _ => return Err(self.error_at(self.pos - 1)),
            },
            _ => return Err(self.error_at(self.pos - 1)),
        };
        Ok(Stmt::SetOption { options, value })
    }

    fn select_body(&mut self) -> PResult<Select> {
        let top = if self.eat_kw("TOP") {
            let parenthesised = self.eat_sym("(");
            let n = match self.next().tok {
                Tok::Number(n) => n.parse::<i64>().map_err(|_| self.error_at(self.pos - 1))?,
                _ => return Err(self.error_at(self.pos - 1)),
            };
            if parenthesised {
                self.expect_sym(")")?;
            }
            Some(n)
        } else {
            None
        };
        let mut items = Vec::new();
        loop {
            items.push(self.select_item()?);
            if !self.eat_sym(",") {
                break;
            }
        }
        let from = if self.eat_kw("FROM") {
            let first = self.table_ref()?;
            let mut joins = Vec::new();
            loop {
                let kind = if self.eat_kw("LEFT") {
                    self.eat_kw("OUTER");
                    JoinKind::Left
                } else if self.eat_kw("INNER") || self.peek().is_kw("JOIN") {
                    JoinKind::Inner
                } else {
                    break;
                };
                self.expect_kw("JOIN")?;
                let table = self.table_ref()?;
                self.expect_kw("ON")?;
                let on = self.expr()?;
                joins.push(Join { kind, table, on });
            }
            Some((first, joins))
        } else {
            None
        };
        let filter = if self.eat_kw("WHERE") {
            Some(self.expr()?)
        } else {
            None
        };
        let mut order_by = Vec::new();
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            loop {
                let expr = self.expr()?;
                let descending = if self.eat_kw("DESC") {
                    true
                } else {
                    self.eat_kw("ASC");
                    false
                };
                order_by.push((expr, descending));
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        Ok(Select {
            top,
            items,
            from,
            filter,
            order_by,
        })
    }

    fn select_item(&mut self) -> PResult<SelectItem> {
        if self.eat_sym("*") {
            return Ok(SelectItem::Star(None));
        }
        let qualified_star = matches!(self.peek().tok, Tok::Word(_) | Tok::Quoted(_))
            && self.peek_at(1).is_sym(".")
            && self.peek_at(2).is_sym("*");
        if qualified_star {
            let qualifier = self.identifier()?;
            self.pos += 2;
            return Ok(SelectItem::Star(Some(qualifier)));
        }
        if matches!(&self.peek().tok, Tok::Var(v) if !v.starts_with("@@"))
            && self.peek_at(1).is_sym("=")
        {
            let line = self.peek().line;
            let var = self.variable()?;
            self.use_variable(&var, line)?;
            self.pos += 1;
            return Ok(SelectItem::Assign {
                var,
                expr: self.expr()?,
            });
        }
        let expr = self.expr()?;
        let alias_follows = self.eat_kw("AS")
            || matches!(&self.peek().tok, Tok::Quoted(_) | Tok::Str(_))
            || matches!(&self.peek().tok, Tok::Word(w) if !is_reserved(w));
        let alias = if alias_follows {
            Some(self.alias()?)
        } else {
            None
        };
        Ok(SelectItem::Expr { expr, alias })
    }

    fn alias(&mut self) -> PResult<String> {
        match self.next().tok {
            Tok::Quoted(q) | Tok::Str(q) | Tok::NStr(q) => Ok(q),
            Tok::Word(w) if !is_reserved(&w) => Ok(w),
            _ => Err(self.error_at(self.pos - 1)),
        }
    }

    fn table_ref(&mut self) -> PResult<TableRef> {
        let name = self.object_name()?;
        let alias_follows = self.eat_kw("AS")
            || matches!(&self.peek().tok, Tok::Quoted(_))
            || matches!(&self.peek().tok, Tok::Word(w) if !is_reserved(w));
        let alias = if alias_follows {
            Some(self.identifier()?)
        } else {
            None
        };
        Ok(TableRef { name, alias })
    }

    fn expr(&mut self) -> PResult<Expr> {
        let mut left = self.and_expr()?;
        while self.eat_kw("OR") {
            let right = self.and_expr()?;
            left = Expr::Binary(BinOp::Or, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        let mut left = self.not_expr()?;
        while self.eat_kw("AND") {
            let right = self.not_expr()?;
            left = Expr::Binary(BinOp::And, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> PResult<Expr> {
        if self.eat_kw("NOT") {
            return Ok(Expr::Not(Box::new(self.not_expr()?)));
        }
        self.predicate()
    }

    fn predicate(&mut self) -> PResult<Expr> {
        let left = self.additive()?;
        if self.eat_kw("IS") {
            let negated = self.eat_kw("NOT");
            self.expect_kw("NULL")?;
            return Ok(Expr::IsNull {
                expr: Box::new(left),
                negated,
            });
        }
        let negated = self.peek().is_kw("NOT")
            && (self.peek_at(1).is_kw("IN") || self.peek_at(1).is_kw("LIKE"));
        if negated {
            self.pos += 1;
        }
        if self.eat_kw("LIKE") {
            let pattern = self.additive()?;
            return Ok(Expr::Like {
                expr: Box::new(left),
                pattern: Box::new(pattern),
                negated,
            });
        }
        let negated_in = negated;
        if self.eat_kw("IN") {
            self.expect_sym("(")?;
            let mut list = vec![self.additive()?];
            while self.eat_sym(",") {
                list.push(self.additive()?);
            }
            self.expect_sym(")")?;
            return Ok(Expr::InList {
                expr: Box::new(left),
                list,
                negated: negated_in,
            });
        }
        let op = match &self.peek().tok {
            Tok::Sym("=") => BinOp::Eq,
            Tok::Sym("<>") | Tok::Sym("!=") => BinOp::Ne,
            Tok::Sym("<") => BinOp::Lt,
            Tok::Sym(">") => BinOp::Gt,
            Tok::Sym("<=") => BinOp::Le,
            Tok::Sym(">=") => BinOp::Ge,
            _ => return Ok(left),
        };
        self.pos += 1;
        let right = self.additive()?;
        Ok(Expr::Binary(op, Box::new(left), Box::new(right)))
    }

    fn additive(&mut self) -> PResult<Expr> {
        let mut left = self.multiplicative()?;
        loop {
            let op = if self.eat_sym("+") {
                BinOp::Add
            } else if self.eat_sym("-") {
                BinOp::Sub
            } else {
                return Ok(left);
            };
            let right = self.multiplicative()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn multiplicative(&mut self) -> PResult<Expr> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat_sym("*") {
                BinOp::Mul
            } else if self.eat_sym("/") {
                BinOp::Div
            } else {
                return Ok(left);
            };
            let right = self.unary()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        if self.eat_sym("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> PResult<Expr> {
        let line = self.peek().line;
        let token = self.next();
        match token.tok {
            Tok::NStr(s) => Ok(Expr::Literal(Typed::nvarchar(&s))),
            Tok::Str(s) => Ok(Expr::Literal(varchar_literal(&s))),
            Tok::Number(n) => Ok(Expr::Literal(self.number(&n)?)),
            Tok::Var(v) if v.starts_with("@@") => Ok(Expr::Global(v[2..].to_ascii_uppercase())),
            Tok::Var(v) => {
                self.use_variable(&v, line)?;
                Ok(Expr::Var(v))
            }
            Tok::Sym("(") => {
                let inner = self.expr()?;
                self.expect_sym(")")?;
                Ok(inner)
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("NULL") => Ok(Expr::Literal(Typed::null())),
            Tok::Word(w) if w.eq_ignore_ascii_case("CAST") => {
                self.expect_sym("(")?;
                let inner = self.expr()?;
                self.expect_kw("AS")?;
                let ty = self.data_type()?;
                self.expect_sym(")")?;
                Ok(Expr::Cast(Box::new(inner), ty))
            }
            Tok::Word(w) if !is_reserved(&w) && self.peek().is_sym("(") => {
                self.pos += 1;
                let name = w.to_ascii_uppercase();
                if name == "COUNT" && self.eat_sym("*") {
                    self.expect_sym(")")?;
                    return Ok(Expr::CountStar);
                }
                let mut args = Vec::new();
                if !self.eat_sym(")") {
                    loop {
                        args.push(self.expr()?);
                        if !self.eat_sym(",") {
                            break;
                        }
                    }
                    self.expect_sym(")")?;
                }
                Ok(Expr::Func(name, args))
            }
            Tok::Word(w) if !is_reserved(&w) => self.column_rest(w),
            Tok::Quoted(q) => self.column_rest(q),
            _ => Err(self.error_at(self.pos - 1)),
        }
    }

    fn column_rest(&mut self, first: String) -> PResult<Expr> {
        if self.eat_sym(".") {
            let name = self.identifier()?;
            return Ok(Expr::Column {
                qualifier: Some(first),
                name,
            });
        }
        Ok(Expr::Column {
            qualifier: None,
            name: first,
        })
    }
}

fn varchar_literal(text: &str) -> Typed {
    let len = text.len().clamp(1, 8000) as u16;
    Typed::new(
        SqlValue::String(text.to_string()),
        SqlType::VarChar(Some(len)),
    )
}

fn negate(value: Typed) -> Typed {
    match value.value {
        SqlValue::Int(n) => Typed::new(SqlValue::Int(-n), value.ty),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_with_named_positional_output_and_default() {
        let batch = parse_batch(
            "DECLARE @rc int, @o sysname; EXEC @rc = [master].dbo.sp_x N'a', b, @p = DEFAULT, @q = @o OUTPUT",
            &[],
        )
        .unwrap();
        let Stmt::Exec(exec) = &batch[1].stmt else {
            panic!("not an EXEC: {batch:?}")
        };
        assert_eq!(exec.status_var.as_deref(), Some("@rc"));
        assert_eq!(exec.name.parts, vec!["master", "dbo", "sp_x"]);
        assert_eq!(exec.args.len(), 4);
        assert_eq!(
            exec.args[1].value,
            ArgValue::Value(Expr::Literal(Typed::nvarchar("b")))
        );
        assert_eq!(exec.args[2].value, ArgValue::Default);
        assert!(exec.args[3].output);
    }

    #[test]
    fn first_statement_may_omit_exec() {
        let batch = parse_batch("sp_helpserver\nselect 1", &[]).unwrap();
        assert!(matches!(&batch[0].stmt, Stmt::Exec(e) if e.name.last() == "sp_helpserver"));
        assert_eq!(batch.len(), 2);
    }

    #[test]
    fn undeclared_variable_is_137() {
        let err = parse_batch("select @nope", &[]).unwrap_err();
        assert_eq!((err.number, err.arg.as_str()), (137, "@nope"));
        assert!(parse_batch("select @p1", &["@P1".into()]).is_ok());
    }

    #[test]
    fn syntax_error_names_the_token() {
        let err = parse_batch("select 1 from", &[]).unwrap_err();
        assert_eq!((err.number, err.arg.as_str()), (102, "from"));
        let err = parse_batch("exec sp_x,", &[]).unwrap_err();
        assert_eq!(err.arg, ",");
    }

    #[test]
    fn select_with_join_where_order() {
        let batch = parse_batch(
            "SELECT s.name, l.remote_name AS r FROM sys.servers s LEFT JOIN sys.linked_logins AS l ON s.server_id = l.server_id WHERE s.server_id <> 0 AND (l.remote_name IS NULL OR NOT s.is_linked = 0) ORDER BY s.name DESC",
            &[],
        )
        .unwrap();
        let Stmt::Select(select) = &batch[0].stmt else {
            panic!()
        };
        let (first, joins) = select.from.as_ref().unwrap();
        assert_eq!(first.alias.as_deref(), Some("s"));
        assert_eq!(joins[0].kind, JoinKind::Left);
        assert_eq!(select.order_by.len(), 1);
        assert!(select.order_by[0].1);
    }

    #[test]
    fn try_catch_blocks_and_throw() {
        let batch = parse_batch(
            "BEGIN TRY\n  EXEC sp_x\nEND TRY\nBEGIN CATCH\n  IF 1 = 1 BEGIN THROW END;\n  THROW\nEND CATCH",
            &[],
        )
        .unwrap();
        let Stmt::TryCatch { body, handler } = &batch[0].stmt else {
            panic!("not a TRY: {batch:?}")
        };
        assert!(matches!(&body[0].stmt, Stmt::Exec(e) if e.args.is_empty()));
        assert_eq!(body[0].line, 2);
        assert!(matches!(&handler[0].stmt, Stmt::If { then, .. }
            if matches!(&then.stmt, Stmt::Block(b) if b[0].stmt == Stmt::Throw(None))));
        assert_eq!(handler[1].stmt, Stmt::Throw(None));
        // THROW; is checked lexically: outside CATCH (even in a TRY) it is 10704.
        let err = parse_batch("BEGIN TRY THROW END TRY BEGIN CATCH END CATCH", &[]).unwrap_err();
        assert_eq!(err.number, 10704);
        // The statement before THROW ends with `;`; nothing stands between END TRY and BEGIN CATCH.
        let err = parse_batch("PRINT 1 THROW 50000, 'x', 1", &[]).unwrap_err();
        assert_eq!((err.number, err.arg.as_str()), (102, "THROW"));
        let err = parse_batch("BEGIN TRY PRINT 1 END TRY; BEGIN CATCH END CATCH", &[]).unwrap_err();
        assert_eq!((err.number, err.arg.as_str()), (102, ";"));
        // RETURN with a value is 178; RAISERROR's options.
        assert_eq!(parse_batch("RETURN 1", &[]).unwrap_err().number, 178);
        let batch = parse_batch("RAISERROR('a %s', 16, 1, N'b') WITH LOG, SETERROR", &[]).unwrap();
        assert!(
            matches!(&batch[0].stmt, Stmt::RaisError(r) if r.log && r.set_error && r.args.len() == 1)
        );
    }

    #[test]
    fn declarations_of_sp_executesql() {
        let decls =
            parse_param_declarations("@P1 nvarchar(4000), @P2 int, @o sysname OUTPUT").unwrap();
        assert_eq!(
            decls[0],
            ("@P1".to_string(), SqlType::NVarChar(Some(4000)), false)
        );
        assert_eq!(decls[2], ("@o".to_string(), SYSNAME, true));
    }
}
