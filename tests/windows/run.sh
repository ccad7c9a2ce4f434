#!/usr/bin/env bash
# Runs the Windows DLL as a Windows caller would: cross-builds linkedsrv.dll and checks its
# exports (build.sh), builds tests/windows/lsv_windows.c with mingw against include/linkedsrv.h,
# and runs it under Wine (Debian's wine64, headless, a prefix under target/) against Linux
# stand-ins in every encryption mode: no TLS, TLS for the login only, full TLS (trusting the
# certificate, then validating it), and TDS 8.0 strict. A second stand-in (BTS01) answers
# lsv_test's hop. The remote password must not appear in the program's output.
#
# Test setup that is not part of the package, built here: wine_compat.c as bcryptprimitives.dll
# beside linkedsrv.dll (Wine 8 lacks ProcessPrng, and its DecryptMessage misreports an incomplete
# TLS record: see the file). LSV_TEST_WINE_AS_IS=1 leaves Wine's DecryptMessage as it is (the
# catalog reads then time out under encryption; see the README's platform notes).
#
# Needs: cargo, the x86_64-pc-windows-gnu target, gcc-mingw-w64-x86-64, wine64 (installed with
# apt when missing and running as root). Exits non-zero on any failure, including when Wine
# cannot start.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/tests/windows"
target="$(cd "$root" && cargo metadata --no-deps --format-version 1 \
    | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)"
[[ -n "$target" ]] || { echo "FAIL: cargo metadata did not report a target directory" >&2; exit 1; }

