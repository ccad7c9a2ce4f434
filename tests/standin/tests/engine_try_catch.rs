//! T-SQL error handling as SQL Server documents it (shared/reference/tsql-error-handling.md):
//! DECLARE/SET/IF/BEGIN…END, TRY…CATCH, THROW, RAISERROR, ERROR_*(), @@ERROR and RETURN, over
//! SQL batches and sp_executesql RPCs, and the compensating batch the library's ensure sends.

mod engine_support;

use engine_support::*;
use tds_standin::engine::{Instance, Session};
use tds_standin::types::{done_status, AfterReply, ProcRef, ReplyItem, Request, RpcCall, SqlValue};

/// sp_executesql by ProcID 10 (as tiberius and SqlClient send it): statement, declarations,
/// then the named values.
async fn executesql(
    session: &mut Session,
    statement: &str,
    decls: &str,
    values: &[(&str, &str)],
) -> Reply {
    let mut params = vec![nvarchar_param("", statement), nvarchar_param("", decls)];
    params.extend(values.iter().map(|(n, v)| nvarchar_param(n, v)));
    Reply(
        session
            .execute(Request::Rpc(vec![RpcCall {
                procedure: ProcRef::Id(10),
                params,
            }]))
            .await
            .items,
    )
}

/// The first value of each result set, in order.
fn first_cells(reply: &Reply) -> Vec<SqlValue> {
    reply
        .results()
        .iter()
        .map(|r| r.rows[0][0].clone())
        .collect()
}

fn any_done_error(reply: &Reply) -> bool {
    reply
        .0
        .iter()
        .any(|i| matches!(i, ReplyItem::Done(d) if d.status & done_status::ERROR != 0))
}

fn last_done_status(reply: &Reply) -> u16 {
    reply
        .0
        .iter()
        .rev()
        .find_map(|i| match i {
            ReplyItem::Done(d) => Some(d.status),
            _ => None,
        })
        .expect("a DONE token")
}

/// The catalog as a comparable snapshot (every column, mappings without passwords).
fn catalog(instance: &Instance) -> String {
    format!("{:?} {:?}", instance.servers(), instance.linked_logins())
}

/// What the library's ensure sends: one statement holding several procedure calls, fixed
/// fragments only, every value a parameter; a CATCH block that undoes what the batch did (the
/// progress kept in a local variable) and re-raises the original error.
const ENSURE: &str = "\
DECLARE @step int = 0, @rc int;
BEGIN TRY
    EXEC @rc = master.sys.sp_addlinkedserver @server = @name, @srvproduct = N'SQL Server';
    SET @step = 1;
    EXEC master.sys.sp_serveroption @server = @name, @optname = N'rpc out', @optvalue = N'true';
    EXEC master.sys.sp_serveroption @server = @name, @optname = N'query timeout', @optvalue = @timeout;
    EXEC master.sys.sp_addlinkedsrvlogin @rmtsrvname = @name, @useself = N'false',
        @locallogin = @login, @rmtuser = @user, @rmtpassword = @password;
END TRY
BEGIN CATCH
    IF @step >= 1
        EXEC master.sys.sp_dropserver @server = @name, @droplogins = 'droplogins';
    THROW;
END CATCH";
const ENSURE_PARAMS: &str = "@name nvarchar(128), @timeout nvarchar(10), @login nvarchar(128), \
                             @user nvarchar(128), @password nvarchar(128)";

#[tokio::test]
async fn ensure_batch_converges_in_one_request() {
    let instance = instance();
    let mut sa = sa(&instance);
    let reply = executesql(
        &mut sa,
        ENSURE,
        ENSURE_PARAMS,
        &[
            ("@name", "B'1]"),
            ("@timeout", "600"),
            ("@login", "plain"),
            ("@user", "remote"),
            ("@password", "secret"),
        ],
    )
    .await;
    reply.no_errors();
    assert_eq!(last_done_status(&reply) & done_status::ERROR, 0);
    let server = instance
        .servers()
        .into_iter()
        .find(|s| s.name == "B'1]")
        .expect("created");
    assert!(server.rpc_out);
    assert_eq!(server.query_timeout, 600);
    let mappings = instance.linked_logins();
    assert!(mappings
        .iter()
        .any(|l| l.server_id == server.server_id && l.remote_name.as_deref() == Some("remote")));
    let stats = instance.connection_stats();
    assert_eq!((stats[0].requests, stats[0].rpc_calls), (1, 1));
}

