# Shared by the scripts that drive an example binary (source it; bash only).
#
#   example_start NAME [BINARY]   builds examples/NAME unless BINARY is given,
#                                 starts it on 127.0.0.1:0 with two workers and
#                                 sets SERVER_PID, PORT and LOG; prints the
#                                 startup line and, with CORERING_BACKEND set,
#                                 checks that it names that backend
#   example_stop                  SIGTERM; returns the server's exit status
#
# The server is killed (SIGKILL) and LOG removed when the script exits.

SERVER_PID=""
LOG=""

example_cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    [[ -z "$LOG" ]] || rm -f "$LOG"
}
trap example_cleanup EXIT

example_start() {
    local name="$1" bin="${2:-}"
    if [[ -z "$bin" ]]; then
        cargo build --quiet --example "$name"
        bin="${CARGO_TARGET_DIR:-target}/debug/examples/$name"
    fi
    [[ -x "$bin" ]] || { echo "$name: no binary at $bin" >&2; exit 1; }
    LOG="$(mktemp)"
    "$bin" --addr 127.0.0.1:0 --workers 2 >"$LOG" 2>&1 &
    SERVER_PID=$!
    PORT=""
    for _ in $(seq 1 200); do
        PORT="$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$LOG")"
        [[ -n "$PORT" ]] && { example_check_backend "$name"; return 0; }
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$LOG" >&2; echo "$name died" >&2; exit 1; }
        sleep 0.05
    done
    cat "$LOG" >&2
    echo "$name did not start" >&2
    exit 1
}

# Prints the startup line; with CORERING_BACKEND=uring|epoll set, fails
# unless the line names that backend.
example_check_backend() {
    local name="$1" line want=""
    line="$(grep -m1 'listening on' "$LOG")"
    echo "$name: $line"
    case "${CORERING_BACKEND:-}" in
        epoll) want="epoll" ;;
        uring | io_uring) want="io_uring" ;;
    esac
    if [[ -n "$want" && "$line" != *", $want"* ]]; then
        echo "$name: CORERING_BACKEND=$CORERING_BACKEND but the server is not on $want" >&2
        exit 1
    fi
}

example_stop() {
    local status=0
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || status=$?
    SERVER_PID=""
    return "$status"
}
