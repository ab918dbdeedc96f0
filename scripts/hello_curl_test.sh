#!/usr/bin/env bash
# Drives examples/hello with curl: every route, error statuses, keep-alive
# reuse, chunked uploads, and a clean exit on SIGTERM.
#
#   scripts/hello_curl_test.sh [PATH_TO_HELLO_BINARY]
#
# Without an argument it builds the example (`cargo build --example hello`).
# Exits non-zero on the first failed check; the server is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v curl >/dev/null || { echo "hello_curl_test: curl not found" >&2; exit 1; }

# shellcheck source=lib/example.sh
source scripts/lib/example.sh
example_start hello "${1:-}"
BASE="http://127.0.0.1:$PORT"
echo "hello_curl_test: hello (pid $SERVER_PID) on port $PORT"

FAILED=0
PASSED=0
check() {
    local what="$1" want="$2" got="$3"
    if [[ "$got" == "$want" ]]; then
        PASSED=$((PASSED + 1))
    else
        FAILED=$((FAILED + 1))
        printf 'hello_curl_test: FAIL %s\n  want: %q\n  got:  %q\n' "$what" "$want" "$got" >&2
    fi
}
# status and body of a request: "CODE BODY"
sb() { curl -s --max-time 5 -o - -w ' %{http_code}' "$@"; }

check "plaintext" "Hello, World! 200" "$(sb "$BASE/plaintext")"
check "plaintext content type" "text/plain; charset=utf-8" \
    "$(curl -s --max-time 5 -o /dev/null -w '%{content_type}' "$BASE/plaintext")"
check "json" '{"message":"Hello, World!"} 200' "$(sb "$BASE/json")"
check "json content type" "application/json" \
    "$(curl -s --max-time 5 -o /dev/null -w '%{content_type}' "$BASE/json")"
check "echo, content-length" "some bytes 200" "$(sb --data-binary 'some bytes' "$BASE/echo")"
check "echo, chunked" "chunked body 200" \
    "$(sb -H 'Transfer-Encoding: chunked' --data-binary 'chunked body' "$BASE/echo")"
check "user id" "200" "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$BASE/users/42")"
curl -s --max-time 5 "$BASE/users/42" | grep -q 42 && PASSED=$((PASSED + 1)) ||
    { FAILED=$((FAILED + 1)); echo "hello_curl_test: FAIL user body lacks the id" >&2; }
check "user id not a number" "400" "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$BASE/users/abc")"
check "index" "200" "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$BASE/")"
check "unknown path" "404" "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$BASE/nope")"
check "wrong method" "405" "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X DELETE "$BASE/plaintext")"
curl -s --max-time 5 -D - -o /dev/null -X DELETE "$BASE/plaintext" | grep -qi '^allow: .*GET' &&
    PASSED=$((PASSED + 1)) || { FAILED=$((FAILED + 1)); echo "hello_curl_test: FAIL 405 without Allow" >&2; }
check "head: headers, no body" "200 0" \
    "$(curl -s --max-time 5 -I -o /dev/null -w '%{http_code} %{size_download}' "$BASE/plaintext")"
# Two URLs in one curl: the second must reuse the first connection.
reuse="$(curl -sv --max-time 5 "$BASE/plaintext" "$BASE/json" 2>&1 >/dev/null | grep -ci 're-using\|reusing' || true)"
check "keep-alive reuse" "1" "$reuse"
# HTTP/1.0 without keep-alive: the server closes after the response.
check "http/1.0" "Hello, World! 200" "$(sb --http1.0 "$BASE/plaintext")"

echo "hello_curl_test: $PASSED passed, $FAILED failed"

status=0
example_stop || status=$?
if [[ $status -ne 0 ]]; then
    cat "$LOG" >&2
    echo "hello_curl_test: hello exited with status $status after SIGTERM" >&2
    exit 1
fi
[[ $FAILED -eq 0 ]]
