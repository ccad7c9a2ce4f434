//! Helpers shared by the `ffi_*` integration tests: calling exports as Rust functions and
//! reading their error objects.

#![allow(dead_code)] // each test crate uses its own subset

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use linkedsrv::ffi::*;

/// What a failed call reported through its error object.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
    pub sql_number: i32,
    pub json: serde_json::Value,
}

/// Borrowed C string → owned Rust string (for accessor results).
pub fn text(s: *const c_char) -> String {
    assert!(!s.is_null(), "accessors never return NULL");
    unsafe { CStr::from_ptr(s) }
        .to_str()
        .expect("the library returns UTF-8")
        .to_owned()
}

pub fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// Runs `call` with an `out_err` slot; checks the contract between status and error object:
/// `Ok` ⇔ status 0 ⇔ `*out_err == NULL`, and the object's code equals the status.
pub fn outcome(call: impl FnOnce(*mut *mut lsv_error) -> i32) -> Result<(), Failure> {
    // A non-NULL sentinel shows the slot is written on success too.
    let mut err: *mut lsv_error = ptr::NonNull::dangling().as_ptr();
    let status = call(&mut err);
    if status == LSV_OK {
        assert!(err.is_null(), "out_err must be set to NULL on success");
        return Ok(());
    }
    assert!(
        !err.is_null(),
        "a failure (status {status}) must fill out_err"
    );
    let failure = unsafe {
        Failure {
            code: lsv_error_code(err),
            message: text(lsv_error_message(err)),
            sql_number: lsv_error_sql_number(err),
            json: serde_json::from_str(&text(lsv_error_json(err))).expect("lsv_error_json is JSON"),
        }
    };
    unsafe { lsv_error_free(err) };
    assert_eq!(
        failure.code, status,
        "lsv_error_code equals the returned status"
    );
    assert_eq!(
        failure.json["code"], status,
        "the JSON's code equals the returned status"
    );
    assert_eq!(failure.json["message"], failure.message.as_str());
    Err(failure)
}

/// Like [`outcome`] but expects a failure with `code`.
pub fn failure(code: i32, call: impl FnOnce(*mut *mut lsv_error) -> i32) -> Failure {
    match outcome(call) {
        Ok(()) => panic!("expected status {code}, got LSV_OK"),
        Err(failure) => {
            assert_eq!(failure.code, code, "unexpected failure: {failure:?}");
            failure
        }
    }
}

/// A string parameter of an export, called with every other argument valid.
pub struct StringParameter {
    pub function: &'static str,
    pub parameter: &'static str,
    pub nullable: bool,
    pub call: fn(*mut lsv_client, *const c_char, *mut *mut lsv_error) -> i32,
}

const NAME: *const c_char = c"LSV_TEST".as_ptr();
const SPEC: *const c_char = c"{}".as_ptr();
const OPTION: *const c_char = c"data access".as_ptr();
const VALUE: *const c_char = c"true".as_ptr();
const DESIRED: *const c_char = c"{\"name\": \"LSV_TEST\"}".as_ptr();

/// Calls an export with a fresh `out_json` slot and frees what it returned, if anything.
fn with_json_out(call: impl FnOnce(*mut *mut c_char) -> i32) -> i32 {
    let mut json = ptr::null_mut();
    let status = call(&mut json);
    unsafe { lsv_string_free(json) };
    status
}

