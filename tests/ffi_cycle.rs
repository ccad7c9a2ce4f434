//! The C ABI against a stand-in SQL Server: the create → map → set-rpc → get → drop cycle,
//! server errors with their SQL numbers, handles after free, and use from several threads.

mod ffi_common;

use std::ffi::c_char;
use std::ptr;

use ffi_common::*;
use linkedsrv::ffi::*;

/// Takes a string returned by the library and frees it.
fn take_json(s: *mut c_char) -> serde_json::Value {
    let json = serde_json::from_str(&text(s)).expect("the library returns JSON");
    unsafe { lsv_string_free(s) };
    json
}

fn get(client: *mut lsv_client, server: &str) -> Result<serde_json::Value, Failure> {
    let server = c(server);
    let mut json = ptr::null_mut();
    outcome(|e| unsafe { lsv_get(client, server.as_ptr(), &mut json, e) })?;
    Ok(take_json(json))
}

fn list(client: *mut lsv_client) -> serde_json::Value {
    let mut json = ptr::null_mut();
    outcome(|e| unsafe { lsv_list(client, &mut json, e) }).expect("lsv_list");
    take_json(json)
}

fn create_sql_server_link(client: *mut lsv_client, name: &std::ffi::CStr) -> Result<(), Failure> {
    outcome(|e| unsafe {
        lsv_create(
            client,
            name.as_ptr(),
            c"{\"product\":\"SQL Server\"}".as_ptr(),
            e,
        )
    })
}

#[test]
fn create_map_rpc_get_drop_cycle() {
    let session = connect();
    let client = session.client;
    let (name, remote_password) = (c"BTS_DB", "Rem0te!Secret");
    let password = c(remote_password);

    create_sql_server_link(client, name).expect("create");
    outcome(|e| unsafe {
        lsv_map_login(
            client,
            name.as_ptr(),
            ptr::null(),
            0,
            c"bts_remote".as_ptr(),
            password.as_ptr(),
            e,
        )
    })
    .expect("map every login to a remote login");
    outcome(|e| unsafe { lsv_set_rpc(client, name.as_ptr(), 1, 1, e) }).expect("rpc on");

    let server = get(client, "BTS_DB").expect("get");
    assert_eq!(server["name"], "BTS_DB");
    assert_eq!(server["product"], "SQL Server");
    assert_eq!(
        (server["rpc"].as_bool(), server["rpc_out"].as_bool()),
        (Some(true), Some(true))
    );
    let logins = server["logins"].as_array().expect("logins array");
    let default_mapping = logins
        .iter()
        .find(|l| l["local_login"].is_null())
        .expect("mapping for every login");
    assert_eq!(default_mapping["remote_user"], "bts_remote");
    assert_eq!(default_mapping["uses_self_credential"], false);
    assert!(
        !server.to_string().contains(remote_password),
        "no password in the JSON"
    );

    // -1 leaves `rpc` alone while `rpc out` goes off.
    outcome(|e| unsafe { lsv_set_rpc(client, name.as_ptr(), -1, 0, e) }).expect("rpc out off");
    let server = get(client, "BTS_DB").expect("get");
    assert_eq!(
        (server["rpc"].as_bool(), server["rpc_out"].as_bool()),
        (Some(true), Some(false))
    );

    let names: Vec<_> = list(client)
        .as_array()
        .expect("an array")
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    assert_eq!(
        names,
        ["BTS_DB"],
        "only the linked server, not the local row"
    );

    outcome(|e| unsafe { lsv_drop(client, name.as_ptr(), 1, e) }).expect("drop with its logins");
    let gone = get(client, "BTS_DB").expect_err("dropped");
    assert_eq!(gone.code, LSV_ERR_NOT_FOUND, "{gone:?}");
    assert_eq!(list(client), serde_json::json!([]));
}

#[test]
fn names_with_quotes_comments_and_unicode_round_trip_through_the_abi() {
    let session = connect();
    let names = ["O'Brien", "a]b", "x;--", "/* c */", "Zürich", "東京"];
    for name in names {
        let c_name = c(name);
        create_sql_server_link(session.client, &c_name).expect(name);
        assert_eq!(get(session.client, name).expect(name)["name"], name);
    }
    let mut listed: Vec<String> = list(session.client)
        .as_array()
        .expect("an array")
        .iter()
        .map(|s| s["name"].as_str().expect("a name").to_owned())
        .collect();
    listed.sort();
    let mut expected = names.map(str::to_owned);
    expected.sort();
    assert_eq!(listed, expected);
    for name in names {
        let c_name = c(name);
        outcome(|e| unsafe { lsv_drop(session.client, c_name.as_ptr(), 0, e) }).expect(name);
    }
    assert_eq!(list(session.client), serde_json::json!([]));
}

