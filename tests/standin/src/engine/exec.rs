//! Running batches and RPC requests: statements, variables, transactions and the DONE-token
//! shape SQL Server uses (DONE per batch statement, DONEINPROC inside procedures, RETURNSTATUS +
//! DONEPROC at the end of a procedure called by RPC or by EXEC at batch level).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use super::messages;
use super::parser::{parse_batch, ArgValue, Cond, ExecStmt, ParseError, Statement, Stmt};
use super::procedures::{CallArg, CallResult};
use super::select::{Env, SelectFailure};
use super::value::{convert, to_text, type_name, Typed, NAME_COLLATION};
use super::Session;
use crate::types::{
    done_status, Done, DoneKind, EnvChange, ProcRef, ReplyItem, RpcCall, ServerMessage, SqlType,
    SqlValue,
};

/// MS-TDS CurCmd values of the statements the stand-in runs.
pub mod cur_cmd {
    pub const SELECT: u16 = 0xC1;
    pub const EXECUTE: u16 = 0xE0;
    pub const DECLARE: u16 = 0xE6;
    pub const SET: u16 = 0xB9;
    pub const BEGIN_TRAN: u16 = 0xD4;
    pub const COMMIT: u16 = 0xD5;
    pub const ROLLBACK: u16 = 0xD6;
    pub const USE: u16 = 0xC5;
    pub const PRINT: u16 = 0xC7;
    pub const IF: u16 = 0xBC;
    /// THROW and RAISERROR: our choice, the values are not published for these statements.
    pub const THROW: u16 = 0xC3;
}

#[derive(Debug, Clone)]
pub struct Var {
    pub ty: SqlType,
    pub value: SqlValue,
}

/// The variables of one batch or procedure scope, keyed by `NAME_COLLATION`.
#[derive(Debug, Default)]
pub struct Frame {
    pub vars: HashMap<String, Var>,
}

impl Frame {
    pub fn get(&self, name: &str) -> Option<&Var> {
        self.vars.get(&NAME_COLLATION.key(name))
    }
    pub fn declare(&mut self, name: &str, ty: SqlType) {
        self.vars.insert(
            NAME_COLLATION.key(name),
            Var {
                ty,
                value: SqlValue::Null,
            },
        );
    }
    /// Assigns with implicit conversion to the variable's type (strings are cut silently).
    pub fn assign(&mut self, name: &str, value: &Typed) -> Result<(), (String, String)> {
        // The parser has checked the declaration; a DECLARE in a branch that did not run still
        // declares the variable in T-SQL, so it is created here with the value's type.
        let var = self
            .vars
            .entry(NAME_COLLATION.key(name))
            .or_insert_with(|| Var {
                ty: value.ty.clone(),
                value: SqlValue::Null,
            });
        var.value = convert(value, &var.ty)?.value;
        Ok(())
    }
}

/// How one statement ended, for its DONE token.
#[derive(Debug, Default)]
pub struct Outcome {
    pub error: bool,
    /// The error ends the batch (later statements do not run).
    pub abort: bool,
    /// The error ends the batch and rolls back an open transaction (a link refused with 7411).
    pub ends_transaction: bool,
    /// The error ends the client's whole batch, calling levels included (THROW without CATCH).
    pub ends_batch: bool,
    /// The error is one of deferred compilation at this level (an unknown object or column):
    /// a TRY block of the same level does not catch it, one of a calling level does.
    pub compile: bool,
    /// RAISERROR … WITH SETERROR: the value of @@ERROR after the statement.
    pub set_error: Option<i32>,
    pub count: Option<u64>,
    pub cur_cmd: u16,
    /// EXEC whose procedure ran: its return status (RETURNSTATUS + DONEPROC at batch level).
    pub proc_status: Option<i32>,
}

impl Outcome {
    pub(super) fn cmd(cur_cmd: u16) -> Self {
        Outcome {
            cur_cmd,
            ..Default::default()
        }
    }
}

