//! SELECT: expression evaluation, the catalog views as row sources, joins, WHERE, ORDER BY.

use std::cmp::Ordering;

use super::biztalk::MGMT_DB;
use super::catalog::{Permission, FIXED_ROLES};
use super::exec::Frame;
use super::parser::{BinOp, Expr, JoinKind, Select, SelectItem, TableRef};
use super::value::{
    convert, is_string_type, to_text, truncate_utf16, Typed, NAME_COLLATION, NVARCHAR_4000, SYSNAME,
};
use super::Session;
use crate::types::{Column, ResultSet, ServerMessage, SqlType, SqlValue};

pub const PRODUCT_VERSION: &str = "16.0.4135.4";
pub const EDITION: &str = "Developer Edition (64-bit)";

/// Why a SELECT failed: its messages, and whether the error ends the batch (208/207 do) and
/// also rolls back an open transaction (a link refused with 7411).
#[derive(Debug)]
pub struct SelectFailure {
    pub messages: Vec<ServerMessage>,
    pub abort: bool,
    pub ends_transaction: bool,
}

impl From<ServerMessage> for SelectFailure {
    fn from(msg: ServerMessage) -> Self {
        SelectFailure {
            messages: vec![msg],
            abort: false,
            ends_transaction: false,
        }
    }
}

/// A row source: its columns and rows.
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<SqlValue>>,
}

fn col(name: &str, ty: SqlType, nullable: bool) -> Column {
    Column {
        name: name.to_string(),
        ty,
        nullable,
    }
}

fn opt_string(value: &Option<String>) -> SqlValue {
    value
        .as_ref()
        .map_or(SqlValue::Null, |s| SqlValue::String(s.clone()))
}

fn opt_str(value: Option<&str>) -> SqlValue {
    value.map_or(SqlValue::Null, |s| SqlValue::String(s.to_string()))
}

/// One column visible to expressions: the table qualifier (alias or object name) and the column.
pub struct Binding {
    qualifier: String,
    column: Column,
}

/// What an expression can see: the session, the variables and (inside a SELECT) the current row.
pub struct Env<'a> {
    pub session: &'a Session,
    pub frame: &'a Frame,
    pub row: Option<(&'a [Binding], &'a [SqlValue])>,
    pub line: i32,
}

