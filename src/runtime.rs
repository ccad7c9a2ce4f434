//! The one process-wide tokio runtime. Built lazily on first use and never dropped: a runtime
//! torn down at DLL unload or process exit can hang or crash the host (.NET, PowerShell). Once
//! it exists the module is pinned (never unloaded), and a child forked after that point gets a
//! clear `Unsupported` error instead of hanging on threads it does not have.
//! Every API call runs its future with `block_on` on the caller's own thread (on a helper
//! thread when the caller is itself inside a runtime, see [`block_on`]); the workers only drive
//! socket I/O and timers.

use std::future::Future;

use once_cell::sync::OnceCell;
use tokio::runtime::{Builder, Runtime};

use crate::error::{Error, Status};

/// The runtime and the process that built it.
struct Workers {
    runtime: Runtime,
    process: u32,
}

static RUNTIME: OnceCell<Workers> = OnceCell::new();

fn runtime() -> Result<&'static Runtime, Error> {
    let workers = RUNTIME.get_or_try_init(|| {
        let runtime = Builder::new_multi_thread()
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
            })?;
        // From now on threads run the library's code: it must stay loaded.
        pin_module();
        Ok::<_, Error>(Workers {
            runtime,
            process: std::process::id(),
        })
    })?;
    if workers.process != std::process::id() {
        return Err(forked_error());
    }
    Ok(&workers.runtime)
}

fn forked_error() -> Error {
    Error::new(
        Status::Unsupported,
        "this process was forked after linkedsrv started its I/O threads, which the child does \
         not have: use the library in the parent, or in a child that loads it only after the \
         fork (exec a new program)",
    )
}

/// Whether this is a child forked after the runtime was built: its threads are missing, and
/// objects bound to it must be leaked rather than dropped (dropping a socket would deregister
/// it from the epoll instance the parent still shares).
pub(crate) fn in_forked_child() -> bool {
    RUNTIME
        .get()
        .is_some_and(|workers| workers.process != std::process::id())
}

/// Keeps the DLL loaded for the life of the process: `FreeLibrary` by the host would unmap code
/// the runtime's threads are running. ELF targets get the same from `-z nodelete` at link time
/// (build.rs).
#[cfg(windows)]
fn pin_module() {
    use std::ffi::c_void;
    const GET_MODULE_HANDLE_EX_FLAG_PIN: u32 = 0x1;
    const GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS: u32 = 0x4;
    #[link(name = "kernel32")]
    extern "system" {
        fn GetModuleHandleExW(flags: u32, name: *const u16, module: *mut *mut c_void) -> i32;
    }
    let mut module = std::ptr::null_mut();
    // Any address inside this module names it. A failure leaves the DLL unpinned, which is no
    // worse than before; there is no one to report it to.
    // SAFETY: with FROM_ADDRESS, `name` is read as an address, not a string.
    unsafe {
        GetModuleHandleExW(
            GET_MODULE_HANDLE_EX_FLAG_PIN | GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
            pin_module as *const () as *const u16,
            &mut module,
        );
    }
}

#[cfg(not(windows))]
fn pin_module() {}

/// Runs `future` to completion, blocking the calling thread.
///
/// tokio panics when a thread that is inside a runtime (an async task, another runtime's
/// `block_on`) blocks on a runtime, and has no public way to tell such a thread from a
/// `spawn_blocking` thread, where blocking is fine. So on any thread in a runtime context the
/// future runs on a short-lived helper thread while the caller waits: no panic, no refusal.
pub(crate) fn block_on<F>(future: F) -> Result<F::Output, Error>
where
    F: Future + Send,
    F::Output: Send,
{
    let runtime = runtime()?;
    if tokio::runtime::Handle::try_current().is_err() {
        return Ok(runtime.block_on(future));
    }
    std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("linkedsrv-call".into())
            .spawn_scoped(scope, || runtime.block_on(future))
            .map_err(|e| {
                Error::new(
                    Status::Internal,
                    format!("cannot start a thread for a call from inside an async runtime: {e}"),
                )
            })?;
        // A panic in the helper continues on the caller, where the C ABI boundary catches it.
        Ok(helper
            .join()
            .unwrap_or_else(|payload| std::panic::resume_unwind(payload)))
    })
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
        assert!(!in_forked_child());
    }

    #[test]
    fn works_when_nested_inside_a_runtime() {
        let outcome = block_on(async { block_on(async { 7 }).unwrap() }).unwrap();
        assert_eq!(outcome, 7);
    }

    #[test]
    fn works_from_spawn_blocking_and_from_async_tasks_of_another_runtime() {
        let caller = Builder::new_current_thread().build().unwrap();
        let from_blocking = caller
            .block_on(async { tokio::task::spawn_blocking(|| block_on(async { 1 })).await })
            .unwrap()
            .unwrap();
        let from_task = caller.block_on(async { block_on(async { 2 }).unwrap() });
        assert_eq!((from_blocking, from_task), (1, 2));
    }
}