wine=/usr/lib/wine/wine64
wineserver=/usr/lib/wine/wineserver
if [[ ! -x $wine ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "== apt-get install wine64"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wine64 libgnutls30 >/dev/null
    fi
    [[ -x $wine ]] || { echo "FAIL: $wine not found: install Debian's wine64 package" >&2; exit 1; }
fi

bash "$here/build.sh"
dll_dir="$target/x86_64-pc-windows-gnu/debug"

echo "== cargo build -p tds-standin"
(cd "$root" && cargo build -p tds-standin --bin tds-standin)
standin="$target/debug/tds-standin"

# Every function of the header must be called by the program.
declared="$(grep -oE '^[a-z][a-z0-9_ ]*[ *]lsv_[a-z0-9_]+\(' "$root/include/linkedsrv.h" \
    | grep -oE 'lsv_[a-z0-9_]+' | sort -u)"
uncovered=()
for function in $declared; do
    grep -qE "\\b$function\\(" "$here/lsv_windows.c" || uncovered+=("$function")
done
if ((${#uncovered[@]})); then
    echo "FAIL: lsv_windows.c does not call: ${uncovered[*]}" >&2
    exit 1
fi
echo "lsv_windows.c calls all $(echo "$declared" | wc -l) functions of the header"

bin="$target/wine/bin"
mkdir -p "$bin"
echo "== x86_64-w64-mingw32-gcc lsv_windows.c, lsv_pin.c, wine_compat.c"
x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -O1 -I "$root/include" \
    "$here/lsv_windows.c" "$dll_dir/liblinkedsrv.dll.a" -o "$bin/lsv_windows.exe"
# Without the import library: it loads the DLL itself (LoadLibraryW/GetProcAddress).
x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -O1 -I "$root/include" \
    "$here/lsv_pin.c" -o "$bin/lsv_pin.exe"
x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -O1 -shared "$here/wine_compat.c" \
    -ladvapi32 -o "$bin/bcryptprimitives.dll"
cp "$dll_dir/linkedsrv.dll" "$bin/"

# Headless Wine: no display, no Mono/Gecko installers, no debug channels.
export WINEPREFIX="$target/wine/prefix" WINEARCH=win64 WINEDEBUG=-all \
    WINEDLLOVERRIDES="mscoree,mshtml=" DISPLAY=
unset WAYLAND_DISPLAY
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    "$wineserver" -k 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

if [[ ! -f $WINEPREFIX/system.reg ]]; then
    echo "== wineboot --init ($WINEPREFIX)"
    rm -rf "$WINEPREFIX"
    if ! timeout 300 "$wine" wineboot --init >"$work/wineboot.log" 2>&1 \
        || ! timeout 120 "$wineserver" -w; then
        echo "FAIL: Wine could not create its prefix:" >&2
        cat "$work/wineboot.log" >&2
        exit 1
    fi
fi
wine_version="$(timeout 60 "$wine" --version 2>&1)" \
    || { echo "FAIL: Wine does not start: $wine_version" >&2; exit 1; }
echo "Wine: $wine_version"

# The Windows path (Z:\...) of a file.
winpath() { "$wine" winepath -w "$1" 2>/dev/null; }

# start_standin FILE_STEM ARGS...: starts a stand-in, sets $address to its HOST:PORT.
address=""
start_standin() {
    local stem=$1; shift
    "$standin" --listen 127.0.0.1:0 "$@" >"$work/$stem.out" 2>"$work/$stem.err" &
    pids+=($!)
    address=""
    for _ in $(seq 1 100); do
        local line
        line="$(head -n 1 "$work/$stem.out" 2>/dev/null || true)"
        if [[ $line == "listening on "* ]]; then
            address="${line#listening on }"
            return 0
        fi
        kill -0 "${pids[-1]}" 2>/dev/null || break
        sleep 0.1
    done
    echo "FAIL: tds-standin ($stem) did not start:" >&2
    cat "$work/$stem.err" >&2
    exit 1
}

# Not printed anywhere: the program checks the library's strings for it, this script its output.
remote_password="Rem0te!Wine-$RANDOM$RANDOM-Secret"
start_standin peer --server-name BTS01 --login "bts_remote:$remote_password"
peer="$address"

failed=()
# run_mode NAME STANDIN_MODE ENCRYPTION CONNECTION_OPTIONS [UNTRUSTED_OPTIONS]
# (ENCRYPTION: what lsv_connection_info must report)
run_mode() {
    local name=$1 mode=$2 encryption=$3 options=$4 untrusted=${5:-}
    echo
    echo "== $name: stand-in --encrypt $mode, $options"
    start_standin "mgmt-$name" --server-name MGMT --login 'sa:Str0ng!Passw0rd:sysadmin' \
        --encrypt "$mode" --peer "BTS01=$peer" --cert-out "$work/cert-$name.pem"
    local port="${address##*:}"
    start_standin "stall-$name" --server-name STALL --login 'sa:Str0ng!Passw0rd:sysadmin' \
        --encrypt "$mode" --stall-at-procedure sp_dropserver --cert-out "$work/stall-$name.pem"
    local stall_port="${address##*:}"
    # localhost: the certificate names it; Wine's SChannel does not match IP addresses.
    local login="User ID=sa;Password=Str0ng!Passw0rd;Connect Timeout=20"
    local base="Server=tcp:localhost,$port;$login;Command Timeout=20"
    local args=("$base;${options//@CERT@/$(winpath "$work/cert-$name.pem")}" BTS01)
    [[ -n $untrusted ]] && args+=("$base;$untrusted")
    local stall="Server=tcp:localhost,$stall_port;$login;Command Timeout=0;${options//@CERT@/$(winpath "$work/stall-$name.pem")}"
    local status=0
    (cd "$bin" && LSV_TEST_REMOTE_PASSWORD="$remote_password" LSV_TEST_STALL_CONNECTION="$stall" \
        LSV_TEST_ENCRYPTION="$encryption" timeout 600 "$wine" lsv_windows.exe "${args[@]}") >"$work/$name.log" 2>&1 || status=$?
    if grep -qF "$remote_password" "$work/$name.log"; then
        echo "FAIL: the remote password appears in the output of $name (output withheld)" >&2
        status=1
    else
        cat "$work/$name.log"
    fi
    local corrected
    corrected="$(sed -n 's/^wine: \([0-9]*\) DecryptMessage.*/\1/p' "$work/$name.log")"
    if [[ $mode == on || $mode == strict ]] && [[ -z ${LSV_TEST_WINE_AS_IS:-} ]] \
        && [[ ${corrected:-0} -eq 0 ]]; then
        echo "FAIL: $name: no TLS record outgrew a socket read, so the case Wine gets wrong was not run" >&2
        status=1
    fi
    if [[ $status -ne 0 ]]; then
        echo "FAIL: $name (exit status $status)" >&2
        failed+=("$name")
    fi
}

run_mode off off none "Encrypt=DANGER_PLAINTEXT"
run_mode login login login_only "Encrypt=false;ServerCertificate=@CERT@"
run_mode on-trust on full "Encrypt=true;TrustServerCertificate=true"
run_mode on on full "Encrypt=true;ServerCertificate=@CERT@" "Encrypt=true"
run_mode strict strict strict "Encrypt=strict;ServerCertificate=@CERT@" "Encrypt=strict"

# A host that unloads the DLL: FreeLibrary leaves it loaded once the runtime exists (pinned),
# and unloads it before then (lsv_pin.c).
run_pin() {
    echo
    echo "== pin: LoadLibraryW, call, FreeLibrary, LoadLibraryW, call"
    start_standin pin --server-name MGMT --login 'sa:Str0ng!Passw0rd:sysadmin' --encrypt off
    local status=0
    (cd "$bin" && timeout 300 "$wine" lsv_pin.exe \
        "Server=tcp:127.0.0.1,${address##*:};User ID=sa;Password=Str0ng!Passw0rd;Encrypt=DANGER_PLAINTEXT;Connect Timeout=20;Command Timeout=20") \
        >"$work/pin.log" 2>&1 || status=$?
    sed -i 's/\r$//' "$work/pin.log"
    cat "$work/pin.log"
    if [[ $status -ne 0 ]] || ! grep -qx 'PASSED: 0 failure(s)' "$work/pin.log"; then
        echo "FAIL: pin (exit status $status)" >&2
        failed+=(pin)
    fi
}
run_pin

# The C# binding's Windows loader (LoadLibraryExW, GetProcAddress) under .NET 10 for win-x64:
# tests/csharp/Tests.cs, compiled with the interop file into a self-contained Windows program
# (the runtime pack comes from NuGet), against the DLL laid out as in the module folder.
run_csharp() {
    local cs="$target/wine/csharp"
    echo
    echo "== C#: LinkedServer.Interop.cs + tests/csharp/Tests.cs, .NET for win-x64 under Wine"
    if ! command -v dotnet >/dev/null; then
        echo "FAIL: dotnet (the .NET SDK) not found" >&2
        failed+=(csharp)
        return
    fi
    rm -rf "$cs/module" "$cs/fixtures"
    mkdir -p "$cs/module/win-x64" "$cs/fixtures/abi2" "$cs/fixtures/abi-only"
    sed "s|@ROOT@|$root|g" "$here/LinkedServer.WineTests.csproj.in" >"$cs/LinkedServer.WineTests.csproj"
    if ! dotnet publish "$cs/LinkedServer.WineTests.csproj" -c Release -o "$cs/out" --nologo -v q; then
        echo "FAIL: the C# tests did not build for win-x64" >&2
        failed+=(csharp)
        return
    fi
    cp "$bin/linkedsrv.dll" "$bin/bcryptprimitives.dll" "$cs/module/win-x64/"
    # A library exporting lsv_abi_version only, reporting the ABI given at compile time.
    printf '__declspec(dllexport) unsigned int lsv_abi_version(void) { return FIXTURE_ABI; }\n' \
        >"$cs/fixtures/abi.c"
    x86_64-w64-mingw32-gcc -shared -DFIXTURE_ABI='(2u << 16)' -o "$cs/fixtures/abi2/linkedsrv.dll" "$cs/fixtures/abi.c"
    x86_64-w64-mingw32-gcc -shared -DFIXTURE_ABI='(1u << 16)' -o "$cs/fixtures/abi-only/linkedsrv.dll" "$cs/fixtures/abi.c"
    echo "this is not a library" >"$cs/fixtures/not-a-library.dll"

    start_standin csharp-peer --server-name PEER --login 'sa:Str0ng!Passw0rd:sysadmin'
    local peer_address="$address"
    start_standin csharp-mgmt --server-name MGMT --login 'sa:Str0ng!Passw0rd:sysadmin' \
        --login 'quoter:Pa"ss;w'"'"'rd={x}:sysadmin' --login 'reader:Read3r!Pass' \
        --peer "PEER=$peer_address" --cert-out "$work/csharp.pem"
    local mgmt_port="${address##*:}"
    start_standin csharp-stall --server-name STALL --login 'sa:Str0ng!Passw0rd:sysadmin' \
        --stall-at-procedure sp_dropserver --cert-out "$work/csharp-stall.pem"
    local status=0
    # mscoree.dll must load here: Wine's loader needs it for IL-only images.
    WINEDLLOVERRIDES="mshtml=" LSV_TEST_RID=win-x64 LSV_TEST_PEER=PEER \
        LSV_TEST_SERVER="tcp:localhost,$mgmt_port" LSV_TEST_STALL_SERVER="tcp:localhost,${address##*:}" \
        LSV_TEST_STALL_CERT="$(winpath "$work/csharp-stall.pem")" \
        LSV_TEST_MODULE_DIR="$(winpath "$cs/module")" LSV_TEST_FIXTURES="$(winpath "$cs/fixtures")" \
        LSV_TEST_CERT="$(winpath "$work/csharp.pem")" \
        timeout 900 "$wine" "$cs/out/LinkedServer.Tests.exe" >"$work/csharp.log" 2>&1 || status=$?
    sed -i 's/\r$//' "$work/csharp.log" # Windows line ends
    grep -E '^(FAIL|[0-9]+ passed)' "$work/csharp.log" || true
    if [[ $status -ne 0 ]] || ! grep -qE '^[0-9]+ passed, 0 failed$' "$work/csharp.log"; then
        tail -n 40 "$work/csharp.log" >&2
        echo "FAIL: C# tests under Wine (exit status $status)" >&2
        failed+=(csharp)
    fi
}
run_csharp

echo
if ((${#failed[@]})); then
    echo "== tests/windows: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "== tests/windows: PASSED (linkedsrv.dll under $wine_version: every export from C in every encryption mode; pinned once its runtime runs; the C# binding's Windows loader under .NET)"
