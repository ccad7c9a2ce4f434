//! The system procedures: name resolution, SQL Server's parameter binding rules and the bodies
//! of the linked-server procedures (validation order, messages and return codes of the reference).

use super::biztalk::MGMT_DB;
use super::catalog::{now, Catalog, LinkedLogin, Permission, Secret, ServerRow};
use super::exec::{cur_cmd, done};
use super::messages::or_null;
use super::parser::{parse_object_name, parse_param_declarations, ObjectName, ParamDeclarations};
use super::value::{convert, truncate_utf16, Typed, NAME_COLLATION, NVARCHAR_4000, SYSNAME};
use super::Session;
use crate::types::{
    done_status, Column, DoneKind, ReplyItem, ResultSet, ServerMessage, SqlType, SqlValue,
};

/// One argument of a procedure call (EXEC in a batch or an RPC parameter).
#[derive(Debug, Clone)]
pub struct CallArg {
    /// `@name` when passed by name.
    pub name: Option<String>,
    /// `None` for the DEFAULT keyword.
    pub value: Option<Typed>,
    pub output: bool,
}

/// What a procedure call produced besides its reply items.
#[derive(Debug, Default)]
pub struct CallResult {
    /// Return status; `None` when the body never ran (binding error, unknown procedure).
    pub status: Option<i32>,
    /// OUTPUT values by argument index.
    pub outputs: Vec<(usize, Typed)>,
    pub error: bool,
    /// The call ended the batch and rolled back an open transaction (a link refused with 7411).
    pub ends_transaction: bool,
    /// The call ended the client's batch (THROW without a CATCH block in dynamic SQL).
    pub ends_batch: bool,
}

impl CallResult {
    /// A call that ran and returned 0, so far without results.
    pub(super) fn succeeded() -> Self {
        CallResult {
            status: Some(0),
            outputs: Vec::new(),
            error: false,
            ends_transaction: false,
            ends_batch: false,
        }
    }

