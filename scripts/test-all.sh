#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian machine: installs what the suites need,
# checks formatting and lints, runs the Rust tests (library, C ABI, stand-in), the C program
# under valgrind, the C# tests under Mono, the real-client tests of the stand-in, the
# PowerShell syntax/help check and the Windows DLL (cross-built, run under Wine). Exits non-zero
# if anything fails.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

section() { printf '\n=== %s ===\n' "$*"; }

# Python packages go into a venv: Debian's own python3 refuses pip installs (PEP 668). Its bin
# directory comes first on PATH afterwards, so every python3 below (and in the suites) is the venv's.
VENV=$ROOT/target/test-venv

# A subshell with set -e, so the first failing step stops it with a non-zero status.
install_prerequisites() (
    set -e
    section "prerequisites"
    for tool in cargo rustup; do
        if ! command -v "$tool" >/dev/null; then
            echo "$tool not found: install Rust with rustup (https://rustup.rs) and put ~/.cargo/bin on PATH" >&2
            exit 1
        fi
    done
    if ! command -v dotnet >/dev/null; then
        echo "dotnet not found: install the .NET 10 SDK (PowerShell and Pester come from NuGet through it)" >&2
        exit 1
    fi
    local packages=(freetds-bin mono-mcs mono-runtime gcc g++ gcc-mingw-w64-x86-64 valgrind libssl-dev pkg-config
        python3-venv python3-pip wine64 libgnutls30)
    local missing=()
    for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if ((${#missing[@]})); then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    [[ -x $VENV/bin/python3 ]] || python3 -m venv "$VENV"
    # Ask the package index only for what the venv lacks at the pinned version.
    local wheels=(mssql-python==1.16.0 python-tds==1.17.1 pyopenssl==26.4.0 tree-sitter==0.26.1 tree-sitter-powershell==0.26.4)
    local absent=()
    for w in "${wheels[@]}"; do
        [[ $("$VENV/bin/python3" -m pip show "${w%%==*}" 2>/dev/null | sed -n 's/^Version: //p') == "${w##*==}" ]] \
            || absent+=("$w")
    done
    if ((${#absent[@]})); then
        "$VENV/bin/python3" -m pip install -q --disable-pip-version-check "${absent[@]}"
    fi
    rustup target list --installed | grep -qx x86_64-pc-windows-gnu || rustup target add x86_64-pc-windows-gnu >/dev/null
    command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
    # PowerShell 7.6 and Pester 6.2.0 for tests/powershell/run.sh, from NuGet into target/tools.
    [[ -x $ROOT/target/tools/pwsh/pwsh ]] \
        || dotnet tool install PowerShell --version 7.6.10 --tool-path "$ROOT/target/tools/pwsh" >/dev/null
    if [[ ! -f $ROOT/target/tools/nuget/pester/6.2.0/tools/Pester.psd1 ]]; then
        mkdir -p "$ROOT/target/tools/pester-restore"
        printf '%s\n' '<Project Sdk="Microsoft.NET.Sdk">' \
            '  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>' \
            '  <ItemGroup><PackageDownload Include="Pester" Version="[6.2.0]" /></ItemGroup>' \
            '</Project>' >"$ROOT/target/tools/pester-restore/restore.csproj"
        dotnet restore "$ROOT/target/tools/pester-restore/restore.csproj" --packages "$ROOT/target/tools/nuget" >/dev/null
    fi
)

passed=0
failed=0
failures=()
run_suite() {
    local name=$1; shift
    section "$name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
    fi
}

# Called on its own: inside an || list, bash would ignore the set -e of the subshell.
install_prerequisites
if [[ $? -ne 0 ]]; then
    echo "installing prerequisites failed" >&2
    exit 1
fi
export PATH="$VENV/bin:$PATH"

run_suite "cargo fmt" cargo fmt --all -- --check
run_suite "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings
run_suite "cargo build" cargo build --workspace --all-targets
run_suite "rust tests (library, C ABI, header, stand-in)" cargo nextest run --workspace --no-fail-fast
run_suite "rust doc tests" cargo test --workspace --doc
run_suite "C program under valgrind" bash tests/c/run.sh
run_suite "C# tests under Mono" bash tests/csharp/run.sh
run_suite "real clients against the stand-in" bash tests/standin/tests/clients/run.sh
run_suite "PowerShell syntax and help" python3 tests/powershell/check.py
run_suite "Windows DLL under Wine (every export, every encryption mode)" bash tests/windows/run.sh
run_suite "SqlClient and the C# binding on .NET 10, NuGet package" bash tests/dotnet/run.sh
run_suite "PowerShell module package under pwsh 7.6 + Pester" bash tests/powershell/run.sh
run_suite "password scan of the suites' output" bash tests/secrets/scan.sh

section "summary"
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
