//! Fault injection, connection counters, the state file and the BizTalk fixture.

mod engine_support;

use std::time::{Duration, Instant};

use engine_support::*;
use tds_standin::config::FaultPlan;
use tds_standin::engine::Instance;
use tds_standin::types::{AfterReply, ProcRef, Request, RpcCall, SqlValue};
use tds_standin::{InstanceConfig, ServerRole};

fn temp_file(tag: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("standin-{tag}-{}-{n}.json", std::process::id()))
}

#[tokio::test]
async fn faults_from_the_api() {
    let instance = instance();
    let mut sa = sa(&instance);
    instance.set_faults(FaultPlan {
        drop_at_request: Some(2),
        stall_at_request: Some(3),
        ..Default::default()
    });
    assert_eq!(
        sa.execute(Request::Batch("SELECT 1".into())).await.after,
        AfterReply::Continue
    );
    let dropped = sa.execute(Request::Batch("SELECT 1".into())).await;
    assert_eq!(
        (dropped.after, dropped.items.len()),
        (AfterReply::Disconnect, 0)
    );
    assert_eq!(
        sa.execute(Request::Batch("SELECT 1".into())).await.after,
        AfterReply::Stall
    );

    instance.set_faults(FaultPlan {
        fail_request: Some((5, 15247)),
        latency_ms: 60,
        ..Default::default()
    });
    let started = Instant::now();
    sa.execute(Request::Batch("SELECT 1".into())).await;
    assert!(
        started.elapsed() >= Duration::from_millis(60),
        "latency applies to every request"
    );
    let failed = Reply(sa.execute(Request::Batch("SELECT 1".into())).await.items);
    assert_eq!(
        failed.error().text,
        "User does not have permission to perform this action."
    );
    assert!(failed.results().is_empty());

    instance.set_faults(FaultPlan {
        drop_at_procedure: Some("SP_DROPSERVER".into()),
        ..Default::default()
    });
    assert_eq!(
        sa.execute(Request::Batch("EXEC sp_helpserver".into()))
            .await
            .after,
        AfterReply::Continue
    );
    assert_eq!(
        sa.execute(Request::Batch("EXEC master.dbo.sp_dropserver N'x'".into()))
            .await
            .after,
        AfterReply::Disconnect
    );
    let rpc = Request::Rpc(vec![RpcCall {
        procedure: ProcRef::Name("sys.sp_dropserver".into()),
        params: Vec::new(),
    }]);
    assert_eq!(sa.execute(rpc).await.after, AfterReply::Disconnect);
    instance.set_faults(FaultPlan {
        stall_at_procedure: Some("sp_testlinkedserver".into()),
        ..Default::default()
    });
    assert_eq!(
        sa.execute(Request::Batch("exec sp_testlinkedserver N'x'".into()))
            .await
            .after,
        AfterReply::Stall
    );
}

#[tokio::test]
async fn faults_armed_by_the_control_procedure_and_counters() {
    let instance = instance();
    let mut sa = sa(&instance);
    let mut other = login(&instance, "plain");
    run(
        &mut sa,
        "EXEC sp_standin_set_fault @fault = N'fail_request', @value = N'3:7202'",
    )
    .await
    .no_errors();
    run(&mut other, "SELECT 1").await.no_errors();
    run(&mut other, "SELECT 1").await.no_errors();
    let failed = run(&mut other, "SELECT 1").await;
    assert_eq!(
        (failed.error().number, failed.error().class),
        (7202, 11),
        "request numbers count per connection"
    );
    run(&mut sa, "EXEC sp_standin_set_fault N'clear'")
        .await
        .no_errors();
    assert_eq!(
        error_number(&mut sa, "EXEC sp_standin_set_fault N'no such fault', N'1'").await,
        15600
    );
    assert_eq!(instance.faults(), FaultPlan::default());
    sa.execute(Request::Rpc(vec![
        RpcCall {
            procedure: ProcRef::Name("sp_helpserver".into()),
            params: Vec::new(),
        },
        RpcCall {
            procedure: ProcRef::Name("sp_linkedservers".into()),
            params: Vec::new(),
        },
    ]))
    .await;
    let stats = instance.connection_stats();
    let sa_stats = stats.iter().find(|s| s.login == "sa").unwrap();
    assert_eq!(
        (sa_stats.requests, sa_stats.batches, sa_stats.rpc_calls),
        (4, 3, 2)
    );
    let reply = run(&mut sa, "EXEC sp_standin_stats").await;
    let r = reply.result();
    let row = r.rows.iter().find(|row| row[1] == s("plain")).unwrap();
    assert_eq!(
        column(r, 0, "connection_id"),
        &SqlValue::Int(sa_stats.connection_id as i64)
    );
    assert_eq!(row[2], SqlValue::Int(3));
}