/// Every `const char*` parameter of every export (`lsv_connect`'s string is covered apart,
/// because it has no client).
pub fn string_parameters() -> Vec<StringParameter> {
    macro_rules! parameter {
        ($function:literal, $parameter:literal, $nullable:expr, |$client:ident, $arg:ident, $err:ident| $call:expr) => {
            StringParameter {
                function: $function,
                parameter: $parameter,
                nullable: $nullable,
                call: |$client, $arg, $err| unsafe { $call },
            }
        };
    }
    vec![
        parameter!("lsv_create", "name", false, |cl, a, e| lsv_create(
            cl, a, SPEC, e
        )),
        parameter!("lsv_create", "spec_json", false, |cl, a, e| lsv_create(
            cl, NAME, a, e
        )),
        parameter!("lsv_drop", "name", false, |cl, a, e| lsv_drop(cl, a, 1, e)),
        parameter!("lsv_map_login", "server", false, |cl, a, e| lsv_map_login(
            cl, a, NULL, 1, NULL, NULL, e
        )),
        parameter!("lsv_map_login", "local_login", true, |cl, a, e| {
            lsv_map_login(cl, NAME, a, 1, NULL, NULL, e)
        }),
        parameter!("lsv_map_login", "remote_user", true, |cl, a, e| {
            lsv_map_login(cl, NAME, NULL, 0, a, NULL, e)
        }),
        parameter!("lsv_map_login", "remote_password", true, |cl, a, e| {
            lsv_map_login(cl, NAME, NULL, 0, NULL, a, e)
        }),
        parameter!("lsv_unmap_login", "server", false, |cl, a, e| {
            lsv_unmap_login(cl, a, NULL, e)
        }),
        parameter!("lsv_unmap_login", "local_login", true, |cl, a, e| {
            lsv_unmap_login(cl, NAME, a, e)
        }),
        parameter!("lsv_set_rpc", "server", false, |cl, a, e| lsv_set_rpc(
            cl, a, 1, 1, e
        )),
        parameter!(
            "lsv_set_option",
            "server",
            false,
            |cl, a, e| lsv_set_option(cl, a, OPTION, VALUE, e)
        ),
        parameter!(
            "lsv_set_option",
            "option",
            false,
            |cl, a, e| lsv_set_option(cl, NAME, a, VALUE, e)
        ),
        parameter!("lsv_set_option", "value", true, |cl, a, e| lsv_set_option(
            cl, NAME, OPTION, a, e
        )),
        parameter!("lsv_get", "server", false, |cl, a, e| with_json_out(
            |out| lsv_get(cl, a, out, e)
        )),
        parameter!("lsv_test", "server", false, |cl, a, e| lsv_test(cl, a, e)),
        parameter!("lsv_ensure", "desired_json", false, |cl, a, e| {
            with_json_out(|out| lsv_ensure(cl, a, 0, out, e))
        }),
        parameter!("lsv_probe", "server", false, |cl, a, e| with_json_out(
            |out| lsv_probe(cl, a, out, e)
        )),
        parameter!("lsv_export", "name_or_null", true, |cl, a, e| {
            with_json_out(|out| lsv_export(cl, a, out, e))
        }),
        parameter!(
            "lsv_biztalk_sync",
            "options_json_or_null",
            true,
            |cl, a, e| with_json_out(|out| lsv_biztalk_sync(cl, a, LSV_ENSURE_DRY_RUN, out, e))
        ),
    ]
}

const NULL: *const c_char = ptr::null();

macro_rules! call {
    ($function:literal, |$client:ident, $err:ident| $call:expr) => {
        ClientCall {
            function: $function,
            call: |$client, $err| unsafe { $call },
        }
    };
}

/// An export taking a client handle, called with every other argument valid.
pub struct ClientCall {
    pub function: &'static str,
    pub call: fn(*mut lsv_client, *mut *mut lsv_error) -> i32,
}

/// Every export that takes a client handle.
pub fn client_calls() -> Vec<ClientCall> {
    vec![
        call!("lsv_create", |cl, e| lsv_create(cl, NAME, SPEC, e)),
        call!("lsv_drop", |cl, e| lsv_drop(cl, NAME, 1, e)),
        call!("lsv_map_login", |cl, e| lsv_map_login(
            cl, NAME, NULL, 1, NULL, NULL, e
        )),
        call!("lsv_unmap_login", |cl, e| lsv_unmap_login(
            cl, NAME, NULL, e
        )),
        call!("lsv_set_rpc", |cl, e| lsv_set_rpc(cl, NAME, 1, -1, e)),
        call!("lsv_set_option", |cl, e| lsv_set_option(
            cl, NAME, OPTION, VALUE, e
        )),
        call!("lsv_get", |cl, e| with_json_out(|out| lsv_get(
            cl, NAME, out, e
        ))),
        call!("lsv_list", |cl, e| with_json_out(|out| lsv_list(
            cl, out, e
        ))),
        call!("lsv_test", |cl, e| lsv_test(cl, NAME, e)),
        call!("lsv_connection_info", |cl, e| with_json_out(|out| {
            lsv_connection_info(cl, out, e)
        })),
        call!("lsv_ensure", |cl, e| with_json_out(|out| lsv_ensure(
            cl, DESIRED, 0, out, e
        ))),
        call!("lsv_probe", |cl, e| with_json_out(|out| lsv_probe(
            cl, NAME, out, e
        ))),
        call!("lsv_export", |cl, e| with_json_out(|out| lsv_export(
            cl, NAME, out, e
        ))),
        call!("lsv_biztalk_sync", |cl, e| with_json_out(|out| {
            lsv_biztalk_sync(cl, NULL, LSV_ENSURE_DRY_RUN, out, e)
        })),
    ]
}

