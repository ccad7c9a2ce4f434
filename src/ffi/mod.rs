//! The stable C ABI (`include/linkedsrv.h`, generated from this module by cbindgen).
//!
//! - `boundary`: the panic barrier and status/error reporting every export goes through;
//! - `args`: checks of the caller's strings, out-parameters and flags;
//! - `registry`: live-object sets that make freed or foreign pointers harmless;
//! - `client`, `servers`, `state` (desired state): the exports, one per [`crate::api::Client`] method;
//! - `error`, `strings`: the objects the library hands out and their accessors/destructors.
//!
//! The doc comments of the exports and constants are the header's documentation; the overview
//! at the top of the header lives in `cbindgen.toml`.

// The header lists the exports in the order of these declarations (cbindgen keeps source order).
mod client;
mod servers;
mod state;
mod strings;
// The error object's accessors come last: they are read after any failing call.
mod error;

// Internals without exports.
mod args;
mod boundary;
mod registry;

use std::ffi::{c_char, CStr};

pub use client::{lsv_cancel, lsv_client, lsv_client_free, lsv_connect, lsv_connection_info};
pub use error::{
    lsv_error, lsv_error_code, lsv_error_free, lsv_error_json, lsv_error_message,
    lsv_error_sql_line, lsv_error_sql_number, lsv_error_sql_procedure, lsv_error_sql_severity,
    lsv_error_sql_state,
};
pub use servers::{
    lsv_create, lsv_drop, lsv_get, lsv_list, lsv_map_login, lsv_set_option, lsv_set_rpc, lsv_test,
    lsv_unmap_login,
};
pub use state::{
    lsv_biztalk_sync, lsv_ensure, lsv_export, lsv_probe, LSV_ENSURE_ALLOW_RECREATE,
    LSV_ENSURE_DRY_RUN, LSV_ENSURE_EXACT_LOGINS, LSV_ENSURE_SET_PASSWORDS,
};
pub use strings::lsv_string_free;

use crate::error::Status;

/// Major version of the ABI described by this header. Changes only when an existing function
/// changes meaning or signature; a library with another major version must not be used.
pub const LSV_ABI_VERSION_MAJOR: u32 = 1;

/// Minor version of the ABI: grows when functions, status codes or JSON members are added.
/// 1: lsv_cancel() and `LSV_ERR_CANCELLED`. 2: lsv_connection_info(), the error JSON's
/// `outcome_uncertain` and `undo_failed`.
/// 3: lsv_ensure(), lsv_export(), lsv_biztalk_sync(), lsv_probe() and the `LSV_ENSURE_*` flags.
pub const LSV_ABI_VERSION_MINOR: u32 = 3;

