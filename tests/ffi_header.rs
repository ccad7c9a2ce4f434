//! The committed header must be exactly what cbindgen generates from `src/ffi`.

use std::path::Path;

#[test]
fn committed_header_matches_the_generated_one() {
    let generated = include_str!(env!("LSV_GENERATED_HEADER"));
    let committed_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/linkedsrv.h");
    if std::env::var_os("LSV_BLESS").is_some() {
        std::fs::write(&committed_path, generated).expect("include/linkedsrv.h is writable");
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/linkedsrv.h is out of date with src/ffi or cbindgen.toml; regenerate it with\n    \
         LSV_BLESS=1 cargo test --test ffi_header\nand commit the result"
    );
}