#[test]
fn failed_connects_report_their_cause_without_the_password() {
    let standin =
        tds_standin::spawn(tds_standin::InstanceConfig::new("MGMT")).expect("stand-in starts");
    let refused_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let cases = [
        (
            standin.connection_string("sa", "Wr0ng!Secret"),
            LSV_ERR_AUTHENTICATION,
            18456,
        ),
        (
            format!("Server=tcp:127.0.0.1,{refused_port};User ID=sa;Password=Wr0ng!Secret"),
            LSV_ERR_CONNECTION,
            0,
        ),
    ];
    for (connection_string, code, sql_number) in cases {
        let connection_string = c(&connection_string);
        let mut client = ptr::null_mut();
        let error = failure(code, |e| unsafe {
            lsv_connect(connection_string.as_ptr(), &mut client, e)
        });
        assert!(client.is_null(), "out_client untouched");
        assert_eq!(error.sql_number, sql_number, "{error:?}");
        assert!(
            !error.message.contains("Secret") && !error.json.to_string().contains("Secret"),
            "{error:?}"
        );
    }
}

#[test]
fn dropping_a_missing_server_reports_sql_error_15015() {
    let session = connect();
    let mut err = ptr::null_mut();
    let status = unsafe { lsv_drop(session.client, c"NO_SUCH_SERVER".as_ptr(), 0, &mut err) };
    assert_eq!(status, LSV_ERR_NOT_FOUND);
    unsafe {
        assert_eq!(lsv_error_code(err), LSV_ERR_NOT_FOUND);
        assert_eq!(lsv_error_sql_number(err), 15015);
        assert_eq!(lsv_error_sql_severity(err), 16);
        assert!(
            text(lsv_error_message(err)).contains("NO_SUCH_SERVER"),
            "{}",
            text(lsv_error_message(err))
        );
        let json: serde_json::Value = serde_json::from_str(&text(lsv_error_json(err))).unwrap();
        assert_eq!(json["status"], "not_found");
        assert_eq!(json["sql_number"], 15015);
        assert_eq!(
            json["procedure"].as_str(),
            Some(text(lsv_error_sql_procedure(err)).as_str())
        );
        assert_eq!(json["server_messages"][0]["number"], 15015);
        lsv_error_free(err);
    }
}

#[test]
fn outputs_are_untouched_on_failure() {
    let session = connect();
    let sentinel = 0x10 as *mut c_char;
    let mut json = sentinel;
    failure(LSV_ERR_NOT_FOUND, |e| unsafe {
        lsv_get(session.client, c"NO_SUCH_SERVER".as_ptr(), &mut json, e)
    });
    assert_eq!(json, sentinel);
}

#[test]
fn argument_checks_with_a_live_client_change_nothing() {
    let session = connect();
    check_string_parameters(session.client);
    assert_eq!(
        list(session.client),
        serde_json::json!([]),
        "no argument error reached the server"
    );
}

#[test]
fn bad_input_through_the_abi_sends_nothing_and_changes_nothing() {
    let session = connect();
    let client = session.client;
    create_sql_server_link(client, c"BTS01").expect("create");
    let before = list(client);
    let instance = session.standin.instance();
    let requests = || -> u64 { instance.connection_stats().iter().map(|c| c.requests).sum() };
    let requests_before = requests();

    let long_name = c(&"n".repeat(129));
    let bad_specs = [
        c"{\"product\":\"SQL Server\",\"colour\":1}",
        c"[null,null,null,null,null,null,{}]",
        c"{\"product\":\"SQL Server\",\"options\":{\"rpc outt\":true}}",
        c"{\"product\":\"SQL Server\",\"options\":{\"query timeout\":-1}}",
        c"{\"product\":\"SQL Server\",\"provider\":\"MSOLEDBSQL\"}",
    ];
    for spec in bad_specs {
        failure(LSV_ERR_INVALID_ARGUMENT, |e| unsafe {
            lsv_create(client, c"NEW".as_ptr(), spec.as_ptr(), e)
        });
    }
    for (option, value) in [
        (c"rpc outt", c"true"),
        (c"rpc", c"sometimes"),
        (c"query timeout", c"-1"),
        (c"system", c"false"),
    ] {
        failure(LSV_ERR_INVALID_ARGUMENT, |e| unsafe {
            lsv_set_option(
                client,
                c"BTS01".as_ptr(),
                option.as_ptr(),
                value.as_ptr(),
                e,
            )
        });
    }
    for name in [c"", long_name.as_c_str()] {
        failure(LSV_ERR_INVALID_ARGUMENT, |e| unsafe {
            lsv_create(
                client,
                name.as_ptr(),
                c"{\"product\":\"SQL Server\"}".as_ptr(),
                e,
            )
        });
        failure(LSV_ERR_INVALID_ARGUMENT, |e| unsafe {
            lsv_drop(client, name.as_ptr(), 1, e)
        });
    }

    assert_eq!(requests(), requests_before, "nothing reached the server");
    assert_eq!(list(client), before, "nothing changed");
}

