#!/usr/bin/env bash
# Autobahn|Testsuite, the WebSocket conformance suite (RFC 6455, RFC 7692),
# against a server or a client.
#
#   scripts/autobahn.sh client URL [CASES] [--allow FILE] [--out DIR]
#       runs `wstest -m fuzzingclient`: the suite connects to the server at
#       URL (ws://HOST:PORT/PATH, an echo endpoint) and runs the cases.
#   scripts/autobahn.sh example NAME [CASES] [--allow FILE] [--out DIR]
#       builds examples/NAME (release), starts it on a free port with two
#       workers, runs the client mode against its /echo (AUTOBAHN_PATH
#       overrides the path), then stops it with SIGTERM: it must exit 0.
#   scripts/autobahn.sh server [CASES] [--allow FILE] [--out DIR] -- CMD [ARGS...]
#       runs `wstest -m fuzzingserver` on a free loopback port, then CMD, the
#       client under test, with the suite's URL in $AUTOBAHN_URL and in place
#       of any argument `{url}`; the client asks /getCaseCount, runs each case
#       on /runCase?case=N&agent=NAME (echoing what it gets) and finishes with
#       /updateReports?agent=NAME.
#
# CASES is a comma list of case groups (`5`), group ranges (`1-11`) and case
# patterns (`9.1.*`, `12.1.1`); the default is 1-13, the whole suite (12 and
# 13 are permessage-deflate). The report goes to DIR (default
# target/autobahn/client or target/autobahn/server; index.html is the
# readable one), then scripts/lib/autobahn_summary.py prints a summary per case
# group and the exit status is 1 if any case FAILED, closed with a WRONG CODE
# or UNCLEAN, or was UNIMPLEMENTED, unless the allow-list FILE (case ids or
# patterns, one per line) names it.
#
# The suite runs on Python 2.7: the first run builds a virtualenv with the
# pinned packages of scripts/autobahn-requirements.txt (about 30 s) in
# ~/.cache/corering/ (AUTOBAHN_VENV overrides the place), from pyenv's 2.7.18
# or the python2.7 of PATH (AUTOBAHN_PYTHON overrides that); later runs reuse it.
#
# Times on the project's 2-core VM: groups 1-11 take 14 s against the
# tokio-tungstenite peer (suite/benches/peers tungstenite_echo), which has no
# compression, so 12 and 13 end at once as UNIMPLEMENTED; groups 12 and 13
# against a server that has it (Python's websockets) took 578 s, about half of
# it wstest's own CPU time, the cases x.y.1-8 (small messages) 70 s of that.
# corering's own client runs as the server mode's CMD:
#   scripts/autobahn.sh server 1-10 -- \
#       cargo test --release --test ws_autobahn_client -- --ignored
# groups 1-10 in 13 s (301 cases: 298 OK, 3 informational, both backends);
# with permessage-deflate (on in that client), groups 12-13 in 522 s (216
# cases, all OK, io_uring; mostly wstest's own CPU time), and the subset
# `12.1.*,13.1.*` in 50 s (36 cases, all OK, epoll).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

die() { echo "autobahn: $*" >&2; exit 2; }
usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# --- the Python 2.7 virtualenv ------------------------------------------------
REQS=$ROOT/scripts/autobahn-requirements.txt
# virtualenv 20.15.1 still runs on, and makes environments for, Python 2.7.
VIRTUALENV_PIN="virtualenv==20.15.1"
export PYTHONWARNINGS=ignore PIP_DISABLE_PIP_VERSION_CHECK=1

find_python27() {
    local candidate
    for candidate in "${AUTOBAHN_PYTHON:-}" "$HOME/.pyenv/versions/2.7.18/bin/python" \
        "$(command -v python2.7 || true)"; do
        if [[ -n "$candidate" && -x "$candidate" ]] &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (2, 7))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    die "no Python 2.7 found (pyenv's 2.7.18, python2.7 on PATH, or set AUTOBAHN_PYTHON)"
}

ensure_venv() {
    local hash cache python started
    hash=$(sha256sum "$REQS" | cut -c1-12)
    cache=${XDG_CACHE_HOME:-$HOME/.cache}/corering
    VENV=${AUTOBAHN_VENV:-$cache/autobahn-py27-$hash}
    if [[ -x "$VENV/bin/wstest" && -f "$VENV/.complete" ]]; then
        return
    fi
    python=$(find_python27)
    started=$SECONDS
    echo "autobahn: building the Python 2.7 virtualenv in $VENV (once)"
    rm -rf "$VENV" "$VENV.bootstrap"
    mkdir -p "$(dirname "$VENV")"
    "$python" -m pip install --quiet --target "$VENV.bootstrap" "$VIRTUALENV_PIN"
    PYTHONPATH="$VENV.bootstrap" "$python" -m virtualenv --quiet "$VENV"
    rm -rf "$VENV.bootstrap"
    "$VENV/bin/pip" install --quiet -r "$REQS"
    "$VENV/bin/wstest" --autobahnversion >/dev/null
    touch "$VENV/.complete"
    echo "autobahn: virtualenv ready in $((SECONDS - started)) s"
}

