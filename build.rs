//! Generates the C header from `src/ffi` into OUT_DIR (never into the source tree, which may be
//! read-only). `tests/ffi_header.rs` compares it with the committed `include/linkedsrv.h`.

use std::env;
use std::path::PathBuf;

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let header =
        PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("linkedsrv.h");
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rustc-env=LSV_GENERATED_HEADER={}", header.display());

    let config = cbindgen::Config::from_file(manifest_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    // Parsing only src/ffi keeps other modules' items out of the header and avoids the
    // `cargo metadata` run that `with_crate` needs.
    match cbindgen::Builder::new()
        .with_config(config)
        .with_src(manifest_dir.join("src/ffi/mod.rs"))
        .generate()
    {
        Ok(bindings) => {
            bindings.write_to_file(&header);
        }
        // rustc reports syntax errors better; the header test then fails for want of the file.
        Err(cbindgen::Error::ParseSyntaxError { .. }) => {}
        Err(other) => panic!("cbindgen could not generate the header: {other}"),
    }
}