#[test]
fn a_freed_client_is_an_invalid_handle() {
    let session = connect();
    let client = session.client;
    // An extra handle to free; the session's own one stays live.
    let connection_string = c(&session.standin.connection_string("sa", PASSWORD));
    let mut freed = ptr::null_mut();
    outcome(|e| unsafe { lsv_connect(connection_string.as_ptr(), &mut freed, e) })
        .expect("connects");
    unsafe { lsv_client_free(freed) };
    for call in client_calls() {
        let error = failure(LSV_ERR_INVALID_HANDLE, |e| (call.call)(freed, e));
        assert!(
            error.message.contains("not a live handle"),
            "{}: {error:?}",
            call.function
        );
    }
    unsafe { lsv_client_free(freed) }; // a second free is ignored
    assert_eq!(
        list(client),
        serde_json::json!([]),
        "the other client still works"
    );
}

#[test]
fn one_client_serves_several_threads() {
    let session = connect();
    let client = session.client as usize; // raw pointers are not Send; the handle is thread-safe
    std::thread::scope(|scope| {
        for thread in 0..4 {
            scope.spawn(move || {
                let client = client as *mut lsv_client;
                let name = c(&format!("LS_THREAD_{thread}"));
                create_sql_server_link(client, &name).expect("create");
                get(client, name.to_str().unwrap()).expect("get");
                outcome(|e| unsafe { lsv_drop(client, name.as_ptr(), 1, e) }).expect("drop");
            });
        }
    });
    assert_eq!(list(session.client), serde_json::json!([]));
}

#[test]
fn calls_from_async_tasks_and_spawn_blocking_work_instead_of_panicking() {
    let session = connect();
    let client = session.client as usize;
    let list_names = move || {
        let mut json = ptr::null_mut();
        outcome(|e| unsafe { lsv_list(client as *mut lsv_client, &mut json, e) })
            .expect("lsv_list inside a runtime");
        take_json(json)
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let from_task = runtime.block_on(async move { list_names() });
    let from_blocking = runtime
        .block_on(async { tokio::task::spawn_blocking(list_names).await })
        .unwrap();
    assert_eq!(from_task, serde_json::json!([]));
    assert_eq!(from_blocking, serde_json::json!([]));
}

#[test]
fn testing_an_unreachable_link_reports_the_info_and_the_error_in_the_json() {
    let session = connect();
    create_sql_server_link(session.client, c"NOWHERE").expect("create");

    let failure = failure(LSV_ERR_SQL, |e| unsafe {
        lsv_test(session.client, c"NOWHERE".as_ptr(), e)
    });

    assert_eq!(failure.sql_number, 7303);
    assert_eq!(failure.json["sql_number"], 7303);
    assert_eq!(failure.json["severity"], 16);
    let messages = failure.json["server_messages"]
        .as_array()
        .expect("server_messages is an array");
    let summary: Vec<_> = messages
        .iter()
        .map(|m| {
            (
                m["number"].as_i64(),
                m["severity"].as_i64(),
                m["message"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                Some(0),
                Some(0),
                Some(
                    "OLE DB provider \"MSOLEDBSQL\" for linked server \"NOWHERE\" returned \
                     message \"Login timeout expired\"."
                )
            ),
            (
                Some(7303),
                Some(16),
                Some(
                    "Cannot initialize the data source object of OLE DB provider \
                     \"MSOLEDBSQL\" for linked server \"NOWHERE\"."
                )
            ),
        ],
        "{failure:?}"
    );
}

#[test]
fn a_remote_login_refused_by_the_linked_server_is_lsv_err_sql_18456() {
    let peer = tds_standin::spawn(tds_standin::InstanceConfig::new("B")).expect("peer starts");
    let session = connect_to(tds_standin::InstanceConfig::new("A").with_peer("B", peer.addr()));
    create_sql_server_link(session.client, c"B").expect("create");
    let wrong_password = c("Wr0ng!Password");
    outcome(|e| unsafe {
        lsv_map_login(
            session.client,
            c"B".as_ptr(),
            ptr::null(),
            0,
            c"sa".as_ptr(),
            wrong_password.as_ptr(),
            e,
        )
    })
    .expect("map_login");

    let failure = failure(LSV_ERR_SQL, |e| unsafe {
        lsv_test(session.client, c"B".as_ptr(), e)
    });
    assert_eq!(failure.sql_number, 18456, "{failure:?}");
    assert_eq!(failure.json["status"], "sql");
    assert_eq!(failure.json["sql_number"], 18456);
}
