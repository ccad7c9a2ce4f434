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
    local packages=(freetds-bin mono-mcs mono-runtime gcc g++ gcc-mingw-w64-x86-64 valgrind libssl-dev pkg-config
        python3-venv python3-pip wine64 libgnutls30)
    local missing=()
    for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if ((${#missing[@]})); then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    [[ -x $VENV/bin/python3 ]] || python3 -m venv "$VENV"
    "$VENV/bin/python3" -m pip install -q --disable-pip-version-check \
        mssql-python==1.16.0 python-tds==1.17.1 pyopenssl==26.4.0 tree-sitter==0.26.1 tree-sitter-powershell==0.26.4
    rustup target add x86_64-pc-windows-gnu >/dev/null
    command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
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

section "summary"
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
