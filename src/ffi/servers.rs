//! The linked-server operations: one export per [`crate::api::Client`] method.

use std::ffi::c_char;

use serde::Serialize;

use super::args::{optional_secret, optional_str, out_arg, required_str, tri_state};
use super::boundary::fallible;
use super::client::{client_arg, lsv_client};
use super::error::lsv_error;
use super::strings::string_into_raw;
use crate::error::{Error, Status};
use crate::spec::{LinkedServerSpec, RemoteCredentials};

/// Parses the spec of lsv_create(); the message names the parameter.
fn spec_arg(spec_json: &str) -> Result<LinkedServerSpec, Error> {
    LinkedServerSpec::from_json(spec_json).map_err(|e| e.context("spec_json"))
}

pub(super) fn json_string(value: &impl Serialize) -> Result<*mut c_char, Error> {
    let json = serde_json::to_string(value).map_err(|e| {
        Error::new(
            Status::Internal,
            format!("could not serialise the result: {e}"),
        )
    })?;
    Ok(string_into_raw(&json))
}

/// Creates linked server `name` as described by `spec_json`, all or nothing: when any step
/// fails (including an option of the spec) nothing is left behind. The exception: when
/// sp_addlinkedserver itself times out or loses the connection (`LSV_ERR_TIMEOUT`,
/// `LSV_ERR_CONNECTION`) it may have completed; the message says so: check with lsv_get()
/// before retrying.
///
/// `spec_json` is a JSON object with the optional members `product`, `provider`, `data_source`,
/// `location`, `provider_string`, `catalog` (strings or null) and `options` (an object mapping
/// sp_serveroption names to booleans, non-negative integers, strings or null). Unknown members
/// and a member or option name given twice are rejected. The options are set after
/// sp_addlinkedserver in the alphabetical order of their names (`collation compatible` …
/// `use remote collation`), whatever their order in the JSON. Examples:
///
/// ```text
/// {"product":"SQL Server"}                    (another SQL Server, reached by its name)
/// {"product":"","provider":"MSOLEDBSQL","data_source":"host\\inst",
///  "options":{"rpc out":true,"query timeout":30}}
/// ```
///
/// Returns `LSV_OK`; `LSV_ERR_INVALID_ARGUMENT` (NULL, bad JSON, unknown member or option),
/// `LSV_ERR_ALREADY_EXISTS` (SQL error 15028), `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`,
/// connection errors, `LSV_ERR_INVALID_HANDLE`.
///
/// # Safety
/// Pointer arguments are NULL or valid for the documented use. Thread-safe; calls on one client
/// run one at a time.
#[no_mangle]
pub unsafe extern "C" fn lsv_create(
    client: *mut lsv_client,
    name: *const c_char,
    spec_json: *const c_char,
    out_err: *mut *mut lsv_error,
) -> i32 {
    fallible(out_err, || {
        let name = required_str(name, "name")?;
        let spec = spec_arg(required_str(spec_json, "spec_json")?)?;
        let client = client_arg(client)?;
        client.create(name, &spec)
    })
}

/// Drops linked server `name`.
///
/// `drop_logins`: nonzero also removes its login mappings; 0 makes the call fail with
/// `LSV_ERR_HAS_LOGINS` (SQL error 15190) while mappings other than the default one exist.
///
/// Returns `LSV_OK`; `LSV_ERR_NOT_FOUND` (SQL error 15015), `LSV_ERR_HAS_LOGINS`,
/// `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`, `LSV_ERR_INVALID_ARGUMENT`, connection errors,
/// `LSV_ERR_INVALID_HANDLE`.
///
/// # Safety
/// As for lsv_create().
#[no_mangle]
pub unsafe extern "C" fn lsv_drop(
    client: *mut lsv_client,
    name: *const c_char,
    drop_logins: i32,
    out_err: *mut *mut lsv_error,
) -> i32 {
    fallible(out_err, || {
        let name = required_str(name, "name")?;
        let client = client_arg(client)?;
        client.drop_server(name, drop_logins != 0)
    })
}

