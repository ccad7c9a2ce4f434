//! Handles that cannot alias: a freed client or error handle never reaches an object created
//! later, even when that object takes the freed one's place (address or slot reuse).

mod ffi_common;

use std::ptr;

use ffi_common::*;
use linkedsrv::ffi::*;

const REUSE_ATTEMPTS: usize = 16;

fn connect(connection_string: &std::ffi::CStr) -> *mut lsv_client {
    let mut client = ptr::null_mut();
    outcome(|e| unsafe { lsv_connect(connection_string.as_ptr(), &mut client, e) })
        .expect("connects");
    client
}

fn list_status(client: *mut lsv_client) -> i32 {
    let mut json = ptr::null_mut();
    let status = unsafe { lsv_list(client, &mut json, ptr::null_mut()) };
    unsafe { lsv_string_free(json) };
    status
}

#[test]
fn a_freed_client_handle_never_reaches_a_later_client() {
    let standin = tds_standin::spawn(tds_standin::InstanceConfig::new("MGMT")).unwrap();
    let connection_string = c(&standin.connection_string("sa", "Str0ng!Passw0rd"));
    let freed = connect(&connection_string);
    assert_eq!(list_status(freed), LSV_OK);
    unsafe { lsv_client_free(freed) };

    // Keep connecting (and keep the clients): with ids the freed slot is reused by the very
    // next client; with addresses the allocator may hand the freed memory out again (errors,
    // allocated with fewer allocations around them, show that at once, see below).
    let mut later = Vec::new();
    let mut reused_at = None;
    for attempt in 0..REUSE_ATTEMPTS {
        let client = connect(&connection_string);
        later.push(client);
        if client == freed {
            reused_at.get_or_insert(attempt);
        }
        assert_eq!(
            list_status(freed),
            LSV_ERR_INVALID_HANDLE,
            "attempt {attempt}: the stale handle reached a live client (same value: {})",
            client == freed
        );
        unsafe { lsv_client_free(freed) }; // freeing twice must not free a new client
        assert_eq!(list_status(client), LSV_OK, "attempt {attempt}");
    }
    eprintln!("the freed handle's value came back at attempt {reused_at:?}");
    for client in later {
        unsafe { lsv_client_free(client) };
    }
}

/// An error object from a call that fails before any I/O.
fn new_error() -> *mut lsv_error {
    let mut err = ptr::null_mut();
    unsafe { lsv_connect(ptr::null(), &mut ptr::null_mut(), &mut err) };
    assert!(!err.is_null());
    err
}

#[test]
fn a_freed_error_handle_never_reaches_a_later_error() {
    let freed = new_error();
    assert_eq!(unsafe { lsv_error_code(freed) }, LSV_ERR_INVALID_ARGUMENT);
    unsafe { lsv_error_free(freed) };
    for attempt in 0..REUSE_ATTEMPTS {
        let error = new_error();
        assert_eq!(
            unsafe { lsv_error_code(freed) },
            0,
            "attempt {attempt}: the stale error reached a live one (same value: {})",
            error == freed
        );
        unsafe { lsv_error_free(freed) };
        assert_eq!(unsafe { lsv_error_code(error) }, LSV_ERR_INVALID_ARGUMENT);
        unsafe { lsv_error_free(error) };
    }
}