#[tokio::test]
async fn failing_fourth_call_is_undone_and_its_error_rethrown() {
    let instance = instance();
    let mut sa = sa(&instance);
    let before = catalog(&instance);
    // The 4th call maps a login that does not exist: Msg 15007 from sp_addlinkedsrvlogin.
    let values = [
        ("@name", "B1"),
        ("@timeout", "600"),
        ("@login", "nobody"),
        ("@user", "remote"),
        ("@password", "secret"),
    ];
    let reply = executesql(&mut sa, ENSURE, ENSURE_PARAMS, &values).await;
    // Exactly the original error reaches the client, as SQL Server raised it, once.
    let err = reply.error();
    assert_eq!(
        (
            err.number,
            err.class,
            err.state,
            err.text.as_str(),
            err.procedure.as_str()
        ),
        (
            15007,
            16,
            1,
            "'nobody' is not a valid login or you do not have permission.",
            "sys.sp_addlinkedsrvlogin"
        )
    );
    assert_eq!(err.server, "LOCALSRV");
    assert_ne!(last_done_status(&reply) & done_status::ERROR, 0);
    assert_eq!(
        catalog(&instance),
        before,
        "the CATCH block dropped the new server"
    );
    // The same batch over the SQL batch path (values declared in the batch).
    let batch = format!(
        "DECLARE @name nvarchar(128) = N'B1', @timeout nvarchar(10) = N'600', \
         @login nvarchar(128) = N'nobody', @user nvarchar(128) = N'remote', \
         @password nvarchar(128) = N'secret';\n{ENSURE}"
    );
    let reply = run(&mut sa, &batch).await;
    assert_eq!(reply.error_numbers(), vec![15007]);
    assert_eq!(catalog(&instance), before);
    let stats = instance.connection_stats();
    assert_eq!(
        (stats[0].requests, stats[0].batches, stats[0].rpc_calls),
        (2, 1, 1)
    );
}

#[tokio::test]
async fn caught_errors_do_not_reach_the_client() {
    let instance = instance();
    let mut sa = sa(&instance);
    let reply = run(
        &mut sa,
        "DECLARE @rc int = 5;\nBEGIN TRY\n  PRINT N'before';\n  EXEC @rc = sp_dropserver N'nosuch';\n  SELECT 'not reached' AS x;\nEND TRY\nBEGIN CATCH\n  SELECT ERROR_NUMBER() AS n, ERROR_SEVERITY() AS sev, ERROR_STATE() AS st,\n    ERROR_MESSAGE() AS m, ERROR_PROCEDURE() AS p, ERROR_LINE() AS l, @@ERROR AS e, @rc AS rc\nEND CATCH\nSELECT @@ERROR AS after",
    )
    .await;
    assert!(reply.errors().is_empty(), "caught: {:?}", reply.0);
    assert!(!any_done_error(&reply), "no DONE_ERROR for a caught error");
    // The PRINT before the error was sent; the abandoned EXEC sent no RETURNSTATUS.
    assert_eq!(reply.messages()[0].text, "before");
    assert!(reply.return_statuses().is_empty());
    let results = reply.results();
    assert_eq!(results.len(), 2, "{:?}", reply.0);
    let row = &results[0].rows[0];
    assert_eq!(row[0], SqlValue::Int(15015));
    assert_eq!(row[1], SqlValue::Int(16));
    assert_eq!(row[2], SqlValue::Int(1));
    assert_eq!(
        row[3],
        s("The server 'nosuch' does not exist. Use sp_helpserver to show available servers.")
    );
    assert_eq!(row[4], s("sys.sp_dropserver"));
    assert!(matches!(row[5], SqlValue::Int(_)));
    assert_eq!(
        row[6],
        SqlValue::Int(15015),
        "@@ERROR at the start of CATCH"
    );
    // The procedure was abandoned at its error: it never returned, @rc keeps its value.
    assert_eq!(row[7], SqlValue::Int(5));
    assert_eq!(
        results[1].rows[0][0],
        SqlValue::Int(0),
        "@@ERROR after a success"
    );
}

