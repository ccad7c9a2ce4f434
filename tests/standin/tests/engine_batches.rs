//! Sessions, batches, RPC requests and the reply shape, driven through `Session::execute`.

mod engine_support;

use engine_support::*;
use tds_standin::engine::{Instance, Session};
use tds_standin::types::{
    done_status, Done, DoneKind, EnvChange, ProcRef, ReplyItem, Request, RpcCall, RpcParam,
    ServerMessage, SqlType, SqlValue,
};

fn dones(reply: &Reply) -> Vec<Done> {
    reply
        .0
        .iter()
        .filter_map(|i| {
            if let ReplyItem::Done(d) = i {
                Some(*d)
            } else {
                None
            }
        })
        .collect()
}

fn nvarchar(name: &str, value: &str) -> RpcParam {
    RpcParam {
        name: name.into(),
        output: false,
        untyped: false,
        ty: SqlType::NVarChar(Some(4000)),
        value: SqlValue::String(value.into()),
    }
}

/// Number, class, state, text, server, procedure and line of each refusal message, in order.
fn refusal(
    refused: Result<Session, Vec<ServerMessage>>,
) -> Vec<(i32, u8, u8, String, String, String, i32)> {
    let Err(messages) = refused else {
        panic!("the login was accepted")
    };
    messages
        .into_iter()
        .map(|m| {
            (
                m.number,
                m.class,
                m.state,
                m.text,
                m.server,
                m.procedure,
                m.line,
            )
        })
        .collect()
}

fn login_failed(user: &str) -> (i32, u8, u8, String, String, String, i32) {
    (
        18456,
        14,
        1,
        format!("Login failed for user '{user}'."),
        "LOCALSRV".into(),
        String::new(),
        1,
    )
}

#[tokio::test]
async fn login_checks_the_password_and_the_database() {
    let instance = instance();
    assert_eq!(
        refusal(instance.login("SA", "wrong", None)),
        vec![login_failed("SA")]
    );
    assert_eq!(
        refusal(instance.login("nobody", "pw", None)),
        vec![login_failed("nobody")]
    );
    let session = instance
        .login("Sa", SA_PASSWORD, None)
        .expect("login names compare case-insensitively");
    assert_eq!(session.database(), "master");
    // As SQL Server: 4060 (class 11) names the database, then 18456 with the login as sent.
    assert_eq!(
        refusal(instance.login("Sa", SA_PASSWORD, Some("nosuch"))),
        vec![
            (
                4060,
                11,
                1,
                "Cannot open database \"nosuch\" requested by the login. The login failed.".into(),
                "LOCALSRV".into(),
                String::new(),
                1,
            ),
            login_failed("Sa"),
        ]
    );
    // The password is checked first: a wrong one never reveals whether the database exists.
    assert_eq!(
        refusal(instance.login("sa", "wrong", Some("nosuch"))),
        vec![login_failed("sa")]
    );
    assert_eq!(
        instance
            .login("sa", SA_PASSWORD, Some("MASTER"))
            .unwrap()
            .database(),
        "master"
    );
}

#[tokio::test]
async fn batch_reply_shape() {
    let instance = instance();
    let mut sa = sa(&instance);
    let reply = run(&mut sa, "SELECT 1 AS one; SELECT N'x' AS x, 'y' AS y").await;
    let d = dones(&reply);
    assert_eq!(d.len(), 2);
    assert_eq!(
        (d[0].kind, d[0].status, d[0].row_count),
        (DoneKind::Done, done_status::MORE | done_status::COUNT, 1)
    );
    assert_eq!(d[1].status, done_status::COUNT, "the last DONE has no MORE");
    let second = reply.results()[1];
    assert_eq!(second.columns[0].ty, SqlType::NVarChar(Some(1)));
    assert_eq!(second.columns[1].ty, SqlType::VarChar(Some(1)));

    // EXEC at batch level: DONEINPROC for the procedure's result, RETURNSTATUS, DONEPROC.
    let reply = run(&mut sa, "EXEC sp_linkedservers").await;
    assert_eq!(
        reply.done_kinds(),
        vec![DoneKind::DoneInProc, DoneKind::DoneProc]
    );
    assert_eq!(reply.return_statuses(), vec![0]);
    assert!(matches!(
        reply.0[reply.0.len() - 2],
        ReplyItem::ReturnStatus(0)
    ));

    // SET NOCOUNT ON clears DONE_COUNT but keeps the count.
    let reply = run(&mut sa, "SET NOCOUNT ON; SELECT 1").await;
    let last = *dones(&reply).last().unwrap();
    assert_eq!((last.status & done_status::COUNT, last.row_count), (0, 1));
    run(&mut sa, "SET NOCOUNT OFF").await.no_errors();

    // An empty batch still ends with a DONE.
    assert_eq!(
        run(&mut sa, "  -- nothing\n").await.done_kinds(),
        vec![DoneKind::Done]
    );
}

