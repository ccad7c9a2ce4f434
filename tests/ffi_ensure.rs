//! lsv_ensure, lsv_export and lsv_biztalk_sync through the C ABI against a stand-in.

mod ffi_common;

use std::ffi::c_char;
use std::ptr;

use ffi_common::*;
use linkedsrv::ffi::*;

fn take(s: *mut c_char) -> String {
    let owned = text(s);
    unsafe { lsv_string_free(s) };
    owned
}

fn ensure(
    client: *mut lsv_client,
    desired: &str,
    flags: u32,
) -> Result<serde_json::Value, Failure> {
    let desired = c(desired);
    let mut report = ptr::null_mut();
    outcome(|e| unsafe { lsv_ensure(client, desired.as_ptr(), flags, &mut report, e) })?;
    Ok(serde_json::from_str(&take(report)).unwrap())
}

#[test]
fn flags_are_the_issues_bits() {
    assert_eq!(
        [
            LSV_ENSURE_DRY_RUN,
            LSV_ENSURE_EXACT_LOGINS,
            LSV_ENSURE_ALLOW_RECREATE,
            LSV_ENSURE_SET_PASSWORDS
        ],
        [1, 2, 4, 8]
    );
    assert_eq!(lsv_abi_version(), (1 << 16) | LSV_ABI_VERSION_MINOR);
}

#[test]
fn ensure_reports_json_and_converges() {
    let connected = connect();
    let desired = r#"{"name":"BTS01","options":{"rpc out":true,"query timeout":30},
        "logins":[{"local_login":"sa","uses_self_credential":false,"remote_user":"r",
                   "remote_password":"Hidden!1"}]}"#;
    let dry = ensure(
        connected.client,
        desired,
        LSV_ENSURE_DRY_RUN | LSV_ENSURE_EXACT_LOGINS,
    )
    .unwrap();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["requests"], 1);
    let report = ensure(connected.client, desired, LSV_ENSURE_EXACT_LOGINS).unwrap();
    assert_eq!(report["requests"], 2);
    assert_eq!(report["servers"][0]["action"], "created");
    assert_eq!(report["servers"], dry["servers"]);
    assert!(!report.to_string().contains("Hidden!1"));
    let again = ensure(connected.client, desired, LSV_ENSURE_EXACT_LOGINS).unwrap();
    assert_eq!(again["servers"][0]["action"], "unchanged");
    assert_eq!(again["requests"], 1);

    let bad_flags = ensure(connected.client, desired, 16).unwrap_err();
    assert_eq!(bad_flags.code, LSV_ERR_INVALID_ARGUMENT);
    assert!(bad_flags.message.contains("flags"), "{bad_flags:?}");
    let unknown = ensure(connected.client, r#"{"name":"X","pasword":"x"}"#, 0).unwrap_err();
    assert!(unknown.message.starts_with("desired_json: "), "{unknown:?}");
    let ghost = ensure(
        connected.client,
        r#"{"name":"X","logins":[{"local_login":"ghost","uses_self_credential":true}]}"#,
        0,
    )
    .unwrap_err();
    assert_eq!(ghost.code, LSV_ERR_NOT_FOUND);
}

#[test]
fn export_and_biztalk_sync_through_the_abi() {
    let connected = connect();
    ensure(connected.client, r#"{"name":"BTS01"}"#, 0).unwrap();
    let mut script = ptr::null_mut();
    outcome(|e| unsafe { lsv_export(connected.client, ptr::null(), &mut script, e) }).unwrap();
    let script = take(script);
    assert!(script.contains("@server = N'BTS01'"), "{script}");

    let missing = c("NOPE");
    let mut out = ptr::null_mut();
    let not_found = failure(LSV_ERR_NOT_FOUND, |e| unsafe {
        lsv_export(connected.client, missing.as_ptr(), &mut out, e)
    });
    assert!(not_found.message.contains("NOPE"));
    assert!(out.is_null(), "left untouched on failure");

    // BTS01 has no peer behind it: the probe reports the stage instead of failing.
    let server = c("BTS01");
    let mut probe = ptr::null_mut();
    outcome(|e| unsafe { lsv_probe(connected.client, server.as_ptr(), &mut probe, e) }).unwrap();
    let probe: serde_json::Value = serde_json::from_str(&take(probe)).unwrap();
    assert_eq!(probe["ok"], false);
    assert_eq!(probe["stage"], "network", "{probe}");
    let mut probe = ptr::null_mut();
    failure(LSV_ERR_NOT_FOUND, |e| unsafe {
        lsv_probe(connected.client, missing.as_ptr(), &mut probe, e)
    });

    // No BizTalkMgmtDb on this instance: the list cannot be read, which is an error.
    let mut report = ptr::null_mut();
    let no_list = failure(LSV_ERR_SQL, |e| unsafe {
        lsv_biztalk_sync(connected.client, ptr::null(), 0, &mut report, e)
    });
    assert!(no_list.message.contains("BizTalkMgmtDb"), "{no_list:?}");
    let options = c(r#"{"verify":"yes"}"#);
    let bad = failure(LSV_ERR_INVALID_ARGUMENT, |e| unsafe {
        lsv_biztalk_sync(connected.client, options.as_ptr(), 0, &mut report, e)
    });
    assert!(bad.message.starts_with("options_json_or_null: "), "{bad:?}");
}