impl Env<'_> {
    fn err(&self, number: i32, args: &[&str]) -> ServerMessage {
        self.session.msg(number, args, "", self.line)
    }

    pub fn eval(&self, expr: &Expr) -> Result<Typed, ServerMessage> {
        let session = self.session;
        Ok(match expr {
            Expr::Literal(value) => value.clone(),
            Expr::Var(name) => {
                let var = self.frame.get(name).ok_or_else(|| self.err(137, &[name]))?;
                Typed::new(var.value.clone(), var.ty.clone())
            }
            Expr::Global(name) => match name.as_str() {
                "SERVERNAME" => Typed::sysname(Some(session.instance.server_name())),
                "SERVICENAME" => {
                    let service = session.instance.server_name().split_once('\\').map_or("MSSQLSERVER", |(_, i)| i);
                    Typed::sysname(Some(service))
                }
                "VERSION" => Typed::new(
                    SqlValue::String(format!(
                        "Microsoft SQL Server 2022 - {PRODUCT_VERSION} (X64) (tds-standin)\n\t{EDITION} on Linux"
                    )),
                    SqlType::NVarChar(Some(300)),
                ),
                "TRANCOUNT" => Typed::int(session.trancount as i64),
                "ERROR" => Typed::int(session.last_error as i64),
                "SPID" => Typed::new(SqlValue::Int(session.spid()), SqlType::SmallInt),
                "LANGUAGE" => Typed::sysname(Some("us_english")),
                _ => return Err(self.err(102, &[&format!("@@{name}")])),
            },
            Expr::Column { qualifier, name } => self.column(qualifier.as_deref(), name)?,
            Expr::CountStar => return Err(self.err(102, &["COUNT"])),
            Expr::Func(name, args) => self.function(name, args)?,
            Expr::Cast(inner, ty) => {
                let value = self.eval(inner)?;
                convert(&value, ty).map_err(|(from, to)| self.err(8114, &[&from, &to]))?
            }
            Expr::Neg(inner) => match self.eval(inner)? {
                Typed { value: SqlValue::Int(n), ty } => Typed::new(SqlValue::Int(-n), ty),
                other => other,
            },
            Expr::Not(inner) => match self.eval(inner)?.value {
                SqlValue::Bit(b) => Typed::bit(!b),
                _ => Typed::new(SqlValue::Null, SqlType::Bit),
            },
            Expr::IsNull { expr, negated } => Typed::bit(self.eval(expr)?.is_null() != *negated),
            Expr::InList { expr, list, negated } => {
                let value = self.eval(expr)?;
                let mut found = false;
                for item in list {
                    if self.compare(&value, &self.eval(item)?) == Some(Ordering::Equal) {
                        found = true;
                    }
                }
                if value.is_null() {
                    Typed::new(SqlValue::Null, SqlType::Bit)
                } else {
                    Typed::bit(found != *negated)
                }
            }
            Expr::Like {
                expr,
                pattern,
                negated,
            } => {
                let value = self.eval(expr)?;
                let pattern = self.eval(pattern)?;
                match (to_text(&value.value), to_text(&pattern.value)) {
                    (Some(text), Some(pattern)) => {
                        let collation = self.session.instance.collation;
                        Typed::bit(like(&collation.key(&text), &collation.key(&pattern)) != *negated)
                    }
                    _ => Typed::new(SqlValue::Null, SqlType::Bit),
                }
            }
            Expr::Binary(op, left, right) => self.binary(*op, left, right)?,
        })
    }

    fn column(&self, qualifier: Option<&str>, name: &str) -> Result<Typed, ServerMessage> {
        let shown = || match qualifier {
            Some(q) => format!("{q}.{name}"),
            None => name.to_string(),
        };
        let Some((bindings, values)) = self.row else {
            return Err(self.err(207, &[name]));
        };
        let collation = self.session.instance.collation;
        let mut matches = bindings.iter().enumerate().filter(|(_, b)| {
            NAME_COLLATION.eq(&b.column.name, name)
                && qualifier.is_none_or(|q| collation.eq(&b.qualifier, q))
        });
        let Some((index, binding)) = matches.next() else {
            return Err(self.err(if qualifier.is_some() { 4104 } else { 207 }, &[&shown()]));
        };
        if matches.next().is_some() {
            return Err(self.err(209, &[name]));
        }
        Ok(Typed::new(values[index].clone(), binding.column.ty.clone()))
    }

    fn binary(&self, op: BinOp, left: &Expr, right: &Expr) -> Result<Typed, ServerMessage> {
        let null_bit = Typed::new(SqlValue::Null, SqlType::Bit);
        match op {
            BinOp::And | BinOp::Or => {
                let l = self.eval(left)?.value;
                let r = self.eval(right)?.value;
                let truth = |v: &SqlValue| match v {
                    SqlValue::Bit(b) => Some(*b),
                    _ => None,
                };
                let result = match (op, truth(&l), truth(&r)) {
                    (BinOp::And, Some(false), _) | (BinOp::And, _, Some(false)) => Some(false),
                    (BinOp::And, Some(true), Some(true)) => Some(true),
                    (BinOp::Or, Some(true), _) | (BinOp::Or, _, Some(true)) => Some(true),
                    (BinOp::Or, Some(false), Some(false)) => Some(false),
                    _ => None,
                };
                Ok(result.map_or(null_bit, Typed::bit))
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
                let l = self.eval(left)?;
                let r = self.eval(right)?;
                Ok(match self.compare(&l, &r) {
                    None => null_bit,
                    Some(ord) => Typed::bit(match op {
                        BinOp::Eq => ord == Ordering::Equal,
                        BinOp::Ne => ord != Ordering::Equal,
                        BinOp::Lt => ord == Ordering::Less,
                        BinOp::Gt => ord == Ordering::Greater,
                        BinOp::Le => ord != Ordering::Greater,
                        _ => ord != Ordering::Less,
                    }),
                })
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                let l = self.eval(left)?;
                let r = self.eval(right)?;
                if op == BinOp::Add && is_string_type(&l.ty) && is_string_type(&r.ty) {
                    let ty = if matches!(l.ty, SqlType::VarChar(_))
                        && matches!(r.ty, SqlType::VarChar(_))
                    {
                        SqlType::VarChar(Some(8000))
                    } else {
                        NVARCHAR_4000
                    };
                    return Ok(match (l.as_str(), r.as_str()) {
                        (Some(a), Some(b)) => Typed::new(SqlValue::String(format!("{a}{b}")), ty),
                        _ => Typed::new(SqlValue::Null, ty),
                    });
                }
                let as_int = |v: &Typed| {
                    convert(v, &SqlType::BigInt).map_err(|(from, to)| self.err(8114, &[&from, &to]))
                };
                let (a, b) = (as_int(&l)?, as_int(&r)?);
                let (SqlValue::Int(a), SqlValue::Int(b)) = (a.value, b.value) else {
                    return Ok(Typed::new(SqlValue::Null, SqlType::Int));
                };
                let value = match op {
                    BinOp::Add => a.checked_add(b),
                    BinOp::Sub => a.checked_sub(b),
                    BinOp::Mul => a.checked_mul(b),
                    _ if b == 0 => return Err(self.err(8134, &[])),
                    _ => a.checked_div(b),
                };
                Ok(Typed::new(
                    value.map_or(SqlValue::Null, SqlValue::Int),
                    SqlType::Int,
                ))
            }
        }
    }

    /// SQL comparison: NULL compares as unknown; character data under the instance collation.
    pub fn compare(&self, a: &Typed, b: &Typed) -> Option<Ordering> {
        let collation = self.session.instance.collation;
        match (&a.value, &b.value) {
            (SqlValue::Null, _) | (_, SqlValue::Null) => None,
            (SqlValue::String(x), SqlValue::String(y)) => Some(collation.cmp(x, y)),
            (SqlValue::DateTime(x), SqlValue::DateTime(y)) => Some(x.cmp(y)),
            _ => {
                let x = convert(a, &SqlType::BigInt).ok()?;
                let y = convert(b, &SqlType::BigInt).ok()?;
                match (x.value, y.value) {
                    (SqlValue::Int(x), SqlValue::Int(y)) => Some(x.cmp(&y)),
                    _ => None,
                }
            }
        }
    }

    fn function(&self, name: &str, args: &[Expr]) -> Result<Typed, ServerMessage> {
        let session = self.session;
        let values = args
            .iter()
            .map(|a| self.eval(a))
            .collect::<Result<Vec<_>, _>>()?;
        let arg_text = |i: usize| values.get(i).and_then(|v| to_text(&v.value));
        let expect_args = |range: std::ops::RangeInclusive<usize>| {
            if range.contains(&values.len()) {
                Ok(())
            } else {
                Err(self.err(174, &[name, &range.start().to_string()]))
            }
        };
        let result = match name {
            "SERVERPROPERTY" => {
                expect_args(1..=1)?;
                let server = session.instance.server_name();
                let (machine, instance) = match server.split_once('\\') {
                    Some((m, i)) => (m, Some(i)),
                    None => (server, None),
                };
                let property = arg_text(0).unwrap_or_default().to_ascii_lowercase();
                match property.as_str() {
                    "servername" => Typed::sysname(Some(server)),
                    "machinename" | "computernamephysicalnetbios" => Typed::sysname(Some(machine)),
                    "instancename" => Typed::sysname(instance),
                    "productversion" => Typed::sysname(Some(PRODUCT_VERSION)),
                    "productlevel" => Typed::sysname(Some("RTM")),
                    "edition" => Typed::sysname(Some(EDITION)),
                    "engineedition" => Typed::int(3),
                    "isclustered" | "ishadrenabled" | "isintegratedsecurityonly" => Typed::int(0),
                    "collation" => {
                        Typed::sysname(Some(if session.instance.collation.case_sensitive {
                            "SQL_Latin1_General_CP1_CS_AS"
                        } else {
                            "SQL_Latin1_General_CP1_CI_AS"
                        }))
                    }
                    _ => Typed::sysname(None),
                }
            }
            "DB_NAME" => {
                expect_args(0..=1)?;
                match values.first() {
                    None => Typed::sysname(Some(&session.database)),
                    Some(_) => Typed::sysname(None),
                }
            }
            "SUSER_SNAME" | "SUSER_NAME" | "ORIGINAL_LOGIN" => {
                expect_args(0..=1)?;
                Typed::sysname(Some(&session.login))
            }
            "IS_SRVROLEMEMBER" => {
                expect_args(1..=2)?;
                let role = arg_text(0).unwrap_or_default();
                let member = session
                    .role
                    .name()
                    .is_some_and(|r| r.eq_ignore_ascii_case(&role))
                    || (role.eq_ignore_ascii_case("public"));
                Typed::int(member as i64)
            }
            "HAS_PERMS_BY_NAME" => {
                expect_args(3..=3)?;
                let permission = arg_text(2).unwrap_or_default().to_ascii_uppercase();
                let granted = match permission.as_str() {
                    "ALTER ANY LINKED SERVER" => {
                        session.has_permission(Permission::AlterAnyLinkedServer)
                    }
                    "ALTER ANY LOGIN" => session.has_permission(Permission::AlterAnyLogin),
                    "CONTROL SERVER" => session.role == crate::config::ServerRole::Sysadmin,
                    _ => false,
                };
                Typed::int(granted as i64)
            }
            "QUOTENAME" => {
                expect_args(1..=2)?;
                let quote = arg_text(1).unwrap_or_else(|| "[".into());
                let (open, close) = match quote.as_str() {
                    "[" | "]" => ('[', ']'),
                    "\"" => ('"', '"'),
                    "'" => ('\'', '\''),
                    _ => return Ok(Typed::new(SqlValue::Null, SqlType::NVarChar(Some(258)))),
                };
                let quoted = arg_text(0)
                    .filter(|t| super::value::utf16_len(t) <= 128)
                    .map(|text| {
                        let doubled = text.replace(close, &format!("{close}{close}"));
                        SqlValue::String(format!("{open}{doubled}{close}"))
                    });
                Typed::new(
                    quoted.unwrap_or(SqlValue::Null),
                    SqlType::NVarChar(Some(258)),
                )
            }
            "ISNULL" | "COALESCE" => {
                expect_args(if name == "ISNULL" { 2..=2 } else { 1..=64 })?;
                let ty = values[0].ty.clone();
                let first = values
                    .iter()
                    .find(|v| !v.is_null())
                    .cloned()
                    .unwrap_or_else(|| values[0].clone());
                convert(&first, &ty).unwrap_or(first)
            }
            "UPPER" | "LOWER" => {
                expect_args(1..=1)?;
                let value = values[0].clone();
                match value.as_str() {
                    Some(s) => Typed::new(
                        SqlValue::String(if name == "UPPER" {
                            s.to_uppercase()
                        } else {
                            s.to_lowercase()
                        }),
                        value.ty.clone(),
                    ),
                    None => value,
                }
            }
            "LEN" => {
                expect_args(1..=1)?;
                match arg_text(0) {
                    Some(text) => Typed::int(text.trim_end_matches(' ').chars().count() as i64),
                    None => Typed::new(SqlValue::Null, SqlType::Int),
                }
            }
            // The error a running CATCH block took; NULL outside CATCH.
            "ERROR_NUMBER" | "ERROR_SEVERITY" | "ERROR_STATE" | "ERROR_LINE" => {
                expect_args(0..=0)?;
                let caught = session.caught.last();
                let value = caught.map(|e| match name {
                    "ERROR_NUMBER" => e.number as i64,
                    "ERROR_SEVERITY" => e.class as i64,
                    "ERROR_STATE" => e.state as i64,
                    _ => e.line as i64,
                });
                Typed::new(value.map_or(SqlValue::Null, SqlValue::Int), SqlType::Int)
            }
            "ERROR_MESSAGE" => {
                expect_args(0..=0)?;
                let text = session.caught.last().map(|e| e.text.as_str());
                Typed::new(opt_str(text), NVARCHAR_4000)
            }
            "ERROR_PROCEDURE" => {
                expect_args(0..=0)?;
                let procedure = session
                    .caught
                    .last()
                    .map(|e| e.procedure.as_str())
                    .filter(|p| !p.is_empty());
                Typed::new(opt_str(procedure), SYSNAME)
            }
            // 1 in a transaction, 0 outside; the stand-in has no uncommittable (-1) transactions.
            "XACT_STATE" => {
                expect_args(0..=0)?;
                Typed::new(
                    SqlValue::Int((session.trancount > 0) as i64),
                    SqlType::SmallInt,
                )
            }
            "GETDATE" | "CURRENT_TIMESTAMP" => {
                expect_args(0..=0)?;
                Typed::new(SqlValue::DateTime(super::catalog::now()), SqlType::DateTime)
            }
            _ => return Err(self.err(195, &[name])),
        };
        Ok(result)
    }
}