#[tokio::test]
async fn connect_time_set_options_are_accepted() {
    let instance = instance();
    let mut sa = sa(&instance);
    let odbc = "SET ANSI_NULLS ON; SET ANSI_WARNINGS ON; SET ANSI_PADDING ON; SET QUOTED_IDENTIFIER ON; \
                SET TEXTSIZE 2147483647; SET CONCAT_NULL_YIELDS_NULL ON; SET ARITHABORT ON; \
                SET IMPLICIT_TRANSACTIONS OFF; SET LOCK_TIMEOUT -1; SET DATEFORMAT mdy; SET DATEFIRST 7; \
                SET LANGUAGE us_english; SET ANSI_NULL_DFLT_ON, CURSOR_CLOSE_ON_COMMIT OFF; \
                SET TRANSACTION ISOLATION LEVEL READ COMMITTED";
    let reply = run(&mut sa, odbc).await;
    reply.no_errors();
    assert_eq!(dones(&reply).len(), 14);
}

#[tokio::test]
async fn scalar_expressions() {
    let instance = instance();
    let mut sa = sa(&instance);
    let reply = run(
        &mut sa,
        "SELECT @@SERVERNAME AS s, SERVERPROPERTY('ServerName') AS sp, SERVERPROPERTY('MachineName') m, \
         SERVERPROPERTY('InstanceName') AS i, DB_NAME() AS db, SUSER_SNAME() AS who, @@TRANCOUNT AS tc, \
         QUOTENAME(N'a]b') AS q, 1 + 2 AS n, N'a' + N'b' AS c, ISNULL(NULL, 5) AS z",
    )
    .await;
    let r = reply.no_errors().result();
    assert_eq!(
        r.rows[0],
        vec![
            s("LOCALSRV"),
            s("LOCALSRV"),
            s("LOCALSRV"),
            SqlValue::Null,
            s("master"),
            s("sa"),
            SqlValue::Int(0),
            s("[a]]b]"),
            SqlValue::Int(3),
            s("ab"),
            SqlValue::Int(5)
        ]
    );
    assert_eq!(r.columns[0].name, "s");
    assert_eq!(r.columns[0].ty, SqlType::NVarChar(Some(128)));
    assert_eq!(r.columns[6].ty, SqlType::Int);
    let version = run(
        &mut sa,
        "SELECT @@VERSION, SERVERPROPERTY('ProductVersion'), SERVERPROPERTY('Edition'), @@SPID",
    )
    .await;
    let row = &version.result().rows[0];
    assert!(matches!(&row[0], SqlValue::String(v) if v.starts_with("Microsoft SQL Server")));
    assert!(matches!(&row[1], SqlValue::String(v) if v.starts_with("16.")));
    assert!(matches!(row[3], SqlValue::Int(n) if n > 50));
    let named = Instance::new(tds_standin::InstanceConfig::new("HOST\\INST")).unwrap();
    let mut session = named.login("sa", SA_PASSWORD, None).unwrap();
    let r = run(
        &mut session,
        "SELECT SERVERPROPERTY('MachineName'), SERVERPROPERTY('InstanceName')",
    )
    .await;
    assert_eq!(r.result().rows[0], vec![s("HOST"), s("INST")]);
}

