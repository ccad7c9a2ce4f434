//! One deadline per call: a call returns within Connect Timeout (its reconnects) + Command
//! Timeout (waiting for the client and all its requests) + a small constant; a write that
//! fails part-way gets one more Command Timeout for its undo. The bounds are asserted with generous slack: they are behaviour (a call that
//! ignored the budget takes several times longer), not a speed target. Each test prints the
//! time it measured against the formula.

mod api_support;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use api_support::*;
use linkedsrv::spec::LinkedServerSpec;
use linkedsrv::Status;
use tds_standin::config::FaultPlan;

const TIMEOUTS: &str = "Connect Timeout=2;Command Timeout=2";
/// Connect Timeout + Command Timeout of [`TIMEOUTS`].
const FORMULA: Duration = Duration::from_secs(4);
/// [`FORMULA`] + the Command Timeout of the undo of a write that failed part-way.
const FORMULA_WITH_UNDO: Duration = Duration::from_secs(6);
/// Generous room for the library's own work on a loaded test machine.
const SLACK: Duration = Duration::from_secs(2);

/// `sp_addlinkedserver` and five `sp_serveroption` calls: six requests.
fn six_request_spec() -> LinkedServerSpec {
    LinkedServerSpec::from_json(
        r#"{"product": "SQL Server", "options": {"rpc out": true, "query timeout": 30,
            "connect timeout": 5, "collation compatible": true, "lazy schema validation": true}}"#,
    )
    .unwrap()
}

fn slow_answers(standin: &tds_standin::StandIn, latency_ms: u64) {
    standin.instance().set_faults(FaultPlan {
        latency_ms,
        ..FaultPlan::default()
    });
}

fn within_bound(what: &str, elapsed: Duration, bound: Duration) {
    eprintln!(
        "{what}: returned after {:.2} s; bound {bound:?} + small constant",
        elapsed.as_secs_f64()
    );
    assert!(
        elapsed <= bound + SLACK,
        "{what} took {elapsed:?}, over {bound:?} + {SLACK:?}"
    );
}

#[test]
fn the_requests_of_one_call_share_the_command_timeout() {
    let standin = start_mgmt();
    let client = connect_with(&standin, TIMEOUTS);
    // Each answer alone is well within Command Timeout=2; six of them are not.
    slow_answers(&standin, 1200);

    let started = Instant::now();
    let error = client.create("BTS01", &six_request_spec()).unwrap_err();
    within_bound(
        "six requests of 1.2 s each, undo included",
        started.elapsed(),
        FORMULA_WITH_UNDO,
    );
    assert_eq!(error.status, Status::Timeout, "{error:?}");
    assert!(
        error.message.contains("command timeout"),
        "{}",
        error.message
    );
    // The undo has a budget of its own: a slow server still ends with the old state.
    assert!(!error.undo_failed, "{error:?}");
    clear_faults(&standin);
    assert!(names(&client).is_empty(), "nothing left behind");
}

#[test]
fn waiting_for_a_busy_client_counts_against_the_deadline() {
    let standin = start_mgmt();
    let client = Arc::new(connect_with(&standin, TIMEOUTS));
    slow_answers(&standin, 1200);
    let before = requests_seen(&standin.instance());

    let busy = thread::spawn({
        let client = Arc::clone(&client);
        move || client.create("BTS01", &six_request_spec())
    });
    // The first request is in flight: the client's lock is held.
    while requests_seen(&standin.instance()) < before + 1 {
        thread::sleep(Duration::from_millis(5));
    }
    let started = Instant::now();
    let waiting = client.list();
    within_bound(
        "a call waiting for a busy client",
        started.elapsed(),
        FORMULA,
    );
    if let Err(error) = &waiting {
        assert_eq!(error.status, Status::Timeout, "{error:?}");
    }
    assert_eq!(
        busy.join().unwrap().map_err(|e| e.status),
        Err(Status::Timeout)
    );
}

#[test]
fn a_stalled_option_step_times_out_and_the_undo_still_fits_in_the_budget() {
    let standin = start_mgmt();
    let client = connect_with(&standin, TIMEOUTS);
    standin.instance().set_faults(FaultPlan {
        stall_at_procedure: Some("sp_serveroption".into()),
        ..FaultPlan::default()
    });

    let started = Instant::now();
    let error = client.create("BTS01", &six_request_spec()).unwrap_err();
    within_bound(
        "create stalled at its second step, undo included",
        started.elapsed(),
        FORMULA_WITH_UNDO,
    );
    assert_eq!(error.status, Status::Timeout, "{error:?}");
    assert!(
        error.message.contains("the partial change was undone"),
        "{}",
        error.message
    );
    clear_faults(&standin);
    assert!(names(&client).is_empty(), "nothing left behind");
}