#[tokio::test]
async fn error_functions_are_null_outside_catch() {
    let instance = instance();
    let mut sa = sa(&instance);
    let reply = run(
        &mut sa,
        "SELECT ERROR_NUMBER() AS a, ERROR_MESSAGE() AS b, ERROR_SEVERITY() AS c, ERROR_STATE() AS d, ERROR_LINE() AS e, ERROR_PROCEDURE() AS f",
    )
    .await;
    reply.no_errors();
    assert!(reply.result().rows[0].iter().all(|v| *v == SqlValue::Null));
    // After END CATCH they are NULL again.
    let reply = run(
        &mut sa,
        "BEGIN TRY THROW 50001, N'x', 1 END TRY BEGIN CATCH SELECT ERROR_NUMBER() AS n END CATCH; SELECT ERROR_NUMBER() AS n",
    )
    .await;
    let results = reply.results();
    assert_eq!(results[0].rows[0][0], SqlValue::Int(50001));
    assert_eq!(results[1].rows[0][0], SqlValue::Null);
    // The common CATCH idiom around a transaction.
    let reply = run(
        &mut sa,
        "BEGIN TRY BEGIN TRAN; THROW 50001, N'x', 1; END TRY BEGIN CATCH IF XACT_STATE() <> 0 ROLLBACK; SELECT XACT_STATE() AS s, @@TRANCOUNT AS t END CATCH",
    )
    .await;
    reply.no_errors();
    assert_eq!(
        reply.result().rows[0],
        vec![SqlValue::Int(0), SqlValue::Int(0)]
    );
}

#[tokio::test]
async fn nested_try_catch() {
    let instance = instance();
    let mut sa = sa(&instance);
    // The inner CATCH takes the error; the outer CATCH never runs.
    let reply = run(
        &mut sa,
        "BEGIN TRY BEGIN TRY THROW 50001, N'inner', 1; END TRY BEGIN CATCH SELECT 'inner' AS x END CATCH; SELECT 'rest' AS x END TRY BEGIN CATCH SELECT 'outer' AS x END CATCH",
    )
    .await;
    reply.no_errors();
    assert_eq!(first_cells(&reply), vec![s("inner"), s("rest")]);
    // The inner CATCH re-raises: the outer one sees the original error.
    let reply = run(
        &mut sa,
        "BEGIN TRY BEGIN TRY EXEC sp_dropserver N'nosuch' END TRY BEGIN CATCH THROW END CATCH END TRY BEGIN CATCH SELECT ERROR_NUMBER() AS n, ERROR_PROCEDURE() AS p END CATCH",
    )
    .await;
    reply.no_errors();
    assert_eq!(
        reply.result().rows[0],
        vec![SqlValue::Int(15015), s("sys.sp_dropserver")]
    );
    // An error inside a CATCH block goes to the enclosing CATCH; each sees its own error, and
    // the outer error is visible again after the inner END CATCH.
    let reply = run(
        &mut sa,
        "BEGIN TRY THROW 50001, N'one', 1; END TRY\nBEGIN CATCH\n  BEGIN TRY THROW 50002, N'two', 2; END TRY BEGIN CATCH SELECT ERROR_NUMBER() AS n END CATCH;\n  SELECT ERROR_NUMBER() AS n;\nEND CATCH",
    )
    .await;
    reply.no_errors();
    assert_eq!(
        first_cells(&reply),
        vec![SqlValue::Int(50002), SqlValue::Int(50001)]
    );
    // An error in a CATCH block without an enclosing one reaches the client; the CATCH block
    // goes on (a statement-level error), and so does the batch.
    let reply = run(
        &mut sa,
        "BEGIN TRY THROW 50001, N'one', 1; END TRY BEGIN CATCH EXEC sp_dropserver N'nosuch'; SELECT 'still' AS x END CATCH; SELECT 'after' AS x",
    )
    .await;
    assert_eq!(reply.error_numbers(), vec![15015]);
    assert_eq!(reply.results().len(), 2);
}

