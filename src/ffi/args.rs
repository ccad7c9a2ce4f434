//! Checking the caller's arguments: `const char*` strings, out-parameters and integer flags.
//! Every check happens before any work, and every error names the parameter.

use std::ffi::{c_char, CStr};

use zeroize::Zeroizing;

use crate::error::Error;

/// Borrows a NUL-terminated UTF-8 argument; `None` for NULL.
///
/// # Safety
/// `arg` is NULL or points to a NUL-terminated string that outlives the call.
pub(crate) unsafe fn optional_str<'a>(
    arg: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Error> {
    if arg.is_null() {
        return Ok(None);
    }
    // The error names the byte offset only: the text may be a connection string or password.
    CStr::from_ptr(arg).to_str().map(Some).map_err(|e| {
        Error::invalid_argument(format!(
            "{name} is not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })
}

/// Borrows a NUL-terminated UTF-8 argument that must not be NULL.
///
/// # Safety
/// As for [`optional_str`].
pub(crate) unsafe fn required_str<'a>(arg: *const c_char, name: &str) -> Result<&'a str, Error> {
    optional_str(arg, name)?
        .ok_or_else(|| Error::invalid_argument(format!("{name} must not be NULL")))
}

/// Copies a secret argument (NULL allowed) into memory that is wiped when dropped.
///
/// # Safety
/// As for [`optional_str`].
pub(crate) unsafe fn optional_secret(
    arg: *const c_char,
    name: &str,
) -> Result<Option<Zeroizing<String>>, Error> {
    Ok(optional_str(arg, name)?.map(|secret| Zeroizing::new(secret.to_owned())))
}

/// Checks that an out-parameter can be written, before any work is done.
///
/// # Safety
/// `out` is NULL or valid for a pointer write.
pub(crate) unsafe fn out_arg<'a, T>(out: *mut *mut T, name: &str) -> Result<&'a mut *mut T, Error> {
    out.as_mut()
        .ok_or_else(|| Error::invalid_argument(format!("{name} must not be NULL")))
}

/// An "on / off / leave unchanged" flag: 1, 0 or -1.
pub(crate) fn tri_state(value: i32, name: &str) -> Result<Option<bool>, Error> {
    match value {
        1 => Ok(Some(true)),
        0 => Ok(Some(false)),
        -1 => Ok(None),
        other => Err(Error::invalid_argument(format!(
            "{name} must be 1 (on), 0 (off) or -1 (unchanged), not {other}"
        ))),
    }
}
