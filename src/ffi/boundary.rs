//! The one place where exports meet Rust: panics are caught here and outcomes become a status
//! code plus an optional error object. Every export runs its body through [`fallible`] or
//! [`infallible`].

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use super::error::{error_into_raw, lsv_error};
use crate::error::{Error, Status};

/// The text of a panic payload (`panic!` with a literal or a formatted message).
fn panic_text(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}

fn panic_error(payload: &(dyn Any + Send)) -> Error {
    Error::new(
        Status::Internal,
        format!(
            "internal error in linkedsrv (a bug, please report it): {}",
            panic_text(payload)
        ),
    )
}

/// Runs the body of a function returning a status code: `LSV_OK` and `*out_err = NULL` on
/// success, the error's status and a new error object in `*out_err` on failure or panic.
/// The body must write its out-parameters only once nothing can fail any more.
///
/// # Safety
/// `out_err` is NULL or valid for a pointer write.
pub(crate) unsafe fn fallible(
    out_err: *mut *mut lsv_error,
    body: impl FnOnce() -> Result<(), Error>,
) -> i32 {
    let outcome =
        catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| Err(panic_error(&*payload)));
    let status = outcome
        .as_ref()
        .map_or_else(|error| error.status, |()| Status::Ok);
    if !out_err.is_null() {
        // Building the object cannot panic (short of allocation failure, which aborts anyway);
        // with every error id taken (a 32-bit host leaking errors) it is NULL.
        *out_err = outcome
            .err()
            .map_or(ptr::null_mut(), |error| error_into_raw(&error));
    }
    status as i32
}

/// Runs the body of a function that cannot report errors (frees, accessors): a panic yields
/// `default` instead of unwinding into C.
pub(crate) fn infallible<R>(default: R, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::{lsv_error_code, lsv_error_free, lsv_error_message};
    use std::ffi::CStr;

    #[test]
    fn a_panic_becomes_an_internal_error_with_its_message() {
        let mut err = ptr::null_mut();
        let status = unsafe { fallible(&mut err, || panic!("boom {}", 42)) };
        assert_eq!(status, Status::Internal as i32);
        unsafe {
            assert_eq!(lsv_error_code(err), Status::Internal as i32);
            let message = CStr::from_ptr(lsv_error_message(err)).to_str().unwrap();
            assert!(message.contains("boom 42"), "{message}");
            lsv_error_free(err);
        }
    }

    #[test]
    fn success_clears_out_err_and_failure_without_out_err_still_reports() {
        let mut err = ptr::NonNull::<lsv_error>::dangling().as_ptr();
        assert_eq!(unsafe { fallible(&mut err, || Ok(())) }, Status::Ok as i32);
        assert!(err.is_null());
        let status =
            unsafe { fallible(ptr::null_mut(), || Err(Error::new(Status::NotFound, "x"))) };
        assert_eq!(status, Status::NotFound as i32);
    }

    #[test]
    fn infallible_bodies_yield_the_default_on_panic() {
        assert_eq!(infallible(7, || -> i32 { panic!("boom") }), 7);
        assert_eq!(infallible(7, || 8), 8);
    }
}