#[tokio::test]
async fn errors_in_called_scopes_are_caught_and_abandon_them() {
    let instance = instance();
    let mut sa = sa(&instance);
    // sp_executesql is abandoned at its error: the second call never runs.
    let reply = run(
        &mut sa,
        "BEGIN TRY EXEC sp_executesql N'EXEC sp_dropserver N''nosuch''; EXEC sp_addlinkedserver N''LATER''' END TRY BEGIN CATCH SELECT ERROR_NUMBER() AS n END CATCH",
    )
    .await;
    reply.no_errors();
    assert_eq!(reply.scalar(), SqlValue::Int(15015));
    assert!(instance.servers().iter().all(|s| s.name != "LATER"));
    // Compile errors one level down are caught: a syntax error, an undeclared variable, an
    // unknown object in dynamic SQL.
    for (dynamic, number) in [
        ("N'SELECT 1 FROM'", 102),
        ("N'SELECT @nope'", 137),
        ("N'SELECT * FROM dbo.nosuch'", 208),
    ] {
        let reply = run(
            &mut sa,
            &format!("BEGIN TRY EXEC sp_executesql {dynamic} END TRY BEGIN CATCH SELECT ERROR_NUMBER() AS n END CATCH"),
        )
        .await;
        reply.no_errors();
        assert_eq!(reply.scalar(), SqlValue::Int(number), "{dynamic}");
    }
    // EXEC ('…') is a lower level too.
    let reply = run(
        &mut sa,
        "BEGIN TRY EXEC (N'SELECT * FROM dbo.nosuch') END TRY BEGIN CATCH SELECT ERROR_NUMBER() AS n END CATCH",
    )
    .await;
    reply.no_errors();
    assert_eq!(reply.scalar(), SqlValue::Int(208));
}

#[tokio::test]
async fn compile_errors_at_the_same_level_are_not_caught() {
    let instance = instance();
    let mut sa = sa(&instance);
    // Deferred name resolution at the TRY's own level: not caught, the batch ends.
    let reply = run(
        &mut sa,
        "BEGIN TRY SELECT * FROM dbo.nosuch END TRY BEGIN CATCH SELECT 'caught' AS x END CATCH; SELECT 'after' AS x",
    )
    .await;
    assert_eq!(reply.error_numbers(), vec![208]);
    assert!(reply.results().is_empty());
    // The same inside sp_executesql with its own TRY: not caught there, the dynamic batch
    // ends, the caller's batch goes on.
    let reply = run(
        &mut sa,
        "EXEC sp_executesql N'BEGIN TRY SELECT * FROM dbo.nosuch END TRY BEGIN CATCH SELECT 1 AS x END CATCH'; SELECT 'after' AS x",
    )
    .await;
    assert_eq!(reply.error_numbers(), vec![208]);
    assert_eq!(reply.scalar(), s("after"));
    // ... but a TRY of the calling level catches it.
    let reply = run(
        &mut sa,
        "BEGIN TRY EXEC sp_executesql N'BEGIN TRY SELECT * FROM dbo.nosuch END TRY BEGIN CATCH SELECT 1 AS x END CATCH' END TRY BEGIN CATCH SELECT ERROR_NUMBER() AS n END CATCH",
    )
    .await;
    reply.no_errors();
    assert_eq!(reply.scalar(), SqlValue::Int(208));
    // A syntax error anywhere: nothing of the batch runs, TRY or not.
    let reply = run(
        &mut sa,
        "EXEC sp_addlinkedserver N'EARLY'; BEGIN TRY SELECT 1 FROM END TRY BEGIN CATCH SELECT 2 AS x END CATCH",
    )
    .await;
    assert_eq!(reply.error_numbers(), vec![102]);
    assert!(instance.servers().iter().all(|s| s.name != "EARLY"));
}