/// Creates or replaces how `local_login` reaches linked server `server` (sp_addlinkedsrvlogin).
///
/// `local_login`: a login of the managing instance, or NULL for the mapping used by every login
/// without a mapping of its own.
/// `use_self`: nonzero maps the login to its own credentials (`remote_user` and
/// `remote_password` must then be NULL: a self mapping has no remote login, and silently
/// dropping a password the caller meant to set would hide a mistake). 0 maps it to
/// `remote_user`/`remote_password` (both NULL: connect without a security context).
/// `remote_password` is copied at once; the copy is wiped from memory after the call and never
/// appears in messages, JSON or logs. The caller may wipe its own buffer when the call returns.
///
/// Returns `LSV_OK`; `LSV_ERR_NOT_FOUND` (no such server or local login),
/// `LSV_ERR_INVALID_ARGUMENT`, `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`, connection errors,
/// `LSV_ERR_INVALID_HANDLE`.
///
/// # Safety
/// As for lsv_create().
#[no_mangle]
pub unsafe extern "C" fn lsv_map_login(
    client: *mut lsv_client,
    server: *const c_char,
    local_login: *const c_char,
    use_self: i32,
    remote_user: *const c_char,
    remote_password: *const c_char,
    out_err: *mut *mut lsv_error,
) -> i32 {
    fallible(out_err, || {
        let password = optional_secret(remote_password, "remote_password")?;
        let server = required_str(server, "server")?;
        let local_login = optional_str(local_login, "local_login")?;
        let user = optional_str(remote_user, "remote_user")?;
        let credentials = if use_self == 0 {
            RemoteCredentials::Remote {
                user: user.map(str::to_owned),
                password,
            }
        } else if user.is_some() || password.is_some() {
            return Err(Error::invalid_argument(
                "remote_user and remote_password must be NULL when use_self is set: \
                 a self mapping uses each login's own credentials",
            ));
        } else {
            RemoteCredentials::SelfMapping
        };
        let client = client_arg(client)?;
        client.map_login(server, local_login, credentials)
    })
}

/// Removes the mapping of `local_login` (NULL: the mapping for every login) from linked server
/// `server` (sp_droplinkedsrvlogin).
///
/// Returns `LSV_OK`; `LSV_ERR_NOT_FOUND`, `LSV_ERR_INVALID_ARGUMENT`,
/// `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`, connection errors, `LSV_ERR_INVALID_HANDLE`.
///
/// # Safety
/// As for lsv_create().
#[no_mangle]
pub unsafe extern "C" fn lsv_unmap_login(
    client: *mut lsv_client,
    server: *const c_char,
    local_login: *const c_char,
    out_err: *mut *mut lsv_error,
) -> i32 {
    fallible(out_err, || {
        let server = required_str(server, "server")?;
        let local_login = optional_str(local_login, "local_login")?;
        let client = client_arg(client)?;
        client.unmap_login(server, local_login)
    })
}

/// Switches the `rpc` and `rpc out` options of linked server `server`. Each of `rpc` and
/// `rpc_out` is 1 (on), 0 (off) or -1 (leave unchanged); any other value is
/// `LSV_ERR_INVALID_ARGUMENT`. `rpc out` must be on to run procedures on the linked server.
///
/// Returns `LSV_OK`; `LSV_ERR_NOT_FOUND`, `LSV_ERR_INVALID_ARGUMENT`,
/// `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`, connection errors, `LSV_ERR_INVALID_HANDLE`.
///
/// # Safety
/// As for lsv_create().
#[no_mangle]
pub unsafe extern "C" fn lsv_set_rpc(
    client: *mut lsv_client,
    server: *const c_char,
    rpc: i32,
    rpc_out: i32,
    out_err: *mut *mut lsv_error,
) -> i32 {
    fallible(out_err, || {
        let server = required_str(server, "server")?;
        let rpc = tri_state(rpc, "rpc")?;
        let rpc_out = tri_state(rpc_out, "rpc_out")?;
        let client = client_arg(client)?;
        client.set_rpc(server, rpc, rpc_out)
    })
}

/// Sets one sp_serveroption `option` (e.g. "data access", "query timeout", "collation name")
/// of linked server `server` to `value` ("true"/"false" for switches, digits for timeouts, a
/// name, or NULL to clear a name). Unknown options and values of the wrong shape are rejected
/// before anything is sent.
///
/// Returns `LSV_OK`; `LSV_ERR_INVALID_ARGUMENT`, `LSV_ERR_NOT_FOUND`,
/// `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`, connection errors, `LSV_ERR_INVALID_HANDLE`.
///
/// # Safety
/// As for lsv_create().
#[no_mangle]
pub unsafe extern "C" fn lsv_set_option(
    client: *mut lsv_client,
    server: *const c_char,
    option: *const c_char,
    value: *const c_char,
    out_err: *mut *mut lsv_error,
) -> i32 {
    fallible(out_err, || {
        let server = required_str(server, "server")?;
        let option = required_str(option, "option")?;
        let value = optional_str(value, "value")?;
        let client = client_arg(client)?;
        client.set_option(server, option, value)
    })
}