#[tokio::test]
async fn variables_and_truncation() {
    let instance = instance();
    let mut sa = sa(&instance);
    let reply = run(
        &mut sa,
        "DECLARE @a nvarchar(3) = N'abcdef', @b int; SET @b = '42'; SELECT @a AS a, @b AS b",
    )
    .await;
    assert_eq!(
        reply.no_errors().result().rows[0],
        vec![s("abc"), SqlValue::Int(42)]
    );
    assert_eq!(reply.result().columns[0].ty, SqlType::NVarChar(Some(3)));
    let reply = run(&mut sa, "DECLARE @b int = 'x'").await;
    assert_eq!(
        reply.error().text,
        "Error converting data type varchar to int."
    );
    let reply = run(&mut sa, "SELECT @undeclared").await;
    assert_eq!(
        (reply.error().number, reply.error().text.as_str()),
        (137, "Must declare the scalar variable \"@undeclared\".")
    );
    let reply = run(
        &mut sa,
        "DECLARE @n sysname; SELECT @n = name FROM sys.servers WHERE server_id = 0; SELECT @n",
    )
    .await;
    assert_eq!(reply.no_errors().scalar(), s("LOCALSRV"));
}

#[tokio::test]
async fn errors_of_the_batch_language() {
    let instance = instance();
    let mut sa = sa(&instance);
    let reply = run(&mut sa, "SELECT 1; SELEKT 2").await;
    let err = reply.error();
    assert_eq!(
        (err.number, err.class, err.text.as_str(), err.line),
        (102, 15, "Incorrect syntax near 'SELEKT'.", 1)
    );
    assert!(
        reply.results().is_empty(),
        "a syntax error stops the whole batch before it runs"
    );
    // A positional argument after a named one is a compile error of the batch (Msg 119,
    // level 15), not a binding error of the procedure: nothing runs and no procedure is named.
    let reply = run(
        &mut sa,
        "SELECT 1;\nEXEC sp_addlinkedserver @server = N'A2', N'SQL Server'",
    )
    .await;
    let err = reply.error();
    assert_eq!(
        (err.number, err.class, err.line, err.procedure.as_str()),
        (119, 15, 2, "")
    );
    assert_eq!(
        err.text,
        "Must pass parameter number 2 and subsequent parameters as '@name = value'. After the \
         form '@name = value' has been used, all subsequent parameters must be passed in the \
         form '@name = value'."
    );
    assert!(
        reply.results().is_empty(),
        "119 stops the batch before it runs"
    );
    let reply = run(&mut sa, "EXEC dbo.sp_nosuch; SELECT 1").await;
    assert_eq!(
        reply.error().text,
        "Could not find stored procedure 'dbo.sp_nosuch'."
    );
    assert_eq!(reply.results().len(), 1, "2812 does not end the batch");
    let reply = run(&mut sa, "SELECT * FROM sys.nosuch; SELECT 1").await;
    assert_eq!(
        (reply.error().number, reply.error().text.as_str()),
        (208, "Invalid object name 'sys.nosuch'.")
    );
    assert!(reply.results().is_empty(), "208 ends the batch");
    let reply = run(&mut sa, "SELECT nosuch FROM sys.servers").await;
    assert_eq!(reply.error().text, "Invalid column name 'nosuch'.");
    let reply = run(&mut sa, "SELECT 'x\n\nSELECT").await;
    let err = reply.error();
    assert_eq!((err.number, err.class), (105, 15));
    assert_eq!(
        err.text,
        "Unclosed quotation mark after the character string 'x\n\nSELECT'."
    );
    let reply = run(&mut sa, "COMMIT").await;
    assert_eq!(reply.error().number, 3902);
}

