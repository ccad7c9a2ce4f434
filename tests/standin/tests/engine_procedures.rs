//! The linked-server procedures driven through `Session::execute` (no wire): every row of the
//! reference's emulator contract (section 14) and the errors of its catalogue.

mod engine_support;

use engine_support::*;
use tds_standin::types::{EnvChange, ReplyItem, SqlType, SqlValue};

fn server_row_query(name: &str) -> String {
    format!(
        "SELECT * FROM sys.servers WHERE name = N'{}'",
        name.replace('\'', "''")
    )
}

#[tokio::test]
async fn sql_server_product_defaults() {
    let instance = instance();
    let mut sa = sa(&instance);
    let (reply, rc) = exec_rc(&mut sa, "sp_addlinkedserver N'SEATTLESales', N'sql server'").await;
    reply.no_errors();
    assert_eq!(rc, Some(0));
    let reply = run(&mut sa, &server_row_query("SEATTLESales")).await;
    let r = reply.result();
    assert_eq!(r.columns.len(), 26);
    assert_eq!(r.columns[1].ty, SqlType::NVarChar(Some(128)));
    assert_eq!(r.columns[4].ty, SqlType::NVarChar(Some(4000)));
    assert_eq!(r.columns[24].ty, SqlType::DateTime);
    let expect = [
        ("product", s("SQL Server")),
        ("provider", s("SQLNCLI")),
        ("data_source", s("SEATTLESales")),
        ("location", SqlValue::Null),
        ("provider_string", SqlValue::Null),
        ("catalog", SqlValue::Null),
        ("connect_timeout", SqlValue::Int(0)),
        ("query_timeout", SqlValue::Int(0)),
        ("is_linked", SqlValue::Bit(true)),
        ("is_remote_login_enabled", SqlValue::Bit(true)),
        ("is_rpc_out_enabled", SqlValue::Bit(true)),
        ("is_data_access_enabled", SqlValue::Bit(true)),
        ("is_collation_compatible", SqlValue::Bit(false)),
        ("uses_remote_collation", SqlValue::Bit(true)),
        ("collation_name", SqlValue::Null),
        ("lazy_schema_validation", SqlValue::Bit(false)),
        ("is_system", SqlValue::Bit(false)),
        ("is_publisher", SqlValue::Bit(false)),
        ("is_subscriber", SqlValue::Bit(false)),
        ("is_distributor", SqlValue::Bit(false)),
        ("is_nonsql_subscriber", SqlValue::Bit(false)),
        (
            "is_remote_proc_transaction_promotion_enabled",
            SqlValue::Bit(true),
        ),
        ("is_rda_server", SqlValue::Bit(false)),
    ];
    for (name, value) in expect {
        assert_eq!(column(r, 0, name), &value, "column {name}");
    }
    assert!(matches!(column(r, 0, "server_id"), SqlValue::Int(n) if *n > 0));
    let mapping = run(&mut sa, "SELECT l.local_principal_id, l.uses_self_credential, l.remote_name FROM sys.linked_logins l JOIN sys.servers s ON s.server_id = l.server_id WHERE s.name = 'SEATTLESales'").await;
    assert_eq!(
        mapping.result().rows,
        vec![vec![SqlValue::Int(0), SqlValue::Bit(true), SqlValue::Null]]
    );
}

#[tokio::test]
async fn other_product_defaults_and_local_row() {
    let instance = instance();
    let mut sa = sa(&instance);
    run(&mut sa, "EXEC sp_addlinkedserver @server=N'S1_instance1', @srvproduct=N'', @provider=N'SQLOLEDB', @datasrc=N'S1\\instance1', @catalog = N'db1'").await.no_errors();
    let reply = run(&mut sa, &server_row_query("S1_instance1")).await;
    let r = reply.result();
    assert_eq!(column(r, 0, "product"), &s(""));
    assert_eq!(
        column(r, 0, "provider"),
        &s("SQLNCLI"),
        "SQLOLEDB is stored as SQLNCLI"
    );
    assert_eq!(column(r, 0, "data_source"), &s("S1\\instance1"));
    assert_eq!(column(r, 0, "catalog"), &s("db1"));
    assert_eq!(
        column(r, 0, "is_remote_login_enabled"),
        &SqlValue::Bit(false)
    );
    assert_eq!(column(r, 0, "is_rpc_out_enabled"), &SqlValue::Bit(false));
    assert_eq!(column(r, 0, "is_data_access_enabled"), &SqlValue::Bit(true));
    // Bare `EXEC sp_addlinkedserver 'X'` is a SQL Server link too.
    run(&mut sa, "sp_addlinkedserver BARE").await.no_errors();
    let reply = run(
        &mut sa,
        "SELECT product, is_rpc_out_enabled FROM sys.servers WHERE name = 'bare'",
    )
    .await;
    assert_eq!(
        reply.result().rows[0],
        vec![s("SQL Server"), SqlValue::Bit(true)]
    );
    let local = run(&mut sa, "SELECT name, is_linked, is_data_access_enabled, is_rpc_out_enabled FROM sys.servers WHERE server_id = 0").await;
    assert_eq!(
        local.result().rows[0],
        vec![
            s("LOCALSRV"),
            SqlValue::Bit(false),
            SqlValue::Bit(false),
            SqlValue::Bit(true)
        ]
    );
}

