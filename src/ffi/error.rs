//! The error object handed to C through `lsv_error **out_err`, its accessors and its destructor.

use std::ffi::{c_char, CString};

use serde::Serialize;

use super::registry::Handles;
use super::strings::c_string_replacing_nul;
use crate::error::{Error, ServerMessage, Status};

/// A failed call's details. Opaque: read it with the `lsv_error_*` accessors, free it with
/// lsv_error_free().
#[allow(non_camel_case_types)]
pub struct lsv_error {
    code: i32,
    message: CString,
    sql: Option<SqlDetail>,
    json: CString,
}

/// The server error that decided the outcome, flattened for the accessors.
struct SqlDetail {
    number: i32,
    severity: i32,
    state: i32,
    line: i32,
    procedure: CString,
}

/// Tag 2: error ids are never valid client ids (tag 1).
static ERRORS: Handles<lsv_error> = Handles::new(2);

/// The JSON document of lsv_error_json().
#[derive(Serialize)]
struct ErrorDocument<'a> {
    code: i32,
    status: Status,
    message: &'a str,
    sql_number: i32,
    severity: u8,
    state: u8,
    procedure: &'a str,
    line: u32,
    server_messages: &'a [ServerMessage],
    outcome_uncertain: bool,
    undo_failed: bool,
}

impl lsv_error {
    fn new(error: &Error) -> lsv_error {
        let deciding = error.deciding_message();
        let document = ErrorDocument {
            code: error.status as i32,
            status: error.status,
            message: &error.message,
            sql_number: deciding.map_or(0, |m| m.number),
            severity: deciding.map_or(0, |m| m.severity),
            state: deciding.map_or(0, |m| m.state),
            procedure: deciding.map_or("", |m| &m.procedure),
            line: deciding.map_or(0, |m| m.line),
            server_messages: &error.server_messages,
            outcome_uncertain: error.outcome_uncertain,
            undo_failed: error.undo_failed,
        };
        // Serialising plain strings and integers cannot fail; an empty document beats a panic.
        let json = serde_json::to_string(&document).unwrap_or_default();
        lsv_error {
            code: error.status as i32,
            message: c_string_replacing_nul(&error.message),
            sql: deciding.map(|m| SqlDetail {
                number: m.number,
                severity: m.severity.into(),
                state: m.state.into(),
                line: i32::try_from(m.line).unwrap_or(i32::MAX),
                procedure: c_string_replacing_nul(&m.procedure),
            }),
            json: c_string_replacing_nul(&json),
        }
    }
}

/// Hands a new error object for `error` to C.
pub(crate) fn error_into_raw(error: &Error) -> *mut lsv_error {
    ERRORS
        .insert(lsv_error::new(error))
        .unwrap_or(std::ptr::null_mut())
}

/// Reads a live error object, or returns `absent` for NULL, freed and unknown pointers.
fn read_error<R: Copy>(err: *const lsv_error, absent: R, read: impl FnOnce(&lsv_error) -> R) -> R {
    super::boundary::infallible(absent, || ERRORS.with(err, read).unwrap_or(absent))
}

fn read_error_str(
    err: *const lsv_error,
    read: impl FnOnce(&lsv_error) -> *const c_char,
) -> *const c_char {
    read_error(err, c"".as_ptr(), read)
}

fn read_sql_detail(err: *const lsv_error, read: impl FnOnce(&SqlDetail) -> i32) -> i32 {
    read_error(err, 0, |e| e.sql.as_ref().map_or(0, read))
}

/// Frees an error object returned through an `out_err` parameter.
///
/// `err` may be NULL; a pointer that is not a live error object (already freed, or never
/// returned by this library) is ignored. Every string borrowed from `err` becomes invalid.
///
/// # Safety
/// Must not race with an accessor call on the same `err` in another thread.
#[no_mangle]
pub unsafe extern "C" fn lsv_error_free(err: *mut lsv_error) {
    super::boundary::infallible((), || {
        drop(ERRORS.remove(err));
    })
}

/// The status code of the failed call (one of the `LSV_ERR_*` values); 0 for a NULL `err`.
///
/// # Safety
/// `err` is NULL or a pointer received through an `out_err` parameter (unknown pointers are
/// detected and give 0).
#[no_mangle]
pub unsafe extern "C" fn lsv_error_code(err: *const lsv_error) -> i32 {
    read_error(err, 0, |e| e.code)
}

/// A one-line UTF-8 description of the failure, never containing a password. Borrowed: valid
/// until lsv_error_free(err). "" for a NULL `err`.
///
/// # Safety
/// As for lsv_error_code().
#[no_mangle]
pub unsafe extern "C" fn lsv_error_message(err: *const lsv_error) -> *const c_char {
    read_error_str(err, |e| e.message.as_ptr())
}

/// The SQL Server error number (e.g. 15015 "The server 'X' does not exist") of the error that
/// stopped the call; 0 when the failure did not come from the server.
///
/// # Safety
/// As for lsv_error_code().
#[no_mangle]
pub unsafe extern "C" fn lsv_error_sql_number(err: *const lsv_error) -> i32 {
    read_sql_detail(err, |sql| sql.number)
}

/// The severity (class) of that server error, 11..=25; 0 when not a server error.
///
/// # Safety
/// As for lsv_error_code().
#[no_mangle]
pub unsafe extern "C" fn lsv_error_sql_severity(err: *const lsv_error) -> i32 {
    read_sql_detail(err, |sql| sql.severity)
}

