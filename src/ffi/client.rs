//! The `lsv_client` handle: opening, looking up and freeing connections.

use std::ffi::c_char;
use std::sync::Arc;

use super::args::{out_arg, required_str};
use super::boundary::{fallible, infallible};
use super::error::lsv_error;
use super::registry::Handles;
use super::servers::json_string;
use crate::api::Client;
use crate::error::{Error, Status};

/// A connection to the SQL Server instance that holds the linked servers. Opaque: created by
/// lsv_connect(), released by lsv_client_free().
#[allow(non_camel_case_types)]
pub struct lsv_client {
    // Shared so that a call in flight keeps the connection alive even if the handle is freed
    // concurrently (a caller bug the contract forbids, but one that must not become a crash).
    client: Arc<Client>,
}

/// Tag 1 (errors have 2).
static CLIENTS: Handles<lsv_client> = Handles::new(1);

// The header promises that one handle may be used from several threads at once.
const _: fn() = || {
    fn shareable_between_threads<T: Send + Sync>() {}
    shareable_between_threads::<Client>();
};

/// The client behind a handle argument, or `LSV_ERR_INVALID_HANDLE` for NULL, freed or unknown
/// handles.
pub(crate) fn client_arg(handle: *const lsv_client) -> Result<Arc<Client>, Error> {
    if handle.is_null() {
        return Err(Error::new(Status::InvalidHandle, "client is NULL"));
    }
    CLIENTS
        .with(handle, |live| Arc::clone(&live.client))
        .ok_or_else(|| {
            Error::new(
                Status::InvalidHandle,
                "client is not a live handle (already freed, or not from lsv_connect)",
            )
        })
}

/// Opens a connection to the SQL Server instance that manages the linked servers.
///
/// `connection_string`: an ADO.NET-style connection string, e.g.
/// `"Server=tcp:sql01,1433;User ID=admin;Password=...;Encrypt=true"`. Encryption is on and the
/// server certificate is validated unless the string says otherwise (`TrustServerCertificate`,
/// `Encrypt`). The string is only read during the call; the caller may wipe it afterwards. The
/// client keeps the password in memory it wipes when freed (reconnects log in again); the
/// driver's own copy lives only for each login, and its packet buffers are freed unwiped.
///
/// On success `*out_client` receives a new handle owned by the caller, to be released with
/// lsv_client_free(). On failure `*out_client` is left untouched.
///
/// Returns `LSV_OK`; `LSV_ERR_INVALID_ARGUMENT` (NULL or malformed argument),
/// `LSV_ERR_CONNECTION`, `LSV_ERR_TLS`, `LSV_ERR_AUTHENTICATION`, `LSV_ERR_TIMEOUT`,
/// `LSV_ERR_UNSUPPORTED` (e.g. Integrated Security where unavailable).
///
/// # Safety
/// Pointer arguments are NULL or valid for the documented use. Thread-safe; blocks the calling
/// thread until connected or failed.
#[no_mangle]
pub unsafe extern "C" fn lsv_connect(
    connection_string: *const c_char,
    out_client: *mut *mut lsv_client,
    out_err: *mut *mut lsv_error,
) -> i32 {
    fallible(out_err, || {
        let connection_string = required_str(connection_string, "connection_string")?;
        let out_client = out_arg(out_client, "out_client")?;
        let client = Arc::new(Client::connect(connection_string)?);
        *out_client = CLIENTS.insert(lsv_client { client }).ok_or_else(|| {
            Error::new(
                Status::Internal,
                "too many live clients: free the ones no longer used (lsv_client_free)",
            )
        })?;
        Ok(())
    })
}

/// Interrupts the calls running on `client` (in any thread) and those waiting for it: each
/// returns `LSV_ERR_CANCELLED` promptly. A request already sent is abandoned by closing its
/// connection, which makes SQL Server stop it; whether it took effect before that is unknown,
/// as after a timeout (an lsv_create() cancelled after its first step still undoes that step).
/// The client stays usable: the next call reconnects. Calls that start after lsv_cancel()
/// returns are not affected.
///
/// Returns `LSV_OK` whether or not a call was running; `LSV_ERR_INVALID_HANDLE` for a NULL,
/// freed or unknown handle. Never blocks on the network.
///
/// # Safety
/// `client` is NULL or a pointer value the caller got from lsv_connect(). Thread-safe: meant to
/// be called from another thread than the one blocked in the call (e.g. a Ctrl+C handler
/// thread or a CancellationToken callback); not async-signal-safe.
#[no_mangle]
pub unsafe extern "C" fn lsv_cancel(client: *mut lsv_client) -> i32 {
    fallible(std::ptr::null_mut(), || {
        client_arg(client)?.cancel();
        Ok(())
    })
}

/// Reports how `client` is connected, as a JSON object written to `*out_json` (release it with
/// lsv_string_free()):
///
/// ```text
/// {"address":"sql01:1433","encryption":"full","encrypted":true,
///  "certificate_validated":true,"tds_version":"7.4",
///  "server_name":"SQL01","server_version":"16.0.1000.6"}
/// ```
///
/// `encryption` is what TLS covers: `"strict"` (TDS 8.0, TLS before any TDS traffic),
/// `"full"` (the whole session), `"login_only"` (`Encrypt=false` against a server that offers
/// no more: the login is encrypted, later traffic is not) or `"none"`
/// (`Encrypt=DANGER_PLAINTEXT`). `encrypted` is true for strict and full.
/// `certificate_validated` is false under `TrustServerCertificate=true` (ignored, so true,
/// under strict) and without TLS. `tds_version` is the version the driver speaks ("8.0" in
/// strict mode, else "7.4"). `server_name` and `server_version` are SERVERPROPERTY
/// ('ServerName') and ('ProductVersion'), read with one query (reconnecting first if the
/// connection was lost). Members may be added in later minor versions.
///
/// Returns `LSV_OK`; connection errors, `LSV_ERR_INVALID_ARGUMENT` (`out_json` NULL),
/// `LSV_ERR_INVALID_HANDLE`. Since ABI 1.2.
///
/// # Safety
/// Pointer arguments are NULL or valid for the documented use. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn lsv_connection_info(
    client: *mut lsv_client,
    out_json: *mut *mut c_char,
    out_err: *mut *mut lsv_error,
) -> i32 {
    fallible(out_err, || {
        let out_json = out_arg(out_json, "out_json")?;
        let info = client_arg(client)?.connection_info()?;
        *out_json = json_string(&info)?;
        Ok(())
    })
}

/// Closes the connection and releases the handle. Never blocks on the network and never fails.
///
/// `client` may be NULL; a pointer that is not a live handle (already freed, or not from
/// lsv_connect()) is ignored, so freeing twice is harmless. Afterwards every call with this
/// handle returns `LSV_ERR_INVALID_HANDLE`, also after later lsv_connect() calls: handles are
/// ids with a generation, never reused for another client.
///
/// # Safety
/// Must not race with another call using the same `client` (the connection then stays open
/// until that call returns). Callable from any thread, including finalizers.
#[no_mangle]
pub unsafe extern "C" fn lsv_client_free(client: *mut lsv_client) {
    infallible((), || {
        drop(CLIENTS.remove(client));
    })
}
