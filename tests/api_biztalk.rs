//! The BizTalk pre-step against three stand-ins: MGMT01 (BizTalkMgmtDb listing BTS01, BTS02,
//! an unreachable DEAD and itself), BTS01 and BTS02 hosting the BizTalk databases.

mod api_support;

use std::path::PathBuf;

use api_support::*;
use linkedsrv::biztalk::{Stage, SyncOptions, SyncReport};
use linkedsrv::converge::{Action, EnsureFlags};
use linkedsrv::Status;
use tds_standin::config::ServerRole;
use tds_standin::{InstanceConfig, StandIn};

/// A fixture file, removed when dropped.
struct Fixture(PathBuf);

impl Fixture {
    fn new(tag: &str, json: serde_json::Value) -> Fixture {
        let path = std::env::temp_dir().join(format!(
            "lsv-biztalk-{tag}-{}-{:?}.json",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&path, json.to_string()).unwrap();
        Fixture(path)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

struct Farm {
    mgmt: StandIn,
    _peers: Vec<StandIn>,
    _fixtures: Vec<Fixture>,
}

fn farm() -> Farm {
    let peer_fixture = Fixture::new(
        "peer",
        serde_json::json!({"databases": ["BizTalkMsgBoxDb", "BizTalkDTADb"],
                           "backup_databases": []}),
    );
    let bts01 = start({
        let mut config = InstanceConfig::new("BTS01");
        config.biztalk = Some(peer_fixture.0.clone());
        config
    });
    let bts02 = start({
        let mut config = InstanceConfig::new("BTS02");
        config.biztalk = Some(peer_fixture.0.clone());
        config
    });
    let mgmt_fixture = Fixture::new(
        "mgmt",
        serde_json::json!({"backup_databases": [
            {"ServerName": "BTS01", "DatabaseName": "BizTalkMsgBoxDb"},
            {"ServerName": "bts01", "DatabaseName": "BizTalkDTADb"},
            {"ServerName": "BTS02", "DatabaseName": "BizTalkDTADb"},
            {"ServerName": "DEAD", "DatabaseName": "BizTalkMsgBoxDb"},
            {"ServerName": "MGMT01", "DatabaseName": "SSODB"}
        ]}),
    );
    let mgmt = start({
        let mut config = InstanceConfig::new("MGMT01")
            .with_peer("BTS01", bts01.addr())
            .with_peer("BTS02", bts02.addr())
            .with_login("BizTalkJob", "Job!Passw0rd", ServerRole::None);
        config.biztalk = Some(mgmt_fixture.0.clone());
        config
    });
    Farm {
        mgmt,
        _peers: vec![bts01, bts02],
        _fixtures: vec![peer_fixture, mgmt_fixture],
    }
}

fn by_name<'r>(report: &'r SyncReport, name: &str) -> &'r linkedsrv::biztalk::SyncServer {
    report
        .servers
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} not in {report:?}"))
}

#[test]
fn sync_links_every_backed_up_server_verifies_them_and_reports_the_unreachable_one() {
    let farm = farm();
    let client = connect(&farm.mgmt);
    let report = client
        .biztalk_sync(&SyncOptions::default(), EnsureFlags::default())
        .unwrap();

    assert!(!report.ok, "DEAD is unreachable");
    assert_eq!(report.instance, "MGMT01");
    assert_eq!(report.job_login, "sa");
    let names: Vec<&str> = report.servers.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["BTS01", "BTS02", "DEAD"],
        "itself left out, bts01 once"
    );
    let bts01 = by_name(&report, "BTS01");
    assert!(bts01.probe.ok, "{bts01:?}");
    assert_eq!(bts01.action, Some(Action::Created));
    assert_eq!(bts01.databases, ["BizTalkMsgBoxDb", "BizTalkDTADb"]);
    assert_eq!(bts01.probe.remote_server_name.as_deref(), Some("BTS01"));
    assert_eq!(
        by_name(&report, "BTS02")
            .probe
            .remote_server_name
            .as_deref(),
        Some("BTS02")
    );
    let dead = by_name(&report, "DEAD");
    assert!(!dead.probe.ok);
    assert_eq!(dead.probe.stage, Some(Stage::Network), "{dead:?}");
    assert!(dead.probe.number.is_some() && dead.probe.message.is_some());

    let link = client.get("BTS02").unwrap();
    assert!(link.rpc && link.rpc_out);
    assert!(link
        .logins
        .iter()
        .any(|m| m.local_login.as_deref() == Some("sa") && m.uses_self_credential));
    assert!(link.logins.iter().any(|m| m.local_login.is_none()), "kept");

    // Converged: no write, the links still verified.
    let again = client
        .biztalk_sync(&SyncOptions::default(), EnsureFlags::default())
        .unwrap();
    assert!(again
        .servers
        .iter()
        .all(|s| s.action == Some(Action::Unchanged)));
    assert_eq!(
        again.requests,
        2 + 3 * 2 - 1,
        "read, list, 2 probes each (DEAD: 1)"
    );
}