/// The examples of the sp_addlinkedserver page (reference 4.7), with what they store.
#[tokio::test]
async fn documented_examples_work() {
    let instance = instance();
    let mut sa = sa(&instance);
    run(
        &mut sa,
        "EXEC sp_addlinkedserver N'SEATTLESales', N'SQL Server';
         EXEC sp_addlinkedserver @server=N'S1_instance1', @srvproduct=N'',
              @provider=N'MSOLEDBSQL', @datasrc=N'S1\\instance1';
         EXEC sp_addlinkedserver @server=N'SEATTLE Payroll', @srvproduct=N'',
              @provider=N'MSDASQL', @datasrc=N'LocalServer';
         EXEC sp_addlinkedserver 'ExcelSource','Jet 4.0','Microsoft.Jet.OLEDB.4.0',
              'c:\\MyData\\DistExcl.xls', NULL, 'Excel 5.0';",
    )
    .await
    .no_errors();
    let reply = run(
        &mut sa,
        "SELECT name, product, provider, data_source, location, provider_string \
         FROM sys.servers WHERE server_id > 0 ORDER BY server_id",
    )
    .await;
    let null = SqlValue::Null;
    assert_eq!(
        reply.result().rows,
        vec![
            vec![
                s("SEATTLESales"),
                s("SQL Server"),
                s("SQLNCLI"),
                s("SEATTLESales"),
                null.clone(),
                null.clone()
            ],
            vec![
                s("S1_instance1"),
                s(""),
                s("MSOLEDBSQL"),
                s("S1\\instance1"),
                null.clone(),
                null.clone()
            ],
            vec![
                s("SEATTLE Payroll"),
                s(""),
                s("MSDASQL"),
                s("LocalServer"),
                null.clone(),
                null.clone()
            ],
            vec![
                s("ExcelSource"),
                s("Jet 4.0"),
                s("Microsoft.Jet.OLEDB.4.0"),
                s("c:\\MyData\\DistExcl.xls"),
                null,
                s("Excel 5.0")
            ],
        ]
    );
}

#[tokio::test]
async fn addlinkedserver_validation_order_and_messages() {
    let instance = instance();
    let mut sa = sa(&instance);
    let cases: [(&str, i32, &str, &str); 6] = [
        (
            "sp_addlinkedserver NULL",
            15004,
            "Name cannot be NULL.",
            "sys.sp_validname",
        ),
        (
            "sp_addlinkedserver N''",
            15004,
            "Name cannot be NULL.",
            "sys.sp_validname",
        ),
        (
            "sp_addlinkedserver N'X', N'SQL Server', @datasrc = N'h'",
            15426,
            "You must specify a provider name with this set of properties.",
            "sys.sp_addlinkedserver",
        ),
        (
            "sp_addlinkedserver N'X', N''",
            15427,
            "You must specify a provider name for unknown product ''.",
            "sys.sp_addlinkedserver",
        ),
        (
            "sp_addlinkedserver N'X', N'SQL Server', N'MSOLEDBSQL'",
            15428,
            "You cannot specify a provider or any properties for product 'SQL Server'.",
            "sys.sp_addlinkedserver",
        ),
        (
            "sp_addlinkedserver N'X', NULL, N'MSOLEDBSQL'",
            15429,
            "'(null)' is an invalid product name.",
            "sys.sp_addlinkedserver",
        ),
    ];
    for (call, number, text, procedure) in cases {
        let (reply, rc) = exec_rc(&mut sa, call).await;
        let err = reply.error();
        assert_eq!(
            (err.number, err.text.as_str(), err.procedure.as_str()),
            (number, text, procedure),
            "{call}"
        );
        assert_eq!((err.class, err.state), (16, 1));
        assert_eq!(rc, Some(1), "{call} returns 1");
    }
    let (reply, rc) = exec_rc(&mut sa, "sp_addlinkedserver N'X', @linkedstyle = 0").await;
    assert_eq!(reply.error().number, 15663);
    assert_eq!(rc, Some(1));
    let servers = run(&mut sa, "SELECT COUNT(*) FROM sys.servers").await;
    assert_eq!(servers.scalar(), SqlValue::Int(1), "nothing was created");
}

/// When a call breaks several rules, the first check in the procedure's order wins
/// (reference 4.3, 5, 7 and the contract of section 14).
#[tokio::test]
async fn validation_order_when_several_rules_fail() {
    let instance = instance();
    let mut sa = sa(&instance);
    let mut plain = login(&instance, "plain");
    let cases: [(bool, bool, &str, i32); 16] = [
        // (caller is sa, inside a transaction, call, first error)
        (true, true, "sp_addlinkedserver NULL, N''", 15004),
        (true, true, "sp_addlinkedserver N'N1', N''", 15427),
        (false, true, "sp_addlinkedserver N'N1'", 15002),
        (
            false,
            false,
            "sp_addlinkedserver N'LOCALSRV', @linkedstyle = 0",
            15247,
        ),
        (
            true,
            false,
            "sp_addlinkedserver N'LOCALSRV', @linkedstyle = 0",
            15663,
        ),
        (false, true, "sp_addlinkedsrvlogin N'nosuch', 'bad'", 15002),
        (false, false, "sp_addlinkedsrvlogin N'nosuch', 'bad'", 15247),
        (
            true,
            false,
            "sp_addlinkedsrvlogin N'nosuch', 'bad', N'ghost'",
            15600,
        ),
        (
            true,
            false,
            "sp_addlinkedsrvlogin N'nosuch', 'true', N'ghost'",
            15015,
        ),
        (
            false,
            true,
            "sp_droplinkedsrvlogin N'nosuch', N'ghost'",
            15002,
        ),
        (
            true,
            false,
            "sp_droplinkedsrvlogin N'nosuch', N'ghost'",
            15015,
        ),
        (false, true, "sp_dropserver N'nosuch', 'bad'", 15247),
        (true, true, "sp_dropserver N'nosuch', 'bad'", 15002),
        (true, false, "sp_dropserver N'nosuch', 'bad'", 15600),
        (
            false,
            false,
            "sp_serveroption N'nosuch', N'bogus', N'x'",
            15247,
        ),
        (
            true,
            false,
            "sp_serveroption N'nosuch', N'bogus', N'x'",
            15015,
        ),
    ];
    for (as_sa, in_transaction, call, expected) in cases {
        let batch = if in_transaction {
            format!("BEGIN TRAN; EXEC {call}; ROLLBACK")
        } else {
            format!("EXEC {call}")
        };
        let session = if as_sa { &mut sa } else { &mut plain };
        let reply = run(session, &batch).await;
        assert_eq!(
            reply.error_numbers(),
            vec![expected],
            "{call} (sa: {as_sa}, in a transaction: {in_transaction})"
        );
    }
}

