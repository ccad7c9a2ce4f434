//! Only a linker flag, so that building linkedsrv (also as a dependency) stays cheap: the C
//! header is generated and checked by `tests/ffi_header.rs`, not here.
//!
//! ELF targets: `-z nodelete` makes `dlclose` leave the shared library mapped. Its tokio
//! worker threads outlive any call (the runtime is never torn down, see `src/runtime.rs`), so
//! unmapping their code under them would crash the host. Windows pins the DLL at run time
//! instead (`runtime::pin_module`), once the runtime exists.

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(
        target_os.as_str(),
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly" | "illumos"
    ) {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
}
