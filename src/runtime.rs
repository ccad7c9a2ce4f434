//! The one process-wide tokio runtime. Built lazily on first use and never dropped: a runtime
//! torn down at DLL unload or process exit can hang or crash the host (.NET, PowerShell).
//! Every API call runs its future with `block_on` on the caller's own thread; the workers only
//! drive socket I/O and timers.

use std::future::Future;

use once_cell::sync::OnceCell;
use tokio::runtime::{Builder, Runtime};

use crate::error::{Error, Status};

static RUNTIME: OnceCell<Runtime> = OnceCell::new();

fn runtime() -> Result<&'static Runtime, Error> {
    RUNTIME.get_or_try_init(|| {
        Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("linkedsrv-io")
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| {
                Error::new(
                    Status::Internal,
                    format!("cannot start the I/O runtime: {e}"),
                )
            })
    })
}

/// Runs `future` to completion on the calling thread.
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output, Error> {
    // tokio panics when block_on is nested inside a runtime; refuse with an error instead.
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::new(
            Status::Unsupported,
            "the blocking linkedsrv API was called from inside an async runtime; call it from a \
             plain thread (for example through spawn_blocking)",
        ));
    }
    Ok(runtime()?.block_on(future))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_futures_and_reuses_one_runtime() {
        assert_eq!(block_on(async { 40 + 2 }).unwrap(), 42);
        let first = runtime().unwrap() as *const Runtime;
        let second = runtime().unwrap() as *const Runtime;
        assert_eq!(first, second);
    }

    #[test]
    fn refuses_nested_use_from_inside_a_runtime() {
        let outcome = block_on(async { block_on(async {}).map_err(|e| e.status) }).unwrap();
        assert_eq!(outcome, Err(Status::Unsupported));
    }
}