#[tokio::test]
async fn binding_errors_leave_the_status_variable_null() {
    let instance = instance();
    let mut sa = sa(&instance);
    let cases = [
        ("sp_addlinkedserver", 201, "Procedure or function 'sp_addlinkedserver' expects parameter '@server', which was not supplied.", 4),
        ("sp_addlinkedserver N'a', N'b', N'c', N'd', N'e', N'f', N'g', 1, N'extra'", 8144, "Procedure or function sp_addlinkedserver has too many arguments specified.", 2),
        ("sp_addlinkedserver @server = N'a', @nosuch = 1", 8145, "@nosuch is not a parameter for procedure sp_addlinkedserver.", 2),
        ("sp_addlinkedserver N'X', @linkedstyle = 'x'", 8114, "Error converting data type varchar to bit.", 1),
        ("sp_droplinkedsrvlogin N'X'", 201, "Procedure or function 'sp_droplinkedsrvlogin' expects parameter '@locallogin', which was not supplied.", 4),
        ("sp_serveroption N'X', N'rpc'", 201, "Procedure or function 'sp_serveroption' expects parameter '@optvalue', which was not supplied.", 4),
        // A missing parameter is reported ahead of an unknown name (simulator probe, 2025).
        ("sp_dropserver @nosuch = 1", 201, "Procedure or function 'sp_dropserver' expects parameter '@server', which was not supplied.", 4),
        ("sp_serveroption @server = N'X', @optname = N'rpc', @bogus = 1", 201, "Procedure or function 'sp_serveroption' expects parameter '@optvalue', which was not supplied.", 4),
    ];
    for (call, number, text, state) in cases {
        let (reply, rc) = exec_rc(&mut sa, call).await;
        let err = reply.error();
        assert_eq!(
            (err.number, err.text.as_str(), err.class, err.state),
            (number, text, 16, state),
            "{call}"
        );
        assert_eq!(err.line, 0);
        assert_eq!(rc, None, "{call}: no return code after a binding error");
    }
}

#[tokio::test]
async fn duplicate_names_compare_case_insensitively_and_show_the_name_as_typed() {
    let instance = instance();
    let mut sa = sa(&instance);
    run(&mut sa, "EXEC sp_addlinkedserver N'Zürich'")
        .await
        .no_errors();
    let (reply, rc) = exec_rc(&mut sa, "sp_addlinkedserver N'ZÜRICH  '").await;
    assert_eq!(reply.error().text, "The server 'ZÜRICH  ' already exists.");
    assert_eq!(rc, Some(1));
    let (reply, _) = exec_rc(&mut sa, "sp_addlinkedserver N'localsrv'").await;
    assert_eq!(reply.error().number, 15028, "the local row counts");
}

#[tokio::test]
async fn case_sensitive_instance_keeps_both_names() {
    let mut config = config();
    config.case_sensitive = true;
    let instance = tds_standin::engine::Instance::new(config).unwrap();
    let mut sa = sa(&instance);
    // Catalog views are lower-case names, compared by the instance collation like any object.
    assert_eq!(
        error_number(&mut sa, "SELECT name FROM sys.SERVERS").await,
        208
    );
    run(
        &mut sa,
        "EXEC sp_addlinkedserver N'x'; EXEC sp_addlinkedserver N'X', N'sql server'",
    )
    .await
    .no_errors();
    let reply = run(
        &mut sa,
        "SELECT name, product FROM sys.servers WHERE server_id > 0 ORDER BY 1",
    )
    .await;
    // The product keyword matches in any case even on a case-sensitive instance.
    assert_eq!(
        reply.result().rows,
        vec![vec![s("X"), s("SQL Server")], vec![s("x"), s("SQL Server")]]
    );
    let reply = run(&mut sa, "SELECT COUNT(*) FROM sys.servers WHERE name = 'x'").await;
    assert_eq!(reply.scalar(), SqlValue::Int(1));
}

#[tokio::test]
async fn special_names_are_stored_literally_and_truncated_to_sysname() {
    let instance = instance();
    let mut sa = sa(&instance);
    let names = [
        "O'Brien",
        "[X]",
        "a;b",
        "x -- y",
        "p /* q */ r",
        "Zürich",
        "東京",
        "SRV\\INST,1433",
    ];
    for name in names {
        let literal = name.replace('\'', "''");
        run(&mut sa, &format!("EXEC sp_addlinkedserver N'{literal}'"))
            .await
            .no_errors();
        let reply = run(
            &mut sa,
            &format!("SELECT name FROM sys.servers WHERE name = N'{literal}'"),
        )
        .await;
        assert_eq!(reply.scalar(), s(name));
    }
    let long = "L".repeat(200);
    run(&mut sa, &format!("EXEC sp_addlinkedserver N'{long}'"))
        .await
        .no_errors();
    let reply = run(
        &mut sa,
        "SELECT LEN(name) FROM sys.servers WHERE name LIKE 'LLL%'",
    )
    .await;
    assert_eq!(
        reply.scalar(),
        SqlValue::Int(128),
        "a 200-character name is cut to 128"
    );
    let reply = run(
        &mut sa,
        &format!(
            "SELECT name FROM sys.servers WHERE name = N'{}'",
            "L".repeat(128)
        ),
    )
    .await;
    assert_eq!(reply.scalar(), s(&"L".repeat(128)));
    // Bracketed bare arguments lose their brackets like identifiers.
    run(&mut sa, "EXEC sp_addlinkedserver [My Server]")
        .await
        .no_errors();
    assert_eq!(
        run(
            &mut sa,
            "SELECT COUNT(*) FROM sys.servers WHERE name = 'My Server'"
        )
        .await
        .scalar(),
        SqlValue::Int(1)
    );
}

