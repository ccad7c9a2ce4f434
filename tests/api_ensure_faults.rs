//! Faults at every request boundary of an ensure and of a BizTalk sync: a dropped connection,
//! a stall past the command timeout and an injected error. Each leaves every server as it was
//! or as desired (never a mix); running the same call again converges; a third run changes
//! nothing and (for ensure) takes one request.

mod api_support;

use std::path::PathBuf;

use api_support::*;
use linkedsrv::biztalk::SyncOptions;
use linkedsrv::converge::{Action, EnsureFlags};
use linkedsrv::Client;
use tds_standin::config::{FaultPlan, ServerRole};
use tds_standin::{InstanceConfig, StandIn};

#[derive(Debug, Clone, Copy)]
enum Fault {
    Drop,
    Stall,
    /// Msg 15247 instead of running the request.
    Fail,
    /// The same three at the N-th procedure call inside a request (the connection is dropped
    /// or stalls part-way through the write, with no CATCH block run; a failing call goes
    /// through the write's CATCH).
    DropCall,
    StallCall,
    FailCall,
}

const FAULTS: [Fault; 3] = [Fault::Drop, Fault::Stall, Fault::Fail];
const CALL_FAULTS: [Fault; 3] = [Fault::DropCall, Fault::StallCall, Fault::FailCall];

fn plan(fault: Fault, request: u64) -> FaultPlan {
    match fault {
        Fault::Drop => FaultPlan {
            drop_at_request: Some(request),
            ..FaultPlan::default()
        },
        Fault::Stall => FaultPlan {
            stall_at_request: Some(request),
            ..FaultPlan::default()
        },
        Fault::Fail => FaultPlan {
            fail_request: Some((request, 15247)),
            ..FaultPlan::default()
        },
        Fault::DropCall => FaultPlan {
            drop_at_call: Some(request),
            ..FaultPlan::default()
        },
        Fault::StallCall => FaultPlan {
            stall_at_call: Some(request),
            ..FaultPlan::default()
        },
        Fault::FailCall => FaultPlan {
            fail_call: Some((request, 15247)),
            ..FaultPlan::default()
        },
    }
}

/// The catalog as `list` shows it, without ids and modification times.
fn state(client: &Client) -> serde_json::Value {
    comparable(client.list().unwrap())
}

/// An update of OLD (options, mappings) and the creation of NEW, in one call.
const DESIRED: &str = r#"[
  {"name": "OLD", "options": {"rpc out": true, "query timeout": 60},
   "logins": [{"local_login": "app", "uses_self_credential": true}]},
  {"name": "NEW", "product": "SQL Server", "options": {"rpc": true, "rpc out": true},
   "logins": [{"local_login": "app", "uses_self_credential": false, "remote_user": "r",
               "remote_password": "Rem0te!Pw"}]}
]"#;

const EXACT: u32 = EnsureFlags::EXACT_LOGINS;

fn fresh_instance() -> (StandIn, Client) {
    let standin =
        start(InstanceConfig::new("MGMT01").with_login("app", "App!Passw0rd", ServerRole::None));
    let admin = connect(&standin);
    admin
        .ensure(
            r#"{"name":"OLD","options":{"rpc out":false}}"#,
            EnsureFlags::default(),
        )
        .unwrap();
    (standin, admin)
}

/// What the desired state looks like once applied (taken from a run without faults).
fn desired_state() -> serde_json::Value {
    let (standin, admin) = fresh_instance();
    admin
        .ensure(DESIRED, EnsureFlags::from_bits(EXACT).unwrap())
        .unwrap();
    let desired = state(&admin);
    drop(standin);
    desired
}

/// Runs the ensure with `fault` armed at `at`; checks "as it was or as desired", then that a
/// rerun converges and a third run is unchanged in one request. The error's message, or `None`
/// when the fault never struck (the call succeeded).
fn ensure_with_fault(desired: &serde_json::Value, fault: Fault, at: u64) -> Option<String> {
    let flags = EnsureFlags::from_bits(EXACT).unwrap();
    let case = format!("{fault:?} at {at}");
    let (standin, admin) = fresh_instance();
    let before = state(&admin);
    let client = connect_with(&standin, "Command Timeout=1");
    standin.instance().set_faults(plan(fault, at));
    let outcome = client.ensure(DESIRED, flags);
    clear_faults(&standin);
    let after = state(&admin);
    assert!(
        after == before || after == *desired,
        "{case}: a mix was left: {after:#}\n({outcome:?})"
    );
    let message = match outcome {
        Ok(_) => {
            assert_eq!(after, *desired, "{case}");
            return None;
        }
        Err(error) => error.message,
    };

    let rerun = client.ensure(DESIRED, flags).unwrap();
    assert_eq!(state(&admin), *desired, "{case}: the rerun converges");
    assert!(rerun.servers.iter().all(|s| s.action != Action::Recreated));

    let before_third = requests_seen(&standin.instance());
    let third = client.ensure(DESIRED, flags).unwrap();
    assert!(
        third.servers.iter().all(|s| s.action == Action::Unchanged),
        "{case}: {third:?}"
    );
    assert_eq!(
        requests_seen(&standin.instance()) - before_third,
        1,
        "{case}"
    );
    Some(message)
}