#[tokio::test]
async fn state_file_survives_a_restart_without_passwords() {
    let path = temp_file("state");
    let mut config = config();
    config.state_file = Some(path.clone());
    {
        let instance = Instance::new(config.clone()).unwrap();
        let mut sa = sa(&instance);
        run(
            &mut sa,
            "EXEC sp_addlinkedserver N'P1'; EXEC sp_serveroption N'P1', 'query timeout', 77; \
                      EXEC sp_addlinkedsrvlogin N'P1', 'false', N'plain', N'remote', N'TopSecret!'",
        )
        .await
        .no_errors();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("P1") && text.contains("remote"));
    assert!(
        !text.contains("TopSecret!"),
        "remote passwords are never written"
    );
    assert!(
        !text.contains(SA_PASSWORD),
        "login passwords are never written"
    );
    let identity = || {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&path).unwrap().ino()
    };
    let written = identity();
    let instance = Instance::new(config.clone()).unwrap();
    assert_eq!(
        identity(),
        written,
        "an unchanged catalog is not rewritten at start"
    );
    let servers = instance.servers();
    assert_eq!(
        servers.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["LOCALSRV", "P1"]
    );
    let mut sa = sa(&instance);
    let reply = run(&mut sa, "SELECT s.query_timeout, l.remote_name, p.name FROM sys.servers s \
                              JOIN sys.linked_logins l ON l.server_id = s.server_id \
                              JOIN sys.server_principals p ON p.principal_id = l.local_principal_id WHERE s.name = 'P1'").await;
    assert_eq!(
        reply.no_errors().result().rows,
        vec![vec![SqlValue::Int(77), s("remote"), s("plain")]]
    );
    drop(instance);
    let with_new_login = config.with_login("newcomer", "pw", ServerRole::None);
    let _instance = Instance::new(with_new_login).unwrap();
    assert_ne!(
        identity(),
        written,
        "a configuration change is written at start"
    );
    assert!(std::fs::read_to_string(&path).unwrap().contains("newcomer"));
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn bad_state_or_fixture_file_refuses_to_start() {
    let path = temp_file("bad");
    std::fs::write(&path, "{ not json").unwrap();
    let mut config = InstanceConfig::new("X");
    config.state_file = Some(path.clone());
    assert!(Instance::new(config.clone()).is_err());
    config.state_file = None;
    config.biztalk = Some(path.clone());
    assert!(Instance::new(config).is_err());
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn biztalk_management_database() {
    let path = temp_file("biztalk");
    std::fs::write(
        &path,
        r#"{"backup_databases": [
            {"ServerName": "SQL02\\BTS", "DatabaseName": "BizTalkMsgBoxDb"},
            {"ServerName": "", "DatabaseName": "NoServer"},
            {"ServerName": "sql02\\bts", "DatabaseName": "SSODB"},
            {"ServerName": "localsrv", "DatabaseName": "bizTalkMgmtDb"},
            {"ServerName": "Sql02\\Bts", "DatabaseName": "BIZTALKMSGBOXDB"}]}"#,
    )
    .unwrap();
    let mut config = config();
    config.biztalk = Some(path.clone());
    let instance = Instance::new(config).unwrap();
    let mut sa = sa(&instance);
    let all = run(
        &mut sa,
        "SELECT ServerName, DatabaseName FROM BizTalkMgmtDb.dbo.admv_BackupDatabases",
    )
    .await;
    // The view's first branch is the instance itself with BizTalkMgmtDb; its UNION drops rows
    // without a server name and duplicates under the collation (biztalk-backup-job.md 3).
    assert_eq!(
        all.no_errors().result().rows,
        vec![
            vec![s("LOCALSRV"), s("BizTalkMgmtDb")],
            vec![s("SQL02\\BTS"), s("BizTalkMsgBoxDb")],
            vec![s("sql02\\bts"), s("SSODB")],
        ]
    );
    assert_eq!(
        all.result().columns[0].ty,
        tds_standin::types::SqlType::NVarChar(Some(128))
    );
    let reply = run(
        &mut sa,
        "EXEC BizTalkMgmtDb.dbo.sp_GetBackupDatabasesForServer @ServerName = NULL",
    )
    .await;
    assert_eq!(reply.no_errors().result().rows.len(), 3);
    let reply = run(&mut sa, "USE BizTalkMgmtDb; EXEC dbo.sp_GetBackupDatabasesForServer N'SQL02\\BTS'; SELECT COUNT(*) FROM admv_BackupDatabases").await;
    assert_eq!(
        reply.no_errors().results()[0].rows.len(),
        2,
        "server names compare under the collation"
    );
    assert_eq!(reply.results()[1].rows[0][0], SqlValue::Int(3));
    let reply = run(
        &mut sa,
        "DECLARE @n sysname; EXEC dbo.sp_GetServerName @ServerName = @n OUTPUT; SELECT @n",
    )
    .await;
    assert_eq!(reply.no_errors().scalar(), s("LOCALSRV"));
    // master has the result-set form; other databases do not have the BizTalk procedures.
    let reply = run(
        &mut sa,
        "USE master; EXEC sp_GetServerName; EXEC sp_GetBackupDatabasesForServer",
    )
    .await;
    assert_eq!(reply.results()[0].rows[0][0], s("LOCALSRV"));
    assert_eq!(reply.error().number, 2812);
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn the_control_procedure_refuses_request_zero() {
    let instance = instance();
    let mut sa = sa(&instance);
    // Request numbers count from 1, as on the command line.
    for zero in [
        "drop_at_request', N'0",
        "stall_at_request', N'0",
        "fail_request', N'0:7202",
    ] {
        assert_eq!(
            error_number(&mut sa, &format!("EXEC sp_standin_set_fault N'{zero}'")).await,
            15600,
            "{zero}"
        );
    }
    assert_eq!(instance.faults(), FaultPlan::default());
}