#[tokio::test]
async fn transactions_refuse_the_catalog_procedures() {
    let instance = instance();
    let mut sa = sa(&instance);
    run(&mut sa, "EXEC sp_addlinkedserver N'T1'")
        .await
        .no_errors();
    let calls = [
        ("sp_addlinkedserver N'T2'", "sys.sp_addlinkedserver"),
        (
            "sp_addlinkedsrvlogin N'T1', 'true'",
            "sys.sp_addlinkedsrvlogin",
        ),
        (
            "sp_droplinkedsrvlogin N'T1', NULL",
            "sys.sp_droplinkedsrvlogin",
        ),
        ("sp_dropserver N'T1'", "sys.sp_dropserver"),
    ];
    for (call, name) in calls {
        let reply = run(
            &mut sa,
            &format!(
                "BEGIN TRAN; DECLARE @rc int; EXEC @rc = {call}; SELECT @rc, @@TRANCOUNT; ROLLBACK"
            ),
        )
        .await;
        assert_eq!(
            reply.error().text,
            format!("The procedure '{name}' cannot be executed within a transaction.")
        );
        assert_eq!(
            reply.result().rows[0],
            vec![SqlValue::Int(1), SqlValue::Int(1)]
        );
    }
    // sp_serveroption has no transaction restriction.
    run(
        &mut sa,
        "BEGIN TRANSACTION; EXEC sp_serveroption N'T1', 'rpc', 'false'; COMMIT",
    )
    .await
    .no_errors();
    // Implicit transactions: a SELECT FROM opens one.
    let reply = run(&mut sa, "SET IMPLICIT_TRANSACTIONS ON; SELECT name FROM sys.servers; EXEC sp_addlinkedserver N'T3'; ROLLBACK; SET IMPLICIT_TRANSACTIONS OFF").await;
    assert_eq!(reply.error_numbers(), vec![15002]);
}

#[tokio::test]
async fn permissions_follow_the_fixed_roles() {
    let instance = instance();
    let mut sa = sa(&instance);
    let mut setup = login(&instance, "setup");
    let mut security = login(&instance, "security");
    let mut plain = login(&instance, "plain");
    // setupadmin: ALTER ANY LINKED SERVER.
    run(
        &mut setup,
        "EXEC sp_addlinkedserver N'P1'; EXEC sp_serveroption N'P1', N'rpc out', N'false'",
    )
    .await
    .no_errors();
    let reply = run(
        &mut setup,
        "EXEC sp_addlinkedsrvlogin N'P1', 'false', NULL, N'r', N'p'",
    )
    .await;
    assert_eq!(
        reply.error().number,
        15247,
        "login mappings need ALTER ANY LOGIN"
    );
    // securityadmin: ALTER ANY LOGIN but not linked servers.
    run(
        &mut security,
        "EXEC sp_addlinkedsrvlogin N'P1', 'false', N'plain', N'r', N'p'",
    )
    .await
    .no_errors();
    assert_eq!(
        error_number(&mut security, "EXEC sp_addlinkedserver N'P2'").await,
        15247
    );
    let reply = run(&mut plain, "EXEC sp_addlinkedserver N'P2'").await;
    let err = reply.error();
    assert_eq!(
        (err.number, err.procedure.as_str()),
        (15247, "sys.sp_MSaddserver_internal")
    );
    // Permission comes before existence in sp_dropserver.
    assert_eq!(
        error_number(&mut plain, "EXEC sp_dropserver N'nosuch'").await,
        15247
    );
    assert_eq!(
        error_number(&mut plain, "EXEC sp_serveroption N'P1', N'rpc', N'true'").await,
        15247
    );
    assert_eq!(
        error_number(&mut sa, "EXEC sp_dropserver N'nosuch'").await,
        15015
    );
}

#[tokio::test]
async fn visibility_of_servers_for_logins_without_permission() {
    let instance = instance();
    let mut sa = sa(&instance);
    run(&mut sa, "EXEC sp_addlinkedserver N'V1'; EXEC sp_addlinkedserver N'V2', N'', N'MSOLEDBSQL', N'h', NULL, N'secret=1'").await.no_errors();
    let mut plain = login(&instance, "plain");
    let seen = run(
        &mut plain,
        "SELECT name, provider_string FROM sys.servers ORDER BY server_id",
    )
    .await;
    assert_eq!(
        seen.result().rows.len(),
        3,
        "the default mapping makes every link visible"
    );
    assert_eq!(
        seen.result().rows[2][1],
        SqlValue::Null,
        "provider_string hidden without ALTER ANY LINKED SERVER"
    );
    let sa_view = run(
        &mut sa,
        "SELECT provider_string FROM sys.servers WHERE name = 'V2'",
    )
    .await;
    assert_eq!(sa_view.scalar(), s("secret=1"));
    run(&mut sa, "EXEC sp_droplinkedsrvlogin N'V1', NULL; EXEC sp_droplinkedsrvlogin N'V2', NULL; EXEC sp_addlinkedsrvlogin N'V2', 'true', N'plain'").await.no_errors();
    let seen = run(&mut plain, "SELECT name FROM sys.servers ORDER BY name").await;
    assert_eq!(seen.result().rows, vec![vec![s("LOCALSRV")], vec![s("V2")]]);
}

