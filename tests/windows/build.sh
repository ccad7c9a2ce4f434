#!/usr/bin/env bash
# Cross-builds linkedsrv.dll for x86_64-pc-windows-gnu and checks that the DLL exports exactly
# the lsv_* functions declared in include/linkedsrv.h.
# Needs: rustup target x86_64-pc-windows-gnu, gcc-mingw-w64-x86-64 (linker and objdump).
# Exits non-zero on failure.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
# Where cargo puts its output: it resolves a relative CARGO_TARGET_DIR (or a config's target-dir)
# against its own working directory, which need not be the caller's.
target="$(cd "$root" && cargo metadata --no-deps --format-version 1 \
    | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)"
[[ -n "$target" ]] || { echo "FAIL: cargo metadata did not report a target directory" >&2; exit 1; }
profile="${1:-debug}"
dll="$target/x86_64-pc-windows-gnu/$profile/linkedsrv.dll"
release_flag=()
[[ "$profile" == release ]] && release_flag=(--release)

echo "== cargo build --target x86_64-pc-windows-gnu --lib ${release_flag[*]}"
(cd "$root" && cargo build --target x86_64-pc-windows-gnu --lib "${release_flag[@]}")
[[ -f "$dll" ]] || { echo "FAIL: $dll was not produced" >&2; exit 1; }
echo "built $dll"

# Function declarations of the header: a return type, then `lsv_name(` at a line start.
declared="$(grep -oE '^[a-z][a-z0-9_ ]*[ *]lsv_[a-z0-9_]+\(' "$root/include/linkedsrv.h" \
    | grep -oE 'lsv_[a-z0-9_]+' | sort -u)"
# The DLL's export name table: lines like "[  12] lsv_connect".
exported="$(x86_64-w64-mingw32-objdump -p "$dll" \
    | sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' \
    | grep -oE '\] lsv_[a-z0-9_]+$' | cut -c3- | sort -u)"

missing="$(comm -23 <(echo "$declared") <(echo "$exported"))"
undeclared="$(comm -13 <(echo "$declared") <(echo "$exported"))"
echo "header declares $(echo "$declared" | wc -l) lsv_ functions; the DLL exports $(echo "$exported" | grep -c . || true)"
status=0
if [[ -n "$missing" ]]; then
    echo "FAIL: declared in the header but not exported by the DLL:" >&2
    echo "$missing" >&2
    status=1
fi
if [[ -n "$undeclared" ]]; then
    echo "FAIL: exported by the DLL but missing from the header:" >&2
    echo "$undeclared" >&2
    status=1
fi
[[ $status -eq 0 ]] && echo "== tests/windows: PASSED (every header function is exported, nothing else under lsv_)"
exit $status
