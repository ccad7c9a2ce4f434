#!/usr/bin/env bash
# Builds liblinkedsrv and the tds-standin binary, compiles tests/c/lsv_cycle.c against
# include/linkedsrv.h with -Wall -Wextra -Werror, starts a stand-in, and runs the program under
# valgrind (leaks "definitely/indirectly lost" and invalid accesses are failures); then
# tests/c/dlclose.c loads, uses, unloads and reloads the library, and the C ABI fuzz harness
# runs 150 cases under valgrind (invalid accesses are failures).
# Needs: cargo, gcc, valgrind. Exits non-zero on any failure.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
# Where cargo puts its output: it resolves a relative CARGO_TARGET_DIR (or a config's target-dir)
# against its own working directory, which need not be the caller's.
target="$(cd "$root" && cargo metadata --no-deps --format-version 1 \
    | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)"
[[ -n "$target" ]] || { echo "FAIL: cargo metadata did not report a target directory" >&2; exit 1; }
build="$root/tests/c/build"
work="$(mktemp -d)"
standin_pid=""

cleanup() {
    if [[ -n "$standin_pid" ]]; then
        kill "$standin_pid" 2>/dev/null || true
        wait "$standin_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "== cargo build (liblinkedsrv.so, tds-standin)"
(cd "$root" && cargo build --lib && cargo build -p tds-standin --bin tds-standin)

echo "== gcc -Wall -Wextra -Werror lsv_cycle.c (C11, then as C++ to check the extern \"C\" guard)"
mkdir -p "$build"
gcc -std=c11 -Wall -Wextra -Werror -g -I "$root/include" "$root/tests/c/lsv_cycle.c" \
    -L "$target/debug" -llinkedsrv -Wl,-rpath,"$target/debug" -o "$build/lsv_cycle"
gcc -std=c11 -Wall -Wextra -Werror -g -I "$root/include" "$root/tests/c/dlclose.c" -ldl \
    -o "$build/dlclose"
g++ -x c++ -std=c++17 -Wall -Wextra -Werror -fsyntax-only -I "$root/include" - <<<'#include "linkedsrv.h"
int main() { return lsv_abi_version() == 0; }'

echo "== starting tds-standin"
"$target/debug/tds-standin" --listen 127.0.0.1:0 --server-name MGMT \
    --login 'sa:Str0ng!Passw0rd:sysadmin' --encrypt on --cert-out "$work/cert.pem" \
    >"$work/standin.out" 2>"$work/standin.err" &
standin_pid=$!
address=""
for _ in $(seq 1 100); do
    line="$(head -n 1 "$work/standin.out" 2>/dev/null || true)"
    if [[ "$line" == "listening on "* ]]; then
        address="${line#listening on }"
        break
    fi
    if ! kill -0 "$standin_pid" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
if [[ -z "$address" ]]; then
    echo "tds-standin did not start:" >&2
    cat "$work/standin.err" >&2
    exit 1
fi
echo "stand-in at $address"
connection="Server=tcp:${address%:*},${address##*:};User ID=sa;Password=Str0ng!Passw0rd;Encrypt=true;TrustServerCertificate=false;ServerCertificate=$work/cert.pem"

echo "== valgrind lsv_cycle"
valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    "$build/lsv_cycle" "$connection"
echo "== liblinkedsrv.so is marked NODELETE (dlclose never unmaps it)"
if ! readelf -d "$target/debug/liblinkedsrv.so" | grep -q 'FLAGS_1.*NODELETE'; then
    echo "FAIL: liblinkedsrv.so lacks DF_1_NODELETE (-z nodelete)" >&2
    exit 1
fi
echo "== dlclose: load -> use -> dlclose -> load -> use"
"$build/dlclose" "$target/debug/liblinkedsrv.so" "$connection"
echo "== the C ABI fuzz harness (tests/ffi_fuzz.rs, 150 cases) under valgrind"
fuzz="$(cd "$root" && cargo test -p linkedsrv --test ffi_fuzz --no-run --message-format=json 2>/dev/null \
    | grep -o '"executable":"[^"]*ffi_fuzz[^"]*"' | cut -d'"' -f4)"
[[ -x "$fuzz" ]] || { echo "FAIL: the fuzz harness did not build" >&2; exit 1; }
LSV_FUZZ_CASES=150 valgrind --quiet --suppressions="$root/tests/c/valgrind.supp" --leak-check=no \
    --error-exitcode=99 "$fuzz" --test-threads=1
echo "== tests/c: PASSED (all checks passed, no definite/indirect leaks, no invalid accesses)"