#[tokio::test]
async fn linked_login_mappings() {
    let instance = instance();
    let mut sa = sa(&instance);
    run(&mut sa, "EXEC sp_addlinkedserver N'M1'")
        .await
        .no_errors();
    run(
        &mut sa,
        "EXEC sp_addlinkedsrvlogin N'M1', 'FALSE', NULL, N'remote', N'pw1'",
    )
    .await
    .no_errors();
    run(&mut sa, "EXEC sp_addlinkedsrvlogin @rmtsrvname = N'm1', @useself = 'false', @locallogin = N'PLAIN', @rmtuser = N'r2', @rmtpassword = N'pw2'").await.no_errors();
    let rows = run(&mut sa, "SELECT local_principal_id, uses_self_credential, remote_name FROM sys.linked_logins ORDER BY local_principal_id").await;
    let r = rows.result();
    assert_eq!(
        r.rows.len(),
        2,
        "upsert keeps one row per principal: {:?}",
        r.rows
    );
    assert_eq!(
        r.rows[0],
        vec![SqlValue::Int(0), SqlValue::Bit(false), s("remote")]
    );
    assert_eq!(r.rows[1][2], s("r2"));
    let debug = format!("{:?}", instance.linked_logins());
    assert!(
        !debug.contains("pw1") && !debug.contains("pw2"),
        "passwords never in Debug output"
    );
    let help = run(&mut sa, "EXEC sp_helplinkedsrvlogin N'M1'").await;
    assert_eq!(
        help.result()
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        [
            "Linked Server",
            "Local Login",
            "Is Self Mapping",
            "Remote Login"
        ]
    );
    assert_eq!(help.result().rows.len(), 2);
    let errors = [
        ("sp_addlinkedsrvlogin N'M1', NULL", 15600, "An invalid parameter or option was specified for procedure 'sys.sp_addlinkedsrvlogin'.", 15),
        ("sp_addlinkedsrvlogin N'M1', 'yes'", 15600, "An invalid parameter or option was specified for procedure 'sys.sp_addlinkedsrvlogin'.", 15),
        ("sp_addlinkedsrvlogin N'nosuch'", 15015, "The server 'nosuch' does not exist. Use sp_helpserver to show available servers.", 16),
        ("sp_addlinkedsrvlogin N'M1', 'true', N'DOMAIN\\ghost'", 15007, "'DOMAIN\\ghost' is not a valid login or you do not have permission.", 16),
        ("sp_droplinkedsrvlogin NULL, NULL", 15015, "The server '(null)' does not exist. Use sp_helpserver to show available servers.", 16),
        ("sp_droplinkedsrvlogin N'M1', N'ghost'", 15007, "'ghost' is not a valid login or you do not have permission.", 16),
        ("sp_helplinkedsrvlogin N'nosuch'", 15015, "The server 'nosuch' does not exist. Use sp_helpserver to show available servers.", 16),
    ];
    for (call, number, text, class) in errors {
        let (reply, rc) = exec_rc(&mut sa, call).await;
        let err = reply.error();
        assert_eq!(
            (err.number, err.text.as_str(), err.class),
            (number, text, class),
            "{call}"
        );
        assert_eq!(rc, Some(1), "{call}");
    }
    run(&mut sa, "EXEC sp_droplinkedsrvlogin N'M1', N'plain'")
        .await
        .no_errors();
    // A missing mapping is dropped silently (simulator's observation on SQL Server 2025).
    let (reply, rc) = exec_rc(&mut sa, "sp_droplinkedsrvlogin N'M1', N'plain'").await;
    reply.no_errors();
    assert_eq!(rc, Some(0));
}

#[tokio::test]
async fn dropserver_rules() {
    let instance = instance();
    let mut sa = sa(&instance);
    run(
        &mut sa,
        "EXEC sp_addlinkedserver N'D1'; EXEC sp_addlinkedserver N'D2'",
    )
    .await
    .no_errors();
    run(&mut sa, "EXEC sp_dropserver N'D1'").await.no_errors();
    run(
        &mut sa,
        "EXEC sp_addlinkedsrvlogin N'D2', 'false', N'plain', N'r', N'p'",
    )
    .await
    .no_errors();
    let (reply, rc) = exec_rc(&mut sa, "sp_dropserver N'd2'").await;
    assert_eq!(
        reply.error().text,
        "There are still remote logins or linked logins for the server 'd2'."
    );
    assert_eq!(rc, Some(1));
    // The all-logins mapping blocks too once it no longer maps everyone to themselves.
    run(
        &mut sa,
        "EXEC sp_addlinkedserver N'D5'; EXEC sp_addlinkedsrvlogin N'D5', 'false', NULL, N'r', N'p'",
    )
    .await
    .no_errors();
    assert_eq!(
        error_number(&mut sa, "EXEC sp_dropserver N'D5'").await,
        15190
    );
    run(&mut sa, "EXEC sp_dropserver N'D5', droplogins")
        .await
        .no_errors();
    let (reply, _) = exec_rc(&mut sa, "sp_dropserver N'D2', 'drop'").await;
    assert_eq!((reply.error().number, reply.error().class), (15600, 15));
    assert_eq!(
        reply.error().text,
        "An invalid parameter or option was specified for procedure 'sys.sp_dropserver'."
    );
    let (reply, _) = exec_rc(&mut sa, "sp_dropserver NULL").await;
    assert_eq!(
        reply.error().text,
        "The server '(null)' does not exist. Use sp_helpserver to show available servers."
    );
    run(
        &mut sa,
        "EXEC sp_dropserver @server = N'D2', @droplogins = 'DROPLOGINS '",
    )
    .await
    .no_errors();
    assert_eq!(
        run(&mut sa, "SELECT COUNT(*) FROM sys.linked_logins")
            .await
            .scalar(),
        SqlValue::Int(0)
    );
    // server_id is one above the highest present.
    run(
        &mut sa,
        "EXEC sp_addlinkedserver N'D3'; EXEC sp_addlinkedserver N'D4'",
    )
    .await
    .no_errors();
    let ids = run(
        &mut sa,
        "SELECT server_id FROM sys.servers WHERE name IN ('D3', 'D4') ORDER BY 1",
    )
    .await;
    assert_eq!(
        ids.result().rows,
        vec![vec![SqlValue::Int(1)], vec![SqlValue::Int(2)]]
    );
}