#[tokio::test]
async fn transactions_and_envchange() {
    let instance = instance();
    let mut sa = sa(&instance);
    let reply = run(
        &mut sa,
        "BEGIN TRAN; BEGIN TRANSACTION inner_tx; SELECT @@TRANCOUNT",
    )
    .await;
    assert_eq!(reply.scalar(), SqlValue::Int(2));
    let begins: Vec<_> = reply
        .0
        .iter()
        .filter(|i| matches!(i, ReplyItem::EnvChange(EnvChange::BeginTransaction(_))))
        .collect();
    assert_eq!(
        begins.len(),
        1,
        "only the outermost BEGIN changes the environment"
    );
    let reply = run(
        &mut sa,
        "COMMIT; SELECT @@TRANCOUNT; COMMIT TRANSACTION; SELECT @@TRANCOUNT",
    )
    .await;
    assert_eq!(reply.results()[1].rows[0][0], SqlValue::Int(0));
    assert!(reply
        .0
        .iter()
        .any(|i| matches!(i, ReplyItem::EnvChange(EnvChange::CommitTransaction(_)))));
    let reply = run(
        &mut sa,
        "BEGIN DISTRIBUTED TRANSACTION; ROLLBACK; SELECT @@TRANCOUNT",
    )
    .await;
    assert!(reply
        .0
        .iter()
        .any(|i| matches!(i, ReplyItem::EnvChange(EnvChange::RollbackTransaction(_)))));
    assert_eq!(reply.scalar(), SqlValue::Int(0));
    let reply = run(
        &mut sa,
        "BEGIN TRANSACTION mark1 WITH MARK 'backup'; ROLLBACK TRANSACTION mark1",
    )
    .await;
    reply.no_errors();
}

/// RESETCONNECTION (a pooled connection reused): the open transaction is rolled back unless the
/// client asks to keep it, SET options are back to their defaults, and the reset is counted.
#[tokio::test]
async fn reset_connection_ends_the_transaction_and_set_options() {
    let instance = instance();
    let mut sa = sa(&instance);
    run(&mut sa, "BEGIN TRAN; SET NOCOUNT ON").await.no_errors();
    sa.reset(true);
    assert_eq!(
        run(&mut sa, "SELECT @@TRANCOUNT").await.scalar(),
        SqlValue::Int(1)
    );
    sa.reset(false);
    assert_eq!(
        run(&mut sa, "SELECT @@TRANCOUNT").await.scalar(),
        SqlValue::Int(0)
    );
    let counted = dones(&run(&mut sa, "SELECT 1").await)[0].status & done_status::COUNT;
    assert_ne!(counted, 0, "NOCOUNT is off again");
    run(&mut sa, "SET IMPLICIT_TRANSACTIONS ON")
        .await
        .no_errors();
    sa.reset(false);
    run(&mut sa, "SELECT name FROM sys.servers")
        .await
        .no_errors();
    assert_eq!(
        run(&mut sa, "SELECT @@TRANCOUNT").await.scalar(),
        SqlValue::Int(0)
    );
    let stats = instance.connection_stats();
    assert_eq!(stats.iter().find(|s| s.login == "sa").unwrap().resets, 3);
}

#[tokio::test]
async fn use_switches_database() {
    let instance = instance();
    let mut sa = sa(&instance);
    let reply = run(&mut sa, "USE BizTalkMgmtDb").await;
    assert_eq!(reply.error().number, 911);
    let reply = run(&mut sa, "USE [master]; SELECT DB_NAME()").await;
    assert!(reply.0.iter().any(
        |i| matches!(i, ReplyItem::EnvChange(EnvChange::Database { new, .. }) if new == "master")
    ));
    assert_eq!(reply.messages()[0].number, 5701);
    assert_eq!(reply.scalar(), s("master"));
}

