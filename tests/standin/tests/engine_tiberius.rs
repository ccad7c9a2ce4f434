//! Two stand-in instances over real TDS: tiberius 0.13 against instance A (every encryption mode),
//! A hopping to B through a linked server.

mod engine_support;

use engine_support::*;
use tds_standin::types::SqlValue;
use tds_standin::{spawn, EncryptMode, InstanceConfig, ServerRole, StandIn};
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::TokioAsyncWriteCompatExt;

fn biztalk_fixture() -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path =
        std::env::temp_dir().join(format!("standin-biztalk-{}-{n}.json", std::process::id()));
    std::fs::write(
        &path,
        r#"{"databases": ["BizTalkMsgBoxDb"], "backup_databases": [{"ServerName": "B", "DatabaseName": "BizTalkMsgBoxDb"}]}"#,
    )
    .unwrap();
    path
}

/// Instance B (spawned first, hosts a BizTalk database) and A, which resolves the name B to it.
fn pair(encrypt_b: EncryptMode, encrypt_a: EncryptMode) -> (StandIn, StandIn) {
    let mut b_config = InstanceConfig::new("B")
        .with_login("remote_user", "rpw", ServerRole::None)
        .with_encrypt(encrypt_b);
    b_config.biztalk = Some(biztalk_fixture());
    let b = spawn(b_config).expect("spawn B");
    let mut a_config = InstanceConfig::new("A")
        .with_encrypt(encrypt_a)
        .with_peer("b", b.addr());
    a_config.biztalk = Some(biztalk_fixture());
    let a = spawn(a_config).expect("spawn A");
    (b, a)
}

type TiberiusClient = Client<tokio_util::compat::Compat<TcpStream>>;

/// The rows of the first result set of `sql`.
async fn first_result(client: &mut TiberiusClient, sql: &str) -> Vec<tiberius::Row> {
    client
        .query(sql, &[])
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap()
}

async fn client(server: &StandIn, mode: EncryptMode) -> TiberiusClient {
    let mut config = Config::new();
    config.host("127.0.0.1");
    config.port(server.addr().port());
    config.authentication(AuthMethod::sql_server("sa", SA_PASSWORD));
    config.trust_cert();
    config.encryption(match mode {
        EncryptMode::Off => EncryptionLevel::NotSupported,
        EncryptMode::Login => EncryptionLevel::Off,
        EncryptMode::On => EncryptionLevel::Required,
        EncryptMode::Strict => EncryptionLevel::Strict,
    });
    let tcp = TcpStream::connect(server.addr()).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    Client::connect(config, tcp.compat_write())
        .await
        .expect("connect to A")
}

#[tokio::test(flavor = "multi_thread")]
async fn four_part_call_returns_the_remote_name_in_every_mode() {
    for mode in [
        EncryptMode::Off,
        EncryptMode::Login,
        EncryptMode::On,
        EncryptMode::Strict,
    ] {
        let (_b, a) = pair(mode, mode);
        let mut client = client(&a, mode).await;
        client
            .execute(
                "EXEC sp_addlinkedserver @server = @P1, @srvproduct = N'SQL Server'",
                &[&"B"],
            )
            .await
            .unwrap();
        let rows = first_result(&mut client, "EXEC [B].master.dbo.sp_GetServerName").await;
        assert_eq!(rows[0].get::<&str, _>(0), Some("B"), "mode {mode:?}");
        // The BizTalk pattern: the DB-side procedure with an OUTPUT parameter, through the link.
        let rows = first_result(&mut client, "DECLARE @name sysname = N''; EXEC [B].[BizTalkMsgBoxDb].[dbo].[sp_GetServerName] @ServerName = @name OUTPUT; SELECT @name").await;
        assert_eq!(rows[0].get::<&str, _>(0), Some("B"), "mode {mode:?}");
        let rows = first_result(
            &mut client,
            "SELECT ServerName, DatabaseName FROM BizTalkMgmtDb.dbo.admv_BackupDatabases",
        )
        .await;
        let backup_list: Vec<(Option<&str>, Option<&str>)> =
            rows.iter().map(|row| (row.get(0), row.get(1))).collect();
        assert_eq!(
            backup_list,
            [
                (Some("A"), Some("BizTalkMgmtDb")),
                (Some("B"), Some("BizTalkMsgBoxDb"))
            ]
        );
        let results = client
            .query(
                "DECLARE @rc int = -1; EXEC @rc = sp_testlinkedserver @P1; SELECT @rc",
                &[&"B"],
            )
            .await
            .unwrap()
            .into_results()
            .await
            .unwrap();
        assert_eq!(results.len(), 1, "sp_testlinkedserver succeeds silently");
        assert_eq!(results[0][0].get::<i32, _>(0), Some(0), "mode {mode:?}");
    }
}