impl Session {
    pub(super) fn spid(&self) -> i64 {
        50 + self.connection_id as i64
    }

    /// Runs a SELECT: `Ok(None)` for an assignment SELECT (no result set).
    pub(super) async fn run_select(
        &mut self,
        select: &Select,
        frame: &mut Frame,
        line: i32,
    ) -> Result<Option<ResultSet>, SelectFailure> {
        let mut bindings: Vec<Binding> = Vec::new();
        let mut rows: Vec<Vec<SqlValue>> = vec![Vec::new()];
        if let Some((first, joins)) = &select.from {
            let table = self.table(first, line).await?;
            bind_table(&mut bindings, first, &table);
            rows = table.rows;
            for join in joins {
                let table = self.table(&join.table, line).await?;
                let left_width = bindings.len();
                bind_table(&mut bindings, &join.table, &table);
                let mut joined = Vec::new();
                for left in &rows {
                    let mut matched = false;
                    for right in &table.rows {
                        let candidate: Vec<SqlValue> =
                            left.iter().chain(right.iter()).cloned().collect();
                        let env = Env {
                            session: self,
                            frame,
                            row: Some((&bindings, &candidate)),
                            line,
                        };
                        if env.eval(&join.on).map_err(abort_on_name_error)?.value
                            == SqlValue::Bit(true)
                        {
                            matched = true;
                            joined.push(candidate);
                        }
                    }
                    if !matched && join.kind == JoinKind::Left {
                        let mut padded = left.clone();
                        padded.resize(left_width + table.columns.len(), SqlValue::Null);
                        joined.push(padded);
                    }
                }
                rows = joined;
            }
        }
        if let Some(filter) = &select.filter {
            let mut kept = Vec::new();
            for row in rows {
                let env = Env {
                    session: self,
                    frame,
                    row: Some((&bindings, &row)),
                    line,
                };
                if env.eval(filter).map_err(abort_on_name_error)?.value == SqlValue::Bit(true) {
                    kept.push(row);
                }
            }
            rows = kept;
        }

        let assignments: Vec<(&String, &Expr)> = select
            .items
            .iter()
            .filter_map(|item| match item {
                SelectItem::Assign { var, expr } => Some((var, expr)),
                _ => None,
            })
            .collect();
        if !assignments.is_empty() {
            if assignments.len() != select.items.len() {
                return Err(self.msg(141, &[], "", line).into());
            }
            // T-SQL assigns from every row in turn; the last row's values remain.
            for row in &rows {
                for (var, expr) in &assignments {
                    let value = Env {
                        session: self,
                        frame,
                        row: Some((&bindings, row)),
                        line,
                    }
                    .eval(expr)?;
                    frame
                        .assign(var, &value)
                        .map_err(|(from, to)| self.msg(8114, &[&from, &to], "", line))?;
                }
            }
            return Ok(None);
        }

        let aggregate = select.items.iter().any(|i| {
            matches!(
                i,
                SelectItem::Expr {
                    expr: Expr::CountStar,
                    ..
                }
            )
        });
        let count = rows.len() as i64;
        if aggregate {
            rows.truncate(1);
            if rows.is_empty() {
                rows.push(vec![SqlValue::Null; bindings.len()]);
            }
        }

        // Output columns: '*' expands to the bound columns; expressions take their alias or name.
        enum Out<'e> {
            Bound(usize),
            Expr(&'e Expr),
        }
        let mut outputs: Vec<(Column, Out)> = Vec::new();
        let null_row = vec![SqlValue::Null; bindings.len()];
        for item in &select.items {
            match item {
                SelectItem::Star(qualifier) => {
                    if select.from.is_none() {
                        return Err(self.msg(263, &[], "", line).into());
                    }
                    let collation = self.instance.collation;
                    for (index, binding) in bindings.iter().enumerate() {
                        if qualifier
                            .as_deref()
                            .is_none_or(|q| collation.eq(&binding.qualifier, q))
                        {
                            outputs.push((binding.column.clone(), Out::Bound(index)));
                        }
                    }
                }
                SelectItem::Expr { expr, alias } => {
                    let ty = match expr {
                        Expr::CountStar => SqlType::Int,
                        _ => {
                            Env {
                                session: self,
                                frame,
                                row: Some((&bindings, &null_row)),
                                line,
                            }
                            .eval(expr)
                            .map_err(abort_on_name_error)?
                            .ty
                        }
                    };
                    let name = alias.clone().unwrap_or_else(|| match expr {
                        Expr::Column { name, .. } => name.clone(),
                        _ => String::new(),
                    });
                    let nullable = !matches!(expr, Expr::CountStar);
                    outputs.push((Column { name, ty, nullable }, Out::Expr(expr)));
                }
                SelectItem::Assign { .. } => unreachable!("handled above"),
            }
        }

        let mut produced: Vec<(Vec<Typed>, Vec<SqlValue>)> = Vec::with_capacity(rows.len());
        for row in &rows {
            let env = Env {
                session: self,
                frame,
                row: Some((&bindings, row)),
                line,
            };
            let mut values = Vec::with_capacity(outputs.len());
            for (column, out) in &outputs {
                let value = match out {
                    Out::Bound(index) => row[*index].clone(),
                    Out::Expr(Expr::CountStar) => SqlValue::Int(count),
                    Out::Expr(expr) => {
                        let value = env.eval(expr)?;
                        convert(&value, &column.ty)
                            .map(|t| t.value)
                            .unwrap_or(value.value)
                    }
                };
                values.push(value);
            }
            let mut keys = Vec::with_capacity(select.order_by.len());
            for (expr, _) in &select.order_by {
                keys.push(self.order_key(
                    expr,
                    &outputs.iter().map(|(c, _)| c).collect::<Vec<_>>(),
                    &values,
                    &env,
                )?);
            }
            produced.push((keys, values));
        }
        if !select.order_by.is_empty() {
            let env = Env {
                session: self,
                frame,
                row: None,
                line,
            };
            produced.sort_by(|(a, _), (b, _)| {
                for (index, (_, descending)) in select.order_by.iter().enumerate() {
                    let ord = match (a[index].is_null(), b[index].is_null()) {
                        (true, true) => Ordering::Equal,
                        (true, false) => Ordering::Less,
                        (false, true) => Ordering::Greater,
                        _ => env.compare(&a[index], &b[index]).unwrap_or(Ordering::Equal),
                    };
                    let ord = if *descending { ord.reverse() } else { ord };
                    if ord != Ordering::Equal {
                        return ord;
                    }
                }
                Ordering::Equal
            });
        }
        let mut result_rows: Vec<Vec<SqlValue>> = produced.into_iter().map(|(_, v)| v).collect();
        if let Some(top) = select.top {
            result_rows.truncate(top.max(0) as usize);
        }
        Ok(Some(ResultSet {
            columns: outputs.into_iter().map(|(c, _)| c).collect(),
            rows: result_rows,
        }))
    }

