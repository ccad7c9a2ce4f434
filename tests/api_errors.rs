//! Errors a caller can act on: login failures and other connect-time errors, NOT_FOUND with
//! its SQL number, the machine-readable `outcome_uncertain` / `undo_failed` flags, duplicate
//! option names, and every IPv6 form of `Server`.

mod api_support;

use std::net::UdpSocket;
use std::thread;

use api_support::*;
use linkedsrv::spec::LinkedServerSpec;
use linkedsrv::{Client, Status};
use tds_standin::config::FaultPlan;
use tds_standin::InstanceConfig;

#[test]
fn a_database_the_login_cannot_open_is_a_connection_error_with_4060() {
    let standin = start_mgmt();
    let error = Client::connect(&format!(
        "{};Database=NoSuchDb",
        connection_string(&standin)
    ))
    .unwrap_err();
    assert_eq!(
        (error.status, error.sql_number()),
        (Status::Connection, Some(4060)),
        "{error:?}"
    );
    let error =
        Client::connect(&connection_string(&standin).replace(SA_PASSWORD, "wrong")).unwrap_err();
    assert_eq!(
        (error.status, error.sql_number()),
        (Status::Authentication, Some(18456)),
        "{error:?}"
    );
}

#[test]
fn every_not_found_carries_a_sql_number() {
    let standin = start_mgmt();
    let client = connect(&standin);
    let numbers = [
        client.get("nope").map(drop),
        client.set_rpc("nope", Some(true), Some(true)),
        client.set_rpc("nope", Some(true), None),
        client.drop_server("nope", false),
        client.unmap_login("nope", None),
    ]
    .map(|outcome| {
        let error = outcome.unwrap_err();
        (error.status, error.sql_number())
    });
    assert_eq!(numbers, [(Status::NotFound, Some(15015)); 5]);
}

#[test]
fn an_abandoned_first_step_is_flagged_uncertain_and_a_failed_undo_is_flagged() {
    let standin = start_mgmt();
    let client = connect(&standin);
    standin.instance().set_faults(FaultPlan {
        drop_at_procedure: Some("sp_addlinkedserver".into()),
        ..FaultPlan::default()
    });
    let spec = LinkedServerSpec::from_json(r#"{"product": "SQL Server"}"#).unwrap();
    let error = client.create("BTS01", &spec).unwrap_err();
    assert!(error.outcome_uncertain && !error.undo_failed, "{error:?}");

    // The second step fails, and so does the undo's sp_dropserver: left behind, flagged.
    standin.instance().set_faults(FaultPlan {
        fail_request: Some((2, 15247)),
        drop_at_procedure: Some("sp_dropserver".into()),
        ..FaultPlan::default()
    });
    let with_option =
        LinkedServerSpec::from_json(r#"{"product": "SQL Server", "options": {"rpc out": true}}"#)
            .unwrap();
    let error = client.create("BTS02", &with_option).unwrap_err();
    assert!(error.outcome_uncertain && error.undo_failed, "{error:?}");

    // A refusal is certain; so is a failure whose undo worked.
    clear_faults(&standin);
    let error = client.create("BTS02", &spec).unwrap_err();
    assert_eq!(error.status, Status::AlreadyExists);
    assert!(!error.outcome_uncertain && !error.undo_failed, "{error:?}");
}

#[test]
fn option_names_given_twice_are_refused() {
    let error = LinkedServerSpec::from_json(
        r#"{"product": "SQL Server", "options": {"rpc out": true, "rpc out": false}}"#,
    )
    .unwrap_err();
    assert_eq!(error.status, Status::InvalidArgument);
    assert!(
        error.message.contains("more than once"),
        "{}",
        error.message
    );
    let error =
        LinkedServerSpec::from_json(r#"{"product": "SQL Server", "product": "x"}"#).unwrap_err();
    assert!(
        error.message.contains("duplicate field"),
        "{}",
        error.message
    );
}

/// Answers one SQL Browser request for `instance` with `port` (SSRP SVR_RESP).
fn fake_browser(socket: UdpSocket, instance: &'static str, port: u16) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut request = [0u8; 256];
        let (length, from) = socket.recv_from(&mut request).unwrap();
        assert_eq!(request[0], 0x04, "CLNT_UCAST_INST");
        assert_eq!(&request[1..length], instance.as_bytes());
        let data = format!(
            "ServerName;MGMT01;InstanceName;{instance};IsClustered;No;Version;16.0.1000.6;tcp;{port};;"
        );
        let mut reply = vec![0x05];
        reply.extend_from_slice(&(data.len() as u16).to_le_bytes());
        reply.extend_from_slice(data.as_bytes());
        socket.send_to(&reply, from).unwrap();
    })
}

#[test]
fn ipv6_literals_connect_in_every_form() {
    let mut config = InstanceConfig::new("MGMT01");
    config.listen = "[::1]:0".parse().unwrap();
    let standin = start(config);
    let port = standin.addr().port();
    let rest = format!(
        "User ID=sa;Password={SA_PASSWORD};Encrypt=true;ServerCertificate={}",
        standin.cert_path().display()
    );
    for server in [
        format!("[::1],{port}"),
        format!("::1,{port}"),
        format!("tcp:[::1],{port}"),
        format!("tcp:::1,{port}"),
        format!("[::1]\\IGNORED,{port}"),
    ] {
        let client = Client::connect(&format!("Server={server};{rest}"))
            .unwrap_or_else(|e| panic!("Server={server}: {e}"));
        assert!(client.list().unwrap().is_empty(), "Server={server}");
    }
    // A named instance without a port asks SQL Browser on [::1]:1434.
    let browser = UdpSocket::bind("[::1]:1434").expect("UDP [::1]:1434 is free for the test");
    let answered = fake_browser(browser, "BTS", port);
    let client = Client::connect(&format!("Server=[::1]\\BTS;{rest}")).unwrap();
    answered.join().unwrap();
    assert!(client.list().unwrap().is_empty());
    let error = Client::connect(&format!("Server=[::1;{rest}")).unwrap_err();
    assert_eq!(error.status, Status::InvalidArgument);
}