/// The out-parameters (other than `out_err`) of every export, each passed as NULL.
pub fn null_out_parameters() -> Vec<(&'static str, ClientCall)> {
    const CONNECTION: *const c_char = c"Server=127.0.0.1,1;User ID=sa;Password=x".as_ptr();
    vec![
        (
            "out_client",
            call!("lsv_connect", |_cl, e| lsv_connect(
                CONNECTION,
                ptr::null_mut(),
                e
            )),
        ),
        (
            "out_json",
            call!("lsv_get", |cl, e| lsv_get(cl, NAME, ptr::null_mut(), e)),
        ),
        (
            "out_json",
            call!("lsv_list", |cl, e| lsv_list(cl, ptr::null_mut(), e)),
        ),
        (
            "out_json",
            call!("lsv_connection_info", |cl, e| lsv_connection_info(
                cl,
                ptr::null_mut(),
                e
            )),
        ),
        (
            "out_report_json",
            call!("lsv_ensure", |cl, e| lsv_ensure(
                cl,
                DESIRED,
                0,
                ptr::null_mut(),
                e
            )),
        ),
        (
            "out_json",
            call!("lsv_probe", |cl, e| lsv_probe(cl, NAME, ptr::null_mut(), e)),
        ),
        (
            "out_sql",
            call!("lsv_export", |cl, e| lsv_export(
                cl,
                NAME,
                ptr::null_mut(),
                e
            )),
        ),
        (
            "out_report_json",
            call!("lsv_biztalk_sync", |cl, e| lsv_biztalk_sync(
                cl,
                NULL,
                0,
                ptr::null_mut(),
                e
            )),
        ),
    ]
}

/// Bytes that are not UTF-8 (a lone continuation byte after ASCII).
pub const NOT_UTF8: &CStr = c"ab\x80cd";

/// Checks every string parameter: NULL (where not allowed) and invalid UTF-8 are rejected with
/// `LSV_ERR_INVALID_ARGUMENT` and a message naming the parameter, whatever `client` is.
pub fn check_string_parameters(client: *mut lsv_client) {
    for p in string_parameters() {
        let what = format!("{}({})", p.function, p.parameter);
        let bad = failure(LSV_ERR_INVALID_ARGUMENT, |e| {
            (p.call)(client, NOT_UTF8.as_ptr(), e)
        });
        assert!(
            bad.message.contains(p.parameter) && bad.message.contains("UTF-8"),
            "{what}: {bad:?}"
        );
        assert_eq!(bad.json["status"], "invalid_argument", "{what}");
        if !p.nullable {
            let null = failure(LSV_ERR_INVALID_ARGUMENT, |e| {
                (p.call)(client, ptr::null(), e)
            });
            assert!(
                null.message
                    .contains(&format!("{} must not be NULL", p.parameter)),
                "{what}: {null:?}"
            );
        }
        // out_err may be NULL: the status alone still reports the failure.
        assert_eq!(
            (p.call)(client, NOT_UTF8.as_ptr(), ptr::null_mut()),
            LSV_ERR_INVALID_ARGUMENT,
            "{what}"
        );
    }
    for (parameter, out) in null_out_parameters() {
        let null = failure(LSV_ERR_INVALID_ARGUMENT, |e| (out.call)(client, e));
        assert!(
            null.message
                .contains(&format!("{parameter} must not be NULL")),
            "{parameter}: {null:?}"
        );
    }
}

/// The stand-in's sysadmin password.
pub const PASSWORD: &str = "Str0ng!Passw0rd";

/// A client connected through the ABI to a stand-in that lives as long as it does.
pub struct Connected {
    // Kept for the life of the client: dropping it stops the server.
    pub standin: tds_standin::StandIn,
    pub client: *mut lsv_client,
}

impl Drop for Connected {
    fn drop(&mut self) {
        unsafe { lsv_client_free(self.client) };
    }
}

/// `connect_to` a plain management instance.
pub fn connect() -> Connected {
    connect_to(tds_standin::InstanceConfig::new("MGMT"))
}

/// Starts a stand-in and connects to it as `sa` with lsv_connect().
pub fn connect_to(config: tds_standin::InstanceConfig) -> Connected {
    let standin = tds_standin::spawn(config).expect("stand-in starts");
    let connection_string = c(&standin.connection_string("sa", PASSWORD));
    let mut client = ptr::null_mut();
    outcome(|e| unsafe { lsv_connect(connection_string.as_ptr(), &mut client, e) })
        .expect("connects");
    assert!(!client.is_null());
    Connected { standin, client }
}