#[test]
fn sync_for_a_job_login_can_drop_the_global_mapping_and_a_dry_run_changes_nothing() {
    let farm = farm();
    let client = connect(&farm.mgmt);
    let options = SyncOptions::from_json(Some(
        r#"{"job_login":"BizTalkJob","drop_global_mapping":true,"verify":false}"#,
    ))
    .unwrap();
    let dry = client
        .biztalk_sync(
            &options,
            EnsureFlags::from_bits(EnsureFlags::DRY_RUN).unwrap(),
        )
        .unwrap();
    assert!(dry.dry_run && dry.ok);
    assert_eq!(dry.requests, 2);
    assert!(client.list().unwrap().is_empty());
    assert!(dry.servers[0].sql.contains("@locallogin = N'BizTalkJob'"));

    let report = client
        .biztalk_sync(&options, EnsureFlags::default())
        .unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.requests, 3, "read, list, one write; no verification");
    let link = client.get("BTS01").unwrap();
    assert_eq!(link.logins.len(), 1);
    assert_eq!(link.logins[0].local_login.as_deref(), Some("BizTalkJob"));
}

#[test]
fn sync_keeps_an_existing_alias_unless_recreating_is_allowed() {
    let farm = farm();
    let client = connect(&farm.mgmt);
    client
        .ensure(
            r#"{"name":"BTS01","product":"","provider":"MSOLEDBSQL","data_source":"BTS01"}"#,
            EnsureFlags::default(),
        )
        .unwrap();
    let report = client
        .biztalk_sync(&SyncOptions::default(), EnsureFlags::default())
        .unwrap();
    let bts01 = by_name(&report, "BTS01");
    assert!(bts01.probe.ok, "{bts01:?}");
    assert_eq!(
        bts01.action,
        Some(Action::Updated),
        "rpc turned on, sa mapped"
    );
    assert_eq!(client.get("BTS01").unwrap().provider, "MSOLEDBSQL");
    let forced = client
        .biztalk_sync(
            &SyncOptions::default(),
            EnsureFlags::from_bits(EnsureFlags::ALLOW_RECREATE).unwrap(),
        )
        .unwrap();
    assert_eq!(by_name(&forced, "BTS01").action, Some(Action::Recreated));
    assert_eq!(client.get("BTS01").unwrap().product, "SQL Server");
}

#[test]
fn sync_fails_only_when_the_list_cannot_be_read() {
    let farm = farm();
    let client = connect(&farm.mgmt);
    let error = client
        .biztalk_sync(
            &SyncOptions::from_json(Some(r#"{"database":"NoSuchDb"}"#)).unwrap(),
            EnsureFlags::default(),
        )
        .unwrap_err();
    assert_eq!(error.status, Status::Sql, "{error:?}");
    assert!(error.message.contains("NoSuchDb"), "{}", error.message);
    let unknown_login = client
        .biztalk_sync(
            &SyncOptions::from_json(Some(r#"{"job_login":"ghost","verify":false}"#)).unwrap(),
            EnsureFlags::default(),
        )
        .unwrap();
    assert!(!unknown_login.ok);
    assert!(unknown_login
        .servers
        .iter()
        .all(|s| s.probe.stage == Some(Stage::Configure)));
    assert!(client.list().unwrap().is_empty());
}

#[test]
fn probe_reports_the_remote_name_or_the_failing_stage() {
    let farm = farm();
    let client = connect(&farm.mgmt);
    client
        .ensure(
            r#"[{"name":"BTS01"},{"name":"DEAD"},
                {"name":"VIA","product":"","provider":"MSOLEDBSQL","data_source":"BTS01",
                 "options":{"rpc out":false}}]"#,
            EnsureFlags::default(),
        )
        .unwrap();
    let good = client.probe("BTS01").unwrap();
    assert!(good.ok, "{good:?}");
    assert_eq!(good.remote_server_name.as_deref(), Some("BTS01"));
    let dead = client.probe("DEAD").unwrap();
    assert_eq!(dead.stage, Some(Stage::Network), "{dead:?}");
    assert!(!dead.ok && dead.number.is_some());
    let no_rpc_out = client.probe("VIA").unwrap();
    assert_eq!(no_rpc_out.stage, Some(Stage::Rpc), "{no_rpc_out:?}");
    assert_eq!(no_rpc_out.number, Some(7411));
    assert_eq!(
        client.probe("missing").unwrap_err().status,
        Status::NotFound,
        "7202: no such link"
    );
}
