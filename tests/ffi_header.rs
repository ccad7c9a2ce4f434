//! The committed header must be exactly what cbindgen generates from `src/ffi`. cbindgen runs
//! here, in the test, and never in a build (a crate depending on linkedsrv builds without it).

use std::path::Path;

fn generate() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml is valid");
    // Parsing only src/ffi keeps other modules' items out of the header and avoids the
    // `cargo metadata` run that `with_crate` needs.
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen generates the header from src/ffi");
    let mut header = Vec::new();
    bindings.write(&mut header);
    String::from_utf8(header).expect("the header is UTF-8")
}

#[test]
fn committed_header_matches_the_generated_one() {
    let generated = generate();
    let committed_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/linkedsrv.h");
    if std::env::var_os("LSV_BLESS").is_some() {
        std::fs::write(&committed_path, &generated).expect("include/linkedsrv.h is writable");
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/linkedsrv.h is out of date with src/ffi or cbindgen.toml; regenerate it with\n    \
         LSV_BLESS=1 cargo test --test ffi_header\nand commit the result"
    );
}