# --- arguments ------------------------------------------------------------------
# cases_json CASES: the spec's "cases" list for a comma list of groups, ranges
# and patterns.
cases_json() {
    python3 - "$1" <<'PY'
import json, re, sys
out = []
for item in sys.argv[1].split(","):
    item = item.strip()
    if not item:
        continue
    m = re.fullmatch(r"(\d+)-(\d+)", item)
    if m:
        out += ["%d.*" % g for g in range(int(m.group(1)), int(m.group(2)) + 1)]
    elif re.fullmatch(r"\d+", item):
        out.append(item + ".*")
    elif re.fullmatch(r"[0-9.*?]+", item):
        out.append(item)
    else:
        sys.exit("autobahn: bad case selection %r" % item)
print(json.dumps(out))
PY
}

MODE=${1:-}
EXAMPLE=""
[[ -n "$MODE" ]] || usage
shift
URL=""
CASES="1-13"
ALLOW=""
OUT=""
CMD=()
if [[ "$MODE" == client ]]; then
    [[ $# -ge 1 && "$1" != --* ]] || usage
    URL=$1
    shift
elif [[ "$MODE" == example ]]; then
    [[ $# -ge 1 && "$1" != --* ]] || usage
    EXAMPLE=$1
    shift
elif [[ "$MODE" != server ]]; then
    usage
fi
while [[ $# -gt 0 ]]; do
    case "$1" in
        --allow) [[ $# -ge 2 ]] || usage; ALLOW=$(realpath "$2"); shift 2 ;;
        --out) [[ $# -ge 2 ]] || usage; OUT=$2; shift 2 ;;
        --) shift; CMD=("$@"); break ;;
        --*) usage ;;
        *) CASES=$1; shift ;;
    esac
done
[[ -z "$ALLOW" || -f "$ALLOW" ]] || die "no allow-list file $ALLOW"
[[ "$MODE" != server || ${#CMD[@]} -gt 0 ]] || die "server mode needs the client command after --"
CASES_JSON=$(cases_json "$CASES")
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=$(realpath -m "${OUT:-$TARGET/autobahn/$MODE}")

ensure_venv

if [[ -n "$EXAMPLE" ]]; then
    # shellcheck source=lib/example.sh
    source scripts/lib/example.sh
    cargo build --release --quiet --example "$EXAMPLE"
    example_start "$EXAMPLE" "$TARGET/release/examples/$EXAMPLE"
    URL="ws://127.0.0.1:$PORT${AUTOBAHN_PATH:-/echo}"
    MODE=client
fi

rm -rf "$OUT"
mkdir -p "$OUT"
WORK=$(mktemp -d)
WSTEST_PID=""
CLIENT_PID=""
cleanup() {
    local pid
    for pid in "$CLIENT_PID" "$WSTEST_PID"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$WORK"
    # The example's own cleanup (scripts/lib/example.sh), whose trap this one replaced.
    if declare -F example_cleanup >/dev/null; then example_cleanup; fi
}
trap cleanup EXIT
cd "$WORK"

started=$SECONDS
if [[ "$MODE" == client ]]; then
    cat >spec.json <<JSON
{
  "outdir": "$OUT",
  "options": {"failByDrop": false},
  "servers": [{"agent": "testee", "url": "$URL"}],
  "cases": $CASES_JSON,
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
JSON
    echo "autobahn: fuzzingclient against $URL, cases $CASES"
    "$VENV/bin/wstest" -m fuzzingclient -s spec.json >"$OUT/wstest.log" 2>&1 ||
        { tail -20 "$OUT/wstest.log" >&2; die "wstest failed (log: $OUT/wstest.log)"; }
else
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    export AUTOBAHN_URL="ws://127.0.0.1:$PORT"
    cat >spec.json <<JSON
{
  "url": "$AUTOBAHN_URL",
  "outdir": "$OUT",
  "options": {"failByDrop": false},
  "cases": $CASES_JSON,
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
JSON
    "$VENV/bin/wstest" -m fuzzingserver -s spec.json >"$OUT/wstest.log" 2>&1 &
    WSTEST_PID=$!
    for _ in $(seq 150); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
        kill -0 "$WSTEST_PID" 2>/dev/null || { tail -20 "$OUT/wstest.log" >&2; die "wstest exited"; }
        sleep 0.2
    done
    echo "autobahn: fuzzingserver on $AUTOBAHN_URL, cases $CASES: ${CMD[*]}"
    args=()
    for arg in "${CMD[@]}"; do args+=("${arg//\{url\}/$AUTOBAHN_URL}"); done
    (cd "$ROOT" && exec "${args[@]}") &
    CLIENT_PID=$!
    client_status=0
    wait "$CLIENT_PID" || client_status=$?
    CLIENT_PID=""
    [[ $client_status -eq 0 ]] || echo "autobahn: the client exited with status $client_status"
    # The report is written when the client asks /updateReports; give it a moment.
    for _ in $(seq 50); do [[ -f "$OUT/index.json" ]] && break; sleep 0.2; done
fi
echo "autobahn: $MODE run took $((SECONDS - started)) s; report in $OUT/index.html"
[[ -f "$OUT/index.json" ]] || { tail -20 "$OUT/wstest.log" >&2; die "no report written ($OUT/index.json)"; }
summary_args=("$OUT/index.json")
[[ -z "$ALLOW" ]] || summary_args+=(--allow "$ALLOW")
status=0
python3 "$ROOT/scripts/lib/autobahn_summary.py" "${summary_args[@]}" || status=$?
if [[ -n "$EXAMPLE" ]]; then
    example_status=0
    example_stop || example_status=$?
    if [[ $example_status -ne 0 ]]; then
        echo "autobahn: $EXAMPLE exited with status $example_status on SIGTERM"
        [[ $status -ne 0 ]] || status=1
    fi
fi
exit "$status"
