#!/usr/bin/env bash
# Drives examples/kv with Debian's redis-cli and redis-benchmark (redis-tools).
#
#   scripts/kv_cli_test.sh [PATH_TO_KV_BINARY]
#
# Without an argument it builds the example (`cargo build --example kv`).
# Starts kv on a free loopback port with two workers, checks a series of
# redis-cli commands and their output, runs short redis-benchmark loads
# (GET/SET, with and without -P 16) that must complete, then stops the
# server with SIGTERM and expects exit status 0. Exits non-zero on the first
# failure; the server is killed on any exit.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in redis-cli redis-benchmark; do
    command -v "$tool" >/dev/null || {
        echo "kv_cli_test: $tool not found (apt-get install redis-tools)" >&2
        exit 1
    }
done

# shellcheck source=lib/example.sh
source scripts/lib/example.sh
example_start kv "${1:-}"
echo "kv_cli_test: kv (pid $SERVER_PID) on port $PORT"

FAILED=0
PASSED=0
cli() { redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }

# expect "DESCRIPTION" "EXPECTED OUTPUT" command args...
expect() {
    local what="$1" want="$2"
    shift 2
    local got
    got="$(cli "$@" 2>&1)" || true
    if [[ "$got" == "$want" ]]; then
        PASSED=$((PASSED + 1))
    else
        FAILED=$((FAILED + 1))
        printf 'kv_cli_test: FAIL %s: redis-cli %s\n  want: %q\n  got:  %q\n' "$what" "$*" "$want" "$got" >&2
    fi
}

expect "ping" "PONG" PING
expect "flushall" "OK" FLUSHALL
expect "set" "OK" SET greeting hello
expect "get" "hello" GET greeting
expect "get missing" "" GET missing
expect "set nx on existing" "" SET greeting other NX
expect "set xx" "OK" SET greeting world XX
expect "get after xx" "world" GET greeting
expect "incr" "1" INCR counter
expect "incrby" "11" INCRBY counter 10
expect "decr" "10" DECR counter
expect "incr non-integer" "ERR value is not an integer or out of range" INCR greeting
expect "mset" "OK" MSET a 1 b 2 c 3
expect "mget" $'1\n2\n\n3' MGET a b nope c
expect "exists" "3" EXISTS a b c nope
expect "del" "2" DEL a b nope
expect "expire" "1" EXPIRE c 100
expect "ttl" "100" TTL c
expect "keys" "greeting" KEYS 'gr*'
expect "dbsize" "3" DBSIZE
expect "echo" "hi there" ECHO "hi there"
expect "unknown command" "ERR unknown command 'NOPE', with args beginning with: 'x' " NOPE x
expect "wrong arity" "ERR wrong number of arguments for 'get' command" GET
expect "config get" "save" CONFIG GET save

# Mass insertion with --pipe (RESP from stdin), then a check.
PIPE_OUT="$(for i in $(seq 1 1000); do printf '*3\r\n$3\r\nSET\r\n$%d\r\npipe:%d\r\n$1\r\nv\r\n' "$(( ${#i} + 5 ))" "$i"; done | cli --pipe 2>&1)" || true
if grep -q "errors: 0, replies: 1000" <<<"$PIPE_OUT"; then
    PASSED=$((PASSED + 1))
else
    FAILED=$((FAILED + 1))
    echo "kv_cli_test: FAIL redis-cli --pipe: $PIPE_OUT" >&2
fi
expect "after --pipe" "v" GET pipe:1000
expect "dbsize after --pipe" "1003" DBSIZE

# redis-benchmark must run to completion and report a rate for each test.
bench() {
    local out
    if out="$(redis-benchmark -h 127.0.0.1 -p "$PORT" -t get,set -n 20000 -c 20 -r 1000 -q --csv "$@" 2>&1)" \
        && grep -q '^"SET","[0-9.]*"' <<<"$out" && grep -q '^"GET","[0-9.]*"' <<<"$out"; then
        PASSED=$((PASSED + 1))
        echo "kv_cli_test: redis-benchmark $* ok: $(grep -E '^"(GET|SET)"' <<<"$out" | cut -d, -f1,2 | tr '\n' ' ')"
    else
        FAILED=$((FAILED + 1))
        echo "kv_cli_test: FAIL redis-benchmark $*: $out" >&2
    fi
}
bench
bench -P 16
expect "ping after benchmarks" "PONG" PING

# SIGTERM: exit status 0.
STATUS=0
example_stop || STATUS=$?
if [[ "$STATUS" == 0 ]]; then
    PASSED=$((PASSED + 1))
else
    FAILED=$((FAILED + 1))
    echo "kv_cli_test: FAIL kv exited with status $STATUS on SIGTERM" >&2
    cat "$LOG" >&2
fi

echo "kv_cli_test: $PASSED passed, $FAILED failed"
[[ "$FAILED" == 0 ]]
