#!/usr/bin/env bash
# Runs the Autobahn|Testsuite (0.8.2, fuzzingclient mode) against a
# WebSocket echo endpoint that is already running, and fails unless every
# case is OK (or INFORMATIONAL, which those cases always are).
#
#   scripts/autobahn.sh ws://127.0.0.1:9001/echo
#
# AUTOBAHN_EXCLUDE: comma-separated case patterns left out (default
# `12.*,13.*`, the permessage-deflate groups). The suite needs Python 2.7
# (`PYTHON27`, else pyenv's 2.7.18, else `python2`); it is installed once
# with pip into target/autobahn/py27. Reports go to target/autobahn/reports.
set -euo pipefail
cd "$(dirname "$0")/.."

URL="${1:?usage: scripts/autobahn.sh ws://HOST:PORT/PATH}"
EXCLUDE="${AUTOBAHN_EXCLUDE-12.*,13.*}"
PY="${PYTHON27:-}"
if [[ -z "$PY" ]]; then
    if [[ -x "$HOME/.pyenv/versions/2.7.18/bin/python" ]]; then
        PY="$HOME/.pyenv/versions/2.7.18/bin/python"
    else
        PY="$(command -v python2 || true)"
    fi
fi
[[ -n "$PY" ]] || { echo "autobahn: no Python 2.7 (set PYTHON27)" >&2; exit 1; }

DIR="$PWD/target/autobahn"
LIB="$DIR/py27"
if [[ ! -d "$LIB/autobahntestsuite" ]]; then
    echo "autobahn: installing autobahntestsuite 0.8.2 into $LIB"
    "$PY" -m pip install --quiet --no-warn-script-location -t "$LIB" autobahntestsuite==0.8.2
fi

rm -rf "$DIR/reports"
mkdir -p "$DIR/reports"
excludes="$(python3 -c 'import json,sys; print(json.dumps([c for c in sys.argv[1].split(",") if c]))' "$EXCLUDE")"
cat >"$DIR/spec.json" <<SPEC
{
  "outdir": "$DIR/reports",
  "servers": [{"agent": "corering", "url": "$URL"}],
  "cases": ["*"],
  "exclude-cases": $excludes,
  "exclude-agent-cases": {}
}
SPEC

# `site.addsitedir` reads the namespace-package .pth files (zope) that a
# plain PYTHONPATH would skip.
(cd "$DIR" && "$PY" -c "import site, sys; site.addsitedir('$LIB'); \
sys.argv = ['wstest', '-m', 'fuzzingclient', '-s', 'spec.json']; \
from autobahntestsuite.wstest import run; run()" >"$DIR/wstest.log" 2>&1) || {
    tail -20 "$DIR/wstest.log" >&2
    exit 1
}

python3 - "$DIR/reports/index.json" <<'PY'
import collections, json, sys
cases = json.load(open(sys.argv[1]))["corering"]
good = {"OK", "INFORMATIONAL"}
counts = collections.Counter(v["behavior"] for v in cases.values())
bad = sorted(
    (k for k, v in cases.items() if v["behavior"] not in good or v["behaviorClose"] not in good),
    key=lambda k: [int(x) for x in k.split(".")],
)
print("autobahn: %d cases: %s" % (len(cases), ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
for k in bad:
    print("autobahn: case %s: %s / close %s" % (k, cases[k]["behavior"], cases[k]["behaviorClose"]))
sys.exit(1 if bad else 0)
PY