    /// A call whose procedure body never ran (binding error, unknown procedure).
    pub(super) fn failed() -> Self {
        CallResult {
            status: None,
            outputs: Vec::new(),
            error: true,
            ends_transaction: false,
            ends_batch: false,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum ParamDefault {
    Required,
    Null,
    Text(&'static str),
}

struct Param {
    name: &'static str,
    ty: SqlType,
    default: ParamDefault,
}

const fn param(name: &'static str, ty: SqlType, default: ParamDefault) -> Param {
    Param { name, ty, default }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proc {
    AddLinkedServer,
    AddLinkedSrvLogin,
    DropLinkedSrvLogin,
    DropServer,
    ServerOption,
    TestLinkedServer,
    HelpServer,
    LinkedServers,
    HelpLinkedSrvLogin,
    ExecuteSql,
    Prepare,
    Execute,
    PrepExec,
    Unprepare,
    SetFault,
    Stats,
    /// `master.dbo.sp_GetServerName`: a one-row result set (stand-in helper).
    ServerNameResult,
    /// BizTalk's DB-side `dbo.sp_GetServerName @ServerName OUTPUT`.
    ServerNameOutput,
    BackupDatabasesForServer,
}

/// System procedures in `sys`, callable from every database.
const SYSTEM_PROCS: [(&str, Proc); 16] = [
    ("sp_addlinkedserver", Proc::AddLinkedServer),
    ("sp_addlinkedsrvlogin", Proc::AddLinkedSrvLogin),
    ("sp_droplinkedsrvlogin", Proc::DropLinkedSrvLogin),
    ("sp_dropserver", Proc::DropServer),
    ("sp_serveroption", Proc::ServerOption),
    ("sp_testlinkedserver", Proc::TestLinkedServer),
    ("sp_helpserver", Proc::HelpServer),
    ("sp_linkedservers", Proc::LinkedServers),
    ("sp_helplinkedsrvlogin", Proc::HelpLinkedSrvLogin),
    ("sp_executesql", Proc::ExecuteSql),
    ("sp_prepare", Proc::Prepare),
    ("sp_execute", Proc::Execute),
    ("sp_prepexec", Proc::PrepExec),
    ("sp_unprepare", Proc::Unprepare),
    ("sp_standin_set_fault", Proc::SetFault),
    ("sp_standin_stats", Proc::Stats),
];

impl Proc {
    fn name(self) -> &'static str {
        match self {
            Proc::ServerNameResult | Proc::ServerNameOutput => "sp_GetServerName",
            Proc::BackupDatabasesForServer => "sp_GetBackupDatabasesForServer",
            other => SYSTEM_PROCS
                .iter()
                .find(|(_, p)| *p == other)
                .map(|(n, _)| *n)
                .expect("listed"),
        }
    }

    /// Whether a call of this procedure counts for the call-level faults: the procedures that
    /// only run statements and the stand-in's control procedures do not.
    fn counts_as_call(self) -> bool {
        !matches!(
            self,
            Proc::ExecuteSql
                | Proc::Prepare
                | Proc::Execute
                | Proc::PrepExec
                | Proc::Unprepare
                | Proc::SetFault
                | Proc::Stats
        )
    }

    fn qualified(self) -> String {
        format!("sys.{}", self.name())
    }

    fn params(self) -> Vec<Param> {
        use ParamDefault::*;
        let nv = |n| SqlType::NVarChar(Some(n));
        let v = |n| SqlType::VarChar(Some(n));
        match self {
            Proc::AddLinkedServer => vec![
                param("@server", SYSNAME, Required),
                param("@srvproduct", nv(128), Null),
                param("@provider", nv(128), Null),
                param("@datasrc", nv(4000), Null),
                param("@location", nv(4000), Null),
                param("@provstr", nv(4000), Null),
                param("@catalog", SYSNAME, Null),
                param("@linkedstyle", SqlType::Bit, Null),
            ],
            Proc::AddLinkedSrvLogin => vec![
                param("@rmtsrvname", SYSNAME, Required),
                param("@useself", v(8), Text("TRUE")),
                param("@locallogin", SYSNAME, Null),
                param("@rmtuser", SYSNAME, Null),
                param("@rmtpassword", SYSNAME, Null),
            ],
            Proc::DropLinkedSrvLogin => {
                vec![
                    param("@rmtsrvname", SYSNAME, Required),
                    param("@locallogin", SYSNAME, Required),
                ]
            }
            Proc::DropServer => vec![
                param("@server", SYSNAME, Required),
                param("@droplogins", v(10), Null),
            ],
            Proc::ServerOption => vec![
                param("@server", SYSNAME, Required),
                param("@optname", v(35), Required),
                param("@optvalue", nv(128), Required),
            ],
            Proc::TestLinkedServer => vec![param("@servername", SYSNAME, Required)],
            Proc::HelpServer => vec![
                param("@server", SYSNAME, Null),
                param("@optname", v(35), Null),
                param("@show_topology", v(1), Null),
            ],
            Proc::HelpLinkedSrvLogin => {
                vec![
                    param("@rmtsrvname", SYSNAME, Null),
                    param("@locallogin", SYSNAME, Null),
                ]
            }
            Proc::SetFault => vec![
                param("@fault", nv(128), Required),
                param("@value", nv(4000), Null),
            ],
            Proc::ServerNameOutput => vec![param("@ServerName", SYSNAME, Required)],
            Proc::BackupDatabasesForServer => vec![param("@ServerName", SYSNAME, Null)],
            Proc::LinkedServers
            | Proc::Stats
            | Proc::ServerNameResult
            | Proc::ExecuteSql
            | Proc::Prepare
            | Proc::Execute
            | Proc::PrepExec
            | Proc::Unprepare => Vec::new(),
        }
    }
}

/// The binding rules of an extended procedure (reference 1.2: positional, Unicode only).
struct ExtendedSignature {
    name: &'static str,
    /// Parameter names and the type text Msg 214 shows.
    params: &'static [(&'static str, &'static str)],
    required: usize,
    /// sp_executesql runs nothing for a NULL statement; sp_testlinkedserver refuses NULL (214).
    null_accepted: bool,
    /// State of Msg 8144 for arguments beyond `params`; `None` where they are accepted
    /// (sp_executesql takes the statement's parameter values after its own two).
    too_many_state: Option<u8>,
    missing_state: u8,
    wrong_type_state: u8,
}

const UNICODE_TYPES: &str = "ntext/nchar/nvarchar";

/// States as SQL Server reports them: "Msg 214, Level 16, State 2, Procedure sp_executesql, Line 1".
const SP_EXECUTESQL: ExtendedSignature = ExtendedSignature {
    name: "sp_executesql",
    params: &[("@statement", UNICODE_TYPES), ("@params", UNICODE_TYPES)],
    required: 1,
    null_accepted: true,
    too_many_state: None,
    missing_state: 4,
    wrong_type_state: 2,
};

/// States as the simulator probed them on SQL Server 2025.
const SP_TESTLINKEDSERVER: ExtendedSignature = ExtendedSignature {
    name: "sp_testlinkedserver",
    params: &[("@servername", "sysname")],
    required: 1,
    null_accepted: false,
    too_many_state: Some(90),
    missing_state: 95,
    wrong_type_state: 90,
};

/// Where a procedure name leads.
enum Target {
    Local(Proc),
    Remote { server: String, name: ObjectName },
}

/// The items a procedure body adds, and whether it raised an error.
struct Body<'a> {
    session: &'a Session,
    out: &'a mut Vec<ReplyItem>,
    error: bool,
    proc: Proc,
}

impl Body<'_> {
    /// Raises a catalogued message from `procedure` (state 1) and returns 1 for `return (1)`.
    fn raise(&mut self, number: i32, args: &[&str], procedure: &str, line: i32) -> i32 {
        let msg = self.session.msg(number, args, procedure, line);
        self.error |= msg.is_error();
        self.out.push(ReplyItem::Message(msg));
        1
    }

    /// Raises from the procedure itself (`sys.<name>`).
    fn fail(&mut self, number: i32, args: &[&str], line: i32) -> i32 {
        let procedure = self.proc.qualified();
        self.raise(number, args, &procedure, line)
    }

    fn rows(&mut self, result: ResultSet) {
        let mut status = done_status::MORE;
        if !self.session.nocount {
            status |= done_status::COUNT;
        }
        let count = result.rows.len() as u64;
        self.out.push(ReplyItem::Rows(result));
        self.out
            .push(done(DoneKind::DoneInProc, status, cur_cmd::SELECT, count));
    }
}

/// The statement's parameter values: the arguments after the procedure's own `skip` ones, with
/// their argument positions (for OUTPUT values).
fn statement_values(
    args: Vec<CallArg>,
    skip: usize,
) -> Vec<(Option<String>, Option<Typed>, usize)> {
    args.into_iter()
        .enumerate()
        .skip(skip)
        .map(|(index, arg)| (arg.name, arg.value, index))
        .collect()
}

fn string(value: Option<&str>) -> SqlValue {
    value.map_or(SqlValue::Null, |s| SqlValue::String(s.to_string()))
}

fn column(name: &str, ty: SqlType) -> Column {
    Column {
        name: name.into(),
        ty,
        nullable: true,
    }
}

/// `true/on` → Some(true), `false/off` → Some(false), anything else → None.
fn on_off(value: Option<&str>) -> Option<bool> {
    let value = value?.trim_end_matches(' ').to_ascii_lowercase();
    match value.as_str() {
        "true" | "on" => Some(true),
        "false" | "off" => Some(false),
        _ => None,
    }
}

/// Sets the `sys.servers` columns of one on/off option.
type SetFlag = fn(&mut ServerRow, bool);

/// sp_serveroption's on/off options and the `sys.servers` columns each one sets (reference 8.1).
const FLAG_OPTIONS: [(&str, SetFlag); 10] = [
    ("rpc", |row, on| row.rpc = on),
    ("rpc out", |row, on| row.rpc_out = on),
    ("data access", |row, on| row.data_access = on),
    ("dist", |row, on| row.is_distributor = on),
    ("pub", |row, on| row.is_publisher = on),
    ("sub", |row, on| row.is_subscriber = on),
    ("lazy schema validation", |row, on| {
        row.lazy_schema_validation = on
    }),
    ("use remote collation", |row, on| {
        row.use_remote_collation = on
    }),
    ("collation compatible", |row, on| {
        row.collation_compatible = on;
        if on {
            row.collation_name = None;
        }
    }),
    ("remote proc transaction promotion", |row, on| {
        row.remote_proc_transaction_promotion = on
    }),
];

/// Collation names SQL Server knows: Windows (`Latin1_General[_100]_CI_AS…`) and SQL collations.
fn is_known_collation(name: &str) -> bool {
    const BASES: [&str; 12] = [
        "Latin1_General",
        "Latin1_General_100",
        "Latin1_General_140",
        "French",
        "French_100",
        "German_PhoneBook",
        "Japanese",
        "Japanese_XJIS_140",
        "Chinese_PRC",
        "Cyrillic_General",
        "Turkish",
        "Modern_Spanish",
    ];
    const SQL_COLLATIONS: [&str; 6] = [
        "SQL_Latin1_General_CP1_CI_AS",
        "SQL_Latin1_General_CP1_CS_AS",
        "SQL_Latin1_General_CP1_CI_AI",
        "SQL_Latin1_General_CP850_BIN",
        "SQL_Latin1_General_CP850_BIN2",
        "SQL_Latin1_General_CP437_CI_AS",
    ];
    if SQL_COLLATIONS.iter().any(|c| c.eq_ignore_ascii_case(name)) {
        return true;
    }
    BASES.iter().any(|base| {
        let Some(rest) = name
            .get(..base.len())
            .filter(|p| p.eq_ignore_ascii_case(base))
            .map(|_| &name[base.len()..])
        else {
            return false;
        };
        let suffix = rest.to_ascii_uppercase();
        if suffix == "_BIN" || suffix == "_BIN2" {
            return true;
        }
        let mut flags = suffix.split('_').skip(1);
        let case_ok = matches!(flags.next(), Some("CI" | "CS"));
        let accent_ok = matches!(flags.next(), Some("AI" | "AS"));
        let rest_ok = flags.all(|f| matches!(f, "KS" | "WS" | "SC" | "UTF8" | "VSS"));
        !suffix.is_empty() && case_ok && accent_ok && rest_ok
    })
}

impl Session {
    fn resolve(&self, name: &ObjectName) -> Option<Target> {
        let collation = self.instance.collation;
        if let Some(server) = self.remote_server(name) {
            return Some(Target::Remote {
                server: server.to_string(),
                name: ObjectName {
                    parts: name.parts[1..].to_vec(),
                },
            });
        }
        let (database, schema, object) = name.local_parts();
        let database = match database {
            Some(db) => self.instance.database_name(db)?,
            None => self.database.clone(),
        };
        let is = |a: &str, b: &str| collation.eq(a, b);
        if schema.is_empty() || is(schema, "sys") || is(schema, "dbo") {
            if let Some((_, proc)) = SYSTEM_PROCS.iter().find(|(n, _)| is(n, object)) {
                return Some(Target::Local(*proc));
            }
        }
        if schema.is_empty() || is(schema, "dbo") {
            let biztalk_db = self
                .instance
                .biztalk
                .as_ref()
                .is_some_and(|f| f.databases().any(|d| is(d, &database)));
            if is(object, "sp_GetServerName") {
                if is(&database, "master") {
                    return Some(Target::Local(Proc::ServerNameResult));
                }
                if biztalk_db {
                    return Some(Target::Local(Proc::ServerNameOutput));
                }
            }
            if is(object, "sp_GetBackupDatabasesForServer") && is(&database, MGMT_DB) {
                return Some(Target::Local(Proc::BackupDatabasesForServer));
            }
        }
        None
    }

    /// A call by procedure name text (RPC by name).
    pub(super) async fn call_procedure_named(
        &mut self,
        name: &str,
        args: Vec<CallArg>,
        level: u32,
        out: &mut Vec<ReplyItem>,
    ) -> CallResult {
        match parse_object_name(name) {
            Some(parsed) => self.call_procedure(&parsed, args, level, 1, out).await,
            None => {
                out.push(ReplyItem::Message(self.unknown_procedure(name, 1)));
                CallResult::failed()
            }
        }
    }

    pub(super) async fn call_procedure(
        &mut self,
        name: &ObjectName,
        args: Vec<CallArg>,
        level: u32,
        line: i32,
        out: &mut Vec<ReplyItem>,
    ) -> CallResult {
        let target = self.resolve(name);
        let counted = match &target {
            Some(Target::Local(proc)) => proc.counts_as_call(),
            Some(Target::Remote { .. }) => true,
            None => false,
        };
        if counted {
            if let Some(result) = self.call_fault(name, out).await {
                return result;
            }
        }
        let proc = match target {
            Some(Target::Local(proc)) => proc,
            Some(Target::Remote { server, name }) => {
                return self.remote_exec(&server, &name, args, line, out).await
            }
            None => {
                out.push(ReplyItem::Message(
                    self.unknown_procedure(&name.display(), line),
                ));
                return CallResult::failed();
            }
        };
        match proc {
            Proc::ExecuteSql => return self.sp_executesql(args, level, out).await,
            Proc::Prepare | Proc::Execute | Proc::PrepExec | Proc::Unprepare => {
                return self.prepared_statement(proc, args, level, out).await
            }
            Proc::TestLinkedServer => return self.sp_testlinkedserver(args, out).await,
            _ => {}
        }
        let params = proc.params();
        let (values, arg_of_param) = match self.bind(proc.name(), &params, &args) {
            Ok(bound) => bound,
            Err(msg) => {
                out.push(ReplyItem::Message(msg));
                return CallResult::failed();
            }
        };
        let mut body = Body {
            session: self,
            out,
            error: false,
            proc,
        };
        let mut outputs = Vec::new();
        let status = match proc {
            Proc::AddLinkedServer => body.add_linked_server(&values),
            Proc::AddLinkedSrvLogin => body.add_linked_srv_login(&values),
            Proc::DropLinkedSrvLogin => body.drop_linked_srv_login(&values),
            Proc::DropServer => body.drop_server(&values),
            Proc::ServerOption => body.server_option(&values),
            Proc::HelpServer => body.help_server(&values),
            Proc::LinkedServers => body.linked_servers(),
            Proc::HelpLinkedSrvLogin => body.help_linked_srv_login(&values),
            Proc::SetFault => body.set_fault(&values),
            Proc::Stats => body.stats(),
            Proc::ServerNameResult => {
                let name = body.session.instance.server_name().to_string();
                body.rows(ResultSet {
                    columns: vec![column("ServerName", SYSNAME)],
                    rows: vec![vec![SqlValue::String(name)]],
                });
                0
            }
            Proc::ServerNameOutput => {
                let name = body.session.instance.server_name();
                if let Some(arg) = arg_of_param[0] {
                    outputs.push((arg, Typed::sysname(Some(name))));
                }
                0
            }
            Proc::BackupDatabasesForServer => {
                let table = body.session.backup_databases_table(values[0].as_str());
                body.rows(ResultSet {
                    columns: table.columns,
                    rows: table.rows,
                });
                0
            }
            Proc::ExecuteSql
            | Proc::TestLinkedServer
            | Proc::Prepare
            | Proc::Execute
            | Proc::PrepExec
            | Proc::Unprepare => unreachable!("handled above"),
        };
        let error = body.error;
        CallResult {
            status: Some(status),
            outputs,
            error,
            ends_transaction: false,
            ends_batch: false,
        }
    }

    /// Counts a procedure call and applies the call-level fault armed for it, if any: `Some`
    /// is what the call produced instead of running (a drop ends the whole request, a stall
    /// never returns).
    async fn call_fault(
        &mut self,
        name: &ObjectName,
        out: &mut Vec<ReplyItem>,
    ) -> Option<CallResult> {
        self.calls += 1;
        let plan = self.instance.faults();
        if plan.drop_at_call == Some(self.calls) {
            self.dropped = true;
            return Some(CallResult {
                ends_batch: true,
                ..CallResult::failed()
            });
        }
        if plan.stall_at_call == Some(self.calls) {
            std::future::pending::<()>().await;
        }
        match plan.fail_call {
            Some((at, number)) if at == self.calls => {
                out.push(ReplyItem::Message(self.msg(
                    number,
                    &[],
                    &name.display(),
                    1,
                )));
                Some(CallResult {
                    status: Some(1),
                    ..CallResult::failed()
                })
            }
            _ => None,
        }
    }

    /// SQL Server's binding of arguments to parameters: positional first, then `@name = value`;
    /// DEFAULT or an omitted argument takes the parameter default; values convert implicitly and
    /// character data is cut silently to the parameter length.
    fn bind(
        &self,
        proc_name: &str,
        params: &[Param],
        args: &[CallArg],
    ) -> Result<(Vec<Typed>, Vec<Option<usize>>), ServerMessage> {
        let binding_error = |number: i32, state: u8, args: &[&str]| {
            self.msg_with_state(number, state, args, proc_name, 0)
        };
        let mut slots: Vec<Option<(usize, Option<Typed>)>> = vec![None; params.len()];
        let mut named_seen = false;
        let mut unknown_name = None;
        for (index, arg) in args.iter().enumerate() {
            let slot = match &arg.name {
                None if named_seen => {
                    return Err(binding_error(119, 1, &[&(index + 1).to_string()]))
                }
                None if index >= params.len() => return Err(binding_error(8144, 2, &[proc_name])),
                None => index,
                Some(name) => {
                    named_seen = true;
                    let Some(slot) = params.iter().position(|p| NAME_COLLATION.eq(p.name, name))
                    else {
                        unknown_name.get_or_insert(name);
                        continue;
                    };
                    if slots[slot].is_some() {
                        return Err(binding_error(8143, 1, &[name]));
                    }
                    slot
                }
            };
            slots[slot] = Some((index, arg.value.clone()));
        }
        // SQL Server reports a missing parameter before an unknown name, and both before a
        // value that does not convert (simulator probe of SQL Server 2025).
        let given =
            |slot: &Option<(usize, Option<Typed>)>| slot.as_ref().and_then(|(_, v)| v.clone());
        if let Some(missing) = params.iter().zip(&slots).find(|(param, slot)| {
            matches!(param.default, ParamDefault::Required) && given(slot).is_none()
        }) {
            return Err(binding_error(201, 4, &[proc_name, missing.0.name]));
        }
        if let Some(name) = unknown_name {
            return Err(binding_error(8145, 2, &[name, proc_name]));
        }
        let mut values = Vec::with_capacity(params.len());
        for (param, slot) in params.iter().zip(&slots) {
            let value = match (given(slot), param.default) {
                (Some(value), _) => convert(&value, &param.ty)
                    .map_err(|(from, to)| binding_error(8114, 1, &[&from, &to]))?,
                (None, ParamDefault::Text(text)) => {
                    Typed::new(SqlValue::String(text.into()), param.ty.clone())
                }
                (None, _) => Typed::new(SqlValue::Null, param.ty.clone()),
            };
            values.push(value);
        }
        Ok((
            values,
            slots.iter().map(|s| s.as_ref().map(|(i, _)| *i)).collect(),
        ))
    }

    /// Extended-procedure binding: positional only, values must be Unicode character data (214),
    /// every binding error reported at line 1 with the procedure's own states.
    fn bind_extended(
        &self,
        signature: &ExtendedSignature,
        args: &[CallArg],
    ) -> Result<Vec<Option<Typed>>, ServerMessage> {
        let binding_error = |number: i32, state: u8, args: &[&str]| {
            self.msg_with_state(number, state, args, signature.name, 1)
        };
        if let Some(state) = signature.too_many_state {
            if args.len() > signature.params.len() {
                return Err(binding_error(8144, state, &[signature.name]));
            }
        }
        let mut values = Vec::new();
        for (index, (name, type_text)) in signature.params.iter().enumerate() {
            let value = args.get(index).and_then(|a| a.value.clone());
            match &value {
                Some(v) if v.is_null() && signature.null_accepted => {}
                Some(v)
                    if !matches!(v.ty, SqlType::NVarChar(_) | SqlType::NText) || v.is_null() =>
                {
                    return Err(binding_error(
                        214,
                        signature.wrong_type_state,
                        &[name, type_text],
                    ));
                }
                None if index < signature.required => {
                    return Err(binding_error(
                        201,
                        signature.missing_state,
                        &[signature.name, name],
                    ));
                }
                _ => {}
            }
            values.push(value);
        }
        Ok(values)
    }

    async fn sp_executesql(
        &mut self,
        args: Vec<CallArg>,
        level: u32,
        out: &mut Vec<ReplyItem>,
    ) -> CallResult {
        let values = match self.bind_extended(&SP_EXECUTESQL, &args) {
            Ok(v) => v,
            Err(msg) => {
                out.push(ReplyItem::Message(msg));
                return CallResult::failed();
            }
        };
        let statement = values[0]
            .as_ref()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let declarations_text = values
            .get(1)
            .cloned()
            .flatten()
            .and_then(|v| v.as_str().map(str::to_string));
        let declarations = match self.declarations(declarations_text.as_deref()) {
            Ok(d) => d,
            Err(msg) => {
                out.push(ReplyItem::Message(msg));
                return CallResult::failed();
            }
        };
        self.execute_sql(
            &statement,
            &declarations,
            statement_values(args, 2),
            level,
            out,
        )
        .await
    }

    /// The `@params` declarations of sp_executesql / sp_prepare (none when NULL); a syntax
    /// error in them is the message to report.
    fn declarations(&self, text: Option<&str>) -> Result<ParamDeclarations, ServerMessage> {
        text.map(parse_param_declarations)
            .transpose()
            .map(Option::unwrap_or_default)
            .map_err(|err| self.msg(err.number, &[&err.arg], "", err.line))
    }

    /// sp_prepare / sp_execute / sp_prepexec / sp_unprepare, as ODBC and SqlClient send them:
    /// `@handle OUTPUT, @params, @stmt[, values]` to prepare, `@handle[, values]` to execute.
    async fn prepared_statement(
        &mut self,
        proc: Proc,
        args: Vec<CallArg>,
        level: u32,
        out: &mut Vec<ReplyItem>,
    ) -> CallResult {
        let arg_text = |index: usize| {
            args.get(index)
                .and_then(|a| a.value.as_ref())
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let handle_arg = match args
            .first()
            .and_then(|a| a.value.as_ref())
            .map(|v| &v.value)
        {
            Some(SqlValue::Int(handle)) => Some(*handle as i32),
            _ => None,
        };
        match proc {
            Proc::Prepare | Proc::PrepExec => {
                let Some(statement) = arg_text(2) else {
                    let msg = self.msg_with_state(201, 4, &[proc.name(), "@stmt"], proc.name(), 0);
                    out.push(ReplyItem::Message(msg));
                    return CallResult::failed();
                };
                let declarations = match self.declarations(arg_text(1).as_deref()) {
                    Ok(d) => d,
                    Err(msg) => {
                        out.push(ReplyItem::Message(msg));
                        return CallResult::failed();
                    }
                };
                let handle = self.prepare(statement.clone(), declarations.clone());
                let mut result = if proc == Proc::PrepExec {
                    let values = statement_values(args, 3);
                    self.execute_sql(&statement, &declarations, values, level, out)
                        .await
                } else {
                    CallResult::succeeded()
                };
                result.outputs.push((0, Typed::int(handle as i64)));
                result
            }
            Proc::Execute => {
                let Some((statement, declarations)) = handle_arg.and_then(|h| self.prepared(h))
                else {
                    let shown = handle_arg.map_or("(null)".to_string(), |h| h.to_string());
                    out.push(ReplyItem::Message(self.msg(8179, &[&shown], "", 1)));
                    return CallResult::failed();
                };
                self.execute_sql(
                    &statement,
                    &declarations,
                    statement_values(args, 1),
                    level,
                    out,
                )
                .await
            }
            _ => {
                if let Some(handle) = handle_arg {
                    self.unprepare(handle);
                }
                CallResult::succeeded()
            }
        }
    }

    async fn sp_testlinkedserver(
        &mut self,
        args: Vec<CallArg>,
        out: &mut Vec<ReplyItem>,
    ) -> CallResult {
        let values = match self.bind_extended(&SP_TESTLINKEDSERVER, &args) {
            Ok(v) => v,
            Err(msg) => {
                out.push(ReplyItem::Message(msg));
                return CallResult::failed();
            }
        };
        let server = values[0]
            .as_ref()
            .and_then(|v| v.as_str())
            .map(|s| truncate_utf16(s, 128));
        let before = out.len();
        let status = self
            .test_linked_server(server.as_deref().unwrap_or(""), out)
            .await;
        let error = out[before..]
            .iter()
            .any(|i| matches!(i, ReplyItem::Message(m) if m.is_error()));
        CallResult {
            status: Some(status),
            outputs: Vec::new(),
            error,
            ends_transaction: false,
            ends_batch: false,
        }
    }
}

impl<'a> Body<'a> {
    /// The instance, borrowed for the whole call, so a procedure can hold one catalog guard
    /// from its checks to its write while it raises messages.
    fn instance(&self) -> &'a super::Instance {
        &self.session.instance
    }

    fn in_transaction(&self) -> bool {
        self.session.trancount > 0
    }

    fn permitted(&self, permission: Permission) -> bool {
        self.session.has_permission(permission)
    }

    fn login_permission(&self) -> Permission {
        if self
            .instance()
            .config
            .behaviour
            .login_procs_need_alter_any_login
        {
            Permission::AlterAnyLogin
        } else {
            Permission::AlterAnyLinkedServer
        }
    }

    fn add_linked_server(&mut self, v: &[Typed]) -> i32 {
        const INTERNAL: &str = "sys.sp_MSaddserver_internal";
        let behaviour = self.instance().config.behaviour.clone();
        let server = v[0].as_str().map(str::to_string);
        let product = v[1].as_str().map(str::to_string);
        let provider = v[2].as_str().map(str::to_string);
        let properties_given = v[3..7].iter().any(|p| !p.is_null());
        let name = match server {
            Some(name) if !name.trim_end_matches(' ').is_empty() => name,
            _ => return self.raise(15004, &[], "sys.sp_validname", 17),
        };
        if name.contains('\0') {
            return self.raise(15006, &[&name], "sys.sp_validname", 21);
        }
        if behaviour.addlinkedserver_permission_first
            && !self.permitted(Permission::AlterAnyLinkedServer)
        {
            return self.raise(15247, &[], INTERNAL, 1);
        }
        let sql_product = product
            .as_deref()
            // The product name is matched case-insensitively on every instance (simulator).
            .is_some_and(|p| p.trim_end_matches(' ').eq_ignore_ascii_case("SQL Server"))
            || (product.is_none() && provider.is_none());
        if provider.is_none() && properties_given {
            return self.fail(15426, &[], 24);
        }
        if let (Some(product), None) = (&product, &provider) {
            if !sql_product {
                return self.fail(15427, &[product], 31);
            }
        }
        if let (true, Some(_), Some(product)) = (sql_product, &provider, &product) {
            return self.fail(15428, &[product], 41);
        }
        if product.is_none() && provider.is_some() {
            return self.fail(15429, &[or_null(None)], 46);
        }
        if self.in_transaction() {
            return self.fail(15002, &[&self.proc.qualified()], 54);
        }
        if !behaviour.addlinkedserver_permission_first
            && !self.permitted(Permission::AlterAnyLinkedServer)
        {
            return self.raise(15247, &[], INTERNAL, 1);
        }
        let provider = provider.map(|p| {
            if p.eq_ignore_ascii_case("SQLOLEDB") {
                "SQLNCLI".to_string()
            } else {
                p
            }
        });
        if behaviour.linux_providers_only {
            let sql_provider = provider.as_deref().is_none_or(|p| {
                let p = p.to_ascii_uppercase();
                p.starts_with("SQLNCLI") || p.starts_with("MSOLEDBSQL")
            });
            if !sql_provider {
                return self.raise(7222, &[], INTERNAL, 60);
            }
        }
        if v[7].value == SqlValue::Bit(false) {
            return self.raise(15663, &[], INTERNAL, 60);
        }
        let mut catalog = self.instance().lock_catalog();
        if catalog
            .find_server(self.instance().collation, &name)
            .is_some()
        {
            return self.fail(15028, &[&name], 102);
        }
        let mut row = ServerRow::local(&name);
        row.server_id = catalog.next_server_id();
        row.is_linked = true;
        row.data_access = true;
        if !sql_product {
            row.product = product.unwrap_or_default();
            row.provider = provider.unwrap_or_default();
            row.data_source = v[3].as_str().map(str::to_string);
            row.location = v[4].as_str().map(str::to_string);
            row.provider_string = v[5].as_str().map(str::to_string);
            row.catalog = v[6].as_str().map(str::to_string);
            row.rpc = false;
            row.rpc_out = false;
        }
        let server_id = row.server_id;
        catalog.servers.push(row);
        catalog.upsert_mapping(LinkedLogin {
            server_id,
            local_principal_id: 0,
            uses_self_credential: true,
            remote_name: None,
            has_password: false,
            remote_password: None,
            modify_date: now(),
        });
        self.instance().persist(&catalog);
        0
    }

    /// The principal a `@locallogin` argument names: 0 for NULL, else the login (15007 if none).
    fn local_principal(
        &mut self,
        catalog: &Catalog,
        local_login: Option<&str>,
        line: i32,
    ) -> Result<i32, i32> {
        match local_login {
            None => Ok(0),
            Some(login) => {
                let found = catalog
                    .find_login(self.instance().collation, login)
                    .map(|l| l.principal_id);
                found.ok_or_else(|| self.fail(15007, &[login], line))
            }
        }
    }

    /// The server_id `@server` names, or Msg 15015 (showing the argument as given, `(null)` for
    /// NULL) and the return code 1.
    fn existing_server_id(&mut self, catalog: &Catalog, server: Option<&str>) -> Result<i32, i32> {
        let found = server.and_then(|name| {
            catalog
                .find_server(self.instance().collation, name)
                .map(|row| row.server_id)
        });
        found.ok_or_else(|| self.fail(15015, &[or_null(server)], 1))
    }

    /// 15002 then 15247: how the login-mapping procedures start (SQL Server 2000 body, simulator).
    fn login_procedure_refusal(&mut self) -> Option<i32> {
        if self.in_transaction() {
            return Some(self.fail(15002, &[&self.proc.qualified()], 1));
        }
        if !self.permitted(self.login_permission()) {
            return Some(self.fail(15247, &[], 1));
        }
        None
    }

    fn add_linked_srv_login(&mut self, v: &[Typed]) -> i32 {
        if let Some(rc) = self.login_procedure_refusal() {
            return rc;
        }
        let Some(use_self) = v[1].as_str().and_then(|u| {
            match u.trim_end_matches(' ').to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            }
        }) else {
            return self.fail(15600, &[&self.proc.qualified()], 1);
        };
        let mut catalog = self.instance().lock_catalog();
        let server_id = match self.existing_server_id(&catalog, v[0].as_str()) {
            Ok(id) => id,
            Err(rc) => return rc,
        };
        let principal = match self.local_principal(&catalog, v[2].as_str(), 80) {
            Ok(p) => p,
            Err(rc) => return rc,
        };
        let (remote_name, password) = if use_self {
            (None, None)
        } else {
            (
                v[3].as_str().map(str::to_string),
                v[4].as_str().map(Secret::new),
            )
        };
        catalog.upsert_mapping(LinkedLogin {
            server_id,
            local_principal_id: principal,
            uses_self_credential: use_self,
            remote_name,
            has_password: password.is_some(),
            remote_password: password,
            modify_date: now(),
        });
        self.instance().persist(&catalog);
        0
    }

    fn drop_linked_srv_login(&mut self, v: &[Typed]) -> i32 {
        if let Some(rc) = self.login_procedure_refusal() {
            return rc;
        }
        let mut catalog = self.instance().lock_catalog();
        let server_id = match self.existing_server_id(&catalog, v[0].as_str()) {
            Ok(id) => id,
            Err(rc) => return rc,
        };
        let principal = match self.local_principal(&catalog, v[1].as_str(), 1) {
            Ok(p) => p,
            Err(rc) => return rc,
        };
        let before = catalog.linked_logins.len();
        catalog
            .linked_logins
            .retain(|m| !(m.server_id == server_id && m.local_principal_id == principal));
        if catalog.linked_logins.len() == before {
            if self
                .instance()
                .config
                .behaviour
                .drop_missing_mapping_is_error
            {
                return self.fail(15007, &[or_null(v[1].as_str())], 1);
            }
            return 0;
        }
        self.instance().persist(&catalog);
        0
    }

    fn drop_server(&mut self, v: &[Typed]) -> i32 {
        if !self.permitted(Permission::AlterAnyLinkedServer) {
            return self.fail(15247, &[], 1);
        }
        if self.in_transaction() {
            return self.fail(15002, &[&self.proc.qualified()], 1);
        }
        let drop_logins = match v[1].as_str() {
            None => false,
            Some(value)
                if value
                    .trim_end_matches(' ')
                    .eq_ignore_ascii_case("droplogins") =>
            {
                true
            }
            Some(_) => return self.fail(15600, &[&self.proc.qualified()], 1),
        };
        let server = v[0].as_str();
        let mut catalog = self.instance().lock_catalog();
        let server_id = match self.existing_server_id(&catalog, server) {
            Ok(id) => id,
            Err(rc) => return rc,
        };
        // The principal-0 self mapping sp_addlinkedserver creates does not count (reference 7).
        let blocking = catalog.linked_logins.iter().any(|m| {
            m.server_id == server_id && !(m.local_principal_id == 0 && m.uses_self_credential)
        });
        if blocking && !drop_logins {
            return self.fail(15190, &[or_null(server)], 56);
        }
        catalog.servers.retain(|s| s.server_id != server_id);
        catalog.linked_logins.retain(|m| m.server_id != server_id);
        self.instance().persist(&catalog);
        0
    }

    fn server_option(&mut self, v: &[Typed]) -> i32 {
        if !self.permitted(Permission::AlterAnyLinkedServer) {
            return self.fail(15247, &[], 1);
        }
        if self.in_transaction()
            && self
                .instance()
                .config
                .behaviour
                .serveroption_refused_in_transaction
        {
            return self.fail(15002, &[&self.proc.qualified()], 1);
        }
        let mut catalog = self.instance().lock_catalog();
        let server_id = match self.existing_server_id(&catalog, v[0].as_str()) {
            Ok(id) => id,
            Err(rc) => return rc,
        };
        let option = v[1]
            .as_str()
            .unwrap_or_default()
            .trim_end_matches(' ')
            .to_ascii_lowercase();
        let value = v[2].as_str().map(str::to_string);
        let flag = on_off(value.as_deref());
        let invalid = |body: &mut Self| body.fail(15600, &[&body.proc.qualified()], 1);
        let linux = self.instance().config.behaviour.linux_providers_only;

        // Validate first, then apply, under the one guard.
        type Change = Box<dyn FnOnce(&mut ServerRow)>;
        let flag_setter = FLAG_OPTIONS
            .iter()
            .find(|(name, _)| *name == option)
            .map(|(_, set)| *set);
        let change: Change = match (flag_setter, option.as_str()) {
            (Some(set), _) => {
                let Some(on) = flag else { return invalid(self) };
                if option == "remote proc transaction promotion" && on && linux {
                    return self.fail(7224, &[], 142);
                }
                Box::new(move |row: &mut ServerRow| set(row, on))
            }
            (None, "system") => match flag {
                Some(true) => Box::new(|row: &mut ServerRow| row.is_system = true),
                _ => return invalid(self),
            },
            (None, "connect timeout" | "query timeout") => {
                let seconds = value
                    .as_deref()
                    .map(str::trim)
                    .and_then(|t| t.parse::<i32>().ok())
                    .filter(|s| *s >= 0);
                let Some(seconds) = seconds else {
                    return invalid(self);
                };
                if option == "connect timeout" {
                    Box::new(move |row: &mut ServerRow| row.connect_timeout = seconds)
                } else {
                    Box::new(move |row: &mut ServerRow| row.query_timeout = seconds)
                }
            }
            (None, "collation name") => {
                match value.filter(|c| !c.trim().is_empty() && !c.eq_ignore_ascii_case("null")) {
                    None => Box::new(|row: &mut ServerRow| row.collation_name = None),
                    Some(collation) if is_known_collation(collation.trim_end_matches(' ')) => {
                        let collation = collation.trim_end_matches(' ').to_string();
                        Box::new(move |row: &mut ServerRow| {
                            row.collation_name = Some(collation);
                            row.collation_compatible = false;
                        })
                    }
                    Some(_) => return invalid(self),
                }
            }
            (None, "provider string") => {
                Box::new(move |row: &mut ServerRow| row.provider_string = value)
            }
            (None, "name") => {
                let Some(new_name) = value.filter(|n| !n.trim_end_matches(' ').is_empty()) else {
                    return self.raise(15004, &[], "sys.sp_validname", 17);
                };
                let clash = catalog
                    .find_server(self.instance().collation, &new_name)
                    .is_some_and(|s| s.server_id != server_id);
                if clash {
                    return self.fail(15028, &[&new_name], 1);
                }
                Box::new(move |row: &mut ServerRow| row.name = new_name)
            }
            _ => return invalid(self),
        };
        if let Some(row) = catalog
            .servers
            .iter_mut()
            .find(|s| s.server_id == server_id)
        {
            change(row);
            row.modify_date = now();
        }
        self.instance().persist(&catalog);
        0
    }

    fn help_server(&mut self, v: &[Typed]) -> i32 {
        let catalog = self.instance().lock_catalog();
        let wanted = v[0].as_str();
        let rows: Vec<&ServerRow> = catalog
            .servers
            .iter()
            .filter(|s| self.session.can_see_server(&catalog, s.server_id))
            .filter(|s| wanted.is_none_or(|w| self.instance().collation.eq(&s.name, w)))
            .collect();
        if rows.is_empty() {
            drop(catalog);
            return match wanted {
                Some(name) => self.fail(15015, &[name], 1),
                None => self.fail(15205, &[], 1),
            };
        }
        let status = |s: &ServerRow| {
            let flags = [
                (s.rpc, "rpc"),
                (s.is_publisher, "pub"),
                (s.is_subscriber, "sub"),
                (s.is_distributor, "dist"),
                (s.rpc_out, "rpc out"),
                (s.data_access, "data access"),
                (s.collation_compatible, "collation compatible"),
                (s.is_system, "system"),
                (s.use_remote_collation, "use remote collation"),
                (s.lazy_schema_validation, "lazy schema validation"),
                (
                    s.remote_proc_transaction_promotion,
                    "remote proc transaction promotion",
                ),
            ];
            flags
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, n)| *n)
                .collect::<Vec<_>>()
                .join(",")
        };
        let result = ResultSet {
            columns: vec![
                column("name", SYSNAME),
                column("network_name", SYSNAME),
                column("status", SqlType::VarChar(Some(70))),
                column("id", SqlType::VarChar(Some(4))),
                column("collation_name", SYSNAME),
                column("connect_timeout", SqlType::Int),
                column("query_timeout", SqlType::Int),
            ],
            rows: rows
                .iter()
                .map(|s| {
                    vec![
                        SqlValue::String(s.name.clone()),
                        string(s.data_source.as_deref()),
                        SqlValue::String(truncate_utf16(&status(s), 70)),
                        SqlValue::String(format!("{:<4}", s.server_id)),
                        string(s.collation_name.as_deref()),
                        SqlValue::Int(s.connect_timeout as i64),
                        SqlValue::Int(s.query_timeout as i64),
                    ]
                })
                .collect(),
        };
        drop(catalog);
        self.rows(result);
        0
    }

    fn linked_servers(&mut self) -> i32 {
        let catalog = self.instance().lock_catalog();
        let nv = |n| SqlType::NVarChar(Some(n));
        let result = ResultSet {
            columns: vec![
                column("SRV_NAME", SYSNAME),
                column("SRV_PROVIDERNAME", nv(128)),
                column("SRV_PRODUCT", nv(128)),
                column("SRV_DATASOURCE", NVARCHAR_4000),
                column("SRV_PROVIDERSTRING", NVARCHAR_4000),
                column("SRV_LOCATION", NVARCHAR_4000),
                column("SRV_CAT", SYSNAME),
            ],
            rows: catalog
                .servers
                .iter()
                .filter(|s| self.session.can_see_server(&catalog, s.server_id))
                .map(|s| {
                    vec![
                        SqlValue::String(s.name.clone()),
                        SqlValue::String(s.provider.clone()),
                        SqlValue::String(s.product.clone()),
                        string(s.data_source.as_deref()),
                        string(s.provider_string.as_deref()),
                        string(s.location.as_deref()),
                        string(s.catalog.as_deref()),
                    ]
                })
                .collect(),
        };
        drop(catalog);
        self.rows(result);
        0
    }

    fn help_linked_srv_login(&mut self, v: &[Typed]) -> i32 {
        let catalog = self.instance().lock_catalog();
        let server = v[0].as_str();
        let server_id = match server {
            None => None,
            Some(name) => match catalog.find_server(self.instance().collation, name) {
                Some(s) => Some(s.server_id),
                None => {
                    drop(catalog);
                    return self.fail(15015, &[name], 1);
                }
            },
        };
        let principal = v[1].as_str().map(|l| {
            catalog
                .find_login(self.instance().collation, l)
                .map_or(-1, |l| l.principal_id)
        });
        let rows = catalog
            .linked_logins
            .iter()
            .filter(|m| server_id.is_none_or(|id| m.server_id == id))
            .filter(|m| principal.is_none_or(|p| m.local_principal_id == p))
            .filter_map(|m| {
                let server = catalog
                    .servers
                    .iter()
                    .find(|s| s.server_id == m.server_id)?;
                let local = catalog
                    .login_by_id(m.local_principal_id)
                    .map(|l| l.name.clone());
                Some(vec![
                    SqlValue::String(server.name.clone()),
                    string(local.as_deref()),
                    SqlValue::Int(m.uses_self_credential as i64),
                    string(m.remote_name.as_deref()),
                ])
            })
            .collect();
        drop(catalog);
        self.rows(ResultSet {
            columns: vec![
                column("Linked Server", SYSNAME),
                column("Local Login", SYSNAME),
                column("Is Self Mapping", SqlType::SmallInt),
                column("Remote Login", SYSNAME),
            ],
            rows,
        });
        0
    }

    /// `sp_standin_set_fault @fault, @value`: arms a fault for every connection of this instance.
    fn set_fault(&mut self, v: &[Typed]) -> i32 {
        let mut plan = self.instance().faults();
        let fault = v[0].as_str().unwrap_or_default();
        if plan.set(fault, v[1].as_str()).is_err() {
            return self.fail(15600, &["sp_standin_set_fault"], 1);
        }
        self.instance().set_faults(plan);
        0
    }

    fn stats(&mut self) -> i32 {
        let rows = self
            .instance()
            .connection_stats()
            .into_iter()
            .map(|s| {
                vec![
                    SqlValue::Int(s.connection_id as i64),
                    SqlValue::String(s.login),
                    SqlValue::Int(s.requests as i64),
                    SqlValue::Int(s.rpc_calls as i64),
                    SqlValue::Int(s.batches as i64),
                    SqlValue::Int(s.attentions as i64),
                    SqlValue::Int(s.resets as i64),
                ]
            })
            .collect();
        self.rows(ResultSet {
            columns: vec![
                column("connection_id", SqlType::BigInt),
                column("login", SYSNAME),
                column("requests", SqlType::BigInt),
                column("rpc_calls", SqlType::BigInt),
                column("batches", SqlType::BigInt),
                column("attentions", SqlType::BigInt),
                column("resets", SqlType::BigInt),
            ],
            rows,
        });
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collation_names() {
        assert!(is_known_collation("Latin1_General_CI_AS"));
        assert!(is_known_collation("latin1_general_100_cs_as_sc_utf8"));
        assert!(is_known_collation("SQL_Latin1_General_CP1_CI_AS"));
        assert!(is_known_collation("Latin1_General_BIN2"));
        assert!(!is_known_collation("Latin1_General"));
        assert!(!is_known_collation("Klingon_CI_AS"));
        assert!(!is_known_collation("Latin1_General_CI_XX"));
    }

    #[test]
    fn on_off_values() {
        assert_eq!(on_off(Some("TRUE")), Some(true));
        assert_eq!(on_off(Some("off ")), Some(false));
        assert_eq!(on_off(Some("1")), None);
        assert_eq!(on_off(None), None);
    }
}