#[tokio::test]
async fn joins_filters_and_ordering() {
    let instance = instance();
    let mut sa = sa(&instance);
    run(&mut sa, "EXEC sp_addlinkedserver N'b1'; EXEC sp_addlinkedserver N'A1'; EXEC sp_addlinkedserver N'c1'").await.no_errors();
    run(&mut sa, "EXEC sp_droplinkedsrvlogin N'c1', NULL")
        .await
        .no_errors();
    let reply = run(
        &mut sa,
        "SELECT s.name, l.uses_self_credential AS self FROM master.sys.servers AS s \
         LEFT OUTER JOIN sys.linked_logins l ON l.server_id = s.server_id \
         WHERE s.server_id <> 0 AND (l.local_principal_id IS NULL OR l.local_principal_id = 0) ORDER BY s.name DESC",
    )
    .await;
    assert_eq!(
        reply.no_errors().result().rows,
        vec![
            vec![s("c1"), SqlValue::Null],
            vec![s("b1"), SqlValue::Bit(true)],
            vec![s("A1"), SqlValue::Bit(true)]
        ]
    );
    let inner = run(&mut sa, "SELECT COUNT(*) FROM sys.servers s INNER JOIN sys.linked_logins l ON l.server_id = s.server_id").await;
    assert_eq!(inner.scalar(), SqlValue::Int(2));
    let top = run(
        &mut sa,
        "SELECT TOP 1 name FROM sys.servers WHERE NOT server_id = 0 ORDER BY 1",
    )
    .await;
    assert_eq!(top.scalar(), s("A1"));
    let star = run(&mut sa, "SELECT l.* FROM sys.linked_logins l").await;
    assert_eq!(star.result().columns.len(), 5);
    let principals = run(
        &mut sa,
        "SELECT name, type, type_desc FROM sys.server_principals WHERE principal_id = 1",
    )
    .await;
    assert_eq!(
        principals.result().rows[0],
        vec![s("sa"), s("S"), s("SQL_LOGIN")]
    );
    let ids = run(&mut sa, "SELECT name FROM sys.server_principals WHERE name IN ('setup', 'security', 'plain') ORDER BY principal_id").await;
    assert_eq!(ids.result().rows.len(), 3);
    let in_list = run(
        &mut sa,
        "SELECT COUNT(*) FROM sys.servers WHERE name NOT IN (N'a1', N'B1')",
    )
    .await;
    assert_eq!(in_list.scalar(), SqlValue::Int(2));
}

#[tokio::test]
async fn smo_style_guard() {
    let instance = instance();
    let mut sa = sa(&instance);
    let guard = "IF NOT EXISTS (SELECT srv.name FROM sys.servers srv WHERE srv.server_id != 0 AND srv.name = N'G1') \
                 EXEC master.dbo.sp_addlinkedserver @server = N'G1', @srvproduct = N'SQL Server'";
    run(&mut sa, guard).await.no_errors();
    run(&mut sa, guard).await.no_errors();
    assert_eq!(
        run(
            &mut sa,
            "SELECT COUNT(*) FROM sys.servers WHERE name = 'G1'"
        )
        .await
        .scalar(),
        SqlValue::Int(1)
    );
    let reply = run(
        &mut sa,
        "IF EXISTS (SELECT 1 FROM sys.servers WHERE name = 'G1') PRINT 'yes' ELSE PRINT 'no'",
    )
    .await;
    assert_eq!(reply.messages()[0].text, "yes");
}

#[tokio::test]
async fn rpc_by_name_runs_the_procedure_directly() {
    let instance = instance();
    let mut sa = sa(&instance);
    let call = |name: &str, params: Vec<RpcParam>| {
        Request::Rpc(vec![RpcCall {
            procedure: ProcRef::Name(name.into()),
            params,
        }])
    };
    let reply = Reply(
        sa.execute(call(
            "master.dbo.sp_addlinkedserver",
            vec![
                nvarchar("@server", "RPC1"),
                nvarchar("@srvproduct", "SQL Server"),
            ],
        ))
        .await
        .items,
    );
    reply.no_errors();
    assert_eq!(reply.return_statuses(), vec![0]);
    let last = *dones(&reply).last().unwrap();
    assert_eq!((last.kind, last.status), (DoneKind::DoneProc, 0));
    // Positional parameters (empty names) and a failing call: error, RETURNSTATUS 1, DONEPROC with ERROR.
    let reply = Reply(
        sa.execute(call("sp_addlinkedserver", vec![nvarchar("", "rpc1")]))
            .await
            .items,
    );
    assert_eq!(reply.error().number, 15028);
    assert_eq!(reply.return_statuses(), vec![1]);
    assert_eq!(dones(&reply).last().unwrap().status, done_status::ERROR);
    // Binding error: no RETURNSTATUS.
    let reply = Reply(sa.execute(call("sys.sp_dropserver", vec![])).await.items);
    assert_eq!(reply.error().number, 201);
    assert!(reply.return_statuses().is_empty());
    let reply = Reply(sa.execute(call("sp_nosuch", vec![])).await.items);
    assert_eq!(reply.error().number, 2812);
    assert_eq!(reply.error().state, 62, "SQL Server's state for 2812");
}

