#!/usr/bin/env bash
# Real-client conformance of the TDS stand-in: builds the tds-standin binary, starts it in each
# encryption mode (off, login, on, strict) and runs
#   - Microsoft ODBC Driver 18 through Python mssql_python,
#   - python-tds (pytds),
#   - FreeTDS tsql,
# each logging in, running batches, a parameterised RPC (Python clients), reading result sets and
# checking error numbers (15015, 2812, 18456; 4060 + 18456 for an unknown login database in
# the Python clients) and TRY/CATCH (a caught error is not sent, THROW; re-raises it). Prints PASS/FAIL/SKIP per check; exits 1 on any FAIL.
#
# Needs: cargo, python3 with mssql-python, python-tds and pyopenssl (pytds' TLS), freetds-bin.
# STANDIN_BIN=path skips the build and uses that binary.
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../../.." && pwd)"
SERVER_NAME="LABSQL01"
PASSWORD='Str0ng!Passw0rd'
WORK="$(mktemp -d)"
STANDIN_PID=""
FAILED=0

cleanup() {
    if [ -n "$STANDIN_PID" ]; then kill "$STANDIN_PID" 2>/dev/null; wait "$STANDIN_PID" 2>/dev/null; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILED=1; }

if [ -z "${STANDIN_BIN:-}" ]; then
    echo "building tds-standin ..."
    (cd "$ROOT" && cargo build -q -p tds-standin --bin tds-standin) || { echo "FAIL: build"; exit 1; }
    STANDIN_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/tds-standin"
fi

# start_standin MODE: starts the server, sets PORT and CERT.
start_standin() {
    local mode="$1"
    CERT="$WORK/cert-$mode.pem"
    "$STANDIN_BIN" --listen 127.0.0.1:0 --server-name "$SERVER_NAME" \
        --login "sa:$PASSWORD:sysadmin" --encrypt "$mode" --cert-out "$CERT" \
        >"$WORK/out-$mode.txt" 2>"$WORK/err-$mode.txt" &
    STANDIN_PID=$!
    PORT=""
    for _ in $(seq 1 100); do
        PORT="$(sed -n '1s/^listening on .*:\([0-9]*\)$/\1/p' "$WORK/out-$mode.txt" 2>/dev/null)"
        [ -n "$PORT" ] && return 0
        sleep 0.1
    done
    fail "stand-in ($mode) did not print 'listening on'"; cat "$WORK/err-$mode.txt"
    return 1
}

stop_standin() {
    kill "$STANDIN_PID" 2>/dev/null; wait "$STANDIN_PID" 2>/dev/null; STANDIN_PID=""
}

# FreeTDS 1.3 knows no TDS 8.0 strict encryption.
TSQL_ENCRYPTION_off="off"       # client sends ENCRYPT_NOT_SUP
TSQL_ENCRYPTION_login="request" # ENCRYPT_OFF: TLS for LOGIN7 only
TSQL_ENCRYPTION_on="require"    # ENCRYPT_ON, certificate checked against the CA file

run_tsql() {
    local mode="$1" password="$2"
    local encryption_var="TSQL_ENCRYPTION_$mode"
    cat >"$WORK/freetds.conf" <<CONF
[global]
    tds version = 7.4
[standin]
    host = localhost
    port = $PORT
    encryption = ${!encryption_var}
    ca file = $CERT
CONF
    printf '%s\ngo\n' \
        "SELECT @@SERVERNAME" \
        "EXEC sp_executesql N'SELECT name FROM sys.servers WHERE name = @n', N'@n sysname', @n = N'$SERVER_NAME'" \
        "EXEC sp_dropserver N'nope'" \
        "EXEC nope" \
        "BEGIN TRY EXEC sp_dropserver N'nope' END TRY BEGIN CATCH SELECT ERROR_NUMBER() + 100000 END CATCH" \
        "BEGIN TRY EXEC sp_dropserver N'nope2' END TRY BEGIN CATCH THROW; END CATCH" | FREETDSCONF="$WORK/freetds.conf" timeout 20 tsql -S standin -U sa -P "$password" 2>&1
    echo "exit"
}

check_tsql() {
    local mode="$1"
    local encryption_var="TSQL_ENCRYPTION_$mode"
    if [ -z "${!encryption_var:-}" ]; then
        echo "SKIP: tsql/$mode: FreeTDS $(tsql -C 2>/dev/null | sed -n 's/.*Version: *//p') has no TDS 8.0 strict mode"
        return
    fi
    local output
    output="$(run_tsql "$mode" "$PASSWORD")"
    local count
    count="$(grep -c "^$SERVER_NAME\$" <<<"$output")"
    [ "$count" = 2 ] && pass "tsql/$mode: @@SERVERNAME and sp_executesql over sys.servers" \
        || fail "tsql/$mode: expected $SERVER_NAME twice, got $count"$'\n'"$output"
    grep -q "Msg 15015" <<<"$output" && pass "tsql/$mode: sp_dropserver N'nope' -> Msg 15015" \
        || fail "tsql/$mode: no Msg 15015"$'\n'"$output"
    grep -q "Msg 2812" <<<"$output" && pass "tsql/$mode: EXEC nope -> Msg 2812" \
        || fail "tsql/$mode: no Msg 2812"$'\n'"$output"
    # A caught error is not printed (only the CATCH block's row), a re-raised one is.
    [ "$(grep -c "^115015\$" <<<"$output")" = 1 ] && [ "$(grep -c "Msg 15015" <<<"$output")" = 2 ] \
        && grep -q "The server 'nope2' does not exist" <<<"$output" \
        && pass "tsql/$mode: TRY/CATCH takes 15015, THROW; re-raises it" \
        || fail "tsql/$mode: TRY/CATCH"$'\n'"$output"
    output="$(run_tsql "$mode" "wrong")"
    grep -q "Msg 18456" <<<"$output" && pass "tsql/$mode: wrong password -> Msg 18456" \
        || fail "tsql/$mode: no Msg 18456"$'\n'"$output"
}

for mode in off login on strict; do
    echo "== stand-in --encrypt $mode"
    start_standin "$mode" || continue
    for driver in odbc pytds; do
        timeout 60 python3 "$HERE/check_python.py" "$driver" "$mode" "$PORT" "$SERVER_NAME" "$PASSWORD" "$CERT" \
            || { FAILED=1; echo "FAIL: $driver/$mode (see above)"; }
    done
    check_tsql "$mode"
    if [ -s "$WORK/err-$mode.txt" ]; then
        echo "-- stand-in stderr ($mode):"; cat "$WORK/err-$mode.txt"
    fi
    stop_standin
done

if [ "$FAILED" = 0 ]; then echo "ALL CLIENT CHECKS PASSED"; else echo "SOME CLIENT CHECKS FAILED"; fi
exit "$FAILED"
