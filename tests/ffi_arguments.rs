//! The C ABI's argument checks, through the exported functions, with no server: NULL and
//! non-UTF-8 arguments, dead handles, out_err handling, accessors on NULL, versions.

mod ffi_common;

use std::ffi::c_char;
use std::ptr;

use ffi_common::*;
use linkedsrv::ffi::*;

#[test]
fn abi_version_packs_the_header_macros() {
    assert_eq!(
        lsv_abi_version(),
        (LSV_ABI_VERSION_MAJOR << 16) | LSV_ABI_VERSION_MINOR
    );
    assert_eq!(lsv_abi_version() >> 16, 1);
    let version = text(lsv_version());
    assert!(
        version.starts_with(&format!("linkedsrv/{}", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    assert_eq!(
        lsv_version(),
        lsv_version(),
        "a static string, not a new allocation per call"
    );
}

#[test]
fn bad_string_arguments_are_rejected_before_the_handle_is_looked_at() {
    // A handle that was never issued: argument errors must still name the argument.
    let never_issued = 0x1000 as *mut lsv_client;
    check_string_parameters(never_issued);
}

#[test]
fn connect_checks_its_arguments_and_leaves_out_client_alone() {
    let sentinel = 0x10 as *mut lsv_client;
    let mut client = sentinel;
    let null = failure(LSV_ERR_INVALID_ARGUMENT, |e| unsafe {
        lsv_connect(ptr::null(), &mut client, e)
    });
    assert!(
        null.message.contains("connection_string must not be NULL"),
        "{null:?}"
    );
    let bad = failure(LSV_ERR_INVALID_ARGUMENT, |e| unsafe {
        lsv_connect(NOT_UTF8.as_ptr(), &mut client, e)
    });
    assert!(
        bad.message.contains("connection_string is not valid UTF-8"),
        "{bad:?}"
    );
    assert_eq!(client, sentinel, "out_client is written only on success");
}

#[test]
fn connection_strings_never_appear_in_utf8_errors() {
    let secret = c"Server=x;Password=Sup3r\xffSecret";
    let error = failure(LSV_ERR_INVALID_ARGUMENT, |e| unsafe {
        lsv_connect(secret.as_ptr(), &mut ptr::null_mut(), e)
    });
    assert!(
        !error.message.contains("Sup3r") && !error.json.to_string().contains("Sup3r"),
        "{error:?}"
    );
}

#[test]
fn null_garbage_and_foreign_handles_give_invalid_handle() {
    // A real allocation that is not a client (e.g. an error object): must not be dereferenced
    // as one.
    let mut foreign_err = ptr::null_mut();
    unsafe { lsv_connect(ptr::null(), &mut ptr::null_mut(), &mut foreign_err) };
    assert!(!foreign_err.is_null());
    let handles: [(&str, *mut lsv_client); 3] = [
        ("NULL", ptr::null_mut()),
        ("garbage", 0xdead_beef_usize as *mut lsv_client),
        ("foreign", foreign_err.cast()),
    ];
    for call in client_calls() {
        for (kind, handle) in handles {
            let error = failure(LSV_ERR_INVALID_HANDLE, |e| (call.call)(handle, e));
            assert!(
                error.message.contains("client"),
                "{} with {kind}: {error:?}",
                call.function
            );
            assert_eq!(error.json["status"], "invalid_handle");
            assert_eq!(
                (call.call)(handle, ptr::null_mut()),
                LSV_ERR_INVALID_HANDLE,
                "out_err NULL is accepted"
            );
        }
    }
    for (kind, handle) in handles {
        assert_eq!(
            unsafe { lsv_cancel(handle) },
            LSV_ERR_INVALID_HANDLE,
            "lsv_cancel with {kind}"
        );
    }
    unsafe { lsv_error_free(foreign_err) };
}

#[test]
fn set_rpc_accepts_only_on_off_unchanged() {
    let handle = 0x1000 as *mut lsv_client;
    for (rpc, rpc_out, bad) in [(2, 1, "rpc"), (1, -2, "rpc_out"), (i32::MIN, 0, "rpc")] {
        let error = failure(LSV_ERR_INVALID_ARGUMENT, |e| unsafe {
            lsv_set_rpc(handle, c"S".as_ptr(), rpc, rpc_out, e)
        });
        assert!(
            error.message.starts_with(&format!("{bad} must be 1")),
            "{error:?}"
        );
    }
    // Valid flags get past the argument checks to the (dead) handle.
    for flags in [(1, 0), (0, -1), (-1, 1)] {
        failure(LSV_ERR_INVALID_HANDLE, |e| unsafe {
            lsv_set_rpc(handle, c"S".as_ptr(), flags.0, flags.1, e)
        });
    }
}

#[test]
fn self_mapping_refuses_remote_credentials() {
    let handle = 0x1000 as *mut lsv_client;
    let server = c"S".as_ptr();
    let (user, password) = (c"remote".as_ptr(), c"Pa55word!".as_ptr());
    for (u, p) in [
        (user, ptr::null()),
        (ptr::null(), password),
        (user, password),
    ] {
        let error = failure(LSV_ERR_INVALID_ARGUMENT, |e| unsafe {
            lsv_map_login(handle, server, ptr::null(), 1, u, p, e)
        });
        assert!(
            error.message.contains("must be NULL when use_self is set"),
            "{error:?}"
        );
        assert!(
            !error.message.contains("Pa55word") && !error.json.to_string().contains("Pa55word")
        );
    }
    // Both NULL with use_self, and credentials without it, pass the argument checks.
    failure(LSV_ERR_INVALID_HANDLE, |e| unsafe {
        lsv_map_login(handle, server, ptr::null(), 7, ptr::null(), ptr::null(), e)
    });
    failure(LSV_ERR_INVALID_HANDLE, |e| unsafe {
        lsv_map_login(handle, server, ptr::null(), 0, user, password, e)
    });
}

#[test]
fn spec_json_errors_carry_serdes_explanation() {
    let handle = 0x1000 as *mut lsv_client;
    let cases: [(&std::ffi::CStr, &str); 5] = [
        (
            c"{\"product\":\"SQL Server\",\"colour\":1}",
            "unknown field `colour`",
        ),
        (
            c"[\"\",\"MSOLEDBSQL\",\"h\",null,null,null,{}]",
            "expected a linked server spec object",
        ),
        (c"{\"product\":", "EOF while parsing"),
        (c"42", "invalid type: integer `42`"),
        (
            c"{\"provider_string\":\"Pwd=Hidden1\",\"options\":\"Pwd=Hidden2\"}",
            "invalid type: a string, expected an object of server options",
        ),
    ];
    for (spec, expected) in cases {
        let error = failure(LSV_ERR_INVALID_ARGUMENT, |e| unsafe {
            lsv_create(handle, c"S".as_ptr(), spec.as_ptr(), e)
        });
        assert!(
            error.message.starts_with("spec_json: ") && error.message.contains(expected),
            "{error:?}"
        );
        assert!(
            !error.message.contains("Hidden"),
            "values are not echoed: {error:?}"
        );
    }
}

#[test]
fn error_accessors_on_null_and_dead_errors_are_neutral() {
    let mut err = ptr::null_mut();
    unsafe { lsv_connect(ptr::null(), &mut ptr::null_mut(), &mut err) };
    let dead = err;
    unsafe { lsv_error_free(err) };
    for err in [ptr::null(), dead.cast_const(), 0x1000 as *const lsv_error] {
        unsafe {
            assert_eq!(lsv_error_code(err), 0);
            assert_eq!(lsv_error_sql_number(err), 0);
            assert_eq!(lsv_error_sql_severity(err), 0);
            assert_eq!(lsv_error_sql_state(err), 0);
            assert_eq!(lsv_error_sql_line(err), 0);
            for s in [
                lsv_error_message(err),
                lsv_error_sql_procedure(err),
                lsv_error_json(err),
            ] {
                assert_eq!(text(s), "");
            }
        }
    }
}

#[test]
fn argument_errors_have_no_sql_details() {
    let error = failure(LSV_ERR_INVALID_ARGUMENT, |e| unsafe {
        lsv_connect(ptr::null(), &mut ptr::null_mut(), e)
    });
    assert_eq!(error.sql_number, 0);
    assert_eq!(error.json["sql_number"], 0);
    assert_eq!(error.json["procedure"], "");
    assert_eq!(error.json["server_messages"], serde_json::json!([]));
}

#[test]
fn frees_accept_null_dead_and_foreign_pointers() {
    let mut err = ptr::null_mut();
    unsafe { lsv_connect(ptr::null(), &mut ptr::null_mut(), &mut err) };
    unsafe {
        lsv_client_free(ptr::null_mut());
        lsv_client_free(0x1000 as *mut lsv_client);
        lsv_client_free(err.cast()); // an error object is not a client: left alone
        lsv_string_free(ptr::null_mut());
        lsv_string_free(0x1000 as *mut c_char);
        lsv_string_free(err.cast()); // nor a string
        lsv_error_free(ptr::null_mut());
        assert_eq!(
            lsv_error_code(err),
            LSV_ERR_INVALID_ARGUMENT,
            "still alive after the foreign frees"
        );
        lsv_error_free(err);
        lsv_error_free(err); // twice: ignored
    }
}
