//! Library-owned `char*` results and lsv_string_free().

use std::ffi::{c_char, CString};

use super::registry::LiveSet;

static STRINGS: LiveSet<c_char> = LiveSet::new();

/// A C string of `text`; a NUL byte inside (never produced by our own messages or JSON, but
/// possible in a server's text) becomes U+FFFD so nothing after it is cut off.
pub(crate) fn c_string_replacing_nul(text: &str) -> CString {
    CString::new(text).unwrap_or_else(|_| {
        let replaced = text.replace('\0', "\u{FFFD}");
        CString::new(replaced).expect("no NUL left after replacing every NUL")
    })
}

/// Hands `text` to C as a `char*` that only lsv_string_free() may release.
pub(crate) fn string_into_raw(text: &str) -> *mut c_char {
    STRINGS.insert(c_string_replacing_nul(text).into_raw())
}

/// Frees a string returned by this library (lsv_get(), lsv_list(), lsv_connection_info()).
///
/// As with C's free(): `s` must be NULL (then nothing happens) or a string from this library
/// not freed yet, and must not be used afterwards. A pointer the library does not own at the
/// moment is ignored rather than passed to the allocator, but that is no licence to free twice:
/// once the address has been reused for a newer string, a second free releases that string.
///
/// # Safety
/// As described. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn lsv_string_free(s: *mut c_char) {
    super::boundary::infallible((), || {
        if STRINGS.remove(s) {
            // SAFETY: `s` came from `CString::into_raw` in `string_into_raw` and was live until now.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_inside_a_message_is_replaced_not_truncated() {
        assert_eq!(
            c_string_replacing_nul("a\0b").to_str().unwrap(),
            "a\u{FFFD}b"
        );
        assert_eq!(c_string_replacing_nul("plain").to_str().unwrap(), "plain");
    }
}
