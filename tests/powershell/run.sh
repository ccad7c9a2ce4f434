#!/usr/bin/env bash
# The PowerShell module under real PowerShell: builds the package (scripts/package.sh), installs
# it with Install-PSResource from the local repository into a private profile under target/, and
# runs the Pester suites tests/powershell/*.Tests.ps1 under pwsh 7.6 (Pester 6.2.0) against
# tds-standin instances the tests start and stop. Prints Pester's summary and a closing
# "pester: N passed, N failed" line; exits non-zero when a test, a container or a step fails.
# Needs what scripts/test-all.sh installs: target/tools/pwsh/pwsh, Pester in target/tools/nuget,
# the test venv (python-tds) in target/test-venv, mono-mcs, the mingw cross toolchain.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
target="$(cargo metadata --no-deps --format-version 1 | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)"
pwsh=$root/target/tools/pwsh/pwsh
pester=$root/target/tools/nuget/pester/6.2.0/tools/Pester.psd1
python=$root/target/test-venv/bin/python3
for need in "$pwsh" "$pester" "$python"; do
    [[ -e $need ]] || { echo "missing $need: run scripts/test-all.sh (it installs the prerequisites)" >&2; exit 1; }
done

bash scripts/package.sh
echo "== cargo build -p linkedsrv -p tds-standin (debug: the stand-in, and the source-tree library)"
cargo build --quiet -p linkedsrv -p tds-standin

work=$root/target/powershell-tests
rm -rf "$work"
home=$work/home
# .NET reports no LocalApplicationData unless the folder exists; PSResourceGet installs there.
mkdir -p "$home/.local/share" "$home/.config" "$home/.cache"

status=0
env -u LSV_NATIVE_LIBRARY -u PSModulePath \
    HOME="$home" XDG_DATA_HOME="$home/.local/share" XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache" \
    POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off NO_COLOR=1 \
    LSV_TEST_ROOT="$root" LSV_TEST_WORK="$work" LSV_TEST_PESTER="$pester" LSV_TEST_PYTHON="$python" \
    LSV_TEST_PWSH="$pwsh" LSV_TEST_STANDIN="$target/debug/tds-standin" LSV_TEST_TARGET="$target" \
    LSV_TEST_REPOSITORY="$root/target/package/repository" LSV_PESTER_ONLY="${LSV_PESTER_ONLY:-}" \
    "$pwsh" -NoProfile -NonInteractive -File "$root/tests/powershell/run.ps1" || status=$?
exit $status
