//! `ensure` and `export` against the stand-in: request budgets (counted by the stand-in),
//! convergence, dry runs, refusals before any write, undo of a failing batch, re-create, and an
//! exported script that rebuilds the catalog on a second instance.

mod api_support;

use api_support::*;
use linkedsrv::converge::{Action, EnsureFlags};
use linkedsrv::ensure::EnsureReport;
use linkedsrv::{Client, Status};
use tds_standin::config::ServerRole;
use tds_standin::{InstanceConfig, StandIn};

const EXACT: u32 = EnsureFlags::EXACT_LOGINS;

/// MGMT01 with the logins the mappings name.
fn start_with_logins() -> StandIn {
    start(
        InstanceConfig::new("MGMT01")
            .with_login("app", "App!Passw0rd", ServerRole::None)
            .with_login("BizTalkJob", "Job!Passw0rd", ServerRole::None)
            .with_login("setup", "Setup!Passw0rd", ServerRole::Setupadmin),
    )
}

/// The issue's example: create + rpc + rpc out + query timeout + global mapping dropped + two
/// login mappings.
fn full(name: &str) -> String {
    serde_json::json!({
        "name": name, "product": "SQL Server",
        "options": {"rpc": true, "rpc out": true, "query timeout": 30},
        "logins": [
            {"local_login": "BizTalkJob", "uses_self_credential": true},
            {"local_login": "app", "uses_self_credential": false, "remote_user": "bts_reader",
             "remote_password": "Rem0te!Secret"}
        ]
    })
    .to_string()
}

fn flags(bits: u32) -> EnsureFlags {
    EnsureFlags::from_bits(bits).unwrap()
}

/// Runs `call` and returns its result with the requests the stand-in saw meanwhile.
fn counted<T>(standin: &StandIn, call: impl FnOnce() -> T) -> (T, u64) {
    let before = requests_seen(&standin.instance());
    let result = call();
    (result, requests_seen(&standin.instance()) - before)
}

fn actions(report: &EnsureReport) -> Vec<Action> {
    report.servers.iter().map(|s| s.action).collect()
}

#[test]
fn a_full_new_server_takes_one_read_and_one_write_then_converges() {
    let standin = start_with_logins();
    let client = connect(&standin);

    let (report, requests) = counted(&standin, || client.ensure(&full("BTS01"), flags(EXACT)));
    let report = report.unwrap();
    assert_eq!(requests, 2);
    assert_eq!(report.requests, 2);
    assert_eq!(actions(&report), [Action::Created]);
    assert!(!report.dry_run);

    let server = client.get("BTS01").unwrap();
    assert!(server.rpc && server.rpc_out);
    assert_eq!(server.query_timeout, 30);
    let mut logins: Vec<_> = server
        .logins
        .iter()
        .map(|m| {
            (
                m.local_login.clone(),
                m.uses_self_credential,
                m.remote_user.clone(),
            )
        })
        .collect();
    logins.sort();
    assert_eq!(
        logins,
        [
            (Some("BizTalkJob".into()), true, None),
            (Some("app".into()), false, Some("bts_reader".into())),
        ],
        "global mapping dropped, two mappings added"
    );

    let (again, requests) = counted(&standin, || client.ensure(&full("BTS01"), flags(EXACT)));
    let again = again.unwrap();
    assert_eq!(requests, 1);
    assert_eq!(again.requests, 1);
    assert_eq!(actions(&again), [Action::Unchanged]);
    assert!(again.servers[0].changes.is_empty() && again.servers[0].sql.is_empty());
}

#[test]
fn the_report_shows_changes_and_runnable_sql_without_the_password() {
    let standin = start_with_logins();
    let client = connect(&standin);
    let report = client.ensure(&full("BTS01"), flags(EXACT)).unwrap();
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains("Rem0te!Secret"), "{json}");
    let server = &report.servers[0];
    assert!(server.sql.contains(
        "EXEC @rc = master.sys.sp_addlinkedserver @server = N'BTS01', @srvproduct = N'SQL Server';"
    ));
    assert!(server.sql.contains("@rmtpassword = @rmtpassword_1"));
    let changes = serde_json::to_value(&server.changes).unwrap();
    assert!(changes.as_array().unwrap().contains(&serde_json::json!({
        "option": "query timeout", "from": null, "to": 30, "text": "option 'query timeout': 30"
    })));
    assert!(changes
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["mapping"] == "removed" && c["local_login"].is_null()));
}

