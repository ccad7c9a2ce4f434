//! Desired state in one call: lsv_ensure(), lsv_export(), lsv_biztalk_sync(), and
//! lsv_probe(), the check the sync runs per server.

use std::ffi::c_char;

use super::args::{optional_str, out_arg, required_str};
use super::boundary::fallible;
use super::client::{client_arg, lsv_client};
use super::error::lsv_error;
use super::servers::json_string;
use super::strings::string_into_raw;
use crate::biztalk::SyncOptions;
use crate::converge::EnsureFlags;
use crate::desired::parse_desired;
use crate::error::Error;

/// lsv_ensure() flag: plan and report only; send nothing that changes state (one request).
pub const LSV_ENSURE_DRY_RUN: u32 = 1;
/// lsv_ensure() flag: also remove the login mappings the desired state does not list. Without a
/// `"local_login": null` entry this drops the mapping for every login, as the BizTalk and SQL
/// Server documentation advise.
pub const LSV_ENSURE_EXACT_LOGINS: u32 = 2;
/// lsv_ensure() flag: when product, provider, data_source, location, provider_string or catalog
/// differ, converge them by dropping and re-creating the server (options and mappings are kept;
/// refused before any change if a stored password would be lost that the desired state does
/// not supply). Without it such a difference fails with LSV_ERR_INVALID_ARGUMENT.
pub const LSV_ENSURE_ALLOW_RECREATE: u32 = 4;
/// lsv_ensure() flag: re-send the password of every listed remote-user mapping. Passwords
/// cannot be read back, so without it a mapping whose remote user already matches is left
/// unchanged.
pub const LSV_ENSURE_SET_PASSWORDS: u32 = 8;

// The header's values are the library's flags; a change to either would stop the build.
const _: () = {
    assert!(LSV_ENSURE_DRY_RUN == EnsureFlags::DRY_RUN);
    assert!(LSV_ENSURE_EXACT_LOGINS == EnsureFlags::EXACT_LOGINS);
    assert!(LSV_ENSURE_ALLOW_RECREATE == EnsureFlags::ALLOW_RECREATE);
    assert!(LSV_ENSURE_SET_PASSWORDS == EnsureFlags::SET_PASSWORDS);
};

fn flags_arg(flags: u32) -> Result<EnsureFlags, Error> {
    EnsureFlags::from_bits(flags).map_err(|e| e.context("flags"))
}