    /// An ORDER BY key: a select-list alias, an ordinal, or an expression over the source row.
    fn order_key(
        &self,
        expr: &Expr,
        columns: &[&Column],
        values: &[SqlValue],
        env: &Env,
    ) -> Result<Typed, ServerMessage> {
        if let Expr::Column {
            qualifier: None,
            name,
        } = expr
        {
            if let Some(index) = columns
                .iter()
                .position(|c| NAME_COLLATION.eq(&c.name, name))
            {
                return Ok(Typed::new(values[index].clone(), columns[index].ty.clone()));
            }
        }
        if let Expr::Literal(Typed {
            value: SqlValue::Int(n),
            ..
        }) = expr
        {
            let index = (*n as usize).checked_sub(1).filter(|i| *i < columns.len());
            return match index {
                Some(i) => Ok(Typed::new(values[i].clone(), columns[i].ty.clone())),
                None => Err(self.msg(108, &[&n.to_string()], "", env.line)),
            };
        }
        env.eval(expr)
    }

    /// Resolves a FROM item to its rows; 208 (batch-aborting) for an unknown object.
    async fn table(&mut self, table: &TableRef, line: i32) -> Result<Table, SelectFailure> {
        let name = &table.name;
        if self.remote_server(name).is_some() {
            return self.remote_table(name, line).await;
        }
        let (database, schema, object) = name.local_parts();
        let collation = self.instance.collation;
        let invalid = || SelectFailure {
            messages: vec![self.msg(208, &[&name.display()], "", line)],
            abort: true,
            ends_transaction: false,
        };
        let database = match database {
            Some(db) => self.instance.database_name(db).ok_or_else(invalid)?,
            None => self.database.clone(),
        };
        let is = |a: &str, b: &str| collation.eq(a, b);
        if is(schema, "sys") {
            let view = ["servers", "linked_logins", "server_principals", "databases"]
                .into_iter()
                .find(|view| is(view, object));
            return match view {
                Some("servers") => Ok(self.servers_table()),
                Some("linked_logins") => Ok(self.linked_logins_table()),
                Some("server_principals") => Ok(self.principals_table()),
                Some("databases") => Ok(self.databases_table()),
                _ => Err(invalid()),
            };
        }
        if is(&database, MGMT_DB)
            && (schema.is_empty() || is(schema, "dbo"))
            && is(object, "admv_BackupDatabases")
        {
            return Ok(self.backup_databases_table(None));
        }
        Err(invalid())
    }