/// How a run of statements ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Ran to the end: the next statement runs.
    Next,
    /// RETURN: the scope ends normally.
    Return,
    /// An error ended this scope (batch, procedure or dynamic SQL); the caller goes on.
    EndScope,
    /// An error ended the client's batch, every calling level included.
    EndBatch,
    /// A catchable error is unwinding to a CATCH block; the error message is `out[at]` and
    /// everything after it was abandoned. `compile_level`: the level of a compile error.
    Raised {
        at: usize,
        compile_level: Option<u32>,
    },
}

/// Where the first error a TRY block can catch (severity 11–19) is among `out[from..]`.
pub(super) fn first_catchable(out: &[ReplyItem], from: usize) -> Option<usize> {
    out[from..]
        .iter()
        .position(|item| matches!(item, ReplyItem::Message(m) if (11..=19).contains(&m.class)))
        .map(|i| from + i)
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Clears DONE_MORE on the last DONE-family token of a reply and makes sure there is one.
pub fn finish(mut items: Vec<ReplyItem>) -> Vec<ReplyItem> {
    let last_done = items.iter_mut().rev().find_map(|item| match item {
        ReplyItem::Done(done) => Some(done),
        _ => None,
    });
    match last_done {
        Some(done) => done.status &= !done_status::MORE,
        None => items.push(ReplyItem::Done(Done {
            kind: DoneKind::Done,
            status: 0,
            cur_cmd: 0,
            row_count: 0,
        })),
    }
    items
}

/// The system procedure behind an RPC ProcID (MS-TDS 2.2.6.6).
fn procedure_of_id(id: u16) -> Option<&'static str> {
    match id {
        10 => Some("sp_executesql"),
        11 => Some("sp_prepare"),
        12 => Some("sp_execute"),
        13 => Some("sp_prepexec"),
        15 => Some("sp_unprepare"),
        _ => None,
    }
}

pub fn done(kind: DoneKind, status: u16, cur_cmd: u16, row_count: u64) -> ReplyItem {
    ReplyItem::Done(Done {
        kind,
        status,
        cur_cmd,
        row_count,
    })
}

impl Session {
    /// A catalogued message stamped with this server's name.
    pub(super) fn msg(
        &self,
        number: i32,
        args: &[&str],
        procedure: &str,
        line: i32,
    ) -> ServerMessage {
        let mut msg = self.instance.stamp(messages::message(number, args));
        msg.procedure = procedure.to_string();
        msg.line = line;
        msg
    }

    /// A message the batch itself raises (PRINT, THROW, RAISERROR), not from the catalogue.
    pub(super) fn batch_message(
        &self,
        number: i32,
        class: u8,
        state: u8,
        text: String,
        line: i32,
    ) -> ServerMessage {
        self.instance.stamp(ServerMessage {
            number,
            state,
            class,
            text,
            server: String::new(),
            procedure: String::new(),
            line,
        })
    }

    /// A catalogued message with the state a particular raiser uses instead of 1.
    pub(super) fn msg_with_state(
        &self,
        number: i32,
        state: u8,
        args: &[&str],
        procedure: &str,
        line: i32,
    ) -> ServerMessage {
        ServerMessage {
            state,
            ..self.msg(number, args, procedure, line)
        }
    }

    /// Msg 2812 as SQL Server raises it for a name it cannot resolve: state 62, no procedure.
    pub(super) fn unknown_procedure(&self, name: &str, line: i32) -> ServerMessage {
        self.msg_with_state(2812, 62, &[name], "", line)
    }

    fn parse_error_message(&self, err: &ParseError) -> ServerMessage {
        self.msg(err.number, &[&err.arg], "", err.line)
    }

    pub(super) async fn run_batch(&mut self, text: &str) -> Vec<ReplyItem> {
        let mut out = Vec::new();
        match parse_batch(text, &[]) {
            Ok(statements) => {
                let mut frame = Frame::default();
                self.run_statements(&statements, &mut frame, 0, &mut out)
                    .await;
            }
            Err(err) => {
                out.push(ReplyItem::Message(self.parse_error_message(&err)));
                out.push(done(DoneKind::Done, done_status::ERROR, 0, 0));
            }
        }
        out
    }