#[tokio::test]
async fn sp_executesql_binds_parameters_and_returns_outputs() {
    let instance = instance();
    let mut sa = sa(&instance);
    let params = vec![
        nvarchar("stmt", "DECLARE @rc int; EXEC @rc = sp_addlinkedserver @server = @P1; SET @out = @rc; SELECT @P2 + 1 AS n"),
        nvarchar("params", "@P1 nvarchar(4000), @P2 int, @out int OUTPUT"),
        nvarchar("@P1", "X1"),
        RpcParam { name: "@P2".into(), output: false, untyped: false, ty: SqlType::Int, value: SqlValue::Int(41) },
        RpcParam { name: "@out".into(), output: true, untyped: false, ty: SqlType::Int, value: SqlValue::Null },
    ];
    let reply = Reply(
        sa.execute(Request::Rpc(vec![RpcCall {
            procedure: ProcRef::Id(10),
            params,
        }]))
        .await
        .items,
    );
    reply.no_errors();
    assert_eq!(reply.scalar(), SqlValue::Int(42));
    let kinds = reply.done_kinds();
    assert_eq!(kinds.last(), Some(&DoneKind::DoneProc));
    assert!(kinds[..kinds.len() - 1]
        .iter()
        .all(|k| *k == DoneKind::DoneInProc));
    let tail: Vec<_> = reply.0.iter().rev().take(3).collect();
    assert!(
        matches!(tail[1], ReplyItem::ReturnValue { ordinal: 4, name, value: SqlValue::Int(0), .. } if name == "@out")
    );
    assert!(matches!(tail[2], ReplyItem::ReturnStatus(0)));
    // A declared parameter without a value: 8178.
    let params = vec![
        nvarchar("stmt", "SELECT @P1"),
        nvarchar("params", "@P1 int"),
    ];
    let reply = Reply(
        sa.execute(Request::Rpc(vec![RpcCall {
            procedure: ProcRef::Name("sp_executesql".into()),
            params,
        }]))
        .await
        .items,
    );
    assert_eq!(reply.error().number, 8178);
    // varchar statement text: 214.
    let params = vec![RpcParam {
        name: "".into(),
        output: false,
        untyped: false,
        ty: SqlType::VarChar(Some(10)),
        value: SqlValue::String("SELECT 1".into()),
    }];
    let reply = Reply(
        sa.execute(Request::Rpc(vec![RpcCall {
            procedure: ProcRef::Id(10),
            params,
        }]))
        .await
        .items,
    );
    let err = reply.error();
    assert_eq!(
        (
            err.text.as_str(),
            err.state,
            err.line,
            err.procedure.as_str()
        ),
        (
            "Procedure expects parameter '@statement' of type 'ntext/nchar/nvarchar'.",
            2,
            1,
            "sp_executesql"
        ),
        "the well-known 'Msg 214, Level 16, State 2, Procedure sp_executesql, Line 1'"
    );
    // A NULL statement runs nothing and is no error.
    let (reply, rc) = exec_rc(&mut sa, "sp_executesql NULL").await;
    reply.no_errors();
    assert_eq!(rc, Some(0));
    // From a batch, with a syntax error inside the dynamic text.
    let reply = run(&mut sa, "EXEC sp_executesql N'SELECT 1 FROM'; SELECT 2").await;
    assert_eq!(reply.error().number, 102);
    assert_eq!(reply.scalar(), SqlValue::Int(2));
}