/// Success.
pub const LSV_OK: i32 = 0;
/// An argument is NULL where not allowed, not UTF-8, malformed JSON, an unknown option, or a
/// value of the wrong shape. Nothing was changed.
pub const LSV_ERR_INVALID_ARGUMENT: i32 = 1;
/// The linked server or login does not exist (SQL errors 15015, 7202, 15007). Always carries
/// the SQL number: lsv_get() of a missing server reports 15015 as the procedures would.
pub const LSV_ERR_NOT_FOUND: i32 = 2;
/// A linked server of that name already exists (SQL error 15028).
pub const LSV_ERR_ALREADY_EXISTS: i32 = 3;
/// The linked server still has login mappings and they were not to be dropped (SQL error 15190).
pub const LSV_ERR_HAS_LOGINS: i32 = 4;
/// The login used by the client lacks the permission (SQL error 15247).
pub const LSV_ERR_PERMISSION_DENIED: i32 = 5;
/// Any other error raised by SQL Server: see lsv_error_sql_number().
pub const LSV_ERR_SQL: i32 = 6;
/// Could not connect, or the connection broke; the next call reconnects. A server error other
/// than a login failure that ends the login (e.g. 4060, a database the login cannot open) is
/// this status too, with the server's number in lsv_error_sql_number().
pub const LSV_ERR_CONNECTION: i32 = 7;
/// TLS negotiation or server certificate validation failed.
pub const LSV_ERR_TLS: i32 = 8;
/// The management instance refused the login of lsv_connect() or of a reconnect: SQL error
/// 18456 (login failed), 18486 (locked out), 18487 (password expired), 18488 (password must be
/// changed) or 18470 (login disabled). A linked server refusing its remote login (e.g. in
/// lsv_test()) is LSV_ERR_SQL.
pub const LSV_ERR_AUTHENTICATION: i32 = 9;
/// The connect or command timeout elapsed; the connection was reset.
pub const LSV_ERR_TIMEOUT: i32 = 10;
/// A bug in the library (including a caught panic); the message describes it.
pub const LSV_ERR_INTERNAL: i32 = 11;
/// The client handle is NULL, already freed, or not from lsv_connect().
pub const LSV_ERR_INVALID_HANDLE: i32 = 12;
/// Not available on this platform or in this build (e.g. Integrated Security off Windows).
pub const LSV_ERR_UNSUPPORTED: i32 = 13;
/// The call was interrupted by lsv_cancel(); the client stays usable (the next call reconnects
/// when the interrupted request had to be abandoned). Since ABI 1.1.
pub const LSV_ERR_CANCELLED: i32 = 14;

// The header's numbers are the library's statuses; a renumbering would stop the build.
const _: () = {
    assert!(LSV_OK == Status::Ok as i32);
    assert!(LSV_ERR_INVALID_ARGUMENT == Status::InvalidArgument as i32);
    assert!(LSV_ERR_NOT_FOUND == Status::NotFound as i32);
    assert!(LSV_ERR_ALREADY_EXISTS == Status::AlreadyExists as i32);
    assert!(LSV_ERR_HAS_LOGINS == Status::HasLogins as i32);
    assert!(LSV_ERR_PERMISSION_DENIED == Status::PermissionDenied as i32);
    assert!(LSV_ERR_SQL == Status::Sql as i32);
    assert!(LSV_ERR_CONNECTION == Status::Connection as i32);
    assert!(LSV_ERR_TLS == Status::Tls as i32);
    assert!(LSV_ERR_AUTHENTICATION == Status::Authentication as i32);
    assert!(LSV_ERR_TIMEOUT == Status::Timeout as i32);
    assert!(LSV_ERR_INTERNAL == Status::Internal as i32);
    assert!(LSV_ERR_INVALID_HANDLE == Status::InvalidHandle as i32);
    assert!(LSV_ERR_UNSUPPORTED == Status::Unsupported as i32);
    assert!(LSV_ERR_CANCELLED == Status::Cancelled as i32);
};

const VERSION: &CStr = match CStr::from_bytes_with_nul(
    concat!(
        "linkedsrv/",
        env!("CARGO_PKG_VERSION"),
        " (tiberius 0.13, native-tls)\0"
    )
    .as_bytes(),
) {
    Ok(version) => version,
    Err(_) => panic!("the version string has exactly one NUL, at its end"),
};

/// The ABI version of the loaded library: `(major << 16) | minor`. A caller compiled against
/// this header should refuse a library whose major version differs from
/// `LSV_ABI_VERSION_MAJOR` or whose minor version is below the `LSV_ABI_VERSION_MINOR` it needs.
#[no_mangle]
pub extern "C" fn lsv_abi_version() -> u32 {
    (LSV_ABI_VERSION_MAJOR << 16) | LSV_ABI_VERSION_MINOR
}

/// A human-readable description of the library build, e.g.
/// "linkedsrv/0.1.0 (tiberius 0.13, native-tls)", for diagnostics. Static: never free it.
#[no_mangle]
pub extern "C" fn lsv_version() -> *const c_char {
    VERSION.as_ptr()
}