#[test]
fn ensure_survives_every_fault_at_every_request() {
    let desired = desired_state();
    // Request 1 reads, request 2 writes.
    for request in [1, 2] {
        for fault in FAULTS {
            assert!(
                ensure_with_fault(&desired, fault, request).is_some(),
                "{fault:?} struck"
            );
        }
    }
}

#[test]
fn ensure_survives_every_fault_at_every_call_of_its_write() {
    let desired = desired_state();
    for fault in CALL_FAULTS {
        let mut call = 1;
        while let Some(message) = ensure_with_fault(&desired, fault, call) {
            let expected = match fault {
                // Calls 1..call-1 ran before the connection went: the library undid them.
                Fault::DropCall | Fault::StallCall if call > 1 => "a second request undid",
                Fault::DropCall | Fault::StallCall => "before it changed anything",
                _ => "the write was undone",
            };
            assert!(message.contains(expected), "{fault:?} at {call}: {message}");
            call += 1;
        }
        // OLD: rpc out, query timeout, global mapping dropped, app mapped; NEW: created, rpc,
        // rpc out, global mapping dropped, app mapped.
        assert_eq!(call, 10, "{fault:?}: every one of the 9 calls was hit");
    }
}

/// A fixture file, removed when dropped.
struct Fixture(PathBuf);

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn fixture(tag: &str, json: serde_json::Value) -> Fixture {
    let path = std::env::temp_dir().join(format!(
        "lsv-faults-{tag}-{}-{:?}.json",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, json.to_string()).unwrap();
    Fixture(path)
}

#[test]
fn biztalk_sync_survives_every_fault_at_every_request() {
    let peer_fixture = fixture(
        "peer",
        serde_json::json!({"databases": ["BizTalkMsgBoxDb"], "backup_databases": []}),
    );
    let peer = start({
        let mut config = InstanceConfig::new("BTS01");
        config.biztalk = Some(peer_fixture.0.clone());
        config
    });
    let mgmt_fixture = fixture(
        "mgmt",
        serde_json::json!({"backup_databases": [
            {"ServerName": "BTS01", "DatabaseName": "BizTalkMsgBoxDb"},
            {"ServerName": "BTS02", "DatabaseName": "BizTalkMsgBoxDb"}]}),
    );
    let options = SyncOptions::from_json(Some(r#"{"drop_global_mapping": true}"#)).unwrap();
    let quiet = SyncOptions {
        verify: false,
        ..options.clone()
    };
    let start_mgmt = || {
        let mut config = InstanceConfig::new("MGMT01").with_peer("BTS01", peer.addr());
        config.biztalk = Some(mgmt_fixture.0.clone());
        let standin = start(config);
        let admin = connect(&standin);
        (standin, admin)
    };
    let desired = {
        let (_standin, admin) = start_mgmt();
        admin
            .biztalk_sync(&options, EnsureFlags::default())
            .unwrap();
        state(&admin)
    };
    // Requests: 1 read, 2 backup list, 3 write, 4-5 BTS01's test and remote call, 6 BTS02's
    // test (it is not reachable, so no remote call follows). Calls: 1 the backup list, 2-11
    // the write (5 per server), then the tests and the remote call.
    let cases = (1..=6)
        .flat_map(|request| FAULTS.map(|fault| (fault, request)))
        .chain((1..=14).flat_map(|call| CALL_FAULTS.map(|fault| (fault, call))));
    for (fault, request) in cases {
        {
            let case = format!("{fault:?} at request {request}");
            let (standin, admin) = start_mgmt();
            let before = state(&admin);
            let client = connect_with(&standin, "Command Timeout=1");
            standin.instance().set_faults(plan(fault, request));
            let outcome = client.biztalk_sync(&options, EnsureFlags::default());
            clear_faults(&standin);
            let after = state(&admin);
            assert!(
                after == before || after == desired,
                "{case}: a mix was left: {after:#}\n({outcome:?})"
            );
            if let Ok(report) = &outcome {
                assert!(!report.ok, "{case}: BTS02 never verifies: {report:?}");
            }

            client
                .biztalk_sync(&options, EnsureFlags::default())
                .unwrap();
            assert_eq!(state(&admin), desired, "{case}: the rerun converges");
            let before_third = requests_seen(&standin.instance());
            let third = client.biztalk_sync(&quiet, EnsureFlags::default()).unwrap();
            assert!(
                third
                    .servers
                    .iter()
                    .all(|s| s.action == Some(Action::Unchanged)),
                "{case}: {third:?}"
            );
            assert_eq!(
                requests_seen(&standin.instance()) - before_third,
                2,
                "{case}: the read and the backup list"
            );
        }
    }
}
