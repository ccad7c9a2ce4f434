//! Every server message of a failed call reaches `Error::server_messages`, in arrival order:
//! the INFO messages and errors tiberius does not hand back are taken from its decode events.

mod api_support;

use api_support::*;
use linkedsrv::{ServerMessage, Status};
use tds_standin::config::FaultPlan;
use tds_standin::InstanceConfig;

/// The stand-in's answer for a link whose network name resolves to no peer (its README:
/// "Unreachable peer | 7412 (class 0, provider text) then 7303").
const UNREACHABLE_INFO: &str = "OLE DB provider \"MSOLEDBSQL\" for linked server \"NOWHERE\" \
                                returned message \"Login timeout expired\".";
const UNREACHABLE_ERROR: &str = "Cannot initialize the data source object of OLE DB provider \
                                 \"MSOLEDBSQL\" for linked server \"NOWHERE\".";

#[test]
fn testing_an_unreachable_link_reports_the_info_then_the_error() {
    let standin = start_mgmt();
    let client = connect(&standin);
    client.create("NOWHERE", &sql_server_spec()).unwrap();

    let error = client.test("NOWHERE").unwrap_err();

    assert_eq!(
        (error.status, error.sql_number()),
        (Status::Sql, Some(7303)),
        "{error:?}"
    );
    let [info, failure] = error.server_messages.as_slice() else {
        panic!("expected INFO 7412 and ERROR 7303: {error:?}");
    };
    // The driver's INFO event carries the text only: number and severity are unknown.
    assert_eq!(
        info,
        &ServerMessage {
            number: 0,
            severity: 0,
            state: 0,
            procedure: String::new(),
            line: 0,
            server: String::new(),
            message: UNREACHABLE_INFO.into(),
        }
    );
    // The first error keeps every field the server sent.
    assert_eq!(
        (
            failure.number,
            failure.severity,
            failure.server.as_str(),
            failure.message.as_str()
        ),
        (7303, 16, "MGMT01", UNREACHABLE_ERROR)
    );
    assert!(
        error.message.contains(UNREACHABLE_ERROR),
        "{}",
        error.message
    );
}

#[test]
fn a_reply_with_one_error_reports_just_that_error() {
    let standin = start_mgmt();
    let client = connect(&standin);
    let error = client.drop_server("NO_SUCH_SERVER", false).unwrap_err();
    let numbers: Vec<_> = error.server_messages.iter().map(|m| m.number).collect();
    assert_eq!(numbers, [15015], "{error:?}");
    assert_eq!(error.server_messages[0].severity, 16);
}

#[test]
fn messages_of_a_reconnect_login_are_not_part_of_the_call() {
    // The login answer carries INFO 5701 and 5703; the call that reconnects must not report
    // them, only its own request's messages.
    let standin = start(InstanceConfig::new("MGMT01"));
    let client = connect(&standin);
    client.create("NOWHERE", &sql_server_spec()).unwrap();
    standin.instance().set_faults(FaultPlan {
        drop_at_procedure: Some("sp_testlinkedserver".into()),
        ..FaultPlan::default()
    });
    assert_eq!(status_of(client.test("NOWHERE")), Status::Connection);
    clear_faults(&standin);

    let error = client.test("NOWHERE").unwrap_err();
    assert_eq!(connections_seen(&standin.instance()), 2, "one reconnect");
    let texts: Vec<_> = error
        .server_messages
        .iter()
        .map(|m| m.message.as_str())
        .collect();
    assert_eq!(texts, [UNREACHABLE_INFO, UNREACHABLE_ERROR], "{error:?}");
}

#[test]
fn a_failed_call_after_another_reports_only_its_own_messages() {
    let standin = start_mgmt();
    let client = connect(&standin);
    client.create("NOWHERE", &sql_server_spec()).unwrap();
    assert_eq!(client.test("NOWHERE").unwrap_err().server_messages.len(), 2);

    let error = client.drop_server("NO_SUCH_SERVER", false).unwrap_err();
    assert_eq!(error.server_messages.len(), 1, "{error:?}");
}
