#!/usr/bin/env bash
# C# interop tests: builds liblinkedsrv and tds-standin with cargo, lays the library out like the
# PowerShell module (<module>/linux-x64/liblinkedsrv.so) so the real loader path is used, compiles
# LinkedServer.Interop.cs + Tests.cs with mcs twice (-langversion:5 as Windows PowerShell 5.1's
# Add-Type would, and the default language), and runs each build with mono against fresh stand-in
# instances. Exits non-zero when a build or a test fails.
# Needs: cargo, gcc, mono-mcs, mono-runtime and freetds-bin (tsql reads the stand-in's counters):
# apt-get install -y mono-mcs mono-runtime freetds-bin.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
for tool in mcs mono tsql; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (apt-get install -y mono-mcs mono-runtime freetds-bin)" >&2; exit 1; }
done
# Where cargo puts its output: it resolves a relative CARGO_TARGET_DIR (or a config's target-dir)
# against its own working directory, which need not be the caller's.
target="$(cd "$root" && cargo metadata --no-deps --format-version 1 \
    | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)"
[[ -n "$target" ]] || { echo "FAIL: cargo metadata did not report a target directory" >&2; exit 1; }
build=$root/tests/csharp/build
interop=$root/powershell/LinkedServer/LinkedServer.Interop.cs

case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) rid=linux-x64 ;;
    Linux-aarch64) rid=linux-arm64 ;;
    *) echo "unsupported test platform $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

echo "== cargo build -p linkedsrv -p tds-standin"
(cd "$root" && cargo build --quiet -p linkedsrv -p tds-standin)

rm -rf "$build"
mkdir -p "$build/module/$rid" "$build/fixtures/abi2" "$build/fixtures/abi-only"
cp "$target/debug/liblinkedsrv.so" "$build/module/$rid/"

echo "== fixtures: wrong-ABI library, export-less library, non-library file"
# A library that exports lsv_abi_version only, reporting the ABI given at compile time.
printf 'unsigned int lsv_abi_version(void) { return FIXTURE_ABI; }\n' > "$build/fixtures/abi.c"
gcc -shared -fPIC -DFIXTURE_ABI='(2u << 16)' -o "$build/fixtures/abi2/liblinkedsrv.so" "$build/fixtures/abi.c"
gcc -shared -fPIC -DFIXTURE_ABI='(1u << 16)' -o "$build/fixtures/abi-only/liblinkedsrv.so" "$build/fixtures/abi.c"
echo "this is not a shared library" > "$build/fixtures/not-a-library.so"

echo "== mcs -langversion:5 and mcs (default language)"
mcs -langversion:5 -warnaserror -out:"$build/tests-cs5.exe" "$interop" "$root/tests/csharp/Tests.cs"
mcs -warnaserror -out:"$build/tests.exe" "$interop" "$root/tests/csharp/Tests.cs"
mcs -langversion:5 -warnaserror -target:library -out:"$build/LinkedServer.Interop.dll" "$interop"

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# start_standin NAME RUN EXTRA_ARGS... -> sets $address (HOST:PORT) from the first stdout line;
# the certificate goes to $build/NAME-RUN.pem.
start_standin() {
    local name=$1 run=$2
    shift 2
    local out=$build/standin-$name-$run.out
    "$target/debug/tds-standin" --listen 127.0.0.1:0 --server-name "$name" \
        --login 'sa:Str0ng!Passw0rd:sysadmin' --encrypt on --cert-out "$build/$name-$run.pem" "$@" \
        >"$out" 2>"$build/standin-$name-$run.err" &
    pids+=($!)
    for _ in $(seq 100); do
        if [[ -s $out ]] && head -n1 "$out" | grep -q '^listening on '; then
            address=$(head -n1 "$out" | sed 's/^listening on //')
            return 0
        fi
        sleep 0.1
    done
    echo "tds-standin $name did not start:" >&2
    cat "$build/standin-$name-$run.err" >&2
    exit 1
}

status=0
for exe in tests-cs5.exe tests.exe; do
    run=${exe%.exe}
    start_standin PEER "$run"
    peer_address=$address
    start_standin STALL "$run" --stall-at-procedure sp_dropserver
    stall_address=$address
    # The tests read the stall stand-in's counters (sp_standin_stats) with FreeTDS tsql.
    cat >"$build/freetds-$run.conf" <<CONF
[stall]
    host = localhost
    port = ${stall_address##*:}
    tds version = 7.4
    encryption = require
    ca file = $build/STALL-$run.pem
CONF
    start_standin MGMT "$run" --login 'quoter:Pa"ss;w'"'"'rd={x}:sysadmin' --login 'reader:Read3r!Pass' \
        --peer "PEER=$peer_address"
    echo "== mono $exe (stand-in MGMT at $address, peer at $peer_address)"
    if ! env -u LSV_NATIVE_LIBRARY \
        LSV_TEST_MODULE_DIR="$build/module" LSV_TEST_FIXTURES="$build/fixtures" LSV_TEST_RID="$rid" \
        LSV_TEST_SERVER="tcp:${address%:*},${address##*:}" LSV_TEST_CERT="$build/MGMT-$run.pem" LSV_TEST_PEER=PEER \
        LSV_TEST_STALL_SERVER="tcp:${stall_address%:*},${stall_address##*:}" LSV_TEST_STALL_CERT="$build/STALL-$run.pem" \
        LSV_TEST_STALL_FREETDS="$build/freetds-$run.conf" \
        mono --debug "$build/$exe" | tee "$build/$run.log"; then
        status=1
    fi
    cleanup
    pids=()
done

# One closing line for both builds; a build that died before its own summary counts as a failure.
passed=0
failed=0
for exe in tests-cs5.exe tests.exe; do
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$build/${exe%.exe}.log" | tail -n1 || true)
    if [[ -z $summary ]]; then
        failed=$((failed + 1))
        status=1
        continue
    fi
    passed=$((passed + ${summary%% *}))
    rest=${summary#*, }
    failed=$((failed + ${rest%% *}))
done
echo "csharp: $passed passed, $failed failed"
exit $status
