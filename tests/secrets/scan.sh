#!/usr/bin/env bash
# Password scan over what the test suites produce: runs the library's Rust tests with their
# output shown (every eprintln of a figure, error or JSON), then scans that log together with
# the logs the C and C# suites left behind (program output, stand-in logs) for every password
# the suites hand to the library. Any hit fails, naming the file and line.
# Needs: cargo, cargo-nextest. Run after tests/c/run.sh and tests/csharp/run.sh.
set -uo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Every password a suite gives the library (connection strings, remote logins, canaries).
passwords=(
    'Str0ng!Passw0rd'
    'Pa"ss;w'"'"'rd={x}'
    'Read3r!Pass'
    'Login-Canary-7f3a9'
    'Remote-Canary-c41d2'
    'Wrong-Canary-99e10'
)

echo "== cargo nextest run -p linkedsrv --no-capture (output kept for the scan)"
if ! (cd "$root" && cargo nextest run -p linkedsrv --no-fail-fast --no-capture) >"$work/rust.log" 2>&1; then
    tail -n 40 "$work/rust.log"
    echo "FAIL: the Rust tests failed while producing the log to scan" >&2
    exit 1
fi

files=("$work/rust.log")
for dir in "$root/tests/c/build" "$root/tests/csharp/build"; do
    [[ -d $dir ]] || continue
    while IFS= read -r -d '' file; do files+=("$file"); done \
        < <(find "$dir" -type f \( -name '*.log' -o -name '*.out' -o -name '*.err' \) -print0)
done

hits=0
for password in "${passwords[@]}"; do
    if grep -nF -- "$password" "${files[@]}" >"$work/hits"; then
        # Name where, never print the line itself.
        cut -d: -f1,2 "$work/hits" | sed 's/^/FAIL: a test password appears in /'
        hits=$((hits + $(wc -l <"$work/hits")))
    fi
done
lines=$(cat "${files[@]}" | wc -l)
echo "password scan: ${#files[@]} files, $lines lines, ${#passwords[@]} passwords, $hits hits"
[[ $hits -eq 0 ]]