#[test]
fn a_dry_run_reads_once_changes_nothing_and_reports_what_the_run_does() {
    let standin = start_with_logins();
    let client = connect(&standin);
    client
        .ensure(r#"{"name":"OLD","options":{"rpc out":false}}"#, flags(0))
        .unwrap();
    let desired = format!(
        "[{}, {}]",
        full("BTS01"),
        r#"{"name":"OLD","options":{"rpc out":true,"connect timeout":5}}"#
    );
    let before = client.list().unwrap();
    let (dry, requests) = counted(&standin, || {
        client.ensure(&desired, flags(EXACT | EnsureFlags::DRY_RUN))
    });
    let dry = dry.unwrap();
    assert_eq!(requests, 1);
    assert!(dry.dry_run);
    assert_eq!(client.list().unwrap(), before, "nothing changed");
    let real = client.ensure(&desired, flags(EXACT)).unwrap();
    assert_eq!(
        serde_json::to_value(&dry.servers).unwrap(),
        serde_json::to_value(&real.servers).unwrap()
    );
    assert_eq!(actions(&real), [Action::Created, Action::Updated]);
}

#[test]
fn twenty_servers_take_at_most_three_requests() {
    let standin = start_with_logins();
    let client = connect(&standin);
    let desired = format!(
        "[{}]",
        (0..20)
            .map(|i| full(&format!("LS{i:02}")))
            .collect::<Vec<_>>()
            .join(",")
    );
    let (report, requests) = counted(&standin, || client.ensure(&desired, flags(EXACT)));
    assert_eq!(report.unwrap().servers.len(), 20);
    assert!(requests <= 3, "{requests} requests");
    assert_eq!(client.list().unwrap().len(), 20);
    let (again, requests) = counted(&standin, || client.ensure(&desired, flags(EXACT)));
    assert!(actions(&again.unwrap())
        .iter()
        .all(|a| *a == Action::Unchanged));
    assert_eq!(requests, 1);
}

#[test]
fn past_2100_parameters_the_write_takes_a_second_request() {
    let standin = start_with_logins();
    let client = connect(&standin);
    // Eight distinct values per server: 300 servers need two statements.
    let desired = format!(
        "[{}]",
        (0..300)
            .map(|i| full(&format!("MANY{i:03}")))
            .collect::<Vec<_>>()
            .join(",")
    );
    let (report, requests) = counted(&standin, || client.ensure(&desired, flags(EXACT)));
    let report = report.unwrap();
    assert_eq!(requests, 3, "one read, two writes");
    assert_eq!(report.requests, 3);
    assert_eq!(client.list().unwrap().len(), 300);
    let (_, requests) = counted(&standin, || client.ensure(&desired, flags(EXACT)));
    assert_eq!(requests, 1);
}

#[test]
fn errors_the_read_can_show_fail_before_any_write() {
    let standin = start_with_logins();
    let client = connect(&standin);
    client.ensure(&full("BTS01"), flags(EXACT)).unwrap();
    let before = client.list().unwrap();

    let unknown_login = r#"[{"name":"NEW1"},
        {"name":"NEW2","logins":[{"local_login":"ghost","uses_self_credential":true}]}]"#;
    let (result, requests) = counted(&standin, || client.ensure(unknown_login, flags(0)));
    let error = result.unwrap_err();
    assert_eq!(error.status, Status::NotFound, "{error:?}");
    assert!(error.message.contains("ghost"), "{}", error.message);
    assert_eq!(requests, 1, "only the read");

    let immutable = r#"{"name":"BTS01","product":"","provider":"MSOLEDBSQL","data_source":"h"}"#;
    let error = client.ensure(immutable, flags(0)).unwrap_err();
    assert_eq!(error.status, Status::InvalidArgument);
    assert!(
        error.message.contains("ALLOW_RECREATE"),
        "{}",
        error.message
    );
    // A re-create would lose app's stored password, which is not given.
    let error = client
        .ensure(immutable, flags(EnsureFlags::ALLOW_RECREATE))
        .unwrap_err();
    assert!(
        error.message.contains("stored password"),
        "{}",
        error.message
    );

    let bad_json = client.ensure(r#"{"name":"X","colour":"red"}"#, flags(0));
    assert_eq!(bad_json.unwrap_err().status, Status::InvalidArgument);
    assert_eq!(client.list().unwrap(), before);
}

#[test]
fn a_call_failing_inside_the_batch_is_undone_by_the_batch() {
    // setupadmin may create servers and set options but not map logins (ALTER ANY LOGIN):
    // sp_addlinkedsrvlogin fails after sp_addlinkedserver succeeded on the same request.
    let standin = start_with_logins();
    let admin = connect(&standin);
    admin
        .ensure(r#"{"name":"KEEP","options":{"rpc out":false}}"#, flags(0))
        .unwrap();
    let before = admin.list().unwrap();
    let setup = Client::connect(&standin.connection_string("setup", "Setup!Passw0rd")).unwrap();
    let desired = format!(
        "[{}, {}]",
        r#"{"name":"KEEP","options":{"rpc out":true}}"#,
        full("BTS01")
    );
    let (result, requests) = counted(&standin, || setup.ensure(&desired, flags(EXACT)));
    let error = result.unwrap_err();
    assert_eq!(error.status, Status::PermissionDenied, "{error:?}");
    assert!(error.message.contains("undone"), "{}", error.message);
    assert_eq!(requests, 2);
    // The undo sets KEEP's option back, which moves its modify_date as on SQL Server.
    assert_eq!(
        comparable(admin.list().unwrap()),
        comparable(before),
        "KEEP's option and BTS01 undone"
    );
}

#[test]
fn get_output_ensures_to_unchanged_and_rebuilds_a_dropped_server() {
    let standin = start_with_logins();
    let client = connect(&standin);
    client.ensure(&full("BTS01"), flags(EXACT)).unwrap();
    let got = client.get("BTS01").unwrap();
    let json = serde_json::to_string(&got).unwrap();
    let (report, requests) = counted(&standin, || client.ensure(&json, flags(EXACT)));
    assert_eq!(actions(&report.unwrap()), [Action::Unchanged]);
    assert_eq!(requests, 1);

    client.drop_server("BTS01", true).unwrap();
    // The password is not in get's output: the mapping comes back without one.
    let report = client.ensure(&json, flags(EXACT)).unwrap();
    assert_eq!(actions(&report), [Action::Created]);
    assert_eq!(
        comparable(vec![client.get("BTS01").unwrap()]),
        comparable(vec![got])
    );
}

#[test]
fn recreate_keeps_options_and_mappings_and_replaces_the_definition() {
    let standin = start_with_logins();
    let client = connect(&standin);
    client.ensure(&full("BTS01"), flags(EXACT)).unwrap();
    let desired = serde_json::json!({
        "name": "BTS01", "product": "", "provider": "MSOLEDBSQL", "data_source": "sql02\\bts",
        "logins": [{"local_login": "app", "uses_self_credential": false,
                    "remote_user": "bts_reader", "remote_password": "Rem0te!Secret"}]
    })
    .to_string();
    let (report, requests) = counted(&standin, || {
        client.ensure(&desired, flags(EnsureFlags::ALLOW_RECREATE))
    });
    let report = report.unwrap();
    assert_eq!(requests, 2);
    assert_eq!(actions(&report), [Action::Recreated]);
    let servers = client.list().unwrap();
    assert_eq!(
        servers.len(),
        1,
        "the parked old server is gone: {servers:?}"
    );
    let server = &servers[0];
    assert_eq!(server.provider, "MSOLEDBSQL");
    assert_eq!(server.data_source.as_deref(), Some("sql02\\bts"));
    assert!(server.rpc && server.rpc_out && server.query_timeout == 30);
    assert_eq!(server.logins.len(), 2, "{:?}", server.logins);
    let again = client
        .ensure(&desired, flags(EnsureFlags::ALLOW_RECREATE))
        .unwrap();
    assert_eq!(actions(&again), [Action::Unchanged]);
}

#[test]
fn hostile_names_are_stored_literally() {
    let standin = start(InstanceConfig::new("MGMT01").with_login(
        "o'brien];--",
        "X!Passw0rd",
        ServerRole::None,
    ));
    let client = connect(&standin);
    let name = "x'];DROP TABLE t;-- Zürich 東京";
    let desired = serde_json::json!({
        "name": name, "options": {"rpc out": true},
        "logins": [{"local_login": "o'brien];--", "uses_self_credential": false,
                    "remote_user": "u'--", "remote_password": "p'w"}]
    })
    .to_string();
    client.ensure(&desired, flags(EXACT)).unwrap();
    let server = client.get(name).unwrap();
    assert_eq!(server.name, name);
    assert_eq!(server.logins[0].local_login.as_deref(), Some("o'brien];--"));
    assert_eq!(server.logins[0].remote_user.as_deref(), Some("u'--"));
}

#[test]
fn an_exported_script_rebuilds_the_catalog_elsewhere_and_changes_nothing_when_rerun() {
    let standin = start_with_logins();
    let client = connect(&standin);
    let desired = format!(
        "[{}, {}, {}]",
        full("BTS01"),
        r#"{"name":"ALIAS","product":"","provider":"MSOLEDBSQL","data_source":"sql02\\bts",
            "catalog":"BizTalkMsgBoxDb","options":{"rpc":true,"collation name":"Latin1_General_CI_AS",
            "lazy schema validation":true}}"#,
        r#"{"name":"Q'uote","logins":[{"local_login":"app","uses_self_credential":false}]}"#
    );
    client.ensure(&desired, flags(0)).unwrap();
    let script = client.export(None).unwrap();
    assert!(!script.contains("Rem0te!Secret"));

    let other = start_with_logins();
    run_script(&other, &script);
    let rebuilt = connect(&other);
    assert_eq!(
        comparable(rebuilt.list().unwrap()),
        comparable(client.list().unwrap())
    );
    let once = rebuilt.list().unwrap();
    run_script(&other, &script);
    assert_eq!(rebuilt.list().unwrap(), once, "re-running changes nothing");

    let one = client.export(Some("ALIAS")).unwrap();
    assert!(one.contains("N'ALIAS'") && !one.contains("N'BTS01'"));
    assert_eq!(
        client.export(Some("missing")).unwrap_err().status,
        Status::NotFound
    );
}

#[test]
fn the_reported_sql_is_what_runs_and_a_dba_can_run_it() {
    let standin = start_with_logins();
    let client = connect(&standin);
    let desired = format!("[{}, {}]", full("BTS01"), full("BTS02"));
    let dry = client
        .ensure(&desired, flags(EXACT | EnsureFlags::DRY_RUN))
        .unwrap();
    let other = start_with_logins();
    for server in &dry.servers {
        run_script(&other, &server.sql);
    }
    client.ensure(&desired, flags(EXACT)).unwrap();
    assert_eq!(
        comparable(connect(&other).list().unwrap()),
        comparable(client.list().unwrap())
    );
}

/// Runs a script as a DBA would, with a client nobody here wrote a wrapper for.
fn run_script(standin: &StandIn, script: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut config = tiberius::Config::new();
        config.host(standin.addr().ip().to_string());
        config.port(standin.addr().port());
        config.authentication(tiberius::AuthMethod::sql_server("sa", SA_PASSWORD));
        config.trust_cert_ca(standin.cert_path().display());
        let tcp = tokio::net::TcpStream::connect(config.get_addr())
            .await
            .unwrap();
        let mut dba = tiberius::Client::connect(
            config,
            tokio_util::compat::TokioAsyncWriteCompatExt::compat_write(tcp),
        )
        .await
        .unwrap();
        dba.simple_query(script)
            .await
            .expect("the script runs")
            .into_results()
            .await
            .expect("the script runs to the end");
    });
}