/// Brings one or more linked servers to a desired state in one call: one request reads the
/// catalog, one request writes every change (more only past SQL Server's 2100 parameters per
/// request); an already converged state costs the read only.
///
/// `desired_json` is one object or an array of objects in the shape lsv_get() returns, so its
/// output can be edited and passed back:
///
/// ```text
/// {"name": "BTS01", "product": "SQL Server",
///  "options": {"rpc": true, "rpc out": true, "query timeout": 30},
///  "logins": [{"local_login": "BizTalkJob", "uses_self_credential": true},
///             {"local_login": "app", "uses_self_credential": false,
///              "remote_user": "reader", "remote_password": "..."}]}
/// ```
///
/// `name` is required; `product`, `provider`, `data_source`, `location`, `provider_string`,
/// `catalog` as for lsv_create() (a member left out is left as it is; a SQL Server link as
/// lsv_get() shows it, with provider SQLNCLI and its name as data_source, is accepted);
/// `options` any subset of the sp_serveroption names lsv_set_option() takes (not `name`), and
/// lsv_get()'s option members (`rpc`, `rpc_out`, `query_timeout`, ...) likewise; `server_id`
/// and `modify_date` are ignored; `logins` lists mappings, `local_login` null meaning every
/// login. Options and mappings not listed are left alone (see LSV_ENSURE_EXACT_LOGINS). Unknown
/// members, a member or option given twice, conflicting fields, a server or local login listed
/// twice are LSV_ERR_INVALID_ARGUMENT.
///
/// Every check the read makes possible happens before any change: an unknown local login
/// (LSV_ERR_NOT_FOUND), an immutable field that differs without LSV_ENSURE_ALLOW_RECREATE, a
/// re-create that would lose a stored password. The write is one statement whose TRY/CATCH
/// undoes every completed call and re-raises the error if any call fails, so every server is
/// left as it was or as desired. If the connection breaks during the write, the outcome is
/// unknown (the message says so): call lsv_ensure() again, it converges.
///
/// On success `*out_report_json` receives (release with lsv_string_free()):
///
/// ```text
/// {"dry_run": false, "requests": 2,
///  "servers": [{"name": "BTS01", "action": "created",
///               "changes": [{"option": "query timeout", "from": null, "to": 30,
///                            "text": "option 'query timeout': 30"},
///                           {"mapping": "removed", "local_login": null, "from": {...},
///                            "to": null, "sets_password": false, "text": "..."}, ...],
///               "sql": "DECLARE @rmtpassword_1 nvarchar(128) = NULL; -- FILL IN ..."}]}
/// ```
///
/// `action` is `created`, `updated`, `recreated` or `unchanged`; `changes` lists each option
/// from → to, each mapping `added` / `changed` / `removed`, and for a re-create each field
/// (`{"field", "from", "to"}`), each with `text`, the change as one sentence (e.g. "option
/// 'rpc out': false -> true"); `sql` is the T-SQL that ran (or, for a dry run, would run),
/// readable and re-runnable, values as N'...' literals, every password and provider string a
/// variable marked FILL IN (never the value); "" when unchanged. A dry run reports exactly what
/// the same call without LSV_ENSURE_DRY_RUN would then do.
///
/// `flags`: LSV_ENSURE_* bits; unknown bits are LSV_ERR_INVALID_ARGUMENT.
///
/// Returns `LSV_OK`; `LSV_ERR_INVALID_ARGUMENT`, `LSV_ERR_NOT_FOUND`, `LSV_ERR_ALREADY_EXISTS`,
/// `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`, connection errors, `LSV_ERR_INVALID_HANDLE`.
///
/// # Safety
/// As for lsv_create().
#[no_mangle]
pub unsafe extern "C" fn lsv_ensure(
    client: *mut lsv_client,
    desired_json: *const c_char,
    flags: u32,
    out_report_json: *mut *mut c_char,
    out_err: *mut *mut lsv_error,
) -> i32 {
    fallible(out_err, || {
        let desired = parse_desired(required_str(desired_json, "desired_json")?)
            .map_err(|e| e.context("desired_json"))?;
        let flags = flags_arg(flags)?;
        let out_report_json = out_arg(out_report_json, "out_report_json")?;
        let client = client_arg(client)?;
        *out_report_json = json_string(&client.ensure_servers(&desired, flags)?)?;
        Ok(())
    })
}

/// Writes a T-SQL script that re-creates linked server `name_or_null` (NULL: every linked
/// server) with its options and login mappings. Every statement is guarded by a catalog check,
/// so running the script again changes nothing, and run on another instance it reproduces the
/// servers. Passwords are never written (SQL Server cannot reveal them) and neither are provider
/// strings: each is a variable declared NULL at the top of the script and marked FILL IN.
///
/// On success `*out_sql` receives the script (release with lsv_string_free()).
///
/// Returns `LSV_OK`; `LSV_ERR_NOT_FOUND` (no such server), `LSV_ERR_INVALID_ARGUMENT`,
/// `LSV_ERR_PERMISSION_DENIED`, `LSV_ERR_SQL`, connection errors, `LSV_ERR_INVALID_HANDLE`.
///
/// # Safety
/// As for lsv_create().
#[no_mangle]
pub unsafe extern "C" fn lsv_export(
    client: *mut lsv_client,
    name_or_null: *const c_char,
    out_sql: *mut *mut c_char,
    out_err: *mut *mut lsv_error,
) -> i32 {
    fallible(out_err, || {
        let name = optional_str(name_or_null, "name_or_null")?;
        let out_sql = out_arg(out_sql, "out_sql")?;
        let client = client_arg(client)?;
        *out_sql = string_into_raw(&client.export(name)?);
        Ok(())
    })
}