#[tokio::test]
async fn prepared_statements_as_odbc_sends_them() {
    let instance = instance();
    let mut sa = sa(&instance);
    let handle_param = RpcParam {
        name: "".into(),
        output: true,
        untyped: false,
        ty: SqlType::Int,
        value: SqlValue::Null,
    };
    let prepexec = Request::Rpc(vec![RpcCall {
        procedure: ProcRef::Id(13),
        params: vec![
            handle_param.clone(),
            nvarchar("", "@P1 nvarchar(128)"),
            nvarchar("", "EXEC sp_addlinkedserver @server = @P1"),
            nvarchar("", "PREP1"),
        ],
    }]);
    let reply = Reply(sa.execute(prepexec).await.items);
    reply.no_errors();
    let handle = reply
        .0
        .iter()
        .find_map(|i| match i {
            ReplyItem::ReturnValue {
                ordinal: 0,
                value: SqlValue::Int(h),
                ..
            } => Some(*h),
            _ => None,
        })
        .expect("handle returned");
    let execute = |value: &str| {
        Request::Rpc(vec![RpcCall {
            procedure: ProcRef::Id(12),
            params: vec![
                RpcParam {
                    name: "".into(),
                    output: false,
                    untyped: false,
                    ty: SqlType::Int,
                    value: SqlValue::Int(handle),
                },
                nvarchar("", value),
            ],
        }])
    };
    Reply(sa.execute(execute("PREP2")).await.items).no_errors();
    assert_eq!(
        Reply(sa.execute(execute("prep2")).await.items)
            .error()
            .number,
        15028
    );
    let unprepare = Request::Rpc(vec![RpcCall {
        procedure: ProcRef::Id(15),
        params: vec![RpcParam {
            name: "".into(),
            output: false,
            untyped: false,
            ty: SqlType::Int,
            value: SqlValue::Int(handle),
        }],
    }]);
    Reply(sa.execute(unprepare).await.items).no_errors();
    assert_eq!(
        Reply(sa.execute(execute("PREP3")).await.items)
            .error()
            .number,
        8179
    );
    let count = run(
        &mut sa,
        "SELECT COUNT(*) FROM sys.servers WHERE name LIKE N'prep%' AND name NOT LIKE '%1'",
    )
    .await;
    assert_eq!(count.scalar(), SqlValue::Int(1));
    assert_eq!(
        run(
            &mut sa,
            "SELECT COUNT(*) FROM sys.servers WHERE name IN ('PREP1', 'PREP2', 'PREP3')"
        )
        .await
        .scalar(),
        SqlValue::Int(2)
    );
}

#[tokio::test]
async fn declaration_in_a_branch_that_did_not_run() {
    let instance = instance();
    let mut sa = sa(&instance);
    let reply = run(&mut sa, "IF 1 = 0 DECLARE @x int; SET @x = 5; SELECT @x").await;
    assert_eq!(reply.no_errors().scalar(), SqlValue::Int(5));
}

/// The shape of the library's catalog read: three-way LEFT JOIN, aliases, ORDER BY on columns
/// that are not selected, a parameter compared under the collation.
#[tokio::test]
async fn catalog_read_with_joined_mappings() {
    let instance = instance();
    let mut sa = sa(&instance);
    run(
        &mut sa,
        "EXEC sp_addlinkedserver N'L1'; EXEC sp_addlinkedserver N'L2'; \
         EXEC sp_addlinkedsrvlogin N'L1', 'false', N'plain', N'r', N'p'; EXEC sp_droplinkedsrvlogin N'L2', NULL",
    )
    .await
    .no_errors();
    let sql =
        "SELECT s.server_id, s.name, s.modify_date, ll.local_principal_id, p.name AS local_login, \
               ll.uses_self_credential, ll.remote_name \
               FROM sys.servers AS s \
               LEFT JOIN sys.linked_logins AS ll ON ll.server_id = s.server_id \
               LEFT JOIN sys.server_principals AS p ON p.principal_id = ll.local_principal_id \
               WHERE s.server_id <> 0 AND s.name = @P1 \
               ORDER BY s.name, s.server_id, ll.local_principal_id";
    let params = vec![
        nvarchar("stmt", sql),
        nvarchar("params", "@P1 nvarchar(4000)"),
        nvarchar("@P1", "l1"),
    ];
    let reply = Reply(
        sa.execute(Request::Rpc(vec![RpcCall {
            procedure: ProcRef::Id(10),
            params,
        }]))
        .await
        .items,
    );
    let rows = &reply.no_errors().result().rows;
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0][3..],
        [
            SqlValue::Int(0),
            SqlValue::Null,
            SqlValue::Bit(true),
            SqlValue::Null
        ]
    );
    assert_eq!(rows[1][4..], [s("plain"), SqlValue::Bit(false), s("r")]);
    let all = run(&mut sa, &sql.replace(" AND s.name = @P1", "")).await;
    let names: Vec<_> = all.result().rows.iter().map(|r| r[1].clone()).collect();
    assert_eq!(
        names,
        vec![s("L1"), s("L1"), s("L2")],
        "L2 without mappings still appears once"
    );
}