    /// Whether the caller sees this `sys.servers` row (reference section 1.4).
    pub(super) fn can_see_server(&self, catalog: &super::catalog::Catalog, server_id: i32) -> bool {
        server_id == 0
            || self.has_permission(Permission::AlterAnyLinkedServer)
            || self.has_permission(Permission::AlterAnyLogin)
            || catalog
                .effective_mapping(server_id, self.principal_id)
                .is_some()
    }

    fn servers_table(&self) -> Table {
        let columns = vec![
            col("server_id", SqlType::Int, false),
            col("name", SYSNAME, false),
            col("product", SYSNAME, false),
            col("provider", SYSNAME, false),
            col("data_source", NVARCHAR_4000, true),
            col("location", NVARCHAR_4000, true),
            col("provider_string", NVARCHAR_4000, true),
            col("catalog", SYSNAME, true),
            col("connect_timeout", SqlType::Int, true),
            col("query_timeout", SqlType::Int, true),
            col("is_linked", SqlType::Bit, false),
            col("is_remote_login_enabled", SqlType::Bit, false),
            col("is_rpc_out_enabled", SqlType::Bit, false),
            col("is_data_access_enabled", SqlType::Bit, false),
            col("is_collation_compatible", SqlType::Bit, false),
            col("uses_remote_collation", SqlType::Bit, false),
            col("collation_name", SYSNAME, true),
            col("lazy_schema_validation", SqlType::Bit, false),
            col("is_system", SqlType::Bit, false),
            col("is_publisher", SqlType::Bit, false),
            col("is_subscriber", SqlType::Bit, false),
            col("is_distributor", SqlType::Bit, false),
            col("is_nonsql_subscriber", SqlType::Bit, true),
            col(
                "is_remote_proc_transaction_promotion_enabled",
                SqlType::Bit,
                true,
            ),
            col("modify_date", SqlType::DateTime, false),
            col("is_rda_server", SqlType::Bit, true),
        ];
        let catalog = self.instance.lock_catalog();
        let show_provider_string = self.has_permission(Permission::AlterAnyLinkedServer);
        let rows = catalog
            .servers
            .iter()
            .filter(|s| self.can_see_server(&catalog, s.server_id))
            .map(|s| {
                vec![
                    SqlValue::Int(s.server_id as i64),
                    SqlValue::String(s.name.clone()),
                    SqlValue::String(s.product.clone()),
                    SqlValue::String(s.provider.clone()),
                    opt_string(&s.data_source),
                    opt_string(&s.location),
                    if show_provider_string {
                        opt_string(&s.provider_string)
                    } else {
                        SqlValue::Null
                    },
                    opt_string(&s.catalog),
                    SqlValue::Int(s.connect_timeout as i64),
                    SqlValue::Int(s.query_timeout as i64),
                    SqlValue::Bit(s.is_linked),
                    SqlValue::Bit(s.rpc),
                    SqlValue::Bit(s.rpc_out),
                    SqlValue::Bit(s.data_access),
                    SqlValue::Bit(s.collation_compatible),
                    SqlValue::Bit(s.use_remote_collation),
                    opt_string(&s.collation_name),
                    SqlValue::Bit(s.lazy_schema_validation),
                    SqlValue::Bit(s.is_system),
                    SqlValue::Bit(s.is_publisher),
                    SqlValue::Bit(s.is_subscriber),
                    SqlValue::Bit(s.is_distributor),
                    SqlValue::Bit(s.is_nonsql_subscriber),
                    SqlValue::Bit(s.remote_proc_transaction_promotion),
                    SqlValue::DateTime(s.modify_date),
                    SqlValue::Bit(s.is_rda_server),
                ]
            })
            .collect();
        Table { columns, rows }
    }

