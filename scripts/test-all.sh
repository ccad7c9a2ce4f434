#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian machine: installs what the suites need,
# checks formatting and lints, runs the Rust tests (library, C ABI, stand-in), the C program
# under valgrind, the C# tests under Mono, the real-client tests of the stand-in, the
# PowerShell syntax/help check and the Windows cross-build. Exits non-zero if anything fails.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

section() { printf '\n=== %s ===\n' "$*"; }

install_prerequisites() {
    section "prerequisites"
    local packages=(freetds-bin mono-mcs mono-runtime gcc-mingw-w64-x86-64 valgrind libssl-dev pkg-config)
    local missing=()
    for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if ((${#missing[@]})); then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
        mssql-python==1.16.0 python-tds==1.17.1 pyopenssl==26.4.0 tree-sitter==0.26.1 tree-sitter-powershell==0.26.4
    rustup target add x86_64-pc-windows-gnu >/dev/null 2>&1
    command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
}

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

install_prerequisites || { echo "installing prerequisites failed"; exit 1; }

run_suite "cargo fmt" cargo fmt --all -- --check
run_suite "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings
run_suite "cargo build" cargo build --workspace --all-targets
run_suite "rust tests (library, C ABI, header, stand-in)" cargo nextest run --workspace --no-fail-fast
run_suite "rust doc tests" cargo test --workspace --doc
run_suite "C program under valgrind" bash tests/c/run.sh
run_suite "C# tests under Mono" bash tests/csharp/run.sh
run_suite "real clients against the stand-in" bash tests/standin/tests/clients/run.sh
run_suite "PowerShell syntax and help" python3 tests/powershell/check.py
run_suite "Windows DLL cross-build" bash tests/windows/build.sh

section "summary"
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