#[tokio::test]
async fn informational_messages_are_not_caught() {
    let instance = instance();
    let mut sa = sa(&instance);
    let reply = run(
        &mut sa,
        "BEGIN TRY PRINT N'note'; RAISERROR(N'just %s', 10, 1, N'info'); SELECT 'try' AS x END TRY BEGIN CATCH SELECT 'catch' AS x END CATCH",
    )
    .await;
    reply.no_errors();
    let texts: Vec<_> = reply
        .messages()
        .iter()
        .map(|m| (m.text.clone(), m.class))
        .collect();
    // Severity 10 reaches the client as 0.
    assert_eq!(
        texts,
        vec![("note".to_string(), 0), ("just info".to_string(), 0)]
    );
    assert_eq!(reply.scalar(), s("try"));
}

#[tokio::test]
async fn throw_rules() {
    let instance = instance();
    let mut sa = sa(&instance);
    // Outside TRY: the error reaches the client and ends the batch.
    let reply = run(
        &mut sa,
        "SELECT 1 AS x;\n\nTHROW 50001, N'custom 100%% sure', 7;\nSELECT 2 AS x",
    )
    .await;
    let err = reply.error();
    assert_eq!(
        (
            err.number,
            err.class,
            err.state,
            err.text.as_str(),
            err.line,
            err.procedure.as_str()
        ),
        (50001, 16, 7, "custom 100% sure", 3, "")
    );
    assert_eq!(reply.results().len(), 1);
    // From dynamic SQL without TRY it ends the caller's batch too.
    let reply = run(
        &mut sa,
        "EXEC sp_executesql N'THROW 50001, N''x'', 1'; SELECT 2 AS x",
    )
    .await;
    assert_eq!(reply.error_numbers(), vec![50001]);
    assert!(reply.results().is_empty());
    // And the rest of an RPC request.
    let reply = executesql(
        &mut sa,
        "SELECT 1 AS x; THROW 50009, @m, 1; SELECT 2 AS x",
        "@m nvarchar(20)",
        &[("@m", "from rpc")],
    )
    .await;
    assert_eq!(reply.error().text, "from rpc");
    assert_eq!(reply.results().len(), 1);
    // Numbers below 50000: Msg 35100 (state 10); a negative state: Msg 2756.
    let err = run(&mut sa, "THROW 49999, N'x', 1").await.error().clone();
    assert_eq!(
        (err.number, err.state, err.text.as_str()),
        (
            35100,
            10,
            "Error number 49999 in the THROW statement is outside the valid range. Specify an error number in the valid range of 50000 to 2147483647."
        )
    );
    assert_eq!(error_number(&mut sa, "THROW 50000, N'x', -1").await, 2756);
    // Variables; a state above 255 keeps its low byte.
    let reply = run(
        &mut sa,
        "DECLARE @n int = 50100, @m nvarchar(50) = N'param', @s int = 300; BEGIN TRY THROW @n, @m, @s END TRY BEGIN CATCH SELECT ERROR_NUMBER() AS n, ERROR_MESSAGE() AS m, ERROR_STATE() AS s, ERROR_SEVERITY() AS v END CATCH",
    )
    .await;
    reply.no_errors();
    assert_eq!(
        reply.result().rows[0],
        vec![
            SqlValue::Int(50100),
            s("param"),
            SqlValue::Int(44),
            SqlValue::Int(16)
        ]
    );
    // THROW; outside a CATCH block is refused when the batch compiles: nothing runs.
    let reply = run(&mut sa, "EXEC sp_addlinkedserver N'NEVER';\nTHROW;").await;
    let err = reply.error();
    assert_eq!((err.number, err.class, err.line), (10704, 15, 2));
    assert!(instance.servers().iter().all(|s| s.name != "NEVER"));
    // The statement before THROW must end with `;`.
    assert_eq!(
        error_number(&mut sa, "PRINT N'x' THROW 50000, N'x', 1").await,
        102
    );
    // THROW is not reserved: it names a column.
    let reply = run(&mut sa, "SELECT 1 throw").await;
    assert_eq!(reply.result().columns[0].name, "throw");
    // Arguments are constants or variables only.
    assert_eq!(
        error_number(&mut sa, "THROW 50000, N'a' + N'b', 1").await,
        102
    );
}