    fn linked_logins_table(&self) -> Table {
        let columns = vec![
            col("server_id", SqlType::Int, false),
            col("local_principal_id", SqlType::Int, true),
            col("uses_self_credential", SqlType::Bit, false),
            col("remote_name", SYSNAME, true),
            col("modify_date", SqlType::DateTime, false),
        ];
        let catalog = self.instance.lock_catalog();
        let sees_all = self.has_permission(Permission::AlterAnyLogin)
            || self.has_permission(Permission::AlterAnyLinkedServer);
        let rows = catalog
            .linked_logins
            .iter()
            .filter(|m| {
                sees_all || m.local_principal_id == 0 || m.local_principal_id == self.principal_id
            })
            .map(|m| {
                vec![
                    SqlValue::Int(m.server_id as i64),
                    SqlValue::Int(m.local_principal_id as i64),
                    SqlValue::Bit(m.uses_self_credential),
                    opt_string(&m.remote_name),
                    SqlValue::DateTime(m.modify_date),
                ]
            })
            .collect();
        Table { columns, rows }
    }

    fn principals_table(&self) -> Table {
        let columns = vec![
            col("name", SYSNAME, false),
            col("principal_id", SqlType::Int, false),
            col("type", SqlType::VarChar(Some(1)), false),
            col("type_desc", SqlType::NVarChar(Some(60)), true),
            col("is_disabled", SqlType::Bit, true),
            col("create_date", SqlType::DateTime, false),
            col("modify_date", SqlType::DateTime, false),
            col("default_database_name", SYSNAME, true),
            col("default_language_name", SYSNAME, true),
        ];
        let catalog = self.instance.lock_catalog();
        let started = catalog
            .logins
            .iter()
            .map(|l| l.create_date)
            .min()
            .unwrap_or_else(super::catalog::now);
        let mut rows: Vec<Vec<SqlValue>> = catalog
            .logins
            .iter()
            .map(|l| {
                vec![
                    SqlValue::String(l.name.clone()),
                    SqlValue::Int(l.principal_id as i64),
                    SqlValue::String("S".into()),
                    SqlValue::String("SQL_LOGIN".into()),
                    SqlValue::Bit(false),
                    SqlValue::DateTime(l.create_date),
                    SqlValue::DateTime(l.create_date),
                    SqlValue::String("master".into()),
                    SqlValue::String("us_english".into()),
                ]
            })
            .collect();
        rows.extend(FIXED_ROLES.iter().map(|(name, id)| {
            vec![
                SqlValue::String(name.to_string()),
                SqlValue::Int(*id as i64),
                SqlValue::String("R".into()),
                SqlValue::String("SERVER_ROLE".into()),
                SqlValue::Bit(false),
                SqlValue::DateTime(started),
                SqlValue::DateTime(started),
                SqlValue::Null,
                SqlValue::Null,
            ]
        }));
        rows.sort_by_key(|r| match r[1] {
            SqlValue::Int(id) => id,
            _ => 0,
        });
        Table { columns, rows }
    }