#[tokio::test]
async fn serveroption_every_option() {
    let instance = instance();
    let mut sa = sa(&instance);
    run(&mut sa, "EXEC sp_addlinkedserver N'O1'")
        .await
        .no_errors();
    let before = run(
        &mut sa,
        "SELECT modify_date FROM sys.servers WHERE name = 'O1'",
    )
    .await
    .scalar();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let flags = [
        ("rpc", "is_remote_login_enabled"),
        ("rpc out", "is_rpc_out_enabled"),
        ("data access", "is_data_access_enabled"),
        ("dist", "is_distributor"),
        ("pub", "is_publisher"),
        ("sub", "is_subscriber"),
        ("lazy schema validation", "lazy_schema_validation"),
        ("use remote collation", "uses_remote_collation"),
        ("collation compatible", "is_collation_compatible"),
        (
            "remote proc transaction promotion",
            "is_remote_proc_transaction_promotion_enabled",
        ),
    ];
    for (option, col) in flags {
        for (value, expected) in [
            ("OFF", false),
            ("true", true),
            ("False", false),
            ("on", true),
        ] {
            run(
                &mut sa,
                &format!("EXEC sp_serveroption N'O1', N'{option}', N'{value}'"),
            )
            .await
            .no_errors();
            let reply = run(
                &mut sa,
                &format!("SELECT {col} FROM sys.servers WHERE name = 'O1'"),
            )
            .await;
            assert_eq!(
                reply.scalar(),
                SqlValue::Bit(expected),
                "{option} = {value}"
            );
        }
        let (reply, rc) = exec_rc(
            &mut sa,
            &format!("sp_serveroption N'O1', N'{option}', N'1'"),
        )
        .await;
        assert_eq!(
            reply.error().text,
            "An invalid parameter or option was specified for procedure 'sys.sp_serveroption'."
        );
        assert_eq!(rc, Some(1));
    }
    // Microsoft's sample passes a bare word.
    run(&mut sa, "EXEC sp_serveroption 'O1', 'rpc out', true")
        .await
        .no_errors();
    run(&mut sa, "EXEC sp_serveroption N'O1', N'connect timeout', 30; EXEC sp_serveroption N'O1', N'QUERY TIMEOUT', N'45'").await.no_errors();
    let r = run(
        &mut sa,
        "SELECT connect_timeout, query_timeout FROM sys.servers WHERE name = 'O1'",
    )
    .await;
    assert_eq!(
        r.result().rows[0],
        vec![SqlValue::Int(30), SqlValue::Int(45)]
    );
    for bad in [
        "N'connect timeout', N'-1'",
        "N'query timeout', N'true'",
        "N'system', N'false'",
        "N'no such option', N'true'",
        "N'collation name', N'Klingon_CI_AS'",
        "N'rpc', NULL",
    ] {
        assert_eq!(
            error_number(&mut sa, &format!("EXEC sp_serveroption N'O1', {bad}")).await,
            15600,
            "{bad}"
        );
    }
    run(&mut sa, "EXEC sp_serveroption N'O1', N'system', N'on'")
        .await
        .no_errors();
    // Collation interactions.
    run(&mut sa, "EXEC sp_serveroption N'O1', 'collation compatible', 'true'; EXEC sp_serveroption N'O1', 'collation name', N'Latin1_General_CI_AS'").await.no_errors();
    let r = run(
        &mut sa,
        "SELECT collation_name, is_collation_compatible FROM sys.servers WHERE name = 'O1'",
    )
    .await;
    assert_eq!(
        r.result().rows[0],
        vec![s("Latin1_General_CI_AS"), SqlValue::Bit(false)]
    );
    run(
        &mut sa,
        "EXEC sp_serveroption N'O1', 'collation compatible', 'true'",
    )
    .await
    .no_errors();
    let r = run(
        &mut sa,
        "SELECT collation_name FROM sys.servers WHERE name = 'O1'",
    )
    .await;
    assert_eq!(r.scalar(), SqlValue::Null);
    run(
        &mut sa,
        "EXEC sp_serveroption N'O1', 'collation name', NULL",
    )
    .await
    .no_errors();
    // provider string and name.
    run(
        &mut sa,
        "EXEC sp_serveroption N'O1', 'provider string', N'ApplicationIntent=ReadOnly'",
    )
    .await
    .no_errors();
    let after = run(
        &mut sa,
        "SELECT modify_date FROM sys.servers WHERE name = 'O1'",
    )
    .await
    .scalar();
    assert_ne!(before, after, "modify_date moves");
    run(&mut sa, "EXEC sp_addlinkedserver N'O2'")
        .await
        .no_errors();
    assert_eq!(
        error_number(&mut sa, "EXEC sp_serveroption N'O1', 'name', N'o2'").await,
        15028
    );
    run(&mut sa, "EXEC sp_serveroption N'O1', 'name', N'O1renamed'")
        .await
        .no_errors();
    let r = run(&mut sa, "SELECT COUNT(*) FROM sys.servers s JOIN sys.linked_logins l ON l.server_id = s.server_id WHERE s.name = 'O1renamed'").await;
    assert_eq!(
        r.scalar(),
        SqlValue::Int(1),
        "the mapping follows the rename"
    );
    assert_eq!(
        error_number(&mut sa, "EXEC sp_serveroption N'nosuch', 'rpc', 'true'").await,
        15015
    );
    // The local row can be changed too.
    run(
        &mut sa,
        "DECLARE @me sysname = @@SERVERNAME; EXEC sp_serveroption @me, 'data access', 'true'",
    )
    .await
    .no_errors();
    assert_eq!(
        run(
            &mut sa,
            "SELECT is_data_access_enabled FROM sys.servers WHERE server_id = 0"
        )
        .await
        .scalar(),
        SqlValue::Bit(true)
    );
}

