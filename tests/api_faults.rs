//! Faults injected by the stand-in: a dropped connection, a stalled server and a failing step
//! in the middle of create. Each failing call reports the right status, leaves nothing half
//! done, and the next call reconnects by itself.

mod api_support;

use std::time::{Duration, Instant};

use api_support::*;
use linkedsrv::spec::LinkedServerSpec;
use linkedsrv::Status;
use tds_standin::config::FaultPlan;

fn spec_with_options() -> LinkedServerSpec {
    LinkedServerSpec::from_json(
        r#"{"product": "SQL Server", "options": {"rpc out": true, "query timeout": 30}}"#,
    )
    .unwrap()
}

#[test]
fn dropped_connection_fails_the_call_and_the_next_call_reconnects() {
    let standin = start_mgmt();
    let client = connect(&standin);
    client.create("BTS01", &sql_server_spec()).unwrap();
    standin.instance().set_faults(FaultPlan {
        drop_at_procedure: Some("sp_dropserver".into()),
        ..FaultPlan::default()
    });

    let error = client.drop_server("BTS01", true).unwrap_err();
    assert_eq!(error.status, Status::Connection, "{error:?}");
    assert!(
        error.message.contains("next call reconnects"),
        "{}",
        error.message
    );

    clear_faults(&standin);
    assert_eq!(names(&client), ["BTS01"], "the server never ran the drop");
    assert_eq!(connections_seen(&standin.instance()), 2, "one reconnect");
    client.drop_server("BTS01", true).unwrap();
    assert!(client.list().unwrap().is_empty());
}

#[test]
fn stalled_server_times_out_within_the_command_timeout_then_recovers() {
    let standin = start_mgmt();
    let client = connect_with(&standin, "Command Timeout=2");
    client.create("BTS01", &sql_server_spec()).unwrap();
    standin.instance().set_faults(FaultPlan {
        stall_at_procedure: Some("sp_serveroption".into()),
        ..FaultPlan::default()
    });

    let started = Instant::now();
    let error = client.set_rpc("BTS01", Some(false), None).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.status, Status::Timeout, "{error:?}");
    assert!(
        error.message.contains("next call reconnects"),
        "{}",
        error.message
    );
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(4),
        "{elapsed:?}"
    );

    clear_faults(&standin);
    client.set_rpc("BTS01", Some(false), None).unwrap();
    assert!(!client.get("BTS01").unwrap().rpc);
}

#[test]
fn create_whose_option_step_is_rejected_leaves_no_server() {
    let standin = start_mgmt();
    let client = connect(&standin);
    // Request 1 is sp_addlinkedserver, request 2 the first sp_serveroption.
    standin.instance().set_faults(FaultPlan {
        fail_request: Some((2, 15600)),
        ..FaultPlan::default()
    });

    let error = client.create("BTS01", &spec_with_options()).unwrap_err();
    assert_eq!(
        (error.status, error.sql_number()),
        (Status::Sql, Some(15600)),
        "{error:?}"
    );
    assert!(error.message.contains("undone"), "{}", error.message);

    clear_faults(&standin);
    assert_eq!(status_of(client.get("BTS01")), Status::NotFound);
    assert!(client.list().unwrap().is_empty());
}

#[test]
fn create_whose_option_step_drops_or_stalls_leaves_no_server() {
    let dropped = FaultPlan {
        drop_at_procedure: Some("sp_serveroption".into()),
        ..FaultPlan::default()
    };
    let stalled = FaultPlan {
        stall_at_procedure: Some("sp_serveroption".into()),
        ..FaultPlan::default()
    };
    for (faults, expected) in [(dropped, Status::Connection), (stalled, Status::Timeout)] {
        let standin = start_mgmt();
        let client = connect_with(&standin, "Command Timeout=1");
        standin.instance().set_faults(faults);

        let error = client.create("BTS01", &spec_with_options()).unwrap_err();
        assert_eq!(error.status, expected, "{error:?}");
        assert!(error.message.contains("undone"), "{}", error.message);

        clear_faults(&standin);
        assert!(client.list().unwrap().is_empty(), "{expected:?}");
    }
}

#[test]
fn a_read_that_drops_or_stalls_fails_cleanly_and_the_next_read_reconnects() {
    // Request 1 is the create, request 2 the catalog read of `get`.
    let dropped = FaultPlan {
        drop_at_request: Some(2),
        ..FaultPlan::default()
    };
    let stalled = FaultPlan {
        stall_at_request: Some(2),
        ..FaultPlan::default()
    };
    for (faults, expected) in [(dropped, Status::Connection), (stalled, Status::Timeout)] {
        let standin = start_mgmt();
        let client = connect_with(&standin, "Command Timeout=1");
        client.create("BTS01", &sql_server_spec()).unwrap();
        standin.instance().set_faults(faults);

        let started = Instant::now();
        assert_eq!(status_of(client.get("BTS01")), expected);
        assert!(started.elapsed() < Duration::from_secs(3), "{expected:?}");

        clear_faults(&standin);
        assert_eq!(client.get("BTS01").unwrap().name, "BTS01", "{expected:?}");
        assert_eq!(connections_seen(&standin.instance()), 2, "{expected:?}");
    }
}

#[test]
fn create_whose_undo_fails_too_says_the_server_may_be_left_behind() {
    let standin = start_mgmt();
    let client = connect(&standin);
    standin.instance().set_faults(FaultPlan {
        fail_request: Some((2, 15600)),
        drop_at_procedure: Some("sp_dropserver".into()),
        ..FaultPlan::default()
    });

    let error = client.create("BTS01", &spec_with_options()).unwrap_err();
    assert_eq!(
        (error.status, error.sql_number()),
        (Status::Sql, Some(15600)),
        "{error:?}"
    );
    assert!(
        error
            .message
            .contains("undoing the partial change failed too")
            && error.message.contains("may be left behind"),
        "{}",
        error.message
    );

    clear_faults(&standin);
    assert_eq!(names(&client), ["BTS01"], "the undo never ran");
}

#[test]
fn create_whose_first_step_loses_the_connection_says_to_check_before_retrying() {
    let standin = start_mgmt();
    let client = connect(&standin);
    standin.instance().set_faults(FaultPlan {
        drop_at_procedure: Some("sp_addlinkedserver".into()),
        ..FaultPlan::default()
    });

    let error = client.create("BTS01", &spec_with_options()).unwrap_err();
    assert_eq!(error.status, Status::Connection, "{error:?}");
    assert!(
        error
            .message
            .contains("sp_addlinkedserver may have completed")
            && error.message.contains("check with get"),
        "{}",
        error.message
    );
    assert!(!error.message.contains("undone"), "{}", error.message);

    // A refusal by the server is certain: no such advice.
    clear_faults(&standin);
    client.create("BTS01", &sql_server_spec()).unwrap();
    let error = client.create("BTS01", &sql_server_spec()).unwrap_err();
    assert_eq!(error.status, Status::AlreadyExists, "{error:?}");
    assert!(
        !error.message.contains("may have completed"),
        "{}",
        error.message
    );
}
