//! Bad input is refused with `InvalidArgument` before anything reaches the server, and
//! changes nothing (checked through the stand-in's request counters and through get/list).

mod api_support;

use api_support::*;
use linkedsrv::spec::{LinkedServerSpec, RemoteCredentials};
use linkedsrv::Status;
use zeroize::Zeroizing;

/// Runs `call`, asserts it failed with InvalidArgument and that the server saw no request.
fn refused<T: std::fmt::Debug>(
    standin: &tds_standin::StandIn,
    call: impl FnOnce() -> Result<T, linkedsrv::Error>,
) -> String {
    let instance = standin.instance();
    let before = requests_seen(&instance);
    let error = call().expect_err("the call must be refused");
    assert_eq!(error.status, Status::InvalidArgument, "{error:?}");
    assert_eq!(
        requests_seen(&instance),
        before,
        "nothing may be sent: {error:?}"
    );
    error.message
}

#[test]
fn bad_names_are_refused_by_every_function() {
    let standin = start_mgmt();
    let client = connect(&standin);
    let too_long = "n".repeat(129);
    for name in ["", too_long.as_str(), "nul\0inside"] {
        refused(&standin, || client.create(name, &sql_server_spec()));
        refused(&standin, || client.drop_server(name, true));
        refused(&standin, || {
            client.map_login(name, None, RemoteCredentials::SelfMapping)
        });
        refused(&standin, || {
            client.map_login("ok", Some(name), RemoteCredentials::SelfMapping)
        });
        refused(&standin, || client.unmap_login(name, None));
        refused(&standin, || client.set_rpc(name, Some(true), None));
        refused(&standin, || client.set_option(name, "rpc", Some("true")));
        refused(&standin, || client.get(name));
        refused(&standin, || client.test(name));
    }
    // 129 UTF-16 code units made of 65 astral characters (130 units) is also too long.
    let message = refused(&standin, || {
        client.create(&"😀".repeat(65), &sql_server_spec())
    });
    assert!(message.contains("130 UTF-16 code units"), "{message}");
    assert!(client.list().unwrap().is_empty());
}

#[test]
fn invalid_spec_json_is_refused() {
    for json in [
        "{",
        "[]",
        // Every field in order: what a derived struct deserialiser would take as a spec.
        r#"[null, "MSOLEDBSQL", "h", null, null, null, {}]"#,
        r#"{"product": "SQL Server", "colour": "blue"}"#,
        r#"{"product": 5}"#,
        r#"{"options": []}"#,
    ] {
        let error = LinkedServerSpec::from_json(json).unwrap_err();
        assert_eq!(error.status, Status::InvalidArgument, "{json}");
    }
}

#[test]
fn conflicting_product_and_provider_are_refused_before_sending() {
    let standin = start_mgmt();
    let client = connect(&standin);
    let cases = [
        (
            r#"{"product": "SQL Server", "provider": "MSOLEDBSQL"}"#,
            "15428",
        ),
        (
            r#"{"product": "SQL Server", "data_source": "elsewhere"}"#,
            "15426",
        ),
        (r#"{"product": "Oracle"}"#, "15427"),
        (r#"{"provider": "MSOLEDBSQL", "data_source": "h"}"#, "15429"),
        (r#"{"product": "", "catalog": "master"}"#, "15426"),
    ];
    for (json, mirrored) in cases {
        let spec = LinkedServerSpec::from_json(json).unwrap();
        let message = refused(&standin, || client.create("X", &spec));
        assert!(message.contains(mirrored), "{json}: {message}");
    }
    assert!(client.list().unwrap().is_empty());
}

#[test]
fn unknown_options_and_bad_values_change_nothing() {
    let standin = start_mgmt();
    let client = connect(&standin);
    client.create("Existing", &sql_server_spec()).unwrap();
    let before = client.get("Existing").unwrap();

    for (option, value) in [
        ("rpc outt", Some("true")),
        ("rpc", Some("sometimes")),
        ("rpc", None),
        ("query timeout", Some("-1")),
        ("connect timeout", Some("ten")),
        ("collation name", Some("Latin1'; --")),
        ("system", Some("false")),
        ("name", Some("")),
        ("name", None),
    ] {
        refused(&standin, || client.set_option("Existing", option, value));
    }
    for options in [
        r#"{"rpc outt": true}"#,
        r#"{"rpc out": "maybe"}"#,
        r#"{"query timeout": -5}"#,
        r#"{"query timeout": 1.5}"#,
        r#"{"rpc": true, "RPC": false}"#,
        r#"{"name": "Other"}"#,
    ] {
        let spec = LinkedServerSpec::from_json(&format!(
            r#"{{"product": "SQL Server", "options": {options}}}"#
        ))
        .unwrap();
        refused(&standin, || client.create("New", &spec));
    }
    assert_eq!(client.list().unwrap(), vec![before]);
}

#[test]
fn over_long_credentials_are_refused_without_echoing_the_password() {
    let standin = start_mgmt();
    let client = connect(&standin);
    client.create("S", &sql_server_spec()).unwrap();
    let secret = "TopSecret!".repeat(13); // 130 characters
    let message = refused(&standin, || {
        client.map_login(
            "S",
            None,
            RemoteCredentials::Remote {
                user: Some("u".into()),
                password: Some(Zeroizing::new(secret.clone())),
            },
        )
    });
    assert!(!message.contains("TopSecret"), "{message}");
    assert_eq!(
        client.get("S").unwrap().logins.len(),
        1,
        "default mapping unchanged"
    );
}