#[tokio::test]
async fn raiserror_rules() {
    let instance = instance();
    let mut sa = sa(&instance);
    // Outside TRY: the error is sent and the next statement runs.
    let reply = run(
        &mut sa,
        "RAISERROR(N'%s has %d rows', 16, 2, N'tbl', 5); SELECT 1 AS x",
    )
    .await;
    let err = reply.error();
    assert_eq!(
        (err.number, err.class, err.state, err.text.as_str()),
        (50000, 16, 2, "tbl has 5 rows")
    );
    assert_eq!(reply.scalar(), SqlValue::Int(1));
    // Inside TRY: caught.
    let reply = run(
        &mut sa,
        "BEGIN TRY RAISERROR(N'bad', 11, 1) END TRY BEGIN CATCH SELECT ERROR_NUMBER() AS n, ERROR_SEVERITY() AS s END CATCH",
    )
    .await;
    reply.no_errors();
    assert_eq!(
        reply.result().rows[0],
        vec![SqlValue::Int(50000), SqlValue::Int(11)]
    );
    // A catalogued message by number; an unknown one; reserved numbers.
    let err = run(&mut sa, "RAISERROR(15015, 16, 1, N'x')")
        .await
        .error()
        .clone();
    assert_eq!(
        (err.number, err.text.as_str()),
        (
            15015,
            "The server 'x' does not exist. Use sp_helpserver to show available servers."
        )
    );
    assert_eq!(
        error_number(&mut sa, "RAISERROR(60000, 16, 1)").await,
        18054
    );
    assert_eq!(error_number(&mut sa, "RAISERROR(50000, 16, 1)").await, 2732);
    assert_eq!(
        error_number(&mut sa, "RAISERROR(N'x', 16, 1, 5)").await,
        50000
    );
    assert_eq!(
        error_number(&mut sa, "RAISERROR(N'%d', 16, 1, N'x')").await,
        2786
    );
    // Severity above 18 needs WITH LOG (and sysadmin).
    assert_eq!(error_number(&mut sa, "RAISERROR(N'x', 19, 1)").await, 2754);
    let mut plain = login(&instance, "plain");
    assert_eq!(
        error_number(&mut plain, "RAISERROR(N'x', 19, 1) WITH LOG").await,
        2754
    );
    // WITH SETERROR sets @@ERROR even for an informational message.
    let reply = run(
        &mut sa,
        "RAISERROR(N'x', 1, 1) WITH SETERROR; SELECT @@ERROR AS e",
    )
    .await;
    assert_eq!(reply.scalar(), SqlValue::Int(50000));
    // Severity 20 or more is not caught and ends the connection.
    let reply = sa
        .execute(Request::Batch(
            "BEGIN TRY RAISERROR(N'fatal', 20, 1) WITH LOG END TRY BEGIN CATCH SELECT 1 AS x END CATCH".into(),
        ))
        .await;
    assert_eq!(reply.after, AfterReply::Disconnect);
    let reply = Reply(reply.items);
    assert!(reply.results().is_empty());
    assert_eq!(reply.error().class, 20);
}