#[tokio::test]
async fn testlinkedserver_without_a_reachable_peer() {
    let instance = instance();
    let mut sa = sa(&instance);
    let (reply, rc) = exec_rc(&mut sa, "sp_testlinkedserver N'nosuch'").await;
    let err = reply.error();
    assert_eq!((err.number, err.class, err.state), (7202, 11, 2));
    assert_eq!(
        err.text,
        "Could not find server 'nosuch' in sys.servers. Verify that the correct server name was \
         specified. If necessary, execute the stored procedure sp_addlinkedserver to add the \
         server to sys.servers."
    );
    assert_eq!(rc, Some(1));
    run(&mut sa, "EXEC sp_addlinkedserver N'NOPEER'")
        .await
        .no_errors();
    assert_eq!(
        run(&mut sa, "EXEC sp_testlinkedserver 42")
            .await
            .error()
            .text,
        "Procedure expects parameter '@servername' of type 'sysname'."
    );
    assert_eq!(
        error_number(&mut sa, "EXEC sp_testlinkedserver N'a', N'b'").await,
        8144
    );
    let reply = run(&mut sa, "EXEC sp_testlinkedserver NOPEER").await;
    assert_eq!(reply.error_numbers(), vec![7303]);
    // An extended procedure: binding errors at line 1 with its own states (simulator probe of
    // SQL Server 2025), and NULL is no Unicode string (214), typed or not.
    let typed_null = "DECLARE @s sysname; EXEC sp_testlinkedserver @s";
    let binding_cases = [
        ("EXEC sp_testlinkedserver N'a', N'b'", 8144, 90),
        ("EXEC sp_testlinkedserver", 201, 95),
        ("EXEC sp_testlinkedserver DEFAULT", 201, 95),
        ("EXEC sp_testlinkedserver NULL", 214, 90),
        (typed_null, 214, 90),
        ("EXEC sp_testlinkedserver 'NOPEER'", 214, 90),
    ];
    for (call, number, state) in binding_cases {
        let reply = run(&mut sa, call).await;
        let err = reply.error();
        assert_eq!(
            (err.number, err.state, err.line, err.procedure.as_str()),
            (number, state, 1, "sp_testlinkedserver"),
            "{call}"
        );
    }
    assert_eq!(reply.messages()[0].number, 7412);
    run(
        &mut sa,
        "EXEC sp_serveroption N'NOPEER', 'data access', 'false'",
    )
    .await
    .no_errors();
    assert_eq!(
        run(&mut sa, "EXEC sp_testlinkedserver NOPEER")
            .await
            .error()
            .text,
        "Server 'NOPEER' is not configured for DATA ACCESS."
    );
    run(&mut sa, "EXEC sp_serveroption N'NOPEER', 'data access', 'true'; EXEC sp_droplinkedsrvlogin N'NOPEER', NULL").await.no_errors();
    let err_text = run(&mut sa, "EXEC sp_testlinkedserver NOPEER")
        .await
        .error()
        .text
        .clone();
    assert_eq!(
        err_text,
        "Access to the remote server is denied because no login-mapping exists."
    );
}

#[tokio::test]
async fn four_part_calls_check_the_link_first() {
    let instance = instance();
    let mut sa = sa(&instance);
    let reply = run(&mut sa, "EXEC [nosuch].master.dbo.sp_GetServerName").await;
    assert_eq!(reply.error().number, 7202);
    run(
        &mut sa,
        "EXEC sp_addlinkedserver N'R1', N'', N'MSDASQL', N'dsn'",
    )
    .await
    .no_errors();
    assert_eq!(
        run(&mut sa, "EXEC R1.master.dbo.sp_GetServerName")
            .await
            .error()
            .text,
        "Server 'R1' is not configured for RPC."
    );
    assert_eq!(error_number(&mut sa, "EXEC ('select 1') AT R1").await, 7411);
    // Msg 7411 ends the batch and rolls back an open transaction (simulator's probe of SQL
    // Server 2025), also from inside dynamic SQL and for a four-part SELECT.
    for failing in [
        "EXEC R1.master.dbo.sp_GetServerName",
        "EXEC ('select 1') AT R1",
        "EXEC sp_executesql N'EXEC R1.master.dbo.sp_GetServerName'",
    ] {
        let reply = run(&mut sa, &format!("BEGIN TRAN; {failing}; SELECT 1")).await;
        assert_eq!(reply.error_numbers(), vec![7411], "{failing}");
        assert!(reply.results().is_empty(), "{failing}: the batch ended");
        assert!(
            reply.0.iter().any(|item| matches!(
                item,
                ReplyItem::EnvChange(EnvChange::RollbackTransaction(_))
            )),
            "{failing}: the transaction rolled back"
        );
        let trancount = run(&mut sa, "SELECT @@TRANCOUNT").await.scalar();
        assert_eq!(trancount, SqlValue::Int(0), "{failing}");
    }
    run(&mut sa, "EXEC sp_serveroption R1, 'data access', 'false'")
        .await
        .no_errors();
    let reply = run(&mut sa, "BEGIN TRAN; SELECT * FROM R1.db.dbo.t; SELECT 1").await;
    assert_eq!(reply.error_numbers(), vec![7411]);
    assert_eq!(
        run(&mut sa, "SELECT @@TRANCOUNT").await.scalar(),
        SqlValue::Int(0)
    );
    run(
        &mut sa,
        "EXEC sp_serveroption R1, 'rpc out', 'true'; EXEC sp_droplinkedsrvlogin R1, NULL",
    )
    .await
    .no_errors();
    assert_eq!(
        error_number(&mut sa, "EXEC R1.master.dbo.sp_GetServerName").await,
        7416
    );
    // The local server's own name runs locally.
    let reply = run(&mut sa, "EXEC [LOCALSRV].master.dbo.sp_GetServerName").await;
    assert_eq!(reply.scalar(), s("LOCALSRV"));
}

fn rolled_back(reply: &Reply) -> bool {
    reply.0.iter().any(|item| {
        matches!(
            item,
            ReplyItem::EnvChange(EnvChange::RollbackTransaction(_))
        )
    })
}

#[tokio::test]
async fn a_refused_link_called_by_rpc_ends_the_transaction() {
    use tds_standin::types::{ProcRef, Request, RpcCall};
    let instance = instance();
    let mut sa = sa(&instance);
    run(
        &mut sa,
        "EXEC sp_addlinkedserver N'R1', N'', N'MSDASQL', N'dsn'",
    )
    .await
    .no_errors();
    run(&mut sa, "BEGIN TRAN").await.no_errors();
    let call = || RpcCall {
        procedure: ProcRef::Name("R1.master.dbo.sp_GetServerName".into()),
        params: Vec::new(),
    };
    let reply = Reply(sa.execute(Request::Rpc(vec![call(), call()])).await.items);
    assert_eq!(
        reply.error_numbers(),
        vec![7411],
        "the second call did not run"
    );
    assert!(rolled_back(&reply));
    assert_eq!(
        run(&mut sa, "SELECT @@TRANCOUNT").await.scalar(),
        SqlValue::Int(0)
    );
}