/// Describes linked server `server` as a JSON object: its `sys.servers` row and its login
/// mappings (never a password):
///
/// ```text
/// {"server_id":1,"name":"BTS","product":"SQL Server","provider":"SQLNCLI","data_source":"BTS",
///  "location":null,"provider_string":null,"catalog":null,"connect_timeout":0,
///  "query_timeout":0,"rpc":true,"rpc_out":true,"data_access":true,
///  "collation_compatible":false,"use_remote_collation":true,"collation_name":null,
///  "lazy_schema_validation":false,"is_system":false,"is_publisher":false,
///  "is_subscriber":false,"is_distributor":false,"is_nonsql_subscriber":false,
///  "remote_proc_transaction_promotion":true,"modify_date":"2026-11-26T12:00:00.000",
///  "logins":[{"local_login":null,"uses_self_credential":true,"remote_user":null}]}
/// ```
///
/// `local_login` null is the mapping for every login. New members may be added in later minor
/// versions. On success `*out_json` receives a string owned by the caller, to be released with
/// lsv_string_free(); on failure it is left untouched.
///
/// Returns `LSV_OK`; `LSV_ERR_NOT_FOUND`, `LSV_ERR_INVALID_ARGUMENT`,
/// `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`, connection errors, `LSV_ERR_INVALID_HANDLE`.
///
/// # Safety
/// As for lsv_create().
#[no_mangle]
pub unsafe extern "C" fn lsv_get(
    client: *mut lsv_client,
    server: *const c_char,
    out_json: *mut *mut c_char,
    out_err: *mut *mut lsv_error,
) -> i32 {
    fallible(out_err, || {
        let server = required_str(server, "server")?;
        let out_json = out_arg(out_json, "out_json")?;
        let client = client_arg(client)?;
        *out_json = json_string(&client.get(server)?)?;
        Ok(())
    })
}

/// Describes every linked server (not the local server's own row), ordered by name, as a JSON
/// array of the objects lsv_get() returns. Ownership of `*out_json` as for lsv_get().
///
/// Returns `LSV_OK`; `LSV_ERR_INVALID_ARGUMENT`, `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`,
/// connection errors, `LSV_ERR_INVALID_HANDLE`.
///
/// # Safety
/// As for lsv_create().
#[no_mangle]
pub unsafe extern "C" fn lsv_list(
    client: *mut lsv_client,
    out_json: *mut *mut c_char,
    out_err: *mut *mut lsv_error,
) -> i32 {
    fallible(out_err, || {
        let out_json = out_arg(out_json, "out_json")?;
        let client = client_arg(client)?;
        *out_json = json_string(&client.list()?)?;
        Ok(())
    })
}

/// Checks that the managing instance can reach linked server `server` (sp_testlinkedserver).
/// A failure carries the server's explanation in lsv_error_message() and lsv_error_json().
///
/// Returns `LSV_OK`; `LSV_ERR_NOT_FOUND`, `LSV_ERR_SQL` (the linked server is unreachable or
/// refused the login), `LSV_ERR_INVALID_ARGUMENT`, `LSV_ERR_PERMISSION_DENIED`, connection
/// errors, `LSV_ERR_INVALID_HANDLE`.
///
/// # Safety
/// As for lsv_create().
#[no_mangle]
pub unsafe extern "C" fn lsv_test(
    client: *mut lsv_client,
    server: *const c_char,
    out_err: *mut *mut lsv_error,
) -> i32 {
    fallible(out_err, || {
        let server = required_str(server, "server")?;
        let client = client_arg(client)?;
        client.test(server)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_errors_name_the_parameter_and_keep_field_names() {
        let unknown = spec_arg(r#"{"product":"SQL Server","pasword":"x"}"#).unwrap_err();
        assert_eq!(unknown.status, Status::InvalidArgument);
        assert!(
            unknown.message.starts_with("spec_json: ")
                && unknown.message.contains("unknown field `pasword`"),
            "{}",
            unknown.message
        );
    }
}