/// What the library relies on for its one-request writes: tiberius sends the statement as
/// sp_executesql with typed parameters; a caught error does not fail the call, a re-raised one
/// arrives with the original number, and the CATCH block's undo really ran. A hop refused by
/// the link (7411) or by the peer is caught too.
#[tokio::test(flavor = "multi_thread")]
async fn try_catch_over_tiberius_and_through_a_link() {
    let (_b, a) = pair(EncryptMode::On, EncryptMode::On);
    let mut client = client(&a, EncryptMode::On).await;
    let undo_batch = "DECLARE @step int = 0, @rc int;
BEGIN TRY
    EXEC @rc = master.sys.sp_addlinkedserver @server = @P1, @srvproduct = N'SQL Server';
    SET @step = 1;
    EXEC master.sys.sp_addlinkedsrvlogin @rmtsrvname = @P1, @useself = N'true', @locallogin = @P2;
END TRY
BEGIN CATCH
    IF @step >= 1 EXEC master.sys.sp_dropserver @server = @P1, @droplogins = N'droplogins';
    THROW;
END CATCH;";
    let err = client
        .execute(undo_batch, &[&"NEW1", &"nobody"])
        .await
        .expect_err("the re-raised error");
    let tiberius::error::Error::Server(token) = err else {
        panic!("not a server error: {err:?}")
    };
    assert_eq!((token.code(), token.class(), token.state()), (15007, 16, 1));
    assert_eq!(token.procedure(), "sys.sp_addlinkedsrvlogin");
    assert!(a.instance().servers().iter().all(|s| s.name != "NEW1"));
    // The connection is usable and the same batch succeeds with a real login.
    client.execute(undo_batch, &[&"NEW1", &"sa"]).await.unwrap();
    assert!(a.instance().servers().iter().any(|s| s.name == "NEW1"));

    client
        .execute("EXEC sp_addlinkedserver @P1", &[&"B"])
        .await
        .unwrap();
    let caught = "BEGIN TRY EXEC [B].master.dbo.sp_nosuch END TRY BEGIN CATCH SELECT ERROR_NUMBER() END CATCH";
    let rows = first_result(&mut client, caught).await;
    assert_eq!(
        rows[0].get::<i32, _>(0),
        Some(2812),
        "the peer's error, caught"
    );
    client
        .execute("EXEC sp_serveroption N'B', N'rpc out', N'false'", &[])
        .await
        .unwrap();
    let rows = first_result(&mut client, caught).await;
    assert_eq!(
        rows[0].get::<i32, _>(0),
        Some(7411),
        "the link's refusal, caught"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renamed_link_still_reaches_its_server() {
    let (_b, a) = pair(EncryptMode::On, EncryptMode::On);
    let instance = a.instance();
    let mut sa = sa(&instance);
    run(&mut sa, "EXEC sp_addlinkedserver N'B', N'SQL Server'")
        .await
        .no_errors();
    // The rename is local only (reference 8.1): the link keeps its network name.
    run(&mut sa, "EXEC sp_serveroption N'B', 'name', N'B2'")
        .await
        .no_errors();
    let reply = run(&mut sa, "EXEC [B2].master.dbo.sp_GetServerName").await;
    reply.no_errors();
    assert_eq!(reply.scalar(), s("B"));
}

#[tokio::test(flavor = "multi_thread")]
async fn hop_failures_as_sql_server_reports_them() {
    let (_b, a) = pair(EncryptMode::On, EncryptMode::On);
    let instance = a.instance();
    let mut sa = sa(&instance);
    run(&mut sa, "EXEC sp_addlinkedserver N'B'")
        .await
        .no_errors();
    assert_eq!(
        run(&mut sa, "EXEC [b].master.dbo.sp_GetServerName")
            .await
            .no_errors()
            .scalar(),
        s("B")
    );
    let reply = run(&mut sa, "EXEC ('SELECT @@SERVERNAME AS n') AT B").await;
    assert_eq!(reply.no_errors().scalar(), s("B"));
    let remote_rows = run(
        &mut sa,
        "SELECT name FROM B.master.sys.servers WHERE server_id = 0",
    )
    .await;
    assert_eq!(remote_rows.no_errors().scalar(), s("B"));

    run(&mut sa, "EXEC sp_serveroption N'B', N'rpc out', N'false'")
        .await
        .no_errors();
    assert_eq!(
        run(&mut sa, "EXEC [B].master.dbo.sp_GetServerName")
            .await
            .error()
            .text,
        "Server 'B' is not configured for RPC."
    );
    run(&mut sa, "EXEC sp_serveroption N'B', N'rpc out', N'true'")
        .await
        .no_errors();

    run(&mut sa, "EXEC sp_droplinkedsrvlogin N'B', NULL")
        .await
        .no_errors();
    assert_eq!(
        error_number(&mut sa, "EXEC [B].master.dbo.sp_GetServerName").await,
        7416
    );

    run(
        &mut sa,
        "EXEC sp_addlinkedsrvlogin N'B', 'false', NULL, N'remote_user', N'wrong'",
    )
    .await
    .no_errors();
    let reply = run(&mut sa, "EXEC [B].master.dbo.sp_GetServerName").await;
    let err = reply.error();
    assert_eq!(
        (
            err.number,
            err.class,
            err.text.as_str(),
            err.server.as_str()
        ),
        (18456, 14, "Login failed for user 'remote_user'.", "B")
    );
    let (reply, rc) = exec_rc(&mut sa, "sp_testlinkedserver N'B'").await;
    assert_eq!(reply.error().number, 18456);
    assert_eq!(rc, Some(1));

    // "Be made without using a security context": an empty login, refused by the peer.
    run(&mut sa, "EXEC sp_addlinkedsrvlogin N'B', 'false'")
        .await
        .no_errors();
    let reply = run(&mut sa, "EXEC [B].master.dbo.sp_GetServerName").await;
    assert_eq!(reply.error().text, "Login failed for user ''.");

    run(
        &mut sa,
        "EXEC sp_addlinkedsrvlogin N'B', 'false', NULL, N'remote_user', N'rpw'",
    )
    .await
    .no_errors();
    assert_eq!(
        run(&mut sa, "EXEC [B].master.dbo.sp_GetServerName")
            .await
            .no_errors()
            .scalar(),
        s("B")
    );
    // Remote errors come back as the peer raised them.
    let reply = run(&mut sa, "EXEC [B].master.dbo.sp_nosuch").await;
    assert_eq!(
        (reply.error().number, reply.error().server.as_str()),
        (2812, "B")
    );
    let reply = run(
        &mut sa,
        "DECLARE @rc int; EXEC @rc = [B].master.dbo.sp_addlinkedserver N'C'; SELECT @rc",
    )
    .await;
    assert_eq!(reply.error().number, 15247, "remote_user has no role on B");
    assert_eq!(
        reply.result().rows[0][0],
        SqlValue::Int(1),
        "the remote return code is relayed with the error"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_peer_is_7303() {
    let a =
        spawn(InstanceConfig::new("A").with_peer("GONE", "127.0.0.1:1".parse().unwrap())).unwrap();
    let instance = a.instance();
    let mut sa = sa(&instance);
    run(&mut sa, "EXEC sp_addlinkedserver N'GONE'")
        .await
        .no_errors();
    let reply = run(&mut sa, "EXEC GONE.master.dbo.sp_GetServerName").await;
    assert_eq!(reply.error().text, "Cannot initialize the data source object of OLE DB provider \"MSOLEDBSQL\" for linked server \"GONE\".");
    assert_eq!(
        (reply.messages()[0].number, reply.messages()[0].class),
        (7412, 0)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_peer_that_never_answers_costs_one_connect_timeout() {
    // The kernel accepts the connection into the backlog; nothing ever answers PRELOGIN.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let a =
        spawn(InstanceConfig::new("A").with_peer("SILENT", silent.local_addr().unwrap())).unwrap();
    let instance = a.instance();
    let mut sa = sa(&instance);
    run(
        &mut sa,
        "EXEC sp_addlinkedserver N'SILENT'; EXEC sp_serveroption N'SILENT', 'connect timeout', 1",
    )
    .await
    .no_errors();
    let started = std::time::Instant::now();
    let reply = run(&mut sa, "EXEC SILENT.master.dbo.sp_GetServerName").await;
    let elapsed = started.elapsed();
    assert_eq!(reply.error().number, 7303);
    assert_eq!(
        reply.messages()[0].text,
        "OLE DB provider \"MSOLEDBSQL\" for linked server \"SILENT\" returned message \"Login timeout expired\"."
    );
    assert!(
        elapsed < std::time::Duration::from_millis(1900),
        "one attempt of 1 s, not one per encryption level: {elapsed:?}"
    );
}

/// SQL Server assigns the OUTPUT values of a four-part call to the caller's variables whether
/// the argument is named or positional and whether the variable held NULL before.
#[tokio::test(flavor = "multi_thread")]
async fn four_part_output_reaches_the_local_variable() {
    let (_b, a) = pair(EncryptMode::On, EncryptMode::On);
    let mut client = client(&a, EncryptMode::On).await;
    client
        .execute(
            "EXEC sp_addlinkedserver @server = @P1, @srvproduct = N'SQL Server'",
            &[&"B"],
        )
        .await
        .unwrap();
    for batch in [
        "DECLARE @n sysname; EXEC [B].[BizTalkMsgBoxDb].[dbo].[sp_GetServerName] @n OUTPUT; SELECT @n",
        "DECLARE @n sysname = N''; EXEC [B].[BizTalkMsgBoxDb].[dbo].[sp_GetServerName] @n OUTPUT; SELECT @n",
        "DECLARE @n sysname; EXEC [B].[BizTalkMsgBoxDb].[dbo].[sp_GetServerName] @ServerName = @n OUTPUT; SELECT @n",
        "DECLARE @n sysname, @rc int; EXEC @rc = [B].[BizTalkMsgBoxDb].[dbo].[sp_GetServerName] @n OUT; SELECT @n",
    ] {
        let rows = first_result(&mut client, batch).await;
        assert_eq!(rows[0].get::<&str, _>(0), Some("B"), "{batch}");
    }
}