    pub(super) async fn run_rpcs(&mut self, calls: Vec<RpcCall>) -> Vec<ReplyItem> {
        let mut out = Vec::new();
        for call in calls {
            // An OUTPUT parameter the procedure does not set comes back with the value sent.
            let outputs: Vec<(usize, String, Typed, bool)> = call
                .params
                .iter()
                .enumerate()
                .filter(|(_, p)| p.output)
                .map(|(i, p)| {
                    let sent = Typed::new(p.value.clone(), p.ty.clone());
                    (i, p.name.clone(), sent, p.untyped)
                })
                .collect();
            let args: Vec<CallArg> = call
                .params
                .into_iter()
                .map(|p| CallArg {
                    name: (!p.name.is_empty()).then(|| {
                        if p.name.starts_with('@') {
                            p.name
                        } else {
                            format!("@{}", p.name)
                        }
                    }),
                    value: Some(Typed::new(p.value, p.ty)),
                    output: p.output,
                })
                .collect();
            let result = match call.procedure {
                ProcRef::Id(id) => match procedure_of_id(id) {
                    Some(name) => self.call_procedure_named(name, args, 1, &mut out).await,
                    None => {
                        // Cursor procedures (sp_cursoropen & co.) are outside the subset.
                        let name = format!("#{id}");
                        out.push(ReplyItem::Message(self.unknown_procedure(&name, 1)));
                        CallResult::failed()
                    }
                },
                ProcRef::Name(name) => self.call_procedure_named(&name, args, 1, &mut out).await,
            };
            if result.ends_transaction && self.trancount > 0 {
                self.rollback_transaction(&mut out);
            }
            if let Some(status) = result.status {
                out.push(ReplyItem::ReturnStatus(status));
            }
            for (index, name, sent, untyped) in outputs {
                let set = result.outputs.iter().find(|(i, _)| *i == index);
                // The client's type, or for an untyped NULL the one the procedure gave it.
                let ty = match set {
                    Some((_, v)) if untyped => v.ty.clone(),
                    _ => sent.ty.clone(),
                };
                let value = set.map_or(sent, |(_, v)| v.clone());
                let value = convert(&value, &ty)
                    .map(|t| t.value)
                    .unwrap_or(SqlValue::Null);
                out.push(ReplyItem::ReturnValue {
                    ordinal: index as u16,
                    name,
                    value,
                    ty,
                });
            }
            let mut status = done_status::MORE;
            if result.error {
                status |= done_status::ERROR;
            }
            out.push(done(DoneKind::DoneProc, status, cur_cmd::EXECUTE, 0));
            // Like a batch, the request ends there: later calls in it do not run.
            if result.ends_transaction || result.ends_batch {
                break;
            }
        }
        out
    }

