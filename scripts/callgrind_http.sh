#!/usr/bin/env bash
# Instructions per pipelined plain-HTTP request in corering's worker loop,
# on either backend (valgrind's callgrind: repeatable, unlike timings on a
# shared machine; system calls themselves are not counted).
#
#   cargo build --release --example hello
#   scripts/callgrind_http.sh target/release/examples/hello [uring|epoll] [NAME] [ARGS...]
#   scripts/callgrind_http.sh target/release/examples/hello uring layers --layers
#
# hello runs under callgrind with one worker; a Python client sends 16,000
# GET /plaintext, 16 per write, after a warm-up connection. Counted: the
# whole worker loop (HTTP, engine, driver). Output goes to target/cg/http/.
set -euo pipefail
bin=$(realpath "$1"); backend=${2:-uring}; n=16000
name=${3:-http-$backend}
shift $(( $# < 3 ? $# : 3 ))   # the rest: extra arguments for the server
lib=$(realpath "$(dirname "$0")/lib")
. "$lib/callgrind.sh"
dir=target/cg/http; mkdir -p "$dir"; cd "$dir"
port=$(cg_free_port)
export CORERING_BACKEND=$backend
cg_start $name $port "$bin" "$@"
python3 "$lib/http_pipelined.py" $port 3200
callgrind_control -z $vg >/dev/null
python3 "$lib/http_pipelined.py" $port $n
cg_finish $vg $port $name $n "$name"