#[tokio::test]
async fn blocks_if_else_and_return() {
    let instance = instance();
    let mut sa = sa(&instance);
    let reply = run(
        &mut sa,
        "DECLARE @a int = 1, @b nvarchar(10) = N'x'\nIF @a >= 1 AND NOT (@b <> N'x' OR @b IS NULL)\nBEGIN\n  SET @a = @a + 1\n  SELECT @a AS a\nEND\nELSE\nBEGIN\n  SELECT 0 AS a\nEND\nIF @a = 0 SELECT 'no' AS a ELSE SELECT 'yes' AS a;\nSELECT @b = N'y'; SELECT @b AS b",
    )
    .await;
    reply.no_errors();
    assert_eq!(
        first_cells(&reply),
        vec![SqlValue::Int(2), s("yes"), s("y")]
    );
    // RETURN ends the batch (or the dynamic SQL only).
    let reply = run(&mut sa, "SELECT 1 AS x; RETURN; SELECT 2 AS x").await;
    assert_eq!(reply.results().len(), 1);
    let reply = run(
        &mut sa,
        "EXEC sp_executesql N'RETURN; SELECT 1 AS x'; SELECT 2 AS x",
    )
    .await;
    assert_eq!(reply.scalar(), SqlValue::Int(2));
    // A batch cannot return a value; BEGIN … END cannot be empty; CATCH needs its TRY.
    assert_eq!(error_number(&mut sa, "RETURN 1").await, 178);
    assert_eq!(error_number(&mut sa, "BEGIN END").await, 102);
    assert_eq!(
        error_number(&mut sa, "BEGIN CATCH SELECT 1 END CATCH").await,
        102
    );
    assert_eq!(
        error_number(&mut sa, "BEGIN TRY END TRY BEGIN CATCH END CATCH").await,
        102
    );
    assert_eq!(
        error_number(&mut sa, "BEGIN TRY SELECT 1 END TRY SELECT 2").await,
        102
    );
    // An empty CATCH block is allowed.
    run(
        &mut sa,
        "BEGIN TRY THROW 50000, N'x', 1 END TRY BEGIN CATCH END CATCH",
    )
    .await
    .no_errors();
}

#[tokio::test]
async fn at_at_error_follows_every_statement() {
    let instance = instance();
    let mut sa = sa(&instance);
    let reply = run(
        &mut sa,
        "DECLARE @e int;\nEXEC sp_dropserver N'nosuch';\nSET @e = @@ERROR;\nIF @@ERROR <> 0 PRINT N'never';\nSELECT @e AS e, @@ERROR AS now",
    )
    .await;
    assert_eq!(reply.error_numbers(), vec![15015]);
    assert_eq!(
        reply.result().rows[0],
        vec![SqlValue::Int(15015), SqlValue::Int(0)]
    );
}

#[tokio::test]
async fn error_lines_count_from_the_batch_text() {
    let instance = instance();
    let mut sa = sa(&instance);
    let reply = run(
        &mut sa,
        "DECLARE @x int;\nBEGIN TRY\n  SET @x = 1;\n  THROW 50001, N'x', 1;\nEND TRY\nBEGIN CATCH\n  SELECT ERROR_LINE() AS l;\nEND CATCH",
    )
    .await;
    assert_eq!(reply.scalar(), SqlValue::Int(4));
    // Re-raised, the error keeps its line; in dynamic SQL lines count from its own text.
    let reply = executesql(
        &mut sa,
        "BEGIN TRY\n\n  THROW 50002, N'y', 1;\nEND TRY\nBEGIN CATCH\n  THROW;\nEND CATCH",
        "",
        &[],
    )
    .await;
    assert_eq!((reply.error().number, reply.error().line), (50002, 3));
}