    fn databases_table(&self) -> Table {
        let columns = vec![
            col("name", SYSNAME, false),
            col("database_id", SqlType::Int, false),
        ];
        let mut names = vec!["master".to_string()];
        if let Some(fixture) = &self.instance.biztalk {
            names.extend(fixture.databases().map(str::to_string));
        }
        let rows = names
            .into_iter()
            .enumerate()
            .map(|(i, name)| {
                vec![
                    SqlValue::String(name),
                    SqlValue::Int(if i == 0 { 1 } else { 4 + i as i64 }),
                ]
            })
            .collect();
        Table { columns, rows }
    }

    /// `admv_BackupDatabases`, optionally only the rows of one server (collation comparison).
    /// Like the real view: the instance with `BizTalkMgmtDb` first, then the fixture's rows, a
    /// UNION without empty server names or duplicates (biztalk-backup-job.md section 3).
    pub(super) fn backup_databases_table(&self, server: Option<&str>) -> Table {
        let columns = vec![
            col("ServerName", SYSNAME, true),
            col("DatabaseName", SYSNAME, true),
        ];
        let collation = self.instance.collation;
        let own_row = (self.instance.server_name(), MGMT_DB);
        let fixture_rows = self
            .instance
            .biztalk
            .iter()
            .flat_map(|f| f.backup_databases.iter())
            .map(|row| (row.server_name.as_str(), row.database_name.as_str()));
        let mut union: Vec<(String, String)> = Vec::new();
        for (server_name, database_name) in std::iter::once(own_row).chain(fixture_rows) {
            let row = (
                truncate_utf16(server_name, 128),
                truncate_utf16(database_name, 128),
            );
            let duplicate = union
                .iter()
                .any(|(s, d)| collation.eq(s, &row.0) && collation.eq(d, &row.1));
            if !row.0.trim_end_matches(' ').is_empty() && !duplicate {
                union.push(row);
            }
        }
        let rows = union
            .into_iter()
            .filter(|(s, _)| server.is_none_or(|wanted| collation.eq(s, wanted)))
            .map(|(s, d)| vec![SqlValue::String(s), SqlValue::String(d)])
            .collect();
        Table { columns, rows }
    }
}