    /// Runs statements at nesting `level` (0 = the client's batch) until the end, RETURN, or an
    /// error that ends the scope or the batch or unwinds to a CATCH block.
    pub(super) fn run_statements<'a>(
        &'a mut self,
        statements: &'a [Statement],
        frame: &'a mut Frame,
        level: u32,
        out: &'a mut Vec<ReplyItem>,
    ) -> BoxFuture<'a, Flow> {
        Box::pin(async move {
            for statement in statements {
                let flow = self.run_statement(statement, frame, level, out).await;
                if flow != Flow::Next {
                    return flow;
                }
            }
            Flow::Next
        })
    }

    /// One statement: compound statements run their parts, simple ones end with a DONE token.
    async fn run_statement(
        &mut self,
        statement: &Statement,
        frame: &mut Frame,
        level: u32,
        out: &mut Vec<ReplyItem>,
    ) -> Flow {
        let line = statement.line;
        let before = out.len();
        match &statement.stmt {
            Stmt::Block(body) => self.run_statements(body, frame, level, out).await,
            Stmt::TryCatch { body, handler } => {
                self.try_catch(body, handler, frame, level, out).await
            }
            Stmt::Return => Flow::Return,
            Stmt::If {
                cond,
                then,
                otherwise,
            } => match self.condition(cond, frame, line, out).await {
                Ok(truth) => {
                    // The test is a statement of its own: it resets @@ERROR.
                    self.last_error = 0;
                    let branch = if truth {
                        Some(then.as_ref())
                    } else {
                        otherwise.as_deref()
                    };
                    match branch {
                        Some(branch) => {
                            self.run_statements(std::slice::from_ref(branch), frame, level, out)
                                .await
                        }
                        None => self.end_statement(Outcome::cmd(cur_cmd::IF), before, level, out),
                    }
                }
                Err(outcome) => self.end_statement(outcome, before, level, out),
            },
            _ => {
                let outcome = self.run_simple(statement, frame, level, out).await;
                self.end_statement(outcome, before, level, out)
            }
        }
    }

    /// Dynamic SQL (`sp_executesql`, `EXEC ('…')`): SET options it changes are restored when it
    /// returns, as the SET statement reference documents.
    async fn run_dynamic(
        &mut self,
        statements: &[Statement],
        frame: &mut Frame,
        level: u32,
        out: &mut Vec<ReplyItem>,
    ) -> Flow {
        let options = (self.nocount, self.implicit_transactions);
        let flow = self.run_statements(statements, frame, level, out).await;
        (self.nocount, self.implicit_transactions) = options;
        flow
    }

    /// `BEGIN TRY … END TRY BEGIN CATCH … END CATCH` at `level`: a catchable error raised while
    /// the TRY block runs (at this level or below) is taken off the reply, what it abandoned is
    /// dropped, and the CATCH block runs with the error visible to ERROR_*() and @@ERROR.
    async fn try_catch(
        &mut self,
        body: &[Statement],
        handler: &[Statement],
        frame: &mut Frame,
        level: u32,
        out: &mut Vec<ReplyItem>,
    ) -> Flow {
        self.try_levels.push(level);
        let flow = self.run_statements(body, frame, level, out).await;
        self.try_levels.pop();
        let Flow::Raised { at, compile_level } = flow else {
            return flow;
        };
        // A compile error is caught only by a TRY of a calling level.
        if compile_level.is_some_and(|l| l <= level) {
            return flow;
        }
        let ReplyItem::Message(error) = out.remove(at) else {
            unreachable!("Flow::Raised points at the error message")
        };
        out.truncate(at);
        self.last_error = error.number;
        self.caught.push(error);
        let flow = self.run_statements(handler, frame, level, out).await;
        self.caught.pop();
        flow
    }

    /// Ends a simple statement. A catchable error that a running TRY block takes unwinds
    /// (no DONE: the statement was abandoned); otherwise @@ERROR is set, the DONE token sent,
    /// and the error decides whether the scope or the whole batch goes on.
    fn end_statement(
        &mut self,
        mut outcome: Outcome,
        before: usize,
        level: u32,
        out: &mut Vec<ReplyItem>,
    ) -> Flow {
        if let Some(at) = first_catchable(out, before) {
            let compile_level = outcome.compile.then_some(level);
            let taken = match compile_level {
                None => !self.try_levels.is_empty(),
                Some(l) => self.try_levels.iter().any(|t| *t < l),
            };
            if taken {
                return Flow::Raised { at, compile_level };
            }
        }
        self.last_error = outcome.set_error.unwrap_or_else(|| {
            out[before..]
                .iter()
                .rev()
                .find_map(|item| match item {
                    ReplyItem::Message(m) if m.is_error() => Some(m.number),
                    _ => None,
                })
                .unwrap_or(0)
        });
        if outcome.ends_transaction {
            outcome.ends_batch = true;
            if self.trancount > 0 {
                self.rollback_transaction(out);
            }
        }
        let mut status = done_status::MORE;
        if outcome.error {
            status |= done_status::ERROR;
        }
        if outcome.count.is_some() && !self.nocount {
            status |= done_status::COUNT;
        }
        let count = outcome.count.unwrap_or(0);
        match (level, outcome.proc_status) {
            (0, Some(rc)) => {
                out.push(ReplyItem::ReturnStatus(rc));
                out.push(done(DoneKind::DoneProc, status, outcome.cur_cmd, count));
            }
            (0, None) => out.push(done(DoneKind::Done, status, outcome.cur_cmd, count)),
            _ => out.push(done(DoneKind::DoneInProc, status, outcome.cur_cmd, count)),
        }
        if outcome.ends_batch {
            Flow::EndBatch
        } else if outcome.abort {
            Flow::EndScope
        } else {
            Flow::Next
        }
    }

    /// The truth of an IF condition; Err: the failed test's outcome (its messages are sent).
    async fn condition(
        &mut self,
        cond: &Cond,
        frame: &mut Frame,
        line: i32,
        out: &mut Vec<ReplyItem>,
    ) -> Result<bool, Outcome> {
        match cond {
            Cond::Exists { select, negated } => match self.run_select(select, frame, line).await {
                Ok(rows) => Ok(rows.is_some_and(|r| !r.rows.is_empty()) != *negated),
                Err(failure) => Err(self.select_failed(failure, cur_cmd::IF, out)),
            },
            Cond::Expr(expr) => match self.eval_scalar(frame, expr, line) {
                Ok(value) => Ok(value.value == SqlValue::Bit(true)),
                Err(msg) => {
                    out.push(ReplyItem::Message(msg));
                    Err(Outcome {
                        error: true,
                        ..Outcome::cmd(cur_cmd::IF)
                    })
                }
            },
        }
    }

    /// The outcome of a failed SELECT (or IF EXISTS test), its messages sent.
    fn select_failed(
        &self,
        failure: SelectFailure,
        cur_cmd: u16,
        out: &mut Vec<ReplyItem>,
    ) -> Outcome {
        // Unknown objects and columns of this instance are errors of deferred compilation.
        let compile = failure.abort
            && !failure.ends_transaction
            && failure.messages.first().is_some_and(|m| {
                matches!(m.number, 207 | 208 | 209 | 4104)
                    && m.server == self.instance.server_name()
            });
        out.extend(failure.messages.into_iter().map(ReplyItem::Message));
        Outcome {
            error: true,
            abort: failure.abort,
            ends_transaction: failure.ends_transaction,
            compile,
            ..Outcome::cmd(cur_cmd)
        }
    }

    /// A statement without nested statements.
    async fn run_simple(
        &mut self,
        statement: &Statement,
        frame: &mut Frame,
        level: u32,
        out: &mut Vec<ReplyItem>,
    ) -> Outcome {
        let line = statement.line;
        match &statement.stmt {
            Stmt::Exec(exec) => self.exec_statement(exec, frame, level, line, out).await,
            Stmt::ExecText { text, at } => {
                self.exec_text(text, at.as_deref(), frame, level, line, out)
                    .await
            }
            Stmt::Declare(vars) => {
                let mut outcome = Outcome::cmd(cur_cmd::DECLARE);
                for (name, ty, init) in vars {
                    frame.declare(name, ty.clone());
                    if let Some(init) = init {
                        if let Err(msg) = self.assign_expr(frame, name, init, line) {
                            out.push(ReplyItem::Message(msg));
                            outcome.error = true;
                        }
                    }
                }
                outcome
            }
            Stmt::SetVar(name, expr) => {
                let mut outcome = Outcome::cmd(cur_cmd::SET);
                if let Err(msg) = self.assign_expr(frame, name, expr, line) {
                    out.push(ReplyItem::Message(msg));
                    outcome.error = true;
                }
                outcome
            }
            Stmt::SetOption { options, value } => {
                for option in options {
                    let on = value == "ON";
                    match option.as_str() {
                        "NOCOUNT" => self.nocount = on,
                        "IMPLICIT_TRANSACTIONS" => self.implicit_transactions = on,
                        // Every other option drivers send at connect is accepted and has no effect here.
                        _ => {}
                    }
                }
                Outcome::cmd(cur_cmd::SET)
            }
            Stmt::Select(select) => {
                let mut outcome = Outcome::cmd(cur_cmd::SELECT);
                if self.implicit_transactions && self.trancount == 0 && select.from.is_some() {
                    self.begin_transaction(out);
                }
                match self.run_select(select, frame, line).await {
                    Ok(Some(rows)) => {
                        outcome.count = Some(rows.rows.len() as u64);
                        out.push(ReplyItem::Rows(rows));
                    }
                    Ok(None) => outcome.count = Some(1),
                    Err(failure) => return self.select_failed(failure, cur_cmd::SELECT, out),
                }
                outcome
            }
            Stmt::BeginTran => {
                if self.trancount == 0 {
                    self.begin_transaction(out);
                } else {
                    self.trancount += 1;
                }
                Outcome::cmd(cur_cmd::BEGIN_TRAN)
            }
            Stmt::Commit => {
                let mut outcome = Outcome::cmd(cur_cmd::COMMIT);
                match self.trancount {
                    0 => {
                        out.push(ReplyItem::Message(self.msg(3902, &[], "", line)));
                        outcome.error = true;
                    }
                    1 => {
                        self.trancount = 0;
                        out.push(ReplyItem::EnvChange(EnvChange::CommitTransaction(
                            self.transaction,
                        )));
                    }
                    _ => self.trancount -= 1,
                }
                outcome
            }
            Stmt::Rollback => {
                let mut outcome = Outcome::cmd(cur_cmd::ROLLBACK);
                if self.trancount == 0 {
                    out.push(ReplyItem::Message(self.msg(3903, &[], "", line)));
                    outcome.error = true;
                } else {
                    self.rollback_transaction(out);
                }
                outcome
            }
            Stmt::Use(db) => {
                let mut outcome = Outcome::cmd(cur_cmd::USE);
                match self.instance.database_name(db) {
                    Some(new) => {
                        let old = std::mem::replace(&mut self.database, new.clone());
                        out.push(ReplyItem::EnvChange(EnvChange::Database {
                            new: new.clone(),
                            old,
                        }));
                        out.push(ReplyItem::Message(self.msg(5701, &[&new], "", line)));
                    }
                    None => {
                        out.push(ReplyItem::Message(self.msg(911, &[db], "", line)));
                        outcome.error = true;
                        outcome.abort = true;
                    }
                }
                outcome
            }
            Stmt::Print(expr) => {
                let mut outcome = Outcome::cmd(cur_cmd::PRINT);
                match self.eval_scalar(frame, expr, line) {
                    Ok(value) => {
                        let text = to_text(&value.value).unwrap_or_default();
                        out.push(ReplyItem::Message(self.batch_message(0, 0, 1, text, line)));
                    }
                    Err(msg) => {
                        out.push(ReplyItem::Message(msg));
                        outcome.error = true;
                    }
                }
                outcome
            }
            Stmt::Throw(args) => {
                let raised = match args {
                    // The parser allows `THROW;` only inside a CATCH block, which is running.
                    None => self
                        .caught
                        .last()
                        .cloned()
                        .unwrap_or_else(|| self.msg(10704, &[], "", line)),
                    Some(args) => self
                        .throw_message(args, frame, line)
                        .unwrap_or_else(|refusal| refusal),
                };
                out.push(ReplyItem::Message(raised));
                // Without a CATCH block to take it, THROW ends the batch.
                Outcome {
                    error: true,
                    ends_batch: true,
                    ..Outcome::cmd(cur_cmd::THROW)
                }
            }
            Stmt::RaisError(raise) => {
                let mut outcome = Outcome::cmd(cur_cmd::THROW);
                match self.raiserror_message(raise, frame, line) {
                    Ok(raised) => {
                        outcome.error = raised.message.is_error();
                        outcome.set_error = raised.set_error;
                        if raised.fatal {
                            self.fatal = true;
                            outcome.ends_batch = true;
                        }
                        out.push(ReplyItem::Message(raised.message));
                    }
                    Err(msg) => {
                        out.push(ReplyItem::Message(msg));
                        outcome.error = true;
                    }
                }
                outcome
            }
            Stmt::If { .. } | Stmt::Block(_) | Stmt::TryCatch { .. } | Stmt::Return => {
                unreachable!("compound statements run in run_statement")
            }
        }
    }

    fn begin_transaction(&mut self, out: &mut Vec<ReplyItem>) {
        self.trancount = 1;
        self.transaction = self
            .instance
            .next_transaction
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        out.push(ReplyItem::EnvChange(EnvChange::BeginTransaction(
            self.transaction,
        )));
    }

    /// Ends the open transaction, whatever its nesting level.
    fn rollback_transaction(&mut self, out: &mut Vec<ReplyItem>) {
        self.trancount = 0;
        out.push(ReplyItem::EnvChange(EnvChange::RollbackTransaction(
            self.transaction,
        )));
    }

    pub(super) fn eval_scalar(
        &self,
        frame: &Frame,
        expr: &super::parser::Expr,
        line: i32,
    ) -> Result<Typed, ServerMessage> {
        Env {
            session: self,
            frame,
            row: None,
            line,
        }
        .eval(expr)
    }

    fn assign_expr(
        &self,
        frame: &mut Frame,
        name: &str,
        expr: &super::parser::Expr,
        line: i32,
    ) -> Result<(), ServerMessage> {
        let value = self.eval_scalar(frame, expr, line)?;
        frame
            .assign(name, &value)
            .map_err(|(from, to)| self.msg(8114, &[&from, &to], "", line))
    }

    async fn exec_statement(
        &mut self,
        exec: &ExecStmt,
        frame: &mut Frame,
        level: u32,
        line: i32,
        out: &mut Vec<ReplyItem>,
    ) -> Outcome {
        let mut outcome = Outcome::cmd(cur_cmd::EXECUTE);
        let mut args = Vec::with_capacity(exec.args.len());
        for arg in &exec.args {
            let value = match &arg.value {
                ArgValue::Default => None,
                ArgValue::Value(expr) => match self.eval_scalar(frame, expr, line) {
                    Ok(v) => Some(v),
                    Err(msg) => {
                        out.push(ReplyItem::Message(msg));
                        outcome.error = true;
                        return outcome;
                    }
                },
            };
            args.push(CallArg {
                name: arg.name.clone(),
                value,
                output: arg.output,
            });
        }
        let before = out.len();
        let result = self
            .call_procedure(&exec.name, args, level + 1, line, out)
            .await;
        outcome.error = result.error;
        outcome.ends_transaction = result.ends_transaction;
        outcome.ends_batch = result.ends_batch;
        // Under TRY the procedure was abandoned at its error: it never returned, so neither
        // its OUTPUT values nor its return status reach the caller's variables.
        if !self.try_levels.is_empty() && first_catchable(out, before).is_some() {
            return outcome;
        }
        for (index, value) in &result.outputs {
            if let Some(ArgValue::Value(super::parser::Expr::Var(var))) =
                exec.args.get(*index).map(|a| &a.value)
            {
                if exec.args[*index].output {
                    if let Err((from, to)) = frame.assign(var, value) {
                        out.push(ReplyItem::Message(self.msg(8114, &[&from, &to], "", line)));
                        outcome.error = true;
                    }
                }
            }
        }
        if let (Some(var), Some(status)) = (&exec.status_var, result.status) {
            // The status variable is an int; the assignment cannot fail.
            let _ = frame.assign(var, &Typed::int(status as i64));
        }
        outcome.proc_status = result.status;
        outcome
    }

    async fn exec_text(
        &mut self,
        parts: &[super::parser::Expr],
        at: Option<&str>,
        frame: &mut Frame,
        level: u32,
        line: i32,
        out: &mut Vec<ReplyItem>,
    ) -> Outcome {
        let mut outcome = Outcome::cmd(cur_cmd::EXECUTE);
        let mut text = String::new();
        for part in parts {
            match self.eval_scalar(frame, part, line) {
                Ok(value) if super::value::is_string_type(&value.ty) || value.is_null() => {
                    text.push_str(&to_text(&value.value).unwrap_or_default())
                }
                Ok(value) => {
                    out.push(ReplyItem::Message(self.msg(
                        8114,
                        &[type_name(&value.ty), "nvarchar"],
                        "",
                        line,
                    )));
                    outcome.error = true;
                    return outcome;
                }
                Err(msg) => {
                    out.push(ReplyItem::Message(msg));
                    outcome.error = true;
                    return outcome;
                }
            }
        }
        match at {
            Some(server) => return self.exec_at(server, &text, line, out).await,
            None => match parse_batch(&text, &[]) {
                Ok(statements) => {
                    let mut inner = Frame::default();
                    let flow = self
                        .run_dynamic(&statements, &mut inner, level + 1, out)
                        .await;
                    outcome.ends_batch = flow == Flow::EndBatch;
                }
                Err(err) => {
                    out.push(ReplyItem::Message(self.parse_error_message(&err)));
                    outcome.error = true;
                }
            },
        }
        outcome
    }

    /// sp_executesql: runs `text` with the declared parameters bound from `values`.
    pub(super) async fn execute_sql(
        &mut self,
        text: &str,
        declarations: &[(String, SqlType, bool)],
        values: Vec<(Option<String>, Option<Typed>, usize)>,
        level: u32,
        out: &mut Vec<ReplyItem>,
    ) -> CallResult {
        let mut frame = Frame::default();
        let names: Vec<String> = declarations.iter().map(|(n, _, _)| n.clone()).collect();
        for (name, ty, _) in declarations {
            frame.declare(name, ty.clone());
        }
        let mut result = CallResult::succeeded();
        let mut bound: Vec<Option<usize>> = vec![None; declarations.len()];
        for (position, (name, value, arg_index)) in values.into_iter().enumerate() {
            let slot = match &name {
                Some(name) => declarations
                    .iter()
                    .position(|(d, _, _)| NAME_COLLATION.eq(d, name)),
                None => (position < declarations.len()).then_some(position),
            };
            let Some(slot) = slot else {
                let shown = name.unwrap_or_else(|| format!("#{}", position + 3));
                out.push(ReplyItem::Message(self.msg(
                    8145,
                    &[&shown, "sp_executesql"],
                    "",
                    0,
                )));
                return CallResult::failed();
            };
            if let Some(value) = value {
                if let Err((from, to)) = frame.assign(&declarations[slot].0, &value) {
                    out.push(ReplyItem::Message(self.msg(8114, &[&from, &to], "", 0)));
                    return CallResult::failed();
                }
            }
            bound[slot] = Some(arg_index);
        }
        if let Some(missing) = bound.iter().position(Option::is_none) {
            let decl_text: Vec<String> = declarations
                .iter()
                .map(|(n, t, _)| format!("{n} {}", type_name(t)))
                .collect();
            out.push(ReplyItem::Message(self.msg(
                8178,
                &[&decl_text.join(","), &declarations[missing].0],
                "",
                0,
            )));
            return CallResult::failed();
        }
        match parse_batch(text, &names) {
            Ok(statements) => {
                let before = out.len();
                let flow = self.run_dynamic(&statements, &mut frame, level, out).await;
                result.ends_batch = flow == Flow::EndBatch;
                result.error = out[before..]
                    .iter()
                    .any(|i| matches!(i, ReplyItem::Message(m) if m.is_error()));
            }
            Err(err) => {
                out.push(ReplyItem::Message(self.parse_error_message(&err)));
                result.error = true;
            }
        }
        for ((name, _, is_output), arg_index) in declarations.iter().zip(&bound) {
            if let (true, Some(arg_index)) = (*is_output, arg_index) {
                let var = frame.get(name).expect("declared above");
                result
                    .outputs
                    .push((*arg_index, Typed::new(var.value.clone(), var.ty.clone())));
            }
        }
        result
    }
}
