#!/usr/bin/env bash
# .NET tests: builds liblinkedsrv and tds-standin with cargo (and linkedsrv.dll for win-x64 when
# the mingw cross-build is available), then
#   - dotnet test SqlClientTests: Microsoft.Data.SqlClient 7.1 against stand-ins it starts itself;
#   - dotnet test BindingTests: the C# binding (LinkedServer.Interop.cs) on .NET 10, loading the
#     library from the test output's <rid>/ folder as the module lays it out;
#   - dotnet pack nuget/LinkedServer.Interop.csproj, and PackageConsumer (a console app that
#     references only that package) creates, lists and drops a linked server on a stand-in.
# NuGet packages go to target/nuget-packages; build output to target/dotnet. Exits non-zero when
# anything fails; the last line is "dotnet: N passed, N failed".
# Needs: cargo, gcc, the .NET 10 SDK, NuGet (xunit from /opt/nuget/packages, the rest from nuget.org).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
command -v dotnet >/dev/null || { echo "FAIL: dotnet (the .NET 10 SDK) is not installed" >&2; exit 1; }
# Where cargo puts its output (it may resolve CARGO_TARGET_DIR against its own directory).
target="$(cd "$root" && cargo metadata --no-deps --format-version 1 \
    | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)"
[[ -n "$target" ]] || { echo "FAIL: cargo metadata did not report a target directory" >&2; exit 1; }
version="$(cd "$root" && cargo metadata --no-deps --format-version 1 \
    | grep -o '"name":"linkedsrv","version":"[^"]*"' | cut -d'"' -f8)"
[[ -n "$version" ]] || { echo "FAIL: no linkedsrv version in cargo metadata" >&2; exit 1; }

echo "== cargo build -p linkedsrv -p tds-standin"
(cd "$root" && cargo build --quiet -p linkedsrv -p tds-standin)
native="$target/debug/liblinkedsrv.so"
windows_dll=""
if rustup target list --installed 2>/dev/null | grep -qx x86_64-pc-windows-gnu && command -v x86_64-w64-mingw32-gcc >/dev/null; then
    echo "== cargo build --target x86_64-pc-windows-gnu --lib (win-x64 in the package)"
    (cd "$root" && cargo build --quiet --target x86_64-pc-windows-gnu --lib)
    windows_dll="$target/x86_64-pc-windows-gnu/debug/linkedsrv.dll"
else
    echo "NOTE: no x86_64-pc-windows-gnu target or mingw: the package holds linux-x64 only"
fi

export NUGET_PACKAGES="$target/nuget-packages"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export LSV_STANDIN_BIN="$target/debug/tds-standin"
unset LSV_NATIVE_LIBRARY
logs="$target/dotnet/logs"
mkdir -p "$logs"

status=0
passed=0
failed=0
# The "Passed!/Failed!  - Failed: F, Passed: P, ..." line of a dotnet test run.
count_summary() {
    local summary
    summary=$(grep -E '(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+' "$1" | tail -n1 || true)
    if [[ -z $summary ]]; then
        failed=$((failed + 1))
        return
    fi
    failed=$((failed + $(sed -E 's/.*Failed: +([0-9]+),.*/\1/' <<<"$summary")))
    passed=$((passed + $(sed -E 's/.*Passed: +([0-9]+),.*/\1/' <<<"$summary")))
}

# SystemStoreTests trusts a stand-in certificate in the CurrentUser\Root store, which .NET keeps
# under $HOME: the test runs get a HOME of their own.
test_home="$target/dotnet/home"
mkdir -p "$test_home"
for project in SqlClientTests BindingTests; do
    echo "== dotnet test $project"
    if ! HOME="$test_home" dotnet test "$here/$project" -p:LsvNativeLibrary="$native" 2>&1 | tee "$logs/$project.log"; then
        status=1
    fi
    count_summary "$logs/$project.log"
done

echo "== dotnet pack LinkedServer.Interop $version"
pack_args=(-p:Version="$version" -p:LsvNativeLinuxX64="$native")
[[ -n $windows_dll ]] && pack_args+=(-p:LsvNativeWinX64="$windows_dll")
rm -rf "$target/dotnet/nupkg" "$NUGET_PACKAGES/linkedserver.interop"
package="$target/dotnet/nupkg/LinkedServer.Interop.$version.nupkg"
expected=(lib/netstandard2.0/LinkedServer.Interop.dll runtimes/linux-x64/native/liblinkedsrv.so README.md)
[[ -n $windows_dll ]] && expected+=(runtimes/win-x64/native/linkedsrv.dll)
if dotnet pack "$root/nuget/LinkedServer.Interop.csproj" -o "$target/dotnet/nupkg" "${pack_args[@]}" &&
    python3 - "$package" "${expected[@]}" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
missing = [n for n in sys.argv[2:] if n not in names]
print("package holds: " + ", ".join(sorted(n for n in names if n.startswith(("lib/", "runtimes/")))))
sys.exit("FAIL: missing from the package: " + ", ".join(missing) if missing else 0)
PY
then
    passed=$((passed + 1))
else
    echo "FAIL: dotnet pack"
    failed=$((failed + 1))
    status=1
fi

echo "== PackageConsumer (LinkedServer.Interop $version from the package) against a stand-in"
work=$(mktemp -d)
standin_pid=""
cleanup() {
    [[ -n $standin_pid ]] && kill "$standin_pid" 2>/dev/null && wait "$standin_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
"$LSV_STANDIN_BIN" --listen 127.0.0.1:0 --server-name PKGHOST --login 'sa:Str0ng!Passw0rd:sysadmin' \
    --encrypt on --cert-out "$work/cert.pem" >"$work/out" 2>"$work/err" &
standin_pid=$!
address=""
for _ in $(seq 100); do
    address=$(sed -n '1s/^listening on //p' "$work/out" 2>/dev/null)
    [[ -n $address ]] && break
    sleep 0.1
done
consumer_ok=0
if [[ -z $address ]]; then
    echo "FAIL: the stand-in did not start: $(cat "$work/err")"
elif [[ -f $package ]]; then
    export LSV_CONNECTION="Server=tcp:${address%:*},${address##*:};Encrypt=true;ServerCertificate=$work/cert.pem;User ID=sa;Password=Str0ng!Passw0rd"
    if dotnet run --project "$here/PackageConsumer" -p:LsvPackageVersion="$version" 2>&1 | tee "$logs/PackageConsumer.log" &&
        grep -q '/runtimes/linux-x64/native/liblinkedsrv.so' "$logs/PackageConsumer.log" &&
        grep -q '^created: True, dropped: True$' "$logs/PackageConsumer.log"; then
        consumer_ok=1
    fi
    # Published for one runtime identifier, the library sits beside the app.
    echo "== PackageConsumer published for linux-x64"
    if ! { dotnet publish "$here/PackageConsumer" -r linux-x64 --no-self-contained -o "$work/publish" \
            -p:LsvPackageVersion="$version" &&
        "$work/publish/PackageConsumer" 2>&1 | tee "$logs/PackageConsumer-published.log" &&
        grep -q "native library: $work/publish/liblinkedsrv.so " "$logs/PackageConsumer-published.log" &&
        grep -q '^created: True, dropped: True$' "$logs/PackageConsumer-published.log"; }; then
        consumer_ok=0
    fi
fi
if ((consumer_ok)); then
    echo "PASS: the package's app created, listed and dropped a linked server, built (runtimes/linux-x64/native) and published for linux-x64 (beside the app)"
    passed=$((passed + 1))
else
    echo "FAIL: PackageConsumer"
    failed=$((failed + 1))
    status=1
fi

((failed == 0)) || status=1
echo "dotnet: $passed passed, $failed failed"
exit $status