/// Call-level faults strike inside a request, at the N-th procedure call of the connection
/// (sp_executesql itself does not count): a failed call goes through TRY/CATCH like a real
/// error; a dropped connection or a stall leaves the earlier calls' changes, no CATCH runs.
#[tokio::test]
async fn call_faults_strike_inside_a_batch() {
    let batch = "DECLARE @step int = 0;
BEGIN TRY
    EXEC sp_addlinkedserver N'S1';
    SET @step = 1;
    EXEC sp_serveroption N'S1', N'rpc out', N'false';
    SET @step = 2;
    EXEC sp_serveroption N'S1', N'query timeout', N'600';
END TRY
BEGIN CATCH
    IF @step >= 1 EXEC sp_dropserver N'S1';
    THROW;
END CATCH";
    let rpc = || {
        Request::Rpc(vec![RpcCall {
            procedure: ProcRef::Id(10),
            params: vec![nvarchar_param("", batch)],
        }])
    };
    let exists = |instance: &Instance| instance.servers().iter().any(|s| s.name == "S1");

    // The 3rd call fails: the CATCH block undoes the first two and re-raises.
    let instance = instance();
    let mut session = sa(&instance);
    instance.set_faults(FaultPlan {
        fail_call: Some((3, 50123)),
        ..Default::default()
    });
    let reply = Reply(session.execute(rpc()).await.items);
    let err = reply.error();
    assert_eq!(
        (err.number, err.text.as_str()),
        (50123, "Stand-in injected error 50123.")
    );
    assert_eq!(err.procedure, "sp_serveroption");
    assert!(!exists(&instance));

    // The connection drops at the 2nd call: nothing is answered, the first call's server stays.
    let instance = instance_with(FaultPlan {
        drop_at_call: Some(2),
        ..Default::default()
    });
    let mut session = sa(&instance);
    let reply = session.execute(rpc()).await;
    assert_eq!(
        (reply.items.len(), reply.after),
        (0, AfterReply::Disconnect)
    );
    assert!(exists(&instance));
    let server = instance
        .servers()
        .into_iter()
        .find(|s| s.name == "S1")
        .unwrap();
    assert!(server.rpc_out, "the 2nd call never ran");

    // A stall at the 2nd call: the request never answers; abandoning it (what the wire does
    // on an attention) leaves the first call's server too.
    let instance = instance_with(FaultPlan {
        stall_at_call: Some(2),
        ..Default::default()
    });
    let mut session = sa(&instance);
    {
        let request = session.execute(rpc());
        tokio::pin!(request);
        let stalled = async {
            while !exists(&instance) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::select! {
            reply = &mut request => panic!("a stalled call answered: {:?}", reply.items),
            () = stalled => {}
        }
    }
    session.attention();
    assert!(exists(&instance));
    // Calls count per connection and go on counting: the 3rd call on the next request runs.
    run(&mut session, "EXEC sp_helpserver").await.no_errors();
}

fn instance_with(faults: FaultPlan) -> std::sync::Arc<Instance> {
    let instance = instance();
    instance.set_faults(faults);
    instance
}