#[tokio::test]
async fn exec_with_variables_and_status_inside_sp_executesql() {
    let instance = instance();
    let mut sa = sa(&instance);
    let reply = executesql(
        &mut sa,
        "DECLARE @rc int, @rc2 int;\nEXEC @rc = sp_addlinkedserver @name, N'SQL Server';\nEXEC @rc2 = sp_addlinkedserver @server = @name, @srvproduct = N'SQL Server';\nSELECT @rc AS first, @rc2 AS second",
        "@name sysname",
        &[("@name", "V1")],
    )
    .await;
    assert_eq!(reply.error_numbers(), vec![15028]);
    assert_eq!(
        reply.result().rows[0],
        vec![SqlValue::Int(0), SqlValue::Int(1)]
    );
}

/// An attention (the client cancelling, e.g. at its command timeout) abandons the request where
/// it is: no CATCH block runs, so what the batch did so far stays — SQL Server's documented
/// behaviour, which callers must expect. The wire layer drops the request's future and calls
/// `Session::attention`; here the future is dropped while a hop to a peer that never answers
/// keeps it waiting. The next request on the session runs outside any TRY block.
#[tokio::test(flavor = "multi_thread")]
async fn an_attention_ends_the_batch_without_catch() {
    let mut peer = tds_standin::InstanceConfig::new("B");
    peer.faults.stall_at_procedure = Some("sp_GetServerName".into());
    let b = tds_standin::spawn(peer).expect("spawn B");
    let a = Instance::new(config().with_peer("B", b.addr())).expect("instance A");
    let mut sa = sa(&a);
    run(&mut sa, "EXEC sp_addlinkedserver N'B'")
        .await
        .no_errors();
    let batch = "BEGIN TRY EXEC sp_addlinkedserver N'STEP1'; EXEC [B].master.dbo.sp_GetServerName END TRY BEGIN CATCH EXEC sp_dropserver N'STEP1' END CATCH";
    {
        let request = sa.execute(Request::Batch(batch.into()));
        tokio::pin!(request);
        let first_step_done = async {
            while a.servers().iter().all(|s| s.name != "STEP1") {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        };
        tokio::select! {
            reply = &mut request => panic!("the stalled hop answered: {:?}", reply.items),
            () = first_step_done => {}
        }
        // Leaving the block drops the request: what the wire does on ATTENTION.
    }
    sa.attention();
    assert!(
        a.servers().iter().any(|s| s.name == "STEP1"),
        "no CATCH ran: the first step stays"
    );
    let reply = run(
        &mut sa,
        "EXEC sp_dropserver N'nosuch'; SELECT ERROR_NUMBER() AS n",
    )
    .await;
    assert_eq!(
        reply.error_numbers(),
        vec![15015],
        "not caught by the abandoned TRY"
    );
    assert_eq!(reply.scalar(), SqlValue::Null);
    assert_eq!(a.connection_stats()[0].attentions, 1);
}

/// SET options changed inside dynamic SQL are restored when it returns (the SET reference), so
/// the ensure statement's `SET NOCOUNT ON` does not outlive its sp_executesql.
#[tokio::test]
async fn set_options_of_dynamic_sql_end_with_it() {
    let instance = instance();
    let mut sa = sa(&instance);
    let count_bit = |reply: &Reply| last_done_status(reply) & done_status::COUNT != 0;
    let reply = executesql(&mut sa, "SET NOCOUNT ON; SELECT 1 AS x", "", &[]).await;
    assert!(!reply
        .0
        .iter()
        .any(|i| matches!(i, ReplyItem::Done(d) if d.status & done_status::COUNT != 0)));
    assert!(
        count_bit(&run(&mut sa, "SELECT 1 AS x").await),
        "NOCOUNT is off again"
    );
    run(&mut sa, "EXEC (N'SET NOCOUNT ON')").await.no_errors();
    assert!(count_bit(&run(&mut sa, "SELECT 1 AS x").await));
    // At batch level it stays for the session.
    run(&mut sa, "SET NOCOUNT ON").await.no_errors();
    assert!(!count_bit(&run(&mut sa, "SELECT 1 AS x").await));
}