/// T-SQL LIKE with `%`, `_` and `[...]` character sets (`[^...]` negated), on collation keys.
fn like(text: &str, pattern: &str) -> bool {
    fn matches(text: &[char], pattern: &[char]) -> bool {
        match pattern.first() {
            None => text.is_empty(),
            Some('%') => (0..=text.len()).any(|skip| matches(&text[skip..], &pattern[1..])),
            Some('_') => !text.is_empty() && matches(&text[1..], &pattern[1..]),
            Some('[') => match pattern.iter().position(|c| *c == ']') {
                Some(close) if close > 1 => {
                    let set = &pattern[1..close];
                    let (negated, set) = match set.first() {
                        Some('^') => (true, &set[1..]),
                        _ => (false, set),
                    };
                    let Some(first) = text.first() else {
                        return false;
                    };
                    let mut in_set = false;
                    let mut i = 0;
                    while i < set.len() {
                        if i + 2 < set.len() && set[i + 1] == '-' {
                            in_set |= (set[i]..=set[i + 2]).contains(first);
                            i += 3;
                        } else {
                            in_set |= set[i] == *first;
                            i += 1;
                        }
                    }
                    in_set != negated && matches(&text[1..], &pattern[close + 1..])
                }
                _ => text.first() == Some(&'[') && matches(&text[1..], &pattern[1..]),
            },
            Some(c) => text.first() == Some(c) && matches(&text[1..], &pattern[1..]),
        }
    }
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    matches(&text, &pattern)
}

fn bind_table(bindings: &mut Vec<Binding>, table: &TableRef, source: &Table) {
    let qualifier = table
        .alias
        .clone()
        .unwrap_or_else(|| table.name.last().to_string());
    bindings.extend(source.columns.iter().map(|c| Binding {
        qualifier: qualifier.clone(),
        column: c.clone(),
    }));
}

/// Invalid column names (207/4104/209) end the batch, as SQL Server's compile step does.
fn abort_on_name_error(msg: ServerMessage) -> SelectFailure {
    let abort = matches!(msg.number, 207 | 209 | 4104);
    SelectFailure {
        messages: vec![msg],
        abort,
        ends_transaction: false,
    }
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn like_patterns() {
        assert!(like("sql01\\bts", "sql%"));
        assert!(like("abc", "a_c"));
        assert!(!like("abc", "a_"));
        assert!(like("b1", "[a-c]1"));
        assert!(!like("b1", "[^a-c]1"));
        assert!(like("50%", "50[%]"));
    }
}