/// The state of that server error; 0 when not a server error.
///
/// # Safety
/// As for lsv_error_code().
#[no_mangle]
pub unsafe extern "C" fn lsv_error_sql_state(err: *const lsv_error) -> i32 {
    read_sql_detail(err, |sql| sql.state)
}

/// The line number the server reported for that error; 0 when not a server error.
///
/// # Safety
/// As for lsv_error_code().
#[no_mangle]
pub unsafe extern "C" fn lsv_error_sql_line(err: *const lsv_error) -> i32 {
    read_sql_detail(err, |sql| sql.line)
}

/// The procedure that raised that server error (e.g. "sp_dropserver"); "" when none. Borrowed:
/// valid until lsv_error_free(err).
///
/// # Safety
/// As for lsv_error_code().
#[no_mangle]
pub unsafe extern "C" fn lsv_error_sql_procedure(err: *const lsv_error) -> *const c_char {
    read_error_str(err, |e| {
        e.sql
            .as_ref()
            .map_or(c"".as_ptr(), |sql| sql.procedure.as_ptr())
    })
}

/// Everything known about the failure as one JSON object:
///
/// ```text
/// {"code":2,"status":"not_found","message":"...","sql_number":15015,"severity":16,"state":1,
///  "procedure":"sp_dropserver","line":1,
///  "server_messages":[{"number":15015,"severity":16,"state":1,"procedure":"sp_dropserver",
///                      "line":1,"server":"MGMT","message":"..."}],
///  "outcome_uncertain":false,"undo_failed":false}
/// ```
///
/// `status` is the status code's name in lower case without the `LSV_ERR_` prefix
/// ("invalid_argument", "not_found", ...). `sql_number` .. `line` describe the same error as the
/// lsv_error_sql_* accessors (0 and "" when the failure did not come from the server);
/// `server_messages` lists every ERROR and INFO message the server sent in answer to the
/// failed request, in arrival order. The first error has every field; the driver (tiberius
/// 0.13) passes on only the number and text of later errors and only the text of INFO
/// messages, so there the other fields are 0 or "" (an INFO message has number 0 and
/// severity 0). `outcome_uncertain` (since ABI 1.2) is true when a change the call was making
/// may or may not have happened: a request was abandoned before its answer (timeout, lost
/// connection, lsv_cancel()) and nothing undid it; check with lsv_get() before retrying.
/// `undo_failed` is true when a failed lsv_create() could not undo its partial change, so the
/// linked server may be left behind. New members may be added in later minor versions.
/// Borrowed: valid until lsv_error_free(err). "" for a NULL `err`.
///
/// # Safety
/// As for lsv_error_code().
#[no_mangle]
pub unsafe extern "C" fn lsv_error_json(err: *const lsv_error) -> *const c_char {
    read_error_str(err, |e| e.json.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(number: i32, severity: u8) -> ServerMessage {
        ServerMessage {
            number,
            severity,
            state: 1,
            procedure: "sp_dropserver".into(),
            line: 7,
            server: "MGMT".into(),
            message: format!("message {number}"),
        }
    }

    #[test]
    fn the_first_error_not_an_info_decides_the_sql_fields() {
        let error = Error {
            status: Status::NotFound,
            message: "no such server".into(),
            server_messages: vec![message(5701, 10), message(15015, 16), message(3621, 16)],
            outcome_uncertain: false,
            undo_failed: false,
        };
        let object = lsv_error::new(&error);
        let detail = object.sql.as_ref().expect("an error message is present");
        assert_eq!(
            (detail.number, detail.severity, detail.line),
            (15015, 16, 7)
        );
        let json: serde_json::Value = serde_json::from_str(object.json.to_str().unwrap()).unwrap();
        assert_eq!(json["status"], "not_found");
        assert_eq!(json["sql_number"], 15015);
        assert_eq!(json["server_messages"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn json_status_names_are_the_lower_case_status_names() {
        let names = [
            (Status::Ok, "ok"),
            (Status::InvalidArgument, "invalid_argument"),
            (Status::NotFound, "not_found"),
            (Status::AlreadyExists, "already_exists"),
            (Status::HasLogins, "has_logins"),
            (Status::PermissionDenied, "permission_denied"),
            (Status::Sql, "sql"),
            (Status::Connection, "connection"),
            (Status::Tls, "tls"),
            (Status::Authentication, "authentication"),
            (Status::Timeout, "timeout"),
            (Status::Internal, "internal"),
            (Status::InvalidHandle, "invalid_handle"),
            (Status::Unsupported, "unsupported"),
            (Status::Cancelled, "cancelled"),
        ];
        for (status, name) in names {
            let object = lsv_error::new(&Error::new(status, "x"));
            let json: serde_json::Value =
                serde_json::from_str(object.json.to_str().unwrap()).unwrap();
            assert_eq!(json["status"], name, "{status:?}");
        }
    }

    #[test]
    fn infos_alone_give_no_sql_number() {
        let error = Error {
            status: Status::Sql,
            message: "x".into(),
            server_messages: vec![message(5701, 10)],
            outcome_uncertain: false,
            undo_failed: false,
        };
        let object = lsv_error::new(&error);
        assert!(object.sql.is_none());
        let json: serde_json::Value = serde_json::from_str(object.json.to_str().unwrap()).unwrap();
        assert_eq!(
            (json["sql_number"].as_i64(), json["procedure"].as_str()),
            (Some(0), Some(""))
        );
    }
}