#[tokio::test]
async fn sp_testlinkedserver_refused_does_not_end_the_batch() {
    let instance = instance();
    let mut sa = sa(&instance);
    run(&mut sa, "EXEC sp_addlinkedserver N'T1', N'SQL Server'")
        .await
        .no_errors();
    run(&mut sa, "EXEC sp_serveroption T1, 'data access', 'false'")
        .await
        .no_errors();
    let reply = run(
        &mut sa,
        "BEGIN TRAN; EXEC sp_testlinkedserver T1; SELECT @@TRANCOUNT",
    )
    .await;
    assert_eq!(reply.error_numbers(), vec![7411]);
    assert!(!rolled_back(&reply));
    assert_eq!(reply.return_statuses(), vec![1]);
    assert_eq!(reply.scalar(), SqlValue::Int(1), "the batch went on");
    run(&mut sa, "ROLLBACK").await.no_errors();
}

#[tokio::test]
async fn help_procedures() {
    let instance = instance();
    let mut sa = sa(&instance);
    run(&mut sa, "EXEC sp_addlinkedserver N'H1'")
        .await
        .no_errors();
    let reply = run(&mut sa, "EXEC sp_linkedservers").await;
    assert_eq!(reply.result().columns[0].name, "SRV_NAME");
    assert_eq!(reply.result().rows.len(), 2);
    let reply = run(&mut sa, "EXEC sp_helpserver N'H1'").await;
    // status is varchar(70): the option list is cut there, as on SQL Server.
    assert_eq!(
        column(reply.result(), 0, "status"),
        &s("rpc,rpc out,data access,use remote collation,remote proc transaction p")
    );
    assert_eq!(
        error_number(&mut sa, "EXEC sp_helpserver N'zz'").await,
        15015
    );
}

#[tokio::test]
async fn behaviour_switches_for_the_open_questions() {
    let mut config = config();
    config.behaviour.login_procs_need_alter_any_login = false;
    config.behaviour.drop_missing_mapping_is_error = true;
    config.behaviour.serveroption_refused_in_transaction = true;
    config.behaviour.addlinkedserver_permission_first = true;
    config.behaviour.linux_providers_only = true;
    let instance = tds_standin::engine::Instance::new(config).unwrap();
    let mut sa = sa(&instance);
    let mut setup = login(&instance, "setup");
    let mut plain = login(&instance, "plain");
    run(&mut setup, "EXEC sp_addlinkedserver N'F1'; EXEC sp_addlinkedsrvlogin N'F1', 'false', N'plain', N'r', N'p'")
        .await
        .no_errors();
    let reply = run(&mut sa, "EXEC sp_droplinkedsrvlogin N'F1', N'sa'").await;
    assert_eq!(reply.error().number, 15007);
    let reply = run(
        &mut sa,
        "BEGIN TRAN; EXEC sp_serveroption N'F1', 'rpc', 'false'; ROLLBACK",
    )
    .await;
    assert_eq!(reply.error().number, 15002);
    // Permission before the product rules: a bad call by a login without permission gets 15247.
    let reply = run(&mut plain, "EXEC sp_addlinkedserver N'F2', N''").await;
    assert_eq!(reply.error().number, 15247);
    let reply = run(
        &mut sa,
        "EXEC sp_addlinkedserver N'F3', N'', N'MSDASQL', N'dsn'",
    )
    .await;
    assert_eq!(
        reply.error().text,
        "Only a SQL Server provider is allowed on this instance."
    );
    run(
        &mut sa,
        "EXEC sp_addlinkedserver N'F4', N'', N'MSOLEDBSQL19', N'host'",
    )
    .await
    .no_errors();
    let reply = run(
        &mut sa,
        "EXEC sp_serveroption N'F4', 'remote proc transaction promotion', 'true'",
    )
    .await;
    assert_eq!(reply.error().number, 7224);
}

#[tokio::test]
async fn four_part_select_and_exec_at_check_the_link() {
    let instance = instance();
    let mut sa = sa(&instance);
    assert_eq!(
        error_number(&mut sa, "EXEC ('SELECT 1') AT nosuch").await,
        7202
    );
    let reply = run(
        &mut sa,
        "SELECT name FROM nosuch.master.sys.servers; SELECT 1",
    )
    .await;
    assert_eq!(reply.error().number, 7202);
    assert!(reply.results().is_empty());
    run(
        &mut sa,
        "EXEC sp_addlinkedserver N'Q1'; EXEC sp_serveroption N'Q1', 'data access', 'off'",
    )
    .await
    .no_errors();
    let reply = run(&mut sa, "SELECT name FROM Q1.master.sys.servers").await;
    assert_eq!(
        reply.error().text,
        "Server 'Q1' is not configured for DATA ACCESS."
    );
}

#[tokio::test]
async fn name_with_a_binary_zero_is_refused() {
    use tds_standin::types::{ProcRef, Request, RpcCall, RpcParam};
    let instance = instance();
    let mut sa = sa(&instance);
    let call = Request::Rpc(vec![RpcCall {
        procedure: ProcRef::Name("sp_addlinkedserver".into()),
        params: vec![RpcParam {
            name: "@server".into(),
            output: false,
            untyped: false,
            ty: SqlType::NVarChar(Some(4000)),
            value: s("bad\0name"),
        }],
    }]);
    let reply = Reply(sa.execute(call).await.items);
    let err = reply.error();
    assert_eq!(
        (err.number, err.procedure.as_str()),
        (15006, "sys.sp_validname")
    );
    assert_eq!(reply.return_statuses(), vec![1]);
}