/// The "Backup BizTalk Server" pre-step. Reads `<database>.dbo.admv_BackupDatabases` (through
/// BizTalk's `sp_GetBackupDatabasesForServer`) and, for every server in it other than this
/// instance, ensures a linked server named exactly as stored (product `SQL Server`) with `rpc`
/// and `rpc out` on and `job_login` mapped to itself, in one write (an existing link keeps its
/// definition, e.g. an alias through MSOLEDBSQL, unless LSV_ENSURE_ALLOW_RECREATE); then verifies each link with
/// sp_testlinkedserver and the job's own first remote call, `sp_GetServerName` in the server's
/// first backed-up database, through the link.
///
/// `options_json_or_null` (NULL: all defaults): `{"database": "BizTalkMgmtDb", "job_login":
/// <the connected login>, "drop_global_mapping": false, "verify": true}`, each member optional,
/// unknown members LSV_ERR_INVALID_ARGUMENT. `flags`: LSV_ENSURE_DRY_RUN plans and reports
/// without changing or verifying anything; the other LSV_ENSURE_* flags act as in lsv_ensure().
///
/// Returns `LSV_OK` with the report whenever it ran to the end, even if some servers failed:
///
/// ```text
/// {"ok": false, "dry_run": false, "requests": 7, "database": "BizTalkMgmtDb",
///  "job_login": "sa", "instance": "MGMT01",
///  "servers": [{"name": "SQL02\\BTS", "databases": ["BizTalkMsgBoxDb"], "action": "created",
///               "changes": [...], "sql": "...", "ok": false, "stage": "login",
///               "number": 18456, "message": "...", "remote_server_name": null}]}
/// ```
///
/// `stage` of a failed server: `configure` (planning or writing its link failed), `network`
/// (sp_testlinkedserver could not reach it), `login` (the remote login was refused or no
/// mapping covers it), `rpc` (the remote procedure call failed); `number` and `message` are the
/// SQL error. `remote_server_name` is the remote `@@SERVERNAME`. Release the report with
/// lsv_string_free(). An error status only when the list or this instance could not be read:
/// `LSV_ERR_SQL` (e.g. no such database), `LSV_ERR_INVALID_ARGUMENT`, connection errors,
/// `LSV_ERR_INVALID_HANDLE`.
///
/// # Safety
/// As for lsv_create().
#[no_mangle]
pub unsafe extern "C" fn lsv_biztalk_sync(
    client: *mut lsv_client,
    options_json_or_null: *const c_char,
    flags: u32,
    out_report_json: *mut *mut c_char,
    out_err: *mut *mut lsv_error,
) -> i32 {
    fallible(out_err, || {
        let options =
            SyncOptions::from_json(optional_str(options_json_or_null, "options_json_or_null")?)
                .map_err(|e| e.context("options_json_or_null"))?;
        let flags = flags_arg(flags)?;
        let out_report_json = out_arg(out_report_json, "out_report_json")?;
        let client = client_arg(client)?;
        *out_report_json = json_string(&client.biztalk_sync(&options, flags)?)?;
        Ok(())
    })
}

/// Checks that linked server `server` works the way the BizTalk backup job uses it:
/// sp_testlinkedserver, then a procedure call through the link (`sp_executesql` in the remote
/// `master`, returning the remote `@@SERVERNAME`). Unlike lsv_test(), a link that fails is not an
/// error: `*out_json` receives (release with lsv_string_free())
///
/// ```text
/// {"ok": false, "stage": "rpc", "number": 7411, "message": "...", "remote_server_name": null}
/// {"ok": true, "stage": null, "number": null, "message": null, "remote_server_name": "BTS01"}
/// ```
///
/// `stage`: `network` (sp_testlinkedserver could not reach it), `login` (the remote login was
/// refused or no mapping covers the caller), `rpc` (the call through the link failed, e.g. 7411
/// when `rpc out` is off). The check runs as the connected login.
///
/// Returns `LSV_OK`; `LSV_ERR_NOT_FOUND` (no such linked server, 7202),
/// `LSV_ERR_INVALID_ARGUMENT`, connection errors, `LSV_ERR_INVALID_HANDLE`.
///
/// # Safety
/// As for lsv_create().
#[no_mangle]
pub unsafe extern "C" fn lsv_probe(
    client: *mut lsv_client,
    server: *const c_char,
    out_json: *mut *mut c_char,
    out_err: *mut *mut lsv_error,
) -> i32 {
    fallible(out_err, || {
        let server = required_str(server, "server")?;
        let out_json = out_arg(out_json, "out_json")?;
        let client = client_arg(client)?;
        *out_json = json_string(&client.probe(server)?)?;
        Ok(())
    })
}
