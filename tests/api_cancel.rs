//! Client::cancel and lsv_cancel: a call stalled on the server returns `Cancelled` as soon as
//! another thread cancels it, the client stays usable (reconnecting), and a cancel with no call
//! running changes nothing.

mod api_support;

use std::sync::Arc;
use std::thread;

use api_support::*;
use linkedsrv::Status;
use tds_standin::config::FaultPlan;

/// Waits until the stand-in has received `count` requests in all: the call under test is then
/// in flight (stalled), not merely about to start.
fn wait_for_requests(standin: &tds_standin::StandIn, count: u64) {
    while requests_seen(&standin.instance()) < count {
        thread::sleep(std::time::Duration::from_millis(5));
    }
}

fn stall_at(standin: &tds_standin::StandIn, procedure: &str) {
    standin.instance().set_faults(FaultPlan {
        stall_at_procedure: Some(procedure.into()),
        ..FaultPlan::default()
    });
}

#[test]
fn cancel_interrupts_a_stalled_call_and_the_client_reconnects() {
    let standin = start_mgmt();
    // No command timeout: only the cancel can end the stalled call.
    let client = Arc::new(connect_with(&standin, "Command Timeout=0"));
    client.create("BTS01", &sql_server_spec()).unwrap();
    stall_at(&standin, "sp_serveroption");
    let before = requests_seen(&standin.instance());

    let call = thread::spawn({
        let client = Arc::clone(&client);
        move || client.set_option("BTS01", "rpc", Some("false"))
    });
    wait_for_requests(&standin, before + 1);
    client.cancel();
    let error = call.join().unwrap().unwrap_err();
    assert_eq!(error.status, Status::Cancelled, "{error:?}");
    assert!(error.message.contains("cancelled"), "{}", error.message);
    assert!(
        error.message.contains("next call reconnects"),
        "{}",
        error.message
    );

    clear_faults(&standin);
    let server = client.get("BTS01").unwrap();
    assert!(server.rpc, "the stalled sp_serveroption never ran");
    assert_eq!(connections_seen(&standin.instance()), 2, "one reconnect");
    client.set_option("BTS01", "rpc", Some("false")).unwrap();
    assert!(!client.get("BTS01").unwrap().rpc);
}

#[test]
fn cancel_after_the_first_step_of_create_undoes_it() {
    let standin = start_mgmt();
    let client = Arc::new(connect_with(&standin, "Command Timeout=0"));
    stall_at(&standin, "sp_serveroption");
    let spec = linkedsrv::spec::LinkedServerSpec::from_json(
        r#"{"product": "SQL Server", "options": {"rpc out": true, "query timeout": 30}}"#,
    )
    .unwrap();
    let before = requests_seen(&standin.instance());

    let call = thread::spawn({
        let client = Arc::clone(&client);
        move || client.create("BTS01", &spec)
    });
    // sp_addlinkedserver answered, the first sp_serveroption stalls.
    wait_for_requests(&standin, before + 2);
    clear_faults(&standin);
    client.cancel();
    let error = call.join().unwrap().unwrap_err();
    assert_eq!(error.status, Status::Cancelled, "{error:?}");
    assert!(error.message.contains("undone"), "{}", error.message);
    assert!(
        names(&client).is_empty(),
        "the new server was dropped again"
    );
}

#[test]
fn cancel_without_a_call_changes_nothing() {
    let standin = start_mgmt();
    let client = connect(&standin);
    client.cancel();
    client.cancel();
    client.create("BTS01", &sql_server_spec()).unwrap();
    assert_eq!(names(&client), ["BTS01"]);
    assert_eq!(connections_seen(&standin.instance()), 1, "no reconnect");
}

#[test]
fn lsv_cancel_interrupts_a_call_through_the_c_abi() {
    use linkedsrv::ffi::*;
    let standin = start_mgmt();
    let connection_string =
        std::ffi::CString::new(format!("{};Command Timeout=0", connection_string(&standin)))
            .unwrap();
    let mut client = std::ptr::null_mut();
    let status = unsafe {
        lsv_connect(
            connection_string.as_ptr(),
            &mut client,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(status, LSV_OK);
    assert_eq!(unsafe { lsv_cancel(client) }, LSV_OK, "no call running");
    stall_at(&standin, "sp_dropserver");
    let before = requests_seen(&standin.instance());

    // Raw pointers are not Send: pass the handle's address.
    let address = client as usize;
    let call = thread::spawn(move || unsafe {
        let mut err = std::ptr::null_mut();
        let status = lsv_drop(address as *mut lsv_client, c"BTS01".as_ptr(), 1, &mut err);
        let json = std::ffi::CStr::from_ptr(lsv_error_json(err))
            .to_string_lossy()
            .into_owned();
        lsv_error_free(err);
        (status, json)
    });
    wait_for_requests(&standin, before + 1);
    assert_eq!(unsafe { lsv_cancel(client) }, LSV_OK);
    let (status, json) = call.join().unwrap();
    assert_eq!(status, LSV_ERR_CANCELLED, "{json}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["status"], "cancelled");

    clear_faults(&standin);
    let mut out = std::ptr::null_mut();
    assert_eq!(
        unsafe { lsv_list(client, &mut out, std::ptr::null_mut()) },
        LSV_OK,
        "usable after the cancel"
    );
    unsafe {
        lsv_string_free(out);
        lsv_client_free(client);
    }
}
